/* cmd_train.c: `ddpm train`, a training run from the shell, with a progress
 * bar, a loss CSV (with a loss-by-t breakdown), periodic sample grids and
 * atomic checkpoints; --resume continues exactly; Ctrl-C saves and exits. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli_util.h"
#include "commands.h"
#include "ddpm/fileio.h"
#include "ddpm/layers.h"
#include "ddpm/threads.h"
#include "ddpm/trainer.h"
#include "progress.h"

enum { LOSS_BINS = 10 };

static const char *SUMMARY =
    "Trains a denoising UNet on the bundled digits (or --data fashion / a folder of\n"
    "MNIST-family IDX files), or an MLP on 2-D points (--data moons, swissroll,\n"
    "gaussians8, checkerboard, rings, or a CSV file of points; the MLP is then chosen\n"
    "by itself, --arch overrides).  The run folder (--out) receives:\n"
    "  ckpt.safetensors   full training state (weights, EMA, Adam); --resume continues it\n"
    "  model.safetensors  the EMA weights only, for `ddpm sample` and `ddpm viz`\n"
    "  loss.csv           step, loss, smoothed loss, lr, grad norm, img/s, and the mean\n"
    "                     loss in ten bands of t (loss_t000 = t in [0, T/10) ...)\n"
    "  samples/           a DDIM grid of 16 EMA samples (points: a scatter plot of 2,000)\n"
    "                     every --sample-every steps\n"
    "Checkpoints are written atomically.  Ctrl-C saves and exits; a NaN loss stops the\n"
    "run and keeps the last good checkpoint.";

static volatile sig_atomic_t g_interrupted = 0;

static void on_signal(int sig)
{
    (void)sig;
    g_interrupted = 1;
}

typedef struct {
    FILE *fp;
    double elapsed_offset;   /* seconds already spent before a resume */
    double smooth;           /* smoothed loss carried across a resume */
    bool have_smooth;
} loss_log;

static void write_header(FILE *fp, int T)
{
    fprintf(fp, "step,loss,loss_smooth,lr,grad_norm,images_per_s,elapsed_s");
    for (int b = 0; b < LOSS_BINS; b++) fprintf(fp, ",loss_t%03d", b * T / LOSS_BINS);
    fprintf(fp, "\n");
}

/* --t-sampling's words for where t is drawn */
static const char *t_sampling_spec(double mean, double std, char *buf, size_t cap)
{
    if (std > 0) snprintf(buf, cap, "logit-normal:%g:%g", mean, std);
    else snprintf(buf, cap, "uniform");
    return buf;
}

/* --t-sampling: "uniform" (std 0), "logit-normal" (0, 1) or "logit-normal:MEAN:STD" */
static int parse_t_sampling(const char *spec, double *mean, double *std, ddpm_error *err)
{
    if (strcmp(spec, "uniform") == 0) return *mean = 0.0, *std = 0.0, DDPM_OK;
    const char *ln = "logit-normal";
    if (strncmp(spec, ln, strlen(ln)) == 0) {
        const char *rest = spec + strlen(ln);
        double m = 0.0, sd = 1.0;
        char tail;
        if (*rest == '\0' || (sscanf(rest, ":%lf:%lf%c", &m, &sd, &tail) == 2 && isfinite(m) && isfinite(sd))) {
            if (m < -4.0 || m > 4.0 || sd < 0.1 || sd > 4.0)
                return ddpm_fail(err, "--t-sampling %s: the mean must be in -4..4 and the std in 0.1..4 (0:1 is usual)",
                                 spec);
            return *mean = m, *std = sd, DDPM_OK;
        }
    }
    return ddpm_fail(err, "--t-sampling '%s': use uniform, logit-normal or logit-normal:MEAN:STD (e.g. logit-normal:0:1)",
                     spec);
}

/* Opens loss.csv.  A fresh run writes a new file; a resumed run keeps the rows
 * up to the checkpoint's step (dropping any written after it, which the
 * resumed run will write again) so the curve continues where it left off. */
static int open_loss_log(loss_log *log, const char *path, int64_t resume_step, int T, ddpm_error *err)
{
    memset(log, 0, sizeof *log);
    if (resume_step > 0 && ddpm_file_exists(path)) {
        unsigned char *buf;
        size_t len;
        if (ddpm_read_file(path, (size_t)1 << 30, &buf, &len, err) != DDPM_OK) return DDPM_ERR;
        size_t keep = 0;
        char *text = (char *)buf;
        for (size_t i = 0; i < len;) {
            size_t j = i;
            while (j < len && text[j] != '\n') j++;
            bool header = i == 0;
            long long step = -1;
            double loss = 0, smooth = 0, lr = 0, gn = 0, ips = 0, elapsed = 0;
            if (!header && sscanf(text + i, "%lld,%lf,%lf,%lf,%lf,%lf,%lf", &step, &loss, &smooth, &lr,
                                  &gn, &ips, &elapsed) == 7) {
                if (step > resume_step) break;
                log->elapsed_offset = elapsed;
                log->smooth = smooth;
                log->have_smooth = true;
            } else if (!header) {
                break; /* a torn last line from a crash */
            }
            keep = j < len ? j + 1 : j;
            i = j + 1;
        }
        /* the last kept row may lack its newline (the file was cut by hand, or
         * by a crash right after a complete row): the next row must not glue on */
        const bool newline = keep > 0 && text[keep - 1] != '\n';
        int rc = ddpm_write_file_atomic(path, buf, keep, err);
        free(buf);
        if (rc != DDPM_OK) return DDPM_ERR;
        log->fp = fopen(path, "a");
        if (log->fp && newline) fputc('\n', log->fp);
    } else {
        log->fp = fopen(path, "w");
        if (log->fp) write_header(log->fp, T);
    }
    if (!log->fp)
        return ddpm_fail(err, "cannot write '%s': %s; choose a writable --out folder", path, strerror(errno));
    return DDPM_OK;
}

typedef struct {
    int n;
    double loss, grad_norm;
    double bin_loss[LOSS_BINS];
    int bin_n[LOSS_BINS];
} interval_stats;

static void accumulate(interval_stats *s, const ddpm_train_stats *st, int T)
{
    s->n++;
    s->loss += st->loss;
    s->grad_norm += st->grad_norm;
    for (int b = 0; b < st->batch; b++) {
        int bin = st->t[b] * LOSS_BINS / T;
        s->bin_loss[bin] += st->sample_loss[b];
        s->bin_n[bin]++;
    }
}

static void write_row(loss_log *log, const interval_stats *s, int64_t step, double smooth, double lr,
                      double ips, double elapsed)
{
    fprintf(log->fp, "%" PRId64 ",%.6g,%.6g,%.6g,%.6g,%.1f,%.1f", step, s->loss / s->n, smooth, lr,
            s->grad_norm / s->n, ips, elapsed);
    for (int b = 0; b < LOSS_BINS; b++) {
        if (s->bin_n[b])
            fprintf(log->fp, ",%.6g", s->bin_loss[b] / s->bin_n[b]);
        else
            fprintf(log->fp, ",");
    }
    fprintf(log->fp, "\n");
    fflush(log->fp);
}

/* Saves the full state and the EMA export; both atomic. */
static int save_run(const ddpm_trainer *tr, const char *dir, ddpm_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/ckpt.safetensors", dir);
    if (ddpm_trainer_save(tr, path, err) != DDPM_OK) return DDPM_ERR;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    return ddpm_trainer_export(tr, path, err);
}

/* Points in a preview scatter plot: as many as the visualizer shows. */
enum { PREVIEW_POINTS = 2000 };

static int save_preview(const ddpm_trainer *tr, ddpm_net_workspace *ws, const ddpm_dataset *ds, const char *dir,
                        int steps, ddpm_error *err)
{
    const ddpm_run_config *run = ddpm_trainer_run(tr);
    ddpm_sampler_config sc = ddpm_sampler_config_default();
    sc.steps = steps < run->schedule.T ? steps : run->schedule.T;
    sc.spacing = DDPM_SPACING_TRAILING;
    char path[4096], latest[4096];
    snprintf(path, sizeof path, "%s/samples/step_%06" PRId64 ".png", dir, ddpm_trainer_step_count(tr));
    snprintf(latest, sizeof latest, "%s/samples/latest.png", dir);
    ddpm_cli_sample_grid_args a = {.net = ddpm_trainer_net(tr), .weights = ddpm_trainer_ema(tr),
                                   .ws = ws, .schedule = ddpm_trainer_schedule(tr), .sampler = sc,
                                   .pred = run->prediction, .seed = 1234, .n = 16, .scale = 3};
    char title[384];
    if (ds->points) {
        snprintf(title, sizeof title, "%s, step %lld, DDIM-%d", ds->name, (long long)ddpm_trainer_step_count(tr),
                 sc.steps);
        a.n = PREVIEW_POINTS, a.ref = ds, a.title = title;
    }
    if (ddpm_cli_sample_grid_png(&a, path, err) != DDPM_OK) return DDPM_ERR;
    return ddpm_cli_sample_grid_png(&a, latest, err);
}

/* --resume continues a run as it was configured: the flags that would change
 * it (--batch, --preset, -T, ...) are refused when they differ from the run's
 * own, and accepted when they repeat it (a command line re-run with --resume).
 * --steps, --lr and --ema may change a resumed run; the others (--threads,
 * --save-every, ...) do not change what is trained.  Writes the differences
 * to buf; returns how many there are. */
static int resume_conflicts(const ddpm_arg_spec *specs, int n_specs, int argc, char **argv,
                            const ddpm_run_config *flags, const ddpm_run_config *ck, char *buf, size_t cap)
{
    int n = 0;
    size_t used = 0;
    buf[0] = '\0';
    char given[64], had[64];
#define GIVEN(name) ddpm_args_given(specs, n_specs, argc, argv, name)
#define CONFLICT(...)                                                                  \
    do {                                                                               \
        n++;                                                                           \
        if (used < cap) used += (size_t)snprintf(buf + used, cap - used, __VA_ARGS__); \
    } while (0)
    ddpm_net_config want = flags->net;
    if (want.arch == DDPM_ARCH_MLP && ck->net.arch == DDPM_ARCH_MLP) want.mlp.data_dim = ck->net.mlp.data_dim;
    if ((GIVEN("preset") || GIVEN("arch") || GIVEN("dropout")) && !ddpm_net_config_equal(&want, &ck->net))
        CONFLICT("\n  --preset/--arch/--dropout: the run trains the %s network", ck->preset);
    if (GIVEN("data") && strcmp(flags->dataset, ck->dataset) != 0)
        CONFLICT("\n  --data %s: the run trains on %s", flags->dataset, ck->dataset);
    if (GIVEN("schedule") && flags->schedule.kind != ck->schedule.kind)
        CONFLICT("\n  --schedule %s: the run's is %s", ddpm_schedule_name(flags->schedule.kind),
                 ddpm_schedule_name(ck->schedule.kind));
    if (GIVEN("T") && flags->schedule.T != ck->schedule.T)
        CONFLICT("\n  -T %d: the run's is %d", flags->schedule.T, ck->schedule.T);
    if (GIVEN("beta-start") && flags->schedule.beta_start != ck->schedule.beta_start)
        CONFLICT("\n  --beta-start %g: the run's is %g", flags->schedule.beta_start, ck->schedule.beta_start);
    if (GIVEN("beta-end") && flags->schedule.beta_end != ck->schedule.beta_end)
        CONFLICT("\n  --beta-end %g: the run's is %g", flags->schedule.beta_end, ck->schedule.beta_end);
    if (GIVEN("pred") && flags->prediction != ck->prediction)
        CONFLICT("\n  --pred %s: the run's is %s", ddpm_prediction_name(flags->prediction),
                 ddpm_prediction_name(ck->prediction));
    if (GIVEN("batch") && flags->batch != ck->batch)
        CONFLICT("\n  --batch %d: the run's is %d", flags->batch, ck->batch);
    if (GIVEN("warmup") && flags->adam.warmup_steps != ck->adam.warmup_steps)
        CONFLICT("\n  --warmup %d: the run's is %d", flags->adam.warmup_steps, ck->adam.warmup_steps);
    if (GIVEN("decay-steps") && flags->adam.decay_steps != ck->adam.decay_steps)
        CONFLICT("\n  --decay-steps %lld: the run's is %lld", (long long)flags->adam.decay_steps,
                 (long long)ck->adam.decay_steps);
    if (GIVEN("final-lr") && flags->adam.final_lr != ck->adam.final_lr)
        CONFLICT("\n  --final-lr %g: the run's is %g", flags->adam.final_lr, ck->adam.final_lr);
    if (GIVEN("min-snr") && flags->min_snr_gamma != ck->min_snr_gamma)
        CONFLICT("\n  --min-snr %g: the run's is %g", flags->min_snr_gamma, ck->min_snr_gamma);
    if (GIVEN("t-sampling") && (flags->t_logit_mean != ck->t_logit_mean || flags->t_logit_std != ck->t_logit_std))
        CONFLICT("\n  --t-sampling %s: the run's is %s",
                 t_sampling_spec(flags->t_logit_mean, flags->t_logit_std, given, sizeof given),
                 t_sampling_spec(ck->t_logit_mean, ck->t_logit_std, had, sizeof had));
    if (GIVEN("clip") && flags->adam.grad_clip != ck->adam.grad_clip)
        CONFLICT("\n  --clip %g: the run's is %g", flags->adam.grad_clip, ck->adam.grad_clip);
    if (GIVEN("weight-decay") && flags->adam.weight_decay != ck->adam.weight_decay)
        CONFLICT("\n  --weight-decay %g: the run's is %g", flags->adam.weight_decay, ck->adam.weight_decay);
    if (GIVEN("seed") && flags->seed != ck->seed)
        CONFLICT("\n  --seed %llu: the run's is %llu", (unsigned long long)flags->seed,
                 (unsigned long long)ck->seed);
#undef GIVEN
#undef CONFLICT
    return n;
}

int ddpm_cmd_train(int argc, char **argv)
{
    const char *preset = NULL, *arch_name = NULL, *data = "digits", *schedule = "linear", *pred = NULL;
    const char *out = NULL, *from = NULL, *t_sampling = NULL;
    int T = DDPM_T_DEFAULT, batch = -1, warmup = 100, threads = 0;
    int save_every = 500, sample_every = 1000, log_every = 25, preview_steps = 50;
    int64_t steps64 = 0;
    uint64_t seed = 0;
    double beta_start = 1e-4, beta_end = 0.02, lr = 0.0, clip = 1.0, wd = 0.0, ema = -1.0;
    double dropout = -1, final_lr = -1, min_snr = -1;
    int decay_steps = -1;
    bool resume = false, quiet = false, force = false;
    uint64_t steps_u = 0;
    const ddpm_arg_spec specs[] = {
        {"preset", ARG_STRING, &preset, 0, 0, "NAME",
         "network: live (the visualizer's live training), tiny, small (best quality) UNets, mlp (points); default: small, or mlp for points"},
        {"arch", ARG_STRING, &arch_name, 0, 0, "NAME", "unet or mlp: the architecture's default preset (small, mlp)"},
        {"data", ARG_STRING, &data, 0, 0, "SPEC",
         "digits (bundled), fashion, a folder of IDX files, moons|swissroll|gaussians8|checkerboard|rings, or a CSV"},
        {"schedule", ARG_STRING, &schedule, 0, 0, "NAME", "linear|scaled-linear|cosine|sqrt|sigmoid (sqrt_linear, the seed notes' name, is linear)"},
        {"T", ARG_INT, &T, 0, 0, "N", "diffusion timesteps (2..4000)"},
        {"beta-start", ARG_DOUBLE, &beta_start, 0, 0, "X", "first beta"},
        {"beta-end", ARG_DOUBLE, &beta_end, 0, 0, "X", "last beta"},
        {"pred", ARG_STRING, &pred, 0, 0, "TYPE", "what the model predicts: eps|v|x0 (default eps, v for points)"},
        {"lr", ARG_DOUBLE, &lr, 1e-7, 1, "X", "peak learning rate (AdamW; default 1e-3, or the resumed run's)"},
        {"warmup", ARG_INT, &warmup, 0, 0, "N", "learning-rate warmup steps"},
        {"decay-steps", ARG_INT, &decay_steps, 0, 1e8, "N",
         "cosine decay of the lr after the warmup, 0 = none (default: none; for points, the whole run)"},
        {"final-lr", ARG_DOUBLE, &final_lr, 0, 1, "X", "where the decay ends, as a fraction of --lr (default 0.05 for points)"},
        {"min-snr", ARG_DOUBLE, &min_snr, 0, 100, "GAMMA",
         "weight the loss over t by Min-SNR-gamma (Hang et al. 2023), 0 = off (default: the preset's, off)"},
        {"t-sampling", ARG_STRING, &t_sampling, 0, 0, "SPEC",
         "where t is drawn: uniform, or logit-normal[:MEAN:STD] (Esser et al. 2024; 0:1 if not given) "
         "(default: the preset's: logit-normal:-0.25:0.7 for live, else uniform)"},
        {"clip", ARG_DOUBLE, &clip, 0, 0, "X", "global gradient-norm clip (0 = off)"},
        {"weight-decay", ARG_DOUBLE, &wd, 0, 0, "X", "AdamW weight decay"},
        {"batch", ARG_INT, &batch, 0, 0, "N", "samples per step (1..1024; default 64, or the MLP preset's 256)"},
        {"steps", ARG_U64, &steps_u, 0, 0, "N", "total optimizer steps (0 = the preset's default)"},
        {"ema", ARG_DOUBLE, &ema, 0, 1, "X",
         "EMA decay of the weights sampling uses (default 0.999, or the resumed run's)"},
        {"dropout", ARG_DOUBLE, &dropout, 0, 0, "X", "ResBlock dropout (default: the preset's)"},
        {"seed", ARG_U64, &seed, 0, 0, "N", "seed of weights, batches, t and noise"},
        {"threads", ARG_INT, &threads, 0, 0, "N", "threads (0 = all cores); results are the same at any count"},
        {"out", ARG_STRING, &out, 0, 0, "DIR", "run folder (default runs/<preset>-<pred>-<schedule>)"},
        {"resume", ARG_FLAG, &resume, 0, 0, NULL, "continue the run in --out from its ckpt.safetensors"},
        {"from", ARG_STRING, &from, 0, 0, "CKPT", "start from a model's weights (fine-tune)"},
        {"save-every", ARG_INT, &save_every, 1, 1e9, "N", "steps between checkpoints"},
        {"sample-every", ARG_INT, &sample_every, 0, 1e9, "N", "steps between sample grids (0 = never)"},
        {"log-every", ARG_INT, &log_every, 1, 1e9, "N", "steps per loss.csv row"},
        {"preview-steps", ARG_INT, &preview_steps, 1, 4000, "N", "DDIM steps of the sample grids"},
        {"quiet", ARG_FLAG, &quiet, 0, 0, NULL, "no progress bar"},
        {"force", ARG_FLAG, &force, 0, 0, NULL, "start a new run in a folder that already holds one"},
    };
    const int n_specs = (int)(sizeof specs / sizeof specs[0]);
    ddpm_error err = {0};
    int rc = ddpm_args_parse(specs, n_specs, argc, argv, &err);
    if (rc == DDPM_ARGS_HELP) {
        ddpm_args_usage(stdout, "train", SUMMARY, specs, n_specs);
        return 0;
    }
    if (rc != DDPM_OK) return ddpm_cli_bad_input("train", &err);
    steps64 = (int64_t)(steps_u > 100000000 ? 100000001 : steps_u);
    if (resume && from) {
        ddpm_fail(&err, "--resume and --from cannot be combined: --resume continues a run folder, "
                        "--from starts a new run from a model");
        return ddpm_cli_bad_input("train", &err);
    }

    /* the network: --preset, else --arch's default, else what the data needs */
    if (arch_name) {
        ddpm_arch arch;
        ddpm_net_config pc;
        if (ddpm_arch_parse(arch_name, &arch, &err) != DDPM_OK) return ddpm_cli_bad_input("train", &err);
        if (preset && ddpm_net_preset(preset, &pc, &err) == DDPM_OK && pc.arch != arch) {
            ddpm_fail(&err, "--preset %s is a %s, not a %s; drop one of --preset and --arch", preset,
                      ddpm_arch_name(pc.arch), arch_name);
            return ddpm_cli_bad_input("train", &err);
        }
        if (!preset) preset = arch == DDPM_ARCH_MLP ? "mlp" : "small";
    }
    if (!preset) preset = ddpm_dataset_spec_is_points(data) ? "mlp" : "small";

    /* the run's configuration: a fresh one from the flags, or the checkpoint's */
    ddpm_run_config run;
    ddpm_checkpoint ck = {0};
    bool have_ck = false;
    if (ddpm_run_config_default(&run, preset, &err) != DDPM_OK ||
        ddpm_schedule_parse(schedule, &run.schedule.kind, &err) != DDPM_OK ||
        (pred && ddpm_prediction_parse(pred, &run.prediction, &err) != DDPM_OK))
        return ddpm_cli_bad_input("train", &err);
    ddpm_cli_note_schedule_alias("train", schedule);
    run.schedule.T = T;
    run.schedule.beta_start = beta_start;
    run.schedule.beta_end = beta_end;
    snprintf(run.dataset, sizeof run.dataset, "%s", data);
    if (batch != -1) run.batch = batch; /* else the preset's */
    if (steps64 > 0) run.total_steps = steps64;
    if (lr > 0) run.adam.lr = lr;
    run.adam.warmup_steps = warmup;
    /* a preset that decays (the MLP's) decays over the run it is given */
    if (steps64 > 0 && run.adam.decay_steps > 0) run.adam.decay_steps = steps64 > warmup ? steps64 - warmup : 1;
    if (decay_steps >= 0) run.adam.decay_steps = decay_steps;
    if (final_lr >= 0) run.adam.final_lr = final_lr;
    run.adam.grad_clip = clip;
    run.adam.weight_decay = wd;
    if (ema >= 0) run.ema_decay = ema;
    if (min_snr >= 0) run.min_snr_gamma = min_snr;
    if (t_sampling && parse_t_sampling(t_sampling, &run.t_logit_mean, &run.t_logit_std, &err) != DDPM_OK)
        return ddpm_cli_bad_input("train", &err);
    run.seed = seed;
    if (dropout >= 0) run.net.unet.dropout = (float)dropout;

    char dir[2048];
    if (out && strlen(out) >= sizeof dir - 32) {
        ddpm_fail(&err, "--out is %zu bytes long; paths up to %zu bytes are supported", strlen(out), sizeof dir - 33);
        return ddpm_cli_bad_input("train", &err);
    }
    if (out) {
        snprintf(dir, sizeof dir, "%s", out);
    } else if (run.net.arch == DDPM_ARCH_MLP) { /* runs/mlp-moons-eps-linear */
        const char *base = strrchr(data, '/') ? strrchr(data, '/') + 1 : data;
        snprintf(dir, sizeof dir, "runs/%s-%.*s-%s-%s", preset, (int)strcspn(base, "."), base,
                 ddpm_prediction_name(run.prediction), ddpm_schedule_name(run.schedule.kind));
    } else {
        snprintf(dir, sizeof dir, "runs/%s-%s-%s", preset, ddpm_prediction_name(run.prediction),
                 ddpm_schedule_name(run.schedule.kind));
    }
    char ckpt_path[4096];
    snprintf(ckpt_path, sizeof ckpt_path, "%s/ckpt.safetensors", dir);
    if (resume) {
        if (!ddpm_file_exists(ckpt_path)) {
            ddpm_fail(&err, "nothing to resume: '%s' does not exist; start the run without --resume "
                            "or pass the run folder with --out", ckpt_path);
            return ddpm_cli_bad_input("train", &err);
        }
        if (ddpm_checkpoint_load(&ck, ckpt_path, DDPM_CKPT_ALL, &err) != DDPM_OK)
            return ddpm_cli_bad_input("train", &err);
        have_ck = true;
        char diffs[1024];
        const int n_diff = resume_conflicts(specs, n_specs, argc, argv, &run, &ck.run, diffs, sizeof diffs);
        if (n_diff > 0) {
            ddpm_fail(&err, "--resume continues the run in '%s' as it was configured; %s of the flags given "
                            "differ%s from it:%s\n  drop %s, or start a new run with another --out (or --force)",
                      dir, n_diff == 1 ? "one" : "some", n_diff == 1 ? "s" : "", diffs,
                      n_diff == 1 ? "it" : "them");
            ddpm_checkpoint_free(&ck);
            return ddpm_cli_bad_input("train", &err);
        }
        int64_t keep_steps = ck.run.total_steps;
        run = ck.run;
        run.total_steps = steps64 > 0 ? steps64 : keep_steps;
        if (lr > 0) run.adam.lr = lr; /* the remedy for a run that diverged */
        if (ema >= 0) run.ema_decay = ema; /* a longer average for a final, low-lr phase */
        if (run.total_steps <= ck.step) {
            fprintf(stderr, "ddpm train: the run in '%s' already has %lld of %lld steps; pass a larger "
                            "--steps to extend it\n", dir, (long long)ck.step, (long long)run.total_steps);
            ddpm_checkpoint_free(&ck);
            return 0;
        }
    } else if (!force) {
        /* a new run writes these: any of them already there is someone's result */
        static const char *const outputs[] = {"ckpt.safetensors", "model.safetensors", "loss.csv", "samples"};
        for (size_t i = 0; i < sizeof outputs / sizeof outputs[0]; i++) {
            char p[4200];
            snprintf(p, sizeof p, "%s/%s", dir, outputs[i]);
            struct stat st;
            if (lstat(p, &st) != 0) continue;
            ddpm_fail(&err, "'%s' already holds %s%s; continue a run with --resume, pick another --out, or pass "
                            "--force to start over and replace it",
                      dir, outputs[i], i == 0 ? " (a run)" : " (a run's output)");
            return ddpm_cli_bad_input("train", &err);
        }
    }
    if (from) {
        /* --force replaces a run, never the model it starts from */
        char own_model[4200];
        snprintf(own_model, sizeof own_model, "%s/model.safetensors", dir);
        const char *in[1] = {from};
        if (ddpm_check_output("--out", own_model, in, 1, &err) != DDPM_OK ||
            ddpm_check_output("--out", ckpt_path, in, 1, &err) != DDPM_OK)
            return ddpm_cli_bad_input("train", &err);
    }
    if (!resume && from) {
        if (ddpm_checkpoint_load(&ck, from, DDPM_CKPT_WEIGHTS, &err) != DDPM_OK)
            return ddpm_cli_bad_input("train", &err);
        have_ck = true;
        ck.step = 0;   /* a new run that starts from these weights */
        free(ck.adam_m), ck.adam_m = NULL;
        free(ck.adam_v), ck.adam_v = NULL;
    }
    if (ddpm_run_config_validate(&run, &err) != DDPM_OK) {
        if (have_ck) ddpm_checkpoint_free(&ck);
        return ddpm_cli_bad_input("train", &err);
    }

    ddpm_dataset ds;
    if (ddpm_dataset_open(&ds, run.dataset, DDPM_SPLIT_TRAIN, &err) != DDPM_OK) {
        if (have_ck) ddpm_checkpoint_free(&ck);
        return ddpm_cli_bad_input("train", &err);
    }
    if (!have_ck && run.net.arch == DDPM_ARCH_MLP && ds.points) run.net.mlp.data_dim = ds.channels;
    ddpm_set_threads(threads);
    ddpm_trainer *tr = NULL;
    rc = have_ck ? ddpm_trainer_resume(&tr, &ck, &run, &ds, &err) : ddpm_trainer_create(&tr, &run, &ds, &err);
    if (have_ck) ddpm_checkpoint_free(&ck);
    if (rc != DDPM_OK) {
        ddpm_dataset_free(&ds);
        return ddpm_cli_bad_input("train", &err);
    }
    /* from here on, what is trained: a checkpoint brings its network, schedule
     * and prediction (--from, --resume), whatever the flags said */
    const ddpm_run_config *trained = ddpm_trainer_run(tr);
    if (from && !resume &&
        (trained->schedule.T != run.schedule.T || trained->schedule.kind != run.schedule.kind ||
         trained->prediction != run.prediction || !ddpm_net_config_equal(&trained->net, &run.net)))
        fprintf(stderr,
                "ddpm train: note: --from trains the checkpoint's network with its %s schedule, T=%d and "
                "%s-prediction; the flags that differ (--preset, -T, --schedule, --pred) do not apply\n",
                ddpm_schedule_name(trained->schedule.kind), trained->schedule.T,
                ddpm_prediction_name(trained->prediction));
    run = *trained;

    int status = 1;
    loss_log log = {0};
    ddpm_net_workspace *preview_ws = NULL;
    char samples_dir[4096], csv_path[4096];
    snprintf(samples_dir, sizeof samples_dir, "%s/samples", dir);
    snprintf(csv_path, sizeof csv_path, "%s/loss.csv", dir);
    if (ddpm_mkdir_p(samples_dir, &err) != DDPM_OK ||
        open_loss_log(&log, csv_path, ddpm_trainer_step_count(tr), run.schedule.T, &err) != DDPM_OK ||
        ddpm_net_workspace_create(&preview_ws, ddpm_trainer_net(tr), ds.points ? PREVIEW_POINTS : 16, false,
                                  &err) != DDPM_OK) {
        fprintf(stderr, "ddpm train: %s\n", err.msg);
        status = DDPM_EXIT_BAD_INPUT;
        goto done;
    }

    char desc[256], tdraw[96], weight[48] = "";
    ddpm_net_config_describe(&run.net, desc, sizeof desc);
    t_sampling_spec(run.t_logit_mean, run.t_logit_std, tdraw, sizeof tdraw);
    if (run.min_snr_gamma > 0) snprintf(weight, sizeof weight, ", Min-SNR-%g", run.min_snr_gamma);
    const int64_t start = ddpm_trainer_step_count(tr);
    fprintf(stderr,
            "ddpm train: %s (%zu parameters, %.3g MFLOP/sample), %s schedule T=%d, %s-prediction\n"
            "  data %s (%zu %s), batch %d, lr %g, EMA %g, t %s%s, seed %llu, %d threads\n"
            "  %s step %lld of %lld into %s (%.0f MiB of training memory)\n",
            desc, ddpm_net_num_params(ddpm_trainer_net(tr)), ddpm_net_forward_flops(ddpm_trainer_net(tr)) / 1e6,
            ddpm_schedule_name(run.schedule.kind), run.schedule.T, ddpm_prediction_name(run.prediction),
            ds.name, ds.n, ds.points ? "points" : "images", run.batch, run.adam.lr, run.ema_decay, tdraw, weight,
            (unsigned long long)run.seed,
            ddpm_get_threads(), start > 0 ? "resuming at" : "starting at", (long long)start,
            (long long)run.total_steps, dir, ddpm_trainer_bytes(tr) / 1048576.0);

    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    g_interrupted = 0;

    ddpm_progress prog;
    ddpm_progress_start(&prog, "train", run.total_steps, start);
    interval_stats iv = {0};
    ddpm_loss_smoother smoother = {0};
    if (log.have_smooth) ddpm_loss_smooth_resume(&smoother, log.smooth);
    double smooth = log.have_smooth ? log.smooth : NAN;
    double t0 = ddpm_now(), t_interval = t0;
    int64_t step = start;
    bool failed = false;
    while (step < run.total_steps && !g_interrupted) {
        ddpm_train_stats st;
        if (ddpm_trainer_step(tr, &st, &err) != DDPM_OK) {
            if (!quiet) ddpm_progress_finish(&prog);
            fprintf(stderr, "ddpm train: %s\n", err.msg);
            failed = true;
            break;
        }
        step = st.step;
        smooth = ddpm_loss_smooth_add(&smoother, st.loss);
        accumulate(&iv, &st, run.schedule.T);
        if (step % log_every == 0 || step == run.total_steps) {
            double now = ddpm_now();
            double ips = iv.n * run.batch / fmax(now - t_interval, 1e-9);
            write_row(&log, &iv, step, smooth, st.lr, ips, log.elapsed_offset + now - t0);
            memset(&iv, 0, sizeof iv);
            t_interval = now;
        }
        if (!quiet) {
            char extra[96];
            double ips = (double)(step - start) * run.batch / fmax(ddpm_now() - t0, 1e-9);
            snprintf(extra, sizeof extra, "loss %.4f  %.0f img/s", smooth, ips);
            ddpm_progress_update(&prog, step, extra);
        }
        if (step % save_every == 0 && step < run.total_steps) {
            if (save_run(tr, dir, &err) != DDPM_OK) {
                if (!quiet) ddpm_progress_finish(&prog);
                char prev[4200];
                snprintf(prev, sizeof prev, "%s/ckpt.safetensors", dir);
                if (ddpm_file_exists(prev))
                    fprintf(stderr, "ddpm train: saving the checkpoint failed: %s\n"
                                    "  the previous checkpoint in '%s' is intact; free space and --resume\n",
                            err.msg, dir);
                else
                    fprintf(stderr, "ddpm train: saving the checkpoint failed: %s\n"
                                    "  no checkpoint was saved yet; free space and start the run again\n",
                            err.msg);
                failed = true;
                break;
            }
        }
        if (sample_every > 0 && step % sample_every == 0 &&
            save_preview(tr, preview_ws, &ds, dir, preview_steps, &err) != DDPM_OK)
            fprintf(stderr, "\nddpm train: could not write the sample grid: %s\n", err.msg);
    }
    if (!quiet && !failed) ddpm_progress_finish(&prog);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);

    if (failed) {
        status = 1;
    } else if (save_run(tr, dir, &err) != DDPM_OK) {
        fprintf(stderr, "ddpm train: saving the final checkpoint failed: %s\n", err.msg);
        status = 1;
    } else {
        if (sample_every > 0) save_preview(tr, preview_ws, &ds, dir, preview_steps, &err);
        char took[32];
        ddpm_format_duration(ddpm_now() - t0, took, sizeof took);
        if (g_interrupted)
            fprintf(stderr, "ddpm train: interrupted at step %lld; saved %s (continue with "
                            "`ddpm train --out %s --resume`)\n", (long long)step, ckpt_path, dir);
        else
            fprintf(stderr, "ddpm train: done, %lld steps in %s, smoothed loss %.4f; peak memory %.0f MiB\n"
                            "  model: %s/model.safetensors   samples: %s/samples/latest.png\n",
                    (long long)(step - start), took, smooth, ddpm_peak_rss_bytes() / 1048576.0, dir, dir);
        status = 0;
    }
done:
    if (log.fp) fclose(log.fp);
    ddpm_net_workspace_free(preview_ws);
    ddpm_trainer_free(tr);
    ddpm_dataset_free(&ds);
    return status;
}
