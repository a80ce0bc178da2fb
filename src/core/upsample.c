/* upsample.c: nearest-neighbour x2 upsampling, each input pixel copied to a
 * 2x2 block; backward sums each block back onto its pixel. */
#include "ddpm/common.h"
#include "ddpm/layers.h"

void ddpm_upsample2x_forward(float *out,       /* (B, C, 2H, 2W) */
                             const float *inp, /* (B, C, H, W) */
                             int B, int C, int H, int W)
{
    DDPM_ASSERT(out && inp && B > 0 && C > 0 && H > 0 && W > 0);
    const size_t planes = (size_t)B * C;
    for (size_t pl = 0; pl < planes; pl++) {
        const float *src = inp + pl * H * W;
        float *dst = out + pl * 4 * H * W;
        for (int h = 0; h < H; h++) {
            const float *srow = src + (size_t)h * W;
            float *top = dst + (size_t)(2 * h) * (2 * W);
            float *bottom = top + 2 * W;
            for (int w = 0; w < W; w++) top[2 * w] = top[2 * w + 1] = srow[w];
            for (int w = 0; w < 2 * W; w++) bottom[w] = top[w];
        }
    }
}

void ddpm_upsample2x_backward(float *dinp,       /* (B, C, H, W) or NULL */
                              const float *dout, /* (B, C, 2H, 2W) */
                              int B, int C, int H, int W)
{
    if (!dinp) return;
    DDPM_ASSERT(dout && B > 0 && C > 0 && H > 0 && W > 0);
    const size_t planes = (size_t)B * C;
    for (size_t pl = 0; pl < planes; pl++) {
        float *dst = dinp + pl * H * W;
        const float *src = dout + pl * 4 * H * W;
        for (int h = 0; h < H; h++) {
            float *drow = dst + (size_t)h * W;
            const float *top = src + (size_t)(2 * h) * (2 * W);
            const float *bottom = top + 2 * W;
            for (int w = 0; w < W; w++)
                drow[w] += (top[2 * w] + top[2 * w + 1]) + (bottom[2 * w] + bottom[2 * w + 1]);
        }
    }
}
