/* conv2d_winograd.c: F(2x2, 3x3) Winograd convolution, channels last; see
 * conv2d_winograd.h.  The 1-D transforms (Lavin & Gray 2016, section 4.1):
 *
 *   B^T d = (d0 - d2, d1 + d2, d2 - d1, d1 - d3)               input, 4 -> 4
 *   G g   = (g0, (g0 + g1 + g2)/2, (g0 - g1 + g2)/2, g2)        filter, 3 -> 4
 *   A^T m = (m0 + m1 + m2, m1 - m2 - m3)                        output, 4 -> 2
 *
 * applied along rows and then columns of a tile.  The adjoints for the
 * weight gradient are A y = (y0, y0 + y1, y0 - y1, -y1) and
 * G^T u = (u0 + (u1 + u2)/2, (u1 - u2)/2, (u1 + u2)/2 + u3).
 *
 * Tiles are taken a block at a time: the block's transformed inputs V (16,
 * tiles, C_in) and products M (16, tiles, C_out) stay in L2 between the transforms and
 * the 16 products.  The transforms loop over channels, which are adjacent in
 * memory, so they vectorise. */
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

static size_t round16(int n) { return ((size_t)n + 15) / 16 * 16; }

static int g_wino_mode = 0; /* test hook: 0 automatic, 1 never, 2 always */

void ddpm_wino_force(int mode) { g_wino_mode = mode; }

static bool geometry_fits(const ddpm_conv2d_dims *d)
{
    return d->kernel == 3 && d->stride == 1 && d->pad == 1;
}

bool ddpm_wino_applies(const ddpm_conv2d_dims *d)
{
    return geometry_fits(d) && d->C_in >= 8 && d->C_out >= 8;
}

/* The choice per pass, from measurements on Zen 4 (bench/README.md): the
 * transforms cost per channel what a product earns per channel pair, so
 * Winograd pays once the channel counts are large enough to amortise them,
 * later on 7x7 maps where tiles are few and half of the last one is wasted.
 * A forward-style pass reads `a` channels and writes `b`. */
static bool worth_it(const ddpm_conv2d_dims *d, int a, int b)
{
    if (g_wino_mode) return g_wino_mode == 2 && geometry_fits(d);
    if (!ddpm_wino_applies(d)) return false;
    const int wide = a > b ? a : b;
    return d->H * d->W >= 196 ? wide >= 64 && a + b >= 96 : a + b >= 192;
}

bool ddpm_wino_for_forward(const ddpm_conv2d_dims *d) { return worth_it(d, d->C_in, d->C_out); }
bool ddpm_wino_for_dinp(const ddpm_conv2d_dims *d) { return worth_it(d, d->C_out, d->C_in); }

bool ddpm_wino_for_dweight(const ddpm_conv2d_dims *d)
{
    if (g_wino_mode) return g_wino_mode == 2 && geometry_fits(d);
    return ddpm_wino_applies(d) && d->C_in >= 16 && d->C_out >= 16;
}

/* Tiles of one image of H x W pixels (output = input size), and the zero
 * padded input window they read: one pixel of border on the top and left,
 * enough on the bottom and right to complete the last tiles. */
typedef struct {
    int H, W, TY, TX, T, Hp, Wp;
} tiles;

static tiles tiles_of(int H, int W)
{
    tiles t;
    t.H = H, t.W = W;
    t.TY = (H + 1) / 2, t.TX = (W + 1) / 2;
    t.T = t.TY * t.TX;
    t.Hp = 2 * t.TY + 2, t.Wp = 2 * t.TX + 2;
    return t;
}

size_t ddpm_wino_wf_floats(const ddpm_conv2d_dims *d) { return 16 * (size_t)d->C_in * round16(d->C_out); }
size_t ddpm_wino_wb_floats(const ddpm_conv2d_dims *d) { return 16 * (size_t)d->C_out * round16(d->C_in); }
size_t ddpm_wino_dwf_floats(const ddpm_conv2d_dims *d) { return ddpm_wino_wf_floats(d); }

/* Scratch: the padded image, V, M and spare pixels (one of zeros to read
 * beyond the image, four to write into beyond it), for the widest channel
 * count of any pass. */
typedef struct {
    float *pad, *V, *M, *zero, *sink;
} wino_scratch;

static size_t scratch_parts(const ddpm_conv2d_dims *d, float *base, wino_scratch *s)
{
    const tiles t = tiles_of(d->H, d->W);
    const size_t C = (size_t)(d->C_in > d->C_out ? d->C_in : d->C_out);
    const size_t ld = round16(d->C_in > d->C_out ? d->C_in : d->C_out);
    const size_t n_pad = (size_t)t.Hp * t.Wp * C, n_v = 16 * (size_t)TB_MAX * C, n_m = 16 * (size_t)TB_MAX * ld;
    if (s) {
        s->pad = base;
        s->V = s->pad + n_pad;
        s->M = s->V + n_v;
        s->zero = s->M + n_m;
        s->sink = s->zero + ld;
    }
    return n_pad + n_v + n_m + 5 * ld;
}

size_t ddpm_wino_scratch_floats(const ddpm_conv2d_dims *d) { return scratch_parts(d, NULL, NULL); }

/* ---- weights ------------------------------------------------------------------ */

/* U_k[j] = (G g_j G^T)[k] for the filters g_j (nine taps each, tap t of
 * filter j at g_t[j]), j < n; vectorised across filters (each stream a
 * restrict parameter, as in the tile transforms below). */
enum { GB = 256 };

#define RF float *restrict
#define RC const float *restrict

/* G (a, b, c) = (a, (a + b + c)/2, (a - b + c)/2, c) */
#define GT(a, b, c, o0, o1, o2, o3) \
    (o0) = (a), (o1) = 0.5f * ((a) + (b) + (c)), (o2) = 0.5f * ((a) - (b) + (c)), (o3) = (c)

static inline __attribute__((always_inline)) void ggg(
    RF u0, RF u1, RF u2, RF u3, RF u4, RF u5, RF u6, RF u7, RF u8, RF u9, RF u10, RF u11, RF u12,
    RF u13, RF u14, RF u15, RC g0, RC g1, RC g2, RC g3, RC g4, RC g5, RC g6, RC g7, RC g8, int n)
{
    for (int j = 0; j < n; j++) {
        float a0, a1, a2, b0, b1, b2, c0, c1, c2, e0, e1, e2;
        GT(g0[j], g3[j], g6[j], a0, b0, c0, e0); /* G down the three columns */
        GT(g1[j], g4[j], g7[j], a1, b1, c1, e1);
        GT(g2[j], g5[j], g8[j], a2, b2, c2, e2);
        GT(a0, a1, a2, u0[j], u1[j], u2[j], u3[j]); /* then along the rows */
        GT(b0, b1, b2, u4[j], u5[j], u6[j], u7[j]);
        GT(c0, c1, c2, u8[j], u9[j], u10[j], u11[j]);
        GT(e0, e1, e2, u12[j], u13[j], u14[j], u15[j]);
    }
}

DDPM_VECTORIZE
static void filter_transform(float *U, size_t x, const float *g, int n)
{
    ggg(U, U + x, U + 2 * x, U + 3 * x, U + 4 * x, U + 5 * x, U + 6 * x, U + 7 * x, U + 8 * x,
        U + 9 * x, U + 10 * x, U + 11 * x, U + 12 * x, U + 13 * x, U + 14 * x, U + 15 * x, g,
        g + GB, g + 2 * GB, g + 3 * GB, g + 4 * GB, g + 5 * GB, g + 6 * GB, g + 7 * GB, g + 8 * GB, n);
}

#undef GT

/* U[xi, r, col] = (G g G^T)[xi] with g the filter between input channel r
 * and output channel col (forward), or from output channel r back to input
 * channel col, flipped (input gradient); zeros up to ld.  Filters are copied
 * GB at a time to a tap-major block so that the transform runs across them. */
static void pack_transformed(float *U, int rows, int cols, size_t ld, const float *weight, int C_in,
                             bool transposed)
{
    const size_t xs = (size_t)rows * ld;
    float g[9 * GB];
    for (int r = 0; r < rows; r++) {
        for (int c0 = 0; c0 < cols; c0 += GB) {
            const int n = cols - c0 < GB ? cols - c0 : GB;
            for (int j = 0; j < n; j++) {
                const int col = c0 + j;
                const float *w = transposed ? weight + ((size_t)r * C_in + col) * 9
                                            : weight + ((size_t)col * C_in + r) * 9;
                for (int t = 0; t < 9; t++) g[t * GB + j] = w[transposed ? 8 - t : t];
            }
            filter_transform(U + (size_t)r * ld + c0, xs, g, n);
        }
        for (int xi = 0; xi < 16; xi++)
            memset(U + xi * xs + (size_t)r * ld + cols, 0, sizeof(float) * (ld - (size_t)cols));
    }
}

void ddpm_wino_pack_wf(float *U, const float *weight, const ddpm_conv2d_dims *d)
{
    pack_transformed(U, d->C_in, d->C_out, round16(d->C_out), weight, d->C_in, false);
}

void ddpm_wino_pack_wb(float *U, const float *weight, const ddpm_conv2d_dims *d)
{
    pack_transformed(U, d->C_out, d->C_in, round16(d->C_in), weight, d->C_in, true);
}

void ddpm_wino_unpack_grad(float *dweight, const float *dU, const ddpm_conv2d_dims *d)
{
    const size_t ld = round16(d->C_out);
    for (int o = 0; o < d->C_out; o++)
        for (int c = 0; c < d->C_in; c++) {
            float u[16], q[3][4];
            for (int xi = 0; xi < 16; xi++) u[xi] = dU[((size_t)xi * d->C_in + c) * ld + o];
            /* q = G^T u (3x4), then G^T q^T: the 3x3 gradient */
            for (int j = 0; j < 4; j++) {
                q[0][j] = u[j] + 0.5f * (u[4 + j] + u[8 + j]);
                q[1][j] = 0.5f * (u[4 + j] - u[8 + j]);
                q[2][j] = 0.5f * (u[4 + j] + u[8 + j]) + u[12 + j];
            }
            float *g = dweight + ((size_t)o * d->C_in + c) * 9;
            for (int i = 0; i < 3; i++) {
                g[3 * i + 0] += q[i][0] + 0.5f * (q[i][1] + q[i][2]);
                g[3 * i + 1] += 0.5f * (q[i][1] - q[i][2]);
                g[3 * i + 2] += 0.5f * (q[i][1] + q[i][2]) + q[i][3];
            }
        }
}

/* ---- transforms of tiles -------------------------------------------------------- */

/* dst (Hp, Wp, C): the image at (1, 1), zeros around it. */
static void pad_image(float *dst, const float *src, const tiles *t, int C)
{
    const size_t row = (size_t)t->Wp * C;
    memset(dst, 0, sizeof(float) * row);
    for (int h = 0; h < t->H; h++) {
        float *d = dst + (size_t)(h + 1) * row;
        memset(d, 0, sizeof(float) * C);
        memcpy(d + C, src + (size_t)h * t->W * C, sizeof(float) * (size_t)t->W * C);
        memset(d + (size_t)(t->W + 1) * C, 0, sizeof(float) * (size_t)(t->Wp - t->W - 1) * C);
    }
    memset(dst + (size_t)(t->H + 1) * row, 0, sizeof(float) * row * (size_t)(t->Hp - t->H - 1));
}

/* The transforms loop over the channels of a tile, which are adjacent in
 * memory.  Each stream is its own restrict parameter of an inlined helper:
 * that is what lets GCC vectorise the loop without run-time alias checks
 * between 20-odd streams. */
/* B^T applied to (a, b, c, d) */
#define BT(a, b, c, d, o0, o1, o2, o3) \
    (o0) = (a) - (c), (o1) = (b) + (c), (o2) = (c) - (b), (o3) = (b) - (d)

/* v_k[c] = (B^T d B)[k] for the window whose rows start at r0..r3 (four
 * pixels of C channels each). */
static inline __attribute__((always_inline)) void bdb(
    RF v0, RF v1, RF v2, RF v3, RF v4, RF v5, RF v6, RF v7, RF v8, RF v9, RF v10, RF v11, RF v12,
    RF v13, RF v14, RF v15, RC r0, RC r1, RC r2, RC r3, int C)
{
    for (int c = 0; c < C; c++) {
        float a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3, e0, e1, e2, e3;
        /* B^T down each of the four columns of the window... */
        BT(r0[c], r1[c], r2[c], r3[c], a0, b0, c0, e0);
        BT(r0[C + c], r1[C + c], r2[C + c], r3[C + c], a1, b1, c1, e1);
        BT(r0[2 * C + c], r1[2 * C + c], r2[2 * C + c], r3[2 * C + c], a2, b2, c2, e2);
        BT(r0[3 * C + c], r1[3 * C + c], r2[3 * C + c], r3[3 * C + c], a3, b3, c3, e3);
        /* ...then along each row */
        BT(a0, a1, a2, a3, v0[c], v1[c], v2[c], v3[c]);
        BT(b0, b1, b2, b3, v4[c], v5[c], v6[c], v7[c]);
        BT(c0, c1, c2, c3, v8[c], v9[c], v10[c], v11[c]);
        BT(e0, e1, e2, e3, v12[c], v13[c], v14[c], v15[c]);
    }
}

/* V[xi, i, :] = (B^T d B)[xi] for the 4x4 window d of tile t0 + i. */
DDPM_VECTORIZE
static void input_transform(float *V, const float *pad, const tiles *t, int C, int t0, int nt, int tb)
{
    const size_t rs = (size_t)t->Wp * C, x = (size_t)tb * C;
    for (int i = 0; i < nt; i++) {
        const int ty = (t0 + i) / t->TX, tx = (t0 + i) % t->TX;
        const float *r = pad + ((size_t)(2 * ty) * t->Wp + 2 * tx) * C;
        float *v = V + (size_t)i * C;
        bdb(v, v + x, v + 2 * x, v + 3 * x, v + 4 * x, v + 5 * x, v + 6 * x, v + 7 * x, v + 8 * x,
            v + 9 * x, v + 10 * x, v + 11 * x, v + 12 * x, v + 13 * x, v + 14 * x, v + 15 * x, r,
            r + rs, r + 2 * rs, r + 3 * rs, C);
    }
}

/* A y = (y0, y0 + y1, y0 - y1, -y1) */
#define AY(y0, y1, o0, o1, o2, o3) (o0) = (y0), (o1) = (y0) + (y1), (o2) = (y0) - (y1), (o3) = -(y1)

/* m_k[c] = (A y A^T)[k] for the 2x2 block y00 y01 / y10 y11. */
static inline __attribute__((always_inline)) void ayat(
    RF m0, RF m1, RF m2, RF m3, RF m4, RF m5, RF m6, RF m7, RF m8, RF m9, RF m10, RF m11, RF m12,
    RF m13, RF m14, RF m15, RC y00, RC y01, RC y10, RC y11, int C)
{
    for (int c = 0; c < C; c++) {
        float p0, p1, p2, p3, q0, q1, q2, q3;
        AY(y00[c], y10[c], p0, p1, p2, p3); /* the two columns to four rows */
        AY(y01[c], y11[c], q0, q1, q2, q3);
        AY(p0, q0, m0[c], m1[c], m2[c], m3[c]);
        AY(p1, q1, m4[c], m5[c], m6[c], m7[c]);
        AY(p2, q2, m8[c], m9[c], m10[c], m11[c]);
        AY(p3, q3, m12[c], m13[c], m14[c], m15[c]);
    }
}

/* dM[xi, i, :] = (A dY A^T)[xi] for the 2x2 dout block of tile t0 + i;
 * pixels beyond the image read as zeros. */
DDPM_VECTORIZE
static void dout_transform(float *dM, const float *dout, const float *zero, const tiles *t, int C,
                           size_t ld, int t0, int nt, int tb)
{
    const size_t x = (size_t)tb * ld;
    for (int i = 0; i < nt; i++) {
        const int h = 2 * ((t0 + i) / t->TX), w = 2 * ((t0 + i) % t->TX);
#define PIX(hh, ww) ((hh) < t->H && (ww) < t->W ? dout + ((size_t)(hh) * t->W + (ww)) * C : zero)
        float *m = dM + (size_t)i * ld;
        ayat(m, m + x, m + 2 * x, m + 3 * x, m + 4 * x, m + 5 * x, m + 6 * x, m + 7 * x, m + 8 * x,
             m + 9 * x, m + 10 * x, m + 11 * x, m + 12 * x, m + 13 * x, m + 14 * x, m + 15 * x,
             PIX(h, w), PIX(h, w + 1), PIX(h + 1, w), PIX(h + 1, w + 1), C);
#undef PIX
    }
}

/* A^T m = (m0 + m1 + m2, m1 - m2 - m3) */
#define AT(m0, m1, m2, m3, o0, o1) (o0) = (m0) + (m1) + (m2), (o1) = (m1) - (m2) - (m3)

/* y_ab[c] (+)= bias[c] + (A^T m A)[a, b] */
static inline __attribute__((always_inline)) void atma(
    RF y00, RF y01, RF y10, RF y11, RC m0, RC m1, RC m2, RC m3, RC m4, RC m5, RC m6, RC m7, RC m8,
    RC m9, RC m10, RC m11, RC m12, RC m13, RC m14, RC m15, const float *bias, int C,
    bool accumulate)
{
    for (int c = 0; c < C; c++) {
        float a0, a1, a2, a3, b0, b1, b2, b3, o00, o01, o10, o11;
        /* A^T down the four columns, then along the two rows */
        AT(m0[c], m4[c], m8[c], m12[c], a0, b0);
        AT(m1[c], m5[c], m9[c], m13[c], a1, b1);
        AT(m2[c], m6[c], m10[c], m14[c], a2, b2);
        AT(m3[c], m7[c], m11[c], m15[c], a3, b3);
        AT(a0, a1, a2, a3, o00, o01);
        AT(b0, b1, b2, b3, o10, o11);
        const float bc = bias ? bias[c] : 0.0f;
        if (accumulate) {
            y00[c] += bc + o00, y01[c] += bc + o01, y10[c] += bc + o10, y11[c] += bc + o11;
        } else {
            y00[c] = bc + o00, y01[c] = bc + o01, y10[c] = bc + o10, y11[c] = bc + o11;
        }
    }
}

/* out (+)= bias + A^T M A for each tile of the block; outputs beyond the
 * image go to four separate spare pixels in `sink` (ld floats apart). */
DDPM_VECTORIZE
static void output_transform(float *out, const float *M, const float *bias, float *sink,
                             const tiles *t, int C, size_t ld, int t0, int nt, bool accumulate)
{
    const size_t x = (size_t)TB_FWD * ld;
    for (int i = 0; i < nt; i++) {
        const int h = 2 * ((t0 + i) / t->TX), w = 2 * ((t0 + i) % t->TX);
#define PIX(hh, ww, k) ((hh) < t->H && (ww) < t->W ? out + ((size_t)(hh) * t->W + (ww)) * C : sink + (k) * ld)
        const float *m = M + (size_t)i * ld;
        if (accumulate)
            atma(PIX(h, w, 0), PIX(h, w + 1, 1), PIX(h + 1, w, 2), PIX(h + 1, w + 1, 3), m, m + x,
                 m + 2 * x, m + 3 * x, m + 4 * x, m + 5 * x, m + 6 * x, m + 7 * x, m + 8 * x,
                 m + 9 * x, m + 10 * x, m + 11 * x, m + 12 * x, m + 13 * x, m + 14 * x, m + 15 * x,
                 bias, C, true);
        else
            atma(PIX(h, w, 0), PIX(h, w + 1, 1), PIX(h + 1, w, 2), PIX(h + 1, w + 1, 3), m, m + x,
                 m + 2 * x, m + 3 * x, m + 4 * x, m + 5 * x, m + 6 * x, m + 7 * x, m + 8 * x,
                 m + 9 * x, m + 10 * x, m + 11 * x, m + 12 * x, m + 13 * x, m + 14 * x, m + 15 * x,
                 bias, C, false);
#undef PIX
    }
}

#undef BT
#undef AY
#undef AT
#undef RF
#undef RC

/* ---- passes ----------------------------------------------------------------------- */

/* out (B, H, W, C_out) (+)= conv3x3(inp (B, H, W, C_in)) by U (16, C_in, ld). */
static void run_forward(float *out, const wino_scratch *s, const float *inp, const float *U,
                        const float *bias, int B, int H, int W, int C_in, int C_out, bool accumulate)
{
    const tiles t = tiles_of(H, W);
    const size_t ld = round16(C_out);
    const ptrdiff_t a_off[1] = {0};
    const float *b[1];
    ddpm_mk_args mk = {.c_rs = (ptrdiff_t)ld, .N = C_out, .a_rs = C_in, .a_ks = 1, .a_off = a_off,
                       .b = b, .b_ks = (ptrdiff_t)ld, .ntaps = 1, .K = C_in};
    for (int n = 0; n < B; n++) {
        pad_image(s->pad, inp + (size_t)n * H * W * C_in, &t, C_in);
        float *y = out + (size_t)n * H * W * C_out;
        for (int t0 = 0; t0 < t.T; t0 += TB_FWD) {
            const int nt = t.T - t0 < TB_FWD ? t.T - t0 : TB_FWD;
            input_transform(s->V, s->pad, &t, C_in, t0, nt, TB_FWD);
            mk.M = nt;
            for (int xi = 0; xi < 16; xi++) {
                mk.c = s->M + (size_t)xi * TB_FWD * ld;
                mk.a = s->V + (size_t)xi * TB_FWD * C_in;
                b[0] = U + (size_t)xi * C_in * ld;
                ddpm_mk_run(&mk);
            }
            output_transform(y, s->M, bias, s->sink, &t, C_out, ld, t0, nt, accumulate);
        }
    }
}

void ddpm_wino_forward(float *out, float *scratch, const float *inp, const float *U,
                       const float *bias, const ddpm_conv2d_dims *d)
{
    DDPM_ASSERT(geometry_fits(d));
    wino_scratch s;
    scratch_parts(d, scratch, &s);
    run_forward(out, &s, inp, U, bias, d->B, d->H, d->W, d->C_in, d->C_out, false);
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
    if (dinp) run_forward(dinp, &s, dout, Ub, NULL, d->B, d->H, d->W, C_out, C_in, true);
    if (!dU) return;
    const tiles t = tiles_of(d->H, d->W);
    const size_t ld = round16(C_out);
    memset(s.zero, 0, sizeof(float) * ld);
    const ptrdiff_t a_off[1] = {0};
    const float *b[1];
    ddpm_mk_args mk = {.c_rs = (ptrdiff_t)ld, .M = C_in, .N = C_out, .a_rs = 1, .a_ks = C_in,
                       .a_off = a_off, .b = b, .b_ks = (ptrdiff_t)ld, .ntaps = 1,
                       .accumulate = true};
    for (int n = 0; n < d->B; n++) {
        pad_image(s.pad, inp + (size_t)n * d->H * d->W * C_in, &t, C_in);
        const float *dy = dout + (size_t)n * d->H * d->W * C_out;
        for (int t0 = 0; t0 < t.T; t0 += TB_DW) {
            const int nt = t.T - t0 < TB_DW ? t.T - t0 : TB_DW;
            input_transform(s.V, s.pad, &t, C_in, t0, nt, TB_DW);
            dout_transform(s.M, dy, s.zero, &t, C_out, ld, t0, nt, TB_DW);
            mk.K = nt;
            for (int xi = 0; xi < 16; xi++) { /* dU[xi] (C_in, C_out) += V[xi]^T dM[xi] */
                mk.c = dU + (size_t)xi * C_in * ld;
                mk.a = s.V + (size_t)xi * TB_DW * C_in;
                b[0] = s.M + (size_t)xi * TB_DW * ld;
                ddpm_mk_run(&mk);
            }
        }
    }
}
