/* rng.c: SplitMix64 streams and Box-Muller normals (see ddpm/rng.h). */
#include "ddpm/rng.h"
#include "ddpm/common.h"

#include <math.h>

/* SplitMix64 output function (Steele et al. 2014). */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

#define GOLDEN_GAMMA 0x9e3779b97f4a7c15ULL

uint64_t ddpm_rng_stream(ddpm_stream_domain domain, uint64_t a, uint64_t b)
{
    uint64_t h = mix64((uint64_t)domain * GOLDEN_GAMMA + 0x632be59bd9b4e019ULL);
    h = mix64(h ^ (a + GOLDEN_GAMMA));
    h = mix64(h ^ (b + 0xd1b54a32d192ed03ULL));
    return h;
}

void ddpm_rng_init(ddpm_rng *r, uint64_t seed, uint64_t stream)
{
    DDPM_ASSERT(r);
    r->state = mix64(mix64(seed + GOLDEN_GAMMA) ^ stream);
    r->has_spare = 0;
    r->spare = 0.0;
}

uint64_t ddpm_rng_u64(ddpm_rng *r)
{
    r->state += GOLDEN_GAMMA;
    return mix64(r->state);
}

double ddpm_rng_uniform(ddpm_rng *r)
{
    return (double)(ddpm_rng_u64(r) >> 11) * 0x1.0p-53;
}

uint32_t ddpm_rng_below(ddpm_rng *r, uint32_t n)
{
    DDPM_ASSERT(n > 0);
    /* Lemire's multiply-shift with rejection (ACM TOMACS 2019). */
    uint64_t m = (uint64_t)(uint32_t)ddpm_rng_u64(r) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)(-n) % n;
        while (low < threshold) {
            m = (uint64_t)(uint32_t)ddpm_rng_u64(r) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

double ddpm_rng_normal(ddpm_rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    /* Box-Muller: u1 in (0, 1] so that log(u1) is finite. */
    double u1 = 1.0 - ddpm_rng_uniform(r);
    double u2 = ddpm_rng_uniform(r);
    double radius = sqrt(-2.0 * log(u1));
    double angle = 2.0 * M_PI * u2;
    r->spare = radius * sin(angle);
    r->has_spare = 1;
    return radius * cos(angle);
}

void ddpm_rng_normal_fill(ddpm_rng *r, float *out, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = (float)ddpm_rng_normal(r);
}
