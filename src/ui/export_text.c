/* export_text.c: slide-size TrueType text in exported pictures.  The core
 * draws labels with its 5x7 bitmap font (ddpm/image.h), too small for a
 * slide; this registers SDL_ttf and the bundled DejaVu Sans as the core's
 * text renderer, so every export of this program (trajectory strips, sweep
 * and sample sheets, plots, from the window or the CLI) labels at
 * DDPM_FONT_TTF_LINE pixels a line.  Without the font the bitmap stays. */
#include <SDL_ttf.h>
#include <stdio.h>

#include "app.h"
#include "cli_util.h"
#include "commands.h"
#include "ddpm/fileio.h"
#include "ddpm/image.h"

enum { SIZES = 8 };

static struct {
    char path[4200];
    int px[SIZES];
    TTF_Font *font[SIZES];
    int n;
    bool ttf_inited;             /* this file's TTF_Init, undone by uninstall */
} g;

static TTF_Font *font_for(int line_px)
{
    for (int i = 0; i < g.n; i++)
        if (g.px[i] == line_px) return g.font[i];
    /* DejaVu Sans: a line is about 1.17 em */
    TTF_Font *f = TTF_OpenFont(g.path, (int)(line_px / 1.17 + 0.5) > 4 ? (int)(line_px / 1.17 + 0.5) : 4);
    if (!f) return NULL;
    if (g.n == SIZES) { /* the oldest goes */
        TTF_CloseFont(g.font[0]);
        memmove(g.font, g.font + 1, sizeof g.font[0] * (SIZES - 1));
        memmove(g.px, g.px + 1, sizeof g.px[0] * (SIZES - 1));
        g.n--;
    }
    g.font[g.n] = f, g.px[g.n] = line_px, g.n++;
    return f;
}

static int ttf_width(void *ctx, const char *text, int line_px)
{
    (void)ctx;
    TTF_Font *f = font_for(line_px);
    int w = 0, h = 0;
    if (!f || !text[0] || TTF_SizeUTF8(f, text, &w, &h) != 0) return 0;
    return w;
}

static void ttf_draw(void *ctx, ddpm_image *img, int x, int y, const char *text, int line_px, const uint8_t rgb[3])
{
    (void)ctx;
    TTF_Font *f = font_for(line_px);
    if (!f || !text[0]) return;
    SDL_Surface *s = TTF_RenderUTF8_Blended(f, text, (SDL_Color){255, 255, 255, 255});
    if (!s) return;
    SDL_Surface *argb = SDL_ConvertSurfaceFormat(s, SDL_PIXELFORMAT_ARGB8888, 0);
    SDL_FreeSurface(s);
    if (!argb) return;
    const int dy = (line_px - TTF_FontHeight(f)) / 2; /* centred in the line the caller laid out */
    if (SDL_LockSurface(argb) == 0) {
        for (int j = 0; j < argb->h; j++) {
            const int py = y + dy + j;
            if (py < 0 || py >= img->h) continue;
            const uint32_t *row = (const uint32_t *)((const uint8_t *)argb->pixels + (size_t)j * argb->pitch);
            for (int i = 0; i < argb->w; i++) {
                const int px = x + i;
                const unsigned a = row[i] >> 24;
                if (px < 0 || px >= img->w || a == 0) continue;
                uint8_t *p = ddpm_image_pixel(img, px, py);
                for (int c = 0; c < 3; c++) p[c] = (uint8_t)((p[c] * (255 - a) + rgb[c] * a + 127) / 255);
            }
        }
        SDL_UnlockSurface(argb);
    }
    SDL_FreeSurface(argb);
}

static const ddpm_text_renderer RENDERER = {ttf_width, ttf_draw, NULL};

bool viz_export_text_install(const char *font_dir)
{
    char dir[4096];
    if (font_dir) snprintf(dir, sizeof dir, "%s", font_dir);
    else snprintf(dir, sizeof dir, "%.4000s/fonts", ddpm_cli_asset_dir());
    snprintf(g.path, sizeof g.path, "%s/DejaVuSans.ttf", dir);
    ddpm_error err = {0};
    FILE *f = ddpm_open_regular(g.path, &err); /* a FIFO must not block */
    if (!f) return false;
    fclose(f);
    if (TTF_Init() != 0) return false; /* counted: the window's text has its own */
    g.ttf_inited = true;
    if (!font_for(DDPM_FONT_TTF_LINE)) { /* not a font after all: the bitmap stays */
        viz_export_text_uninstall();
        return false;
    }
    ddpm_image_set_text_renderer(&RENDERER);
    return true;
}

void viz_export_text_uninstall(void)
{
    ddpm_image_set_text_renderer(NULL);
    for (int i = 0; i < g.n; i++) TTF_CloseFont(g.font[i]);
    g.n = 0;
    if (g.ttf_inited) TTF_Quit();
    g.ttf_inited = false;
}
