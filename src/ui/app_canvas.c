/* app_canvas.c: draw a digit.  A 28x28 canvas (the dataset's size) the
 * lecturer paints with the mouse (A, or "Draw" under the forward panel),
 * with a brush of 1..3 pixels and Clear; or a PNG (--set draw=FILE).  While
 * it is on, the drawing is the forward panel's x0: the forward process noises
 * it, and the round trip (J) starts from it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "ddpm/image.h"

static bool ensure(viz_app *a)
{
    if (!a->have_digits) return false;
    const size_t per = (size_t)a->digits.width * a->digits.height;
    if (!a->canvas) {
        a->canvas = malloc(sizeof(float) * per);
        if (!a->canvas) return false;
        for (size_t i = 0; i < per; i++) a->canvas[i] = -1.0f; /* the dataset's background */
    }
    return true;
}

void viz_app_canvas_open(viz_app *a)
{
    if (viz_app_points(a) || !ensure(a)) return;
    a->canvas_editing = !a->canvas_editing;
    if (a->canvas_editing) {
        a->canvas_on = true;
        if (a->brush < 1) a->brush = 2;
        a->pb.phase = VIZ_PHASE_FORWARD; /* x0 is what is drawn: the forward panel shows it at t = 0 */
        a->pb.pos = 0;
        a->pb.playing = false;
    }
    a->canvas_version++;
}

void viz_app_canvas_clear(viz_app *a)
{
    if (!ensure(a)) return;
    const size_t per = (size_t)a->digits.width * a->digits.height;
    for (size_t i = 0; i < per; i++) a->canvas[i] = -1.0f;
    a->canvas_version++;
}

void viz_app_canvas_paint(viz_app *a, float fx, float fy)
{
    if (!ensure(a)) return;
    const int W = a->digits.width, H = a->digits.height;
    const float r = (float)a->brush * 0.5f + 0.25f; /* 1: about a pixel, 3: a pen stroke of MNIST's width */
    bool changed = false;
    for (int y = (int)floorf(fy - r - 1); y <= (int)ceilf(fy + r + 1); y++)
        for (int x = (int)floorf(fx - r - 1); x <= (int)ceilf(fx + r + 1); x++) {
            if (x < 0 || y < 0 || x >= W || y >= H) continue;
            const float dx = (float)x + 0.5f - fx, dy = (float)y + 0.5f - fy;
            const float dist = sqrtf(dx * dx + dy * dy);
            float w = r + 0.5f - dist; /* a soft edge one pixel wide, like a scanned pen */
            w = w < 0.0f ? 0.0f : w > 1.0f ? 1.0f : w;
            const float v = -1.0f + 2.0f * w;
            float *px = &a->canvas[(size_t)y * W + x];
            if (v > *px) *px = v, changed = true;
        }
    if (changed) a->canvas_version++;
}

int viz_app_canvas_load_png(viz_app *a, const char *path, ddpm_error *err)
{
    if (!a->have_digits) return ddpm_fail(err, "--set draw=%s: no digits are loaded to draw beside", path);
    uint8_t *px = NULL;
    int w = 0, h = 0;
    if (ddpm_png_read_gray(path, 4096, &px, &w, &h, err) != DDPM_OK) return ddpm_fail_context(err, "--set draw");
    if (!ensure(a)) {
        free(px);
        return ddpm_fail(err, "out of memory");
    }
    /* ink on paper (a light border) becomes the dataset's white on black */
    double border = 0;
    int nb = 0;
    for (int x = 0; x < w; x++) border += px[x] + px[(size_t)(h - 1) * w + x], nb += 2;
    for (int y = 0; y < h; y++) border += px[(size_t)y * w] + px[(size_t)y * w + w - 1], nb += 2;
    const bool invert = border / nb > 127.0;
    /* box filter down (or nearest up) to the canvas */
    const int W = a->digits.width, H = a->digits.height;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const int x0 = x * w / W, x1 = (x + 1) * w / W > x0 ? (x + 1) * w / W : x0 + 1;
            const int y0 = y * h / H, y1 = (y + 1) * h / H > y0 ? (y + 1) * h / H : y0 + 1;
            double sum = 0;
            for (int yy = y0; yy < y1 && yy < h; yy++)
                for (int xx = x0; xx < x1 && xx < w; xx++) sum += px[(size_t)yy * w + xx];
            double v = sum / ((double)(x1 - x0) * (y1 - y0)) / 255.0;
            if (invert) v = 1.0 - v;
            a->canvas[(size_t)y * W + x] = (float)(2.0 * v - 1.0);
        }
    free(px);
    a->canvas_on = true;
    a->canvas_version++;
    return DDPM_OK;
}
