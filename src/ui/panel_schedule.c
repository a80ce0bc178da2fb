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
    if (!(hi - lo >= 1)) hi = lo + 1;

    /* margins as wide as the tick labels; the axis titles sit above them */
    int left = 0, right = 0, wt = 0;
    viz_measure(d, VIZ_SIZE_SMALL, false, "0.75", &left, NULL);
    viz_measure(d, VIZ_SIZE_SMALL, false, "\xE2\x88\x92" "20", &right, NULL);
    viz_measure(d, VIZ_SIZE_SMALL, false, "log SNR", &wt, NULL);
    left += viz_px(d, 6);
    right = (right > wt ? right : wt) + viz_px(d, 6);
    const int bottom = sh + viz_px(d, 10);
    const int legend_h = sh + viz_px(d, 6);
    /* where the axis titles above the plot would leave it no room (lecture
     * style in a short panel), the legend row names the curves instead */
    const bool compact = c.h - bottom - legend_h - (sh + sh / 2 + viz_px(d, 4)) < 3 * sh;
    const int titles_h = compact ? 0 : sh + sh / 2 + viz_px(d, 4);
    SDL_Rect p = {c.x + left, c.y + legend_h + titles_h, c.w - left - right, c.h - bottom - legend_h - titles_h};
    if (p.w < 20 || p.h < 20) return;

    /* round ticks, as many as the room takes (a label's height apart, and more) */
    const int max_y_ticks = p.h / (2 * sh) + 1;
    const double ab_step = max_y_ticks >= 5 ? 0.25 : max_y_ticks >= 3 ? 0.5 : 1.0;
    const double l_step = viz_nice_step(hi - lo, max_y_ticks - 1);
    lo = floor(lo / l_step) * l_step;
    hi = ceil(hi / l_step) * l_step;
    for (double v = 0; v <= 1.0 + 1e-9; v += ab_step) {
        float y = map(v, 0, 1, (float)(p.y + p.h), (float)p.y);
        viz_fill(d, (SDL_Rect){p.x, (int)y, p.w, 1}, t->grid);
        viz_label(d, p.x - viz_px(d, 4), (int)y - sh / 2, VIZ_ALIGN_RIGHT, VIZ_SIZE_SMALL, t->accent, "%g", v);
    }
    for (double l = lo; l <= hi + 1e-9; l += l_step) {
        float y = map(l, lo, hi, (float)(p.y + p.h), (float)p.y);
        viz_label(d, p.x + p.w + viz_px(d, 4), (int)y - sh / 2, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, t->second, "%s%g",
                  l < -1e-9 ? "\xE2\x88\x92" : l > 1e-9 ? "+" : "", fabs(l) < 1e-9 ? 0.0 : fabs(l));
    }
    /* t: round values (0, 250, 500, 750, 1000 for T = 1000), as many as fit */
    int tw = 0;
    char tmax[16];
    snprintf(tmax, sizeof tmax, "%d", T);
    viz_measure(d, VIZ_SIZE_SMALL, false, tmax, &tw, NULL);
    const double t_step = viz_nice_step(T, p.w / (tw + viz_px(d, 16)));
    for (double tv = 0; tv <= T + 1e-9; tv += t_step) {
        float x = map(tv, 0, T - 1, (float)p.x, (float)(p.x + p.w));
        if (x > p.x + p.w + 1) x = (float)(p.x + p.w);
        viz_fill(d, (SDL_Rect){(int)x, p.y + p.h, 1, viz_px(d, 3)}, t->text_dim);
        viz_label(d, (int)x, p.y + p.h + viz_px(d, 4), VIZ_ALIGN_CENTER, VIZ_SIZE_SMALL, t->text_dim, "%g", tv);
    }
    /* axis titles: alpha-bar over the left ticks, log SNR over the right, t under the left */
    if (!compact) {
        viz_label(d, p.x - viz_px(d, 4), p.y - titles_h, VIZ_ALIGN_RIGHT, VIZ_SIZE_SMALL, t->accent,
                  "\xCE\xB1\xCC\x84\xE2\x82\x9C");
        viz_label(d, p.x + p.w + viz_px(d, 4), p.y - titles_h, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, t->second,
                  "log SNR");
    }
    viz_label_bold(d, p.x - viz_px(d, 8), p.y + p.h + viz_px(d, 4), VIZ_ALIGN_RIGHT, VIZ_SIZE_SMALL, t->text_dim, "t");

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

    /* legend: the curves are named by the axis titles; what else is drawn */
    int lx = c.x;
    const int lim = c.x + c.w;
    if (compact) {
        lx += viz_label(d, lx, c.y, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, t->accent, "\xCE\xB1\xCC\x84\xE2\x82\x9C") +
              viz_px(d, 12);
        lx += viz_label(d, lx, c.y, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, t->second, "log SNR") + viz_px(d, 12);
    }
    char steps[64];
    snprintf(steps, sizeof steps, "%d sampler steps\n%d steps", a->n_ts, a->n_ts);
    viz_fill(d, (SDL_Rect){lx + viz_px(d, 6), c.y + viz_px(d, 2), viz_px(d, 1) > 1 ? viz_px(d, 1) : 1, sh - viz_px(d, 4)}, t->text);
    lx += viz_px(d, 12);
    lx += viz_label_fit(d, lx, c.y, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, false, t->text, lim - lx, steps);
    if (mismatch && lx + viz_px(d, 30) < lim) {
        lx += viz_px(d, 14);
        viz_fill(d, (SDL_Rect){lx, c.y + sh / 2, viz_px(d, 5), viz_px(d, 3)}, t->text_dim);
        viz_fill(d, (SDL_Rect){lx + viz_px(d, 8), c.y + sh / 2, viz_px(d, 5), viz_px(d, 3)}, t->text_dim);
        lx += viz_px(d, 18);
        char trained[96];
        snprintf(trained, sizeof trained, "trained with (%s)\ntrained: %s\ntrained", ddpm_schedule_name(a->model_sched_cfg.kind),
                 ddpm_schedule_name(a->model_sched_cfg.kind));
        viz_label_fit(d, lx, c.y, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, false, t->text_dim, lim - lx, trained);
    }
}
