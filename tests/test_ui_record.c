/* test_ui_record.c: --record and --replay (issue 20), headless.
 *
 * 1. A session is driven by input events (keys, a click, a bookmark kept
 *    and restored) and recorded.  Its replay shows what the session showed
 *    (the panels without wall time: forward, reverse, controls), and two
 *    replays are byte-identical, header included.
 * 2. A session that trains live (T) is recorded; two replays train the same
 *    number of steps and end on byte-identical screens: training in a replay
 *    goes by recorded steps, not by wall time.
 * 3. Bookmarks: the state text a bookmark keeps brings back what it kept.
 */
#include <SDL.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "check.h"
#include "cli_util.h"
#include "ddpm/fileio.h"
#include "ui_shot.h"

static char g_dir[256];

static SDL_Event key(SDL_Keycode sym, Uint16 mod)
{
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_KEYDOWN;
    e.key.keysym.sym = sym;
    e.key.keysym.mod = mod;
    return e;
}

static SDL_Event mouse(Uint32 type, int x, int y)
{
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = type;
    if (type == SDL_MOUSEMOTION) e.motion.x = x, e.motion.y = y;
    else e.button.button = SDL_BUTTON_LEFT, e.button.x = x, e.button.y = y;
    return e;
}

/* Waits for the sampler, draws, captures. */
static void finish(viz_app *a, ddpm_image *img)
{
    ddpm_error err = {0};
    for (int i = 0; i < 3; i++) {
        CHECK(viz_sampler_wait_idle(a->sampler, 300), "sampling finishes");
        viz_app_frame(a, 0);
    }
    CHECK(viz_app_capture(a, img, &err) == DDPM_OK, "%s", err.msg);
}

/* Replays `path` headless to its end; captures the last frame. */
static viz_app *replay(const char *path, ddpm_image *img)
{
    viz_options o = base_options(NULL);
    o.export_dir = g_dir;
    char state[4096];
    ddpm_error err = {0};
    CHECK(viz_replay_load(path, &o.replay, &o.width, &o.height, state, sizeof state, &err) == DDPM_OK, "%s", err.msg);
    CHECK(viz_settings_parse(&o.settings, state, &err) == DDPM_OK, "the state line parses: %s", err.msg);
    viz_app *a = NULL;
    CHECK(viz_app_create(&a, &o, &err) == DDPM_OK, "%s", err.msg);
    int frames = 0;
    while (!viz_replay_done(a) && frames < 100000) viz_app_frame(a, 1.0 / 60), frames++;
    CHECK(viz_replay_done(a), "the replay ends");
    finish(a, img);
    return a;
}

static bool same_bytes(const ddpm_image *x, const ddpm_image *y)
{
    return x->w == y->w && x->h == y->h && memcmp(x->rgb, y->rgb, (size_t)x->w * x->h * 3) == 0;
}

static long differing(const ddpm_image *x, const ddpm_image *y, SDL_Rect r)
{
    long n = 0;
    for (int yy = r.y; yy < r.y + r.h; yy++)
        for (int xx = r.x; xx < r.x + r.w; xx++)
            n += memcmp(ddpm_image_pixel(x, xx, yy), ddpm_image_pixel(y, xx, yy), 3) != 0;
    return n;
}

/* A headless app that records into g_dir/name (rec receives the path). */
static viz_app *recorded_app(const char *name, char *rec, size_t cap)
{
    snprintf(rec, cap, "%s/%s", g_dir, name);
    viz_options o = base_options("steps=6"); /* short runs: every frame waits for its job (ASan: 10x slower) */
    o.export_dir = g_dir;
    o.record = rec;
    o.width = 1280, o.height = 720;
    viz_app *a = NULL;
    ddpm_error err = {0};
    CHECK(viz_app_create(&a, &o, &err) == DDPM_OK, "%s", err.msg);
    return a;
}

static void check_session_replays(void)
{
    char rec[300];
    viz_app *a = recorded_app("session.rec", rec, sizeof rec);
    ddpm_error err = {0};
    viz_app_frame(a, 1.0 / 60);
    const SDL_Rect rev = a->layout.panel[VIZ_PANEL_REVERSE];
    /* the script: grid, eta 1, a click on the grid's last cell, fewer steps,
     * the end, a bookmark kept, other settings, the bookmark restored */
    for (int f = 0; f < 40; f++) {
        SDL_Event e[3];
        int n = 0;
        switch (f) {
        case 2: e[n++] = key(SDLK_g, 0); break;
        case 4: e[n++] = key(SDLK_e, 0); break;
        case 8: /* the sample at the grid's bottom right */
            e[n++] = mouse(SDL_MOUSEMOTION, rev.x + rev.w * 30 / 100, rev.y + rev.h * 50 / 100);
            e[n++] = mouse(SDL_MOUSEBUTTONDOWN, rev.x + rev.w * 30 / 100, rev.y + rev.h * 50 / 100);
            break;
        case 9: e[n++] = mouse(SDL_MOUSEBUTTONUP, rev.x + rev.w * 30 / 100, rev.y + rev.h * 50 / 100); break;
        case 12: e[n++] = key(SDLK_LEFTBRACKET, 0); break;
        case 14: e[n++] = key(SDLK_END, 0); break;
        case 16: e[n++] = key(SDLK_3, KMOD_LCTRL); break;
        case 18: e[n++] = key(SDLK_r, 0), e[n++] = key(SDLK_c, 0); break;
        case 22: e[n++] = key(SDLK_3, 0); break;
        default: break;
        }
        for (int i = 0; i < n; i++) CHECK(viz_app_queue_event(a, &e[i]), "queue");
        CHECK(viz_sampler_wait_idle(a->sampler, 300), "sampling"); /* as a replay does */
        viz_app_frame(a, 1.0 / 60);
        }
    ddpm_image live;
    finish(a, &live);
    CHECK(a->p.view == VIZ_VIEW_GRID && a->p.eta == 1.0 && a->p.seed == 0, "the bookmark came back: view %d eta %g seed %llu",
          (int)a->p.view, a->p.eta, (unsigned long long)a->p.seed);
    const int focus = a->p.focus;
    CHECK(focus > 0, "the click chose a sample: focus %d", focus);
    SDL_Rect keep[3] = {a->layout.panel[VIZ_PANEL_FORWARD], a->layout.panel[VIZ_PANEL_REVERSE],
                        a->layout.panel[VIZ_PANEL_CONTROLS]};
    CHECK(viz_record_finish(a, &err) == DDPM_OK, "%s", err.msg);
    viz_app_free(a);
    CHECK(ddpm_file_exists(rec), "the recording was written");

    ddpm_image r1, r2;
    viz_app *b = replay(rec, &r1);
    CHECK(b->p.view == VIZ_VIEW_GRID && b->p.eta == 1.0 && b->p.focus == focus, "the replay reaches the same state");
    viz_app_free(b);
    viz_app_free(replay(rec, &r2));
    CHECK(same_bytes(&r1, &r2), "two replays end on byte-identical screens");
    for (int i = 0; i < 3; i++) {
        long n = differing(&live, &r1, keep[i]);
        CHECK(n == 0, "the replay shows what the session showed: %ld pixels differ in panel %d", n, i);
    }
    ddpm_image_free(&live), ddpm_image_free(&r1), ddpm_image_free(&r2);
}

static void check_training_replays(void)
{
    char rec[300];
    viz_app *a = recorded_app("training.rec", rec, sizeof rec);
    ddpm_error err = {0};
    /* T, frames until the trainer has taken a few steps (however slow the
     * machine: a sanitizer build), T again (pause), a few frames more */
    SDL_Event t = key(SDLK_t, 0);
    for (int f = 0; f < 3; f++) viz_app_frame(a, 1.0 / 60);
    viz_app_queue_event(a, &t);
    const double t0 = ddpm_now();
    do {
        viz_app_frame(a, 1.0 / 60);
        SDL_Delay(15);
    } while (a->train.step < 5 && ddpm_now() - t0 < 300);
    viz_app_queue_event(a, &t);
    for (int f = 0; f < 5; f++) {
        viz_app_frame(a, 1.0 / 60);
        SDL_Delay(15);
    }
    for (int i = 0; i < 500 && viz_trainer_pending(a->trainer); i++) SDL_Delay(10);
    viz_app_frame(a, 1.0 / 60);
    const int64_t steps = a->train.step;
    CHECK(steps > 0, "the recorded session trained");
    CHECK(viz_record_finish(a, &err) == DDPM_OK, "%s", err.msg);
    viz_app_free(a);

    ddpm_image r1, r2;
    viz_app *b = replay(rec, &r1);
    const int64_t s1 = b->train.step;
    viz_app_free(b);
    b = replay(rec, &r2);
    const int64_t s2 = b->train.step;
    viz_app_free(b);
    printf("recorded session: %lld steps; replays: %lld and %lld\n", (long long)steps, (long long)s1, (long long)s2);
    CHECK(s1 == s2 && s1 >= 5, "both replays train the same steps: %lld, %lld", (long long)s1, (long long)s2);
    CHECK(same_bytes(&r1, &r2), "replays of a training session end on byte-identical screens");
    ddpm_image_free(&r1), ddpm_image_free(&r2);
}

int main(void)
{
    UI_TEST_START("ui-record");
    snprintf(g_dir, sizeof g_dir, "/tmp/ddpm-test-ui-record-%d", (int)getpid());
    CHECK(mkdir(g_dir, 0755) == 0, "mkdir %s", g_dir);
    check_session_replays();
    check_training_replays();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    CHECK(system(cmd) == 0, "clean up");
    SDL_Quit();
    TEST_PASS("test_ui_record");
}
