/* conv2d_winograd.h (private to the core): 3x3, stride 1, pad 1
 * convolutions by Winograd's minimal filtering F(m x m, 3x3), m = 2 or 4
 * (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016),
 * channels last.
 *
 * Each m x m block of outputs ("tile") is A^T [ U (.) V ] A, where
 * V = B^T d B is the tile's (m+2)^2 input window transformed and U = G g G^T
 * the 3x3 filter transformed: (m+2)^2 products per tile and channel pair
 * instead of 9 m^2, and across channels each point of the transformed window
 * is one matrix product (tiles x C_in) . (C_in x C_out) on the microkernel.  The
 * weight gradient is the adjoint: dU += V^T . (A dY A^T) summed over tiles,
 * turned into the 3x3 gradient by G^T dU G once at the end; the input
 * gradient is the same algorithm run on dout with the flipped, transposed
 * filter.  Every sum runs in an order fixed by the dims, as in conv2d.c. */
#ifndef DDPM_CONV2D_WINOGRAD_H
#define DDPM_CONV2D_WINOGRAD_H

#include <stdbool.h>
#include <stddef.h>

#include "ddpm/layers.h"

/* Whether this path can run these dims (3x3, stride 1, pad 1, 8+ channels). */
bool ddpm_wino_applies(const ddpm_conv2d_dims *d);
/* The tile size each pass uses, 2 (F(2x2, 3x3)), 4 (F(4x4, 3x3)) or 0 when
 * conv2d.c should run it directly: the forward, the input gradient and the
 * weight gradient are chosen separately (each has its own packed weights or
 * gradient), from the dims alone. */
int ddpm_wino_tile_forward(const ddpm_conv2d_dims *d);
int ddpm_wino_tile_dinp(const ddpm_conv2d_dims *d);
int ddpm_wino_tile_dweight(const ddpm_conv2d_dims *d);
/* For tests and measurements only (not thread-safe, changes results):
 * 0 = the automatic choice, 1 = never Winograd, 2 / 4 = that tile for every
 * 3x3, stride 1, pad 1 conv. */
void ddpm_wino_force(int mode);

/* U (a^2, C_in, round16(C_out)), a = tile + 2, from the weight (C_out, C_in, 3, 3) */
size_t ddpm_wino_wf_floats(const ddpm_conv2d_dims *d);
void ddpm_wino_pack_wf(float *U, const float *weight, const ddpm_conv2d_dims *d);
/* U of the flipped, transposed filter, (a^2, C_out, round16(C_in)), for dinp */
size_t ddpm_wino_wb_floats(const ddpm_conv2d_dims *d);
void ddpm_wino_pack_wb(float *U, const float *weight, const ddpm_conv2d_dims *d);
/* dU, the weight gradient in the transformed domain: same layout as U */
size_t ddpm_wino_dwf_floats(const ddpm_conv2d_dims *d);
/* dweight (C_out, C_in, 3, 3) += G^T dU G */
void ddpm_wino_unpack_grad(float *dweight, const float *dU, const ddpm_conv2d_dims *d);

size_t ddpm_wino_scratch_floats(const ddpm_conv2d_dims *d);
/* part `part` of `parts` of the tiles (see ddpm_conv2d_forward_part) */
void ddpm_wino_forward(float *out, float *scratch, const float *inp, const float *U,
                       const float *bias, const float *res, const ddpm_conv2d_dims *d, int part,
                       int parts);
/* dinp += (may be NULL), dU += (may be NULL); no bias here */
void ddpm_wino_backward(float *dinp, float *dU, float *scratch, const float *dout,
                        const float *inp, const float *Ub, const ddpm_conv2d_dims *d);

#endif
