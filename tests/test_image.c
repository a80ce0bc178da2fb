/* test_image.c: PNG and GIF output read back by libpng and giflib's decoder,
 * the geometry and gray levels of grids and sheets, the bitmap font, and
 * clear errors when the output folder is missing. */
#define _GNU_SOURCE
#include <ftw.h>
#include <gif_lib.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ddpm/fileio.h"
#include "ddpm/image.h"

static char tmp_dir[64];

static const char *tmp_path(const char *name)
{
    static char buf[4][256];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, 256, "%s/%s", tmp_dir, name);
    return p;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void check_rgb(const ddpm_image *img, int x, int y, int r, int g, int b, int line)
{
    const uint8_t *p = ddpm_image_pixel(img, x, y);
    if (p[0] != r || p[1] != g || p[2] != b) {
        fprintf(stderr, "test_image.c:%d: pixel (%d, %d) is (%d, %d, %d), expected (%d, %d, %d)\n",
                line, x, y, p[0], p[1], p[2], r, g, b);
        exit(1);
    }
}
#define CHECK_RGB(img, x, y, r, g, b) check_rgb(img, x, y, r, g, b, __LINE__)
#define CHECK_GRAY(img, x, y, v) check_rgb(img, x, y, v, v, v, __LINE__)

/* A test pattern: gray ramps in x and y plus a few saturated pixels. */
static void make_pattern(ddpm_image *img, int w, int h)
{
    ddpm_image_init(img, w, h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = ddpm_image_pixel(img, x, y);
            p[0] = p[1] = p[2] = (uint8_t)((x * 255) / (w - 1));
            if (y % 3 == 1) p[0] = (uint8_t)(y * 9), p[1] = (uint8_t)(255 - x), p[2] = 17;
        }
    ddpm_image_fill_rect(img, 0, 0, 2, 2, DDPM_RGB_RED);
    ddpm_image_fill_rect(img, w - 2, h - 2, 5, 5, DDPM_RGB_YELLOW);  /* clipped */
}

/* ---- PNG ---------------------------------------------------------------------- */

static void test_png(void)
{
    ddpm_image img;
    make_pattern(&img, 37, 21);
    ddpm_error err = {{0}};
    const char *path = tmp_path("pattern.png");
    CHECK(ddpm_png_write(path, &img, &err) == DDPM_OK, "%s", err.msg);

    /* Read back with libpng's simplified API, independently of our writer. */
    png_image back;
    memset(&back, 0, sizeof back);
    back.version = PNG_IMAGE_VERSION;
    CHECK(png_image_begin_read_from_file(&back, path), "libpng: %s", back.message);
    CHECK(back.width == 37 && back.height == 21, "size %ux%u", back.width, back.height);
    CHECK(back.format == PNG_FORMAT_RGB, "the file is not plain RGB (format %u)", back.format);
    uint8_t *pixels = malloc(PNG_IMAGE_SIZE(back));
    CHECK(png_image_finish_read(&back, NULL, pixels, 0, NULL), "libpng: %s", back.message);
    for (int i = 0; i < 37 * 21 * 3; i++)
        CHECK(pixels[i] == img.rgb[i], "PNG byte %d: %u vs %u", i, pixels[i], img.rgb[i]);
    free(pixels);

    /* Missing folder, and a folder that is really a file: the error names both. */
    CHECK(ddpm_png_write(tmp_path("missing/out.png"), &img, &err) == DDPM_ERR, "missing folder");
    CHECK(strstr(err.msg, "missing/out.png") && strstr(err.msg, "No such file"), "message: %s", err.msg);
    CHECK(ddpm_png_write(tmp_path("pattern.png/out.png"), &img, &err) == DDPM_ERR, "file as folder");
    CHECK(strstr(err.msg, "pattern.png/out.png") && strstr(err.msg, "Not a directory"),
          "message: %s", err.msg);
    /* A failed save leaves no temporary file behind. */
    int leftovers = 0;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c tmp", tmp_dir);
    FILE *ls = popen(cmd, "r");
    CHECK(ls && fscanf(ls, "%d", &leftovers) == 1, "ls");
    pclose(ls);
    CHECK(leftovers == 0, "%d temporary files left in %s", leftovers, tmp_dir);
    ddpm_image_free(&img);
}

/* ---- GIF ---------------------------------------------------------------------- */

static const GifByteType *find_netscape_loop(const SavedImage *first)
{
    for (int i = 0; i + 1 < first->ExtensionBlockCount; i++) {
        const ExtensionBlock *b = &first->ExtensionBlocks[i];
        if (b->Function == APPLICATION_EXT_FUNC_CODE && b->ByteCount == 11 &&
            memcmp(b->Bytes, "NETSCAPE2.0", 11) == 0) {
            const ExtensionBlock *sub = &first->ExtensionBlocks[i + 1];
            return sub->Function == CONTINUE_EXT_FUNC_CODE && sub->ByteCount == 3 ? sub->Bytes : NULL;
        }
    }
    return NULL;
}

static void test_gif(void)
{
    enum { W = 40, H = 12, FRAMES = 3 };
    static const int delays[FRAMES] = {5, 10, 200};
    ddpm_image frames[FRAMES];
    make_pattern(&frames[0], W, H);
    ddpm_image_init(&frames[1], W, H);
    ddpm_image_fill(&frames[1], DDPM_RGB_WHITE);
    ddpm_image_draw_text(&frames[1], 1, 1, "t=5", 1, DDPM_RGB_BLUE);
    ddpm_image_init(&frames[2], W, H);
    for (int x = 0; x < W; x++)
        ddpm_image_fill_rect(&frames[2], x, 0, 1, H, (uint8_t[3]){(uint8_t)(x * 6), (uint8_t)(x * 6), (uint8_t)(x * 6)});

    ddpm_error err = {{0}};
    const char *path = tmp_path("anim.gif");
    ddpm_gif_writer gw;
    CHECK(ddpm_gif_open(&gw, path, W, H, &err) == DDPM_OK, "%s", err.msg);
    for (int f = 0; f < FRAMES; f++)
        CHECK(ddpm_gif_add_frame(&gw, &frames[f], delays[f], &err) == DDPM_OK, "%s", err.msg);
    CHECK(!ddpm_file_exists(path), "nothing is written before close");
    CHECK(ddpm_gif_close(&gw, &err) == DDPM_OK, "%s", err.msg);

    size_t len;
    unsigned char *bytes;
    CHECK(ddpm_read_file(path, 1 << 20, &bytes, &len, &err) == DDPM_OK, "%s", err.msg);
    CHECK(len > 6 && memcmp(bytes, "GIF89a", 6) == 0, "header is not GIF89a");
    free(bytes);

    int gif_err = 0;
    GifFileType *gif = DGifOpenFileName(path, &gif_err);
    CHECK(gif, "giflib cannot open: %s", GifErrorString(gif_err));
    CHECK(DGifSlurp(gif) == GIF_OK, "giflib cannot decode: %s", GifErrorString(gif->Error));
    CHECK(gif->SWidth == W && gif->SHeight == H, "screen %dx%d", gif->SWidth, gif->SHeight);
    CHECK(gif->ImageCount == FRAMES, "%d frames", gif->ImageCount);
    CHECK(gif->SColorMap && gif->SColorMap->ColorCount == 256, "global 256-colour palette");
    const GifByteType *loop = find_netscape_loop(&gif->SavedImages[0]);
    CHECK(loop && loop[0] == 1 && loop[1] == 0 && loop[2] == 0, "NETSCAPE2.0 loop-forever block");

    for (int f = 0; f < FRAMES; f++) {
        GraphicsControlBlock gcb;
        CHECK(DGifSavedExtensionToGCB(gif, f, &gcb) == GIF_OK, "frame %d has no GCB", f);
        CHECK(gcb.DelayTime == delays[f], "frame %d delay %d", f, gcb.DelayTime);
        const SavedImage *si = &gif->SavedImages[f];
        CHECK(si->ImageDesc.Width == W && si->ImageDesc.Height == H, "frame %d size", f);
        /* Every pixel decodes to its palette entry; grays land within one
         * level; the named colours are exact. */
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                int index = si->RasterBits[y * W + x];
                const GifColorType *c = &gif->SColorMap->Colors[index];
                const uint8_t *p = ddpm_image_pixel(&frames[f], x, y);
                CHECK(index == ddpm_gif_palette_index(p), "frame %d (%d, %d): index %d", f, x, y, index);
                int tol = p[0] == p[1] && p[1] == p[2] ? 1 : 255;
                if (memcmp(p, DDPM_RGB_RED, 3) == 0 || memcmp(p, DDPM_RGB_BLUE, 3) == 0 ||
                    memcmp(p, DDPM_RGB_YELLOW, 3) == 0)
                    tol = 0;
                CHECK(abs(c->Red - p[0]) <= tol && abs(c->Green - p[1]) <= tol &&
                      abs(c->Blue - p[2]) <= tol,
                      "frame %d (%d, %d): decoded (%d, %d, %d) for (%d, %d, %d)", f, x, y,
                      c->Red, c->Green, c->Blue, p[0], p[1], p[2]);
            }
    }
    DGifCloseFile(gif, &gif_err);

    /* The palette: 240 evenly spread grays, then label colours. */
    uint8_t pal[256][3];
    ddpm_gif_palette(pal);
    CHECK(pal[0][0] == 0 && pal[239][0] == 255, "gray ends");
    for (int v = 0; v < 256; v++) {  /* each gray goes to the nearest of the 240 */
        int i = ddpm_gif_palette_index((uint8_t[3]){(uint8_t)v, (uint8_t)v, (uint8_t)v});
        CHECK(i < 240 && abs(pal[i][0] - v) <= 1, "gray %d -> index %d (%d)", v, i, pal[i][0]);
        for (int j = 0; j < 240; j++)
            CHECK(abs(pal[i][0] - v) <= abs(pal[j][0] - v), "gray %d: %d is nearer than %d", v,
                  pal[j][0], pal[i][0]);
    }
    CHECK(memcmp(pal[ddpm_gif_palette_index(DDPM_RGB_RED)], DDPM_RGB_RED, 3) == 0, "red exact");
    CHECK(memcmp(pal[ddpm_gif_palette_index(DDPM_RGB_ORANGE)], DDPM_RGB_ORANGE, 3) == 0, "orange");
    CHECK(memcmp(pal[ddpm_gif_palette_index((uint8_t[3]){250, 10, 5})], DDPM_RGB_RED, 3) == 0,
          "near-red quantises to red");

    /* A GIF for a missing folder fails at close, naming the path. */
    CHECK(ddpm_gif_open(&gw, tmp_path("nowhere/anim.gif"), W, H, &err) == DDPM_OK, "%s", err.msg);
    CHECK(ddpm_gif_add_frame(&gw, &frames[0], 1, &err) == DDPM_OK, "%s", err.msg);
    CHECK(ddpm_gif_close(&gw, &err) == DDPM_ERR && strstr(err.msg, "nowhere/anim.gif"),
          "message: %s", err.msg);
    /* Abort writes nothing. */
    CHECK(ddpm_gif_open(&gw, tmp_path("aborted.gif"), W, H, &err) == DDPM_OK, "%s", err.msg);
    CHECK(ddpm_gif_add_frame(&gw, &frames[0], 1, &err) == DDPM_OK, "%s", err.msg);
    ddpm_gif_abort(&gw);
    ddpm_gif_abort(&gw);  /* twice is fine */
    CHECK(!ddpm_file_exists(tmp_path("aborted.gif")), "abort wrote a file");
    for (int f = 0; f < FRAMES; f++) ddpm_image_free(&frames[f]);
}

/* ---- tone mapping, grids, sheets ------------------------------------------------ */

static void test_tones(void)
{
    ddpm_image img;
    ddpm_image_init(&img, 8, 1);
    const float unit[8] = {-1.0f, 1.0f, 0.0f, 2.0f, -3.0f, 0.5f, NAN, -0.999f};
    ddpm_image_blit_gray(&img, 0, 0, unit, 8, 1, 1, DDPM_TONE_UNIT);
    const int expect[8] = {0, 255, 128, 255, 0, 191, -1, 0};  /* 0.5 -> 191.25; NaN -> red */
    for (int i = 0; i < 8; i++) {
        if (expect[i] < 0) CHECK_RGB(&img, i, 0, 255, 0, 0);
        else CHECK_GRAY(&img, i, 0, expect[i]);
    }
    /* The dataset's byte levels come back exactly. */
    for (int v = 0; v < 256; v++) {
        float x = (float)v / 127.5f - 1.0f;
        ddpm_image_blit_gray(&img, 0, 0, &x, 1, 1, 1, DDPM_TONE_UNIT);
        CHECK_GRAY(&img, 0, 0, v);
    }
    const float ramp[3] = {2.0f, 4.0f, 6.0f};
    ddpm_image_blit_gray(&img, 0, 0, ramp, 3, 1, 1, DDPM_TONE_MINMAX);
    CHECK_GRAY(&img, 0, 0, 0);
    CHECK_GRAY(&img, 1, 0, 128);
    CHECK_GRAY(&img, 2, 0, 255);
    const float noise[3] = {-2.0f, 1.0f, 0.0f};
    ddpm_image_blit_gray(&img, 0, 0, noise, 3, 1, 1, DDPM_TONE_SYMMETRIC);
    CHECK_GRAY(&img, 0, 0, 0);
    CHECK_GRAY(&img, 1, 0, 191);  /* (1 + 2) * 255 / 4 = 191.25 */
    CHECK_GRAY(&img, 2, 0, 128);
    const float flat[2] = {3.0f, 3.0f}, zeros[2] = {0.0f, 0.0f};
    ddpm_image_blit_gray(&img, 0, 0, flat, 2, 1, 1, DDPM_TONE_MINMAX);
    CHECK_GRAY(&img, 0, 0, 128);
    ddpm_image_blit_gray(&img, 0, 0, zeros, 2, 1, 1, DDPM_TONE_SYMMETRIC);
    CHECK_GRAY(&img, 1, 0, 128);
    const float wild[3] = {NAN, INFINITY, -INFINITY};  /* no finite value: no crash, no UB */
    ddpm_image_blit_gray(&img, 0, 0, wild, 3, 1, 1, DDPM_TONE_MINMAX);
    CHECK_RGB(&img, 0, 0, 255, 0, 0);
    ddpm_image_free(&img);

    /* Nearest-neighbour scaling. */
    ddpm_image small, big;
    ddpm_image_init(&small, 2, 2);
    ddpm_image_fill_rect(&small, 1, 0, 1, 1, DDPM_RGB_GREEN);
    ddpm_image_scale(&big, &small, 3);
    CHECK(big.w == 6 && big.h == 6, "scaled size %dx%d", big.w, big.h);
    for (int y = 0; y < 6; y++)
        for (int x = 0; x < 6; x++) {
            if (x >= 3 && y < 3) CHECK_RGB(&big, x, y, 0, 255, 0);
            else CHECK_GRAY(&big, x, y, 0);
        }
    /* Blits clip at every edge: small gets big's (3..4, 0..1), all green, then
     * big's black (0, 0) lands on small's (1, 1). */
    ddpm_image_blit(&small, -3, 0, &big);
    ddpm_image_blit(&small, 1, 1, &big);
    CHECK_RGB(&small, 0, 0, 0, 255, 0);
    CHECK_RGB(&small, 1, 0, 0, 255, 0);
    CHECK_RGB(&small, 0, 1, 0, 255, 0);
    CHECK_GRAY(&small, 1, 1, 0);
    ddpm_image_free(&small);
    ddpm_image_free(&big);
}

static void test_grid(void)
{
    /* 4 images of 2 x 3 (h x w) in a 2 x 3 grid, pad 1, scale 2. */
    enum { N = 4, IH = 2, IW = 3 };
    float images[N * IH * IW];
    for (int k = 0; k < N; k++)
        for (int i = 0; i < IH * IW; i++)  /* byte level k * 40 + i */
            images[k * IH * IW + i] = (float)(k * 40 + i) / 127.5f - 1.0f;
    ddpm_grid_spec gs = {.rows = 2, .cols = 3, .pad = 1, .scale = 2, .tone = DDPM_TONE_UNIT,
                         .background = {9, 99, 199}};
    ddpm_image grid;
    ddpm_image_grid(&grid, &gs, images, N, IH, IW);
    CHECK(grid.w == 3 * (IW * 2 + 1) + 1 && grid.h == 2 * (IH * 2 + 1) + 1, "grid %dx%d", grid.w, grid.h);
    int ox, oy;
    ddpm_grid_cell_origin(&gs, IH, IW, 4, &ox, &oy);
    CHECK(ox == 1 + 1 * (IW * 2 + 1) && oy == 1 + 1 * (IH * 2 + 1), "cell 4 at (%d, %d)", ox, oy);
    for (int y = 0; y < grid.h; y++)
        for (int x = 0; x < grid.w; x++) {
            /* Which cell and image pixel does (x, y) fall on, if any? */
            int cx = (x - 1) / (IW * 2 + 1), cy = (y - 1) / (IH * 2 + 1);
            int ix = (x - 1) % (IW * 2 + 1), iy = (y - 1) % (IH * 2 + 1);
            int k = cy * 3 + cx;
            bool inside = x >= 1 && y >= 1 && ix < IW * 2 && iy < IH * 2 && k < N;
            if (inside) CHECK_GRAY(&grid, x, y, k * 40 + (iy / 2) * IW + ix / 2);
            else CHECK_RGB(&grid, x, y, 9, 99, 199);
        }
    ddpm_image_free(&grid);

    ddpm_grid_spec d = ddpm_grid_spec_default(10);
    CHECK(d.cols == 4 && d.rows == 3 && d.scale == 1, "default for 10: %dx%d", d.rows, d.cols);
    d = ddpm_grid_spec_default(16);
    CHECK(d.cols == 4 && d.rows == 4, "default for 16: %dx%d", d.rows, d.cols);
    d = ddpm_grid_spec_default(1);
    CHECK(d.cols == 1 && d.rows == 1, "default for 1");
}

/* Bounding box of pixels that are not `bg`; false if there are none. */
static bool ink_box(const ddpm_image *img, uint8_t bg, int *x0, int *y0, int *x1, int *y1)
{
    *x0 = *y0 = 1 << 30, *x1 = *y1 = -1;
    for (int y = 0; y < img->h; y++)
        for (int x = 0; x < img->w; x++) {
            const uint8_t *p = ddpm_image_pixel(img, x, y);
            if (p[0] == bg && p[1] == bg && p[2] == bg) continue;
            if (x < *x0) *x0 = x;
            if (y < *y0) *y0 = y;
            if (x > *x1) *x1 = x;
            if (y > *y1) *y1 = y;
        }
    return *x1 >= 0;
}

static void test_text(void)
{
    ddpm_image img;
    ddpm_image_init(&img, 120, 40);
    int x0, y0, x1, y1;

    /* "Hi" at scale 2: ink starts at the pen, fills the cap height, ends at the width. */
    ddpm_image_draw_text(&img, 3, 4, "Hi", 2, DDPM_RGB_WHITE);
    CHECK(ink_box(&img, 0, &x0, &y0, &x1, &y1), "no ink");
    int w = ddpm_image_text_width("Hi", 2);
    CHECK(w == (6 + 5) * 2, "width of Hi is %d", w);
    CHECK(x0 == 3 && y0 == 4, "ink starts at (%d, %d)", x0, y0);
    CHECK(x1 < 3 + w && y1 < 4 + ddpm_image_text_height(2), "ink ends at (%d, %d)", x1, y1);
    CHECK(y1 == 4 + 7 * 2 - 1, "capitals are 7 rows tall (ink to row %d)", y1);
    CHECK_RGB(&img, 3, 4, 255, 255, 255);  /* H's top-left */

    /* Descenders reach the last row of the line box; colour is as asked. */
    ddpm_image_fill(&img, DDPM_RGB_BLACK);
    ddpm_image_draw_text(&img, 10, 10, "gy", 1, DDPM_RGB_CYAN);
    CHECK(ink_box(&img, 0, &x0, &y0, &x1, &y1), "no ink for gy");
    CHECK(y1 == 10 + ddpm_image_text_height(1) - 1, "descender ends at row %d", y1);
    CHECK(x1 == 10 + ddpm_image_text_width("gy", 1) - 1, "y's right edge at %d", x1);
    CHECK_RGB(&img, x1, y1 - 1, 0, 255, 255);

    /* Every printable glyph: inside its 5 x 9 cell, distinct, and not empty (but space). */
    uint8_t seen[95][DDPM_FONT_GLYPH_H * DDPM_FONT_GLYPH_W];
    for (int c = 32; c < 127; c++) {
        char s[2] = {(char)c, 0};
        ddpm_image_fill(&img, DDPM_RGB_BLACK);
        ddpm_image_draw_text(&img, 20, 20, s, 1, DDPM_RGB_WHITE);
        bool any = ink_box(&img, 0, &x0, &y0, &x1, &y1);
        CHECK(any == (c != ' '), "glyph '%c' ink: %d", c, any);
        if (any)
            CHECK(x0 >= 20 && y0 >= 20 && x1 < 20 + DDPM_FONT_GLYPH_W && y1 < 20 + DDPM_FONT_GLYPH_H,
                  "glyph '%c' leaves its cell", c);
        for (int y = 0; y < DDPM_FONT_GLYPH_H; y++)
            for (int x = 0; x < DDPM_FONT_GLYPH_W; x++)
                seen[c - 32][y * DDPM_FONT_GLYPH_W + x] = ddpm_image_pixel(&img, 20 + x, 20 + y)[0];
        for (int d = 32; d < c; d++)
            CHECK(memcmp(seen[c - 32], seen[d - 32], sizeof seen[0]) != 0, "'%c' looks like '%c'", c, d);
    }

    /* Widths: empty, UTF-8 counted per character, and clipping never crashes. */
    CHECK(ddpm_image_text_width("", 3) == 0, "empty width");
    CHECK(ddpm_image_text_width("\xce\xb7=1", 1) == ddpm_image_text_width("?=1", 1), "UTF-8 width");
    CHECK(ddpm_image_text_width("steps=20", 1) == 7 * 6 + 5, "steps=20 width");
    ddpm_image_draw_text(&img, -7, -3, "clipped text", 4, DDPM_RGB_WHITE);
    ddpm_image_draw_text(&img, 118, 38, "edge", 2, DDPM_RGB_WHITE);
    ddpm_image_free(&img);
}

static void test_sheet(void)
{
    enum { CW = 10, CH = 8 };
    ddpm_image cells[4];
    for (int i = 0; i < 4; i++) {
        ddpm_image_init(&cells[i], CW, CH);
        uint8_t v = (uint8_t)(50 * (i + 1));
        ddpm_image_fill(&cells[i], (uint8_t[3]){v, v, v});
    }
    const char *rows[2] = {"eta=0.0", "eta=1.0"}, *cols[2] = {"steps=20", "S=5"};
    ddpm_sheet_spec ss = ddpm_sheet_spec_default(2, 2);
    ss.title = "sweep";
    ss.row_labels = rows;
    ss.col_labels = cols;
    ddpm_image sheet;
    ddpm_image_sheet(&sheet, &ss, cells);

    const int pad = 4, line = ddpm_image_text_height(1);
    const int label_w = ddpm_image_text_width("eta=0.0", 1);
    const int col_w = ddpm_image_text_width("steps=20", 1);  /* wider than a cell */
    const int x0 = pad + label_w + pad, y0 = pad + line + pad + line + pad;
    CHECK(sheet.w == x0 + 2 * (col_w + pad), "sheet width %d", sheet.w);
    CHECK(sheet.h == y0 + 2 * (CH + pad), "sheet height %d", sheet.h);
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 2; c++) {
            int cx = x0 + c * (col_w + pad) + (col_w - CW) / 2, cy = y0 + r * (CH + pad);
            int v = 50 * (r * 2 + c + 1);
            CHECK_GRAY(&sheet, cx, cy, v);
            CHECK_GRAY(&sheet, cx + CW - 1, cy + CH - 1, v);
            CHECK_GRAY(&sheet, cx - 1, cy, 0);
        }
    /* Text lands in its bands: title, column labels, row labels. */
    ddpm_image band;
    ddpm_image_init(&band, sheet.w, line);
    for (int which = 0; which < 2; which++) {
        int top = pad + which * (line + pad);
        ddpm_image_fill(&band, DDPM_RGB_BLACK);
        ddpm_image_blit(&band, 0, -top, &sheet);
        int bx0, by0, bx1, by1;
        CHECK(ink_box(&band, 0, &bx0, &by0, &bx1, &by1), "band %d has no text", which);
        if (which == 0) CHECK(bx0 == pad && bx1 == pad + ddpm_image_text_width("sweep", 1) - 1,
                              "title spans %d..%d", bx0, bx1);
    }
    ddpm_image_free(&band);
    /* Row labels: ink left of the cells, within each row. */
    for (int r = 0; r < 2; r++) {
        ddpm_image left;
        ddpm_image_init(&left, x0 - pad, CH + pad);
        ddpm_image_blit(&left, 0, -(y0 + r * (CH + pad)), &sheet);
        int lx0, ly0, lx1, ly1;
        CHECK(ink_box(&left, 0, &lx0, &ly0, &lx1, &ly1), "row %d has no label", r);
        CHECK(lx0 == pad && lx1 == pad + label_w - 1, "row label %d spans %d..%d", r, lx0, lx1);
        ddpm_image_free(&left);
    }
    ddpm_image_free(&sheet);
    for (int i = 0; i < 4; i++) ddpm_image_free(&cells[i]);
}

int main(void)
{
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/ddpm_test_image.XXXXXX");
    CHECK(mkdtemp(tmp_dir), "mkdtemp");
    test_png();
    test_gif();
    test_tones();
    test_grid();
    test_text();
    test_sheet();
    nftw(tmp_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    TEST_PASS("test_image");
}
