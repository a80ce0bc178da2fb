/* text.c: cached text textures from SDL2_ttf or the 5x7 bitmap font (see text.h). */
#include "text.h"
#include "ddpm/fileio.h"

#include <SDL_ttf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddpm/image.h"

enum {
    CACHE_CAP = 1024,        /* entries; a power of two for the hash index */
    CACHE_EVICT_AT = 700,    /* above this many entries, old ones go */
    KEEP_FRAMES = 120,       /* strings drawn within this many frames stay */
    MAX_SIZES = 16,
};

typedef struct entry {
    uint64_t hash;
    char *str;               /* owned; NULL = empty slot */
    int px;
    viz_font_style style;
    SDL_Texture *tex;        /* NULL when the string renders to nothing */
    int w, h;
    SDL_Rect ink;            /* the pixels with coverage, relative to the top-left corner */
    uint64_t last_frame;
} entry;

typedef struct font_size {
    int px;
    TTF_Font *font[VIZ_FONT_STYLES];
} font_size;

enum { AUDIT_MAX = 1024, AUDIT_STR = 72 };
typedef struct mark {
    SDL_Rect ink, box;
    int layer;
    char s[AUDIT_STR];
} mark;

struct viz_text {
    SDL_Renderer *r;
    bool ttf;                /* SDL_ttf initialised and the font found */
    char path[VIZ_FONT_STYLES][4096];
    font_size sizes[MAX_SIZES];
    int n_sizes;
    entry slots[CACHE_CAP];  /* open addressing on hash */
    int count;
    uint64_t frame;
    /* the text-fit audit */
    mark *marks;             /* AUDIT_MAX while on, else NULL */
    int n_marks, layer;
    bool marks_full;
};

static uint64_t hash_key(const char *s, int px, viz_font_style style)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) h = (h ^ *p) * 1099511628211ull;
    h = (h ^ (uint64_t)px) * 1099511628211ull;
    h = (h ^ (uint64_t)style) * 1099511628211ull;
    return h;
}

viz_text *viz_text_create(SDL_Renderer *r, const char *font_dir, char *warning, size_t cap)
{
    viz_text *tx = calloc(1, sizeof *tx);
    if (!tx) return NULL;
    tx->r = r;
    if (warning && cap) warning[0] = '\0';
    snprintf(tx->path[VIZ_FONT_REGULAR], sizeof tx->path[0], "%s/DejaVuSans.ttf", font_dir);
    snprintf(tx->path[VIZ_FONT_BOLD], sizeof tx->path[0], "%s/DejaVuSans-Bold.ttf", font_dir);
    /* a FIFO or a device under the font's name must not block (open checks) */
    ddpm_error ferr = {0};
    FILE *f = ddpm_open_regular(tx->path[VIZ_FONT_REGULAR], &ferr);
    if (!f) {
        if (warning)
            snprintf(warning, cap, "Font not usable: %.3800s (using the built-in bitmap font; "
                     "restore assets/fonts/ for smooth text)", ferr.msg);
        return tx;
    }
    fclose(f);
    bool bold_ok = (f = ddpm_open_regular(tx->path[VIZ_FONT_BOLD], &ferr)) != NULL;
    if (f) fclose(f);
    if (TTF_Init() != 0) { /* counted (SDL_ttf >= 2.0.18): the exports' text has its own */
        if (warning) snprintf(warning, cap, "SDL_ttf failed (%s); using the built-in bitmap font", TTF_GetError());
        return tx;
    }
    /* A file that exists but is not a font (truncated, an HTML error page
     * saved under the font's name) must not leave the UI without text. */
    TTF_Font *probe = TTF_OpenFont(tx->path[VIZ_FONT_REGULAR], 14);
    if (!probe) {
        if (warning)
            snprintf(warning, cap, "Font unreadable: %.3700s (%.200s; using the built-in bitmap font; "
                     "reinstall fonts-dejavu-core or restore assets/fonts/)", tx->path[VIZ_FONT_REGULAR],
                     TTF_GetError());
        TTF_Quit();
        return tx;
    }
    TTF_CloseFont(probe);
    /* the bold face is optional: regular stands in for it, also when unreadable */
    probe = bold_ok ? TTF_OpenFont(tx->path[VIZ_FONT_BOLD], 14) : NULL;
    if (probe) TTF_CloseFont(probe);
    else snprintf(tx->path[VIZ_FONT_BOLD], sizeof tx->path[0], "%s", tx->path[VIZ_FONT_REGULAR]);
    tx->ttf = true;
    return tx;
}

static void drop_entry(entry *e)
{
    if (e->tex) SDL_DestroyTexture(e->tex);
    free(e->str);
    memset(e, 0, sizeof *e);
}

void viz_text_free(viz_text *tx)
{
    if (!tx) return;
    free(tx->marks);
    for (int i = 0; i < CACHE_CAP; i++)
        if (tx->slots[i].str) drop_entry(&tx->slots[i]);
    for (int i = 0; i < tx->n_sizes; i++)
        for (int s = 0; s < VIZ_FONT_STYLES; s++)
            if (tx->sizes[i].font[s]) TTF_CloseFont(tx->sizes[i].font[s]);
    if (tx->ttf) TTF_Quit();
    free(tx);
}

bool viz_text_is_fallback(const viz_text *tx) { return !tx->ttf; }

int viz_text_cached(const viz_text *tx) { return tx->count; }

static TTF_Font *font_for(viz_text *tx, int px, viz_font_style style)
{
    for (int i = 0; i < tx->n_sizes; i++)
        if (tx->sizes[i].px == px) {
            if (!tx->sizes[i].font[style]) tx->sizes[i].font[style] = TTF_OpenFont(tx->path[style], px);
            return tx->sizes[i].font[style];
        }
    if (tx->n_sizes == MAX_SIZES) { /* a window resized many times: start over */
        for (int i = 0; i < tx->n_sizes; i++)
            for (int s = 0; s < VIZ_FONT_STYLES; s++)
                if (tx->sizes[i].font[s]) TTF_CloseFont(tx->sizes[i].font[s]);
        memset(tx->sizes, 0, sizeof tx->sizes);
        tx->n_sizes = 0;
    }
    font_size *fs = &tx->sizes[tx->n_sizes++];
    fs->px = px;
    fs->font[style] = TTF_OpenFont(tx->path[style], px);
    return fs->font[style];
}

/* The bitmap font is ASCII: spell the UI's few other characters in ASCII
 * (x_t for xₜ, eta for η, ...) and drop combining marks (the hat of x̂). */
static void to_ascii(const char *in, char *out, size_t cap)
{
    static const struct { const char *utf8, *ascii; } map[] = {
        {"\xCE\xB7", "eta"}, {"\xCE\xB1", "a"}, {"\xCF\x83", "sigma"}, {"\xCE\xB5", "eps"}, {"\xCE\x94", "d"},
        {"\xC2\xB7", "|"}, {"\xE2\x88\x92", "-"}, {"\xE2\x88\x9A", "sqrt"}, {"\xC3\x97", "x"},
        {"\xE2\x86\x94", "<->"}, {"\xE2\x86\x92", "->"}, {"\xE2\x86\x90", "<-"}, {"\xE2\x86\x91", "up"},
        {"\xE2\x86\x93", "down"}, {"\xE2\x96\xB6", ">"}, {"\xE2\x97\x80", "<"}, {"\xE2\x9A\xA0", "!"},
        {"\xE2\x97\x8F", "*"}, {"\xE2\x80\x94", "-"}, {"\xE2\x80\xA6", "..."}, {"\xE2\x82\x9C", "_t"},
        {"\xE2\x82\x8B", "-"}, {"\xC2\xB1", "+-"},
    };
    size_t o = 0;
    while (*in && o + 1 < cap) {
        const unsigned char c = (unsigned char)*in;
        if (c < 0x80) {
            out[o++] = *in++;
            continue;
        }
        if (c == 0xCC || c == 0xCD) { /* combining marks U+0300..U+036F */
            in += in[1] ? 2 : 1;
            continue;
        }
        if (c == 0xE2 && (unsigned char)in[1] == 0x82 && (unsigned char)in[2] >= 0x80 && (unsigned char)in[2] <= 0x89) {
            out[o++] = (char)('0' + ((unsigned char)in[2] - 0x80)); /* subscript digits */
            in += 3;
            continue;
        }
        bool found = false;
        for (size_t i = 0; i < sizeof map / sizeof map[0] && !found; i++) {
            size_t n = strlen(map[i].utf8);
            if (strncmp(in, map[i].utf8, n) == 0) {
                for (const char *a = map[i].ascii; *a && o + 1 < cap; a++) out[o++] = *a;
                in += n;
                found = true;
            }
        }
        if (found) continue;
        out[o++] = '?'; /* anything else: one '?' per character */
        in++;
        while (((unsigned char)*in & 0xC0) == 0x80) in++;
    }
    out[o] = '\0';
}

/* White text on a transparent surface, from the bitmap font. */
static SDL_Surface *render_bitmap(const char *utf8, int px)
{
    char s[1024];
    to_ascii(utf8, s, sizeof s);
    int scale = (px + 6) / 11;
    if (scale < 1) scale = 1;
    int w = ddpm_image_text_width(s, scale), h = ddpm_image_text_height(scale);
    if (w <= 0) return NULL;
    ddpm_image img;
    ddpm_image_init(&img, w, h);
    ddpm_image_draw_text(&img, 0, 0, s, scale, DDPM_RGB_WHITE);
    SDL_Surface *surf = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
    if (surf) {
        for (int y = 0; y < h; y++) {
            uint32_t *row = (uint32_t *)((uint8_t *)surf->pixels + (size_t)y * surf->pitch);
            for (int x = 0; x < w; x++) row[x] = (uint32_t)ddpm_image_pixel(&img, x, y)[0] << 24 | 0xFFFFFFu;
        }
    }
    ddpm_image_free(&img);
    return surf;
}

/* Drops the strings not drawn within the last keep_frames frames and
 * rebuilds the index, so that linear probing finds the rest. */
static void evict(viz_text *tx, uint64_t keep_frames)
{
    static entry keep[CACHE_CAP]; /* main thread only */
    int n = 0;
    for (int i = 0; i < CACHE_CAP; i++) {
        entry *e = &tx->slots[i];
        if (!e->str) continue;
        if (tx->frame - e->last_frame > keep_frames) drop_entry(e);
        else keep[n++] = *e;
    }
    memset(tx->slots, 0, sizeof tx->slots);
    for (int i = 0; i < n; i++) {
        size_t j = keep[i].hash & (CACHE_CAP - 1);
        while (tx->slots[j].str) j = (j + 1) & (CACHE_CAP - 1);
        tx->slots[j] = keep[i];
    }
    tx->count = n;
}

/* The bounding box of the pixels with any coverage (alpha > 0). */
static SDL_Rect ink_rect(SDL_Surface *surf)
{
    int x0 = surf->w, y0 = surf->h, x1 = -1, y1 = -1;
    if (SDL_LockSurface(surf) == 0) {
        const int bpp = surf->format->BytesPerPixel;
        for (int y = 0; y < surf->h; y++) {
            const uint8_t *row = (const uint8_t *)surf->pixels + (size_t)y * surf->pitch;
            for (int x = 0; x < surf->w; x++) {
                uint32_t px = 0;
                memcpy(&px, row + (size_t)x * bpp, bpp <= 4 ? (size_t)bpp : 4);
                uint8_t r, g, b, a;
                SDL_GetRGBA(px, surf->format, &r, &g, &b, &a);
                if (a == 0 || (!surf->format->Amask && r + g + b == 0)) continue;
                if (x < x0) x0 = x;
                if (x > x1) x1 = x;
                if (y < y0) y0 = y;
                if (y > y1) y1 = y;
            }
        }
        SDL_UnlockSurface(surf);
    }
    return x1 < 0 ? (SDL_Rect){0, 0, 0, 0} : (SDL_Rect){x0, y0, x1 - x0 + 1, y1 - y0 + 1};
}

static entry *lookup(viz_text *tx, const char *s, int px, viz_font_style style)
{
    if (px < 4) px = 4;
    if (px > 400) px = 400;
    const uint64_t h = hash_key(s, px, style);
    size_t j = h & (CACHE_CAP - 1);
    while (tx->slots[j].str) {
        entry *e = &tx->slots[j];
        if (e->hash == h && e->px == px && e->style == style && strcmp(e->str, s) == 0) {
            e->last_frame = tx->frame;
            return e;
        }
        j = (j + 1) & (CACHE_CAP - 1);
    }
    if (tx->count >= CACHE_CAP - 1) return NULL; /* full within one frame: draw nothing */
    entry *e = &tx->slots[j];
    e->str = strdup(s);
    if (!e->str) return NULL;
    e->hash = h;
    e->px = px;
    e->style = style;
    e->last_frame = tx->frame;
    tx->count++;
    SDL_Surface *surf = NULL;
    if (tx->ttf && s[0]) {
        TTF_Font *f = font_for(tx, px, style);
        if (f) surf = TTF_RenderUTF8_Blended(f, s, (SDL_Color){255, 255, 255, 255});
    } else if (s[0]) {
        surf = render_bitmap(s, px);
    }
    if (surf) {
        e->w = surf->w;
        e->h = surf->h;
        e->ink = ink_rect(surf);
        e->tex = SDL_CreateTextureFromSurface(tx->r, surf);
        if (e->tex) SDL_SetTextureBlendMode(e->tex, SDL_BLENDMODE_BLEND);
        SDL_FreeSurface(surf);
    } else if (tx->ttf) {
        TTF_Font *f = font_for(tx, px, style);
        e->h = f ? TTF_FontHeight(f) : px;
    } else {
        e->h = ddpm_image_text_height((px + 6) / 11 > 0 ? (px + 6) / 11 : 1);
    }
    return e;
}

void viz_text_size(viz_text *tx, int px, viz_font_style style, const char *s, int *w, int *h)
{
    entry *e = lookup(tx, s, px, style);
    if (w) *w = e ? e->w : 0;
    if (h) *h = e ? e->h : px;
}

void viz_text_draw_in(viz_text *tx, viz_gfx *g, int px, viz_font_style style, const char *s, int x, int y,
                      SDL_Color color, const SDL_Rect *box)
{
    entry *e = lookup(tx, s, px, style);
    if (!e || !e->tex) return;
    SDL_Rect dst = {x, y, e->w, e->h};
    viz_gfx_copy(g, e->tex, e->hash, &dst, color);
    if (!tx->marks || e->ink.w == 0 || color.a == 0) return;
    if (tx->n_marks >= AUDIT_MAX) {
        tx->marks_full = true;
        return;
    }
    mark *m = &tx->marks[tx->n_marks++];
    m->ink = (SDL_Rect){x + e->ink.x, y + e->ink.y, e->ink.w, e->ink.h};
    m->box = viz_gfx_bounds(g);
    SDL_Rect in;
    if (box && SDL_IntersectRect(box, &m->box, &in)) m->box = in;
    else if (box) m->box.w = m->box.h = 0;
    m->layer = tx->layer;
    snprintf(m->s, sizeof m->s, "%s", s);
}

void viz_text_draw(viz_text *tx, viz_gfx *g, int px, viz_font_style style, const char *s, int x, int y,
                   SDL_Color color)
{
    viz_text_draw_in(tx, g, px, style, s, x, y, color, NULL);
}

void viz_text_audit(viz_text *tx, bool on)
{
    if (on && !tx->marks) tx->marks = malloc(AUDIT_MAX * sizeof *tx->marks);
    if (!on) {
        free(tx->marks);
        tx->marks = NULL;
    }
    tx->n_marks = 0;
    tx->layer = 0;
    tx->marks_full = false;
}

void viz_text_audit_layer(viz_text *tx) { tx->layer++; }

static bool inside(SDL_Rect a, SDL_Rect b)
{
    return a.x >= b.x && a.y >= b.y && a.x + a.w <= b.x + b.w && a.y + a.h <= b.y + b.h;
}

int viz_text_audit_report(const viz_text *tx, char *buf, size_t cap)
{
    size_t used = 0;
    int n = 0;
#define SAY(...)                                                                         \
    do {                                                                                 \
        n++;                                                                             \
        if (buf && used < cap) {                                                         \
            int k = snprintf(buf + used, cap - used, __VA_ARGS__);                       \
            used += k > 0 ? (size_t)k : 0;                                               \
        }                                                                                \
    } while (0)
    if (buf && cap) buf[0] = '\0';
    if (!tx->marks) return 0;
    if (tx->marks_full) SAY("more than %d strings in a frame: not all audited\n", AUDIT_MAX);
    for (int i = 0; i < tx->n_marks; i++) {
        const mark *m = &tx->marks[i];
        if (!inside(m->ink, m->box))
            SAY("cut off: \"%s\" ink x %d..%d y %d..%d, box x %d..%d y %d..%d\n", m->s, m->ink.x, m->ink.x + m->ink.w,
                m->ink.y, m->ink.y + m->ink.h, m->box.x, m->box.x + m->box.w, m->box.y, m->box.y + m->box.h);
        for (int j = 0; j < i; j++) {
            const mark *o = &tx->marks[j];
            SDL_Rect r;
            /* a pixel of antialiasing may touch; more is an overprint */
            if (o->layer == m->layer && SDL_IntersectRect(&m->ink, &o->ink, &r) && r.w > 1 && r.h > 1)
                SAY("overprint: \"%s\" and \"%s\" share %dx%d px at (%d, %d)\n", o->s, m->s, r.w, r.h, r.x, r.y);
        }
    }
#undef SAY
    return n;
}

void viz_text_end_frame(viz_text *tx)
{
    if (tx->count > CACHE_EVICT_AT) evict(tx, KEEP_FRAMES);
    if (tx->count > CACHE_EVICT_AT) evict(tx, 0); /* all recent: keep this frame's only */
    tx->frame++;
}
