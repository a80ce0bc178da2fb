/* raster.h: drawing points, lines and arrows into an ARGB pixel buffer (no
 * SDL), for the 2D world's panels: a cloud of thousands of particles is
 * drawn once into pixels and shown as one texture, which costs the software
 * renderer one copy instead of thousands of shapes.
 *
 *   viz_raster r = {pixels, w, h};
 *   viz_raster_clear(&r, 0xFF181820);
 *   viz_plot2d pl = viz_plot2d_make(-3.5f, 3.5f, -3.5f, 3.5f, w, h);   // data -> pixels, y up
 *   float px, py;  viz_plot2d_map(&pl, x, y, &px, &py);
 *   viz_raster_dot(&r, px, py, 1.5f, 0xFFAA28, 0.6f);
 *   viz_raster_line(&r, x0, y0, x1, y1, 1.0f, 0x66CCFF, 0.5f);
 *
 * Colours are 0xRRGGBB; alpha blends over what is there.  Everything clips to
 * the buffer, so any coordinate is allowed (NaN ones draw nothing).
 */
#ifndef VIZ_RASTER_H
#define VIZ_RASTER_H

#include <stdint.h>

typedef struct viz_raster {
    uint32_t *px;     /* (h, w) ARGB */
    int w, h;
} viz_raster;

/* A square region of data space fitted into w x h pixels, centred; y up. */
typedef struct viz_plot2d {
    float x_min, x_max, y_min, y_max;   /* the region (after fitting: what the pixels span) */
    float scale;                        /* pixels per data unit */
    float ox, oy;                       /* pixel of (x_min, y_max) */
} viz_plot2d;

viz_plot2d viz_plot2d_make(float x_min, float x_max, float y_min, float y_max, int w, int h);
void viz_plot2d_map(const viz_plot2d *p, float x, float y, float *px, float *py);
/* The inverse: pixel -> data. */
void viz_plot2d_unmap(const viz_plot2d *p, float px, float py, float *x, float *y);

void viz_raster_clear(viz_raster *r, uint32_t argb);
/* A filled disc of radius (pixels), anti-aliased at its edge. */
void viz_raster_dot(viz_raster *r, float x, float y, float radius, uint32_t rgb, float alpha);
/* A segment of width (pixels), anti-aliased. */
void viz_raster_line(viz_raster *r, float x0, float y0, float x1, float y1, float width, uint32_t rgb, float alpha);
/* A segment with a head of head (pixels) at (x1, y1). */
void viz_raster_arrow(viz_raster *r, float x0, float y0, float x1, float y1, float width, float head, uint32_t rgb,
                      float alpha);
/* Integer grid lines of the plot (and brighter axes), with colour rgb. */
void viz_raster_grid(viz_raster *r, const viz_plot2d *p, uint32_t rgb, uint32_t axis_rgb);

#endif
