/* conv2d.c: 2-D convolution (cross-correlation, as in PyTorch) over a
 * channels-last (B, H, W, C) batch, on the register-tiled microkernel
 * (microkernel.h).  3x3 stride-1 passes with enough channels go to the
 * Winograd path (conv2d_winograd.c); this file runs the others directly, one
 * image at a time.
 *
 * Channels last makes every pass the same small product with no im2col:
 *   forward  out[p, :]   = bias + sum_{tap, c} x_pad[p + tap, c] * Wf[tap, c, :]
 *   dinp     dx[q, :]   += sum_{tap, o} dout_pad[q - tap, o] * Wb[tap, o, :]
 *   dweight  dWf[tap, c, :] += sum_p x_pad[p + tap, c] * dout[p, :]
 * Each is a tile of R positions (or R input channels) by 16-32 output
 * channels held in registers while the sum runs over taps and channels (or
 * positions), reading the image in place through a zero-padded copy that
 * stays in L2.  The output is written once, straight into its final layout.
 *
 * The kernels read the weights (C_out, C_in, k, k) re-packed so that the
 * vectorised dimension is contiguous: Wf (k*k, C_in, round16(C_out)) and
 * Wb (k*k, C_out, round16(C_in)), zero-padded.  The weight gradient is summed
 * in Wf's layout too (dWf), so that a training step can accumulate it over
 * many calls and turn it into (C_out, C_in, k, k) once.  The input gradient
 * of a stride-2 convolution is computed per parity class of the input pixel
 * (the taps that reach it), so no multiply by an inserted zero is ever done.
 * A 3x3 convolution to one output channel (the UNet's conv_out) has its own
 * forward and weight gradient, whose vectors run along the 3 C_in adjacent
 * floats of a window row instead of along the single output channel.
 *
 * Every output element is summed in an order fixed by the dims alone, so a
 * result never depends on the batch it came in or the thread that ran it. */
#include "ddpm/common.h"
#include "ddpm/layers.h"

#include <string.h>

#include "conv2d_winograd.h"
#include "microkernel.h"
#include "simd.h"

/* A conv on more rows than this would need larger tap tables (stack). */
enum { MAX_ROWS = 1024 };

int ddpm_conv2d_out_h(const ddpm_conv2d_dims *d)
{
    return (d->H + 2 * d->pad - d->kernel) / d->stride + 1;
}

int ddpm_conv2d_out_w(const ddpm_conv2d_dims *d)
{
    return (d->W + 2 * d->pad - d->kernel) / d->stride + 1;
}

const char *ddpm_conv2d_isa(void) { return ddpm_mk_isa_name(ddpm_mk_selected()); }

static size_t round16(int n) { return ((size_t)n + 15) / 16 * 16; }

/* Sizes derived once per call. */
typedef struct {
    int k, s, p;
    int Ho, Wo;
    int Hp, Wp;      /* padded input */
    int taps;        /* k * k */
    size_t ldf;      /* round16(C_out): row stride of Wf, dWf and padded dout */
    size_t ldb;      /* round16(C_in): row stride of Wb */
    int pd;          /* zero border of the padded dout (input gradient) */
    int Hd, Wd;      /* padded dout */
    bool pointwise;  /* 1x1, stride 1, no padding: the image is one row of H*W pixels */
    bool single;     /* 3x3, stride 1, one output channel: see single_forward_rows */
} conv_geom;

static conv_geom conv_geom_of(const ddpm_conv2d_dims *d)
{
    DDPM_ASSERT(d);
    DDPM_ASSERT(d->kernel == 1 || d->kernel == 3);
    DDPM_ASSERT(d->stride == 1 || d->stride == 2);
    DDPM_ASSERT(d->pad == 0 || d->pad == 1);
    DDPM_ASSERT(d->B > 0 && d->C_in > 0 && d->C_out > 0 && d->H > 0 && d->W > 0);
    DDPM_ASSERT(d->H + 2 * d->pad >= d->kernel && d->W + 2 * d->pad >= d->kernel);
    DDPM_ASSERT(d->bias_stride == 0 || d->bias_stride == d->C_out);
    DDPM_ASSERT(d->out_stride == 0 || d->out_stride >= d->C_out);
    conv_geom g;
    g.k = d->kernel, g.s = d->stride, g.p = d->pad;
    g.Ho = ddpm_conv2d_out_h(d);
    g.Wo = ddpm_conv2d_out_w(d);
    DDPM_ASSERT(g.Ho <= MAX_ROWS && d->H <= MAX_ROWS);
    g.Hp = d->H + 2 * g.p;
    g.Wp = d->W + 2 * g.p;
    g.taps = g.k * g.k;
    g.ldf = round16(d->C_out);
    g.ldb = round16(d->C_in);
    /* input row ih = s*m + r receives from output row oh = m + (r + p - kh)/s:
     * the padded dout needs a border as wide as the largest such shift */
    g.pd = 0;
    for (int r = 0; r < g.s; r++)
        for (int kh = 0; kh < g.k; kh++) {
            int num = r + g.p - kh;
            if (num % g.s != 0) continue;
            int shift = num / g.s;
            if (shift < 0) shift = -shift;
            if (shift > g.pd) g.pd = shift;
        }
    g.Hd = g.Ho + 2 * g.pd;
    g.Wd = g.Wo + 2 * g.pd;
    g.pointwise = g.k == 1 && g.s == 1 && g.p == 0;
    g.single = d->C_out == 1 && g.k == 3 && g.s == 1 && g.p == 1;
    return g;
}

size_t ddpm_conv2d_wf_floats(const ddpm_conv2d_dims *d)
{
    conv_geom g = conv_geom_of(d);
    if (ddpm_wino_tile_forward(d)) return ddpm_wino_wf_floats(d);
    if (g.single) return (size_t)g.taps * (size_t)d->C_in;
    return (size_t)g.taps * (size_t)d->C_in * g.ldf;
}

size_t ddpm_conv2d_wb_floats(const ddpm_conv2d_dims *d)
{
    conv_geom g = conv_geom_of(d);
    if (ddpm_wino_tile_dinp(d)) return ddpm_wino_wb_floats(d);
    return (size_t)g.taps * (size_t)d->C_out * g.ldb;
}

size_t ddpm_conv2d_dwf_floats(const ddpm_conv2d_dims *d)
{
    conv_geom g = conv_geom_of(d);
    if (ddpm_wino_tile_dweight(d)) return ddpm_wino_dwf_floats(d);
    if (g.single) return (size_t)g.taps * (size_t)d->C_in;
    return (size_t)g.taps * (size_t)d->C_in * g.ldf;
}

/* dst (taps, rows, ld) with dst[(t, r, col)] = src[(col, r, t)] for col < cols
 * and zeros up to ld: the weight (C_out, C_in, k, k) seen with either
 * channel count as the columns.  Writes run contiguously. */
static void pack(float *dst, const float *src, int taps, int rows, int cols, size_t ld,
                 size_t src_col_stride, size_t src_row_stride)
{
    for (int t = 0; t < taps; t++)
        for (int r = 0; r < rows; r++) {
            float *d = dst + ((size_t)t * rows + r) * ld;
            const float *s = src + (size_t)r * src_row_stride + t;
            for (int c = 0; c < cols; c++) d[c] = s[(size_t)c * src_col_stride];
            for (size_t c = (size_t)cols; c < ld; c++) d[c] = 0.0f;
        }
}

void ddpm_conv2d_pack_wf(float *wf, const float *weight, const ddpm_conv2d_dims *d)
{
    conv_geom g = conv_geom_of(d);
    DDPM_ASSERT(wf && weight);
    if (ddpm_wino_tile_forward(d)) {
        ddpm_wino_pack_wf(wf, weight, d);
        return;
    }
    if (g.single) { /* wf[kh, kw, c] = weight[0, c, kh, kw]: a window row is 3 C_in adjacent floats */
        for (int t = 0; t < g.taps; t++)
            for (int c = 0; c < d->C_in; c++) wf[(size_t)t * d->C_in + c] = weight[(size_t)c * g.taps + t];
        return;
    }
    /* wf[t, c, o] = weight[o, c, t] */
    pack(wf, weight, g.taps, d->C_in, d->C_out, g.ldf, (size_t)d->C_in * g.taps, (size_t)g.taps);
}

void ddpm_conv2d_pack_wb(float *wb, const float *weight, const ddpm_conv2d_dims *d)
{
    conv_geom g = conv_geom_of(d);
    DDPM_ASSERT(wb && weight);
    if (ddpm_wino_tile_dinp(d)) {
        ddpm_wino_pack_wb(wb, weight, d);
        return;
    }
    /* wb[t, o, c] = weight[o, c, t] */
    pack(wb, weight, g.taps, d->C_out, d->C_in, g.ldb, (size_t)g.taps, (size_t)d->C_in * g.taps);
}

/* Scratch layout: [x_pad | dout_pad]; the single-channel weight gradient
 * reads up to 16 floats beyond x_pad's last pixel (the microkernel's whole
 * vectors), which it ignores. */
static size_t xpad_floats(const ddpm_conv2d_dims *d, const conv_geom *g)
{
    return g->p ? (size_t)g->Hp * g->Wp * d->C_in + (g->single ? 16 : 0) : 0;
}

static bool dout_needs_copy(const ddpm_conv2d_dims *d, const conv_geom *g)
{
    return g->pd > 0 || g->ldf != (size_t)d->C_out;
}

static size_t doutpad_floats(const ddpm_conv2d_dims *d, const conv_geom *g)
{
    return dout_needs_copy(d, g) ? (size_t)g->Hd * g->Wd * g->ldf : 0;
}

size_t ddpm_conv2d_scratch_floats(const ddpm_conv2d_dims *d)
{
    conv_geom g = conv_geom_of(d);
    size_t direct = xpad_floats(d, &g) + doutpad_floats(d, &g) + 1;
    if (!ddpm_wino_tile_forward(d) && !ddpm_wino_tile_dinp(d) && !ddpm_wino_tile_dweight(d)) return direct;
    size_t wino = ddpm_wino_scratch_floats(d);
    return wino > direct ? wino : direct;
}

/* Writes one image (H, W, C) into a buffer of (H + 2 pad, W + 2 pad) pixels
 * of `ld` >= C floats: the image in the interior, zeros in the border and in
 * each pixel's channels C..ld, so the whole buffer is written in one pass. */
static void copy_into_padded(float *dst, const float *src, int H, int W, int C, int pad, size_t ld)
{
    const int Wp = W + 2 * pad;
    const size_t row = (size_t)Wp * ld;
    memset(dst, 0, sizeof(float) * row * (size_t)pad);
    for (int h = 0; h < H; h++) {
        float *drow = dst + (size_t)(h + pad) * row;
        const float *srow = src + (size_t)h * W * C;
        memset(drow, 0, sizeof(float) * (size_t)pad * ld);
        if (ld == (size_t)C) {
            memcpy(drow + (size_t)pad * ld, srow, sizeof(float) * (size_t)W * C);
        } else {
            for (int w = 0; w < W; w++) {
                float *px = drow + (size_t)(w + pad) * ld;
                memcpy(px, srow + (size_t)w * C, sizeof(float) * (size_t)C);
                memset(px + C, 0, sizeof(float) * (ld - (size_t)C));
            }
        }
        memset(drow + (size_t)(W + pad) * ld, 0, sizeof(float) * (size_t)pad * ld);
    }
    memset(dst + (size_t)(H + pad) * row, 0, sizeof(float) * row * (size_t)pad);
}

/* One output channel (the UNet's conv_out), where the general kernel would
 * spend 15 of its 16 lanes on nothing.  Forward, output (oh, ow) is the dot
 * product of the three rows of its window, each 3 C_in adjacent floats of
 * the padded image (channels last), with wf's rows: 16 products a step into
 * one vector of partial sums, then 8, then one at a time, summed in a fixed
 * order. */
typedef float v16f __attribute__((vector_size(64), aligned(4)));
typedef float v8f __attribute__((vector_size(32), aligned(4)));

DDPM_VECTORIZE
static void single_forward_rows(float *y, const float *xpad, const float *wf, const float *bias,
                                const float *res, int oh0, int oh1, int Wo, int Wp, int C)
{
    const int L = 3 * C;
    for (int oh = oh0; oh < oh1; oh++)
        for (int ow = 0; ow < Wo; ow++) {
            v16f a16 = {0};
            v8f a8 = {0};
            float a1 = 0.0f;
            for (int kh = 0; kh < 3; kh++) {
                const float *x = xpad + ((size_t)(oh + kh) * Wp + ow) * C, *w = wf + (size_t)kh * L;
                int j = 0;
                for (; j + 16 <= L; j += 16) {
                    v16f xv, wv;
                    memcpy(&xv, x + j, sizeof xv);
                    memcpy(&wv, w + j, sizeof wv);
                    a16 += xv * wv;
                }
                if (j + 8 <= L) {
                    v8f xv, wv;
                    memcpy(&xv, x + j, sizeof xv);
                    memcpy(&wv, w + j, sizeof wv);
                    a8 += xv * wv;
                    j += 8;
                }
                for (; j < L; j++) a1 += x[j] * w[j];
            }
            float t[16], h[8];
            memcpy(t, &a16, sizeof t);
            memcpy(h, &a8, sizeof h);
            for (int l = 0; l < 8; l++) t[l] += t[l + 8] + h[l];
            for (int w = 4; w >= 1; w /= 2)
                for (int l = 0; l < w; l++) t[l] += t[l + w];
            const size_t at = (size_t)oh * Wo + ow;
            y[at] = (res ? res[at] : 0.0f) + ((bias ? bias[0] : 0.0f) + (t[0] + a1));
        }
}

/* dWf[kh, kw, c] += sum_p dout[p] * x_pad[p + (kh, kw), c] for one image: per
 * window row kh, the microkernel with the (kw, c) runs of 3 C_in adjacent
 * floats as its columns and the output pixels as its sum. */
static void single_weight_grad_image(float *dwf, const float *x_pad, const float *dout,
                                     const ddpm_conv2d_dims *d, const conv_geom *g)
{
    const int C = d->C_in, L = 3 * C;
    ptrdiff_t a_off[MAX_ROWS];
    const float *b[MAX_ROWS];
    for (int oh = 0; oh < g->Ho; oh++) a_off[oh] = (ptrdiff_t)oh * g->Wo;
    ddpm_mk_args mk = {.c_rs = L, .M = 1, .N = L, .a = dout, .a_rs = 1, .a_ks = 1, .a_off = a_off,
                       .b = b, .b_ks = C, .ntaps = g->Ho, .K = g->Wo, .bias = NULL,
                       .accumulate = true};
    for (int kh = 0; kh < 3; kh++) {
        for (int oh = 0; oh < g->Ho; oh++) b[oh] = x_pad + (size_t)(oh + kh) * g->Wp * C;
        mk.c = dwf + (size_t)kh * L;
        ddpm_mk_run(&mk);
    }
}

void ddpm_conv2d_forward(float *out,          /* (B, Ho, Wo, C_out) */
                         float *scratch,      /* ddpm_conv2d_scratch_floats(d) */
                         const float *inp,    /* (B, H, W, C_in) */
                         const float *wf,     /* ddpm_conv2d_pack_wf(weight) */
                         const float *bias,   /* (C_out) or NULL */
                         const ddpm_conv2d_dims *d)
{
    ddpm_conv2d_forward_part(out, scratch, inp, wf, bias, NULL, d, 0, 1);
}

void ddpm_conv2d_forward_part(float *out, float *scratch, const float *inp, const float *wf,
                              const float *bias, const float *res, const ddpm_conv2d_dims *d,
                              int part, int parts)
{
    conv_geom g = conv_geom_of(d);
    DDPM_ASSERT(out && scratch && inp && wf && parts >= 1 && part >= 0 && part < parts);
    if (ddpm_wino_tile_forward(d)) {
        ddpm_wino_forward(out, scratch, inp, wf, bias, res, d, part, parts);
        return;
    }
    const int C_in = d->C_in, C_out = d->C_out;
    const size_t in_image = (size_t)d->H * d->W * C_in, out_image = (size_t)g.Ho * g.Wo * C_out;
    float *x_pad = scratch;
    ptrdiff_t a_off[9];
    const float *b[9];
    for (int t = 0; t < g.taps; t++) {
        a_off[t] = ((ptrdiff_t)(t / g.k) * g.Wp + t % g.k) * C_in;
        b[t] = wf + (size_t)t * C_in * g.ldf;
    }
    const ptrdiff_t os = d->out_stride ? d->out_stride : C_out; /* floats per output pixel */
    ddpm_mk_args mk = {.c_rs = os, .M = g.Wo, .N = C_out, .a_rs = (ptrdiff_t)g.s * C_in,
                       .a_ks = 1, .a_off = a_off, .b = b, .b_ks = (ptrdiff_t)g.ldf,
                       .ntaps = g.taps, .K = C_in, .bias = bias, .accumulate = false,
                       .res_rs = C_out};
    for (int n = 0; n < d->B; n++) {
        const float *x = inp + (size_t)n * in_image;
        if (g.p) {
            copy_into_padded(x_pad, x, d->H, d->W, C_in, g.p, (size_t)C_in);
            x = x_pad;
        }
        float *y = out + (size_t)n * g.Ho * g.Wo * os;
        const float *r = res ? res + (size_t)n * out_image : NULL;
        mk.bias = bias ? bias + (size_t)n * d->bias_stride : NULL;
        if (g.single) { /* dense rows of one channel */
            DDPM_ASSERT(os == 1);
            single_forward_rows(y, x, wf, mk.bias, r, g.Ho * part / parts, g.Ho * (part + 1) / parts, g.Wo,
                                g.Wp, C_in);
            continue;
        }
        if (g.pointwise) { /* no gaps between rows: one row of H*W pixels, split evenly */
            const int HW = g.Ho * g.Wo, p0 = (int)((long)HW * part / parts);
            mk.M = (int)((long)HW * (part + 1) / parts) - p0;
            mk.a = x + (size_t)p0 * C_in;
            mk.c = y + (size_t)p0 * os;
            mk.res = r ? r + (size_t)p0 * C_out : NULL;
            ddpm_mk_run(&mk);
            continue;
        }
        for (int oh = g.Ho * part / parts; oh < g.Ho * (part + 1) / parts; oh++) {
            mk.a = x + (size_t)oh * g.s * g.Wp * C_in;
            mk.c = y + (size_t)oh * g.Wo * os;
            mk.res = r ? r + (size_t)oh * g.Wo * C_out : NULL;
            ddpm_mk_run(&mk);
        }
    }
}

/* dbias += the sum of dout over its n pixels, in double, 256 channels at a time. */
DDPM_VECTORIZE
static void bias_grad(float *dbias, const float *dout, size_t n, int C)
{
    for (int o0 = 0; o0 < C; o0 += 256) {
        const int m = C - o0 < 256 ? C - o0 : 256;
        double sum[256] = {0};
        const float *row = dout + o0;
        for (size_t q = 0; q < n; q++, row += C)
            for (int o = 0; o < m; o++) sum[o] += row[o];
        for (int o = 0; o < m; o++) dbias[o0 + o] += (float)sum[o];
    }
}

/* dWf[tap, c, :] += sum_p x[p + tap, c] * dout[p, :] for one image: per tap,
 * a product over the output rows (taps of the microkernel) and pixels.  x is
 * the image itself, unpadded: each tap sums only over the output pixels whose
 * input pixel is inside it (a rectangle), which leaves out exactly the zero
 * products a padded copy would add. */
static void weight_grad_image(float *dwf, const float *x, const float *dout_rows,
                              size_t dout_row_stride, const ddpm_conv2d_dims *d,
                              const conv_geom *g)
{
    const int C_in = d->C_in, s = g->s, p = g->p;
    ptrdiff_t a_off[MAX_ROWS];
    const float *b[MAX_ROWS];
    ddpm_mk_args mk = {.c_rs = (ptrdiff_t)g->ldf, .M = C_in, .N = d->C_out, .a = x, .a_rs = 1,
                       .a_ks = (ptrdiff_t)s * C_in, .a_off = a_off, .b = b,
                       .b_ks = (ptrdiff_t)g->ldf, .bias = NULL, .accumulate = true};
    if (!dout_needs_copy(d, g)) mk.b_ks = d->C_out;
    if (g->pointwise) { /* one row of H*W pixels, every tap inside */
        a_off[0] = 0;
        b[0] = dout_rows;
        mk.ntaps = 1, mk.K = g->Ho * g->Wo, mk.c = dwf;
        ddpm_mk_run(&mk);
        return;
    }
    for (int t = 0; t < g->taps; t++) {
        const int kh = t / g->k, kw = t % g->k;
        /* output rows oh with 0 <= s oh + kh - p < H, columns likewise */
        const int oh0 = kh >= p ? 0 : (p - kh + s - 1) / s, ow0 = kw >= p ? 0 : (p - kw + s - 1) / s;
        const int nh = d->H - 1 + p - kh, nw = d->W - 1 + p - kw; /* last s oh, s ow allowed */
        int oh1 = nh < 0 ? 0 : nh / s + 1, ow1 = nw < 0 ? 0 : nw / s + 1;
        if (oh1 > g->Ho) oh1 = g->Ho;
        if (ow1 > g->Wo) ow1 = g->Wo;
        if (oh1 <= oh0 || ow1 <= ow0) continue;
        for (int oh = oh0; oh < oh1; oh++) {
            a_off[oh - oh0] = ((ptrdiff_t)(oh * s + kh - p) * d->W + (ow0 * s + kw - p)) * C_in;
            b[oh - oh0] = dout_rows + (size_t)oh * dout_row_stride + (size_t)ow0 * (size_t)mk.b_ks;
        }
        mk.ntaps = oh1 - oh0, mk.K = ow1 - ow0;
        mk.c = dwf + (size_t)t * C_in * g->ldf;
        ddpm_mk_run(&mk);
    }
}

/* dx += the input gradient of one image, from its zero-bordered dout. */
static void input_grad_image(float *dx, const float *dpad, size_t ld, const float *wb,
                             const ddpm_conv2d_dims *d, const conv_geom *g)
{
    const int C_in = d->C_in, C_out = d->C_out, k = g->k, s = g->s;
    ptrdiff_t a_off[9];
    const float *b[9];
    ddpm_mk_args mk = {.c_rs = (ptrdiff_t)s * C_in, .N = C_in, .a_rs = (ptrdiff_t)ld, .a_ks = 1,
                       .a_off = a_off, .b = b, .b_ks = (ptrdiff_t)g->ldb, .K = C_out,
                       .bias = NULL, .accumulate = !d->assign_dinp};
    /* input pixel (s*m + ry, s*n + rx) is reached by the taps with
     * (ry + p - kh) and (rx + p - kw) divisible by s, from output pixel
     * (m + (ry + p - kh)/s, n + (rx + p - kw)/s) */
    for (int ry = 0; ry < s; ry++)
        for (int rx = 0; rx < s; rx++) {
            int taps = 0;
            for (int kh = 0; kh < k; kh++)
                for (int kw = 0; kw < k; kw++) {
                    const int ny = ry + g->p - kh, nx = rx + g->p - kw;
                    if (ny % s != 0 || nx % s != 0) continue;
                    a_off[taps] = ((ptrdiff_t)(ny / s) * g->Wd + nx / s) * (ptrdiff_t)ld;
                    b[taps] = wb + (size_t)(kh * k + kw) * C_out * g->ldb;
                    taps++;
                }
            const int rows = (d->H - ry + s - 1) / s, cols = (d->W - rx + s - 1) / s;
            if (taps == 0 && d->assign_dinp) /* no tap reaches these pixels: gradient 0 */
                for (int m = 0; m < rows; m++)
                    for (int q = 0; q < cols; q++)
                        memset(dx + ((size_t)(s * m + ry) * d->W + s * q + rx) * C_in, 0,
                               sizeof(float) * (size_t)C_in);
            if (taps == 0 || rows <= 0 || cols <= 0) continue;
            mk.ntaps = taps;
            if (g->pointwise) {
                mk.M = d->H * d->W;
                mk.a = dpad;
                mk.c = dx;
                ddpm_mk_run(&mk);
                continue;
            }
            mk.M = cols;
            for (int m = 0; m < rows; m++) {
                mk.a = dpad + ((size_t)(m + g->pd) * g->Wd + g->pd) * ld;
                mk.c = dx + ((size_t)(s * m + ry) * d->W + rx) * C_in;
                ddpm_mk_run(&mk);
            }
        }
}

void ddpm_conv2d_unpack_grad(float *dweight, const float *dwf, const ddpm_conv2d_dims *d)
{
    conv_geom g = conv_geom_of(d);
    DDPM_ASSERT(dweight && dwf);
    if (ddpm_wino_tile_dweight(d)) {
        ddpm_wino_unpack_grad(dweight, dwf, d);
        return;
    }
    if (g.single) {
        for (int c = 0; c < d->C_in; c++)
            for (int t = 0; t < g.taps; t++)
                dweight[(size_t)c * g.taps + t] += dwf[(size_t)t * d->C_in + c];
        return;
    }
    for (int o = 0; o < d->C_out; o++)
        for (int c = 0; c < d->C_in; c++)
            for (int t = 0; t < g.taps; t++)
                dweight[((size_t)o * d->C_in + c) * g.taps + t] +=
                    dwf[((size_t)t * d->C_in + c) * g.ldf + o];
}

void ddpm_conv2d_backward(float *dinp,         /* (B, H, W, C_in) or NULL */
                          float *dwf,          /* (k*k, C_in, round16(C_out)) or NULL */
                          float *dbias,        /* (C_out) or NULL */
                          float *scratch,      /* ddpm_conv2d_scratch_floats(d) */
                          const float *dout,   /* (B, Ho, Wo, C_out) */
                          const float *inp,    /* (B, H, W, C_in) */
                          const float *wb,     /* ddpm_conv2d_pack_wb(weight) */
                          const ddpm_conv2d_dims *d)
{
    conv_geom g = conv_geom_of(d);
    DDPM_ASSERT(scratch && dout && inp && (wb || !dinp));
    if (dbias && d->bias_stride) {
        for (int n = 0; n < d->B; n++)
            bias_grad(dbias + (size_t)n * d->bias_stride, dout + (size_t)n * g.Ho * g.Wo * d->C_out,
                      (size_t)g.Ho * g.Wo, d->C_out);
    } else if (dbias) {
        bias_grad(dbias, dout, (size_t)d->B * g.Ho * g.Wo, d->C_out);
    }
    /* each of the two gradients on its own path (see conv2d_winograd.h) */
    const bool wino_dinp = dinp && ddpm_wino_tile_dinp(d), wino_dw = dwf && ddpm_wino_tile_dweight(d);
    if (wino_dinp || wino_dw) {
        ddpm_wino_backward(wino_dinp ? dinp : NULL, wino_dw ? dwf : NULL, scratch, dout, inp, wb, d);
        if (wino_dinp) dinp = NULL;
        if (wino_dw) dwf = NULL;
    }
    if (!dinp && !dwf) return;
    const int C_in = d->C_in, C_out = d->C_out;
    const size_t in_image = (size_t)d->H * d->W * C_in, out_image = (size_t)g.Ho * g.Wo * C_out;
    float *x_pad = scratch;
    float *dpad = x_pad + xpad_floats(d, &g);
    const bool copy_dout = dout_needs_copy(d, &g);
    const size_t dld = copy_dout ? g.ldf : (size_t)C_out; /* floats per pixel of the dout read */

    for (int n = 0; n < d->B; n++) {
        const float *dy = dout + (size_t)n * out_image;
        const float *dy_pad = dy; /* (Hd, Wd, dld) */
        if (copy_dout) {
            copy_into_padded(dpad, dy, g.Ho, g.Wo, C_out, g.pd, g.ldf);
            dy_pad = dpad;
        }
        if (dwf) {
            const float *x = inp + (size_t)n * in_image;
            if (g.single) { /* its window rows run across the padding */
                copy_into_padded(x_pad, x, d->H, d->W, C_in, 1, (size_t)C_in);
                memset(x_pad + (size_t)g.Hp * g.Wp * C_in, 0, sizeof(float) * 16); /* read, unused */
                single_weight_grad_image(dwf, x_pad, dy, d, &g);
            } else {
                const float *rows = dy_pad + ((size_t)g.pd * g.Wd + g.pd) * dld;
                weight_grad_image(dwf, x, rows, (size_t)g.Wd * dld, d, &g);
            }
        }
        if (dinp) input_grad_image(dinp + (size_t)n * in_image, dy_pad, dld, wb, d, &g);
    }
}

void ddpm_conv2d_forward_reference(float *out,          /* (B, Ho, Wo, C_out) */
                                   const float *inp,    /* (B, H, W, C_in) */
                                   const float *weight, /* (C_out, C_in, k, k) */
                                   const float *bias,   /* (C_out) or NULL */
                                   const ddpm_conv2d_dims *d)
{
    conv_geom g = conv_geom_of(d);
    const int k = d->kernel;
    for (int b = 0; b < d->B; b++)
        for (int oh = 0; oh < g.Ho; oh++)
            for (int ow = 0; ow < g.Wo; ow++)
                for (int o = 0; o < d->C_out; o++) {
                    double sum = bias ? bias[(size_t)b * d->bias_stride + o] : 0.0;
                    for (int c = 0; c < d->C_in; c++)
                        for (int kh = 0; kh < k; kh++)
                            for (int kw = 0; kw < k; kw++) {
                                int ih = oh * d->stride - d->pad + kh;
                                int iw = ow * d->stride - d->pad + kw;
                                if (ih < 0 || ih >= d->H || iw < 0 || iw >= d->W) continue;
                                sum += (double)weight[((size_t)(o * d->C_in + c) * k + kh) * k + kw]
                                       * inp[(((size_t)b * d->H + ih) * d->W + iw) * d->C_in + c];
                            }
                    out[(((size_t)b * g.Ho + oh) * g.Wo + ow) * d->C_out + o] = (float)sum;
                }
}
