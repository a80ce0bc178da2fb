/* trainer_thread.c: the live-training thread and its bridge to the UI
 * (see trainer_thread.h).  The ddpm_trainer itself is touched only by this
 * thread; the UI sees copies made under the mutex. */
#include "trainer_thread.h"
#include "viz_util.h"

#include <SDL_thread.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "ddpm/checkpoint.h"
#include "ddpm/fileio.h"
#include "ddpm/net.h"
#include "ddpm/threads.h"

enum { QUEUE_CAP = 8, EVENT_CAP = 16, SNAP_CAP = 8 };

typedef enum { CMD_RESET, CMD_CONTINUE, CMD_SAVE, CMD_EXPORT, CMD_SET_POINTS, CMD_SNAPSHOT } command_kind;

typedef struct command {
    command_kind kind;
    bool run_after;
    char path[4096];
    char label[128];
    float *points;            /* CMD_SET_POINTS: (n, D), owned by the command */
    size_t n;
    int D;
} command;

/* Steps in quick succession (the 2D world's MLP takes thousands a second)
 * publish weights and wake the UI at most this often. */
static const double PUBLISH_INTERVAL = 0.02;
/* Seconds of training between refreshes of the filmstrip's live row (five
 * images through the network: well under 1% of the training's time). */
static const double FILM_INTERVAL = 2.0;
/* ... and in a replay every this many steps (deterministic: no wall time) */
enum { FILM_STEPS = 25 };

struct viz_trainer {
    viz_trainer_options opt;
    SDL_Thread *thread;
    SDL_mutex *lock;
    SDL_cond *wake;
    atomic_bool quit;
    viz_weights weights;

    /* guarded by lock */
    command queue[QUEUE_CAP];
    int q_head, q_len;
    bool want_running;
    int64_t step_limit;       /* a replay: no step past this (-1: none) */
    bool stepping;            /* a step is under way (a pause takes effect after it) */
    int yield_count;          /* viz_trainer_yield: holds between steps while > 0 */
    int lend_count;           /* viz_trainer_lend: one thread while > 0 */
    int threads_limit;        /* what the run was last limited to (trainer thread) */
    bool failed;
    viz_train_event events[EVENT_CAP];
    int ev_head, ev_len;
    viz_train_status status;
    viz_loss_history hist;
    viz_snapshot snaps[SNAP_CAP]; /* taken, not yet polled by the UI */
    int n_snaps;
    float *film_now;          /* (DDPM_FILM_N, film_per) the live row */
    int64_t film_step;
    uint64_t film_version;

    /* written by this thread only, under lock (update_state_locked reads it from
     * any thread); this thread may read it without the lock */
    ddpm_trainer *tr;
    ddpm_dataset own_data;    /* points given by viz_trainer_set_points (opt.data then points here) */
    double last_publish;      /* when weights were last published */
    size_t film_per;          /* floats per image of the filmstrip; 0: none (points) */
    float *film_xt;           /* (DDPM_FILM_N, film_per) its noisy inputs */
    ddpm_net_workspace *film_ws;
    double film_at;           /* run seconds of the last live row */
    ddpm_loss_smoother smoother;   /* the loss as `ddpm train` smooths it */
    double last_time;
};

static const double BAND_SMOOTHING = 0.05;

viz_trainer_options viz_trainer_options_default(const ddpm_dataset *data)
{
    viz_trainer_options o = {.data = data, .batch = 0, .seed = 0, .publish_every = 1};
    snprintf(o.preset, sizeof o.preset, "live");
    return o;
}

void viz_loss_history_free(viz_loss_history *h)
{
    if (!h) return;
    free(h->step);
    free(h->loss);
    free(h->smooth);
    memset(h, 0, sizeof *h);
}

/* ---- helpers called with the lock held -------------------------------------------- */

static void push_event_locked(viz_trainer *vt, viz_train_event_kind kind, const char *text)
{
    if (vt->ev_len == EVENT_CAP) { /* drop the oldest: the newest matters most */
        vt->ev_head = (vt->ev_head + 1) % EVENT_CAP;
        vt->ev_len--;
    }
    viz_train_event *e = &vt->events[(vt->ev_head + vt->ev_len) % EVENT_CAP];
    e->kind = kind;
    viz_copy_str(e->text, sizeof e->text, text);
    vt->ev_len++;
}

static void update_state_locked(viz_trainer *vt)
{
    viz_train_status *st = &vt->status;
    st->has_run = vt->tr != NULL;
    if (vt->failed) st->state = VIZ_TRAIN_FAILED;
    else if (!vt->tr && !vt->want_running) st->state = VIZ_TRAIN_IDLE;
    else st->state = vt->want_running || vt->stepping ? VIZ_TRAIN_RUNNING : VIZ_TRAIN_PAUSED;
    st->yielding = st->state == VIZ_TRAIN_RUNNING && vt->yield_count > 0;
    st->stepping = vt->stepping;
}

static void clear_history_locked(viz_trainer *vt, int T)
{
    vt->hist.n = 0;
    for (int b = 0; b < VIZ_LOSS_BANDS; b++) {
        vt->hist.band_loss[b] = 0.0;
        vt->hist.band_count[b] = 0;
    }
    vt->hist.T = T;
    vt->hist.version++;
    vt->status.history_version = vt->hist.version;
}

/* The trainer thread swaps its run under the lock, so that update_state_locked
 * (called from the UI thread too) never reads the pointer mid-write. */
static void replace_run(viz_trainer *vt, ddpm_trainer *tr)
{
    ddpm_trainer *old = vt->tr;
    SDL_LockMutex(vt->lock);
    vt->tr = tr;
    SDL_UnlockMutex(vt->lock);
    vt->threads_limit = 0; /* a new run computes on all its threads */
    ddpm_net_workspace_free(vt->film_ws);
    vt->film_ws = NULL;
    vt->film_per = 0;
    ddpm_trainer_free(old);
}

void viz_snapshot_free(viz_snapshot *s)
{
    if (!s) return;
    free(s->weights);
    free(s->film);
    memset(s, 0, sizeof *s);
}

/* The filmstrip's inputs for a new run: only for images of the data's shape. */
static void film_setup(viz_trainer *vt, ddpm_trainer *tr)
{
    const ddpm_net *net = ddpm_trainer_net(tr);
    const size_t per = ddpm_net_config_sample_floats(ddpm_net_get_config(net));
    const ddpm_dataset *data = vt->opt.data;
    if (per <= 2 || !data || !data->bytes || data->n <= VIZ_FILM_DIGIT ||
        (size_t)data->channels * data->height * data->width != per)
        return;
    ddpm_error err = {0};
    float *x0 = malloc(sizeof(float) * per);
    float *xt = realloc(vt->film_xt, sizeof(float) * per * DDPM_FILM_N);
    if (xt) vt->film_xt = xt;
    if (!x0 || !xt || ddpm_net_workspace_create(&vt->film_ws, net, DDPM_FILM_N, false, &err) != DDPM_OK) {
        free(x0);
        return; /* no filmstrip: training goes on without it */
    }
    ddpm_net_workspace_limit_threads(vt->film_ws, 1);
    ddpm_dataset_images(data, VIZ_FILM_DIGIT, 1, x0);
    int ts[DDPM_FILM_N];
    ddpm_film_timesteps(ddpm_trainer_schedule(tr)->T, ts);
    ddpm_film_inputs(ddpm_trainer_schedule(tr), x0, per, ts, VIZ_FILM_SEED, vt->film_xt);
    free(x0);
    vt->film_per = per;
}

/* The filmstrip row of the run's EMA weights: a malloc'ed (DDPM_FILM_N, per), or NULL. */
static float *film_row(viz_trainer *vt)
{
    if (!vt->film_per) return NULL;
    float *row = malloc(sizeof(float) * vt->film_per * DDPM_FILM_N);
    if (!row) return NULL;
    int ts[DDPM_FILM_N];
    ddpm_film_timesteps(ddpm_trainer_schedule(vt->tr)->T, ts);
    ddpm_error err = {0};
    if (ddpm_film_predict(ddpm_trainer_net(vt->tr), ddpm_trainer_ema(vt->tr), vt->film_ws, ddpm_trainer_schedule(vt->tr),
                          ddpm_trainer_run(vt->tr)->prediction, vt->film_xt, ts, row, &err) != DDPM_OK) {
        free(row);
        return NULL;
    }
    return row;
}

static void notify(viz_trainer *vt)
{
    if (vt->opt.notify) vt->opt.notify(vt->opt.notify_ctx);
}

static void post(viz_trainer *vt, viz_train_event_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void post(viz_trainer *vt, viz_train_event_kind kind, const char *fmt, ...)
{
    char text[sizeof ((viz_train_event *)0)->text];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap); /* long paths are shortened, on purpose */
    va_end(ap);
    SDL_LockMutex(vt->lock);
    push_event_locked(vt, kind, text);
    SDL_UnlockMutex(vt->lock);
    notify(vt);
}

/* ---- commands, carried out on the thread ---------------------------------------------- */

/* Installs a freshly created trainer: publishes its EMA and clears the history. */
static int install(viz_trainer *vt, ddpm_trainer *tr, const char *origin, bool run_after,
                   ddpm_error *err)
{
    const ddpm_run_config *run = ddpm_trainer_run(tr);
    const size_t n = ddpm_net_num_params(ddpm_trainer_net(tr));
    if (viz_weights_reset(&vt->weights, run, n, ddpm_trainer_ema(tr), ddpm_trainer_step_count(tr),
                          err) != DDPM_OK) {
        ddpm_trainer_free(tr);
        return DDPM_ERR;
    }
    replace_run(vt, tr);
    film_setup(vt, tr);
    vt->film_at = -FILM_INTERVAL;
    vt->smoother = (ddpm_loss_smoother){0};
    vt->last_time = 0.0;
    SDL_LockMutex(vt->lock);
    clear_history_locked(vt, run->schedule.T);
    vt->failed = false;
    /* a train command that came in while the run was being made holds: a
     * new run never stops a training the user asked for */
    vt->want_running = run_after || vt->want_running;
    vt->status.step = ddpm_trainer_step_count(tr);
    vt->status.loss = vt->status.loss_smooth = 0.0;
    vt->status.images_per_s = 0.0;
    vt->status.run = *run;
    vt->status.run_id++;
    vt->status.seconds = 0.0;
    free(vt->film_now);
    vt->film_now = NULL;
    vt->film_version++;
    snprintf(vt->status.origin, sizeof vt->status.origin, "%s", origin);
    update_state_locked(vt);
    SDL_UnlockMutex(vt->lock);
    return DDPM_OK;
}

static int scratch_config(const viz_trainer_options *o, ddpm_run_config *run, ddpm_error *err)
{
    if (ddpm_run_config_default(run, o->preset, err) != DDPM_OK) return DDPM_ERR;
    if (o->batch > 0) run->batch = o->batch;
    run->seed = o->seed;
    run->total_steps = 100000000; /* live training runs until paused */
    /* the data it learns, by name (what a saved model's eval compares with) */
    if (o->data) snprintf(run->dataset, sizeof run->dataset, "%s", o->data->name);
    return DDPM_OK;
}

static void do_reset(viz_trainer *vt, bool run_after)
{
    ddpm_error err = {0};
    ddpm_run_config run;
    ddpm_trainer *tr = NULL;
    /* free the old run first: two training workspaces at once may not fit */
    replace_run(vt, NULL);
    char origin[160];
    snprintf(origin, sizeof origin, "scratch (%s preset)", vt->opt.preset);
    if (scratch_config(&vt->opt, &run, &err) != DDPM_OK ||
        ddpm_trainer_create(&tr, &run, vt->opt.data, &err) != DDPM_OK ||
        install(vt, tr, origin, run_after, &err) != DDPM_OK) {
        SDL_LockMutex(vt->lock);
        vt->failed = true;
        vt->want_running = false;
        update_state_locked(vt);
        SDL_UnlockMutex(vt->lock);
        post(vt, VIZ_TRAIN_EVENT_ERROR, "Could not start training: %s", err.msg);
    }
}

static void do_continue(viz_trainer *vt, const command *c)
{
    ddpm_error err = {0};
    ddpm_checkpoint ck;
    if (ddpm_checkpoint_load(&ck, c->path, DDPM_CKPT_WEIGHTS, &err) != DDPM_OK) {
        post(vt, VIZ_TRAIN_EVENT_ERROR, "Cannot continue from %s: %s", c->label, err.msg);
        return;
    }
    ddpm_run_config run = ck.run;
    if (vt->opt.batch > 0) run.batch = vt->opt.batch;
    run.total_steps = 100000000; /* the most a config allows: live training runs until paused */
    replace_run(vt, NULL);
    ddpm_trainer *tr = NULL;
    char origin[160];
    snprintf(origin, sizeof origin, "continued from %s", c->label);
    int rc = ddpm_trainer_resume(&tr, &ck, &run, vt->opt.data, &err);
    ddpm_checkpoint_free(&ck);
    if (rc != DDPM_OK || install(vt, tr, origin, c->run_after, &err) != DDPM_OK) {
        SDL_LockMutex(vt->lock);
        vt->want_running = false;
        update_state_locked(vt);
        SDL_UnlockMutex(vt->lock);
        post(vt, VIZ_TRAIN_EVENT_ERROR, "Cannot continue from %s: %s", c->label, err.msg);
        return;
    }
    post(vt, VIZ_TRAIN_EVENT_INFO, "Training continues from %s (step %lld)", c->label,
             (long long)ddpm_trainer_step_count(tr));
}

static void do_set_points(viz_trainer *vt, command *c)
{
    ddpm_error err = {0};
    replace_run(vt, NULL); /* the run reads the data: end it first */
    ddpm_dataset_free(&vt->own_data);
    const int rc = ddpm_dataset_from_points(&vt->own_data, c->label, c->points, c->n, c->D, &err);
    free(c->points);
    c->points = NULL;
    vt->opt.data = &vt->own_data;
    if (rc != DDPM_OK) {
        post(vt, VIZ_TRAIN_EVENT_ERROR, "Cannot train on %s: %s", c->label, err.msg);
        return;
    }
    /* a train command given meanwhile holds too */
    SDL_LockMutex(vt->lock);
    const bool run = c->run_after || vt->want_running;
    SDL_UnlockMutex(vt->lock);
    do_reset(vt, run);
}

static void do_save(viz_trainer *vt, const command *c)
{
    if (!vt->tr) {
        post(vt, VIZ_TRAIN_EVENT_ERROR, "Nothing to save yet: start training first (T)");
        return;
    }
    /* "{step}" becomes the step being saved: the UI cannot know it when it asks */
    char path[4096];
    const char *mark = strstr(c->path, "{step}");
    if (mark)
        snprintf(path, sizeof path, "%.*s%06lld%s", (int)(mark - c->path), c->path,
                 (long long)ddpm_trainer_step_count(vt->tr), mark + 6);
    else
        viz_copy_str(path, sizeof path, c->path);
    ddpm_error err = {0};
    char dir[4096];
    viz_copy_str(dir, sizeof dir, path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (ddpm_mkdir_p(dir, &err) != DDPM_OK) {
            post(vt, VIZ_TRAIN_EVENT_ERROR, "Save failed: %s", err.msg);
            return;
        }
    }
    const int rc = c->kind == CMD_EXPORT ? ddpm_trainer_export(vt->tr, path, &err) : ddpm_trainer_save(vt->tr, path, &err);
    if (rc != DDPM_OK) {
        post(vt, VIZ_TRAIN_EVENT_ERROR, "Save failed: %s", err.msg);
        return;
    }
    post(vt, VIZ_TRAIN_EVENT_SAVED, "Saved %sstep %lld to %s", c->kind == CMD_EXPORT ? "the sampling weights of " : "",
         (long long)ddpm_trainer_step_count(vt->tr), path);
}

/* Keeps the run's EMA weights at this step for the UI (and in history_dir). */
static void take_snapshot(viz_trainer *vt)
{
    if (!vt->tr) return;
    viz_snapshot sn = {0};
    sn.step = ddpm_trainer_step_count(vt->tr);
    sn.run = *ddpm_trainer_run(vt->tr);
    sn.n = ddpm_net_num_params(ddpm_trainer_net(vt->tr));
    sn.weights = malloc(sizeof(float) * sn.n);
    if (!sn.weights) return;
    memcpy(sn.weights, ddpm_trainer_ema(vt->tr), sizeof(float) * sn.n);
    sn.film = film_row(vt);
    SDL_LockMutex(vt->lock);
    sn.run_id = vt->status.run_id;
    sn.seconds = vt->status.seconds;
    bool dropped = false;
    if (vt->n_snaps == SNAP_CAP) { /* the UI has not looked for a while: the oldest goes */
        viz_snapshot_free(&vt->snaps[0]);
        memmove(vt->snaps, vt->snaps + 1, sizeof vt->snaps[0] * (SNAP_CAP - 1));
        vt->n_snaps--;
        dropped = true;
    }
    vt->snaps[vt->n_snaps++] = sn;
    SDL_UnlockMutex(vt->lock);
    (void)dropped;
    if (vt->opt.history_dir[0]) {
        ddpm_error err = {0};
        ddpm_checkpoint_data d = {.run = &sn.run, .net = ddpm_trainer_net(vt->tr), .step = sn.step,
                                  .ema = sn.weights, .seconds = sn.seconds > 0 ? sn.seconds : 1e-3};
        if (ddpm_mkdir_p(vt->opt.history_dir, &err) != DDPM_OK ||
            ddpm_history_save_snapshot(vt->opt.history_dir, &d, &err) != DDPM_OK)
            post(vt, VIZ_TRAIN_EVENT_ERROR, "Could not keep the snapshot of step %lld: %s", (long long)sn.step,
                 err.msg);
    }
}

/* ---- one training step ------------------------------------------------------------------ */

static int grow_history_locked(viz_loss_history *h)
{
    if (h->n < h->cap) return DDPM_OK;
    size_t cap = h->cap ? h->cap * 2 : 1024;
    int64_t *s = realloc(h->step, sizeof *s * cap);
    if (s) h->step = s;
    float *l = realloc(h->loss, sizeof *l * cap);
    if (l) h->loss = l;
    float *m = realloc(h->smooth, sizeof *m * cap);
    if (m) h->smooth = m;
    if (!s || !l || !m) return DDPM_ERR;
    h->cap = cap;
    return DDPM_OK;
}

static void do_step(viz_trainer *vt)
{
    ddpm_error err = {0};
    ddpm_train_stats st;
    const double t0 = ddpm_now();
    if (ddpm_trainer_step(vt->tr, &st, &err) != DDPM_OK) {
        SDL_LockMutex(vt->lock);
        vt->failed = true;
        vt->want_running = false;
        update_state_locked(vt);
        SDL_UnlockMutex(vt->lock);
        post(vt, VIZ_TRAIN_EVENT_ERROR, "Training stopped: %s", err.msg);
        return;
    }
    const double dt = ddpm_now() - t0;
    const double smooth = ddpm_loss_smooth_add(&vt->smoother, st.loss);
    const int T = ddpm_trainer_schedule(vt->tr)->T;

    SDL_LockMutex(vt->lock);
    viz_loss_history *h = &vt->hist;
    if (grow_history_locked(h) == DDPM_OK) {
        h->step[h->n] = st.step;
        h->loss[h->n] = (float)st.loss;
        h->smooth[h->n] = (float)smooth;
        h->n++;
    }
    for (int b = 0; b < st.batch; b++) {
        int band = (int)((int64_t)st.t[b] * VIZ_LOSS_BANDS / T);
        if (band >= VIZ_LOSS_BANDS) band = VIZ_LOSS_BANDS - 1;
        double l = st.sample_loss[b];
        h->band_loss[band] = h->band_count[band] == 0
                                 ? l
                                 : (1.0 - BAND_SMOOTHING) * h->band_loss[band] + BAND_SMOOTHING * l;
        h->band_count[band]++;
    }
    h->version++;
    viz_train_status *s = &vt->status;
    s->history_version = h->version;
    s->step = st.step;
    s->loss = st.loss;
    s->loss_smooth = smooth;
    const double ips = dt > 0 ? st.batch / dt : 0.0;
    s->images_per_s = s->images_per_s > 0 ? 0.8 * s->images_per_s + 0.2 * ips : ips;
    s->seconds += dt;
    const double run_seconds = s->seconds;
    SDL_UnlockMutex(vt->lock);

    if (ddpm_history_is_snapshot_step(st.step, vt->opt.history_first)) take_snapshot(vt);
    if (vt->film_per && (vt->opt.deterministic ? st.step % FILM_STEPS == 0 : run_seconds - vt->film_at >= FILM_INTERVAL)) {
        vt->film_at = run_seconds;
        float *row = film_row(vt);
        if (row) {
            SDL_LockMutex(vt->lock);
            free(vt->film_now);
            vt->film_now = row;
            vt->film_step = st.step;
            vt->film_version++;
            SDL_UnlockMutex(vt->lock);
        }
    }

    const double now = ddpm_now();
    if (st.step % vt->opt.publish_every == 0 && (vt->opt.deterministic || now - vt->last_publish >= PUBLISH_INTERVAL)) {
        viz_weights_publish(&vt->weights, ddpm_trainer_ema(vt->tr), st.step);
        vt->last_publish = now;
        notify(vt);
    }
}

/* ---- the thread ---------------------------------------------------------------------------- */

/* The trainer runs below the UI and the sampler: what the user asked for (a
 * trajectory, a frame) takes the cores at once, even in the middle of a
 * training step, which then mostly waits.  Linux: nice 10 for this thread
 * only, so against other busy programs it still gets about a tenth of a core
 * rather than SDL's "low" (nice 19, about 1/70).  A failure only loses that. */
static void lower_priority(void)
{
#ifdef __linux__
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10);
#else
    SDL_SetThreadPriority(SDL_THREAD_PRIORITY_LOW);
#endif
}

static int trainer_main(void *arg)
{
    viz_trainer *vt = arg;
    lower_priority();
    SDL_LockMutex(vt->lock);
    while (!atomic_load(&vt->quit)) {
        if (vt->q_len > 0) {
            command c = vt->queue[vt->q_head];
            vt->q_head = (vt->q_head + 1) % QUEUE_CAP;
            vt->q_len--;
            vt->status.busy = true;
            snprintf(vt->status.busy_what, sizeof vt->status.busy_what, "%s",
                     c.kind == CMD_SAVE || c.kind == CMD_EXPORT ? "saving"
                     : c.kind == CMD_RESET ? "creating a run" : c.kind == CMD_SNAPSHOT ? "keeping a snapshot"
                     : "loading");
            SDL_UnlockMutex(vt->lock);
            if (c.kind == CMD_RESET) do_reset(vt, c.run_after);
            else if (c.kind == CMD_CONTINUE) do_continue(vt, &c);
            else if (c.kind == CMD_SET_POINTS) do_set_points(vt, &c);
            else if (c.kind == CMD_SNAPSHOT) take_snapshot(vt);
            else if (c.kind == CMD_EXPORT) do_save(vt, &c);
            else do_save(vt, &c);
            SDL_LockMutex(vt->lock);
            vt->status.busy = false;
            update_state_locked(vt);
            SDL_UnlockMutex(vt->lock);
            notify(vt);
            SDL_LockMutex(vt->lock);
            continue;
        }
        if (vt->want_running && !vt->failed && vt->yield_count == 0 &&
            (vt->step_limit < 0 || !vt->tr || vt->status.step < vt->step_limit)) {
            const bool need_run = vt->tr == NULL;
            if (need_run) {
                vt->status.busy = true;
                snprintf(vt->status.busy_what, sizeof vt->status.busy_what, "creating a run");
            }
            vt->stepping = !need_run;
            /* lent: one core fewer (the sampler's job runs on it) */
            const int cores = ddpm_get_threads();
            const int limit = vt->lend_count > 0 ? (cores > 2 ? cores - 1 : 1) : 0;
            update_state_locked(vt);
            SDL_UnlockMutex(vt->lock);
            if (vt->tr && limit != vt->threads_limit) {
                ddpm_trainer_limit_threads(vt->tr, limit);
                vt->threads_limit = limit;
            }
            if (need_run) do_reset(vt, true);
            else do_step(vt);
            SDL_LockMutex(vt->lock);
            vt->status.busy = false;
            vt->stepping = false;
            update_state_locked(vt);
            continue;
        }
        update_state_locked(vt);
        SDL_CondWait(vt->wake, vt->lock); /* paused, idle or yielding: sleep until a command */
    }
    SDL_UnlockMutex(vt->lock);
    return 0;
}

void viz_trainer_set_step_limit(viz_trainer *vt, int64_t limit)
{
    if (!vt) return;
    SDL_LockMutex(vt->lock);
    vt->step_limit = limit;
    SDL_CondSignal(vt->wake);
    SDL_UnlockMutex(vt->lock);
}

int viz_trainer_start(viz_trainer **out, const viz_trainer_options *o, ddpm_error *err)
{
    *out = NULL;
    DDPM_ASSERT(o && o->publish_every >= 1); /* data may be NULL: training then fails with a message */
    viz_trainer *vt = calloc(1, sizeof *vt);
    if (!vt) return ddpm_fail(err, "out of memory");
    vt->opt = *o;
    vt->step_limit = o->deterministic ? 0 : -1;
    atomic_init(&vt->quit, false);
    vt->lock = SDL_CreateMutex();
    vt->wake = SDL_CreateCond();
    if (!vt->lock || !vt->wake || viz_weights_init(&vt->weights, err) != DDPM_OK) {
        if (vt->lock && vt->wake) ddpm_fail(err, "cannot create the trainer's lock: %s", SDL_GetError());
        goto fail;
    }
    /* The untrained network, exactly as a scratch run starts (same seed), so
     * that the sampler has weights before the first step. */
    ddpm_run_config run;
    if (scratch_config(o, &run, err) != DDPM_OK) goto fail;
    ddpm_net *net = NULL;
    if (ddpm_net_create(&net, &run.net, err) != DDPM_OK) goto fail;
    const size_t n = ddpm_net_num_params(net);
    float *init = malloc(sizeof(float) * n);
    if (!init) {
        ddpm_net_free(net);
        ddpm_fail(err, "out of memory");
        goto fail;
    }
    ddpm_net_init_params(net, init, run.seed);
    int rc = viz_weights_reset(&vt->weights, &run, n, init, 0, err);
    free(init);
    ddpm_net_free(net);
    if (rc != DDPM_OK) goto fail;
    vt->status.run = run;
    snprintf(vt->status.origin, sizeof vt->status.origin, "untrained (%s preset)", o->preset);
    vt->hist.T = run.schedule.T;
    vt->thread = SDL_CreateThread(trainer_main, "ddpm-trainer", vt);
    if (!vt->thread) {
        ddpm_fail(err, "cannot start the training thread: %s", SDL_GetError());
        goto fail;
    }
    *out = vt;
    return DDPM_OK;
fail:
    viz_weights_free(&vt->weights);
    if (vt->wake) SDL_DestroyCond(vt->wake);
    if (vt->lock) SDL_DestroyMutex(vt->lock);
    free(vt);
    return DDPM_ERR;
}

void viz_trainer_stop(viz_trainer *vt)
{
    if (!vt) return;
    SDL_LockMutex(vt->lock);
    atomic_store(&vt->quit, true);
    SDL_CondSignal(vt->wake);
    SDL_UnlockMutex(vt->lock);
    SDL_WaitThread(vt->thread, NULL);
    for (int i = 0; i < vt->q_len; i++) free(vt->queue[(vt->q_head + i) % QUEUE_CAP].points);
    ddpm_trainer_free(vt->tr);
    ddpm_net_workspace_free(vt->film_ws);
    free(vt->film_xt);
    free(vt->film_now);
    for (int i = 0; i < vt->n_snaps; i++) viz_snapshot_free(&vt->snaps[i]);
    ddpm_dataset_free(&vt->own_data);
    viz_weights_free(&vt->weights);
    viz_loss_history_free(&vt->hist);
    SDL_DestroyCond(vt->wake);
    SDL_DestroyMutex(vt->lock);
    free(vt);
}

void viz_trainer_lend(viz_trainer *vt, bool on)
{
    SDL_LockMutex(vt->lock);
    vt->lend_count += on ? 1 : -1;
    DDPM_ASSERT(vt->lend_count >= 0);
    SDL_UnlockMutex(vt->lock);
}

void viz_trainer_yield(viz_trainer *vt, bool on)
{
    SDL_LockMutex(vt->lock);
    vt->yield_count += on ? 1 : -1;
    DDPM_ASSERT(vt->yield_count >= 0);
    update_state_locked(vt);
    SDL_CondSignal(vt->wake);
    SDL_UnlockMutex(vt->lock);
}

static void enqueue(viz_trainer *vt, const command *c)
{
    SDL_LockMutex(vt->lock);
    if (vt->q_len == QUEUE_CAP) { /* replace the newest: the user clicked too much */
        vt->q_len--;
        free(vt->queue[(vt->q_head + vt->q_len) % QUEUE_CAP].points);
    }
    vt->queue[(vt->q_head + vt->q_len) % QUEUE_CAP] = *c;
    vt->q_len++;
    vt->status.busy = true;
    SDL_CondSignal(vt->wake);
    SDL_UnlockMutex(vt->lock);
}

void viz_trainer_train(viz_trainer *vt)
{
    SDL_LockMutex(vt->lock);
    vt->want_running = true;
    vt->failed = false; /* a fresh attempt after a failure */
    update_state_locked(vt);
    SDL_CondSignal(vt->wake);
    SDL_UnlockMutex(vt->lock);
}

void viz_trainer_pause(viz_trainer *vt)
{
    SDL_LockMutex(vt->lock);
    vt->want_running = false;
    update_state_locked(vt);
    SDL_CondSignal(vt->wake);
    SDL_UnlockMutex(vt->lock);
}

void viz_trainer_reset(viz_trainer *vt, bool run_after)
{
    command c = {.kind = CMD_RESET, .run_after = run_after};
    enqueue(vt, &c);
}

void viz_trainer_continue_from(viz_trainer *vt, const char *path, const char *label, bool run_after)
{
    command c = {.kind = CMD_CONTINUE, .run_after = run_after};
    snprintf(c.path, sizeof c.path, "%s", path);
    snprintf(c.label, sizeof c.label, "%s", label);
    enqueue(vt, &c);
}

void viz_trainer_set_points(viz_trainer *vt, const char *name, const float *pts, size_t n, int D,
                            bool run_after)
{
    command c = {.kind = CMD_SET_POINTS, .run_after = run_after, .n = n, .D = D};
    snprintf(c.label, sizeof c.label, "%s", name);
    c.points = malloc(sizeof(float) * (n ? n : 1) * (size_t)(D > 0 ? D : 1));
    if (!c.points) return; /* the command cannot be carried out; nothing changes */
    if (n) memcpy(c.points, pts, sizeof(float) * n * (size_t)D);
    enqueue(vt, &c);
}

void viz_trainer_export(viz_trainer *vt, const char *path)
{
    command c = {.kind = CMD_EXPORT};
    snprintf(c.path, sizeof c.path, "%s", path);
    enqueue(vt, &c);
}

void viz_trainer_save(viz_trainer *vt, const char *path)
{
    command c = {.kind = CMD_SAVE};
    snprintf(c.path, sizeof c.path, "%s", path);
    enqueue(vt, &c);
}

void viz_trainer_get_status(viz_trainer *vt, viz_train_status *st)
{
    SDL_LockMutex(vt->lock);
    *st = vt->status;
    SDL_UnlockMutex(vt->lock);
}

bool viz_trainer_copy_history(viz_trainer *vt, viz_loss_history *h)
{
    bool changed = false;
    SDL_LockMutex(vt->lock);
    const viz_loss_history *src = &vt->hist;
    if (src->version != h->version) {
        if (h->cap < src->n) {
            size_t cap = src->n + 1024;
            int64_t *s = realloc(h->step, sizeof *s * cap);
            if (s) h->step = s;
            float *l = realloc(h->loss, sizeof *l * cap);
            if (l) h->loss = l;
            float *m = realloc(h->smooth, sizeof *m * cap);
            if (m) h->smooth = m;
            if (s && l && m) h->cap = cap;
        }
        if (h->cap >= src->n) {
            if (src->n) {
                memcpy(h->step, src->step, sizeof *h->step * src->n);
                memcpy(h->loss, src->loss, sizeof *h->loss * src->n);
                memcpy(h->smooth, src->smooth, sizeof *h->smooth * src->n);
            }
            h->n = src->n;
            memcpy(h->band_loss, src->band_loss, sizeof h->band_loss);
            memcpy(h->band_count, src->band_count, sizeof h->band_count);
            h->T = src->T;
            h->version = src->version;
            changed = true;
        }
    }
    SDL_UnlockMutex(vt->lock);
    return changed;
}

bool viz_trainer_poll_snapshot(viz_trainer *vt, viz_snapshot *out)
{
    bool got = false;
    SDL_LockMutex(vt->lock);
    if (vt->n_snaps > 0) {
        *out = vt->snaps[0];
        memmove(vt->snaps, vt->snaps + 1, sizeof vt->snaps[0] * (size_t)(vt->n_snaps - 1));
        vt->n_snaps--;
        got = true;
    }
    SDL_UnlockMutex(vt->lock);
    return got;
}

void viz_trainer_snapshot(viz_trainer *vt)
{
    command c = {.kind = CMD_SNAPSHOT};
    enqueue(vt, &c);
}

bool viz_trainer_copy_film(viz_trainer *vt, float *film, size_t cap, int64_t *step, uint64_t *version)
{
    bool got = false;
    SDL_LockMutex(vt->lock);
    if (vt->film_version != *version) {
        const size_t n = vt->film_per * DDPM_FILM_N;
        if (!vt->film_now) {
            *version = vt->film_version;
            *step = -1;
            got = true;
        } else if (n <= cap) {
            memcpy(film, vt->film_now, sizeof(float) * n);
            *step = vt->film_step;
            *version = vt->film_version;
            got = true;
        }
    }
    SDL_UnlockMutex(vt->lock);
    return got;
}

bool viz_trainer_poll_event(viz_trainer *vt, viz_train_event *ev)
{
    bool got = false;
    SDL_LockMutex(vt->lock);
    if (vt->ev_len > 0) {
        *ev = vt->events[vt->ev_head];
        vt->ev_head = (vt->ev_head + 1) % EVENT_CAP;
        vt->ev_len--;
        got = true;
    }
    SDL_UnlockMutex(vt->lock);
    return got;
}

bool viz_trainer_pending(viz_trainer *vt)
{
    SDL_LockMutex(vt->lock);
    bool p = vt->q_len > 0 || vt->status.busy || (vt->stepping && !vt->want_running);
    SDL_UnlockMutex(vt->lock);
    return p;
}

viz_weights *viz_trainer_weights(viz_trainer *vt) { return &vt->weights; }
