/* draw.h: what the panels draw with: the theme, shapes, text, plots and
 * float images as textures.  Main thread only (it holds the renderer).
 *
 *   viz_draw d;  viz_draw_init(&d, renderer, gfx, text);
 *   viz_draw_set_scale(&d, 1.5f, lecture);          // UI scale and theme
 *   viz_fill(&d, rect, d.theme.panel);
 *   viz_label(&d, x, y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, "t = %d", t);
 *   viz_image_update(&d, &tex, key, pixels, w, h);  // uploads only when key changes
 *   viz_image_draw(&d, &tex, rect);                 // nearest-neighbour, aspect kept
 */
#ifndef VIZ_DRAW_H
#define VIZ_DRAW_H

#include <SDL.h>
#include <stdbool.h>
#include <stdint.h>

#include "gfx.h"
#include "text.h"

typedef struct viz_theme {
    SDL_Color bg, panel, panel_edge, header;
    SDL_Color text, text_dim, title;
    SDL_Color accent, accent_soft, second, warn, error, ok;
    SDL_Color widget, widget_hot, widget_active, track;
    SDL_Color grid, cursor, image_frame;
    float line;              /* plot line width in design units */
} viz_theme;

/* Text sizes, in design units (multiplied by the scale). */
typedef enum { VIZ_SIZE_SMALL, VIZ_SIZE_BODY, VIZ_SIZE_TITLE, VIZ_SIZE_HUGE } viz_text_size_kind;

typedef enum { VIZ_ALIGN_LEFT, VIZ_ALIGN_CENTER, VIZ_ALIGN_RIGHT } viz_align;

typedef struct viz_draw {
    SDL_Renderer *r;         /* for making textures; drawing goes through g */
    viz_gfx *g;
    viz_text *text;
    float scale;             /* pixels per design unit */
    bool lecture;            /* high contrast, larger text */
    viz_theme theme;
} viz_draw;

void viz_draw_init(viz_draw *d, SDL_Renderer *r, viz_gfx *g, viz_text *text);
void viz_draw_set_scale(viz_draw *d, float scale, bool lecture);

/* Design units -> pixels. */
int viz_px(const viz_draw *d, float units);
int viz_text_px(const viz_draw *d, viz_text_size_kind size);

SDL_Color viz_rgba(uint8_t r, uint8_t g, uint8_t b, uint8_t a);
SDL_Color viz_mix(SDL_Color a, SDL_Color b, float t);

void viz_fill(viz_draw *d, SDL_Rect r, SDL_Color c);
void viz_fill_round(viz_draw *d, SDL_Rect r, int radius, SDL_Color c);
void viz_outline(viz_draw *d, SDL_Rect r, int thickness, SDL_Color c);
void viz_line(viz_draw *d, float x0, float y0, float x1, float y1, float width, SDL_Color c);
/* A polyline of n points, width in pixels. */
void viz_polyline(viz_draw *d, const SDL_FPoint *pts, int n, float width, SDL_Color c);
/* The area between a polyline and y = base (a filled curve). */
void viz_fill_under(viz_draw *d, const SDL_FPoint *pts, int n, float base, SDL_Color c);
void viz_triangle(viz_draw *d, SDL_FPoint a, SDL_FPoint b, SDL_FPoint c, SDL_Color col);

/* Text.  Returns the width drawn. */
int viz_label(viz_draw *d, int x, int y, viz_align align, viz_text_size_kind size, SDL_Color c,
              const char *fmt, ...) __attribute__((format(printf, 7, 8)));
int viz_label_bold(viz_draw *d, int x, int y, viz_align align, viz_text_size_kind size, SDL_Color c,
                   const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* A label that must fit max_w pixels: `alts` lists versions, longest first,
 * one per line ("Reverse process: x_t and x0-hat\nReverse process\nReverse");
 * the first that fits is drawn; if none does, the last at a smaller size;
 * if that cannot fit either, nothing.  Returns the width drawn. */
int viz_label_fit(viz_draw *d, int x, int y, viz_align align, viz_text_size_kind size, bool bold, SDL_Color c,
                  int max_w, const char *alts);
/* The choice viz_label_fit makes: the version (into out) and the pixel size
 * to draw it at (0: nothing fits); *w its width. */
int viz_fit_text(viz_draw *d, viz_text_size_kind size, bool bold, int max_w, const char *alts, char *out, size_t cap,
                 int *w);
void viz_measure(viz_draw *d, viz_text_size_kind size, bool bold, const char *s, int *w, int *h);
/* A vertical colour bar in r: lo black .. hi white (tone.h; a signed image
 * is -m .. +m, 0 mid-gray), with the ends and the middle labelled beside it
 * where `room` pixels right of it take them; returns the width used. */
int viz_colorbar(viz_draw *d, SDL_Rect r, float lo, float hi, int room);
/* n in Unicode subscript digits ("460" -> "₄₆₀"), for x_t with its t. */
void viz_subscript(char *out, size_t cap, int n);
/* A round tick spacing (1, 2, 2.5 or 5 times a power of ten) that splits
 * `range` into at most max_ticks intervals. */
double viz_nice_step(double range, int max_ticks);
/* A line height at this size. */
int viz_line_h(viz_draw *d, viz_text_size_kind size);

/* A rounded "chip" with text, e.g. a badge; returns its width. */
int viz_chip(viz_draw *d, int x, int y, SDL_Color bg, SDL_Color fg, const char *text);

/* ---- images ----------------------------------------------------------------- */

typedef struct viz_image_tex {
    SDL_Texture *tex;
    int w, h;
    uint64_t key;            /* what the texture holds; 0 = nothing */
    uint64_t serial;         /* of the last upload (viz_gfx_next_serial) */
} viz_image_tex;

/* Uploads w x h ARGB pixels unless tex already holds `key` (key != 0). */
void viz_image_update(viz_draw *d, viz_image_tex *t, uint64_t key, const uint32_t *argb, int w, int h);
/* Draws the texture as large as fits in r, centred, aspect kept, pixel-sharp;
 * returns the rectangle used. */
SDL_Rect viz_image_draw(viz_draw *d, const viz_image_tex *t, SDL_Rect r);
void viz_image_free(viz_image_tex *t);

/* A key from a few numbers (hash), for viz_image_update. */
uint64_t viz_key(uint64_t a, uint64_t b, uint64_t c, uint64_t d);

/* Integer-fit of an image (w x h) into r: the largest scale that fits,
 * preferring whole multiples of the pixel size when that loses little. */
SDL_Rect viz_fit(SDL_Rect r, int w, int h);

bool viz_point_in(SDL_Rect r, int x, int y);
SDL_Rect viz_inset(SDL_Rect r, int by);

#endif
