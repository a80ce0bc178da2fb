/* cmd_sample.c: `ddpm sample`, samples from a checkpoint.  Images: a PNG
 * grid, an IDX file for scoring, and with --trajectory a PNG strip and an
 * animated GIF of x_t and x0-hat over the reverse steps.  Points (the 2D
 * world): a scatter PNG over the data, a CSV, and with --trajectory the
 * cloud's flight as a strip and a GIF. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli_util.h"
#include "ddpm/fileio.h"
#include "commands.h"
#include "ddpm/idx.h"
#include "ddpm/layers.h"
#include "ddpm/points.h"
#include "ddpm/threads.h"
#include "progress.h"

static const char *SUMMARY =
    "Samples images from a checkpoint (default: the bundled eps-prediction model).\n"
    "\n"
    "  ddpm sample --steps 50 --eta 0 -n 16 --out samples.png\n"
    "  ddpm sample run/model.safetensors --sampler ddpm --steps 1000 --trajectory\n"
    "\n"
    "Writes the PNG grid (--out), the samples as an IDX3 ubyte file (--idx, default\n"
    "<out>-images-idx3-ubyte) for `ddpm eval` or other tools, and with --trajectory\n"
    "<out>-trajectory.png (x_t and x0-hat rows for up to 8 samples over the steps)\n"
    "and <out>-trajectory.gif.  The same --seed gives the same x_T and the same noise\n"
    "whatever --eta, --steps or --sampler, so runs are directly comparable.\n"
    "\n"
    "A model of points (`ddpm train --data moons`) gives 2,000 points by default: a\n"
    "scatter plot over its data (--out), the points as CSV (--csv, default\n"
    "<out>-points.csv) for `ddpm eval`, and with --trajectory the cloud's flight.\n"
    "\n"
    "eta: sigma_t = eta * sqrt(beta~_t) (DDIM eq. 16), i.e. sigma^2 = eta^2 beta~; the\n"
    "seed notes write sigma^2 = eta beta~, so eta here is sqrt(their eta) (0 and 1 agree).";

/* ---- trajectory recording ------------------------------------------------------ */

enum { TRAJ_MAX_SAMPLES = 8, TRAJ_STRIP_COLUMNS = 12 };

typedef struct {
    int n_show, S, size;
    size_t per;                 /* floats per image */
    float *x_t, *x0;            /* (steps + 1, n_show, per): x_t before each step, then x_0 */
    int *t;                     /* (steps + 1) */
    ddpm_progress *prog;
    int64_t done_before;
} trajectory;

static bool record_step(void *ctx, const ddpm_step_view *v)
{
    trajectory *tr = ctx;
    if (tr->x_t) {
        size_t frame = (size_t)tr->n_show * tr->per;
        memcpy(tr->x_t + (size_t)v->k * frame, v->x_t, sizeof(float) * frame);
        memcpy(tr->x0 + (size_t)v->k * frame, v->parts.x0_hat, sizeof(float) * frame);
        tr->t[v->k] = v->t;
        if (v->k == v->steps - 1) {
            memcpy(tr->x_t + (size_t)(v->k + 1) * frame, v->x_prev, sizeof(float) * frame);
            memcpy(tr->x0 + (size_t)(v->k + 1) * frame, v->x_prev, sizeof(float) * frame);
            tr->t[v->k + 1] = -1;
        }
    }
    if (tr->prog) ddpm_progress_update(tr->prog, tr->done_before + v->k + 1, "");
    return true;
}

/* One frame: a row of x_t images over a row of x0-hat images, with labels. */
static void draw_frame(ddpm_image *img, const trajectory *tr, int k, int scale)
{
    const int S = tr->size, pad = 4, cell = S * scale;
    const int label_h = ddpm_image_text_height(1) + 4;
    ddpm_image_init(img, pad + tr->n_show * (cell + pad) + 40, label_h + 2 * (cell + pad) + pad);
    ddpm_image_fill(img, (const uint8_t[3]){24, 24, 24});
    char label[64];
    if (tr->t[k] >= 0)
        snprintf(label, sizeof label, "step %d/%d  t=%d", k + 1, tr->S, tr->t[k]);
    else
        snprintf(label, sizeof label, "x0 (done)");
    ddpm_image_draw_text(img, pad, 2, label, 1, DDPM_RGB_WHITE);
    size_t frame = (size_t)tr->n_show * tr->per;
    for (int i = 0; i < tr->n_show; i++) {
        int x = pad + i * (cell + pad);
        ddpm_image_blit_gray(img, x, label_h, tr->x_t + k * frame + i * tr->per, S, S, scale, DDPM_TONE_UNIT);
        ddpm_image_blit_gray(img, x, label_h + cell + pad, tr->x0 + k * frame + i * tr->per, S, S, scale,
                             DDPM_TONE_UNIT);
    }
    int lx = pad + tr->n_show * (cell + pad);
    ddpm_image_draw_text(img, lx, label_h + cell / 2, "x_t", 1, DDPM_RGB_YELLOW);
    ddpm_image_draw_text(img, lx, label_h + cell + pad + cell / 2, "x0^", 1, DDPM_RGB_CYAN);
}

/* Draws frame k of a trajectory into out (initialised by the callee). */
typedef void (*frame_fn)(const void *ctx, int k, ddpm_image *out);

/* The trajectory's GIF: every step up to max_frames (a subsample beyond),
 * 8 cs a frame, then a pause on x0. */
static int write_gif(const char *path, int frames, int max_frames, frame_fn draw, const void *ctx, ddpm_error *err)
{
    ddpm_gif_writer gw;
    int rc = DDPM_OK, last_k = -1;
    const int n = frames < max_frames ? frames : max_frames;
    for (int f = 0; f < n && rc == DDPM_OK; f++) {
        const int k = frames <= max_frames ? f : (int)((long)f * (frames - 1) / (max_frames - 1));
        if (k == last_k) continue;
        last_k = k;
        ddpm_image img;
        draw(ctx, k, &img);
        if (f == 0) rc = ddpm_gif_open(&gw, path, img.w, img.h, err);
        if (rc == DDPM_OK) rc = ddpm_gif_add_frame(&gw, &img, k == frames - 1 ? 250 : 8, err);
        ddpm_image_free(&img);
    }
    if (rc != DDPM_OK) return rc; /* the writer released itself */
    return ddpm_gif_close(&gw, err);
}

static void image_frame(const void *ctx, int k, ddpm_image *out) { draw_frame(out, ctx, k, 3); }

static int write_trajectory(const trajectory *tr, const char *base, ddpm_error *err)
{
    /* the strip: evenly spaced steps, first and last included */
    const int frames = tr->S + 1;
    int cols = frames < TRAJ_STRIP_COLUMNS ? frames : TRAJ_STRIP_COLUMNS;
    const int scale = 2, S = tr->size, cell = S * scale, pad = 3;
    const int label_h = ddpm_image_text_height(1) + 3;
    ddpm_image strip;
    ddpm_image_init(&strip, pad + cols * (cell + pad), label_h + 2 * tr->n_show * (cell + pad) + pad);
    ddpm_image_fill(&strip, (const uint8_t[3]){24, 24, 24});
    size_t frame = (size_t)tr->n_show * tr->per;
    for (int c = 0; c < cols; c++) {
        int k = cols == 1 ? frames - 1 : (int)((long)c * (frames - 1) / (cols - 1));
        int x = pad + c * (cell + pad);
        char label[16];
        if (tr->t[k] >= 0)
            snprintf(label, sizeof label, "t=%d", tr->t[k]);
        else
            snprintf(label, sizeof label, "x0");
        ddpm_image_draw_text(&strip, x, 1, label, 1, DDPM_RGB_WHITE);
        for (int i = 0; i < tr->n_show; i++) {
            int y = label_h + 2 * i * (cell + pad);
            ddpm_image_blit_gray(&strip, x, y, tr->x_t + k * frame + i * tr->per, S, S, scale, DDPM_TONE_UNIT);
            ddpm_image_blit_gray(&strip, x, y + cell + pad, tr->x0 + k * frame + i * tr->per, S, S, scale,
                                 DDPM_TONE_UNIT);
        }
    }
    char path[4200];
    snprintf(path, sizeof path, "%s-trajectory.png", base);
    int rc = ddpm_png_write(path, &strip, err);
    ddpm_image_free(&strip);
    if (rc != DDPM_OK) return rc;

    snprintf(path, sizeof path, "%s-trajectory.gif", base);
    return write_gif(path, frames, 100, image_frame, tr, err);
}

/* ---- points --------------------------------------------------------------------- */

enum { TRAJ_MAX_POINTS = 2000, TRAJ_STRIP_POINTS = 6, TRAJ_GIF_FRAMES = 60 };

/* What a frame of the cloud's GIF needs. */
typedef struct {
    const trajectory *tr;
    int D;
    const ddpm_dataset *ref;
} cloud;

static void cloud_frame(const void *ctx, int k, ddpm_image *out)
{
    const cloud *c = ctx;
    ddpm_scatter_spec spec = ddpm_scatter_spec_default();
    spec.size = 384;
    char title[64];
    if (c->tr->t[k] >= 0) snprintf(title, sizeof title, "step %d/%d  t=%d", k + 1, c->tr->S, c->tr->t[k]);
    else snprintf(title, sizeof title, "x0 (done)");
    const size_t frame = (size_t)c->tr->n_show * c->tr->per;
    ddpm_image_scatter(out, &spec, c->tr->x_t + (size_t)k * frame, (size_t)c->tr->n_show, c->D,
                       c->ref ? c->ref->points : NULL, c->ref ? c->ref->n : 0, title);
}

/* The cloud's flight: a strip of scatter plots at evenly spaced steps, and a
 * GIF of every step (a subsample beyond TRAJ_GIF_FRAMES) ending on x0. */
static int write_points_trajectory(const trajectory *tr, int D, const ddpm_dataset *ref, const char *base,
                                   ddpm_error *err)
{
    const int frames = tr->S + 1, cols = frames < TRAJ_STRIP_POINTS ? frames : TRAJ_STRIP_POINTS;
    const size_t frame = (size_t)tr->n_show * tr->per;
    ddpm_scatter_spec spec = ddpm_scatter_spec_default();
    spec.size = 256;
    ddpm_image strip = {0};
    for (int c = 0; c < cols; c++) {
        const int k = cols == 1 ? frames - 1 : (int)((long)c * (frames - 1) / (cols - 1));
        char title[32];
        if (tr->t[k] >= 0) snprintf(title, sizeof title, "x_t, t=%d", tr->t[k]);
        else snprintf(title, sizeof title, "x0");
        ddpm_image cell;
        ddpm_image_scatter(&cell, &spec, tr->x_t + (size_t)k * frame, (size_t)tr->n_show, D, ref ? ref->points : NULL,
                           ref ? ref->n : 0, title);
        if (c == 0) {
            ddpm_image_init(&strip, cols * cell.w, cell.h);
        }
        ddpm_image_blit(&strip, c * cell.w, 0, &cell);
        ddpm_image_free(&cell);
    }
    char path[4200];
    snprintf(path, sizeof path, "%s-trajectory.png", base);
    int rc = ddpm_png_write(path, &strip, err);
    ddpm_image_free(&strip);
    if (rc != DDPM_OK) return rc;

    snprintf(path, sizeof path, "%s-trajectory.gif", base);
    const cloud c = {tr, D, ref};
    return write_gif(path, frames, TRAJ_GIF_FRAMES, cloud_frame, &c, err);
}

/* A model of points: the scatter PNG over its data, the CSV and the
 * trajectory; returns the command's status. */
static int write_points(const ddpm_cli_model *m, const float *x, int n, int D, const ddpm_sampler_config *cfg,
                        uint64_t seed, const char *out, const char *csv_path, const char *base,
                        const trajectory *tr, ddpm_error *err)
{
    ddpm_dataset ref;
    ddpm_error ref_err = {0};
    if (ddpm_dataset_open(&ref, m->ck.run.dataset, DDPM_SPLIT_HELDOUT, &ref_err) != DDPM_OK) {
        fprintf(stderr, "ddpm sample: note: the plot shows no data under the points: %s\n", ref_err.msg);
        memset(&ref, 0, sizeof ref);
    }
    const ddpm_dataset *r = ref.points && ref.channels == D ? &ref : NULL;
    char title[160], comment[4400], csv[4200];
    char desc[96];
    ddpm_cli_sampler_desc(cfg, desc, sizeof desc);
    snprintf(title, sizeof title, "%.40s: %d samples, %s", m->ck.run.dataset, n, desc);
    /* `ddpm eval` reads dataset= back to know what to compare with */
    snprintf(comment, sizeof comment, "ddpm sample: dataset=%s, sampler=%s, steps=%d, eta=%g, seed=%llu",
             m->ck.run.dataset, ddpm_sampler_name(cfg->sampler), cfg->steps, cfg->eta, (unsigned long long)seed);
    snprintf(csv, sizeof csv, "%s-points.csv", base);
    int status = 0;
    if (ddpm_cli_points_png(out, x, (size_t)n, D, r, title, err) != DDPM_OK ||
        ddpm_points_write_csv(csv_path ? csv_path : csv, x, (size_t)n, D, comment, err) != DDPM_OK ||
        (tr && write_points_trajectory(tr, D, r, base, err) != DDPM_OK))
        status = DDPM_EXIT_BAD_INPUT;
    if (status == 0) fprintf(stderr, "ddpm sample: points in %s\n", csv_path ? csv_path : csv);
    ddpm_dataset_free(&ref);
    return status;
}

/* ---- the command ------------------------------------------------------------------ */

int ddpm_cmd_sample(int argc, char **argv)
{
    const char *sampler = NULL, *spacing = "leading", *variance = "small", *out = "samples.png";
    const char *idx_path = NULL, *schedule_override = NULL;
    const char *csv_path = NULL;
    int steps = -1, n = -1, batch = -1, threads = 0, scale = 2; /* -1: by the model */
    double eta = 0.0;
    uint64_t seed = 0;
    bool trajectory_on = false, clip = false, clip_recompute = false, quiet = false;
    const ddpm_arg_spec specs[] = {
        {"sampler", ARG_STRING, &sampler, 0, 0, "NAME",
         "ddpm (ancestral) or ddim (default: what the visualizer shows for the model: ddim for images, ddpm for points)"},
        {"steps", ARG_INT, &steps, 0, 0, "S", "reverse steps (1..T; -1: the visualizer's, 50 for images, T for points)"},
        {"eta", ARG_DOUBLE, &eta, 0, 0, "X", "DDIM eta in [0, 1]: 0 deterministic, 1 DDPM-like"},
        {"spacing", ARG_STRING, &spacing, 0, 0, "NAME", "timestep spacing: leading|trailing|linspace"},
        {"variance", ARG_STRING, &variance, 0, 0, "NAME", "DDPM variance: small (posterior) or large (beta)"},
        {"clip", ARG_FLAG, &clip, 0, 0, NULL, "clamp x0-hat to [-1, 1] at every step"},
        {"clip-eps", ARG_FLAG, &clip_recompute, 0, 0, NULL, "with --clip, recompute eps-hat from the clamped x0-hat"},
        {"schedule", ARG_STRING, &schedule_override, 0, 0, "NAME", "sample with another schedule than the model's (a lesson in mismatch)"},
        {"seed", ARG_U64, &seed, 0, 0, "N", "seed of x_T and of the per-step noise"},
        {"n", ARG_INT, &n, 1, 100000, "N", "number of samples (default 16 images, or 2000 points)"},
        {"batch", ARG_INT, &batch, 1, 4096, "N", "samples per forward pass (default 64 images, or 4096 points)"},
        {"out", ARG_STRING, &out, 0, 0, "FILE", "PNG: a grid of images, or a scatter plot of points"},
        {"idx", ARG_STRING, &idx_path, 0, 0, "FILE", "images: IDX3 ubyte output (default <out>-images-idx3-ubyte)"},
        {"csv", ARG_STRING, &csv_path, 0, 0, "FILE", "points: CSV output (default <out>-points.csv)"},
        {"scale", ARG_INT, &scale, 1, 16, "N", "zoom of the PNG grid"},
        {"trajectory", ARG_FLAG, &trajectory_on, 0, 0, NULL, "also write <out>-trajectory.png and .gif"},
        {"threads", ARG_INT, &threads, 0, 0, "N", "threads (0 = all cores); results are the same at any count"},
        {"quiet", ARG_FLAG, &quiet, 0, 0, NULL, "no progress bar"},
    };
    const int n_specs = (int)(sizeof specs / sizeof specs[0]);
    ddpm_error err = {0};
    const char *pos[1];
    int n_pos = 0;
    int rc = ddpm_args_parse_positional(specs, n_specs, argc, argv, pos, 1, &n_pos, &err);
    if (rc == DDPM_ARGS_HELP) {
        ddpm_args_usage(stdout, "sample [CHECKPOINT]", SUMMARY, specs, n_specs);
        return 0;
    }
    if (rc != DDPM_OK) return ddpm_cli_bad_input("sample", &err);
    char model_path[4096];
    if (n_pos)
        snprintf(model_path, sizeof model_path, "%s", pos[0]);
    else
        ddpm_cli_model_path(DDPM_DEFAULT_MODEL, model_path, sizeof model_path);

    /* no output may be the model it samples (by device and inode: links and
     * other spellings included); the derived names too */
    /* the outputs' base name: out without its .png */
    char base[4096];
    snprintf(base, sizeof base, "%s", out);
    char *dot = strrchr(base, '.');
    if (dot && strcmp(dot, ".png") == 0) *dot = '\0';
    {
        char idx[4200], tp[4200], tg[4200];
        snprintf(idx, sizeof idx, "%s-images-idx3-ubyte", base);
        snprintf(tp, sizeof tp, "%s-trajectory.png", base);
        snprintf(tg, sizeof tg, "%s-trajectory.gif", base);
        const char *in[1] = {model_path};
        if (ddpm_check_output("--out", out, in, 1, &err) != DDPM_OK ||
            ddpm_check_output("--idx", idx_path ? idx_path : idx, in, 1, &err) != DDPM_OK ||
            ddpm_check_output("--csv", csv_path, in, 1, &err) != DDPM_OK ||
            ddpm_check_output("--trajectory", tp, in, 1, &err) != DDPM_OK ||
            ddpm_check_output("--trajectory", tg, in, 1, &err) != DDPM_OK)
            return ddpm_cli_bad_input("sample", &err);
    }
    ddpm_cli_model m;
    ddpm_set_threads(threads); /* before the model's workspace is made */
    if (ddpm_cli_model_load(&m, model_path, 1, &err) != DDPM_OK) return ddpm_cli_bad_input("sample", &err);
    const bool points = ddpm_cli_model_is_points(&m);
    /* unless told otherwise, what the visualizer shows for this model */
    ddpm_sampler_config cfg = ddpm_sampler_config_for_model(points, m.schedule.T);
    if ((sampler && ddpm_sampler_parse(sampler, &cfg.sampler, &err) != DDPM_OK) ||
        ddpm_spacing_parse(spacing, &cfg.spacing, &err) != DDPM_OK ||
        ddpm_variance_parse(variance, &cfg.variance, &err) != DDPM_OK) {
        ddpm_cli_model_free(&m);
        return ddpm_cli_bad_input("sample", &err);
    }
    if (steps != -1) cfg.steps = steps;
    steps = cfg.steps;
    cfg.eta = eta;
    cfg.clip_x0 = clip;
    cfg.clip_recompute_eps = clip && clip_recompute;
    if (n < 0) n = points ? 2000 : 16;
    if (batch < 0) batch = points ? DDPM_CLI_POINTS_BATCH : 64;
    if (points ? idx_path != NULL : csv_path != NULL) {
        ddpm_fail(&err, points ? "'%s' makes points: write them with --csv, not --idx"
                               : "'%s' makes images: write them with --idx, not --csv", model_path);
        ddpm_cli_model_free(&m);
        return ddpm_cli_bad_input("sample", &err);
    }
    if (ddpm_cli_model_set_batch(&m, batch < n ? batch : n, &err) != DDPM_OK) {
        ddpm_cli_model_free(&m);
        return ddpm_cli_bad_input("sample", &err);
    }
    if (schedule_override) {
        ddpm_schedule_config sc = m.ck.run.schedule;
        if (ddpm_schedule_parse(schedule_override, &sc.kind, &err) != DDPM_OK) {
            ddpm_cli_model_free(&m);
            return ddpm_cli_bad_input("sample", &err);
        }
        ddpm_cli_note_schedule_alias("sample", schedule_override);
        if (sc.kind != m.ck.run.schedule.kind)
            fprintf(stderr, "ddpm sample: note: sampling with the %s schedule, the model was trained with %s\n",
                    ddpm_schedule_name(sc.kind), ddpm_schedule_name(m.ck.run.schedule.kind));
        ddpm_schedule_free(&m.schedule);
        if (ddpm_schedule_init(&m.schedule, &sc, &err) != DDPM_OK) {
            ddpm_cli_model_free(&m);
            return ddpm_cli_bad_input("sample", &err);
        }
    }
    if (ddpm_sampler_config_validate(&cfg, m.schedule.T, &err) != DDPM_OK) {
        ddpm_cli_model_free(&m);
        return ddpm_cli_bad_input("sample", &err);
    }

    int C, S, W;
    ddpm_net_config_shape(&m.ck.run.net, &C, &S, &W);
    const size_t per = (size_t)C * S * W;
    float *x = malloc(sizeof(float) * per * (size_t)n);
    trajectory tr = {0};
    tr.size = S;
    tr.per = per;
    tr.S = steps;
    if (trajectory_on) {
        const int show = points ? TRAJ_MAX_POINTS : TRAJ_MAX_SAMPLES;
        tr.n_show = n < show ? n : show;
        size_t frames = (size_t)steps + 1;
        tr.x_t = malloc(sizeof(float) * frames * tr.n_show * per);
        tr.x0 = malloc(sizeof(float) * frames * tr.n_show * per);
        tr.t = malloc(sizeof(int) * frames);
    }
    if (!x || (trajectory_on && (!tr.x_t || !tr.x0 || !tr.t))) {
        ddpm_fail(&err, "out of memory for %d samples", n);
        free(x), free(tr.x_t), free(tr.x0), free(tr.t);
        ddpm_cli_model_free(&m);
        return ddpm_cli_bad_input("sample", &err);
    }
    ddpm_progress prog;
    const int64_t chunks = (n + batch - 1) / batch;
    ddpm_progress_start(&prog, "sample", chunks * steps, 0);
    tr.prog = quiet ? NULL : &prog;
    double t0 = ddpm_now();
    int status = 0;
    for (int b0 = 0; b0 < n; b0 += batch) {
        int nb = n - b0 < batch ? n - b0 : batch;
        ddpm_sample_request req = {.schedule = &m.schedule, .cfg = cfg, .pred = m.ck.run.prediction,
                                   .seed = seed, .first_index = b0};
        trajectory *cb_ctx = &tr;
        trajectory no_record = tr;
        if (b0 > 0) {
            no_record.x_t = NULL; /* only the first chunk is recorded */
            cb_ctx = &no_record;
        }
        cb_ctx->done_before = (int64_t)(b0 / batch) * steps;
        bool need_cb = tr.prog || cb_ctx->x_t;
        if (ddpm_sample(&req, ddpm_net_denoise, &m.denoiser, nb, C, S, S, x + (size_t)b0 * per, NULL,
                        need_cb ? record_step : NULL, cb_ctx, &err) != DDPM_OK) {
            fprintf(stderr, "\nddpm sample: %s\n", err.msg);
            status = 1;
            break;
        }
    }
    if (!quiet) ddpm_progress_finish(&prog);
    double secs = ddpm_now() - t0;

    /* a model whose weights load yet compute NaN (a corrupt file the load
     * checks let through) must not pass as an all-black result */
    if (status == 0) {
        size_t bad = 0;
        for (size_t i = 0; i < per * (size_t)n; i++) bad += !isfinite(x[i]);
        if (bad) {
            ddpm_fail(&err, "the model produced %zu non-finite values (NaN or Inf) of %zu: its weights are "
                            "unusable; nothing was written", bad, per * (size_t)n);
            status = DDPM_EXIT_BAD_INPUT;
        }
    }
    if (points) {
        if (status == 0) status = write_points(&m, x, n, C, &cfg, seed, out, csv_path, base, trajectory_on ? &tr : NULL,
                                               &err);
    } else if (status == 0) {
        ddpm_grid_spec gs = ddpm_grid_spec_default(n);
        gs.scale = scale;
        ddpm_image img;
        ddpm_image_grid(&img, &gs, x, n, S, S);
        if (ddpm_png_write(out, &img, &err) != DDPM_OK) status = DDPM_EXIT_BAD_INPUT;
        ddpm_image_free(&img);
    }
    if (status == 0 && !points && C == 1) {
        char path[4200];
        if (!idx_path) snprintf(path, sizeof path, "%s-images-idx3-ubyte", base);
        uint8_t *bytes = malloc(per * (size_t)n);
        ddpm_cli_to_bytes(x, per * (size_t)n, bytes);
        if (ddpm_idx_write_images(idx_path ? idx_path : path, bytes, (size_t)n, S, S, &err) != DDPM_OK)
            status = DDPM_EXIT_BAD_INPUT;
        free(bytes);
    }
    if (status == 0 && !points && trajectory_on && write_trajectory(&tr, base, &err) != DDPM_OK)
        status = DDPM_EXIT_BAD_INPUT;
    if (status == DDPM_EXIT_BAD_INPUT) fprintf(stderr, "ddpm sample: %s\n", err.msg);
    char desc[96];
    ddpm_cli_sampler_desc(&cfg, desc, sizeof desc);
    if (status == 0)
        fprintf(stderr, "ddpm sample: %d samples in %.1f s (%s) -> %s%s\n", n, secs, desc, out,
                trajectory_on ? " (+ trajectory)" : "");
    free(x), free(tr.x_t), free(tr.x0), free(tr.t);
    ddpm_cli_model_free(&m);
    return status;
}
