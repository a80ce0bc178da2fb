/* test_ui_threads.c: the trainer and sampler threads driven through the same
 * bridge code the app uses, without a window: weight snapshots published and
 * consumed without tearing, jobs cancelled by newer ones, locked noise
 * across jobs, pause/resume, save and continue, and clean stops while work
 * is under way.  Meant to run under ThreadSanitizer too (-DDDPM_TSAN=ON). */
#include <SDL.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ddpm/checkpoint.h"
#include "ddpm/dataset.h"
#include "ddpm/layers.h"
#include "sampler_thread.h"
#include "trainer_thread.h"
#include "weights_buffer.h"

static bool wait_for(bool (*cond)(void *), void *ctx, double seconds)
{
    double end = ddpm_now() + seconds;
    while (ddpm_now() < end) {
        if (cond(ctx)) return true;
        SDL_Delay(5);
    }
    return cond(ctx);
}

/* ---- the double buffer: a producer and two consumers, no torn copies ----------- */

enum { WB_N = 4096, WB_PUBLISHES = 400 };

typedef struct {
    viz_weights *wb;
    atomic_bool stop;
    atomic_int takes;
} wb_ctx;

static int wb_consumer(void *arg)
{
    wb_ctx *c = arg;
    while (!atomic_load(&c->stop)) {
        viz_weights_info info;
        float *w = viz_weights_take(c->wb, &info);
        CHECK(w != NULL, "weights published before the consumers start");
        for (size_t i = 0; i < info.n; i++)
            CHECK(w[i] == (float)info.step, "torn copy: element %zu is %g, step %lld", i, w[i],
                  (long long)info.step);
        free(w);
        atomic_fetch_add(&c->takes, 1);
    }
    return 0;
}

static void test_weights_buffer(void)
{
    viz_weights wb;
    ddpm_error err = {0};
    CHECK(viz_weights_init(&wb, &err) == DDPM_OK, "%s", err.msg);
    viz_weights_info info;
    CHECK(viz_weights_take(&wb, &info) == NULL && viz_weights_version(&wb) == 0, "empty at first");
    ddpm_run_config run;
    CHECK(ddpm_run_config_default(&run, "tiny", &err) == DDPM_OK, "%s", err.msg);
    float *w = malloc(sizeof(float) * WB_N);
    for (int i = 0; i < WB_N; i++) w[i] = 0.0f;
    CHECK(viz_weights_reset(&wb, &run, WB_N, w, 0, &err) == DDPM_OK, "%s", err.msg);
    wb_ctx c = {.wb = &wb};
    atomic_init(&c.stop, false);
    atomic_init(&c.takes, 0);
    SDL_Thread *t1 = SDL_CreateThread(wb_consumer, "c1", &c), *t2 = SDL_CreateThread(wb_consumer, "c2", &c);
    CHECK(t1 && t2, "threads");
    for (int step = 1; step <= WB_PUBLISHES; step++) {
        for (int i = 0; i < WB_N; i++) w[i] = (float)step; /* every element says which step */
        viz_weights_publish(&wb, w, step);
        if (step % 50 == 0) SDL_Delay(1);
    }
    while (atomic_load(&c.takes) < 20) SDL_Delay(1);
    atomic_store(&c.stop, true);
    SDL_WaitThread(t1, NULL);
    SDL_WaitThread(t2, NULL);
    float *last = viz_weights_take(&wb, &info);
    CHECK(last && info.step == WB_PUBLISHES && last[WB_N - 1] == (float)WB_PUBLISHES, "the newest wins");
    CHECK(info.version == WB_PUBLISHES + 1, "version counts publishes: %llu", (unsigned long long)info.version);
    free(last);
    free(w);
    viz_weights_free(&wb);
}

/* ---- the trainer and sampler threads ------------------------------------------------ */

typedef struct {
    viz_trainer *vt;
    viz_sampler *s;
    int64_t min_step;
    atomic_int notified;
} rig;

static void on_notify(void *ctx) { atomic_fetch_add(&((rig *)ctx)->notified, 1); }

static bool trainer_reached(void *ctx)
{
    rig *r = ctx;
    viz_train_status st;
    viz_trainer_get_status(r->vt, &st);
    return st.step >= r->min_step;
}

/* held: yielding, and the step that was under way has finished */
static bool trainer_parked(void *ctx)
{
    viz_train_status st;
    viz_trainer_get_status(((rig *)ctx)->vt, &st);
    return st.yielding && !st.stepping;
}

static bool trainer_settled(void *ctx) { return !viz_trainer_pending(((rig *)ctx)->vt); }

typedef struct {
    viz_trainer *vt;
    atomic_int on, off, threads;
} hold_rec;

/* what the app does (app_jobs.c): hold for two threads, lend a core for one */
static void record_hold(void *ctx, int threads, bool on)
{
    hold_rec *h = ctx;
    atomic_fetch_add(on ? &h->on : &h->off, 1);
    atomic_store(&h->threads, threads);
    if (threads > 1) viz_trainer_yield(h->vt, on);
    else viz_trainer_lend(h->vt, on);
}

static viz_job live_job(int steps, double eta, int B)
{
    viz_job j = {0};
    j.n_sides = 1;
    j.sides[0].cfg = ddpm_sampler_config_default();
    j.sides[0].cfg.steps = steps;
    j.sides[0].cfg.eta = eta;
    j.sides[0].schedule = ddpm_schedule_config_default();
    j.seed = 99;
    j.first_index = 0;
    j.B = B;
    j.focus = B - 1;
    j.threads = 1;
    return j;
}

static void check_complete(viz_sampler *s, viz_result *r, int sides)
{
    viz_progress p;
    viz_sampler_progress(s, r, &p);
    CHECK(p.state == VIZ_JOB_DONE, "state %d (%s)", p.state, p.error);
    for (int i = 0; i < sides; i++) {
        CHECK(p.done[i] == r->traj[i].S, "side %d: %d of %d steps", i, p.done[i], r->traj[i].S);
        CHECK(r->traj[i].t[r->traj[i].S] == -1, "the last frame is clean");
        const size_t frame = (size_t)r->B * r->per;
        const float *x0 = r->traj[i].x_t + (size_t)r->traj[i].S * frame;
        for (size_t k = 0; k < frame; k++) CHECK(isfinite(x0[k]), "finite x_0");
    }
}

static void test_threads(const ddpm_dataset *digits)
{
    ddpm_error err = {0};
    rig r = {0};
    atomic_init(&r.notified, 0);
    viz_trainer_options o = viz_trainer_options_default(digits);
    o.batch = 4; /* quick steps: this tests the plumbing, not the learning */
    o.notify = on_notify;
    o.notify_ctx = &r;
    CHECK(viz_trainer_start(&r.vt, &o, &err) == DDPM_OK, "%s", err.msg);
    CHECK(viz_sampler_start(&r.s, viz_trainer_weights(r.vt), on_notify, &r, &err) == DDPM_OK, "%s", err.msg);

    viz_train_status st;
    viz_trainer_get_status(r.vt, &st);
    CHECK(st.state == VIZ_TRAIN_IDLE && !st.has_run && st.step == 0, "idle at first");
    const uint64_t v0 = viz_weights_version(viz_trainer_weights(r.vt));
    CHECK(v0 >= 1, "the untrained weights are published at start");

    /* sampling from the untrained live weights */
    viz_job j = live_job(4, 0.0, 2);
    uint64_t id = viz_sampler_submit(r.s, &j);
    CHECK(viz_sampler_wait_idle(r.s, 60), "the job finishes");
    viz_result *res = viz_sampler_acquire(r.s);
    CHECK(res && res->id == id && res->weights_step == 0, "the result of the job, from step 0 weights");
    check_complete(r.s, res, 1);
    float *xT = malloc(sizeof(float) * 2 * res->per);
    ddpm_sample_initial_noise(99, 0, 2, res->per, xT);
    CHECK(memcmp(xT, res->traj[0].x_t, sizeof(float) * 2 * res->per) == 0, "frame 0 is the locked x_T");

    /* train a few steps while sampling runs beside it */
    viz_trainer_train(r.vt);
    viz_job jb = live_job(6, 1.0, 2);
    viz_sampler_submit(r.s, &jb);
    r.min_step = 3;
    CHECK(wait_for(trainer_reached, &r, 120), "three training steps");
    CHECK(viz_sampler_wait_idle(r.s, 60), "sampling during training finishes");
    viz_result *res_b = viz_sampler_acquire(r.s);
    check_complete(r.s, res_b, 1);
    CHECK(memcmp(xT, res_b->traj[0].x_t, sizeof(float) * 2 * res_b->per) == 0,
          "same seed, other eta and steps: same x_T (locked noise)");
    /* eta = 1 adds noise; eta = 0 did not */
    double noise0 = 0, noise1 = 0;
    for (size_t i = 0; i < res->per; i++) noise0 += fabsf(res->traj[0].noise_term[i]);
    for (size_t i = 0; i < res_b->per; i++) noise1 += fabsf(res_b->traj[0].noise_term[i]);
    CHECK(noise0 == 0.0 && noise1 > 0.0, "sigma z: %g (eta 0) vs %g (eta 1)", noise0, noise1);
    viz_result_release(res_b);

    viz_trainer_get_status(r.vt, &st);
    CHECK(st.state == VIZ_TRAIN_RUNNING && st.has_run && st.images_per_s > 0, "running, %g img/s", st.images_per_s);
    CHECK(viz_weights_version(viz_trainer_weights(r.vt)) > v0, "snapshots published at step boundaries");
    viz_loss_history h = {0};
    CHECK(viz_trainer_copy_history(r.vt, &h) && h.n >= 3, "loss history handed over: %zu", h.n);
    CHECK(h.step[0] == 1 && isfinite(h.loss[0]) && h.smooth[h.n - 1] > 0, "history contents");
    int64_t band_total = 0;
    for (int b = 0; b < VIZ_LOSS_BANDS; b++) band_total += h.band_count[b];
    CHECK(band_total >= 12, "loss-by-t saw every sample: %lld", (long long)band_total);
    CHECK(!viz_trainer_copy_history(r.vt, &h) || h.n >= 3, "unchanged history is not copied again");

    /* yield: a running trainer holds between steps while a sampling job has
     * both cores, and goes on after */
    viz_trainer_yield(r.vt, true);
    /* the step under way finishes (a fixed delay was too short for a TSan
     * step on a busy machine) */
    CHECK(wait_for(trainer_parked, &r, 120), "the step under way ends under the hold");
    viz_trainer_get_status(r.vt, &st);
    const int64_t held_at = st.step;
    CHECK(st.state == VIZ_TRAIN_RUNNING && st.yielding, "held, still running (state %d)", st.state);
    SDL_Delay(1000);
    viz_trainer_get_status(r.vt, &st);
    CHECK(st.step == held_at, "no step while held: %lld -> %lld", (long long)held_at, (long long)st.step);
    viz_trainer_yield(r.vt, false);
    r.min_step = held_at + 2;
    CHECK(wait_for(trainer_reached, &r, 120), "training goes on after the hold");
    viz_trainer_get_status(r.vt, &st);
    CHECK(!st.yielding, "not held any more");

    /* a split job holds the trainer through the job's hook, once, and lets go */
    hold_rec rec = {.vt = r.vt};
    atomic_init(&rec.on, 0);
    atomic_init(&rec.off, 0);
    viz_job js = live_job(4, 0.0, 4);
    js.threads = 2;
    js.hold = record_hold;
    js.hold_ctx = &rec;
    viz_sampler_submit(r.s, &js);
    CHECK(viz_sampler_wait_idle(r.s, 60), "the split job finishes");
    CHECK(atomic_load(&rec.on) == 1 && atomic_load(&rec.off) == 1 && atomic_load(&rec.threads) == 2,
          "hold on %d, off %d, threads %d", atomic_load(&rec.on), atomic_load(&rec.off), atomic_load(&rec.threads));
    viz_trainer_get_status(r.vt, &st);
    r.min_step = st.step + 2;
    CHECK(wait_for(trainer_reached, &r, 120), "training goes on after the split job");
    viz_result *res_s = viz_sampler_acquire(r.s);
    check_complete(r.s, res_s, 1);
    viz_result_release(res_s);

    /* a one-thread job (the refresh that follows the training) lends a core:
     * the training goes on while it runs, then has both threads back */
    atomic_store(&rec.on, 0);
    atomic_store(&rec.off, 0);
    viz_job j1 = live_job(300, 0.0, 4);
    j1.threads = 1;
    j1.hold = record_hold;
    j1.hold_ctx = &rec;
    viz_trainer_get_status(r.vt, &st);
    const int64_t lent_at = st.step;
    viz_sampler_submit(r.s, &j1);
    r.min_step = lent_at + 2;
    CHECK(wait_for(trainer_reached, &r, 120), "training goes on beside a one-thread job");
    CHECK(viz_sampler_wait_idle(r.s, 120), "the one-thread job finishes");
    CHECK(atomic_load(&rec.on) == 1 && atomic_load(&rec.off) == 1 && atomic_load(&rec.threads) == 1,
          "lend on %d, off %d, threads %d", atomic_load(&rec.on), atomic_load(&rec.off), atomic_load(&rec.threads));
    viz_trainer_get_status(r.vt, &st);
    CHECK(!st.yielding, "a lent core is not a hold");
    res_s = viz_sampler_acquire(r.s);
    check_complete(r.s, res_s, 1);
    viz_result_release(res_s);

    /* pause: the step count stops */
    viz_trainer_pause(r.vt);
    CHECK(wait_for(trainer_settled, &r, 30), "pause settles");
    SDL_Delay(50);
    viz_trainer_get_status(r.vt, &st);
    const int64_t paused_at = st.step;
    CHECK(st.state == VIZ_TRAIN_PAUSED, "paused: state %d", st.state);
    SDL_Delay(300);
    viz_trainer_get_status(r.vt, &st);
    CHECK(st.step == paused_at, "no steps while paused (%lld -> %lld)", (long long)paused_at, (long long)st.step);

    /* save, then continue from the saved checkpoint */
    char path[256];
    char templ[256];
    snprintf(templ, sizeof templ, "/tmp/ddpm-test-ui-threads-%d/live-{step}.safetensors", (int)getpid());
    snprintf(path, sizeof path, "/tmp/ddpm-test-ui-threads-%d/live-%06lld.safetensors", (int)getpid(), (long long)paused_at);
    viz_trainer_save(r.vt, templ);
    CHECK(wait_for(trainer_settled, &r, 60), "save finishes");
    viz_train_event ev;
    CHECK(viz_trainer_poll_event(r.vt, &ev) && ev.kind == VIZ_TRAIN_EVENT_SAVED && strstr(ev.text, path),
          "a toast says where it saved: %s", ev.text);
    ddpm_checkpoint ck;
    CHECK(ddpm_checkpoint_load(&ck, path, DDPM_CKPT_ALL, &err) == DDPM_OK, "%s", err.msg);
    CHECK(ck.step == paused_at, "saved at step %lld", (long long)ck.step);
    ddpm_checkpoint_free(&ck);
    viz_trainer_continue_from(r.vt, path, "the saved run", false);
    CHECK(wait_for(trainer_settled, &r, 60), "continue finishes");
    CHECK(viz_trainer_poll_event(r.vt, &ev) && ev.kind == VIZ_TRAIN_EVENT_INFO, "continued: %s", ev.text);
    viz_trainer_get_status(r.vt, &st);
    CHECK(st.step == paused_at && strstr(st.origin, "the saved run") && st.state == VIZ_TRAIN_PAUSED,
          "continued at %lld from '%s'", (long long)st.step, st.origin);
    viz_trainer_continue_from(r.vt, "/nonexistent/model.safetensors", "nothing", true);
    CHECK(wait_for(trainer_settled, &r, 30), "a bad path settles");
    CHECK(viz_trainer_poll_event(r.vt, &ev) && ev.kind == VIZ_TRAIN_EVENT_ERROR, "bad path: an error toast");
    viz_trainer_get_status(r.vt, &st);
    CHECK(st.has_run && st.step == paused_at, "the run survives a failed load");

    /* holds asked for while the trainer thread swaps its run: the sampler's
     * hook reads the run's state from another thread (a race TSan once found
     * in the soak) */
    viz_trainer_continue_from(r.vt, path, "the saved run", false);
    for (int i = 0; i < 2000 && viz_trainer_pending(r.vt); i++) {
        viz_trainer_yield(r.vt, true);
        viz_trainer_yield(r.vt, false);
        SDL_Delay(1);
    }
    CHECK(wait_for(trainer_settled, &r, 60), "a continue under holds finishes");
    CHECK(viz_trainer_poll_event(r.vt, &ev) && ev.kind == VIZ_TRAIN_EVENT_INFO, "continued again: %s", ev.text);
    viz_trainer_get_status(r.vt, &st);
    CHECK(st.has_run && !st.yielding && st.step == paused_at, "holds released, run in place");

    /* resume, then cancel a long job with a newer one while training */
    viz_trainer_train(r.vt);
    viz_job long_job = live_job(400, 0.0, 4);
    uint64_t id_long = viz_sampler_submit(r.s, &long_job);
    viz_result *res_long = NULL;
    for (int i = 0; i < 2000 && !res_long; i++) { /* wait until it runs */
        viz_result *x = viz_sampler_acquire(r.s);
        if (x && x->id == id_long) res_long = x;
        else viz_result_release(x), SDL_Delay(2);
    }
    CHECK(res_long, "the long job started");
    viz_job short_job = live_job(3, 0.5, 1);
    uint64_t id_short = viz_sampler_submit(r.s, &short_job);
    CHECK(id_short > id_long, "ids grow");
    CHECK(viz_sampler_wait_idle(r.s, 120), "idle after the newer job");
    viz_result *res_c = viz_sampler_acquire(r.s);
    CHECK(res_c->id == id_short, "the newest job's result is shown");
    check_complete(r.s, res_c, 1);
    viz_progress pl;
    viz_sampler_progress(r.s, res_long, &pl);
    CHECK(pl.state == VIZ_JOB_CANCELLED && pl.done[0] < 400, "the newer job cancelled the long one at step %d (state %d)",
          pl.done[0], pl.state);
    viz_result_release(res_long);
    viz_result_release(res_c);

    /* a comparison job: two sides on identical x_T */
    viz_job cmp = live_job(3, 0.0, 2);
    cmp.n_sides = 2;
    cmp.sides[1] = cmp.sides[0];
    cmp.sides[1].cfg.sampler = DDPM_SAMPLER_DDPM;
    cmp.sides[1].cfg.steps = 5;
    viz_sampler_submit(r.s, &cmp);
    CHECK(viz_sampler_wait_idle(r.s, 120), "comparison finishes");
    viz_result *res_d = viz_sampler_acquire(r.s);
    check_complete(r.s, res_d, 2);
    CHECK(memcmp(res_d->traj[0].x_t, res_d->traj[1].x_t, sizeof(float) * 2 * res_d->per) == 0,
          "both sides start from the same x_T");

    /* a batch split over two threads gives exactly the one-thread result */
    viz_job one = live_job(4, 1.0, 5), two = one;
    two.threads = 2;
    viz_trainer_pause(r.vt);
    CHECK(wait_for(trainer_settled, &r, 30), "paused for a fixed snapshot");
    viz_sampler_submit(r.s, &one);
    CHECK(viz_sampler_wait_idle(r.s, 120), "one thread");
    viz_result *r1 = viz_sampler_acquire(r.s);
    viz_sampler_submit(r.s, &two);
    CHECK(viz_sampler_wait_idle(r.s, 120), "two threads");
    viz_result *r2 = viz_sampler_acquire(r.s);
    check_complete(r.s, r1, 1);
    check_complete(r.s, r2, 1);
    CHECK(r1->weights_step == r2->weights_step, "same weights");
    const size_t all = (size_t)(r1->traj[0].S + 1) * r1->B * r1->per;
    /* GEMM blocking depends on the batch size, so allow rounding differences */
    double worst = 0;
    for (size_t i = 0; i < all; i++) worst = fmax(worst, fabs(r1->traj[0].x_t[i] - r2->traj[0].x_t[i]));
    CHECK(worst < 1e-3, "split batch == whole batch, every frame (max diff %g)", worst);
    printf("split vs whole batch: max |diff| %g\n", worst);
    worst = 0;
    for (size_t i = 0; i < (size_t)r1->traj[0].S * r1->per; i++)
        worst = fmax(worst, fabs(r1->traj[0].noise_term[i] - r2->traj[0].noise_term[i]));
    CHECK(worst < 1e-4, "the followed image's terms too (it is in the second half): %g", worst);
    viz_result_release(r1);
    viz_result_release(r2);
    viz_trainer_train(r.vt);

    /* reset clears the history; stop everything while training runs, with a job queued */
    viz_trainer_reset(r.vt, true);
    CHECK(wait_for(trainer_settled, &r, 60), "reset finishes");
    viz_trainer_get_status(r.vt, &st);
    CHECK(strstr(st.origin, "scratch") != NULL, "a scratch run: %s", st.origin);
    long_job.threads = 2;
    viz_sampler_submit(r.s, &long_job);
    SDL_Delay(20);
    const double t0 = ddpm_now();
    viz_sampler_stop(r.s);
    viz_trainer_stop(r.vt);
    CHECK(ddpm_now() - t0 < 30, "stopping is prompt");
    CHECK(atomic_load(&r.notified) > 0, "the notify hook ran");

    /* results outlive the sampler that made them */
    CHECK(res->traj[0].x_t[0] == xT[0] && res_d->B == 2, "held results stay valid after stop");
    viz_result_release(res);
    viz_result_release(res_d);
    viz_loss_history_free(&h);
    free(xT);
    remove(path);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    rmdir(path);
}

int main(void)
{
    ddpm_blas_set_threads(1);
    test_weights_buffer();
    ddpm_dataset digits;
    ddpm_error err = {0};
    CHECK(ddpm_dataset_open(&digits, "digits", DDPM_SPLIT_HELDOUT, &err) == DDPM_OK, "%s", err.msg);
    test_threads(&digits);
    ddpm_dataset_free(&digits);
    TEST_PASS("test_ui_threads");
}
