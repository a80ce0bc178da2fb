/* dropout.c: inverted dropout (Srivastava et al. 2014; the 1/(1-p) scaling at
 * training time means inference needs no rescaling).  An element is dropped
 * when ddpm_rng_uniform(rng) < p, one draw per element in order, so a seeded
 * stream gives the same mask on every run. */
#include "ddpm/common.h"
#include "ddpm/layers.h"

#include <string.h>
#include "simd.h"

/* The kept elements' scale; forward and backward must agree exactly. */
static float keep_scale(float p)
{
    DDPM_ASSERT(p >= 0.0f && p < 1.0f);
    return 1.0f / (1.0f - p);
}

void ddpm_dropout_forward(float *out,       /* (n) */
                          uint8_t *mask,    /* (n) 1 = kept, saved for backward */
                          const float *inp, /* (n) */
                          float p, ddpm_rng *rng, size_t n)
{
    const float scale = keep_scale(p);
    if (n == 0) return;
    DDPM_ASSERT(out && mask && inp);
    if (p == 0.0f) { /* nothing is dropped: an exact copy, and no draws spent */
        memcpy(out, inp, sizeof(float) * n);
        memset(mask, 1, n);
        return;
    }
    DDPM_ASSERT(rng);
    for (size_t i = 0; i < n; i++) {
        const uint8_t keep = ddpm_rng_uniform(rng) >= (double)p;
        mask[i] = keep;
        out[i] = keep ? inp[i] * scale : 0.0f;
    }
}

DDPM_VECTORIZE
void ddpm_dropout_backward(float *dinp,          /* (n) or NULL */
                           const float *dout,    /* (n) */
                           const uint8_t *mask,  /* (n) */
                           float p, size_t n)
{
    const float scale = keep_scale(p);
    if (!dinp) return;
    DDPM_ASSERT(n == 0 || (dout && mask));
    for (size_t i = 0; i < n; i++) dinp[i] += mask[i] ? dout[i] * scale : 0.0f;
}
