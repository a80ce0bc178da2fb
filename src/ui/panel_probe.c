/* panel_probe.c: the pixel probe (Q, or a click on the forward panel's x_t),
 * in the schedule panel's place: one pixel of the forward digit over t,
 *   x_t = sqrt(ab_t) x0 + sqrt(1 - ab_t) eps      ([DDPM] eq. 4, ddpm_q_sample)
 * with its mean sqrt(ab_t) x0 and the band of one standard deviation
 * sqrt(1 - ab_t) around it, and, in the reverse phase, the same pixel of the
 * followed sample (x_t and x0-hat at the steps it visits); beside it the
 * histogram of every pixel of the forward x_t at the current t against the
 * N(0, 1) density: where the forward process ends. */
#include <math.h>
#include <stdio.h>

#include "app.h"

enum { CURVE = 200, BINS = 24, VIZ_TRAJ_PLOT_MAX = DDPM_T_MAX + 1 };

static float map(double v, double lo, double hi, float a, float b) { return (float)(a + (b - a) * (v - lo) / (hi - lo)); }

/* The pixel over t: band, mean, its path with the panel's fixed epsilon, the sample's. */
static void over_t(viz_app *a, SDL_Rect p, int idx)
{
    viz_draw *d = &a->draw;
    const viz_theme *th = &d->theme;
    const ddpm_schedule *s = &a->sched;
    const int T = s->T, sh = viz_line_h(d, VIZ_SIZE_SMALL);
    const double lo = -3.0, hi = 3.0;
    viz_fill(d, p, viz_mix(th->panel, th->bg, 0.5f));
    for (int v = -2; v <= 2; v += 2) {
        const float y = map(v, lo, hi, (float)(p.y + p.h), (float)p.y);
        viz_fill(d, (SDL_Rect){p.x, (int)y, p.w, 1}, th->grid);
        viz_label(d, p.x - viz_px(d, 4), (int)y - sh / 2, VIZ_ALIGN_RIGHT, VIZ_SIZE_SMALL, th->text_dim, "%s%d",
                  v < 0 ? "\xE2\x88\x92" : v > 0 ? "+" : "", abs(v));
    }
    const double x0 = a->fwd_x0[idx], eps = a->fwd_eps[idx];
    SDL_FPoint mean[CURVE], path[CURVE];
    float up[CURVE], down[CURVE];
    for (int i = 0; i < CURVE; i++) {
        const int t = (int)lrint((double)(T - 1) * i / (CURVE - 1));
        const float x = map(t, 0, T - 1, (float)p.x, (float)(p.x + p.w));
        const double m = s->sqrt_alpha_bar[t] * x0, sd = s->sqrt_one_minus_alpha_bar[t];
        mean[i] = (SDL_FPoint){x, map(m, lo, hi, (float)(p.y + p.h), (float)p.y)};
        path[i] = (SDL_FPoint){x, map(m + sd * eps, lo, hi, (float)(p.y + p.h), (float)p.y)};
        up[i] = map(m + sd, lo, hi, (float)(p.y + p.h), (float)p.y);
        down[i] = map(m - sd, lo, hi, (float)(p.y + p.h), (float)p.y);
    }
    SDL_Color band = th->accent;
    band.a = 60;
    for (int i = 0; i + 1 < CURVE; i++) { /* the +-1 sd band, as two triangles per segment */
        const SDL_FPoint a0 = {mean[i].x, up[i]}, a1 = {mean[i + 1].x, up[i + 1]};
        const SDL_FPoint b0 = {mean[i].x, down[i]}, b1 = {mean[i + 1].x, down[i + 1]};
        viz_triangle(d, a0, a1, b1, band);
        viz_triangle(d, a0, b1, b0, band);
    }
    const float lw = th->line * d->scale;
    viz_polyline(d, mean, CURVE, lw, th->accent);
    viz_polyline(d, path, CURVE, lw * 0.8f, th->second);
    /* the sample's own pixel (reverse phase): x_t and x0-hat at its visited steps */
    viz_frame_view v;
    if (a->pb.phase == VIZ_PHASE_REVERSE && viz_app_frame_view(a, 0, &v) && v.r->per == a->shown->per &&
        (size_t)idx < v.r->per) {
        const int b = v.r->B > 1 ? v.r->job.focus : 0;
        const size_t frame = (size_t)v.r->B * v.r->per;
        SDL_FPoint xs[VIZ_TRAJ_PLOT_MAX], hs[VIZ_TRAJ_PLOT_MAX];
        int n = 0;
        for (int k = 0; k <= v.k && k < v.done && n < VIZ_TRAJ_PLOT_MAX; k++) {
            const int t = v.tr->t[k] >= 0 ? v.tr->t[k] : 0;
            const float x = map(t, 0, T - 1, (float)p.x, (float)(p.x + p.w));
            xs[n] = (SDL_FPoint){x, map(v.tr->x_t[(size_t)k * frame + (size_t)b * v.r->per + idx], lo, hi,
                                        (float)(p.y + p.h), (float)p.y)};
            hs[n] = (SDL_FPoint){x, map(v.tr->x0_hat[(size_t)k * frame + (size_t)b * v.r->per + idx], lo, hi,
                                        (float)(p.y + p.h), (float)p.y)};
            n++;
        }
        if (n > 1) {
            viz_polyline(d, xs, n, lw, th->title);
            viz_polyline(d, hs, n, lw, th->ok);
        }
    }
    const int tc = viz_app_current_t(a);
    if (tc >= 0 && tc < T) {
        const float x = map(tc, 0, T - 1, (float)p.x, (float)(p.x + p.w));
        viz_line(d, x, (float)p.y, x, (float)(p.y + p.h), lw * 0.6f, th->cursor);
    }
    viz_label(d, p.x, p.y + p.h + viz_px(d, 3), VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, th->text_dim, "t = 0");
    viz_label(d, p.x + p.w, p.y + p.h + viz_px(d, 3), VIZ_ALIGN_RIGHT, VIZ_SIZE_SMALL, th->text_dim, "%d", T - 1);
}

/* Every pixel of the forward x_t at the current t, against the N(0, 1) density. */
static void histogram(viz_app *a, SDL_Rect p)
{
    viz_draw *d = &a->draw;
    const viz_theme *th = &d->theme;
    const size_t per = (size_t)a->digits.height * a->digits.width;
    const double lo = -3.0, hi = 3.0, bw = (hi - lo) / BINS;
    int count[BINS] = {0};
    size_t n = 0;
    for (size_t i = 0; i < per; i++) {
        const double v = a->fwd_xt[i];
        if (!(v >= lo && v < hi)) continue;
        count[(int)((v - lo) / bw)]++;
        n++;
    }
    viz_fill(d, p, viz_mix(th->panel, th->bg, 0.5f));
    /* the density scale: N(0, 1) peaks at 0.399; a clean digit's -1 spike goes higher */
    double top = 0.45;
    for (int b = 0; b < BINS; b++) top = fmax(top, count[b] / ((double)per * bw));
    if (top > 2.0) top = 2.0;
    for (int b = 0; b < BINS; b++) {
        const double dens = count[b] / ((double)per * bw);
        const int h = (int)lrint(fmin(dens, top) / top * (p.h - viz_px(d, 2)));
        const int x0 = p.x + p.w * b / BINS, x1 = p.x + p.w * (b + 1) / BINS;
        viz_fill(d, (SDL_Rect){x0 + 1, p.y + p.h - h, x1 - x0 - 1, h}, th->second);
    }
    SDL_FPoint g[60];
    for (int i = 0; i < 60; i++) {
        const double x = lo + (hi - lo) * i / 59.0, y = exp(-0.5 * x * x) / sqrt(2.0 * M_PI);
        g[i] = (SDL_FPoint){map(x, lo, hi, (float)p.x, (float)(p.x + p.w)), map(y, 0, top, (float)(p.y + p.h), (float)p.y)};
    }
    viz_polyline(d, g, 60, th->line * d->scale, th->title);
    viz_label(d, p.x, p.y + p.h + viz_px(d, 3), VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, th->text_dim, "\xE2\x88\x92" "3");
    viz_label(d, p.x + p.w / 2, p.y + p.h + viz_px(d, 3), VIZ_ALIGN_CENTER, VIZ_SIZE_SMALL, th->text_dim, "0");
    viz_label(d, p.x + p.w, p.y + p.h + viz_px(d, 3), VIZ_ALIGN_RIGHT, VIZ_SIZE_SMALL, th->text_dim, "+3");
    (void)n;
}

void viz_panel_probe(viz_app *a, SDL_Rect r)
{
    viz_draw *d = &a->draw;
    const viz_theme *th = &d->theme;
    char title[96];
    snprintf(title, sizeof title, "Pixel (%d, %d) of x\xE2\x82\x9C over t\nPixel (%d, %d) over t\nPixel (%d, %d)",
             a->probe_x, a->probe_y, a->probe_x, a->probe_y, a->probe_x, a->probe_y);
    SDL_Rect c = viz_panel_begin(a, r, title, "Q: off \xC2\xB7 click x\xE2\x82\x9C: another pixel\nQ: off");
    if (!a->sched_ok || !a->fwd_x0 || !a->have_digits) return;
    const int W = a->digits.width, H = a->digits.height;
    if (a->probe_x < 0 || a->probe_x >= W || a->probe_y < 0 || a->probe_y >= H) return;
    const int sh = viz_line_h(d, VIZ_SIZE_SMALL);
    /* legend line, then the two plots side by side */
    int lx = c.x;
    const int lim = c.x + c.w;
    static const struct {
        const char *text;
        int color;                 /* 0 accent, 1 second, 2 title, 3 ok */
    } legend[] = {{"mean \xE2\x88\x9A\xCE\xB1\xCC\x84 x\xE2\x82\x80 \xC2\xB1 \xE2\x88\x9A(1\xE2\x88\x92\xCE\xB1\xCC\x84)\nmean \xC2\xB1 sd", 0},
                  {"x\xE2\x82\x9C (its \xCE\xB5)\nx\xE2\x82\x9C", 1},
                  {"sample x\xE2\x82\x9C\nsample", 2},
                  {"sample x\xCC\x82\xE2\x82\x80\nx\xCC\x82\xE2\x82\x80", 3}};
    const int n_legend = a->pb.phase == VIZ_PHASE_REVERSE ? 4 : 2;
    for (int i = 0; i < n_legend && lx < lim - viz_px(d, 30); i++) {
        const SDL_Color col = legend[i].color == 0 ? th->accent : legend[i].color == 1 ? th->second
                            : legend[i].color == 2 ? th->title : th->ok;
        viz_fill(d, (SDL_Rect){lx, c.y + sh / 2, viz_px(d, 12), viz_px(d, 3)}, col);
        lx += viz_px(d, 16);
        lx += viz_label_fit(d, lx, c.y, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, false, th->text, lim - lx, legend[i].text) +
              viz_px(d, 12);
    }
    int tick_w = 0;
    viz_measure(d, VIZ_SIZE_SMALL, false, "+2", &tick_w, NULL);
    const int top = c.y + sh + viz_px(d, 6), plot_h = c.y + c.h - top - sh - viz_px(d, 6);
    if (plot_h < 3 * sh) return;
    const int left_w = (c.w - tick_w - viz_px(d, 6)) * 62 / 100;
    over_t(a, (SDL_Rect){c.x + tick_w + viz_px(d, 6), top, left_w, plot_h}, a->probe_y * W + a->probe_x);
    const int hx = c.x + tick_w + viz_px(d, 6) + left_w + viz_px(d, 14);
    SDL_Rect hr = {hx, top + sh + viz_px(d, 2), c.x + c.w - hx, plot_h - sh - viz_px(d, 2)};
    viz_label_fit(d, hx, top, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, false, th->text_dim, hr.w,
                  "all pixels of x\xE2\x82\x9C vs N(0, 1)\nx\xE2\x82\x9C vs N(0, 1)\nvs N(0, 1)");
    if (hr.w > viz_px(d, 40) && hr.h > 2 * sh) histogram(a, hr);
}
