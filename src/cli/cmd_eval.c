/* cmd_eval.c: `ddpm eval`, sample quality.  Digits: scores from the bundled
 * classifier of an IDX file of samples or of fresh samples from a checkpoint,
 * beside the same scores for real digits (the floor); with
 * --train-classifier, the training of that classifier.  Points (the 2D
 * world): the energy distance of a CSV of samples, or of fresh samples, to
 * the data set, beside that of real points (ddpm/points.h). */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "ddpm/dataset.h"
#include "ddpm/fileio.h"
#include "ddpm/idx.h"
#include "ddpm/layers.h"
#include "ddpm/points.h"
#include "ddpm/threads.h"
#include "scoring.h"

static const char *SUMMARY =
    "Scores digit samples with the bundled classifier, beside real digits.\n"
    "\n"
    "  ddpm eval samples-images-idx3-ubyte          an IDX file, e.g. from `ddpm sample`\n"
    "  ddpm eval --checkpoint run/model.safetensors --steps 50 --eta 0 -n 1000\n"
    "  ddpm eval --train-classifier [--epochs 12] [--out assets/classifier.safetensors]\n"
    "\n"
    "Scores: confidence (mean max softmax probability), entropy of the predicted-label\n"
    "histogram (nats; ln 10 = 2.303 is perfect diversity), classifier-based inception\n"
    "score (1..10), and the Frechet distance (FD) of the classifier's 128 penultimate\n"
    "features to those of the 1,000 held-out digits.  The reference line ('floor') is\n"
    "the same scores for as many real digits from the training split, evenly strided,\n"
    "so FD/floor is the samples' FD in units of what sampling noise alone costs.\n"
    "Samples are quantised to bytes first, so --checkpoint gives the numbers that\n"
    "`ddpm sample` + `ddpm eval FILE` give.  Default n: 1000 with --checkpoint, the\n"
    "whole file otherwise.\n"
    "\n"
    "Points (the 2D world):\n"
    "  ddpm eval samples-points.csv [--data moons]   a CSV, e.g. from `ddpm sample`\n"
    "  ddpm eval --checkpoint runs/mlp-moons/model.safetensors -n 2000\n"
    "score the energy distance (ED) of the points to the data set's held-out points,\n"
    "beside the mean ED of as many real training points (the floor, ten sets), so\n"
    "ED/floor is about 1 for samples as good as real data.  --data defaults to the\n"
    "data set the CSV names (`ddpm sample` writes it) or the checkpoint was trained on.";

/* ---- --train-classifier -------------------------------------------------------- */

typedef struct {
    ddpm_progress prog;
    char label[32];           /* the bar's label, which prog points to */
    bool quiet, bar_open;
} train_view;

static bool on_train_progress(void *ctx, const ddpm_classifier_epoch_stats *s, bool epoch_done)
{
    train_view *v = ctx;
    if (!epoch_done) {
        if (v->quiet) return true;
        const int64_t per_epoch = s->total_steps / s->epochs;
        if (!v->bar_open) {
            snprintf(v->label, sizeof v->label, "epoch %d/%d", s->epoch, s->epochs);
            ddpm_progress_start(&v->prog, v->label, per_epoch, 0);
            v->bar_open = true;
        }
        char extra[64];
        snprintf(extra, sizeof extra, "loss %.4f  acc %.2f%%", s->loss, 100 * s->train_accuracy);
        ddpm_progress_update(&v->prog, s->step - (int64_t)(s->epoch - 1) * per_epoch, extra);
        return true;
    }
    if (v->bar_open) ddpm_progress_finish(&v->prog);
    v->bar_open = false;
    printf("epoch %2d/%d  loss %.4f  train acc %6.2f%% (augmented)  held-out acc %6.2f%%  %6.1f s\n",
           s->epoch, s->epochs, s->loss, 100 * s->train_accuracy, 100 * s->heldout_accuracy, s->seconds);
    fflush(stdout);
    return true;
}

static int train_classifier(const char *out, const char *data, int epochs, int batch, double lr, uint64_t seed,
                            bool quiet)
{
    ddpm_error err = {0};
    char path[4096];
    if (out)
        snprintf(path, sizeof path, "%s", out);
    else
        ddpm_classifier_path_for(data, path, sizeof path);
    /* the file is written at the end; find an unwritable folder now, not in minutes */
    char folder[4096];
    snprintf(folder, sizeof folder, "%s", path);
    if (access(dirname(folder), W_OK) != 0) {
        ddpm_fail(&err, "cannot write '%s': %s; choose a writable --out", path, strerror(errno));
        return ddpm_cli_bad_input("eval", &err);
    }
    ddpm_dataset train, heldout;
    if (ddpm_dataset_open(&train, data, DDPM_SPLIT_TRAIN, &err) != DDPM_OK)
        return ddpm_cli_bad_input("eval", &err);
    if (!train.bytes || train.height != DDPM_CLASSIFIER_SIZE || train.width != DDPM_CLASSIFIER_SIZE ||
        !train.labels) {
        ddpm_fail(&err, "'%s' is not a labelled set of 28x28 images; the classifier trains on those (digits, "
                        "fashion, a folder of IDX files with labels)", train.name);
        ddpm_dataset_free(&train);
        return ddpm_cli_bad_input("eval", &err);
    }
    if (ddpm_dataset_open(&heldout, data, DDPM_SPLIT_HELDOUT, &err) != DDPM_OK) {
        ddpm_dataset_free(&train);
        return ddpm_cli_bad_input("eval", &err);
    }
    ddpm_classifier_train_config cfg = ddpm_classifier_train_config_default();
    cfg.epochs = epochs;
    cfg.batch = batch;
    cfg.lr = lr;
    cfg.seed = seed;
    ddpm_classifier clf;
    ddpm_classifier_init(&clf, seed);
    printf("training the classifier of %s: %zu parameters, %zu training / %zu held-out images, "
           "%d epochs, batch %d, lr %g, shifts +-%d px, seed %llu, one thread\n  %s\n",
           train.name, ddpm_classifier_num_params(), train.n, heldout.n, cfg.epochs, cfg.batch, cfg.lr, cfg.max_shift,
           (unsigned long long)seed, DDPM_CLASSIFIER_ARCHITECTURE);
    fflush(stdout);
    train_view view = {.quiet = quiet};
    int status = 0;
    if (ddpm_classifier_train(&clf, &cfg, &train, &heldout, on_train_progress, &view, &err) != DDPM_OK) {
        if (view.bar_open) ddpm_progress_finish(&view.prog);
        fprintf(stderr, "ddpm eval: %s\n", err.msg);
        status = 1;
    } else if (ddpm_classifier_save(&clf, path, &err) != DDPM_OK) {
        status = ddpm_cli_bad_input("eval", &err);
    } else {
        printf("saved %s (held-out accuracy %.2f%%)\n", path, 100 * clf.heldout_accuracy);
    }
    ddpm_classifier_free(&clf);
    ddpm_dataset_free(&heldout);
    ddpm_dataset_free(&train);
    return status;
}

/* ---- the images to score --------------------------------------------------------- */

/* Reads an IDX image file as floats in [-1, 1]; at most max_n images (0: all). */
static int read_idx_images(const char *path, size_t max_n, float **out, size_t *out_n, ddpm_error *err)
{
    ddpm_idx idx;
    if (ddpm_idx_read(path, DDPM_IDX_IMAGES, &idx, err) != DDPM_OK)
        return ddpm_fail_context(err, "cannot score '%s' (give an IDX3 ubyte image file, e.g. what "
                                      "`ddpm sample --idx` writes)", path);
    if (idx.dims[1] != DDPM_CLASSIFIER_SIZE || idx.dims[2] != DDPM_CLASSIFIER_SIZE) {
        ddpm_fail(err, "'%s' holds %ux%u images; the classifier scores 28x28 digits (MNIST-sized samples)",
                  path, idx.dims[1], idx.dims[2]);
        ddpm_idx_free(&idx);
        return DDPM_ERR;
    }
    size_t n = idx.dims[0];
    if (max_n > 0 && max_n < n) n = max_n;
    const size_t per = (size_t)DDPM_CLASSIFIER_SIZE * DDPM_CLASSIFIER_SIZE;
    float *x = malloc(sizeof(float) * n * per);
    if (!x) {
        ddpm_idx_free(&idx);
        return ddpm_fail(err, "out of memory for %zu images of '%s'", n, path);
    }
    ddpm_pixels_from_bytes(x, idx.data, n * per);
    ddpm_idx_free(&idx);
    *out = x;
    *out_n = n;
    return DDPM_OK;
}

/* ---- points ------------------------------------------------------------------------ */

/* Whether path holds points (a text file) rather than an IDX file, whose
 * magic number starts with two zero bytes. */
static bool is_point_file(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot && (strcmp(dot, ".csv") == 0 || strcmp(dot, ".txt") == 0)) return true;
    unsigned char *buf;
    size_t len;
    ddpm_error ignored;
    if (ddpm_read_file(path, (size_t)1 << 30, &buf, &len, &ignored) != DDPM_OK) return false;
    const bool text = len > 0 && buf[0] != 0;
    free(buf);
    return text;
}

/* Scores `sets` sets of n points against the data set `spec` and prints the table. */
static int eval_points(const float *pts, size_t n, int sets, int D, const char *spec, const char *what, bool csv)
{
    ddpm_error err = {0};
    ddpm_dataset train, held;
    if (ddpm_dataset_open(&train, spec, DDPM_SPLIT_TRAIN, &err) != DDPM_OK) return ddpm_cli_bad_input("eval", &err);
    if (ddpm_dataset_open(&held, spec, DDPM_SPLIT_HELDOUT, &err) != DDPM_OK) {
        ddpm_dataset_free(&train);
        return ddpm_cli_bad_input("eval", &err);
    }
    ddpm_points_score sc;
    int rc = ddpm_points_score_samples(pts, n, sets, D, &train, &held, &sc, &err);
    if (rc == DDPM_OK) {
        if (csv) {
            printf("set,n,sets,energy_distance,ed_min,ed_max,ed_ratio\nsamples,%zu,%d,%.6g,%.6g,%.6g,%.4f\n"
                   "floor,%zu,%d,%.6g,,,1\n", sc.n, sc.sets, sc.ed, sc.ed_min, sc.ed_max, sc.ratio, sc.n,
                   sc.floor_sets, sc.floor);
        } else {
            printf("scoring %s\n\n%-22s %6s %5s %16s %9s   %s\n", what, "", "n", "sets", "energy distance", "ED/floor",
                   "range over the sets");
            printf("%-22s %6zu %5d %16.6f %9.2f   %.2f .. %.2f\n", "samples", sc.n, sc.sets, sc.ed, sc.ratio,
                   sc.ed_min / sc.floor, sc.ed_max / sc.floor);
            printf("%-22s %6zu %5d %16.6f %9.2f\n", "real points (floor)", sc.n, sc.floor_sets, sc.floor, 1.0);
            printf("\nreference: %zu held-out points of %s; each set of %zu points is scored against it and the "
                   "distances averaged\n(one set varies by about 2x from draw to draw: how the points split "
                   "between the modes is binomial)\n", sc.n_ref, train.name, sc.n);
        }
    }
    ddpm_dataset_free(&train);
    ddpm_dataset_free(&held);
    return rc == DDPM_OK ? 0 : ddpm_cli_bad_input("eval", &err);
}

/* ---- output ---------------------------------------------------------------------- */

static void print_row(const char *name, const ddpm_quality *q, double floor_fd, bool csv)
{
    const double ratio = floor_fd > 0 ? q->fd / floor_fd : 0.0;
    if (csv)
        printf("%s,%zu,%.6f,%.6f,%.6f,%.6f,%.6f\n", name, q->n, q->confidence, q->entropy,
               q->inception_score, q->fd, ratio);
    else
        printf("%-20s %6zu %11.4f %8.4f %8.3f %10.3f %9.2f\n", name, q->n, q->confidence, q->entropy,
               q->inception_score, q->fd, ratio);
}

/* ---- the command --------------------------------------------------------------------- */

int ddpm_cmd_eval(int argc, char **argv)
{
    const char *checkpoint = NULL, *classifier = NULL, *out = NULL, *data = NULL;
    const char *sampler = "ddim", *spacing = "leading", *variance = "small";
    int steps = 50, n = 0, batch = 64, threads = 0, epochs = 0, sets = 0;
    double eta = 0.0, lr = 0.0;
    uint64_t seed = 0;
    bool csv = false, quiet = false, train = false;
    const ddpm_classifier_train_config train_defaults = ddpm_classifier_train_config_default();
    epochs = train_defaults.epochs;
    lr = train_defaults.lr;
    const ddpm_arg_spec specs[] = {
        {"checkpoint", ARG_STRING, &checkpoint, 0, 0, "FILE", "sample from this model instead of reading an IDX file"},
        {"sampler", ARG_STRING, &sampler, 0, 0, "NAME", "with --checkpoint: ddpm (ancestral) or ddim"},
        {"steps", ARG_INT, &steps, 0, 0, "S", "with --checkpoint: reverse steps (1..T)"},
        {"eta", ARG_DOUBLE, &eta, 0, 0, "X", "with --checkpoint: DDIM eta in [0, 1]"},
        {"spacing", ARG_STRING, &spacing, 0, 0, "NAME", "with --checkpoint: leading|trailing|linspace"},
        {"variance", ARG_STRING, &variance, 0, 0, "NAME", "with --checkpoint: DDPM variance small|large"},
        {"seed", ARG_U64, &seed, 0, 0, "N", "seed of the samples (or of the classifier's training)"},
        {"n", ARG_INT, &n, 0, 100000, "N", "images to score (0: 1000 samples, or the whole IDX file)"},
        {"batch", ARG_INT, &batch, 1, 1024, "N", "images per forward pass"},
        {"classifier", ARG_STRING, &classifier, 0, 0, "FILE",
         "classifier (default: the dataset's, <assets>/classifier.safetensors or classifier-fashion.safetensors)"},
        {"data", ARG_STRING, &data, 0, 0, "SPEC",
         "the data to compare with: digits, fashion or a folder (default: the checkpoint's, else digits); "
         "points: moons, ... or a CSV; with --train-classifier: what it trains on"},
        {"sets", ARG_INT, &sets, 1, 100, "K",
         "points: sets of n samples to average (default 10 with --checkpoint; a CSV: all its sets of n)"},
        {"csv", ARG_FLAG, &csv, 0, 0, NULL, "print CSV: set,n,confidence,entropy,inception_score,fd,fd_ratio"},
        {"train-classifier", ARG_FLAG, &train, 0, 0, NULL, "train the classifier on the training split and save it"},
        {"out", ARG_STRING, &out, 0, 0, "FILE", "with --train-classifier: where (default <assets>/classifier.safetensors)"},
        {"epochs", ARG_INT, &epochs, 1, 1000, "N", "with --train-classifier: epochs"},
        {"lr", ARG_DOUBLE, &lr, 1e-6, 1, "X", "with --train-classifier: peak learning rate"},
        {"threads", ARG_INT, &threads, 0, 0, "N", "threads (0 = all cores); results are the same at any count"},
        {"quiet", ARG_FLAG, &quiet, 0, 0, NULL, "no progress bar"},
    };
    const int n_specs = (int)(sizeof specs / sizeof specs[0]);
    ddpm_error err = {0};
    const char *pos[2];
    int n_pos = 0;
    int rc = ddpm_args_parse_positional(specs, n_specs, argc, argv, pos, 2, &n_pos, &err);
    if (rc == DDPM_ARGS_HELP) {
        ddpm_args_usage(stdout, "eval [SAMPLES-IDX]", SUMMARY, specs, n_specs);
        return 0;
    }
    if (rc != DDPM_OK) return ddpm_cli_bad_input("eval", &err);
    ddpm_set_threads(threads); /* the project's pool; BLAS stays at one thread */
    if (train) {
        if (n_pos || checkpoint) {
            ddpm_fail(&err, "--train-classifier takes no samples; run it on its own");
            return ddpm_cli_bad_input("eval", &err);
        }
        return train_classifier(out, data, epochs, batch, lr, seed, quiet);
    }
    if (n_pos > 1 || (n_pos == 1) == (checkpoint != NULL)) {
        ddpm_fail(&err, "give exactly one of an IDX file of samples or --checkpoint MODEL (see --help)");
        return ddpm_cli_bad_input("eval", &err);
    }

    /* points: a CSV of samples */
    if (n_pos == 1 && is_point_file(pos[0])) {
        float *pts;
        size_t count_pts;
        int D;
        char tag[256];
        if (ddpm_points_read_csv(pos[0], &pts, &count_pts, &D, &err) != DDPM_OK) return ddpm_cli_bad_input("eval", &err);
        /* with -n: as many whole sets of n as the file holds (or --sets of them) */
        size_t per_set = n > 0 && (size_t)n < count_pts ? (size_t)n : count_pts;
        int n_sets = (int)(count_pts / per_set);
        if (sets > 0 && sets < n_sets) n_sets = sets;
        const char *spec = data ? data : ddpm_points_csv_tag(pos[0], "dataset", tag, sizeof tag) ? tag : NULL;
        if (!spec) {
            free(pts);
            ddpm_fail(&err, "'%s' does not say which data set its points are samples of; name it with --data "
                            "(%s, or a CSV of points)", pos[0], ddpm_points_names_list());
            return ddpm_cli_bad_input("eval", &err);
        }
        char what_pts[4400];
        snprintf(what_pts, sizeof what_pts, "%zu points from %s against %s", per_set * (size_t)n_sets, pos[0], spec);
        rc = eval_points(pts, per_set, n_sets, D, spec, what_pts, csv);
        free(pts);
        return rc;
    }

    /* the cheap checks first (the files and the settings), then the
     * classifier, and only then the long part, sampling */
    float *x = NULL;
    size_t count = 0;
    char what[4400];
    ddpm_sampler_config cfg = ddpm_sampler_config_default();
    ddpm_cli_model m;
    memset(&m, 0, sizeof m);
    ddpm_cli_scorer scorer;
    if (checkpoint) {
        if (ddpm_sampler_parse(sampler, &cfg.sampler, &err) != DDPM_OK ||
            ddpm_spacing_parse(spacing, &cfg.spacing, &err) != DDPM_OK ||
            ddpm_variance_parse(variance, &cfg.variance, &err) != DDPM_OK)
            goto bad_input;
        cfg.steps = steps;
        cfg.eta = eta;
        if (ddpm_cli_model_load(&m, checkpoint, 1, &err) != DDPM_OK ||
            ddpm_sampler_config_validate(&cfg, m.schedule.T, &err) != DDPM_OK)
            goto bad_input;
        const bool points = ddpm_cli_model_is_points(&m);
        count = n > 0 ? (size_t)n : points ? 2000 : 1000;
        const int nb = points ? DDPM_CLI_POINTS_BATCH : batch;
        if (ddpm_cli_model_set_batch(&m, nb < (int)count ? nb : (int)count, &err) != DDPM_OK) goto bad_input;
        if (points) {
            int D, H, W;
            ddpm_net_config_shape(&m.ck.run.net, &D, &H, &W);
            if (!ddpm_dataset_spec_is_points(data ? data : m.ck.run.dataset)) { /* before the long part */
                ddpm_fail(&err, "'%s' makes points, and '%s' holds images: compare them with a point set (%s) "
                                "or a CSV of points (--data)", checkpoint, data ? data : m.ck.run.dataset,
                          ddpm_points_names_list());
                goto bad_input;
            }
            const int n_sets = sets > 0 ? sets : 10;
            float *pts = ddpm_xmalloc(sizeof(float) * count * (size_t)n_sets * (size_t)D);
            rc = ddpm_cli_sample_batched(&m, &cfg, seed, (int)count * n_sets, nb, pts, NULL, &err);
            char what_pts[4400];
            char desc[96];
            ddpm_cli_sampler_desc(&cfg, desc, sizeof desc);
            snprintf(what_pts, sizeof what_pts, "%d x %zu points from %s (%s, seed %llu)", n_sets, count, checkpoint,
                     desc, (unsigned long long)seed);
            char spec[256];
            snprintf(spec, sizeof spec, "%s", data ? data : m.ck.run.dataset);
            ddpm_cli_model_free(&m);
            if (rc != DDPM_OK) {
                free(pts);
                fprintf(stderr, "ddpm eval: %s\n", err.msg);
                return 1;
            }
            rc = eval_points(pts, count, n_sets, D, spec, what_pts, csv);
            free(pts);
            return rc;
        }
        int C, H, W;
        ddpm_net_config_shape(&m.ck.run.net, &C, &H, &W);
        if (C != 1 || H != DDPM_CLASSIFIER_SIZE) {
            ddpm_fail(&err, "'%s' makes %dx%dx%d samples; the classifier scores 1x28x28 digits", checkpoint,
                      C, H, W);
            goto bad_input;
        }
    } else {
        if (read_idx_images(pos[0], (size_t)n, &x, &count, &err) != DDPM_OK) goto bad_input;
        snprintf(what, sizeof what, "%zu images from %s", count, pos[0]);
    }
    char score_spec[256];
    snprintf(score_spec, sizeof score_spec, "%s", data ? data : checkpoint ? m.ck.run.dataset : "digits");
    if (ddpm_cli_scorer_open(&scorer, classifier, score_spec, &err) != DDPM_OK) goto bad_input;
    if (checkpoint) {
        const size_t per = (size_t)DDPM_CLASSIFIER_SIZE * DDPM_CLASSIFIER_SIZE;
        x = ddpm_xmalloc(sizeof(float) * count * per);
        ddpm_progress prog;
        ddpm_progress_start(&prog, "sample", (int64_t)count * steps, 0);
        ddpm_cli_sample_progress sp = {.prog = quiet ? NULL : &prog};
        const double t0 = ddpm_now();
        rc = ddpm_cli_sample_batched(&m, &cfg, seed, (int)count, batch, x, &sp, &err);
        if (!quiet) ddpm_progress_finish(&prog);
        char desc[96];
        ddpm_cli_sampler_desc(&cfg, desc, sizeof desc);
        snprintf(what, sizeof what, "%zu samples from %s (%s, %s spacing, seed %llu; %.1f s)", count, checkpoint, desc,
                 ddpm_spacing_name(cfg.spacing), (unsigned long long)seed, ddpm_now() - t0);
        ddpm_cli_model_free(&m);
        if (rc != DDPM_OK) {
            fprintf(stderr, "ddpm eval: %s\n", err.msg);
            free(x);
            ddpm_cli_scorer_close(&scorer);
            return 1;
        }
        ddpm_cli_quantize(x, count * per);
    }

    ddpm_quality q, floor;
    ddpm_quality_score(&scorer.ref, x, count, &q);
    ddpm_quality_floor(&scorer.ref, count, &floor);
    free(x);
    if (csv) {
        printf("set,n,confidence,entropy,inception_score,fd,fd_ratio\n");
    } else {
        printf("scoring %s\n\n", what);
        printf("%-20s %6s %11s %8s %8s %10s %9s\n", "", "n", "confidence", "entropy", "IS", "FD", "FD/floor");
    }
    print_row("samples", &q, floor.fd, csv);
    char floor_label[64];
    snprintf(floor_label, sizeof floor_label, "real %s (floor)",
             strcmp(scorer.dataset, "fashion") == 0 ? "fashion" : ddpm_cli_scorer_what(&scorer));
    print_row(csv ? "floor" : floor_label, &floor, floor.fd, csv);
    if (!csv) {
        printf("\nclassifier %s", scorer.path);
        if (scorer.classifier.heldout_accuracy >= 0)
            printf(" (held-out accuracy %.2f%%)", 100 * scorer.classifier.heldout_accuracy);
        printf("\nFD reference: the %zu held-out %s; floor: %zu training %s, evenly strided\n"
               "entropy in nats (ln 10 = 2.303 is perfect diversity); IS in 1..10\n",
               scorer.ref.heldout.n, ddpm_cli_scorer_what(&scorer), floor.n, ddpm_cli_scorer_what(&scorer));
    }
    ddpm_cli_scorer_close(&scorer);
    return 0;

bad_input: /* the model and the images, whichever exists; a zeroed model frees as nothing */
    ddpm_cli_model_free(&m);
    free(x);
    return ddpm_cli_bad_input("eval", &err);
}
