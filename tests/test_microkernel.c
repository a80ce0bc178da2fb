/* test_microkernel.c: the register-tiled product every convolution runs,
 * against its plain-loop reference, on every instruction set this CPU has:
 * random shapes (rows and columns that leave partial tiles and partial
 * vectors), several taps, arbitrary row / k strides in A, bias and
 * accumulate; and it never writes outside C's rows and columns. */
#include <string.h>

#include "check.h"
#include "ddpm/rng.h"
#include "microkernel.h"

static ddpm_rng rng;

static float *random_floats(size_t n)
{
    float *p = malloc(sizeof(float) * (n ? n : 1));
    CHECK(p, "out of memory");
    ddpm_rng_normal_fill(&rng, p, n);
    return p;
}

static int below(int n) { return (int)ddpm_rng_below(&rng, (uint32_t)n); }

/* One random product; returns the number of elements compared. */
static size_t check_one(int trial)
{
    const int M = 1 + below(40), N = 1 + below(70), K = below(20), ntaps = 1 + below(4);
    /* A either along k (a_ks = 1, rows a_rs apart: the forward pass) or
     * along rows (a_rs = 1, k a_ks apart: the weight gradient) */
    const bool rows_contiguous = below(2);
    const ptrdiff_t a_rs = rows_contiguous ? 1 : K + below(5);
    const ptrdiff_t a_ks = rows_contiguous ? M + below(5) : 1;
    ptrdiff_t a_off[4];
    const size_t a_span = (size_t)((M - 1) * a_rs + (K > 0 ? (K - 1) * a_ks : 0) + 1);
    for (int t = 0; t < ntaps; t++) /* taps one after another, with gaps */
        a_off[t] = t == 0 ? below(3) : a_off[t - 1] + (ptrdiff_t)a_span + below(7);
    float *a = random_floats((size_t)a_off[ntaps - 1] + a_span);
    /* B rows must be readable to N rounded up to 16 */
    const ptrdiff_t b_ks = (ptrdiff_t)((N + 15) / 16 * 16 + below(3));
    const float *b[4];
    float *b_all = random_floats((size_t)ntaps * (size_t)(K + 1) * (size_t)b_ks + 16);
    for (int t = 0; t < ntaps; t++) b[t] = b_all + (size_t)t * (size_t)(K + 1) * (size_t)b_ks;
    float *bias = below(2) ? random_floats((size_t)N) : NULL;
    const bool accumulate = below(2);
    const ptrdiff_t c_rs = N + below(4);
    const size_t nc = (size_t)M * (size_t)c_rs;
    float *c0 = random_floats(nc), *want = malloc(sizeof(float) * nc), *got = malloc(sizeof(float) * nc);
    ddpm_mk_args args = {.c_rs = c_rs, .M = M, .N = N, .a = a, .a_rs = a_rs, .a_ks = a_ks,
                         .a_off = a_off, .b = b, .b_ks = b_ks, .ntaps = ntaps, .K = K, .bias = bias,
                         .accumulate = accumulate};
    memcpy(want, c0, sizeof(float) * nc);
    args.c = want;
    ddpm_mk_run_reference(&args);
    memcpy(got, c0, sizeof(float) * nc);
    args.c = got;
    ddpm_mk_run(&args);
    double scale = 1.0;
    for (size_t i = 0; i < nc; i++) scale = fmax(scale, fabs(want[i]));
    for (int r = 0; r < M; r++)
        for (int n = 0; n < (int)c_rs; n++) {
            const size_t i = (size_t)r * c_rs + n;
            if (n >= N) { /* the gap between rows is never touched */
                CHECK(got[i] == c0[i], "[%s] trial %d: C[%d, %d] beyond N = %d was written",
                      ddpm_mk_isa_name(ddpm_mk_selected()), trial, r, n, N);
                continue;
            }
            CHECK(fabs(got[i] - want[i]) <= 1e-5 * scale,
                  "[%s] trial %d: M=%d N=%d K=%d taps=%d a_rs=%td a_ks=%td bias=%d acc=%d: C[%d, %d] = %.9g, "
                  "want %.9g", ddpm_mk_isa_name(ddpm_mk_selected()), trial, M, N, K, ntaps, a_rs, a_ks,
                  bias != NULL, accumulate, r, n, got[i], want[i]);
        }
    free(a), free(b_all), free(bias), free(c0), free(want), free(got);
    return (size_t)M * (size_t)N;
}

int main(void)
{
    ddpm_rng_init(&rng, 77, 0);
    const ddpm_mk_isa best = ddpm_mk_selected();
    int tested = 0;
    for (int isa = DDPM_MK_GENERIC; isa <= DDPM_MK_AVX512; isa++) {
        if (!ddpm_mk_select((ddpm_mk_isa)isa)) {
            printf("%s: not on this CPU, skipped\n", ddpm_mk_isa_name((ddpm_mk_isa)isa));
            continue;
        }
        size_t elements = 0;
        for (int trial = 0; trial < 400; trial++) elements += check_one(trial);
        printf("%s: 400 random products (%zu elements) match the reference\n",
               ddpm_mk_isa_name((ddpm_mk_isa)isa), elements);
        tested++;
    }
    CHECK(tested >= 1, "no variant ran");
    CHECK(ddpm_mk_select(best), "cannot go back to %s", ddpm_mk_isa_name(best));
    TEST_PASS("test_microkernel");
}
