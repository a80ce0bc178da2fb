/* ema.c: the exponential moving average of the weights that sampling uses. */
#include "ddpm/optim.h"

void ddpm_ema_update(float *ema, const float *params, size_t n, double decay)
{
    const float d = (float)decay, one_minus = (float)(1.0 - decay);
    for (size_t i = 0; i < n; i++) ema[i] = d * ema[i] + one_minus * params[i];
}

double ddpm_ema_decay_at(double max_decay, double warmup, int64_t step)
{
    /* the warmup of diffusers' EMAModel (use_ema_warmup off) is (1 + s) / (10 + s) */
    double warm = (1.0 + (double)step) / (warmup + (double)step);
    return warm < max_decay ? warm : max_decay;
}
