/* panel_reverse.c: the reverse trajectory from a seeded x_T down to x_0:
 * x_t beside the model's prediction x0-hat at every step (one sample or a
 * 4 x 4 grid), a strip of x0-hat over the steps, and the comparison view
 * (two configurations on identical noise, and their difference). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "app.h"

enum { STRIP_N = 10 };

static const char *SUB_X0 = "x\xCC\x82\xE2\x82\x80";   /* x̂0 */

/* An image slot with a caption above; draws a placeholder when img is NULL. */
static SDL_Rect image_box(viz_app *a, SDL_Rect r, int slot, uint64_t key, const float *img, int B, viz_tone tone,
                          float m, const char *caption, SDL_Color cap_color)
{
    viz_draw *d = &a->draw;
    const int sh = viz_line_h(d, VIZ_SIZE_BODY);
    viz_label_fit(d, r.x, r.y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, true, cap_color, r.w, caption);
    SDL_Rect area = {r.x, r.y + sh + viz_px(d, 3), r.w, r.h - sh - viz_px(d, 3)};
    const viz_result *res = a->shown;
    int H = res ? res->H : 28, W = res ? res->W : 28;
    if (!img) {
        SDL_Rect ph = viz_fit(area, W, H);
        viz_fill(d, ph, viz_mix(d->theme.panel, d->theme.widget, 0.7f));
        viz_label(d, ph.x + ph.w / 2, ph.y + ph.h / 2 - sh / 2, VIZ_ALIGN_CENTER, VIZ_SIZE_BODY, d->theme.text_dim,
                  "computing\xE2\x80\xA6");
        return ph;
    }
    viz_app_upload_images(a, slot, key, img, B, H, W, tone, m);
    SDL_Rect drawn = viz_app_draw_tex(a, slot, area);
    viz_outline(d, drawn, 1, d->theme.image_frame);
    return drawn;
}

static void step_caption(viz_app *a, const viz_frame_view *v, char *buf, size_t cap)
{
    (void)a;
    const bool trip = v->r->job.start_t > 0; /* a round trip ends at x0', beside the original x0 */
    if (v->k >= v->S) snprintf(buf, cap, "step %d/%d \xC2\xB7 done: x\xE2\x82\x80%s", v->k, v->S, trip ? "\xE2\x80\xB2" : "");
    else snprintf(buf, cap, "step %d/%d \xC2\xB7 t = %d", v->k, v->S, v->t);
}

/* x0-hat of the focus sample at STRIP_N evenly spaced steps up to the end. */
static void x0_strip(viz_app *a, SDL_Rect r, const viz_frame_view *v)
{
    viz_draw *d = &a->draw;
    const viz_result *res = v->r;
    const int n = v->S < STRIP_N ? v->S : STRIP_N;
    if (n < 2 || r.h < viz_px(d, 20)) return;
    const size_t per = res->per, fr = (size_t)res->B * per;
    const int b = res->B > 1 ? res->job.focus : 0;
    float *buf = viz_app_scratch(a, per * (size_t)n);
    if (!buf) return;
    int ks[STRIP_N];
    for (int i = 0; i < n; i++) {
        int k = (int)((long)i * (v->S - 1) / (n - 1));
        ks[i] = k;
        if (k < v->done) memcpy(buf + (size_t)i * per, v->tr->x0_hat + (size_t)k * fr + (size_t)b * per, sizeof(float) * per);
        else for (size_t j = 0; j < per; j++) buf[(size_t)i * per + j] = -1.0f;
    }
    const int sh = viz_line_h(d, VIZ_SIZE_SMALL);
    viz_label_fit(d, r.x, r.y, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, false, d->theme.text_dim, r.w,
                  "x\xCC\x82\xE2\x82\x80 over the steps\nx\xCC\x82\xE2\x82\x80 by step");
    SDL_Rect area = {r.x, r.y + sh + viz_px(d, 2), r.w, r.h - sh - viz_px(d, 2)};
    /* one row: a grid with n columns */
    int gw, gh;
    viz_tone_grid_size(n, n, res->W, res->H, 2, &gw, &gh);
    uint32_t *px = viz_app_pixels(a, (size_t)gw * gh);
    if (!px) return;
    const uint64_t key = viz_key(res->id, 0x57, (uint64_t)v->done, (uint64_t)b);
    viz_image_tex *t = &a->tex[VIZ_TEX_STRIP];
    if (t->key != key) {
        SDL_Color bg = d->theme.panel;
        viz_tone_grid(px, buf, n, n, res->W, res->H, 2, 0xFF000000u | (uint32_t)bg.r << 16 | (uint32_t)bg.g << 8 | bg.b,
                      VIZ_TONE_UNIT, 0);
        viz_image_update(d, t, key, px, gw, gh);
    }
    SDL_Rect drawn = viz_app_draw_tex(a, VIZ_TEX_STRIP, area);
    /* mark the strip cell nearest the current step */
    if (drawn.w > 0) {
        int best = 0;
        for (int i = 0; i < n; i++)
            if (abs(ks[i] - v->k) < abs(ks[best] - v->k)) best = i;
        const float cell = (float)drawn.w / gw * (res->W + 2);
        SDL_Rect m = {drawn.x + (int)(best * cell) - 1, drawn.y - 1, (int)(cell) , drawn.h + 2};
        viz_outline(d, m, viz_px(d, 2), d->theme.cursor);
    }
}

/* The round trip's mean error against t (app_rtcurve.c), computed on
 * demand: a button until then; this trip's own error is the marked point. */
static void roundtrip_curve(viz_app *a, SDL_Rect r, int t_now, double e_now)
{
    viz_draw *d = &a->draw;
    const viz_theme *th = &d->theme;
    const int sh = viz_line_h(d, VIZ_SIZE_SMALL);
    if (r.w < viz_px(d, 60)) return;
    const int *ts = NULL;
    const double *err = NULL;
    const int n = viz_app_rtcurve_points(a, &ts, &err);
    viz_label_fit(d, r.x, r.y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, true, th->text, r.w, "mean |error| vs t\nerror vs t");
    SDL_Rect p = {r.x, r.y + viz_line_h(d, VIZ_SIZE_BODY) + viz_px(d, 3), r.w, r.h - viz_line_h(d, VIZ_SIZE_BODY) - sh - viz_px(d, 8)};
    if (p.h < 2 * sh) return;
    if (n == 0) {
        if (viz_app_model(a)->live) {
            viz_label_fit(d, p.x, p.y + p.h / 2 - sh / 2, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, false, th->text_dim, p.w,
                          "not for a live model\n(live model)");
            return;
        }
        const int bh = viz_line_h(d, VIZ_SIZE_BODY) + viz_px(d, 10);
        if (viz_ui_button(&a->ui, viz_ui_id("rt-curve", 0), (SDL_Rect){p.x, p.y + (p.h - bh) / 2, p.w, bh},
                          "Compute (9 trips)\nCompute", true))
            viz_app_rtcurve_start(a);
        return;
    }
    const int T = viz_app_T(a);
    double hi = e_now > 0 ? e_now : 0;
    for (int i = 0; i < n; i++) hi = err[i] > hi ? err[i] : hi;
    hi = hi > 0 ? ceil(hi * 10) / 10 : 0.1;
    viz_fill(d, p, viz_mix(th->panel, th->bg, 0.5f));
    SDL_FPoint pts[VIZ_RTCURVE_N];
    for (int i = 0; i < n; i++) {
        pts[i] = (SDL_FPoint){(float)(p.x + (double)ts[i] / (T - 1) * p.w), (float)(p.y + p.h - err[i] / hi * p.h)};
        const int dot = viz_px(d, 5);
        viz_fill_round(d, (SDL_Rect){(int)pts[i].x - dot / 2, (int)pts[i].y - dot / 2, dot, dot}, dot / 2, th->accent);
    }
    viz_polyline(d, pts, n, th->line * d->scale, th->accent);
    if (e_now >= 0 && t_now > 0) { /* this trip */
        const int dot = viz_px(d, 9);
        const float x = (float)(p.x + (double)t_now / (T - 1) * p.w), y = (float)(p.y + p.h - e_now / hi * p.h);
        viz_fill_round(d, (SDL_Rect){(int)x - dot / 2, (int)y - dot / 2, dot, dot}, dot / 2, th->cursor);
    }
    viz_label(d, p.x, p.y + p.h + viz_px(d, 3), VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, th->text_dim, "t 0");
    viz_label(d, p.x + p.w, p.y + p.h + viz_px(d, 3), VIZ_ALIGN_RIGHT, VIZ_SIZE_SMALL, th->text_dim, "%d", T);
    viz_label(d, p.x + viz_px(d, 3), p.y + viz_px(d, 2), VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, th->text_dim, "%.1f", hi);
}

/* A round trip's outcome: the digit it started from, where it came back to,
 * and the error map |result - original| with its colour bar and mean. */
static void roundtrip_strip(viz_app *a, SDL_Rect r, const viz_frame_view *v)
{
    viz_draw *d = &a->draw;
    const viz_result *res = v->r;
    const size_t per = res->per;
    const int sh = viz_line_h(d, VIZ_SIZE_SMALL);
    if (!a->fwd_x0 || r.h < 2 * sh + viz_px(d, 10)) return;
    const float *out = v->done >= v->S ? v->tr->x_t + (size_t)v->S * res->B * per : NULL;
    float *err_img = viz_app_scratch(a, per);
    double mean = 0;
    float m = 0;
    if (out && err_img) {
        for (size_t i = 0; i < per; i++) {
            const float e = fabsf(out[i] - a->fwd_x0[i]);
            mean += e;
            if (e > m) m = e;
            err_img[i] = e;
        }
        mean /= (double)per;
    }
    /* |error| on [0, top]: black (none) .. white (top), through the UNIT tone */
    const float top = m < 0.05f ? 0.05f : m;
    if (out && err_img)
        for (size_t i = 0; i < per; i++) err_img[i] = 2.0f * err_img[i] / top - 1.0f;
    const int gap = viz_px(d, 10), bar_w = viz_px(d, 8), bar_room = viz_px(d, 40);
    const int cell = (r.w - 4 * gap - bar_w - bar_room) / 4;
    char cap[96];
    snprintf(cap, sizeof cap, "original x\xE2\x82\x80\nx\xE2\x82\x80");
    SDL_Rect box = {r.x, r.y, cell, r.h};
    image_box(a, box, VIZ_TEX_RT_X0, viz_key(0x47, (uint64_t)a->p.digit, (uint64_t)res->H, 0), a->fwd_x0, 1,
              VIZ_TONE_UNIT, 0, cap, d->theme.text);
    snprintf(cap, sizeof cap, "result x\xE2\x82\x80\xE2\x80\xB2\nx\xE2\x82\x80\xE2\x80\xB2");
    box.x += cell + gap;
    image_box(a, box, VIZ_TEX_RT_OUT, viz_key(res->id, 0x48, (uint64_t)v->done, 0), out, 1, VIZ_TONE_UNIT, 0, cap,
              d->theme.second); /* the colour of the trajectory's x_t, whose end it is */
    if (out)
        snprintf(cap, sizeof cap, "|x\xE2\x82\x80\xE2\x80\xB2 \xE2\x88\x92 x\xE2\x82\x80|, mean %.3f\nmean |error| %.2f\n|error|",
                 mean, mean);
    else
        snprintf(cap, sizeof cap, "|x\xE2\x82\x80\xE2\x80\xB2 \xE2\x88\x92 x\xE2\x82\x80|\n|error|");
    box.x += cell + gap;
    SDL_Rect im = image_box(a, box, VIZ_TEX_RT_ERR, viz_key(res->id, 0x49, (uint64_t)v->done, 0),
                            out && err_img ? err_img : NULL, 1, VIZ_TONE_UNIT, 0, cap, d->theme.text);
    if (out && im.w > 0)
        viz_colorbar(d, (SDL_Rect){im.x + im.w + viz_px(d, 6), im.y, bar_w, im.h}, 0.0f, top, bar_room);
    const int cx = box.x + cell + gap + bar_w + bar_room;
    roundtrip_curve(a, (SDL_Rect){cx, r.y, r.x + r.w - cx, r.h}, res->job.start_t, out ? mean : -1.0);
}

/* Steps below which the live model is young: its samples are still rough
 * (the live preset's eval keeps improving up to a few thousand, bench/README.md). */
enum { YOUNG_STEPS = 2000 };

/* Says so, in the title row, when the samples come from a young live
 * model, and offers the setting that shows its progress better (clipping
 * x0-hat, for eps and v; x0-prediction clips its own output). */
static void young_notice(viz_app *a, const viz_result *res, SDL_Rect r, const char *title)
{
    const int64_t step = res->job.snap_step >= 0 ? res->job.snap_step : res->weights_step;
    if (step < 0 || step >= YOUNG_STEPS) return;
    viz_draw *d = &a->draw;
    const viz_theme *t = &d->theme;
    const int pad = viz_px(d, 10), sh = viz_line_h(d, VIZ_SIZE_SMALL);
    char msg[96];
    if (step == 0) snprintf(msg, sizeof msg, "untrained: noise is expected");
    else snprintf(msg, sizeof msg, "young model (step %lld): rough digits", (long long)step);
    int mw, tw;
    viz_measure(d, VIZ_SIZE_SMALL, true, msg, &mw, NULL);
    char chosen[256]; /* the title version viz_panel_begin drew */
    if (!viz_fit_text(d, VIZ_SIZE_TITLE, true, r.w - 2 * pad, title, chosen, sizeof chosen, &tw)) tw = 0;
    const bool offer = res->pred[0] != DDPM_PRED_X0 && !a->p.clip_x0 && step > 0;
    const int bw = offer ? viz_px(d, 76) : 0, h = sh + viz_px(d, 8);
    const int w = mw + viz_px(d, 12) + (offer ? bw + viz_px(d, 6) : 0);
    const int x = r.x + pad + tw + viz_px(d, 12), y = r.y + viz_px(d, 7);
    if (x + w > r.x + r.w - pad) return; /* no room beside the title */
    SDL_Rect box = {x, y, w, h};
    viz_fill_round(d, box, viz_px(d, 4), viz_mix(t->panel, t->warn, 0.3f));
    viz_label_bold(d, x + viz_px(d, 6), y + viz_px(d, 4), VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, t->text, "%s", msg);
    if (offer &&
        viz_ui_button(&a->ui, viz_ui_id("young-clip", 0), (SDL_Rect){x + w - bw - viz_px(d, 2), y + viz_px(d, 2), bw, h - viz_px(d, 4)},
                      "Clip x\xCC\x82\xE2\x82\x80", true))
        a->p.clip_x0 = true;
}

static void single_or_grid(viz_app *a, SDL_Rect c)
{
    viz_draw *d = &a->draw;
    const viz_theme *t = &d->theme;
    viz_frame_view v;
    if (!viz_app_frame_view(a, 0, &v)) {
        viz_label(d, c.x, c.y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, t->text_dim, "Waiting for the sampler\xE2\x80\xA6");
        return;
    }
    const viz_result *res = v.r;
    const int lh = viz_line_h(d, VIZ_SIZE_BODY);
    const bool grid = res->B > 1;
    const int strip_h = c.h > viz_px(d, 260) ? (int)(c.h * 0.2f) : 0;
    /* a round trip's outcome row (three images with captions) is taller */
    const int rt_h = res->job.start_t > 0 ? (int)(c.h * 0.38f) : 0;
    SDL_Rect area = {c.x, c.y, c.w, c.h - (rt_h ? rt_h : strip_h) - lh - viz_px(d, 8)};
    const int gap = viz_px(d, 16);
    const int half = (area.w - gap) / 2;
    char cap[96];
    snprintf(cap, sizeof cap, "x\xE2\x82\x9C  (t = %d)\nx\xE2\x82\x9C", v.t);
    if (v.k >= v.S && res->job.start_t > 0) /* a round trip ends at x0', not at the original x0 */
        snprintf(cap, sizeof cap, "x\xE2\x82\x80\xE2\x80\xB2  (back from t = %d)\nx\xE2\x82\x80\xE2\x80\xB2 (result)\nx\xE2\x82\x80\xE2\x80\xB2",
                 res->job.start_t);
    else if (v.k >= v.S)
        snprintf(cap, sizeof cap, "x\xE2\x82\x80  (final sample)\nx\xE2\x82\x80 (final)\nx\xE2\x82\x80");
    SDL_Rect left = image_box(a, (SDL_Rect){area.x, area.y, half, area.h}, VIZ_TEX_XT0,
                              viz_key(res->id, 0, (uint64_t)v.k, 1), v.x_t, res->B, VIZ_TONE_UNIT, 0, cap, t->second);
    char cap2[96];
    snprintf(cap2, sizeof cap2, "%s  predicted from x\xE2\x82\x9C\n%s  predicted\n%s", SUB_X0, SUB_X0, SUB_X0);
    image_box(a, (SDL_Rect){area.x + half + gap, area.y, half, area.h}, VIZ_TEX_X00,
              viz_key(res->id, 0, (uint64_t)v.k, 2), v.x0_hat, res->B, VIZ_TONE_UNIT, 0, cap2, t->accent);

    /* grid: click a cell to follow that sample (single view, decomposition) */
    if (grid && left.w > 0) {
        int cols = 1;
        while (cols * cols < res->B) cols++;
        const float cell = (float)left.w / cols;
        const int fx = a->p.focus % cols, fy = a->p.focus / cols;
        viz_outline(d, (SDL_Rect){left.x + (int)(fx * cell), left.y + (int)(fy * cell), (int)cell + 1, (int)cell + 1},
                    viz_px(d, 2), t->cursor);
        if (viz_ui_hover(&a->ui, left) && a->ui.in.pressed && !a->ui.mouse_used) {
            int cx = (int)((a->ui.in.mx - left.x) / cell), cy = (int)((a->ui.in.my - left.y) / cell);
            int f = cy * cols + cx;
            if (f >= 0 && f < res->B) a->p.focus = f;
            a->ui.mouse_used = true;
        }
    }

    step_caption(a, &v, cap, sizeof cap);
    int y = area.y + area.h + viz_px(d, 4);
    int x = c.x + viz_label_fit(d, c.x, y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, true, t->title, c.w, cap) + viz_px(d, 12);
    char more[160], live[48] = "";
    if (res->job.snap_step >= 0 && viz_app_replaying(a))
        snprintf(live, sizeof live, " \xC2\xB7 snapshot of step %lld", (long long)res->job.snap_step);
    else if (res->job.snap_step >= 0)
        snprintf(live, sizeof live, " \xC2\xB7 snapshot of step %lld (%.0f s)", (long long)res->job.snap_step,
                 res->job.snap_seconds);
    else if (res->weights_step >= 0)
        snprintf(live, sizeof live, " \xC2\xB7 live weights of step %lld", (long long)res->weights_step);
    snprintf(more, sizeof more, "%s \xC2\xB7 seed %llu%s", res->job.sides[0].label, (unsigned long long)res->job.seed,
             live);
    int mw;
    viz_measure(d, VIZ_SIZE_BODY, false, more, &mw, NULL);
    if (x + mw <= c.x + c.w) {
        viz_label(d, x, y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, t->text_dim, "%s", more);
        x += mw + viz_px(d, 12);
    }
    const char *hint = "click a sample to follow it";
    int hw;
    viz_measure(d, VIZ_SIZE_SMALL, false, hint, &hw, NULL);
    if (grid && x + hw <= c.x + c.w) viz_label(d, c.x + c.w, y, VIZ_ALIGN_RIGHT, VIZ_SIZE_SMALL, t->text_dim, "%s", hint);
    if (res->job.start_t > 0) /* a round trip: where it came back to, not the strip */
        roundtrip_strip(a, (SDL_Rect){c.x, c.y + c.h - rt_h, c.w, rt_h}, &v);
    else if (strip_h)
        x0_strip(a, (SDL_Rect){c.x, c.y + c.h - strip_h, c.w, strip_h}, &v);
}

/* A caption over a box that says why there is no image in it. */
static void note_box(viz_app *a, SDL_Rect r, const char *caption, const char *line1, const char *line2)
{
    viz_draw *d = &a->draw;
    const int bh = viz_line_h(d, VIZ_SIZE_BODY), sh = viz_line_h(d, VIZ_SIZE_SMALL);
    viz_label_bold(d, r.x, r.y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, d->theme.text, "%s", caption);
    SDL_Rect area = {r.x, r.y + bh + viz_px(d, 3), r.w, r.h - bh - viz_px(d, 3)};
    const int H = a->shown ? a->shown->H : 28, W = a->shown ? a->shown->W : 28;
    SDL_Rect ph = viz_fit(area, W, H);
    viz_fill(d, ph, viz_mix(d->theme.panel, d->theme.widget, 0.7f));
    const int cy = ph.y + ph.h / 2;
    viz_label(d, ph.x + ph.w / 2, cy - sh, VIZ_ALIGN_CENTER, VIZ_SIZE_SMALL, d->theme.text_dim, "%s", line1);
    viz_label(d, ph.x + ph.w / 2, cy, VIZ_ALIGN_CENTER, VIZ_SIZE_SMALL, d->theme.text_dim, "%s", line2);
}

static void compare_view(viz_app *a, SDL_Rect c)
{
    viz_draw *d = &a->draw;
    const viz_theme *t = &d->theme;
    viz_frame_view v[2];
    if (!viz_app_frame_view(a, 0, &v[0]) || !viz_app_frame_view(a, 1, &v[1])) {
        viz_label(d, c.x, c.y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, t->text_dim, "Waiting for the sampler\xE2\x80\xA6");
        return;
    }
    /* Sides of different step counts visit different timesteps: the frame
     * views are aligned by t (viz_app_frame_view), and x_t is subtracted only
     * where the two t are equal (x_t at t = 800 minus x_t at t = 840 mixes two
     * noise levels and means nothing). */
    const bool by_level = viz_app_aligned_by_level(a); /* two models of different schedules */
    const bool by_t = v[0].S != v[1].S && !by_level;
    const int follow = 1 - viz_app_lead_side(a);
    /* "equal" noise: the same t in one schedule, the same alpha_bar across two */
    const bool same_t = by_level ? fabs(v[0].abar - v[1].abar) < 1e-9 : v[0].t == v[1].t;
    const viz_result *res = v[0].r;
    const int B = res->B;
    const size_t n = (size_t)B * res->per;
    const int lh = viz_line_h(d, VIZ_SIZE_BODY), sh = viz_line_h(d, VIZ_SIZE_SMALL);
    const int gap = viz_px(d, 12);
    const int head_h = sh + viz_px(d, 4);
    const int col_w = (c.w - 2 * gap) / 3;
    const int row_h = (c.h - head_h - lh - viz_px(d, 10) - gap) / 2;
    const char *heads[3] = {"A", "B", "difference A \xE2\x88\x92 B\nA \xE2\x88\x92 B"};
    for (int col = 0; col < 3; col++) {
        int x = c.x + col * (col_w + gap);
        SDL_Color hc = col == 0 ? t->accent : col == 1 ? t->second : t->text;
        /* a long label shortens rather than run into the next column */
        int w = viz_label_fit(d, x, c.y, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, true, hc, col_w, heads[col]);
        if (col < 2) { /* what this side has that the other has not (the rest: the subtitle) */
            char diff[96];
            viz_side_diff(&res->job.sides[col], &res->job.sides[1 - col], diff, sizeof diff);
            if (res->job.sides[0].model != res->job.sides[1].model) {
                const size_t len = strlen(diff);
                snprintf(diff + len, sizeof diff - len, " (%s-pred)", ddpm_prediction_name(res->pred[col]));
            }
            viz_label_fit(d, x + w + viz_px(d, 6), c.y, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, false, hc,
                          col_w - w - viz_px(d, 6), diff);
        }
    }
    const int y0 = c.y + head_h;
    /* differences, only where both sides have the frame */
    float *diff = viz_app_scratch(a, 2 * n);
    float m_xt = 0, m_x0 = 0;
    const bool both_x0 = v[0].x0_hat && v[1].x0_hat;
    if (diff) {
        for (size_t i = 0; i < n; i++) diff[i] = same_t ? v[0].x_t[i] - v[1].x_t[i] : 0.0f;
        if (both_x0)
            for (size_t i = 0; i < n; i++) diff[n + i] = v[0].x0_hat[i] - v[1].x0_hat[i];
        m_xt = viz_tone_absmax(diff, n);
        if (both_x0) m_x0 = viz_tone_absmax(diff + n, n);
    }
    char cap[96];
    for (int side = 0; side < 2; side++) {
        int x = c.x + side * (col_w + gap);
        if (by_level)
            snprintf(cap, sizeof cap, "x\xE2\x82\x9C  t = %d \xC2\xB7 \xCE\xB1\xCC\x84 = %.3f\nx\xE2\x82\x9C  t = %d", v[side].t,
                     v[side].abar, v[side].t);
        else if (by_t && side == follow && !same_t)
            snprintf(cap, sizeof cap, "x\xE2\x82\x9C  t = %d (nearest)\nx\xE2\x82\x9C  t = %d", v[side].t, v[side].t);
        else
            snprintf(cap, sizeof cap, "x\xE2\x82\x9C  t = %d", v[side].t);
        if (v[side].k >= v[side].S) snprintf(cap, sizeof cap, "x\xE2\x82\x80 (final)");
        image_box(a, (SDL_Rect){x, y0, col_w, row_h}, side ? VIZ_TEX_XT1 : VIZ_TEX_XT0,
                  viz_key(res->id, (uint64_t)side, (uint64_t)v[side].k, 1), v[side].x_t, B, VIZ_TONE_UNIT, 0, cap,
                  side ? t->second : t->accent);
        snprintf(cap, sizeof cap, "%s  step %d/%d\n%s  %d/%d\n%s", SUB_X0, v[side].k, v[side].S, SUB_X0, v[side].k,
                 v[side].S, SUB_X0);
        image_box(a, (SDL_Rect){x, y0 + row_h + gap, col_w, row_h}, side ? VIZ_TEX_X01 : VIZ_TEX_X00,
                  viz_key(res->id, (uint64_t)side, (uint64_t)v[side].k, 2), v[side].x0_hat, B, VIZ_TONE_UNIT, 0, cap,
                  side ? t->second : t->accent);
    }
    /* differences of identical noise: a floor keeps float noise from filling the
     * range, and a ceiling of 2 (the width of the data range) keeps one
     * diverged pixel from turning the rest gray */
    const int x = c.x + 2 * (col_w + gap);
    /* the difference images keep room on their right for a colour bar */
    const int bar_w = viz_px(d, 8), bar_room = viz_px(d, 56);
    const int dcol_w = col_w - bar_w - bar_room - viz_px(d, 6) > col_w / 2 ? col_w - bar_w - bar_room - viz_px(d, 6)
                                                                           : col_w - bar_w - viz_px(d, 6);
    const float r_xt = m_xt < 0.05f ? 0.05f : m_xt > 2.0f ? 2.0f : m_xt;
    const float r_x0 = m_x0 < 0.05f ? 0.05f : m_x0 > 2.0f ? 2.0f : m_x0;
    if (same_t) {
        snprintf(cap, sizeof cap, "\xCE\x94x\xE2\x82\x9C  max |\xCE\x94| = %.3g\n\xCE\x94x\xE2\x82\x9C  max %.2g\n\xCE\x94x\xE2\x82\x9C",
                 m_xt, m_xt);
        SDL_Rect im = image_box(a, (SDL_Rect){x, y0, dcol_w, row_h}, VIZ_TEX_DIFF_XT,
                                viz_key(res->id, 7, (uint64_t)v[0].k, (uint64_t)v[1].k), diff, B, VIZ_TONE_SIGNED, r_xt,
                                cap, t->text);
        if (im.w > 0)
            viz_colorbar(d, (SDL_Rect){im.x + im.w + viz_px(d, 6), im.y, bar_w, im.h}, -r_xt, r_xt,
                         x + col_w - (im.x + im.w + viz_px(d, 6) + bar_w));
    } else {
        char l2[64];
        if (by_level)
            snprintf(l2, sizeof l2, "\xCE\xB1\xCC\x84 = %.3f and %.3f", v[0].abar, v[1].abar);
        else
            snprintf(l2, sizeof l2, "t = %d and t = %d", v[0].t, v[1].t);
        note_box(a, (SDL_Rect){x, y0, col_w, row_h}, "\xCE\x94x\xE2\x82\x9C", "not subtracted:", l2);
    }
    if (same_t)
        snprintf(cap, sizeof cap, "\xCE\x94%s  max |\xCE\x94| = %.3g\n\xCE\x94%s  max %.2g\n\xCE\x94%s", SUB_X0, m_x0, SUB_X0,
                 m_x0, SUB_X0);
    else /* both predict the same final x0, from different t: say which */
        snprintf(cap, sizeof cap, "\xCE\x94%s (t %d \xE2\x88\x92 t %d)\n\xCE\x94%s", SUB_X0, v[0].t, v[1].t, SUB_X0);
    SDL_Rect im = image_box(a, (SDL_Rect){x, y0 + row_h + gap, dcol_w, row_h}, VIZ_TEX_DIFF_X0,
                            viz_key(res->id, 8, (uint64_t)v[0].k, (uint64_t)v[1].k), both_x0 && diff ? diff + n : NULL,
                            B, VIZ_TONE_SIGNED, r_x0, cap, t->text);
    if (im.w > 0 && both_x0 && diff)
        viz_colorbar(d, (SDL_Rect){im.x + im.w + viz_px(d, 6), im.y, bar_w, im.h}, -r_x0, r_x0,
                     x + col_w - (im.x + im.w + viz_px(d, 6) + bar_w));
    char foot[400];
    SDL_Color fc = t->text_dim;
    if (viz_sides_identical(&res->job.sides[0], &res->job.sides[1])) {
        fc = t->warn;
        snprintf(foot, sizeof foot, "A and B are the same configuration: give B another %s in the controls (B row)\n"
                 "A = B: give B another %s", viz_compare_name(a->p.compare), viz_compare_name(a->p.compare));
    } else if (by_level) {
        snprintf(foot, sizeof foot, "Two schedules: %s shown at its visited step of nearest noise level \xCE\xB1\xCC\x84, "
                 "not nearest t\n%s at the nearest noise level \xCE\xB1\xCC\x84\nnearest \xCE\xB1\xCC\x84", follow ? "B" : "A",
                 follow ? "B" : "A");
    } else if (by_t) {
        snprintf(foot, sizeof foot, "Seed %llu, the same x_T \xC2\xB7 %s shown at its visited t nearest to %s's \xC2\xB7 "
                 "gray = no difference\nSeed %llu \xC2\xB7 %s at the nearest t \xC2\xB7 gray = equal\nseed %llu, same x_T",
                 (unsigned long long)res->job.seed, follow ? "B" : "A", follow ? "A" : "B",
                 (unsigned long long)res->job.seed, follow ? "B" : "A", (unsigned long long)res->job.seed);
    } else {
        snprintf(foot, sizeof foot, "Seed %llu on both sides: the same x_T and noise \xC2\xB7 gray = no difference\n"
                 "Seed %llu, same noise \xC2\xB7 gray = equal\nseed %llu, same noise",
                 (unsigned long long)res->job.seed, (unsigned long long)res->job.seed, (unsigned long long)res->job.seed);
    }
    viz_label_fit(d, c.x, c.y + c.h - lh, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, false, fc, c.w, foot);
}

void viz_panel_reverse(viz_app *a, SDL_Rect r)
{
    const viz_view view = a->shown ? (a->shown->job.n_sides > 1 ? VIZ_VIEW_COMPARE : a->shown->B > 1 ? VIZ_VIEW_GRID
                                                                                                      : VIZ_VIEW_SINGLE)
                                   : a->p.view;
    static const char *const titles[] = {"Reverse process: x\xE2\x82\x9C and its prediction x\xCC\x82\xE2\x82\x80\n"
                                         "Reverse process: x\xE2\x82\x9C and x\xCC\x82\xE2\x82\x80\nReverse process\nReverse",
                                         "Reverse process: 16 samples\nReverse: 16 samples\nReverse",
                                         "Comparison on identical noise\nA vs B on identical noise\nA vs B"};
    char sub[160] = "";
    const double every = viz_app_model(a)->live ? viz_app_refresh_interval(a) : 0.0;
    if (a->pb.phase == VIZ_PHASE_FORWARD) snprintf(sub, sizeof sub, "waits at x_T while the forward process plays");
    else if (view == VIZ_VIEW_COMPARE && every < 1.5 && a->shown && a->shown->weights_step < 0)
        /* B is A but for one setting: say A's (a young live model's notice takes the place instead) */
        snprintf(sub, sizeof sub, "otherwise both as A: %s", a->shown->job.sides[0].label);
    else if (every >= 1.5) /* the training keeps most of the machine (app_jobs.c) */
        snprintf(sub, sizeof sub, "refreshed every %.0f s while training", every);
    char rt_title[160];
    const char *title = titles[view];
    if (view == VIZ_VIEW_SINGLE && a->shown && a->shown->job.start_t > 0) {
        snprintf(rt_title, sizeof rt_title, "Round trip: noised to t = %d, then denoised\nRound trip from t = %d\nRound trip",
                 a->shown->job.start_t, a->shown->job.start_t);
        title = rt_title;
    }
    SDL_Rect c = viz_panel_begin(a, r, title, sub);
    if (a->shown && !sub[0]) young_notice(a, a->shown, r, title);
    if (view == VIZ_VIEW_COMPARE) compare_view(a, c);
    else single_or_grid(a, c);
}
