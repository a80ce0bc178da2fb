/* ddpm/image.h: RGB pictures for PNG and animated-GIF output, without SDL:
 * float images in, grids and labelled sheets, a built-in bitmap font.
 *
 *   ddpm_grid_spec gs = ddpm_grid_spec_default(16);        // 4 x 4, pad 2
 *   gs.scale = 4;
 *   ddpm_image grid;
 *   ddpm_image_grid(&grid, &gs, x0, 16, 28, 28);            // x0: (16, 1, 28, 28) in [-1, 1]
 *   ddpm_image_draw_text(&grid, 2, 2, "t=999", 1, DDPM_RGB_YELLOW);
 *   if (ddpm_png_write("out/samples.png", &grid, &err) != 0) ...;
 *
 *   ddpm_gif_writer gw;
 *   if (ddpm_gif_open(&gw, "out/denoise.gif", grid.w, grid.h, &err) != 0) ...;
 *   for (each frame) if (ddpm_gif_add_frame(&gw, &frame, 4, &err) != 0) ...;  // 4 cs = 25 fps
 *   if (ddpm_gif_close(&gw, &err) != 0) ...;                // written atomically here
 *   ddpm_image_free(&grid);
 *
 * Ownership: ddpm_image_init (and every function documented to initialise
 * an image) allocates img->rgb; ddpm_image_free releases it.  Drawing
 * functions clip to the image, so any x, y is allowed.  Sizes and counts come
 * from the program, not from files, so wrong ones are asserted.
 *
 * Files: image.c (this type, blits), image_grid.c (grids and sheets),
 * scatter.c (2-D points), font5x7.c (text), png_io.c, gif_io.c.
 */
#ifndef DDPM_IMAGE_H
#define DDPM_IMAGE_H

#include "ddpm/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ddpm_image {
    int w, h;
    uint8_t *rgb;   /* (h, w, 3) row-major RGB8; owned */
} ddpm_image;

/* Colours that the GIF palette holds exactly (pass them where a
 * `const uint8_t rgb[3]` is asked for). */
#define DDPM_RGB_BLACK   ((const uint8_t[3]){0, 0, 0})
#define DDPM_RGB_WHITE   ((const uint8_t[3]){255, 255, 255})
#define DDPM_RGB_RED     ((const uint8_t[3]){255, 0, 0})
#define DDPM_RGB_GREEN   ((const uint8_t[3]){0, 255, 0})
#define DDPM_RGB_BLUE    ((const uint8_t[3]){0, 0, 255})
#define DDPM_RGB_YELLOW  ((const uint8_t[3]){255, 255, 0})
#define DDPM_RGB_CYAN    ((const uint8_t[3]){0, 255, 255})
#define DDPM_RGB_MAGENTA ((const uint8_t[3]){255, 0, 255})
#define DDPM_RGB_ORANGE  ((const uint8_t[3]){255, 128, 0})

/* How floats become gray levels. */
typedef enum {
    DDPM_TONE_UNIT,       /* [-1, 1] -> [0, 255], clamped: images, x0 predictions */
    DDPM_TONE_MINMAX,     /* this image's [min, max] -> [0, 255] */
    DDPM_TONE_SYMMETRIC,  /* [-m, m] -> [0, 255], m = max |x|, so 0 is mid-gray: noise, eps */
} ddpm_tone;

/* ---- image.c -------------------------------------------------------------- */

/* Allocates a black w x h image (w, h > 0). */
void ddpm_image_init(ddpm_image *img, int w, int h);
/* Releases img->rgb and zeroes *img; safe on a zeroed image. */
void ddpm_image_free(ddpm_image *img);

void ddpm_image_fill(ddpm_image *img, const uint8_t rgb[3]);
void ddpm_image_fill_rect(ddpm_image *img, int x, int y, int w, int h, const uint8_t rgb[3]);
/* The pixel at (x, y), which must lie inside (asserted). */
uint8_t *ddpm_image_pixel(const ddpm_image *img, int x, int y);

/* Copies src with its top-left corner at (x, y). */
void ddpm_image_blit(ddpm_image *dst, int x, int y, const ddpm_image *src);

/* Draws a single-channel float image src (h, w) at (x, y), each pixel as a
 * scale x scale gray square (nearest neighbour).  NaN pixels are drawn red so
 * that a diverged model is visible rather than silently black. */
void ddpm_image_blit_gray(ddpm_image *dst, int x, int y, const float *src, int w, int h,
                          int scale, ddpm_tone tone);

/* Initialises out as src enlarged `factor` times (nearest neighbour). */
void ddpm_image_scale(ddpm_image *out, const ddpm_image *src, int factor);

/* ---- image_grid.c ----------------------------------------------------------- */

typedef struct ddpm_grid_spec {
    int rows, cols;          /* cells, filled row by row; unused cells stay background */
    int pad;                 /* pixels between cells and around the edge, >= 0 */
    int scale;               /* integer zoom of every image, >= 1 */
    ddpm_tone tone;
    uint8_t background[3];
} ddpm_grid_spec;

/* A near-square grid for n images: cols = ceil(sqrt(n)), rows = ceil(n / cols),
 * pad 2, scale 1, DDPM_TONE_UNIT, dark gray background. */
ddpm_grid_spec ddpm_grid_spec_default(int n);

/* Size of the grid image for cells of height x width. */
void ddpm_grid_size(const ddpm_grid_spec *spec, int height, int width, int *out_w, int *out_h);
/* Top-left pixel of cell `index` (0 .. rows*cols-1). */
void ddpm_grid_cell_origin(const ddpm_grid_spec *spec, int height, int width, int index,
                           int *x, int *y);

/* Initialises out with images (n, 1, height, width) laid out by spec;
 * n <= rows * cols.  The tone applies per image. */
void ddpm_image_grid(ddpm_image *out, const ddpm_grid_spec *spec, const float *images, int n,
                     int height, int width);

/* A sheet for parameter sweeps: a title line, a label above each column
 * ("steps=20"), a label left of each row ("eta=0.5"), and a cell image at
 * each (row, col), for example a grid of samples. */
typedef struct ddpm_sheet_spec {
    const char *title;                /* one line at the top, or NULL */
    const char *const *row_labels;    /* (rows) strings, or NULL for none */
    const char *const *col_labels;    /* (cols) strings, or NULL for none */
    int rows, cols;
    int pad;                          /* pixels between and around everything, >= 0 */
    int text_scale;                   /* font zoom, >= 1 */
    uint8_t background[3];
    uint8_t text[3];
} ddpm_sheet_spec;

/* rows x cols, pad 4, text_scale 1, black background, white text, no labels. */
ddpm_sheet_spec ddpm_sheet_spec_default(int rows, int cols);

/* Initialises out with cells (rows * cols images of one size, row-major)
 * under spec.  A column is as wide as the wider of its cell and its label;
 * the image is at least as wide as the title. */
void ddpm_image_sheet(ddpm_image *out, const ddpm_sheet_spec *spec, const ddpm_image *cells);

/* ---- scatter.c ---------------------------------------------------------------
 * 2-D points as a picture: a square plot of the view [x_min, x_max] x
 * [y_min, y_max] (y up), integer grid lines labelled below and left, the
 * reference points (the data) as a faint density in ref_color under the
 * points as a bright one in color, and a title line above.  Points are the
 * first two of D coordinates (one: y = x); points outside the view or not
 * finite are left out. */
typedef struct ddpm_scatter_spec {
    float x_min, x_max, y_min, y_max;
    int size;                /* pixels of the plot's side, >= 32 */
    int text_scale;          /* font zoom, >= 1 */
    uint8_t color[3], ref_color[3];
} ddpm_scatter_spec;

/* [-3.5, 3.5]^2 (every built-in set and N(0, I) fit), 512 pixels, text
 * scale 2, orange points over blue data. */
ddpm_scatter_spec ddpm_scatter_spec_default(void);
/* Initialises out; ref may be NULL (n_ref 0), title may be NULL. */
void ddpm_image_scatter(ddpm_image *out, const ddpm_scatter_spec *spec, const float *pts, size_t n, int D,
                        const float *ref, size_t n_ref, const char *title);

/* ---- font5x7.c ---------------------------------------------------------------
 * A 5 x 7 bitmap font of ASCII 32..126 with two rows of descender (g, j, p,
 * q, y, comma), so a line is 9 rows tall; characters advance 6 pixels.
 * Other bytes draw as '?', one per UTF-8 character.  All sizes are
 * multiplied by `scale` (>= 1). */

enum { DDPM_FONT_GLYPH_W = 5, DDPM_FONT_GLYPH_H = 9, DDPM_FONT_ADVANCE = 6 };

/* Width in pixels of text drawn at scale: from the first glyph's left edge to
 * the last glyph's right edge (no trailing gap); 0 for "". */
int ddpm_image_text_width(const char *text, int scale);
/* Height of a line of text: DDPM_FONT_GLYPH_H * scale. */
int ddpm_image_text_height(int scale);
/* Draws text with its top-left corner at (x, y); only set pixels are drawn. */
void ddpm_image_draw_text(ddpm_image *img, int x, int y, const char *text, int scale,
                          const uint8_t rgb[3]);

/* A TrueType renderer the program may register (the visualizer's SDL_ttf,
 * src/ui/export_text.c), so that exports (strips, sheets, plots) carry
 * slide-size text: with one, the three functions above measure and draw
 * through it, DDPM_FONT_TTF_LINE pixels a line at scale 1, and the bitmap
 * font is the fallback.  Not thread-safe: register before any drawing. */
enum { DDPM_FONT_TTF_LINE = 18 };
typedef struct ddpm_text_renderer {
    int (*width)(void *ctx, const char *text, int line_px);
    void (*draw)(void *ctx, ddpm_image *img, int x, int y, const char *text, int line_px, const uint8_t rgb[3]);
    void *ctx;
} ddpm_text_renderer;
void ddpm_image_set_text_renderer(const ddpm_text_renderer *r);   /* NULL: the bitmap font */

/* ---- png_io.c ------------------------------------------------------------------ */

/* Writes img as an 8-bit RGB PNG, atomically (nothing at path changes
 * unless the whole file was written).  Errors name the path and the cause. */
int ddpm_png_write(const char *path, const ddpm_image *img, ddpm_error *err);
/* Reads a PNG of any colour type as 8-bit gray (*w x *h bytes, malloc'ed,
 * caller frees); a side over max_side, a non-PNG, a damaged one or a FIFO is
 * an error naming the file. */
int ddpm_png_read_gray(const char *path, int max_side, uint8_t **out, int *w, int *h, ddpm_error *err);

/* ---- gif_io.c ------------------------------------------------------------------ */

/* An animated GIF being written: frames of one size, each with its own
 * delay, looping forever (NETSCAPE2.0).  Colours are quantised to a fixed
 * 256-entry palette: 240 grays plus the DDPM_RGB_* colours and a few more.
 * The file is encoded in memory and written atomically by ddpm_gif_close.
 * Every failed call releases everything (like ddpm_gif_abort). */
typedef struct ddpm_gif_writer {
    char path[4096];
    int w, h;
    int frames;              /* frames added so far */
    void *gif;               /* GifFileType *; opaque so this header needs no gif_lib.h */
    uint8_t *line;           /* (w) palette indices of one row */
    uint8_t *bytes;          /* the encoded file so far; owned */
    size_t len, cap;
    bool out_of_memory;      /* set by the output callback */
} ddpm_gif_writer;

int ddpm_gif_open(ddpm_gif_writer *gw, const char *path, int w, int h, ddpm_error *err);
/* Appends frame (gw->w x gw->h) shown for delay_cs centiseconds (0 .. 65535). */
int ddpm_gif_add_frame(ddpm_gif_writer *gw, const ddpm_image *frame, int delay_cs,
                       ddpm_error *err);
/* Finishes the file and writes it to gw->path; at least one frame is needed. */
int ddpm_gif_close(ddpm_gif_writer *gw, ddpm_error *err);
/* Gives up: releases everything, writes nothing.  Safe after a failed call. */
void ddpm_gif_abort(ddpm_gif_writer *gw);

/* The palette index a colour is quantised to (grays to the nearest of the
 * 240 grays, other colours to the nearest entry), and the palette itself;
 * exposed for tests and for callers that want exact colours. */
int ddpm_gif_palette_index(const uint8_t rgb[3]);
void ddpm_gif_palette(uint8_t out[256][3]);

#ifdef __cplusplus
}
#endif
#endif
