/* viz_params.h: what the visualizer's sliders and switches mean for the
 * sampler, as pure functions (no SDL), so that the wiring is unit-tested.
 *
 *   viz_params p;
 *   viz_params_default(&p, &model_schedule);          // the model's schedule, DDIM-50, eta 0
 *   p.steps = viz_steps_from_unit(slider_u, T);       // the steps slider is logarithmic
 *   viz_params_clamp(&p, T);                          // after any change, and when T changes
 *   ddpm_sampler_config cfg = viz_sampler_config(&p);
 *   ddpm_schedule_config sc = viz_schedule_config(&p, &model_schedule);
 *   if (viz_schedule_mismatch(&p, &model_schedule)) draw the badge;
 *
 * Locked noise: a sampling job is named by (seed, first sample index); eta,
 * steps, sampler, spacing and schedule never change them, so the core's
 * locked noise streams (ddpm/sampler.h) give the same x_T and the same
 * per-step noise, and the slider change is the only difference on screen.
 */
#ifndef VIZ_PARAMS_H
#define VIZ_PARAMS_H

#include "ddpm/points.h"
#include "ddpm/scheduler.h"

/* What is diffused: images (digits, the UNet) or 2-D points (the MLP). */
typedef enum { VIZ_WORLD_IMAGES, VIZ_WORLD_POINTS, VIZ_WORLD_COUNT } viz_world;

/* The 2D world's data: a built-in point set (ddpm_points_kind) or the
 * points drawn with the mouse. */
enum { VIZ_DATASET_DRAWN = DDPM_POINTS_COUNT, VIZ_DATASET_COUNT };

/* How the reverse panel of the 2D world shows x0-hat. */
typedef enum { VIZ_X0_OFF, VIZ_X0_CLOUD, VIZ_X0_LINES, VIZ_X0_COUNT } viz_x0_show;

/* What the field panel draws at the current t: the score
 * -eps_hat / sqrt(1 - alpha_bar_t), or the displacement x0_hat - x. */
typedef enum { VIZ_FIELD_SCORE, VIZ_FIELD_X0, VIZ_FIELD_COUNT } viz_field;

typedef enum {
    VIZ_VIEW_SINGLE,     /* one large sample */
    VIZ_VIEW_GRID,       /* a 4 x 4 grid */
    VIZ_VIEW_COMPARE,    /* two configurations on identical noise, and their difference */
    VIZ_VIEW_STUDY,      /* eta x steps for the model, every cell scored (the seeds' lab task 3) */
    VIZ_VIEW_COUNT
} viz_view;

/* What differs between the comparison view's two configurations: A is the
 * sliders, B is A with this one setting taken from viz_params.b. */
typedef enum {
    VIZ_COMPARE_SAMPLER,   /* DDIM vs DDPM ancestral (B default: DDPM) */
    VIZ_COMPARE_ETA,       /* DDIM eta (both sides DDIM; B default 1) */
    VIZ_COMPARE_STEPS,     /* step counts (B default 10) */
    VIZ_COMPARE_SCHEDULE,  /* the schedule (B default: the one after the model's) */
    VIZ_COMPARE_MODEL,     /* the model: eps vs v vs x0 (B default: the next model) */
    VIZ_COMPARE_SPACING,   /* timestep spacing (B default trailing) */
    VIZ_COMPARE_VARIANCE,  /* DDPM's sigma^2 (both sides DDPM; B default large) */
    VIZ_COMPARE_CLIP,      /* clipping x0-hat (B default: the opposite of A's) */
    VIZ_COMPARE_COUNT
} viz_compare;

/* B's value of every comparable setting; only the compared one is used. */
typedef struct viz_b_values {
    int model;
    ddpm_sampler_kind sampler;
    double eta;
    int steps;
    ddpm_spacing spacing;
    ddpm_schedule_kind schedule;
    ddpm_variance variance;
    bool clip_x0;
} viz_b_values;

enum {
    VIZ_GRID_N = 16,          /* samples in the grid view */
    VIZ_COMPARE_N = 4,        /* samples per side in the comparison view (2 x 2): two
                                 trajectories must finish about as fast as one grid */
    VIZ_MAX_SIDES = 2,        /* configurations of one sampling job */
    VIZ_STUDY_MAX = 6,        /* rows (eta values) and columns (step counts) of the study */
    VIZ_STUDY_SHOW = 4,       /* samples each study cell shows (2 x 2): the first of its n */
    VIZ_STUDY_N_MAX = 1000,   /* samples scored per study cell, at most */
    VIZ_MODEL_NAME_MAX = 64,
    VIZ_POINTS_N = 2000,      /* particles of the 2D world */
    VIZ_TRAILS_N = 10,        /* of them, the ones whose whole path is drawn */
};

#define VIZ_SPEED_MIN 0.25    /* reverse steps per second */
#define VIZ_SPEED_MAX 240.0

typedef struct viz_params {
    viz_world world;               /* each world keeps its own params (app.c swaps them) */
    /* what the sampler does */
    double eta;                    /* DDIM eta, 0..1 */
    int steps;                     /* 1..T */
    ddpm_schedule_kind schedule;   /* may differ from the model's: a lesson */
    ddpm_spacing spacing;
    ddpm_sampler_kind sampler;
    bool clip_x0;
    ddpm_variance variance;        /* DDPM's sigma_t^2: small (beta~) or large (beta) */
    uint64_t seed;
    int model;                     /* index into the app's model list */
    int snapshot;                  /* the live model: -1 its weights now, else the training
                                      history's snapshot of that index (the scrubber) */
    /* what is shown */
    viz_view view;
    viz_compare compare;
    viz_b_values b;                /* the comparison's configuration B (what differs from A) */
    double study_eta[VIZ_STUDY_MAX];   /* the study's rows */
    int n_study_eta;
    int study_steps[VIZ_STUDY_MAX];    /* its columns */
    int n_study_steps;
    int study_n;                   /* samples scored per cell */
    bool decomposition;            /* the three terms of x_{t-1} */
    int focus;                     /* the grid sample the single view and the decomposition follow */
    double speed;                  /* playback, reverse steps per second */
    int digit;                     /* dataset image of the forward panel */
    int roundtrip_t;               /* a round trip (SDEdit): > 0, the single view's run starts
                                      from the forward panel's digit noised to this t; 0 off */
    /* the 2D world */
    int dataset;                   /* ddpm_points_kind, or VIZ_DATASET_DRAWN */
    bool trails;                   /* draw VIZ_TRAILS_N particles' whole paths */
    viz_x0_show x0_show;
    viz_field field;
} viz_params;

/* The model's schedule, DDIM with min(50, T) steps, eta 0, leading spacing,
 * seed 0, single view, speed 20 steps/s. */
void viz_params_default(viz_params *p, const ddpm_schedule_config *model_schedule);
/* The 2D world's: two moons, DDPM ancestral sampling with all T steps (the
 * sampler whose samples score closest to the data, see bench/README.md),
 * trails and x0-hat lines on, the score field, speed 200 steps/s. */
void viz_params_default_points(viz_params *p, const ddpm_schedule_config *model_schedule);

/* Brings every field into range for a model with T timesteps: steps into
 * 1..T (this is also what happens when the model, and so T, changes), eta into
 * [0, 1] (NaN becomes 0), unknown enums to their first value, focus into the
 * grid, speed into [VIZ_SPEED_MIN, VIZ_SPEED_MAX].  n_models and n_digits
 * bound model and digit (digit wraps around, so "next" after the last is 0). */
void viz_params_clamp(viz_params *p, int T, int n_models, int n_digits);

/* The sampler configuration of the sliders.  DDPM ignores eta. */
ddpm_sampler_config viz_sampler_config(const viz_params *p);

/* The model's schedule (T, beta range) with the selected kind. */
ddpm_schedule_config viz_schedule_config(const viz_params *p, const ddpm_schedule_config *model);

/* True when the selected schedule is not the one the model was trained with. */
bool viz_schedule_mismatch(const viz_params *p, const ddpm_schedule_config *model);

/* ---- the steps slider: logarithmic, so that 1..20 is as easy to pick as 100..1000 */

/* u in [0, 1] -> steps in 1..T; u <= 0 gives 1 and u >= 1 gives T exactly. */
int viz_steps_from_unit(double u, int T);
/* The inverse (steps clamped to 1..T first); 0 for 1 step, 1 for T. */
double viz_steps_to_unit(int steps, int T);

/* Of the frames 0..n-1 whose timesteps are t[0..n-1] (decreasing, -1 = clean),
 * the one whose t is nearest to target; on a tie the earlier (noisier) one.
 * The comparison view aligns two trajectories of different step counts by t. */
int viz_nearest_frame(const int *t, int n, int target);
/* The same by noise level: of frames whose alpha_bar are abar[0..n-1]
 * (increasing), the one nearest to target; on a tie the noisier.  Two models
 * of different schedules (or T) are aligned by it: their equal t are not
 * equal noise. */
int viz_nearest_level(const double *abar, int n, double target);
/* The next round number of steps up (dir > 0) or down (dir < 0) among
 * 1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, ... and T itself. */
int viz_steps_ladder(int steps, int T, int dir);

/* ---- sampling jobs ----------------------------------------------------- */

/* One configuration of a job. */
typedef struct viz_side {
    int model;                     /* index into the app's model list */
    char model_name[32];           /* its name, when comparing models (viz_side_name_model) */
    ddpm_sampler_config cfg;
    ddpm_schedule_config schedule;
    char label[96];                /* "DDIM η=0, 50 steps, linear" (UTF-8); the model first when comparing models */
    char label_ascii[96];          /* the same with "eta", for the bitmap font */
} viz_side;

/* The configurations the current view samples: one, or two in the
 * comparison view.  Returns their number.  model is the schedule the
 * selected model was trained with (T its timesteps); model_b is B's model's,
 * used when the comparison is of models (NULL: the same as A's).
 *
 * B is A with the compared setting taken from p->b, and nothing else: moving
 * A's sliders moves both.  Comparing eta, both sides use DDIM; comparing
 * DDPM's variance, both use DDPM.  Comparing models, each side samples with
 * its own model's schedule (T, betas) and the kind of A's when A's differs
 * from its model's (a lesson that then holds on both sides); steps are
 * clamped to each side's T. */
int viz_job_sides(const viz_params *p, const ddpm_schedule_config *model, int T,
                  const ddpm_schedule_config *model_b, viz_side out[VIZ_MAX_SIDES]);

/* Puts the model's name in front of the side's labels (the comparison of models). */
void viz_side_name_model(viz_side *s, const char *name);

/* What side s has that other does not, short: "v-linear", "eta=1",
 * "10 steps", "DDPM", "cosine (T=500)", "trailing", "sigma^2=beta", "clip on"
 * (UTF-8; several joined by ", "); "same" when nothing differs. */
void viz_side_diff(const viz_side *s, const viz_side *other, char *buf, size_t cap);

/* True when the two sides sample the same thing (B's value equals A's). */
bool viz_sides_identical(const viz_side *a, const viz_side *b);

/* Images per job (1, VIZ_GRID_N or VIZ_COMPARE_N; VIZ_POINTS_N particles in
 * the 2D world) and the index of the first, for the
 * locked noise streams: the single view shows grid sample `focus`, with
 * exactly the noise it has in the grid. */
int viz_job_batch(const viz_params *p);
/* The t a job's run starts from: the round trip's (single view of images), else 0 (from T). */
int viz_job_start_t(const viz_params *p);
int64_t viz_job_first_index(const viz_params *p);

/* True when a and b give the same study grid (model, seed, the sampler
 * settings the cells share, the lists and n). */
bool viz_params_same_study(const viz_params *a, const viz_params *b);

/* True when a and b give the same sampling job (so no re-run is needed):
 * playback speed, the digit, the decomposition switch and the focus in the
 * grid view change nothing that is sampled. */
bool viz_params_same_job(const viz_params *a, const viz_params *b);

/* The next seed for "new seed" (dir > 0) or the previous one (dir < 0). */
uint64_t viz_seed_step(uint64_t seed, int dir);

const char *viz_view_name(viz_view v);
const char *viz_world_name(viz_world w);
/* "moons", ..., "drawn" */
const char *viz_dataset_name(int dataset);
const char *viz_compare_name(viz_compare c);
/* "DDIM vs DDPM", "eps-linear vs v-linear" ...: what the comparison shows,
 * for the selector (UTF-8); names are the two models' (compare=model). */
void viz_compare_title(const viz_params *p, const char *model_a, const char *model_b, char *buf, size_t cap);

/* ---- --set key=value,... -------------------------------------------------- */

/* Which fields of viz_settings.params a --set list gave. */
enum {
    VIZ_SET_ETA = 1 << 0, VIZ_SET_STEPS = 1 << 1, VIZ_SET_SCHEDULE = 1 << 2, VIZ_SET_SPACING = 1 << 3,
    VIZ_SET_SAMPLER = 1 << 4, VIZ_SET_SEED = 1 << 5, VIZ_SET_CLIP = 1 << 6, VIZ_SET_VIEW = 1 << 7,
    VIZ_SET_COMPARE = 1 << 8, VIZ_SET_DECOMP = 1 << 9, VIZ_SET_FOCUS = 1 << 10, VIZ_SET_SPEED = 1 << 11,
    VIZ_SET_DIGIT = 1 << 12, VIZ_SET_DATASET = 1 << 13, VIZ_SET_TRAILS = 1 << 14, VIZ_SET_X0 = 1 << 15,
    VIZ_SET_FIELD = 1 << 16, VIZ_SET_SNAPSHOT = 1 << 17, VIZ_SET_VARIANCE = 1 << 18,
    /* B's values: eta_b=, steps_b=, ... */
    VIZ_SET_B_ETA = 1 << 19, VIZ_SET_B_STEPS = 1 << 20, VIZ_SET_B_SCHEDULE = 1 << 21, VIZ_SET_B_SPACING = 1 << 22,
    VIZ_SET_B_SAMPLER = 1 << 23, VIZ_SET_B_CLIP = 1 << 24, VIZ_SET_B_VARIANCE = 1 << 25,
    VIZ_SET_STUDY_ETA = 1 << 26, VIZ_SET_STUDY_STEPS = 1 << 27, VIZ_SET_STUDY_N = 1 << 28,
    VIZ_SET_ROUNDTRIP = 1 << 29,
};

/* A --set list: parameter values, and settings that are not sampling
 * parameters. */
typedef struct viz_settings {
    viz_params params;
    unsigned set;         /* VIZ_SET_* of the params given */
    char model_name[VIZ_MODEL_NAME_MAX];  /* "" = unchanged */
    char model_b_name[VIZ_MODEL_NAME_MAX];/* B's model (model_b=); "" = unchanged */
    int phase;            /* -1 unchanged, 0 forward, 1 reverse */
    double frame;         /* reverse frame (step index); -1 unchanged, 1e9 = the end */
    int forward_t;        /* forward-panel t; -1 unchanged */
    int playing;          /* -1 unchanged, 0, 1 */
    int lecture, help, fps, controls;   /* -1 unchanged, 0, 1 */
    int train_tab;        /* the training panel: -1 unchanged, 0 filmstrip, 1 loss */
    int probe_x, probe_y; /* the pixel probe: -2 unchanged, -1 off, else the pixel */
    int rtcurve;          /* rtcurve=1: compute the round trip's error against t (-1 unchanged) */
    char draw_png[512];   /* draw=FILE: a PNG as the drawing (the forward x0); draw=blank: an
                             empty canvas, open for drawing; draw=off: the dataset's digits;
                             "" unchanged */
    int world;            /* -1 unchanged, else viz_world */
} viz_settings;

/* Initialises the optional settings to "unchanged" around p. */
void viz_settings_init(viz_settings *s, const viz_params *p);

/* Copies the params that s gave into p. */
void viz_settings_apply(const viz_settings *s, viz_params *p);

/* Applies "eta=0.5,steps=20,schedule=cosine,mode=compare,..." to s.  Keys:
 * eta, steps, schedule, spacing, sampler, seed, clip, mode (single|grid|
 * compare), compare (sampler|eta|steps|schedule), decomp, focus, speed, digit,
 * model, phase (forward|reverse), frame (a step index or "end"), t (forward
 * t), play, lecture, help, fps, controls, train_tab (filmstrip|loss); the 2D world: world (images|2d),
 * dataset (moons|swissroll|gaussians8|checkerboard|rings|drawn), trails,
 * x0 (off|cloud|lines), field (score|x0); the comparison's B: compare
 * (sampler|eta|steps|schedule|model|spacing|variance|clip) picks what differs,
 * and model_b, sampler_b, eta_b, steps_b, spacing_b, schedule_b, variance_b,
 * clip_b give B's value of it; the study (mode=study): study_eta and
 * study_steps (lists: "study_eta=0,0.5,1,study_steps=10,50": an item
 * without '=' continues the list before it), study_n.  A bad key or value is DDPM_ERR
 * with a message naming it and the valid choices; s is then unspecified.
 * Steps only have to be >= 1 here: the app checks them against the model's
 * T once it is loaded (and `ddpm viz` exits with 2 when they exceed it). */
int viz_settings_parse(viz_settings *s, const char *spec, ddpm_error *err);

/* The params as a --set spec that viz_settings_parse reads back to the same
 * values (doubles in %.17g): what a bookmark and a recording's start keep.
 * Not in it: the model (its name is the app's), the playhead and the
 * window's toggles (viz_app_state_spec adds them), a drawn point set.
 * DDPM_ERR when cap is too small. */
int viz_params_format(const viz_params *p, char *buf, size_t cap);

#endif
