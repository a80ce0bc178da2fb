/* groupnorm.c: group normalisation (Wu & He, "Group Normalization", 2018).
 *
 * For each sample and group the n = (C/G)*HW values are normalised with their
 * own mean and biased variance, then each channel gets its affine:
 *   xhat = (x - mu) * rstd,  rstd = 1 / sqrt(var + eps),  y = gamma_c xhat + beta_c.
 * A group's channels are adjacent in NCHW, so a group is one contiguous run.
 *
 * Backward, with g = dy * gamma_c (the gradient w.r.t. xhat) and means over
 * the group:
 *   dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),
 *   dgamma_c += sum_hw dy * xhat,  dbeta_c += sum_hw dy.
 * Statistics and reductions are accumulated in double: a group holds up to
 * tens of thousands of values, and two-pass statistics in double keep the
 * variance exact even when the mean is large compared with the spread. */
#include "ddpm/common.h"
#include "ddpm/layers.h"

#include <math.h>

static void check_dims(int B, int C, int HW, int G)
{
    DDPM_ASSERT(B > 0 && C > 0 && HW > 0 && G > 0 && C % G == 0);
}

void ddpm_groupnorm_forward(float *out,         /* (B, C, HW) */
                            float *mean,        /* (B, G) saved for backward */
                            float *rstd,        /* (B, G) 1/sqrt(var + eps) */
                            const float *inp,   /* (B, C, HW) */
                            const float *gamma, /* (C) */
                            const float *beta,  /* (C) */
                            int B, int C, int HW, int G, float eps)
{
    check_dims(B, C, HW, G);
    DDPM_ASSERT(out && mean && rstd && inp && gamma && beta && eps >= 0.0f);
    const int Cg = C / G;
    const size_t n = (size_t)Cg * HW;
    for (int b = 0; b < B; b++) {
        for (int g = 0; g < G; g++) {
            const float *x = inp + ((size_t)b * C + (size_t)g * Cg) * HW; /* (Cg, HW) */
            double sum = 0.0;
            for (size_t i = 0; i < n; i++) sum += x[i];
            const double mu = sum / (double)n;
            double sq = 0.0;
            for (size_t i = 0; i < n; i++) {
                double dev = x[i] - mu;
                sq += dev * dev;
            }
            const double r = 1.0 / sqrt(sq / (double)n + (double)eps);
            const float muf = (float)mu, rf = (float)r;
            mean[b * G + g] = muf;
            rstd[b * G + g] = rf;
            float *y = out + ((size_t)b * C + (size_t)g * Cg) * HW;
            for (int cg = 0; cg < Cg; cg++) {
                const int c = g * Cg + cg;
                /* y = (x - muf) * scale + shift.  x - muf is exact in float
                 * (Sterbenz) wherever x is near the mean, and the rounding of the
                 * mean to float, mu - muf, is put back in double through the
                 * shift, so a large mean over a small spread loses nothing. */
                const float scale = (float)(gamma[c] * r);
                const float shift = (float)(beta[c] - (mu - (double)muf) * gamma[c] * r);
                const float *xc = x + (size_t)cg * HW;
                float *yc = y + (size_t)cg * HW;
                for (int i = 0; i < HW; i++) yc[i] = (xc[i] - muf) * scale + shift;
            }
        }
    }
}

void ddpm_groupnorm_backward(float *dinp,        /* (B, C, HW) or NULL */
                             float *dgamma,      /* (C) or NULL */
                             float *dbeta,       /* (C) or NULL */
                             const float *dout,  /* (B, C, HW) */
                             const float *inp,   /* (B, C, HW) */
                             const float *mean,  /* (B, G) */
                             const float *rstd,  /* (B, G) */
                             const float *gamma, /* (C) */
                             int B, int C, int HW, int G)
{
    check_dims(B, C, HW, G);
    DDPM_ASSERT(dout && inp && mean && rstd && gamma);
    const int Cg = C / G;
    const double n = (double)Cg * HW;
    for (int b = 0; b < B; b++) {
        for (int g = 0; g < G; g++) {
            const size_t base = ((size_t)b * C + (size_t)g * Cg) * HW;
            const float *x = inp + base, *dy = dout + base; /* (Cg, HW) */
            /* xhat is rebuilt from the saved float statistics; forward's
             * double-precision correction of the mean is below ulp(mean)/std,
             * far under what a gradient needs. */
            const float muf = mean[b * G + g], rf = rstd[b * G + g];
            const double mu = muf, r = rf;
            /* Per channel: sum dy and sum dy * xhat; they give dbeta, dgamma and,
             * weighted by gamma, the two group means the dx formula needs. */
            double sum_g = 0.0, sum_g_xhat = 0.0;
            for (int cg = 0; cg < Cg; cg++) {
                const int c = g * Cg + cg;
                const float *xc = x + (size_t)cg * HW, *dyc = dy + (size_t)cg * HW;
                double s_dy = 0.0, s_dy_xhat = 0.0;
                for (int i = 0; i < HW; i++) {
                    s_dy += dyc[i];
                    s_dy_xhat += (double)dyc[i] * ((xc[i] - mu) * r);
                }
                if (dbeta) dbeta[c] += (float)s_dy;
                if (dgamma) dgamma[c] += (float)s_dy_xhat;
                sum_g += gamma[c] * s_dy;
                sum_g_xhat += gamma[c] * s_dy_xhat;
            }
            if (!dinp) continue;
            const double mean_g = sum_g / n, mean_g_xhat = sum_g_xhat / n;
            float *dx = dinp + base;
            for (int cg = 0; cg < Cg; cg++) {
                const int c = g * Cg + cg;
                const float *xc = x + (size_t)cg * HW, *dyc = dy + (size_t)cg * HW;
                float *dxc = dx + (size_t)cg * HW;
                /* dx = rstd * (gamma dy - mean_g - xhat * mean_g_xhat) */
                const float a = (float)(r * gamma[c]);
                const float bx = (float)(-r * mean_g_xhat);
                const float k = (float)(-r * mean_g);
                for (int i = 0; i < HW; i++) dxc[i] += a * dyc[i] + bx * ((xc[i] - muf) * rf) + k;
            }
        }
    }
}
