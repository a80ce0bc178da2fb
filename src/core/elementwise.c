/* elementwise.c: the residual add and the per-(sample, channel) broadcast add
 * that injects the time embedding into a feature map.  Forward outputs may
 * alias their inputs (the header allows it), so no pointer here is restrict. */
#include "ddpm/common.h"
#include "ddpm/layers.h"

void ddpm_add_forward(float *out,     /* (n) */
                      const float *a, /* (n) */
                      const float *b, /* (n) */
                      size_t n)
{
    DDPM_ASSERT(n == 0 || (out && a && b));
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

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

void ddpm_channel_add_forward(float *out,        /* (B, C, HW) */
                              const float *inp,  /* (B, C, HW) */
                              const float *bias, /* (B, C) */
                              int B, int C, int HW)
{
    DDPM_ASSERT(out && inp && bias && B > 0 && C > 0 && HW > 0);
    const size_t planes = (size_t)B * C;
    for (size_t pl = 0; pl < planes; pl++) {
        const float *src = inp + pl * HW;
        float *dst = out + pl * HW;
        const float v = bias[pl];
        for (int i = 0; i < HW; i++) dst[i] = src[i] + v;
    }
}

void ddpm_channel_add_backward(float *dinp,       /* (B, C, HW) or NULL */
                               float *dbias,      /* (B, C) or NULL */
                               const float *dout, /* (B, C, HW) */
                               int B, int C, int HW)
{
    DDPM_ASSERT(dout && B > 0 && C > 0 && HW > 0);
    const size_t planes = (size_t)B * C;
    for (size_t pl = 0; pl < planes; pl++) {
        const float *src = dout + pl * HW;
        if (dinp) {
            float *dst = dinp + pl * HW;
            for (int i = 0; i < HW; i++) dst[i] += src[i];
        }
        if (dbias) {
            double sum = 0.0;
            for (int i = 0; i < HW; i++) sum += src[i];
            dbias[pl] += (float)sum;
        }
    }
}
