/* test_ui_params.c: the slider -> scheduler wiring of `ddpm viz` (pure
 * functions, no SDL): slider edges, clamping when T changes, spacing and
 * sampler mapping, locked-noise seed handling, the mismatch badge, the
 * comparison presets, --set parsing and the timeline. */
#include <string.h>

#include "check.h"
#include "viz_params.h"
#include "viz_playback.h"

static ddpm_schedule_config model_sched(ddpm_schedule_kind kind, int T)
{
    ddpm_schedule_config c = ddpm_schedule_config_default();
    c.kind = kind;
    c.T = T;
    return c;
}

static void test_defaults_and_mapping(void)
{
    ddpm_schedule_config m = model_sched(DDPM_SCHEDULE_COSINE, 1000);
    viz_params p;
    viz_params_default(&p, &m);
    CHECK(p.schedule == DDPM_SCHEDULE_COSINE, "the default schedule is the model's");
    CHECK(!viz_schedule_mismatch(&p, &m), "no badge by default");
    CHECK(p.steps == 50 && p.eta == 0.0 && p.sampler == DDPM_SAMPLER_DDIM, "DDIM-50, eta 0");

    p.sampler = DDPM_SAMPLER_DDIM;
    p.spacing = DDPM_SPACING_TRAILING;
    p.eta = 0.7;
    p.steps = 20;
    p.clip_x0 = true;
    ddpm_sampler_config c = viz_sampler_config(&p);
    CHECK(c.sampler == DDPM_SAMPLER_DDIM && c.spacing == DDPM_SPACING_TRAILING, "sampler/spacing");
    CHECK(c.eta == 0.7 && c.steps == 20 && c.clip_x0, "eta %g steps %d", c.eta, c.steps);
    ddpm_error err = {0};
    CHECK(ddpm_sampler_config_validate(&c, 1000, &err) == DDPM_OK, "%s", err.msg);

    for (int s = 0; s < DDPM_SPACING_COUNT; s++) {
        p.spacing = (ddpm_spacing)s;
        CHECK(viz_sampler_config(&p).spacing == (ddpm_spacing)s, "spacing %d maps through", s);
    }
    p.sampler = DDPM_SAMPLER_DDPM;
    c = viz_sampler_config(&p);
    CHECK(c.sampler == DDPM_SAMPLER_DDPM && c.eta == 0.0, "DDPM ignores the eta slider");

    /* the schedule slider keeps the model's T and beta range */
    m.beta_start = 2e-4;
    m.beta_end = 0.03;
    p.schedule = DDPM_SCHEDULE_SIGMOID;
    ddpm_schedule_config sc = viz_schedule_config(&p, &m);
    CHECK(sc.kind == DDPM_SCHEDULE_SIGMOID && sc.T == 1000 && sc.beta_start == 2e-4 &&
              sc.beta_end == 0.03, "schedule config");
    CHECK(viz_schedule_mismatch(&p, &m), "sigmoid vs cosine shows the badge");
    p.schedule = DDPM_SCHEDULE_COSINE;
    CHECK(!viz_schedule_mismatch(&p, &m), "same kind: no badge");
    for (int k = 0; k < DDPM_SCHEDULE_COUNT; k++) {
        p.schedule = (ddpm_schedule_kind)k;
        CHECK(viz_schedule_mismatch(&p, &m) == (k != DDPM_SCHEDULE_COSINE), "badge for kind %d", k);
    }
}

static void test_slider_edges(void)
{
    const int Ts[] = {2, 10, 1000, 4000};
    for (int i = 0; i < 4; i++) {
        int T = Ts[i];
        CHECK(viz_steps_from_unit(0.0, T) == 1, "left edge is 1 step (T=%d)", T);
        CHECK(viz_steps_from_unit(-0.5, T) == 1, "past the left edge");
        CHECK(viz_steps_from_unit(1.0, T) == T, "right edge is T (T=%d): %d", T, viz_steps_from_unit(1.0, T));
        CHECK(viz_steps_from_unit(1.7, T) == T, "past the right edge");
        CHECK(viz_steps_from_unit(0.0 / 0.0, T) == 1, "NaN");
        int last = 1;
        for (int j = 0; j <= 1000; j++) {
            int s = viz_steps_from_unit(j / 1000.0, T);
            CHECK(s >= last && s >= 1 && s <= T, "monotone at u=%g (T=%d)", j / 1000.0, T);
            last = s;
        }
        CHECK(viz_steps_to_unit(1, T) == 0.0 && viz_steps_to_unit(T, T) == 1.0, "inverse edges");
        for (int s = 1; s <= T; s += (T > 100 ? 37 : 1))
            CHECK(viz_steps_from_unit(viz_steps_to_unit(s, T), T) == s, "round trip %d (T=%d)", s, T);
        CHECK(viz_steps_to_unit(T + 50, T) == 1.0, "clamped inverse");
    }
    /* the [ and ] ladder */
    CHECK(viz_steps_ladder(50, 1000, +1) == 100, "50 -> 100");
    CHECK(viz_steps_ladder(50, 1000, -1) == 25, "50 -> 25");
    CHECK(viz_steps_ladder(1, 1000, -1) == 1, "stays at 1");
    CHECK(viz_steps_ladder(1000, 1000, +1) == 1000, "stays at T");
    CHECK(viz_steps_ladder(500, 1000, +1) == 1000, "500 -> T");
    CHECK(viz_steps_ladder(37, 1000, +1) == 50, "37 -> 50");
    CHECK(viz_steps_ladder(30, 40, +1) == 40, "to T when no rung is left");

    /* eta edges and NaN */
    ddpm_schedule_config m = model_sched(DDPM_SCHEDULE_LINEAR, 1000);
    viz_params p;
    viz_params_default(&p, &m);
    p.eta = 1.0;
    viz_params_clamp(&p, 1000, 1, 10);
    CHECK(p.eta == 1.0, "eta = 1 stays");
    p.eta = 0.0;
    viz_params_clamp(&p, 1000, 1, 10);
    CHECK(p.eta == 0.0, "eta = 0 stays");
    p.eta = 1.5;
    viz_params_clamp(&p, 1000, 1, 10);
    CHECK(p.eta == 1.0, "eta clamps to 1");
    p.eta = 0.0 / 0.0;
    viz_params_clamp(&p, 1000, 1, 10);
    CHECK(p.eta == 0.0, "NaN eta becomes 0");
    p.eta = -3;
    viz_params_clamp(&p, 1000, 1, 10);
    CHECK(p.eta == 0.0, "negative eta");

    /* both edges give valid sampler configs, for both samplers */
    ddpm_error err = {0};
    const int steps[] = {1, 1000};
    const double etas[] = {0.0, 1.0};
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++)
            for (int smp = 0; smp < DDPM_SAMPLER_COUNT; smp++)
                for (int sp = 0; sp < DDPM_SPACING_COUNT; sp++) {
                    p.steps = steps[a];
                    p.eta = etas[b];
                    p.sampler = (ddpm_sampler_kind)smp;
                    p.spacing = (ddpm_spacing)sp;
                    ddpm_sampler_config c = viz_sampler_config(&p);
                    CHECK(ddpm_sampler_config_validate(&c, 1000, &err) == DDPM_OK, "%s", err.msg);
                    int ts[1000];
                    CHECK(ddpm_timesteps(1000, &c, ts, &err) == steps[a], "S=%d: %s", steps[a], err.msg);
                }
}

static void test_clamp_when_T_changes(void)
{
    ddpm_schedule_config m = model_sched(DDPM_SCHEDULE_LINEAR, 1000);
    viz_params p;
    viz_params_default(&p, &m);
    p.steps = 1000;
    viz_params_clamp(&p, 100, 3, 10); /* a model with T = 100 was selected */
    CHECK(p.steps == 100, "steps clamp to the new T: %d", p.steps);
    p.steps = 0;
    viz_params_clamp(&p, 100, 3, 10);
    CHECK(p.steps == 1, "at least one step");
    p.steps = -7;
    viz_params_clamp(&p, 2, 3, 10);
    CHECK(p.steps == 1, "negative steps");
    p.steps = 50;
    viz_params_clamp(&p, 4000, 3, 10);
    CHECK(p.steps == 50, "a larger T keeps the steps");

    /* viz_job_sides clamps too, even for unclamped params */
    p.steps = 900;
    viz_side sides[2];
    ddpm_schedule_config small = model_sched(DDPM_SCHEDULE_LINEAR, 100);
    CHECK(viz_job_sides(&p, &small, 100, NULL, sides) == 1 && sides[0].cfg.steps == 100, "job steps clamp");

    /* enums and indices */
    p.schedule = (ddpm_schedule_kind)99;
    p.spacing = (ddpm_spacing)-1;
    p.sampler = (ddpm_sampler_kind)7;
    p.view = (viz_view)42;
    p.focus = 99;
    p.model = 5;
    p.digit = -1;
    p.speed = 0;
    viz_params_clamp(&p, 1000, 3, 10);
    CHECK(p.schedule == 0 && p.spacing == 0 && p.sampler == 0 && p.view == 0, "enums reset");
    CHECK(p.focus == VIZ_GRID_N - 1 && p.model == 2, "focus %d model %d", p.focus, p.model);
    CHECK(p.digit == 9, "digit -1 wraps to the last: %d", p.digit);
    CHECK(p.speed == VIZ_SPEED_MIN, "speed");
    p.digit = 10;
    viz_params_clamp(&p, 1000, 3, 10);
    CHECK(p.digit == 0, "digit wraps to 0");
}

static void test_locked_noise_jobs(void)
{
    ddpm_schedule_config m = model_sched(DDPM_SCHEDULE_LINEAR, 1000);
    viz_params a, b;
    viz_params_default(&a, &m);
    a.seed = 1234;
    b = a;
    CHECK(viz_params_same_job(&a, &b), "identical");
    b.speed = 100;
    b.digit = 5;
    b.decomposition = true;
    CHECK(viz_params_same_job(&a, &b), "speed, digit and the decomposition switch do not re-sample");
    b = a;
    b.eta = 0.5;
    CHECK(!viz_params_same_job(&a, &b), "eta re-samples");
    CHECK(b.seed == a.seed && viz_job_first_index(&b) == viz_job_first_index(&a),
          "... from the same seed and index (locked noise)");
    b = a;
    b.steps = 10;
    CHECK(!viz_params_same_job(&a, &b) && b.seed == a.seed, "steps re-sample, same seed");
    b = a;
    b.seed = viz_seed_step(a.seed, +1);
    CHECK(!viz_params_same_job(&a, &b) && b.seed == 1235, "R gives a new seed");
    CHECK(viz_seed_step(b.seed, -1) == a.seed, "and back");
    CHECK(viz_seed_step(0, -1) == UINT64_MAX, "seeds wrap");

    /* single view = grid sample `focus`, with the same noise index */
    a.view = VIZ_VIEW_SINGLE;
    a.focus = 7;
    CHECK(viz_job_batch(&a) == 1 && viz_job_first_index(&a) == 7, "single view shows sample 7");
    a.view = VIZ_VIEW_GRID;
    CHECK(viz_job_batch(&a) == VIZ_GRID_N && viz_job_first_index(&a) == 0, "grid from 0");
    a.view = VIZ_VIEW_COMPARE;
    CHECK(viz_job_batch(&a) == VIZ_COMPARE_N && viz_job_first_index(&a) == 0, "comparison: the first 4 of the grid");
    a.view = VIZ_VIEW_GRID;
    b = a;
    b.focus = 3;
    CHECK(viz_params_same_job(&a, &b), "focus in the grid changes nothing sampled");
    a.view = b.view = VIZ_VIEW_SINGLE;
    CHECK(!viz_params_same_job(&a, &b), "focus in the single view does");
}

/* Every field of a side that a comparison can differ in, as numbers, so
 * that "only the compared one differs" is checked field by field. */
enum { F_MODEL, F_SAMPLER, F_ETA, F_STEPS, F_SPACING, F_SCHEDULE, F_VARIANCE, F_CLIP, F_T, F_N };
static void side_fields(const viz_side *s, double f[F_N])
{
    f[F_MODEL] = s->model;
    f[F_SAMPLER] = s->cfg.sampler;
    f[F_ETA] = s->cfg.eta;
    f[F_STEPS] = s->cfg.steps;
    f[F_SPACING] = s->cfg.spacing;
    f[F_SCHEDULE] = s->schedule.kind;
    f[F_VARIANCE] = s->cfg.variance;
    f[F_CLIP] = s->cfg.clip_x0;
    f[F_T] = s->schedule.T;
}

/* A and B: B is A with the compared setting from p.b, everything else follows A. */
static void test_compare_ab(void)
{
    ddpm_schedule_config m = model_sched(DDPM_SCHEDULE_LINEAR, 1000);
    ddpm_schedule_config mb = model_sched(DDPM_SCHEDULE_COSINE, 500); /* B's model: another T and schedule */
    viz_params p;
    viz_params_default(&p, &m);
    p.view = VIZ_VIEW_COMPARE;
    viz_side s[2];
    /* the defaults of B: the contrast a lecture makes first */
    p.compare = VIZ_COMPARE_SAMPLER;
    viz_job_sides(&p, &m, 1000, &mb, s);
    CHECK(s[0].cfg.sampler == DDPM_SAMPLER_DDIM && s[1].cfg.sampler == DDPM_SAMPLER_DDPM, "DDIM vs DDPM");
    p.compare = VIZ_COMPARE_ETA;
    viz_job_sides(&p, &m, 1000, &mb, s);
    CHECK(s[0].cfg.eta == 0.0 && s[1].cfg.eta == 1.0, "eta 0 vs 1");
    p.compare = VIZ_COMPARE_STEPS;
    viz_job_sides(&p, &m, 1000, &mb, s);
    CHECK(s[0].cfg.steps == 50 && s[1].cfg.steps == 10, "50 vs 10 steps");
    p.compare = VIZ_COMPARE_SCHEDULE;
    viz_job_sides(&p, &m, 1000, &mb, s);
    CHECK(s[0].schedule.kind == DDPM_SCHEDULE_LINEAR && s[1].schedule.kind != DDPM_SCHEDULE_LINEAR, "two schedules");

    /* A: unusual values everywhere; B: another value of every setting */
    p.eta = 0.3;
    p.steps = 30;
    p.spacing = DDPM_SPACING_LINSPACE;
    p.clip_x0 = false;
    p.model = 0;
    p.b = (viz_b_values){.model = 2, .sampler = DDPM_SAMPLER_DDPM, .eta = 0.8, .steps = 7,
                         .spacing = DDPM_SPACING_TRAILING, .schedule = DDPM_SCHEDULE_SIGMOID,
                         .variance = DDPM_VARIANCE_LARGE, .clip_x0 = true};
    static const struct {
        viz_compare c;
        int field;
    } cases[] = {{VIZ_COMPARE_SAMPLER, F_SAMPLER},   {VIZ_COMPARE_ETA, F_ETA},     {VIZ_COMPARE_STEPS, F_STEPS},
                 {VIZ_COMPARE_SCHEDULE, F_SCHEDULE}, {VIZ_COMPARE_MODEL, F_MODEL}, {VIZ_COMPARE_SPACING, F_SPACING},
                 {VIZ_COMPARE_VARIANCE, F_VARIANCE}, {VIZ_COMPARE_CLIP, F_CLIP}};
    CHECK(sizeof cases / sizeof cases[0] == VIZ_COMPARE_COUNT, "every comparison is tested");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        p.compare = cases[i].c;
        const char *what = viz_compare_name(cases[i].c);
        for (int sampler = 0; sampler < DDPM_SAMPLER_COUNT; sampler++) {
            p.sampler = (ddpm_sampler_kind)sampler;
            CHECK(viz_job_sides(&p, &m, 1000, &mb, s) == 2, "%s: two sides", what);
            double fa[F_N], fb[F_N];
            side_fields(&s[0], fa);
            side_fields(&s[1], fb);
            /* the sampler a comparison needs: eta is DDIM's, the variance DDPM's */
            const int need = cases[i].c == VIZ_COMPARE_ETA ? DDPM_SAMPLER_DDIM
                           : cases[i].c == VIZ_COMPARE_VARIANCE ? DDPM_SAMPLER_DDPM : sampler;
            CHECK(fa[F_SAMPLER] == need, "%s: A's sampler %g", what, fa[F_SAMPLER]);
            for (int f = 0; f < F_N; f++) {
                if (f == cases[i].field) continue;
                if (cases[i].c == VIZ_COMPARE_MODEL && (f == F_T || f == F_SCHEDULE || f == F_STEPS)) continue;
                if (f == F_ETA && (fa[F_SAMPLER] == DDPM_SAMPLER_DDPM || fb[F_SAMPLER] == DDPM_SAMPLER_DDPM)) continue; /* DDPM has none */
                CHECK(fa[f] == fb[f], "%s (A %s): field %d differs: %g vs %g", what, sampler ? "DDIM" : "DDPM", f,
                      fa[f], fb[f]);
            }
            /* the compared one is B's value (DDPM ignores eta: 0) */
            const double want[F_N] = {[F_MODEL] = 2,       [F_SAMPLER] = DDPM_SAMPLER_DDPM, [F_ETA] = 0.8,
                                      [F_STEPS] = 7,       [F_SPACING] = DDPM_SPACING_TRAILING,
                                      [F_SCHEDULE] = DDPM_SCHEDULE_SIGMOID, [F_VARIANCE] = DDPM_VARIANCE_LARGE,
                                      [F_CLIP] = 1};
            const int f = cases[i].field;
            CHECK(fb[f] == want[f] || (f == F_SAMPLER && sampler == DDPM_SAMPLER_DDPM), "%s: B's value %g", what,
                  fb[f]);
            CHECK(!viz_sides_identical(&s[0], &s[1]) || (f == F_SAMPLER && sampler == DDPM_SAMPLER_DDPM),
                  "%s: the sides differ", what);
        }
        /* A's sliders move both sides, unless it is the compared setting */
        viz_params q = p;
        q.sampler = DDPM_SAMPLER_DDIM;
        q.steps = 40;
        q.seed = 99;
        viz_side t[2];
        viz_job_sides(&q, &m, 1000, &mb, t);
        if (cases[i].c != VIZ_COMPARE_STEPS && cases[i].c != VIZ_COMPARE_MODEL)
            CHECK(t[0].cfg.steps == 40 && t[1].cfg.steps == 40, "%s: steps follow A", what);
        CHECK(!viz_params_same_job(&p, &q), "%s: a new job", what);
        /* B's value of another setting changes nothing */
        q = p;
        if (cases[i].c != VIZ_COMPARE_ETA) q.b.eta = 0.1;
        else q.b.steps = 3;
        viz_job_sides(&q, &m, 1000, &mb, t);
        CHECK(memcmp(&t[1].cfg, &s[1].cfg, sizeof t[1].cfg) == 0 || cases[i].c == VIZ_COMPARE_SAMPLER ||
                  p.sampler == DDPM_SAMPLER_DDPM,
              "%s: B's unused values are unused", what);
        CHECK(!viz_params_same_job(&p, &q), "%s: but a changed B is a new job (kept simple)", what);
    }

    /* models: each on its own schedule, steps clamped to each T */
    p.compare = VIZ_COMPARE_MODEL;
    p.sampler = DDPM_SAMPLER_DDIM;
    p.steps = 800;
    p.schedule = DDPM_SCHEDULE_LINEAR; /* A's model's own */
    viz_job_sides(&p, &m, 1000, &mb, s);
    CHECK(s[0].schedule.T == 1000 && s[1].schedule.T == 500, "each model's T");
    CHECK(s[0].schedule.kind == DDPM_SCHEDULE_LINEAR && s[1].schedule.kind == DDPM_SCHEDULE_COSINE,
          "each model's own schedule");
    CHECK(s[0].cfg.steps == 800 && s[1].cfg.steps == 500, "steps clamp to B's T: %d", s[1].cfg.steps);
    p.schedule = DDPM_SCHEDULE_SIGMOID; /* a lesson on A: it holds on B too */
    viz_job_sides(&p, &m, 1000, &mb, s);
    CHECK(s[0].schedule.kind == DDPM_SCHEDULE_SIGMOID && s[1].schedule.kind == DDPM_SCHEDULE_SIGMOID,
          "A's schedule when it is not its model's");
    viz_side_name_model(&s[1], "v-linear");
    CHECK(strncmp(s[1].label, "v-linear: ", 10) == 0 && strstr(s[1].label_ascii, "DDIM eta="), "%s", s[1].label);
    p.b.model = p.model;
    p.schedule = DDPM_SCHEDULE_LINEAR;
    viz_job_sides(&p, &m, 1000, &m, s);
    CHECK(viz_sides_identical(&s[0], &s[1]), "B = A is noticed (the view says so)");

    char title[96];
    p.compare = VIZ_COMPARE_STEPS;
    p.steps = 50;
    viz_compare_title(&p, "eps-linear", "v-linear", title, sizeof title);
    CHECK(strcmp(title, "50 vs 7 steps") == 0, "%s", title);
    p.compare = VIZ_COMPARE_MODEL;
    viz_compare_title(&p, "eps-linear", "v-linear", title, sizeof title);
    CHECK(strcmp(title, "eps-linear vs v-linear") == 0, "%s", title);

    p.view = VIZ_VIEW_GRID;
    CHECK(viz_job_sides(&p, &m, 1000, &mb, s) == 1, "one side outside the comparison view");
}

/* --set's B keys: compare=model,model_b=..., eta_b=, steps_b=, ... */
static void test_settings_b(void)
{
    ddpm_schedule_config m = model_sched(DDPM_SCHEDULE_LINEAR, 1000);
    viz_params p;
    viz_params_default(&p, &m);
    viz_settings s;
    ddpm_error err = {0};
    viz_settings_init(&s, &p);
    CHECK(viz_settings_parse(&s, "mode=compare,compare=model,model_b=v-linear,eta_b=0.25,steps_b=20,"
                                 "schedule_b=cosine,spacing_b=linspace,sampler_b=ddim,variance_b=small,clip_b=1",
                             &err) == DDPM_OK,
          "%s", err.msg);
    viz_params q = p;
    q.b.clip_x0 = false;
    q.b.sampler = DDPM_SAMPLER_DDPM;
    viz_settings_apply(&s, &q);
    CHECK(q.compare == VIZ_COMPARE_MODEL && strcmp(s.model_b_name, "v-linear") == 0, "model_b");
    CHECK(q.b.eta == 0.25 && q.b.steps == 20 && q.b.schedule == DDPM_SCHEDULE_COSINE, "eta_b steps_b schedule_b");
    CHECK(q.b.spacing == DDPM_SPACING_LINSPACE && q.b.sampler == DDPM_SAMPLER_DDIM, "spacing_b sampler_b");
    CHECK(q.b.variance == DDPM_VARIANCE_SMALL && q.b.clip_x0, "variance_b clip_b");
    CHECK(q.eta == p.eta && q.steps == p.steps && q.schedule == p.schedule && q.clip_x0 == p.clip_x0,
          "B's keys leave A alone");
    for (int c = 0; c < VIZ_COMPARE_COUNT; c++) {
        char spec[64];
        snprintf(spec, sizeof spec, "compare=%s", viz_compare_name((viz_compare)c));
        viz_settings_init(&s, &p);
        CHECK(viz_settings_parse(&s, spec, &err) == DDPM_OK && (int)s.params.compare == c, "%s: %s", spec, err.msg);
    }
    /* the study's lists: an item without '=' continues the list before it */
    viz_settings_init(&s, &p);
    CHECK(viz_settings_parse(&s, "study_eta=0,0.25,1,study_steps=5,50,eta=0.3,study_n=64", &err) == DDPM_OK, "%s",
          err.msg);
    q = p;
    viz_settings_apply(&s, &q);
    CHECK(q.n_study_eta == 3 && q.study_eta[1] == 0.25 && q.n_study_steps == 2 && q.study_steps[1] == 50,
          "study lists");
    CHECK(q.eta == 0.3 && q.study_n == 64, "keys after a list still parse");
    viz_params u = q;
    u.study_steps[1] = 20;
    CHECK(!viz_params_same_study(&q, &u) && viz_params_same_study(&q, &q), "another list is another study");
    u = q;
    u.eta = 0.9; /* the study's rows give eta */
    CHECK(viz_params_same_study(&q, &u), "A's eta does not change the study");
    const char *bad_lists[] = {"study_eta=0,2", "study_steps=0", "study_steps=1,2,3,4,5,6,7", "study_n=2"};
    for (size_t i = 0; i < sizeof bad_lists / sizeof bad_lists[0]; i++) {
        viz_settings_init(&s, &p);
        CHECK(viz_settings_parse(&s, bad_lists[i], &err) == DDPM_ERR && strstr(err.msg, "study"), "'%s': %s",
              bad_lists[i], err.msg);
    }
    const char *bad[] = {"eta_b=2", "steps_b=0", "schedule_b=cubic", "digit_b=3", "clip_b=maybe", "_b=1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        viz_settings_init(&s, &p);
        err.msg[0] = '\0';
        CHECK(viz_settings_parse(&s, bad[i], &err) == DDPM_ERR, "'%s' must be rejected", bad[i]);
        char key[16];
        snprintf(key, sizeof key, "%.*s", (int)(strchr(bad[i], '=') - bad[i]), bad[i]);
        CHECK(strstr(err.msg, key) != NULL, "'%s': the message names %s: %s", bad[i], key, err.msg);
    }
}

static void test_settings(void)
{
    ddpm_schedule_config m = model_sched(DDPM_SCHEDULE_LINEAR, 1000);
    viz_params p;
    viz_params_default(&p, &m);
    viz_settings s;
    ddpm_error err = {0};
    viz_settings_init(&s, &p);
    CHECK(viz_settings_parse(&s, "eta=0.5,steps=20,schedule=cosine,mode=compare,compare=eta,"
                                 "spacing=trailing,sampler=ddpm,seed=42,decomp=1,frame=end,"
                                 "phase=reverse,lecture=on,model=v-linear,t=300,focus=3,speed=7.5",
                             &err) == DDPM_OK,
          "%s", err.msg);
    CHECK(s.params.eta == 0.5 && s.params.steps == 20, "eta/steps");
    CHECK(s.params.schedule == DDPM_SCHEDULE_COSINE && s.params.view == VIZ_VIEW_COMPARE, "schedule/mode");
    CHECK(s.params.compare == VIZ_COMPARE_ETA && s.params.spacing == DDPM_SPACING_TRAILING, "compare/spacing");
    CHECK(s.params.sampler == DDPM_SAMPLER_DDPM && s.params.seed == 42 && s.params.decomposition, "sampler/seed/decomp");
    CHECK(s.frame == 1e9 && s.phase == 1 && s.lecture == 1 && s.forward_t == 300, "view settings");
    CHECK(strcmp(s.model_name, "v-linear") == 0 && s.params.focus == 3 && s.params.speed == 7.5, "model");
    /* DDPM's variance reaches the sampler; the seeds' schedule name is linear */
    CHECK(p.variance == DDPM_VARIANCE_SMALL, "small (beta~) is the default");
    viz_settings_init(&s, &p);
    CHECK(viz_settings_parse(&s, "sampler=ddpm,variance=large,schedule=sqrt_linear", &err) == DDPM_OK, "%s", err.msg);
    viz_params q = p;
    viz_settings_apply(&s, &q);
    CHECK(viz_sampler_config(&q).variance == DDPM_VARIANCE_LARGE && q.schedule == DDPM_SCHEDULE_LINEAR,
          "variance=large, schedule=sqrt_linear");
    viz_params q2 = q;
    q2.variance = DDPM_VARIANCE_SMALL;
    CHECK(!viz_params_same_job(&q2, &q) && viz_params_same_job(&q, &q), "another variance is another job");

    const char *bad[] = {"eta=2", "eta=-0.1", "eta=abc", "steps=0", "steps=x", "schedule=cubic",
                         "mode=movie", "colour=red", "eta", "=3", "seed=-1", "spacing=middle",
                         "sampler=euler", "decomp=maybe", "focus=16", "frame=-2", "speed=0",
                         "eta=nan", "steps=99999", "variance=medium"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        viz_settings_init(&s, &p);
        err.msg[0] = '\0';
        CHECK(viz_settings_parse(&s, bad[i], &err) == DDPM_ERR, "'%s' must be rejected", bad[i]);
        CHECK(strlen(err.msg) > 10, "'%s' needs a message", bad[i]);
    }
    viz_settings_init(&s, &p);
    CHECK(viz_settings_parse(&s, "colour=red", &err) == DDPM_ERR && strstr(err.msg, "valid keys"),
          "unknown key lists the valid ones: %s", err.msg);
    viz_settings_init(&s, &p);
    CHECK(viz_settings_parse(&s, "", &err) == DDPM_OK && s.params.eta == p.eta, "empty is fine");
    /* edges are accepted */
    viz_settings_init(&s, &p);
    CHECK(viz_settings_parse(&s, "eta=0,steps=1", &err) == DDPM_OK && s.params.steps == 1, "%s", err.msg);
    CHECK(viz_settings_parse(&s, "eta=1,steps=4000", &err) == DDPM_OK && s.params.eta == 1.0, "%s", err.msg);
}

/* The comparison of 10 against 50 steps aligns the sides by t: the 10-step
 * side shows its visited frame nearest to the 50-step side's t. */
static void test_nearest_frame(void)
{
    ddpm_sampler_config c = ddpm_sampler_config_default();
    c.steps = 10;
    int ts10[11];
    ddpm_error err = {0};
    const int n10 = ddpm_timesteps(1000, &c, ts10, &err);
    CHECK(n10 == 10, "10 steps");
    ts10[10] = -1; /* frame S: clean */
    CHECK(ts10[0] == 900 && ts10[1] == 800, "leading spacing: 900, 800, ...");
    CHECK(viz_nearest_frame(ts10, 11, 840) == 1, "840 -> 800");
    CHECK(viz_nearest_frame(ts10, 11, 860) == 0, "860 -> 900");
    CHECK(viz_nearest_frame(ts10, 11, 850) == 0, "a tie goes to the noisier frame");
    CHECK(viz_nearest_frame(ts10, 11, 980) == 0, "above the first t");
    CHECK(viz_nearest_frame(ts10, 11, -1) == 10, "clean -> clean");
    CHECK(viz_nearest_frame(ts10, 11, 0) == 9, "t = 0 -> the last step");
    CHECK(viz_nearest_frame(ts10, 3, 0) == 2, "only the frames reached so far");
    for (int k = 0; k < 11; k++) CHECK(viz_nearest_frame(ts10, 11, ts10[k]) == k, "its own t -> itself");
}

static void test_playback(void)
{
    const int S = 50, T = 1000;
    viz_playback pb = viz_playback_initial();
    CHECK(pb.phase == VIZ_PHASE_REVERSE && viz_playback_frame(&pb, S) == 0 && !pb.playing, "initial");
    viz_playback_toggle(&pb, S, T);
    CHECK(pb.playing, "space plays");
    viz_playback_advance(&pb, 1.0, 20.0, S, T);
    CHECK(viz_playback_frame(&pb, S) == 20, "20 steps/s for 1 s: frame %d", viz_playback_frame(&pb, S));
    viz_playback_advance(&pb, 10.0, 20.0, S, T);
    CHECK(viz_playback_frame(&pb, S) == S && !pb.playing, "stops at x_0");
    viz_playback_toggle(&pb, S, T);
    CHECK(pb.playing && viz_playback_frame(&pb, S) == 0, "space at the end restarts");
    viz_playback_step(&pb, +1, 1, S, T);
    CHECK(!pb.playing && viz_playback_frame(&pb, S) == 1, "-> pauses and steps");
    viz_playback_step(&pb, -1, 5, S, T);
    CHECK(viz_playback_frame(&pb, S) == 0, "<- clamps at 0");
    viz_playback_seek(&pb, 1.0, S, T);
    CHECK(viz_playback_frame(&pb, S) == S, "scrub to the end");
    viz_playback_remap(&pb, S, 10);
    CHECK(viz_playback_frame(&pb, 10) == 10, "x_0 stays x_0 when steps change");
    viz_playback_seek(&pb, 0.5, 10, T);
    viz_playback_remap(&pb, 10, 100);
    CHECK(viz_playback_frame(&pb, 100) == 50, "half-way stays half-way: %d", viz_playback_frame(&pb, 100));
    viz_playback_seek(&pb, 0.0, 100, T);
    viz_playback_remap(&pb, 100, 1);
    CHECK(viz_playback_frame(&pb, 1) == 0, "x_T stays x_T");
    pb.pos = 99;
    viz_playback_remap(&pb, 100, 10);
    CHECK(viz_playback_frame(&pb, 10) == 9, "one before the end is not the end");

    /* forward phase continues into reverse */
    pb.phase = VIZ_PHASE_FORWARD;
    pb.pos = 0;
    pb.playing = true;
    viz_playback_advance(&pb, 1.0, 20.0, S, T);
    CHECK(pb.phase == VIZ_PHASE_FORWARD && viz_playback_forward_t(&pb, T) == 400,
          "forward covers T/S per step: t=%d", viz_playback_forward_t(&pb, T));
    CHECK(viz_playback_frame(&pb, S) == 0, "reverse shows x_T while forward plays");
    viz_playback_advance(&pb, 2.0, 20.0, S, T);
    CHECK(pb.phase == VIZ_PHASE_REVERSE && pb.playing, "then reverse");
    pb.phase = VIZ_PHASE_FORWARD;
    pb.pos = 0;
    /* one speed for both phases: at 0.25 steps/s and 50 steps the forward sweep
     * takes as long as the reverse run, 200 s (slow motion, issue 20) */
    viz_playback_advance(&pb, 100.0, 0.25, 50, T);
    CHECK(pb.phase == VIZ_PHASE_FORWARD && fabs(pb.pos - 500.0) < 1e-9, "slow motion: t=%g after 100 s", pb.pos);
    viz_playback_advance(&pb, 100.5, 0.25, 50, T);
    CHECK(pb.phase == VIZ_PHASE_REVERSE, "the sweep ends at S / speed = 200 s");
    pb.phase = VIZ_PHASE_FORWARD;
    pb.pos = 500;
    viz_playback_step(&pb, +1, 1, 50, T);
    CHECK(viz_playback_forward_t(&pb, T) == 520, "a key moves one sampler step of t");
    viz_playback_clamp(&pb, 50, 10);
    CHECK(viz_playback_forward_t(&pb, 10) == 9, "clamped to the new T");
}

/* A state written as text reads back to the same params, field by field
 * (bookmarks and recordings rely on it). */
static void test_params_format_roundtrip(void)
{
    ddpm_schedule_config sc = ddpm_schedule_config_default();
    for (int world = 0; world < 2; world++) {
        viz_params p;
        if (world) viz_params_default_points(&p, &sc);
        else viz_params_default(&p, &sc);
        /* values no default has: every field away from its default */
        p.eta = 0.1 + 0.2; /* not exactly 0.3: the text must keep all 17 digits */
        p.steps = 37, p.schedule = DDPM_SCHEDULE_COSINE, p.spacing = DDPM_SPACING_TRAILING;
        p.sampler = DDPM_SAMPLER_DDPM, p.variance = DDPM_VARIANCE_LARGE, p.clip_x0 = true;
        p.seed = 18446744073709551557ull, p.view = VIZ_VIEW_COMPARE, p.compare = VIZ_COMPARE_VARIANCE;
        p.decomposition = true, p.focus = 7, p.speed = 1.0 / 3.0, p.digit = 123, p.snapshot = 4;
        p.b.eta = 0.7, p.b.steps = 11, p.b.schedule = DDPM_SCHEDULE_SCALED_LINEAR, p.b.spacing = DDPM_SPACING_LINSPACE;
        p.b.sampler = DDPM_SAMPLER_DDIM, p.b.variance = DDPM_VARIANCE_SMALL, p.b.clip_x0 = false;
        p.n_study_eta = 2, p.study_eta[0] = 0.25, p.study_eta[1] = 1.0 / 7.0;
        p.n_study_steps = 3, p.study_steps[0] = 4, p.study_steps[1] = 9, p.study_steps[2] = 250, p.study_n = 64;
        if (world) p.dataset = DDPM_POINTS_RINGS, p.trails = false, p.x0_show = VIZ_X0_CLOUD, p.field = VIZ_FIELD_X0;
        char text[4096];
        CHECK(viz_params_format(&p, text, sizeof text) == DDPM_OK, "format");
        viz_params q;
        viz_params_default(&q, &sc);
        viz_settings st;
        viz_settings_init(&st, &q);
        ddpm_error err = {0};
        CHECK(viz_settings_parse(&st, text, &err) == DDPM_OK, "parse back %s: %s", text, err.msg);
        viz_settings_apply(&st, &q);
        CHECK(st.world == world, "world");
        CHECK(q.eta == p.eta && q.steps == p.steps && q.schedule == p.schedule && q.spacing == p.spacing,
              "sampler fields: %s", text);
        CHECK(q.sampler == p.sampler && q.variance == p.variance && q.clip_x0 == p.clip_x0 && q.seed == p.seed,
              "sampler fields 2: %s", text);
        CHECK(q.view == p.view && q.compare == p.compare && q.decomposition == p.decomposition && q.focus == p.focus &&
                  q.speed == p.speed && q.digit == p.digit && q.snapshot == p.snapshot,
              "view fields: %s", text);
        CHECK(memcmp(&q.b, &p.b, sizeof p.b) == 0 || (q.b.eta == p.b.eta && q.b.steps == p.b.steps &&
                                                      q.b.schedule == p.b.schedule && q.b.spacing == p.b.spacing &&
                                                      q.b.sampler == p.b.sampler && q.b.variance == p.b.variance &&
                                                      q.b.clip_x0 == p.b.clip_x0),
              "B: %s", text);
        CHECK(q.n_study_eta == 2 && q.study_eta[1] == p.study_eta[1] && q.n_study_steps == 3 &&
                  q.study_steps[2] == 250 && q.study_n == 64,
              "study: %s", text);
        if (world)
            CHECK(q.dataset == p.dataset && q.trails == p.trails && q.x0_show == p.x0_show && q.field == p.field,
                  "2D fields: %s", text);
    }
}

int main(void)
{
    test_params_format_roundtrip();
    test_defaults_and_mapping();
    test_slider_edges();
    test_clamp_when_T_changes();
    test_locked_noise_jobs();
    test_compare_ab();
    test_settings_b();
    test_settings();
    test_nearest_frame();
    test_playback();
    TEST_PASS("test_ui_params");
}
