/* test_sampler.c: the reverse-process loop.  With the exact denoiser of a
 * Gaussian data distribution every sampler must recover that distribution;
 * the noise is locked per sample and step; the callback sees consistent
 * parts; cancellation and bad configs are clean errors. */
#include <string.h>

#include "check.h"
#include "ddpm/rng.h"
#include "ddpm/sampler.h"

/* Data x0 ~ N(mu, sd^2) per element: E[eps | x_t] is known in closed form,
 * so a perfect model of any prediction type can be written down. */
typedef struct {
    const ddpm_schedule *s;
    ddpm_prediction pred;
    double mu, sd;
    int calls;
} gauss_model;

static int gauss_denoise(void *ctx, const float *x, const int *t, int B, float *out, ddpm_error *err)
{
    gauss_model *g = ctx;
    g->calls++;
    size_t per = (size_t)784;
    for (int b = 0; b < B; b++) {
        double ab = g->s->alpha_bar[t[b]], sa = sqrt(ab), so = sqrt(1 - ab);
        double var = ab * g->sd * g->sd + (1 - ab);
        for (size_t i = 0; i < per; i++) {
            size_t j = (size_t)b * per + i;
            float eps = (float)(so * (x[j] - sa * g->mu) / var);
            float x0 = (float)((x[j] - so * eps) / sa);
            ddpm_prediction_from_x0_eps(g->s, g->pred, t[b], &x0, &eps, &out[j], 1);
        }
    }
    return DDPM_OK;
}

static ddpm_schedule make(ddpm_schedule_kind kind)
{
    ddpm_schedule_config sc = ddpm_schedule_config_default();
    sc.kind = kind;
    ddpm_schedule s;
    CHECK(ddpm_schedule_init(&s, &sc, NULL) == 0, "schedule");
    return s;
}

/* Mean and std of B*784 samples drawn with the exact denoiser. */
static void sample_moments(ddpm_schedule_kind kind, ddpm_sampler_kind sampler, int steps, double eta,
                           ddpm_prediction pred, ddpm_spacing spacing, double *mean, double *std)
{
    enum { B = 32 };
    static float x[B * 784];
    ddpm_schedule s = make(kind);
    gauss_model g = {&s, pred, 0.3, 0.5, 0};
    ddpm_sample_request req = {.schedule = &s, .cfg = ddpm_sampler_config_default(), .pred = pred, .seed = 11};
    req.cfg.sampler = sampler;
    req.cfg.steps = steps;
    req.cfg.eta = eta;
    req.cfg.spacing = spacing;
    ddpm_error err = {0};
    CHECK(ddpm_sample(&req, gauss_denoise, &g, B, 1, 28, 28, x, NULL, NULL, NULL, &err) == 0, "%s", err.msg);
    CHECK(g.calls == steps, "%d model calls for %d steps", g.calls, steps);
    double m = 0, v = 0;
    const int n = B * 784;
    for (int i = 0; i < n; i++) m += x[i];
    m /= n;
    for (int i = 0; i < n; i++) v += (x[i] - m) * (x[i] - m);
    *mean = m;
    *std = sqrt(v / (n - 1));
    ddpm_schedule_free(&s);
}

static void check_gaussian_recovery(void)
{
    /* Fine discretisations recover N(0.3, 0.5^2) for every sampler, prediction
     * type and schedule family.  (Coarse ones under-disperse: the "small"
     * variance ignores the uncertainty of x0-hat, Bao et al. 2022.) */
    struct { ddpm_sampler_kind sampler; int steps; double eta; ddpm_prediction pred; ddpm_schedule_kind kind; ddpm_spacing spacing; } cases[] = {
        {DDPM_SAMPLER_DDPM, 1000, 0, DDPM_PRED_EPS, DDPM_SCHEDULE_LINEAR, DDPM_SPACING_LEADING},
        {DDPM_SAMPLER_DDIM, 1000, 0, DDPM_PRED_V, DDPM_SCHEDULE_COSINE, DDPM_SPACING_TRAILING},
        {DDPM_SAMPLER_DDIM, 1000, 1.0, DDPM_PRED_X0, DDPM_SCHEDULE_SIGMOID, DDPM_SPACING_LINSPACE},
        {DDPM_SAMPLER_DDIM, 100, 0, DDPM_PRED_EPS, DDPM_SCHEDULE_SCALED_LINEAR, DDPM_SPACING_TRAILING},
        {DDPM_SAMPLER_DDPM, 1000, 0, DDPM_PRED_V, DDPM_SCHEDULE_SCALED_LINEAR, DDPM_SPACING_LEADING},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        double m, sd;
        sample_moments(cases[c].kind, cases[c].sampler, cases[c].steps, cases[c].eta, cases[c].pred,
                       cases[c].spacing, &m, &sd);
        CHECK_CLOSE(m, 0.3, 0, 0.02, "case %zu mean", c);
        CHECK_CLOSE(sd, 0.5, 0, 0.02, "case %zu std", c);
    }
    /* DDIM's ODE converges as the steps grow: the std error shrinks 10 -> 100 -> 1000. */
    double err_prev = INFINITY;
    for (int steps = 10; steps <= 1000; steps *= 10) {
        double m, sd;
        sample_moments(DDPM_SCHEDULE_LINEAR, DDPM_SAMPLER_DDIM, steps, 0.0, DDPM_PRED_EPS,
                       DDPM_SPACING_TRAILING, &m, &sd);
        double e = fabs(sd - 0.5);
        CHECK(e < err_prev, "DDIM error did not shrink at %d steps: %g after %g", steps, e, err_prev);
        err_prev = e;
    }
    CHECK(err_prev < 0.01, "DDIM-1000 std error %g", err_prev);
}

/* Records x_t at step 0 and the noise term of each step. */
typedef struct {
    float first_xt[4 * 784];
    float noise_k3[4 * 784];
    int steps_seen;
    int cancel_at;
    bool parts_ok;
} recorder;

static bool record(void *ctx, const ddpm_step_view *v)
{
    recorder *r = ctx;
    size_t n = (size_t)v->B * v->C * v->H * v->W;
    if (v->k == 0) memcpy(r->first_xt, v->x_t, sizeof(float) * n);
    if (v->k == 3) memcpy(r->noise_k3, v->parts.noise_term, sizeof(float) * n);
    r->steps_seen++;
    /* the parts add up to the step's output */
    for (size_t i = 0; i < n; i++) {
        float sum = v->parts.x0_term[i] + v->parts.dir_term[i] + v->parts.noise_term[i];
        if (fabsf(sum - v->x_prev[i]) > 1e-5f * (1.0f + fabsf(v->x_prev[i]))) r->parts_ok = false;
    }
    return r->cancel_at < 0 || v->k < r->cancel_at;
}

static void check_locked_noise(void)
{
    ddpm_schedule s = make(DDPM_SCHEDULE_LINEAR);
    gauss_model g = {&s, DDPM_PRED_EPS, 0.0, 0.5, 0};
    ddpm_sample_request req = {.schedule = &s, .cfg = ddpm_sampler_config_default(), .pred = DDPM_PRED_EPS, .seed = 3};
    req.cfg.eta = 1.0;
    req.cfg.steps = 10;
    static float batch[4 * 784], single[784];
    static recorder r1, r2;
    r1.cancel_at = r2.cancel_at = -1;
    r1.parts_ok = r2.parts_ok = true;
    ddpm_error err = {0};
    CHECK(ddpm_sample(&req, gauss_denoise, &g, 4, 1, 28, 28, batch, NULL, record, &r1, &err) == 0, "%s", err.msg);
    CHECK(r1.steps_seen == 10 && r1.parts_ok, "callback: %d steps, parts %d", r1.steps_seen, r1.parts_ok);
    /* sample 2 alone, as first_index 2, is bit-identical to sample 2 of the batch */
    req.first_index = 2;
    CHECK(ddpm_sample(&req, gauss_denoise, &g, 1, 1, 28, 28, single, NULL, NULL, NULL, &err) == 0, "%s", err.msg);
    CHECK(memcmp(single, batch + 2 * 784, sizeof single) == 0, "batch composition changed sample 2");
    /* changing eta and the step count keeps x_T and the per-step noise */
    req.first_index = 0;
    req.cfg.eta = 0.5;
    req.cfg.steps = 20;
    CHECK(ddpm_sample(&req, gauss_denoise, &g, 4, 1, 28, 28, batch, NULL, record, &r2, &err) == 0, "%s", err.msg);
    CHECK(memcmp(r1.first_xt, r2.first_xt, sizeof r1.first_xt) == 0, "x_T changed with eta/steps");
    /* noise term at k = 3 is sigma_k * z_k with the same z: the ratio is constant */
    double ratio = r2.noise_k3[0] / r1.noise_k3[0];
    for (int i = 0; i < 4 * 784; i++)
        CHECK_CLOSE(r2.noise_k3[i], ratio * r1.noise_k3[i], 1e-4, 1e-6, "z_3 differs at %d", i);
    /* a different seed changes x_T */
    req.seed = 4;
    static recorder r3;
    r3.cancel_at = -1;
    r3.parts_ok = true;
    CHECK(ddpm_sample(&req, gauss_denoise, &g, 4, 1, 28, 28, batch, NULL, record, &r3, &err) == 0, "%s", err.msg);
    CHECK(memcmp(r1.first_xt, r3.first_xt, sizeof r1.first_xt) != 0, "seed ignored");
    /* cancellation */
    static recorder r4;
    r4.cancel_at = 2;
    r4.parts_ok = true;
    CHECK(ddpm_sample(&req, gauss_denoise, &g, 4, 1, 28, 28, batch, NULL, record, &r4, &err) == DDPM_ERR, "cancel ignored");
    CHECK(strstr(err.msg, "cancelled") && r4.steps_seen == 3, "cancel: %s after %d", err.msg, r4.steps_seen);
    /* bad config */
    req.cfg.steps = 5000;
    CHECK(ddpm_sample(&req, gauss_denoise, &g, 4, 1, 28, 28, batch, NULL, NULL, NULL, &err) == DDPM_ERR, "steps > T accepted");
    ddpm_schedule_free(&s);
}

/* A round trip (SDEdit): the run from a noised x_t at t_start visits
 * t_start, then the sampler's timesteps below it; ddpm_sample with start_t
 * equals the same steps done by hand; and with the exact denoiser, a trip
 * from a little noise comes back closer to where it started than one from a
 * lot. */
static double round_trip(const ddpm_schedule *s, int t_start, float *out)
{
    enum { N = 784 };
    static float x0[N], eps[N], xt[N];
    for (int i = 0; i < N; i++) x0[i] = 0.3f + 0.5f * (float)sin(0.37 * i); /* a fixed "digit" */
    ddpm_rng r;
    ddpm_rng_init(&r, 5, 77);
    ddpm_rng_normal_fill(&r, eps, N);
    ddpm_q_sample(s, t_start, x0, eps, xt, N);
    gauss_model g = {s, DDPM_PRED_EPS, 0.3, 0.5, 0};
    ddpm_sample_request req = {.schedule = s, .cfg = ddpm_sampler_config_default(), .pred = DDPM_PRED_EPS, .seed = 3,
                               .start_t = t_start};
    ddpm_error err = {0};
    CHECK(ddpm_sample(&req, gauss_denoise, &g, 1, 1, 28, 28, out, xt, NULL, NULL, &err) == 0, "%s", err.msg);
    /* by hand: the same steps */
    int ts[64];
    const int n = ddpm_timesteps_from(s->T, &req.cfg, t_start, ts, &err);
    CHECK(n > 0 && g.calls == n, "one model call per step: %d calls, %d steps", g.calls, n);
    static float x[N], mo[N];
    memcpy(x, xt, sizeof x);
    for (int k = 0; k < n; k++) {
        int t = ts[k];
        gauss_denoise(&g, x, &t, 1, mo, &err);
        ddpm_step(s, &req.cfg, DDPM_PRED_EPS, t, k + 1 < n ? ts[k + 1] : -1, x, mo, NULL, x, NULL, N);
    }
    CHECK(memcmp(x, out, sizeof x) == 0, "ddpm_sample(start_t = %d) = the steps by hand", t_start);
    double e = 0;
    for (int i = 0; i < N; i++) e += fabs(out[i] - x0[i]);
    return e / N;
}

static void check_round_trip(void)
{
    ddpm_schedule s = make(DDPM_SCHEDULE_LINEAR);
    ddpm_sampler_config cfg = ddpm_sampler_config_default(); /* DDIM, 50 steps, leading: 980, 960, ..., 0 */
    int ts[64];
    ddpm_error err = {0};
    CHECK(ddpm_timesteps_from(s.T, &cfg, 300, ts, &err) == 16 && ts[0] == 300 && ts[1] == 280 && ts[15] == 0,
          "from a visited t: it, then the 15 below");
    CHECK(ddpm_timesteps_from(s.T, &cfg, 305, ts, &err) == 17 && ts[0] == 305 && ts[1] == 300,
          "from another t: it, then the 16 below");
    CHECK(ddpm_timesteps_from(s.T, &cfg, 1000, ts, &err) == DDPM_ERR, "t_start = T is refused");
    static float out[784];
    const double e_small = round_trip(&s, 50, out), e_mid = round_trip(&s, 300, out), e_big = round_trip(&s, 900, out);
    printf("round trip |x0' - x0|: t=50 %.3f, t=300 %.3f, t=900 %.3f\n", e_small, e_mid, e_big);
    CHECK(e_small < e_mid && e_mid < e_big, "the more noise, the less comes back");
    ddpm_schedule_free(&s);
}

int main(void)
{
    check_round_trip();
    check_gaussian_recovery();
    check_locked_noise();
    TEST_PASS("test_sampler");
}
