/* export.c: pictures for slides: the current view as a PNG (the renderer's
 * pixels), and the shown trajectory as an animated GIF plus a PNG strip of
 * x_t and x0-hat over the steps (drawn with ddpm/image.h, no SDL). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "ddpm/fileio.h"
#include "ddpm/image.h"
#include "scoring.h"

static const uint8_t BG[3] = {20, 22, 28};

/* "<export_dir>/<stem>-<date>-<time><suffix>" */
static int export_path(viz_app *a, const char *stem, const char *suffix, char *buf, size_t cap, ddpm_error *err)
{
    if (ddpm_mkdir_p(a->opt.export_dir, err) != DDPM_OK) return DDPM_ERR;
    time_t now = time(NULL);
    struct tm tmv;
    localtime_r(&now, &tmv);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tmv);
    /* several exports in one second must not overwrite each other */
    for (int n = 0; n < 100; n++) {
        if (n == 0) snprintf(buf, cap, "%.3000s/%s-%s%s", a->opt.export_dir, stem, stamp, suffix);
        else snprintf(buf, cap, "%.3000s/%s-%s-%d%s", a->opt.export_dir, stem, stamp, n, suffix);
        if (!ddpm_file_exists(buf)) return DDPM_OK;
    }
    return DDPM_OK;
}

/* The drawn frame, or the rectangle `crop` of it (NULL: all), to a PNG. */
static int read_rect(viz_app *a, const SDL_Rect *crop, const char *path, ddpm_error *err)
{
    const SDL_Rect all = {0, 0, a->w, a->h};
    const SDL_Rect r = crop ? *crop : all;
    ddpm_image img;
    ddpm_image_init(&img, r.w, r.h);
    if (SDL_RenderReadPixels(a->renderer, &r, SDL_PIXELFORMAT_RGB24, img.rgb, r.w * 3) != 0) {
        ddpm_image_free(&img);
        return ddpm_fail(err, "cannot read the window's pixels: %s", SDL_GetError());
    }
    int rc = ddpm_png_write(path, &img, err);
    ddpm_image_free(&img);
    return rc;
}

int viz_export_read_view(viz_app *a, const char *path, ddpm_error *err) { return read_rect(a, NULL, path, err); }

/* The study's cells as `ddpm sweep` writes its CSV (rows eta, columns steps). */
static int write_study_csv(viz_app *a, const viz_study_result *r, const char *path, ddpm_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return ddpm_fail(err, "out of memory");
    ddpm_cli_sweep_csv_header(f);
    ddpm_run_config run = {0};
    run.prediction = r->pred;
    run.schedule = r->job.schedule;
    const int n_cells = r->job.n_eta * r->job.n_steps;
    ddpm_quality floor;
    viz_study_state(a->study, r, NULL, 0, NULL, &floor);
    for (int k = 0; k < n_cells; k++) {
        viz_study_cell c;
        viz_study_cell_get(a->study, r, k, &c);
        if (!c.shown) continue;
        ddpm_cli_sweep_csv_row(f, r->job.model_name, &run, r->job.etas[k / r->job.n_steps], r->job.steps[k % r->job.n_steps],
                               r->job.n_score, c.scored ? &c.q : NULL, &floor, c.seconds);
    }
    fclose(f);
    const int rc = ddpm_write_file_atomic(path, buf, len, err);
    free(buf);
    return rc;
}

int viz_export_study_files(viz_app *a, char *made, size_t cap, ddpm_error *err)
{
    char png[4096], csv[4096];
    const viz_study_result *r = a->study_shown;
    if (!r || a->layout.panel[VIZ_PANEL_STUDY].w <= 0) return ddpm_fail(err, "nothing to export yet: the study is starting");
    if (export_path(a, "study", ".png", png, sizeof png, err) != DDPM_OK ||
        read_rect(a, &a->layout.panel[VIZ_PANEL_STUDY], png, err) != DDPM_OK)
        return DDPM_ERR;
    snprintf(csv, sizeof csv, "%.*s.csv", (int)(strlen(png) - 4), png);
    if (write_study_csv(a, r, csv, err) != DDPM_OK) return DDPM_ERR;
    snprintf(made, cap, "%.2000s and %.2000s", png, csv);
    return DDPM_OK;
}

void viz_export_study(viz_app *a)
{
    ddpm_error err = {0};
    char made[4200];
    if (viz_export_study_files(a, made, sizeof made, &err) != DDPM_OK) viz_app_toast(a, VIZ_LEVEL_ERROR, "Export failed: %s", err.msg);
    else viz_app_toast(a, VIZ_LEVEL_OK, "Saved %s", made);
}

void viz_app_export_view(viz_app *a)
{
    a->export_view_pending = true; /* done after the next frame is drawn, before it is shown */
}

/* ---- trajectory ------------------------------------------------------------------------------ */

typedef struct traj_source {
    const viz_result *r;
    const viz_traj *tr;
    int frames;                /* frames available: done + 1 */
    int focus;
} traj_source;

static const float *frame_xt(const traj_source *s, int k)
{
    return s->tr->x_t + (size_t)k * s->r->B * s->r->per;
}

static const float *frame_x0(const traj_source *s, int k)
{
    if (k >= s->tr->S) return frame_xt(s, k);
    return s->tr->x0_hat + (size_t)k * s->r->B * s->r->per;
}

static void frame_label(const traj_source *s, int k, char *buf, size_t cap)
{
    if (s->tr->t[k] >= 0) snprintf(buf, cap, "step %d/%d  t=%d", k, s->tr->S, s->tr->t[k]);
    else snprintf(buf, cap, "step %d/%d  x0 (clean)", k, s->tr->S);
}

/* One GIF frame: a title line, then x_t and x0-hat side by side (grids for a batch). */
static void draw_frame(ddpm_image *img, const traj_source *s, int k, const char *title)
{
    const int B = s->r->B, H = s->r->H, W = s->r->W;
    ddpm_grid_spec gs = ddpm_grid_spec_default(B);
    gs.scale = B > 1 ? 3 : 8;
    gs.pad = B > 1 ? 2 : 0;
    memcpy(gs.background, BG, 3);
    int gw, gh;
    ddpm_grid_size(&gs, H, W, &gw, &gh);
    const int pad = 12, text_h = ddpm_image_text_height(2), top = pad + 2 * (text_h + 6);
    ddpm_image_init(img, 3 * pad + 2 * gw, top + gh + pad);
    ddpm_image_fill(img, BG);
    ddpm_image_draw_text(img, pad, pad, title, 2, DDPM_RGB_WHITE);
    char label[96];
    frame_label(s, k, label, sizeof label);
    ddpm_image_draw_text(img, pad, pad + text_h + 6, label, 2, DDPM_RGB_YELLOW);
    ddpm_image grid;
    ddpm_image_grid(&grid, &gs, frame_xt(s, k), B, H, W);
    ddpm_image_blit(img, pad, top, &grid);
    ddpm_image_free(&grid);
    ddpm_image_grid(&grid, &gs, frame_x0(s, k), B, H, W);
    ddpm_image_blit(img, 2 * pad + gw, top, &grid);
    ddpm_image_free(&grid);
    ddpm_image_draw_text(img, pad + 4, top + 4, "x_t", 1, DDPM_RGB_YELLOW);
    ddpm_image_draw_text(img, 2 * pad + gw + 4, top + 4, "x0-hat", 1, DDPM_RGB_CYAN);
}

static int write_gif(const traj_source *s, const char *path, const char *title, ddpm_error *err)
{
    ddpm_image img;
    draw_frame(&img, s, 0, title);
    ddpm_gif_writer gw;
    int rc = ddpm_gif_open(&gw, path, img.w, img.h, err);
    ddpm_image_free(&img);
    if (rc != DDPM_OK) return rc;
    const int max_frames = 120, n = s->frames < max_frames ? s->frames : max_frames;
    int last = -1;
    for (int f = 0; f < n && rc == DDPM_OK; f++) {
        int k = n == s->frames ? f : (int)((long)f * (s->frames - 1) / (n - 1));
        if (k == last) continue;
        last = k;
        draw_frame(&img, s, k, title);
        rc = ddpm_gif_add_frame(&gw, &img, k == s->frames - 1 ? 300 : 6, err);
        ddpm_image_free(&img);
    }
    if (rc != DDPM_OK) return rc; /* the writer released itself */
    return ddpm_gif_close(&gw, err);
}

/* The strip: ~10 evenly spaced frames across, rows x_t and x0-hat of up to 4 samples. */
static int write_strip(const traj_source *s, const char *path, const char *title, ddpm_error *err)
{
    const int H = s->r->H, W = s->r->W, scale = 3, cell = H * scale, pad = 6;
    const int cols = s->frames < 11 ? s->frames : 11;
    const int n_show = s->r->B < 4 ? s->r->B : 4;
    const int text_h = ddpm_image_text_height(1), top = pad + 2 * (text_h + 4);
    const int left = 56;
    ddpm_image img;
    ddpm_image_init(&img, left + cols * (W * scale + pad) + pad, top + 2 * n_show * (cell + pad) + pad);
    ddpm_image_fill(&img, BG);
    ddpm_image_draw_text(&img, pad, pad, title, 1, DDPM_RGB_WHITE);
    for (int c = 0; c < cols; c++) {
        int k = cols == 1 ? s->frames - 1 : (int)((long)c * (s->frames - 1) / (cols - 1));
        int x = left + c * (W * scale + pad);
        char label[32];
        if (s->tr->t[k] >= 0) snprintf(label, sizeof label, "t=%d", s->tr->t[k]);
        else snprintf(label, sizeof label, "x0");
        ddpm_image_draw_text(&img, x, pad + text_h + 4, label, 1, DDPM_RGB_YELLOW);
        for (int i = 0; i < n_show; i++) {
            int b = s->r->B == 1 ? 0 : (i + s->focus) % s->r->B;
            int y = top + 2 * i * (cell + pad);
            ddpm_image_blit_gray(&img, x, y, frame_xt(s, k) + (size_t)b * s->r->per, W, H, scale, DDPM_TONE_UNIT);
            ddpm_image_blit_gray(&img, x, y + cell + pad, frame_x0(s, k) + (size_t)b * s->r->per, W, H, scale,
                                 DDPM_TONE_UNIT);
        }
    }
    for (int i = 0; i < n_show; i++) {
        int y = top + 2 * i * (cell + pad);
        ddpm_image_draw_text(&img, pad, y + cell / 2 - 4, "x_t", 1, DDPM_RGB_YELLOW);
        ddpm_image_draw_text(&img, pad, y + cell + pad + cell / 2 - 4, "x0-hat", 1, DDPM_RGB_CYAN);
    }
    int rc = ddpm_png_write(path, &img, err);
    ddpm_image_free(&img);
    return rc;
}

int viz_export_trajectory_files(viz_app *a, const char *base, char *made, size_t cap, ddpm_error *err)
{
    const viz_result *r = a->shown;
    if (!r || !r->traj[0].x_t) return ddpm_fail(err, "no trajectory to export yet");
    viz_progress pr;
    viz_sampler_progress(a->sampler, r, &pr);
    char gif[4200], png[4200];
    made[0] = '\0';
    for (int side = 0; side < r->job.n_sides; side++) {
        traj_source s = {r, &r->traj[side], pr.done[side] + 1, r->job.focus};
        if (s.frames < 2) return ddpm_fail(err, "the trajectory has no finished step yet; wait a moment");
        const char *tag = r->job.n_sides > 1 ? (side == 0 ? "-A" : "-B") : "";
        char clean[160]; /* the bitmap font wants ASCII */
        snprintf(clean, sizeof clean, "%s  seed %llu", r->job.sides[side].label_ascii,
                 (unsigned long long)r->job.seed);
        snprintf(gif, sizeof gif, "%.4000s%s.gif", base, tag);
        snprintf(png, sizeof png, "%.4000s%s-strip.png", base, tag);
        if (write_gif(&s, gif, clean, err) != DDPM_OK || write_strip(&s, png, clean, err) != DDPM_OK) return DDPM_ERR;
        size_t used = strlen(made);
        snprintf(made + used, cap - used, "%s%s + %s", used ? ", " : "", gif, png);
    }
    return DDPM_OK;
}

void viz_app_export_trajectory(viz_app *a)
{
    ddpm_error err = {0};
    char base[4096], made[9000];
    if (export_path(a, "trajectory", "", base, sizeof base, &err) != DDPM_OK ||
        viz_export_trajectory_files(a, base, made, sizeof made, &err) != DDPM_OK) {
        viz_app_toast(a, VIZ_LEVEL_ERROR, "Export failed: %s", err.msg);
        return;
    }
    viz_app_toast(a, VIZ_LEVEL_OK, "Saved %s", made);
}

void viz_export_pending_view(viz_app *a)
{
    a->export_view_pending = false;
    if (a->p.view == VIZ_VIEW_STUDY) {
        viz_export_study(a);
        return;
    }
    ddpm_error err = {0};
    char path[4096];
    if (export_path(a, "view", ".png", path, sizeof path, &err) != DDPM_OK || viz_export_read_view(a, path, &err) != DDPM_OK) {
        viz_app_toast(a, VIZ_LEVEL_ERROR, "Export failed: %s", err.msg);
        return;
    }
    viz_app_toast(a, VIZ_LEVEL_OK, "Saved the view to %s", path);
}
