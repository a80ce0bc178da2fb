/* activations.c: SiLU, silu(x) = x * sigmoid(x) (Elfwing, Uchibe & Doya 2018;
 * "swish" in Ramachandran et al. 2017), the nonlinearity of the DDPM UNet.
 * The loops vectorise: e^-x comes from the branch-free ddpm_fast_expf. */
#include "ddpm/common.h"
#include "ddpm/layers.h"

#include "simd.h"

/* For very negative x, e^-x overflows to +inf and the sigmoid is an exact
 * 0, which is the right limit; no NaN can appear for finite x. */
static inline __attribute__((always_inline)) float sigmoid(float x)
{
    return 1.0f / (1.0f + ddpm_fast_expf(-x));
}

DDPM_VECTORIZE
void ddpm_silu_forward(float *restrict out,      /* (n) */
                       const float *restrict inp, /* (n) */
                       size_t n)
{
    DDPM_ASSERT(n == 0 || (out && inp));
    for (size_t i = 0; i < n; i++) out[i] = inp[i] * sigmoid(inp[i]);
}

DDPM_VECTORIZE
void ddpm_silu_backward(float *restrict dinp,       /* (n) or NULL */
                        const float *restrict dout, /* (n) */
                        const float *restrict inp,  /* (n) */
                        size_t n)
{
    if (!dinp) return;
    DDPM_ASSERT(n == 0 || (dout && inp));
    for (size_t i = 0; i < n; i++) {
        /* d/dx x s(x) = s(x) + x s(x) (1 - s(x)) = s (1 + x (1 - s)) */
        const float s = sigmoid(inp[i]);
        dinp[i] += dout[i] * s * (1.0f + inp[i] * (1.0f - s));
    }
}
