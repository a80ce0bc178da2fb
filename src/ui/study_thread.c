/* study_thread.c: the study grid's worker (see study_thread.h). */
#include "study_thread.h"
#include "scoring.h"
#include "viz_util.h"

#include <SDL_thread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { STUDY_BATCH = 16 };   /* images per forward pass (the samples do not depend on it; a small workspace) */

struct viz_study {
    SDL_Thread *thread;
    SDL_mutex *lock;
    SDL_cond *wake, *idle;
    atomic_bool quit;
    atomic_bool cancel;            /* viz_study_cancel: stop the running job */
    viz_weights *live;
    void (*notify)(void *);
    void *notify_ctx;
    /* guarded by lock */
    viz_study_job pending;
    bool has_pending, running;
    uint64_t next_id, pending_id;
    viz_study_result *latest;
    /* this thread's: the classifier and its reference (the bundled digits,
     * tens of MB) are opened for a job's scoring pass and closed after it, so
     * the window holds them only while a study computes */
    ddpm_cli_scorer scorer;
    int scorer_state;              /* 0 closed, 1 open, -1 failed (scorer_error says why) */
    char scorer_error[256];
    ddpm_net *live_net;
};

void viz_study_release(viz_study_result *r)
{
    if (!r || atomic_fetch_sub(&r->refs, 1) != 1) return;
    free(r->images);
    free(r);
}

static bool go_on(viz_study *s)
{
    SDL_LockMutex(s->lock);
    const bool go = !s->has_pending && !atomic_load(&s->quit) && !atomic_load(&s->cancel);
    SDL_UnlockMutex(s->lock);
    return go;
}

static bool on_step(void *ctx, const ddpm_step_view *v)
{
    (void)v;
    return go_on(ctx);
}

/* Images first .. first+n-1 of one cell's settings into x, in batches. */
static int sample_range(viz_study *s, const ddpm_schedule *sched, const ddpm_sampler_config *cfg,
                        const viz_study_result *r, ddpm_net_denoiser *den, int first, int n, float *x,
                        ddpm_error *err)
{
    for (int b0 = 0; b0 < n; b0 += STUDY_BATCH) {
        const int nb = n - b0 < STUDY_BATCH ? n - b0 : STUDY_BATCH;
        ddpm_sample_request req = {.schedule = sched, .cfg = *cfg, .pred = r->pred, .seed = r->job.seed,
                                   .first_index = first + b0};
        if (ddpm_sample(&req, ddpm_net_denoise, den, nb, r->C, r->H, r->W, x + (size_t)b0 * r->per, NULL, on_step, s,
                        err) != DDPM_OK)
            return DDPM_ERR;
    }
    return DDPM_OK;
}

static ddpm_sampler_config cell_config(const viz_study_job *j, int cell)
{
    ddpm_sampler_config c = j->base;
    c.eta = j->etas[cell / j->n_steps];
    c.steps = j->steps[cell % j->n_steps];
    return c;
}

static void publish_cell(viz_study *s, viz_study_result *r, int cell, const viz_study_cell *c)
{
    SDL_LockMutex(s->lock);
    r->cells[cell] = *c;
    SDL_UnlockMutex(s->lock);
    if (s->notify) s->notify(s->notify_ctx);
}

/* Both passes over the cells; DDPM_ERR when cancelled or failed. */
static int run_cells(viz_study *s, viz_study_result *r, const ddpm_schedule *sched, ddpm_net_denoiser *den,
                     ddpm_error *err)
{
    const viz_study_job *j = &r->job;
    const int n_cells = j->n_eta * j->n_steps, n = j->n_score;
    const size_t show = (size_t)VIZ_STUDY_SHOW * r->per;
    viz_study_cell cell[VIZ_STUDY_CELLS];
    memset(cell, 0, sizeof cell);
    /* pass 1: what every cell shows */
    for (int k = 0; k < n_cells; k++) {
        const ddpm_sampler_config cfg = cell_config(j, k);
        const double t0 = ddpm_now();
        float *x = r->images + (size_t)k * show;
        if (sample_range(s, sched, &cfg, r, den, 0, VIZ_STUDY_SHOW, x, err) != DDPM_OK) return DDPM_ERR;
        ddpm_cli_quantize(x, show); /* as scored, and as `ddpm sweep` draws them */
        cell[k].seconds = ddpm_now() - t0;
        cell[k].shown = true;
        publish_cell(s, r, k, &cell[k]);
    }
    if (!r->scoring) return DDPM_OK;
    if (s->scorer_state == 0) {
        ddpm_error se = {0};
        s->scorer_state = ddpm_cli_scorer_open(&s->scorer, NULL, NULL, &se) == DDPM_OK ? 1 : -1;
        if (s->scorer_state < 0) {
            SDL_LockMutex(s->lock);
            snprintf(r->error, sizeof r->error, "no scores: %.200s", se.msg);
            r->scoring = false;
            SDL_UnlockMutex(s->lock);
            return DDPM_OK;
        }
    }
    ddpm_quality floor;
    ddpm_quality_floor(&s->scorer.ref, (size_t)n, &floor);
    SDL_LockMutex(s->lock);
    r->floor = floor;
    SDL_UnlockMutex(s->lock);
    /* pass 2: the rest of each cell's n, and its score */
    float *x = malloc(sizeof(float) * (size_t)n * r->per);
    if (!x) return ddpm_fail(err, "out of memory for %d samples per cell", n);
    int rc = DDPM_OK;
    for (int k = 0; k < n_cells && rc == DDPM_OK; k++) {
        const ddpm_sampler_config cfg = cell_config(j, k);
        const double t0 = ddpm_now();
        memcpy(x, r->images + (size_t)k * show, sizeof(float) * show);
        rc = sample_range(s, sched, &cfg, r, den, VIZ_STUDY_SHOW, n - VIZ_STUDY_SHOW, x + show, err);
        if (rc != DDPM_OK) break;
        ddpm_cli_quantize(x + show, (size_t)(n - VIZ_STUDY_SHOW) * r->per);
        ddpm_quality_score(&s->scorer.ref, x, (size_t)n, &cell[k].q);
        cell[k].seconds += ddpm_now() - t0;
        cell[k].scored = true;
        publish_cell(s, r, k, &cell[k]);
    }
    free(x);
    return rc;
}

static void finish(viz_study *s, viz_study_result *r, viz_job_state state, const char *error)
{
    SDL_LockMutex(s->lock);
    r->state = state;
    if (error && error[0]) viz_copy_str(r->error, sizeof r->error, error);
    SDL_UnlockMutex(s->lock);
    if (s->notify) s->notify(s->notify_ctx);
}

static void run_job(viz_study *s, const viz_study_job *job, uint64_t id)
{
    ddpm_error err = {0};
    viz_study_result *r = calloc(1, sizeof *r);
    if (!r) return;
    atomic_init(&r->refs, 1);
    r->id = id;
    r->job = *job;
    r->state = VIZ_JOB_RUNNING;
    r->weights_step = -1;
    const ddpm_net *net = job->model.net;
    const float *weights = job->model.weights;
    float *live_copy = NULL;
    r->pred = job->model.pred;
    int rc = DDPM_OK;
    if (!net) {
        viz_weights_info info = {0};
        viz_weights *live = job->live ? job->live : s->live;
        live_copy = live ? viz_weights_take(live, &info) : NULL;
        if (!live_copy) {
            rc = ddpm_fail(&err, "no live weights to sample from");
        } else if (!s->live_net || !ddpm_net_config_equal(ddpm_net_get_config(s->live_net), &info.run.net)) {
            ddpm_net_free(s->live_net);
            s->live_net = NULL;
            rc = ddpm_net_create(&s->live_net, &info.run.net, &err);
        }
        net = s->live_net;
        weights = live_copy;
        r->pred = info.run.prediction;
        r->weights_step = info.step;
    }
    ddpm_schedule sched = {0};
    ddpm_net_workspace *ws = NULL;
    if (rc == DDPM_OK) {
        ddpm_net_config_shape(ddpm_net_get_config(net), &r->C, &r->H, &r->W);
        r->per = (size_t)r->C * r->H * r->W;
        rc = ddpm_schedule_init(&sched, &job->schedule, &err);
    }
    for (int k = 0; k < job->n_eta * job->n_steps && rc == DDPM_OK; k++) {
        const ddpm_sampler_config cfg = cell_config(job, k);
        rc = ddpm_sampler_config_validate(&cfg, sched.T, &err);
    }
    if (rc == DDPM_OK) {
        r->images = malloc(sizeof(float) * (size_t)VIZ_STUDY_CELLS * VIZ_STUDY_SHOW * r->per);
        if (!r->images) rc = ddpm_fail(&err, "out of memory for the study grid");
    }
    if (rc == DDPM_OK && ddpm_net_workspace_create(&ws, net, STUDY_BATCH, false, &err) == DDPM_OK)
        ddpm_net_workspace_limit_threads(ws, job->threads);
    else if (rc == DDPM_OK)
        rc = DDPM_ERR;
    /* scores are for 1x28x28 digits (the classifier opens for the scoring pass) */
    if (rc == DDPM_OK) {
        r->scoring = r->C == 1 && r->H == DDPM_CLASSIFIER_SIZE && r->W == DDPM_CLASSIFIER_SIZE;
        if (!r->scoring) snprintf(r->error, sizeof r->error, "no scores: the classifier scores 1x28x28 digits");
    }
    SDL_LockMutex(s->lock);
    viz_study_result *old = s->latest;
    s->latest = r;
    SDL_UnlockMutex(s->lock);
    viz_study_release(old);
    if (rc == DDPM_OK) {
        if (job->hold) job->hold(job->hold_ctx, job->threads, true);
        ddpm_net_denoiser den = {net, weights, ws};
        rc = run_cells(s, r, &sched, &den, &err);
        if (job->hold) job->hold(job->hold_ctx, job->threads, false);
        finish(s, r, rc == DDPM_OK ? VIZ_JOB_DONE : go_on(s) ? VIZ_JOB_FAILED : VIZ_JOB_CANCELLED,
               rc == DDPM_OK || !go_on(s) ? NULL : err.msg);
    } else {
        finish(s, r, VIZ_JOB_FAILED, err.msg);
    }
    ddpm_net_workspace_free(ws);
    ddpm_schedule_free(&sched);
    free(live_copy);
    if (s->scorer_state > 0) ddpm_cli_scorer_close(&s->scorer);
    s->scorer_state = 0; /* a failure is tried again by the next job */
}

static int study_main(void *arg)
{
    viz_study *s = arg;
    SDL_LockMutex(s->lock);
    while (!atomic_load(&s->quit)) {
        if (!s->has_pending) {
            SDL_CondBroadcast(s->idle);
            SDL_CondWait(s->wake, s->lock);
            continue;
        }
        viz_study_job job = s->pending;
        const uint64_t id = s->pending_id;
        s->has_pending = false;
        s->running = true;
        SDL_UnlockMutex(s->lock);
        run_job(s, &job, id);
        SDL_LockMutex(s->lock);
        s->running = false;
    }
    SDL_CondBroadcast(s->idle);
    SDL_UnlockMutex(s->lock);
    return 0;
}

int viz_study_start(viz_study **out, viz_weights *live, void (*notify)(void *), void *ctx, ddpm_error *err)
{
    *out = NULL;
    viz_study *s = calloc(1, sizeof *s);
    if (!s) return ddpm_fail(err, "out of memory");
    atomic_init(&s->quit, false);
    atomic_init(&s->cancel, false);
    s->live = live;
    s->notify = notify;
    s->notify_ctx = ctx;
    s->lock = SDL_CreateMutex();
    s->wake = SDL_CreateCond();
    s->idle = SDL_CreateCond();
    if (s->lock && s->wake && s->idle) s->thread = SDL_CreateThread(study_main, "ddpm-study", s);
    if (!s->thread) {
        ddpm_fail(err, "cannot start the study thread: %s", SDL_GetError());
        if (s->idle) SDL_DestroyCond(s->idle);
        if (s->wake) SDL_DestroyCond(s->wake);
        if (s->lock) SDL_DestroyMutex(s->lock);
        free(s);
        return DDPM_ERR;
    }
    *out = s;
    return DDPM_OK;
}

void viz_study_stop(viz_study *s)
{
    if (!s) return;
    SDL_LockMutex(s->lock);
    atomic_store(&s->quit, true);
    SDL_CondSignal(s->wake);
    SDL_UnlockMutex(s->lock);
    SDL_WaitThread(s->thread, NULL);
    viz_study_release(s->latest);
    ddpm_net_free(s->live_net);
    SDL_DestroyCond(s->idle);
    SDL_DestroyCond(s->wake);
    SDL_DestroyMutex(s->lock);
    free(s);
}

uint64_t viz_study_submit(viz_study *s, const viz_study_job *job)
{
    DDPM_ASSERT(job->n_eta >= 1 && job->n_eta <= VIZ_STUDY_MAX && job->n_steps >= 1 && job->n_steps <= VIZ_STUDY_MAX);
    DDPM_ASSERT(job->n_score >= VIZ_STUDY_SHOW && job->threads >= 1);
    SDL_LockMutex(s->lock);
    s->pending = *job;
    s->has_pending = true;
    atomic_store(&s->cancel, false);
    const uint64_t id = ++s->next_id;
    s->pending_id = id;
    SDL_CondSignal(s->wake);
    SDL_UnlockMutex(s->lock);
    return id;
}

void viz_study_cancel(viz_study *s)
{
    SDL_LockMutex(s->lock);
    if (s->running && !s->has_pending) atomic_store(&s->cancel, true);
    SDL_UnlockMutex(s->lock);
}

viz_study_result *viz_study_acquire(viz_study *s)
{
    SDL_LockMutex(s->lock);
    viz_study_result *r = s->latest;
    if (r) atomic_fetch_add(&r->refs, 1);
    SDL_UnlockMutex(s->lock);
    return r;
}

void viz_study_cell_get(viz_study *s, const viz_study_result *r, int cell, viz_study_cell *out)
{
    DDPM_ASSERT(cell >= 0 && cell < VIZ_STUDY_CELLS);
    SDL_LockMutex(s->lock);
    *out = r->cells[cell];
    SDL_UnlockMutex(s->lock);
}

viz_job_state viz_study_state(viz_study *s, const viz_study_result *r, char *error, size_t cap, bool *scoring,
                              ddpm_quality *floor)
{
    SDL_LockMutex(s->lock);
    const viz_job_state st = r->state;
    if (error && cap) snprintf(error, cap, "%s", r->error);
    if (scoring) *scoring = r->scoring;
    if (floor) *floor = r->floor;
    SDL_UnlockMutex(s->lock);
    return st;
}

bool viz_study_wait_idle(viz_study *s, double timeout_s)
{
    const double deadline = ddpm_now() + timeout_s;
    SDL_LockMutex(s->lock);
    while (s->has_pending || s->running) {
        const double left = deadline - ddpm_now();
        if (left <= 0) break;
        SDL_CondWaitTimeout(s->idle, s->lock, (Uint32)(left * 1000.0) + 1);
    }
    const bool idle = !s->has_pending && !s->running;
    SDL_UnlockMutex(s->lock);
    return idle;
}

bool viz_study_busy(viz_study *s)
{
    SDL_LockMutex(s->lock);
    const bool busy = s->has_pending || s->running;
    SDL_UnlockMutex(s->lock);
    return busy;
}
