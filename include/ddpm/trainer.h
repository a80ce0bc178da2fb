/* ddpm/trainer.h: one diffusion training run: weights, EMA, AdamW state and
 * the fixed buffers of a step.
 *
 *   ddpm_trainer *tr;
 *   ddpm_trainer_create(&tr, &run, &dataset, &err);            // or _resume
 *   while (ddpm_trainer_step_count(tr) < run.total_steps) {
 *       ddpm_train_stats st;
 *       if (ddpm_trainer_step(tr, &st, &err) != 0) break;       // NaN/Inf: weights untouched
 *   }
 *   ddpm_trainer_save(tr, "run/ckpt.safetensors", &err);
 *   ddpm_trainer_free(tr);
 *
 * A step (Ho et al. 2020, Algorithm 1, with the target of the prediction
 * type): draw the batch of step s from the dataset's epoch order, t ~ U{0..T-1}
 * and eps ~ N(0, I) from the stream (seed, s); x_t = q_sample(x0, t, eps);
 * loss = MSE(model(x_t, t), target); backward; clip; AdamW; EMA.  Everything
 * random depends only on (seed, step), so a resumed run repeats exactly what
 * an uninterrupted one does.  All memory is allocated at creation; a step
 * allocates nothing.  The dataset is borrowed and must outlive the trainer.
 */
#ifndef DDPM_TRAINER_H
#define DDPM_TRAINER_H

#include "ddpm/checkpoint.h"
#include "ddpm/config.h"
#include "ddpm/dataset.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ddpm_trainer ddpm_trainer;

/* A batch loss above this stops training as diverged (see trainer.c). */
#define DDPM_TRAIN_DIVERGED_LOSS 10.0

typedef struct ddpm_train_stats {
    int64_t step;              /* steps done, after this one */
    double loss;               /* mean MSE over the batch */
    double grad_norm;          /* global norm before clipping */
    double lr;                 /* learning rate used */
    int batch;
    const int *t;              /* (batch) timesteps drawn; valid until the next step */
    const float *sample_loss;  /* (batch) per-sample MSE; valid until the next step */
} ddpm_train_stats;

/* The smoothed training loss, defined once: what `ddpm train` prints and
 * writes to loss.csv, and what the visualizer's header and loss plot show.
 * An exponential moving average over about DDPM_LOSS_WINDOW steps with
 * Adam's bias correction (Kingma & Ba 2015, sec. 3), so it starts at the
 * first loss instead of at 0 and follows a fast early drop within about a
 * window (a 50-step window lagged the raw loss by 2x at step 105). */
#define DDPM_LOSS_WINDOW 20
typedef struct ddpm_loss_smoother {
    double acc;                /* the average before bias correction */
    int64_t n;                 /* losses added */
} ddpm_loss_smoother;
/* Adds one step's loss; returns the smoothed value. */
double ddpm_loss_smooth_add(ddpm_loss_smoother *s, double loss);
/* Continues from a smoothed value (a resumed run's last loss.csv row). */
void ddpm_loss_smooth_resume(ddpm_loss_smoother *s, double smoothed);

/* A fresh run: weights initialised from run->seed. */
int ddpm_trainer_create(ddpm_trainer **out, const ddpm_run_config *run, const ddpm_dataset *data,
                        ddpm_error *err);

/* Continues from a checkpoint.  With the optimizer state (a training
 * checkpoint) the run resumes exactly; with weights only (a bundled model)
 * it fine-tunes from them with fresh Adam moments.  `run` may override the
 * training setup (steps, lr, batch); the network and the diffusion settings
 * come from the checkpoint (NULL: everything from the checkpoint). */
int ddpm_trainer_resume(ddpm_trainer **out, const ddpm_checkpoint *ck, const ddpm_run_config *run,
                        const ddpm_dataset *data, ddpm_error *err);

void ddpm_trainer_free(ddpm_trainer *tr);

/* One optimizer step.  A non-finite loss or gradient, or a loss above
 * DDPM_TRAIN_DIVERGED_LOSS, is DDPM_ERR and leaves the weights, EMA and
 * optimizer state as they were. */
int ddpm_trainer_step(ddpm_trainer *tr, ddpm_train_stats *stats, ddpm_error *err);

/* Computes on at most n threads from the next pass on (n <= 0: all);
 * ddpm_net_workspace_limit_threads.  Safe from any thread. */
void ddpm_trainer_limit_threads(ddpm_trainer *tr, int n);

/* Saves weights, EMA and optimizer state (atomic). */
int ddpm_trainer_save(const ddpm_trainer *tr, const char *path, ddpm_error *err);
/* Saves only the EMA weights: a small model for sampling and for bundling. */
int ddpm_trainer_export(const ddpm_trainer *tr, const char *path, ddpm_error *err);

int64_t ddpm_trainer_step_count(const ddpm_trainer *tr);
const ddpm_run_config *ddpm_trainer_run(const ddpm_trainer *tr);
const ddpm_net *ddpm_trainer_net(const ddpm_trainer *tr);
const ddpm_schedule *ddpm_trainer_schedule(const ddpm_trainer *tr);
const float *ddpm_trainer_params(const ddpm_trainer *tr);
const float *ddpm_trainer_ema(const ddpm_trainer *tr);
/* Bytes held: weights, gradients, EMA, Adam moments, activations, buffers. */
size_t ddpm_trainer_bytes(const ddpm_trainer *tr);

/* Replaces the weights (and EMA) in place, e.g. to inject corruption in a
 * test; n must be ddpm_net_num_params. */
void ddpm_trainer_set_params(ddpm_trainer *tr, const float *params, size_t n);

#ifdef __cplusplus
}
#endif
#endif
