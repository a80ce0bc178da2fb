/* text.h: text for the visualizer, through SDL2_ttf, with a cache of
 * rendered strings (main thread only).
 *
 *   viz_text *tx = viz_text_create(renderer, "assets/fonts", warning, sizeof warning);
 *   viz_text_draw(tx, gfx, 18, VIZ_FONT_BOLD, "Forward process", x, y, color);
 *   viz_text_end_frame(tx);     // once per frame: evicts strings not drawn lately
 *   viz_text_free(tx);
 *
 * Each (string, pixel size, style) is rendered once, in white, into a
 * texture; drawing tints it with the texture's colour mod, so colour changes
 * cost nothing.  Strings that stop being drawn (a changing counter) are
 * evicted when the cache fills.  Without the font file (or without a working
 * SDL_ttf) the 5x7 bitmap font of ddpm/image.h stands in, and `warning`
 * says so for a banner.
 */
#ifndef VIZ_TEXT_H
#define VIZ_TEXT_H

#include <SDL.h>
#include <stdbool.h>

#include "gfx.h"

typedef enum { VIZ_FONT_REGULAR, VIZ_FONT_BOLD, VIZ_FONT_STYLES } viz_font_style;

typedef struct viz_text viz_text;

/* Never fails for a missing font (falls back); NULL only when out of memory.
 * warning (cap bytes) receives a message when the fallback is in use, else "". */
viz_text *viz_text_create(SDL_Renderer *r, const char *font_dir, char *warning, size_t cap);
void viz_text_free(viz_text *tx);

bool viz_text_is_fallback(const viz_text *tx);

/* Size of a string in pixels at pixel size px. */
void viz_text_size(viz_text *tx, int px, viz_font_style style, const char *s, int *w, int *h);
/* Draws s with its top-left corner at (x, y), through g (see gfx.h). */
void viz_text_draw(viz_text *tx, viz_gfx *g, int px, viz_font_style style, const char *s, int x, int y,
                   SDL_Color color);
/* The same, for a label that must fit in `box` (a button, a segment, a
 * value field); NULL: the panel or clip it is drawn in.  Only the audit
 * below reads the box: nothing is clipped to it. */
void viz_text_draw_in(viz_text *tx, viz_gfx *g, int px, viz_font_style style, const char *s, int x, int y,
                      SDL_Color color, const SDL_Rect *box);
void viz_text_end_frame(viz_text *tx);

/* ---- the text-fit audit (tests/test_ui_textfit.c) ---------------------------
 * While on, every string drawn is recorded with its ink rectangle (the
 * pixels that have coverage, not the line box) and the box it must fit in:
 * the given box, the clip rectangle and the panel, intersected.  A string
 * whose ink leaves its box is cut off; two strings of one layer whose ink
 * overlaps overprint.  viz_text_audit_layer starts a layer that may cover
 * the ones before it (the help overlay, toasts).
 *
 *   viz_text_audit(tx, true);          // clears the record
 *   ... draw a frame ...
 *   int n = viz_text_audit_report(tx, buf, sizeof buf);   // problems, described in buf
 */
void viz_text_audit(viz_text *tx, bool on);
void viz_text_audit_layer(viz_text *tx);
int viz_text_audit_report(const viz_text *tx, char *buf, size_t cap);

/* Number of cached strings (tests). */
int viz_text_cached(const viz_text *tx);

#endif
