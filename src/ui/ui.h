/* ui.h: immediate-mode widgets (after microui): the app polls events into a
 * viz_input, calls viz_ui_begin, then widgets that draw themselves and
 * return true when the user changed something, then viz_ui_end.  Widgets
 * know nothing about the model; they edit plain numbers and indices.
 *
 *   viz_ui_begin(&ui, &input);
 *   double u = viz_steps_to_unit(p.steps, T);
 *   if (viz_ui_slider(&ui, viz_ui_id("steps", 0), row, "Steps", "50", &u))
 *       p.steps = viz_steps_from_unit(u, T);
 *   if (viz_ui_button(&ui, viz_ui_id("train", 0), r, "Train", true)) ...;
 *   viz_ui_end(&ui);
 *
 * A widget becomes `active` when pressed and stays active while the button
 * is held, wherever the mouse goes, so a slider dragged past its end sits
 * exactly at 0 or 1.  Labels and values fit their boxes: each may list
 * shorter versions, one per line ("Train (T)\nTrain"); the first that fits
 * is drawn, and if none does the last at a smaller size (viz_fit_text).
 * Layers: widgets drawn while `layer` is below the
 * topmost layer that is open (a dialog) ignore the mouse.
 */
#ifndef VIZ_UI_H
#define VIZ_UI_H

#include "draw.h"

typedef struct viz_input {
    int mx, my;          /* mouse position in renderer pixels */
    bool down;           /* left button held */
    bool pressed;        /* went down this frame */
    bool released;       /* went up this frame */
    int wheel;           /* wheel clicks this frame, + is up */
} viz_input;

typedef enum {
    VIZ_ICON_PLAY, VIZ_ICON_PAUSE, VIZ_ICON_STEP_BACK, VIZ_ICON_STEP_FORWARD,
    VIZ_ICON_TO_START, VIZ_ICON_TO_END, VIZ_ICON_LEFT, VIZ_ICON_RIGHT,
} viz_icon;

typedef struct viz_ui {
    viz_draw *d;
    viz_input in;
    uint32_t hot, active;
    int layer;           /* the layer widgets are being drawn on */
    int top_layer;       /* the topmost open layer; lower layers get no mouse */
    bool mouse_used;     /* a widget used this frame's press */
} viz_ui;

void viz_ui_init(viz_ui *u, viz_draw *d);
void viz_ui_begin(viz_ui *u, const viz_input *in);
void viz_ui_end(viz_ui *u);

/* An id from a name and an index. */
uint32_t viz_ui_id(const char *name, int index);

/* True when the mouse may act on r at the current layer (no widget active). */
bool viz_ui_hover(const viz_ui *u, SDL_Rect r);

bool viz_ui_button(viz_ui *u, uint32_t id, SDL_Rect r, const char *label, bool primary);
bool viz_ui_icon_button(viz_ui *u, uint32_t id, SDL_Rect r, viz_icon icon, bool primary);
bool viz_ui_toggle(viz_ui *u, uint32_t id, SDL_Rect r, const char *label, bool *value);
/* A labelled slider over value in [0, 1]; value_text is shown at the right. */
bool viz_ui_slider(viz_ui *u, uint32_t id, SDL_Rect r, const char *label, const char *value_text,
                   double *value);
/* A labelled "< value >" chooser over index in 0..count-1 (wraps around). */
bool viz_ui_stepper(viz_ui *u, uint32_t id, SDL_Rect r, const char *label, const char *value_text,
                    int *index, int count);
/* A row of n options, one selected. */
bool viz_ui_segmented(viz_ui *u, uint32_t id, SDL_Rect r, const char *const *names, int n, int *index);
/* A horizontal drag area (the timeline): sets *value in [0, 1] while dragged. */
bool viz_ui_scrub(viz_ui *u, uint32_t id, SDL_Rect r, double *value);

/* Draws an icon into r (also used outside buttons). */
void viz_ui_draw_icon(viz_draw *d, SDL_Rect r, viz_icon icon, SDL_Color c);

#endif
