/* blas.c: the one seam to BLAS.  Every matrix product in ddpm-lab goes
 * through ddpm_sgemm, which is the only caller of cblas_sgemm; beside it sits
 * the naive reference the tests compare against. */
#include "ddpm/common.h"
#include "ddpm/layers.h"

#include <cblas.h>
#include <stdbool.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/resource.h>

/* What each thread's first product makes OpenBLAS allocate (its
 * BUFFER_SIZE: 128 MiB in Debian's builds, 32 MiB in others), and a margin
 * for what follows. */
static size_t buffers_bytes(int threads) { return ((size_t)threads * 128 + 64) << 20; }

bool ddpm_blas_buffers_fit(int threads)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return true;
    /* an inaccessible mapping costs no memory, only address space: the very
     * thing the limit counts */
    const size_t bytes = buffers_bytes(threads);
    void *probe = mmap(NULL, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (probe == MAP_FAILED) return false;
    munmap(probe, bytes);
    return true;
}

int ddpm_blas_reserve(ddpm_error *err)
{
    struct rlimit rl;
    if (!ddpm_blas_buffers_fit(1) && getrlimit(RLIMIT_AS, &rl) == 0)
        return ddpm_fail(err, "the memory limit (ulimit -v %llu KiB) leaves no room for the %zu MiB the "
                              "matrix library needs; raise it to at least 1 GiB",
                         (unsigned long long)(rl.rlim_cur / 1024), buffers_bytes(1) >> 20);
    float a = 1.0f, b = 1.0f, c = 0.0f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1, 1, 1, 1.0f, &a, 1, &b, 1, 0.0f, &c, 1);
    return DDPM_OK;
}

/* The row strides a row-major op(X) of rows x cols needs as stored:
 * X itself is (rows, cols) untransposed, (cols, rows) transposed. */
static int min_ld(int trans, int rows, int cols)
{
    int width = trans ? rows : cols;
    return width > 1 ? width : 1;
}

static void check_args(int trans_a, int trans_b, int M, int N, int K, int lda, int ldb,
                       int ldc)
{
    DDPM_ASSERT(M >= 0 && N >= 0 && K >= 0);
    DDPM_ASSERT(lda >= min_ld(trans_a, M, K));
    DDPM_ASSERT(ldb >= min_ld(trans_b, K, N));
    DDPM_ASSERT(ldc >= (N > 1 ? N : 1));
}

void ddpm_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha,
                const float *A, int lda, const float *B, int ldb, float beta,
                float *C, int ldc)
{
    check_args(trans_a, trans_b, M, N, K, lda, ldb, ldc);
    if (M == 0 || N == 0) return;
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C,
                ldc);
}

void ddpm_sgemm_reference(int trans_a, int trans_b, int M, int N, int K, float alpha,
                          const float *A, int lda, const float *B, int ldb, float beta,
                          float *C, int ldc)
{
    check_args(trans_a, trans_b, M, N, K, lda, ldb, ldc);
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double sum = 0.0;
            for (int p = 0; p < K; p++) {
                double a = trans_a ? A[(size_t)p * lda + i] : A[(size_t)i * lda + p];
                double b = trans_b ? B[(size_t)j * ldb + p] : B[(size_t)p * ldb + j];
                sum += a * b;
            }
            float *c = &C[(size_t)i * ldc + j];
            /* BLAS semantics: with beta = 0, C is write-only (NaNs there vanish). */
            double old = beta == 0.0f ? 0.0 : (double)beta * *c;
            *c = (float)((double)alpha * sum + old);
        }
    }
}

void ddpm_blas_set_threads(int n)
{
    openblas_set_num_threads(n > 0 ? n : openblas_get_num_procs());
}

int ddpm_blas_get_threads(void)
{
    return openblas_get_num_threads();
}

const char *ddpm_blas_core(void)
{
    const char *core = openblas_get_corename();
    return core ? core : "unknown";
}

const char *ddpm_blas_core_hint(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    /* OpenBLAS 0.3.21's x86-64 kernel sets without AVX2 + FMA */
    static const char *const pre_avx2[] = {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem",
                                           "Sandybridge", "Atom", "Nano", "Opteron", "Opteron_SSE3",
                                           "Barcelona", "Bobcat", "Bulldozer", "Piledriver", "Katmai",
                                           "Coppermine", "Northwood", "Banias", "Athlon"};
    __builtin_cpu_init();
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
    if (!avx2) return NULL;
    const char *core = ddpm_blas_core();
    for (size_t i = 0; i < sizeof pre_avx2 / sizeof pre_avx2[0]; i++)
        if (strcasecmp(core, pre_avx2[i]) == 0) return avx512 ? "SkylakeX" : "Haswell";
#endif
    return NULL;
}
