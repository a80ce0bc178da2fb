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
    CHECK(viz_job_sides(&p, &small, 100, sides) == 1 && sides[0].cfg.steps == 100, "job steps clamp");

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

static void test_compare_presets(void)
{
    ddpm_schedule_config m = model_sched(DDPM_SCHEDULE_LINEAR, 1000);
    viz_params p;
    viz_params_default(&p, &m);
    p.view = VIZ_VIEW_COMPARE;
    p.steps = 30;
    p.eta = 0.3;
    viz_side s[2];

    p.compare = VIZ_COMPARE_SAMPLER;
    CHECK(viz_job_sides(&p, &m, 1000, s) == 2, "two sides");
    CHECK(s[0].cfg.sampler == DDPM_SAMPLER_DDIM && s[1].cfg.sampler == DDPM_SAMPLER_DDPM, "DDIM vs DDPM");
    CHECK(s[0].cfg.steps == 30 && s[1].cfg.steps == 30 && s[0].cfg.eta == 0.3, "same steps, eta");

    p.compare = VIZ_COMPARE_ETA;
    viz_job_sides(&p, &m, 1000, s);
    CHECK(s[0].cfg.eta == 0.0 && s[1].cfg.eta == 1.0, "eta 0 vs 1");
    CHECK(s[0].cfg.sampler == DDPM_SAMPLER_DDIM && s[1].cfg.sampler == DDPM_SAMPLER_DDIM, "both DDIM");

    p.compare = VIZ_COMPARE_STEPS;
    viz_job_sides(&p, &m, 1000, s);
    CHECK(s[0].cfg.steps == 10 && s[1].cfg.steps == 50, "10 vs 50");
    ddpm_schedule_config m8 = model_sched(DDPM_SCHEDULE_LINEAR, 8);
    viz_job_sides(&p, &m8, 8, s);
    CHECK(s[0].cfg.steps == 8 && s[1].cfg.steps == 8, "clamped to a tiny T");

    p.compare = VIZ_COMPARE_SCHEDULE;
    p.schedule = DDPM_SCHEDULE_COSINE;
    viz_job_sides(&p, &m, 1000, s);
    CHECK(s[0].schedule.kind == DDPM_SCHEDULE_LINEAR && s[1].schedule.kind == DDPM_SCHEDULE_COSINE,
          "model's vs selected schedule");
    p.schedule = DDPM_SCHEDULE_LINEAR;
    viz_job_sides(&p, &m, 1000, s);
    CHECK(s[1].schedule.kind != s[0].schedule.kind, "never the same schedule twice");
    for (int i = 0; i < 2; i++) CHECK(strlen(s[i].label) > 0, "labels");

    p.view = VIZ_VIEW_GRID;
    CHECK(viz_job_sides(&p, &m, 1000, s) == 1, "one side outside the comparison view");
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
    viz_playback_advance(&pb, 8.01, 0.25, 1000, T);
    CHECK(pb.phase == VIZ_PHASE_REVERSE, "the forward sweep takes at most 8 s");
    pb.phase = VIZ_PHASE_FORWARD;
    pb.pos = 500;
    viz_playback_step(&pb, +1, 1, 50, T);
    CHECK(viz_playback_forward_t(&pb, T) == 520, "a key moves one sampler step of t");
    viz_playback_clamp(&pb, 50, 10);
    CHECK(viz_playback_forward_t(&pb, 10) == 9, "clamped to the new T");
}

int main(void)
{
    test_defaults_and_mapping();
    test_slider_edges();
    test_clamp_when_T_changes();
    test_locked_noise_jobs();
    test_compare_presets();
    test_settings();
    test_nearest_frame();
    test_playback();
    TEST_PASS("test_ui_params");
}
