/* ddpm/rng.h: the project's own seeded PRNG and Gaussian sampler.
 *
 *   ddpm_rng r;
 *   ddpm_rng_init(&r, seed, ddpm_rng_stream(DDPM_STREAM_XT, sample, 0));
 *   ddpm_rng_normal_fill(&r, x_T, 784);
 *
 * Every random draw in ddpm-lab comes from a stream named by (seed, stream
 * id).  Streams are independent of each other and of the order in which they
 * are consumed, so the same seed gives the same trajectory bit for bit on any
 * thread count and in any batch composition: sample 3 of a 4x4 grid sees the
 * same x_T and the same per-step noise as sample 3 of a 1x4 grid.
 *
 * The generator is SplitMix64 (Steele, Lea & Flood, "Fast splittable
 * pseudorandom number generators", OOPSLA 2014); normals come from the
 * Box-Muller transform (Box & Muller 1958) computed in double precision.
 */
#ifndef DDPM_RNG_H
#define DDPM_RNG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ddpm_rng {
    uint64_t state;
    double spare;      /* second Box-Muller value, valid when has_spare */
    int has_spare;
} ddpm_rng;

/* Domains for stream ids, so that unrelated uses never share a stream. */
typedef enum {
    DDPM_STREAM_XT = 1,       /* initial noise x_T, (sample, 0) */
    DDPM_STREAM_STEP = 2,     /* per-step noise z, (sample, step index) */
    DDPM_STREAM_TRAIN = 3,    /* training: (step, 0) */
    DDPM_STREAM_INIT = 4,     /* weight initialisation: (tensor index, 0) */
    DDPM_STREAM_FORWARD = 5,  /* forward-process noise in the visualizer */
    DDPM_STREAM_DATA = 6,     /* data shuffling / splits */
    DDPM_STREAM_DROPOUT = 7,  /* dropout masks: (step, layer) */
} ddpm_stream_domain;

/* A stream id for (domain, a, b). */
uint64_t ddpm_rng_stream(ddpm_stream_domain domain, uint64_t a, uint64_t b);

/* Seeds r as the stream `stream` of `seed`. */
void ddpm_rng_init(ddpm_rng *r, uint64_t seed, uint64_t stream);

uint64_t ddpm_rng_u64(ddpm_rng *r);
/* Uniform double in [0, 1) with 53 random bits. */
double ddpm_rng_uniform(ddpm_rng *r);
/* Uniform integer in [0, n), without modulo bias; n > 0. */
uint32_t ddpm_rng_below(ddpm_rng *r, uint32_t n);
/* Standard normal N(0, 1). */
double ddpm_rng_normal(ddpm_rng *r);
/* Fills out[0..n) with N(0, 1) floats. */
void ddpm_rng_normal_fill(ddpm_rng *r, float *out, size_t n);

#ifdef __cplusplus
}
#endif
#endif
