/* sampler_thread.h: reverse trajectories computed off the UI thread.
 *
 *   viz_sampler *s;
 *   viz_sampler_start(&s, live_weights, notify, ctx, &err);
 *   viz_sampler_submit(s, &job);            // a newer job cancels the running one
 *   ... each UI frame ...
 *   viz_result *r = viz_sampler_acquire(s); // the newest started job, or NULL
 *   viz_progress p;  viz_sampler_progress(s, r, &p);
 *   frames 0..p.done[i] of r->traj[i] are complete and never change again
 *   viz_result_release(r);
 *   viz_sampler_stop(s);                    // quit flag, wake, join
 *
 * A job has one or two sides (configurations: the comparison view) sampled
 * from the same seed and first index, so both start from the same x_T and
 * draw the same per-step noise (ddpm/sampler.h, locked noise), each with its
 * own model (the same one, or two: the comparison of models; both must make
 * images of one shape).  Frames
 * appear progressively: after reverse step k of side i, done[i] = k + 1.
 *
 * Ownership.  A viz_result is reference counted: the sampler holds one
 * reference to the newest result, and each viz_sampler_acquire adds one
 * that viz_result_release drops; the last release frees it, on whichever
 * thread.  The weights of a fixed model (job.model[i].net, .weights) are borrowed
 * and must outlive the sampler; live weights are copied from the trainer's
 * double buffer when the job starts.
 */
#ifndef VIZ_SAMPLER_THREAD_H
#define VIZ_SAMPLER_THREAD_H

#include <stdatomic.h>

#include "ddpm/sampler.h"
#include "ddpm/net.h"
#include "viz_params.h"
#include "weights_buffer.h"

/* The model of one side. */
typedef struct viz_job_model {
    const ddpm_net *net;       /* a fixed model, or NULL for the live weights */
    const float *weights;
    ddpm_prediction pred;      /* of the fixed model; live weights carry their own */
} viz_job_model;

enum { VIZ_ROUNDTRIP_PER = 28 * 28 };

typedef struct viz_job {
    viz_job_model model[VIZ_MAX_SIDES]; /* each side's (the comparison of models: two) */
    viz_weights *live;         /* the live weights (NULL: the sampler's own, from start) */
    int n_sides;               /* 1 or 2 */
    bool by_level;             /* the UI aligns the sides by alpha_bar (two models of different schedules) */
    viz_side sides[VIZ_MAX_SIDES];
    uint64_t seed;
    int64_t first_index;       /* the locked-noise index of the first image */
    int B;                     /* images, 1..VIZ_GRID_N, or VIZ_POINTS_N points */
    int focus;                 /* the image (0..B-1) whose step terms are kept */
    int threads;               /* 1, or 2 to split the batch over two threads (when
                                  nothing else computes, e.g. training is paused) */
    /* Called (on the sampler thread) with true before the job computes and with
     * false after, with the threads it computes on: e.g. viz_trainer_yield so
     * that the two halves of a split batch have the cores to themselves, or
     * viz_trainer_lend for one core; NULL for none. */
    void (*hold)(void *ctx, int threads, bool on);
    void *hold_ctx;
    int64_t snap_step;         /* a snapshot of the live training (the scrubber): its step, */
    double snap_seconds;       /* and its seconds of training; else snap_step = -1 */
    /* a round trip (SDEdit): the run starts at start_t (> 0) from x_start, one
     * image of at most VIZ_ROUNDTRIP_PER floats (B = 1, one side); 0: from T */
    int start_t;
    float x_start[VIZ_ROUNDTRIP_PER];
} viz_job;

/* One side's trajectory.  S reverse steps, B images of per floats. */
typedef struct viz_traj {
    int S;
    int *t;                    /* (S + 1) the timestep of frame k; t[S] = -1 (clean) */
    double *abar;              /* (S + 1) its alpha_bar in the side's schedule (1 when clean) */
    float *x_t;                /* (S + 1, B, per) frame k: the input of step k; frame S: x_0 */
    float *x0_hat;             /* (S, B, per) the prediction of x_0 at step k */
    float *x0_term;            /* (S, per) sqrt(ab_prev) x0_hat of image `focus` */
    float *dir_term;           /* (S, per) the direction pointing to x_t */
    float *noise_term;         /* (S, per) sigma_t z */
    ddpm_step_coefs *coefs;    /* (S) */
} viz_traj;

typedef enum { VIZ_JOB_RUNNING, VIZ_JOB_DONE, VIZ_JOB_CANCELLED, VIZ_JOB_FAILED } viz_job_state;

typedef struct viz_result {
    atomic_int refs;
    uint64_t id;               /* what viz_sampler_submit returned */
    viz_job job;
    int B, C, H, W;
    size_t per;                /* C * H * W */
    ddpm_prediction pred[VIZ_MAX_SIDES]; /* what each side's weights predict */
    int64_t weights_step;      /* live weights: their training step; -1 for a fixed model */
    viz_traj traj[VIZ_MAX_SIDES];
    /* guarded by the sampler's lock; read them with viz_sampler_progress */
    int done[VIZ_MAX_SIDES];
    viz_job_state state;
    double seconds;
    char error[256];
} viz_result;

typedef struct viz_progress {
    int done[VIZ_MAX_SIDES];
    viz_job_state state;
    double seconds;            /* wall time of the job so far / in all */
    char error[256];
} viz_progress;

typedef struct viz_sampler viz_sampler;

/* live may be NULL (then jobs need a fixed model).  notify, if not NULL, is
 * called from the sampler thread after every step (it must be thread-safe). */
int viz_sampler_start(viz_sampler **out, viz_weights *live, void (*notify)(void *), void *ctx,
                      ddpm_error *err);
/* Cancels the running job, joins the thread and drops the sampler's reference. */
void viz_sampler_stop(viz_sampler *s);

/* Queues job (copied); a job that has not started yet is replaced, a running
 * one is cancelled at its next step.  Returns the job's id (1, 2, ...). */
uint64_t viz_sampler_submit(viz_sampler *s, const viz_job *job);

/* The newest result (a new reference), or NULL before the first job starts. */
viz_result *viz_sampler_acquire(viz_sampler *s);
void viz_result_release(viz_result *r);

void viz_sampler_progress(viz_sampler *s, const viz_result *r, viz_progress *p);

/* Waits until no job is queued or running, up to timeout_s; true when idle. */
bool viz_sampler_wait_idle(viz_sampler *s, double timeout_s);
/* True when a job is queued or running. */
bool viz_sampler_busy(viz_sampler *s);

#endif
