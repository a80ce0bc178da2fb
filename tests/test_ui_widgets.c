/* test_ui_widgets.c: the immediate-mode widgets driven by synthetic mouse
 * input on a software renderer: a slider dragged past either end sits
 * exactly on it (so steps reach 1 and T, eta 0 and 1), a button clicks only
 * when pressed and released inside, steppers wrap, toggles flip, segmented
 * controls select, the scrubber follows the mouse, a dialog layer blocks
 * the widgets below it, the text cache stays bounded, and a cached panel
 * (gfx.h) has the pixels of a directly drawn one, is redrawn when a shape,
 * a text or an image's pixels change and is not redrawn when nothing did. */
#include <SDL.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli_util.h"
#include "ui.h"
#include "viz_params.h"

typedef struct rig {
    SDL_Surface *surf;
    SDL_Renderer *r;
    viz_text *text;
    viz_draw d;
    viz_ui ui;
    viz_gfx *gfx;
} rig;

static void rig_init(rig *g)
{
    g->surf = SDL_CreateRGBSurfaceWithFormat(0, 800, 600, 32, SDL_PIXELFORMAT_ARGB8888);
    CHECK(g->surf, "surface: %s", SDL_GetError());
    g->r = SDL_CreateSoftwareRenderer(g->surf);
    CHECK(g->r, "renderer: %s", SDL_GetError());
    char fonts[4200], warning[4300];
    snprintf(fonts, sizeof fonts, "%s/fonts", ddpm_cli_asset_dir());
    g->text = viz_text_create(g->r, fonts, warning, sizeof warning);
    CHECK(g->text && !viz_text_is_fallback(g->text), "the bundled font loads: %s", warning);
    g->gfx = viz_gfx_create(g->r);
    CHECK(g->gfx, "gfx");
    viz_draw_init(&g->d, g->r, g->gfx, g->text);
    viz_ui_init(&g->ui, &g->d);
}

static void rig_free(rig *g)
{
    viz_text_free(g->text);
    viz_gfx_free(g->gfx);
    SDL_DestroyRenderer(g->r);
    SDL_FreeSurface(g->surf);
}

/* One frame with the mouse at (x, y), the button in state `down`. */
static viz_input mouse(const viz_ui *u, int x, int y, bool down)
{
    viz_input in = {.mx = x, .my = y, .down = down};
    in.pressed = down && !u->in.down;
    in.released = !down && u->in.down;
    return in;
}

static void test_slider_edges(rig *g)
{
    const SDL_Rect r = {100, 100, 300, 40};
    const uint32_t id = viz_ui_id("eta", 0);
    double v = 0.3;
    /* press in the middle of the track */
    viz_input in = mouse(&g->ui, 250, 130, true);
    viz_ui_begin(&g->ui, &in);
    CHECK(viz_ui_slider(&g->ui, id, r, "eta", "x", &v), "pressing moves the value");
    viz_ui_end(&g->ui);
    CHECK(v > 0.4 && v < 0.6, "the middle: %g", v);
    /* drag far past the right end: exactly 1 */
    in = mouse(&g->ui, 2000, 500, true);
    viz_ui_begin(&g->ui, &in);
    viz_ui_slider(&g->ui, id, r, "eta", "x", &v);
    viz_ui_end(&g->ui);
    CHECK(v == 1.0, "dragged past the right end: %g", v);
    CHECK(viz_steps_from_unit(v, 1000) == 1000, "steps = T at the right end");
    /* and past the left end: exactly 0 */
    in = mouse(&g->ui, -500, 0, true);
    viz_ui_begin(&g->ui, &in);
    viz_ui_slider(&g->ui, id, r, "eta", "x", &v);
    viz_ui_end(&g->ui);
    CHECK(v == 0.0, "dragged past the left end: %g", v);
    CHECK(viz_steps_from_unit(v, 1000) == 1, "steps = 1 at the left end");
    /* release: the slider lets go */
    in = mouse(&g->ui, -500, 0, false);
    viz_ui_begin(&g->ui, &in);
    viz_ui_slider(&g->ui, id, r, "eta", "x", &v);
    viz_ui_end(&g->ui);
    CHECK(g->ui.active == 0, "released");
    in = mouse(&g->ui, 300, 130, false);
    viz_ui_begin(&g->ui, &in);
    CHECK(!viz_ui_slider(&g->ui, id, r, "eta", "x", &v) && v == 0.0, "hovering changes nothing");
    viz_ui_end(&g->ui);
    /* the wheel nudges it */
    in = mouse(&g->ui, 300, 130, false);
    in.wheel = 1;
    viz_ui_begin(&g->ui, &in);
    CHECK(viz_ui_slider(&g->ui, id, r, "eta", "x", &v) && v > 0.0, "wheel up");
    viz_ui_end(&g->ui);
}

static bool click_frame(rig *g, int x, int y, bool down, uint32_t id, SDL_Rect r)
{
    viz_input in = mouse(&g->ui, x, y, down);
    viz_ui_begin(&g->ui, &in);
    bool c = viz_ui_button(&g->ui, id, r, "Train", true);
    viz_ui_end(&g->ui);
    return c;
}

static void test_button(rig *g)
{
    const SDL_Rect r = {50, 50, 120, 30};
    const uint32_t id = viz_ui_id("train", 0);
    CHECK(!click_frame(g, 60, 60, true, id, r), "no click on press");
    CHECK(click_frame(g, 61, 61, false, id, r), "click on release inside");
    CHECK(!click_frame(g, 60, 60, true, id, r), "press again");
    CHECK(!click_frame(g, 400, 400, false, id, r), "released outside: no click");
    CHECK(!click_frame(g, 400, 400, true, id, r), "pressed outside");
    CHECK(!click_frame(g, 60, 60, false, id, r), "...released inside: no click either");
    /* a dialog on a higher layer blocks the button below */
    g->ui.top_layer = 1;
    CHECK(!click_frame(g, 60, 60, true, id, r) && !click_frame(g, 60, 60, false, id, r), "blocked by a dialog");
    g->ui.top_layer = 0;
}

static void test_stepper_toggle_segmented_scrub(rig *g)
{
    const SDL_Rect r = {50, 200, 300, 30};
    const uint32_t id = viz_ui_id("schedule", 0);
    int index = 0;
    /* the right arrow sits at the right end of the box */
    const int rx = r.x + r.w - r.h / 2;
    for (int i = 1; i <= DDPM_SCHEDULE_COUNT; i++) {
        viz_input in = mouse(&g->ui, rx, r.y + 10, true);
        viz_ui_begin(&g->ui, &in);
        viz_ui_stepper(&g->ui, id, r, "Schedule", "linear", &index, DDPM_SCHEDULE_COUNT);
        viz_ui_end(&g->ui);
        in = mouse(&g->ui, rx, r.y + 10, false);
        viz_ui_begin(&g->ui, &in);
        viz_ui_stepper(&g->ui, id, r, "Schedule", "linear", &index, DDPM_SCHEDULE_COUNT);
        viz_ui_end(&g->ui);
        CHECK(index == i % DDPM_SCHEDULE_COUNT, "click %d on > gives %d", i, index);
    }
    /* wheel over the box goes back, wrapping below 0 */
    viz_input in = mouse(&g->ui, r.x + r.w - 60, r.y + 10, false);
    in.wheel = 1;
    viz_ui_begin(&g->ui, &in);
    CHECK(viz_ui_stepper(&g->ui, id, r, "Schedule", "linear", &index, DDPM_SCHEDULE_COUNT), "wheel");
    viz_ui_end(&g->ui);
    CHECK(index == DDPM_SCHEDULE_COUNT - 1, "wrapped to the last: %d", index);

    bool on = false;
    const SDL_Rect tr = {50, 260, 300, 24};
    for (int f = 0; f < 2; f++) {
        in = mouse(&g->ui, 200, 270, f == 0);
        viz_ui_begin(&g->ui, &in);
        viz_ui_toggle(&g->ui, viz_ui_id("clip", 0), tr, "Clip", &on);
        viz_ui_end(&g->ui);
    }
    CHECK(on, "the toggle flips on click");

    static const char *const names[] = {"Single", "Grid", "Compare"};
    int sel = 0;
    const SDL_Rect sr = {50, 300, 300, 28};
    for (int f = 0; f < 2; f++) {
        in = mouse(&g->ui, 50 + 250, 310, f == 0);
        viz_ui_begin(&g->ui, &in);
        viz_ui_segmented(&g->ui, viz_ui_id("view", 0), sr, names, 3, &sel);
        viz_ui_end(&g->ui);
    }
    CHECK(sel == 2, "the third option: %d", sel);

    double pos = 0;
    const SDL_Rect scr = {100, 400, 400, 20};
    in = mouse(&g->ui, 200, 410, true);
    viz_ui_begin(&g->ui, &in);
    viz_ui_scrub(&g->ui, viz_ui_id("scrub", 0), scr, &pos);
    viz_ui_end(&g->ui);
    CHECK(fabs(pos - 0.25) < 0.01, "scrubbed to a quarter: %g", pos);
    in = mouse(&g->ui, 9999, 0, true);
    viz_ui_begin(&g->ui, &in);
    viz_ui_scrub(&g->ui, viz_ui_id("scrub", 0), scr, &pos);
    viz_ui_end(&g->ui);
    CHECK(pos == 1.0, "past the end: the end");
    in = mouse(&g->ui, 9999, 0, false);
    viz_ui_begin(&g->ui, &in);
    viz_ui_end(&g->ui);
}

static void test_text_cache(rig *g)
{
    /* a changing counter must not grow the cache without bound */
    for (int frame = 0; frame < 3000; frame++) {
        char buf[32];
        snprintf(buf, sizeof buf, "step %d", frame);
        viz_text_draw(g->text, g->gfx, 14, VIZ_FONT_REGULAR, buf, 0, 0, (SDL_Color){255, 255, 255, 255});
        viz_text_draw(g->text, g->gfx, 14, VIZ_FONT_BOLD, "a fixed label", 0, 20, (SDL_Color){255, 255, 255, 255});
        viz_text_end_frame(g->text);
    }
    CHECK(viz_text_cached(g->text) <= 1024, "bounded: %d entries", viz_text_cached(g->text));
    int w1, h1, w2, h2;
    viz_text_size(g->text, 14, VIZ_FONT_REGULAR, "ddpm", &w1, &h1);
    viz_text_size(g->text, 28, VIZ_FONT_REGULAR, "ddpm", &w2, &h2);
    CHECK(w2 > w1 * 3 / 2 && h2 > h1, "bigger size, bigger text: %d vs %d", w1, w2);
}

/* ---- the panel cache ---- */

/* A panel of every kind of drawing: shapes opaque and translucent, curves,
 * text, an image, a clip set and restored inside. */
static void draw_scene(rig *g, SDL_Rect p, viz_image_tex *img, const char *label, int bar)
{
    viz_draw *d = &g->d;
    viz_fill(d, viz_inset(p, 4), d->theme.panel);
    viz_fill(d, (SDL_Rect){p.x + 10, p.y + 10, 60 + bar, 12}, d->theme.accent);
    viz_fill(d, (SDL_Rect){p.x + 30, p.y + 14, 80, 30}, viz_rgba(255, 80, 40, 120));
    viz_fill_round(d, (SDL_Rect){p.x + 20, p.y + 50, 90, 28}, 9, d->theme.widget_hot);
    viz_line(d, p.x + 5.5f, p.y + 90.25f, p.x + 150.75f, p.y + 130.5f, 2.5f, d->theme.second);
    SDL_FPoint pts[5];
    for (int i = 0; i < 5; i++) pts[i] = (SDL_FPoint){p.x + 20.0f + 30 * i, p.y + 160.0f - 7.3f * (float)(i * i)};
    viz_fill_under(d, pts, 5, p.y + 170.0f, d->theme.accent_soft);
    viz_polyline(d, pts, 5, 3.0f, d->theme.accent);
    viz_triangle(d, (SDL_FPoint){p.x + 170.0f, p.y + 20.0f}, (SDL_FPoint){p.x + 200.0f, p.y + 60.0f},
                 (SDL_FPoint){p.x + 160.0f, p.y + 70.0f}, d->theme.ok);
    const SDL_Rect old = viz_gfx_clip(d->g);
    viz_gfx_set_clip(d->g, &(SDL_Rect){p.x + 10, p.y + 180, 70, 20});
    viz_label(d, p.x + 10, p.y + 180, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, d->theme.text, "%s", label);
    viz_gfx_set_clip(d->g, old.w > 0 ? &old : NULL);
    viz_label_bold(d, p.x + 10, p.y + 205, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, d->theme.title, "%s", label);
    viz_image_draw(d, img, (SDL_Rect){p.x + 120, p.y + 150, 84, 84});
    viz_fill(d, (SDL_Rect){p.x + 240, p.y + 230, 60, 60}, d->theme.warn); /* clipped to the panel */
}

/* Clears the window, draws the scene as panel slot 0 and compares. */
static bool frame(rig *g, SDL_Rect p, viz_image_tex *img, const char *label, int bar)
{
    SDL_SetRenderDrawColor(g->r, g->d.theme.bg.r, g->d.theme.bg.g, g->d.theme.bg.b, 255);
    SDL_RenderClear(g->r);
    viz_gfx_begin(g->gfx, 0, p, g->d.theme.bg);
    draw_scene(g, p, img, label, bar);
    return viz_gfx_end(g->gfx);
}

static uint32_t *snapshot(rig *g)
{
    const size_t n = (size_t)g->surf->w * g->surf->h;
    uint32_t *px = malloc(n * 4);
    CHECK(px, "oom");
    for (int y = 0; y < g->surf->h; y++)
        memcpy(px + (size_t)y * g->surf->w, (const uint8_t *)g->surf->pixels + (size_t)y * g->surf->pitch,
               (size_t)g->surf->w * 4);
    return px;
}

static long differing(const uint32_t *a, const uint32_t *b, const rig *g)
{
    long n = 0;
    for (size_t i = 0; i < (size_t)g->surf->w * g->surf->h; i++) n += a[i] != b[i];
    return n;
}

static void upload(rig *g, viz_image_tex *img, uint32_t seed)
{
    uint32_t px[12 * 12];
    for (int i = 0; i < 12 * 12; i++) px[i] = 0xFF000000u | ((uint32_t)(i * 37 + seed * 101) & 0xFF) * 0x010101u;
    viz_image_update(&g->d, img, 0, px, 12, 12); /* key 0: always uploads, same texture */
}

static void test_panel_cache(rig *g)
{
    CHECK(viz_gfx_caching(g->gfx), "a software renderer has render targets: caching is on");
    viz_image_tex img = {0};
    upload(g, &img, 1);
    const SDL_Rect p = {37, 23, 260, 250}, moved = {301, 180, 260, 250};

    /* references, drawn straight to the window */
    viz_gfx_set_caching(g->gfx, false);
    CHECK(frame(g, p, &img, "first label", 0), "uncached panels are drawn");
    uint32_t *direct = snapshot(g);
    CHECK(frame(g, moved, &img, "first label", 0), "drawn");
    uint32_t *direct_moved = snapshot(g);
    CHECK(frame(g, p, &img, "second label", 0), "drawn");
    uint32_t *direct_text = snapshot(g);
    CHECK(differing(direct, direct_text, g) > 20, "the labels differ");

    viz_gfx_set_caching(g->gfx, true);
    CHECK(frame(g, p, &img, "first label", 0), "the first cached frame draws the panel");
    uint32_t *px = snapshot(g);
    long diff = differing(direct, px, g);
    CHECK(diff == 0, "cached panel = direct panel (%ld pixels differ)", diff);
    free(px);
    CHECK(!frame(g, p, &img, "first label", 0), "nothing changed: the texture is reused");
    px = snapshot(g);
    CHECK(differing(direct, px, g) == 0, "the reused texture has the same pixels");
    free(px);

    CHECK(frame(g, p, &img, "second label", 0), "a new text redraws");
    px = snapshot(g);
    CHECK(differing(direct_text, px, g) == 0, "and shows it");
    free(px);
    CHECK(frame(g, p, &img, "first label", 2), "a wider bar redraws");
    CHECK(!frame(g, p, &img, "first label", 2), "then rests");

    CHECK(frame(g, moved, &img, "first label", 0), "a moved panel redraws");
    px = snapshot(g);
    diff = differing(direct_moved, px, g);
    CHECK(diff == 0, "at its new place, pixel for pixel (%ld differ)", diff);
    free(px);

    /* new pixels in the same texture: the upload serial tells */
    SDL_Texture *before = img.tex;
    upload(g, &img, 2);
    CHECK(img.tex == before, "the same SDL texture took the new pixels");
    CHECK(frame(g, moved, &img, "first label", 0), "new image pixels redraw");
    px = snapshot(g);
    CHECK(differing(direct_moved, px, g) > 100, "and show");
    free(px);

    viz_gfx_invalidate(g->gfx);
    CHECK(frame(g, moved, &img, "first label", 0), "after a reset everything redraws");
    free(direct);
    free(direct_moved);
    free(direct_text);
    viz_image_free(&img);
}

int main(void)
{
    CHECK(SDL_Init(0) == 0, "%s", SDL_GetError());
    rig g;
    rig_init(&g);
    test_slider_edges(&g);
    test_button(&g);
    test_stepper_toggle_segmented_scrub(&g);
    test_text_cache(&g);
    test_panel_cache(&g);
    rig_free(&g);
    SDL_Quit();
    TEST_PASS("test_ui_widgets");
}
