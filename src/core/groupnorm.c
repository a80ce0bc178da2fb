/* groupnorm.c: group normalisation (Wu & He, "Group Normalization", 2018),
 * channels last.
 *
 * For each sample and group the n = HW*(C/G) values are normalised with their
 * own mean and biased variance, then each channel gets its affine:
 *   xhat = (x - mu) * rstd,  rstd = 1 / sqrt(var + eps),  y = gamma_c xhat + beta_c.
 *
 * Backward, with g = dy * gamma_c (the gradient w.r.t. xhat) and means over
 * the group:
 *   dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),
 *   dgamma_c += sum_hw dy * xhat,  dbeta_c += sum_hw dy.
 * Statistics and reductions are accumulated in double: a group holds up to
 * tens of thousands of values, and two-pass statistics in double keep the
 * variance exact even when the mean is large compared with the spread.
 *
 * The fused GroupNorm + SiLU (the pair every ResBlock and the output head
 * apply) writes only silu(y); its backward recomputes y from the input and
 * the saved statistics, so y is never stored.
 *
 * Channels last, a pixel's channels are adjacent, so every pass walks the
 * pixels and keeps one double accumulator per channel (a vector loop over
 * channels); channels are taken in blocks of whole groups of at most BLOCK
 * (a group wider than BLOCK is one block, walked in BLOCK-wide slices). */
#include "ddpm/common.h"
#include "ddpm/layers.h"

#include <math.h>
#include "simd.h"

enum { BLOCK = 256 };

static void check_dims(int B, int HW, int C, int G)
{
    DDPM_ASSERT(B > 0 && C > 0 && HW > 0 && G > 0 && C % G == 0);
}

/* Channels per block: whole groups up to BLOCK, or exactly one wide group. */
static int block_channels(int C, int Cg)
{
    int per = Cg <= BLOCK ? (BLOCK / Cg) * Cg : Cg;
    return per < C ? per : C;
}

/* sum[j] += sum over the HW pixels of f(x[p, c0 + j]) for j < m, where f is
 * x itself (shift == NULL) or (x - shift[j])^2. */
static inline __attribute__((always_inline)) void channel_sums(double *sum, const float *x, int HW, int C, int c0, int m,
                         const double *shift)
{
    /* even and odd pixels into separate sums, so that consecutive adds to
     * one sum (a chain through memory) are half as many */
    double odd[BLOCK];
    for (int j = 0; j < m; j++) odd[j] = 0.0;
    const float *row = x + c0;
    int p = 0;
    if (!shift) {
        for (; p + 1 < HW; p += 2, row += 2 * (size_t)C)
            for (int j = 0; j < m; j++) {
                sum[j] += row[j];
                odd[j] += row[C + j];
            }
        if (p < HW)
            for (int j = 0; j < m; j++) sum[j] += row[j];
    } else {
        for (; p + 1 < HW; p += 2, row += 2 * (size_t)C)
            for (int j = 0; j < m; j++) {
                const double d0 = row[j] - shift[j], d1 = row[C + j] - shift[j];
                sum[j] += d0 * d0;
                odd[j] += d1 * d1;
            }
        if (p < HW)
            for (int j = 0; j < m; j++) {
                const double d0 = row[j] - shift[j];
                sum[j] += d0 * d0;
            }
    }
    for (int j = 0; j < m; j++) sum[j] += odd[j];
}

/* silu(y) = y * sigmoid(y) and its derivative s (1 + y (1 - s)). */
static inline __attribute__((always_inline)) float silu(float y)
{
    return y / (1.0f + ddpm_fast_expf(-y));
}

static inline __attribute__((always_inline)) float silu_grad(float y)
{
    const float s = 1.0f / (1.0f + ddpm_fast_expf(-y));
    return s * (1.0f + y * (1.0f - s));
}

/* GroupNorm forward, followed by SiLU when with_silu (a constant where it
 * is inlined, so each public function gets its own loop). */
static inline __attribute__((always_inline)) void forward_impl(
    float *out, float *mean, float *rstd, const float *inp, const float *gamma, const float *beta,
    int B, int HW, int C, int G, float eps, const bool with_silu)
{
    check_dims(B, HW, C, G);
    DDPM_ASSERT(out && mean && rstd && inp && gamma && beta && eps >= 0.0f);
    const int Cg = C / G, per = block_channels(C, Cg);
    const double n = (double)Cg * HW;
    for (int b = 0; b < B; b++) {
        const float *x = inp + (size_t)b * HW * C;
        float *y = out + (size_t)b * HW * C;
        for (int c0 = 0; c0 < C; c0 += per) {
            const int cn = C - c0 < per ? C - c0 : per, groups = cn / Cg, g0 = c0 / Cg;
            double gsum[BLOCK], gsq[BLOCK], mu_c[BLOCK];
            for (int j = 0; j < groups; j++) gsum[j] = gsq[j] = 0.0;
            /* pass 1: the group means */
            for (int s0 = 0; s0 < cn; s0 += BLOCK) {
                const int m = cn - s0 < BLOCK ? cn - s0 : BLOCK;
                double sum[BLOCK];
                for (int j = 0; j < m; j++) sum[j] = 0.0; /* not all BLOCK: a LayerNorm row is short */
                channel_sums(sum, x, HW, C, c0 + s0, m, NULL);
                for (int j = 0; j < m; j++) gsum[(s0 + j) / Cg] += sum[j];
            }
            /* pass 2: the squared deviations from them */
            for (int s0 = 0; s0 < cn; s0 += BLOCK) {
                const int m = cn - s0 < BLOCK ? cn - s0 : BLOCK;
                double sum[BLOCK];
                for (int j = 0; j < m; j++) mu_c[j] = gsum[(s0 + j) / Cg] / n, sum[j] = 0.0;
                channel_sums(sum, x, HW, C, c0 + s0, m, mu_c);
                for (int j = 0; j < m; j++) gsq[(s0 + j) / Cg] += sum[j];
            }
            for (int j = 0; j < groups; j++) {
                const double mu = gsum[j] / n, r = 1.0 / sqrt(gsq[j] / n + (double)eps);
                mean[(size_t)b * G + g0 + j] = (float)mu;
                rstd[(size_t)b * G + g0 + j] = (float)r;
                gsum[j] = mu, gsq[j] = r;
            }
            /* pass 3: y = (x - muf) * scale + shift.  x - muf is exact in float
             * (Sterbenz) wherever x is near the mean, and the rounding of the
             * mean to float, mu - muf, is put back in double through the
             * shift, so a large mean over a small spread loses nothing. */
            for (int s0 = 0; s0 < cn; s0 += BLOCK) {
                const int m = cn - s0 < BLOCK ? cn - s0 : BLOCK;
                float muf[BLOCK], scale[BLOCK], shift[BLOCK];
                for (int j = 0; j < m; j++) {
                    const int c = c0 + s0 + j, gj = (s0 + j) / Cg;
                    const double mu = gsum[gj], r = gsq[gj];
                    muf[j] = (float)mu;
                    scale[j] = (float)(gamma[c] * r);
                    shift[j] = (float)(beta[c] - (mu - (double)muf[j]) * gamma[c] * r);
                }
                const float *xr = x + c0 + s0;
                float *yr = y + c0 + s0;
                if (with_silu) {
                    for (int p = 0; p < HW; p++, xr += C, yr += C)
                        for (int j = 0; j < m; j++) yr[j] = silu((xr[j] - muf[j]) * scale[j] + shift[j]);
                } else {
                    for (int p = 0; p < HW; p++, xr += C, yr += C)
                        for (int j = 0; j < m; j++) yr[j] = (xr[j] - muf[j]) * scale[j] + shift[j];
                }
            }
        }
    }
}

DDPM_VECTORIZE
void ddpm_groupnorm_forward(float *out,         /* (B, HW, C) */
                            float *mean,        /* (B, G) saved for backward */
                            float *rstd,        /* (B, G) 1/sqrt(var + eps) */
                            const float *inp,   /* (B, HW, C) */
                            const float *gamma, /* (C) */
                            const float *beta,  /* (C) */
                            int B, int HW, int C, int G, float eps)
{
    forward_impl(out, mean, rstd, inp, gamma, beta, B, HW, C, G, eps, false);
}

DDPM_VECTORIZE
void ddpm_groupnorm_silu_forward(float *out,         /* (B, HW, C) */
                                 float *mean,        /* (B, G) saved for backward */
                                 float *rstd,        /* (B, G) */
                                 const float *inp,   /* (B, HW, C) */
                                 const float *gamma, /* (C) */
                                 const float *beta,  /* (C) */
                                 int B, int HW, int C, int G, float eps)
{
    forward_impl(out, mean, rstd, inp, gamma, beta, B, HW, C, G, eps, true);
}

/* GroupNorm backward; with_silu first turns the gradient of silu(y) into
 * that of y, recomputing y from inp and the statistics, and leaves it in
 * dout for the second pass. */
static inline __attribute__((always_inline)) void backward_impl(
    float *dinp, float *dgamma, float *dbeta, float *dout, const float *inp,
    const float *mean, const float *rstd, const float *gamma, const float *beta, int B, int HW,
    int C, int G, const bool with_silu, bool assign_dinp)
{
    check_dims(B, HW, C, G);
    DDPM_ASSERT(dout && inp && mean && rstd && gamma);
    const int Cg = C / G, per = block_channels(C, Cg);
    const double n = (double)Cg * HW;
    for (int b = 0; b < B; b++) {
        const float *x = inp + (size_t)b * HW * C;
        float *dy = dout + (size_t)b * HW * C;
        for (int c0 = 0; c0 < C; c0 += per) {
            const int cn = C - c0 < per ? C - c0 : per, groups = cn / Cg, g0 = c0 / Cg;
            /* Per channel: sum dy and sum dy * xhat; they give dbeta, dgamma and,
             * weighted by gamma, the two group means the dx formula needs.
             * xhat is rebuilt from the saved float statistics; forward's
             * double-precision correction of the mean is below ulp(mean)/std,
             * far under what a gradient needs. */
            double sum_g[BLOCK], sum_g_xhat[BLOCK];
            for (int j = 0; j < groups; j++) sum_g[j] = sum_g_xhat[j] = 0.0;
            for (int s0 = 0; s0 < cn; s0 += BLOCK) {
                const int m = cn - s0 < BLOCK ? cn - s0 : BLOCK;
                double s_dy[BLOCK], s_dy_xhat[BLOCK], mu[BLOCK], r[BLOCK];
                float muf[BLOCK], scale[BLOCK], shift[BLOCK];
                for (int j = 0; j < m; j++) {
                    s_dy[j] = s_dy_xhat[j] = 0.0;
                    const int c = c0 + s0 + j, gi = b * G + g0 + (s0 + j) / Cg;
                    mu[j] = mean[gi];
                    r[j] = rstd[gi];
                    muf[j] = mean[gi];
                    scale[j] = (float)(gamma[c] * r[j]);
                    shift[j] = with_silu ? beta[c] : 0.0f;
                }
                const float *xr = x + c0 + s0;
                float *dyr = dy + c0 + s0;
                for (int p = 0; p < HW; p++, xr += C, dyr += C)
                    for (int j = 0; j < m; j++) {
                        const float g = with_silu ? dyr[j] * silu_grad((xr[j] - muf[j]) * scale[j] + shift[j])
                                                  : dyr[j];
                        if (with_silu) dyr[j] = g;
                        s_dy[j] += g;
                        s_dy_xhat[j] += (double)g * ((xr[j] - mu[j]) * r[j]);
                    }
                for (int j = 0; j < m; j++) {
                    const int c = c0 + s0 + j, gj = (s0 + j) / Cg;
                    if (dbeta) dbeta[c] += (float)s_dy[j];
                    if (dgamma) dgamma[c] += (float)s_dy_xhat[j];
                    sum_g[gj] += gamma[c] * s_dy[j];
                    sum_g_xhat[gj] += gamma[c] * s_dy_xhat[j];
                }
            }
            if (!dinp) continue;
            float *dx = dinp + (size_t)b * HW * C;
            for (int s0 = 0; s0 < cn; s0 += BLOCK) {
                const int m = cn - s0 < BLOCK ? cn - s0 : BLOCK;
                /* dx = rstd * (gamma dy - mean_g - xhat * mean_g_xhat) */
                float a[BLOCK], bx[BLOCK], k[BLOCK], muf[BLOCK], rf[BLOCK];
                for (int j = 0; j < m; j++) {
                    const int c = c0 + s0 + j, gj = (s0 + j) / Cg, gi = b * G + g0 + gj;
                    const double r = rstd[gi];
                    muf[j] = mean[gi];
                    rf[j] = rstd[gi];
                    a[j] = (float)(r * gamma[c]);
                    bx[j] = (float)(-r * (sum_g_xhat[gj] / n));
                    k[j] = (float)(-r * (sum_g[gj] / n));
                }
                const float *xr = x + c0 + s0, *dyr = dy + c0 + s0;
                float *dxr = dx + c0 + s0;
                if (assign_dinp) {
                    for (int p = 0; p < HW; p++, xr += C, dyr += C, dxr += C)
                        for (int j = 0; j < m; j++)
                            dxr[j] = a[j] * dyr[j] + bx[j] * ((xr[j] - muf[j]) * rf[j]) + k[j];
                } else {
                    for (int p = 0; p < HW; p++, xr += C, dyr += C, dxr += C)
                        for (int j = 0; j < m; j++)
                            dxr[j] += a[j] * dyr[j] + bx[j] * ((xr[j] - muf[j]) * rf[j]) + k[j];
                }
            }
        }
    }
}

DDPM_VECTORIZE
void ddpm_groupnorm_backward(float *dinp,        /* (B, HW, C) or NULL */
                             float *dgamma,      /* (C) or NULL */
                             float *dbeta,       /* (C) or NULL */
                             const float *dout,  /* (B, HW, C) */
                             const float *inp,   /* (B, HW, C) */
                             const float *mean,  /* (B, G) */
                             const float *rstd,  /* (B, G) */
                             const float *gamma, /* (C) */
                             int B, int HW, int C, int G, bool assign_dinp)
{
    /* without SiLU nothing is written to dout */
    backward_impl(dinp, dgamma, dbeta, (float *)dout, inp, mean, rstd, gamma, NULL, B, HW, C, G, false,
                  assign_dinp);
}

DDPM_VECTORIZE
void ddpm_groupnorm_silu_backward(float *dinp,        /* (B, HW, C) or NULL */
                                  float *dgamma,      /* (C) or NULL */
                                  float *dbeta,       /* (C) or NULL */
                                  float *dout,        /* (B, HW, C), overwritten */
                                  const float *inp,   /* (B, HW, C) */
                                  const float *mean,  /* (B, G) */
                                  const float *rstd,  /* (B, G) */
                                  const float *gamma, /* (C) */
                                  const float *beta,  /* (C) */
                                  int B, int HW, int C, int G, bool assign_dinp)
{
    DDPM_ASSERT(beta);
    backward_impl(dinp, dgamma, dbeta, dout, inp, mean, rstd, gamma, beta, B, HW, C, G, true,
                  assign_dinp);
}
