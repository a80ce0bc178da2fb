/* panel_schedule.c: alpha-bar and log-SNR against t for the selected
 * schedule (and, faded, the model's own when they differ), the current t as
 * a cursor, and ticks at the timesteps the sampler will visit.  Every value
 * is read from the schedule's tables (ddpm/scheduler.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "app.h"

enum { PLOT_POINTS = 240 };

static float map(double v, double lo, double hi, float a, float b)
{
    double u = (v - lo) / (hi - lo);
    return (float)(a + (b - a) * u);
}

void viz_panel_schedule(viz_app *a, SDL_Rect r)
{
    viz_draw *d = &a->draw;
    const viz_theme *t = &d->theme;
    char sub[96];
    snprintf(sub, sizeof sub, "%s, T = %d", ddpm_schedule_name(a->p.schedule), a->sched_ok ? a->sched.T : 0);
    SDL_Rect c = viz_panel_begin(a, r, "Noise schedule", sub);
    if (!a->sched_ok) return;
    const ddpm_schedule *s = &a->sched;
    const int T = s->T;
    const int sh = viz_line_h(d, VIZ_SIZE_SMALL);
    const int left = viz_px(d, 34), right = viz_px(d, 40), bottom = sh + viz_px(d, 14);
    const int legend_h = sh + viz_px(d, 6);
    SDL_Rect p = {c.x + left, c.y + legend_h, c.w - left - right, c.h - bottom - legend_h};
    if (p.w < 20 || p.h < 20) return;

    /* log-SNR range of the selected schedule (and the model's, if shown) */
    const bool mismatch = viz_app_mismatch(a) && a->model_sched.T == T;
    double lo = 1e9, hi = -1e9;
    for (int i = 0; i < T; i++) {
        double l = log(s->snr[i]);
        if (isfinite(l)) lo = fmin(lo, l), hi = fmax(hi, l);
        if (mismatch) {
            double m = log(a->model_sched.snr[i]);
            if (isfinite(m)) lo = fmin(lo, m), hi = fmax(hi, m);
        }
    }
    lo = floor(lo / 2) * 2;
    hi = ceil(hi / 2) * 2;
    if (hi - lo < 2) hi = lo + 2;

    /* grid and axes */
    for (int i = 0; i <= 4; i++) {
        float y = map(i / 4.0, 0, 1, (float)(p.y + p.h), (float)p.y);
        viz_fill(d, (SDL_Rect){p.x, (int)y, p.w, 1}, t->grid);
        viz_label(d, p.x - viz_px(d, 4), (int)y - sh / 2, VIZ_ALIGN_RIGHT, VIZ_SIZE_SMALL, t->accent, "%.2g", i / 4.0);
        double l = lo + (hi - lo) * i / 4.0;
        viz_label(d, p.x + p.w + viz_px(d, 4), (int)y - sh / 2, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, t->second, "%+.0f", l);
    }
    for (int i = 0; i <= 4; i++) {
        int tv = (int)lrint((T - 1) * i / 4.0);
        float x = map(tv, 0, T - 1, (float)p.x, (float)(p.x + p.w));
        viz_label(d, (int)x, p.y + p.h + viz_px(d, 7), VIZ_ALIGN_CENTER, VIZ_SIZE_SMALL, t->text_dim, "%d", tv);
    }

    /* curves */
    SDL_FPoint ab[PLOT_POINTS], ls[PLOT_POINTS], mab[PLOT_POINTS];
    for (int i = 0; i < PLOT_POINTS; i++) {
        int tt = (int)lrint((double)(T - 1) * i / (PLOT_POINTS - 1));
        float x = map(tt, 0, T - 1, (float)p.x, (float)(p.x + p.w));
        ab[i] = (SDL_FPoint){x, map(s->alpha_bar[tt], 0, 1, (float)(p.y + p.h), (float)p.y)};
        double l = log(s->snr[tt]);
        if (!isfinite(l)) l = l > 0 ? hi : lo;
        ls[i] = (SDL_FPoint){x, map(l, lo, hi, (float)(p.y + p.h), (float)p.y)};
        if (mismatch) mab[i] = (SDL_FPoint){x, map(a->model_sched.alpha_bar[tt], 0, 1, (float)(p.y + p.h), (float)p.y)};
    }
    viz_fill_under(d, ab, PLOT_POINTS, (float)(p.y + p.h), t->accent_soft);
    const float lw = t->line * d->scale;
    if (mismatch) {
        /* the model's training schedule, dashed */
        for (int i = 0; i + 1 < PLOT_POINTS; i += 2)
            viz_line(d, mab[i].x, mab[i].y, mab[i + 1].x, mab[i + 1].y, lw * 0.8f, t->text_dim);
    }
    viz_polyline(d, ls, PLOT_POINTS, lw, t->second);
    viz_polyline(d, ab, PLOT_POINTS, lw, t->accent);

    /* the sampler's timesteps, as ticks along the bottom */
    const int tick = viz_px(d, 7);
    const int stride = a->n_ts > p.w / 2 ? (a->n_ts + p.w / 2 - 1) / (p.w / 2) : 1;
    for (int i = 0; i < a->n_ts; i += stride) {
        float x = map(a->ts[i], 0, T - 1, (float)p.x, (float)(p.x + p.w));
        viz_fill(d, (SDL_Rect){(int)x, p.y + p.h - tick, viz_px(d, 1) > 1 ? viz_px(d, 1) : 1, tick}, t->text);
    }

    /* the cursor at the current t */
    const int tc = viz_app_current_t(a);
    if (tc >= 0 && tc < T) {
        float x = map(tc, 0, T - 1, (float)p.x, (float)(p.x + p.w));
        viz_line(d, x, (float)p.y, x, (float)(p.y + p.h), lw * 0.6f, t->cursor);
        float y = map(s->alpha_bar[tc], 0, 1, (float)(p.y + p.h), (float)p.y);
        const int dot = viz_px(d, 8);
        viz_fill_round(d, (SDL_Rect){(int)x - dot / 2, (int)y - dot / 2, dot, dot}, dot / 2, t->cursor);
        viz_align al = x > p.x + p.w * 0.7f ? VIZ_ALIGN_RIGHT : VIZ_ALIGN_LEFT;
        int lx = al == VIZ_ALIGN_RIGHT ? (int)x - viz_px(d, 8) : (int)x + viz_px(d, 8);
        viz_label_bold(d, lx, p.y + viz_px(d, 2), al, VIZ_SIZE_SMALL, t->cursor, "t = %d", tc);
    }

    /* legend */
    int lx = c.x;
    viz_fill(d, (SDL_Rect){lx, c.y + sh / 2, viz_px(d, 14), viz_px(d, 3)}, t->accent);
    lx += viz_px(d, 18) + viz_label(d, lx + viz_px(d, 18), c.y, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, t->text, "\xCE\xB1\xCC\x84\xE2\x82\x9C");
    lx += viz_px(d, 12);
    viz_fill(d, (SDL_Rect){lx, c.y + sh / 2, viz_px(d, 14), viz_px(d, 3)}, t->second);
    lx += viz_px(d, 18) + viz_label(d, lx + viz_px(d, 18), c.y, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, t->text, "log SNR");
    lx += viz_px(d, 12);
    viz_fill(d, (SDL_Rect){lx + viz_px(d, 6), c.y + viz_px(d, 2), viz_px(d, 1) > 1 ? viz_px(d, 1) : 1, sh - viz_px(d, 4)}, t->text);
    lx += viz_px(d, 12) + viz_label(d, lx + viz_px(d, 12), c.y, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, t->text,
                                    "%d sampler steps", a->n_ts);
    if (mismatch) {
        lx += viz_px(d, 12);
        viz_fill(d, (SDL_Rect){lx, c.y + sh / 2, viz_px(d, 5), viz_px(d, 3)}, t->text_dim);
        viz_fill(d, (SDL_Rect){lx + viz_px(d, 8), c.y + sh / 2, viz_px(d, 5), viz_px(d, 3)}, t->text_dim);
        viz_label(d, lx + viz_px(d, 18), c.y, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, t->text_dim, "trained with (%s)",
                  ddpm_schedule_name(a->model_sched_cfg.kind));
    }
}
