/* fourier_features.c: sinusoidal features of a low-dimensional input, so
 * that an MLP over 2-D points resolves structure finer than its smooth
 * activations would (Tancik et al. 2020, "Fourier features let networks
 * learn high frequency functions in low dimensional domains"; fixed
 * octaves here rather than random frequencies):
 *   w_k = 2^k,  k = 0 .. K-1,
 *   out[b] = [x_0 .. x_{D-1},  sin(w_k x_d) for d, k (d major),  cos(w_k x_d) for d, k].
 * Computed in double, as the timestep embedding is, one sine and cosine a
 * value and the octaves by the double-angle formulas
 *   sin 2a = 2 sin a cos a,  cos 2a = 1 - 2 sin^2 a
 * (the error doubles an octave: 2^16 ulp of a double at most, far below a
 * float's rounding), since a sampler asks for millions of them a trajectory. */
#include "ddpm/common.h"
#include "ddpm/layers.h"

#include <math.h>

void ddpm_fourier_forward(float *out, const float *inp, int B, int D, int K)
{
    DDPM_ASSERT(out && inp && B > 0 && D > 0 && K >= 0);
    const int F = D * (1 + 2 * K);
    for (int b = 0; b < B; b++) {
        const float *x = inp + (size_t)b * D;
        float *row = out + (size_t)b * F;
        for (int d = 0; d < D; d++) {
            row[d] = x[d];
            double s = K ? sin((double)x[d]) : 0, c = K ? cos((double)x[d]) : 0;
            for (int k = 0; k < K; k++) {
                row[D + d * K + k] = (float)s;
                row[D + D * K + d * K + k] = (float)c;
                const double s2 = 2 * s * c;
                c = 1 - 2 * s * s;
                s = s2;
            }
        }
    }
}

void ddpm_fourier_backward(float *dinp, const float *dout, const float *inp, int B, int D, int K)
{
    DDPM_ASSERT(dinp && dout && inp && B > 0 && D > 0 && K >= 0);
    const int F = D * (1 + 2 * K);
    for (int b = 0; b < B; b++) {
        const float *x = inp + (size_t)b * D, *g = dout + (size_t)b * F;
        for (int d = 0; d < D; d++) {
            double sum = g[d];
            double s = K ? sin((double)x[d]) : 0, c = K ? cos((double)x[d]) : 0;
            for (int k = 0; k < K; k++) {
                const double w = ldexp(1.0, k);
                sum += w * (c * g[D + d * K + k] - s * g[D + D * K + d * K + k]);
                const double s2 = 2 * s * c;
                c = 1 - 2 * s * s;
                s = s2;
            }
            dinp[(size_t)b * D + d] += (float)sum;
        }
    }
}
