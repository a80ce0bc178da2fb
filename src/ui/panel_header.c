/* panel_header.c: the top bar: title, the model and what it predicts, the
 * schedule-mismatch badge, and what the workers are doing. */
#include <stdio.h>
#include <string.h>

#include "app.h"

void viz_panel_header(viz_app *a, SDL_Rect r)
{
    viz_draw *d = &a->draw;
    const viz_theme *t = &d->theme;
    viz_fill(d, r, t->header);
    viz_fill(d, (SDL_Rect){r.x, r.y + r.h - 1, r.w, 1}, t->panel_edge);
    const int pad = viz_px(d, 12);
    const int th = viz_line_h(d, VIZ_SIZE_TITLE);
    int x = r.x + pad;
    const int y = r.y + (r.h - th) / 2;
    x += viz_label_bold(d, x, y, VIZ_ALIGN_LEFT, VIZ_SIZE_TITLE, t->title, "ddpm viz");
    x += viz_px(d, 14);

    const viz_model *m = viz_app_model(a);
    const int ch = viz_line_h(d, VIZ_SIZE_SMALL) + viz_px(d, 4);
    const int cy = r.y + (r.h - ch) / 2;
    const ddpm_run_config *run = m->live ? &a->train.run : &m->ck.run;
    char buf[256], chip[256];
    const viz_snap *snap = viz_app_scrubbed(a);
    if (snap)
        snprintf(chip, sizeof chip, "%s run \xC2\xB7 replaying step %lld", snap->run_id ? "live" : "bundled",
                 (long long)snap->ck.step);
    else if (m->live)
        snprintf(chip, sizeof chip, "live network (%s preset) \xC2\xB7 step %lld", run->preset, (long long)a->train.step);
    else
        snprintf(chip, sizeof chip, "%s", m->name);
    /* right side: worker status and key hints */
    int rx = r.x + r.w - pad;
    if (a->show_fps) { /* F3: in the header, where it covers nothing */
        snprintf(buf, sizeof buf, "%.0f fps \xC2\xB7 %.1f ms/frame \xC2\xB7 %d/%d redrawn\n%.0f fps \xC2\xB7 %.1f ms\n%.0f fps",
                 a->fps, a->frame_ms, a->panels_drawn, VIZ_PANEL_COUNT, a->fps, a->frame_ms, a->fps);
        rx -= viz_label_fit(d, rx, cy + viz_px(d, 2), VIZ_ALIGN_RIGHT, VIZ_SIZE_SMALL, true,
                            a->fps >= 30 || a->headless ? t->ok : t->warn, r.w / 4, buf) + viz_px(d, 12);
    } else {
        rx -= viz_label_fit(d, rx, cy + viz_px(d, 2), VIZ_ALIGN_RIGHT, VIZ_SIZE_SMALL, false, t->text_dim,
                            r.w / 5, "H help \xC2\xB7 F11 lecture mode\nH help") + viz_px(d, 12);
    }
    if (a->train.state == VIZ_TRAIN_RUNNING) {
        if (r.w >= viz_px(d, 1100) && !viz_app_replaying(a)) /* a replay shows no wall time */
            snprintf(buf, sizeof buf, "\xE2\x97\x8F training \xC2\xB7 step %lld \xC2\xB7 %.0f %s/s", (long long)a->train.step,
                     a->train.images_per_s, viz_app_points(a) ? "pts" : "img");
        else
            snprintf(buf, sizeof buf, "\xE2\x97\x8F training");
        int w, h;
        viz_measure(d, VIZ_SIZE_SMALL, true, buf, &w, &h);
        rx -= w + viz_px(d, 14);
        viz_chip(d, rx, cy, viz_mix(t->widget, t->ok, 0.45f), t->title, buf);
        rx -= viz_px(d, 6);
    }
    viz_frame_view v;
    if (viz_app_frame_view(a, 0, &v)) {
        viz_progress pr;
        viz_sampler_progress(a->sampler, v.r, &pr);
        int total = 0, done = 0;
        for (int i = 0; i < v.r->job.n_sides; i++) {
            total += v.r->traj[i].S;
            done += pr.done[i];
        }
        if (pr.state == VIZ_JOB_RUNNING)
            snprintf(buf, sizeof buf, "sampling %d/%d", done, total);
        else if (pr.state == VIZ_JOB_DONE && viz_app_replaying(a))
            snprintf(buf, sizeof buf, "sampled");
        else if (pr.state == VIZ_JOB_DONE && r.w >= viz_px(d, 1100))
            snprintf(buf, sizeof buf, "sampled in %.2f s", pr.seconds);
        else if (pr.state == VIZ_JOB_DONE)
            snprintf(buf, sizeof buf, "%.2f s", pr.seconds);
        else if (pr.state == VIZ_JOB_FAILED)
            snprintf(buf, sizeof buf, "sampling failed");
        else
            snprintf(buf, sizeof buf, "sampling restarted");
        int w, h;
        viz_measure(d, VIZ_SIZE_SMALL, true, buf, &w, &h);
        rx -= w + viz_px(d, 14);
        SDL_Color bg = pr.state == VIZ_JOB_FAILED ? t->error : viz_mix(t->widget, t->accent, 0.25f);
        viz_chip(d, rx, cy, bg, t->title, buf);
        if (pr.state == VIZ_JOB_FAILED) viz_app_banner(a, VIZ_LEVEL_ERROR, "Sampling failed: %s", pr.error);
    }
    /* the model chip always; then, in the room the right side leaves, what it
     * predicts (shortened), the mismatch badge (shortened) and "untrained" */
    x += viz_chip(d, x, cy, viz_mix(t->widget, t->accent, 0.35f), t->title, chip) + viz_px(d, 6);
    const int lim = rx - viz_px(d, 6);
    char badge[256] = "";
    if (viz_app_mismatch(a))
        snprintf(badge, sizeof badge, "\xE2\x9A\xA0 schedule mismatch: sampling with %s, trained with %s",
                 ddpm_schedule_name(a->p.schedule), ddpm_schedule_name(run->schedule.kind));
    int badge_w = 0;
    if (badge[0]) {
        viz_measure(d, VIZ_SIZE_SMALL, true, badge, &badge_w, NULL);
        if (x + badge_w + viz_px(d, 20) > lim) {
            snprintf(badge, sizeof badge, "\xE2\x9A\xA0 schedule mismatch");
            viz_measure(d, VIZ_SIZE_SMALL, true, badge, &badge_w, NULL);
        }
        badge_w += viz_px(d, 20);
    }
    /* a model of another dataset says so first (the bundled fashion model) */
    const char *data = strcmp(run->dataset, "fashion") == 0 ? "Fashion-MNIST \xC2\xB7 " : "";
    snprintf(buf, sizeof buf, "%s%s-prediction \xC2\xB7 trained on %s, T=%d\n%s%s-pred \xC2\xB7 %s\n%s%s-pred",
             data, ddpm_prediction_name(run->prediction), ddpm_schedule_name(run->schedule.kind), run->schedule.T,
             data, ddpm_prediction_name(run->prediction), ddpm_schedule_name(run->schedule.kind), data,
             ddpm_prediction_name(run->prediction));
    const int dw = viz_label_fit(d, x, cy + viz_px(d, 2), VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, false, t->text_dim,
                                 lim - x - badge_w, buf);
    if (dw > 0) x += dw + viz_px(d, 10);
    if (badge[0] && x + badge_w - viz_px(d, 6) <= lim)
        x += viz_chip(d, x, cy, t->warn, viz_rgba(0, 0, 0, 255), badge) + viz_px(d, 6);
    if (m->live && !snap && a->train.step == 0 && !a->train.has_run) {
        int uw = 0;
        viz_measure(d, VIZ_SIZE_SMALL, true, "untrained", &uw, NULL);
        if (x + uw + viz_px(d, 14) <= lim)
            x += viz_chip(d, x, cy, viz_mix(t->widget, t->error, 0.6f), t->title, "untrained") + viz_px(d, 6);
    }
}
