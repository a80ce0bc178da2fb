/* cmd_bench.c: `ddpm bench`, the UNet's speed on this machine: forward at
 * B = 1 (the visualizer) and B = 16 (sampling), and a whole training step at
 * B = 64 (forward, backward, clipping, AdamW and EMA on the bundled digits),
 * each as time, images/s, GFLOP/s and a share of a large sgemm's rate
 * measured in the same run; the peak memory of training against what the
 * model itself needs; and, with --torch, PyTorch CPU on the same weights and
 * thread count.  Every figure is the best of --reps repetitions (the machine
 * may be shared), and with --rounds > 1 the C and PyTorch measurements
 * alternate and each keeps its best.  Prints a Markdown table.  A benchmark
 * never fails a build: missing PyTorch is a note, not an error. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "args.h"
#include "cli_util.h"
#include "commands.h"
#include "ddpm/checkpoint.h"
#include "ddpm/layers.h"
#include "ddpm/threads.h"
#include "ddpm/trainer.h"

static const char *SUMMARY =
    "Measures a network against this machine's sgemm peak (and PyTorch CPU with --torch):\n"
    "forward B=1, forward B=16 and a training step at B=64, at 1 and 2 threads (the mlp\n"
    "preset of the 2D world: forward B=1, one sampler step of its 2,000 particles, and a\n"
    "training step at its batch of 256).\n"
    "Prints a Markdown table; see bench/README.md.\n"
    "--blas-hint prints the OPENBLAS_CORETYPE this CPU wants when OpenBLAS picked older\n"
    "kernels for it (nothing when its choice is fine) and exits; bench/run.sh uses it.";

/* Forward of one sample, forward of a batch, a training step: the batches
 * are a UNet's (1, 16, 64) or, for points, the 2D world's (1, its 2,000
 * particles, the preset's training batch of 256). */
enum { FIG_FWD1, FIG_FWD16, FIG_TRAIN, N_FIGS };

static void fig_batches(const char *preset, int batch[N_FIGS])
{
    ddpm_net_config cfg;
    const bool points = ddpm_net_preset(preset, &cfg, NULL) == DDPM_OK && cfg.arch == DDPM_ARCH_MLP;
    batch[FIG_FWD1] = 1;
    batch[FIG_FWD16] = points ? 2000 : 16;
    batch[FIG_TRAIN] = points ? 256 : 64;
}

static void fig_name(char *buf, size_t cap, int f, const int batch[N_FIGS])
{
    snprintf(buf, cap, f == FIG_TRAIN ? "train step B=%d" : "forward B=%d", batch[f]);
}

/* What one child process measures for one (preset, threads). */
typedef struct {
    double seconds[N_FIGS];    /* best of reps; 0 = not measured */
    double sgemm_gflops;       /* best large sgemm at these threads */
    size_t train_rss;          /* peak RSS of the training child */
    size_t model_bytes;        /* params + grads + Adam m, v + activations at B = 64 */
    int ok;
} c_figures;

static double best_of(int reps, void (*fn)(void *), void *ctx)
{
    fn(ctx); /* warm-up: page faults, first packing */
    double best = INFINITY;
    for (int r = 0; r < reps; r++) {
        double t0 = ddpm_now();
        fn(ctx);
        double dt = ddpm_now() - t0;
        if (dt < best) best = dt;
    }
    return best;
}

/* ---- sgemm peak --------------------------------------------------------------- */

typedef struct {
    int n, k;
    float *a, *b, *c;
} gemm_ctx;

static void run_gemm(void *p)
{
    gemm_ctx *g = p;
    ddpm_sgemm(0, 0, g->n, g->n, g->k, 1.0f, g->a, g->k, g->b, g->n, 0.0f, g->c, g->n);
}

/* The best rate of large square-ish products (1024^3, 2048x2048x1024) on
 * BLAS at `threads` threads.  BLAS goes back to one thread afterwards. */
static double sgemm_peak(int threads, int reps)
{
    const int shapes[2][2] = {{1024, 1024}, {2048, 1024}};
    double best = 0.0;
    ddpm_blas_set_threads(threads);
    for (int s = 0; s < 2; s++) {
        gemm_ctx g = {.n = shapes[s][0], .k = shapes[s][1]};
        g.a = malloc(sizeof(float) * (size_t)g.n * g.k);
        g.b = malloc(sizeof(float) * (size_t)g.k * g.n);
        g.c = malloc(sizeof(float) * (size_t)g.n * g.n);
        if (g.a && g.b && g.c) {
            for (size_t i = 0; i < (size_t)g.n * g.k; i++) g.a[i] = g.b[i] = (float)(i % 7) * 0.1f;
            double t = best_of(reps, run_gemm, &g);
            double gf = 2.0 * g.n * g.n * g.k / t / 1e9;
            if (gf > best) best = gf;
        }
        free(g.a), free(g.b), free(g.c);
    }
    ddpm_blas_set_threads(1);
    return best;
}

/* ---- the UNet ------------------------------------------------------------------ */

typedef struct {
    const ddpm_net *net;
    ddpm_net_workspace *ws;
    const float *params, *x;
    const int *t;
    int B;
} fwd_ctx;

static void run_forward(void *p)
{
    fwd_ctx *f = p;
    ddpm_net_forward(f->net, f->params, f->ws, f->x, f->t, f->B, NULL);
}

typedef struct {
    ddpm_trainer *tr;
    int failed;
} train_ctx;

static void run_train(void *p)
{
    train_ctx *c = p;
    ddpm_error err = {0};
    if (ddpm_trainer_step(c->tr, NULL, &err) != DDPM_OK) c->failed = 1;
}

/* Forward timings at B = 1 and the batch, in this process. */
static int measure_forward(const ddpm_net_config *cfg, const int batch[N_FIGS], int reps, c_figures *out,
                           ddpm_error *err)
{
    ddpm_net *net;
    if (ddpm_net_create(&net, cfg, err) != DDPM_OK) return DDPM_ERR;
    const size_t P = ddpm_net_num_params(net);
    const size_t D = ddpm_net_config_sample_floats(cfg);
    const int NB = batch[FIG_FWD16];
    float *params = malloc(sizeof(float) * P), *x = malloc(sizeof(float) * D * (size_t)NB);
    int *t = malloc(sizeof(int) * (size_t)NB);
    ddpm_net_workspace *ws = NULL;
    int rc = DDPM_ERR;
    if (!params || !x || !t) {
        ddpm_fail(err, "out of memory");
        goto done;
    }
    ddpm_net_init_params(net, params, 1);
    ddpm_rng r;
    ddpm_rng_init(&r, 1, 0);
    ddpm_rng_normal_fill(&r, x, D * (size_t)NB);
    for (int b = 0; b < NB; b++) t[b] = (int)ddpm_rng_below(&r, 1000);
    if (ddpm_net_workspace_create(&ws, net, NB, false, err) != DDPM_OK) goto done;
    for (int f = FIG_FWD1; f <= FIG_FWD16; f++) {
        fwd_ctx c = {.net = net, .ws = ws, .params = params, .x = x, .t = t, .B = batch[f]};
        out->seconds[f] = best_of(reps, run_forward, &c);
    }
    rc = DDPM_OK;
done:
    ddpm_net_workspace_free(ws);
    ddpm_net_free(net);
    free(params), free(x), free(t);
    return rc;
}

/* Training steps on the preset's data (the bundled digits, the moons), in
 * this process; also writes the run's weights to ckpt_path (for PyTorch)
 * when not NULL. */
static int measure_train(const char *preset, int reps, const char *ckpt_path, c_figures *out,
                         ddpm_error *err)
{
    ddpm_run_config run;
    if (ddpm_run_config_default(&run, preset, err) != DDPM_OK) return DDPM_ERR;
    int batch[N_FIGS];
    fig_batches(preset, batch);
    run.batch = batch[FIG_TRAIN];
    ddpm_dataset ds;
    if (ddpm_dataset_open(&ds, run.dataset, DDPM_SPLIT_TRAIN, err) != DDPM_OK) return DDPM_ERR;
    ddpm_trainer *tr;
    if (ddpm_trainer_create(&tr, &run, &ds, err) != DDPM_OK) {
        ddpm_dataset_free(&ds);
        return DDPM_ERR;
    }
    train_ctx c = {.tr = tr};
    out->seconds[FIG_TRAIN] = best_of(reps, run_train, &c);
    const ddpm_net *net = ddpm_trainer_net(tr);
    out->model_bytes = 4 * sizeof(float) * ddpm_net_num_params(net) +
                       ddpm_net_activation_bytes(net, run.batch);
    out->train_rss = ddpm_peak_rss_bytes();
    int rc = c.failed ? ddpm_fail(err, "a training step failed") : DDPM_OK;
    if (rc == DDPM_OK && ckpt_path) rc = ddpm_trainer_export(tr, ckpt_path, err);
    ddpm_trainer_free(tr);
    ddpm_dataset_free(&ds);
    return rc;
}

/* Runs fn in a child process (so that its peak RSS is its own) and copies
 * its figures back through a pipe. */
typedef int (*measure_fn)(void *arg, c_figures *out, ddpm_error *err);

static int in_child(measure_fn fn, void *arg, c_figures *out, ddpm_error *err)
{
    int fd[2];
    if (pipe(fd) != 0) return ddpm_fail(err, "pipe failed");
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]), close(fd[1]);
        return ddpm_fail(err, "fork failed");
    }
    if (pid == 0) {
        close(fd[0]);
        c_figures f = *out;
        ddpm_error e = {0};
        f.ok = fn(arg, &f, &e) == DDPM_OK;
        if (!f.ok) fprintf(stderr, "ddpm bench: %s\n", e.msg);
        ssize_t w = write(fd[1], &f, sizeof f);
        _exit(w == (ssize_t)sizeof f ? 0 : 1);
    }
    close(fd[1]);
    c_figures f;
    ssize_t got = read(fd[0], &f, sizeof f);
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (got != (ssize_t)sizeof f || !f.ok) return ddpm_fail(err, "the measurement failed");
    *out = f;
    return DDPM_OK;
}

typedef struct {
    const char *preset;
    int threads, reps;
    const char *ckpt_path;
} job;

/* The UNet first: a threaded sgemm leaves BLAS's own threads spinning for a
 * while, which would steal the cores the UNet runs on. */
static int job_forward(void *arg, c_figures *out, ddpm_error *err)
{
    const job *j = arg;
    ddpm_set_threads(j->threads);
    ddpm_net_config cfg;
    if (ddpm_net_preset(j->preset, &cfg, err) != DDPM_OK) return DDPM_ERR;
    int batch[N_FIGS];
    fig_batches(j->preset, batch);
    if (measure_forward(&cfg, batch, j->reps, out, err) != DDPM_OK) return DDPM_ERR;
    out->sgemm_gflops = sgemm_peak(j->threads, j->reps);
    return DDPM_OK;
}

static int job_train(void *arg, c_figures *out, ddpm_error *err)
{
    const job *j = arg;
    ddpm_set_threads(j->threads);
    return measure_train(j->preset, j->reps, j->ckpt_path, out, err);
}

/* ---- PyTorch ---------------------------------------------------------------------- */

/* Runs tools/torch_mirror.py bench; fills seconds[] and returns DDPM_OK, or
 * returns DDPM_ERR with the reason (no python3-torch, a failed run). */
static int torch_figures(const char *python, const char *script, const char *ckpt, int threads,
                         int reps, const int batch[N_FIGS], double seconds[N_FIGS], ddpm_error *err)
{
    char cmd[12288];
    snprintf(cmd, sizeof cmd,
             "'%s' '%s' bench --checkpoint '%s' --threads %d --reps %d --forward-batches %d %d --train-batch %d 2>&1",
             python, script, ckpt, threads, reps, batch[FIG_FWD1], batch[FIG_FWD16], batch[FIG_TRAIN]);
    fflush(NULL);
    FILE *p = popen(cmd, "r");
    if (!p) return ddpm_fail(err, "cannot run %s", python);
    char out[8192];
    size_t len = fread(out, 1, sizeof out - 1, p);
    out[len] = '\0';
    int status = pclose(p);
    if (status != 0) {
        const char *missing = strstr(out, "No module named");
        if (missing) {
            const char *end = strchr(missing, '\n');
            return ddpm_fail(err, "%s cannot run the PyTorch mirror (%.*s); on Debian: apt install "
                                  "python3-torch, or pass --python", python,
                             (int)(end ? end - missing : (ptrdiff_t)strlen(missing)), missing);
        }
        char *nl = strrchr(out, '\n');
        if (nl && nl[1] == '\0') *nl = '\0';
        nl = strrchr(out, '\n');
        return ddpm_fail(err, "%s failed: %s", script, nl ? nl + 1 : out);
    }
    const char *json = strchr(out, '{');
    cJSON *root = json ? cJSON_Parse(json) : NULL;
    cJSON *secs = root ? cJSON_GetObjectItemCaseSensitive(root, "seconds") : NULL;
    int rc = DDPM_OK;
    for (int f = 0; f < N_FIGS; f++) {
        char key[32];
        snprintf(key, sizeof key, f == FIG_TRAIN ? "train_b%d" : "forward_b%d", batch[f]);
        cJSON *v = secs ? cJSON_GetObjectItemCaseSensitive(secs, key) : NULL;
        if (!cJSON_IsNumber(v) || !(v->valuedouble > 0)) {
            rc = ddpm_fail(err, "unexpected output from %s: %s", script, out);
            break;
        }
        seconds[f] = v->valuedouble;
    }
    cJSON_Delete(root);
    return rc;
}

/* ---- the table ------------------------------------------------------------------- */

typedef struct {
    const char *preset;
    int threads;
    double flops_per_image;
    c_figures c;
    double torch[N_FIGS];     /* 0 = none */
    char torch_version[64];
} row_set;

static void print_table(const row_set *rows, int n_rows, bool with_torch)
{
    printf("| preset | threads | measurement | C ms | samples/s | GFLOP/s | %% of sgemm peak |%s\n",
           with_torch ? " PyTorch ms | speed-up vs PyTorch |" : "");
    printf("|---|---:|---|---:|---:|---:|---:|%s\n", with_torch ? "---:|---:|" : "");
    for (int i = 0; i < n_rows; i++) {
        const row_set *r = &rows[i];
        int batch[N_FIGS];
        fig_batches(r->preset, batch);
        for (int f = 0; f < N_FIGS; f++) {
            const double s = r->c.seconds[f], B = batch[f];
            char name[32];
            fig_name(name, sizeof name, f, batch);
            const double flops = r->flops_per_image * B * (f == FIG_TRAIN ? 3.0 : 1.0);
            const double gf = flops / s / 1e9;
            printf("| %s | %d | %s | %.1f | %.0f | %.1f | %.0f%% |", r->preset, r->threads, name,
                   1e3 * s, B / s, gf, r->c.sgemm_gflops > 0 ? 100.0 * gf / r->c.sgemm_gflops : 0.0);
            if (with_torch) {
                if (r->torch[f] > 0)
                    printf(" %.1f | **%.2fx** |", 1e3 * r->torch[f], r->torch[f] / s);
                else
                    printf(" - | - |");
            }
            printf("\n");
        }
    }
    printf("\n| preset | threads | sgemm peak GFLOP/s | training peak RSS MiB | model need MiB | RSS / need |\n");
    printf("|---|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < n_rows; i++) {
        const row_set *r = &rows[i];
        printf("| %s | %d | %.1f | %.0f | %.0f | %.2f |\n", r->preset, r->threads, r->c.sgemm_gflops,
               r->c.train_rss / 1048576.0, r->c.model_bytes / 1048576.0,
               r->c.model_bytes ? (double)r->c.train_rss / (double)r->c.model_bytes : 0.0);
    }
    printf("\nGFLOP/s counts multiply-adds as 2 FLOPs in convolutions, linears and attention;\n"
           "a training step is 3x the forward FLOPs.  \"model need\" is parameters, gradients and\n"
           "Adam m, v plus the activations a B=64 forward keeps for backward.\n");
}

int ddpm_cmd_bench(int argc, char **argv)
{
    const char *preset = "all", *python = "/usr/bin/python3", *script = NULL;
    int threads = 0, reps = 5, rounds = 1;
    bool torch = false, blas_hint = false;
    const ddpm_arg_spec specs[] = {
        {"preset", ARG_STRING, &preset, 0, 0, "NAME", "live, tiny, small, mlp or all"},
        {"threads", ARG_INT, &threads, 0, 256, "N", "thread count (0 = 1 and 2)"},
        {"reps", ARG_INT, &reps, 1, 1000, "N", "repetitions per figure (the best counts)"},
        {"rounds", ARG_INT, &rounds, 1, 100, "N", "alternate C and PyTorch this many times"},
        {"torch", ARG_FLAG, &torch, 0, 0, NULL, "also time PyTorch CPU on the same weights"},
        {"python", ARG_STRING, &python, 0, 0, "EXE", "the Python that has torch"},
        {"torch-script", ARG_STRING, &script, 0, 0, "FILE", "tools/torch_mirror.py"},
        {"blas-hint", ARG_FLAG, &blas_hint, 0, 0, NULL, "print the OPENBLAS_CORETYPE this CPU wants, if any"},
    };
    const int n_specs = (int)(sizeof specs / sizeof specs[0]);
    ddpm_error err = {0};
    int rc = ddpm_args_parse(specs, n_specs, argc, argv, &err);
    if (rc == DDPM_ARGS_HELP) {
        ddpm_args_usage(stdout, "bench", SUMMARY, specs, n_specs);
        return 0;
    }
    if (rc != DDPM_OK) return ddpm_cli_bad_input("bench", &err);
    const char *hint = ddpm_blas_core_hint();
    if (blas_hint) {
        if (hint) printf("%s\n", hint);
        return 0;
    }
    if (hint)
        fprintf(stderr, "ddpm bench: OpenBLAS runs its %s kernels on a CPU that can run its %s ones:\n"
                        "  the sgemm peak (and PyTorch's matrix products) will understate this machine.\n"
                        "  Run with OPENBLAS_CORETYPE=%s, as bench/run.sh does.\n",
                ddpm_blas_core(), hint, hint);
    const char *presets[4];
    int n_presets = 0;
    if (strcmp(preset, "all") == 0) {
        presets[n_presets++] = "live";
        presets[n_presets++] = "tiny";
        presets[n_presets++] = "small";
        presets[n_presets++] = "mlp";
    } else {
        ddpm_net_config probe;
        if (ddpm_net_preset(preset, &probe, &err) != DDPM_OK) return ddpm_cli_bad_input("bench", &err);
        presets[n_presets++] = preset;
    }
    const int thread_list[2] = {threads ? threads : 1, 2};
    const int n_threads = threads ? 1 : 2;
    char script_buf[4096];
    if (!script) {
        snprintf(script_buf, sizeof script_buf, "%s/../tools/torch_mirror.py", ddpm_cli_asset_dir());
        script = script_buf;
    }
    char dir[] = "/tmp/ddpm-bench-XXXXXX";
    if (!mkdtemp(dir)) {
        fprintf(stderr, "ddpm bench: cannot make a temporary folder\n");
        return 1;
    }

    row_set rows[6];
    int n_rows = 0;
    bool torch_ok = torch;
    for (int p = 0; p < n_presets; p++) {
        for (int ti = 0; ti < n_threads; ti++) {
            row_set *r = &rows[n_rows++];
            memset(r, 0, sizeof *r);
            r->preset = presets[p];
            r->threads = thread_list[ti];
            ddpm_net_config cfg;
            ddpm_net *net;
            if (ddpm_net_preset(r->preset, &cfg, &err) != DDPM_OK ||
                ddpm_net_create(&net, &cfg, &err) != DDPM_OK)
                return ddpm_cli_bad_input("bench", &err);
            r->flops_per_image = ddpm_net_forward_flops(net);
            ddpm_net_free(net);
            char ckpt[4200];
            snprintf(ckpt, sizeof ckpt, "%s/%s.safetensors", dir, r->preset);
            for (int round = 0; round < rounds; round++) {
                fprintf(stderr, "ddpm bench: %s, %d thread%s, round %d/%d: C...\n", r->preset,
                        r->threads, r->threads == 1 ? "" : "s", round + 1, rounds);
                job j = {.preset = r->preset, .threads = r->threads, .reps = reps,
                         .ckpt_path = torch && round == 0 ? ckpt : NULL};
                c_figures fwd = {0}, tr = {0};
                if (in_child(job_forward, &j, &fwd, &err) != DDPM_OK ||
                    in_child(job_train, &j, &tr, &err) != DDPM_OK) {
                    fprintf(stderr, "ddpm bench: %s\n", err.msg);
                    rmdir(dir);
                    return 1;
                }
                for (int f = 0; f < N_FIGS; f++) {
                    double s = f == FIG_TRAIN ? tr.seconds[f] : fwd.seconds[f];
                    if (r->c.seconds[f] == 0 || s < r->c.seconds[f]) r->c.seconds[f] = s;
                }
                if (fwd.sgemm_gflops > r->c.sgemm_gflops) r->c.sgemm_gflops = fwd.sgemm_gflops;
                if (r->c.train_rss == 0 || tr.train_rss < r->c.train_rss) r->c.train_rss = tr.train_rss;
                r->c.model_bytes = tr.model_bytes;
                if (!torch_ok) continue;
                fprintf(stderr, "ddpm bench: %s, %d thread%s, round %d/%d: PyTorch...\n", r->preset,
                        r->threads, r->threads == 1 ? "" : "s", round + 1, rounds);
                double secs[N_FIGS];
                int batch[N_FIGS];
                fig_batches(r->preset, batch);
                if (torch_figures(python, script, ckpt, r->threads, reps, batch, secs, &err) != DDPM_OK) {
                    fprintf(stderr, "ddpm bench: no PyTorch figures: %s\n", err.msg);
                    torch_ok = false;
                    continue;
                }
                for (int f = 0; f < N_FIGS; f++)
                    if (r->torch[f] == 0 || secs[f] < r->torch[f]) r->torch[f] = secs[f];
            }
            unlink(ckpt);
        }
    }
    rmdir(dir);
    printf("ddpm-lab %s, kernels: %s, OpenBLAS core: %s%s; %d repetitions, best of %d round%s\n\n",
           DDPM_VERSION, ddpm_conv2d_isa(), ddpm_blas_core(), hint ? " (older than this CPU)" : "", reps,
           rounds, rounds == 1 ? "" : "s");
    print_table(rows, n_rows, torch && torch_ok);
    if (torch && !torch_ok) printf("\n(PyTorch figures unavailable: %s)\n", err.msg);
    return 0;
}
