/* gfx.h: the one seam between the visualizer's drawing and SDL's renderer,
 * with a cache of whole panels.
 *
 * Every shape, text and image the panels draw goes through these five calls.
 * Between viz_gfx_begin and viz_gfx_end they are recorded instead of drawn;
 * viz_gfx_end compares the recording with the panel's previous one and only
 * when it differs replays it into the panel's texture, then copies that
 * texture to the window.  A software renderer (Mesa's llvmpipe under Xvfb or
 * on a machine without a GPU driver) spends about 11 ms of CPU on a full
 * frame at 1280x720; most frames change one or two panels, so a frame then
 * costs a fraction of that and the cores stay with the sampler and trainer.
 * A GPU renderer gains little but loses nothing: the output is the same
 * pixels (tests/test_ui_widgets.c checks cached against direct frames).
 *
 * What a texture shows is part of the recording: text by its cache key,
 * images by an upload serial (viz_gfx_next_serial), so new pixels under the
 * same SDL_Texture pointer are seen.  Without render targets, or when a
 * texture cannot be made, panels are drawn straight to the window.
 *
 *   viz_gfx_begin(g, VIZ_PANEL_REVERSE, rect, background);
 *   viz_gfx_fill(g, &r, color);  viz_gfx_copy(g, tex, serial, &dst, white);
 *   viz_gfx_end(g);               // replays if changed, then blits
 *
 * Main thread only, like the renderer. */
#ifndef VIZ_GFX_H
#define VIZ_GFX_H

#include <SDL.h>
#include <stdbool.h>
#include <stdint.h>

enum { VIZ_GFX_SLOTS = 16 };

typedef struct viz_gfx viz_gfx;

/* NULL when out of memory. */
viz_gfx *viz_gfx_create(SDL_Renderer *r);
void viz_gfx_free(viz_gfx *g);

/* Caching on or off (on by default where the renderer has render targets). */
void viz_gfx_set_caching(viz_gfx *g, bool on);
bool viz_gfx_caching(const viz_gfx *g);
/* Forget every cached panel (render targets lost, theme changed). */
void viz_gfx_invalidate(viz_gfx *g);

/* A filled rectangle: opaque colours replace, translucent ones blend. */
void viz_gfx_fill(viz_gfx *g, const SDL_Rect *r, SDL_Color c);
/* Untextured triangles, blended. */
void viz_gfx_triangles(viz_gfx *g, const SDL_Vertex *v, int n);
/* A texture (its own blend mode) modulated by `mod`; `content` names what
 * it holds (a text key, an upload serial). */
void viz_gfx_copy(viz_gfx *g, SDL_Texture *tex, uint64_t content, const SDL_Rect *dst, SDL_Color mod);
/* The clip rectangle, NULL for none; viz_gfx_clip returns w = 0 for none. */
void viz_gfx_set_clip(viz_gfx *g, const SDL_Rect *r);
SDL_Rect viz_gfx_clip(const viz_gfx *g);
/* Where drawing lands now: the clip rectangle within the panel's area, or
 * the whole output when neither is set. */
SDL_Rect viz_gfx_bounds(const viz_gfx *g);

/* A cached panel: what is drawn until viz_gfx_end is clipped to `area`, on
 * a background of `bg`.  Returns true when the panel was drawn this frame
 * (changed, or not cached), false when its texture was reused. */
void viz_gfx_begin(viz_gfx *g, int slot, SDL_Rect area, SDL_Color bg);
bool viz_gfx_end(viz_gfx *g);

/* A number never returned before, for viz_gfx_copy's `content`. */
uint64_t viz_gfx_next_serial(void);

#endif
