/* concat.c: channel concatenation for the UNet's skip connections.  Channels
 * last, each pixel's output row is its row of a followed by its row of b. */
#include "ddpm/common.h"
#include "ddpm/layers.h"

#include <string.h>
#include "simd.h"

void ddpm_concat_forward(float *out,     /* (rows, C1 + C2) */
                         const float *a, /* (rows, C1), or NULL: already in out */
                         const float *b, /* (rows, C2) */
                         size_t rows, int C1, int C2)
{
    DDPM_ASSERT(out && b && C1 >= 0 && C2 >= 0);
    const size_t na = (size_t)C1, nb = (size_t)C2;
    for (size_t r = 0; r < rows; r++) {
        float *dst = out + r * (na + nb);
        if (a) memcpy(dst, a + r * na, sizeof(float) * na);
        memcpy(dst + na, b + r * nb, sizeof(float) * nb);
    }
}

/* dst[i] += src[i] */
DDPM_VECTORIZE
static void add_into(float *restrict dst, const float *restrict src, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] += src[i];
}

/* da (+)= the first C1 channels of dout, db (+)= the rest; written instead
 * of added to where assign_a / assign_b say so. */
void ddpm_concat_backward(float *da,         /* (rows, C1) or NULL */
                          float *db,         /* (rows, C2) or NULL */
                          const float *dout, /* (rows, C1 + C2) */
                          size_t rows, int C1, int C2, bool assign_a, bool assign_b)
{
    DDPM_ASSERT(dout && C1 >= 0 && C2 >= 0);
    const size_t na = (size_t)C1, nb = (size_t)C2;
    for (size_t r = 0; r < rows; r++) {
        const float *src = dout + r * (na + nb);
        if (da && assign_a) memcpy(da + r * na, src, sizeof(float) * na);
        else if (da) add_into(da + r * na, src, na);
        if (db && assign_b) memcpy(db + r * nb, src + na, sizeof(float) * nb);
        else if (db) add_into(db + r * nb, src + na, nb);
    }
}
