/* layout.h: where the panels go, as a pure function of the window size
 * (no SDL calls), so that tests know each panel's rectangle.
 *
 * Wide windows: the controls on the left; forward and reverse panels on
 * top; schedule, (decomposition) and training below; the timeline at the
 * bottom.  Narrow windows (taller than ~4:5) stack the panels instead.  The
 * 2D world (points) has no decomposition but a field and a density panel:
 * data, particles and field on top; schedule, density and training below.
 * Everything is in renderer pixels; `scale` is pixels per design unit.
 */
#ifndef VIZ_LAYOUT_H
#define VIZ_LAYOUT_H

#include <SDL_rect.h>
#include <stdbool.h>

typedef enum {
    VIZ_PANEL_HEADER,
    VIZ_PANEL_CONTROLS,
    VIZ_PANEL_FORWARD,
    VIZ_PANEL_REVERSE,
    VIZ_PANEL_SCHEDULE,
    VIZ_PANEL_TRAINING,
    VIZ_PANEL_DECOMP,
    VIZ_PANEL_TIMELINE,
    VIZ_PANEL_FIELD,      /* the 2D world: the learned vector field */
    VIZ_PANEL_DENSITY,    /* the 2D world: the samples' density against the data, and their score */
    VIZ_PANEL_STUDY,      /* the study view: eta x steps, scored (the whole main area) */
    VIZ_PANEL_COUNT
} viz_panel;

enum { VIZ_MIN_W = 960, VIZ_MIN_H = 540, VIZ_MAX_W = 7680, VIZ_MAX_H = 4320 };

typedef struct viz_layout {
    SDL_Rect panel[VIZ_PANEL_COUNT];   /* w = h = 0 when hidden */
    int gap;
} viz_layout;

/* Lecture style enlarges everything by this (text by VIZ_LECTURE_TEXT more):
 * secondary text of 18 px at 1024 x 768, slide-grade at every size. */
#define VIZ_LECTURE_ZOOM 1.5f
#define VIZ_LECTURE_TEXT 1.3f

/* The UI scale for an output of w x h pixels: 1 at 1280 x 720, growing with
 * the smaller of the two ratios (so 4K or a 2x high-DPI screen gives 2-3);
 * lecture style multiplies it by VIZ_LECTURE_ZOOM. */
float viz_layout_scale(int w, int h, bool lecture);

/* What the layout shows. */
typedef struct viz_layout_want {
    bool controls;           /* the controls column */
    bool decomposition;      /* the step decomposition panel */
    bool points;             /* the 2D world's panels */
    bool study;              /* the study panel takes the main area */
    bool lecture;            /* fewer, larger panels: at most two below the playback row */
    int banner_h;            /* pixels reserved under the header for banners (0 for none) */
} viz_layout_want;

void viz_layout_compute(viz_layout *L, int w, int h, float scale, const viz_layout_want *want);

const char *viz_panel_name(viz_panel p);

#endif
