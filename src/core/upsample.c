/* upsample.c: nearest-neighbour x2 upsampling, channels last: each input
 * pixel's C values are copied to a 2x2 block of pixels; backward sums each
 * block back onto its pixel. */
#include "ddpm/common.h"
#include "ddpm/layers.h"

#include <string.h>
#include "simd.h"

void ddpm_upsample2x_forward(float *out,       /* (B, 2H, 2W, C) */
                             const float *inp, /* (B, H, W, C) */
                             int B, int H, int W, int C)
{
    DDPM_ASSERT(out && inp && B > 0 && C > 0 && H > 0 && W > 0);
    const size_t rowlen = (size_t)2 * W * C; /* floats in one output row */
    for (size_t r = 0; r < (size_t)B * H; r++) {
        const float *src = inp + r * W * C;
        float *top = out + 2 * r * rowlen;
        for (int w = 0; w < W; w++) {
            memcpy(top + (size_t)(2 * w) * C, src + (size_t)w * C, sizeof(float) * (size_t)C);
            memcpy(top + (size_t)(2 * w + 1) * C, src + (size_t)w * C, sizeof(float) * (size_t)C);
        }
        memcpy(top + rowlen, top, sizeof(float) * rowlen);
    }
}

DDPM_VECTORIZE
void ddpm_upsample2x_backward(float *dinp,       /* (B, H, W, C) or NULL */
                              const float *dout, /* (B, 2H, 2W, C) */
                              int B, int H, int W, int C)
{
    if (!dinp) return;
    DDPM_ASSERT(dout && B > 0 && C > 0 && H > 0 && W > 0);
    const size_t rowlen = (size_t)2 * W * C;
    for (size_t r = 0; r < (size_t)B * H; r++) {
        float *dst = dinp + r * W * C;
        const float *top = dout + 2 * r * rowlen, *bottom = top + rowlen;
        for (int w = 0; w < W; w++) {
            const float *t0 = top + (size_t)(2 * w) * C, *t1 = t0 + C;
            const float *b0 = bottom + (size_t)(2 * w) * C, *b1 = b0 + C;
            float *d = dst + (size_t)w * C;
            for (int c = 0; c < C; c++) d[c] += (t0[c] + t1[c]) + (b0[c] + b1[c]);
        }
    }
}
