/* image.c: the RGB8 image type, fills, blits and float-to-gray tone mapping
 * (see ddpm/image.h). */
#include "ddpm/image.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Images are made by the program (grids of known cells), so a size beyond
 * this is a bug, not input: 2^28 pixels is a 16k x 16k picture. */
#define MAX_PIXELS ((size_t)1 << 28)

void ddpm_image_init(ddpm_image *img, int w, int h)
{
    DDPM_ASSERT(img && w > 0 && h > 0 && (size_t)w * (size_t)h <= MAX_PIXELS);
    img->w = w;
    img->h = h;
    img->rgb = ddpm_xcalloc((size_t)w * (size_t)h, 3);
}

void ddpm_image_free(ddpm_image *img)
{
    if (!img) return;
    free(img->rgb);
    memset(img, 0, sizeof *img);
}

uint8_t *ddpm_image_pixel(const ddpm_image *img, int x, int y)
{
    DDPM_ASSERT(img && x >= 0 && y >= 0 && x < img->w && y < img->h);
    return img->rgb + 3 * ((size_t)y * (size_t)img->w + (size_t)x);
}

void ddpm_image_fill(ddpm_image *img, const uint8_t rgb[3])
{
    ddpm_image_fill_rect(img, 0, 0, img->w, img->h, rgb);
}

/* Clips [x, x+w) x [y, y+h) to the image; false when nothing is left. */
static bool clip(const ddpm_image *img, int *x, int *y, int *w, int *h)
{
    long x0 = *x, y0 = *y, x1 = (long)*x + *w, y1 = (long)*y + *h;
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > img->w) x1 = img->w;
    if (y1 > img->h) y1 = img->h;
    if (x0 >= x1 || y0 >= y1) return false;
    *x = (int)x0, *y = (int)y0, *w = (int)(x1 - x0), *h = (int)(y1 - y0);
    return true;
}

void ddpm_image_fill_rect(ddpm_image *img, int x, int y, int w, int h, const uint8_t rgb[3])
{
    DDPM_ASSERT(img && img->rgb && rgb);
    if (!clip(img, &x, &y, &w, &h)) return;
    for (int j = y; j < y + h; j++) {
        uint8_t *p = ddpm_image_pixel(img, x, j);
        for (int i = 0; i < w; i++, p += 3) p[0] = rgb[0], p[1] = rgb[1], p[2] = rgb[2];
    }
}

void ddpm_image_blit(ddpm_image *dst, int x, int y, const ddpm_image *src)
{
    DDPM_ASSERT(dst && dst->rgb && src && src->rgb);
    int cx = x, cy = y, w = src->w, h = src->h;
    if (!clip(dst, &cx, &cy, &w, &h)) return;
    for (int j = 0; j < h; j++)
        memcpy(ddpm_image_pixel(dst, cx, cy + j), ddpm_image_pixel(src, cx - x, cy - y + j),
               3 * (size_t)w);
}

/* The affine map value -> gray level: gray = (v - lo) * gain. */
static void tone_range(const float *src, size_t n, ddpm_tone tone, float *lo, float *gain)
{
    if (tone == DDPM_TONE_UNIT) {
        *lo = -1.0f, *gain = 127.5f;  /* the inverse of the dataset's x / 127.5 - 1 */
        return;
    }
    float mn = INFINITY, mx = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(src[i])) continue;
        if (src[i] < mn) mn = src[i];
        if (src[i] > mx) mx = src[i];
    }
    if (tone == DDPM_TONE_SYMMETRIC) {
        float m = fmaxf(fabsf(mn), fabsf(mx));
        mn = -m, mx = m;
    }
    if (!(mx > mn)) {  /* constant (or empty) image: mid-gray */
        *lo = mn - 1.0f, *gain = 127.5f;
        if (!isfinite(mn)) *lo = -1.0f, *gain = 0.0f;
        return;
    }
    *lo = mn, *gain = 255.0f / (mx - mn);
}

void ddpm_image_blit_gray(ddpm_image *dst, int x, int y, const float *src, int w, int h,
                          int scale, ddpm_tone tone)
{
    DDPM_ASSERT(dst && dst->rgb && src && w > 0 && h > 0 && scale >= 1);
    float lo, gain;
    tone_range(src, (size_t)w * (size_t)h, tone, &lo, &gain);
    for (int j = 0; j < h; j++)
        for (int i = 0; i < w; i++) {
            float v = src[(size_t)j * w + i];
            uint8_t rgb[3];
            if (isnan(v)) {
                rgb[0] = 255, rgb[1] = 0, rgb[2] = 0;
            } else {
                float g = (v - lo) * gain;
                g = !(g > 0.0f) ? 0.0f : g > 255.0f ? 255.0f : g;  /* NaN-safe clamp */
                rgb[0] = rgb[1] = rgb[2] = (uint8_t)(g + 0.5f);
            }
            ddpm_image_fill_rect(dst, x + i * scale, y + j * scale, scale, scale, rgb);
        }
}

void ddpm_image_scale(ddpm_image *out, const ddpm_image *src, int factor)
{
    DDPM_ASSERT(out && src && src->rgb && factor >= 1);
    ddpm_image_init(out, src->w * factor, src->h * factor);
    for (int j = 0; j < src->h; j++)
        for (int i = 0; i < src->w; i++)
            ddpm_image_fill_rect(out, i * factor, j * factor, factor, factor,
                                 ddpm_image_pixel(src, i, j));
}
