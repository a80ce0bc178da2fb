/* elementwise.c: the residual add (the UNet's convs add their residual as
 * they store, conv2d.c; its backward hands the gradient on with
 * ddpm_add_backward).  Forward outputs may alias their inputs (the header
 * allows it), so no pointer here is restrict.  (The time embedding is added
 * by conv1 with its bias, per image: ddpm_conv2d_dims.bias_stride.) */
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
