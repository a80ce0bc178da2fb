/* tone.c: float images to ARGB pixels (see tone.h). */
#include "tone.h"

#include <math.h>

float viz_tone_absmax(const float *x, size_t n)
{
    float m = 0.0f;
    for (size_t i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        if (isfinite(a) && a > m) m = a;
    }
    return m;
}

static uint32_t gray(int v) { return 0xFF000000u | (uint32_t)v << 16 | (uint32_t)v << 8 | (uint32_t)v; }

void viz_tone_map(uint32_t *dst, int dst_stride, const float *src, int w, int h, viz_tone tone,
                  float m)
{
    for (int y = 0; y < h; y++) {
        uint32_t *row = dst + (size_t)y * dst_stride;
        for (int x = 0; x < w; x++) {
            float v = src[(size_t)y * w + x];
            if (!isfinite(v)) {
                row[x] = 0xFFFF0000u;
                continue;
            }
            float u; /* 0..1 */
            if (tone == VIZ_TONE_UNIT) u = (v + 1.0f) * 0.5f;
            else u = m > 0.0f ? 0.5f + 0.5f * v / m : 0.5f;
            u = u < 0.0f ? 0.0f : u > 1.0f ? 1.0f : u;
            row[x] = gray((int)lrintf(u * 255.0f));
        }
    }
}

void viz_tone_grid_size(int n, int cols, int w, int h, int gap, int *out_w, int *out_h)
{
    if (cols < 1) cols = 1;
    int rows = (n + cols - 1) / cols;
    if (n < cols) cols = n;
    *out_w = cols * w + (cols - 1) * gap;
    *out_h = rows * h + (rows - 1) * gap;
}

void viz_tone_grid(uint32_t *dst, const float *images, int n, int cols, int w, int h, int gap,
                   uint32_t gap_argb, viz_tone tone, float m)
{
    int gw, gh;
    viz_tone_grid_size(n, cols, w, h, gap, &gw, &gh);
    for (int i = 0; i < gw * gh; i++) dst[i] = gap_argb;
    for (int i = 0; i < n; i++) {
        int cx = (i % cols) * (w + gap), cy = (i / cols) * (h + gap);
        viz_tone_map(dst + (size_t)cy * gw + cx, gw, images + (size_t)i * w * h, w, h, tone, m);
    }
}
