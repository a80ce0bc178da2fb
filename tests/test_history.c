/* test_history.c: the training history (ddpm/history.h): snapshots come at
 * doubling steps, are written as F16 checkpoints that load back within F16
 * rounding with their seconds, a folder of them loads sorted by step, and
 * folders that mix runs, repeat a step or hold none are refused.  The
 * filmstrip's inputs and predictions are deterministic: the same seed and
 * weights give the same images, another seed other noise. */
#include <dirent.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ddpm/fileio.h"
#include "ddpm/history.h"
#include "ddpm/rng.h"

static char dir[256];

static void fill(float *a, size_t n, uint64_t seed, float scale)
{
    ddpm_rng r;
    ddpm_rng_init(&r, seed, 0);
    ddpm_rng_normal_fill(&r, a, n);
    for (size_t i = 0; i < n; i++) a[i] *= scale;
}

static void remove_dir(const char *d)
{
    DIR *h = opendir(d);
    if (!h) return;
    for (struct dirent *e; (e = readdir(h));) {
        if (e->d_name[0] == '.') continue;
        char p[1024];
        snprintf(p, sizeof p, "%.500s/%.500s", d, e->d_name);
        unlink(p);
    }
    closedir(h);
    rmdir(d);
}

static void cleanup(void)
{
    char sub[300];
    const char *subs[] = {"a", "mixed", "dup", "empty"};
    for (int i = 0; i < 4; i++) {
        snprintf(sub, sizeof sub, "%s/%s", dir, subs[i]);
        remove_dir(sub);
    }
    remove_dir(dir);
}

static void check_steps(void)
{
    int64_t want[] = {50, 100, 200, 400, 800, 1600, 3200, 6400, 12800};
    int k = 0;
    for (int64_t s = 0; s <= 13000; s++) {
        if (!ddpm_history_is_snapshot_step(s, DDPM_HISTORY_FIRST)) continue;
        CHECK(k < 9 && s == want[k], "snapshot at step %lld (expected %lld)", (long long)s, (long long)want[k]);
        k++;
    }
    CHECK(k == 9, "%d snapshot steps up to 13000", k);
    CHECK(ddpm_history_is_snapshot_step(2, 2) && ddpm_history_is_snapshot_step(8, 2) &&
              !ddpm_history_is_snapshot_step(6, 2) && !ddpm_history_is_snapshot_step(1, 2),
          "snapshots from another first step: 2, 4, 8");
    int ts[DDPM_FILM_N];
    ddpm_film_timesteps(1000, ts);
    const int want_t[DDPM_FILM_N] = {100, 300, 500, 700, 900};
    for (int i = 0; i < DDPM_FILM_N; i++) CHECK(ts[i] == want_t[i], "film t[%d] = %d", i, ts[i]);
    ddpm_film_timesteps(10, ts);
    for (int i = 0; i < DDPM_FILM_N; i++) CHECK(ts[i] >= 0 && ts[i] < 10, "film t[%d] = %d at T = 10", i, ts[i]);
    char p[256];
    ddpm_history_path(p, sizeof p, "h", 400);
    CHECK(strcmp(p, "h/step-000400.safetensors") == 0, "%s", p);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/ddpm_test_history_%d", (int)getpid());
    atexit(cleanup);
    ddpm_error err = {0};
    char a_dir[300], mixed[300], dup[300], empty[300];
    snprintf(a_dir, sizeof a_dir, "%s/a", dir);
    snprintf(mixed, sizeof mixed, "%s/mixed", dir);
    snprintf(dup, sizeof dup, "%s/dup", dir);
    snprintf(empty, sizeof empty, "%s/empty", dir);
    CHECK(ddpm_mkdir_p(a_dir, &err) == 0 && ddpm_mkdir_p(mixed, &err) == 0 && ddpm_mkdir_p(dup, &err) == 0 &&
              ddpm_mkdir_p(empty, &err) == 0,
          "%s", err.msg);
    check_steps();

    ddpm_run_config run;
    CHECK(ddpm_run_config_default(&run, "live", &err) == 0, "%s", err.msg);
    CHECK(run.prediction == DDPM_PRED_X0, "the live preset predicts x0");
    ddpm_net *net;
    CHECK(ddpm_net_create(&net, &run.net, &err) == 0, "%s", err.msg);
    const size_t P = ddpm_net_num_params(net);
    float *w = malloc(sizeof(float) * P * 3);
    CHECK(w, "memory");
    /* three snapshots, written out of order */
    const int64_t steps[3] = {200, 50, 100};
    for (int i = 0; i < 3; i++) {
        fill(w + P * i, P, 10 + (uint64_t)i, 0.1f);
        ddpm_checkpoint_data d = {.run = &run, .net = net, .step = steps[i], .ema = w + P * i,
                                  .seconds = 1.5 * (double)steps[i]};
        CHECK(ddpm_history_save_snapshot(a_dir, &d, &err) == 0, "%s", err.msg);
    }
    ddpm_history h;
    CHECK(ddpm_history_load(&h, a_dir, &err) == 0, "%s", err.msg);
    CHECK(h.n == 3, "%d snapshots", h.n);
    for (int i = 0; i < 3; i++) {
        const int src = i == 0 ? 1 : i == 1 ? 2 : 0; /* sorted: 50, 100, 200 */
        CHECK(h.snaps[i].step == steps[src], "snapshot %d is step %lld", i, (long long)h.snaps[i].step);
        CHECK_CLOSE(h.snaps[i].seconds, 1.5 * (double)steps[src], 0, 1e-3, "seconds of snapshot %d", i);
        const float *got = ddpm_checkpoint_weights(&h.snaps[i]);
        for (size_t j = 0; j < P; j++)
            CHECK_CLOSE(got[j], w[P * src + j], 1.0 / 1024, 1e-7, "F16 weight %zu of snapshot %d", j, i);
        CHECK(ddpm_net_config_equal(&h.snaps[i].run.net, &run.net), "network of snapshot %d", i);
    }
    /* the same weights differ from the F32 ones only by F16 rounding: a
     * snapshot is half the size of the full-precision file */
    char path[512];
    ddpm_history_path(path, sizeof path, a_dir, 50);
    FILE *f = fopen(path, "rb");
    CHECK(f, "open %s", path);
    fseek(f, 0, SEEK_END);
    const long size = ftell(f);
    fclose(f);
    CHECK(size < (long)(P * 2 + 64 * 1024), "a snapshot of %zu weights takes %ld bytes (F16: about %zu)", P, size, P * 2);

    /* the filmstrip: deterministic inputs and predictions */
    ddpm_schedule s;
    CHECK(ddpm_schedule_init(&s, &run.schedule, &err) == 0, "%s", err.msg);
    int ts[DDPM_FILM_N];
    ddpm_film_timesteps(s.T, ts);
    const size_t per = 28 * 28;
    float *x0 = malloc(sizeof(float) * per), *xt1 = malloc(sizeof(float) * per * DDPM_FILM_N * 6);
    CHECK(x0 && xt1, "memory");
    float *xt2 = xt1 + per * DDPM_FILM_N, *xt3 = xt2 + per * DDPM_FILM_N;
    float *p1 = xt3 + per * DDPM_FILM_N, *p2 = p1 + per * DDPM_FILM_N, *p3 = p2 + per * DDPM_FILM_N;
    for (size_t j = 0; j < per; j++) x0[j] = (j % 28 > 10 && j % 28 < 18) ? 1.0f : -1.0f;
    ddpm_film_inputs(&s, x0, per, ts, 7, xt1);
    ddpm_film_inputs(&s, x0, per, ts, 7, xt2);
    ddpm_film_inputs(&s, x0, per, ts, 8, xt3);
    CHECK(memcmp(xt1, xt2, sizeof(float) * per * DDPM_FILM_N) == 0, "the same seed gives the same inputs");
    CHECK(memcmp(xt1, xt3, sizeof(float) * per * DDPM_FILM_N) != 0, "another seed gives other noise");
    /* small t keeps more of the digit than large t: the rows go from clear to noise */
    double c_lo = 0, c_hi = 0;
    for (size_t j = 0; j < per; j++) c_lo += xt1[j] * x0[j], c_hi += xt1[per * (DDPM_FILM_N - 1) + j] * x0[j];
    CHECK(c_lo > 4 * c_hi, "x_t at t = %d keeps the digit (%.1f) more than at t = %d (%.1f)", ts[0], c_lo,
          ts[DDPM_FILM_N - 1], c_hi);
    ddpm_net_workspace *ws;
    CHECK(ddpm_net_workspace_create(&ws, h.snaps[0].net, DDPM_FILM_N, false, &err) == 0, "%s", err.msg);
    CHECK(ddpm_film_predict(h.snaps[0].net, ddpm_checkpoint_weights(&h.snaps[0]), ws, &s, run.prediction, xt1, ts, p1,
                            &err) == 0,
          "%s", err.msg);
    CHECK(ddpm_film_predict(h.snaps[0].net, ddpm_checkpoint_weights(&h.snaps[0]), ws, &s, run.prediction, xt1, ts, p2,
                            &err) == 0,
          "%s", err.msg);
    CHECK(memcmp(p1, p2, sizeof(float) * per * DDPM_FILM_N) == 0, "the same snapshot predicts the same filmstrip");
    CHECK(ddpm_film_predict(h.snaps[0].net, ddpm_checkpoint_weights(&h.snaps[2]), ws, &s, run.prediction, xt1, ts, p3,
                            &err) == 0,
          "%s", err.msg);
    CHECK(memcmp(p1, p3, sizeof(float) * per * DDPM_FILM_N) != 0, "another snapshot predicts another filmstrip");
    ddpm_net_workspace_free(ws);
    ddpm_history_free(&h);
    CHECK(h.n == 0, "freed");

    /* refused: two runs in one folder, a step twice, no snapshot at all */
    ddpm_checkpoint_data d = {.run = &run, .net = net, .step = 50, .ema = w, .seconds = 2.0};
    CHECK(ddpm_history_save_snapshot(mixed, &d, &err) == 0, "%s", err.msg);
    ddpm_run_config other = run;
    other.prediction = DDPM_PRED_EPS;
    d.run = &other;
    d.step = 100;
    CHECK(ddpm_history_save_snapshot(mixed, &d, &err) == 0, "%s", err.msg);
    CHECK(ddpm_history_load(&h, mixed, &err) != 0 && strstr(err.msg, "different runs"), "mixed runs: %s", err.msg);
    CHECK(h.n == 0, "nothing kept after a refusal");
    d.run = &run;
    d.step = 50;
    CHECK(ddpm_history_save_snapshot(dup, &d, &err) == 0, "%s", err.msg);
    char src[512], dst[512];
    ddpm_history_path(src, sizeof src, dup, 50);
    snprintf(dst, sizeof dst, "%s/step-50.safetensors", dup); /* the same step, written another way */
    CHECK(link(src, dst) == 0, "link");
    CHECK(ddpm_history_load(&h, dup, &err) != 0 && strstr(err.msg, "twice"), "a step twice: %s", err.msg);
    CHECK(ddpm_history_load(&h, empty, &err) != 0 && strstr(err.msg, "no snapshots"), "empty: %s", err.msg);
    char nowhere[400];
    snprintf(nowhere, sizeof nowhere, "%s/missing", dir);
    CHECK(ddpm_history_load(&h, nowhere, &err) != 0 && strstr(err.msg, "cannot open"), "missing: %s", err.msg);

    ddpm_schedule_free(&s);
    ddpm_net_free(net);
    free(w);
    free(x0);
    free(xt1);
    TEST_PASS("test_history");
}
