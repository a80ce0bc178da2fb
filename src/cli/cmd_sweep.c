/* cmd_sweep.c: `ddpm sweep`, the "prediction type x steps x eta" study as
 * one command: for each checkpoint, a labelled sheet of samples (rows eta,
 * columns step counts) drawn from the same x_T and the same per-step noise
 * in every cell, and a CSV of classifier scores and timings per cell. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "ddpm/fileio.h"
#include "ddpm/layers.h"
#include "ddpm/threads.h"
#include "scoring.h"

static const char *SUMMARY =
    "Compares checkpoints over eta x steps on identical noise.\n"
    "\n"
    "  ddpm sweep eps.safetensors v.safetensors --eta 0,0.5,1 --steps 10,50,1000\n"
    "\n"
    "For every checkpoint: a sheet with one row per eta and one column per step count,\n"
    "each cell a grid of the first -n samples.  Every cell starts from the same x_T and\n"
    "draws the same noise (the sampler's locked streams), so the differences between\n"
    "cells are the sampler settings alone.  The sheets of all checkpoints are stacked\n"
    "top to bottom in one PNG (--out), each titled with the checkpoint's name,\n"
    "prediction type and schedule.  Each cell also scores its first --score-n samples\n"
    "(see `ddpm eval --help`; 0 = no scoring) and the CSV (--csv, default <out>.csv,\n"
    "written row by row) holds: checkpoint, prediction, schedule, eta, steps, n_scored,\n"
    "confidence, entropy, inception_score, fd, fd_ratio (FD / the real-digit floor at\n"
    "the same n), seconds (time to sample the cell).  Cost grows with the sum of the\n"
    "step counts; an estimate is printed before sampling starts.";

enum { MAX_LIST = 32 };

/* ---- the lists ------------------------------------------------------------------- */

/* Splits a comma-separated list into items; rejects empty items and lists. */
/* ---- the plan ------------------------------------------------------------------------ */

/* Everything the sweep will do, settled before the first sample. */
typedef struct {
    double etas[MAX_LIST];
    int steps[MAX_LIST];
    int n_eta, n_steps;
    ddpm_sampler_config base;     /* sampler, spacing, variance; eta and steps per cell */
    uint64_t seed;
    int n_show, n_score;          /* samples drawn in a cell's grid / scored */
    int n_sample;                 /* samples drawn per cell: the larger of the two */
    int batch, scale;
} sweep_plan;

typedef struct {
    const char *path;
    const char *name;             /* the file name without its folders */
    double seconds_per_unit;      /* one UNet evaluation of one image, measured */
    char dataset[256];            /* what it was trained on: picks the classifier */
} sweep_model;

/* Loads sm->path, checks every cell's sampler settings and the image size,
 * and times a forward pass for the estimate. */
static int check_model(sweep_model *sm, const sweep_plan *p, ddpm_error *err)
{
    const int nb = p->batch < p->n_sample ? p->batch : p->n_sample;
    ddpm_cli_model m;
    if (ddpm_cli_model_load(&m, sm->path, nb, err) != DDPM_OK) return DDPM_ERR;
    int rc = DDPM_OK;
    for (int k = 0; k < p->n_eta * p->n_steps && rc == DDPM_OK; k++) {
        ddpm_sampler_config cfg = p->base;
        cfg.eta = p->etas[k / p->n_steps];
        cfg.steps = p->steps[k % p->n_steps];
        if (cfg.steps > m.schedule.T)
            rc = ddpm_fail(err, "--steps %d exceeds T = %d of '%s'; use step counts in 1..%d", cfg.steps,
                           m.schedule.T, sm->path, m.schedule.T);
        else if (ddpm_sampler_config_validate(&cfg, m.schedule.T, err) != DDPM_OK)
            rc = ddpm_fail_context(err, "'%s'", sm->path);
    }
    snprintf(sm->dataset, sizeof sm->dataset, "%s", m.ck.run.dataset);
    int C, H, W;
    ddpm_net_config_shape(&m.ck.run.net, &C, &H, &W);
    if (rc == DDPM_OK && p->n_score > 0 && (C != 1 || H != DDPM_CLASSIFIER_SIZE))
        rc = ddpm_fail(err, "'%s' makes %dx%dx%d samples; the classifier scores 1x28x28 digits (use --score-n 0 "
                            "to sweep without scores)", sm->path, C, H, W);
    if (rc == DDPM_OK) {
        const size_t per = (size_t)C * H * W;
        float *x = ddpm_xcalloc(per * (size_t)nb * 2, sizeof(float));
        int *t = ddpm_xcalloc((size_t)nb, sizeof(int));
        for (int b = 0; b < nb; b++) t[b] = m.schedule.T - 1;
        double secs = 0;
        for (int rep = 0; rep < 2 && rc == DDPM_OK; rep++) { /* the first pass warms caches and threads */
            const double t0 = ddpm_now();
            rc = ddpm_net_denoise(&m.denoiser, x, t, nb, x + per * (size_t)nb, err);
            secs = ddpm_now() - t0;
        }
        sm->seconds_per_unit = secs / nb;
        free(t);
        free(x);
    }
    ddpm_cli_model_free(&m);
    return rc;
}

/* ---- one checkpoint --------------------------------------------------------------------- */

typedef struct {
    ddpm_quality q;
    double seconds;
} cell_result;

/* What every checkpoint's run shares. */
typedef struct {
    const sweep_plan *plan;
    const ddpm_quality_reference *ref;   /* NULL without scoring */
    const ddpm_quality *floor;           /* NULL without scoring */
    FILE *csv;
    ddpm_cli_sample_progress *progress;
    char *progress_text;                 /* (PROGRESS_TEXT) shown after the bar */
} sweep_run;

enum { PROGRESS_TEXT = 160 };

/* The grid of the first n samples with, when scored, "FD <fd> x<ratio>" below. */
static void draw_cell(ddpm_image *cell, const float *x, int n, int S, int scale, const ddpm_quality *q,
                      const ddpm_quality *floor)
{
    ddpm_grid_spec gs = ddpm_grid_spec_default(n);
    gs.scale = scale;
    ddpm_image grid;
    ddpm_image_grid(&grid, &gs, x, n, S, S);
    char text[64] = "";
    if (q) snprintf(text, sizeof text, "FD %.1f x%.1f", q->fd, floor->fd > 0 ? q->fd / floor->fd : 0.0);
    const int text_w = ddpm_image_text_width(text, 1), line = q ? ddpm_image_text_height(1) + 2 : 0;
    ddpm_image_init(cell, grid.w > text_w ? grid.w : text_w, grid.h + line);
    ddpm_image_blit(cell, 0, 0, &grid);
    if (q) ddpm_image_draw_text(cell, 0, grid.h + 1, text, 1, DDPM_RGB_YELLOW);
    ddpm_image_free(&grid);
}

/* Prints FD / floor (or seconds, unscored) as a matrix, rows eta and columns steps. */
static void print_summary(const char *name, const ddpm_run_config *run, const sweep_run *sr,
                          const cell_result *res)
{
    const sweep_plan *p = sr->plan;
    printf("\n%s (%s prediction, %s schedule): ", name, ddpm_prediction_name(run->prediction),
           ddpm_schedule_name(run->schedule.kind));
    if (sr->floor)
        printf("FD / floor (floor FD %.3f at n = %zu)\n", sr->floor->fd, sr->floor->n);
    else
        printf("seconds per cell (no scoring)\n");
    printf("%-12s", "eta \\ steps");
    for (int c = 0; c < p->n_steps; c++) printf(" %8d", p->steps[c]);
    printf("\n");
    for (int r = 0; r < p->n_eta; r++) {
        printf("%-12g", p->etas[r]);
        for (int c = 0; c < p->n_steps; c++) {
            const cell_result *cr = &res[r * p->n_steps + c];
            printf(" %8.2f", sr->floor ? cr->q.fd / sr->floor->fd : cr->seconds);
        }
        printf("\n");
    }
    fflush(stdout);
}

/* Samples, scores and draws every cell of one checkpoint into *sheet and
 * the CSV.  Returns 0, or an exit code with err filled. */
static int sweep_checkpoint(const sweep_run *sr, const sweep_model *sm, ddpm_image *sheet, ddpm_error *err)
{
    const sweep_plan *p = sr->plan;
    ddpm_cli_model m;
    const int nb = p->batch < p->n_sample ? p->batch : p->n_sample;
    if (ddpm_cli_model_load(&m, sm->path, nb, err) != DDPM_OK)
        return DDPM_EXIT_BAD_INPUT;  /* it loaded a moment ago: it changed on disk */
    const ddpm_run_config *run = &m.ck.run;
    int C, S, W;
    ddpm_net_config_shape(&run->net, &C, &S, &W);
    const size_t values = (size_t)C * S * W * (size_t)p->n_sample;
    const int n_cells = p->n_eta * p->n_steps;
    float *x = ddpm_xmalloc(sizeof(float) * values);
    ddpm_image *cells = ddpm_xcalloc((size_t)n_cells, sizeof *cells);
    cell_result *results = ddpm_xcalloc((size_t)n_cells, sizeof *results);
    int status = 0;
    for (int k = 0; k < n_cells; k++) {
        const double eta = p->etas[k / p->n_steps];
        const int steps = p->steps[k % p->n_steps];
        ddpm_sampler_config cfg = p->base;
        cfg.eta = eta;
        cfg.steps = steps;
        snprintf(sr->progress_text, PROGRESS_TEXT, "%.40s eta=%g steps=%d", sm->name, eta, steps);
        const double t0 = ddpm_now();
        if (ddpm_cli_sample_batched(&m, &cfg, p->seed, p->n_sample, nb, x, sr->progress, err) != DDPM_OK) {
            status = 1;
            break;
        }
        cell_result *cr = &results[k];
        cr->seconds = ddpm_now() - t0;
        ddpm_cli_quantize(x, values);
        if (sr->ref) ddpm_quality_score(sr->ref, x, (size_t)p->n_score, &cr->q);
        draw_cell(&cells[k], x, p->n_show, S, p->scale, sr->ref ? &cr->q : NULL, sr->floor);
        ddpm_cli_sweep_csv_row(sr->csv, sm->name, run, eta, steps, p->n_score, sr->ref ? &cr->q : NULL, sr->floor,
                               cr->seconds);
    }
    if (sr->progress->prog) ddpm_progress_finish(sr->progress->prog);  /* end the bar's line */
    if (status == 0) {
        char title[512];
        snprintf(title, sizeof title, "%s: %s prediction, %s schedule (T=%d), %s, %s spacing, seed %llu", sm->name,
                 ddpm_prediction_name(run->prediction), ddpm_schedule_name(run->schedule.kind), m.schedule.T,
                 ddpm_sampler_name(p->base.sampler), ddpm_spacing_name(p->base.spacing),
                 (unsigned long long)p->seed);
        char (*row_text)[32] = ddpm_xcalloc((size_t)p->n_eta, sizeof *row_text);
        char (*col_text)[32] = ddpm_xcalloc((size_t)p->n_steps, sizeof *col_text);
        const char **row_labels = ddpm_xcalloc((size_t)p->n_eta, sizeof *row_labels);
        const char **col_labels = ddpm_xcalloc((size_t)p->n_steps, sizeof *col_labels);
        for (int r = 0; r < p->n_eta; r++) {
            snprintf(row_text[r], sizeof row_text[r], "eta=%g", p->etas[r]);
            row_labels[r] = row_text[r];
        }
        for (int c = 0; c < p->n_steps; c++) {
            snprintf(col_text[c], sizeof col_text[c], "steps=%d", p->steps[c]);
            col_labels[c] = col_text[c];
        }
        ddpm_sheet_spec spec = ddpm_sheet_spec_default(p->n_eta, p->n_steps);
        spec.title = title;
        spec.row_labels = row_labels;
        spec.col_labels = col_labels;
        ddpm_image_sheet(sheet, &spec, cells);
        free(row_text), free(col_text), free(row_labels), free(col_labels);
        print_summary(sm->name, run, sr, results);
    }
    for (int k = 0; k < n_cells; k++) ddpm_image_free(&cells[k]);
    free(cells);
    free(results);
    free(x);
    ddpm_cli_model_free(&m);
    return status;
}

/* Stacks the sheets top to bottom, left-aligned, and writes the PNG. */
static int write_stacked_png(const char *path, const ddpm_image *sheets, int n, ddpm_error *err)
{
    int w = 0, h = 0;
    for (int i = 0; i < n; i++) {
        w = sheets[i].w > w ? sheets[i].w : w;
        h += sheets[i].h;
    }
    ddpm_image all;
    ddpm_image_init(&all, w, h);
    for (int i = 0, y = 0; i < n; y += sheets[i].h, i++) ddpm_image_blit(&all, 0, y, &sheets[i]);
    const int rc = ddpm_png_write(path, &all, err);
    ddpm_image_free(&all);
    return rc;
}

/* ---- the command ------------------------------------------------------------------------ */

int ddpm_cmd_sweep(int argc, char **argv)
{
    const char *eta_list = "0,0.2,0.5,1", *steps_list = "5,10,20,50,100,1000";
    const char *sampler = "ddim", *spacing = "leading", *variance = "small";
    const char *out = "sweep.png", *csv_arg = NULL, *classifier = NULL;
    sweep_plan p = {.base = ddpm_sampler_config_default(), .n_show = 8, .n_score = 200, .batch = 64, .scale = 1};
    int threads = 0;
    bool quiet = false;
    const ddpm_arg_spec specs[] = {
        {"eta", ARG_STRING, &eta_list, 0, 0, "LIST", "eta values, one row each (in [0, 1])"},
        {"steps", ARG_STRING, &steps_list, 0, 0, "LIST", "step counts, one column each (1..T)"},
        {"n", ARG_INT, &p.n_show, 1, 256, "N", "samples shown per cell"},
        {"score-n", ARG_INT, &p.n_score, 0, 100000, "N", "samples scored per cell (0 = no scoring, else >= 2)"},
        {"seed", ARG_U64, &p.seed, 0, 0, "N", "seed of x_T and of the per-step noise"},
        {"sampler", ARG_STRING, &sampler, 0, 0, "NAME", "ddim, or ddpm (which ignores eta)"},
        {"spacing", ARG_STRING, &spacing, 0, 0, "NAME", "timestep spacing: leading|trailing|linspace"},
        {"variance", ARG_STRING, &variance, 0, 0, "NAME", "DDPM variance: small|large"},
        {"clip", ARG_FLAG, &p.base.clip_x0, 0, 0, NULL, "clamp x0-hat to [-1, 1] at every step"},
        {"out", ARG_STRING, &out, 0, 0, "FILE", "the PNG of all sheets"},
        {"csv", ARG_STRING, &csv_arg, 0, 0, "FILE", "the per-cell CSV (default <out>.csv)"},
        {"scale", ARG_INT, &p.scale, 1, 8, "N", "zoom of the sample grids"},
        {"batch", ARG_INT, &p.batch, 1, 1024, "N", "images per forward pass"},
        {"classifier", ARG_STRING, &classifier, 0, 0, "FILE", "classifier (default <assets>/classifier.safetensors)"},
        {"threads", ARG_INT, &threads, 0, 0, "N", "threads (0 = all cores); results are the same at any count"},
        {"quiet", ARG_FLAG, &quiet, 0, 0, NULL, "no progress bar"},
    };
    const int n_specs = (int)(sizeof specs / sizeof specs[0]);
    enum { MAX_MODELS = 16 };
    ddpm_error err = {0};
    const char *pos[MAX_MODELS + 1];
    int n_pos = 0;
    int rc = ddpm_args_parse_positional(specs, n_specs, argc, argv, pos, MAX_MODELS + 1, &n_pos, &err);
    if (rc == DDPM_ARGS_HELP) {
        ddpm_args_usage(stdout, "sweep CHECKPOINT [CHECKPOINT...]", SUMMARY, specs, n_specs);
        return 0;
    }
    if (rc != DDPM_OK) return ddpm_cli_bad_input("sweep", &err);
    if (n_pos == 0 || n_pos > MAX_MODELS) {
        ddpm_fail(&err, n_pos ? "at most %d checkpoints per sweep" : "name at least one checkpoint to sweep "
                                                                    "(e.g. run/model.safetensors); at most %d",
                  MAX_MODELS);
        return ddpm_cli_bad_input("sweep", &err);
    }
    if (ddpm_cli_parse_etas(eta_list, "--eta", p.etas, MAX_LIST, &p.n_eta, &err) != DDPM_OK ||
        ddpm_cli_parse_steps(steps_list, "--steps", p.steps, MAX_LIST, &p.n_steps, &err) != DDPM_OK ||
        ddpm_sampler_parse(sampler, &p.base.sampler, &err) != DDPM_OK ||
        ddpm_spacing_parse(spacing, &p.base.spacing, &err) != DDPM_OK ||
        ddpm_variance_parse(variance, &p.base.variance, &err) != DDPM_OK)
        return ddpm_cli_bad_input("sweep", &err);
    if (p.n_score == 1) {
        ddpm_fail(&err, "--score-n 1: a covariance needs at least 2 samples; use 0 (no scores) or >= 2 (200 is usual)");
        return ddpm_cli_bad_input("sweep", &err);
    }
    if (p.base.sampler == DDPM_SAMPLER_DDPM && p.n_eta > 1)
        fprintf(stderr, "ddpm sweep: note: --sampler ddpm ignores eta; the rows will be identical\n");
    p.n_sample = p.n_show > p.n_score ? p.n_show : p.n_score;
    ddpm_set_threads(threads); /* the project's pool; BLAS stays at one thread */

    /* Everything that can be wrong is checked before the first sample, the
     * cheap checks first: the lists (above), the checkpoints, the classifier,
     * the CSV path. */
    sweep_model models[MAX_MODELS];
    int64_t sum_steps = 0, longest = 0, total_units = 0;
    for (int c = 0; c < p.n_steps; c++) {
        sum_steps += p.steps[c];
        longest = p.steps[c] > longest ? p.steps[c] : longest;
    }
    double estimate = 0, estimate_longest = 0;
    for (int i = 0; i < n_pos; i++) {
        models[i].path = pos[i];
        const char *slash = strrchr(pos[i], '/');
        models[i].name = slash ? slash + 1 : pos[i];
        if (check_model(&models[i], &p, &err) != DDPM_OK) return ddpm_cli_bad_input("sweep", &err);
        const double per_column = (double)p.n_sample * p.n_eta * models[i].seconds_per_unit;
        total_units += (int64_t)p.n_sample * p.n_eta * sum_steps;
        estimate += per_column * (double)sum_steps;
        estimate_longest += per_column * (double)longest;
    }
    const bool scoring = p.n_score > 0;
    ddpm_cli_scorer scorer;
    /* one classifier scores every column: the first model's dataset picks it */
    for (int i = 1; scoring && i < n_pos; i++)
        if (strcmp(models[i].dataset, models[0].dataset) != 0) {
            ddpm_fail(&err, "'%s' was trained on %s and '%s' on %s: one sweep scores one dataset; sweep them "
                            "separately (or --score-n 0)", models[0].path, models[0].dataset, models[i].path,
                      models[i].dataset);
            return ddpm_cli_bad_input("sweep", &err);
        }
    if (scoring && ddpm_cli_scorer_open(&scorer, classifier, models[0].dataset, &err) != DDPM_OK)
        return ddpm_cli_bad_input("sweep", &err);
    char csv_path[4200];
    if (csv_arg) {
        snprintf(csv_path, sizeof csv_path, "%s", csv_arg);
    } else {
        snprintf(csv_path, sizeof csv_path, "%s", out);
        char *dot = strrchr(csv_path, '.');
        if (dot && strcmp(dot, ".png") == 0) *dot = '\0';
        strncat(csv_path, ".csv", sizeof csv_path - strlen(csv_path) - 1);
    }
    /* neither output may be a checkpoint or the classifier it reads */
    const char *inputs[MAX_MODELS + 1];
    for (int i = 0; i < n_pos; i++) inputs[i] = pos[i];
    inputs[n_pos] = classifier;
    if (ddpm_check_output("--out", out, inputs, n_pos + 1, &err) != DDPM_OK ||
        ddpm_check_output("--csv", csv_path, inputs, n_pos + 1, &err) != DDPM_OK) {
        if (scoring) ddpm_cli_scorer_close(&scorer);
        return ddpm_cli_bad_input("sweep", &err);
    }
    FILE *csv = fopen(csv_path, "w");
    if (!csv) {
        ddpm_fail(&err, "cannot write '%s': %s; choose a writable --csv path", csv_path, strerror(errno));
        if (scoring) ddpm_cli_scorer_close(&scorer);
        return ddpm_cli_bad_input("sweep", &err);
    }
    ddpm_cli_sweep_csv_header(csv);

    char est[32], est_longest[32];
    ddpm_format_duration(estimate, est, sizeof est);
    ddpm_format_duration(estimate_longest, est_longest, sizeof est_longest);
    fprintf(stderr,
            "ddpm sweep: %d checkpoint%s x %d eta x %d step counts = %d cells of %d samples (%d shown, %d scored);\n"
            "  %lld image-steps, estimated %s (the longest column alone: %s)\n",
            n_pos, n_pos > 1 ? "s" : "", p.n_eta, p.n_steps, n_pos * p.n_eta * p.n_steps, p.n_sample, p.n_show,
            p.n_score, (long long)total_units, est, est_longest);

    ddpm_quality floor = {0};
    if (scoring) ddpm_quality_floor(&scorer.ref, (size_t)p.n_score, &floor);
    ddpm_progress prog;
    ddpm_progress_start(&prog, "sweep", total_units, 0);
    char progress_text[PROGRESS_TEXT] = "";
    ddpm_cli_sample_progress progress = {.prog = quiet ? NULL : &prog, .extra = progress_text};
    const sweep_run sr = {.plan = &p, .ref = scoring ? &scorer.ref : NULL, .floor = scoring ? &floor : NULL,
                          .csv = csv, .progress = &progress, .progress_text = progress_text};
    ddpm_image *sheets = ddpm_xcalloc((size_t)n_pos, sizeof *sheets);
    int status = 0;
    for (int i = 0; i < n_pos && status == 0; i++) status = sweep_checkpoint(&sr, &models[i], &sheets[i], &err);
    if (status != 0) fprintf(stderr, "ddpm sweep: %s\n", err.msg);
    if (fclose(csv) != 0 && status == 0) {
        ddpm_fail(&err, "writing '%s' failed: %s", csv_path, strerror(errno));
        status = ddpm_cli_bad_input("sweep", &err);
    }
    if (status == 0) {
        if (write_stacked_png(out, sheets, n_pos, &err) != DDPM_OK)
            status = ddpm_cli_bad_input("sweep", &err);
        else
            fprintf(stderr, "ddpm sweep: wrote %s and %s\n", out, csv_path);
    }
    for (int i = 0; i < n_pos; i++) ddpm_image_free(&sheets[i]);
    free(sheets);
    if (scoring) ddpm_cli_scorer_close(&scorer);
    return status;
}
