/* elementwise.c: the residual add and the per-(sample, channel) broadcast add
 * that injects the time embedding into a channels-last feature map.  Forward outputs may
 * alias their inputs (the header allows it), so no pointer here is restrict. */
#include "ddpm/common.h"
#include "ddpm/layers.h"
#include "simd.h"

DDPM_VECTORIZE
void ddpm_add_forward(float *out,     /* (n) */
                      const float *a, /* (n) */
                      const float *b, /* (n) */
                      size_t n)
{
    DDPM_ASSERT(n == 0 || (out && a && b));
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

DDPM_VECTORIZE
void ddpm_add_backward(float *da,         /* (n) or NULL */
                       float *db,         /* (n) or NULL */
                       const float *dout, /* (n) */
                       size_t n)
{
    DDPM_ASSERT(n == 0 || dout);
    if (da)
        for (size_t i = 0; i < n; i++) da[i] += dout[i];
    if (db)
        for (size_t i = 0; i < n; i++) db[i] += dout[i];
}

DDPM_VECTORIZE
void ddpm_channel_add_forward(float *out,        /* (B, HW, C) */
                              const float *inp,  /* (B, HW, C) */
                              const float *bias, /* (B, C) */
                              int B, int HW, int C)
{
    DDPM_ASSERT(out && inp && bias && B > 0 && C > 0 && HW > 0);
    for (int b = 0; b < B; b++) {
        const float *v = bias + (size_t)b * C;
        for (int p = 0; p < HW; p++) {
            const size_t row = ((size_t)b * HW + p) * C;
            for (int c = 0; c < C; c++) out[row + c] = inp[row + c] + v[c];
        }
    }
}

DDPM_VECTORIZE
void ddpm_channel_add_backward(float *dinp,       /* (B, HW, C) or NULL */
                               float *dbias,      /* (B, C) or NULL */
                               const float *dout, /* (B, HW, C) */
                               int B, int HW, int C)
{
    DDPM_ASSERT(dout && B > 0 && C > 0 && HW > 0);
    if (dinp) ddpm_add_backward(dinp, NULL, dout, (size_t)B * HW * C);
    if (!dbias) return;
    /* per sample, the sum over pixels in double, 256 channels at a time */
    for (int b = 0; b < B; b++)
        for (int c0 = 0; c0 < C; c0 += 256) {
            const int m = C - c0 < 256 ? C - c0 : 256;
            double sum[256] = {0};
            const float *row = dout + (size_t)b * HW * C + c0;
            for (int p = 0; p < HW; p++, row += C)
                for (int j = 0; j < m; j++) sum[j] += row[j];
            for (int j = 0; j < m; j++) dbias[(size_t)b * C + c0 + j] += (float)sum[j];
        }
}
