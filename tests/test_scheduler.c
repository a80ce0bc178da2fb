/* test_scheduler.c: the scheduler against independent numpy reference values
 * (tools/scheduler_ref.py -> tests/data/scheduler_ref.txt), plus the
 * properties the papers promise: DDIM at eta = 1 and S = T is DDPM with the
 * posterior variance; eta = 0 is deterministic; prediction conversions
 * round-trip; bad parameters are errors, never crashes.  The whole sampling
 * loop is tested in test_sampler.c. */
#include <string.h>

#include "check.h"
#include "ddpm/rng.h"
#include "ddpm/scheduler.h"

/* ---- reference file ----------------------------------------------------- */

typedef struct {
    char head[512];      /* everything before " : " */
    double *values;
    int n;
} record;

/* Value of key=... in a record head, or NULL. */
static const char *field(const record *r, const char *key, char *buf, size_t cap)
{
    size_t klen = strlen(key);
    const char *p = r->head;
    while ((p = strstr(p, key)) != NULL) {
        if ((p == r->head || p[-1] == ' ') && p[klen] == '=') {
            const char *v = p + klen + 1;
            size_t len = strcspn(v, " ");
            if (len >= cap) len = cap - 1;
            memcpy(buf, v, len);
            buf[len] = '\0';
            return buf;
        }
        p += klen;
    }
    return NULL;
}

static double field_num(const record *r, const char *key)
{
    char buf[64];
    const char *v = field(r, key, buf, sizeof buf);
    CHECK(v, "record '%s' lacks %s", r->head, key);
    return strtod(v, NULL);
}

static const char *field_str(const record *r, const char *key, char *buf, size_t cap)
{
    const char *v = field(r, key, buf, cap);
    CHECK(v, "record '%s' lacks %s", r->head, key);
    return v;
}

static int read_records(const char *path, record **out)
{
    FILE *f = fopen(path, "r");
    CHECK(f, "cannot open %s", path);
    size_t cap = 4096, n = 0;
    record *recs = malloc(cap * sizeof *recs);
    static char line[1 << 20];
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        char *sep = strstr(line, " : ");
        CHECK(sep, "malformed reference line");
        if (n == cap) recs = realloc(recs, (cap *= 2) * sizeof *recs);
        record *r = &recs[n++];
        size_t hlen = (size_t)(sep - line);
        CHECK(hlen < sizeof r->head, "head too long");
        memcpy(r->head, line, hlen);
        r->head[hlen] = '\0';
        int vcap = 64;
        r->values = malloc(vcap * sizeof(double));
        r->n = 0;
        char *p = sep + 3, *end;
        for (;;) {
            double v = strtod(p, &end);
            if (end == p) break;
            if (r->n == vcap) r->values = realloc(r->values, (vcap *= 2) * sizeof(double));
            r->values[r->n++] = v;
            p = end;
        }
    }
    fclose(f);
    *out = recs;
    return (int)n;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static ddpm_schedule make_schedule(const record *r)
{
    char buf[64];
    ddpm_schedule_config c = ddpm_schedule_config_default();
    ddpm_error err = {0};
    CHECK(ddpm_schedule_parse(field_str(r, "schedule", buf, sizeof buf), &c.kind, &err) == 0, "%s",
          err.msg);
    c.T = (int)field_num(r, "T");
    if (field(r, "b0", buf, sizeof buf)) {
        c.beta_start = field_num(r, "b0");
        c.beta_end = field_num(r, "b1");
    }
    ddpm_schedule s;
    CHECK(ddpm_schedule_init(&s, &c, &err) == 0, "%s", err.msg);
    return s;
}

static const double *column(const ddpm_schedule *s, const char *name)
{
    if (!strcmp(name, "beta")) return s->beta;
    if (!strcmp(name, "alpha")) return s->alpha;
    if (!strcmp(name, "alpha_bar")) return s->alpha_bar;
    if (!strcmp(name, "sqrt_alpha_bar")) return s->sqrt_alpha_bar;
    if (!strcmp(name, "sqrt_one_minus_alpha_bar")) return s->sqrt_one_minus_alpha_bar;
    if (!strcmp(name, "snr")) return s->snr;
    if (!strcmp(name, "posterior_variance")) return s->posterior_variance;
    if (!strcmp(name, "posterior_mean_coef_x0")) return s->posterior_mean_coef_x0;
    if (!strcmp(name, "posterior_mean_coef_xt")) return s->posterior_mean_coef_xt;
    CHECK(0, "unknown column %s", name);
    return NULL;
}

/* Inputs of the step records: the same formulas as step_inputs() in the script. */
static void step_inputs(int n, float *x_t, float *out, float *z)
{
    for (int i = 0; i < n; i++) {
        x_t[i] = (float)((double)(float)sin(0.7 * i + 0.3) * 1.5);
        out[i] = (float)(cos(1.3 * i) * 1.2);
        z[i] = (float)sin(2.1 * i + 1.0);
    }
}

static void check_reference(void)
{
    record *recs;
    int n = read_records(DDPM_TEST_DATA "/scheduler_ref.txt", &recs);
    CHECK(n > 1000, "reference file has only %d records", n);
    int n_tables = 0, n_ts = 0, n_steps = 0;
    const int *rows = NULL;
    int n_rows = 0;
    int *row_buf = NULL;
    for (int i = 0; i < n; i++) {
        record *r = &recs[i];
        char buf[64];
        if (starts_with(r->head, "rows ")) {
            free(row_buf);
            row_buf = malloc(sizeof(int) * (size_t)r->n);
            for (int k = 0; k < r->n; k++) row_buf[k] = (int)r->values[k];
            rows = row_buf;
            n_rows = r->n;
        } else if (starts_with(r->head, "table ")) {
            ddpm_schedule s = make_schedule(r);
            const double *col = column(&s, field_str(r, "col", buf, sizeof buf));
            CHECK(r->n == n_rows, "row count");
            for (int k = 0; k < r->n; k++)
                CHECK_CLOSE(col[rows[k]], r->values[k], 1e-10, 1e-300, "%s t=%d", r->head, rows[k]);
            ddpm_schedule_free(&s);
            n_tables++;
        } else if (starts_with(r->head, "timesteps ")) {
            ddpm_sampler_config cfg = ddpm_sampler_config_default();
            ddpm_error err = {0};
            CHECK(ddpm_spacing_parse(field_str(r, "spacing", buf, sizeof buf), &cfg.spacing, &err) == 0,
                  "%s", err.msg);
            int T = (int)field_num(r, "T");
            cfg.steps = (int)field_num(r, "S");
            int *ts = malloc(sizeof(int) * (size_t)T);
            int S = ddpm_timesteps(T, &cfg, ts, &err);
            CHECK(S == r->n, "%s: got %d steps (%s)", r->head, S, err.msg);
            for (int k = 0; k < S; k++)
                CHECK(ts[k] == (int)r->values[k], "%s: entry %d is %d, want %d", r->head, k, ts[k],
                      (int)r->values[k]);
            free(ts);
            n_ts++;
        } else if (starts_with(r->head, "step ")) {
            ddpm_schedule s = make_schedule(r);
            ddpm_sampler_config cfg = ddpm_sampler_config_default();
            ddpm_prediction pred;
            ddpm_error err = {0};
            CHECK(ddpm_prediction_parse(field_str(r, "pred", buf, sizeof buf), &pred, &err) == 0, "?");
            CHECK(ddpm_sampler_parse(field_str(r, "sampler", buf, sizeof buf), &cfg.sampler, &err) == 0, "?");
            CHECK(ddpm_variance_parse(field_str(r, "variance", buf, sizeof buf), &cfg.variance, &err) == 0, "?");
            cfg.eta = field_num(r, "eta");
            cfg.clip_x0 = field_num(r, "clip") != 0;
            cfg.clip_recompute_eps = field_num(r, "recompute") != 0;
            cfg.steps = s.T;
            int t = (int)field_num(r, "t"), t_prev = (int)field_num(r, "tprev");
            int len = (int)field_num(r, "n");
            float x_t[64], out[64], z[64], x_prev[64], x0[64], eps[64], x0t[64], dir[64], noise[64];
            CHECK(len <= 64, "n");
            step_inputs(len, x_t, out, z);
            ddpm_step_parts parts = {x0, eps, x0t, dir, noise};
            ddpm_step(&s, &cfg, pred, t, t_prev, x_t, out, z, x_prev, &parts, (size_t)len);
            const char *what = field_str(r, "out", buf, sizeof buf);
            const float *got = NULL;
            if (!strcmp(what, "sigma")) {
                ddpm_step_coefs c;
                ddpm_step_coefs_compute(&s, &cfg, t, t_prev, &c);
                CHECK_CLOSE(c.sigma, r->values[0], 1e-9, 1e-12, "%s", r->head);
            } else {
                if (!strcmp(what, "x_prev")) got = x_prev;
                else if (!strcmp(what, "x0_hat")) got = x0;
                else if (!strcmp(what, "eps_hat")) got = eps;
                else if (!strcmp(what, "x0_term")) got = x0t;
                else if (!strcmp(what, "dir_term")) got = dir;
                else if (!strcmp(what, "noise_term")) got = noise;
                CHECK(got && r->n == len, "%s: unknown output", r->head);
                /* float outputs of double math: relative 1e-6 on the scale of the values */
                for (int k = 0; k < len; k++)
                    CHECK_CLOSE(got[k], r->values[k], 2e-6, 2e-6, "%s [%d]", r->head, k);
            }
            ddpm_schedule_free(&s);
            n_steps++;
        }
    }
    CHECK(n_tables >= 20 * 9 && n_ts >= 50 && n_steps >= 1000, "too few records: %d %d %d",
          n_tables, n_ts, n_steps);
    for (int i = 0; i < n; i++) free(recs[i].values);
    free(recs);
    free(row_buf);
    printf("reference: %d tables, %d timestep lists, %d step outputs match\n", n_tables, n_ts, n_steps);
}

/* ---- properties ---------------------------------------------------------- */

/* DDIM with eta = 1 and S = T has DDPM's posterior mean and sigma at every step. */
static void check_ddim_eta1_is_ddpm(void)
{
    for (int kind = 0; kind < DDPM_SCHEDULE_COUNT; kind++) {
        ddpm_schedule_config sc = ddpm_schedule_config_default();
        sc.kind = (ddpm_schedule_kind)kind;
        ddpm_schedule s;
        CHECK(ddpm_schedule_init(&s, &sc, NULL) == 0, "init");
        ddpm_sampler_config ddim = ddpm_sampler_config_default(), ddpm = ddim;
        ddim.eta = 1.0;
        ddim.steps = ddpm.steps = s.T;
        ddpm.sampler = DDPM_SAMPLER_DDPM;
        float x_t[32], out[32], z[32], a[32], b[32];
        step_inputs(32, x_t, out, z);
        for (int t = s.T - 1; t >= 0; t--) {
            ddpm_step_coefs cd, cp;
            ddpm_step_coefs_compute(&s, &ddim, t, t - 1, &cd);
            ddpm_step_coefs_compute(&s, &ddpm, t, t - 1, &cp);
            double want_sigma = t > 0 ? sqrt(s.posterior_variance[t]) : 0.0;
            CHECK_CLOSE(cd.sigma, want_sigma, 1e-12, 1e-15, "%s t=%d DDIM sigma", ddpm_schedule_name(sc.kind), t);
            CHECK_CLOSE(cp.sigma, want_sigma, 1e-12, 1e-15, "%s t=%d DDPM sigma", ddpm_schedule_name(sc.kind), t);
            /* Same mean: run both with z = 0 and compare, for every prediction type. */
            for (int p = 0; p < DDPM_PRED_COUNT; p++) {
                ddpm_step(&s, &ddim, (ddpm_prediction)p, t, t - 1, x_t, out, z, a, NULL, 32);
                ddpm_step(&s, &ddpm, (ddpm_prediction)p, t, t - 1, x_t, out, z, b, NULL, 32);
                for (int i = 0; i < 32; i++)
                    CHECK_CLOSE(a[i], b[i], 1e-5, 1e-5, "%s t=%d pred %d elem %d", ddpm_schedule_name(sc.kind), t, p, i);
            }
            /* DDPM eq. 11 directly, for eps-prediction. */
            ddpm_step(&s, &ddpm, DDPM_PRED_EPS, t, t - 1, x_t, out, z, b, NULL, 32);
            for (int i = 0; i < 32; i++) {
                double mean = (x_t[i] - s.beta[t] / s.sqrt_one_minus_alpha_bar[t] * out[i]) / sqrt(s.alpha[t]);
                CHECK_CLOSE(b[i], mean + want_sigma * z[i], 1e-4, 1e-4, "%s t=%d eq. 11", ddpm_schedule_name(sc.kind), t);
            }
        }
        ddpm_schedule_free(&s);
    }
}

static void check_eta0_deterministic(void)
{
    ddpm_schedule_config sc = ddpm_schedule_config_default();
    ddpm_schedule s;
    CHECK(ddpm_schedule_init(&s, &sc, NULL) == 0, "init");
    ddpm_sampler_config cfg = ddpm_sampler_config_default();
    float x_t[32], out[32], z[32], z2[32], a[32], b[32], c[32], noise[32];
    step_inputs(32, x_t, out, z);
    for (int i = 0; i < 32; i++) z2[i] = -3.0f * z[i] + 1.0f;
    int ts[50];
    CHECK(ddpm_timesteps(s.T, &cfg, ts, NULL) == 50, "steps");
    for (int k = 0; k < 50; k++) {
        int t_prev = k + 1 < 50 ? ts[k + 1] : -1;
        ddpm_step_parts parts = {.noise_term = noise};
        ddpm_step(&s, &cfg, DDPM_PRED_EPS, ts[k], t_prev, x_t, out, z, a, &parts, 32);
        ddpm_step(&s, &cfg, DDPM_PRED_EPS, ts[k], t_prev, x_t, out, z2, b, NULL, 32);
        ddpm_step(&s, &cfg, DDPM_PRED_EPS, ts[k], t_prev, x_t, out, NULL, c, NULL, 32);
        CHECK(memcmp(a, b, sizeof a) == 0 && memcmp(a, c, sizeof a) == 0, "eta=0 depends on z at k=%d", k);
        for (int i = 0; i < 32; i++) CHECK(noise[i] == 0.0f, "noise term at eta 0");
    }
    /* ...and eta > 0 does depend on z, except on the final step. */
    cfg.eta = 0.5;
    ddpm_step(&s, &cfg, DDPM_PRED_EPS, ts[10], ts[11], x_t, out, z, a, NULL, 32);
    ddpm_step(&s, &cfg, DDPM_PRED_EPS, ts[10], ts[11], x_t, out, z2, b, NULL, 32);
    CHECK(memcmp(a, b, sizeof a) != 0, "eta=0.5 ignores z");
    ddpm_step_coefs coefs;
    ddpm_step_coefs_compute(&s, &cfg, ts[49], -1, &coefs);
    CHECK(coefs.sigma == 0.0 && coefs.alpha_bar_prev == 1.0, "final step must land on alpha_bar = 1 without noise");
    ddpm_schedule_free(&s);
}

static void check_prediction_round_trip(void)
{
    for (int kind = 0; kind < DDPM_SCHEDULE_COUNT; kind++) {
        ddpm_schedule_config sc = ddpm_schedule_config_default();
        sc.kind = (ddpm_schedule_kind)kind;
        ddpm_schedule s;
        CHECK(ddpm_schedule_init(&s, &sc, NULL) == 0, "init");
        float x0[64], eps[64], x_t[64], out[64], x0b[64], epsb[64];
        ddpm_rng r;
        ddpm_rng_init(&r, 1, 0);
        for (int p = 0; p < DDPM_PRED_COUNT; p++) {
            for (int t = 0; t < s.T; t += 37) {
                /* Only where both directions are well conditioned in float:
                 * at ab ~ 1e-40 (sqrt schedule) eps->x0 amplifies rounding by 1e20. */
                if (s.alpha_bar[t] < 1e-6 || 1.0 - s.alpha_bar[t] < 1e-6) continue;
                for (int i = 0; i < 64; i++) {
                    x0[i] = (float)(2.0 * ddpm_rng_uniform(&r) - 1.0);
                    eps[i] = (float)ddpm_rng_normal(&r);
                }
                ddpm_q_sample(&s, t, x0, eps, x_t, 64);
                ddpm_prediction_target(&s, (ddpm_prediction)p, t, x0, eps, out, 64);
                ddpm_prediction_to_x0_eps(&s, (ddpm_prediction)p, t, x_t, out, x0b, epsb, 64);
                /* x0 from eps divides by sqrt(ab); the float error of x_t scales with it. */
                double amp = 1.0 / s.sqrt_alpha_bar[t] + 1.0 / s.sqrt_one_minus_alpha_bar[t];
                for (int i = 0; i < 64; i++) {
                    CHECK_CLOSE(x0b[i], x0[i], 0, 1e-6 * amp, "%s pred %s t=%d x0", ddpm_schedule_name(sc.kind), ddpm_prediction_name((ddpm_prediction)p), t);
                    CHECK_CLOSE(epsb[i], eps[i], 0, 1e-6 * amp, "%s pred %s t=%d eps", ddpm_schedule_name(sc.kind), ddpm_prediction_name((ddpm_prediction)p), t);
                }
            }
        }
        ddpm_schedule_free(&s);
    }
    /* q_step composes to q_sample in distribution: one step from x_{t-1} at t=0
     * is q_sample at t=0 with the same eps. */
    ddpm_schedule s;
    ddpm_schedule_config sc = ddpm_schedule_config_default();
    CHECK(ddpm_schedule_init(&s, &sc, NULL) == 0, "init");
    float x0[4] = {0.5f, -1.0f, 0.0f, 1.0f}, eps[4] = {1.0f, 0.3f, -2.0f, 0.0f}, a[4], b[4];
    ddpm_q_sample(&s, 0, x0, eps, a, 4);
    ddpm_q_step(&s, 0, x0, eps, b, 4);
    for (int i = 0; i < 4; i++) CHECK_CLOSE(a[i], b[i], 1e-6, 1e-7, "q_step at t=0");
    ddpm_schedule_free(&s);
}

/* Min-SNR-gamma: whatever the prediction type, the weighted loss of an error
 * in the output is min(SNR, gamma) times the squared error it makes in x0
 * (Hang et al. 2023): checked through the conversions, not the formula. */
static void check_min_snr_weights(void)
{
    ddpm_schedule_config sc = ddpm_schedule_config_default();
    ddpm_schedule s;
    CHECK(ddpm_schedule_init(&s, &sc, NULL) == 0, "init");
    ddpm_rng r;
    ddpm_rng_init(&r, 7, 0);
    const double gammas[] = {1.0, 5.0};
    for (int p = 0; p < DDPM_PRED_COUNT; p++)
        for (int g = 0; g < 2; g++)
            for (int t = 0; t < s.T; t += 111) {
                float x0[16], eps[16], x_t[16], target[16], out[16], x0_hat[16];
                for (int i = 0; i < 16; i++) {
                    x0[i] = (float)(2.0 * ddpm_rng_uniform(&r) - 1.0);
                    eps[i] = (float)ddpm_rng_normal(&r);
                }
                ddpm_q_sample(&s, t, x0, eps, x_t, 16);
                ddpm_prediction_target(&s, (ddpm_prediction)p, t, x0, eps, target, 16);
                for (int i = 0; i < 16; i++) out[i] = target[i] + 0.01f * (float)ddpm_rng_normal(&r);
                ddpm_prediction_to_x0_eps(&s, (ddpm_prediction)p, t, x_t, out, x0_hat, NULL, 16);
                double e_out = 0, e_x0 = 0;
                for (int i = 0; i < 16; i++) {
                    e_out += ((double)out[i] - target[i]) * ((double)out[i] - target[i]);
                    e_x0 += ((double)x0_hat[i] - x0[i]) * ((double)x0_hat[i] - x0[i]);
                }
                const double snr = s.alpha_bar[t] / (1.0 - s.alpha_bar[t]);
                const double w = ddpm_loss_weight(&s, (ddpm_prediction)p, t, gammas[g]);
                CHECK_CLOSE(w * e_out, fmin(snr, gammas[g]) * e_x0, 2e-3, 0,
                            "%s, gamma %g, t %d (SNR %g)", ddpm_prediction_name((ddpm_prediction)p), gammas[g], t, snr);
                CHECK(ddpm_loss_weight(&s, (ddpm_prediction)p, t, 0.0) == 1.0, "gamma 0: the simple loss");
            }
    ddpm_schedule_free(&s);
    printf("Min-SNR-gamma weights: the x0-space loss min(SNR, gamma) |x0 - x0_hat|^2 for eps, v and x0\n");
}

/* Logit-normal t: the share of draws below k matches the distribution's
 * CDF, P(t < k) = Phi((logit(k / T) - mean) / std) (t < k iff T u < k), at
 * several k, for two (mean, std); uniform t would miss by up to 0.2. */
static void check_t_logit_normal(void)
{
    const int T = 1000, N = 200000;
    const double ms[][2] = {{0.0, 1.0}, {-0.5, 0.7}};
    const int ks[] = {1, 50, 200, 400, 500, 650, 900, 990};
    for (int m = 0; m < 2; m++) {
        int *count = calloc((size_t)T, sizeof *count);
        CHECK(count != NULL, "alloc");
        ddpm_rng r;
        ddpm_rng_init(&r, 11, (uint64_t)m);
        for (int i = 0; i < N; i++) {
            int t = ddpm_t_logit_normal(T, ms[m][0], ms[m][1], ddpm_rng_normal(&r));
            CHECK(t >= 0 && t < T, "t = %d outside 0..T-1", t);
            count[t]++;
        }
        for (size_t j = 0; j < sizeof ks / sizeof ks[0]; j++) {
            long below = 0;
            for (int t = 0; t < ks[j]; t++) below += count[t];
            const double u = (double)ks[j] / T, want = 0.5 * erfc(-((log(u / (1.0 - u)) - ms[m][0]) / ms[m][1]) / sqrt(2.0));
            /* the binomial spread at N = 200,000 is at most 0.0012: 0.005 is four of them */
            CHECK_CLOSE((double)below / N, want, 0.0, 0.005, "P(t < %d) with mean %g, std %g", ks[j], ms[m][0], ms[m][1]);
            /* the share the visualizer draws over its loss-by-t bands is the same CDF */
            CHECK_CLOSE(ddpm_t_draw_share(T, ms[m][0], ms[m][1], 0, ks[j]), want, 0.0, 1e-12, "share below %d", ks[j]);
            CHECK_CLOSE(ddpm_t_draw_share(T, 0.0, 0.0, ks[j], T), (double)(T - ks[j]) / T, 0.0, 1e-15, "uniform share");
        }
        free(count);
    }
    CHECK(ddpm_t_logit_normal(T, 0, 1, INFINITY) == T - 1 && ddpm_t_logit_normal(T, 0, 1, -INFINITY) == 0 &&
              ddpm_t_logit_normal(T, 0, 1, NAN) == 0 && ddpm_t_logit_normal(T, 0, 1, 0.0) == T / 2,
          "the ends, a NaN and the middle");
    printf("logit-normal t: the CDF of 200,000 draws within 0.005 of Phi((logit(k/T) - m) / s)\n");
}

static void check_bad_parameters(void)
{
    ddpm_error err = {0};
    ddpm_schedule s;
    ddpm_schedule_config sc = ddpm_schedule_config_default();
    int bad_T[] = {0, 1, -5, 4001, 1 << 30};
    for (size_t i = 0; i < sizeof bad_T / sizeof bad_T[0]; i++) {
        sc.T = bad_T[i];
        err.msg[0] = 0;
        CHECK(ddpm_schedule_init(&s, &sc, &err) == DDPM_ERR, "T=%d accepted", bad_T[i]);
        CHECK(strstr(err.msg, "T ="), "message for T: '%s'", err.msg);
        ddpm_schedule_free(&s); /* safe on a failed init */
    }
    sc = ddpm_schedule_config_default();
    double bad_beta[][2] = {{0, 0.02}, {-1, 0.02}, {0.1, 0.01}, {1e-4, 1.0}, {NAN, 0.02}, {1e-4, INFINITY}};
    for (size_t i = 0; i < sizeof bad_beta / sizeof bad_beta[0]; i++) {
        sc.beta_start = bad_beta[i][0];
        sc.beta_end = bad_beta[i][1];
        CHECK(ddpm_schedule_init(&s, &sc, &err) == DDPM_ERR, "beta range %zu accepted", i);
    }
    sc = ddpm_schedule_config_default();
    sc.kind = (ddpm_schedule_kind)99;
    CHECK(ddpm_schedule_init(&s, &sc, &err) == DDPM_ERR, "kind 99 accepted");

    ddpm_schedule_kind kind;
    CHECK(ddpm_schedule_parse("cosin", &kind, &err) == DDPM_ERR, "cosin accepted");
    CHECK(strstr(err.msg, "linear, scaled-linear, cosine, sqrt, sigmoid"), "names not listed: %s", err.msg);
    CHECK(ddpm_schedule_parse(NULL, &kind, &err) == DDPM_ERR, "NULL accepted");
    CHECK(ddpm_schedule_parse("", &kind, &err) == DDPM_ERR, "empty accepted");
    /* the seed notes' make_beta_schedule("sqrt_linear") is torch.linspace(b0, b1, T):
     * the alias must give exactly those betas; diffusers' scaled_linear is ours */
    CHECK(ddpm_schedule_parse("sqrt_linear", &kind, &err) == DDPM_OK, "sqrt_linear refused: %s", err.msg);
    sc = ddpm_schedule_config_default();
    sc.kind = kind;
    sc.T = 50;
    CHECK(ddpm_schedule_init(&s, &sc, &err) == DDPM_OK, "%s", err.msg);
    for (int t = 0; t < sc.T; t++) {
        const double want = sc.beta_start + (sc.beta_end - sc.beta_start) * t / (sc.T - 1);
        CHECK(fabs(s.beta[t] - want) < 1e-12, "sqrt_linear beta[%d] = %.17g, the seed's %.17g", t, s.beta[t], want);
    }
    ddpm_schedule_free(&s);
    CHECK(ddpm_schedule_parse("scaled_linear", &kind, &err) == DDPM_OK && kind == DDPM_SCHEDULE_SCALED_LINEAR,
          "scaled_linear");
    CHECK(ddpm_schedule_alias_of("sqrt_linear") && strcmp(ddpm_schedule_alias_of("sqrt_linear"), "linear") == 0,
          "alias_of(sqrt_linear)");
    CHECK(ddpm_schedule_alias_of("linear") == NULL, "linear is a name, not an alias");
    ddpm_prediction pred;
    CHECK(ddpm_prediction_parse("epsilon", &pred, &err) == DDPM_ERR && strstr(err.msg, "eps, v, x0"), "pred");
    ddpm_spacing sp;
    CHECK(ddpm_spacing_parse("Leading", &sp, &err) == DDPM_ERR, "case-sensitive spacing");

    int ts[16];
    ddpm_sampler_config cfg = ddpm_sampler_config_default();
    struct { int steps; double eta; int T; } bad[] = {
        {0, 0, 1000}, {-1, 0, 1000}, {1001, 0, 1000}, {10, -0.1, 1000}, {10, 1.5, 1000},
        {10, NAN, 1000}, {10, INFINITY, 1000}, {1, 0, 1}, {1, 0, 0}, {1, 0, 5000}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cfg.steps = bad[i].steps;
        cfg.eta = bad[i].eta;
        CHECK(ddpm_timesteps(bad[i].T, &cfg, ts, &err) == DDPM_ERR, "bad sampler case %zu accepted", i);
    }
    cfg = ddpm_sampler_config_default();
    cfg.eta = -1;
    CHECK(ddpm_sampler_config_validate(&cfg, 1000, &err) == DDPM_ERR && strstr(err.msg, "eta"), "eta msg: %s", err.msg);
    cfg = ddpm_sampler_config_default();
    cfg.sampler = (ddpm_sampler_kind)7;
    CHECK(ddpm_sampler_config_validate(&cfg, 1000, &err) == DDPM_ERR, "sampler 7 accepted");
}

int main(void)
{
    check_reference();
    check_ddim_eta1_is_ddpm();
    check_eta0_deterministic();
    check_prediction_round_trip();
    check_min_snr_weights();
    check_t_logit_normal();
    check_bad_parameters();
    TEST_PASS("test_scheduler");
}
