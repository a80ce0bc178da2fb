/* panel_timeline.c: playback: the phase (forward noising / reverse
 * sampling), transport buttons, and a scrubber with a tick per step. */
#include <stdio.h>

#include "app.h"

void viz_panel_timeline(viz_app *a, SDL_Rect r)
{
    viz_draw *d = &a->draw;
    viz_ui *ui = &a->ui;
    const viz_theme *t = &d->theme;
    viz_fill_round(d, r, viz_px(d, 8), t->panel);
    if (d->lecture) viz_outline(d, r, 1, t->panel_edge);
    const int pad = viz_px(d, 10);
    const int bh = r.h - 2 * pad;
    const int S = a->shown ? a->last_S : a->p.steps;
    const int T = a->sched_ok ? a->sched.T : viz_app_T(a);
    int x = r.x + pad;

    static const char *const phases[] = {"Forward", "Reverse"};
    int phase = a->pb.phase == VIZ_PHASE_FORWARD ? 0 : 1;
    int fw, fh;
    viz_measure(d, VIZ_SIZE_BODY, true, "Forward", &fw, &fh);
    int seg_w = 2 * (fw + viz_px(d, 20));
    if (seg_w < viz_px(d, 150)) seg_w = viz_px(d, 150);
    if (viz_ui_segmented(ui, viz_ui_id("phase", 0), (SDL_Rect){x, r.y + pad, seg_w, bh}, phases, 2, &phase)) {
        a->pb.phase = phase ? VIZ_PHASE_REVERSE : VIZ_PHASE_FORWARD;
        a->pb.pos = 0;
    }
    x += seg_w + pad;

    /* what fits, in order of giving way: the step buttons, the label's
     * size, the export buttons (the track keeps at least a few steps' room) */
    viz_text_size_kind label_size = VIZ_SIZE_BODY;
    int lw, lh;
    viz_measure(d, label_size, true, "step 1000 / 1000 \xC2\xB7 t = 999", &lw, &lh);
    if (lw > r.w / 4) {
        label_size = VIZ_SIZE_SMALL;
        viz_measure(d, label_size, true, "step 1000 / 1000 \xC2\xB7 t = 999", &lw, &lh);
    }
    int ew, eh;
    viz_measure(d, VIZ_SIZE_BODY, false, "GIF", &ew, &eh);
    const int eb = ew + viz_px(d, 20);
    const int ib = bh * 13 / 10, min_track = viz_px(d, 80);
    int n_buttons = 5;
    bool exports = true;
    for (int pass = 0; pass < 4; pass++) {
        const int need = (x - r.x) + n_buttons * (ib + viz_px(d, 4)) + pad + 2 * pad + min_track + lw + pad +
                         (exports ? 2 * eb + viz_px(d, 4) : 0) + pad;
        if (need <= r.w) break;
        if (pass == 0) n_buttons = 3;
        else if (pass == 1 && label_size == VIZ_SIZE_BODY) {
            label_size = VIZ_SIZE_SMALL;
            viz_measure(d, label_size, true, "step 1000 / 1000 \xC2\xB7 t = 999", &lw, &lh);
        } else exports = false;
    }
    const viz_icon icons[5] = {VIZ_ICON_TO_START, VIZ_ICON_STEP_BACK, a->pb.playing ? VIZ_ICON_PAUSE : VIZ_ICON_PLAY,
                               VIZ_ICON_STEP_FORWARD, VIZ_ICON_TO_END};
    for (int i = 0; i < 5; i++) {
        if (n_buttons == 3 && (i == 1 || i == 3)) continue; /* Left / Right still step */
        SDL_Rect b = {x, r.y + pad, ib, bh};
        if (viz_ui_icon_button(ui, viz_ui_id("transport", i), b, icons[i], i == 2)) {
            switch (i) {
            case 0: a->pb.playing = false; a->pb.pos = 0; break;
            case 1: viz_playback_step(&a->pb, -1, 1, S, T); break;
            case 2: viz_playback_toggle(&a->pb, S, T); break;
            case 3: viz_playback_step(&a->pb, +1, 1, S, T); break;
            case 4: a->pb.playing = false; viz_playback_seek(&a->pb, 1.0, S, T); break;
            }
        }
        x += ib + viz_px(d, 4);
    }
    x += pad;

    /* the label on the right */
    char label[96];
    if (a->pb.phase == VIZ_PHASE_FORWARD)
        snprintf(label, sizeof label, "t = %d / %d", viz_playback_forward_t(&a->pb, T), T - 1);
    else {
        viz_frame_view v;
        const int lead = viz_app_lead_side(a); /* compare 10 vs 50 steps: the 50 */
        if (viz_app_frame_view(a, lead, &v))
            snprintf(label, sizeof label, "step %d / %d \xC2\xB7 %s", v.k, v.S, v.t >= 0 ? "" : "x\xE2\x82\x80");
        else
            snprintf(label, sizeof label, "step 0 / %d", S);
        if (viz_app_frame_view(a, lead, &v) && v.t >= 0) snprintf(label, sizeof label, "step %d / %d \xC2\xB7 t = %d", v.k, v.S, v.t);
    }
    /* exports, for slides (P and Shift+P do the same) */
    int right_x = r.x + r.w - pad;
    if (exports) {
        SDL_Rect gif_b = {r.x + r.w - pad - eb, r.y + pad, eb, bh};
        SDL_Rect png_b = {gif_b.x - viz_px(d, 4) - eb, r.y + pad, eb, bh};
        if (viz_ui_button(ui, viz_ui_id("export-png", 0), png_b, "PNG", false)) viz_app_export_view(a);
        if (viz_ui_button(ui, viz_ui_id("export-gif", 0), gif_b, "GIF", false)) viz_app_export_trajectory(a);
        right_x = png_b.x;
    }
    /* the label keeps one width (the track must not jump); where even the
     * small one leaves the track no room, the label goes (the reverse
     * panel says the step too) */
    const bool show_label = x + 2 * pad + min_track + lw <= right_x - pad;
    const int label_x = show_label ? right_x - pad - lw : right_x;
    if (show_label) viz_label_bold(d, label_x, r.y + (r.h - lh) / 2, VIZ_ALIGN_LEFT, label_size, t->title, "%s", label);

    /* the scrubber */
    SDL_Rect track = {x, r.y + r.h / 2 - viz_px(d, 4), label_x - x - 2 * pad, viz_px(d, 8)};
    SDL_Rect grab = {track.x - viz_px(d, 6), r.y + pad, track.w + viz_px(d, 12), bh};
    double prog = viz_playback_progress(&a->pb, S, T);
    if (viz_ui_scrub(ui, viz_ui_id("scrub", 0), grab, &prog)) {
        a->pb.playing = false;
        viz_playback_seek(&a->pb, prog, S, T);
    }
    viz_fill_round(d, track, track.h / 2, t->track);
    /* how far the sampler got, in the reverse phase */
    if (a->pb.phase == VIZ_PHASE_REVERSE && a->shown) {
        viz_progress pr;
        viz_sampler_progress(a->sampler, a->shown, &pr);
        const int s0 = a->shown->traj[0].S > 0 ? a->shown->traj[0].S : 1;
        SDL_Rect done = track;
        done.w = track.w * pr.done[0] / s0;
        viz_fill_round(d, done, track.h / 2, viz_mix(t->track, t->accent, 0.35f));
    }
    SDL_Rect fill = track;
    fill.w = (int)(track.w * viz_playback_progress(&a->pb, S, T));
    viz_fill_round(d, fill, track.h / 2, t->accent);
    const int n_ticks = a->pb.phase == VIZ_PHASE_REVERSE ? S : 10;
    if (n_ticks <= track.w / 4)
        for (int i = 0; i <= n_ticks; i++) {
            int tx = track.x + (int)((long)track.w * i / (n_ticks > 0 ? n_ticks : 1));
            viz_fill(d, (SDL_Rect){tx, track.y + track.h + viz_px(d, 3), 1, viz_px(d, 4)}, t->text_dim);
        }
    const int knob = viz_px(d, 16);
    viz_fill_round(d, (SDL_Rect){track.x + fill.w - knob / 2, track.y + track.h / 2 - knob / 2, knob, knob}, knob / 2,
                   t->title);
}
