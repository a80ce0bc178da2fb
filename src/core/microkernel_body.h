/* microkernel_body.h: one instruction-set variant of ddpm_mk_run, included
 * by microkernel.c once per variant with these defined:
 *   MK_SUFFIX   name suffix (generic, avx2, avx512)
 *   MK_VW       floats per vector register
 *   MK_VMAX     vectors per tile row (the tile is MK_VMAX * MK_VW columns)
 *   MK_RMAX1    rows of a tile one vector wide
 *   MK_RMAX2    rows of a tile MK_VMAX vectors wide
 * Row counts are picked so that the R x V accumulators plus V loaded B
 * vectors fill the register file without spilling.
 *
 * A tile keeps R x V vector accumulators in registers for the whole sum over
 * taps and k, then adds bias / the old C once and stores.  Per k it loads V
 * vectors of B and broadcasts R scalars of A: R x V fused multiply-adds for
 * V + R loads, which keeps the FMA units busy from L1/L2. */

#define MK_CAT2(a, b) a##_##b
#define MK_CAT(a, b) MK_CAT2(a, b)
#define MK_NAME(x) MK_CAT(x, MK_SUFFIX)

typedef float MK_NAME(vec) __attribute__((vector_size(MK_VW * sizeof(float)), aligned(4)));
#define VEC MK_NAME(vec)

static inline __attribute__((always_inline)) VEC MK_NAME(load)(const float *p)
{
    VEC v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* One R x (V vectors) tile at rows r0.., columns n0..n0+n_valid. */
static inline __attribute__((always_inline)) void MK_NAME(tile)(const ddpm_mk_args *g, int r0,
                                                                int n0, int n_valid, const int R,
                                                                const int V)
{
    VEC acc[MK_RMAX1][MK_VMAX];
#pragma GCC unroll 32
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int v = 0; v < V; v++) acc[r][v] = (VEC){0};
    const ptrdiff_t a_rs = g->a_rs, a_ks = g->a_ks, b_ks = g->b_ks;
    for (int t = 0; t < g->ntaps; t++) {
        const float *a = g->a + g->a_off[t] + r0 * a_rs;
        const float *b = g->b[t] + n0;
        for (int k = 0; k < g->K; k++) {
            VEC bv[MK_VMAX];
#pragma GCC unroll 4
            for (int v = 0; v < V; v++) bv[v] = MK_NAME(load)(b + v * MK_VW);
#pragma GCC unroll 32
            for (int r = 0; r < R; r++) {
                const float s = a[r * a_rs];
#pragma GCC unroll 4
                for (int v = 0; v < V; v++) acc[r][v] += bv[v] * s;
            }
            a += a_ks;
            b += b_ks;
        }
    }
    if (n_valid == V * MK_VW) {
#pragma GCC unroll 32
        for (int r = 0; r < R; r++) {
            float *c = g->c + (r0 + r) * g->c_rs + n0;
            const float *res = g->res ? g->res + (r0 + r) * g->res_rs + n0 : NULL;
#pragma GCC unroll 4
            for (int v = 0; v < V; v++) {
                VEC x = acc[r][v];
                if (g->bias) x = MK_NAME(load)(g->bias + n0 + v * MK_VW) + x;
                if (g->accumulate) x = MK_NAME(load)(c + v * MK_VW) + x;
                if (res) x = MK_NAME(load)(res + v * MK_VW) + x;
                memcpy(c + v * MK_VW, &x, sizeof x);
            }
        }
    } else { /* a partial last vector: rare (channels not a multiple of the width) */
        float tmp[MK_RMAX1 * MK_VMAX * MK_VW];
#pragma GCC unroll 32
        for (int r = 0; r < R; r++)
#pragma GCC unroll 4
            for (int v = 0; v < V; v++) memcpy(tmp + (r * V + v) * MK_VW, &acc[r][v], sizeof(VEC));
        mk_store_partial(g, tmp, V * MK_VW, r0, R, n0, n_valid);
    }
}

#define MK_CASE(R, V, RMAX)                                                                     \
    case R:                                                                                     \
        if ((R) <= (RMAX)) MK_NAME(tile)(g, r0, n0, n_valid, (R) <= (RMAX) ? (R) : 1, V);       \
        break;
#define MK_CASES(V, RMAX)                                                                       \
    MK_CASE(1, V, RMAX) MK_CASE(2, V, RMAX) MK_CASE(3, V, RMAX) MK_CASE(4, V, RMAX)             \
    MK_CASE(5, V, RMAX) MK_CASE(6, V, RMAX) MK_CASE(7, V, RMAX) MK_CASE(8, V, RMAX)             \
    MK_CASE(9, V, RMAX) MK_CASE(10, V, RMAX) MK_CASE(11, V, RMAX) MK_CASE(12, V, RMAX)          \
    MK_CASE(13, V, RMAX) MK_CASE(14, V, RMAX) MK_CASE(15, V, RMAX) MK_CASE(16, V, RMAX)         \
    MK_CASE(17, V, RMAX) MK_CASE(18, V, RMAX) MK_CASE(19, V, RMAX) MK_CASE(20, V, RMAX)         \
    MK_CASE(21, V, RMAX) MK_CASE(22, V, RMAX) MK_CASE(23, V, RMAX) MK_CASE(24, V, RMAX)         \
    MK_CASE(25, V, RMAX) MK_CASE(26, V, RMAX) MK_CASE(27, V, RMAX) MK_CASE(28, V, RMAX)

static void MK_NAME(run)(const ddpm_mk_args *g)
{
    const int NB = MK_VMAX * MK_VW;
    for (int n0 = 0; n0 < g->N; n0 += NB) {
        const int n_valid = g->N - n0 < NB ? g->N - n0 : NB;
        const int V = (n_valid + MK_VW - 1) / MK_VW;
        const int rmax = V == 1 ? MK_RMAX1 : MK_RMAX2;
        /* split the rows into equal tiles of at most rmax */
        const int tiles = (g->M + rmax - 1) / rmax;
        for (int i = 0, r0 = 0; i < tiles; i++) {
            const int R = g->M / tiles + (i < g->M % tiles);
            if (V == 1) {
                switch (R) { MK_CASES(1, MK_RMAX1) default: DDPM_ASSERT(0); }
            } else {
#if MK_VMAX == 2
                switch (R) { MK_CASES(2, MK_RMAX2) default: DDPM_ASSERT(0); }
#else
#error "MK_VMAX must be 2"
#endif
            }
            r0 += R;
        }
    }
}

#undef MK_CASES
#undef MK_CASE
#undef VEC
#undef MK_NAME
#undef MK_CAT
#undef MK_CAT2
