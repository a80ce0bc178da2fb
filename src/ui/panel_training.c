/* panel_training.c: live training: buttons (train / pause / resume, reset
 * to scratch, continue from a bundled model, save), and either the learning
 * filmstrip (x0-hat of one noised digit at five t, one column per snapshot;
 * a click on a column replays that snapshot in the reverse panel: the
 * scrubber) or the smoothed loss curve and the loss in bands of t. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "app.h"

enum { CURVE_POINTS = 400 };

static void loss_curve(viz_app *a, SDL_Rect r)
{
    viz_draw *d = &a->draw;
    const viz_theme *t = &d->theme;
    const viz_loss_history *h = &a->history;
    const int sh = viz_line_h(d, VIZ_SIZE_SMALL);
    viz_label_fit(d, r.x, r.y, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, false, t->text_dim, r.w,
                  "loss (log scale), smoothed\nloss (log), smoothed\nloss (log)");
    SDL_Rect p = {r.x + viz_px(d, 34), r.y + sh + viz_px(d, 4), r.w - viz_px(d, 38), r.h - 2 * sh - viz_px(d, 10)};
    viz_fill(d, p, viz_mix(t->panel, t->bg, 0.5f));
    if (p.w < 10 || p.h < 10) return;
    if (h->n < 2) {
        viz_label_fit(d, p.x + p.w / 2, p.y + p.h / 2 - sh / 2, VIZ_ALIGN_CENTER, VIZ_SIZE_SMALL, false, t->text_dim, p.w,
                      h->n ? "one step so far\none step" : "press T to train\npress T");
        return;
    }
    double lo = 1e30, hi = -1e30;
    for (size_t i = 0; i < h->n; i++) {
        double v = h->loss[i];
        if (v > 0 && isfinite(v)) lo = fmin(lo, v), hi = fmax(hi, v);
    }
    if (!(lo < hi)) hi = lo * 2 + 1e-6;
    const double llo = floor(log10(lo) * 4) / 4, lhi = ceil(log10(hi) * 4) / 4;
    for (int e = (int)floor(llo); e <= (int)ceil(lhi); e++) {
        if (e < llo || e > lhi) continue;
        float y = (float)(p.y + p.h - (e - llo) / (lhi - llo) * p.h);
        viz_fill(d, (SDL_Rect){p.x, (int)y, p.w, 1}, t->grid);
        if (p.h > viz_px(d, 50))
            viz_label(d, p.x - viz_px(d, 4), (int)y - sh / 2, VIZ_ALIGN_RIGHT, VIZ_SIZE_SMALL, t->text_dim, "1e%d", e);
    }
    const bool roomy = p.h > viz_px(d, 50); /* axis labels only where they do not cover the curve */
    const int n = (int)(h->n < CURVE_POINTS ? h->n : CURVE_POINTS);
    SDL_FPoint raw[CURVE_POINTS], smooth[CURVE_POINTS];
    for (int i = 0; i < n; i++) {
        size_t j = (size_t)((double)i * (h->n - 1) / (n - 1));
        float x = (float)(p.x + (double)i / (n - 1) * p.w);
        double lr = log10(h->loss[j] > 0 ? h->loss[j] : lo), ls = log10(h->smooth[j] > 0 ? h->smooth[j] : lo);
        raw[i] = (SDL_FPoint){x, (float)(p.y + p.h - (lr - llo) / (lhi - llo) * p.h)};
        smooth[i] = (SDL_FPoint){x, (float)(p.y + p.h - (ls - llo) / (lhi - llo) * p.h)};
    }
    SDL_Color faint = t->accent;
    faint.a = 70;
    viz_polyline(d, raw, n, 1.0f * d->scale, faint);
    viz_polyline(d, smooth, n, t->line * d->scale, t->accent);
    if (!roomy) return;
    viz_label(d, p.x, p.y + p.h + viz_px(d, 3), VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, t->text_dim, "step %lld",
              (long long)h->step[0]);
    viz_label(d, p.x + p.w, p.y + p.h + viz_px(d, 3), VIZ_ALIGN_RIGHT, VIZ_SIZE_SMALL, t->text_dim, "%lld",
              (long long)h->step[h->n - 1]);
}

static void loss_by_t(viz_app *a, SDL_Rect r)
{
    viz_draw *d = &a->draw;
    const viz_theme *t = &d->theme;
    const viz_loss_history *h = &a->history;
    const int sh = viz_line_h(d, VIZ_SIZE_SMALL);
    char title[160];
    snprintf(title, sizeof title,
             "recent loss by t \xC2\xB7 line: how often t is drawn\nloss by t \xC2\xB7 line: t drawn\nloss by t (%d bands)\nloss by t",
             VIZ_LOSS_BANDS);
    viz_label_fit(d, r.x, r.y, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, false, t->text_dim, r.w, title);
    double hi = 0;
    for (int b = 0; b < VIZ_LOSS_BANDS; b++)
        if (h->band_count[b] > 0 && h->band_loss[b] > hi) hi = h->band_loss[b];
    /* a scale on the left: round ticks from 0 to the top of the axis */
    int tick_w = 0;
    viz_measure(d, VIZ_SIZE_SMALL, false, "0.25", &tick_w, NULL);
    const int left = hi > 0 ? tick_w + viz_px(d, 6) : 0;
    SDL_Rect p = {r.x + left, r.y + sh + viz_px(d, 4), r.w - left, r.h - 2 * sh - viz_px(d, 10)};
    viz_fill(d, p, viz_mix(t->panel, t->bg, 0.5f));
    if (p.w < 10 || p.h < 10) return;
    if (hi <= 0) {
        viz_label_fit(d, p.x + p.w / 2, p.y + p.h / 2 - sh / 2, VIZ_ALIGN_CENTER, VIZ_SIZE_SMALL, false, t->text_dim, p.w,
                      "no data yet\nno data");
        return;
    }
    const double step = viz_nice_step(hi, p.h / (2 * sh) > 1 ? p.h / (2 * sh) : 1);
    hi = ceil(hi / step) * step;
    for (double v = 0; v <= hi + step * 1e-6; v += step) {
        const int y = p.y + p.h - (int)lrint(v / hi * (p.h - viz_px(d, 4)));
        viz_fill(d, (SDL_Rect){p.x, y, p.w, 1}, t->grid);
        const int ly = y - sh / 2 < p.y ? p.y : y - sh / 2 > p.y + p.h - sh ? p.y + p.h - sh : y - sh / 2;
        viz_label(d, p.x - viz_px(d, 4), ly, VIZ_ALIGN_RIGHT, VIZ_SIZE_SMALL, t->text_dim, "%g", v);
    }
    const int bw = p.w / VIZ_LOSS_BANDS;
    const int cur = viz_app_current_t(a);
    for (int b = 0; b < VIZ_LOSS_BANDS; b++) {
        if (h->band_count[b] == 0) continue;
        int bh = (int)lrint(h->band_loss[b] / hi * (p.h - viz_px(d, 4)));
        SDL_Rect bar = {p.x + b * bw + 1, p.y + p.h - bh, bw - 2, bh};
        const bool here = h->T > 0 && cur >= 0 && cur * VIZ_LOSS_BANDS / h->T == b;
        viz_fill(d, bar, here ? t->cursor : t->second);
    }
    /* how often training draws each band (the live run's recipe: uniform is
     * flat, logit-normal trains the middle more), its largest share at the top */
    const ddpm_run_config *run = &a->train.run;
    if (h->T > 0) {
        double share[VIZ_LOSS_BANDS], top = 0;
        for (int b = 0; b < VIZ_LOSS_BANDS; b++) {
            share[b] = ddpm_t_draw_share(h->T, run->t_logit_mean, run->t_logit_std, (int)((int64_t)b * h->T / VIZ_LOSS_BANDS),
                                         (int)((int64_t)(b + 1) * h->T / VIZ_LOSS_BANDS));
            if (share[b] > top) top = share[b];
        }
        SDL_FPoint line[2 * VIZ_LOSS_BANDS];
        for (int b = 0; b < VIZ_LOSS_BANDS; b++) {
            const float y = (float)(p.y + p.h) - (float)(share[b] / top) * (float)(p.h - viz_px(d, 4));
            line[2 * b] = (SDL_FPoint){(float)(p.x + b * bw), y};
            line[2 * b + 1] = (SDL_FPoint){(float)(p.x + (b + 1) * bw), y};
        }
        viz_polyline(d, line, 2 * VIZ_LOSS_BANDS, t->line * d->scale * 0.7f, t->accent);
    }
    int t0_w = 0, tT_w = 0; /* "t = 0" where it leaves room for the "T" at the other end */
    viz_measure(d, VIZ_SIZE_SMALL, false, "t = 0", &t0_w, NULL);
    viz_measure(d, VIZ_SIZE_SMALL, false, "T", &tT_w, NULL);
    viz_label(d, p.x, p.y + p.h + viz_px(d, 3), VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, t->text_dim, "%s",
              t0_w + tT_w + viz_px(d, 8) <= p.w ? "t = 0" : "0");
    viz_label(d, p.x + p.w, p.y + p.h + viz_px(d, 3), VIZ_ALIGN_RIGHT, VIZ_SIZE_SMALL, t->text_dim, "T");
}

/* "1m14s", "9.5 s" */
static void fmt_seconds(char *buf, size_t cap, double s)
{
    if (s < 0) snprintf(buf, cap, "?");
    else if (s < 60) snprintf(buf, cap, "%.*f s", s < 10 ? 1 : 0, s);
    else snprintf(buf, cap, "%dm%02ds", (int)(s / 60), (int)s % 60);
}

/* "800", "1.6k", "12k" */
static void fmt_step(char *buf, size_t cap, int64_t step)
{
    if (step < 1000) snprintf(buf, cap, "%lld", (long long)step);
    else if (step < 10000) snprintf(buf, cap, "%.1fk", step / 1000.0);
    else snprintf(buf, cap, "%lldk", (long long)(step / 1000));
}

/* The filmstrip's lines of text: its caption, the steps above the columns
 * and the seconds below them; a compact strip (beside the buttons) keeps the
 * steps only, and three of its five t (the first, middle and last), so a low
 * panel still shows digits large enough for a room. */
static int film_text_h(viz_draw *d, bool compact)
{
    return compact ? viz_line_h(d, VIZ_SIZE_SMALL) + viz_px(d, 4) : 3 * viz_line_h(d, VIZ_SIZE_SMALL) + viz_px(d, 8);
}

static int film_rows(bool compact) { return compact ? 3 : DDPM_FILM_N; }

/* the filmstrip row j of a strip of n rows: which of the DDPM_FILM_N t it shows */
static int film_row_t(int j, int n) { return j * (DDPM_FILM_N - 1) / (n - 1); }

/* The snapshot in column c (1..shown) where `shown` of `all` fit: evenly
 * spread, the first and the last included. */
static int film_snap(int c, int shown, int all)
{
    if (shown >= all) return c - 1;
    if (shown <= 1) return all - 1;
    return (int)(((long)(c - 1) * (all - 1) + (shown - 1) / 2) / (shown - 1));
}

/* The learning filmstrip: one column per snapshot (the noisy inputs first,
 * the live weights last), one row per t: x0-hat of the same noised digit as
 * the network learns.  A click on a column replays that snapshot. */
static void filmstrip(viz_app *a, SDL_Rect r, bool compact)
{
    viz_draw *d = &a->draw;
    const viz_theme *t = &d->theme;
    const viz_history_store *h = &a->snaps;
    const int sh = viz_line_h(d, VIZ_SIZE_SMALL);
    if (r.h - film_text_h(d, compact) < 20) { /* no room for the strip: say where it is, not a caption over nothing */
        if (r.h >= sh)
            viz_label_fit(d, r.x, r.y, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, false, t->text_dim, r.w,
                          d->lecture ? "the filmstrip needs more room: L leaves lecture style\nL: room for the filmstrip"
                                     : "the filmstrip needs a taller window\nno room for the filmstrip");
        return;
    }
    if (!compact)
        viz_label_fit(d, r.x, r.y, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, false, t->text_dim, r.w,
                  h->shown_run == 0 ? "x\xCC\x82\xE2\x82\x80 as a network learns (a bundled run) \xC2\xB7 click a column "
                                      "to replay it\nx\xCC\x82\xE2\x82\x80 as a network learns (bundled run)\n"
                                      "x\xCC\x82\xE2\x82\x80 as a network learns"
                                    : "x\xCC\x82\xE2\x82\x80 as the network learns \xC2\xB7 click a column to replay "
                                      "it\nx\xCC\x82\xE2\x82\x80 as the network learns");
    if (!h->per) return;
    const int H = a->digits.height, W = a->digits.width, gap = 2;
    /* the row labels' column: as wide as its widest label (the rows' t, "step"
     * above them, "trained" below where the seconds show) */
    int label_w = 0;
    {
        int ts[DDPM_FILM_N];
        ddpm_film_timesteps(viz_app_T(a), ts);
        char lab[32];
        snprintf(lab, sizeof lab, "t=%d", ts[DDPM_FILM_N - 1]);
        int w1 = 0, w2 = 0;
        viz_measure(d, VIZ_SIZE_SMALL, false, lab, &w1, NULL);
        viz_measure(d, VIZ_SIZE_SMALL, false, compact ? "step" : "trained", &w2, NULL);
        label_w = (w1 > w2 ? w1 : w2) + viz_px(d, 10);
    }
    const int above = (compact ? 1 : 2) * sh + viz_px(d, 4), rows = film_rows(compact);
    SDL_Rect area = {r.x + label_w, r.y + above, r.w - label_w, r.h - film_text_h(d, compact)};
    if (area.w < 20 || area.h < 20) return;
    const bool live_row = h->shown_run != 0 && h->film_now_step >= 0;
    const int cell = area.h / rows > 8 ? area.h / rows : 8;
    /* every column wide enough for its step label: where the labels are wider
     * than the digits (lecture style), the columns are padded apart, fewer
     * of them and each labelled, rather than one label over two columns */
    int widest = 0;
    for (int i = 0; i < h->n_shown; i++) {
        char st[32];
        int w = 0;
        fmt_step(st, sizeof st, viz_app_snapshot(a, i)->ck.step);
        viz_measure(d, VIZ_SIZE_SMALL, false, st, &w, NULL);
        if (w > widest) widest = w;
    }
    const float scale = (float)cell / (H + gap); /* screen pixels per texture pixel */
    int pad = (int)ceilf((widest + viz_px(d, 6)) / scale) - (W + gap);
    if (pad < 0) pad = 0;
    if (pad > W) pad = W;
    const int Wp = W + pad, pitch = (int)(scale * (Wp + gap));
    int cols_fit = pitch > 0 ? area.w / pitch : 3;
    if (cols_fit < 3) cols_fit = 3;
    /* the snapshots that fit, spread over the run where not all do: the
     * first and the last always (step 50 against the latest is the story) */
    const int n_all = h->n_shown;
    int n_snap = n_all;
    if (1 + n_snap + live_row > cols_fit) n_snap = cols_fit - 1 - live_row > 0 ? cols_fit - 1 - live_row : 0;
    const int cols = 1 + n_snap + live_row;
    const size_t per = h->per, per_p = (size_t)Wp * H; /* a digit, and its padded cell */
    uint64_t key = viz_key(0xF11, (uint64_t)h->shown_run, (uint64_t)h->film_version,
                           (uint64_t)(((n_all * 1000 + cols) * 8 + rows) * 64 + pad));
    for (int c = 1; c <= n_snap; c++) {
        const viz_snap *s = viz_app_snapshot(a, film_snap(c, n_snap, n_all));
        key = viz_key(key, (uint64_t)s->ck.step, (uint64_t)(uintptr_t)s, 0);
    }
    int gw, gh;
    viz_tone_grid_size(cols * rows, cols, Wp, H, gap, &gw, &gh);
    viz_image_tex *tx = &a->tex[VIZ_TEX_FILM];
    if (tx->key != key) { /* the images, padded, only when they change */
        float *img = viz_app_scratch(a, per_p * (size_t)rows * (size_t)cols);
        if (!img) return;
        for (int c = 0; c < cols; c++) {
            const viz_snap *s = c >= 1 && c <= n_snap ? viz_app_snapshot(a, film_snap(c, n_snap, n_all)) : NULL;
            const float *src = c == 0 ? h->film_xt : s ? s->film : h->film_now;
            for (int j = 0; j < rows; j++) {
                float *dst = img + per_p * ((size_t)j * cols + c);
                for (size_t k = 0; k < per_p; k++) dst[k] = -1.0f;
                if (!src) continue;
                const float *from = src + per * (size_t)film_row_t(j, rows);
                for (int y = 0; y < H; y++) memcpy(dst + (size_t)y * Wp + pad / 2, from + (size_t)y * W, sizeof(float) * W);
            }
        }
        uint32_t *px = viz_app_pixels(a, (size_t)gw * gh);
        if (!px) return;
        SDL_Color bg = t->panel;
        const uint32_t bg_argb = 0xFF000000u | (uint32_t)bg.r << 16 | (uint32_t)bg.g << 8 | bg.b;
        viz_tone_grid(px, img, cols * rows, cols, Wp, H, gap, bg_argb, VIZ_TONE_UNIT, 0);
        if (pad > 0) /* the padding is the panel's, not black */
            for (int y = 0; y < gh; y++)
                for (int x = 0; x < gw; x++) {
                    const int in = x % (Wp + gap);
                    if (in < pad / 2 || (in >= pad / 2 + W && in < Wp)) px[(size_t)y * gw + x] = bg_argb;
                }
        viz_image_update(d, tx, key, px, gw, gh);
    }
    a->snaps.film_cols = cols;
    SDL_Rect fit = {area.x, area.y, area.w < cols * pitch ? area.w : cols * pitch, area.h};
    SDL_Rect drawn = viz_app_draw_tex(a, VIZ_TEX_FILM, fit);
    if (drawn.w <= 0) return;
    const float cw = (float)drawn.w / gw * (Wp + gap), ch = (float)drawn.h / gh * (H + gap);
    int ts[DDPM_FILM_N];
    ddpm_film_timesteps(viz_app_T(a), ts);
    /* every row's t where the rows are a label high, else every other one's */
    const int row_stride = ch >= sh ? 1 : 2 * ch >= sh ? 2 : rows;
    for (int j = row_stride > 1 ? 1 : 0; j < rows; j += row_stride)
        viz_label(d, drawn.x - viz_px(d, 6), drawn.y + (int)(ch * (j + 0.5f)) - sh / 2, VIZ_ALIGN_RIGHT, VIZ_SIZE_SMALL,
                  t->text_dim, "t=%d", ts[film_row_t(j, rows)]);
    char secs[32];
    const bool live_model = viz_app_model(a)->live;
    /* the columns' steps: the last's always, x_t's, and from the left every
     * one that keeps clear of its neighbours (the first snapshot's, step 50,
     * wherever it fits: "step 50 against now" is the story) */
    char last_label[32];
    if (cols - 1 >= 1 && cols - 1 <= n_snap) fmt_step(last_label, sizeof last_label, viz_app_snapshot(a, film_snap(cols - 1, n_snap, n_all))->ck.step);
    else snprintf(last_label, sizeof last_label, "now");
    int last_w = 0, xt_w = 0;
    viz_measure(d, VIZ_SIZE_SMALL, false, last_label, &last_w, NULL);
    viz_measure(d, VIZ_SIZE_SMALL, false, "x\xE2\x82\x9C", &xt_w, NULL);
    const int last_left = drawn.x + (int)(cw * (cols - 0.5f)) - last_w / 2;
    int label_right = drawn.x + (int)(cw * 0.5f) + xt_w / 2; /* where the last label drawn ends */
    /* the seconds and the live step under the columns: only where each fits its column */
    int secs_w = 0;
    viz_measure(d, VIZ_SIZE_SMALL, false, "10m00s", &secs_w, NULL);
    const bool under = !compact && secs_w + viz_px(d, 4) <= cw && !viz_app_replaying(a); /* training seconds: wall time */
    for (int c = 0; c < cols; c++) {
        const int x = drawn.x + (int)(cw * (c + 0.5f));
        const int snap = c == 0 ? -2 : c <= n_snap ? film_snap(c, n_snap, n_all) : -1;
        const bool sel = c > 0 && live_model && a->p.snapshot == snap;
        SDL_Color col = sel ? t->cursor : t->text_dim;
        const int ty = drawn.y - sh - viz_px(d, 2), by = drawn.y + drawn.h + viz_px(d, 2);
        if (c == 0) {
            viz_label(d, x, ty, VIZ_ALIGN_CENTER, VIZ_SIZE_SMALL, t->second, "x\xE2\x82\x9C");
            viz_label(d, drawn.x - viz_px(d, 6), ty, VIZ_ALIGN_RIGHT, VIZ_SIZE_SMALL, t->text_dim, "step");
            if (under) viz_label(d, drawn.x - viz_px(d, 6), by, VIZ_ALIGN_RIGHT, VIZ_SIZE_SMALL, t->text_dim, "trained");
        } else if (snap >= 0) {
            const viz_snap *s = viz_app_snapshot(a, snap);
            fmt_seconds(secs, sizeof secs, s->ck.seconds);
            char st[32];
            fmt_step(st, sizeof st, s->ck.step);
            int w = 0;
            viz_measure(d, VIZ_SIZE_SMALL, false, st, &w, NULL);
            if (c == cols - 1 || (x - w / 2 >= label_right + viz_px(d, 2) && x + w / 2 + viz_px(d, 2) <= last_left)) {
                viz_label(d, x, ty, VIZ_ALIGN_CENTER, VIZ_SIZE_SMALL, col, "%s", st);
                label_right = x + w / 2;
            }
            if (under) viz_label(d, x, by, VIZ_ALIGN_CENTER, VIZ_SIZE_SMALL, t->text_dim, "%s", secs);
        } else {
            viz_label(d, x, ty, VIZ_ALIGN_CENTER, VIZ_SIZE_SMALL, col, "now"); /* the live column is the last */
            if (under)
                viz_label(d, x, by, VIZ_ALIGN_CENTER, VIZ_SIZE_SMALL, t->text_dim, "%lld", (long long)h->film_now_step);
        }
        SDL_Rect colr = {drawn.x + (int)(cw * c), drawn.y, (int)cw, drawn.h};
        if (sel) viz_outline(d, (SDL_Rect){colr.x - 1, colr.y - 1, colr.w + 1, colr.h + 2}, viz_px(d, 2), t->cursor);
        if (c > 0 && viz_ui_hover(&a->ui, colr) && a->ui.in.pressed && !a->ui.mouse_used) {
            viz_app_scrub_to(a, snap);
            a->ui.mouse_used = true;
        }
    }
    if (cols == 1)
        viz_label_fit(d, drawn.x + drawn.w + viz_px(d, 12), drawn.y + drawn.h / 2 - sh / 2, VIZ_ALIGN_LEFT,
                      VIZ_SIZE_SMALL, false, t->text_dim, r.x + r.w - drawn.x - drawn.w - viz_px(d, 12),
                      "press T: snapshots come at steps 50, 100, 200, 400, \xE2\x80\xA6\npress T: snapshots at "
                      "50, 100, 200, \xE2\x80\xA6\npress T");
}

/* The status line and the four buttons in c; returns the y below them (past
 * c's bottom where they do not fit).  With draw false it only measures (the
 * panel weighs its layouts): nothing is drawn and no button is touched.
 * HEAD_ROW: across the panel, the buttons in one row where they fit.
 * HEAD_COLUMN: a column beside the plots, the buttons two by two.
 * HEAD_TIGHT: a low column: one line (the state, and the step where it
 * fits), the buttons two by two as high as the column leaves them. */
typedef enum { HEAD_ROW, HEAD_COLUMN, HEAD_TIGHT } head_mode;

static int head(viz_app *a, SDL_Rect c, bool draw, head_mode mode)
{
    const bool compact = mode == HEAD_TIGHT;
    viz_draw *d = &a->draw;
    viz_ui *ui = &a->ui;
    const viz_theme *t = &d->theme;
    const viz_train_status *st = &a->train;
    const viz_model *shown = viz_app_model(a);
    const int lh = viz_line_h(d, VIZ_SIZE_BODY);

    /* status line */
    char buf[256];
    SDL_Color sc = t->text_dim;
    const char *state = "not started", *short_state = NULL;
    if (st->busy) state = st->busy_what, sc = t->warn;
    else if (st->state == VIZ_TRAIN_RUNNING)
        state = st->yielding ? "running (held while sampling)" : "running", short_state = "running", sc = t->ok;
    else if (st->state == VIZ_TRAIN_PAUSED) state = "paused", sc = t->warn;
    else if (st->state == VIZ_TRAIN_FAILED) state = "stopped (error)", sc = t->error;
    snprintf(buf, sizeof buf, "\xE2\x97\x8F %s\n\xE2\x97\x8F %s", state, short_state ? short_state : state);
    char shown_state[256];
    int state_w = 0;
    viz_fit_text(d, VIZ_SIZE_BODY, true, c.w, buf, shown_state, sizeof shown_state, &state_w);
    if (draw) viz_label_fit(d, c.x, c.y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, true, sc, c.w, buf);
    const int x = c.x + state_w;
    /* the numbers: the full line, or in a narrow column shorter versions;
     * no loss before the first step ("loss 0.0000" read as a perfect one) */
    char loss[32];
    if (st->step > 0) snprintf(loss, sizeof loss, "%.4f", st->loss_smooth);
    else snprintf(loss, sizeof loss, "\xE2\x80\x94");
    if (viz_app_replaying(a) || compact) /* a replay shows no wall time */
        snprintf(buf, sizeof buf, "step %lld \xC2\xB7 loss %s\nstep %lld", (long long)st->step, loss, (long long)st->step);
    else
        snprintf(buf, sizeof buf, "step %lld \xC2\xB7 %.0f %s/s \xC2\xB7 loss %s\nstep %lld \xC2\xB7 loss %s\nstep %lld",
                 (long long)st->step, st->images_per_s, viz_app_points(a) ? "pts" : "img", loss, (long long)st->step,
                 loss, (long long)st->step);
    const size_t full_len = strcspn(buf, "\n");
    int sw = 0;
    {
        char full[256];
        snprintf(full, sizeof full, "%.*s", (int)full_len, buf);
        viz_measure(d, VIZ_SIZE_BODY, false, full, &sw, NULL);
    }
    int by = c.y + lh + viz_px(d, 8);
    if (compact) { /* the step beside the state where it fits, else only the state */
        const char *last = strrchr(buf, '\n') + 1;
        int w = 0;
        viz_measure(d, VIZ_SIZE_BODY, false, last, &w, NULL);
        if (draw && x + viz_px(d, 12) + w <= c.x + c.w)
            viz_label(d, x + viz_px(d, 12), c.y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, t->text, "%s", last);
    } else if (x + viz_px(d, 12) + sw > c.x + c.w) { /* the numbers get their own line */
        if (draw) viz_label_fit(d, c.x, c.y + lh + viz_px(d, 2), VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, false, t->text, c.w, buf);
        by += lh;
    } else if (draw) {
        viz_label(d, x + viz_px(d, 12), c.y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, t->text, "%.*s", (int)full_len, buf);
    }

    /* buttons: one row of four, or two rows of two when the labels do not fit;
     * each label shortens to fit (viz_ui_button takes versions, one per line).  "Resume"
     * goes on with the live run; "Fine-tune" starts a live run from the
     * bundled model shown (it was "Continue", which read like "Resume"). */
    int bh = viz_line_h(d, VIZ_SIZE_BODY) + viz_px(d, 10);
    const int g = viz_px(d, 6);
    int tw, th;
    viz_measure(d, VIZ_SIZE_BODY, true, "Fine-tune", &tw, &th);
    /* two rows only where the panel has the height for them and what follows */
    bool two_rows = tw + viz_px(d, 12) > (c.w - 3 * g) / 4 && by + 2 * bh + g <= c.y + c.h;
    if (compact) {
        two_rows = true;
        if (by + 2 * bh + g > c.y + c.h) bh = (c.y + c.h - by - g) / 2;
        if (bh < lh + viz_px(d, 2)) return c.y + c.h + 1; /* no room */
    } else if (mode == HEAD_COLUMN && !two_rows && tw + viz_px(d, 12) > (c.w - 3 * g) / 4) {
        return c.y + c.h + 1; /* a column's buttons go two by two, or not at all */
    }
    const int per_row = two_rows ? 2 : 4;
    const int bw = (c.w - (per_row - 1) * g) / per_row;
    if (draw) {
        const char *train_label = st->state == VIZ_TRAIN_RUNNING ? "Pause (T)\nPause"
                                : st->has_run ? "Resume (T)\nResume" : "Train (T)\nTrain";
        char tune_label[160];
        const int tune_from = shown->live ? (a->models.n_files > 0 ? 0 : -1) : a->p.model;
        if (tune_from >= 0)
            snprintf(tune_label, sizeof tune_label, "Fine-tune %s\nFine-tune", a->models.items[tune_from].name);
        else
            snprintf(tune_label, sizeof tune_label, "Fine-tune");
        SDL_Rect b[4];
        for (int i = 0; i < 4; i++)
            b[i] = (SDL_Rect){c.x + (i % per_row) * (bw + g), by + (i / per_row) * (bh + g), bw, bh};
        if (viz_ui_button(ui, viz_ui_id("train", 0), b[0], train_label, true)) viz_app_toggle_training(a);
        if (viz_ui_button(ui, viz_ui_id("train-reset", 0), b[1], "Restart\nReset", false)) {
            viz_trainer_reset(a->trainer, st->state == VIZ_TRAIN_RUNNING);
            viz_app_toast(a, VIZ_LEVEL_INFO, "Training restarts from scratch (%s preset)", st->run.preset);
        }
        if (viz_ui_button(ui, viz_ui_id("train-continue", 0), b[2], tune_label, false)) viz_app_continue_training(a);
        if (viz_ui_button(ui, viz_ui_id("train-save", 0), b[3], "Save (Ctrl+S)\nSave", false)) viz_app_save_checkpoint(a);
    }
    return by + (two_rows ? 2 : 1) * (bh + g) - g;
}

/* How tall a filmstrip's cells are in a strip h high. */
static int film_cell(viz_draw *d, int h, bool compact)
{
    return (h - film_text_h(d, compact)) / film_rows(compact);
}

void viz_panel_training(viz_app *a, SDL_Rect r)
{
    viz_draw *d = &a->draw;
    viz_ui *ui = &a->ui;
    const viz_train_status *st = &a->train;
    const bool images = !viz_app_points(a);
    /* the tabs sit in the title row, right, as wide as their labels */
    static const char *const tabs[] = {"filmstrip", "loss"};
    int tab_w = 0;
    if (images) {
        int w0 = 0, w1 = 0;
        viz_measure(d, VIZ_SIZE_BODY, true, tabs[0], &w0, NULL);
        viz_measure(d, VIZ_SIZE_BODY, true, tabs[1], &w1, NULL);
        tab_w = 2 * ((w0 > w1 ? w0 : w1) + viz_px(d, 12));
    }
    const SDL_Rect c = viz_panel_content(a, r);

    /* plots: the filmstrip (images), or the loss curve and the loss by t */
    const bool film = images && !a->snaps.loss_view;
    int py = head(a, c, false, HEAD_ROW) + viz_px(d, 8);
    SDL_Rect plots = {c.x, py, c.w, c.y + c.h - py};
    /* Where the plots below the buttons would be short (a wide, low panel:
     * lecture style at 16:9, or the default window), the buttons take a
     * column on the left and the plots the panel's whole height beside them:
     * the filmstrip with its five t where its cells stay large, else a
     * compact strip (three t, no caption); the layout must make its cells
     * half again as large to be chosen. */
    bool compact = false, side = false;
    head_mode mode = HEAD_COLUMN;
    const int col_w = c.w * 40 / 100;
    const SDL_Rect col = {c.x, c.y, col_w, c.h};
    {
        const int gap = viz_px(d, 14), plots_min = 5 * viz_line_h(d, VIZ_SIZE_SMALL);
        const int below = film_cell(d, plots.h, false), side_full = film_cell(d, c.h, false);
        const bool side_compact = side_full < viz_px(d, 20);
        const int cell = side_compact ? film_cell(d, c.h, true) : side_full;
        const bool side_better = film ? cell * 2 >= below * 3 && cell >= viz_px(d, 12)
                                      : plots.h < plots_min && c.h >= plots_min * 4 / 5;
        if (side_better) {
            side = head(a, col, false, HEAD_COLUMN) <= c.y + c.h;
            if (!side) mode = HEAD_TIGHT, side = head(a, col, false, HEAD_TIGHT) <= c.y + c.h;
        }
        if (side) {
            plots = (SDL_Rect){c.x + col_w + gap, c.y, c.w - col_w - gap, c.h};
            compact = film && side_compact;
        }
    }

    /* what the panel trains is the live model, not the model shown (unless
     * it is the live one); a compact filmstrip has no caption, so the title
     * row says whose run it shows before the live run has its own */
    char sub[640];
    const viz_model *shown = viz_app_model(a);
    if (compact && a->snaps.shown_run == 0)
        snprintf(sub, sizeof sub, "x\xCC\x82\xE2\x82\x80 of a bundled run \xC2\xB7 press T to train your own\n"
                                  "x\xCC\x82\xE2\x82\x80 of a bundled run\nbundled run");
    else if (shown->live) snprintf(sub, sizeof sub, "live model: %s\n%s", st->origin, st->origin);
    else snprintf(sub, sizeof sub, "a live model, not %s: %s\nlive model: %s\nlive model", shown->name, st->origin, st->origin);
    viz_panel_begin_reserve(a, r, "Training", sub, tab_w);
    head(a, side ? col : c, true, side ? mode : HEAD_ROW);
    SDL_Rect clip;
    if (images) {
        int tab = a->snaps.loss_view;
        const int tab_h = viz_line_h(d, VIZ_SIZE_BODY) + viz_px(d, 6);
        if (viz_ui_segmented(ui, viz_ui_id("train-tab", 0), (SDL_Rect){r.x + r.w - tab_w - viz_px(d, 10), r.y + viz_px(d, 6), tab_w, tab_h},
                             tabs, 2, &tab))
            a->snaps.loss_view = tab;
        if (film) {
            if (SDL_IntersectRect(&plots, &r, &clip)) {
                viz_gfx_set_clip(d->g, &clip);
                filmstrip(a, plots, compact);
            }
            viz_gfx_set_clip(d->g, &r);
            return;
        }
    }
    /* no room for the plots: no titles over nothing (beside the buttons a
     * plot four lines high still reads) */
    if (plots.h < (plots.y == c.y ? 4 : 5) * viz_line_h(d, VIZ_SIZE_SMALL)) return;
    const int left_w = plots.w * 58 / 100;
    SDL_Rect lr = {plots.x, plots.y, left_w, plots.h};
    SDL_Rect rr = {plots.x + left_w + viz_px(d, 10), plots.y, plots.w - left_w - viz_px(d, 10), plots.h};
    if (SDL_IntersectRect(&lr, &r, &clip)) {
        viz_gfx_set_clip(d->g, &clip);
        loss_curve(a, lr);
    }
    if (SDL_IntersectRect(&rr, &r, &clip)) {
        viz_gfx_set_clip(d->g, &clip);
        loss_by_t(a, rr);
    }
    viz_gfx_set_clip(d->g, &r);
}
