/* ddpm/layers.h: the UNet's layer kernels, plain functions over flat float
 * arrays in channels-last order: a batch of images is (B, H, W, C), so the
 * C values of one pixel are adjacent.
 *
 *   ddpm_conv2d_dims d = {.B = 8, .H = 28, .W = 28, .C_in = 1, .C_out = 32,
 *                         .kernel = 3, .stride = 1, .pad = 1};
 *   float *wf = malloc(sizeof(float) * ddpm_conv2d_wf_floats(&d));
 *   float *scratch = malloc(sizeof(float) * ddpm_conv2d_scratch_floats(&d));
 *   ddpm_conv2d_pack_wf(wf, weight, &d);             // once per weight update
 *   ddpm_conv2d_forward(out, scratch, inp, wf, bias, &d);
 *   ...
 *   ddpm_conv2d_pack_wb(wb, weight, &d);             // wb: ddpm_conv2d_wb_floats
 *   memset(dwf, 0, sizeof(float) * ddpm_conv2d_dwf_floats(&d));
 *   ddpm_conv2d_backward(dinp, dwf, dbias, scratch, dout, inp, wb, &d);
 *   ddpm_conv2d_unpack_grad(dweight, dwf, &d);       // dweight += dwf, re-laid out
 *
 * Conventions (after llm.c):
 *   - Outputs come first, then inputs, then dimensions.  Every pointer has a
 *     shape comment.
 *   - Channels last: every layer that knows about pixels takes (B, HW, C) or
 *     (B, H, W, C) data.  Parameters keep PyTorch's shapes (a conv weight is
 *     (C_out, C_in, k, k)), so checkpoints load into the PyTorch mirror as is.
 *   - Every backward ACCUMULATES (+=) into its gradient outputs, so a tensor
 *     used twice simply receives both contributions; zeroing is the caller's
 *     one explicit call.  The exception: where a layer takes an `assign`
 *     flag (conv2d's dims.assign_dinp, GroupNorm, concat), it may instead
 *     WRITE its input gradient, every element, for the first contribution
 *     to a tensor: the caller then skips the zeroing and a pass over memory.
 *     A gradient pointer may be NULL when that gradient
 *     is not wanted (for example dinp of the first layer).
 *   - Nothing here allocates or starts a thread.  Layers that need temporary
 *     memory take a `scratch` buffer whose size a *_scratch_floats() function
 *     gives.  Scratch carries nothing from one call to the next (backward
 *     recomputes what it needs), so every layer may share one buffer.
 *   - Each result is summed in an order fixed by the dimensions alone, so the
 *     same inputs give the same bits whatever the batch they came in, as long
 *     as the sizes (B included) are the same.
 *   - Outputs never alias inputs unless a function says so.
 *   - Matrix products go through the one BLAS seam, ddpm_sgemm, except the
 *     convolutions, which run the project's own register-tiled kernel.
 */
#ifndef DDPM_LAYERS_H
#define DDPM_LAYERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ddpm/rng.h"
#include "ddpm/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the BLAS seam (blas.c) ---------------------------------------------
 * Row-major C(M,N) = alpha * op(A)(M,K) * op(B)(K,N) + beta * C, where
 * op(X) is X or X^T.  lda/ldb/ldc are the row strides of A, B, C as stored.
 * This is the only place in ddpm-lab that calls cblas_sgemm. */
void ddpm_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha,
                const float *A, int lda, const float *B, int ldb, float beta,
                float *C, int ldc);
/* The same product with naive loops in double accumulation: the oracle. */
void ddpm_sgemm_reference(int trans_a, int trans_b, int M, int N, int K, float alpha,
                          const float *A, int lda, const float *B, int ldb, float beta,
                          float *C, int ldc);
/* Makes OpenBLAS take its work buffer now (one small product), after
 * checking that the address space has room for it: under a memory limit
 * (ulimit -v) OpenBLAS retries a failed buffer allocation forever, so a
 * process that cannot afford it must say so before the first product.
 * DDPM_ERR with a message naming the limit; call once, early. */
int ddpm_blas_reserve(ddpm_error *err);
/* True when the address space has room for the work buffers of `threads`
 * threads calling BLAS (always, without a limit). */
bool ddpm_blas_buffers_fit(int threads);
/* Threads used by BLAS (OpenBLAS); n <= 0 means all cores.  ddpm_set_threads
 * (ddpm/threads.h), which sets ddpm-lab's own thread count, keeps this at 1. */
void ddpm_blas_set_threads(int n);
int ddpm_blas_get_threads(void);
/* The kernel set OpenBLAS chose for this CPU at load time (its DYNAMIC_ARCH
 * core name, e.g. "SkylakeX"); a static string, never NULL. */
const char *ddpm_blas_core(void);
/* When OpenBLAS took this CPU for an older one than its vector unit is (it
 * does so for CPU models it does not know, such as a virtual machine's
 * "Intel Xeon Processor", and falls back to SSE3 "Prescott" kernels), the
 * OPENBLAS_CORETYPE value that matches the CPU ("SkylakeX", "Haswell");
 * otherwise NULL.  OpenBLAS reads that variable only when it loads. */
const char *ddpm_blas_core_hint(void);

/* ---- conv2d (conv2d.c) ----------------------------------------------------
 * Square kernels 1x1 or 3x3, stride 1 or 2, zero padding 0 or 1.  A 3x3,
 * stride 1, pad 1 convolution with enough channels runs as Winograd
 * F(4x4, 3x3) (4x fewer multiplications; the packed weights are then the
 * transformed filters; conv2d_winograd.c has the rules, pass by pass); the
 * others run directly. */
typedef struct ddpm_conv2d_dims {
    int B, H, W, C_in;    /* input (B, H, W, C_in) */
    int C_out;
    int kernel, stride, pad;
    /* 0: one bias (C_out) for the batch.  C_out: a bias per image, (B, C_out)
     * (the UNet's conv bias plus its time embedding, added in one go), and
     * backward's dbias is then per image too. */
    int bias_stride;
    bool assign_dinp;     /* backward writes dinp instead of adding to it */
    /* forward: floats from one output pixel to the next, 0 for C_out: the
     * output may be the first channels of a wider tensor (the UNet's skip
     * concatenation), read by no one else */
    int out_stride;
} ddpm_conv2d_dims;

int ddpm_conv2d_out_h(const ddpm_conv2d_dims *d);  /* (H + 2 pad - kernel) / stride + 1 */
int ddpm_conv2d_out_w(const ddpm_conv2d_dims *d);
/* Floats of scratch that forward and backward need: a few padded copies of
 * ONE image, whatever B is. */
size_t ddpm_conv2d_scratch_floats(const ddpm_conv2d_dims *d);

/* The weights (C_out, C_in, k, k) re-packed for the kernels: wf for the
 * forward pass, wb for the input gradient (opaque layouts: for the direct
 * kernel (k*k, C_in, C_out) and (k*k, C_out, C_in) with the last dimension
 * zero-padded to 16).  Pack again whenever the weights change. */
size_t ddpm_conv2d_wf_floats(const ddpm_conv2d_dims *d);
size_t ddpm_conv2d_wb_floats(const ddpm_conv2d_dims *d);
void ddpm_conv2d_pack_wf(float *wf, const float *weight, const ddpm_conv2d_dims *d);
void ddpm_conv2d_pack_wb(float *wb, const float *weight, const ddpm_conv2d_dims *d);

void ddpm_conv2d_forward(float *out,          /* (B, Ho, Wo, C_out) */
                         float *scratch,      /* ddpm_conv2d_scratch_floats(d) */
                         const float *inp,    /* (B, H, W, C_in) */
                         const float *wf,     /* ddpm_conv2d_pack_wf(weight) */
                         const float *bias,   /* (C_out), (B, C_out) by d->bias_stride, or NULL */
                         const ddpm_conv2d_dims *d);
/* One part of the forward pass, for splitting a single image over threads:
 * part `part` (0 .. parts-1) computes an even share of the output (rows of
 * it, or Winograd tiles).  The parts are disjoint, together write all of
 * out, and give exactly the bits of the whole call; each needs its own
 * scratch.  With res (B, Ho, Wo, C_out), out = res + the convolution (a
 * ResBlock's residual sum, added as the output is stored).
 * ddpm_conv2d_forward is part 0 of 1 without res. */
void ddpm_conv2d_forward_part(float *out, float *scratch, const float *inp, const float *wf,
                              const float *bias, const float *res, const ddpm_conv2d_dims *d,
                              int part, int parts);
/* The weight gradient accumulates in a packed layout too (dwf, of
 * ddpm_conv2d_dwf_floats), so that many calls can add into it before one
 * unpack; wb is needed only with dinp. */
size_t ddpm_conv2d_dwf_floats(const ddpm_conv2d_dims *d);
void ddpm_conv2d_backward(float *dinp,         /* (B, H, W, C_in) or NULL */
                          float *dwf,          /* ddpm_conv2d_dwf_floats(d), or NULL */
                          float *dbias,        /* (C_out), (B, C_out) by d->bias_stride, or NULL */
                          float *scratch,      /* ddpm_conv2d_scratch_floats(d) */
                          const float *dout,   /* (B, Ho, Wo, C_out) */
                          const float *inp,    /* (B, H, W, C_in) */
                          const float *wb,     /* ddpm_conv2d_pack_wb(weight), or NULL */
                          const ddpm_conv2d_dims *d);
/* The instruction set the kernels chose on this CPU: "avx512", "avx2" or
 * "generic". */
const char *ddpm_conv2d_isa(void);
/* dweight (C_out, C_in, k, k) += dwf laid out as PyTorch's weight. */
void ddpm_conv2d_unpack_grad(float *dweight, const float *dwf, const ddpm_conv2d_dims *d);
/* Direct seven-loop convolution in double, for tests. */
void ddpm_conv2d_forward_reference(float *out,          /* (B, Ho, Wo, C_out) */
                                   const float *inp,    /* (B, H, W, C_in) */
                                   const float *weight, /* (C_out, C_in, k, k) */
                                   const float *bias,   /* (C_out) or NULL */
                                   const ddpm_conv2d_dims *d);

/* ---- linear (linear.c) -------------------------------------------------
 * out = inp . W^T + bias, PyTorch's nn.Linear with W (OC, IC).  Two forms of
 * the forward pass: from the weight as it is stored (one BLAS product a row),
 * and from the weight re-packed for the microkernel, (IC, round16(OC)), which
 * networks run: all rows in one call, each row summed in an order fixed by
 * IC alone, with an optional residual added as the rows are stored. */
size_t ddpm_linear_wf_floats(int IC, int OC);
void ddpm_linear_pack_wf(float *wf, const float *weight /* (OC, IC) */, int IC, int OC);
void ddpm_linear_forward_packed(float *out,          /* (B, OC) */
                                const float *inp,    /* (B, IC) */
                                const float *wf,     /* ddpm_linear_pack_wf(weight) */
                                const float *bias,   /* (OC) or NULL */
                                const float *res,    /* (B, OC) added to out, or NULL */
                                int B, int IC, int OC);
void ddpm_linear_forward(float *out,          /* (B, OC) */
                         const float *inp,    /* (B, IC) */
                         const float *weight, /* (OC, IC) */
                         const float *bias,   /* (OC) or NULL */
                         int B, int IC, int OC);
void ddpm_linear_backward(float *dinp,         /* (B, IC) or NULL */
                          float *dweight,      /* (OC, IC) */
                          float *dbias,        /* (OC) or NULL */
                          const float *dout,   /* (B, OC) */
                          const float *inp,    /* (B, IC) */
                          const float *weight, /* (OC, IC) */
                          int B, int IC, int OC);

/* ---- group normalisation (groupnorm.c) ----------------------------------
 * Wu & He 2018: statistics over (HW pixels x C/G channels) per sample and
 * group, biased variance, then a per-channel affine.  C % G == 0. */
void ddpm_groupnorm_forward(float *out,         /* (B, HW, C) */
                            float *mean,        /* (B, G) saved for backward */
                            float *rstd,        /* (B, G) 1/sqrt(var + eps) */
                            const float *inp,   /* (B, HW, C) */
                            const float *gamma, /* (C) */
                            const float *beta,  /* (C) */
                            int B, int HW, int C, int G, float eps);
void ddpm_groupnorm_backward(float *dinp,        /* (B, HW, C) or NULL */
                             float *dgamma,      /* (C) */
                             float *dbeta,       /* (C) */
                             const float *dout,  /* (B, HW, C) */
                             const float *inp,   /* (B, HW, C) */
                             const float *mean,  /* (B, G) */
                             const float *rstd,  /* (B, G) */
                             const float *gamma, /* (C) */
                             int B, int HW, int C, int G, bool assign_dinp);

/* GroupNorm then SiLU in one pass: out = silu(groupnorm(inp)).  The
 * normalised values are not kept; backward recomputes them from inp, the
 * statistics and gamma, beta, and uses dout as its scratch: on return dout
 * holds the gradient with respect to the normalised values. */
void ddpm_groupnorm_silu_forward(float *out,         /* (B, HW, C) */
                                 float *mean,        /* (B, G) saved for backward */
                                 float *rstd,        /* (B, G) */
                                 const float *inp,   /* (B, HW, C) */
                                 const float *gamma, /* (C) */
                                 const float *beta,  /* (C) */
                                 int B, int HW, int C, int G, float eps);
void ddpm_groupnorm_silu_backward(float *dinp,        /* (B, HW, C) or NULL */
                                  float *dgamma,      /* (C) */
                                  float *dbeta,       /* (C) */
                                  float *dout,        /* (B, HW, C), overwritten */
                                  const float *inp,   /* (B, HW, C) */
                                  const float *mean,  /* (B, G) */
                                  const float *rstd,  /* (B, G) */
                                  const float *gamma, /* (C) */
                                  const float *beta,  /* (C) */
                                  int B, int HW, int C, int G, bool assign_dinp);

/* ---- SiLU (activations.c): x * sigmoid(x) ------------------------------ */
void ddpm_silu_forward(float *out, const float *inp, size_t n);
/* dinp += dout * silu'(inp) */
void ddpm_silu_backward(float *dinp, const float *dout, const float *inp, size_t n);

/* ---- sinusoidal timestep embedding (timestep_embedding.c) ----------------
 * Vaswani et al. 2017 sec. 3.5, as used by DDPM: with half = dim / 2 and
 * freq_i = exp(-ln(max_period) * i / half),
 *   out[b, i] = sin(t_b freq_i), out[b, half + i] = cos(t_b freq_i).
 * dim is even.  No parameters, and t is an integer: there is no backward. */
void ddpm_timestep_embedding_forward(float *out,    /* (B, dim) */
                                     const int *t,  /* (B) */
                                     int B, int dim, float max_period);

/* ---- Fourier features of an input (fourier_features.c) -------------------
 * For points (the MLP's input): with w_k = 2^k, k < K,
 *   out[b] = [x_d for d,  sin(w_k x_d) for d, k,  cos(w_k x_d) for d, k]
 * (d major), D (1 + 2K) values a sample.  K = 0 copies the input. */
void ddpm_fourier_forward(float *out,       /* (B, D (1 + 2K)) */
                          const float *inp, /* (B, D) */
                          int B, int D, int K);
/* dinp += d out / d inp applied to dout */
void ddpm_fourier_backward(float *dinp,       /* (B, D) */
                           const float *dout, /* (B, D (1 + 2K)) */
                           const float *inp,  /* (B, D) */
                           int B, int D, int K);

/* ---- nearest-neighbour x2 upsampling (upsample.c) ----------------------- */
void ddpm_upsample2x_forward(float *out,       /* (B, 2H, 2W, C) */
                             const float *inp, /* (B, H, W, C) */
                             int B, int H, int W, int C);
void ddpm_upsample2x_backward(float *dinp,       /* (B, H, W, C) */
                              const float *dout, /* (B, 2H, 2W, C) */
                              int B, int H, int W, int C);

/* ---- channel concatenation for skips (concat.c) -------------------------
 * Channels last, each of the `rows` = B*HW pixels is C1 values of a then C2
 * values of b. */
void ddpm_concat_forward(float *out,     /* (rows, C1 + C2) */
                         const float *a, /* (rows, C1), or NULL: already in out */
                         const float *b, /* (rows, C2) */
                         size_t rows, int C1, int C2);
void ddpm_concat_backward(float *da,         /* (rows, C1) or NULL */
                          float *db,         /* (rows, C2) or NULL */
                          const float *dout, /* (rows, C1 + C2) */
                          size_t rows, int C1, int C2, bool assign_a, bool assign_b);

/* ---- single-head self-attention core (attention.c) -----------------------
 * The input is the output of a 1x1 qkv convolution: at every position,
 * channels [0, C) are q, [C, 2C) are k, [2C, 3C) are v.  For each sample,
 * with N = H*W positions,
 *   P = softmax_j(q_i . k_j / sqrt(C)),  out[i, c] = sum_j P[i, j] v[j, c].
 * The output projection and the residual are separate layers. */
size_t ddpm_attention_scratch_floats(int C, int N);
void ddpm_attention_forward(float *out,       /* (B, N, C) */
                            float *probs,     /* (B, N, N) saved for backward */
                            const float *qkv, /* (B, N, 3C) */
                            int B, int C, int N);
void ddpm_attention_backward(float *dqkv,        /* (B, N, 3C) */
                             float *scratch,     /* ddpm_attention_scratch_floats(C, N) */
                             const float *dout,  /* (B, N, C) */
                             const float *qkv,   /* (B, N, 3C) */
                             const float *probs, /* (B, N, N) */
                             int B, int C, int N);

/* ---- dropout (dropout.c), training only ----------------------------------
 * Zeroes each element with probability p and scales the rest by 1/(1-p)
 * (inverted dropout).  The mask comes from rng, so a seeded step repeats.
 * 0 <= p < 1 (asserted); p = 0 is an exact copy and then rng may be NULL. */
void ddpm_dropout_forward(float *out,       /* (n) */
                          uint8_t *mask,    /* (n) 1 = kept, saved for backward */
                          const float *inp, /* (n) */
                          float p, ddpm_rng *rng, size_t n);
void ddpm_dropout_backward(float *dinp, const float *dout, const uint8_t *mask, float p,
                           size_t n);

/* ---- element-wise helpers (elementwise.c) -------------------------------- */
/* Residual add: out = a + b.  out may alias a or b. */
void ddpm_add_forward(float *out, const float *a, const float *b, size_t n);
void ddpm_add_backward(float *da, float *db, const float *dout, size_t n);

/* Mean squared error over n elements, and its gradient scaled by `scale`
 * (dpred += scale * 2 (pred - target) / n). */
double ddpm_mse_forward(const float *pred, const float *target, size_t n);
void ddpm_mse_backward(float *dpred, const float *pred, const float *target, float scale,
                       size_t n);

/* Softmax cross-entropy for the classifier: returns the mean loss over B
 * rows and writes probs; backward accumulates (probs - onehot) / B * scale. */
double ddpm_softmax_xent_forward(float *probs,        /* (B, K) */
                                 const float *logits, /* (B, K) */
                                 const uint8_t *labels, int B, int K);
void ddpm_softmax_xent_backward(float *dlogits, const float *probs, const uint8_t *labels,
                                float scale, int B, int K);

#ifdef __cplusplus
}
#endif
#endif
