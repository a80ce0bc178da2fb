/* raster.c: points, lines and arrows into ARGB pixels (see raster.h).  Lines
 * and discs are anti-aliased by coverage: each pixel near the shape blends by
 * how far its centre lies inside the edge (one pixel of falloff). */
#include "raster.h"

#include <math.h>

viz_plot2d viz_plot2d_make(float x_min, float x_max, float y_min, float y_max, int w, int h)
{
    viz_plot2d p;
    const float sx = w / (x_max - x_min), sy = h / (y_max - y_min);
    p.scale = sx < sy ? sx : sy;
    /* widen the shorter side so that the region fills the pixels, centred */
    const float cx = (x_min + x_max) / 2, cy = (y_min + y_max) / 2;
    const float hw = w / p.scale / 2, hh = h / p.scale / 2;
    p.x_min = cx - hw, p.x_max = cx + hw, p.y_min = cy - hh, p.y_max = cy + hh;
    p.ox = 0, p.oy = 0;
    return p;
}

void viz_plot2d_map(const viz_plot2d *p, float x, float y, float *px, float *py)
{
    *px = p->ox + (x - p->x_min) * p->scale;
    *py = p->oy + (p->y_max - y) * p->scale;
}

void viz_plot2d_unmap(const viz_plot2d *p, float px, float py, float *x, float *y)
{
    *x = p->x_min + (px - p->ox) / p->scale;
    *y = p->y_max - (py - p->oy) / p->scale;
}

void viz_raster_clear(viz_raster *r, uint32_t argb)
{
    for (long i = 0; i < (long)r->w * r->h; i++) r->px[i] = argb;
}

static inline void blend(viz_raster *r, int x, int y, uint32_t rgb, float a)
{
    if (x < 0 || y < 0 || x >= r->w || y >= r->h || !(a > 0.0f)) return;
    if (a > 1.0f) a = 1.0f;
    uint32_t *d = &r->px[(long)y * r->w + x];
    const uint32_t c = *d;
    const float sr = (float)(rgb >> 16 & 255), sg = (float)(rgb >> 8 & 255), sb = (float)(rgb & 255);
    const float dr = (float)(c >> 16 & 255), dg = (float)(c >> 8 & 255), db = (float)(c & 255);
    const uint32_t nr = (uint32_t)(dr + (sr - dr) * a + 0.5f), ng = (uint32_t)(dg + (sg - dg) * a + 0.5f),
                   nb = (uint32_t)(db + (sb - db) * a + 0.5f);
    *d = 0xFF000000u | nr << 16 | ng << 8 | nb;
}

void viz_raster_dot(viz_raster *r, float x, float y, float radius, uint32_t rgb, float alpha)
{
    if (!isfinite(x) || !isfinite(y) || radius <= 0) return;
    const float reach = radius + 0.5f;
    if (x < -reach || y < -reach || x > r->w + reach || y > r->h + reach) return;
    const int x0 = (int)floorf(x - reach), x1 = (int)ceilf(x + reach);
    const int y0 = (int)floorf(y - reach), y1 = (int)ceilf(y + reach);
    for (int py = y0; py <= y1; py++)
        for (int px = x0; px <= x1; px++) {
            const float dx = px + 0.5f - x, dy = py + 0.5f - y;
            const float cover = radius + 0.5f - sqrtf(dx * dx + dy * dy);
            if (cover > 0) blend(r, px, py, rgb, alpha * (cover < 1 ? cover : 1));
        }
}

void viz_raster_line(viz_raster *r, float x0, float y0, float x1, float y1, float width, uint32_t rgb, float alpha)
{
    if (!isfinite(x0) || !isfinite(y0) || !isfinite(x1) || !isfinite(y1)) return;
    const float half = width / 2;
    const float minx = fminf(x0, x1) - half - 1, maxx = fmaxf(x0, x1) + half + 1;
    const float miny = fminf(y0, y1) - half - 1, maxy = fmaxf(y0, y1) + half + 1;
    if (maxx < 0 || maxy < 0 || minx > r->w || miny > r->h) return;
    const int ax = (int)fmaxf(floorf(minx), 0), bx = (int)fminf(ceilf(maxx), (float)r->w - 1);
    const int ay = (int)fmaxf(floorf(miny), 0), by = (int)fminf(ceilf(maxy), (float)r->h - 1);
    const float vx = x1 - x0, vy = y1 - y0, len2 = vx * vx + vy * vy;
    for (int py = ay; py <= by; py++)
        for (int px = ax; px <= bx; px++) {
            const float qx = px + 0.5f - x0, qy = py + 0.5f - y0;
            float u = len2 > 0 ? (qx * vx + qy * vy) / len2 : 0;
            u = u < 0 ? 0 : u > 1 ? 1 : u;
            const float ex = qx - u * vx, ey = qy - u * vy;
            const float cover = half + 0.5f - sqrtf(ex * ex + ey * ey);
            if (cover > 0) blend(r, px, py, rgb, alpha * (cover < 1 ? cover : 1));
        }
}

void viz_raster_arrow(viz_raster *r, float x0, float y0, float x1, float y1, float width, float head, uint32_t rgb,
                      float alpha)
{
    const float vx = x1 - x0, vy = y1 - y0, len = sqrtf(vx * vx + vy * vy);
    if (!(len > 0)) {
        viz_raster_dot(r, x0, y0, width, rgb, alpha);
        return;
    }
    viz_raster_line(r, x0, y0, x1, y1, width, rgb, alpha);
    const float h = head < len ? head : len, ux = vx / len, uy = vy / len;
    /* two barbs at +-28 degrees from the shaft */
    const float c = 0.883f, s = 0.469f;
    viz_raster_line(r, x1, y1, x1 - h * (ux * c - uy * s), y1 - h * (uy * c + ux * s), width, rgb, alpha);
    viz_raster_line(r, x1, y1, x1 - h * (ux * c + uy * s), y1 - h * (uy * c - ux * s), width, rgb, alpha);
}

void viz_raster_grid(viz_raster *r, const viz_plot2d *p, uint32_t rgb, uint32_t axis_rgb)
{
    for (int k = (int)ceilf(p->x_min); k <= (int)floorf(p->x_max); k++) {
        float px, py;
        viz_plot2d_map(p, (float)k, 0, &px, &py);
        const int x = (int)px;
        for (int y = 0; y < r->h && x >= 0 && x < r->w; y++) r->px[(long)y * r->w + x] = 0xFF000000u | (k ? rgb : axis_rgb);
    }
    for (int k = (int)ceilf(p->y_min); k <= (int)floorf(p->y_max); k++) {
        float px, py;
        viz_plot2d_map(p, 0, (float)k, &px, &py);
        const int y = (int)py;
        for (int x = 0; x < r->w && y >= 0 && y < r->h; x++) r->px[(long)y * r->w + x] = 0xFF000000u | (k ? rgb : axis_rgb);
    }
}
