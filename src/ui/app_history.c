/* app_history.c: the training history on the UI side: the bundled history
 * (loaded once), the live run's snapshots as the trainer takes them, the
 * filmstrip's live row, and which run's snapshots the scrubber shows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cli_util.h"
#include "viz_util.h"

/* The filmstrip row of a loaded snapshot, computed here (the bundled ones;
 * the live ones come with theirs). */
static float *film_of(const viz_app *a, const ddpm_checkpoint *ck)
{
    const viz_history_store *h = &a->snaps;
    if (!h->per || ddpm_net_config_sample_floats(&ck->run.net) != h->per) return NULL;
    ddpm_schedule s;
    ddpm_error err = {0};
    if (ddpm_schedule_init(&s, &ck->run.schedule, &err) != DDPM_OK) return NULL;
    ddpm_net_workspace *ws = NULL;
    float *row = malloc(sizeof(float) * h->per * DDPM_FILM_N);
    int ts[DDPM_FILM_N];
    ddpm_film_timesteps(s.T, ts);
    float *xt = malloc(sizeof(float) * h->per * DDPM_FILM_N);
    float *x0 = malloc(sizeof(float) * h->per);
    int rc = row && xt && x0 ? ddpm_net_workspace_create(&ws, ck->net, DDPM_FILM_N, false, &err) : DDPM_ERR;
    if (rc == DDPM_OK) {
        ddpm_net_workspace_limit_threads(ws, 1);
        ddpm_dataset_images(&a->digits, VIZ_FILM_DIGIT, 1, x0);
        ddpm_film_inputs(&s, x0, h->per, ts, VIZ_FILM_SEED, xt);
        rc = ddpm_film_predict(ck->net, ddpm_checkpoint_weights(ck), ws, &s, ck->run.prediction, xt, ts, row, &err);
    }
    ddpm_net_workspace_free(ws);
    ddpm_schedule_free(&s);
    free(xt);
    free(x0);
    if (rc != DDPM_OK) {
        free(row);
        return NULL;
    }
    return row;
}

/* The filmstrip's inputs (its top row), for the live run's schedule. */
static void film_inputs(viz_app *a)
{
    viz_history_store *h = &a->snaps;
    if (!h->per || memcmp(&h->film_sched, &a->train.run.schedule, sizeof h->film_sched) == 0) return;
    float *x0 = malloc(sizeof(float) * h->per);
    ddpm_schedule s;
    ddpm_error err = {0};
    if (!x0 || ddpm_schedule_init(&s, &a->train.run.schedule, &err) != DDPM_OK) {
        free(x0);
        return;
    }
    h->film_sched = a->train.run.schedule;
    int ts[DDPM_FILM_N];
    ddpm_film_timesteps(s.T, ts);
    ddpm_dataset_images(&a->digits, VIZ_FILM_DIGIT, 1, x0);
    ddpm_film_inputs(&s, x0, h->per, ts, VIZ_FILM_SEED, h->film_xt);
    ddpm_schedule_free(&s);
    free(x0);
}

static void film_setup(viz_app *a)
{
    viz_history_store *h = &a->snaps;
    if (!a->have_digits || a->digits.n <= VIZ_FILM_DIGIT) return;
    h->per = (size_t)a->digits.channels * a->digits.height * a->digits.width;
    h->film_xt = calloc(h->per * DDPM_FILM_N, sizeof(float));
    h->film_now = calloc(h->per * DDPM_FILM_N, sizeof(float));
    h->film_now_step = -1;
    if (!h->film_xt || !h->film_now) h->per = 0;
}

static void load_bundled(viz_app *a)
{
    viz_history_store *h = &a->snaps;
    if (a->opt.history_dir) viz_copy_str(h->bundled_dir, sizeof h->bundled_dir, a->opt.history_dir);
    else snprintf(h->bundled_dir, sizeof h->bundled_dir, "%.4000s/history", ddpm_cli_asset_dir());
    ddpm_history hist;
    ddpm_error err = {0};
    if (ddpm_history_load(&hist, h->bundled_dir, &err) != DDPM_OK) {
        /* the default folder may be absent (a trimmed install): say so only when asked for one */
        if (a->opt.history_dir) viz_app_banner(a, VIZ_LEVEL_WARN, "No training history to show: %s", err.msg);
        return;
    }
    for (int i = 0; i < hist.n && h->n < VIZ_SNAPS_MAX; i++) {
        viz_snap *s = &h->items[h->n++];
        s->ck = hist.snaps[i];
        memset(&hist.snaps[i], 0, sizeof hist.snaps[i]); /* moved */
        s->run_id = 0;
        s->film = film_of(a, &s->ck);
    }
    h->n_bundled = h->n;
    ddpm_history_free(&hist);
}

/* A live snapshot becomes a checkpoint in memory (ownership of its weights moves). */
static void add_live(viz_app *a, viz_snapshot *sn)
{
    viz_history_store *h = &a->snaps;
    if (h->n == VIZ_SNAPS_MAX) {
        if (!h->full_warned)
            viz_app_toast(a, VIZ_LEVEL_WARN, "The training history is full (%d snapshots); later ones are not kept",
                          VIZ_SNAPS_MAX);
        h->full_warned = true;
        viz_snapshot_free(sn);
        return;
    }
    viz_snap *s = &h->items[h->n];
    memset(s, 0, sizeof *s);
    ddpm_error err = {0};
    if (ddpm_net_create(&s->ck.net, &sn->run.net, &err) != DDPM_OK) {
        viz_snapshot_free(sn);
        return;
    }
    s->ck.run = sn->run;
    s->ck.step = sn->step;
    s->ck.seconds = sn->seconds;
    s->ck.n_params = sn->n;
    s->ck.groups = DDPM_CKPT_EMA;
    s->ck.ema = sn->weights;
    s->film = sn->film;
    s->run_id = sn->run_id;
    sn->weights = sn->film = NULL;
    h->n++;
}

static bool same_setup(const ddpm_run_config *x, const ddpm_run_config *y)
{
    return ddpm_net_config_equal(&x->net, &y->net) && x->prediction == y->prediction &&
           memcmp(&x->schedule, &y->schedule, sizeof x->schedule) == 0;
}

void viz_app_update_history(viz_app *a)
{
    viz_history_store *h = &a->snaps;
    if (viz_app_points(a) || !a->trainer) return;
    if (!h->loaded) {
        h->loaded = true;
        film_setup(a);
        load_bundled(a);
    }
    film_inputs(a);
    viz_snapshot sn;
    while (viz_trainer_poll_snapshot(a->trainer, &sn)) add_live(a, &sn);
    if (h->per) viz_trainer_copy_film(a->trainer, h->film_now, h->per * DDPM_FILM_N, &h->film_now_step, &h->film_version);

    /* the shown run: the live run's once it has snapshots; before that, the
     * bundled history when the live run is of the same setup (untrained, or
     * a fresh run of the same preset) */
    int run = -1;
    for (int i = h->n - 1; i >= h->n_bundled && run < 0; i--)
        if (h->items[i].run_id == a->train.run_id) run = a->train.run_id;
    if (run < 0 && h->n_bundled > 0 && same_setup(&h->items[0].ck.run, &a->train.run)) run = 0;
    if (run != h->shown_run) {
        h->shown_run = run;
        if (a->p.snapshot >= 0) a->p.snapshot = -1; /* another list: the scrubber returns to "now" */
    }
    h->n_shown = 0;
    for (int i = 0; i < h->n && h->n_shown < DDPM_HISTORY_MAX + 1; i++)
        if (run >= 0 && h->items[i].run_id == run) h->shown[h->n_shown++] = i;
    if (a->p.snapshot >= h->n_shown) a->p.snapshot = h->n_shown - 1;
}

const viz_snap *viz_app_snapshot(const viz_app *a, int i)
{
    return i >= 0 && i < a->snaps.n_shown ? &a->snaps.items[a->snaps.shown[i]] : NULL;
}

const viz_snap *viz_app_scrubbed(const viz_app *a)
{
    if (viz_app_points(a) || !viz_app_model(a)->live) return NULL;
    return viz_app_snapshot(a, a->p.snapshot);
}

void viz_app_scrub_to(viz_app *a, int i)
{
    const int live = viz_models_live(&a->models);
    if (i >= 0 && a->p.model != live) viz_app_select_model(a, live);
    a->p.snapshot = i;
}

void viz_app_scrub_history(viz_app *a, int dir)
{
    const int n = a->snaps.n_shown;
    if (viz_app_points(a)) return;
    if (n == 0) {
        viz_app_toast(a, VIZ_LEVEL_INFO, "No snapshots yet: training keeps one at steps 50, 100, 200, 400, ...");
        return;
    }
    int i = viz_app_model(a)->live && a->p.snapshot >= 0 ? a->p.snapshot : n; /* n: now */
    i += dir;
    if (i < 0) i = 0;
    viz_app_scrub_to(a, i >= n ? -1 : i);
}

void viz_app_history_free(viz_app *a)
{
    viz_history_store *h = &a->snaps;
    for (int i = 0; i < h->n; i++) {
        ddpm_checkpoint_free(&h->items[i].ck);
        free(h->items[i].film);
    }
    free(h->film_xt);
    free(h->film_now);
    memset(h, 0, sizeof *h);
}
