/* panel_density.c: the 2D world's samples against the data: where the
 * finished particles landed as a density (a 2-D histogram), the data's
 * points over it, and the energy distance to the held-out data beside what
 * as many real points score (ddpm/points.h, the numbers `ddpm eval` prints). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "app.h"

enum { BINS = 48 };

void viz_panel_density(viz_app *a, SDL_Rect r)
{
    viz_draw *d = &a->draw;
    const viz_theme *th = &d->theme;
    const viz_result *res = a->shown;
    viz_progress pr = {0};
    if (res) viz_sampler_progress(a->sampler, res, &pr);
    const bool done = res && pr.state == VIZ_JOB_DONE && res->per == 2;
    SDL_Rect c = viz_panel_begin(a, r, "Samples vs data", done ? "where the particles landed" : NULL);
    const int sh = viz_line_h(d, VIZ_SIZE_SMALL), lh = viz_line_h(d, VIZ_SIZE_BODY);
    const int text_h = lh + 2 * sh + viz_px(d, 8);
    /* a wide, short panel (lecture style) puts the numbers beside the plot, not under it */
    const bool beside = c.w >= 2 * c.h && c.h - text_h < c.h * 6 / 10;
    SDL_Rect area = beside ? (SDL_Rect){c.x, c.y, c.w * 45 / 100, c.h} : (SDL_Rect){c.x, c.y, c.w, c.h - text_h};
    viz_points_canvas cv;
    const uint64_t key = viz_key(done ? res->id : 0, a->points_version, 0xDE5, 0);
    if (viz_points_canvas_begin(a, &cv, area, VIZ_TEX_PTS_DENSITY, key) && done) {
        /* the histogram of x_0, brighter where more particles landed */
        static int count[BINS * BINS];
        for (int i = 0; i < BINS * BINS; i++) count[i] = 0;
        const viz_traj *tr = &res->traj[0];
        const float *x0 = tr->x_t + (size_t)tr->S * res->B * res->per;
        int most = 0;
        for (int i = 0; i < res->B; i++) {
            const float u = (x0[2 * i] - cv.pl.x_min) / (cv.pl.x_max - cv.pl.x_min);
            const float v = (cv.pl.y_max - x0[2 * i + 1]) / (cv.pl.y_max - cv.pl.y_min);
            if (!(u >= 0 && u < 1 && v >= 0 && v < 1)) continue;
            int *n = &count[(int)(v * BINS) * BINS + (int)(u * BINS)];
            if (++*n > most) most = *n;
        }
        const float cell = (float)cv.r.w / BINS;
        for (int j = 0; j < BINS && most; j++)
            for (int i = 0; i < BINS; i++) {
                const int n = count[j * BINS + i];
                if (!n) continue;
                const float level = sqrtf((float)n / most);
                for (int y = (int)(j * cell); y < (int)((j + 1) * cell) && y < cv.r.h; y++)
                    for (int x = (int)(i * cell); x < (int)((i + 1) * cell) && x < cv.r.w; x++) {
                        uint32_t *p = &cv.r.px[(long)y * cv.r.w + x];
                        const uint32_t base = *p;
                        const float a0 = 0.15f + 0.85f * level;
                        const uint32_t rr = (uint32_t)((base >> 16 & 255) * (1 - a0) + 255 * a0);
                        const uint32_t gg = (uint32_t)((base >> 8 & 255) * (1 - a0) + 170 * a0);
                        const uint32_t bb = (uint32_t)((base & 255) * (1 - a0) + 40 * a0);
                        *p = 0xFF000000u | rr << 16 | gg << 8 | bb;
                    }
            }
        viz_points_draw_data(a, &cv, 0.35f);
    } else if (cv.drawing) {
        viz_points_draw_data(a, &cv, 0.35f);
    }
    viz_points_canvas_end(a, &cv);

    int y = beside ? c.y + viz_px(d, 4) : area.y + area.h + viz_px(d, 6);
    const int tx = beside ? area.x + area.w + viz_px(d, 12) : c.x, tw = c.x + c.w - tx;
    if (!res) {
        viz_label_fit(d, tx, y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, false, th->text_dim, tw, "no samples yet");
        return;
    }
    if (!done) {
        const int S = res->traj[0].S;
        char msg[64];
        snprintf(msg, sizeof msg, "sampling\xE2\x80\xA6 %d/%d steps\nsampling\xE2\x80\xA6", pr.done[0], S);
        viz_label_fit(d, tx, y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, false, th->text_dim, tw, msg);
        return;
    }
    if (!a->score_ok || a->score_id != res->id) {
        viz_label_fit(d, tx, y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, false, th->text_dim, tw, "scoring\xE2\x80\xA6");
        return;
    }
    const ddpm_points_score *s = &a->score;
    /* one set of 2,000 varies about 2x from draw to draw (ddpm eval averages five) */
    const SDL_Color verdict = s->ratio <= 1.5 ? th->ok : s->ratio <= 4.0 ? th->warn : th->error;
    char line[160];
    snprintf(line, sizeof line, "%.2f\xC3\x97 the floor\n%.2f\xC3\x97", s->ratio, s->ratio);
    const int w = viz_label_fit(d, tx, y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, true, verdict, tw, line);
    const char *word = s->ratio <= 1.5 ? "as close as real data" : s->ratio <= 4.0 ? "close to the data"
                     : s->ratio <= 20.0 ? "off" : "far from the data";
    /* beside the number where it fits, else on the next line */
    int wy = y, wx = tx + w + viz_px(d, 10), ww = 0;
    viz_measure(d, VIZ_SIZE_SMALL, false, word, &ww, NULL);
    if (wx + ww > tx + tw) wy = y + lh, wx = tx;
    viz_label_fit(d, wx, wy, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, false, th->text_dim, tx + tw - wx, word);
    const int y2 = wy == y ? y + lh : y + lh + sh;
    snprintf(line, sizeof line, "energy distance %.5f (real: %.5f)\nenergy dist. %.4f\nED %.4f", s->ed, s->floor, s->ed,
             s->ed);
    viz_label_fit(d, tx, y2, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, false, th->text_dim, tw, line);
    if (y2 + 2 * sh <= c.y + c.h)
        viz_label_fit(d, tx, y2 + sh, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, false, th->text_dim, tw,
                      "one set: noisy, \xC2\xB1" "2\xC3\x97\n\xC2\xB1" "2\xC3\x97 noise");
}
