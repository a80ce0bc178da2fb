/* simd.h (private to the core): helpers for the element-wise loops.
 *
 * DDPM_VECTORIZE compiles a function three times, for AVX-512 (x86-64-v4),
 * AVX2 + FMA (x86-64-v3) and the baseline, and lets the loader pick the one
 * this CPU runs (GCC's target_clones, an ifunc): plain C loops then become
 * 16-wide without giving up the portable build.  Where that is unavailable
 * the function is compiled once, for the baseline; the results differ only
 * in rounding (FMA contraction), never in what is computed. */
#ifndef DDPM_SIMD_H
#define DDPM_SIMD_H

#include <stdint.h>
#include <string.h>

/* Not under ThreadSanitizer: its runtime is not up yet when the loader runs
 * the (instrumented) ifunc resolvers. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__) && \
    !defined(__SANITIZE_THREAD__)
#define DDPM_VECTORIZE __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define DDPM_VECTORIZE
#endif

/* e^y in float, branch-free so that loops over it vectorise: y = n ln2 + r
 * with |r| <= ln2/2 (Cody & Waite's two-part ln2), e^r by its degree-6
 * Taylor polynomial (truncation below 1.2e-7 relative), 2^n built in the
 * exponent bits.  Within 2 ulp of expf; +inf above 88.3 and 0 below -87
 * (where expf is within a hair of FLT_MAX or denormal). */
static inline __attribute__((always_inline)) float ddpm_fast_expf(float y)
{
    /* NaN takes the low end here (a NaN converted to int is undefined) and
     * comes back as NaN below */
    const float yc = !(y >= -87.0f) ? -87.0f : (y > 88.3f ? 88.3f : y);
    const float shifter = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    const float n = (yc * 1.44269504088896341f + shifter) - shifter;
    const float r = (yc - n * 0.693145751953125f) - n * 1.428606765330187e-06f;
    const float p =
        1.0f + r * (1.0f + r * (0.5f + r * (0.16666667f + r * (0.041666668f + r * (0.008333334f +
                                                                                 r * 0.0013888889f)))));
    const int32_t bits = (int32_t)((uint32_t)((int32_t)n + 127) << 23);
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    const float e = p * scale;
    return y > 88.3f ? __builtin_inff() : (y < -87.0f ? 0.0f : (y != y ? y : e));
}

#endif
