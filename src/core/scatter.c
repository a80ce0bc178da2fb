/* scatter.c: a cloud of 2-D points as a picture (the 2D world's samples in
 * PNG files): a square plot of the view, the reference points as a faint
 * density, the points as a brighter one, integer grid lines with labels,
 * and a title (see ddpm/image.h). */
#include "ddpm/image.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

ddpm_scatter_spec ddpm_scatter_spec_default(void)
{
    return (ddpm_scatter_spec){.x_min = -3.5f, .x_max = 3.5f, .y_min = -3.5f, .y_max = 3.5f, .size = 512,
                               .text_scale = 2, .color = {255, 170, 40}, .ref_color = {90, 140, 255}};
}

/* Counts of points per pixel of the plot, each point a dot x dot square;
 * returns the largest count. */
static int density(int *count, int size, const ddpm_scatter_spec *s, const float *pts, size_t n, int D, int dot)
{
    int most = 0;
    for (size_t i = 0; i < n; i++) {
        const float x = pts[i * (size_t)D], y = pts[i * (size_t)D + (D > 1)];
        if (!isfinite(x) || !isfinite(y)) continue;
        const double u = (x - s->x_min) / (s->x_max - s->x_min), v = (s->y_max - y) / (s->y_max - s->y_min);
        if (!(u >= 0 && u < 1 && v >= 0 && v < 1)) continue;
        const int px = (int)(u * size) - dot / 2, py = (int)(v * size) - dot / 2;
        for (int dy = 0; dy < dot; dy++)
            for (int dx = 0; dx < dot; dx++) {
                if (px + dx < 0 || px + dx >= size || py + dy < 0 || py + dy >= size) continue;
                int *c = &count[(py + dy) * size + px + dx];
                if (++*c > most) most = *c;
            }
    }
    return most;
}

/* Adds a density in colour rgb, brightness growing with the square root of
 * the count (so that sparse tails stay visible beside dense cores). */
static void paint(ddpm_image *img, int x0, int y0, int size, const int *count, int most, const uint8_t rgb[3],
                  double strength)
{
    if (most == 0) return;
    for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++) {
            const int c = count[y * size + x];
            if (!c) continue;
            const double a = strength * (0.35 + 0.65 * sqrt((double)c / most));
            uint8_t *p = ddpm_image_pixel(img, x0 + x, y0 + y);
            for (int k = 0; k < 3; k++) {
                const double v = p[k] + a * rgb[k];
                p[k] = (uint8_t)(v > 255 ? 255 : v);
            }
        }
}

void ddpm_image_scatter(ddpm_image *out, const ddpm_scatter_spec *s, const float *pts, size_t n, int D,
                        const float *ref, size_t n_ref, const char *title)
{
    DDPM_ASSERT(out && s && s->size >= 32 && s->x_max > s->x_min && s->y_max > s->y_min && D >= 1);
    DDPM_ASSERT((pts || n == 0) && (ref || n_ref == 0) && s->text_scale >= 1);
    const int size = s->size, ts = s->text_scale, line = ddpm_image_text_height(ts) + 2 * ts;
    const int left = ddpm_image_text_width("-3", ts) + 3 * ts, top = title ? line + ts : ts;
    const int w = left + size + 2 * ts, h = top + size + 2 * line;
    ddpm_image_init(out, w, h);
    ddpm_image_fill(out, (const uint8_t[3]){12, 12, 16});
    ddpm_image_fill_rect(out, left, top, size, size, (const uint8_t[3]){24, 24, 30});
    /* integer grid lines, the axes brighter, and their labels */
    for (int k = (int)ceil(s->x_min); k <= (int)floor(s->x_max); k++) {
        const int x = left + (int)((k - s->x_min) / (s->x_max - s->x_min) * size);
        const uint8_t g = k == 0 ? 80 : 44;
        ddpm_image_fill_rect(out, x, top, 1, size, (const uint8_t[3]){g, g, g});
        char lab[16];
        snprintf(lab, sizeof lab, "%d", k);
        ddpm_image_draw_text(out, x - ddpm_image_text_width(lab, ts) / 2, top + size + ts, lab, ts,
                             (const uint8_t[3]){170, 170, 170});
    }
    for (int k = (int)ceil(s->y_min); k <= (int)floor(s->y_max); k++) {
        const int y = top + (int)((s->y_max - k) / (s->y_max - s->y_min) * size);
        const uint8_t g = k == 0 ? 80 : 44;
        ddpm_image_fill_rect(out, left, y, size, 1, (const uint8_t[3]){g, g, g});
        char lab[16];
        snprintf(lab, sizeof lab, "%d", k);
        ddpm_image_draw_text(out, left - ddpm_image_text_width(lab, ts) - 2 * ts, y - ddpm_image_text_height(ts) / 2,
                             lab, ts, (const uint8_t[3]){170, 170, 170});
    }
    int *count = calloc((size_t)size * size, sizeof(int));
    DDPM_ASSERT(count);
    const int dot = size >= 384 ? 3 : 2; /* dots a projector still shows */
    paint(out, left, top, size, count, density(count, size, s, ref, n_ref, D, dot), s->ref_color, 0.35);
    for (size_t i = 0; i < (size_t)size * size; i++) count[i] = 0;
    paint(out, left, top, size, count, density(count, size, s, pts, n, D, dot - 1), s->color, 1.0);
    free(count);
    if (title) ddpm_image_draw_text(out, left, ts, title, ts, DDPM_RGB_WHITE);
    /* the key, on its own line under the axis labels */
    char key[64];
    snprintf(key, sizeof key, "samples (%zu)", n);
    const int ky = top + size + line;
    ddpm_image_fill_rect(out, left, ky + ts, 3 * ts, 5 * ts, s->color);
    ddpm_image_draw_text(out, left + 5 * ts, ky, key, ts, s->color);
    if (n_ref) {
        const int dx = left + 5 * ts + ddpm_image_text_width(key, ts) + 6 * ts;
        ddpm_image_fill_rect(out, dx, ky + ts, 3 * ts, 5 * ts, s->ref_color);
        ddpm_image_draw_text(out, dx + 5 * ts, ky, "data", ts, s->ref_color);
    }
}
