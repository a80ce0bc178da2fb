/* conv2d_winograd.c: Winograd convolution, channels last; see
 * conv2d_winograd.h.  Two variants, F(m x m, 3x3) with m = 2 (4x4 windows,
 * 16 products per tile and channel pair, 2.25x fewer than direct) and m = 4
 * (6x6 windows, 36 products for 16 outputs, 4x fewer), with the transforms
 * of Lavin & Gray 2016 (section 4.1 and 4.2):
 *
 *   F(2,3): B^T d = (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
 *           G g   = (g0, (g0 + g1 + g2)/2, (g0 - g1 + g2)/2, g2)
 *           A^T m = (m0 + m1 + m2, m1 - m2 - m3)
 *   F(4,3): B^T d = (4d0 - 5d2 + d4, -4d1 - 4d2 + d3 + d4, 4d1 - 4d2 - d3 + d4,
 *                    -2d1 - d2 + 2d3 + d4, 2d1 - d2 - 2d3 + d4, 4d1 - 5d3 + d5)
 *           G g   = (g0/4, -(g0 + g1 + g2)/6, -(g0 - g1 + g2)/6,
 *                    g0/24 + g1/12 + g2/6, g0/24 - g1/12 + g2/6, g2)
 *           A^T m = (m0 + m1 + m2 + m3 + m4, m1 - m2 + 2m3 - 2m4,
 *                    m1 + m2 + 4m3 + 4m4, m1 - m2 + 8m3 - 8m4 + m5)
 *
 * applied down the columns and then along the rows of a tile.  The weight
 * gradient uses the adjoints A and G^T.  F(4,3) rounds a little more (its
 * transforms have coefficients up to 8; about 1e-5 relative against 4e-7),
 * which is far below what training notices.
 *
 * Tiles are taken a block at a time: the block's transformed inputs V
 * (xi, tiles, C_in) and products M (xi, tiles, C_out) stay in L2 between the
 * transforms and the xi products.  The transforms work on 16 channels at a
 * time in small local arrays, so each formula is one vector instruction. */
#include "conv2d_winograd.h"

#include <string.h>

#include "ddpm/common.h"
#include "microkernel.h"
#include "simd.h"

/* Tiles per block: the forward-style passes write M for every tile of the
 * block, so a smaller block stays closer to L1; the weight gradient's
 * products run over the block's tiles (K), so a longer block amortises
 * loading and storing the accumulators. */
enum { TB_FWD = 32, TB_DW = 64, TB_MAX = 64 };

/* V and M hold a block's 36 window points one after the other; a point's
 * slab (tiles x channels) is followed by one spare cache line, so that the
 * 36 values of one tile, read or written together by a transform, are not
 * all a multiple of 4 KiB apart (32 tiles x 32 floats is exactly 4 KiB),
 * which would put them in one L1 set. */
enum { XI_PAD = 16 };
static size_t xi_stride(int tb, size_t width) { return (size_t)tb * width + XI_PAD; }
enum { LANES = 16 };  /* channels per step of a transform */

static size_t round16(int n) { return ((size_t)n + 15) / 16 * 16; }

/* ---- choosing ---------------------------------------------------------------- */

static int g_wino_mode = 0; /* test hook: 0 automatic, 1 never, 2 F(2,3), 4 F(4,3) */

void ddpm_wino_force(int mode) { g_wino_mode = mode; }

static bool geometry_fits(const ddpm_conv2d_dims *d)
{
    return d->kernel == 3 && d->stride == 1 && d->pad == 1;
}

bool ddpm_wino_applies(const ddpm_conv2d_dims *d)
{
    return geometry_fits(d) && d->C_in >= 8 && d->C_out >= 8;
}

/* The tile size m of each pass, 0 for direct: from `bench/conv_layers` on
 * Zen 4, checked against whole training steps (bench/README.md).  The
 * transforms cost per channel what the products save per channel pair, so
 * Winograd pays from about 32 channels on a side; then F(4,3) beats F(2,3)
 * everywhere, even on 7x7 maps where a third of its last tiles is padding.
 * (At 16 channels F(4,3) wins a few percent on its own, but loses them in a
 * network, where its four times larger transformed weights compete for the
 * cache.)  The weight gradient's products run over tiles, fewer on small
 * maps, so it needs more channels there.  On 28x28 maps 72 channels in all
 * already pay in every pass (small's 48 -> 24 and 72 -> 24 decoder convs:
 * 1.2-1.45x faster than direct on an AVX-512 Xeon, B = 8).  Since V and M
 * no longer put a tile's 36 values in one L1 set (XI_PAD), F(4,3) also pays
 * at 48 channels in all on 28x28 maps in every pass (small's 24 -> 24:
 * 270 / 220 against 165 / 177 direct-equivalent GFLOP/s for the input and
 * weight gradients on Zen 5, a training step -4 %, tiny's too) and at 72 on
 * 14x14 maps forward (24 -> 48: 294 against 205).  F(2,3), numerically
 * tighter, is kept for tests.  A forward-style pass reads `a` channels and
 * writes `b`. */
static int forward_tile(const ddpm_conv2d_dims *d, int a, int b)
{
    if (g_wino_mode) return g_wino_mode == 1 || !geometry_fits(d) ? 0 : g_wino_mode;
    if (!ddpm_wino_applies(d)) return 0;
    const int narrow = a < b ? a : b;
    return narrow >= 32 || a + b >= (d->H * d->W >= 784 ? 48 : 72) ? 4 : 0;
}

int ddpm_wino_tile_forward(const ddpm_conv2d_dims *d) { return forward_tile(d, d->C_in, d->C_out); }
int ddpm_wino_tile_dinp(const ddpm_conv2d_dims *d) { return forward_tile(d, d->C_out, d->C_in); }

int ddpm_wino_tile_dweight(const ddpm_conv2d_dims *d)
{
    if (g_wino_mode) return g_wino_mode == 1 || !geometry_fits(d) ? 0 : g_wino_mode;
    if (!ddpm_wino_applies(d)) return 0;
    const int narrow = d->C_in < d->C_out ? d->C_in : d->C_out, sum = d->C_in + d->C_out;
    if (d->H * d->W >= 784) return sum >= 48 || (narrow >= 32 && sum >= 64) ? 4 : 0;
    return narrow >= 32 && sum >= 96 ? 4 : 0;
}

/* ---- geometry ------------------------------------------------------------------ */

/* Tiles of m x m outputs over B images of H x W pixels (output = input
 * size), numbered image by image, row by row.  Tile (ty, tx) reads the
 * (m + 2)^2 window whose top-left input pixel is (m ty - 1, m tx - 1);
 * pixels outside the image read as zeros (the padding), so no padded copy
 * is made, and a block of tiles may span images. */
typedef struct {
    int m, a, nxi;   /* tile, window (m + 2), window points a^2 */
    int B, H, W, TY, TX, per_image;
    long T;          /* all tiles of the batch */
} tiles;

static tiles tiles_of(int m, int B, int H, int W)
{
    DDPM_ASSERT(m == 2 || m == 4);
    tiles t;
    t.m = m, t.a = m + 2, t.nxi = t.a * t.a;
    t.B = B, t.H = H, t.W = W;
    t.TY = (H + m - 1) / m, t.TX = (W + m - 1) / m;
    t.per_image = t.TY * t.TX;
    t.T = (long)B * t.per_image;
    return t;
}

/* The image and the top-left output pixel of tile g. */
static inline __attribute__((always_inline)) void tile_at(const tiles *t, long g, int *n, int *h0, int *w0)
{
    *n = (int)(g / t->per_image);
    const int r = (int)(g % t->per_image);
    *h0 = t->m * (r / t->TX);
    *w0 = t->m * (r % t->TX);
}

static size_t nxi_of(int m) { return (size_t)(m + 2) * (m + 2); }

size_t ddpm_wino_wf_floats(const ddpm_conv2d_dims *d)
{
    return nxi_of(ddpm_wino_tile_forward(d)) * (size_t)d->C_in * round16(d->C_out);
}

size_t ddpm_wino_wb_floats(const ddpm_conv2d_dims *d)
{
    return nxi_of(ddpm_wino_tile_dinp(d)) * (size_t)d->C_out * round16(d->C_in);
}

size_t ddpm_wino_dwf_floats(const ddpm_conv2d_dims *d)
{
    return nxi_of(ddpm_wino_tile_dweight(d)) * (size_t)d->C_in * round16(d->C_out);
}

/* Scratch: V, M and a pixel of zeros (read beyond the image), for the
 * widest channel count and the larger tile of any pass; independent of B. */
typedef struct {
    float *V, *M, *zero;
} wino_scratch;

static size_t scratch_parts(const ddpm_conv2d_dims *d, float *base, wino_scratch *s)
{
    const size_t ld = round16(d->C_in > d->C_out ? d->C_in : d->C_out);
    const size_t n_v = 36 * xi_stride(TB_MAX, ld), n_m = 36 * xi_stride(TB_MAX, ld);
    if (s) {
        s->V = base;
        s->M = s->V + n_v;
        s->zero = s->M + n_m;
    }
    return n_v + n_m + ld;
}

size_t ddpm_wino_scratch_floats(const ddpm_conv2d_dims *d) { return scratch_parts(d, NULL, NULL); }

/* ---- the 1-D transforms, 16 channels at a time ------------------------------------ */

/* Each reads n inputs x[k] = x0[k * xs + l] and writes outputs y[k] =
 * y0[k * ys + l] for lanes l < L, so one helper serves columns and rows
 * of a local window alike.  L is LANES, or 8 for the last 8 channels of a
 * count such as 24 (a constant wherever the helper is inlined). */
#define TRANSFORM_1D(name)                                                                 \
    static inline __attribute__((always_inline)) void name(float *restrict y, size_t ys,  \
                                                           const float *restrict x, size_t xs, int L)
#define LOOP for (int l = 0; l < L; l++)
#define X(k) x[(k) * xs + l]
#define Y(k) y[(k) * ys + l]

TRANSFORM_1D(bt4)
{
    LOOP {
        const float x0 = X(0), x1 = X(1), x2 = X(2), x3 = X(3);
        Y(0) = x0 - x2, Y(1) = x1 + x2, Y(2) = x2 - x1, Y(3) = x1 - x3;
    }
}

TRANSFORM_1D(bt6)
{
    LOOP {
        const float x0 = X(0), x1 = X(1), x2 = X(2), x3 = X(3), x4 = X(4), x5 = X(5);
        const float a = x4 - 4.0f * x2, b = x3 - 4.0f * x1, c = x4 - x2, e = 2.0f * (x3 - x1);
        Y(0) = 4.0f * x0 - 5.0f * x2 + x4;
        Y(1) = a + b, Y(2) = a - b, Y(3) = c + e, Y(4) = c - e;
        Y(5) = 4.0f * x1 - 5.0f * x3 + x5;
    }
}

/* A^T: 4 -> 2 and 6 -> 4 */
TRANSFORM_1D(at4)
{
    LOOP {
        const float x0 = X(0), x1 = X(1), x2 = X(2), x3 = X(3);
        Y(0) = x0 + x1 + x2, Y(1) = x1 - x2 - x3;
    }
}

TRANSFORM_1D(at6)
{
    LOOP {
        const float x0 = X(0), x1 = X(1), x2 = X(2), x3 = X(3), x4 = X(4), x5 = X(5);
        const float p = x1 + x2, q = x1 - x2, r = x3 + x4, s = x3 - x4;
        Y(0) = x0 + p + r, Y(1) = q + 2.0f * s, Y(2) = p + 4.0f * r, Y(3) = q + 8.0f * s + x5;
    }
}

/* A (the adjoint of A^T): 2 -> 4 and 4 -> 6 */
TRANSFORM_1D(a4)
{
    LOOP {
        const float x0 = X(0), x1 = X(1);
        Y(0) = x0, Y(1) = x0 + x1, Y(2) = x0 - x1, Y(3) = -x1;
    }
}

TRANSFORM_1D(a6)
{
    LOOP {
        const float x0 = X(0), x1 = X(1), x2 = X(2), x3 = X(3);
        const float e = x0 + x2, o = x1 + x3, e2 = x0 + 4.0f * x2, o2 = 2.0f * x1 + 8.0f * x3;
        Y(0) = x0, Y(1) = e + o, Y(2) = e - o, Y(3) = e2 + o2, Y(4) = e2 - o2, Y(5) = x3;
    }
}

/* G: 3 -> 4 and 3 -> 6 */
TRANSFORM_1D(g4)
{
    LOOP {
        const float x0 = X(0), x1 = X(1), x2 = X(2);
        Y(0) = x0, Y(1) = 0.5f * (x0 + x1 + x2), Y(2) = 0.5f * (x0 - x1 + x2), Y(3) = x2;
    }
}

TRANSFORM_1D(g6)
{
    LOOP {
        const float x0 = X(0), x1 = X(1), x2 = X(2);
        const float e = x0 + x2, e24 = x0 * (1.0f / 24.0f) + x2 * (1.0f / 6.0f);
        Y(0) = 0.25f * x0;
        Y(1) = -(e + x1) * (1.0f / 6.0f), Y(2) = -(e - x1) * (1.0f / 6.0f);
        Y(3) = e24 + x1 * (1.0f / 12.0f), Y(4) = e24 - x1 * (1.0f / 12.0f);
        Y(5) = x2;
    }
}

/* G^T (the adjoint of G): 4 -> 3 and 6 -> 3 */
TRANSFORM_1D(gt4)
{
    LOOP {
        const float x0 = X(0), x1 = X(1), x2 = X(2), x3 = X(3);
        Y(0) = x0 + 0.5f * (x1 + x2), Y(1) = 0.5f * (x1 - x2), Y(2) = 0.5f * (x1 + x2) + x3;
    }
}

TRANSFORM_1D(gt6)
{
    LOOP {
        const float x0 = X(0), x1 = X(1), x2 = X(2), x3 = X(3), x4 = X(4), x5 = X(5);
        const float p = (x1 + x2) * (1.0f / 6.0f), q = (x1 - x2) * (1.0f / 6.0f);
        const float r = x3 + x4, s = x3 - x4;
        Y(0) = 0.25f * x0 - p + r * (1.0f / 24.0f);
        Y(1) = -q + s * (1.0f / 12.0f);
        Y(2) = -p + r * (1.0f / 6.0f) + x5;
    }
}

#undef TRANSFORM_1D
#undef LOOP
#undef X
#undef Y

/* ---- the tile transforms ---------------------------------------------------------- */

/* The 2-D transforms of one window, L lanes (LANES, or 8 for the last 8
 * channels of a count such as 24: no work on 8 lanes of padding). */
static inline __attribute__((always_inline)) void input_window(float *v, const float *const *col,
                                                               const size_t *cs, float *tmp, int a, int L)
{
    /* B^T down the a columns (column j: a values cs[j] apart), then along the
     * rows; the branch outside the loops, so that each loop vectorises */
    if (a == 4) {
        for (int j = 0; j < 4; j++) bt4(tmp + j * LANES, 4 * LANES, col[j], cs[j], L);
        for (int i = 0; i < 4; i++) bt4(v + i * 4 * LANES, LANES, tmp + i * 4 * LANES, LANES, L);
    } else {
        for (int j = 0; j < 6; j++) bt6(tmp + j * LANES, 6 * LANES, col[j], cs[j], L);
        for (int i = 0; i < 6; i++) bt6(v + i * 6 * LANES, LANES, tmp + i * 6 * LANES, LANES, L);
    }
}

/* A^T down the a = m + 2 columns of M (column j at col + j xs, its a rows
 * xs * a apart: a -> m rows), then along the m rows. */
static inline __attribute__((always_inline)) void output_window(float *y, const float *col, size_t xs,
                                                                float *tmp, int m, int L)
{
    if (m == 2) {
        for (int j = 0; j < 4; j++) at4(tmp + j * LANES, 4 * LANES, col + (size_t)j * xs, 4 * xs, L);
        for (int r = 0; r < 2; r++) at4(y + r * 2 * LANES, LANES, tmp + r * 4 * LANES, LANES, L);
    } else {
        for (int j = 0; j < 6; j++) at6(tmp + j * LANES, 6 * LANES, col + (size_t)j * xs, 6 * xs, L);
        for (int r = 0; r < 4; r++) at6(y + r * 4 * LANES, LANES, tmp + r * 6 * LANES, LANES, L);
    }
}

DDPM_VECTORIZE
static void input_transform(float *restrict V, const float *restrict inp, const float *zero,
                            const tiles *t, int C, long t0, int nt, int tb)
{
    const int a = t->a, nxi = t->nxi;
    const size_t x = xi_stride(tb, (size_t)C), row = (size_t)t->W * C;
    float win[36 * LANES], tmp[36 * LANES], v[36 * LANES];
    for (int i = 0; i < nt; i++) {
        int n, h0, w0;
        tile_at(t, t0 + i, &n, &h0, &w0);
        const float *img = inp + (size_t)n * t->H * t->W * C;
        const int hb = h0 - 1, wb = w0 - 1; /* the window's top-left pixel */
        const bool rows_in = hb >= 0 && hb + a <= t->H;
        for (int c0 = 0; c0 < C; c0 += LANES) {
            const int nl = C - c0 < LANES ? C - c0 : LANES;
            /* the column pass reads a window column where it lies: from the
             * image, from `zero` (stride 0) left or right of it, or, crossing
             * the top or bottom edge (or with lanes past C), from a copy */
            const float *col[6];
            size_t cs[6];
            for (int j = 0; j < a; j++) {
                const int w = wb + j;
                if (w < 0 || w >= t->W) {
                    col[j] = zero, cs[j] = 0;
                } else if (rows_in && (nl == LANES || nl == 8)) {
                    col[j] = img + ((size_t)hb * t->W + w) * C + c0, cs[j] = row;
                } else {
                    for (int k = 0; k < a; k++) {
                        const int h = hb + k;
                        const float *q = h >= 0 && h < t->H ? img + ((size_t)h * t->W + w) * C + c0 : zero;
                        float *wp = win + (k * a + j) * LANES;
                        if (nl == LANES)
                            memcpy(wp, q, sizeof(float) * LANES);
                        else if (nl == 8)
                            memcpy(wp, q, sizeof(float) * 8);
                        else
                            for (int l = 0; l < LANES; l++) wp[l] = l < nl ? q[l] : 0.0f;
                    }
                    col[j] = win + j * LANES, cs[j] = (size_t)a * LANES;
                }
            }
            /* into a local block first: writing V directly from the row pass
             * keeps GCC from vectorising it */
            if (nl == 8) input_window(v, col, cs, tmp, a, 8);
            else input_window(v, col, cs, tmp, a, LANES);
            float *dst = V + (size_t)i * C + c0;
            if (nl == LANES)
                for (int p = 0; p < nxi; p++) memcpy(dst + p * x, v + p * LANES, sizeof(float) * LANES);
            else
                for (int p = 0; p < nxi; p++) memcpy(dst + p * x, v + p * LANES, sizeof(float) * (size_t)nl);
        }
    }
}

/* dM[xi, i, :] = (A dY A^T)[xi] for the m x m dout block of tile t0 + i;
 * pixels beyond the image read as zeros. */
DDPM_VECTORIZE
static void dout_transform(float *restrict dM, const float *restrict dout, const float *zero,
                           const tiles *t, int C, size_t ld, long t0, int nt, int tb)
{
    const int m = t->m, a = t->a, nxi = t->nxi;
    const size_t x = xi_stride(tb, ld);
    float blk[16 * LANES], tmp[36 * LANES], v[36 * LANES];
    for (int i = 0; i < nt; i++) {
        int n, h0, w0;
        tile_at(t, t0 + i, &n, &h0, &w0);
        const float *img = dout + (size_t)n * t->H * t->W * C;
        for (int c0 = 0; c0 < C; c0 += LANES) {
            const int nl = C - c0 < LANES ? C - c0 : LANES;
            for (int p = 0; p < m * m; p++) {
                const int h = h0 + p / m, w = w0 + p % m;
                const float *src = h < t->H && w < t->W ? img + ((size_t)h * t->W + w) * C + c0 : zero;
                for (int l = 0; l < LANES; l++) blk[p * LANES + l] = l < nl ? src[l] : 0.0f;
            }
            /* A down the m columns of the block (m -> a rows), then along the rows */
            for (int j = 0; j < m; j++) {
                if (m == 2) a4(tmp + j * LANES, (size_t)m * LANES, blk + j * LANES, (size_t)m * LANES, LANES);
                else a6(tmp + j * LANES, (size_t)m * LANES, blk + j * LANES, (size_t)m * LANES, LANES);
            }
            for (int r = 0; r < a; r++) {
                if (m == 2) a4(v + r * a * LANES, LANES, tmp + r * m * LANES, LANES, LANES);
                else a6(v + r * a * LANES, LANES, tmp + r * m * LANES, LANES, LANES);
            }
            /* whole lanes: dM's padding past C is never read back */
            float *dst = dM + (size_t)i * ld + c0;
            for (int p = 0; p < nxi; p++) memcpy(dst + p * x, v + p * LANES, sizeof(float) * LANES);
        }
    }
}

/* out (+)= bias + A^T M A for each tile of the block; outputs beyond the
 * image are dropped. */
DDPM_VECTORIZE
static void output_transform(float *out, ptrdiff_t os, const float *restrict M,
                             const float *bias_all, ptrdiff_t bias_stride, const float *res,
                             const tiles *t, int C, size_t ld, long t0, int nt, bool accumulate)
{
    const int m = t->m;
    const size_t x = xi_stride(TB_FWD, ld);
    float tmp[36 * LANES], y[16 * LANES];
    for (int i = 0; i < nt; i++) {
        int n, h0, w0;
        tile_at(t, t0 + i, &n, &h0, &w0);
        float *img = out + (size_t)n * t->H * t->W * os;
        const float *res_img = res ? res + (size_t)n * t->H * t->W * C : NULL;
        const float *bias = bias_all ? bias_all + n * bias_stride : NULL;
        const float *src = M + (size_t)i * ld;
        for (int c0 = 0; c0 < C; c0 += LANES) {
            const int nl = C - c0 < LANES ? C - c0 : LANES;
            if (nl <= 8) output_window(y, src + c0, x, tmp, m, 8);
            else output_window(y, src + c0, x, tmp, m, LANES);
            for (int p = 0; p < m * m; p++) {
                const int h = h0 + p / m, w = w0 + p % m;
                if (h >= t->H || w >= t->W) continue;
                float *dst = img + ((size_t)h * t->W + w) * os + c0;
                const float *yp = y + p * LANES;
                if (accumulate) {
                    for (int l = 0; l < nl; l++) dst[l] += (bias ? bias[c0 + l] : 0.0f) + yp[l];
                } else if (res_img) {
                    const float *rp = res_img + ((size_t)h * t->W + w) * C + c0;
                    for (int l = 0; l < nl; l++) dst[l] = rp[l] + ((bias ? bias[c0 + l] : 0.0f) + yp[l]);
                } else {
                    for (int l = 0; l < nl; l++) dst[l] = (bias ? bias[c0 + l] : 0.0f) + yp[l];
                }
            }
        }
    }
}

/* ---- weights ------------------------------------------------------------------ */

/* U[xi, r, col] = (G g G^T)[xi] with g the filter between input channel r
 * and output channel col (forward), or from output channel r back to input
 * channel col, flipped in both directions (input gradient); zeros up to ld.
 * Sixteen filters at a time go through the 2-D transform as lanes. */
DDPM_VECTORIZE
static void pack_transformed(float *U, int m, int rows, int cols, size_t ld, const float *weight,
                             int C_in, bool transposed)
{
    const int a = m + 2, nxi = a * a;
    const size_t xs = (size_t)rows * ld;
    float g[9 * LANES], tmp[18 * LANES], u[36 * LANES];
    for (int r = 0; r < rows; r++) {
        for (int c0 = 0; c0 < cols; c0 += LANES) {
            const int nl = cols - c0 < LANES ? cols - c0 : LANES;
            for (int l = 0; l < LANES; l++) {
                const int col = c0 + (l < nl ? l : 0);
                const float *w = transposed ? weight + ((size_t)r * C_in + col) * 9
                                            : weight + ((size_t)col * C_in + r) * 9;
                for (int k = 0; k < 9; k++) g[k * LANES + l] = w[transposed ? 8 - k : k];
            }
            /* G down the 3 columns (3 -> a rows), then along the a rows */
            for (int j = 0; j < 3; j++) {
                if (m == 2) g4(tmp + j * LANES, 3 * LANES, g + j * LANES, 3 * LANES, LANES);
                else g6(tmp + j * LANES, 3 * LANES, g + j * LANES, 3 * LANES, LANES);
            }
            for (int i = 0; i < a; i++) {
                if (m == 2) g4(u + i * a * LANES, LANES, tmp + i * 3 * LANES, LANES, LANES);
                else g6(u + i * a * LANES, LANES, tmp + i * 3 * LANES, LANES, LANES);
            }
            for (int p = 0; p < nxi; p++)
                memcpy(U + p * xs + (size_t)r * ld + c0, u + p * LANES, sizeof(float) * (size_t)nl);
        }
        for (int p = 0; p < nxi; p++)
            memset(U + p * xs + (size_t)r * ld + cols, 0, sizeof(float) * (ld - (size_t)cols));
    }
}

void ddpm_wino_pack_wf(float *U, const float *weight, const ddpm_conv2d_dims *d)
{
    pack_transformed(U, ddpm_wino_tile_forward(d), d->C_in, d->C_out, round16(d->C_out), weight,
                     d->C_in, false);
}

void ddpm_wino_pack_wb(float *U, const float *weight, const ddpm_conv2d_dims *d)
{
    pack_transformed(U, ddpm_wino_tile_dinp(d), d->C_out, d->C_in, round16(d->C_in), weight,
                     d->C_in, true);
}

/* dweight[o, c] += G^T dU[., c, o] G, sixteen output channels at a time. */
DDPM_VECTORIZE
void ddpm_wino_unpack_grad(float *dweight, const float *dU, const ddpm_conv2d_dims *d)
{
    const int m = ddpm_wino_tile_dweight(d), a = m + 2, nxi = a * a;
    const size_t ld = round16(d->C_out), xs = (size_t)d->C_in * ld;
    float u[36 * LANES], tmp[18 * LANES], g[9 * LANES];
    for (int c = 0; c < d->C_in; c++)
        for (int o0 = 0; o0 < d->C_out; o0 += LANES) {
            const int nl = d->C_out - o0 < LANES ? d->C_out - o0 : LANES;
            for (int p = 0; p < nxi; p++) /* lanes past C_out are computed, never stored */
                memcpy(u + p * LANES, dU + p * xs + (size_t)c * ld + o0, sizeof(float) * LANES);
            /* G^T down the a columns (a -> 3 rows), then along the 3 rows */
            for (int j = 0; j < a; j++) {
                if (m == 2) gt4(tmp + j * LANES, (size_t)a * LANES, u + j * LANES, (size_t)a * LANES, LANES);
                else gt6(tmp + j * LANES, (size_t)a * LANES, u + j * LANES, (size_t)a * LANES, LANES);
            }
            for (int i = 0; i < 3; i++) {
                if (m == 2) gt4(g + i * 3 * LANES, LANES, tmp + i * a * LANES, LANES, LANES);
                else gt6(g + i * 3 * LANES, LANES, tmp + i * a * LANES, LANES, LANES);
            }
            for (int l = 0; l < nl; l++) {
                float *w = dweight + ((size_t)(o0 + l) * d->C_in + c) * 9;
                for (int k = 0; k < 9; k++) w[k] += g[k * LANES + l];
            }
        }
}

/* ---- passes ----------------------------------------------------------------------- */

/* out (B, H, W, C_out) (+)= conv3x3(inp (B, H, W, C_in)) by U (a^2, C_in, ld)
 * with tiles of m, blocks of tiles running across images. */
static void run_forward(float *out, ptrdiff_t os, const wino_scratch *s, const float *inp,
                        const float *U, const float *bias, ptrdiff_t bias_stride,
                        const float *res, int m, int B, int H, int W, int C_in, int C_out,
                        bool accumulate, int part, int parts)
{
    const tiles t = tiles_of(m, B, H, W);
    const size_t ld = round16(C_out);
    const ptrdiff_t a_off[1] = {0};
    const float *b[1];
    /* N = ld, whole vectors: U is zero past C_out, M's padding is never read */
    ddpm_mk_args mk = {.c_rs = (ptrdiff_t)ld, .N = (int)ld, .a_rs = C_in, .a_ks = 1, .a_off = a_off,
                       .b = b, .b_ks = (ptrdiff_t)ld, .ntaps = 1, .K = C_in};
    memset(s->zero, 0, sizeof(float) * round16(C_in));
    const long first = t.T * part / parts, end = t.T * (part + 1) / parts;
    for (long t0 = first; t0 < end; t0 += TB_FWD) {
        const int nt = end - t0 < TB_FWD ? (int)(end - t0) : TB_FWD;
        input_transform(s->V, inp, s->zero, &t, C_in, t0, nt, TB_FWD);
        mk.M = nt;
        for (int xi = 0; xi < t.nxi; xi++) {
            mk.c = s->M + xi * xi_stride(TB_FWD, ld);
            mk.a = s->V + xi * xi_stride(TB_FWD, (size_t)C_in);
            b[0] = U + (size_t)xi * C_in * ld;
            ddpm_mk_run(&mk);
        }
        output_transform(out, os, s->M, bias, bias_stride, res, &t, C_out, ld, t0, nt, accumulate);
    }
}

void ddpm_wino_forward(float *out, float *scratch, const float *inp, const float *U,
                       const float *bias, const float *res, const ddpm_conv2d_dims *d, int part,
                       int parts)
{
    const int m = ddpm_wino_tile_forward(d);
    DDPM_ASSERT(geometry_fits(d) && m);
    wino_scratch s;
    scratch_parts(d, scratch, &s);
    run_forward(out, d->out_stride ? d->out_stride : d->C_out, &s, inp, U, bias, d->bias_stride, res, m,
                d->B, d->H, d->W, d->C_in, d->C_out, false, part, parts);
}

void ddpm_wino_backward(float *dinp, float *dU, float *scratch, const float *dout,
                        const float *inp, const float *Ub, const ddpm_conv2d_dims *d)
{
    DDPM_ASSERT(geometry_fits(d));
    wino_scratch s;
    scratch_parts(d, scratch, &s);
    const int C_in = d->C_in, C_out = d->C_out;
    /* the input gradient is the convolution of dout with the flipped,
     * transposed filter (3x3, stride 1, pad 1 again) */
    if (dinp) {
        const int m = ddpm_wino_tile_dinp(d);
        DDPM_ASSERT(m);
        run_forward(dinp, C_in, &s, dout, Ub, NULL, 0, NULL, m, d->B, d->H, d->W, C_out, C_in,
                    !d->assign_dinp, 0, 1);
    }
    if (!dU) return;
    const int m = ddpm_wino_tile_dweight(d);
    DDPM_ASSERT(m);
    const tiles t = tiles_of(m, d->B, d->H, d->W);
    const size_t ld = round16(C_out);
    memset(s.zero, 0, sizeof(float) * round16(C_in > C_out ? C_in : C_out));
    const ptrdiff_t a_off[1] = {0};
    const float *b[1];
    /* N = ld, whole vectors: dM is zero past C_out, so dU's padding stays 0 */
    ddpm_mk_args mk = {.c_rs = (ptrdiff_t)ld, .M = C_in, .N = (int)ld, .a_rs = 1, .a_ks = C_in,
                       .a_off = a_off, .b = b, .b_ks = (ptrdiff_t)ld, .ntaps = 1,
                       .accumulate = true};
    for (long t0 = 0; t0 < t.T; t0 += TB_DW) {
        const int nt = t.T - t0 < TB_DW ? (int)(t.T - t0) : TB_DW;
        input_transform(s.V, inp, s.zero, &t, C_in, t0, nt, TB_DW);
        dout_transform(s.M, dout, s.zero, &t, C_out, ld, t0, nt, TB_DW);
        mk.K = nt;
        for (int xi = 0; xi < t.nxi; xi++) { /* dU[xi] (C_in, C_out) += V[xi]^T dM[xi] */
            mk.c = dU + (size_t)xi * C_in * ld;
            mk.a = s.V + xi * xi_stride(TB_DW, (size_t)C_in);
            b[0] = s.M + xi * xi_stride(TB_DW, ld);
            ddpm_mk_run(&mk);
        }
    }
}
