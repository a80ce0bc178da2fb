/* overlay.c: what floats above the panels: banners (lasting problems),
 * toasts (what just happened), the fps counter, the help overlay listing
 * every key, and the quit dialog. */
#include <stdio.h>
#include <string.h>

#include "app.h"

static SDL_Color level_color(const viz_theme *t, viz_level lv)
{
    return lv == VIZ_LEVEL_ERROR ? t->error : lv == VIZ_LEVEL_WARN ? t->warn : lv == VIZ_LEVEL_OK ? t->ok : t->accent;
}

static int banner_h(viz_app *a) { return viz_line_h(&a->draw, VIZ_SIZE_BODY) + viz_px(&a->draw, 10); }

int viz_overlay_banners_height(viz_app *a)
{
    return a->n_banners ? a->n_banners * (banner_h(a) + viz_px(&a->draw, 4)) : 0;
}

/* Banners sit in the strip the layout reserves under the header, right of the controls. */
void viz_overlay_banners(viz_app *a)
{
    viz_draw *d = &a->draw;
    const viz_theme *t = &d->theme;
    const SDL_Rect head = a->layout.panel[VIZ_PANEL_HEADER];
    const SDL_Rect tl = a->layout.panel[VIZ_PANEL_TIMELINE];
    int y = head.y + head.h + a->layout.gap;
    for (int i = 0; i < a->n_banners; i++) {
        const viz_message *m = &a->banners[i];
        SDL_Rect r = {tl.x, y, tl.w, banner_h(a)};
        SDL_Color c = level_color(t, m->level);
        viz_fill_round(d, r, viz_px(d, 6), viz_mix(t->panel, c, 0.16f));
        viz_fill_round(d, (SDL_Rect){r.x, r.y, viz_px(d, 5), r.h}, viz_px(d, 2), c);
        viz_gfx_set_clip(d->g, &r);
        viz_label_bold(d, r.x + viz_px(d, 14), r.y + viz_px(d, 5), VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, c, "%s", m->text);
        viz_gfx_set_clip(d->g, NULL);
        y += r.h + viz_px(d, 4);
    }
}

void viz_overlay_toasts(viz_app *a)
{
    viz_draw *d = &a->draw;
    const viz_theme *t = &d->theme;
    const SDL_Rect tl = a->layout.panel[VIZ_PANEL_TIMELINE];
    int y = tl.y - viz_px(d, 8);
    for (int i = a->n_toasts - 1; i >= 0; i--) {
        const viz_message *m = &a->toasts[i];
        int w, h;
        viz_measure(d, VIZ_SIZE_BODY, false, m->text, &w, &h);
        const int pad = viz_px(d, 12);
        int bw = w + 2 * pad;
        if (bw > a->w - 2 * pad) bw = a->w - 2 * pad;
        SDL_Rect r = {a->w - bw - viz_px(d, 16), y - h - viz_px(d, 14), bw, h + viz_px(d, 14)};
        double left = m->until - a->now;
        Uint8 alpha = left < 0.6 ? (Uint8)(left > 0 ? left / 0.6 * 240 : 0) : 240;
        viz_fill_round(d, r, viz_px(d, 7), viz_rgba(14, 16, 22, alpha));
        SDL_Color c = level_color(t, m->level);
        c.a = alpha;
        viz_fill_round(d, (SDL_Rect){r.x, r.y, viz_px(d, 5), r.h}, viz_px(d, 2), c);
        SDL_Color tc = t->text;
        tc.a = alpha;
        viz_gfx_set_clip(d->g, &r);
        viz_label(d, r.x + pad, r.y + viz_px(d, 7), VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, tc, "%s", m->text);
        viz_gfx_set_clip(d->g, NULL);
        y = r.y - viz_px(d, 6);
    }
}

/* Every key the app handles (app.c, handle_key). */
static const char *const KEYS[][2] = {
    {"Space", "play / pause (at the end: play again)"},
    {"\xE2\x86\x90 / \xE2\x86\x92", "step back / forward (Shift: 10 steps)"},
    {"Home / End", "jump to x_T / to x\xE2\x82\x80"},
    {"F", "play the forward process (noising), then reverse"},
    {"[ / ]", "fewer / more sampling steps"},
    {"\xE2\x88\x92 / =", "slower / faster playback"},
    {"E", "\xCE\xB7 0 \xE2\x86\x94 1 (\xCF\x83\xC2\xB2 = \xCE\xB7\xC2\xB2\xCE\xB2\xCC\x83; the seeds' \xCE\xB7 is its square)"},
    {"S", "sampler: DDIM \xE2\x86\x94 DDPM"},
    {"C / Shift+C", "schedule (seeds' sqrt_linear = linear; linear = scaled-)"},
    {"K", "next timestep spacing"},
    {"X", "clip x\xCC\x82\xE2\x82\x80 to [\xE2\x88\x92" "1, 1]"},
    {"R / Shift+R", "new seed / previous seed"},
    {"G", "one sample \xE2\x86\x94 4\xC3\x97" "4 grid"},
    {"M / V", "comparison view / what differs between A and B"},
    {"Z", "study: \xCE\xB7 \xC3\x97 steps for the model, scored (P: PNG + CSV)"},
    {"D", "step decomposition panel"},
    {"J", "round trip: noise the digit to t, denoise it back (SDEdit)"},
    {"A", "draw a digit (with the mouse): the forward process and the round trip use it"},
    {"Q / click x\xE2\x82\x9C", "pixel probe: one pixel over t, and all of x\xE2\x82\x9C against N(0, 1)"},
    {"\xE2\x86\x91 / \xE2\x86\x93 / N", "next / previous / random digit"},
    {"W", "switch worlds: digits \xE2\x86\x94 2D points"},
    {"B / Shift+B", "2D: next / previous data set"},
    {"D", "2D: draw your own data (Enter: train on it, Backspace: clear)"},
    {"Y / U / I", "2D: particle paths / x\xCC\x82\xE2\x82\x80 off, cloud, lines / field kind"},
    {"O / Shift+O", "next / previous model"},
    {"T", "train live / pause training"},
    {", / .", "replay an earlier / later snapshot of the training"},
    {"Ctrl+S", "save a training checkpoint"},
    {"P / Shift+P", "export the view (PNG) / trajectory (GIF + strip)"},
    {"Ctrl+1..9 / 1..9", "keep the view in bookmark N / bring it back"},
    {"F11", "fullscreen lecture mode"},
    {"L", "lecture style (large, high contrast)"},
    {"Tab", "hide / show the controls (hidden in lecture style)"},
    {"F3", "frames per second"},
    {"H / F1", "this help"},
    {"Esc", "close this / leave fullscreen / quit"},
    {"Ctrl+Q", "quit (offers to save a running training)"},
};

/* The help box's size at the draw's current scale. */
static void help_box(viz_app *a, int n, SDL_Rect *box, bool *two, int *key_w, int *col_w)
{
    viz_draw *d = &a->draw;
    const int lh = viz_line_h(d, VIZ_SIZE_BODY) + viz_px(d, 5);
    const int half = (n + 1) / 2;
    int desc_w = 0;
    *key_w = 0;
    for (int i = 0; i < n; i++) {
        int w, h;
        viz_measure(d, VIZ_SIZE_BODY, true, KEYS[i][0], &w, &h);
        if (w > *key_w) *key_w = w;
        viz_measure(d, VIZ_SIZE_BODY, false, KEYS[i][1], &w, &h);
        if (w > desc_w) desc_w = w;
    }
    *col_w = *key_w + viz_px(d, 16) + desc_w;
    const int pad = viz_px(d, 24), head = viz_line_h(d, VIZ_SIZE_HUGE) + viz_px(d, 30);
    int bw = 2 * *col_w + 3 * pad, bh = half * lh + 2 * pad + head;
    *two = bw <= a->w - viz_px(d, 20);
    if (!*two) {
        bw = *col_w + 2 * pad;
        bh = n * lh + 2 * pad + head;
    }
    *box = (SDL_Rect){(a->w - bw) / 2, (a->h - bh) / 2, bw, bh};
}

void viz_overlay_help(viz_app *a)
{
    viz_draw *d = &a->draw;
    const viz_theme *t = &d->theme;
    viz_fill(d, (SDL_Rect){0, 0, a->w, a->h}, viz_rgba(0, 0, 0, 200));
    const int n = (int)(sizeof KEYS / sizeof KEYS[0]);
    /* the whole list on one screen: smaller (lecture style at a small
     * window) rather than cut off */
    const float scale = d->scale;
    SDL_Rect box;
    bool two;
    int key_w, col_w;
    for (;;) {
        help_box(a, n, &box, &two, &key_w, &col_w);
        if ((box.w <= a->w && box.h <= a->h) || d->scale < 0.5f) break;
        d->scale *= 0.92f;
    }
    if (box.y < 0) box.y = 0;
    if (box.x < 0) box.x = 0;
    const int lh = viz_line_h(d, VIZ_SIZE_BODY) + viz_px(d, 5);
    const int half = (n + 1) / 2;
    const int pad = viz_px(d, 24);
    viz_fill_round(d, box, viz_px(d, 12), t->panel);
    viz_outline(d, box, 1, t->panel_edge);
    int y = box.y + pad;
    const int kw = viz_label_bold(d, box.x + pad, y, VIZ_ALIGN_LEFT, VIZ_SIZE_HUGE, t->title, "Keys");
    viz_label_fit(d, box.x + box.w - pad, y + viz_px(d, 8), VIZ_ALIGN_RIGHT, VIZ_SIZE_SMALL, false, t->text_dim,
                  box.w - 3 * pad - kw, "Esc or H closes this \xC2\xB7 every control also has a slider or button\n"
                  "Esc or H closes this");
    y += viz_line_h(d, VIZ_SIZE_HUGE) + viz_px(d, 18);
    for (int i = 0; i < n; i++) {
        int col = two ? i / half : 0, row = two ? i % half : i;
        int x = box.x + pad + col * (col_w + pad);
        int yy = y + row * lh;
        viz_label_bold(d, x, yy, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, t->accent, "%s", KEYS[i][0]);
        viz_label(d, x + key_w + viz_px(d, 16), yy, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, t->text, "%s", KEYS[i][1]);
    }
    d->scale = scale;
}

void viz_overlay_quit_dialog(viz_app *a)
{
    viz_draw *d = &a->draw;
    const viz_theme *t = &d->theme;
    viz_fill(d, (SDL_Rect){0, 0, a->w, a->h}, viz_rgba(0, 0, 0, 170));
    const int bw = viz_px(d, 520), bh = viz_px(d, 170);
    SDL_Rect box = {(a->w - bw) / 2, (a->h - bh) / 2, bw, bh};
    viz_fill_round(d, box, viz_px(d, 12), t->panel);
    viz_outline(d, box, 1, t->panel_edge);
    const int pad = viz_px(d, 20);
    viz_label_bold(d, box.x + pad, box.y + pad, VIZ_ALIGN_LEFT, VIZ_SIZE_TITLE, t->title, "Training is running");
    viz_label(d, box.x + pad, box.y + pad + viz_px(d, 30), VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, t->text,
              "Save a checkpoint of step %lld before quitting?", (long long)a->train.step);
    const int bh2 = viz_px(d, 34), bwid = (bw - 2 * pad - 2 * viz_px(d, 10)) / 3;
    const int by = box.y + box.h - pad - bh2;
    SDL_Rect b1 = {box.x + pad, by, bwid, bh2};
    SDL_Rect b2 = {b1.x + bwid + viz_px(d, 10), by, bwid, bh2};
    SDL_Rect b3 = {b2.x + bwid + viz_px(d, 10), by, bwid, bh2};
    if (viz_ui_button(&a->ui, viz_ui_id("quit-save", 0), b1, "Save & quit (Enter)", true))
        viz_app_quit_choice(a, VIZ_QUIT_SAVE);
    if (viz_ui_button(&a->ui, viz_ui_id("quit-now", 0), b2, "Quit (Q)", false)) viz_app_quit_choice(a, VIZ_QUIT_NOW);
    if (viz_ui_button(&a->ui, viz_ui_id("quit-cancel", 0), b3, "Cancel (Esc)", false))
        viz_app_quit_choice(a, VIZ_QUIT_CANCEL);
}
