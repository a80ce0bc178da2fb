/* panel_study.c: the study view, the seed notes' lab task 3 live: for the
 * selected model, a grid of eta (rows) x step counts (columns), every cell
 * the same first samples from the same x_T and noise, each scored by the
 * project's classifier on its n samples (confidence, FD / the real-digit
 * floor at the same n), with the `ddpm sweep` command that gives the same
 * numbers.  Switching the model keeps the lists: flip eps <-> v <-> x0. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "app.h"

static uint32_t argb_of(SDL_Color c) { return 0xFF000000u | (uint32_t)c.r << 16 | (uint32_t)c.g << 8 | c.b; }

/* Nearest-neighbour copy of a w x h ARGB block into dst (stride) at q x q. */
static void blit_scaled(uint32_t *dst, int stride, const uint32_t *src, int w, int h, int q)
{
    for (int y = 0; y < q; y++)
        for (int x = 0; x < q; x++) dst[(size_t)y * stride + x] = src[(size_t)(y * h / q) * w + x * w / q];
}

void viz_panel_study(viz_app *a, SDL_Rect r)
{
    viz_draw *d = &a->draw;
    const viz_theme *t = &d->theme;
    const viz_study_result *res = a->study_shown;
    char sub[200] = "";
    if (res)
        snprintf(sub, sizeof sub, "%s \xC2\xB7 %s-pred \xC2\xB7 %s \xC2\xB7 seed %llu", res->job.model_name,
                 ddpm_prediction_name(res->pred), res->job.base.sampler == DDPM_SAMPLER_DDIM ? "DDIM" : "DDPM",
                 (unsigned long long)res->job.seed);
    SDL_Rect c = viz_panel_begin(a, r, "Study: \xCE\xB7 \xC3\x97 steps", sub);
    const int lh = viz_line_h(d, VIZ_SIZE_BODY), sh = viz_line_h(d, VIZ_SIZE_SMALL);
    if (!res) {
        viz_label(d, c.x, c.y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, t->text_dim, "Starting the study\xE2\x80\xA6");
        return;
    }
    const viz_study_job *j = &res->job;
    const int rows = j->n_eta, cols = j->n_steps, n_cells = rows * cols;
    viz_study_cell cell[VIZ_STUDY_CELLS];
    int shown = 0, scored = 0, best = -1;
    for (int k = 0; k < n_cells; k++) {
        viz_study_cell_get(a->study, res, k, &cell[k]);
        shown += cell[k].shown;
        scored += cell[k].scored;
        if (cell[k].scored && (best < 0 || cell[k].q.fd < cell[best].q.fd)) best = k;
    }
    char error[256];
    bool scoring = false;
    ddpm_quality floor = {0};
    const viz_job_state state = viz_study_state(a->study, res, error, sizeof error, &scoring, &floor);

    /* geometry: row labels | cells; column heads on top; two text lines under each image; the footer */
    int label_w = 0;
    for (int i = 0; i < rows; i++) {
        char l[48];
        int w;
        snprintf(l, sizeof l, "\xCE\xB7 = %g", j->etas[i]);
        viz_measure(d, VIZ_SIZE_BODY, true, l, &w, NULL);
        label_w = w > label_w ? w : label_w;
    }
    int seeds_w = 0;
    viz_measure(d, VIZ_SIZE_SMALL, false, "seeds' 0.25", &seeds_w, NULL);
    label_w = (label_w > seeds_w ? label_w : seeds_w) + viz_px(d, 10);
    const int foot_h = 3 * (sh + viz_px(d, 3)) + viz_px(d, 6);
    const int gx = c.x + label_w, gy = c.y + lh + viz_px(d, 4);
    const int gw = c.w - label_w, gh = c.h - (gy - c.y) - foot_h;
    if (gw < 40 || gh < 40) return;
    const int slot_w = gw / cols, slot_h = gh / rows, text_h = 2 * sh + viz_px(d, 4);
    int q = slot_w - viz_px(d, 10);
    if (slot_h - text_h - viz_px(d, 6) < q) q = slot_h - text_h - viz_px(d, 6);
    if (q < 8) q = 8;

    /* the images: one texture of the grid area, drawn 1:1 */
    uint64_t shown_bits = 0;
    for (int k = 0; k < n_cells; k++) shown_bits |= (uint64_t)cell[k].shown << k;
    viz_image_tex *tex = &a->tex[VIZ_TEX_STUDY];
    const uint64_t key = viz_key(res->id, shown_bits, (uint64_t)gw << 32 | (uint64_t)gh, (uint64_t)q);
    if (tex->key != key || !tex->tex) {
        uint32_t *px = viz_app_pixels(a, (size_t)gw * gh + 64 * 64);
        if (px) {
            const uint32_t bg = argb_of(t->panel);
            for (size_t i = 0; i < (size_t)gw * gh; i++) px[i] = bg;
            uint32_t *small = px + (size_t)gw * gh;
            int sw, shh;
            viz_tone_grid_size(VIZ_STUDY_SHOW, 2, res->W, res->H, 1, &sw, &shh);
            for (int k = 0; k < n_cells && sw <= 64 && shh <= 64; k++) {
                if (!cell[k].shown) continue;
                viz_tone_grid(small, res->images + (size_t)k * VIZ_STUDY_SHOW * res->per, VIZ_STUDY_SHOW, 2, res->W,
                              res->H, 1, bg, VIZ_TONE_UNIT, 0);
                const int x = (k % cols) * slot_w + (slot_w - q) / 2, y = (k / cols) * slot_h;
                blit_scaled(px + (size_t)y * gw + x, gw, small, sw, shh, q);
            }
            viz_image_update(d, tex, key, px, gw, gh);
        }
    }
    a->tex_rect[VIZ_TEX_STUDY] = viz_image_draw(d, tex, (SDL_Rect){gx, gy, gw, gh});

    /* heads, row labels and scores */
    for (int col = 0; col < cols; col++)
        viz_label_bold(d, gx + col * slot_w + slot_w / 2, c.y, VIZ_ALIGN_CENTER, VIZ_SIZE_BODY, t->title, "%d steps",
                       j->steps[col]);
    for (int row = 0; row < rows; row++) {
        const int y = gy + row * slot_h + q / 2 - lh / 2;
        const double eta = j->etas[row];
        const bool ddim = j->base.sampler == DDPM_SAMPLER_DDIM;
        viz_label_bold(d, c.x, y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, t->title, "\xCE\xB7 = %g", eta);
        /* sigma^2 = eta^2 beta~ here, eta beta~ in the seed notes */
        if (ddim && eta > 0.0 && eta < 1.0)
            viz_label(d, c.x, y + lh, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, t->text_dim, "seeds' %.2g", eta * eta);
        else if (!ddim && row == 0)
            viz_label(d, c.x, y + lh, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, t->warn, "DDPM: no \xCE\xB7");
    }
    for (int k = 0; k < n_cells; k++) {
        const int x = gx + (k % cols) * slot_w + slot_w / 2, y = gy + (k / cols) * slot_h + q + viz_px(d, 3);
        const viz_study_cell *ce = &cell[k];
        if (ce->scored) {
            const SDL_Color col = k == best ? t->accent : t->text;
            viz_label(d, x, y, VIZ_ALIGN_CENTER, VIZ_SIZE_SMALL, col, "conf %.3f", ce->q.confidence);
            viz_label(d, x, y + sh, VIZ_ALIGN_CENTER, VIZ_SIZE_SMALL, col, "FD %.2f\xC3\x97%s",
                      floor.fd > 0 ? ce->q.fd / floor.fd : 0.0, k == best ? " best" : "");
        } else if (state == VIZ_JOB_RUNNING) {
            viz_label(d, x, y, VIZ_ALIGN_CENTER, VIZ_SIZE_SMALL, t->text_dim, "%s",
                      ce->shown ? (scoring ? "scoring\xE2\x80\xA6" : "") : "sampling\xE2\x80\xA6");
        }
    }

    /* the footer: what the numbers are, the progress, and the command that gives them */
    int fy = c.y + c.h - foot_h + viz_px(d, 6);
    if (scoring)
        viz_label(d, c.x, fy, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, t->text_dim,
                  "Each cell: 4 of its n = %d samples (same x_T, same noise) \xC2\xB7 conf \xC2\xB7 FD / real digits' FD "
                  "at n (%.0f)",
                  j->n_score, floor.fd);
    else
        viz_label(d, c.x, fy, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, t->warn, "%s", error);
    fy += sh + viz_px(d, 3);
    if (state == VIZ_JOB_RUNNING)
        viz_label(d, c.x, fy, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, t->text, "%s %d of %d cells%s",
                  shown < n_cells ? "Sampling: shown" : "Scoring: done", shown < n_cells ? shown : scored, n_cells,
                  a->train.state == VIZ_TRAIN_RUNNING ? " \xC2\xB7 on one core while the training runs" : "");
    else if (state == VIZ_JOB_FAILED)
        viz_label(d, c.x, fy, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, t->error, "Failed: %s", error);
    else if (state == VIZ_JOB_DONE)
        viz_label(d, c.x, fy, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, t->ok, "Done%s \xC2\xB7 P exports the grid (PNG) and its CSV",
                  res->weights_step >= 0 ? " (the live weights when the study started)" : "");
    fy += sh + viz_px(d, 3);
    char cmd[1400];
    viz_study_command(a, res, cmd, sizeof cmd);
    char line[1600];
    snprintf(line, sizeof line, "Same numbers: %s\nSame numbers: ddpm sweep (P exports the command and CSV)\n"
             "P exports the CSV", cmd);
    viz_label_fit(d, c.x, fy, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, false, t->text_dim, c.w, line);
}
