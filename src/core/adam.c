/* adam.c: AdamW with linear warmup and global-norm gradient clipping. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ddpm/optim.h"
#include "simd.h"

ddpm_adam_config ddpm_adam_config_default(void)
{
    ddpm_adam_config c = {.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8,
                          .weight_decay = 0.0, .warmup_steps = 100, .decay_steps = 0, .final_lr = 0.1,
                          .grad_clip = 1.0};
    return c;
}

int ddpm_adam_config_validate(const ddpm_adam_config *c, ddpm_error *err)
{
    if (!(c->lr > 0.0 && c->lr <= 1.0)) return ddpm_fail(err, "learning rate %g; use 0 < lr <= 1 (1e-3 is usual)", c->lr);
    if (!(c->beta1 >= 0.0 && c->beta1 < 1.0) || !(c->beta2 >= 0.0 && c->beta2 < 1.0))
        return ddpm_fail(err, "Adam betas (%g, %g) must lie in [0, 1)", c->beta1, c->beta2);
    if (!(c->eps > 0.0)) return ddpm_fail(err, "Adam eps %g must be > 0", c->eps);
    if (!(c->weight_decay >= 0.0 && c->weight_decay < 1.0))
        return ddpm_fail(err, "weight decay %g; use 0 <= wd < 1", c->weight_decay);
    if (c->warmup_steps < 0) return ddpm_fail(err, "warmup steps %d must be >= 0", c->warmup_steps);
    if (c->decay_steps < 0 || c->decay_steps > 100000000)
        return ddpm_fail(err, "decay steps %lld; use 0 (no decay) .. 100000000", (long long)c->decay_steps);
    if (!(c->final_lr >= 0.0 && c->final_lr <= 1.0))
        return ddpm_fail(err, "final learning-rate fraction %g; use 0..1", c->final_lr);
    if (!(c->grad_clip >= 0.0)) return ddpm_fail(err, "grad clip %g must be >= 0 (0 = off)", c->grad_clip);
    return DDPM_OK;
}

int ddpm_adam_init(ddpm_adam *opt, size_t n, const ddpm_adam_config *cfg, ddpm_error *err)
{
    memset(opt, 0, sizeof *opt);
    if (ddpm_adam_config_validate(cfg, err) != DDPM_OK) return DDPM_ERR;
    opt->m = calloc(2 * (n ? n : 1), sizeof(float));
    if (!opt->m) return ddpm_fail(err, "out of memory for the optimizer state (%zu floats)", 2 * n);
    opt->v = opt->m + n;
    opt->n = n;
    opt->cfg = *cfg;
    return DDPM_OK;
}

void ddpm_adam_free(ddpm_adam *opt)
{
    if (!opt) return;
    free(opt->m);
    memset(opt, 0, sizeof *opt);
}

double ddpm_adam_lr_at(const ddpm_adam_config *cfg, int64_t step)
{
    if (cfg->warmup_steps > 0 && step < cfg->warmup_steps)
        return cfg->lr * (double)(step + 1) / (double)cfg->warmup_steps;
    const int64_t s = step - cfg->warmup_steps;
    if (cfg->decay_steps <= 0) return cfg->lr;
    if (s >= cfg->decay_steps) return cfg->lr * cfg->final_lr;
    const double c = 0.5 * (1.0 + cos(3.14159265358979323846 * (double)s / (double)cfg->decay_steps));
    return cfg->lr * (cfg->final_lr + (1.0 - cfg->final_lr) * c);
}

/* Eight running sums, element i into sum i % 8, then added in order: a
 * fixed order (the same bits every time) that still vectorises. */
DDPM_VECTORIZE
double ddpm_global_norm(const float *g, size_t n)
{
    double part[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) part[k] += (double)g[i + k] * g[i + k];
    for (int k = 0; i < n; i++, k++) part[k] += (double)g[i] * g[i];
    double s = 0.0;
    for (int k = 0; k < 8; k++) s += part[k];
    return sqrt(s);
}

/* The update of every parameter; the arrays never overlap, which lets the
 * loop run whole vectors (sqrt and division are exact in either form, so
 * the bits are those of the scalar loop). */
DDPM_VECTORIZE
static void adam_update(float *restrict params, float *restrict m, float *restrict v, const float *restrict grads,
                        size_t n, float b1, float b2, float step_size, float inv_sqrt_bc2, float eps, float decay)
{
    for (size_t i = 0; i < n; i++) {
        const float g = grads[i];
        m[i] = b1 * m[i] + (1.0f - b1) * g;
        v[i] = b2 * v[i] + (1.0f - b2) * g * g;
        const float denom = sqrtf(v[i]) * inv_sqrt_bc2 + eps;
        params[i] = params[i] * decay - step_size * m[i] / denom;
    }
}

double ddpm_adam_step(ddpm_adam *opt, float *params, float *grads)
{
    const ddpm_adam_config *c = &opt->cfg;
    const size_t n = opt->n;
    double norm = ddpm_global_norm(grads, n);
    if (c->grad_clip > 0.0 && norm > c->grad_clip) {
        /* torch.nn.utils.clip_grad_norm_: scale by clip / (norm + 1e-6) */
        float scale = (float)(c->grad_clip / (norm + 1e-6));
        for (size_t i = 0; i < n; i++) grads[i] *= scale;
    }
    const double lr = ddpm_adam_lr_at(c, opt->step);
    opt->step++;
    /* Kingma & Ba, Algorithm 1, with the bias corrections folded into the step size. */
    const float b1 = (float)c->beta1, b2 = (float)c->beta2;
    const double bc1 = 1.0 - pow(c->beta1, (double)opt->step);
    const double bc2 = 1.0 - pow(c->beta2, (double)opt->step);
    const float step_size = (float)(lr / bc1);
    const float inv_sqrt_bc2 = (float)(1.0 / sqrt(bc2));
    const float eps = (float)c->eps;
    const float decay = (float)(1.0 - lr * c->weight_decay);
    adam_update(params, opt->m, opt->v, grads, n, b1, b2, step_size, inv_sqrt_bc2, eps, decay);
    return norm;
}
