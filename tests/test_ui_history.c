/* test_ui_history.c: the live training's history in the visualizer.
 *  - two runs from the same seed keep the same snapshots (the first two,
 *    bit-identical weights; taken from step 2 here, not 50, to stay quick
 *    under sanitizers), and --save-history writes them;
 *  - the scrubber replays a snapshot: the same snapshot and seed give the
 *    same images in either run, another snapshot other images;
 *  - the filmstrip is drawn, with a row of predictions per snapshot; in
 *    lecture style at 16:9 beside the buttons, in rows a room can read;
 *    where not every snapshot fits, its columns spread over the run;
 *  - a saved history shows in a fresh, untrained window (the bundled
 *    history's path), and the scrubber works there before any training;
 *  - while training runs, the grid view's refreshes compute on one core
 *    and lend the other: they never hold the trainer. */
#include <dirent.h>
#include <unistd.h>

#include "ui_shot.h"

static char g_hist[256];


static void remove_history(void)
{
    DIR *d = opendir(g_hist);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char p[600];
        snprintf(p, sizeof p, "%.250s/%.300s", g_hist, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(g_hist);
}

/* Trains a fresh app until its run has `want` snapshots, then pauses. */
static viz_app *train_until(int want, const char *save_history)
{
    viz_options o = base_options("steps=5,frame=end,model=live");
    o.train_seconds = 0.1; /* starts training at creation */
    o.save_history = save_history;
    o.history_dir = "/nonexistent-history"; /* no bundled history: only the live run's */
    o.history_first = 2;                    /* snapshots at steps 2, 4, 8: quick under sanitizers */
    viz_app *a = NULL;
    ddpm_error err = {0};
    CHECK(viz_app_create(&a, &o, &err) == DDPM_OK, "%s", err.msg);
    const double end = ddpm_now() + 300;
    while (a->snaps.n_shown < want && ddpm_now() < end) {
        viz_app_frame(a, 1.0 / 60);
        SDL_Delay(5);
    }
    CHECK(a->snaps.n_shown >= want, "%d snapshots after %lld steps", a->snaps.n_shown, (long long)a->train.step);
    viz_trainer_pause(a->trainer);
    while (viz_trainer_pending(a->trainer)) SDL_Delay(5);
    viz_app_frame(a, 0);
    return a;
}

/* The final images of the shown trajectory, after scrubbing to snapshot i. */
static const float *scrubbed_images(viz_app *a, int i, size_t *n)
{
    viz_app_scrub_to(a, i);
    for (int k = 0; k < 400; k++) {
        viz_app_frame(a, 0);
        CHECK(viz_sampler_wait_idle(a->sampler, 120), "sampling finishes");
        viz_app_frame(a, 0);
        const viz_result *r = a->shown;
        const int64_t want = i >= 0 ? viz_app_snapshot(a, i)->ck.step : -1;
        viz_progress p;
        if (r) viz_sampler_progress(a->sampler, r, &p);
        if (r && r->job.snap_step == want && p.state == VIZ_JOB_DONE) {
            *n = (size_t)r->B * r->per;
            return r->traj[0].x_t + (size_t)r->traj[0].S * *n;
        }
        SDL_Delay(5);
    }
    CHECK(0, "the scrubbed trajectory never showed");
    return NULL;
}

/* What one run shows: its first two snapshots' weights and the images the
 * scrubber replays from each (one app at a time: the text engine is global). */
typedef struct {
    int64_t step[2];
    size_t P, n;
    float *w[2], *img[2];
} run_view;

static void keep_run(viz_app *a, run_view *v)
{
    for (int i = 0; i < 2; i++) {
        const viz_snap *s = viz_app_snapshot(a, i);
        CHECK(s->ck.step == (i ? 4 : 2), "snapshot %d at step %lld", i, (long long)s->ck.step);
        CHECK(s->film, "snapshot %d has its filmstrip row", i);
        CHECK(s->ck.seconds > 0, "snapshot %d knows its training time", i);
        v->step[i] = s->ck.step;
        v->P = s->ck.n_params;
        v->w[i] = malloc(sizeof(float) * v->P);
        memcpy(v->w[i], s->ck.ema, sizeof(float) * v->P);
        const float *img = scrubbed_images(a, i, &v->n);
        v->img[i] = malloc(sizeof(float) * v->n);
        memcpy(v->img[i], img, sizeof(float) * v->n);
    }
}

static void free_run(run_view *v)
{
    for (int i = 0; i < 2; i++) free(v->w[i]), free(v->img[i]);
}

static void test_snapshots_and_scrubber(void)
{
    remove_history();
    run_view va = {0}, vb = {0};
    viz_app *a = train_until(2, g_hist);
    keep_run(a, &va);
    /* the keys step through the history, and past the last comes "now" */
    viz_app_scrub_history(a, +1);
    CHECK(a->p.snapshot == -1, "after the last snapshot comes now: %d", a->p.snapshot);
    viz_app_scrub_history(a, -1);
    CHECK(a->p.snapshot == a->snaps.n_shown - 1, "back to the last snapshot: %d", a->p.snapshot);
    /* the filmstrip is drawn in the training panel */
    ddpm_image img;
    ddpm_error err = {0};
    viz_app_frame(a, 0);
    CHECK(viz_app_capture(a, &img, &err) == DDPM_OK, "%s", err.msg);
    SDL_Rect fr = a->tex_rect[VIZ_TEX_FILM], tp = a->layout.panel[VIZ_PANEL_TRAINING], in;
    CHECK(fr.w > 0 && SDL_IntersectRect(&fr, &tp, &in) && in.w == fr.w, "the filmstrip is in the training panel");
    CHECK(region(&img, fr).var > 100.0, "the filmstrip shows images (variance %.0f)", region(&img, fr).var);
    ddpm_image_free(&img);
    viz_app_free(a);

    viz_app *b = train_until(2, NULL);
    keep_run(b, &vb);
    viz_app_free(b);
    for (int i = 0; i < 2; i++) {
        CHECK(va.P == vb.P && memcmp(va.w[i], vb.w[i], sizeof(float) * va.P) == 0,
              "snapshot %d: the same seed keeps the same weights", i);
        CHECK(va.n == vb.n && memcmp(va.img[i], vb.img[i], sizeof(float) * va.n) == 0,
              "snapshot %d replays identically in both runs", i);
    }
    double diff = 0;
    for (size_t k = 0; k < va.n; k++) diff += fabs(va.img[1][k] - va.img[0][k]);
    CHECK(diff / va.n > 1e-3, "another snapshot gives other images (mean |diff| %.2g)", diff / va.n);

    /* the written history shows in an untrained window, and replays there */
    viz_options o = base_options("steps=5,frame=end");
    o.history_dir = g_hist;
    viz_app *c = NULL;
    CHECK(viz_app_create(&c, &o, &err) == DDPM_OK, "%s", err.msg);
    CHECK(c->snaps.n_bundled >= 2 && c->snaps.shown_run == 0 && c->snaps.n_shown == c->snaps.n_bundled,
          "the saved history (2, 4, ...) shows before training: %d of %d", c->snaps.n_shown, c->snaps.n_bundled);
    CHECK(viz_app_snapshot(c, 0)->ck.step == 2 && viz_app_snapshot(c, 1)->ck.step == 4, "sorted by step");
    size_t m = 0;
    const float *ic = scrubbed_images(c, 1, &m);
    CHECK(m == va.n && viz_app_model(c)->live && c->shown->job.snap_step == 4, "replaying step 4 of the saved run");
    /* F16 weights: close to the live run's replay, not bit-identical */
    diff = 0;
    for (size_t k = 0; k < m; k++) diff += fabs(ic[k] - va.img[1][k]);
    CHECK(diff / m < 0.05, "the saved step 4 replays like the live one (mean |diff| %.3g)", diff / m);
    viz_app_free(c);

    /* lecture style at 16:9 (a projector): the training panel is low, and
     * the filmstrip goes beside the buttons, in digits a room can read (a
     * layout, drawn on one thread: not under ThreadSanitizer, whose CI
     * stage has no minute to spare; the release and ASan builds run it) */
    static const int sizes[][2] = {{1280, 720}, {1920, 1080}};
    for (int k = 0; k < (UI_UNDER_TSAN ? 0 : 2); k++) {
        viz_options lo = base_options("steps=5,frame=end,train_tab=filmstrip");
        lo.history_dir = g_hist;
        lo.lecture = true;
        lo.width = sizes[k][0], lo.height = sizes[k][1];
        viz_app *l = NULL;
        CHECK(viz_app_create(&l, &lo, &err) == DDPM_OK, "%s", err.msg);
        viz_app_frame(l, 0);
        CHECK(viz_app_capture(l, &img, &err) == DDPM_OK, "%s", err.msg);
        const SDL_Rect f = l->tex_rect[VIZ_TEX_FILM], p = l->layout.panel[VIZ_PANEL_TRAINING];
        CHECK(f.w > 0 && SDL_IntersectRect(&f, &p, &in) && in.w == f.w && in.h == f.h,
              "lecture %dx%d: the filmstrip is in the training panel", lo.width, lo.height);
        /* its rows (the texture's: 28-pixel digits and a 2-pixel gap) at
         * least 3 % of the screen's height: three of the five t, not five small */
        const int rows = (l->tex[VIZ_TEX_FILM].h + 2) / 30, row_h = rows > 0 ? f.h / rows : 0;
        CHECK(rows == 3 && row_h * 100 >= 3 * lo.height, "lecture %dx%d: %d filmstrip rows of %d px", lo.width,
              lo.height, rows, row_h);
        CHECK(region(&img, f).var > 100.0, "lecture %dx%d: the filmstrip shows images", lo.width, lo.height);
        ddpm_image_free(&img);
        viz_app_free(l);
    }
    free_run(&va);
    free_run(&vb);
    remove_history();
}

static void test_grid_never_holds_training(void)
{
    viz_options o = base_options("mode=grid,steps=3,model=live");
    o.train_seconds = 0.1;
    o.history_dir = "/nonexistent-history";
    viz_app *a = NULL;
    ddpm_error err = {0};
    CHECK(viz_app_create(&a, &o, &err) == DDPM_OK, "%s", err.msg);
    /* the first job (the view was asked for) may take both cores */
    uint64_t first = 0;
    const double end = ddpm_now() + 120;
    while ((!a->shown || a->train.step < 1) && ddpm_now() < end) viz_app_frame(a, 1.0 / 60), SDL_Delay(5);
    CHECK(a->shown, "a first job ran");
    CHECK(viz_sampler_wait_idle(a->sampler, 120), "the first job finishes");
    viz_app_frame(a, 1.0 / 60);
    first = a->shown->id;
    /* then refreshes follow the training: each on one thread, lending the other */
    int refreshes = 0;
    uint64_t seen = first;
    while (refreshes < 2 && ddpm_now() < end) {
        viz_app_frame(a, 1.0 / 60);
        CHECK(a->train.state == VIZ_TRAIN_RUNNING, "training runs");
        if (a->shown && a->shown->id != seen) {
            seen = a->shown->id;
            refreshes++;
            CHECK(a->shown->job.threads == 1, "a refresh while training computes on one thread (%d)",
                  a->shown->job.threads);
            CHECK(a->shown->B == VIZ_GRID_N, "the grid is refreshed");
        }
        CHECK(!a->train.yielding, "a refresh never holds the training");
        SDL_Delay(5);
    }
    CHECK(refreshes == 2, "the grid refreshed while training (%d)", refreshes);
    viz_app_free(a);
}

/* Where not every snapshot fits (lecture style at 1024x768: two columns for
 * the bundled history's eight), the filmstrip's columns spread over the run:
 * the first (step 50) and the latest are among them, and a click on each
 * replays it. */
static void test_filmstrip_spread(void)
{
    viz_options o = base_options("steps=5,frame=end,train_tab=filmstrip");
    o.lecture = true;
    o.width = 1024, o.height = 768;
    viz_app *a = NULL;
    ddpm_error err = {0};
    CHECK(viz_app_create(&a, &o, &err) == DDPM_OK, "%s", err.msg);
    viz_app_frame(a, 0);
    const int n = a->snaps.n_shown;
    const SDL_Rect f = a->tex_rect[VIZ_TEX_FILM];
    const int cols = a->snaps.film_cols;
    CHECK(n >= 4 && f.w > 0 && cols >= 3 && cols - 1 < n, "the bundled history's %d snapshots in %d columns", n, cols);
    for (int k = 0; k < 2; k++) {
        const int c = k == 0 ? 1 : cols - 1, want = k == 0 ? 0 : n - 1;
        SDL_Event e;
        memset(&e, 0, sizeof e);
        e.type = SDL_MOUSEBUTTONDOWN;
        e.button.button = SDL_BUTTON_LEFT, e.button.x = f.x + (2 * c + 1) * f.w / (2 * cols), e.button.y = f.y + f.h / 2;
        viz_app_queue_event(a, &e);
        viz_app_frame(a, 0);
        e.type = SDL_MOUSEBUTTONUP;
        viz_app_queue_event(a, &e);
        viz_app_frame(a, 0);
        CHECK(a->p.snapshot == want, "column %d replays snapshot %d (step %lld), not %d", c, want,
              (long long)viz_app_snapshot(a, want)->ck.step, a->p.snapshot);
    }
    viz_app_free(a);
}

int main(void)
{
    snprintf(g_out, sizeof g_out, "/tmp/ddpm-test-ui-history-%d.png", (int)getpid());
    snprintf(g_hist, sizeof g_hist, "/tmp/ddpm-test-ui-history-%d", (int)getpid());
    atexit(remove_history);
    CHECK(SDL_Init(0) == 0, "SDL_Init: %s", SDL_GetError());
    const double t0 = ddpm_now();
    test_snapshots_and_scrubber();
    printf("  snapshots and scrubber   %.2f s\n", ddpm_now() - t0);
    const double t1 = ddpm_now();
    test_grid_never_holds_training();
    printf("  grid never holds         %.2f s\n", ddpm_now() - t1);
    if (!UI_UNDER_TSAN) test_filmstrip_spread(); /* a layout, as above */
    remove(g_out);
    SDL_Quit();
    TEST_PASS("test_ui_history");
}
