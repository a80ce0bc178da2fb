/* test_trainer.c: training lowers the loss; a resumed run is bit-identical
 * to an uninterrupted one; a non-finite loss stops the step without touching
 * the weights; data that does not fit the model is refused; the learning-rate
 * schedule; the same trainer runs the MLP on points. */
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ddpm/fileio.h"
#include "ddpm/layers.h"
#include "ddpm/threads.h"
#include "ddpm/trainer.h"

/* 64 synthetic 28x28 "digits": bars and blobs at random places. */
static ddpm_dataset make_data(void)
{
    ddpm_dataset ds;
    memset(&ds, 0, sizeof ds);
    snprintf(ds.name, sizeof ds.name, "synthetic");
    ds.n = 64;
    ds.channels = 1;
    ds.height = ds.width = 28;
    ds.bytes = malloc(64 * 784);
    ddpm_rng r;
    ddpm_rng_init(&r, 8, 0);
    for (int i = 0; i < 64; i++) {
        uint8_t *img = ds.bytes + i * 784;
        int cx = 6 + (int)ddpm_rng_below(&r, 16), cy = 6 + (int)ddpm_rng_below(&r, 16);
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++) {
                bool on = (i % 2 == 0) ? (abs(x - cx) <= 1 && abs(y - cy) <= 6)
                                       : ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= 16);
                img[y * 28 + x] = on ? 255 : 0;
            }
    }
    return ds;
}

static ddpm_run_config small_run(void)
{
    ddpm_run_config run;
    ddpm_error err = {0};
    CHECK(ddpm_run_config_default(&run, "tiny", &err) == 0, "%s", err.msg);
    ddpm_unet_config u = {.in_channels = 1, .out_channels = 1, .image_size = 28, .base_channels = 8,
                          .levels = 2, .channel_mult = {1, 2}, .res_blocks = 1,
                          .attention = {false, true}, .mid_attention = false, .groups = 4,
                          .time_embed_dim = 16, .dropout = 0.1f};
    run.net.unet = u;
    snprintf(run.preset, sizeof run.preset, "custom");
    run.batch = 8;
    run.total_steps = 100;
    run.adam.lr = 3e-3;
    run.adam.warmup_steps = 5;
    run.seed = 42;
    return run;
}

static void check_learning(const ddpm_dataset *ds)
{
    ddpm_run_config run = small_run();
    ddpm_error err = {0};
    ddpm_trainer *tr;
    CHECK(ddpm_trainer_create(&tr, &run, ds, &err) == 0, "%s", err.msg);
    double first = 0, last = 0;
    for (int s = 0; s < 100; s++) {
        ddpm_train_stats st;
        CHECK(ddpm_trainer_step(tr, &st, &err) == 0, "%s", err.msg);
        CHECK(st.step == s + 1 && st.batch == 8 && isfinite(st.loss), "stats");
        for (int b = 0; b < 8; b++) CHECK(st.t[b] >= 0 && st.t[b] < 1000, "t out of range");
        if (s < 20) first += st.loss;
        if (s >= 80) last += st.loss;
    }
    printf("eps-loss, mean of steps 1-20: %.4f, of steps 81-100: %.4f\n", first / 20, last / 20);
    CHECK(last < 0.7 * first, "training did not lower the loss: %g -> %g", first / 20, last / 20);
    ddpm_trainer_free(tr);
}

static void check_resume_exact(const ddpm_dataset *ds)
{
    ddpm_run_config run = small_run();
    ddpm_error err = {0};
    char path[256];
    snprintf(path, sizeof path, "/tmp/ddpm_test_resume_%d.safetensors", (int)getpid());
    ddpm_trainer *a;
    CHECK(ddpm_trainer_create(&a, &run, ds, &err) == 0, "%s", err.msg);
    double losses_a[12];
    for (int s = 0; s < 12; s++) {
        ddpm_train_stats st;
        CHECK(ddpm_trainer_step(a, &st, &err) == 0, "%s", err.msg);
        losses_a[s] = st.loss;
        if (s == 4) CHECK(ddpm_trainer_save(a, path, &err) == 0, "%s", err.msg);
    }
    ddpm_checkpoint ck;
    CHECK(ddpm_checkpoint_load(&ck, path, DDPM_CKPT_ALL, &err) == 0, "%s", err.msg);
    CHECK(ck.step == 5, "checkpoint step %lld", (long long)ck.step);
    ddpm_trainer *b;
    CHECK(ddpm_trainer_resume(&b, &ck, NULL, ds, &err) == 0, "%s", err.msg);
    for (int s = 5; s < 12; s++) {
        ddpm_train_stats st;
        CHECK(ddpm_trainer_step(b, &st, &err) == 0, "%s", err.msg);
        CHECK(st.loss == losses_a[s], "resumed loss at step %d: %.9g vs %.9g", s, st.loss, losses_a[s]);
    }
    const size_t P = ddpm_net_num_params(ddpm_trainer_net(a));
    CHECK(memcmp(ddpm_trainer_params(a), ddpm_trainer_params(b), P * 4) == 0, "resumed weights differ");
    CHECK(memcmp(ddpm_trainer_ema(a), ddpm_trainer_ema(b), P * 4) == 0, "resumed EMA differs");
    ddpm_checkpoint_free(&ck);
    ddpm_trainer_free(a);
    ddpm_trainer_free(b);
    unlink(path);
}

static void check_nan_guard(const ddpm_dataset *ds)
{
    ddpm_run_config run = small_run();
    ddpm_error err = {0};
    ddpm_trainer *tr;
    CHECK(ddpm_trainer_create(&tr, &run, ds, &err) == 0, "%s", err.msg);
    const size_t P = ddpm_net_num_params(ddpm_trainer_net(tr));
    float *w = malloc(P * 4);
    memcpy(w, ddpm_trainer_params(tr), P * 4);
    w[P - 1] = NAN; /* conv_out.bias: every output becomes NaN */
    ddpm_trainer_set_params(tr, w, P);
    CHECK(ddpm_trainer_step(tr, NULL, &err) == DDPM_ERR && strstr(err.msg, "diverged"), "NaN not caught: %s", err.msg);
    CHECK(ddpm_trainer_step_count(tr) == 0, "a failed step must not count");
    CHECK(memcmp(ddpm_trainer_params(tr), w, (P - 1) * 4) == 0, "weights changed by a failed step");
    ddpm_trainer_free(tr);
    free(w);

    /* data of the wrong size is refused with both sizes named */
    ddpm_dataset wrong = *ds;
    wrong.height = wrong.width = 14;
    CHECK(ddpm_trainer_create(&tr, &run, &wrong, &err) == DDPM_ERR && strstr(err.msg, "1x14x14") &&
          strstr(err.msg, "1x28x28"), "size mismatch: %s", err.msg);
    run.batch = 0;
    CHECK(ddpm_trainer_create(&tr, &run, ds, &err) == DDPM_ERR && strstr(err.msg, "batch"), "batch 0: %s", err.msg);
}

/* Training with dropout on gives the same weights bit for bit at 1 and 2
 * threads. */
static void check_threads_same(const ddpm_dataset *ds)
{
    ddpm_run_config run = small_run();
    ddpm_error err = {0};
    float *w[2];
    size_t P = 0;
    for (int k = 0; k < 2; k++) {
        ddpm_set_threads(k + 1);
        ddpm_trainer *tr;
        CHECK(ddpm_trainer_create(&tr, &run, ds, &err) == 0, "%s", err.msg);
        for (int s = 0; s < 4; s++) CHECK(ddpm_trainer_step(tr, NULL, &err) == 0, "%s", err.msg);
        P = ddpm_net_num_params(ddpm_trainer_net(tr));
        w[k] = malloc(P * 4);
        memcpy(w[k], ddpm_trainer_params(tr), P * 4);
        ddpm_trainer_free(tr);
    }
    ddpm_set_threads(1);
    CHECK(memcmp(w[0], w[1], P * 4) == 0, "weights after 4 steps differ between 1 and 2 threads");
    free(w[0]), free(w[1]);
    printf("4 steps with dropout: identical weights at 1 and 2 threads\n");
}

/* Warmup, then the cosine decay: its ends, its middle, monotone, constant after. */
static void check_lr_schedule(void)
{
    ddpm_adam_config c = ddpm_adam_config_default();
    c.lr = 2e-3, c.warmup_steps = 10, c.decay_steps = 100, c.final_lr = 0.1;
    CHECK_CLOSE(ddpm_adam_lr_at(&c, 0), 2e-4, 1e-15, 0, "warmup start");
    CHECK_CLOSE(ddpm_adam_lr_at(&c, 9), 2e-3, 1e-15, 0, "warmup end");
    CHECK_CLOSE(ddpm_adam_lr_at(&c, 10), 2e-3, 1e-15, 0, "decay start");
    CHECK_CLOSE(ddpm_adam_lr_at(&c, 60), 2e-3 * 0.55, 1e-12, 0, "decay middle: (1 + f) / 2");
    CHECK_CLOSE(ddpm_adam_lr_at(&c, 110), 2e-4, 1e-15, 0, "decay end");
    CHECK_CLOSE(ddpm_adam_lr_at(&c, 100000), 2e-4, 1e-15, 0, "after the decay");
    for (int s = 10; s < 110; s++)
        CHECK(ddpm_adam_lr_at(&c, s + 1) <= ddpm_adam_lr_at(&c, s), "the decay rises at step %d", s);
    c.decay_steps = 0;
    CHECK(ddpm_adam_lr_at(&c, 5000) == 2e-3, "no decay: constant");
    c.final_lr = 1.5;
    ddpm_error err = {0};
    CHECK(ddpm_adam_config_validate(&c, &err) == DDPM_ERR && strstr(err.msg, "final"), "final_lr 1.5: %s", err.msg);
}

/* The MLP on two moons: the loss falls, and a resumed run repeats an
 * uninterrupted one bit for bit (its checkpoint carries arch "mlp"). */
static void check_points(void)
{
    ddpm_error err = {0};
    ddpm_dataset ds;
    CHECK(ddpm_dataset_open(&ds, "moons", DDPM_SPLIT_TRAIN, &err) == 0, "%s", err.msg);
    ddpm_run_config run;
    CHECK(ddpm_run_config_default(&run, "mlp", &err) == 0, "%s", err.msg);
    CHECK(strcmp(run.dataset, "moons") == 0 && run.net.arch == DDPM_ARCH_MLP, "mlp defaults");
    run.net.mlp.hidden = 32;
    run.batch = 64;
    run.prediction = DDPM_PRED_EPS; /* its loss falls visibly within 200 steps; v's is noisier */
    run.adam.decay_steps = 1000;
    run.min_snr_gamma = 5.0; /* the weighting travels with the run: the resume below is exact */
    run.t_logit_mean = -0.5, run.t_logit_std = 0.8; /* and so does where t is drawn */
    run.ema_warmup = 20.0;                          /* and the EMA's warm-up */
    ddpm_trainer *a;
    CHECK(ddpm_trainer_create(&a, &run, &ds, &err) == 0, "%s", err.msg);
    double first = 0, last = 0, losses[200];
    long mid = 0; /* draws of t in [T/4, 3T/4) */
    char path[] = "/tmp/ddpm_test_points_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    close(fd);
    for (int s = 0; s < 200; s++) {
        ddpm_train_stats st;
        CHECK(ddpm_trainer_step(a, &st, &err) == 0, "%s", err.msg);
        losses[s] = st.loss;
        for (int b = 0; b < st.batch; b++) mid += st.t[b] >= 250 && st.t[b] < 750;
        if (s < 20) first += st.loss / 20;
        if (s >= 180) last += st.loss / 20;
        if (s == 99) CHECK(ddpm_trainer_save(a, path, &err) == 0, "%s", err.msg);
    }
    printf("MLP on moons: loss %.3f over the first 20 steps, %.3f over the last 20\n", first, last);
    CHECK(last < 0.7 * first, "the MLP did not learn: %.3f -> %.3f", first, last);
    /* logit-normal(-0.5, 0.8): P(T/4 <= t < 3T/4) = Phi((logit 0.75 + 0.5) / 0.8) - Phi((logit 0.25 + 0.5) / 0.8)
     * = 0.750 (uniform t: 0.5); 12,800 draws spread it by 0.004 */
    const double want = 0.5 * (erfc(-(log(3.0) + 0.5) / 0.8 / sqrt(2.0)) - erfc(-(-log(3.0) + 0.5) / 0.8 / sqrt(2.0)));
    CHECK_CLOSE((double)mid / (200.0 * run.batch), want, 0.0, 0.02, "the trainer's t follow logit-normal(-0.5, 0.8)");
    ddpm_checkpoint ck;
    CHECK(ddpm_checkpoint_load(&ck, path, DDPM_CKPT_ALL, &err) == 0, "%s", err.msg);
    CHECK(ck.run.net.arch == DDPM_ARCH_MLP && ddpm_net_config_equal(&ck.run.net, &run.net), "checkpoint's network");
    CHECK(ck.run.adam.decay_steps == 1000 && ck.run.min_snr_gamma == 5.0, "checkpoint's decay and weighting");
    CHECK(ck.run.t_logit_mean == -0.5 && ck.run.t_logit_std == 0.8, "checkpoint's t sampling");
    CHECK(ck.run.ema_warmup == 20.0, "checkpoint's EMA warm-up: %g", ck.run.ema_warmup);
    ddpm_trainer *b;
    CHECK(ddpm_trainer_resume(&b, &ck, NULL, &ds, &err) == 0, "%s", err.msg);
    for (int s = 100; s < 200; s++) {
        ddpm_train_stats st;
        CHECK(ddpm_trainer_step(b, &st, &err) == 0, "%s", err.msg);
        CHECK(st.loss == losses[s], "resumed MLP loss at step %d: %.9g vs %.9g", s, st.loss, losses[s]);
    }
    /* and it does weight: without it the same run takes other steps */
    ddpm_trainer_free(b);
    ck.run.min_snr_gamma = 0.0;
    CHECK(ddpm_trainer_resume(&b, &ck, &ck.run, &ds, &err) == 0, "%s", err.msg);
    ddpm_train_stats st0;
    CHECK(ddpm_trainer_step(b, &st0, &err) == 0 && ddpm_trainer_step(b, &st0, &err) == 0, "%s", err.msg);
    CHECK(st0.loss != losses[101], "Min-SNR changes the steps: %.9g both ways", st0.loss);
    ddpm_trainer_free(b);
    ck.run.min_snr_gamma = 5.0, ck.run.t_logit_std = 0.0; /* and so does where t is drawn */
    CHECK(ddpm_trainer_resume(&b, &ck, &ck.run, &ds, &err) == 0, "%s", err.msg);
    CHECK(ddpm_trainer_step(b, &st0, &err) == 0 && ddpm_trainer_step(b, &st0, &err) == 0, "%s", err.msg);
    CHECK(st0.loss != losses[101], "uniform t changes the steps: %.9g both ways", st0.loss);
    ddpm_checkpoint_free(&ck);
    ddpm_trainer_free(a);
    ddpm_trainer_free(b);
    unlink(path);
    /* images into the MLP, points into a UNet: refused, naming both shapes */
    ddpm_run_config unet;
    CHECK(ddpm_run_config_default(&unet, "tiny", &err) == 0, "%s", err.msg);
    CHECK(ddpm_trainer_create(&a, &unet, &ds, &err) == DDPM_ERR && strstr(err.msg, "2x1x1") &&
          strstr(err.msg, "1x28x28"), "points into a UNet: %s", err.msg);
    ddpm_dataset_free(&ds);
}

/* The smoothed loss: starts at the first loss (bias correction), follows a
 * drop within a few windows, is a plain EMA later, and a resume continues it. */
/* The EMA after each step is d * EMA + (1 - d) * weights with d = min(decay,
 * (1 + s) / (warmup + s)) of the run's warm-up: 1/20 and 2/21 at the first two
 * steps for 20 (10 would give 1/10 and 2/11). */
static void check_ema_warmup(void)
{
    ddpm_error err = {0};
    ddpm_dataset ds;
    CHECK(ddpm_dataset_open(&ds, "moons", DDPM_SPLIT_TRAIN, &err) == 0, "%s", err.msg);
    ddpm_run_config run;
    CHECK(ddpm_run_config_default(&run, "mlp", &err) == 0, "%s", err.msg);
    run.net.mlp.hidden = 16;
    run.batch = 8;
    run.ema_warmup = 20.0;
    run.adam.warmup_steps = 0, run.adam.lr = 0.05; /* steps of ~0.05 a weight: a wrong decay shows by ~1e-3 */
    ddpm_trainer *tr;
    CHECK(ddpm_trainer_create(&tr, &run, &ds, &err) == 0, "%s", err.msg);
    const size_t n = ddpm_net_num_params(ddpm_trainer_net(tr));
    float *before = malloc(n * sizeof *before);
    CHECK(before != NULL, "alloc");
    for (int s = 0; s < 2; s++) {
        memcpy(before, ddpm_trainer_ema(tr), n * sizeof *before);
        CHECK(ddpm_trainer_step(tr, NULL, &err) == 0, "%s", err.msg);
        const double d = (1.0 + s) / (20.0 + s);
        const float *w = ddpm_trainer_params(tr), *e = ddpm_trainer_ema(tr);
        double worst = 0;
        for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs(e[i] - (d * before[i] + (1.0 - d) * w[i])));
        CHECK(worst < 1e-6, "EMA at step %d: off by %g from decay %g", s, worst, d);
    }
    free(before);
    ddpm_trainer_free(tr);
    ddpm_dataset_free(&ds);
    printf("EMA warm-up 20: the decays 1/20 and 2/21 of the first two steps\n");
}

static void check_loss_smoother(void)
{
    ddpm_loss_smoother s = {0};
    CHECK_CLOSE(ddpm_loss_smooth_add(&s, 1.0), 1.0, 0, 1e-12, "the first value is the first loss");
    double v = 0;
    for (int i = 0; i < 4; i++) v = ddpm_loss_smooth_add(&s, 1.0);
    CHECK_CLOSE(v, 1.0, 0, 1e-12, "a constant loss stays put");
    /* a drop from 1 to 0.25: within 3 windows the average is within 5% of the new level */
    for (int i = 0; i < 3 * DDPM_LOSS_WINDOW; i++) v = ddpm_loss_smooth_add(&s, 0.25);
    CHECK(v < 0.25 * 1.05 + 0.75 * 0.06 && v > 0.25, "follows a drop: %g", v);
    /* the exact EMA: v_n = beta v_{n-1} + (1 - beta) x, once the correction is gone */
    ddpm_loss_smoother r = {0};
    ddpm_loss_smooth_resume(&r, 0.5);
    const double beta = 1.0 - 1.0 / DDPM_LOSS_WINDOW;
    CHECK_CLOSE(ddpm_loss_smooth_add(&r, 0.3), beta * 0.5 + (1 - beta) * 0.3, 0, 1e-12, "a resume continues the average");
}

int main(void)
{
    check_loss_smoother();
    check_lr_schedule();
    check_points();
    check_ema_warmup();
    ddpm_blas_set_threads(1);
    ddpm_dataset ds = make_data();
    check_learning(&ds);
    check_resume_exact(&ds);
    check_threads_same(&ds);
    check_nan_guard(&ds);
    free(ds.bytes);
    TEST_PASS("test_trainer");
}
