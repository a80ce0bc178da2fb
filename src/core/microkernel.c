/* microkernel.c: ddpm_mk_run compiled three times (AVX-512, AVX2 + FMA, and
 * portable vectors for any CPU) from microkernel_body.h; the variant is
 * chosen once at run time from what the CPU supports, so the default build
 * runs on every x86-64 and still uses AVX-512 where it exists.  Beside it,
 * the plain-loop reference the tests compare every variant against. */
#include "microkernel.h"

#include <stdatomic.h>
#include <string.h>

#include "ddpm/common.h"

/* The epilogue of a tile whose last vector is partial: tmp holds the R rows
 * of sums, `width` floats apart; only n_valid columns are written. */
static void mk_store_partial(const ddpm_mk_args *g, const float *tmp, int width, int r0, int R,
                             int n0, int n_valid)
{
    for (int r = 0; r < R; r++) {
        float *c = g->c + (r0 + r) * g->c_rs + n0;
        for (int n = 0; n < n_valid; n++) {
            float x = tmp[r * width + n];
            if (g->bias) x = g->bias[n0 + n] + x;
            if (g->accumulate) x = c[n] + x;
            if (g->res) x = g->res[(r0 + r) * g->res_rs + n0 + n] + x;
            c[n] = x;
        }
    }
}

/* ---- portable: 4-wide vectors (SSE2 on x86-64, NEON elsewhere) ----------- */
#define MK_SUFFIX generic
#define MK_VW 4
#define MK_VMAX 2
#define MK_RMAX1 8
#define MK_RMAX2 5
#include "microkernel_body.h"
#undef MK_SUFFIX
#undef MK_VW
#undef MK_VMAX
#undef MK_RMAX1
#undef MK_RMAX2

#if defined(__x86_64__) && defined(__GNUC__)
#define DDPM_MK_X86 1

/* Everything between BEGIN and END is compiled for the given target. */
#if defined(__clang__)
#define MK_TARGET_BEGIN(t) _Pragma(t)
#define MK_TARGET_END _Pragma("clang attribute pop")
#define MK_AVX2 "clang attribute push (__attribute__((target(\"avx2,fma\"))), apply_to = function)"
#define MK_AVX512 "clang attribute push (__attribute__((target(\"avx512f,avx2,fma\"))), apply_to = function)"
#else
#define MK_TARGET_BEGIN(t) _Pragma("GCC push_options") _Pragma(t)
#define MK_TARGET_END _Pragma("GCC pop_options")
#define MK_AVX2 "GCC target(\"avx2,fma\")"
#define MK_AVX512 "GCC target(\"avx512f,avx2,fma\")"
#endif

/* ---- AVX2 + FMA: 16 ymm registers, 12 accumulators ------------------------ */
MK_TARGET_BEGIN(MK_AVX2)
#define MK_SUFFIX avx2
#define MK_VW 8
#define MK_VMAX 2
#define MK_RMAX1 12
#define MK_RMAX2 6
#include "microkernel_body.h"
#undef MK_SUFFIX
#undef MK_VW
#undef MK_VMAX
#undef MK_RMAX1
#undef MK_RMAX2
MK_TARGET_END

/* ---- AVX-512: 32 zmm registers, up to 28 accumulators --------------------- */
MK_TARGET_BEGIN(MK_AVX512)
#define MK_SUFFIX avx512
#define MK_VW 16
#define MK_VMAX 2
#define MK_RMAX1 28
#define MK_RMAX2 14
#include "microkernel_body.h"
#undef MK_SUFFIX
#undef MK_VW
#undef MK_VMAX
#undef MK_RMAX1
#undef MK_RMAX2
MK_TARGET_END
#endif

typedef void (*mk_fn)(const ddpm_mk_args *);

static bool isa_supported(ddpm_mk_isa isa)
{
    switch (isa) {
    case DDPM_MK_GENERIC: return true;
#ifdef DDPM_MK_X86
    case DDPM_MK_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case DDPM_MK_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
               __builtin_cpu_supports("fma");
#endif
    default: return false;
    }
}

static mk_fn isa_fn(ddpm_mk_isa isa)
{
    switch (isa) {
#ifdef DDPM_MK_X86
    case DDPM_MK_AVX2: return run_avx2;
    case DDPM_MK_AVX512: return run_avx512;
#endif
    default: return run_generic;
    }
}

/* -1 until the first call picks the widest supported variant. */
static atomic_int g_isa = -1;

static ddpm_mk_isa current_isa(void)
{
    int isa = atomic_load_explicit(&g_isa, memory_order_relaxed);
    if (isa < 0) {
        isa = isa_supported(DDPM_MK_AVX512) ? DDPM_MK_AVX512
              : isa_supported(DDPM_MK_AVX2) ? DDPM_MK_AVX2
                                            : DDPM_MK_GENERIC;
        atomic_store_explicit(&g_isa, isa, memory_order_relaxed);
    }
    return (ddpm_mk_isa)isa;
}

bool ddpm_mk_select(ddpm_mk_isa isa)
{
    if (!isa_supported(isa)) return false;
    atomic_store_explicit(&g_isa, (int)isa, memory_order_relaxed);
    return true;
}

ddpm_mk_isa ddpm_mk_selected(void) { return current_isa(); }

const char *ddpm_mk_isa_name(ddpm_mk_isa isa)
{
    switch (isa) {
    case DDPM_MK_AVX2: return "avx2";
    case DDPM_MK_AVX512: return "avx512";
    default: return "generic";
    }
}

static void check_args(const ddpm_mk_args *g)
{
    DDPM_ASSERT(g && g->c && g->a && g->a_off && g->b);
    DDPM_ASSERT(g->M >= 0 && g->N >= 0 && g->K >= 0 && g->ntaps >= 0);
    DDPM_ASSERT(!(g->accumulate && g->res));
}

void ddpm_mk_run(const ddpm_mk_args *g)
{
    check_args(g);
    if (g->M == 0 || g->N == 0) return;
    isa_fn(current_isa())(g);
}

void ddpm_mk_run_reference(const ddpm_mk_args *g)
{
    check_args(g);
    for (int r = 0; r < g->M; r++)
        for (int n = 0; n < g->N; n++) {
            double sum = 0.0;
            for (int t = 0; t < g->ntaps; t++)
                for (int k = 0; k < g->K; k++)
                    sum += (double)g->a[g->a_off[t] + r * g->a_rs + k * g->a_ks] *
                           g->b[t][k * g->b_ks + n];
            if (g->bias) sum += g->bias[n];
            if (g->res) sum += g->res[r * g->res_rs + n];
            float *c = &g->c[r * g->c_rs + n];
            *c = g->accumulate ? (float)((double)*c + sum) : (float)sum;
        }
}
