/* gfx.c: drawing through SDL's renderer, and the panel cache (see gfx.h). */
#include "gfx.h"

#include <stdlib.h>
#include <string.h>

typedef enum { CMD_FILL, CMD_TRIANGLES, CMD_COPY, CMD_CLIP } cmd_kind;

/* One recorded call.  Commands are zeroed before they are filled, so the
 * hash over their bytes (padding included) sees only what was recorded. */
typedef struct {
    int kind;
    SDL_Rect r;              /* FILL, COPY (dst), CLIP (w = 0: none) */
    SDL_Color c;             /* FILL colour, COPY mod */
    SDL_Texture *tex;
    uint64_t content;
    int v0, nv;              /* TRIANGLES: the vertices */
} cmd;

typedef struct {
    SDL_Texture *tex;
    int w, h;
    uint64_t hash;
    bool valid;
} slot;

struct viz_gfx {
    SDL_Renderer *r;
    bool targets, caching;
    /* the recording (slot >= 0 while one is under way) */
    int rec;
    SDL_Rect area, clip;
    SDL_Color bg;
    bool failed;             /* a recording ran out of memory: this panel is lost for a frame */
    cmd *cmds;
    int n_cmds, cap_cmds;
    SDL_Vertex *verts;
    int n_verts, cap_verts;
    /* replay buffers */
    SDL_Vertex *tv;
    int cap_tv;
    SDL_Rect *tr;
    int cap_tr;
    slot slots[VIZ_GFX_SLOTS];
};

uint64_t viz_gfx_next_serial(void)
{
    static uint64_t serial = 0; /* main thread only, like all drawing */
    return ++serial;
}

viz_gfx *viz_gfx_create(SDL_Renderer *r)
{
    viz_gfx *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->r = r;
    g->targets = SDL_RenderTargetSupported(r) == SDL_TRUE;
    g->caching = g->targets;
    g->rec = -1;
    return g;
}

void viz_gfx_invalidate(viz_gfx *g)
{
    for (int i = 0; i < VIZ_GFX_SLOTS; i++) g->slots[i].valid = false;
}

void viz_gfx_free(viz_gfx *g)
{
    if (!g) return;
    for (int i = 0; i < VIZ_GFX_SLOTS; i++)
        if (g->slots[i].tex) SDL_DestroyTexture(g->slots[i].tex);
    free(g->cmds);
    free(g->verts);
    free(g->tv);
    free(g->tr);
    free(g);
}

void viz_gfx_set_caching(viz_gfx *g, bool on)
{
    g->caching = on && g->targets;
    viz_gfx_invalidate(g);
}

bool viz_gfx_caching(const viz_gfx *g) { return g->caching; }

/* ---- recording ------------------------------------------------------------------ */

/* p with room for `need` elements (grown by doubling; *cap updated), or
 * NULL when out of memory (p is then still valid). */
static void *grow(void *p, int *cap, int need, size_t elem)
{
    if (need <= *cap) return p;
    int n = *cap ? *cap : 256;
    while (n < need) n *= 2;
    void *q = realloc(p, (size_t)n * elem);
    if (q) *cap = n;
    return q;
}

static cmd *record(viz_gfx *g, int kind)
{
    cmd *cmds = g->failed ? NULL : grow(g->cmds, &g->cap_cmds, g->n_cmds + 1, sizeof(cmd));
    if (!cmds) {
        g->failed = true;
        return NULL;
    }
    g->cmds = cmds;
    cmd *c = &g->cmds[g->n_cmds++];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    return c;
}

/* ---- the calls -------------------------------------------------------------------- */

static void fill_now(SDL_Renderer *r, const SDL_Rect *rects, int n, SDL_Color c)
{
    SDL_SetRenderDrawBlendMode(r, c.a == 255 ? SDL_BLENDMODE_NONE : SDL_BLENDMODE_BLEND);
    SDL_SetRenderDrawColor(r, c.r, c.g, c.b, c.a);
    SDL_RenderFillRects(r, rects, n);
}

static void triangles_now(SDL_Renderer *r, const SDL_Vertex *v, int n)
{
    SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_BLEND);
    SDL_RenderGeometry(r, NULL, v, n, NULL, 0);
}

static void copy_now(SDL_Renderer *r, SDL_Texture *tex, const SDL_Rect *dst, SDL_Color mod)
{
    SDL_SetTextureColorMod(tex, mod.r, mod.g, mod.b);
    SDL_SetTextureAlphaMod(tex, mod.a);
    SDL_RenderCopy(r, tex, NULL, dst);
}

void viz_gfx_fill(viz_gfx *g, const SDL_Rect *r, SDL_Color c)
{
    if (r->w <= 0 || r->h <= 0) return;
    if (g->rec < 0) {
        fill_now(g->r, r, 1, c);
        return;
    }
    cmd *k = record(g, CMD_FILL);
    if (k) k->r = *r, k->c = c;
}

void viz_gfx_triangles(viz_gfx *g, const SDL_Vertex *v, int n)
{
    if (n < 3) return;
    if (g->rec < 0) {
        triangles_now(g->r, v, n);
        return;
    }
    SDL_Vertex *verts = grow(g->verts, &g->cap_verts, g->n_verts + n, sizeof(SDL_Vertex));
    if (!verts) {
        g->failed = true;
        return;
    }
    g->verts = verts;
    cmd *k = record(g, CMD_TRIANGLES);
    if (!k) return;
    k->v0 = g->n_verts;
    k->nv = n;
    memcpy(g->verts + g->n_verts, v, sizeof(SDL_Vertex) * (size_t)n);
    g->n_verts += n;
}

void viz_gfx_copy(viz_gfx *g, SDL_Texture *tex, uint64_t content, const SDL_Rect *dst, SDL_Color mod)
{
    if (!tex) return;
    if (g->rec < 0) {
        copy_now(g->r, tex, dst, mod);
        return;
    }
    cmd *k = record(g, CMD_COPY);
    if (k) k->tex = tex, k->content = content, k->r = *dst, k->c = mod;
}

void viz_gfx_set_clip(viz_gfx *g, const SDL_Rect *r)
{
    if (g->rec < 0) {
        SDL_RenderSetClipRect(g->r, r);
        return;
    }
    g->clip = r ? *r : (SDL_Rect){0, 0, 0, 0};
    cmd *k = record(g, CMD_CLIP);
    if (k) k->r = g->clip;
}

SDL_Rect viz_gfx_clip(const viz_gfx *g)
{
    SDL_Rect r = {0, 0, 0, 0};
    if (g->rec >= 0) return g->clip;
    SDL_RenderGetClipRect(g->r, &r);
    return r;
}

SDL_Rect viz_gfx_bounds(const viz_gfx *g)
{
    SDL_Rect out = {0, 0, 0, 0}, r;
    SDL_GetRendererOutputSize(g->r, &out.w, &out.h);
    if (g->rec >= 0) {
        SDL_Rect b = g->area;
        if (g->clip.w > 0 && SDL_IntersectRect(&g->area, &g->clip, &r)) b = r;
        else if (g->clip.w > 0) b = (SDL_Rect){g->area.x, g->area.y, 0, 0};
        return b;
    }
    SDL_RenderGetClipRect(g->r, &r);
    return r.w > 0 ? r : out;
}

/* ---- the cache --------------------------------------------------------------------- */

void viz_gfx_begin(viz_gfx *g, int slot_i, SDL_Rect area, SDL_Color bg)
{
    g->rec = -1;
    if (!g->caching || slot_i < 0 || slot_i >= VIZ_GFX_SLOTS || area.w <= 0 || area.h <= 0) {
        SDL_RenderSetClipRect(g->r, &area);
        return;
    }
    g->rec = slot_i;
    g->area = area;
    g->clip = area;
    g->bg = bg;
    g->failed = false;
    g->n_cmds = g->n_verts = 0;
}

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, b, 8);
        h = (h ^ w) * 0x100000001B3ull;
        h ^= h >> 29;
        b += 8, n -= 8;
    }
    while (n--) h = (h ^ *b++) * 0x100000001B3ull;
    return h;
}

static uint64_t recording_hash(const viz_gfx *g)
{
    uint64_t h = 0xCBF29CE484222325ull;
    h = mix(h, &g->area, sizeof g->area);
    h = mix(h, &g->bg, sizeof g->bg);
    h = mix(h, g->cmds, sizeof(cmd) * (size_t)g->n_cmds);
    h = mix(h, g->verts, sizeof(SDL_Vertex) * (size_t)g->n_verts);
    return h;
}

static SDL_Rect shift(SDL_Rect r, int dx, int dy) { return (SDL_Rect){r.x - dx, r.y - dy, r.w, r.h}; }

/* Draws the recording at an offset; runs of triangles become one call, runs
 * of fills of one colour one call (the order of what is drawn is kept). */
static bool replay(viz_gfx *g, int dx, int dy)
{
    for (int i = 0; i < g->n_cmds;) {
        const cmd *c = &g->cmds[i];
        int j = i + 1;
        switch (c->kind) {
        case CMD_TRIANGLES: {
            int nv = c->nv;
            while (j < g->n_cmds && g->cmds[j].kind == CMD_TRIANGLES) nv += g->cmds[j++].nv;
            SDL_Vertex *tv = grow(g->tv, &g->cap_tv, nv, sizeof(SDL_Vertex));
            if (!tv) return false;
            g->tv = tv;
            const SDL_Vertex *v = g->verts + c->v0; /* a run's vertices are contiguous */
            for (int k = 0; k < nv; k++) {
                g->tv[k] = v[k];
                g->tv[k].position.x -= (float)dx;
                g->tv[k].position.y -= (float)dy;
            }
            triangles_now(g->r, g->tv, nv);
            break;
        }
        case CMD_FILL: {
            while (j < g->n_cmds && g->cmds[j].kind == CMD_FILL && memcmp(&g->cmds[j].c, &c->c, sizeof c->c) == 0) j++;
            SDL_Rect *tr = grow(g->tr, &g->cap_tr, j - i, sizeof(SDL_Rect));
            if (!tr) return false;
            g->tr = tr;
            for (int k = i; k < j; k++) g->tr[k - i] = shift(g->cmds[k].r, dx, dy);
            fill_now(g->r, g->tr, j - i, c->c);
            break;
        }
        case CMD_COPY: {
            SDL_Rect dst = shift(c->r, dx, dy);
            copy_now(g->r, c->tex, &dst, c->c);
            break;
        }
        case CMD_CLIP: {
            SDL_Rect r = shift(c->r, dx, dy);
            SDL_RenderSetClipRect(g->r, c->r.w > 0 ? &r : NULL);
            break;
        }
        default: break;
        }
        i = j;
    }
    return true;
}

static bool ensure_texture(viz_gfx *g, slot *s, int w, int h)
{
    if (s->tex && s->w == w && s->h == h) return true;
    if (s->tex) SDL_DestroyTexture(s->tex);
    s->valid = false;
    s->tex = SDL_CreateTexture(g->r, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_TARGET, w, h);
    if (!s->tex) return false;
    SDL_SetTextureBlendMode(s->tex, SDL_BLENDMODE_NONE);
    SDL_SetTextureScaleMode(s->tex, SDL_ScaleModeNearest);
    s->w = w;
    s->h = h;
    return true;
}

bool viz_gfx_end(viz_gfx *g)
{
    if (g->rec < 0) {
        SDL_RenderSetClipRect(g->r, NULL);
        return true;
    }
    slot *s = &g->slots[g->rec];
    const SDL_Rect area = g->area;
    g->rec = -1;
    if (g->failed) { /* out of memory mid-recording: draw nothing new, cache nothing */
        s->valid = false;
        return false;
    }
    const uint64_t h = recording_hash(g);
    bool drawn = false;
    if (!s->valid || s->hash != h) {
        if (ensure_texture(g, s, area.w, area.h) && SDL_SetRenderTarget(g->r, s->tex) == 0) {
            SDL_RenderSetClipRect(g->r, NULL);
            SDL_SetRenderDrawBlendMode(g->r, SDL_BLENDMODE_NONE);
            SDL_SetRenderDrawColor(g->r, g->bg.r, g->bg.g, g->bg.b, g->bg.a);
            SDL_RenderClear(g->r);
            const bool ok = replay(g, area.x, area.y);
            SDL_RenderSetClipRect(g->r, NULL);
            SDL_SetRenderTarget(g->r, NULL);
            s->valid = ok;
            s->hash = h;
            drawn = true;
        } else {
            /* no texture: straight to the window, as without the cache */
            s->valid = false;
            SDL_SetRenderTarget(g->r, NULL);
            SDL_RenderSetClipRect(g->r, &area);
            replay(g, 0, 0);
            SDL_RenderSetClipRect(g->r, NULL);
            return true;
        }
    }
    SDL_RenderSetClipRect(g->r, NULL);
    if (s->valid) SDL_RenderCopy(g->r, s->tex, NULL, &area);
    return drawn;
}
