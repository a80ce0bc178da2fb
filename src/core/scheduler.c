/* scheduler.c: beta schedules, the forward process, prediction types,
 * timestep spacing and the one reverse step shared by DDPM and DDIM.
 *
 * References used below:
 *   [DDPM]  Ho, Jain & Abbeel, "Denoising Diffusion Probabilistic Models", 2020.
 *   [DDIM]  Song, Meng & Ermon, "Denoising Diffusion Implicit Models", 2021.
 *   [IDDPM] Nichol & Dhariwal, "Improved Denoising Diffusion Probabilistic Models", 2021.
 *   [PD]    Salimans & Ho, "Progressive Distillation for Fast Sampling of
 *           Diffusion Models", 2022 (v-prediction).
 *   [seed]  ../shared/seeds: 000 (DDPM/DDIM notes), 001 (MNIST lab), 004
 *           (make_beta_schedule).
 */
#include "ddpm/scheduler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- names ------------------------------------------------------------ */

static const char *const schedule_names[DDPM_SCHEDULE_COUNT] = {
    "linear", "scaled-linear", "cosine", "sqrt", "sigmoid"};
static const char *const prediction_names[DDPM_PRED_COUNT] = {"eps", "v", "x0"};
static const char *const spacing_names[DDPM_SPACING_COUNT] = {"leading", "trailing", "linspace"};
static const char *const sampler_names[DDPM_SAMPLER_COUNT] = {"ddpm", "ddim"};
static const char *const variance_names[DDPM_VARIANCE_COUNT] = {"small", "large"};

static const char *name_or_unknown(const char *const *names, int count, int value)
{
    return value >= 0 && value < count ? names[value] : "unknown";
}

const char *ddpm_schedule_name(ddpm_schedule_kind k)
{
    return name_or_unknown(schedule_names, DDPM_SCHEDULE_COUNT, (int)k);
}
const char *ddpm_prediction_name(ddpm_prediction p)
{
    return name_or_unknown(prediction_names, DDPM_PRED_COUNT, (int)p);
}
const char *ddpm_spacing_name(ddpm_spacing s)
{
    return name_or_unknown(spacing_names, DDPM_SPACING_COUNT, (int)s);
}
const char *ddpm_sampler_name(ddpm_sampler_kind s)
{
    return name_or_unknown(sampler_names, DDPM_SAMPLER_COUNT, (int)s);
}
const char *ddpm_variance_name(ddpm_variance v)
{
    return name_or_unknown(variance_names, DDPM_VARIANCE_COUNT, (int)v);
}

/* Looks name up in names[]; on failure the message lists every valid name. */
static int parse_name(const char *what, const char *const *names, int count,
                      const char *name, int *out, ddpm_error *err)
{
    for (int i = 0; name && i < count; i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = i;
            return DDPM_OK;
        }
    }
    char valid[256] = "";
    for (int i = 0; i < count; i++) {
        strncat(valid, names[i], sizeof valid - strlen(valid) - 1);
        if (i + 1 < count) strncat(valid, ", ", sizeof valid - strlen(valid) - 1);
    }
    return ddpm_fail(err, "unknown %s '%s'; valid %ss are: %s", what, name ? name : "(null)",
                     what, valid);
}

#define DEFINE_PARSE(fn, type, what, names, count)                          \
    int fn(const char *name, type *out, ddpm_error *err)                    \
    {                                                                       \
        int v = 0;                                                          \
        if (parse_name(what, names, count, name, &v, err) != DDPM_OK)       \
            return DDPM_ERR;                                                \
        *out = (type)v;                                                     \
        return DDPM_OK;                                                     \
    }

/* Other codebases' names for the same schedules: the seed notes' (and latent
 * diffusion's) "sqrt_linear" is the linspace of beta, this project's
 * linear; diffusers' "scaled_linear" is scaled-linear.  The seeds' own
 * "linear" is NOT an alias: it is scaled-linear, and "linear" here is Ho et
 * al.'s (README, "Schedules, and a naming clash"). */
static const struct {
    const char *alias;
    ddpm_schedule_kind kind;
} schedule_aliases[] = {{"sqrt_linear", DDPM_SCHEDULE_LINEAR}, {"scaled_linear", DDPM_SCHEDULE_SCALED_LINEAR}};

int ddpm_schedule_parse(const char *name, ddpm_schedule_kind *out, ddpm_error *err)
{
    for (size_t i = 0; name && i < sizeof schedule_aliases / sizeof schedule_aliases[0]; i++)
        if (strcmp(name, schedule_aliases[i].alias) == 0) {
            *out = schedule_aliases[i].kind;
            return DDPM_OK;
        }
    int v = 0;
    if (parse_name("schedule", schedule_names, DDPM_SCHEDULE_COUNT, name, &v, err) != DDPM_OK) return DDPM_ERR;
    *out = (ddpm_schedule_kind)v;
    return DDPM_OK;
}

const char *ddpm_schedule_alias_of(const char *name)
{
    for (size_t i = 0; name && i < sizeof schedule_aliases / sizeof schedule_aliases[0]; i++)
        if (strcmp(name, schedule_aliases[i].alias) == 0) return ddpm_schedule_name(schedule_aliases[i].kind);
    return NULL;
}
DEFINE_PARSE(ddpm_prediction_parse, ddpm_prediction, "prediction type", prediction_names, DDPM_PRED_COUNT)
DEFINE_PARSE(ddpm_spacing_parse, ddpm_spacing, "spacing", spacing_names, DDPM_SPACING_COUNT)
DEFINE_PARSE(ddpm_sampler_parse, ddpm_sampler_kind, "sampler", sampler_names, DDPM_SAMPLER_COUNT)
DEFINE_PARSE(ddpm_variance_parse, ddpm_variance, "variance", variance_names, DDPM_VARIANCE_COUNT)

/* ---- schedule tables --------------------------------------------------- */

ddpm_schedule_config ddpm_schedule_config_default(void)
{
    ddpm_schedule_config c = {
        .kind = DDPM_SCHEDULE_LINEAR, .T = DDPM_T_DEFAULT, .beta_start = 1e-4, .beta_end = 0.02};
    return c;
}

int ddpm_schedule_config_validate(const ddpm_schedule_config *cfg, ddpm_error *err)
{
    DDPM_ASSERT(cfg);
    if ((int)cfg->kind < 0 || cfg->kind >= DDPM_SCHEDULE_COUNT)
        return ddpm_fail(err, "unknown schedule kind %d", (int)cfg->kind);
    if (cfg->T < DDPM_T_MIN || cfg->T > DDPM_T_MAX)
        return ddpm_fail(err, "T = %d is out of range; use %d <= T <= %d (1000 is usual)", cfg->T,
                         DDPM_T_MIN, DDPM_T_MAX);
    if (cfg->kind == DDPM_SCHEDULE_COSINE) return DDPM_OK; /* the betas come from s = 0.008 */
    double b0 = cfg->beta_start, b1 = cfg->beta_end;
    if (!isfinite(b0) || !isfinite(b1) || !(b0 > 0.0) || !(b1 < 1.0) || !(b0 <= b1))
        return ddpm_fail(err,
                         "beta range [%g, %g] is invalid; need 0 < beta_start <= beta_end < 1 "
                         "(defaults 1e-4 and 0.02)",
                         b0, b1);
    return DDPM_OK;
}

/* numpy.linspace(start, stop, num)[i]: start + i * step, with the end point exact. */
static double linspace_at(double start, double stop, int num, int i)
{
    if (num == 1) return start;
    if (i == num - 1) return stop;
    return start + (stop - start) / (double)(num - 1) * (double)i;
}

/* The betas of each named schedule. */
static void compute_betas(const ddpm_schedule_config *cfg, double *beta)
{
    const int T = cfg->T;
    const double b0 = cfg->beta_start, b1 = cfg->beta_end;
    switch (cfg->kind) {
    case DDPM_SCHEDULE_LINEAR: /* [DDPM] sec. 4: linear from 1e-4 to 0.02 */
        for (int t = 0; t < T; t++) beta[t] = linspace_at(b0, b1, T, t);
        break;
    case DDPM_SCHEDULE_SCALED_LINEAR: /* [seed 004] make_beta_schedule("linear") */
        for (int t = 0; t < T; t++) {
            double r = linspace_at(sqrt(b0), sqrt(b1), T, t);
            beta[t] = r * r;
        }
        break;
    case DDPM_SCHEDULE_COSINE: { /* [IDDPM] eq. 17: ab(t) = f(t)/f(0), beta clipped at 0.999 */
        const double s = 0.008;
        double f0 = cos(s / (1.0 + s) * M_PI / 2.0);
        f0 *= f0;
        for (int t = 0; t < T; t++) {
            double a = cos(((double)t / T + s) / (1.0 + s) * M_PI / 2.0);
            double b = cos(((double)(t + 1) / T + s) / (1.0 + s) * M_PI / 2.0);
            double ab_t = a * a / f0, ab_next = b * b / f0;
            double bt = 1.0 - ab_next / ab_t;
            beta[t] = bt > 0.999 ? 0.999 : bt;
        }
        break;
    }
    case DDPM_SCHEDULE_SQRT: /* [seed 004] make_beta_schedule("sqrt") */
        for (int t = 0; t < T; t++) beta[t] = sqrt(linspace_at(b0, b1, T, t));
        break;
    case DDPM_SCHEDULE_SIGMOID: /* sigmoid(linspace(-6, 6)) * (b1 - b0) + b0 */
        for (int t = 0; t < T; t++) {
            double x = linspace_at(-6.0, 6.0, T, t);
            beta[t] = 1.0 / (1.0 + exp(-x)) * (b1 - b0) + b0;
        }
        break;
    default:
        DDPM_ASSERT(!"validated kind");
    }
}

enum { N_TABLES = 9 };

int ddpm_schedule_init(ddpm_schedule *s, const ddpm_schedule_config *cfg, ddpm_error *err)
{
    DDPM_ASSERT(s && cfg);
    memset(s, 0, sizeof *s);
    if (ddpm_schedule_config_validate(cfg, err) != DDPM_OK) return DDPM_ERR;

    const int T = cfg->T;
    double *mem = ddpm_xcalloc((size_t)T * N_TABLES, sizeof(double));
    s->cfg = *cfg;
    s->T = T;
    s->beta = mem;
    s->alpha = mem + 1 * T;
    s->alpha_bar = mem + 2 * T;
    s->sqrt_alpha_bar = mem + 3 * T;
    s->sqrt_one_minus_alpha_bar = mem + 4 * T;
    s->snr = mem + 5 * T;
    s->posterior_variance = mem + 6 * T;
    s->posterior_mean_coef_x0 = mem + 7 * T;
    s->posterior_mean_coef_xt = mem + 8 * T;

    compute_betas(cfg, s->beta);
    double ab = 1.0;
    for (int t = 0; t < T; t++) {
        double beta = s->beta[t];
        double ab_prev = ab;             /* ab_{t-1}, 1 at t = 0 */
        s->alpha[t] = 1.0 - beta;
        ab *= s->alpha[t];               /* [DDPM] eq. 4: ab_t = prod alpha_s */
        s->alpha_bar[t] = ab;
        s->sqrt_alpha_bar[t] = sqrt(ab);
        s->sqrt_one_minus_alpha_bar[t] = sqrt(1.0 - ab);
        s->snr[t] = ab / (1.0 - ab);     /* [VDM] Kingma et al. 2021, SNR(t) */
        /* [DDPM] eq. 7: posterior q(x_{t-1} | x_t, x_0) */
        s->posterior_variance[t] = (1.0 - ab_prev) / (1.0 - ab) * beta;
        s->posterior_mean_coef_x0[t] = sqrt(ab_prev) * beta / (1.0 - ab);
        s->posterior_mean_coef_xt[t] = sqrt(s->alpha[t]) * (1.0 - ab_prev) / (1.0 - ab);
    }
    return DDPM_OK;
}

void ddpm_schedule_free(ddpm_schedule *s)
{
    if (!s) return;
    free(s->beta);
    memset(s, 0, sizeof *s);
}

double ddpm_alpha_bar(const ddpm_schedule *s, int t)
{
    DDPM_ASSERT(s && t >= -1 && t < s->T);
    return t < 0 ? 1.0 : s->alpha_bar[t];
}

/* ---- forward process --------------------------------------------------- */

void ddpm_q_sample(const ddpm_schedule *s, int t, const float *x0, const float *eps,
                   float *x_t, size_t n)
{
    DDPM_ASSERT(s && t >= 0 && t < s->T);
    /* [DDPM] eq. 4 */
    const double a = s->sqrt_alpha_bar[t], b = s->sqrt_one_minus_alpha_bar[t];
    for (size_t i = 0; i < n; i++) x_t[i] = (float)(a * x0[i] + b * eps[i]);
}

void ddpm_q_step(const ddpm_schedule *s, int t, const float *x_prev, const float *eps,
                 float *x_t, size_t n)
{
    DDPM_ASSERT(s && t >= 0 && t < s->T);
    /* [DDPM] eq. 2: q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I) */
    const double a = sqrt(1.0 - s->beta[t]), b = sqrt(s->beta[t]);
    for (size_t i = 0; i < n; i++) x_t[i] = (float)(a * x_prev[i] + b * eps[i]);
}

/* ---- prediction types -------------------------------------------------- */

/* x0-hat and eps-hat from one element of a model output at noise level
 * (sa, so) = (sqrt(ab_t), sqrt(1 - ab_t)).  Double precision throughout. */
static inline void to_x0_eps(ddpm_prediction pred, double sa, double so, double x_t, double out,
                             double *x0, double *eps)
{
    switch (pred) {
    case DDPM_PRED_EPS: /* [DDPM] eq. 4 solved for x0 (seed 000 eq. 9) */
        *eps = out;
        *x0 = (x_t - so * out) / sa;
        break;
    case DDPM_PRED_V: /* [PD] sec. 4: x0 = sa x_t - so v, eps = so x_t + sa v */
        *x0 = sa * x_t - so * out;
        *eps = so * x_t + sa * out;
        break;
    default: /* DDPM_PRED_X0 */
        *x0 = out;
        *eps = (x_t - sa * out) / so;
        break;
    }
}

static inline double from_x0_eps(ddpm_prediction pred, double sa, double so, double x0, double eps)
{
    switch (pred) {
    case DDPM_PRED_EPS: return eps;
    case DDPM_PRED_V: return sa * eps - so * x0; /* [PD] eq. for v */
    default: return x0;
    }
}

void ddpm_prediction_target(const ddpm_schedule *s, ddpm_prediction pred, int t,
                            const float *x0, const float *eps, float *target, size_t n)
{
    ddpm_prediction_from_x0_eps(s, pred, t, x0, eps, target, n);
}

double ddpm_loss_weight(const ddpm_schedule *s, ddpm_prediction pred, int t, double gamma)
{
    DDPM_ASSERT(s && t >= 0 && t < s->T && pred >= 0 && pred < DDPM_PRED_COUNT);
    if (gamma <= 0.0) return 1.0;
    const double snr = s->snr[t], clipped = snr < gamma ? snr : gamma;
    switch (pred) {
    case DDPM_PRED_EPS: return clipped / snr;
    case DDPM_PRED_V: return clipped / (snr + 1.0);
    default: return clipped;
    }
}

int ddpm_t_logit_normal(int T, double mean, double std, double z)
{
    DDPM_ASSERT(T >= 1);
    const double u = 1.0 / (1.0 + exp(-(mean + std * z)));
    const double t = floor(u * T);
    return t >= T - 1 ? T - 1 : t >= 0 ? (int)t : 0; /* a NaN z lands on 0 */
}

/* P(t < k) of the logit-normal draw */
static double t_below(int T, double mean, double std, int k)
{
    if (k <= 0) return 0.0;
    if (k >= T) return 1.0;
    const double u = (double)k / T, x = (log(u / (1.0 - u)) - mean) / std;
    return 0.5 * erfc(-x / sqrt(2.0));
}

double ddpm_t_draw_share(int T, double mean, double std, int lo, int hi)
{
    DDPM_ASSERT(T >= 1 && lo <= hi);
    if (!(std > 0)) {
        const int a = lo < 0 ? 0 : lo > T ? T : lo, b = hi < 0 ? 0 : hi > T ? T : hi;
        return (double)(b - a) / T;
    }
    return t_below(T, mean, std, hi) - t_below(T, mean, std, lo);
}

void ddpm_prediction_to_x0_eps(const ddpm_schedule *s, ddpm_prediction pred, int t,
                               const float *x_t, const float *model_out,
                               float *x0_hat, float *eps_hat, size_t n)
{
    DDPM_ASSERT(s && t >= 0 && t < s->T && pred >= 0 && pred < DDPM_PRED_COUNT);
    const double sa = s->sqrt_alpha_bar[t], so = s->sqrt_one_minus_alpha_bar[t];
    for (size_t i = 0; i < n; i++) {
        double x0, eps;
        to_x0_eps(pred, sa, so, x_t[i], model_out[i], &x0, &eps);
        if (x0_hat) x0_hat[i] = (float)x0;
        if (eps_hat) eps_hat[i] = (float)eps;
    }
}

void ddpm_prediction_from_x0_eps(const ddpm_schedule *s, ddpm_prediction pred, int t,
                                 const float *x0, const float *eps, float *model_out, size_t n)
{
    DDPM_ASSERT(s && t >= 0 && t < s->T && pred >= 0 && pred < DDPM_PRED_COUNT);
    const double sa = s->sqrt_alpha_bar[t], so = s->sqrt_one_minus_alpha_bar[t];
    for (size_t i = 0; i < n; i++) model_out[i] = (float)from_x0_eps(pred, sa, so, x0[i], eps[i]);
}

/* ---- sampling ---------------------------------------------------------- */

ddpm_sampler_config ddpm_sampler_config_default(void)
{
    ddpm_sampler_config c = {
        .sampler = DDPM_SAMPLER_DDIM,
        .steps = 50,
        .eta = 0.0,
        .spacing = DDPM_SPACING_LEADING,
        .variance = DDPM_VARIANCE_SMALL,
        .clip_x0 = false,
        .clip_recompute_eps = false,
    };
    return c;
}

ddpm_sampler_config ddpm_sampler_config_for_model(bool points, int T)
{
    ddpm_sampler_config c = ddpm_sampler_config_default();
    if (points) c.sampler = DDPM_SAMPLER_DDPM;
    c.steps = points || T < c.steps ? T : c.steps;
    return c;
}

int ddpm_sampler_config_validate(const ddpm_sampler_config *cfg, int T, ddpm_error *err)
{
    DDPM_ASSERT(cfg);
    if ((int)cfg->sampler < 0 || cfg->sampler >= DDPM_SAMPLER_COUNT)
        return ddpm_fail(err, "unknown sampler %d; use ddpm or ddim", (int)cfg->sampler);
    if ((int)cfg->spacing < 0 || cfg->spacing >= DDPM_SPACING_COUNT)
        return ddpm_fail(err, "unknown spacing %d; use leading, trailing or linspace",
                         (int)cfg->spacing);
    if ((int)cfg->variance < 0 || cfg->variance >= DDPM_VARIANCE_COUNT)
        return ddpm_fail(err, "unknown variance %d; use small or large", (int)cfg->variance);
    if (T < DDPM_T_MIN || T > DDPM_T_MAX)
        return ddpm_fail(err, "T = %d is out of range; use %d <= T <= %d", T, DDPM_T_MIN,
                         DDPM_T_MAX);
    if (cfg->steps < 1 || cfg->steps > T)
        return ddpm_fail(err, "steps = %d is out of range; use 1 <= steps <= T = %d", cfg->steps, T);
    if (!(cfg->eta >= 0.0 && cfg->eta <= 1.0)) /* also rejects NaN */
        return ddpm_fail(err, "eta = %g is out of range; use 0 <= eta <= 1 (0 = DDIM, 1 = DDPM-like)",
                         cfg->eta);
    return DDPM_OK;
}

int ddpm_timesteps(int T, const ddpm_sampler_config *cfg, int *out, ddpm_error *err)
{
    if (ddpm_sampler_config_validate(cfg, T, err) != DDPM_OK) return DDPM_ERR;
    const int S = cfg->steps;
    /* Spacings as named in Lin et al., "Common Diffusion Noise Schedules and
     * Sample Steps are Flawed" (2024), Table 2, and in diffusers.  rint()
     * rounds half to even, like numpy.round. */
    for (int k = 0; k < S; k++) {
        double t;
        switch (cfg->spacing) {
        case DDPM_SPACING_LEADING: t = (double)((S - 1 - k) * (T / S)); break;
        case DDPM_SPACING_TRAILING: t = rint((double)T - (double)k * ((double)T / S)) - 1.0; break;
        default: t = rint(linspace_at(0.0, (double)(T - 1), S, S - 1 - k)); break;
        }
        out[k] = (int)t;
        DDPM_ASSERT(out[k] >= 0 && out[k] < T && (k == 0 || out[k] < out[k - 1]));
    }
    return S;
}

int ddpm_timesteps_from(int T, const ddpm_sampler_config *cfg, int t_start, int *out, ddpm_error *err)
{
    if (t_start < 0 || t_start >= T) return ddpm_fail(err, "a round trip starts at t in 0..%d, not %d", T - 1, t_start);
    const int S = ddpm_timesteps(T, cfg, out + 1, err);
    if (S < 0) return DDPM_ERR;
    out[0] = t_start;
    int n = 1;
    for (int k = 1; k <= S; k++)
        if (out[k] < t_start) out[n++] = out[k];
    return n;
}

void ddpm_step_coefs_compute(const ddpm_schedule *s, const ddpm_sampler_config *cfg, int t,
                             int t_prev, ddpm_step_coefs *c)
{
    DDPM_ASSERT(s && cfg && c && t >= 0 && t < s->T && t_prev >= -1 && t_prev < t);
    const double ab = s->alpha_bar[t];
    const double ab_prev = t_prev < 0 ? 1.0 : s->alpha_bar[t_prev];
    memset(c, 0, sizeof *c);
    c->alpha_bar = ab;
    c->alpha_bar_prev = ab_prev;
    /* The beta of a (possibly respaced) step t -> t_prev: [IDDPM] sec. 4,
     * beta = 1 - ab_t / ab_prev.  It equals beta_t when t_prev = t - 1. */
    c->beta = 1.0 - ab / ab_prev;
    /* [DDPM] eq. 7, with the respaced beta */
    c->posterior_variance = (1.0 - ab_prev) / (1.0 - ab) * c->beta;
    c->mean_coef_x0 = sqrt(ab_prev) * c->beta / (1.0 - ab);
    c->mean_coef_xt = sqrt(1.0 - c->beta) * (1.0 - ab_prev) / (1.0 - ab);

    double var;
    if (cfg->sampler == DDPM_SAMPLER_DDIM) {
        /* [DDIM] eq. 16: sigma = eta sqrt((1-ab_prev)/(1-ab)) sqrt(1 - ab/ab_prev).
         * The seed's eq. 18 writes sigma^2 = eta beta-tilde; both agree at eta = 0, 1. */
        var = cfg->eta * cfg->eta * c->posterior_variance;
    } else {
        var = cfg->variance == DDPM_VARIANCE_LARGE ? c->beta : c->posterior_variance;
    }
    if (t_prev < 0) var = 0.0; /* no noise is added on the final step */
    c->sigma = sqrt(var);
    /* [DDIM] eq. 12: the direction pointing to x_t.  For DDPM this is the
     * posterior-mean direction (sigma^2 = beta-tilde), whatever the variance. */
    double dir_var = 1.0 - ab_prev -
                     (cfg->sampler == DDPM_SAMPLER_DDIM ? var : c->posterior_variance);
    c->dir_coef = sqrt(dir_var > 0.0 ? dir_var : 0.0);
}

void ddpm_step(const ddpm_schedule *s, const ddpm_sampler_config *cfg, ddpm_prediction pred,
               int t, int t_prev, const float *x_t, const float *model_out, const float *z,
               float *x_prev, const ddpm_step_parts *parts, size_t n)
{
    DDPM_ASSERT(pred >= 0 && pred < DDPM_PRED_COUNT);
    ddpm_step_coefs c;
    ddpm_step_coefs_compute(s, cfg, t, t_prev, &c);
    DDPM_ASSERT(z || c.sigma == 0.0);
    const double sa = s->sqrt_alpha_bar[t], so = s->sqrt_one_minus_alpha_bar[t];
    const double sa_prev = sqrt(c.alpha_bar_prev);
    const bool ddim = cfg->sampler == DDPM_SAMPLER_DDIM;
    static const ddpm_step_parts none;
    if (!parts) parts = &none;

    for (size_t i = 0; i < n; i++) {
        const double xt = x_t[i];
        double x0, eps;
        to_x0_eps(pred, sa, so, xt, model_out[i], &x0, &eps);
        if (cfg->clip_x0) {
            x0 = x0 < -1.0 ? -1.0 : (x0 > 1.0 ? 1.0 : x0);
            if (cfg->clip_recompute_eps) eps = (xt - sa * x0) / so; /* [DDPM] eq. 4 for eps */
        }
        const double x0_term = sa_prev * x0;
        double dir;
        if (ddim) {
            dir = c.dir_coef * eps; /* [DDIM] eq. 12 */
        } else {
            /* [DDPM] eq. 7 posterior mean; equals eq. 11 when x0 and eps agree */
            dir = c.mean_coef_x0 * x0 + c.mean_coef_xt * xt - x0_term;
        }
        const double noise = c.sigma > 0.0 ? c.sigma * z[i] : 0.0;
        if (parts->x0_hat) parts->x0_hat[i] = (float)x0;
        if (parts->eps_hat) parts->eps_hat[i] = (float)eps;
        if (parts->x0_term) parts->x0_term[i] = (float)x0_term;
        if (parts->dir_term) parts->dir_term[i] = (float)dir;
        if (parts->noise_term) parts->noise_term[i] = (float)noise;
        x_prev[i] = (float)(x0_term + dir + noise);
    }
}
