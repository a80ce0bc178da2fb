/* draw.c: shapes, text and image textures for the panels (see draw.h). */
#include "draw.h"
#include "layout.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

SDL_Color viz_rgba(uint8_t r, uint8_t g, uint8_t b, uint8_t a) { return (SDL_Color){r, g, b, a}; }

SDL_Color viz_mix(SDL_Color a, SDL_Color b, float t)
{
    SDL_Color c;
    c.r = (uint8_t)lrintf(a.r + (b.r - a.r) * t);
    c.g = (uint8_t)lrintf(a.g + (b.g - a.g) * t);
    c.b = (uint8_t)lrintf(a.b + (b.b - a.b) * t);
    c.a = (uint8_t)lrintf(a.a + (b.a - a.a) * t);
    return c;
}

static void theme_init(viz_theme *t, bool lecture)
{
    if (!lecture) {
        t->bg = viz_rgba(17, 19, 24, 255);
        t->panel = viz_rgba(27, 30, 38, 255);
        t->panel_edge = viz_rgba(44, 49, 61, 255);
        t->header = viz_rgba(22, 25, 31, 255);
        t->text = viz_rgba(222, 226, 234, 255);
        t->text_dim = viz_rgba(139, 147, 163, 255);
        t->title = viz_rgba(240, 242, 246, 255);
        t->accent = viz_rgba(86, 166, 255, 255);
        t->accent_soft = viz_rgba(86, 166, 255, 60);
        t->second = viz_rgba(255, 176, 64, 255);
        t->warn = viz_rgba(255, 196, 61, 255);
        t->error = viz_rgba(255, 92, 92, 255);
        t->ok = viz_rgba(96, 210, 130, 255);
        t->widget = viz_rgba(40, 45, 56, 255);
        t->widget_hot = viz_rgba(52, 59, 73, 255);
        t->widget_active = viz_rgba(64, 74, 92, 255);
        t->track = viz_rgba(58, 64, 78, 255);
        t->grid = viz_rgba(50, 55, 67, 255);
        t->cursor = viz_rgba(255, 255, 255, 230);
        t->image_frame = viz_rgba(60, 66, 80, 255);
        t->line = 2.0f;
    } else {
        /* a projector washes out greys: black, white and saturated colours */
        t->bg = viz_rgba(0, 0, 0, 255);
        t->panel = viz_rgba(10, 10, 12, 255);
        t->panel_edge = viz_rgba(110, 110, 120, 255);
        t->header = viz_rgba(0, 0, 0, 255);
        t->text = viz_rgba(255, 255, 255, 255);
        t->text_dim = viz_rgba(205, 205, 215, 255);
        t->title = viz_rgba(255, 255, 255, 255);
        t->accent = viz_rgba(80, 200, 255, 255);
        t->accent_soft = viz_rgba(80, 200, 255, 80);
        t->second = viz_rgba(255, 200, 0, 255);
        t->warn = viz_rgba(255, 220, 0, 255);
        t->error = viz_rgba(255, 70, 70, 255);
        t->ok = viz_rgba(80, 255, 120, 255);
        t->widget = viz_rgba(30, 30, 36, 255);
        t->widget_hot = viz_rgba(55, 55, 66, 255);
        t->widget_active = viz_rgba(80, 80, 96, 255);
        t->track = viz_rgba(90, 90, 104, 255);
        t->grid = viz_rgba(70, 70, 80, 255);
        t->cursor = viz_rgba(255, 255, 0, 255);
        t->image_frame = viz_rgba(150, 150, 160, 255);
        t->line = 3.0f;
    }
}

void viz_draw_init(viz_draw *d, SDL_Renderer *r, viz_gfx *g, viz_text *text)
{
    memset(d, 0, sizeof *d);
    d->r = r;
    d->g = g;
    d->text = text;
    viz_draw_set_scale(d, 1.0f, false);
}

void viz_draw_set_scale(viz_draw *d, float scale, bool lecture)
{
    d->scale = scale > 0.25f ? scale : 0.25f;
    d->lecture = lecture;
    theme_init(&d->theme, lecture);
}

int viz_px(const viz_draw *d, float units) { return (int)lrintf(units * d->scale); }

int viz_text_px(const viz_draw *d, viz_text_size_kind size)
{
    static const float base[] = {11.5f, 13.5f, 15.5f, 22.0f};
    float mult = d->lecture ? VIZ_LECTURE_TEXT : 1.0f;
    int px = (int)lrintf(base[size] * mult * d->scale);
    return px < 8 ? 8 : px;
}

void viz_fill(viz_draw *d, SDL_Rect r, SDL_Color c)
{
    viz_gfx_fill(d->g, &r, c);
}

void viz_triangle(viz_draw *d, SDL_FPoint a, SDL_FPoint b, SDL_FPoint c, SDL_Color col)
{
    SDL_Vertex v[3] = {{a, col, {0, 0}}, {b, col, {0, 0}}, {c, col, {0, 0}}};
    viz_gfx_triangles(d->g, v, 3);
}

void viz_fill_round(viz_draw *d, SDL_Rect r, int radius, SDL_Color c)
{
    if (r.w <= 0 || r.h <= 0) return;
    if (radius * 2 > r.w) radius = r.w / 2;
    if (radius * 2 > r.h) radius = r.h / 2;
    if (radius < 2) {
        viz_fill(d, r, c);
        return;
    }
    viz_fill(d, (SDL_Rect){r.x + radius, r.y, r.w - 2 * radius, r.h}, c);
    viz_fill(d, (SDL_Rect){r.x, r.y + radius, radius, r.h - 2 * radius}, c);
    viz_fill(d, (SDL_Rect){r.x + r.w - radius, r.y + radius, radius, r.h - 2 * radius}, c);
    /* four quarter discs as triangle fans */
    enum { SEG = 6 };
    const float cx[4] = {r.x + radius, r.x + r.w - radius, r.x + r.w - radius, r.x + radius};
    const float cy[4] = {r.y + radius, r.y + radius, r.y + r.h - radius, r.y + r.h - radius};
    const float start[4] = {(float)M_PI, 1.5f * (float)M_PI, 0.0f, 0.5f * (float)M_PI};
    SDL_Vertex v[4 * SEG * 3];
    int n = 0;
    for (int q = 0; q < 4; q++)
        for (int s = 0; s < SEG; s++) {
            float a0 = start[q] + (float)M_PI * 0.5f * s / SEG, a1 = start[q] + (float)M_PI * 0.5f * (s + 1) / SEG;
            v[n++] = (SDL_Vertex){{cx[q], cy[q]}, c, {0, 0}};
            v[n++] = (SDL_Vertex){{cx[q] + radius * cosf(a0), cy[q] + radius * sinf(a0)}, c, {0, 0}};
            v[n++] = (SDL_Vertex){{cx[q] + radius * cosf(a1), cy[q] + radius * sinf(a1)}, c, {0, 0}};
        }
    viz_gfx_triangles(d->g, v, n);
}

void viz_outline(viz_draw *d, SDL_Rect r, int t, SDL_Color c)
{
    if (t < 1) t = 1;
    viz_fill(d, (SDL_Rect){r.x, r.y, r.w, t}, c);
    viz_fill(d, (SDL_Rect){r.x, r.y + r.h - t, r.w, t}, c);
    viz_fill(d, (SDL_Rect){r.x, r.y + t, t, r.h - 2 * t}, c);
    viz_fill(d, (SDL_Rect){r.x + r.w - t, r.y + t, t, r.h - 2 * t}, c);
}

void viz_line(viz_draw *d, float x0, float y0, float x1, float y1, float width, SDL_Color c)
{
    float dx = x1 - x0, dy = y1 - y0, len = sqrtf(dx * dx + dy * dy);
    if (len < 1e-3f) return;
    float nx = -dy / len * width * 0.5f, ny = dx / len * width * 0.5f;
    SDL_Vertex v[6] = {
        {{x0 + nx, y0 + ny}, c, {0, 0}}, {{x1 + nx, y1 + ny}, c, {0, 0}}, {{x1 - nx, y1 - ny}, c, {0, 0}},
        {{x0 + nx, y0 + ny}, c, {0, 0}}, {{x1 - nx, y1 - ny}, c, {0, 0}}, {{x0 - nx, y0 - ny}, c, {0, 0}},
    };
    viz_gfx_triangles(d->g, v, 6);
}

void viz_polyline(viz_draw *d, const SDL_FPoint *p, int n, float width, SDL_Color c)
{
    for (int i = 0; i + 1 < n; i++) viz_line(d, p[i].x, p[i].y, p[i + 1].x, p[i + 1].y, width, c);
    /* round the joints a little: a small square at each inner point */
    if (width >= 2.5f)
        for (int i = 1; i + 1 < n; i++) {
            int h = (int)(width * 0.5f);
            viz_fill(d, (SDL_Rect){(int)p[i].x - h, (int)p[i].y - h, 2 * h, 2 * h}, c);
        }
}

void viz_fill_under(viz_draw *d, const SDL_FPoint *p, int n, float base, SDL_Color c)
{
    for (int i = 0; i + 1 < n; i++) {
        SDL_Vertex v[6] = {
            {{p[i].x, p[i].y}, c, {0, 0}},     {{p[i + 1].x, p[i + 1].y}, c, {0, 0}},
            {{p[i + 1].x, base}, c, {0, 0}},   {{p[i].x, p[i].y}, c, {0, 0}},
            {{p[i + 1].x, base}, c, {0, 0}},   {{p[i].x, base}, c, {0, 0}},
        };
        viz_gfx_triangles(d->g, v, 6);
    }
}

/* ---- text ------------------------------------------------------------------------ */

static int label_v(viz_draw *d, int x, int y, viz_align align, viz_text_size_kind size, bool bold,
                   SDL_Color c, const char *fmt, va_list ap)
{
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    const int px = viz_text_px(d, size);
    const viz_font_style st = bold ? VIZ_FONT_BOLD : VIZ_FONT_REGULAR;
    int w = 0, h = 0;
    viz_text_size(d->text, px, st, buf, &w, &h);
    if (align == VIZ_ALIGN_CENTER) x -= w / 2;
    else if (align == VIZ_ALIGN_RIGHT) x -= w;
    viz_text_draw(d->text, d->g, px, st, buf, x, y, c);
    return w;
}

int viz_label(viz_draw *d, int x, int y, viz_align align, viz_text_size_kind size, SDL_Color c,
              const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = label_v(d, x, y, align, size, false, c, fmt, ap);
    va_end(ap);
    return w;
}

int viz_label_bold(viz_draw *d, int x, int y, viz_align align, viz_text_size_kind size, SDL_Color c,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = label_v(d, x, y, align, size, true, c, fmt, ap);
    va_end(ap);
    return w;
}

int viz_colorbar(viz_draw *d, SDL_Rect r, float lo, float hi, int room)
{
    /* the tone maps of tone.h: lo black .. hi white (signed: -m, 0 mid-gray, +m) */
    enum { BANDS = 24 };
    for (int i = 0; i < BANDS; i++) {
        const int y0 = r.y + r.h * i / BANDS, y1 = r.y + r.h * (i + 1) / BANDS;
        const uint8_t g = (uint8_t)lrintf(255.0f * (1.0f - (i + 0.5f) / BANDS));
        viz_fill(d, (SDL_Rect){r.x, y0, r.w, y1 - y0}, viz_rgba(g, g, g, 255));
    }
    viz_outline(d, r, 1, d->theme.image_frame);
    char top[32], bottom[32], mid[32];
    const bool sign = lo < 0;
    snprintf(top, sizeof top, "%s%.2g", sign ? "+" : "", hi);
    snprintf(bottom, sizeof bottom, "%s%.2g", sign ? "\xE2\x88\x92" : "", sign ? -lo : lo);
    snprintf(mid, sizeof mid, "%.2g", 0.5 * (lo + hi));
    int w1 = 0, w2 = 0, sh = 0;
    viz_measure(d, VIZ_SIZE_SMALL, false, top, &w1, &sh);
    viz_measure(d, VIZ_SIZE_SMALL, false, bottom, &w2, NULL);
    const int lw = (w1 > w2 ? w1 : w2) + viz_px(d, 4);
    if (lw > room || r.h < 2 * sh) return r.w; /* the bar alone: the caption gives the range */
    const int x = r.x + r.w + viz_px(d, 4);
    viz_label(d, x, r.y - sh / 4, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, d->theme.text_dim, "%s", top);
    if (r.h >= 3 * sh) viz_label(d, x, r.y + r.h / 2 - sh / 2, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, d->theme.text_dim, "%s", mid);
    viz_label(d, x, r.y + r.h - sh + sh / 4, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, d->theme.text_dim, "%s", bottom);
    return r.w + lw;
}

void viz_subscript(char *out, size_t cap, int n)
{
    static const char *const digits[10] = {"\xE2\x82\x80", "\xE2\x82\x81", "\xE2\x82\x82", "\xE2\x82\x83",
                                           "\xE2\x82\x84", "\xE2\x82\x85", "\xE2\x82\x86", "\xE2\x82\x87",
                                           "\xE2\x82\x88", "\xE2\x82\x89"};
    char dec[16];
    snprintf(dec, sizeof dec, "%d", n < 0 ? -n : n);
    size_t used = 0;
    if (cap) out[0] = '\0';
    if (n < 0 && used + 3 < cap) memcpy(out + used, "\xE2\x82\x8B", 3), used += 3, out[used] = '\0';
    for (const char *p = dec; *p && used + 3 < cap; p++) {
        memcpy(out + used, digits[*p - '0'], 3);
        used += 3;
        out[used] = '\0';
    }
}

double viz_nice_step(double range, int max_ticks)
{
    if (max_ticks < 1) max_ticks = 1;
    if (!(range > 0)) return 1.0;
    const double raw = range / max_ticks, mag = pow(10.0, floor(log10(raw)));
    static const double nice[] = {1, 2, 2.5, 5, 10};
    for (int i = 0; i < 5; i++)
        if (nice[i] * mag >= raw - 1e-12 * mag) return nice[i] * mag;
    return 10 * mag;
}

int viz_fit_text(viz_draw *d, viz_text_size_kind size, bool bold, int max_w, const char *alts, char *out, size_t cap,
                 int *w_out)
{
    const viz_font_style st = bold ? VIZ_FONT_BOLD : VIZ_FONT_REGULAR;
    const char *p = alts;
    int px = viz_text_px(d, size), w = 0, h = 0;
    for (;;) {
        const char *bar = strchr(p, '\n');
        const size_t n = bar ? (size_t)(bar - p) : strlen(p);
        snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
        viz_text_size(d->text, px, st, out, &w, &h);
        if (w <= max_w || !bar) break;
        p = bar + 1;
    }
    /* the shortest still too wide: a smaller size, by design rather than cut */
    while (w > max_w && px > 8) {
        px = px * 9 / 10 < px - 1 ? px * 9 / 10 : px - 1;
        viz_text_size(d->text, px, st, out, &w, &h);
    }
    if (w_out) *w_out = w;
    return w > max_w ? 0 : px;
}

int viz_label_fit(viz_draw *d, int x, int y, viz_align align, viz_text_size_kind size, bool bold, SDL_Color c,
                  int max_w, const char *alts)
{
    char buf[512];
    int w = 0;
    const int px = viz_fit_text(d, size, bold, max_w, alts, buf, sizeof buf, &w);
    if (!px) return 0; /* no room at all: nothing rather than a fragment */
    if (align == VIZ_ALIGN_CENTER) x -= w / 2;
    else if (align == VIZ_ALIGN_RIGHT) x -= w;
    /* a smaller size sits on the same baseline region: centred in the line */
    int h0 = 0, h1 = 0;
    viz_text_size(d->text, viz_text_px(d, size), bold ? VIZ_FONT_BOLD : VIZ_FONT_REGULAR, "Ag", NULL, &h0);
    viz_text_size(d->text, px, bold ? VIZ_FONT_BOLD : VIZ_FONT_REGULAR, "Ag", NULL, &h1);
    viz_text_draw(d->text, d->g, px, bold ? VIZ_FONT_BOLD : VIZ_FONT_REGULAR, buf, x, y + (h0 - h1) / 2, c);
    return w;
}

void viz_measure(viz_draw *d, viz_text_size_kind size, bool bold, const char *s, int *w, int *h)
{
    viz_text_size(d->text, viz_text_px(d, size), bold ? VIZ_FONT_BOLD : VIZ_FONT_REGULAR, s, w, h);
}

int viz_line_h(viz_draw *d, viz_text_size_kind size)
{
    int h = 0;
    viz_measure(d, size, false, "Ag", NULL, &h);
    return h;
}

int viz_chip(viz_draw *d, int x, int y, SDL_Color bg, SDL_Color fg, const char *text)
{
    int w = 0, h = 0;
    viz_measure(d, VIZ_SIZE_SMALL, true, text, &w, &h);
    const int padx = viz_px(d, 7), pady = viz_px(d, 2);
    SDL_Rect r = {x, y, w + 2 * padx, h + 2 * pady};
    viz_fill_round(d, r, r.h / 2, bg);
    viz_text_draw(d->text, d->g, viz_text_px(d, VIZ_SIZE_SMALL), VIZ_FONT_BOLD, text, x + padx, y + pady, fg);
    return r.w;
}

/* ---- images ---------------------------------------------------------------------- */

void viz_image_update(viz_draw *d, viz_image_tex *t, uint64_t key, const uint32_t *argb, int w, int h)
{
    if (key != 0 && t->key == key && t->tex) return;
    if (!t->tex || t->w != w || t->h != h) {
        if (t->tex) SDL_DestroyTexture(t->tex);
        t->tex = SDL_CreateTexture(d->r, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_STATIC, w, h);
        if (!t->tex) {
            t->key = 0;
            return;
        }
        SDL_SetTextureScaleMode(t->tex, SDL_ScaleModeNearest);
        t->w = w;
        t->h = h;
    }
    SDL_UpdateTexture(t->tex, NULL, argb, w * 4);
    t->key = key;
    t->serial = viz_gfx_next_serial();
}

SDL_Rect viz_fit(SDL_Rect r, int w, int h)
{
    if (w <= 0 || h <= 0 || r.w <= 0 || r.h <= 0) return (SDL_Rect){r.x, r.y, 0, 0};
    double s = fmin((double)r.w / w, (double)r.h / h);
    /* whole multiples keep every pixel the same size, if that costs < 15% */
    if (s >= 1.0 && floor(s) >= 0.85 * s) s = floor(s);
    int dw = (int)(w * s), dh = (int)(h * s);
    return (SDL_Rect){r.x + (r.w - dw) / 2, r.y + (r.h - dh) / 2, dw, dh};
}

SDL_Rect viz_image_draw(viz_draw *d, const viz_image_tex *t, SDL_Rect r)
{
    if (!t->tex) return (SDL_Rect){r.x, r.y, 0, 0};
    SDL_Rect dst = viz_fit(r, t->w, t->h);
    viz_gfx_copy(d->g, t->tex, t->serial, &dst, (SDL_Color){255, 255, 255, 255});
    return dst;
}

void viz_image_free(viz_image_tex *t)
{
    if (t->tex) SDL_DestroyTexture(t->tex);
    memset(t, 0, sizeof *t);
}

uint64_t viz_key(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
    uint64_t h = 0x9E3779B97F4A7C15ull;
    const uint64_t v[4] = {a, b, c, d};
    for (int i = 0; i < 4; i++) {
        h ^= v[i] + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
        h *= 0xBF58476D1CE4E5B9ull;
    }
    return h ? h : 1;
}

bool viz_point_in(SDL_Rect r, int x, int y) { return x >= r.x && y >= r.y && x < r.x + r.w && y < r.y + r.h; }

SDL_Rect viz_inset(SDL_Rect r, int by) { return (SDL_Rect){r.x + by, r.y + by, r.w - 2 * by, r.h - 2 * by}; }
