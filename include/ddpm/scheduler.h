/* ddpm/scheduler.h: noise schedules, the forward process, prediction types,
 * timestep spacing and the one DDPM/DDIM reverse step.
 *
 *   ddpm_schedule_config sc = ddpm_schedule_config_default();   // linear, T=1000
 *   ddpm_schedule s;
 *   if (ddpm_schedule_init(&s, &sc, &err) != 0) ...;
 *
 *   ddpm_sampler_config cfg = ddpm_sampler_config_default();   // DDIM-50, eta 0
 *   int ts[1000], S;
 *   S = ddpm_timesteps(s.T, &cfg, ts, &err);                    // 980, 960, ..., 0
 *   for (int k = 0; k < S; k++) {
 *       int t = ts[k], t_prev = k + 1 < S ? ts[k + 1] : -1;     // -1 means alpha_bar = 1
 *       model(x, t, out);
 *       ddpm_step(&s, &cfg, DDPM_PRED_EPS, t, t_prev, x, out, z_k, x, NULL, n);
 *   }
 *   ddpm_schedule_free(&s);
 *
 * Conventions.  Timesteps are 0-based, t = 0 .. T-1, as in diffusers: t = 0 is
 * the first (smallest) noise level, not clean data.  alpha_bar at t = -1 is 1,
 * which is where the last reverse step lands.  Tables are double precision;
 * images are float.
 *
 * Every formula lives in scheduler.c once, with the equation it comes from.
 * The trainer, the CLI and the visualizer all call these functions.
 */
#ifndef DDPM_SCHEDULER_H
#define DDPM_SCHEDULER_H

#include "ddpm/common.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { DDPM_T_MIN = 2, DDPM_T_MAX = 4000, DDPM_T_DEFAULT = 1000 };

/* ---- names ------------------------------------------------------------ */

typedef enum {
    DDPM_SCHEDULE_LINEAR,         /* Ho et al.: linspace(beta_start, beta_end) */
    DDPM_SCHEDULE_SCALED_LINEAR,  /* linspace(sqrt(b0), sqrt(b1))^2; the seed's "linear" */
    DDPM_SCHEDULE_COSINE,         /* Nichol & Dhariwal 2021, s = 0.008, beta <= 0.999 */
    DDPM_SCHEDULE_SQRT,           /* linspace(beta_start, beta_end)^0.5, as in the seed */
    DDPM_SCHEDULE_SIGMOID,        /* sigmoid(linspace(-6, 6)) scaled into [b0, b1] */
    DDPM_SCHEDULE_COUNT
} ddpm_schedule_kind;

typedef enum {
    DDPM_PRED_EPS,   /* the model predicts the noise epsilon */
    DDPM_PRED_V,     /* the velocity v = sqrt(ab) eps - sqrt(1-ab) x0 (Salimans & Ho 2022) */
    DDPM_PRED_X0,    /* the clean sample x0 */
    DDPM_PRED_COUNT
} ddpm_prediction;

typedef enum {
    DDPM_SPACING_LEADING,   /* arange(S) * (T // S), reversed */
    DDPM_SPACING_TRAILING,  /* round(T - k T/S) - 1 for k = 0..S-1 */
    DDPM_SPACING_LINSPACE,  /* round(linspace(0, T-1, S)), reversed */
    DDPM_SPACING_COUNT
} ddpm_spacing;

typedef enum {
    DDPM_SAMPLER_DDPM,      /* ancestral sampling (DDPM eq. 11 / eq. 7) */
    DDPM_SAMPLER_DDIM,      /* DDIM eq. 12 with eta (DDIM eq. 16) */
    DDPM_SAMPLER_COUNT
} ddpm_sampler_kind;

typedef enum {
    DDPM_VARIANCE_SMALL,    /* posterior variance beta-tilde (DDPM sec. 3.2) */
    DDPM_VARIANCE_LARGE,    /* beta_t */
    DDPM_VARIANCE_COUNT
} ddpm_variance;

/* Canonical names ("linear", "eps", "trailing", "ddim", "small", ...). */
const char *ddpm_schedule_name(ddpm_schedule_kind k);
const char *ddpm_prediction_name(ddpm_prediction p);
const char *ddpm_spacing_name(ddpm_spacing s);
const char *ddpm_sampler_name(ddpm_sampler_kind s);
const char *ddpm_variance_name(ddpm_variance v);

/* Parse a name.  On an unknown name they return DDPM_ERR with a message that
 * lists the valid names. */
int ddpm_schedule_parse(const char *name, ddpm_schedule_kind *out, ddpm_error *err);
/* ddpm_schedule_parse also takes other codebases' names: "sqrt_linear" (the
 * seed notes' and latent diffusion's linspace of beta) is linear, and
 * diffusers' "scaled_linear" is scaled-linear.  For such an alias this gives
 * the project's name, so a command can say what it understood; else NULL. */
const char *ddpm_schedule_alias_of(const char *name);
int ddpm_prediction_parse(const char *name, ddpm_prediction *out, ddpm_error *err);
int ddpm_spacing_parse(const char *name, ddpm_spacing *out, ddpm_error *err);
int ddpm_sampler_parse(const char *name, ddpm_sampler_kind *out, ddpm_error *err);
int ddpm_variance_parse(const char *name, ddpm_variance *out, ddpm_error *err);

/* ---- schedule tables --------------------------------------------------- */

typedef struct ddpm_schedule_config {
    ddpm_schedule_kind kind;
    int T;               /* DDPM_T_MIN .. DDPM_T_MAX */
    double beta_start;   /* used by linear, scaled-linear, sqrt, sigmoid */
    double beta_end;
} ddpm_schedule_config;

/* linear, T = 1000, beta 1e-4 .. 0.02 */
ddpm_schedule_config ddpm_schedule_config_default(void);

/* Checks T, the beta range and the kind; fills err with the problem and fix. */
int ddpm_schedule_config_validate(const ddpm_schedule_config *cfg, ddpm_error *err);

typedef struct ddpm_schedule {
    ddpm_schedule_config cfg;
    int T;
    /* Each table has T entries, indexed by t = 0..T-1.  One allocation. */
    double *beta;                    /* beta_t */
    double *alpha;                   /* alpha_t = 1 - beta_t */
    double *alpha_bar;               /* prod_{s<=t} alpha_s (DDPM eq. 4) */
    double *sqrt_alpha_bar;
    double *sqrt_one_minus_alpha_bar;
    double *snr;                     /* alpha_bar / (1 - alpha_bar) */
    double *posterior_variance;      /* beta-tilde_t (DDPM eq. 7); 0 at t = 0 */
    double *posterior_mean_coef_x0;  /* sqrt(ab_{t-1}) beta_t / (1 - ab_t)  (seed 000 eq. 8) */
    double *posterior_mean_coef_xt;  /* sqrt(alpha_t) (1 - ab_{t-1}) / (1 - ab_t) */
} ddpm_schedule;

/* Builds all tables.  On error s is left empty (safe to free). */
int ddpm_schedule_init(ddpm_schedule *s, const ddpm_schedule_config *cfg, ddpm_error *err);
void ddpm_schedule_free(ddpm_schedule *s);

/* alpha_bar_t for t in -1..T-1 (t = -1 gives 1). */
double ddpm_alpha_bar(const ddpm_schedule *s, int t);

/* ---- forward process --------------------------------------------------- */

/* x_t = sqrt(ab_t) x0 + sqrt(1 - ab_t) eps, the closed form q(x_t | x_0)
 * (DDPM eq. 4).  n elements; x_t may alias x0 or eps. */
void ddpm_q_sample(const ddpm_schedule *s, int t, const float *x0, const float *eps,
                   float *x_t, size_t n);

/* One step of the chain, q(x_t | x_{t-1}) (DDPM eq. 2):
 * x_t = sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) eps.  x_t may alias x_prev. */
void ddpm_q_step(const ddpm_schedule *s, int t, const float *x_prev, const float *eps,
                 float *x_t, size_t n);

/* ---- prediction types -------------------------------------------------- */

/* The training target for a prediction type: eps, v or x0. */
void ddpm_prediction_target(const ddpm_schedule *s, ddpm_prediction pred, int t,
                            const float *x0, const float *eps, float *target, size_t n);

/* Min-SNR-gamma loss weighting (Hang et al. 2023, "Efficient Diffusion
 * Training via Min-SNR Weighting Strategy", sec. 3.4): measured in x0, the
 * loss at t is weighted by min(SNR_t, gamma).  Each prediction type's own MSE
 * already weights the x0 error by SNR (eps), SNR + 1 (v) or 1 (x0), so the
 * factor on it is min(SNR, gamma) divided by that.  gamma <= 0: 1 (the simple
 * loss, DDPM eq. 14). */
double ddpm_loss_weight(const ddpm_schedule *s, ddpm_prediction pred, int t, double gamma);

/* Where training draws t.  Uniform over 0..T-1 (DDPM, algorithm 1), or
 * logit-normal: t/T = sigmoid(mean + std * z) with z ~ N(0, 1) (Esser et al.
 * 2024, "Scaling Rectified Flow Transformers", sec. 3.1, eq. 19, there over a
 * continuous time; here t = floor(T * sigmoid(mean + std * z)), at most
 * T - 1).  It draws the middle of the process more often than its ends, with
 * mean 0 symmetric in t.  Its density over t/T in (0, 1):
 * exp(-(logit(u) - mean)^2 / (2 std^2)) / (std sqrt(2 pi) u (1 - u)). */
int ddpm_t_logit_normal(int T, double mean, double std, double z);
/* The share of training draws with lo <= t < hi: (hi - lo) / T for uniform t
 * (std 0), else Phi((logit(hi / T) - mean) / std) - Phi((logit(lo / T) - mean) / std)
 * (t < k exactly when T * sigmoid(mean + std z) < k). */
double ddpm_t_draw_share(int T, double mean, double std, int lo, int hi);

/* Converts a model output at (x_t, t) into x0-hat and eps-hat.  Either output
 * may be NULL.  Outputs must not alias inputs. */
void ddpm_prediction_to_x0_eps(const ddpm_schedule *s, ddpm_prediction pred, int t,
                               const float *x_t, const float *model_out,
                               float *x0_hat, float *eps_hat, size_t n);

/* Converts (x0, eps) at t into the output a perfect model of type pred would
 * give.  The inverse of ddpm_prediction_to_x0_eps. */
void ddpm_prediction_from_x0_eps(const ddpm_schedule *s, ddpm_prediction pred, int t,
                                 const float *x0, const float *eps, float *model_out,
                                 size_t n);

/* ---- sampling ---------------------------------------------------------- */

typedef struct ddpm_sampler_config {
    ddpm_sampler_kind sampler;
    int steps;              /* S, 1..T */
    double eta;             /* DDIM only, 0..1 */
    ddpm_spacing spacing;
    ddpm_variance variance; /* DDPM only */
    bool clip_x0;           /* clamp x0-hat to [-1, 1] */
    bool clip_recompute_eps;/* with clip_x0: recompute eps-hat from the clamped x0-hat */
} ddpm_sampler_config;

/* DDIM, 50 steps, eta 0, leading spacing, clipping off. */
ddpm_sampler_config ddpm_sampler_config_default(void);

/* What a model is sampled with unless told otherwise, the same in `ddpm
 * sample`, `ddpm eval --model` and the visualizer: images DDIM with min(50,
 * T) steps, eta 0, unclipped; points (the 2D world) DDPM ancestral with all
 * T steps, the sampler whose samples score closest to the data there
 * (bench/README.md). */
ddpm_sampler_config ddpm_sampler_config_for_model(bool points, int T);

/* Rejects S outside 1..T, eta outside [0, 1] or NaN, and unknown enums. */
int ddpm_sampler_config_validate(const ddpm_sampler_config *cfg, int T, ddpm_error *err);

/* Writes the S timesteps the sampler visits, descending, into out[0..S).
 * out must hold cfg->steps entries.  Returns S, or DDPM_ERR.  For DDPM with
 * S = T this is T-1 .. 0.  For S < T a DDPM sampler visits the same list and
 * steps between entries with the respaced betas (Nichol & Dhariwal sec. 4). */
int ddpm_timesteps(int T, const ddpm_sampler_config *cfg, int *out, ddpm_error *err);

/* A reverse run that starts part-way, at t_start, from a noised x_{t_start}
 * (a round trip: SDEdit, Meng et al. 2022, sec. 3): t_start itself, then the
 * timesteps of ddpm_timesteps below it.  out must hold cfg->steps + 1
 * entries; t_start in 0..T-1.  Returns the number of steps, or DDPM_ERR. */
int ddpm_timesteps_from(int T, const ddpm_sampler_config *cfg, int t_start, int *out, ddpm_error *err);

/* The scalars of one reverse step from t to t_prev (t_prev < t, -1 = clean):
 *   x_prev = sqrt(ab_prev) x0_hat + dir + sigma z
 * where dir is the "direction pointing to x_t" (DDIM eq. 12).  For DDPM the
 * mean is the posterior mean (DDPM eq. 7) and dir is what remains of it after
 * the x0 term, which equals dir_coef * eps_hat whenever x0_hat and eps_hat are
 * consistent with x_t. */
typedef struct ddpm_step_coefs {
    double alpha_bar;        /* ab_t */
    double alpha_bar_prev;   /* ab_{t_prev}, 1 at t_prev = -1 */
    double beta;             /* 1 - ab_t / ab_prev: the (respaced) beta of the step */
    double posterior_variance; /* (1 - ab_prev) / (1 - ab_t) * beta */
    double sigma;            /* std of the added noise */
    double dir_coef;         /* sqrt(1 - ab_prev - sigma^2) (DDIM); posterior form for DDPM */
    double mean_coef_x0;     /* DDPM posterior mean coefficient of x0_hat */
    double mean_coef_xt;     /* DDPM posterior mean coefficient of x_t */
} ddpm_step_coefs;

void ddpm_step_coefs_compute(const ddpm_schedule *s, const ddpm_sampler_config *cfg,
                             int t, int t_prev, ddpm_step_coefs *out);

/* Optional per-element outputs of a step.  Any pointer may be NULL. */
typedef struct ddpm_step_parts {
    float *x0_hat;      /* the (clipped) prediction of x0 */
    float *eps_hat;     /* the prediction of eps used by the step */
    float *x0_term;     /* sqrt(ab_prev) * x0_hat */
    float *dir_term;    /* direction pointing to x_t */
    float *noise_term;  /* sigma * z */
} ddpm_step_parts;

/* One reverse step from x_t at t to x_prev at t_prev.  z is N(0, I) noise and
 * may be NULL when sigma is 0 (eta = 0, or the final step).  x_prev may alias
 * x_t.  Element-wise: nothing is allocated. */
void ddpm_step(const ddpm_schedule *s, const ddpm_sampler_config *cfg,
               ddpm_prediction pred, int t, int t_prev,
               const float *x_t, const float *model_out, const float *z,
               float *x_prev, const ddpm_step_parts *parts, size_t n);

#ifdef __cplusplus
}
#endif
#endif
