/* microkernel.h (private to the core): the register-tiled product that
 * every convolution pass runs.
 *
 *   C[r, n] (= or +=) bias[n] + sum_t sum_k A_t[r, k] * B_t[k, n]     r < M, n < N
 * (or C = res + that: a residual added as the tile is stored)
 *     A_t[r, k] = a[a_off[t] + r * a_rs + k * a_ks]     scalars, broadcast
 *     B_t[k, n] = b[t][k * b_ks + n]                    rows, loaded as vectors
 *     C[r, n]   = c[r * c_rs + n]
 *
 * A "tap" t is one shifted view of A with its own block of B: the nine
 * offsets of a 3x3 kernel in a padded channels-last image (forward and input
 * gradient), or the output rows of an image (weight gradient).  Strides are
 * in floats and arbitrary, so A can be read along positions or along
 * channels without copying it.
 *
 * The caller guarantees that every B row is readable up to N rounded up to a
 * multiple of 16 floats (the packers pad weights with zeros); C and bias are
 * touched only within N.  Each C element is summed in one fixed order (taps,
 * then k), whatever M, N or the instruction set, so a result never depends on
 * how work was split.  Nothing is allocated.
 */
#ifndef DDPM_MICROKERNEL_H
#define DDPM_MICROKERNEL_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ddpm_mk_args {
    float *c;                /* C[r * c_rs + n] */
    ptrdiff_t c_rs;
    int M, N;
    const float *a;          /* A_t[r, k] = a[a_off[t] + r * a_rs + k * a_ks] */
    ptrdiff_t a_rs, a_ks;
    const ptrdiff_t *a_off;  /* (ntaps) */
    const float *const *b;   /* (ntaps): B_t[k, n] = b[t][k * b_ks + n] */
    ptrdiff_t b_ks;
    int ntaps, K;
    const float *bias;       /* (N) or NULL */
    bool accumulate;         /* C += result, instead of C = result */
    const float *res;        /* or C = res + result, res[r * res_rs + n]; NULL without */
    ptrdiff_t res_rs;
} ddpm_mk_args;

/* Runs the product with the widest instruction set this CPU has. */
void ddpm_mk_run(const ddpm_mk_args *args);
/* The same product in plain loops with double accumulation: the oracle. */
void ddpm_mk_run_reference(const ddpm_mk_args *args);

/* Instruction-set variants, for tests and the benchmark. */
typedef enum { DDPM_MK_GENERIC = 0, DDPM_MK_AVX2 = 1, DDPM_MK_AVX512 = 2 } ddpm_mk_isa;
/* Selects a variant; returns false (and changes nothing) if this CPU lacks it. */
bool ddpm_mk_select(ddpm_mk_isa isa);
ddpm_mk_isa ddpm_mk_selected(void);
const char *ddpm_mk_isa_name(ddpm_mk_isa isa);

#endif
