/* ddpm/optim.h: Adam/AdamW with warmup and global gradient-norm clipping,
 * and the exponential moving average of the weights.
 *
 *   ddpm_adam_config ac = ddpm_adam_config_default();
 *   ddpm_adam opt;  ddpm_adam_init(&opt, n_params, &ac, &err);
 *   ... grads computed ...
 *   double norm = ddpm_adam_step(&opt, params, grads);  // clips grads in place
 *   ddpm_ema_update(ema, params, n_params, ddpm_ema_decay_at(0.999, DDPM_EMA_WARMUP_DEFAULT, opt.step));
 *   ddpm_adam_free(&opt);
 *
 * m and v live in one allocation owned by the ddpm_adam.
 */
#ifndef DDPM_OPTIM_H
#define DDPM_OPTIM_H

#include "ddpm/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ddpm_adam_config {
    double lr;            /* peak learning rate */
    double beta1, beta2, eps;
    double weight_decay;  /* decoupled (AdamW, Loshchilov & Hutter 2019); 0 = plain Adam */
    int warmup_steps;     /* linear warmup of the learning rate over these steps */
    int64_t decay_steps;  /* then a cosine decay from lr to lr * final_lr over these steps, and
                             lr * final_lr after them; 0 = no decay (constant lr) */
    double final_lr;      /* 0..1: where the decay ends, as a fraction of lr */
    double grad_clip;     /* clip the global L2 norm to this; 0 = off */
} ddpm_adam_config;

/* lr 1e-3, betas 0.9/0.999, eps 1e-8, no weight decay, 100 warmup steps, no
 * decay (final_lr 0.1 when one is set), clip 1. */
ddpm_adam_config ddpm_adam_config_default(void);
int ddpm_adam_config_validate(const ddpm_adam_config *cfg, ddpm_error *err);

typedef struct ddpm_adam {
    ddpm_adam_config cfg;
    size_t n;
    float *m, *v;         /* (n) each, one allocation */
    int64_t step;         /* steps taken so far */
} ddpm_adam;

int ddpm_adam_init(ddpm_adam *opt, size_t n, const ddpm_adam_config *cfg, ddpm_error *err);
void ddpm_adam_free(ddpm_adam *opt);

/* The learning rate of step number `step` (0-based): linear warmup to lr,
 * then the cosine decay (Loshchilov & Hutter 2017, SGDR eq. 5, one cycle):
 *   lr_s = lr (f + (1 - f) (1 + cos(pi s' / D)) / 2),  s' = step - warmup < D. */
double ddpm_adam_lr_at(const ddpm_adam_config *cfg, int64_t step);

/* L2 norm of g, accumulated in double. */
double ddpm_global_norm(const float *g, size_t n);

/* One AdamW step (Kingma & Ba 2015, Algorithm 1, with bias correction;
 * decoupled weight decay as torch.optim.AdamW).  Clips grads in place to
 * cfg.grad_clip first.  Returns the gradient norm before clipping. */
double ddpm_adam_step(ddpm_adam *opt, float *params, float *grads);

/* ema = decay * ema + (1 - decay) * params */
void ddpm_ema_update(float *ema, const float *params, size_t n, double decay);
/* The decay used at optimizer step `step`: min(max_decay, (1 + step) / (warmup + step)),
 * so that early in training the average is not dominated by the random init
 * (warmup 10: the warm-up of diffusers' EMAModel; a larger one averages over
 * more of a short run's steps). */
#define DDPM_EMA_WARMUP_DEFAULT 10.0
double ddpm_ema_decay_at(double max_decay, double warmup, int64_t step);

#ifdef __cplusplus
}
#endif
#endif
