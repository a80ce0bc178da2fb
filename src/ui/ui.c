/* ui.c: the immediate-mode widgets (see ui.h). */
#include "ui.h"

#include <math.h>
#include <string.h>

void viz_ui_init(viz_ui *u, viz_draw *d)
{
    memset(u, 0, sizeof *u);
    u->d = d;
}

void viz_ui_begin(viz_ui *u, const viz_input *in)
{
    u->in = *in;
    u->hot = 0;
    u->layer = 0;
    u->mouse_used = false;
}

void viz_ui_end(viz_ui *u)
{
    if (!u->in.down) u->active = 0; /* also when the active widget was not drawn */
}

uint32_t viz_ui_id(const char *name, int index)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) h = (h ^ *p) * 16777619u;
    h = (h ^ (uint32_t)index) * 16777619u;
    return h ? h : 1;
}

bool viz_ui_hover(const viz_ui *u, SDL_Rect r)
{
    return u->layer >= u->top_layer && u->active == 0 && viz_point_in(r, u->in.mx, u->in.my);
}

/* The shared press/hold/release logic.  Returns true on a click (press and
 * release both inside r). */
static bool interact(viz_ui *u, uint32_t id, SDL_Rect r)
{
    const bool over = u->layer >= u->top_layer && viz_point_in(r, u->in.mx, u->in.my);
    if (over && (u->active == 0 || u->active == id)) u->hot = id;
    if (over && u->active == 0 && u->in.pressed && !u->mouse_used) {
        u->active = id;
        u->mouse_used = true;
    }
    if (u->active == id && u->in.released) {
        u->active = 0;
        return over;
    }
    return false;
}

static SDL_Color widget_bg(const viz_ui *u, uint32_t id, bool primary)
{
    const viz_theme *t = &u->d->theme;
    SDL_Color base = primary ? viz_mix(t->widget, t->accent, 0.55f) : t->widget;
    if (u->active == id) return primary ? viz_mix(t->widget, t->accent, 0.8f) : t->widget_active;
    if (u->hot == id) return primary ? viz_mix(t->widget, t->accent, 0.7f) : t->widget_hot;
    return base;
}

/* A widget's label in box r less `pad` each side: the first of its
 * versions that fits, smaller if none does (viz_fit_text), centred vertically. */
static void fitted_label(viz_draw *d, SDL_Rect r, int pad, const char *label, bool bold, viz_align align, SDL_Color c)
{
    char buf[256];
    int w = 0, h = 0;
    const int px = viz_fit_text(d, VIZ_SIZE_BODY, bold, r.w - 2 * pad, label, buf, sizeof buf, &w);
    if (!px) return;
    const viz_font_style st = bold ? VIZ_FONT_BOLD : VIZ_FONT_REGULAR;
    viz_text_size(d->text, px, st, buf, NULL, &h);
    const int x = align == VIZ_ALIGN_CENTER ? r.x + (r.w - w) / 2 : align == VIZ_ALIGN_RIGHT ? r.x + r.w - pad - w : r.x + pad;
    viz_text_draw_in(d->text, d->g, px, st, buf, x, r.y + (r.h - h) / 2, c, &r);
}

bool viz_ui_button(viz_ui *u, uint32_t id, SDL_Rect r, const char *label, bool primary)
{
    bool clicked = interact(u, id, r);
    viz_draw *d = u->d;
    viz_fill_round(d, r, viz_px(d, 5), widget_bg(u, id, primary));
    fitted_label(d, r, viz_px(d, 4), label, primary, VIZ_ALIGN_CENTER, d->theme.text);
    return clicked;
}

void viz_ui_draw_icon(viz_draw *d, SDL_Rect r, viz_icon icon, SDL_Color c)
{
    const float s = (float)(r.h < r.w ? r.h : r.w) * 0.42f;
    const float cx = r.x + r.w * 0.5f, cy = r.y + r.h * 0.5f;
    const float bar = s * 0.28f;
    switch (icon) {
    case VIZ_ICON_PLAY:
        viz_triangle(d, (SDL_FPoint){cx - s * 0.6f, cy - s}, (SDL_FPoint){cx + s * 0.9f, cy},
                     (SDL_FPoint){cx - s * 0.6f, cy + s}, c);
        break;
    case VIZ_ICON_PAUSE:
        viz_fill(d, (SDL_Rect){(int)(cx - s * 0.7f), (int)(cy - s), (int)(s * 0.5f), (int)(2 * s)}, c);
        viz_fill(d, (SDL_Rect){(int)(cx + s * 0.2f), (int)(cy - s), (int)(s * 0.5f), (int)(2 * s)}, c);
        break;
    case VIZ_ICON_LEFT:
    case VIZ_ICON_STEP_BACK:
    case VIZ_ICON_TO_START: {
        float off = icon == VIZ_ICON_LEFT ? 0.0f : bar;
        viz_triangle(d, (SDL_FPoint){cx + s * 0.6f + off, cy - s * 0.8f}, (SDL_FPoint){cx - s * 0.6f + off, cy},
                     (SDL_FPoint){cx + s * 0.6f + off, cy + s * 0.8f}, c);
        if (icon == VIZ_ICON_STEP_BACK || icon == VIZ_ICON_TO_START)
            viz_fill(d, (SDL_Rect){(int)(cx - s * 0.6f - bar * 0.6f), (int)(cy - s * 0.8f), (int)bar, (int)(1.6f * s)}, c);
        if (icon == VIZ_ICON_TO_START)
            viz_triangle(d, (SDL_FPoint){cx + s * 1.3f + off, cy - s * 0.8f}, (SDL_FPoint){cx + off, cy},
                         (SDL_FPoint){cx + s * 1.3f + off, cy + s * 0.8f}, c);
        break;
    }
    case VIZ_ICON_RIGHT:
    case VIZ_ICON_STEP_FORWARD:
    case VIZ_ICON_TO_END: {
        float off = icon == VIZ_ICON_RIGHT ? 0.0f : -bar;
        viz_triangle(d, (SDL_FPoint){cx - s * 0.6f + off, cy - s * 0.8f}, (SDL_FPoint){cx + s * 0.6f + off, cy},
                     (SDL_FPoint){cx - s * 0.6f + off, cy + s * 0.8f}, c);
        if (icon == VIZ_ICON_STEP_FORWARD || icon == VIZ_ICON_TO_END)
            viz_fill(d, (SDL_Rect){(int)(cx + s * 0.6f - bar * 0.4f), (int)(cy - s * 0.8f), (int)bar, (int)(1.6f * s)}, c);
        if (icon == VIZ_ICON_TO_END)
            viz_triangle(d, (SDL_FPoint){cx - s * 1.3f + off, cy - s * 0.8f}, (SDL_FPoint){cx + off, cy},
                         (SDL_FPoint){cx - s * 1.3f + off, cy + s * 0.8f}, c);
        break;
    }
    }
}

bool viz_ui_icon_button(viz_ui *u, uint32_t id, SDL_Rect r, viz_icon icon, bool primary)
{
    bool clicked = interact(u, id, r);
    viz_fill_round(u->d, r, viz_px(u->d, 5), widget_bg(u, id, primary));
    viz_ui_draw_icon(u->d, viz_inset(r, r.h / 6), icon, u->d->theme.text);
    return clicked;
}

bool viz_ui_toggle(viz_ui *u, uint32_t id, SDL_Rect r, const char *label, bool *value)
{
    bool clicked = interact(u, id, r);
    if (clicked) *value = !*value;
    viz_draw *d = u->d;
    const viz_theme *t = &d->theme;
    const int pill_h = viz_px(d, 16), pill_w = viz_px(d, 30);
    SDL_Rect pill = {r.x + r.w - pill_w, r.y + (r.h - pill_h) / 2, pill_w, pill_h};
    SDL_Color on = t->accent, off = u->hot == id ? t->widget_active : t->track;
    viz_fill_round(d, pill, pill_h / 2, *value ? on : off);
    const int k = pill_h - viz_px(d, 4);
    SDL_Rect knob = {*value ? pill.x + pill.w - k - viz_px(d, 2) : pill.x + viz_px(d, 2), pill.y + viz_px(d, 2), k, k};
    viz_fill_round(d, knob, k / 2, t->text);
    const SDL_Rect label_box = {r.x, r.y, pill.x - r.x - viz_px(d, 4), r.h};
    fitted_label(d, label_box, 0, label, false, VIZ_ALIGN_LEFT, u->hot == id ? t->title : t->text);
    return clicked;
}

bool viz_ui_slider(viz_ui *u, uint32_t id, SDL_Rect r, const char *label, const char *value_text,
                   double *value)
{
    viz_draw *d = u->d;
    const viz_theme *t = &d->theme;
    const int lh = viz_line_h(d, VIZ_SIZE_BODY);
    const int knob = viz_px(d, 14);
    SDL_Rect track = {r.x + knob / 2, r.y + lh + (r.h - lh - viz_px(d, 5)) / 2, r.w - knob, viz_px(d, 5)};
    SDL_Rect grab = {r.x, r.y + lh - viz_px(d, 2), r.w, r.h - lh + viz_px(d, 2)};
    interact(u, id, grab);
    double v = *value;
    bool changed = false;
    if (u->active == id && track.w > 0) {
        double nv = (double)(u->in.mx - track.x) / track.w;
        nv = nv < 0.0 ? 0.0 : nv > 1.0 ? 1.0 : nv; /* dragging past an end sits on it */
        if (nv != v) {
            v = nv;
            changed = true;
        }
    } else if (u->hot == id && u->in.wheel && u->active == 0) {
        v += u->in.wheel * 0.02;
        v = v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v;
        changed = v != *value;
    }
    *value = v;
    /* the value keeps its width; the label takes what is left (its versions, one per line) */
    const int vw = viz_label_fit(d, r.x + r.w, r.y, VIZ_ALIGN_RIGHT, VIZ_SIZE_BODY, true, t->accent, r.w, value_text);
    fitted_label(d, (SDL_Rect){r.x, r.y, r.w - vw - viz_px(d, 6), lh}, 0, label, false, VIZ_ALIGN_LEFT,
                 u->hot == id || u->active == id ? t->title : t->text);
    viz_fill_round(d, track, track.h / 2, t->track);
    SDL_Rect filled = track;
    filled.w = (int)lrint(track.w * v);
    viz_fill_round(d, filled, track.h / 2, t->accent);
    const int kx = track.x + filled.w - knob / 2, ky = track.y + track.h / 2 - knob / 2;
    SDL_Color kc = u->active == id ? t->title : u->hot == id ? viz_mix(t->text, t->accent, 0.3f) : t->text;
    viz_fill_round(d, (SDL_Rect){kx, ky, knob, knob}, knob / 2, kc);
    return changed;
}

bool viz_ui_stepper(viz_ui *u, uint32_t id, SDL_Rect r, const char *label, const char *value_text,
                    int *index, int count)
{
    viz_draw *d = u->d;
    const viz_theme *t = &d->theme;
    const int bw = r.h;
    int label_w = 0;
    viz_measure(d, VIZ_SIZE_BODY, false, label, &label_w, NULL);
    int box_w = r.w - label_w - viz_px(d, 12); /* the value gets all the room the label leaves */
    if (box_w < r.w * 45 / 100) box_w = r.w * 45 / 100;
    SDL_Rect box = {r.x + r.w - box_w, r.y, box_w, r.h};
    SDL_Rect left = {box.x, box.y, bw, box.h}, right = {box.x + box.w - bw, box.y, bw, box.h};
    SDL_Rect mid = {box.x + bw, box.y, box.w - 2 * bw, box.h};
    const int old = *index;
    if (interact(u, id ^ 0x1111u, left) && count > 0) *index = (*index + count - 1) % count;
    if (interact(u, id ^ 0x2222u, right) && count > 0) *index = (*index + 1) % count;
    /* clicking the value itself also moves on: the big target in a lecture */
    if (interact(u, id ^ 0x3333u, mid) && count > 0) *index = (*index + 1) % count;
    if (viz_point_in(box, u->in.mx, u->in.my) && u->in.wheel && u->active == 0 && u->layer >= u->top_layer && count > 0)
        *index = ((*index - u->in.wheel) % count + count) % count;
    const bool hot = u->hot == (id ^ 0x1111u) || u->hot == (id ^ 0x2222u) || u->hot == (id ^ 0x3333u);
    const SDL_Rect label_box = {r.x, r.y, box.x - r.x - viz_px(d, 4), r.h};
    fitted_label(d, label_box, 0, label, false, VIZ_ALIGN_LEFT, hot ? t->title : t->text);
    viz_fill_round(d, box, viz_px(d, 5), t->widget);
    viz_fill_round(d, left, viz_px(d, 5), widget_bg(u, id ^ 0x1111u, false));
    viz_fill_round(d, right, viz_px(d, 5), widget_bg(u, id ^ 0x2222u, false));
    if (u->hot == (id ^ 0x3333u)) viz_fill(d, mid, t->widget_hot);
    viz_ui_draw_icon(d, viz_inset(left, left.h / 4), VIZ_ICON_LEFT, t->text_dim);
    viz_ui_draw_icon(d, viz_inset(right, right.h / 4), VIZ_ICON_RIGHT, t->text_dim);
    /* a long model name shortens or shrinks, never spills over the arrows */
    fitted_label(d, mid, viz_px(d, 2), value_text, true, VIZ_ALIGN_CENTER, t->accent);
    return *index != old;
}

bool viz_ui_segmented(viz_ui *u, uint32_t id, SDL_Rect r, const char *const *names, int n, int *index)
{
    viz_draw *d = u->d;
    const viz_theme *t = &d->theme;
    const int old = *index;
    viz_fill_round(d, r, viz_px(d, 5), t->widget);
    for (int i = 0; i < n; i++) {
        SDL_Rect c = {r.x + r.w * i / n, r.y, r.w * (i + 1) / n - r.w * i / n, r.h};
        uint32_t cid = id + (uint32_t)i * 7919u;
        if (interact(u, cid, c)) *index = i;
        const bool sel = *index == i;
        if (sel) viz_fill_round(d, viz_inset(c, viz_px(d, 2)), viz_px(d, 4), viz_mix(t->widget, t->accent, 0.6f));
        else if (u->hot == cid) viz_fill_round(d, viz_inset(c, viz_px(d, 2)), viz_px(d, 4), t->widget_hot);
        fitted_label(d, c, viz_px(d, 3), names[i], sel, VIZ_ALIGN_CENTER, sel ? t->title : t->text_dim);
    }
    return *index != old;
}

bool viz_ui_scrub(viz_ui *u, uint32_t id, SDL_Rect r, double *value)
{
    interact(u, id, r);
    if (u->active != id || r.w <= 0) return false;
    double v = (double)(u->in.mx - r.x) / r.w;
    v = v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v;
    bool changed = v != *value;
    *value = v;
    return changed;
}
