/* history.c: snapshots of a training run at doubling steps, and the learning
 * filmstrip (see ddpm/history.h). */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddpm/history.h"
#include "ddpm/rng.h"
#include "ddpm/sampler.h"

void ddpm_film_timesteps(int T, int ts[DDPM_FILM_N])
{
    for (int i = 0; i < DDPM_FILM_N; i++) {
        int t = (int)((2 * i + 1) * (int64_t)T / (2 * DDPM_FILM_N));
        ts[i] = t < 0 ? 0 : t >= T ? T - 1 : t;
    }
}

bool ddpm_history_is_snapshot_step(int64_t step, int first)
{
    if (first < 1) first = DDPM_HISTORY_FIRST;
    if (step < first || step % first) return false;
    const int64_t k = step / first;
    return (k & (k - 1)) == 0;
}

void ddpm_history_path(char *buf, size_t cap, const char *dir, int64_t step)
{
    snprintf(buf, cap, "%s/step-%06" PRId64 ".safetensors", dir, step);
}

int ddpm_history_save_snapshot(const char *dir, const ddpm_checkpoint_data *d, ddpm_error *err)
{
    char path[4096];
    ddpm_history_path(path, sizeof path, dir, d->step);
    ddpm_checkpoint_data s = {.run = d->run, .net = d->net, .step = d->step, .ema = d->ema ? d->ema : d->model,
                              .seconds = d->seconds, .half = true};
    return ddpm_checkpoint_save(path, &s, err);
}

void ddpm_history_free(ddpm_history *h)
{
    for (int i = 0; i < h->n; i++) ddpm_checkpoint_free(&h->snaps[i]);
    memset(h, 0, sizeof *h);
}

/* "step-000400.safetensors" -> 400; else -1 */
static int64_t step_of(const char *name)
{
    long long step;
    int end = 0;
    if (sscanf(name, "step-%lld.safetensors%n", &step, &end) != 1 || name[end] != '\0' || step < 0) return -1;
    if (strncmp(name, "step-", 5) != 0 || name[5] < '0' || name[5] > '9') return -1;
    return step;
}

static int by_step(const void *a, const void *b)
{
    const int64_t x = ((const ddpm_checkpoint *)a)->step, y = ((const ddpm_checkpoint *)b)->step;
    return (x > y) - (x < y);
}

int ddpm_history_load(ddpm_history *h, const char *dir, ddpm_error *err)
{
    memset(h, 0, sizeof *h);
    DIR *d = opendir(dir);
    if (!d) return ddpm_fail(err, "cannot open the history folder '%s'; pass a folder of step-*.safetensors", dir);
    int rc = DDPM_OK;
    for (struct dirent *e; rc == DDPM_OK && (e = readdir(d));) {
        if (step_of(e->d_name) < 0) continue;
        if (h->n == DDPM_HISTORY_MAX) {
            rc = ddpm_fail(err, "'%s' holds more than %d snapshots; keep the doubling steps only", dir,
                           DDPM_HISTORY_MAX);
            break;
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        rc = ddpm_checkpoint_load(&h->snaps[h->n], path, DDPM_CKPT_WEIGHTS, err);
        if (rc == DDPM_OK) h->n++;
    }
    closedir(d);
    if (rc == DDPM_OK && h->n == 0)
        rc = ddpm_fail(err, "'%s' holds no snapshots (step-*.safetensors)", dir);
    if (rc == DDPM_OK) qsort(h->snaps, (size_t)h->n, sizeof h->snaps[0], by_step);
    for (int i = 1; rc == DDPM_OK && i < h->n; i++) {
        const ddpm_run_config *a = &h->snaps[0].run, *b = &h->snaps[i].run;
        if (h->snaps[i].step == h->snaps[i - 1].step)
            rc = ddpm_fail(err, "'%s' holds step %" PRId64 " twice", dir, h->snaps[i].step);
        else if (!ddpm_net_config_equal(&a->net, &b->net) || a->prediction != b->prediction ||
                 memcmp(&a->schedule, &b->schedule, sizeof a->schedule) != 0)
            rc = ddpm_fail(err, "the snapshots in '%s' come from different runs (steps %" PRId64 " and %" PRId64
                                " differ in network or diffusion settings); keep one run per folder",
                           dir, h->snaps[0].step, h->snaps[i].step);
    }
    if (rc != DDPM_OK) ddpm_history_free(h);
    return rc;
}

void ddpm_film_inputs(const ddpm_schedule *s, const float *x0, size_t per, const int ts[DDPM_FILM_N],
                      uint64_t seed, float *x_t)
{
    float *eps = x_t + (DDPM_FILM_N - 1) * per; /* the last row holds the noise until its turn */
    ddpm_rng r;
    ddpm_rng_init(&r, seed, ddpm_rng_stream(DDPM_STREAM_FORWARD, 0, 0));
    ddpm_rng_normal_fill(&r, eps, per);
    for (int i = 0; i < DDPM_FILM_N; i++) ddpm_q_sample(s, ts[i], x0, eps, x_t + (size_t)i * per, per);
}

int ddpm_film_predict(const ddpm_net *net, const float *weights, ddpm_net_workspace *ws, const ddpm_schedule *s,
                      ddpm_prediction pred, const float *x_t, const int ts[DDPM_FILM_N], float *x0_hat,
                      ddpm_error *err)
{
    int C, H, W;
    ddpm_net_config_shape(ddpm_net_get_config(net), &C, &H, &W);
    const size_t per = (size_t)C * H * W;
    float *out = malloc(sizeof(float) * per * DDPM_FILM_N);
    if (!out) return ddpm_fail(err, "out of memory for the filmstrip");
    ddpm_net_denoiser den = {net, weights, ws};
    int rc = ddpm_net_denoise(&den, x_t, ts, DDPM_FILM_N, out, err);
    for (int i = 0; rc == DDPM_OK && i < DDPM_FILM_N; i++)
        ddpm_prediction_to_x0_eps(s, pred, ts[i], x_t + i * per, out + i * per, x0_hat + i * per, NULL, per);
    free(out);
    return rc;
}
