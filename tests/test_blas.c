/* test_blas.c: the BLAS seam against its naive double-accumulating reference,
 * over all four transpose combinations, non-square and tiny shapes, padded
 * leading dimensions, and alpha/beta != 1 (beta accumulates into C). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ddpm/layers.h"
#include "ddpm/rng.h"
#include "ddpm/threads.h"

static void fill_normal(ddpm_rng *r, float *x, size_t n)
{
    ddpm_rng_normal_fill(r, x, n);
}

/* One product through both paths, C starting from the same random values;
 * the padding columns of C (beyond N) must be left untouched. */
static void check_case(ddpm_rng *r, int ta, int tb, int M, int N, int K, int pad, float alpha,
                       float beta)
{
    const int a_rows = ta ? K : M, a_cols = ta ? M : K;
    const int b_rows = tb ? N : K, b_cols = tb ? K : N;
    const int lda = a_cols + pad, ldb = b_cols + pad, ldc = N + pad;
    const size_t na = (size_t)a_rows * lda, nb = (size_t)b_rows * ldb, nc = (size_t)M * ldc;
    float *A = malloc(sizeof(float) * na), *B = malloc(sizeof(float) * nb);
    float *C = malloc(sizeof(float) * nc), *C_ref = malloc(sizeof(float) * nc);
    fill_normal(r, A, na);
    fill_normal(r, B, nb);
    fill_normal(r, C, nc);
    memcpy(C_ref, C, sizeof(float) * nc);
    ddpm_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    ddpm_sgemm_reference(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C_ref, ldc);
    /* float rounding of a K-term dot product of unit normals: ~sqrt(K) * 6e-8 */
    const double tol = 1e-5 * (1.0 + sqrt((double)K)) * (fabs(alpha) + fabs(beta));
    for (int i = 0; i < M; i++)
        for (int j = 0; j < ldc; j++) {
            const size_t at = (size_t)i * ldc + j;
            if (j >= N)
                CHECK(memcmp(&C[at], &C_ref[at], sizeof(float)) == 0,
                      "ta=%d tb=%d M=%d N=%d K=%d: padding C[%d][%d] was written", ta, tb, M, N,
                      K, i, j);
            else
                CHECK_CLOSE(C[at], C_ref[at], 0.0, tol,
                            "ta=%d tb=%d M=%d N=%d K=%d pad=%d alpha=%g beta=%g at C[%d][%d]", ta,
                            tb, M, N, K, pad, alpha, beta, i, j);
        }
    free(A);
    free(B);
    free(C);
    free(C_ref);
}

static void check_all_shapes(void)
{
    ddpm_rng r;
    ddpm_rng_init(&r, 7, 0);
    const int shapes[][3] = {{1, 1, 1}, {1, 7, 1}, {5, 1, 3}, {2, 3, 4},   {17, 9, 33},
                             {64, 5, 130}, {3, 70, 2}, {40, 40, 40}, {1, 1, 300}};
    const float ab[][2] = {{1.0f, 0.0f}, {1.0f, 1.0f}, {0.5f, -2.0f}, {-1.5f, 0.25f}};
    int cases = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++)
                for (size_t k = 0; k < sizeof ab / sizeof ab[0]; k++)
                    for (int pad = 0; pad <= 3; pad += 3) {
                        check_case(&r, ta, tb, shapes[s][0], shapes[s][1], shapes[s][2], pad,
                                   ab[k][0], ab[k][1]);
                        cases++;
                    }
    printf("sgemm: %d cases match the reference\n", cases);
}

/* beta = 0 means C is write-only: NaNs already there must not leak out. */
static void check_beta_zero_ignores_c(void)
{
    float A[6] = {1, 2, 3, 4, 5, 6}, B[6] = {1, 0, 0, 1, 1, 1};
    float C[4], C_ref[4];
    for (int i = 0; i < 4; i++) C[i] = C_ref[i] = NAN;
    ddpm_sgemm(0, 0, 2, 2, 3, 1.0f, A, 3, B, 2, 0.0f, C, 2);
    ddpm_sgemm_reference(0, 0, 2, 2, 3, 1.0f, A, 3, B, 2, 0.0f, C_ref, 2);
    /* [1 2 3; 4 5 6] . [1 0; 0 1; 1 1] = [4 5; 10 11] */
    const float want[4] = {4, 5, 10, 11};
    for (int i = 0; i < 4; i++) {
        CHECK(C[i] == want[i], "C[%d] = %g, want %g", i, C[i], want[i]);
        CHECK(C_ref[i] == want[i], "C_ref[%d] = %g, want %g", i, C_ref[i], want[i]);
    }
}

static void check_threads(void)
{
    const int before = ddpm_blas_get_threads();
    ddpm_blas_set_threads(1);
    CHECK(ddpm_blas_get_threads() == 1, "threads = %d after set(1)", ddpm_blas_get_threads());
    ddpm_blas_set_threads(0);
    CHECK(ddpm_blas_get_threads() >= 1, "threads = %d after set(0)", ddpm_blas_get_threads());
    ddpm_blas_set_threads(before);
}

/* Whether op(A) op(B) comes out bit for bit the same at 1 and at 2 BLAS
 * threads.  A and B are random, sized for the given transposes with
 * unpadded strides. */
static bool same_at_1_and_2_threads(ddpm_rng *r, int ta, int tb, int M, int N, int K)
{
    const size_t na = (size_t)M * K, nb = (size_t)K * N, nc = (size_t)M * N;
    float *A = malloc(sizeof(float) * na), *B = malloc(sizeof(float) * nb);
    float *C1 = malloc(sizeof(float) * nc), *C2 = malloc(sizeof(float) * nc);
    CHECK(A && B && C1 && C2, "out of memory");
    fill_normal(r, A, na);
    fill_normal(r, B, nb);
    const int before = ddpm_blas_get_threads();
    ddpm_blas_set_threads(1);
    ddpm_sgemm(ta, tb, M, N, K, 1.0f, A, ta ? M : K, B, tb ? K : N, 0.0f, C1, N);
    ddpm_blas_set_threads(2);
    ddpm_sgemm(ta, tb, M, N, K, 1.0f, A, ta ? M : K, B, tb ? K : N, 0.0f, C2, N);
    ddpm_blas_set_threads(before);
    const bool same = memcmp(C1, C2, sizeof(float) * nc) == 0;
    free(A), free(B), free(C1), free(C2);
    return same;
}

/* The project promises the same numbers at every thread count, and keeps
 * that promise without relying on BLAS: ddpm_set_threads, which every
 * command calls, sizes the project's own pool (which splits over images)
 * and holds BLAS at one thread.  That is checked here.  Whether a threaded
 * OpenBLAS would agree with itself is only reported: on an AMD Zen 5
 * (family 26) OpenBLAS 0.3.21's Haswell kernels gave other bits at 2
 * threads for every threaded shape tried (SkylakeX kernels did not), which
 * is why `eval` and `sweep`, once BLAS-threaded, are no longer. */
static void check_thread_count_invariance(void)
{
    for (int n = 1; n <= 3; n++) {
        ddpm_set_threads(n);
        CHECK(ddpm_get_threads() == n, "threads = %d after ddpm_set_threads(%d)", ddpm_get_threads(), n);
        CHECK(ddpm_blas_get_threads() == 1, "BLAS at %d threads after ddpm_set_threads(%d)",
              ddpm_blas_get_threads(), n);
    }
    ddpm_set_threads(0);
    CHECK(ddpm_get_threads() >= 1 && ddpm_blas_get_threads() == 1,
          "ddpm_set_threads(0): %d threads, BLAS %d", ddpm_get_threads(), ddpm_blas_get_threads());
    ddpm_set_threads(1);
    ddpm_rng r;
    ddpm_rng_init(&r, 11, 0);
    const int C = 64, Kc = 64 * 9, P = 16 * 14 * 14;
    const bool same = same_at_1_and_2_threads(&r, 0, 0, C, P, Kc) &&
                      same_at_1_and_2_threads(&r, 0, 1, C, Kc, P) &&
                      same_at_1_and_2_threads(&r, 1, 0, Kc, P, C);
    printf("sgemm: OpenBLAS (%s kernels) %s at 1 and 2 threads (not relied on)\n", ddpm_blas_core(),
           same ? "agrees with itself" : "gives other bits");
}

/* The core-name hint, checked in child processes of this test (OpenBLAS picks
 * its kernels when it loads, so each choice needs a fresh process): forced to
 * SSE3 "Prescott" kernels on a CPU with AVX2 + FMA, the hint names newer ones;
 * forced to the hinted kernels, there is no hint (no loop in bench/run.sh). */
static void child_hint(const char *self, const char *coretype, char *out, size_t cap)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "OPENBLAS_CORETYPE=%s '%s' --print-hint", coretype, self);
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL, "cannot run %s", cmd);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    CHECK(pclose(p) == 0, "%s failed", cmd);
    out[strcspn(out, "\n")] = '\0';
}

static void check_core_hint(const char *self)
{
    CHECK(ddpm_blas_core()[0] != '\0', "OpenBLAS names its core");
    char hint[64], again[64];
    child_hint(self, "Prescott", hint, sizeof hint);
    __builtin_cpu_init();
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    CHECK(avx2 == (hint[0] != '\0'), "Prescott kernels on a CPU %s AVX2: hint '%s'", avx2 ? "with" : "without", hint);
    if (!avx2) return;
    child_hint(self, hint, again, sizeof again);
    CHECK(again[0] == '\0', "with OPENBLAS_CORETYPE=%s there is no further hint ('%s')", hint, again);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--print-hint") == 0) {
        const char *hint = ddpm_blas_core_hint();
        printf("%s\n", hint ? hint : "");
        return 0;
    }
    check_core_hint(argv[0]);
    check_all_shapes();
    check_beta_zero_ignores_c();
    check_threads();
    check_thread_count_invariance();
    TEST_PASS("test_blas");
}
