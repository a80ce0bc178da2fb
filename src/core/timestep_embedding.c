/* timestep_embedding.c: the sinusoidal embedding of the diffusion step t
 * (Vaswani et al. 2017 sec. 3.5, as used by DDPM's UNet):
 *   freq_i = exp(-ln(max_period) * i / half),  half = dim / 2,
 *   out[b, i] = sin(t_b freq_i),  out[b, half + i] = cos(t_b freq_i).
 * Computed in double: t freq_i reaches ~1000 rad, where a float argument
 * would already be off by ~1e-4. */
#include "ddpm/common.h"
#include "ddpm/layers.h"

#include <math.h>
#include <string.h>

void ddpm_timestep_embedding_forward(float *out,   /* (B, dim) */
                                     const int *t, /* (B) */
                                     int B, int dim, float max_period)
{
    DDPM_ASSERT(out && t && B > 0 && dim > 0 && dim % 2 == 0 && max_period > 0.0f);
    const int half = dim / 2;
    const double log_period = log((double)max_period);
    for (int b = 0; b < B; b++) {
        float *row = out + (size_t)b * dim;
        if (b > 0 && t[b] == t[b - 1]) { /* a sampler's batch: one t for all */
            memcpy(row, row - dim, sizeof(float) * (size_t)dim);
            continue;
        }
        for (int i = 0; i < half; i++) {
            const double arg = (double)t[b] * exp(-log_period * i / half);
            row[i] = (float)sin(arg);
            row[half + i] = (float)cos(arg);
        }
    }
}
