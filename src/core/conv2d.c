/* conv2d.c: 2-D convolution (cross-correlation, as in PyTorch) over an NCHW
 * batch, computed as ONE matrix product for the whole batch.
 *
 * With P = B*Ho*Wo output positions and Kc = C_in*k*k taps, im2col lays the
 * batch out as col (Kc, P), column (b, oh, ow) holding the receptive field of
 * that output; then out_T (C_out, P) = W (C_out, Kc) . col, and a scatter
 * turns out_T into NCHW while adding the bias.  Backward is the same product
 * transposed:
 *   dW  += dout_T . col^T                  (C_out, Kc)
 *   db  += rowsum(dout_T)                  (C_out)
 *   dcol = W^T . dout_T, dinp += col2im(dcol)
 * One large GEMM keeps BLAS in its efficient regime even when a layer is
 * small (7x7 feature maps), which many per-sample GEMMs would not.
 *
 * Scratch holds col and out_T / dout_T: (Kc + C_out) * P floats.  Backward
 * recomputes col from inp, so forward and backward may share one scratch
 * buffer with every other layer.  The padding is handled by computing, per
 * kernel offset, the range of outputs whose input lies inside the image, so
 * the inner loops are branch-free runs that GCC vectorises. */
#include "ddpm/common.h"
#include "ddpm/layers.h"

#include <string.h>

int ddpm_conv2d_out_h(const ddpm_conv2d_dims *d)
{
    return (d->H + 2 * d->pad - d->kernel) / d->stride + 1;
}

int ddpm_conv2d_out_w(const ddpm_conv2d_dims *d)
{
    return (d->W + 2 * d->pad - d->kernel) / d->stride + 1;
}

/* Sizes derived once per call. */
typedef struct {
    int Ho, Wo;
    int Kc;      /* C_in * k * k: rows of col */
    size_t HW;   /* input plane */
    size_t HoWo; /* output plane */
    size_t P;    /* B * Ho * Wo: columns of col */
} conv_geom;

static conv_geom conv_geom_of(const ddpm_conv2d_dims *d)
{
    DDPM_ASSERT(d);
    DDPM_ASSERT(d->kernel == 1 || d->kernel == 3);
    DDPM_ASSERT(d->stride == 1 || d->stride == 2);
    DDPM_ASSERT(d->pad == 0 || d->pad == 1);
    DDPM_ASSERT(d->B > 0 && d->C_in > 0 && d->C_out > 0 && d->H > 0 && d->W > 0);
    DDPM_ASSERT(d->H + 2 * d->pad >= d->kernel && d->W + 2 * d->pad >= d->kernel);
    conv_geom g;
    g.Ho = ddpm_conv2d_out_h(d);
    g.Wo = ddpm_conv2d_out_w(d);
    g.Kc = d->C_in * d->kernel * d->kernel;
    g.HW = (size_t)d->H * (size_t)d->W;
    g.HoWo = (size_t)g.Ho * (size_t)g.Wo;
    g.P = (size_t)d->B * g.HoWo;
    /* P is a GEMM dimension and leading dimension: it must fit an int. */
    DDPM_ASSERT(g.P <= 0x7fffffff);
    return g;
}

size_t ddpm_conv2d_scratch_floats(const ddpm_conv2d_dims *d)
{
    conv_geom g = conv_geom_of(d);
    return ((size_t)g.Kc + (size_t)d->C_out) * g.P;
}

/* Outputs o in [*lo, *hi) read input i = o*stride - pad + kk inside [0, n). */
static void valid_range(int n, int out_n, int stride, int pad, int kk, int *lo, int *hi)
{
    int first = pad - kk;        /* smallest o*stride allowed */
    int last = n - 1 + pad - kk; /* largest o*stride allowed */
    int l = first <= 0 ? 0 : (first + stride - 1) / stride;
    int h = last < 0 ? 0 : last / stride + 1;
    if (h > out_n) h = out_n;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* dst[i] = src[i * stride] for the two strides we support; separate loops so
 * each has a constant stride the vectoriser can see. */
static void gather_run(float *restrict dst, const float *restrict src, int n, int stride)
{
    if (stride == 1) {
        memcpy(dst, src, sizeof(float) * (size_t)n);
    } else {
        for (int i = 0; i < n; i++) dst[i] = src[2 * i];
    }
}

/* dst[i * stride] += src[i]. */
static void scatter_add_run(float *restrict dst, const float *restrict src, int n, int stride)
{
    if (stride == 1) {
        for (int i = 0; i < n; i++) dst[i] += src[i];
    } else {
        for (int i = 0; i < n; i++) dst[2 * i] += src[i];
    }
}

static void zero_run(float *dst, size_t n)
{
    memset(dst, 0, sizeof(float) * n);
}

/* col (Kc, P), row (c, kh, kw), column (b, oh, ow) = inp[b, c, oh*s - p + kh, ow*s - p + kw]
 * or 0 in the padding. */
static void im2col(float *restrict col,       /* (Kc, P) */
                   const float *restrict inp, /* (B, C_in, H, W) */
                   const ddpm_conv2d_dims *d, const conv_geom *g)
{
    const int k = d->kernel, s = d->stride, p = d->pad, W = d->W, Wo = g->Wo;
    for (int b = 0; b < d->B; b++) {
        for (int c = 0; c < d->C_in; c++) {
            const float *plane = inp + ((size_t)b * d->C_in + c) * g->HW;
            if (k == 1 && s == 1 && p == 0) { /* 1x1: only the layout change */
                memcpy(col + (size_t)c * g->P + b * g->HoWo, plane, sizeof(float) * g->HW);
                continue;
            }
            for (int kh = 0; kh < k; kh++) {
                int oh_lo, oh_hi;
                valid_range(d->H, g->Ho, s, p, kh, &oh_lo, &oh_hi);
                for (int kw = 0; kw < k; kw++) {
                    int ow_lo, ow_hi;
                    valid_range(W, Wo, s, p, kw, &ow_lo, &ow_hi);
                    float *dst = col + ((size_t)(c * k + kh) * k + kw) * g->P + b * g->HoWo;
                    zero_run(dst, (size_t)oh_lo * Wo);
                    for (int oh = oh_lo; oh < oh_hi; oh++) {
                        float *drow = dst + (size_t)oh * Wo;
                        const float *src = plane + (size_t)(oh * s - p + kh) * W
                                           + (ow_lo * s - p + kw);
                        zero_run(drow, (size_t)ow_lo);
                        gather_run(drow + ow_lo, src, ow_hi - ow_lo, s);
                        zero_run(drow + ow_hi, (size_t)(Wo - ow_hi));
                    }
                    zero_run(dst + (size_t)oh_hi * Wo, (size_t)(g->Ho - oh_hi) * Wo);
                }
            }
        }
    }
}

/* The adjoint of im2col: dinp += every col entry back at the input it came
 * from; padding entries are dropped. */
static void col2im_add(float *restrict dinp,      /* (B, C_in, H, W) */
                       const float *restrict col, /* (Kc, P) */
                       const ddpm_conv2d_dims *d, const conv_geom *g)
{
    const int k = d->kernel, s = d->stride, p = d->pad, W = d->W, Wo = g->Wo;
    for (int b = 0; b < d->B; b++) {
        for (int c = 0; c < d->C_in; c++) {
            float *plane = dinp + ((size_t)b * d->C_in + c) * g->HW;
            for (int kh = 0; kh < k; kh++) {
                int oh_lo, oh_hi;
                valid_range(d->H, g->Ho, s, p, kh, &oh_lo, &oh_hi);
                for (int kw = 0; kw < k; kw++) {
                    int ow_lo, ow_hi;
                    valid_range(W, Wo, s, p, kw, &ow_lo, &ow_hi);
                    const float *src = col + ((size_t)(c * k + kh) * k + kw) * g->P
                                       + b * g->HoWo;
                    for (int oh = oh_lo; oh < oh_hi; oh++) {
                        float *drow = plane + (size_t)(oh * s - p + kh) * W + (ow_lo * s - p + kw);
                        scatter_add_run(drow, src + (size_t)oh * Wo + ow_lo, ow_hi - ow_lo, s);
                    }
                }
            }
        }
    }
}

void ddpm_conv2d_forward(float *out,          /* (B, C_out, Ho, Wo) */
                         float *scratch,      /* ddpm_conv2d_scratch_floats(d) */
                         const float *inp,    /* (B, C_in, H, W) */
                         const float *weight, /* (C_out, C_in, k, k) */
                         const float *bias,   /* (C_out) or NULL */
                         const ddpm_conv2d_dims *d)
{
    conv_geom g = conv_geom_of(d);
    DDPM_ASSERT(out && scratch && inp && weight);
    const int P = (int)g.P;
    float *col = scratch;                         /* (Kc, P) */
    float *out_T = scratch + (size_t)g.Kc * g.P; /* (C_out, P) */
    im2col(col, inp, d, &g);
    ddpm_sgemm(0, 0, d->C_out, P, g.Kc, 1.0f, weight, g.Kc, col, P, 0.0f, out_T, P);
    for (int b = 0; b < d->B; b++) {
        for (int o = 0; o < d->C_out; o++) {
            float *restrict dst = out + ((size_t)b * d->C_out + o) * g.HoWo;
            const float *restrict src = out_T + (size_t)o * g.P + b * g.HoWo;
            const float bo = bias ? bias[o] : 0.0f;
            for (size_t q = 0; q < g.HoWo; q++) dst[q] = src[q] + bo;
        }
    }
}

void ddpm_conv2d_backward(float *dinp,         /* (B, C_in, H, W) or NULL */
                          float *dweight,      /* (C_out, C_in, k, k) or NULL */
                          float *dbias,        /* (C_out) or NULL */
                          float *scratch,      /* ddpm_conv2d_scratch_floats(d) */
                          const float *dout,   /* (B, C_out, Ho, Wo) */
                          const float *inp,    /* (B, C_in, H, W) */
                          const float *weight, /* (C_out, C_in, k, k) */
                          const ddpm_conv2d_dims *d)
{
    conv_geom g = conv_geom_of(d);
    DDPM_ASSERT(scratch && dout && inp && weight);
    const int P = (int)g.P;
    float *col = scratch;                          /* (Kc, P): col, then dcol */
    float *dout_T = scratch + (size_t)g.Kc * g.P; /* (C_out, P) */
    for (int b = 0; b < d->B; b++)
        for (int o = 0; o < d->C_out; o++)
            memcpy(dout_T + (size_t)o * g.P + b * g.HoWo,
                   dout + ((size_t)b * d->C_out + o) * g.HoWo, sizeof(float) * g.HoWo);
    if (dbias) {
        for (int o = 0; o < d->C_out; o++) {
            const float *row = dout_T + (size_t)o * g.P;
            double sum = 0.0;
            for (size_t q = 0; q < g.P; q++) sum += row[q];
            dbias[o] += (float)sum;
        }
    }
    if (dweight) {
        im2col(col, inp, d, &g);
        ddpm_sgemm(0, 1, d->C_out, g.Kc, P, 1.0f, dout_T, P, col, P, 1.0f, dweight, g.Kc);
    }
    if (dinp) {
        ddpm_sgemm(1, 0, g.Kc, P, d->C_out, 1.0f, weight, g.Kc, dout_T, P, 0.0f, col, P);
        col2im_add(dinp, col, d, &g);
    }
}

void ddpm_conv2d_forward_reference(float *out,          /* (B, C_out, Ho, Wo) */
                                   const float *inp,    /* (B, C_in, H, W) */
                                   const float *weight, /* (C_out, C_in, k, k) */
                                   const float *bias,   /* (C_out) or NULL */
                                   const ddpm_conv2d_dims *d)
{
    conv_geom g = conv_geom_of(d);
    const int k = d->kernel;
    for (int b = 0; b < d->B; b++)
        for (int o = 0; o < d->C_out; o++)
            for (int oh = 0; oh < g.Ho; oh++)
                for (int ow = 0; ow < g.Wo; ow++) {
                    double sum = bias ? bias[o] : 0.0;
                    for (int c = 0; c < d->C_in; c++)
                        for (int kh = 0; kh < k; kh++)
                            for (int kw = 0; kw < k; kw++) {
                                int ih = oh * d->stride - d->pad + kh;
                                int iw = ow * d->stride - d->pad + kw;
                                if (ih < 0 || ih >= d->H || iw < 0 || iw >= d->W) continue;
                                sum += (double)weight[((size_t)(o * d->C_in + c) * k + kh) * k + kw]
                                       * inp[(((size_t)b * d->C_in + c) * d->H + ih) * d->W + iw];
                            }
                    out[(((size_t)b * d->C_out + o) * g.Ho + oh) * g.Wo + ow] = (float)sum;
                }
}
