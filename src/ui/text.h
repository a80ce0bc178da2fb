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
void viz_text_end_frame(viz_text *tx);

/* Number of cached strings (tests). */
int viz_text_cached(const viz_text *tx);

#endif
