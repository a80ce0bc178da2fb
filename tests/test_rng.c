/* test_rng.c: the PRNG matches SplitMix64, streams are independent and
 * reproducible, and the normals have the right moments. */
#include <string.h>

#include "check.h"
#include "ddpm/rng.h"

int main(void)
{
    /* Published SplitMix64 outputs for state 1234567 (Vigna's splitmix64.c). */
    static const uint64_t expect[5] = {6457827717110365317ULL, 3203168211198807973ULL,
                                       9817491932198370423ULL, 4593380528125082431ULL,
                                       16408922859458223821ULL};
    ddpm_rng r = {.state = 1234567};
    for (int i = 0; i < 5; i++) CHECK(ddpm_rng_u64(&r) == expect[i], "splitmix64 output %d", i);

    /* Same (seed, stream) -> same sequence; other stream or seed -> different. */
    ddpm_rng a, b, c, d;
    ddpm_rng_init(&a, 42, ddpm_rng_stream(DDPM_STREAM_XT, 3, 0));
    ddpm_rng_init(&b, 42, ddpm_rng_stream(DDPM_STREAM_XT, 3, 0));
    ddpm_rng_init(&c, 42, ddpm_rng_stream(DDPM_STREAM_XT, 4, 0));
    ddpm_rng_init(&d, 43, ddpm_rng_stream(DDPM_STREAM_XT, 3, 0));
    float fa[256], fb[256], fc[256], fd[256];
    ddpm_rng_normal_fill(&a, fa, 256);
    ddpm_rng_normal_fill(&b, fb, 256);
    ddpm_rng_normal_fill(&c, fc, 256);
    ddpm_rng_normal_fill(&d, fd, 256);
    CHECK(memcmp(fa, fb, sizeof fa) == 0, "same stream must repeat bit for bit");
    CHECK(memcmp(fa, fc, sizeof fa) != 0, "different sample index must differ");
    CHECK(memcmp(fa, fd, sizeof fa) != 0, "different seed must differ");
    CHECK(ddpm_rng_stream(DDPM_STREAM_STEP, 1, 2) != ddpm_rng_stream(DDPM_STREAM_STEP, 2, 1),
          "stream ids must not be symmetric");
    CHECK(ddpm_rng_stream(DDPM_STREAM_STEP, 0, 0) != ddpm_rng_stream(DDPM_STREAM_XT, 0, 0),
          "domains must separate streams");

    /* Moments of N(0,1) and of U[0,1): 1e6 draws, 5-sigma bounds. */
    const int n = 1000000;
    double s1 = 0, s2 = 0, s3 = 0, s4 = 0, u1 = 0;
    ddpm_rng_init(&a, 7, 0);
    for (int i = 0; i < n; i++) {
        double x = ddpm_rng_normal(&a);
        s1 += x, s2 += x * x, s3 += x * x * x, s4 += x * x * x * x;
        u1 += ddpm_rng_uniform(&a);
    }
    s1 /= n, s2 /= n, s3 /= n, s4 /= n, u1 /= n;
    CHECK_CLOSE(s1, 0.0, 0, 5.0 / 1000, "normal mean");
    CHECK_CLOSE(s2, 1.0, 0, 5.0 * sqrt(2.0) / 1000, "normal variance");
    CHECK_CLOSE(s3, 0.0, 0, 5.0 * sqrt(15.0) / 1000, "normal skew");
    CHECK_CLOSE(s4, 3.0, 0, 5.0 * sqrt(96.0) / 1000, "normal kurtosis");
    CHECK_CLOSE(u1, 0.5, 0, 5.0 * 0.2887 / 1000, "uniform mean");

    /* ddpm_rng_below: in range and roughly uniform over 10 bins. */
    int hist[10] = {0};
    for (int i = 0; i < 100000; i++) {
        uint32_t v = ddpm_rng_below(&a, 10);
        CHECK(v < 10, "below(10) gave %u", v);
        hist[v]++;
    }
    for (int k = 0; k < 10; k++) CHECK(abs(hist[k] - 10000) < 500, "bin %d has %d", k, hist[k]);
    TEST_PASS("test_rng");
}
