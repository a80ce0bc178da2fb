/* app_world.c: the 2D world beside the images: switching worlds (each keeps
 * its models, live trainer and sliders), the point set on screen (built in,
 * or drawn with the mouse) and what the 2D panels compute from it: the
 * forward panel's noised points, the learned field on a grid and the
 * density score of the shown samples. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "ddpm/rng.h"
#include "viz_util.h"

bool viz_app_points(const viz_app *a) { return a->p.world == VIZ_WORLD_POINTS; }

/* ---- switching worlds ---------------------------------------------------------------------- */

static void wake_ui(void *ctx)
{
    viz_app *a = ctx;
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = a->wake_event;
    SDL_PushEvent(&e);
}

/* The points world's models (the live MLP, and --model when it holds points),
 * its trainer (the "mlp" preset) and its sliders, into a->away. */
static bool make_points_world(viz_app *a, ddpm_error *err)
{
    viz_world_state *w = &a->away;
    memset(w, 0, sizeof *w);
    const char *extra = a->opt.model_path && viz_model_file_is_points(a->opt.model_path) ? a->opt.model_path : NULL;
    if (viz_models_scan(&w->models, "", extra, err) != DDPM_OK) return false;
    viz_trainer_options to = viz_trainer_options_default(NULL);
    snprintf(to.preset, sizeof to.preset, "mlp");
    to.batch = a->opt.train_batch;
    to.deterministic = viz_app_replaying(a);
    if (!a->headless) {
        to.notify = wake_ui;
        to.notify_ctx = a;
    }
    if (viz_trainer_start(&w->trainer, &to, err) != DDPM_OK) {
        viz_models_free(&w->models);
        return false;
    }
    viz_trainer_get_status(w->trainer, &w->train);
    w->live_schedule_seen = w->train.run.schedule.kind;
    viz_params_default_points(&w->p, &w->train.run.schedule);
    w->p.model = extra ? 0 : viz_models_live(&w->models);
    w->started = true;
    return true;
}

#define SWAP(x, y)                  \
    do {                            \
        __typeof__(x) tmp_ = (x);   \
        (x) = (y);                  \
        (y) = tmp_;                 \
    } while (0)

bool viz_app_set_world(viz_app *a, viz_world w)
{
    if (a->p.world == w) return true;
    if (!a->away.started) {
        ddpm_error err = {0};
        if (!make_points_world(a, &err)) {
            viz_app_banner(a, VIZ_LEVEL_ERROR, "Cannot open the 2D world: %s", err.msg);
            return false;
        }
    }
    /* the world left pauses its training (two trainings at once would halve both) */
    const bool was_training = a->train.state == VIZ_TRAIN_RUNNING;
    if (was_training) viz_trainer_pause(a->trainer);
    SWAP(a->models, a->away.models);
    SWAP(a->trainer, a->away.trainer);
    SWAP(a->train, a->away.train);
    SWAP(a->history, a->away.history);
    SWAP(a->live_schedule_seen, a->away.live_schedule_seen);
    SWAP(a->p, a->away.p);
    const bool resume = a->away.was_training;
    a->away.was_training = was_training;
    if (resume) viz_trainer_train(a->trainer);
    /* what was sampled belongs to the other world */
    viz_result_release(a->shown);
    a->shown = NULL;
    a->has_submitted = false;
    a->last_S = 0;
    a->newest_id = 0;
    a->drawing = false;
    a->training_requested = a->training_requested && resume;
    a->dirty = true;
    viz_app_select_model(a, a->p.model);
    viz_app_update_points(a); /* the points world's data, and its trainer's, at once */
    return true;
}

/* ---- the point set ------------------------------------------------------------------------- */

void viz_app_points_view(const viz_app *a, float *x_min, float *x_max, float *y_min, float *y_max)
{
    /* every built-in set and N(0, I) fit [-3.5, 3.5]^2; a drawing is kept inside it */
    (void)a;
    *x_min = *y_min = -3.5f;
    *x_max = *y_max = 3.5f;
}

/* Loads the built-in set `kind` (training and held-out splits). */
static void load_builtin(viz_app *a, int kind)
{
    ddpm_error err = {0};
    ddpm_dataset_free(&a->points);
    ddpm_dataset_free(&a->points_held);
    const char *name = ddpm_points_name((ddpm_points_kind)kind);
    if (ddpm_dataset_open(&a->points, name, DDPM_SPLIT_TRAIN, &err) != DDPM_OK ||
        ddpm_dataset_open(&a->points_held, name, DDPM_SPLIT_HELDOUT, &err) != DDPM_OK)
        viz_app_banner(a, VIZ_LEVEL_ERROR, "Cannot make the point set %s: %s", name, err.msg);
}

/* The drawing as the point set: both splits are the drawn points. */
static void load_drawing(viz_app *a)
{
    ddpm_dataset_free(&a->points);
    ddpm_dataset_free(&a->points_held);
    if (a->n_drawn == 0) return;
    ddpm_error err = {0};
    if (ddpm_dataset_from_points(&a->points, "drawn", a->drawn, a->n_drawn, 2, &err) != DDPM_OK ||
        ddpm_dataset_from_points(&a->points_held, "drawn", a->drawn, a->n_drawn, 2, &err) != DDPM_OK)
        viz_app_toast(a, VIZ_LEVEL_ERROR, "The drawing cannot be used: %s", err.msg);
}

static void give_trainer_points(viz_app *a, bool run_after)
{
    if (!a->points.points || !a->trainer) return;
    viz_trainer_set_points(a->trainer, a->points.name, a->points.points, a->points.n, a->points.channels, run_after);
}

/* The forward panel's points: up to VIZ_POINTS_N of the set, each with one
 * fixed epsilon per seed, so that the animation only moves t. */
static void update_forward_points(viz_app *a)
{
    const uint64_t key = viz_key(a->points_version, a->p.seed, 0xF0, 0);
    if (a->fwd_key == key && a->fwd_pts) return;
    a->fwd_key = key;
    const size_t n = a->points.n < VIZ_POINTS_N ? a->points.n : VIZ_POINTS_N;
    a->fwd_n = (int)n;
    if (!n) return;
    if (!a->fwd_pts) {
        a->fwd_pts = malloc(sizeof(float) * 2 * VIZ_POINTS_N);
        a->fwd_pts_eps = malloc(sizeof(float) * 2 * VIZ_POINTS_N);
        if (!a->fwd_pts || !a->fwd_pts_eps) {
            free(a->fwd_pts), free(a->fwd_pts_eps);
            a->fwd_pts = a->fwd_pts_eps = NULL;
            a->fwd_n = 0;
            return;
        }
    }
    /* evenly strided through the set: a fair sample of it */
    for (size_t i = 0; i < n; i++) memcpy(a->fwd_pts + 2 * i, a->points.points + 2 * (i * a->points.n / n), sizeof(float) * 2);
    ddpm_rng r;
    ddpm_rng_init(&r, a->p.seed, ddpm_rng_stream(DDPM_STREAM_FORWARD, 2, 0));
    ddpm_rng_normal_fill(&r, a->fwd_pts_eps, 2 * n);
}

/* The density score of the shown result, once it is complete: computed on
 * this thread once per result (2,000 x 2,000 distances, about 3 ms); the
 * floor (ten times that) once per point set. */
static void update_score(viz_app *a)
{
    const viz_result *r = a->shown;
    if (!r || r->id == a->score_id || r->per != 2) return;
    viz_progress pr;
    viz_sampler_progress(a->sampler, r, &pr);
    if (pr.state != VIZ_JOB_DONE || !a->points.points || !a->points_held.points) return;
    a->score_id = r->id;
    if (a->score_floor_version != a->points_version || a->score_floor <= 0) {
        a->score_floor = ddpm_points_floor(&a->points, &a->points_held, (size_t)r->B, 2, &a->score_floor_sets);
        a->score_floor_version = a->points_version;
    }
    ddpm_error err = {0};
    const viz_traj *tr = &r->traj[0];
    a->score_ok = a->score_floor > 0 &&
                  ddpm_points_score_with_floor(tr->x_t + (size_t)tr->S * r->B * r->per, (size_t)r->B, 1, 2,
                                               &a->points_held, a->score_floor, a->score_floor_sets, &a->score,
                                               &err) == DDPM_OK;
}

void viz_app_update_points(viz_app *a)
{
    if (!viz_app_points(a)) return;
    if (a->points_dataset != a->p.dataset) {
        const bool first = a->points_dataset < 0;
        a->points_dataset = a->p.dataset;
        if (a->p.dataset == VIZ_DATASET_DRAWN) load_drawing(a);
        else load_builtin(a, a->p.dataset);
        a->points_version++;
        a->score_id = 0;
        a->score_ok = false;
        /* the live network learns the set on screen: a new set starts it again */
        const bool running = a->train.state == VIZ_TRAIN_RUNNING || a->training_requested;
        if (a->p.dataset != VIZ_DATASET_DRAWN || a->n_drawn > 0) give_trainer_points(a, running);
        if (!first && viz_app_model(a)->live) a->has_submitted = false;
    }
    update_forward_points(a);
    update_score(a);
}

/* ---- drawing your own -------------------------------------------------------------------------- */

enum { DRAWN_MAX = 8000, BRUSH_POINTS = 3 };

void viz_app_draw_points(viz_app *a, float x, float y)
{
    if (a->n_drawn + BRUSH_POINTS > DRAWN_MAX) return;
    if (a->n_drawn + BRUSH_POINTS > a->drawn_cap) {
        const size_t cap = a->drawn_cap ? 2 * a->drawn_cap : 1024;
        float *p = realloc(a->drawn, sizeof(float) * 2 * cap);
        if (!p) return;
        a->drawn = p;
        a->drawn_cap = cap;
    }
    /* a soft brush: a few points scattered around the cursor, so that a
     * stroke has the width of a thin data set (about the moons' noise) */
    ddpm_rng r;
    ddpm_rng_init(&r, (uint64_t)a->n_drawn, ddpm_rng_stream(DDPM_STREAM_DATA, 3, 0));
    float x_min, x_max, y_min, y_max;
    viz_app_points_view(a, &x_min, &x_max, &y_min, &y_max);
    for (int i = 0; i < BRUSH_POINTS; i++) {
        float px = x + 0.06f * (float)ddpm_rng_normal(&r), py = y + 0.06f * (float)ddpm_rng_normal(&r);
        px = px < x_min ? x_min : px > x_max ? x_max : px;
        py = py < y_min ? y_min : py > y_max ? y_max : py;
        a->drawn[2 * a->n_drawn] = px;
        a->drawn[2 * a->n_drawn + 1] = py;
        a->n_drawn++;
    }
    a->drawn_dirty = true;
    if (a->p.dataset == VIZ_DATASET_DRAWN) {
        load_drawing(a);
        a->points_version++;
    }
    a->dirty = true;
}

void viz_app_clear_drawing(viz_app *a)
{
    a->n_drawn = 0;
    a->drawn_dirty = false;
    if (a->p.dataset == VIZ_DATASET_DRAWN) {
        load_drawing(a);
        a->points_version++;
    }
    a->dirty = true;
}

void viz_app_train_on_drawing(viz_app *a)
{
    if (a->n_drawn < 2) {
        viz_app_toast(a, VIZ_LEVEL_WARN, "Draw some points first: hold the mouse button down in the data panel");
        return;
    }
    if (a->p.dataset != VIZ_DATASET_DRAWN) {
        a->p.dataset = VIZ_DATASET_DRAWN;
        viz_app_update_points(a); /* loads the drawing and hands it over */
    } else {
        give_trainer_points(a, true);
    }
    viz_trainer_train(a->trainer);
    a->drawn_dirty = false;
    viz_app_select_model(a, viz_models_live(&a->models));
    viz_app_toast(a, VIZ_LEVEL_INFO, "Training on your %zu points", a->n_drawn);
}

/* ---- the learned field ----------------------------------------------------------------------------- */

/* The network and weights of the selected model (the live ones are copied
 * when their version moved); NULL when there are none. */
static const float *field_weights(viz_app *a, const ddpm_net **net, ddpm_prediction *pred, uint64_t *version)
{
    const viz_model *m = viz_app_model(a);
    if (!m->live) {
        if (!m->loaded) return NULL;
        *net = m->ck.net;
        *pred = m->ck.run.prediction;
        *version = (uint64_t)(uintptr_t)m;
        return ddpm_checkpoint_weights(&m->ck);
    }
    viz_weights *wb = viz_trainer_weights(a->trainer);
    const uint64_t v = viz_weights_version(wb);
    if (!a->field_weights || v != a->field_weights_version) {
        viz_weights_info info;
        float *w = viz_weights_take(wb, &info);
        if (!w) return NULL;
        free(a->field_weights);
        a->field_weights = w;
        a->field_weights_version = v;
        if (!a->field_net || !ddpm_net_config_equal(ddpm_net_get_config(a->field_net), &info.run.net)) {
            if (a->field_ws_net == a->field_net) {
                ddpm_net_workspace_free(a->field_ws);
                a->field_ws = NULL;
                a->field_ws_net = NULL;
            }
            ddpm_net_free(a->field_net);
            a->field_net = NULL;
            ddpm_error err = {0};
            if (ddpm_net_create(&a->field_net, &info.run.net, &err) != DDPM_OK) return NULL;
        }
    }
    *net = a->field_net;
    *pred = a->train.run.prediction;
    *version = v;
    return a->field_weights;
}

const viz_field_cache *viz_app_field(viz_app *a)
{
    viz_field_cache *f = &a->field;
    if (!a->sched_ok) return NULL;
    const ddpm_net *net = NULL;
    ddpm_prediction pred = DDPM_PRED_EPS;
    uint64_t version = 0;
    const float *w = field_weights(a, &net, &pred, &version);
    if (!w) return NULL;
    int t = viz_app_current_t(a);
    if (t < 0) t = 0; /* the clean end: the field at the smallest noise level */
    if (t >= a->sched.T) t = a->sched.T - 1;
    const uint64_t key = viz_key(version, (uint64_t)t, (uint64_t)(uintptr_t)net, (uint64_t)pred * 7 + a->p.schedule);
    if (f->ok && f->key == key) return f;
    /* an inference workspace for the grid, on this thread, for the network in use */
    enum { N = VIZ_FIELD_GRID * VIZ_FIELD_GRID };
    ddpm_error err = {0};
    if (a->field_ws_net != net) {
        ddpm_net_workspace_free(a->field_ws);
        a->field_ws = NULL;
        a->field_ws_net = NULL;
        if (ddpm_net_workspace_create(&a->field_ws, net, N, false, &err) != DDPM_OK) return NULL;
        ddpm_net_workspace_limit_threads(a->field_ws, 1); /* the UI thread's: the cores are the trainer's */
        a->field_ws_net = net;
    }
    viz_app_points_view(a, &f->x_min, &f->x_max, &f->y_min, &f->y_max);
    float x[N * 2], out[N * 2];
    int ts[N];
    for (int j = 0; j < VIZ_FIELD_GRID; j++)
        for (int i = 0; i < VIZ_FIELD_GRID; i++) {
            const int k = j * VIZ_FIELD_GRID + i;
            x[2 * k] = f->x_min + (f->x_max - f->x_min) * (i + 0.5f) / VIZ_FIELD_GRID;
            x[2 * k + 1] = f->y_max - (f->y_max - f->y_min) * (j + 0.5f) / VIZ_FIELD_GRID;
            ts[k] = t;
        }
    ddpm_net_forward(net, w, a->field_ws, x, ts, N, NULL);
    memcpy(out, ddpm_net_output(a->field_ws), sizeof out);
    /* the model's output as x0-hat and eps-hat (the scheduler's one conversion) */
    float eps[N * 2];
    ddpm_prediction_to_x0_eps(&a->sched, pred, t, x, out, f->x0, eps, 2 * N);
    const double s = sqrt(1.0 - a->sched.alpha_bar[t]);
    for (int k = 0; k < 2 * N; k++) f->score[k] = (float)(-eps[k] / s);
    f->t = t;
    f->key = key;
    f->ok = true;
    return f;
}
