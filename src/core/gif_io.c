/* gif_io.c: animated GIF output through giflib (see ddpm/image.h).
 *
 * giflib's low-level encoder (EGifOpen with our output function) writes into
 * a growing memory buffer; ddpm_gif_close hands the finished bytes to
 * fileio.h for an atomic write.  Only compressed data is kept, so a long
 * animation does not hold every RGB frame.
 *
 * Format facts (GIF89a specification, W3C/CompuServe 1990): a Graphic
 * Control Extension before each image carries its delay in 1/100 s; the
 * NETSCAPE2.0 application extension with loop count 0 makes viewers repeat
 * forever.
 */
#include "ddpm/image.h"

#include <gif_lib.h>
#include <stdlib.h>
#include <string.h>

#include "ddpm/fileio.h"

/* ---- palette: 240 grays, then 16 colours for labels and NaN marks -------- */

enum { N_GRAYS = 240, N_COLOURS = 256 };

static const uint8_t label_colours[N_COLOURS - N_GRAYS][3] = {
    {255, 0, 0},     {0, 255, 0},     {0, 0, 255},     {255, 255, 0},  /* red green blue yellow */
    {0, 255, 255},   {255, 0, 255},   {255, 128, 0},   {128, 0, 128},  /* cyan magenta orange purple */
    {128, 0, 0},     {0, 128, 0},     {0, 0, 128},     {128, 128, 0},  /* dark red, green, blue; olive */
    {0, 128, 128},   {255, 128, 128}, {128, 255, 128}, {128, 128, 255},
};

/* Gray i of N_GRAYS, spread evenly over 0..255, and the nearest gray to v
 * (both rounded).  Computed, not tabled, so there is no shared state. */
static uint8_t gray_level(int i) { return (uint8_t)((i * 255 + (N_GRAYS - 1) / 2) / (N_GRAYS - 1)); }
static uint8_t gray_index(uint8_t v) { return (uint8_t)((v * (N_GRAYS - 1) + 127) / 255); }

static void palette_entry(int i, uint8_t rgb[3])
{
    if (i < N_GRAYS) {
        rgb[0] = rgb[1] = rgb[2] = gray_level(i);
    } else {
        memcpy(rgb, label_colours[i - N_GRAYS], 3);
    }
}

void ddpm_gif_palette(uint8_t out[256][3])
{
    for (int i = 0; i < N_COLOURS; i++) palette_entry(i, out[i]);
}

int ddpm_gif_palette_index(const uint8_t rgb[3])
{
    if (rgb[0] == rgb[1] && rgb[1] == rgb[2]) return gray_index(rgb[0]);
    int best = 0;
    long best_d = -1;
    for (int i = 0; i < N_COLOURS; i++) {
        uint8_t p[3];
        palette_entry(i, p);
        long dr = rgb[0] - p[0], dg = rgb[1] - p[1], db = rgb[2] - p[2];
        long d = dr * dr + dg * dg + db * db;
        if (best_d < 0 || d < best_d) best = i, best_d = d;
    }
    return best;
}

/* ---- writer ----------------------------------------------------------------- */

static int on_output(GifFileType *gif, const GifByteType *data, int n)
{
    ddpm_gif_writer *gw = gif->UserData;
    if (n <= 0) return 0;
    if (gw->cap - gw->len < (size_t)n) {
        size_t cap = gw->cap ? gw->cap : 65536;
        while (cap - gw->len < (size_t)n) cap *= 2;
        uint8_t *grown = realloc(gw->bytes, cap);
        if (!grown) {
            gw->out_of_memory = true;
            return 0;  /* giflib then reports E_GIF_ERR_WRITE_FAILED */
        }
        gw->bytes = grown, gw->cap = cap;
    }
    memcpy(gw->bytes + gw->len, data, (size_t)n);
    gw->len += (size_t)n;
    return n;
}

void ddpm_gif_abort(ddpm_gif_writer *gw)
{
    if (!gw) return;
    if (gw->gif) EGifCloseFile(gw->gif, NULL);
    free(gw->line);
    free(gw->bytes);
    gw->gif = NULL, gw->line = NULL, gw->bytes = NULL;
    gw->len = gw->cap = 0;
}

/* Fails with giflib's reason, releasing everything. */
static int fail_gif(ddpm_gif_writer *gw, const char *what, ddpm_error *err)
{
    const GifFileType *gif = gw->gif;
    const char *why = gw->out_of_memory ? "out of memory"
                      : gif ? GifErrorString(gif->Error) : "unknown error";
    ddpm_fail(err, "cannot encode GIF '%s' (%s): %s", gw->path, what, why ? why : "unknown error");
    ddpm_gif_abort(gw);
    return DDPM_ERR;
}

int ddpm_gif_open(ddpm_gif_writer *gw, const char *path, int w, int h, ddpm_error *err)
{
    DDPM_ASSERT(gw && path && w > 0 && h > 0 && w <= 65535 && h <= 65535);
    memset(gw, 0, sizeof *gw);
    if (strlen(path) >= sizeof gw->path) return ddpm_fail(err, "path too long: '%.64s...'", path);
    snprintf(gw->path, sizeof gw->path, "%s", path);
    gw->w = w, gw->h = h;

    int error = 0;
    GifFileType *gif = EGifOpen(gw, on_output, &error);
    if (!gif)
        return ddpm_fail(err, "cannot encode GIF '%s': %s", path, GifErrorString(error));
    gw->gif = gif;
    gw->line = malloc((size_t)w);
    if (!gw->line) return fail_gif(gw, "row buffer", err);

    GifColorType colours[N_COLOURS];
    for (int i = 0; i < N_COLOURS; i++) {
        uint8_t p[3];
        palette_entry(i, p);
        colours[i] = (GifColorType){p[0], p[1], p[2]};
    }
    ColorMapObject *map = GifMakeMapObject(N_COLOURS, colours);
    if (!map) return fail_gif(gw, "palette", err);
    EGifSetGifVersion(gif, true);  /* extensions need GIF89a */
    int rc = EGifPutScreenDesc(gif, w, h, 8, 0, map);  /* EGifPutScreenDesc copies map */
    GifFreeMapObject(map);
    if (rc == GIF_ERROR) return fail_gif(gw, "screen descriptor", err);

    /* NETSCAPE2.0 block: sub-block id 1, then the loop count (0 = forever), little-endian. */
    static const GifByteType loop[3] = {1, 0, 0};
    if (EGifPutExtensionLeader(gif, APPLICATION_EXT_FUNC_CODE) == GIF_ERROR ||
        EGifPutExtensionBlock(gif, 11, "NETSCAPE2.0") == GIF_ERROR ||
        EGifPutExtensionBlock(gif, 3, loop) == GIF_ERROR ||
        EGifPutExtensionTrailer(gif) == GIF_ERROR)
        return fail_gif(gw, "loop extension", err);
    return DDPM_OK;
}

int ddpm_gif_add_frame(ddpm_gif_writer *gw, const ddpm_image *frame, int delay_cs,
                       ddpm_error *err)
{
    DDPM_ASSERT(gw && gw->gif && frame && frame->rgb);
    DDPM_ASSERT(frame->w == gw->w && frame->h == gw->h && delay_cs >= 0 && delay_cs <= 65535);
    GifFileType *gif = gw->gif;
    GraphicsControlBlock gcb = {.DisposalMode = DISPOSE_DO_NOT, .UserInputFlag = false,
                                .DelayTime = delay_cs, .TransparentColor = NO_TRANSPARENT_COLOR};
    GifByteType ext[4];
    size_t ext_len = EGifGCBToExtension(&gcb, ext);
    if (EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, (int)ext_len, ext) == GIF_ERROR)
        return fail_gif(gw, "frame delay", err);
    if (EGifPutImageDesc(gif, 0, 0, gw->w, gw->h, false, NULL) == GIF_ERROR)
        return fail_gif(gw, "image descriptor", err);

    /* Frames are mostly gray with a few label colours: remember the last
     * colour so runs of one colour cost one palette search. */
    uint8_t last[3] = {0, 0, 0};
    int last_index = ddpm_gif_palette_index(last);
    for (int y = 0; y < gw->h; y++) {
        const uint8_t *p = ddpm_image_pixel(frame, 0, y);
        for (int x = 0; x < gw->w; x++, p += 3) {
            if (p[0] == p[1] && p[1] == p[2]) {
                gw->line[x] = gray_index(p[0]);
                continue;
            }
            if (memcmp(p, last, 3) != 0) memcpy(last, p, 3), last_index = ddpm_gif_palette_index(p);
            gw->line[x] = (uint8_t)last_index;
        }
        if (EGifPutLine(gif, gw->line, gw->w) == GIF_ERROR) return fail_gif(gw, "pixels", err);
    }
    gw->frames++;
    return DDPM_OK;
}

int ddpm_gif_close(ddpm_gif_writer *gw, ddpm_error *err)
{
    DDPM_ASSERT(gw && gw->gif && gw->frames > 0);
    int error = 0;
    int rc = EGifCloseFile(gw->gif, &error);  /* writes the trailer; frees gif either way */
    gw->gif = NULL;
    if (rc == GIF_ERROR || gw->out_of_memory) {
        ddpm_fail(err, "cannot encode GIF '%s': %s", gw->path,
                  gw->out_of_memory ? "out of memory" : GifErrorString(error));
        ddpm_gif_abort(gw);
        return DDPM_ERR;
    }
    rc = ddpm_write_file_atomic(gw->path, gw->bytes, gw->len, err);
    ddpm_gif_abort(gw);  /* releases the buffers */
    return rc;
}
