/* panel_forward.c: the forward process q(x_t | x_0) on a real digit, with a
 * fixed epsilon so that the animation is smooth: x_t = ddpm_q_sample(t).
 * During the reverse phase it shows real data at the sampler's current
 * noise level, for comparison. */
#include <math.h>
#include <stdio.h>

#include "app.h"

/* Two bars: how much of x_t is signal (sqrt(ab)) and how much is noise (sqrt(1-ab)). */
static void signal_noise_bars(viz_app *a, SDL_Rect r, double signal, double noise)
{
    viz_draw *d = &a->draw;
    const viz_theme *t = &d->theme;
    const int lh = viz_line_h(d, VIZ_SIZE_SMALL);
    const int bar_h = viz_px(d, 7);
    const char *names[2] = {"signal \xE2\x88\x9A\xCE\xB1\xCC\x84", "noise \xE2\x88\x9A(1\xE2\x88\x92\xCE\xB1\xCC\x84)"};
    const double v[2] = {signal, noise};
    const SDL_Color col[2] = {t->accent, t->second};
    int label_w = 0;
    for (int i = 0; i < 2; i++) {
        int w, h;
        viz_measure(d, VIZ_SIZE_SMALL, false, names[i], &w, &h);
        if (w > label_w) label_w = w;
    }
    for (int i = 0; i < 2; i++) {
        int y = r.y + i * (lh + viz_px(d, 3));
        viz_label(d, r.x, y, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, t->text_dim, "%s", names[i]);
        SDL_Rect track = {r.x + label_w + viz_px(d, 8), y + (lh - bar_h) / 2, r.w - label_w - viz_px(d, 60), bar_h};
        viz_fill_round(d, track, bar_h / 2, t->track);
        SDL_Rect fill = track;
        fill.w = (int)lrint(track.w * (v[i] < 0 ? 0 : v[i] > 1 ? 1 : v[i]));
        viz_fill_round(d, fill, bar_h / 2, col[i]);
        viz_label_bold(d, r.x + r.w, y, VIZ_ALIGN_RIGHT, VIZ_SIZE_SMALL, t->text, "%.3f", v[i]);
    }
}

void viz_panel_forward(viz_app *a, SDL_Rect r)
{
    viz_draw *d = &a->draw;
    viz_ui *ui = &a->ui;
    const viz_theme *t = &d->theme;
    const bool forward = a->pb.phase == VIZ_PHASE_FORWARD;
    char sub[200];
    /* a round trip starts from this very digit: then it is the sample's own */
    const bool roundtrip = viz_job_start_t(&a->p) > 0;
    const ddpm_dataset *images = viz_app_images(a);
    const char *noun = ddpm_dataset_class_name(images, 0) ? "image" : "digit";
    const int label = images->labels && a->p.digit >= 0 && (size_t)a->p.digit < images->n ? images->labels[a->p.digit] : -1;
    /* in the reverse phase this is a real digit at the sampler's noise level,
     * for comparison: not the sample's own trajectory, and it says so */
    if (a->canvas_editing)
        snprintf(sub, sizeof sub, "drag on the image: it is x\xE2\x82\x80\ndrag to draw");
    else if (a->canvas_on && a->canvas)
        snprintf(sub, sizeof sub, "your drawing (A: draw more)\nyour drawing");
    else if (a->have_digits && forward && ddpm_dataset_class_name(images, label))
        snprintf(sub, sizeof sub, "image #%d (%s)\n#%d (%s)\nimage #%d", a->p.digit, ddpm_dataset_class_name(images, label),
                 a->p.digit, ddpm_dataset_class_name(images, label), a->p.digit);
    else if (a->have_digits && forward)
        snprintf(sub, sizeof sub, "digit #%d (a %d)\ndigit #%d", a->p.digit, label, a->p.digit);
    else if (a->have_digits && roundtrip)
        snprintf(sub, sizeof sub, "%s #%d: the trip starts from its x\xE2\x82\x9C at t = %d\n%s #%d", noun, a->p.digit,
                 viz_job_start_t(&a->p), noun, a->p.digit);
    else if (a->have_digits)
        snprintf(sub, sizeof sub, "%s #%d, its own noise: not the sample\nnot the sample", noun, a->p.digit);
    else
        snprintf(sub, sizeof sub, "no data");
    SDL_Rect c = viz_panel_begin(a, r,
                                 a->canvas_editing ? "Draw a digit\nDraw"
                                 : forward    ? "Forward process q(x\xE2\x82\x9C | x\xE2\x82\x80)\nForward process\nForward"
                                 : roundtrip ? (noun[0] == 'i' ? "The round trip's image at the sampler's t\nThe round trip's image\nIts image"
                                                               : "The round trip's digit at the sampler's t\nThe round trip's digit\nIts digit")
                                 : noun[0] == 'i' ? "A real image at the sampler's t\nA real image at this t\nReal image"
                                             : "A real digit at the sampler's t\nA real digit at this t\nReal digit",
                                 sub);
    if (!a->have_digits || !a->fwd_x0 || !a->sched_ok) {
        viz_label(d, c.x, c.y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, t->text_dim, "The bundled digits are missing.");
        return;
    }
    const ddpm_schedule *s = &a->sched;
    const int H = a->digits.height, W = a->digits.width;
    const size_t per = (size_t)H * W;
    /* drawing: the big image is the canvas itself (x0, t = 0 is what is drawn) */
    const int t_now = a->canvas_editing ? -1 : viz_app_current_t(a);
    if (t_now >= 0) ddpm_q_sample(s, t_now, a->fwd_x0, a->fwd_eps, a->fwd_xt, per);
    else for (size_t i = 0; i < per; i++) a->fwd_xt[i] = a->fwd_x0[i];

    /* a v-model learns v = sqrt(ab) eps - sqrt(1 - ab) x0 (Salimans & Ho 2022): its
     * target at this t is shown under x0 and eps */
    const bool show_v = viz_app_run_config(a)->prediction == DDPM_PRED_V;
    const int n_small = show_v ? 3 : 2;

    /* layout: big x_t on the left, x_0 and epsilon (and v) small on the right, text below */
    const int lh = viz_line_h(d, VIZ_SIZE_BODY), sh = viz_line_h(d, VIZ_SIZE_SMALL);
    /* the image first: the numbers below it give way when the panel is short
     * (lecture style): all of them, then t and alpha-bar only */
    const int buttons_h = lh + viz_px(d, 10);
    const int avail = c.h - buttons_h - viz_px(d, 12) - sh;
    const int full_h = lh + 3 * (sh + viz_px(d, 3)) + viz_px(d, 10), brief_h = lh + viz_px(d, 8);
    const int text_h = avail - full_h >= avail * 55 / 100 ? full_h : brief_h;
    const bool details = text_h == full_h;
    /* the images' captions sit above them (a caption on x_t would cover its corner) */
    SDL_Rect img_area = {c.x, c.y + sh + viz_px(d, 2), c.w, c.h - text_h - buttons_h - viz_px(d, 12) - sh};
    int big = img_area.h;
    if (big > img_area.w * 68 / 100) big = img_area.w * 68 / 100;
    int small_size = (big + sh - viz_px(d, 4) * (n_small + 1) - n_small * sh) / n_small;
    if (small_size > c.w - big - viz_px(d, 12)) small_size = c.w - big - viz_px(d, 12);
    SDL_Rect big_r = {img_area.x, img_area.y, big, big};
    const uint64_t kx = viz_key(0xF0, a->fwd_source, (uint64_t)(t_now + 2), a->p.seed ^ (uint64_t)a->sched_cfg.kind);
    viz_app_upload_images(a, VIZ_TEX_FWD_XT, kx, a->fwd_xt, 1, H, W, VIZ_TONE_UNIT, 0);
    SDL_Rect drawn = viz_app_draw_tex(a, VIZ_TEX_FWD_XT, big_r);
    viz_outline(d, drawn, 1, t->image_frame);
    viz_label_fit(d, drawn.x, drawn.y - sh - viz_px(d, 2), VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, true, t->second, big,
                  a->canvas_editing ? "x\xE2\x82\x80: draw here\nx\xE2\x82\x80" : "x\xE2\x82\x9C");
    /* drawing: the mouse paints while the button is held over the image */
    if (a->canvas_editing && drawn.w > 0 && a->ui.in.down && viz_ui_hover(&a->ui, drawn) && !a->ui.mouse_used) {
        viz_app_canvas_paint(a, (float)(a->ui.in.mx - drawn.x) * W / drawn.w, (float)(a->ui.in.my - drawn.y) * H / drawn.h);
        a->ui.mouse_used = true;
    }
    /* the pixel probe: a click on x_t picks the pixel; its square is outlined */
    if (!a->canvas_editing && drawn.w > 0 && viz_ui_hover(&a->ui, drawn) && a->ui.in.pressed && !a->ui.mouse_used) {
        a->probe_x = (a->ui.in.mx - drawn.x) * W / drawn.w;
        a->probe_y = (a->ui.in.my - drawn.y) * H / drawn.h;
        a->ui.mouse_used = true;
    }
    if (drawn.w > 0 && a->probe_x >= 0 && a->probe_x < W && a->probe_y >= 0 && a->probe_y < H) {
        const int px = drawn.x + a->probe_x * drawn.w / W, py = drawn.y + a->probe_y * drawn.h / H;
        const int pw = drawn.w / W + 1, ph = drawn.h / H + 1, th = viz_px(d, 2) > 2 ? viz_px(d, 2) : 2;
        /* a ring and ticks to the image's edges: visible from the back row on any noise */
        viz_outline(d, (SDL_Rect){px - th - 1, py - th - 1, pw + 2 * th + 2, ph + 2 * th + 2}, th, t->cursor);
        viz_fill(d, (SDL_Rect){drawn.x, py + ph / 2, viz_px(d, 6), 2}, t->cursor);
        viz_fill(d, (SDL_Rect){drawn.x + drawn.w - viz_px(d, 6), py + ph / 2, viz_px(d, 6), 2}, t->cursor);
        viz_fill(d, (SDL_Rect){px + pw / 2, drawn.y, 2, viz_px(d, 6)}, t->cursor);
        viz_fill(d, (SDL_Rect){px + pw / 2, drawn.y + drawn.h - viz_px(d, 6), 2, viz_px(d, 6)}, t->cursor);
    }

    const int sx = big_r.x + big + viz_px(d, 12), sw = c.x + c.w - sx;
    SDL_Rect x0_r = {sx, img_area.y, small_size, small_size};
    SDL_Rect eps_r = {sx, x0_r.y + small_size + sh + viz_px(d, 6), small_size, small_size};
    viz_app_upload_images(a, VIZ_TEX_FWD_X0, viz_key(0xF1, a->fwd_source, 0, 0), a->fwd_x0, 1, H, W, VIZ_TONE_UNIT, 0);
    viz_app_upload_images(a, VIZ_TEX_FWD_EPS, viz_key(0xF2, a->fwd_source, a->p.seed, 0), a->fwd_eps, 1, H, W,
                          VIZ_TONE_SIGNED, 3.0f);
    viz_label_fit(d, sx, img_area.y - sh - viz_px(d, 2), VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, false, t->text_dim, sw,
                  "x\xE2\x82\x80 (data)\nx\xE2\x82\x80");
    drawn = viz_app_draw_tex(a, VIZ_TEX_FWD_X0, x0_r);
    viz_outline(d, drawn, 1, t->image_frame);
    viz_label_fit(d, sx, x0_r.y + small_size + viz_px(d, 4), VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, false, t->text_dim, sw,
                  "\xCE\xB5 (fixed)\n\xCE\xB5");
    drawn = viz_app_draw_tex(a, VIZ_TEX_FWD_EPS, eps_r);
    viz_outline(d, drawn, 1, t->image_frame);
    if (show_v) {
        const int tv = t_now >= 0 ? t_now : 0;
        ddpm_prediction_target(s, DDPM_PRED_V, tv, a->fwd_x0, a->fwd_eps, a->fwd_v, per);
        SDL_Rect v_r = {sx, eps_r.y + small_size + sh + viz_px(d, 6), small_size, small_size};
        viz_app_upload_images(a, VIZ_TEX_FWD_V, viz_key(0xF3, a->fwd_source, (uint64_t)(tv + 2), a->p.seed),
                              a->fwd_v, 1, H, W, VIZ_TONE_SIGNED, 3.0f);
        viz_label_fit(d, sx, eps_r.y + small_size + viz_px(d, 4), VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, false, t->text_dim,
                      sw, "v (target)\nv");
        drawn = viz_app_draw_tex(a, VIZ_TEX_FWD_V, v_r);
        viz_outline(d, drawn, 1, t->image_frame);
    }

    /* numbers, straight from the schedule's tables */
    int y = img_area.y + img_area.h + viz_px(d, 6);
    const int bars_y = y + lh + sh + viz_px(d, 6);
    if (t_now >= 0) {
        const double ab = s->alpha_bar[t_now], snr = s->snr[t_now];
        int w = viz_label_bold(d, c.x, y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, t->title, "t = %d", t_now);
        viz_label_bold(d, c.x + w + viz_px(d, 14), y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, t->accent, "\xCE\xB1\xCC\x84 = %.4f", ab);
        char line[128];
        snprintf(line, sizeof line, "SNR %.3g  \xC2\xB7  log SNR %+.2f\nlog SNR %+.2f", snr, log(snr), log(snr));
        if (details) {
            viz_label_fit(d, c.x, y + lh + viz_px(d, 1), VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, false, t->text, c.w, line);
            signal_noise_bars(a, (SDL_Rect){c.x, bars_y, c.w, 0}, s->sqrt_alpha_bar[t_now],
                              s->sqrt_one_minus_alpha_bar[t_now]);
        }
    } else {
        /* the end of a reverse run: clean data, no timestep (there is no t = -1) */
        viz_label_fit(d, c.x, y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, true, t->title, c.w,
                      "x\xE2\x82\x80 (clean data, no noise)\nx\xE2\x82\x80 (clean data)\nx\xE2\x82\x80");
        if (details) {
            viz_label(d, c.x, y + lh + viz_px(d, 1), VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, t->text,
                      "\xCE\xB1\xCC\x84 = 1, no noise left");
            signal_noise_bars(a, (SDL_Rect){c.x, bars_y, c.w, 0}, 1.0, 0.0);
        }
    }

    /* buttons: the dataset's digits and Draw; while drawing, the canvas's */
    const int by = r.y + r.h - viz_px(d, 10) - buttons_h, g = viz_px(d, 6);
    const int bw = (c.w - 3 * g) / 4;
    SDL_Rect b[4];
    for (int i = 0; i < 4; i++) b[i] = (SDL_Rect){c.x + i * (bw + g), by, i == 3 ? c.x + c.w - (c.x + 3 * (bw + g)) : bw, buttons_h};
    if (a->canvas_editing) {
        char brush[48];
        snprintf(brush, sizeof brush, "brush %d\n%d px", a->brush, a->brush);
        if (viz_ui_button(ui, viz_ui_id("canvas-clear", 0), b[0], "Clear", false)) viz_app_canvas_clear(a);
        if (viz_ui_button(ui, viz_ui_id("canvas-brush", 0), b[1], brush, false)) a->brush = a->brush % 3 + 1;
        if (viz_ui_button(ui, viz_ui_id("canvas-digit", 0), b[2], "a digit\ndigit", false)) {
            a->canvas_editing = a->canvas_on = false; /* back to the dataset */
        }
        if (viz_ui_button(ui, viz_ui_id("canvas-done", 0), b[3], "Done (A)\nDone", true)) viz_app_canvas_open(a);
        return;
    }
    bool to_digits = false;
    if (viz_ui_button(ui, viz_ui_id("digit-prev", 0), b[0],
                      ddpm_dataset_class_name(viz_app_images(a), 0) ? "\xE2\x97\x80 image\n\xE2\x97\x80"
                                                                    : "\xE2\x97\x80 digit\n\xE2\x97\x80", false))
        a->p.digit--, to_digits = true;
    if (viz_ui_button(ui, viz_ui_id("digit-rand", 0), b[1], "random\nrnd", false)) {
        a->p.digit = (int)((a->p.digit * 2654435761u + 40503u + (unsigned)a->frame_count) % (unsigned)viz_app_images(a)->n);
        to_digits = true;
    }
    if (viz_ui_button(ui, viz_ui_id("digit-next", 0), b[2],
                      ddpm_dataset_class_name(viz_app_images(a), 0) ? "image \xE2\x96\xB6\n\xE2\x96\xB6"
                                                                    : "digit \xE2\x96\xB6\n\xE2\x96\xB6", false))
        a->p.digit++, to_digits = true;
    if (viz_ui_button(ui, viz_ui_id("canvas-open", 0), b[3], "Draw (A)\nDraw", false)) viz_app_canvas_open(a);
    if (to_digits) a->canvas_on = false;
}
