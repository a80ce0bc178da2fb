/* viz_params.c: slider state -> sampler and schedule configurations (pure). */
#include "viz_params.h"
#include "cli_util.h"
#include "ddpm/history.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void viz_params_default(viz_params *p, const ddpm_schedule_config *model_schedule)
{
    memset(p, 0, sizeof *p);
    const ddpm_sampler_config c = ddpm_sampler_config_for_model(false, model_schedule->T); /* = ddpm sample's */
    p->eta = c.eta;
    p->steps = c.steps;
    p->schedule = model_schedule->kind;
    p->spacing = c.spacing;
    p->sampler = c.sampler;
    p->clip_x0 = c.clip_x0;
    p->variance = c.variance;
    p->seed = 0;
    p->view = VIZ_VIEW_SINGLE;
    p->compare = VIZ_COMPARE_SAMPLER;
    p->speed = 20.0;
    p->snapshot = -1;
    /* B: the other value of each setting, the one a lecture contrasts first */
    p->b.model = 0; /* the app picks another model than A's once it knows the list */
    p->b.sampler = DDPM_SAMPLER_DDPM;
    p->b.eta = 1.0;
    p->b.steps = 10 < model_schedule->T ? 10 : model_schedule->T;
    p->b.spacing = DDPM_SPACING_TRAILING;
    p->b.schedule = (ddpm_schedule_kind)((model_schedule->kind + 1) % DDPM_SCHEDULE_COUNT);
    p->b.variance = DDPM_VARIANCE_LARGE;
    p->b.clip_x0 = !p->clip_x0;
    /* the study: the seeds' lab task 3 at a size that fills in within a minute */
    static const double etas[] = {0.0, 0.5, 1.0};
    static const int steps[] = {10, 20, 50};
    p->n_study_eta = 3;
    p->n_study_steps = 3;
    memcpy(p->study_eta, etas, sizeof etas);
    memcpy(p->study_steps, steps, sizeof steps);
    p->study_n = 100;
}

void viz_params_default_points(viz_params *p, const ddpm_schedule_config *model_schedule)
{
    viz_params_default(p, model_schedule);
    p->world = VIZ_WORLD_POINTS;
    p->dataset = DDPM_POINTS_MOONS;
    const ddpm_sampler_config c = ddpm_sampler_config_for_model(true, model_schedule->T);
    p->sampler = c.sampler;
    p->steps = c.steps;
    p->speed = 200.0;
    p->trails = true;
    p->x0_show = VIZ_X0_LINES;
    p->field = VIZ_FIELD_SCORE;
}

static int clamp_int(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

void viz_params_clamp(viz_params *p, int T, int n_models, int n_digits)
{
    DDPM_ASSERT(T >= 1);
    p->steps = clamp_int(p->steps, 1, T);
    if (!(p->eta >= 0.0)) p->eta = 0.0; /* also NaN */
    if (p->eta > 1.0) p->eta = 1.0;
    if ((int)p->schedule < 0 || p->schedule >= DDPM_SCHEDULE_COUNT) p->schedule = 0;
    if ((int)p->spacing < 0 || p->spacing >= DDPM_SPACING_COUNT) p->spacing = 0;
    if ((int)p->sampler < 0 || p->sampler >= DDPM_SAMPLER_COUNT) p->sampler = 0;
    if ((int)p->variance < 0 || p->variance >= DDPM_VARIANCE_COUNT) p->variance = 0;
    if ((int)p->view < 0 || p->view >= VIZ_VIEW_COUNT) p->view = 0;
    if ((int)p->compare < 0 || p->compare >= VIZ_COMPARE_COUNT) p->compare = 0;
    viz_b_values *b = &p->b;
    b->steps = clamp_int(b->steps, 1, T); /* a B model of another T: viz_job_sides clamps to its own */
    if (!(b->eta >= 0.0)) b->eta = 0.0;
    if (b->eta > 1.0) b->eta = 1.0;
    if ((int)b->schedule < 0 || b->schedule >= DDPM_SCHEDULE_COUNT) b->schedule = 0;
    if ((int)b->spacing < 0 || b->spacing >= DDPM_SPACING_COUNT) b->spacing = 0;
    if ((int)b->sampler < 0 || b->sampler >= DDPM_SAMPLER_COUNT) b->sampler = 0;
    if ((int)b->variance < 0 || b->variance >= DDPM_VARIANCE_COUNT) b->variance = 0;
    b->model = n_models > 0 ? clamp_int(b->model, 0, n_models - 1) : 0;
    p->n_study_eta = clamp_int(p->n_study_eta, 1, VIZ_STUDY_MAX);
    p->n_study_steps = clamp_int(p->n_study_steps, 1, VIZ_STUDY_MAX);
    for (int i = 0; i < p->n_study_eta; i++)
        p->study_eta[i] = !(p->study_eta[i] >= 0.0) ? 0.0 : p->study_eta[i] > 1.0 ? 1.0 : p->study_eta[i];
    for (int i = 0; i < p->n_study_steps; i++) p->study_steps[i] = clamp_int(p->study_steps[i], 1, T);
    p->study_n = clamp_int(p->study_n, VIZ_STUDY_SHOW, VIZ_STUDY_N_MAX);
    p->focus = clamp_int(p->focus, 0, VIZ_GRID_N - 1);
    p->roundtrip_t = clamp_int(p->roundtrip_t, 0, T - 1);
    if (p->snapshot < -1) p->snapshot = -1; /* its top: the app knows the history's length */
    if ((int)p->world < 0 || p->world >= VIZ_WORLD_COUNT) p->world = 0;
    if (p->world == VIZ_WORLD_POINTS && (p->view == VIZ_VIEW_GRID || p->view == VIZ_VIEW_STUDY))
        p->view = VIZ_VIEW_SINGLE; /* a cloud is its own grid; the study scores digits */
    if (p->world == VIZ_WORLD_POINTS) p->clip_x0 = false; /* [-1, 1] is an image's range, not a point's */
    p->dataset = clamp_int(p->dataset, 0, VIZ_DATASET_COUNT - 1);
    if ((int)p->x0_show < 0 || p->x0_show >= VIZ_X0_COUNT) p->x0_show = 0;
    if ((int)p->field < 0 || p->field >= VIZ_FIELD_COUNT) p->field = 0;
    if (!(p->speed >= VIZ_SPEED_MIN)) p->speed = VIZ_SPEED_MIN;
    if (p->speed > VIZ_SPEED_MAX) p->speed = VIZ_SPEED_MAX;
    p->model = n_models > 0 ? clamp_int(p->model, 0, n_models - 1) : 0;
    if (n_digits > 0) {
        p->digit %= n_digits;
        if (p->digit < 0) p->digit += n_digits;
    } else {
        p->digit = 0;
    }
}

ddpm_sampler_config viz_sampler_config(const viz_params *p)
{
    ddpm_sampler_config c = ddpm_sampler_config_default();
    c.sampler = p->sampler;
    c.steps = p->steps;
    c.eta = p->sampler == DDPM_SAMPLER_DDIM ? p->eta : 0.0;
    c.spacing = p->spacing;
    c.clip_x0 = p->clip_x0;
    c.variance = p->variance;
    return c;
}

ddpm_schedule_config viz_schedule_config(const viz_params *p, const ddpm_schedule_config *model)
{
    ddpm_schedule_config c = *model;
    c.kind = p->schedule;
    return c;
}

bool viz_schedule_mismatch(const viz_params *p, const ddpm_schedule_config *model)
{
    return p->schedule != model->kind;
}

/* ---- steps slider ------------------------------------------------------------ */

int viz_steps_from_unit(double u, int T)
{
    DDPM_ASSERT(T >= 1);
    if (!(u > 0.0)) return 1;
    if (u >= 1.0) return T;
    int s = (int)lround(exp(u * log((double)T)));
    return clamp_int(s, 1, T);
}

double viz_steps_to_unit(int steps, int T)
{
    DDPM_ASSERT(T >= 1);
    steps = clamp_int(steps, 1, T);
    if (T == 1) return 1.0;
    return log((double)steps) / log((double)T);
}

int viz_steps_ladder(int steps, int T, int dir)
{
    static const int ladder[] = {1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 4000};
    const int n = (int)(sizeof ladder / sizeof ladder[0]);
    steps = clamp_int(steps, 1, T);
    if (dir > 0) {
        for (int i = 0; i < n; i++)
            if (ladder[i] > steps && ladder[i] < T) return ladder[i];
        return T;
    }
    if (dir < 0) {
        int best = 1;
        for (int i = 0; i < n; i++)
            if (ladder[i] < steps && ladder[i] <= T) best = ladder[i];
        return best;
    }
    return steps;
}

int viz_nearest_frame(const int *t, int n, int target)
{
    DDPM_ASSERT(t && n >= 1);
    int best = 0;
    for (int k = 1; k < n; k++)
        if (abs(t[k] - target) < abs(t[best] - target)) best = k;
    return best;
}

int viz_nearest_level(const double *abar, int n, double target)
{
    DDPM_ASSERT(abar && n >= 1);
    int best = 0;
    for (int k = 1; k < n; k++)
        if (fabs(abar[k] - target) < fabs(abar[best] - target)) best = k;
    return best;
}

/* ---- jobs ------------------------------------------------------------------------ */

static void side_label(viz_side *s)
{
    const char *sched = ddpm_schedule_name(s->schedule.kind);
    if (s->cfg.sampler == DDPM_SAMPLER_DDIM) {
        snprintf(s->label, sizeof s->label, "DDIM \xCE\xB7=%.2g, %d steps, %s", s->cfg.eta, s->cfg.steps, sched);
        snprintf(s->label_ascii, sizeof s->label_ascii, "DDIM eta=%.2g, %d steps, %s", s->cfg.eta, s->cfg.steps, sched);
    } else {
        /* the large variance (beta) is the exception, and named */
        const bool large = s->cfg.variance == DDPM_VARIANCE_LARGE;
        snprintf(s->label, sizeof s->label, "DDPM%s, %d steps, %s", large ? " \xCF\x83\xC2\xB2=\xCE\xB2" : "",
                 s->cfg.steps, sched);
        snprintf(s->label_ascii, sizeof s->label_ascii, "DDPM%s, %d steps, %s", large ? " sigma^2=beta" : "",
                 s->cfg.steps, sched);
    }
}

/* One side from a full set of sliders. */
static viz_side side_of(const viz_params *q, const ddpm_schedule_config *model)
{
    viz_side s = {.model = q->model, .cfg = viz_sampler_config(q), .schedule = viz_schedule_config(q, model)};
    s.cfg.steps = clamp_int(s.cfg.steps, 1, model->T);
    side_label(&s);
    return s;
}

int viz_job_sides(const viz_params *p, const ddpm_schedule_config *model, int T,
                  const ddpm_schedule_config *model_b, viz_side out[VIZ_MAX_SIDES])
{
    ddpm_schedule_config ma = *model;
    ma.T = T;
    if (p->view != VIZ_VIEW_COMPARE) {
        out[0] = side_of(p, &ma);
        return 1;
    }
    viz_params A = *p, B = *p; /* B = A but for the compared setting */
    const ddpm_schedule_config *mb = &ma;
    ddpm_schedule_config other;
    switch (p->compare) {
    case VIZ_COMPARE_SAMPLER: B.sampler = p->b.sampler; break;
    case VIZ_COMPARE_ETA:
        A.sampler = B.sampler = DDPM_SAMPLER_DDIM; /* eta is DDIM's */
        B.eta = p->b.eta;
        break;
    case VIZ_COMPARE_STEPS: B.steps = p->b.steps; break;
    case VIZ_COMPARE_SCHEDULE: B.schedule = p->b.schedule; break;
    case VIZ_COMPARE_SPACING: B.spacing = p->b.spacing; break;
    case VIZ_COMPARE_VARIANCE:
        A.sampler = B.sampler = DDPM_SAMPLER_DDPM; /* the variance is DDPM's */
        B.variance = p->b.variance;
        break;
    case VIZ_COMPARE_CLIP: B.clip_x0 = p->b.clip_x0; break;
    case VIZ_COMPARE_MODEL:
        B.model = p->b.model;
        if (model_b) {
            other = *model_b;
            mb = &other;
            /* A on its own model's schedule: B on its own; else both on A's kind */
            B.schedule = p->schedule == ma.kind ? model_b->kind : p->schedule;
        }
        break;
    default: break;
    }
    out[0] = side_of(&A, &ma);
    out[1] = side_of(&B, mb);
    return 2;
}

void viz_side_name_model(viz_side *s, const char *name)
{
    snprintf(s->model_name, sizeof s->model_name, "%.31s", name);
    char l[sizeof s->label];
    snprintf(l, sizeof l, "%s", s->label);
    snprintf(s->label, sizeof s->label, "%.24s: %.68s", name, l);
    snprintf(l, sizeof l, "%s", s->label_ascii);
    snprintf(s->label_ascii, sizeof s->label_ascii, "%.24s: %.68s", name, l);
}

static void append(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t cap, const char *fmt, ...)
{
    const size_t n = strlen(buf);
    if (n + 3 >= cap) return;
    if (n) snprintf(buf + n, cap - n, ", ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + strlen(buf), cap - strlen(buf), fmt, ap);
    va_end(ap);
}

void viz_side_diff(const viz_side *s, const viz_side *o, char *buf, size_t cap)
{
    const ddpm_sampler_config *x = &s->cfg, *y = &o->cfg;
    buf[0] = '\0';
    if (s->model != o->model) append(buf, cap, "%s", s->model_name[0] ? s->model_name : "another model");
    if (x->sampler != y->sampler) append(buf, cap, "%s", x->sampler == DDPM_SAMPLER_DDIM ? "DDIM" : "DDPM");
    if (x->sampler == DDPM_SAMPLER_DDIM && (x->eta != y->eta || x->sampler != y->sampler))
        append(buf, cap, "\xCE\xB7=%.2g", x->eta);
    if (x->steps != y->steps) append(buf, cap, "%d steps", x->steps);
    if (x->spacing != y->spacing) append(buf, cap, "%s spacing", ddpm_spacing_name(x->spacing));
    if (s->schedule.kind != o->schedule.kind) append(buf, cap, "%s", ddpm_schedule_name(s->schedule.kind));
    if (s->schedule.T != o->schedule.T) append(buf, cap, "T=%d", s->schedule.T);
    if (x->sampler == DDPM_SAMPLER_DDPM && x->variance != y->variance)
        append(buf, cap, "\xCF\x83\xC2\xB2=%s", x->variance == DDPM_VARIANCE_LARGE ? "\xCE\xB2" : "\xCE\xB2\xCC\x83");
    if (x->clip_x0 != y->clip_x0) append(buf, cap, "clip %s", x->clip_x0 ? "on" : "off");
    if (!buf[0]) snprintf(buf, cap, "same");
}

bool viz_sides_identical(const viz_side *a, const viz_side *b)
{
    const ddpm_sampler_config *x = &a->cfg, *y = &b->cfg;
    return a->model == b->model && x->sampler == y->sampler && x->steps == y->steps && x->spacing == y->spacing &&
           x->clip_x0 == y->clip_x0 && (x->sampler != DDPM_SAMPLER_DDIM || x->eta == y->eta) &&
           (x->sampler != DDPM_SAMPLER_DDPM || x->variance == y->variance) &&
           memcmp(&a->schedule, &b->schedule, sizeof a->schedule) == 0;
}

int viz_job_batch(const viz_params *p)
{
    if (p->world == VIZ_WORLD_POINTS) return VIZ_POINTS_N;
    return p->view == VIZ_VIEW_SINGLE ? 1 : p->view == VIZ_VIEW_COMPARE ? VIZ_COMPARE_N : VIZ_GRID_N;
}

int viz_job_start_t(const viz_params *p)
{
    return p->world == VIZ_WORLD_IMAGES && p->view == VIZ_VIEW_SINGLE ? p->roundtrip_t : 0;
}

int64_t viz_job_first_index(const viz_params *p)
{
    return p->world == VIZ_WORLD_IMAGES && p->view == VIZ_VIEW_SINGLE ? p->focus : 0;
}

bool viz_params_same_study(const viz_params *a, const viz_params *b)
{
    return a->model == b->model && a->snapshot == b->snapshot && a->seed == b->seed && a->sampler == b->sampler &&
           a->spacing == b->spacing && a->variance == b->variance && a->clip_x0 == b->clip_x0 &&
           a->n_study_eta == b->n_study_eta && a->n_study_steps == b->n_study_steps && a->study_n == b->study_n &&
           memcmp(a->study_eta, b->study_eta, sizeof(double) * (size_t)a->n_study_eta) == 0 &&
           memcmp(a->study_steps, b->study_steps, sizeof(int) * (size_t)a->n_study_steps) == 0;
}

bool viz_params_same_job(const viz_params *a, const viz_params *b)
{
    if (a->view != b->view || a->world != b->world) return false;
    /* a round trip starts from the digit: another digit or t is another job */
    if (viz_job_start_t(a) != viz_job_start_t(b) || (viz_job_start_t(a) > 0 && a->digit != b->digit)) return false;
    if (a->world == VIZ_WORLD_IMAGES && a->view == VIZ_VIEW_SINGLE && a->focus != b->focus) return false;
    if (a->view == VIZ_VIEW_COMPARE && (a->compare != b->compare || memcmp(&a->b, &b->b, sizeof a->b) != 0))
        return false;
    /* DDPM ignores eta, but a re-run is cheap and keeps the rule simple */
    return a->eta == b->eta && a->steps == b->steps && a->schedule == b->schedule &&
           a->spacing == b->spacing && a->sampler == b->sampler && a->clip_x0 == b->clip_x0 &&
           a->variance == b->variance && a->seed == b->seed && a->model == b->model && a->snapshot == b->snapshot;
}

uint64_t viz_seed_step(uint64_t seed, int dir)
{
    return dir >= 0 ? seed + 1 : seed - 1; /* wraps, deliberately: every u64 is a seed */
}

const char *viz_view_name(viz_view v)
{
    static const char *names[] = {"single", "grid", "compare", "study"};
    return (int)v >= 0 && v < VIZ_VIEW_COUNT ? names[v] : "?";
}

const char *viz_world_name(viz_world w)
{
    static const char *names[] = {"images", "2d"};
    return (int)w >= 0 && w < VIZ_WORLD_COUNT ? names[w] : "?";
}

const char *viz_dataset_name(int dataset)
{
    return dataset >= 0 && dataset < DDPM_POINTS_COUNT ? ddpm_points_name((ddpm_points_kind)dataset)
           : dataset == VIZ_DATASET_DRAWN ? "drawn" : "?";
}

static const char *const compare_names[VIZ_COMPARE_COUNT] = {"sampler", "eta",     "steps",    "schedule",
                                                              "model",   "spacing", "variance", "clip"};

const char *viz_compare_name(viz_compare c)
{
    return (int)c >= 0 && c < VIZ_COMPARE_COUNT ? compare_names[c] : "?";
}

void viz_compare_title(const viz_params *p, const char *model_a, const char *model_b, char *buf, size_t cap)
{
    static const char *const samplers[] = {"DDPM", "DDIM"};
    const viz_b_values *b = &p->b;
    switch (p->compare) {
    case VIZ_COMPARE_SAMPLER: snprintf(buf, cap, "%s vs %s", samplers[p->sampler], samplers[b->sampler]); break;
    case VIZ_COMPARE_ETA: snprintf(buf, cap, "\xCE\xB7 %.2g vs %.2g", p->eta, b->eta); break;
    case VIZ_COMPARE_STEPS: snprintf(buf, cap, "%d vs %d steps", p->steps, b->steps); break;
    case VIZ_COMPARE_SCHEDULE:
        snprintf(buf, cap, "%s vs %s", ddpm_schedule_name(p->schedule), ddpm_schedule_name(b->schedule));
        break;
    case VIZ_COMPARE_MODEL: snprintf(buf, cap, "%s vs %s", model_a, model_b); break;
    case VIZ_COMPARE_SPACING:
        snprintf(buf, cap, "%s vs %s", ddpm_spacing_name(p->spacing), ddpm_spacing_name(b->spacing));
        break;
    case VIZ_COMPARE_VARIANCE:
        snprintf(buf, cap, "\xCF\x83\xC2\xB2 %s vs %s", p->variance == DDPM_VARIANCE_LARGE ? "\xCE\xB2" : "\xCE\xB2\xCC\x83",
                 b->variance == DDPM_VARIANCE_LARGE ? "\xCE\xB2" : "\xCE\xB2\xCC\x83");
        break;
    case VIZ_COMPARE_CLIP: snprintf(buf, cap, "clip %s vs %s", p->clip_x0 ? "on" : "off", b->clip_x0 ? "on" : "off"); break;
    default: snprintf(buf, cap, "?"); break;
    }
}

/* ---- --set ------------------------------------------------------------------------- */

void viz_settings_init(viz_settings *s, const viz_params *p)
{
    memset(s, 0, sizeof *s);
    s->params = *p;
    s->phase = -1;
    s->frame = -1;
    s->forward_t = -1;
    s->playing = s->lecture = s->help = s->fps = s->controls = s->train_tab = -1;
    s->probe_x = s->probe_y = -2;
    s->rtcurve = -1;
    s->world = -1;
}

void viz_settings_apply(const viz_settings *s, viz_params *p)
{
    const viz_params *q = &s->params;
    if (s->set & VIZ_SET_ETA) p->eta = q->eta;
    if (s->set & VIZ_SET_STEPS) p->steps = q->steps;
    if (s->set & VIZ_SET_SCHEDULE) p->schedule = q->schedule;
    if (s->set & VIZ_SET_SPACING) p->spacing = q->spacing;
    if (s->set & VIZ_SET_SAMPLER) p->sampler = q->sampler;
    if (s->set & VIZ_SET_SEED) p->seed = q->seed;
    if (s->set & VIZ_SET_CLIP) p->clip_x0 = q->clip_x0;
    if (s->set & VIZ_SET_VARIANCE) p->variance = q->variance;
    if (s->set & VIZ_SET_VIEW) p->view = q->view;
    if (s->set & VIZ_SET_COMPARE) p->compare = q->compare;
    if (s->set & VIZ_SET_DECOMP) p->decomposition = q->decomposition;
    if (s->set & VIZ_SET_FOCUS) p->focus = q->focus;
    if (s->set & VIZ_SET_SPEED) p->speed = q->speed;
    if (s->set & VIZ_SET_DIGIT) p->digit = q->digit;
    if (s->set & VIZ_SET_ROUNDTRIP) p->roundtrip_t = q->roundtrip_t;
    if (s->set & VIZ_SET_DATASET) p->dataset = q->dataset;
    if (s->set & VIZ_SET_TRAILS) p->trails = q->trails;
    if (s->set & VIZ_SET_X0) p->x0_show = q->x0_show;
    if (s->set & VIZ_SET_FIELD) p->field = q->field;
    if (s->set & VIZ_SET_SNAPSHOT) p->snapshot = q->snapshot;
    if (s->set & VIZ_SET_B_ETA) p->b.eta = q->b.eta;
    if (s->set & VIZ_SET_B_STEPS) p->b.steps = q->b.steps;
    if (s->set & VIZ_SET_B_SCHEDULE) p->b.schedule = q->b.schedule;
    if (s->set & VIZ_SET_B_SPACING) p->b.spacing = q->b.spacing;
    if (s->set & VIZ_SET_B_SAMPLER) p->b.sampler = q->b.sampler;
    if (s->set & VIZ_SET_B_CLIP) p->b.clip_x0 = q->b.clip_x0;
    if (s->set & VIZ_SET_B_VARIANCE) p->b.variance = q->b.variance;
    if (s->set & VIZ_SET_STUDY_ETA) {
        p->n_study_eta = q->n_study_eta;
        memcpy(p->study_eta, q->study_eta, sizeof p->study_eta);
    }
    if (s->set & VIZ_SET_STUDY_STEPS) {
        p->n_study_steps = q->n_study_steps;
        memcpy(p->study_steps, q->study_steps, sizeof p->study_steps);
    }
    if (s->set & VIZ_SET_STUDY_N) p->study_n = q->study_n;
}

static int parse_long(const char *key, const char *v, long lo, long hi, long *out, ddpm_error *err)
{
    char *end = NULL;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (end == v || *end || errno == ERANGE)
        return ddpm_fail(err, "--set %s=%s: expected an integer", key, v);
    if (x < lo || x > hi) return ddpm_fail(err, "--set %s=%s is out of range; use %ld..%ld", key, v, lo, hi);
    *out = x;
    return DDPM_OK;
}

static int parse_double(const char *key, const char *v, double lo, double hi, double *out,
                        ddpm_error *err)
{
    char *end = NULL;
    double x = strtod(v, &end);
    if (end == v || *end || !isfinite(x)) return ddpm_fail(err, "--set %s=%s: expected a number", key, v);
    if (x < lo || x > hi) return ddpm_fail(err, "--set %s=%s is out of range; use %g..%g", key, v, lo, hi);
    *out = x;
    return DDPM_OK;
}

static int parse_bool(const char *key, const char *v, int *out, ddpm_error *err)
{
    if (!strcmp(v, "1") || !strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes")) *out = 1;
    else if (!strcmp(v, "0") || !strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no")) *out = 0;
    else return ddpm_fail(err, "--set %s=%s: expected 0/1 (or on/off)", key, v);
    return DDPM_OK;
}

static int parse_choice(const char *key, const char *v, const char *const *names, int n, int *out,
                        ddpm_error *err)
{
    for (int i = 0; i < n; i++)
        if (strcmp(v, names[i]) == 0) {
            *out = i;
            return DDPM_OK;
        }
    char list[256] = "";
    for (int i = 0; i < n; i++) {
        strncat(list, names[i], sizeof list - strlen(list) - 1);
        if (i + 1 < n) strncat(list, ", ", sizeof list - strlen(list) - 1);
    }
    return ddpm_fail(err, "--set %s=%s: unknown value; use one of %s", key, v, list);
}

static int apply_one(viz_settings *s, const char *key, const char *v, ddpm_error *err);

/* key_b=v: B's value, parsed as A's key would be into a scratch copy, then
 * moved into p->b. */
static int apply_b(viz_settings *s, const char *key, const char *v, ddpm_error *err)
{
    static const struct {
        const char *key;
        unsigned a_bit, b_bit;
    } keys[] = {{"eta", VIZ_SET_ETA, VIZ_SET_B_ETA},
                {"steps", VIZ_SET_STEPS, VIZ_SET_B_STEPS},
                {"schedule", VIZ_SET_SCHEDULE, VIZ_SET_B_SCHEDULE},
                {"spacing", VIZ_SET_SPACING, VIZ_SET_B_SPACING},
                {"sampler", VIZ_SET_SAMPLER, VIZ_SET_B_SAMPLER},
                {"variance", VIZ_SET_VARIANCE, VIZ_SET_B_VARIANCE},
                {"clip", VIZ_SET_CLIP, VIZ_SET_B_CLIP},
                {"model", 0, 0}};
    const size_t n = strlen(key) - 2;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (strlen(keys[i].key) != n || strncmp(key, keys[i].key, n) != 0) continue;
        viz_settings tmp;
        viz_settings_init(&tmp, &s->params);
        if (apply_one(&tmp, keys[i].key, v, err) != DDPM_OK) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            /* the message names the key as A's: say B's */
            const char *at = strstr(msg, keys[i].key);
            return at ? ddpm_fail(err, "%.*s%s_b%s", (int)(at - msg), msg, keys[i].key, at + n)
                      : ddpm_fail(err, "%s", msg);
        }
        if (!keys[i].a_bit) {
            snprintf(s->model_b_name, sizeof s->model_b_name, "%s", tmp.model_name);
            return DDPM_OK;
        }
        const viz_params *q = &tmp.params;
        viz_b_values *b = &s->params.b;
        switch (keys[i].a_bit) {
        case VIZ_SET_ETA: b->eta = q->eta; break;
        case VIZ_SET_STEPS: b->steps = q->steps; break;
        case VIZ_SET_SCHEDULE: b->schedule = q->schedule; break;
        case VIZ_SET_SPACING: b->spacing = q->spacing; break;
        case VIZ_SET_SAMPLER: b->sampler = q->sampler; break;
        case VIZ_SET_VARIANCE: b->variance = q->variance; break;
        default: b->clip_x0 = q->clip_x0; break;
        }
        s->set |= keys[i].b_bit;
        return DDPM_OK;
    }
    return ddpm_fail(err, "--set: unknown key '%s'; B's keys (the comparison): model_b, sampler_b, eta_b, steps_b, "
                          "spacing_b, schedule_b, variance_b, clip_b", key);
}

static int apply_one(viz_settings *s, const char *key, const char *v, ddpm_error *err)
{
    const size_t kl = strlen(key);
    if (kl > 2 && !strcmp(key + kl - 2, "_b")) return apply_b(s, key, v, err);
    viz_params *p = &s->params;
    long l = 0;
    int b = 0, c = 0;
    if (!strcmp(key, "eta")) {
        s->set |= VIZ_SET_ETA;
        return parse_double(key, v, 0.0, 1.0, &p->eta, err);
    }
    if (!strcmp(key, "steps")) {
        if (parse_long(key, v, 1, DDPM_T_MAX, &l, err)) return DDPM_ERR;
        p->steps = (int)l;
        s->set |= VIZ_SET_STEPS;
        return DDPM_OK;
    }
    if (!strcmp(key, "schedule")) {
        ddpm_schedule_kind k;
        if (ddpm_schedule_parse(v, &k, err)) return ddpm_fail_context(err, "--set schedule");
        p->schedule = k;
        s->set |= VIZ_SET_SCHEDULE;
        return DDPM_OK;
    }
    if (!strcmp(key, "spacing")) {
        ddpm_spacing k;
        if (ddpm_spacing_parse(v, &k, err)) return ddpm_fail_context(err, "--set spacing");
        p->spacing = k;
        s->set |= VIZ_SET_SPACING;
        return DDPM_OK;
    }
    if (!strcmp(key, "sampler")) {
        ddpm_sampler_kind k;
        if (ddpm_sampler_parse(v, &k, err)) return ddpm_fail_context(err, "--set sampler");
        p->sampler = k;
        s->set |= VIZ_SET_SAMPLER;
        return DDPM_OK;
    }
    if (!strcmp(key, "variance")) {
        ddpm_variance k;
        if (ddpm_variance_parse(v, &k, err)) return ddpm_fail_context(err, "--set variance");
        p->variance = k;
        s->set |= VIZ_SET_VARIANCE;
        return DDPM_OK;
    }
    if (!strcmp(key, "study_eta")) {
        s->set |= VIZ_SET_STUDY_ETA;
        return ddpm_cli_parse_etas(v, "--set study_eta", p->study_eta, VIZ_STUDY_MAX, &p->n_study_eta, err);
    }
    if (!strcmp(key, "study_steps")) {
        s->set |= VIZ_SET_STUDY_STEPS;
        return ddpm_cli_parse_steps(v, "--set study_steps", p->study_steps, VIZ_STUDY_MAX, &p->n_study_steps, err);
    }
    if (!strcmp(key, "study_n")) {
        if (parse_long(key, v, VIZ_STUDY_SHOW, VIZ_STUDY_N_MAX, &l, err)) return DDPM_ERR;
        p->study_n = (int)l;
        s->set |= VIZ_SET_STUDY_N;
        return DDPM_OK;
    }
    if (!strcmp(key, "seed")) {
        char *end = NULL;
        errno = 0;
        unsigned long long x = strtoull(v, &end, 10);
        if (v[0] == '-' || end == v || *end || errno == ERANGE)
            return ddpm_fail(err, "--set seed=%s: expected a non-negative integer", v);
        p->seed = (uint64_t)x;
        s->set |= VIZ_SET_SEED;
        return DDPM_OK;
    }
    if (!strcmp(key, "clip")) {
        if (parse_bool(key, v, &b, err)) return DDPM_ERR;
        p->clip_x0 = b;
        s->set |= VIZ_SET_CLIP;
        return DDPM_OK;
    }
    if (!strcmp(key, "mode") || !strcmp(key, "view")) {
        static const char *const names[] = {"single", "grid", "compare", "study"};
        if (parse_choice(key, v, names, VIZ_VIEW_COUNT, &c, err)) return DDPM_ERR;
        p->view = (viz_view)c;
        s->set |= VIZ_SET_VIEW;
        return DDPM_OK;
    }
    if (!strcmp(key, "compare")) {
        if (parse_choice(key, v, compare_names, VIZ_COMPARE_COUNT, &c, err)) return DDPM_ERR;
        p->compare = (viz_compare)c;
        s->set |= VIZ_SET_COMPARE;
        return DDPM_OK;
    }
    if (!strcmp(key, "decomp") || !strcmp(key, "decomposition")) {
        if (parse_bool(key, v, &b, err)) return DDPM_ERR;
        p->decomposition = b;
        s->set |= VIZ_SET_DECOMP;
        return DDPM_OK;
    }
    if (!strcmp(key, "focus")) {
        if (parse_long(key, v, 0, VIZ_GRID_N - 1, &l, err)) return DDPM_ERR;
        p->focus = (int)l;
        s->set |= VIZ_SET_FOCUS;
        return DDPM_OK;
    }
    if (!strcmp(key, "speed")) {
        s->set |= VIZ_SET_SPEED;
        return parse_double(key, v, VIZ_SPEED_MIN, VIZ_SPEED_MAX, &p->speed, err);
    }
    if (!strcmp(key, "digit")) {
        if (parse_long(key, v, 0, 1000000000L, &l, err)) return DDPM_ERR;
        p->digit = (int)l;
        s->set |= VIZ_SET_DIGIT;
        return DDPM_OK;
    }
    if (!strcmp(key, "model")) {
        if (strlen(v) >= sizeof s->model_name)
            return ddpm_fail(err, "--set model=%s: name too long", v);
        snprintf(s->model_name, sizeof s->model_name, "%s", v);
        return DDPM_OK;
    }
    if (!strcmp(key, "world")) {
        static const char *const names[] = {"images", "2d"};
        if (!strcmp(v, "points") || !strcmp(v, "2D")) v = "2d";
        if (!strcmp(v, "digits")) v = "images";
        if (parse_choice(key, v, names, VIZ_WORLD_COUNT, &c, err)) return DDPM_ERR;
        s->world = c;
        return DDPM_OK;
    }
    if (!strcmp(key, "dataset")) {
        static const char *const names[] = {"moons", "swissroll", "gaussians8", "checkerboard", "rings", "drawn"};
        if (parse_choice(key, v, names, VIZ_DATASET_COUNT, &c, err)) return DDPM_ERR;
        p->dataset = c;
        s->set |= VIZ_SET_DATASET;
        if (s->world < 0) s->world = VIZ_WORLD_POINTS; /* a point set means the 2D world */
        return DDPM_OK;
    }
    if (!strcmp(key, "snapshot")) {
        if (!strcmp(v, "now")) l = -1;
        else if (parse_long(key, v, 0, DDPM_HISTORY_MAX - 1, &l, err)) return DDPM_ERR;
        p->snapshot = (int)l;
        s->set |= VIZ_SET_SNAPSHOT;
        return DDPM_OK;
    }
    if (!strcmp(key, "trails")) {
        if (parse_bool(key, v, &b, err)) return DDPM_ERR;
        p->trails = b;
        s->set |= VIZ_SET_TRAILS;
        return DDPM_OK;
    }
    if (!strcmp(key, "x0")) {
        static const char *const names[] = {"off", "cloud", "lines"};
        if (parse_choice(key, v, names, VIZ_X0_COUNT, &c, err)) return DDPM_ERR;
        p->x0_show = (viz_x0_show)c;
        s->set |= VIZ_SET_X0;
        return DDPM_OK;
    }
    if (!strcmp(key, "field")) {
        static const char *const names[] = {"score", "x0"};
        if (parse_choice(key, v, names, VIZ_FIELD_COUNT, &c, err)) return DDPM_ERR;
        p->field = (viz_field)c;
        s->set |= VIZ_SET_FIELD;
        return DDPM_OK;
    }
    if (!strcmp(key, "phase")) {
        static const char *const names[] = {"forward", "reverse"};
        if (parse_choice(key, v, names, 2, &c, err)) return DDPM_ERR;
        s->phase = c;
        return DDPM_OK;
    }
    if (!strcmp(key, "draw")) {
        if (!v[0] || strlen(v) >= sizeof s->draw_png) return ddpm_fail(err, "--set draw=%s: expected a PNG file's path", v);
        snprintf(s->draw_png, sizeof s->draw_png, "%s", v);
        return DDPM_OK;
    }
    if (!strcmp(key, "probe")) { /* probe=X:Y (columns, rows from the top left) or off */
        if (!strcmp(v, "off")) {
            s->probe_x = s->probe_y = -1;
            return DDPM_OK;
        }
        int px = -1, py = -1, used = 0;
        if (sscanf(v, "%d:%d%n", &px, &py, &used) != 2 || v[used] || px < 0 || py < 0 || px > 4096 || py > 4096)
            return ddpm_fail(err, "--set probe=%s: expected X:Y (a pixel, e.g. 14:10) or off", v);
        s->probe_x = px, s->probe_y = py;
        return DDPM_OK;
    }
    if (!strcmp(key, "roundtrip")) {
        if (parse_long(key, v, 0, DDPM_T_MAX - 1, &l, err)) return DDPM_ERR;
        p->roundtrip_t = (int)l;
        s->set |= VIZ_SET_ROUNDTRIP;
        return DDPM_OK;
    }
    if (!strcmp(key, "train_tab")) {
        static const char *const names[] = {"filmstrip", "loss"};
        if (parse_choice(key, v, names, 2, &c, err)) return DDPM_ERR;
        s->train_tab = c;
        return DDPM_OK;
    }
    if (!strcmp(key, "frame")) {
        if (!strcmp(v, "end")) {
            s->frame = 1e9;
            return DDPM_OK;
        }
        if (parse_long(key, v, 0, DDPM_T_MAX, &l, err)) return DDPM_ERR;
        s->frame = (double)l;
        return DDPM_OK;
    }
    if (!strcmp(key, "t")) {
        if (parse_long(key, v, 0, DDPM_T_MAX - 1, &l, err)) return DDPM_ERR;
        s->forward_t = (int)l;
        return DDPM_OK;
    }
    int *flag = !strcmp(key, "play") ? &s->playing : !strcmp(key, "lecture") ? &s->lecture
              : !strcmp(key, "help") ? &s->help : !strcmp(key, "fps") ? &s->fps
              : !strcmp(key, "controls") ? &s->controls : !strcmp(key, "rtcurve") ? &s->rtcurve : NULL;
    if (flag) return parse_bool(key, v, flag, err);
    return ddpm_fail(err,
                     "--set: unknown key '%s'; valid keys: eta, steps, schedule, spacing, sampler, variance, "
                     "seed, clip, mode, compare, decomp, focus, speed, digit, model, phase, frame, "
                     "t, play, lecture, help, fps, controls, train_tab, roundtrip, rtcurve, probe, draw, world, dataset, trails, x0, field, snapshot, "
                     "the comparison's B: model_b, sampler_b, eta_b, steps_b, spacing_b, schedule_b, "
                     "variance_b, clip_b; the study: study_eta, study_steps, study_n",
                     key);
}

int viz_settings_parse(viz_settings *s, const char *spec, ddpm_error *err)
{
    char buf[4096]; /* a whole state (viz_params_format) is under 1 kB */
    if (strlen(spec) >= sizeof buf) return ddpm_fail(err, "--set: the list is too long (max %zu bytes)", sizeof buf - 1);
    snprintf(buf, sizeof buf, "%s", spec);
    /* items without '=' after a list key continue its list: study_eta=0,0.5,1 */
    char *save = NULL, *next = NULL;
    for (char *item = strtok_r(buf, ",", &save); item; item = next) {
        next = strtok_r(NULL, ",", &save);
        while (*item == ' ') item++;
        if (!*item) continue;
        char *eq = strchr(item, '=');
        if (!eq || eq == item || !eq[1])
            return ddpm_fail(err, "--set: '%s' is not key=value (example: --set eta=0.5,steps=20)", item);
        *eq = '\0';
        char list[1024];
        if (!strcmp(item, "study_eta") || !strcmp(item, "study_steps")) {
            snprintf(list, sizeof list, "%s", eq + 1);
            for (; next && !strchr(next, '='); next = strtok_r(NULL, ",", &save)) {
                strncat(list, ",", sizeof list - strlen(list) - 1);
                strncat(list, next, sizeof list - strlen(list) - 1);
            }
            if (apply_one(s, item, list, err) != DDPM_OK) return DDPM_ERR;
            continue;
        }
        if (apply_one(s, item, eq + 1, err) != DDPM_OK) return DDPM_ERR;
    }
    return DDPM_OK;
}

/* ---- the settings as text (bookmarks, recordings) ----------------------------------- */

static void appendf(char *buf, size_t cap, size_t *used, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void appendf(char *buf, size_t cap, size_t *used, const char *fmt, ...)
{
    if (*used >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *used, cap - *used, fmt, ap);
    va_end(ap);
    *used += k > 0 ? (size_t)k : 0;
}

int viz_params_format(const viz_params *p, char *buf, size_t cap)
{
    static const char *const x0_names[] = {"off", "cloud", "lines"}, *const field_names[] = {"score", "x0"};
    size_t u = 0;
    if (cap) buf[0] = '\0';
    /* %.17g: a double reads back exactly */
    appendf(buf, cap, &u, "world=%s,eta=%.17g,steps=%d,schedule=%s,spacing=%s,sampler=%s,variance=%s,clip=%d,seed=%llu",
            viz_world_name(p->world), p->eta, p->steps, ddpm_schedule_name(p->schedule), ddpm_spacing_name(p->spacing),
            ddpm_sampler_name(p->sampler), ddpm_variance_name(p->variance), p->clip_x0 ? 1 : 0,
            (unsigned long long)p->seed);
    appendf(buf, cap, &u, ",mode=%s,compare=%s,decomp=%d,focus=%d,speed=%.17g,digit=%d,roundtrip=%d",
            viz_view_name(p->view), viz_compare_name(p->compare), p->decomposition ? 1 : 0, p->focus, p->speed, p->digit,
            p->roundtrip_t);
    if (p->snapshot >= 0) appendf(buf, cap, &u, ",snapshot=%d", p->snapshot);
    else appendf(buf, cap, &u, ",snapshot=now");
    appendf(buf, cap, &u, ",eta_b=%.17g,steps_b=%d,schedule_b=%s,spacing_b=%s,sampler_b=%s,variance_b=%s,clip_b=%d",
            p->b.eta, p->b.steps, ddpm_schedule_name(p->b.schedule), ddpm_spacing_name(p->b.spacing),
            ddpm_sampler_name(p->b.sampler), ddpm_variance_name(p->b.variance), p->b.clip_x0 ? 1 : 0);
    if (p->world == VIZ_WORLD_POINTS)
        appendf(buf, cap, &u, ",dataset=%s,trails=%d,x0=%s,field=%s", viz_dataset_name(p->dataset), p->trails ? 1 : 0,
                x0_names[(int)p->x0_show >= 0 && p->x0_show < VIZ_X0_COUNT ? p->x0_show : 0],
                field_names[(int)p->field >= 0 && p->field < VIZ_FIELD_COUNT ? p->field : 0]);
    appendf(buf, cap, &u, ",study_eta=");
    for (int i = 0; i < p->n_study_eta; i++) appendf(buf, cap, &u, "%s%.17g", i ? "," : "", p->study_eta[i]);
    appendf(buf, cap, &u, ",study_steps=");
    for (int i = 0; i < p->n_study_steps; i++) appendf(buf, cap, &u, "%s%d", i ? "," : "", p->study_steps[i]);
    appendf(buf, cap, &u, ",study_n=%d", p->study_n);
    return u < cap ? DDPM_OK : DDPM_ERR;
}
