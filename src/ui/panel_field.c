/* panel_field.c: the 2D world's learned field at the current t, on a grid:
 * the score  grad log p_t(x) = -eps_hat / sqrt(1 - alpha_bar_t)  (what the
 * reverse process follows), or the displacement x0_hat - x (where a point
 * at x "thinks it is going").  Arrows are scaled so that the longest fills
 * a grid cell; the key says how long that is. */
#include <math.h>
#include <stdio.h>

#include "app.h"

void viz_panel_field(viz_app *a, SDL_Rect r)
{
    viz_draw *d = &a->draw;
    const viz_theme *th = &d->theme;
    const viz_field_cache *f = viz_app_field(a);
    const bool score = a->p.field == VIZ_FIELD_SCORE;
    char title[64];
    if (f) snprintf(title, sizeof title, "Field at t = %d", f->t);
    else snprintf(title, sizeof title, "Learned field");
    SDL_Rect c = viz_panel_begin(a, r, title, score ? "the score" : "x\xCC\x82\xE2\x82\x80 \xE2\x88\x92 x");
    const int sh = viz_line_h(d, VIZ_SIZE_SMALL), lh = viz_line_h(d, VIZ_SIZE_BODY);
    if (!f) {
        viz_label(d, c.x, c.y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, th->text_dim, "no network to ask yet");
        return;
    }
    enum { G = VIZ_FIELD_GRID };
    const float *vec = score ? f->score : f->x0;
    /* the longest arrow, in data units (x0: the displacement from the grid point) */
    double longest = 0;
    float gx[G * G], gy[G * G];
    for (int j = 0; j < G; j++)
        for (int i = 0; i < G; i++) {
            const int k = j * G + i;
            gx[k] = f->x_min + (f->x_max - f->x_min) * (i + 0.5f) / G;
            gy[k] = f->y_max - (f->y_max - f->y_min) * (j + 0.5f) / G;
            const double vx = score ? vec[2 * k] : vec[2 * k] - gx[k], vy = score ? vec[2 * k + 1] : vec[2 * k + 1] - gy[k];
            const double len = sqrt(vx * vx + vy * vy);
            if (isfinite(len) && len > longest) longest = len;
        }
    const int text_h = lh + sh + viz_px(d, 8);
    SDL_Rect area = {c.x, c.y, c.w, c.h - text_h};
    viz_points_canvas cv;
    const uint64_t key = viz_key(f->key, (uint64_t)score, a->points_version, 0xF1E1D);
    if (viz_points_canvas_begin(a, &cv, area, VIZ_TEX_PTS_FIELD, key)) {
        viz_points_draw_data(a, &cv, 0.18f);
        const float cell = cv.pl.scale * (f->x_max - f->x_min) / G; /* pixels between arrows */
        const float scale = longest > 0 ? (float)(0.9 * cell / longest) : 0;
        const float width = a->lecture ? 1.6f : 1.2f;
        for (int k = 0; k < G * G; k++) {
            const float vx = score ? vec[2 * k] : vec[2 * k] - gx[k], vy = score ? vec[2 * k + 1] : vec[2 * k + 1] - gy[k];
            if (!isfinite(vx) || !isfinite(vy)) continue;
            float px, py;
            viz_plot2d_map(&cv.pl, gx[k], gy[k], &px, &py);
            const float ex = px + vx * scale, ey = py - vy * scale; /* pixels: y down */
            const float len = sqrtf((ex - px) * (ex - px) + (ey - py) * (ey - py));
            /* short arrows fade, so that the flow's structure stands out */
            const float alpha = 0.35f + 0.65f * (len / (0.9f * cell + 1e-6f));
            viz_raster_arrow(&cv.r, px, py, ex, ey, width, len * 0.35f < 5 ? len * 0.35f : 5, VIZ_RGB_FIELD,
                             alpha > 1 ? 1 : alpha);
        }
    }
    viz_points_canvas_end(a, &cv);
    const int y = area.y + area.h + viz_px(d, 6);
    if (score)
        viz_label(d, c.x, y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, th->text,
                  "\xE2\x88\x87log p\xE2\x82\x9C = \xE2\x88\x92\xCE\xB5\xCC\x82 / \xE2\x88\x9A(1\xE2\x88\x92\xCE\xB1\xCC\x84)");
    else
        viz_label(d, c.x, y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, th->text, "arrow: from x to x\xCC\x82\xE2\x82\x80");
    viz_label(d, c.x, y + lh, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, th->text_dim, "longest %.3g%s \xC2\xB7 I: %s", longest,
              score ? "" : " units", score ? "x\xCC\x82\xE2\x82\x80 \xE2\x88\x92 x" : "score");
}
