/* image_grid.c: many small images on one picture: a plain grid of samples,
 * and a labelled sheet for parameter sweeps (see ddpm/image.h). */
#include "ddpm/image.h"

#include <math.h>

/* ---- grid ------------------------------------------------------------------- */

ddpm_grid_spec ddpm_grid_spec_default(int n)
{
    DDPM_ASSERT(n >= 1);
    int cols = (int)ceil(sqrt((double)n));
    return (ddpm_grid_spec){.rows = (n + cols - 1) / cols, .cols = cols, .pad = 2, .scale = 1,
                            .tone = DDPM_TONE_UNIT, .background = {48, 48, 48}};
}

static void check_grid_spec(const ddpm_grid_spec *spec)
{
    DDPM_ASSERT(spec && spec->rows >= 1 && spec->cols >= 1 && spec->pad >= 0 && spec->scale >= 1);
}

void ddpm_grid_size(const ddpm_grid_spec *spec, int height, int width, int *out_w, int *out_h)
{
    check_grid_spec(spec);
    *out_w = spec->cols * (width * spec->scale + spec->pad) + spec->pad;
    *out_h = spec->rows * (height * spec->scale + spec->pad) + spec->pad;
}

void ddpm_grid_cell_origin(const ddpm_grid_spec *spec, int height, int width, int index,
                           int *x, int *y)
{
    check_grid_spec(spec);
    DDPM_ASSERT(index >= 0 && index < spec->rows * spec->cols);
    *x = spec->pad + (index % spec->cols) * (width * spec->scale + spec->pad);
    *y = spec->pad + (index / spec->cols) * (height * spec->scale + spec->pad);
}

void ddpm_image_grid(ddpm_image *out, const ddpm_grid_spec *spec, const float *images, int n,
                     int height, int width)
{
    check_grid_spec(spec);
    DDPM_ASSERT(out && images && n >= 0 && n <= spec->rows * spec->cols && height > 0 && width > 0);
    int w, h;
    ddpm_grid_size(spec, height, width, &w, &h);
    ddpm_image_init(out, w, h);
    ddpm_image_fill(out, spec->background);
    for (int i = 0; i < n; i++) {
        int x, y;
        ddpm_grid_cell_origin(spec, height, width, i, &x, &y);
        ddpm_image_blit_gray(out, x, y, images + (size_t)i * height * width, width, height,
                             spec->scale, spec->tone);
    }
}

/* ---- sheet ------------------------------------------------------------------ */

ddpm_sheet_spec ddpm_sheet_spec_default(int rows, int cols)
{
    return (ddpm_sheet_spec){.rows = rows, .cols = cols, .pad = 4, .text_scale = 1,
                             .background = {0, 0, 0}, .text = {255, 255, 255}};
}

/* Layout, left to right: pad, row labels, pad, column 0, pad, column 1, ...,
 * pad.  Top to bottom: pad, title, pad, column labels, pad, row 0, pad, ...
 * A missing title or label band takes no space. */
void ddpm_image_sheet(ddpm_image *out, const ddpm_sheet_spec *spec, const ddpm_image *cells)
{
    DDPM_ASSERT(out && spec && cells && spec->rows >= 1 && spec->cols >= 1 && spec->pad >= 0 &&
                spec->text_scale >= 1);
    const int pad = spec->pad, ts = spec->text_scale, line = ddpm_image_text_height(ts);
    const int cell_w = cells[0].w, cell_h = cells[0].h;
    for (int i = 0; i < spec->rows * spec->cols; i++)
        DDPM_ASSERT(cells[i].rgb && cells[i].w == cell_w && cells[i].h == cell_h);

    int label_w = 0;  /* the row-label band */
    for (int r = 0; spec->row_labels && r < spec->rows; r++) {
        int tw = ddpm_image_text_width(spec->row_labels[r], ts);
        if (tw > label_w) label_w = tw;
    }
    int col_w = cell_w;  /* every column as wide as the widest of cells and labels */
    for (int c = 0; spec->col_labels && c < spec->cols; c++) {
        int tw = ddpm_image_text_width(spec->col_labels[c], ts);
        if (tw > col_w) col_w = tw;
    }
    int x0 = pad + (label_w ? label_w + pad : 0);
    int title_y = pad;
    int labels_y = title_y + (spec->title ? line + pad : 0);
    int y0 = labels_y + (spec->col_labels ? line + pad : 0);

    int w = x0 + spec->cols * (col_w + pad);
    int h = y0 + spec->rows * (cell_h + pad);
    if (spec->title && pad + ddpm_image_text_width(spec->title, ts) + pad > w)
        w = pad + ddpm_image_text_width(spec->title, ts) + pad;
    ddpm_image_init(out, w, h);
    ddpm_image_fill(out, spec->background);

    if (spec->title) ddpm_image_draw_text(out, pad, title_y, spec->title, ts, spec->text);
    for (int c = 0; c < spec->cols; c++) {
        int cx = x0 + c * (col_w + pad);
        if (spec->col_labels) {
            const char *label = spec->col_labels[c];
            ddpm_image_draw_text(out, cx + (col_w - ddpm_image_text_width(label, ts)) / 2,
                                 labels_y, label, ts, spec->text);
        }
        for (int r = 0; r < spec->rows; r++)
            ddpm_image_blit(out, cx + (col_w - cell_w) / 2, y0 + r * (cell_h + pad),
                            &cells[r * spec->cols + c]);
    }
    for (int r = 0; spec->row_labels && r < spec->rows; r++)
        ddpm_image_draw_text(out, pad, y0 + r * (cell_h + pad) + (cell_h - line) / 2,
                             spec->row_labels[r], ts, spec->text);
}
