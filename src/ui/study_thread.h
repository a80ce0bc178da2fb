/* study_thread.h: the study view's grid (the seed notes' lab task 3: eta x
 * steps for one model) computed off the UI thread, cell by cell.
 *
 *   viz_study *st;
 *   viz_study_start(&st, live_weights, notify, ctx, &err);
 *   viz_study_submit(st, &job);                 // a newer job cancels the running one
 *   ... each UI frame ...
 *   viz_study_result *r = viz_study_acquire(st);   // the newest job, or NULL
 *   viz_study_cell c;  viz_study_cell_get(st, r, i, &c);
 *   if (c.shown) draw r->images + i * VIZ_STUDY_SHOW * r->per;
 *   if (c.scored) print c.q.confidence, c.q.fd / r->floor.fd;
 *   viz_study_release(r);
 *   viz_study_stop(st);
 *
 * Every cell samples images 0 .. n-1 of the job's seed with the locked noise
 * streams (ddpm/sampler.h), rounds them to bytes and scores the first n with
 * the project's classifier, exactly as `ddpm sweep MODEL --eta LIST --steps
 * LIST --score-n n --seed S` does: the two give the same numbers.  Two passes
 * make the grid fill in quickly: first the VIZ_STUDY_SHOW images every cell
 * shows, then the rest of each cell's n and its score.
 *
 * Ownership: as the sampler thread's (sampler_thread.h): results are
 * reference counted, a fixed model's network and weights are borrowed, live
 * weights are copied when the job starts.
 */
#ifndef VIZ_STUDY_THREAD_H
#define VIZ_STUDY_THREAD_H

#include <stdatomic.h>

#include "ddpm/quality.h"
#include "sampler_thread.h"

enum { VIZ_STUDY_CELLS = VIZ_STUDY_MAX * VIZ_STUDY_MAX };

typedef struct viz_study_job {
    viz_job_model model;           /* net NULL: the live weights (copied at the start) */
    viz_weights *live;
    char model_name[VIZ_MODEL_NAME_MAX];   /* as `ddpm sweep` names it in its CSV: the file name */
    char model_path[1024];         /* the file ("" for the live weights) */
    ddpm_schedule_config schedule; /* the model's own */
    ddpm_sampler_config base;      /* sampler, spacing, variance, clip; eta and steps per cell */
    uint64_t seed;
    double etas[VIZ_STUDY_MAX];    /* rows */
    int n_eta;
    int steps[VIZ_STUDY_MAX];      /* columns */
    int n_steps;
    int n_score;                   /* samples scored per cell (>= VIZ_STUDY_SHOW) */
    int threads;                   /* 1, or 2 when nothing else computes */
    void (*hold)(void *ctx, int threads, bool on);  /* as viz_job's */
    void *hold_ctx;
} viz_study_job;

typedef struct viz_study_cell {
    bool shown;                    /* its VIZ_STUDY_SHOW images are done */
    bool scored;                   /* its n are sampled and scored */
    ddpm_quality q;
    double seconds;                /* sampling its n (both passes) */
} viz_study_cell;

typedef struct viz_study_result {
    atomic_int refs;
    uint64_t id;
    viz_study_job job;
    int C, H, W;
    size_t per;
    ddpm_prediction pred;
    int64_t weights_step;          /* live weights: their step; -1 for a fixed model */
    float *images;                 /* (cells, VIZ_STUDY_SHOW, per), rounded to bytes as scored */
    /* guarded by the study's lock; read them with viz_study_cell_get / viz_study_state */
    bool scoring;                  /* a classifier scores the cells (else images only, and why in error) */
    ddpm_quality floor;            /* the real-digit floor at n_score */
    viz_study_cell cells[VIZ_STUDY_CELLS];
    viz_job_state state;
    char error[256];
} viz_study_result;

typedef struct viz_study viz_study;

int viz_study_start(viz_study **out, viz_weights *live, void (*notify)(void *), void *ctx, ddpm_error *err);
void viz_study_stop(viz_study *s);
uint64_t viz_study_submit(viz_study *s, const viz_study_job *job);
/* Stops the running job at its next step (the view was left); its result stays. */
void viz_study_cancel(viz_study *s);
viz_study_result *viz_study_acquire(viz_study *s);
void viz_study_release(viz_study_result *r);
void viz_study_cell_get(viz_study *s, const viz_study_result *r, int cell, viz_study_cell *out);
/* The job's state; error (cap bytes) gets its message when it failed or
 * cannot score; scoring and floor (each may be NULL): whether cells are
 * scored, and the real-digit floor at n (known from the scoring pass on). */
viz_job_state viz_study_state(viz_study *s, const viz_study_result *r, char *error, size_t cap, bool *scoring,
                              ddpm_quality *floor);
bool viz_study_wait_idle(viz_study *s, double timeout_s);
bool viz_study_busy(viz_study *s);

#endif
