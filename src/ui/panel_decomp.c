/* panel_decomp.c: one reverse step taken apart, for the followed sample:
 *   x_{t-1} = sqrt(ab_prev) x0-hat  +  direction to x_t  +  sigma_t z
 * The three terms come from the sampler (ddpm_step's parts) and share one
 * symmetric tone scale, so their sizes compare directly: with eta = 0 the
 * noise term is flat gray (zero), which is exactly what eta adds. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "app.h"

static double rms(const float *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return n ? sqrt(s / n) : 0;
}

void viz_panel_decomposition(viz_app *a, SDL_Rect r)
{
    viz_draw *d = &a->draw;
    const viz_theme *t = &d->theme;
    viz_frame_view v;
    const bool have = viz_app_frame_view(a, 0, &v) && v.step >= 0 && v.step < v.done;
    char sub[96] = "";
    if (have) snprintf(sub, sizeof sub, "step %d: t = %d \xE2\x86\x92 %d", v.step, v.tr->t[v.step], v.tr->t[v.step + 1]);
    SDL_Rect c = viz_panel_begin(a, r, "One step, decomposed", sub);
    if (!have) {
        viz_label(d, c.x, c.y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, t->text_dim, "Waiting for a finished step\xE2\x80\xA6");
        return;
    }
    const viz_result *res = v.r;
    const viz_traj *tr = v.tr;
    const size_t per = res->per;
    const int k = v.step;
    const float *terms[3] = {tr->x0_term + (size_t)k * per, tr->dir_term + (size_t)k * per,
                             tr->noise_term + (size_t)k * per};
    const int b = res->B > 1 ? res->job.focus : 0;
    const float *sum = tr->x_t + ((size_t)(k + 1) * res->B + (size_t)b) * per;
    float m = 0;
    for (int i = 0; i < 3; i++) {
        float mi = viz_tone_absmax(terms[i], per);
        if (mi > m) m = mi;
    }
    /* a ceiling of 3 (noise rarely exceeds 3 sigma): an untrained or diverged
     * model's huge x0-hat must not flatten the other two terms to gray */
    if (m > 3.0f) m = 3.0f;
    const ddpm_step_coefs *cf = &tr->coefs[k];

    const int sh = viz_line_h(d, VIZ_SIZE_SMALL), lh = viz_line_h(d, VIZ_SIZE_BODY);
    const int op_w = viz_px(d, 18);
    const int cell = (c.w - 3 * op_w) / 4;
    /* the images first: under them coef, rms and the footer, as many of
     * these lines as leave the images half the height (lecture style) */
    int lines = 3;
    while (lines > 1 && c.h - lines * sh - lh - viz_px(d, 14) < (c.h - lh) / 2) lines--;
    const int text_h = lines * sh + lh + viz_px(d, 14);
    int img = c.h - text_h - viz_px(d, 4);
    if (img > cell) img = cell;
    const int y_img = c.y + lh + viz_px(d, 4);
    /* the terms named with the step's actual timesteps: t = 480 -> 460 gives
     * sqrt(alpha_bar_460) x0-hat and x_460, not "x_{t-1}" */
    char sub_prev[32], name0[64], name3[48];
    viz_subscript(sub_prev, sizeof sub_prev, tr->t[k + 1] >= 0 ? tr->t[k + 1] : 0);
    snprintf(name0, sizeof name0, "\xE2\x88\x9A\xCE\xB1\xCC\x84%s\xC2\xB7x\xCC\x82\xE2\x82\x80\n\xE2\x88\x9A\xCE\xB1\xCC\x84\xC2\xB7x\xCC\x82\xE2\x82\x80",
             sub_prev);
    snprintf(name3, sizeof name3, "x%s", sub_prev);
    const char *const names[4] = {name0, "direction\ndir.", "\xCF\x83\xE2\x82\x9C\xC2\xB7z", name3};
    const int slots[4] = {VIZ_TEX_TERM0, VIZ_TEX_TERM1, VIZ_TEX_TERM2, VIZ_TEX_TERM_SUM};
    const double coef[3] = {sqrt(cf->alpha_bar_prev), cf->dir_coef, cf->sigma};
    static const char *const coef_names[3] = {"coef %.3f", "coef %.3f", "\xCF\x83 = %.3f"};
    for (int i = 0; i < 4; i++) {
        const int x = c.x + i * (cell + op_w);
        SDL_Color col = i == 3 ? t->title : i == 2 ? t->second : t->accent;
        viz_label_fit(d, x, c.y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, true, col, cell + op_w / 2, names[i]);
        const uint64_t key = viz_key(res->id, 0xDC, (uint64_t)k, (uint64_t)i);
        if (i < 3) viz_app_upload_images(a, slots[i], key, terms[i], 1, res->H, res->W, VIZ_TONE_SIGNED, m);
        else viz_app_upload_images(a, slots[i], key, sum, 1, res->H, res->W, VIZ_TONE_UNIT, 0);
        SDL_Rect drawn = viz_app_draw_tex(a, slots[i], (SDL_Rect){x, y_img, cell, img});
        viz_outline(d, drawn, 1, t->image_frame);
        if (i < 3) {
            char line[64];
            snprintf(line, sizeof line, coef_names[i], coef[i]);
            viz_label_fit(d, x, y_img + img + viz_px(d, 4), VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, false, t->text_dim, cell, line);
            const double rm = rms(terms[i], per);
            snprintf(line, sizeof line, "rms %.3f\n%.3f", rm, rm);
            if (lines >= 2)
                viz_label_fit(d, x, y_img + img + viz_px(d, 4) + sh, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, false, t->text, cell,
                              line);
            const char *op = i < 2 ? "+" : "=";
            viz_label_bold(d, x + cell + op_w / 2, y_img + img / 2 - lh / 2, VIZ_ALIGN_CENTER, VIZ_SIZE_TITLE, t->title,
                           "%s", op);
        } else {
            viz_label_fit(d, x, y_img + img + viz_px(d, 4), VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, false, t->text_dim, cell,
                          tr->t[k + 1] >= 0 ? "the next x\xE2\x82\x9C\nnext x\xE2\x82\x9C" : "the sample\nsample");
        }
    }
    const ddpm_sampler_config *cfg = &res->job.sides[0].cfg;
    char ddim_sigma[160];
    /* sigma_t^2 = eta^2 beta~ (DDIM eq. 16); the seed notes write eta beta~, so their eta is this one squared */
    snprintf(ddim_sigma, sizeof ddim_sigma,
             "\xCF\x83\xC2\xB2 = \xCE\xB7\xC2\xB2\xCE\xB2\xCC\x83 = %.3g (seeds: \xCE\xB7\xCE\xB2\xCC\x83, their \xCE\xB7 %.2g)",
             cf->sigma * cf->sigma, cfg->eta * cfg->eta);
    const char *note = cf->sigma == 0.0
                           ? (cfg->sampler == DDPM_SAMPLER_DDIM ? "\xCE\xB7 = 0: no noise is added \xE2\x80\x94 DDIM is deterministic"
                                                                : "last step: no noise is added")
                       : cfg->sampler == DDPM_SAMPLER_DDIM
                           ? ddim_sigma
                           : "\xCF\x83\xE2\x82\x9C > 0: fresh noise z enters at this step (DDPM)";
    char foot[400];
    if (note == ddim_sigma) /* the eta convention, in full: it needs the line */
        snprintf(foot, sizeof foot, "%s\n\xCF\x83\xC2\xB2 = \xCE\xB7\xC2\xB2\xCE\xB2\xCC\x83 = %.3g", note, cf->sigma * cf->sigma);
    else
        snprintf(foot, sizeof foot, "%s \xC2\xB7 terms share the scale \xC2\xB1%.2f\n%s\nterms share \xC2\xB1%.2f", note, m,
                 note, m);
    if (lines >= 3) viz_label_fit(d, c.x, c.y + c.h - sh, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, false, t->text_dim, c.w, foot);
}
