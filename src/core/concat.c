/* concat.c: channel concatenation for the UNet's skip connections.  In NCHW a
 * sample's channels are one contiguous run, so each sample is two copies. */
#include "ddpm/common.h"
#include "ddpm/layers.h"

#include <string.h>

void ddpm_concat_forward(float *out,     /* (B, C1 + C2, HW) */
                         const float *a, /* (B, C1, HW) */
                         const float *b, /* (B, C2, HW) */
                         int B, int C1, int C2, int HW)
{
    DDPM_ASSERT(out && a && b && B > 0 && C1 >= 0 && C2 >= 0 && HW > 0);
    const size_t na = (size_t)C1 * HW, nb = (size_t)C2 * HW;
    for (int s = 0; s < B; s++) {
        float *dst = out + (size_t)s * (na + nb);
        memcpy(dst, a + (size_t)s * na, sizeof(float) * na);
        memcpy(dst + na, b + (size_t)s * nb, sizeof(float) * nb);
    }
}

/* dst[i] += src[i] */
static void add_into(float *restrict dst, const float *restrict src, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] += src[i];
}

void ddpm_concat_backward(float *da,         /* (B, C1, HW) or NULL */
                          float *db,         /* (B, C2, HW) or NULL */
                          const float *dout, /* (B, C1 + C2, HW) */
                          int B, int C1, int C2, int HW)
{
    DDPM_ASSERT(dout && B > 0 && C1 >= 0 && C2 >= 0 && HW > 0);
    const size_t na = (size_t)C1 * HW, nb = (size_t)C2 * HW;
    for (int s = 0; s < B; s++) {
        const float *src = dout + (size_t)s * (na + nb);
        if (da) add_into(da + (size_t)s * na, src, na);
        if (db) add_into(db + (size_t)s * nb, src + na, nb);
    }
}
