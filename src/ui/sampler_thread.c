/* sampler_thread.c: the sampler thread with its one-job slot (see sampler_thread.h). */
#include "sampler_thread.h"
#include "viz_util.h"

#include <SDL_thread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct viz_sampler {
    SDL_Thread *thread;
    SDL_mutex *lock;
    SDL_cond *wake;        /* a job was queued, or quit */
    SDL_cond *idle;        /* the thread finished a job with nothing queued */
    atomic_bool quit;
    viz_weights *live;
    void (*notify)(void *);
    void *notify_ctx;

    /* guarded by lock */
    viz_job pending;
    bool has_pending;
    bool running;
    uint64_t next_id, pending_id;
    viz_result *latest;    /* the sampler's reference */

    /* per side, this thread and its helper (one slot each): inference
     * workspaces for the last network used, and the live network built from
     * the weights' config */
    const ddpm_net *ws_net[VIZ_MAX_SIDES][2];
    ddpm_net_workspace *ws[VIZ_MAX_SIDES][2];
    int ws_max[VIZ_MAX_SIDES][2];  /* their batch sizes */
    ddpm_net *live_net;
};

/* ---- results ------------------------------------------------------------------------- */

static void traj_free(viz_traj *t)
{
    free(t->t);
    free(t->abar);
    free(t->x_t);
    free(t->x0_hat);
    free(t->x0_term);
    free(t->coefs);
    memset(t, 0, sizeof *t);
}

void viz_result_release(viz_result *r)
{
    if (!r) return;
    if (atomic_fetch_sub(&r->refs, 1) != 1) return;
    for (int i = 0; i < VIZ_MAX_SIDES; i++) traj_free(&r->traj[i]);
    free(r);
}

/* Allocates side i's buffers and fills its timesteps; frame 0 is filled by the caller. */
static int traj_alloc(viz_traj *tr, const viz_side *side, const ddpm_schedule *sched, int B, size_t per,
                      int start_t, ddpm_error *err)
{
    const int T = sched->T;
    /* the visited timesteps first: a round trip has its own count */
    tr->t = malloc(sizeof(int) * (size_t)(side->cfg.steps + 2));
    if (!tr->t) return ddpm_fail(err, "out of memory");
    const int S = start_t > 0 ? ddpm_timesteps_from(T, &side->cfg, start_t, tr->t, err)
                              : ddpm_timesteps(T, &side->cfg, tr->t, err);
    if (S < 1) return DDPM_ERR;
    tr->S = S;
    tr->abar = malloc(sizeof(double) * (size_t)(S + 1));
    tr->x_t = malloc(sizeof(float) * (size_t)(S + 1) * B * per);
    tr->x0_hat = malloc(sizeof(float) * (size_t)S * B * per);
    /* the three step terms share one allocation */
    tr->x0_term = malloc(sizeof(float) * (size_t)S * per * 3);
    tr->coefs = calloc((size_t)S, sizeof(ddpm_step_coefs));
    if (!tr->abar || !tr->x_t || !tr->x0_hat || !tr->x0_term || !tr->coefs)
        return ddpm_fail(err, "out of memory for a %d-step trajectory of %d images", S, B);
    tr->dir_term = tr->x0_term + (size_t)S * per;
    tr->noise_term = tr->x0_term + (size_t)2 * S * per;
    tr->t[S] = -1;
    for (int k = 0; k <= S; k++) tr->abar[k] = ddpm_alpha_bar(sched, tr->t[k]); /* 1 at t = -1 */
    return DDPM_OK;
}

/* ---- running a job ---------------------------------------------------------------------- */

/* One half of a batch (images b0 .. b0+nb-1) of one side, sampled by one thread. */
typedef struct half_run {
    viz_sampler *s;
    viz_result *r;
    int side, b0, nb;
    struct half_run *other;    /* the other half of the batch, or NULL */
    int done;                  /* steps finished; guarded by s->lock */
    /* inputs and outputs of the run */
    const ddpm_schedule *sched;
    ddpm_net_denoiser den;
    float *x0;                 /* (nb, per) scratch */
    ddpm_error err;
    int rc;
} half_run;

static bool on_step(void *ctx, const ddpm_step_view *v)
{
    half_run *h = ctx;
    viz_result *r = h->r;
    viz_traj *tr = &r->traj[h->side];
    const size_t per = r->per, frame = (size_t)r->B * per, mine = (size_t)h->nb * per;
    const size_t off = (size_t)h->b0 * per;
    const int k = v->k, f = r->job.focus - h->b0;
    memcpy(tr->x_t + (size_t)(k + 1) * frame + off, v->x_prev, sizeof(float) * mine);
    memcpy(tr->x0_hat + (size_t)k * frame + off, v->parts.x0_hat, sizeof(float) * mine);
    if (f >= 0 && f < h->nb) { /* the followed image is in this half */
        memcpy(tr->x0_term + (size_t)k * per, v->parts.x0_term + (size_t)f * per, sizeof(float) * per);
        memcpy(tr->dir_term + (size_t)k * per, v->parts.dir_term + (size_t)f * per, sizeof(float) * per);
        memcpy(tr->noise_term + (size_t)k * per, v->parts.noise_term + (size_t)f * per, sizeof(float) * per);
        tr->coefs[k] = v->coefs;
    }
    SDL_LockMutex(h->s->lock);
    h->done = k + 1;
    /* a frame is complete when both halves have it */
    r->done[h->side] = h->other && h->other->done < h->done ? h->other->done : h->done;
    /* a newer job waiting is the cancel signal */
    const bool go_on = !h->s->has_pending && !atomic_load(&h->s->quit);
    SDL_UnlockMutex(h->s->lock);
    if (h->s->notify) h->s->notify(h->s->notify_ctx);
    return go_on;
}

static void run_half(half_run *h)
{
    const viz_result *r = h->r;
    ddpm_sample_request req = {.schedule = h->sched, .cfg = r->job.sides[h->side].cfg, .pred = r->pred[h->side],
                               .seed = r->job.seed, .first_index = r->job.first_index + h->b0,
                               .start_t = r->job.start_t};
    const float *x_T = r->traj[h->side].x_t + (size_t)h->b0 * r->per;
    h->rc = ddpm_sample(&req, ddpm_net_denoise, &h->den, h->nb, r->C, r->H, r->W, h->x0, x_T, on_step, h, &h->err);
}

static int half_main(void *arg)
{
    run_half(arg);
    return 0;
}

/* The workspace of (side, thread) for net, for batches of up to B (a grid
 * of images at once, or every particle of the 2D world in one pass). */
static int ensure_workspace(viz_sampler *s, int side, int th, const ddpm_net *net, int B, ddpm_error *err)
{
    if (B < VIZ_GRID_N) B = VIZ_GRID_N;
    ddpm_net_workspace **ws = &s->ws[side][th];
    if (*ws && s->ws_net[side][th] == net && s->ws_max[side][th] >= B) return DDPM_OK;
    ddpm_net_workspace_free(*ws);
    *ws = NULL;
    s->ws_net[side][th] = NULL;
    if (ddpm_net_workspace_create(ws, net, B, false, err) != DDPM_OK) return DDPM_ERR;
    ddpm_net_workspace_limit_threads(*ws, 1); /* one core each: a split job runs two */
    s->ws_net[side][th] = net;
    s->ws_max[side][th] = B;
    return DDPM_OK;
}

static void free_workspaces(viz_sampler *s, const ddpm_net *only)
{
    for (int i = 0; i < VIZ_MAX_SIDES; i++)
        for (int j = 0; j < 2; j++)
            if (!only || s->ws_net[i][j] == only) {
                ddpm_net_workspace_free(s->ws[i][j]);
                s->ws[i][j] = NULL;
                s->ws_net[i][j] = NULL;
            }
}

/* The live network for a weights config: rebuilt only when the config changes. */
static int ensure_live_net(viz_sampler *s, const ddpm_net_config *cfg, ddpm_error *err)
{
    if (s->live_net && ddpm_net_config_equal(ddpm_net_get_config(s->live_net), cfg)) return DDPM_OK;
    if (s->live_net) free_workspaces(s, s->live_net); /* they belong to the old network */
    ddpm_net_free(s->live_net);
    s->live_net = NULL;
    return ddpm_net_create(&s->live_net, cfg, err);
}

static void finish(viz_sampler *s, viz_result *r, viz_job_state state, double t0, const char *error)
{
    SDL_LockMutex(s->lock);
    r->state = state;
    r->seconds = ddpm_now() - t0;
    if (error) viz_copy_str(r->error, sizeof r->error, error);
    SDL_UnlockMutex(s->lock);
}

static void run_job(viz_sampler *s, const viz_job *job, uint64_t id)
{
    const double t0 = ddpm_now();
    ddpm_error err = {0};
    viz_result *r = calloc(1, sizeof *r);
    if (!r) return;
    atomic_init(&r->refs, 1); /* the sampler's reference */
    r->id = id;
    r->job = *job;
    r->state = VIZ_JOB_RUNNING;
    r->weights_step = -1;

    /* each side's network and weights; the live ones are taken once */
    const ddpm_net *net[VIZ_MAX_SIDES] = {0};
    const float *weights[VIZ_MAX_SIDES] = {0};
    float *live_copy = NULL;
    viz_weights_info info = {0};
    int rc = DDPM_OK;
    for (int i = 0; i < job->n_sides && rc == DDPM_OK; i++) {
        const viz_job_model *m = &job->model[i];
        if (m->net) {
            net[i] = m->net;
            weights[i] = m->weights;
            r->pred[i] = m->pred;
            continue;
        }
        if (!live_copy) {
            viz_weights *live = job->live ? job->live : s->live;
            live_copy = live ? viz_weights_take(live, &info) : NULL;
            if (!live_copy) rc = ddpm_fail(&err, "no live weights to sample from");
            else rc = ensure_live_net(s, &info.run.net, &err);
        }
        net[i] = s->live_net;
        weights[i] = live_copy;
        r->pred[i] = info.run.prediction;
        r->weights_step = info.step;
    }
    if (rc == DDPM_OK) {
        r->B = job->B;
        ddpm_net_config_shape(ddpm_net_get_config(net[0]), &r->C, &r->H, &r->W);
        r->per = (size_t)r->C * r->H * r->W;
        for (int i = 1; i < job->n_sides && rc == DDPM_OK; i++) {
            int C, H, W;
            ddpm_net_config_shape(ddpm_net_get_config(net[i]), &C, &H, &W);
            if (C != r->C || H != r->H || W != r->W)
                rc = ddpm_fail(&err, "A's model makes %dx%dx%d images and B's %dx%dx%d: they cannot share x_T", r->C,
                               r->H, r->W, C, H, W);
        }
        /* a side on A's network shares A's workspaces; a second network's are
         * freed as soon as a job does not need them (they are tens of MB) */
        for (int i = 1; i < VIZ_MAX_SIDES; i++)
            if (i >= job->n_sides || net[i] == net[0])
                for (int th = 0; th < 2; th++) {
                    ddpm_net_workspace_free(s->ws[i][th]);
                    s->ws[i][th] = NULL;
                    s->ws_net[i][th] = NULL;
                }
        for (int i = 0; i < job->n_sides && rc == DDPM_OK; i++) {
            if (i > 0 && net[i] == net[0]) continue;
            rc = ensure_workspace(s, i, 0, net[i], job->B, &err);
            if (rc == DDPM_OK && job->threads > 1 && job->B > 1) rc = ensure_workspace(s, i, 1, net[i], job->B, &err);
        }
    }
    ddpm_schedule sched[VIZ_MAX_SIDES];
    memset(sched, 0, sizeof sched);
    for (int i = 0; i < job->n_sides && rc == DDPM_OK; i++) {
        rc = ddpm_schedule_init(&sched[i], &job->sides[i].schedule, &err);
        if (rc == DDPM_OK) rc = ddpm_sampler_config_validate(&job->sides[i].cfg, sched[i].T, &err);
        if (rc == DDPM_OK && job->start_t > 0 && (r->B != 1 || job->n_sides != 1 || r->per > VIZ_ROUNDTRIP_PER))
            rc = ddpm_fail(&err, "a round trip is one image of at most %d values", VIZ_ROUNDTRIP_PER);
        if (rc == DDPM_OK)
            rc = traj_alloc(&r->traj[i], &job->sides[i], &sched[i], r->B, r->per, job->start_t, &err);
        /* frame 0 is x_T, the same for both sides: readable before any step */
        if (rc == DDPM_OK && job->start_t > 0) /* a round trip: the noised digit */
            memcpy(r->traj[i].x_t, job->x_start, sizeof(float) * r->per);
        else if (rc == DDPM_OK)
            ddpm_sample_initial_noise(job->seed, job->first_index, r->B, r->per, r->traj[i].x_t);
    }
    if (rc != DDPM_OK) {
        r->state = VIZ_JOB_FAILED;
        viz_copy_str(r->error, sizeof r->error, err.msg);
    }

    /* publish: from now on the UI may read frame 0 */
    SDL_LockMutex(s->lock);
    viz_result *old = s->latest;
    s->latest = r;
    SDL_UnlockMutex(s->lock);
    viz_result_release(old);
    if (s->notify) s->notify(s->notify_ctx);

    if (rc == DDPM_OK) {
        /* two threads split the batch when asked (nobody else computes);
         * the locked noise makes the halves identical to one whole batch */
        const bool split = job->threads > 1 && r->B > 1;
        const bool hold = job->hold != NULL;
        if (hold) job->hold(job->hold_ctx, split ? 2 : 1, true);
        float *x0 = malloc(sizeof(float) * (size_t)r->B * r->per);
        viz_job_state state = x0 ? VIZ_JOB_DONE : VIZ_JOB_FAILED;
        char msg[256];
        viz_copy_str(msg, sizeof msg, x0 ? "" : "out of memory");
        for (int i = 0; i < job->n_sides && state == VIZ_JOB_DONE; i++) {
            half_run h[2];
            memset(h, 0, sizeof h);
            const int n0 = split ? r->B / 2 : r->B;
            const int wsi = i > 0 && net[i] == net[0] ? 0 : i;
            for (int j = 0; j < (split ? 2 : 1); j++) {
                h[j] = (half_run){.s = s, .r = r, .side = i, .b0 = j ? n0 : 0, .nb = j ? r->B - n0 : n0,
                                  .other = split ? &h[1 - j] : NULL, .sched = &sched[i],
                                  .den = {net[i], weights[i], s->ws[wsi][j]},
                                  .x0 = x0 + (size_t)(j ? n0 : 0) * r->per};
            }
            SDL_Thread *helper = split ? SDL_CreateThread(half_main, "ddpm-sampler-2", &h[1]) : NULL;
            if (split && !helper) { /* no second thread: do both halves here */
                run_half(&h[0]);
                if (h[0].rc == DDPM_OK) run_half(&h[1]);
                else h[1].rc = DDPM_OK;
            } else {
                run_half(&h[0]);
                if (helper) SDL_WaitThread(helper, NULL);
            }
            const int failed = h[0].rc != DDPM_OK ? 0 : (split && h[1].rc != DDPM_OK) ? 1 : -1;
            if (failed >= 0) {
                SDL_LockMutex(s->lock);
                const bool cancelled = s->has_pending || atomic_load(&s->quit);
                SDL_UnlockMutex(s->lock);
                state = cancelled ? VIZ_JOB_CANCELLED : VIZ_JOB_FAILED;
                viz_copy_str(msg, sizeof msg, cancelled ? "" : h[failed].err.msg);
            }
        }
        free(x0);
        if (hold) job->hold(job->hold_ctx, split ? 2 : 1, false);
        finish(s, r, state, t0, msg[0] ? msg : NULL);
    } else {
        finish(s, r, VIZ_JOB_FAILED, t0, NULL); /* r->error was set before publishing */
    }
    for (int i = 0; i < VIZ_MAX_SIDES; i++) ddpm_schedule_free(&sched[i]);
    free(live_copy);
    if (s->notify) s->notify(s->notify_ctx);
}

static int sampler_main(void *arg)
{
    viz_sampler *s = arg;
    SDL_LockMutex(s->lock);
    while (!atomic_load(&s->quit)) {
        if (!s->has_pending) {
            SDL_CondBroadcast(s->idle);
            SDL_CondWait(s->wake, s->lock);
            continue;
        }
        viz_job job = s->pending;
        uint64_t id = s->pending_id;
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

/* ---- the UI's side -------------------------------------------------------------------------- */

int viz_sampler_start(viz_sampler **out, viz_weights *live, void (*notify)(void *), void *ctx,
                      ddpm_error *err)
{
    *out = NULL;
    viz_sampler *s = calloc(1, sizeof *s);
    if (!s) return ddpm_fail(err, "out of memory");
    atomic_init(&s->quit, false);
    s->live = live;
    s->notify = notify;
    s->notify_ctx = ctx;
    s->lock = SDL_CreateMutex();
    s->wake = SDL_CreateCond();
    s->idle = SDL_CreateCond();
    if (s->lock && s->wake && s->idle) s->thread = SDL_CreateThread(sampler_main, "ddpm-sampler", s);
    if (!s->thread) {
        ddpm_fail(err, "cannot start the sampler thread: %s", SDL_GetError());
        if (s->idle) SDL_DestroyCond(s->idle);
        if (s->wake) SDL_DestroyCond(s->wake);
        if (s->lock) SDL_DestroyMutex(s->lock);
        free(s);
        return DDPM_ERR;
    }
    *out = s;
    return DDPM_OK;
}

void viz_sampler_stop(viz_sampler *s)
{
    if (!s) return;
    SDL_LockMutex(s->lock);
    atomic_store(&s->quit, true);
    SDL_CondSignal(s->wake);
    SDL_UnlockMutex(s->lock);
    SDL_WaitThread(s->thread, NULL);
    viz_result_release(s->latest);
    free_workspaces(s, NULL);
    ddpm_net_free(s->live_net);
    SDL_DestroyCond(s->idle);
    SDL_DestroyCond(s->wake);
    SDL_DestroyMutex(s->lock);
    free(s);
}

uint64_t viz_sampler_submit(viz_sampler *s, const viz_job *job)
{
    DDPM_ASSERT(job->n_sides >= 1 && job->n_sides <= VIZ_MAX_SIDES);
    DDPM_ASSERT(job->B >= 1 && job->B <= VIZ_POINTS_N && job->focus >= 0 && job->focus < job->B);
    SDL_LockMutex(s->lock);
    s->pending = *job;
    s->has_pending = true; /* the running job sees this at its next step and stops */
    uint64_t id = ++s->next_id;
    s->pending_id = id;
    SDL_CondSignal(s->wake);
    SDL_UnlockMutex(s->lock);
    return id;
}

viz_result *viz_sampler_acquire(viz_sampler *s)
{
    SDL_LockMutex(s->lock);
    viz_result *r = s->latest;
    if (r) atomic_fetch_add(&r->refs, 1);
    SDL_UnlockMutex(s->lock);
    return r;
}

void viz_sampler_progress(viz_sampler *s, const viz_result *r, viz_progress *p)
{
    SDL_LockMutex(s->lock);
    memcpy(p->done, r->done, sizeof p->done);
    p->state = r->state;
    p->seconds = r->state == VIZ_JOB_RUNNING ? 0.0 : r->seconds;
    snprintf(p->error, sizeof p->error, "%s", r->error);
    SDL_UnlockMutex(s->lock);
}

bool viz_sampler_wait_idle(viz_sampler *s, double timeout_s)
{
    const double deadline = ddpm_now() + timeout_s;
    SDL_LockMutex(s->lock);
    while (s->has_pending || s->running) {
        double left = deadline - ddpm_now();
        if (left <= 0) break;
        SDL_CondWaitTimeout(s->idle, s->lock, (Uint32)(left * 1000.0) + 1);
    }
    bool idle = !s->has_pending && !s->running;
    SDL_UnlockMutex(s->lock);
    return idle;
}

bool viz_sampler_busy(viz_sampler *s)
{
    SDL_LockMutex(s->lock);
    bool busy = s->has_pending || s->running;
    SDL_UnlockMutex(s->lock);
    return busy;
}
