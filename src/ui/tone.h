/* tone.h: float images to display pixels (pure, no SDL).
 *
 * Display mapping only; no diffusion formula lives here.  Images in [-1, 1]
 * map linearly to black..white; signed terms (the direction term, sigma z, a
 * difference) map symmetrically, [-m, m] -> black..white with 0 at mid-gray,
 * so that "nothing" looks the same in every panel.  NaN and Inf pixels are
 * drawn red, so a diverged model is visible rather than silently black.
 */
#ifndef VIZ_TONE_H
#define VIZ_TONE_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    VIZ_TONE_UNIT,       /* [-1, 1] -> 0..255, clamped */
    VIZ_TONE_SIGNED,     /* [-m, m] -> 0..255, 0 at 128 */
} viz_tone;

/* max |x| over finite elements (0 for none). */
float viz_tone_absmax(const float *x, size_t n);

/* Writes w x h pixels of src (row-major) as 0xAARRGGBB into dst, whose rows
 * are dst_stride pixels apart.  m is the symmetric range (ignored for UNIT);
 * m <= 0 draws everything mid-gray. */
void viz_tone_map(uint32_t *dst, int dst_stride, const float *src, int w, int h, viz_tone tone,
                  float m);

/* A grid of n images (h x w each) in `cols` columns with `gap` pixels between
 * them; gap pixels get `gap_argb`.  dst must hold viz_tone_grid_size() pixels. */
void viz_tone_grid_size(int n, int cols, int w, int h, int gap, int *out_w, int *out_h);
void viz_tone_grid(uint32_t *dst, const float *images, int n, int cols, int w, int h, int gap,
                   uint32_t gap_argb, viz_tone tone, float m);

#endif
