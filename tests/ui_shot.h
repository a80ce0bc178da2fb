/* ui_shot.h: what the headless UI tests share: rendering the app to an RGB
 * capture through the same code as the window, and pixel statistics of
 * its regions.  Included by one test program each (static functions). */
#ifndef DDPM_TEST_UI_SHOT_H
#define DDPM_TEST_UI_SHOT_H

#include <SDL.h>
#include <string.h>

#include "app.h"
#include "check.h"

/* 1 in the ThreadSanitizer build: a test may leave its one-thread layout
 * checks to the release and ASan builds there (CI's 15 minutes). */
#if defined(__SANITIZE_THREAD__)
enum { UI_UNDER_TSAN = 1 };
#else
enum { UI_UNDER_TSAN = 0 };
#endif

static char g_out[256];

/* A rectangle's pixel statistics in an RGB capture. */
typedef struct {
    double mean, var;
    int distinct;           /* distinct gray levels (of 256), a texture measure */
} stats;

__attribute__((unused)) static stats region(const ddpm_image *img, SDL_Rect r)
{
    stats s = {0};
    bool seen[256] = {false};
    double sum = 0, sum2 = 0;
    long n = 0;
    for (int y = r.y; y < r.y + r.h && y < img->h; y++)
        for (int x = r.x; x < r.x + r.w && x < img->w; x++) {
            const uint8_t *p = ddpm_image_pixel(img, x, y);
            double v = (p[0] + p[1] + p[2]) / 3.0;
            sum += v, sum2 += v * v, n++;
            seen[(p[0] + p[1] + p[2]) / 3] = true;
        }
    if (n) {
        s.mean = sum / n;
        s.var = sum2 / n - s.mean * s.mean;
    }
    for (int i = 0; i < 256; i++) s.distinct += seen[i];
    return s;
}

/* Mean absolute difference of two equally sized regions (resampled to the smaller). */
__attribute__((unused)) static double region_diff(const ddpm_image *img, SDL_Rect a, SDL_Rect b)
{
    int w = a.w < b.w ? a.w : b.w, h = a.h < b.h ? a.h : b.h;
    double sum = 0;
    long n = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *p = ddpm_image_pixel(img, a.x + x * a.w / w, a.y + y * a.h / h);
            const uint8_t *q = ddpm_image_pixel(img, b.x + x * b.w / w, b.y + y * b.h / h);
            sum += abs(p[0] - q[0]) + abs(p[1] - q[1]) + abs(p[2] - q[2]);
            n++;
        }
    return n ? sum / (3.0 * n) : 0;
}

__attribute__((unused)) static long count_color(const ddpm_image *img, SDL_Rect r, SDL_Color c, int tol)
{
    long n = 0;
    for (int y = r.y; y < r.y + r.h && y < img->h; y++)
        for (int x = r.x; x < r.x + r.w && x < img->w; x++) {
            const uint8_t *p = ddpm_image_pixel(img, x, y);
            if (abs(p[0] - c.r) <= tol && abs(p[1] - c.g) <= tol && abs(p[2] - c.b) <= tol) n++;
        }
    return n;
}

__attribute__((unused)) static viz_options base_options(const char *set)
{
    viz_options o;
    viz_options_default(&o);
    o.screenshot = g_out;         /* headless */
    o.export_dir = "/tmp";
    o.train_batch = 4; /* if a test trains: quick steps */
    o.frames = 2;
    ddpm_error err = {0};
    if (set) CHECK(viz_settings_parse(&o.settings, set, &err) == DDPM_OK, "--set %s: %s", set, err.msg);
    return o;
}

/* The headless start of a test that needs the bundled default model:
 * names the capture file, initialises SDL, and exits 77 (skipped) without
 * the model.  Needs cli_util.h and ddpm/fileio.h. */
#define UI_TEST_START(name)                                                            \
    do {                                                                               \
        snprintf(g_out, sizeof g_out, "/tmp/ddpm-test-" name "-%d.png", (int)getpid()); \
        CHECK(SDL_Init(0) == 0, "SDL_Init: %s", SDL_GetError());                       \
        char model_[4096];                                                             \
        ddpm_cli_model_path(DDPM_DEFAULT_MODEL, model_, sizeof model_);                \
        if (!ddpm_file_exists(model_)) {                                               \
            printf("no bundled model: skipped\n");                                     \
            return 77;                                                                 \
        }                                                                              \
    } while (0)

/* Creates the app, waits for sampling, draws, captures. */
__attribute__((unused)) static viz_app *render(const viz_options *o, ddpm_image *img)
{
    viz_app *a = NULL;
    ddpm_error err = {0};
    CHECK(viz_app_create(&a, o, &err) == DDPM_OK, "%s", err.msg);
    for (int i = 0; i < o->frames; i++) viz_app_frame(a, 1.0 / 60);
    CHECK(viz_sampler_wait_idle(a->sampler, 120), "sampling finishes");
    viz_app_frame(a, 0);
    CHECK(viz_sampler_wait_idle(a->sampler, 120), "no follow-up job left");
    viz_app_frame(a, 0);
    CHECK(viz_app_capture(a, img, &err) == DDPM_OK, "%s", err.msg);
    CHECK(img->w == a->w && img->h == a->h, "capture size");
    return a;
}

__attribute__((unused)) static void check_panels_have_content(const viz_app *a, const ddpm_image *img, const char *what)
{
    for (int p = 0; p < VIZ_PANEL_COUNT; p++) {
        SDL_Rect r = a->layout.panel[p];
        if (r.w == 0) continue;
        stats s = region(img, r);
        CHECK(s.var > 20.0 && s.distinct >= 4, "%s: panel %s looks empty (variance %.1f, %d levels)", what,
              viz_panel_name((viz_panel)p), s.var, s.distinct);
    }
}

#endif
