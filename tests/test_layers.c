/* test_layers.c: every layer kernel against an independent oracle.
 *   - conv2d (channels last, on the register-tiled kernel) against the
 *     direct seven-loop reference and a direct backward, over every
 *     kernel/stride/pad combination, awkward sizes and the UNet's shapes, on
 *     every instruction set the CPU has; bit-identical alone or in a batch;
 *   - forward values of the other layers against naive loops in double;
 *   - every backward against central finite differences of a random
 *     projection L = sum_i w_i out_i evaluated in double, for every input and
 *     every parameter;
 *   - every backward accumulates: two calls give twice one call;
 *   - the timestep embedding against libm, dropout's statistics and seeding.
 * A failure prints the first mismatch (the worst element for gradients). */
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "ddpm/layers.h"
#include "ddpm/rng.h"
#include "conv2d_winograd.h"
#include "microkernel.h"
#include "simd.h"

/* ---- helpers ---------------------------------------------------------------- */

static ddpm_rng rng; /* one stream for all random test data, seeded in main */

static float *alloc_floats(size_t n)
{
    float *p = malloc(sizeof(float) * (n ? n : 1));
    CHECK(p, "out of memory (%zu floats)", n);
    return p;
}

static float *random_floats(size_t n, float scale)
{
    float *p = alloc_floats(n);
    ddpm_rng_normal_fill(&rng, p, n);
    for (size_t i = 0; i < n; i++) p[i] *= scale;
    return p;
}

static float *zero_floats(size_t n)
{
    float *p = alloc_floats(n);
    memset(p, 0, sizeof(float) * n);
    return p;
}

static void fill_nan(float *p, size_t n)
{
    for (size_t i = 0; i < n; i++) p[i] = NAN;
}

/* sum_i w_i out_i in double: the scalar whose gradient backward computes
 * when it is given dout = w. */
static double project(const float *out, const float *w, size_t n)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += (double)w[i] * out[i];
    return sum;
}

/* max |got - want| <= tol * max(max |want|, floor): one scale for the whole
 * tensor, so near-zero elements do not need a relative match of their own. */
static void check_tensor(const char *what, const float *got, const double *want, size_t n,
                         double tol, double floor)
{
    double scale = floor, worst = 0.0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(want[i]));
    for (size_t i = 0; i < n; i++) {
        double diff = fabs((double)got[i] - want[i]);
        if (!(diff <= worst)) { /* also catches NaN */
            worst = diff;
            at = i;
        }
    }
    CHECK(worst <= tol * scale, "%s: element %zu is %.9g, want %.9g (max error %.3g, scale %.3g)",
          what, at, got[at], want[at], worst, scale);
}

/* Back to the instruction set the library would pick by itself. */
static void select_best_isa(void)
{
    if (!ddpm_mk_select(DDPM_MK_AVX512) && !ddpm_mk_select(DDPM_MK_AVX2)) ddpm_mk_select(DDPM_MK_GENERIC);
}

/* ---- gradient checking ------------------------------------------------------- */

/* A layer under test: loss() runs forward on the current inputs and returns
 * L = sum w_i out_i; backward() runs forward (for the saved statistics) and
 * then backward with dout = w, accumulating into the gradient buffers. */
typedef struct {
    const char *name;
    double (*loss)(void *ctx);
    void (*backward)(void *ctx);
    void *ctx;
} layer_case;

/* One input or parameter and the buffer backward accumulates its gradient in. */
typedef struct {
    const char *name;
    float *x;
    float *grad;
    size_t n;
} grad_slot;

static double worst_grad_err = 0.0; /* the largest relative error seen, for the log */

/* Zeroes the gradients, runs backward twice and checks that the second call
 * doubled the first (backward accumulates), then leaves one call's worth in
 * the buffers for the finite-difference comparison. */
static void backward_twice(const layer_case *lc, grad_slot *slots, int nslots)
{
    for (int s = 0; s < nslots; s++) memset(slots[s].grad, 0, sizeof(float) * slots[s].n);
    lc->backward(lc->ctx);
    float **first = malloc(sizeof(float *) * (size_t)nslots);
    for (int s = 0; s < nslots; s++) {
        first[s] = alloc_floats(slots[s].n);
        memcpy(first[s], slots[s].grad, sizeof(float) * slots[s].n);
        for (size_t i = 0; i < slots[s].n; i++)
            CHECK(isfinite(first[s][i]), "%s: d%s[%zu] is %g after one backward call", lc->name,
                  slots[s].name, i, first[s][i]);
    }
    lc->backward(lc->ctx);
    for (int s = 0; s < nslots; s++) {
        double scale = 1e-30;
        for (size_t i = 0; i < slots[s].n; i++) scale = fmax(scale, fabs(first[s][i]));
        for (size_t i = 0; i < slots[s].n; i++) {
            /* 2x up to one rounding: BLAS may fuse alpha * acc + C */
            double twice = 2.0 * first[s][i];
            CHECK(fabs(slots[s].grad[i] - twice) <= 1e-6 * scale,
                  "%s: d%s[%zu] is %.9g after two backward calls, want 2 x %.9g: backward "
                  "must accumulate",
                  lc->name, slots[s].name, i, slots[s].grad[i], first[s][i]);
        }
        memcpy(slots[s].grad, first[s], sizeof(float) * slots[s].n);
        free(first[s]);
    }
    free(first);
}

/* Central differences of L with respect to every element of every slot,
 * divided by the step actually taken in float, against the analytic gradient. */
static void check_gradients(const layer_case *lc, grad_slot *slots, int nslots, float h,
                            double tol)
{
    backward_twice(lc, slots, nslots);
    for (int s = 0; s < nslots; s++) {
        grad_slot *g = &slots[s];
        double *numeric = malloc(sizeof(double) * g->n);
        for (size_t i = 0; i < g->n; i++) {
            const float x0 = g->x[i];
            g->x[i] = x0 + h;
            const double x_plus = g->x[i], l_plus = lc->loss(lc->ctx);
            g->x[i] = x0 - h;
            const double x_minus = g->x[i], l_minus = lc->loss(lc->ctx);
            g->x[i] = x0;
            numeric[i] = (l_plus - l_minus) / (x_plus - x_minus);
        }
        double scale = 1e-12, worst = 0.0;
        size_t at = 0;
        for (size_t i = 0; i < g->n; i++) scale = fmax(scale, fmax(fabs(numeric[i]), fabs(g->grad[i])));
        for (size_t i = 0; i < g->n; i++) {
            double diff = fabs(g->grad[i] - numeric[i]);
            if (!(diff <= worst)) {
                worst = diff;
                at = i;
            }
        }
        const double rel = worst / scale;
        worst_grad_err = fmax(worst_grad_err, rel);
        CHECK(rel <= tol,
              "%s: d%s relative error %.3g > %.3g; worst element %zu of %zu: analytic %.9g, "
              "numeric %.9g (gradient scale %.3g)",
              lc->name, g->name, rel, tol, at, g->n, g->grad[at], numeric[at], scale);
        free(numeric);
    }
}

/* The default step and tolerance: h = 1e-2 keeps float rounding of L below
 * 1e-5 of the gradient, and the O(h^2) truncation error of the smooth layers
 * is ~1e-5 too, so 1e-3 leaves a wide margin while any wrong term fails. */
#define FD_STEP 1e-2f
#define FD_TOL 1e-3

/* ---- conv2d ------------------------------------------------------------------- */

typedef struct {
    ddpm_conv2d_dims d;
    float *inp, *weight, *bias, *out, *scratch, *w, *wf, *wb, *dwf;
    float *dinp, *dweight, *dbias;
    size_t n_out, n_scratch, n_wf, n_dwf;
} conv_ctx;

static void conv_forward(conv_ctx *c)
{
    ddpm_conv2d_pack_wf(c->wf, c->weight, &c->d);
    ddpm_conv2d_forward(c->out, c->scratch, c->inp, c->wf, c->bias, &c->d);
}

static double conv_loss(void *p)
{
    conv_ctx *c = p;
    conv_forward(c);
    return project(c->out, c->w, c->n_out);
}

/* Backward through the packed-gradient API: dwf starts at zero for each
 * call and is unpacked into dweight, which therefore accumulates. */
static void conv_backward(void *p)
{
    conv_ctx *c = p;
    conv_forward(c);
    /* backward must not rely on what forward left in scratch: the UNet shares
     * one scratch buffer between all layers */
    fill_nan(c->scratch, c->n_scratch);
    ddpm_conv2d_pack_wb(c->wb, c->weight, &c->d);
    memset(c->dwf, 0, sizeof(float) * c->n_dwf);
    ddpm_conv2d_backward(c->dinp, c->dwf, c->dbias, c->scratch, c->w, c->inp, c->wb, &c->d);
    ddpm_conv2d_unpack_grad(c->dweight, c->dwf, &c->d);
}

static bool conv_dims_valid(const ddpm_conv2d_dims *d)
{
    return d->H + 2 * d->pad >= d->kernel && d->W + 2 * d->pad >= d->kernel;
}

static void conv_ctx_init(conv_ctx *c, ddpm_conv2d_dims d, bool with_bias)
{
    memset(c, 0, sizeof *c);
    c->d = d;
    const size_t n_in = (size_t)d.B * d.C_in * d.H * d.W;
    const size_t n_w = (size_t)d.C_out * d.C_in * d.kernel * d.kernel;
    c->n_out = (size_t)d.B * d.C_out * ddpm_conv2d_out_h(&d) * ddpm_conv2d_out_w(&d);
    c->n_scratch = ddpm_conv2d_scratch_floats(&d);
    c->n_wf = ddpm_conv2d_wf_floats(&d);
    c->n_dwf = ddpm_conv2d_dwf_floats(&d);
    c->inp = random_floats(n_in, 1.0f);
    c->weight = random_floats(n_w, 0.5f);
    const size_t n_bias = (size_t)d.C_out * (d.bias_stride ? (size_t)d.B : 1);
    c->bias = with_bias ? random_floats(n_bias, 1.0f) : NULL;
    c->out = alloc_floats(c->n_out);
    c->scratch = alloc_floats(c->n_scratch);
    c->w = random_floats(c->n_out, 1.0f);
    c->wf = alloc_floats(c->n_wf);
    c->wb = alloc_floats(ddpm_conv2d_wb_floats(&d));
    c->dwf = zero_floats(c->n_dwf);
    c->dinp = zero_floats(n_in);
    c->dweight = zero_floats(n_w);
    c->dbias = zero_floats(n_bias);
}

static void conv_ctx_free(conv_ctx *c)
{
    free(c->inp), free(c->weight), free(c->bias), free(c->out), free(c->scratch), free(c->w);
    free(c->wf), free(c->wb), free(c->dwf), free(c->dinp), free(c->dweight), free(c->dbias);
}

static const char *const wino_mode_name[5] = {"auto", "direct", "F(2,3)", "?", "F(4,3)"};
static int wino_mode = 0; /* what ddpm_wino_force was last given */

static void force_winograd(int mode)
{
    wino_mode = mode;
    ddpm_wino_force(mode);
}

static void describe_conv(char *buf, size_t cap, const ddpm_conv2d_dims *d, bool bias)
{
    snprintf(buf, cap, "conv2d [%s, %s] B=%d C_in=%d C_out=%d %dx%d k=%d s=%d p=%d%s",
             ddpm_mk_isa_name(ddpm_mk_selected()), wino_mode_name[wino_mode], d->B, d->C_in,
             d->C_out, d->H, d->W, d->kernel, d->stride, d->pad,
             !bias ? "" : d->bias_stride ? " +bias per image" : " +bias");
}

/* The input, weight and bias gradients by the definition, in double:
 * every output pixel's gradient flows back to the taps that made it. */
static void conv_backward_reference(double *dinp, double *dweight, double *dbias,
                                    const float *dout, const float *inp, const float *weight,
                                    const ddpm_conv2d_dims *d)
{
    const int k = d->kernel, Ho = ddpm_conv2d_out_h(d), Wo = ddpm_conv2d_out_w(d);
    for (int b = 0; b < d->B; b++)
        for (int oh = 0; oh < Ho; oh++)
            for (int ow = 0; ow < Wo; ow++)
                for (int o = 0; o < d->C_out; o++) {
                    const double g = dout[(((size_t)b * Ho + oh) * Wo + ow) * d->C_out + o];
                    dbias[(size_t)b * d->bias_stride + o] += g;
                    for (int c = 0; c < d->C_in; c++)
                        for (int kh = 0; kh < k; kh++)
                            for (int kw = 0; kw < k; kw++) {
                                const int ih = oh * d->stride - d->pad + kh;
                                const int iw = ow * d->stride - d->pad + kw;
                                if (ih < 0 || ih >= d->H || iw < 0 || iw >= d->W) continue;
                                const size_t wi = ((size_t)(o * d->C_in + c) * k + kh) * k + kw;
                                const size_t xi = (((size_t)b * d->H + ih) * d->W + iw) * d->C_in + c;
                                dweight[wi] += g * inp[xi];
                                dinp[xi] += g * weight[wi];
                            }
                }
}

/* Relative tolerance of a pass: F(4,3)'s transforms (coefficients up to 8)
 * round to about 1e-5 of the output's scale, which on 96 summed channels
 * without FMA reaches 1.1e-5; direct and F(2,3) stay within 1e-6. */
static double conv_tol(int wino_tile) { return wino_tile == 4 ? 4e-5 : 1e-5; }

/* Forward against the seven-loop reference, and backward against the
 * definition, for one shape on the selected instruction set.  Scratch
 * starts as NaN so that anything the kernels forget to write shows up. */
static void check_conv_against_reference(ddpm_conv2d_dims d, bool with_bias)
{
    conv_ctx c;
    conv_ctx_init(&c, d, with_bias);
    char what[160];
    describe_conv(what, sizeof what, &d, with_bias);
    fill_nan(c.scratch, c.n_scratch);
    conv_forward(&c);
    float *ref = alloc_floats(c.n_out);
    ddpm_conv2d_forward_reference(ref, c.inp, c.weight, c.bias, &d);
    double *want = malloc(sizeof(double) * c.n_out);
    for (size_t i = 0; i < c.n_out; i++) want[i] = ref[i];
    check_tensor(what, c.out, want, c.n_out, conv_tol(ddpm_wino_tile_forward(&d)), 1.0);
    /* computed in 2 or 3 parts (as threads split one image): the same bits,
     * and every element written */
    float *by_parts = alloc_floats(c.n_out);
    for (int parts = 2; parts <= 3; parts++) {
        fill_nan(by_parts, c.n_out);
        for (int k = parts - 1; k >= 0; k--)
            ddpm_conv2d_forward_part(by_parts, c.scratch, c.inp, c.wf, c.bias, NULL, &d, k, parts);
        CHECK(memcmp(by_parts, c.out, sizeof(float) * c.n_out) == 0, "%s: the output in %d parts differs",
              what, parts);
    }
    /* with a residual: res + the output, bit for bit, in parts too */
    float *res = random_floats(c.n_out, 1.0f), *with_res = alloc_floats(c.n_out);
    for (int parts = 1; parts <= 2; parts++) {
        fill_nan(with_res, c.n_out);
        for (int k = 0; k < parts; k++)
            ddpm_conv2d_forward_part(with_res, c.scratch, c.inp, c.wf, c.bias, res, &d, k, parts);
        size_t bad = 0;
        for (size_t i = 0; i < c.n_out; i++) bad += with_res[i] != res[i] + c.out[i];
        CHECK(bad == 0, "%s: %zu outputs with a residual are not res + out (%d parts)", what, bad, parts);
    }
    /* into a wider tensor (out_stride): the same bits in its first C_out
     * channels, the others untouched */
    if (d.C_out > 1 || !(d.kernel == 3 && d.stride == 1 && d.pad == 1)) {
        const int extra = 5, os = d.C_out + extra;
        const size_t pixels = c.n_out / (size_t)d.C_out;
        float *wide = alloc_floats(pixels * (size_t)os);
        for (size_t i = 0; i < pixels * (size_t)os; i++) wide[i] = -7.0f;
        ddpm_conv2d_dims dw = d;
        dw.out_stride = os;
        ddpm_conv2d_forward_part(wide, c.scratch, c.inp, c.wf, c.bias, res, &dw, 0, 1);
        size_t bad = 0;
        for (size_t p = 0; p < pixels; p++)
            for (int o = 0; o < os; o++) {
                const float got = wide[p * (size_t)os + (size_t)o];
                bad += o < d.C_out ? got != with_res[p * (size_t)d.C_out + (size_t)o] : got != -7.0f;
            }
        CHECK(bad == 0, "%s: %zu outputs differ when written with a pixel stride of %d", what, bad, os);
        free(wide);
    }
    free(by_parts), free(res), free(with_res);

    const size_t n_in = (size_t)d.B * d.H * d.W * d.C_in, n_w = (size_t)d.C_out * d.C_in * d.kernel * d.kernel;
    double *want_dinp = calloc(n_in, sizeof(double)), *want_dw = calloc(n_w, sizeof(double));
    const size_t n_bias = (size_t)d.C_out * (d.bias_stride ? (size_t)d.B : 1);
    double *want_db = calloc(n_bias, sizeof(double));
    conv_backward_reference(want_dinp, want_dw, want_db, c.w, c.inp, c.weight, &d);
    conv_backward(&c);
    char buf[200];
    snprintf(buf, sizeof buf, "%s: dinp", what);
    check_tensor(buf, c.dinp, want_dinp, n_in, conv_tol(ddpm_wino_tile_dinp(&d)), 1.0);
    snprintf(buf, sizeof buf, "%s: dweight", what);
    check_tensor(buf, c.dweight, want_dw, n_w, conv_tol(ddpm_wino_tile_dweight(&d)), 1.0);
    snprintf(buf, sizeof buf, "%s: dbias", what);
    check_tensor(buf, c.dbias, want_db, n_bias, 1e-5, 1.0);
    free(ref), free(want), free(want_dinp), free(want_dw), free(want_db);
    conv_ctx_free(&c);
}

static const int conv_sizes[][2] = {{28, 28}, {14, 14}, {7, 7}, {5, 5}, {9, 6}, {6, 11}, {2, 3}, {1, 1}};
#define N_CONV_SIZES (int)(sizeof conv_sizes / sizeof conv_sizes[0])

/* Every kernel / stride / pad combination on awkward sizes and channel
 * counts (not multiples of the vector width), then every shape the UNet
 * presets run, on every instruction set this CPU has, with the automatic
 * choice of algorithm and with direct and Winograd forced everywhere. */
static void check_conv_reference(void)
{
    int cases = 0;
    for (int isa = DDPM_MK_GENERIC; isa <= DDPM_MK_AVX512; isa++)
    for (int mode = 0; mode <= 4; mode++) {
        if (mode == 3 || !ddpm_mk_select((ddpm_mk_isa)isa)) continue;
        force_winograd(mode);
        for (int k = 1; k <= 3; k += 2)
            for (int s = 1; s <= 2; s++)
                for (int p = 0; p <= 1; p++)
                    for (int sz = 0; sz < N_CONV_SIZES; sz++)
                        for (int B = 1; B <= 3; B += 2) {
                            ddpm_conv2d_dims d = {.B = B, .H = conv_sizes[sz][0], .W = conv_sizes[sz][1],
                                                  .C_in = 3, .C_out = 5, .kernel = k, .stride = s, .pad = p};
                            if (!conv_dims_valid(&d)) continue;
                            check_conv_against_reference(d, (sz + B) % 2 == 0);
                            cases++;
                        }
        /* the UNet's shapes: 28/14/7, channel counts of the presets, the
         * strided downsamples, the 1x1 skips and attention projections, and
         * widths that leave a partial vector (C_out 48, 40, 1); the 3x3
         * stride-1 ones with 8+ channels run as Winograd */
        const int unet[][6] = {
            /* H, C_in, C_out, k, s, B */
            {28, 1, 16, 3, 1, 2},  {28, 16, 16, 3, 1, 1},  {28, 32, 32, 3, 1, 2},
            {28, 96, 32, 3, 1, 1}, {28, 32, 32, 3, 2, 2},  {14, 32, 64, 3, 1, 1},
            {14, 64, 64, 3, 2, 2}, {14, 128, 64, 3, 1, 1}, {7, 64, 64, 3, 1, 3},
            {7, 128, 64, 1, 1, 2}, {7, 64, 192, 1, 1, 2},  {14, 96, 64, 1, 1, 1},
            {28, 32, 1, 3, 1, 2},  {14, 40, 48, 3, 1, 1},  {7, 24, 40, 3, 2, 2},
            /* one output channel, window rows of 16 + 8, 16 + 2 and 8 + 1 floats */
            {28, 24, 1, 3, 1, 3},  {7, 6, 1, 3, 1, 1},     {5, 3, 1, 3, 1, 2},
            /* Winograd on odd sizes, partial tiles and narrow channel counts */
            {5, 8, 8, 3, 1, 2},    {1, 8, 9, 3, 1, 1},     {3, 12, 20, 3, 1, 3},
            {9, 17, 8, 3, 1, 1},   {2, 8, 33, 3, 1, 2},
            /* small's 24-channel convs: transforms of 16 + 8 lanes */
            {28, 24, 24, 3, 1, 2}, {28, 72, 24, 3, 1, 1},
        };
        /* and a non-square image through both paths */
        ddpm_conv2d_dims rect = {.B = 2, .H = 9, .W = 6, .C_in = 16, .C_out = 16, .kernel = 3, .stride = 1, .pad = 1};
        check_conv_against_reference(rect, true);
        rect.H = 6, rect.W = 11, rect.C_in = 3;
        check_conv_against_reference(rect, false);
        cases += 2;
        for (size_t i = 0; i < sizeof unet / sizeof unet[0]; i++) {
            ddpm_conv2d_dims d = {.B = unet[i][5], .H = unet[i][0], .W = unet[i][0], .C_in = unet[i][1],
                                  .C_out = unet[i][2], .kernel = unet[i][3], .stride = unet[i][4],
                                  .pad = unet[i][3] / 2};
            check_conv_against_reference(d, i % 2 == 0);
            /* and with a bias per image (a ResBlock's conv1 with its time embedding) */
            if (i % 3 == 0 && d.B > 1) {
                d.bias_stride = d.C_out;
                check_conv_against_reference(d, true);
                cases++;
            }
            cases++;
        }
    }
    force_winograd(0);
    select_best_isa();
    printf("conv2d: %d shapes match the direct references (forward, dinp, dweight, dbias)\n", cases);
}

/* An image's output does not depend on the batch it is in, bit for bit, on
 * every instruction set; and the instruction sets agree with each other. */
static void check_conv_batch_independence(void)
{
    ddpm_conv2d_dims d = {.B = 3, .H = 14, .W = 14, .C_in = 32, .C_out = 48, .kernel = 3, .stride = 1, .pad = 1};
    conv_ctx c;
    conv_ctx_init(&c, d, true);
    const size_t per_out = c.n_out / 3, per_in = (size_t)d.H * d.W * d.C_in;
    float *alone = alloc_floats(per_out);
    for (int isa = DDPM_MK_GENERIC; isa <= DDPM_MK_AVX512; isa++) {
        if (!ddpm_mk_select((ddpm_mk_isa)isa)) continue;
        conv_forward(&c);
        ddpm_conv2d_dims one = d;
        one.B = 1;
        for (int b = 0; b < 3; b++) {
            ddpm_conv2d_forward(alone, c.scratch, c.inp + b * per_in, c.wf, c.bias, &one);
            CHECK(memcmp(alone, c.out + b * per_out, sizeof(float) * per_out) == 0,
                  "conv2d [%s]: image %d alone differs from the batch", ddpm_mk_isa_name((ddpm_mk_isa)isa), b);
        }
    }
    select_best_isa();
    free(alone);
    conv_ctx_free(&c);
}

/* The shape of every output pixel: one output of a single-channel 3x3 conv
 * with all-ones weights counts the in-image taps (9 inside, 4 in a corner). */
static void check_conv_padding_counts(void)
{
    ddpm_conv2d_dims d = {.B = 1, .H = 4, .W = 5, .C_in = 1, .C_out = 1,
                          .kernel = 3, .stride = 1, .pad = 1};
    float inp[20], weight[9], out[20];
    float *scratch = alloc_floats(ddpm_conv2d_scratch_floats(&d));
    float *wf = alloc_floats(ddpm_conv2d_wf_floats(&d));
    for (int i = 0; i < 20; i++) inp[i] = 1.0f;
    for (int i = 0; i < 9; i++) weight[i] = 1.0f;
    ddpm_conv2d_pack_wf(wf, weight, &d);
    ddpm_conv2d_forward(out, scratch, inp, wf, NULL, &d);
    for (int h = 0; h < 4; h++)
        for (int w = 0; w < 5; w++) {
            int rows = 3 - (h == 0) - (h == 3), cols = 3 - (w == 0) - (w == 4);
            CHECK(out[h * 5 + w] == (float)(rows * cols), "padding count at (%d,%d) is %g, want %d",
                  h, w, out[h * 5 + w], rows * cols);
        }
    free(scratch), free(wf);
}

static void check_conv_backward(void)
{
    const int sizes[][2] = {{7, 6}, {8, 9}, {5, 5}, {1, 1}, {2, 3}};
    const int n_sizes = (int)(sizeof sizes / sizeof sizes[0]);
    int cases = 0;
    for (int k = 1; k <= 3; k += 2)
        for (int s = 1; s <= 2; s++)
            for (int p = 0; p <= 1; p++)
                for (int sz = 0; sz < n_sizes; sz++)
                    for (int mode = 0; mode <= 4; mode++) {
                        /* the Winograd tiles (forced: so few channels would
                         * run directly) where they apply */
                        const bool wino = k == 3 && s == 1 && p == 1;
                        if (mode == 1 || mode == 3 || (mode != 0 && !wino)) continue;
                        force_winograd(mode);
                        ddpm_conv2d_dims d = {.B = 2, .H = sizes[sz][0], .W = sizes[sz][1], .C_in = 3,
                                              .C_out = 4, .kernel = k, .stride = s, .pad = p};
                        if (!conv_dims_valid(&d)) continue;
                        conv_ctx c;
                        conv_ctx_init(&c, d, true);
                        char name[160];
                        describe_conv(name, sizeof name, &d, true);
                        layer_case lc = {name, conv_loss, conv_backward, &c};
                        const size_t n_w = (size_t)d.C_out * d.C_in * k * k;
                        grad_slot slots[] = {{"inp", c.inp, c.dinp, (size_t)d.B * d.C_in * d.H * d.W},
                                             {"weight", c.weight, c.dweight, n_w},
                                             {"bias", c.bias, c.dbias, (size_t)d.C_out}};
                        check_gradients(&lc, slots, 3, FD_STEP, FD_TOL);

                        /* NULL dinp and dbias: dweight must be the same as
                         * before; and dwf accumulates over calls (two calls,
                         * one unpack, against twice one call) */
                        float *dweight_all = alloc_floats(n_w);
                        memcpy(dweight_all, c.dweight, sizeof(float) * n_w);
                        memset(c.dweight, 0, sizeof(float) * n_w);
                        memset(c.dwf, 0, sizeof(float) * c.n_dwf);
                        ddpm_conv2d_backward(NULL, c.dwf, NULL, c.scratch, c.w, c.inp, NULL, &d);
                        ddpm_conv2d_unpack_grad(c.dweight, c.dwf, &d);
                        for (size_t i = 0; i < n_w; i++)
                            CHECK(c.dweight[i] == dweight_all[i], "%s: dweight[%zu] changes when dinp "
                                  "and dbias are NULL (%g vs %g)", name, i, c.dweight[i], dweight_all[i]);
                        memset(c.dweight, 0, sizeof(float) * n_w);
                        ddpm_conv2d_backward(NULL, c.dwf, NULL, c.scratch, c.w, c.inp, NULL, &d);
                        ddpm_conv2d_unpack_grad(c.dweight, c.dwf, &d);
                        double *twice = malloc(sizeof(double) * n_w);
                        for (size_t i = 0; i < n_w; i++) twice[i] = 2.0 * dweight_all[i];
                        char what[200];
                        snprintf(what, sizeof what, "%s: dwf accumulated over two calls", name);
                        check_tensor(what, c.dweight, twice, n_w, 1e-5, 1.0);
                        free(twice);
                        free(dweight_all);
                        conv_ctx_free(&c);
                        cases++;
                    }
    force_winograd(0);
    printf("conv2d backward: %d shapes match finite differences\n", cases);
}

/* ---- linear ------------------------------------------------------------------- */

typedef struct {
    int B, IC, OC;
    float *inp, *weight, *bias, *out, *w, *dinp, *dweight, *dbias;
} linear_ctx;

static double linear_loss(void *p)
{
    linear_ctx *c = p;
    ddpm_linear_forward(c->out, c->inp, c->weight, c->bias, c->B, c->IC, c->OC);
    return project(c->out, c->w, (size_t)c->B * c->OC);
}

static void linear_backward(void *p)
{
    linear_ctx *c = p;
    ddpm_linear_backward(c->dinp, c->dweight, c->dbias, c->w, c->inp, c->weight, c->B, c->IC, c->OC);
}

/* The packed form: the definition plus a residual, and every row on its own
 * (a row alone gives the bits it gives in the batch). */
static void check_linear_packed(int B, int IC, int OC)
{
    const size_t n_out = (size_t)B * OC;
    float *inp = random_floats((size_t)B * IC, 1.0f), *weight = random_floats((size_t)OC * IC, 0.5f);
    float *bias = random_floats((size_t)OC, 1.0f), *res = random_floats(n_out, 1.0f);
    float *wf = alloc_floats(ddpm_linear_wf_floats(IC, OC)), *out = alloc_floats(n_out);
    float *one = alloc_floats((size_t)OC);
    double *want = calloc(n_out, sizeof(double));
    ddpm_linear_pack_wf(wf, weight, IC, OC);
    ddpm_linear_forward_packed(out, inp, wf, bias, res, B, IC, OC);
    for (int b = 0; b < B; b++)
        for (int o = 0; o < OC; o++) {
            double sum = (double)bias[o] + res[b * OC + o];
            for (int i = 0; i < IC; i++) sum += (double)inp[b * IC + i] * weight[o * IC + i];
            want[b * OC + o] = sum;
        }
    check_tensor("linear forward, packed, with residual", out, want, n_out, 1e-5, 1.0);
    for (int b = 0; b < B; b++) {
        ddpm_linear_forward_packed(one, inp + b * IC, wf, bias, res + b * OC, 1, IC, OC);
        CHECK(memcmp(one, out + b * OC, sizeof(float) * (size_t)OC) == 0,
              "linear forward, packed (%d, %d, %d): row %d alone differs from the batch", B, IC, OC, b);
    }
    free(inp), free(weight), free(bias), free(res), free(wf), free(out), free(one), free(want);
}

static void check_linear(void)
{
    linear_ctx c = {.B = 3, .IC = 7, .OC = 5};
    const size_t n_in = (size_t)c.B * c.IC, n_w = (size_t)c.OC * c.IC, n_out = (size_t)c.B * c.OC;
    c.inp = random_floats(n_in, 1.0f), c.weight = random_floats(n_w, 0.5f);
    c.bias = random_floats((size_t)c.OC, 1.0f), c.out = alloc_floats(n_out);
    c.w = random_floats(n_out, 1.0f);
    c.dinp = zero_floats(n_in), c.dweight = zero_floats(n_w), c.dbias = zero_floats((size_t)c.OC);

    /* forward against the definition, with and without bias */
    double want[15];
    for (int with_bias = 0; with_bias <= 1; with_bias++) {
        ddpm_linear_forward(c.out, c.inp, c.weight, with_bias ? c.bias : NULL, c.B, c.IC, c.OC);
        for (int b = 0; b < c.B; b++)
            for (int o = 0; o < c.OC; o++) {
                double sum = with_bias ? c.bias[o] : 0.0;
                for (int i = 0; i < c.IC; i++) sum += (double)c.inp[b * c.IC + i] * c.weight[o * c.IC + i];
                want[b * c.OC + o] = sum;
            }
        check_tensor(with_bias ? "linear forward" : "linear forward, no bias", c.out, want, n_out,
                     1e-6, 1.0);
    }

    check_linear_packed(c.B, c.IC, c.OC);
    check_linear_packed(37, 40, 33);

    layer_case lc = {"linear", linear_loss, linear_backward, &c};
    grad_slot slots[] = {{"inp", c.inp, c.dinp, n_in}, {"weight", c.weight, c.dweight, n_w},
                         {"bias", c.bias, c.dbias, (size_t)c.OC}};
    check_gradients(&lc, slots, 3, FD_STEP, FD_TOL);
    free(c.inp), free(c.weight), free(c.bias), free(c.out), free(c.w);
    free(c.dinp), free(c.dweight), free(c.dbias);
    printf("linear: forward and gradients match\n");
}

/* ---- Fourier features ------------------------------------------------------------ */

typedef struct {
    int B, D, K;
    float *inp, *out, *w, *dinp;
} fourier_ctx;

static double fourier_loss(void *p)
{
    fourier_ctx *c = p;
    ddpm_fourier_forward(c->out, c->inp, c->B, c->D, c->K);
    return project(c->out, c->w, (size_t)c->B * c->D * (1 + 2 * c->K));
}

static void fourier_backward(void *p)
{
    fourier_ctx *c = p;
    ddpm_fourier_backward(c->dinp, c->w, c->inp, c->B, c->D, c->K);
}

/* Against sin(2^k x) and cos(2^k x) from libm, in double (the kernel's
 * double-angle recurrence must stay within float rounding over 8 octaves),
 * and the input gradient by finite differences. */
static void check_fourier(void)
{
    fourier_ctx c = {.B = 5, .D = 3, .K = 8};
    const size_t n_in = (size_t)c.B * c.D, n_out = n_in * (1 + 2 * c.K);
    c.inp = random_floats(n_in, 3.0f), c.out = alloc_floats(n_out), c.w = random_floats(n_out, 1.0f);
    c.dinp = zero_floats(n_in);
    ddpm_fourier_forward(c.out, c.inp, c.B, c.D, c.K);
    double *want = calloc(n_out, sizeof(double));
    const int F = c.D * (1 + 2 * c.K);
    for (int b = 0; b < c.B; b++)
        for (int d = 0; d < c.D; d++) {
            const double x = c.inp[b * c.D + d];
            want[b * F + d] = x;
            for (int k = 0; k < c.K; k++) {
                want[b * F + c.D + d * c.K + k] = sin(ldexp(x, k));
                want[b * F + c.D + c.D * c.K + d * c.K + k] = cos(ldexp(x, k));
            }
        }
    check_tensor("fourier forward", c.out, want, n_out, 2e-6, 1.0);
    layer_case lc = {"fourier", fourier_loss, fourier_backward, &c};
    grad_slot slots[] = {{"inp", c.inp, c.dinp, n_in}};
    /* the top octave turns 1e-3 of x into a quarter turn: a small step */
    check_gradients(&lc, slots, 1, 2e-4f, 2e-2);
    free(c.inp), free(c.out), free(c.w), free(c.dinp), free(want);
    printf("fourier features: forward and gradient match\n");
}

/* ---- group normalisation ------------------------------------------------------ */

typedef struct {
    int B, C, HW, G;
    float eps;
    float *inp, *gamma, *beta, *out, *mean, *rstd, *w, *dinp, *dgamma, *dbeta;
} gn_ctx;

static double gn_loss(void *p)
{
    gn_ctx *c = p;
    ddpm_groupnorm_forward(c->out, c->mean, c->rstd, c->inp, c->gamma, c->beta, c->B, c->HW, c->C,
                           c->G, c->eps);
    return project(c->out, c->w, (size_t)c->B * c->C * c->HW);
}

static void gn_backward(void *p)
{
    gn_ctx *c = p;
    gn_loss(c);
    ddpm_groupnorm_backward(c->dinp, c->dgamma, c->dbeta, c->w, c->inp, c->mean, c->rstd,
                            c->gamma, c->B, c->HW, c->C, c->G, false);
}

static void gn_ctx_init(gn_ctx *c, int B, int C, int HW, int G, float offset, float spread)
{
    *c = (gn_ctx){.B = B, .C = C, .HW = HW, .G = G, .eps = 1e-5f};
    const size_t n = (size_t)B * C * HW;
    c->inp = random_floats(n, spread);
    for (size_t i = 0; i < n; i++) c->inp[i] += offset;
    c->gamma = random_floats((size_t)C, 1.0f), c->beta = random_floats((size_t)C, 1.0f);
    c->out = alloc_floats(n), c->w = random_floats(n, 1.0f);
    c->mean = alloc_floats((size_t)B * G), c->rstd = alloc_floats((size_t)B * G);
    c->dinp = zero_floats(n), c->dgamma = zero_floats((size_t)C), c->dbeta = zero_floats((size_t)C);
}

static void gn_ctx_free(gn_ctx *c)
{
    free(c->inp), free(c->gamma), free(c->beta), free(c->out), free(c->w), free(c->mean);
    free(c->rstd), free(c->dinp), free(c->dgamma), free(c->dbeta);
}

/* Forward against the definition in double, including statistics. */
static void check_gn_forward(gn_ctx *c, const char *what)
{
    gn_loss(c);
    const int Cg = c->C / c->G;
    const size_t n = (size_t)c->B * c->C * c->HW;
    double *want = malloc(sizeof(double) * n);
    double *want_mean = malloc(sizeof(double) * (size_t)c->B * c->G);
    double *want_rstd = malloc(sizeof(double) * (size_t)c->B * c->G);
    /* channels last: element (b, p, ch) is at (b * HW + p) * C + ch */
    for (int b = 0; b < c->B; b++)
        for (int g = 0; g < c->G; g++) {
            const size_t m = (size_t)Cg * c->HW;
            double mu = 0.0, var = 0.0;
            for (int p = 0; p < c->HW; p++)
                for (int ch = g * Cg; ch < (g + 1) * Cg; ch++) mu += c->inp[((size_t)b * c->HW + p) * c->C + ch];
            mu /= m;
            for (int p = 0; p < c->HW; p++)
                for (int ch = g * Cg; ch < (g + 1) * Cg; ch++) {
                    const double dev = c->inp[((size_t)b * c->HW + p) * c->C + ch] - mu;
                    var += dev * dev;
                }
            var /= m;
            want_mean[b * c->G + g] = mu;
            want_rstd[b * c->G + g] = 1.0 / sqrt(var + c->eps);
            for (int p = 0; p < c->HW; p++)
                for (int ch = g * Cg; ch < (g + 1) * Cg; ch++) {
                    const size_t i = ((size_t)b * c->HW + p) * c->C + ch;
                    want[i] = (c->inp[i] - mu) / sqrt(var + c->eps) * c->gamma[ch] + c->beta[ch];
                }
        }
    char buf[160];
    snprintf(buf, sizeof buf, "%s: out", what);
    check_tensor(buf, c->out, want, n, 1e-5, 1.0);
    snprintf(buf, sizeof buf, "%s: mean", what);
    check_tensor(buf, c->mean, want_mean, (size_t)c->B * c->G, 1e-6, 1e-3);
    snprintf(buf, sizeof buf, "%s: rstd", what);
    check_tensor(buf, c->rstd, want_rstd, (size_t)c->B * c->G, 1e-6, 1e-3);
    free(want), free(want_mean), free(want_rstd);
}

static void check_groupnorm(void)
{
    /* (C, G, HW): G = 1 (layer norm over C x HW), G = C (instance norm), and between;
     * 600 channels in 2 groups make groups wider than the kernel's channel block */
    const int cases[][3] = {{6, 1, 5}, {6, 2, 5}, {6, 3, 5}, {6, 6, 5}, {8, 4, 49}, {600, 2, 3}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        gn_ctx c;
        gn_ctx_init(&c, 2, cases[k][0], cases[k][2], cases[k][1], 0.0f, 1.0f);
        char name[64];
        snprintf(name, sizeof name, "groupnorm C=%d G=%d HW=%d", c.C, c.G, c.HW);
        check_gn_forward(&c, name);
        if (c.C > 100) { /* too many elements for finite differences of all */
            gn_ctx_free(&c);
            continue;
        }
        layer_case lc = {name, gn_loss, gn_backward, &c};
        const size_t n = (size_t)c.B * c.C * c.HW;
        grad_slot slots[] = {{"inp", c.inp, c.dinp, n}, {"gamma", c.gamma, c.dgamma, (size_t)c.C},
                             {"beta", c.beta, c.dbeta, (size_t)c.C}};
        check_gradients(&lc, slots, 3, FD_STEP, FD_TOL);
        gn_ctx_free(&c);
    }
    /* A large mean against a small spread: the statistics must not lose the
     * spread to cancellation (the normalised output stays accurate). */
    gn_ctx c;
    gn_ctx_init(&c, 2, 4, 64, 2, 300.0f, 0.05f);
    check_gn_forward(&c, "groupnorm offset 300, spread 0.05");
    gn_ctx_free(&c);
    printf("groupnorm: forward and gradients match for G in {1, 2, 3, C}\n");
}

/* GroupNorm + SiLU fused: forward against the two layers one after the
 * other, backward against finite differences (gamma, beta and the input). */
typedef struct {
    gn_ctx gn;
    float *tmp, *dout; /* dout: a copy of w for backward to overwrite */
} gn_silu_ctx;

static double gn_silu_loss(void *p)
{
    gn_ctx *c = &((gn_silu_ctx *)p)->gn;
    ddpm_groupnorm_silu_forward(c->out, c->mean, c->rstd, c->inp, c->gamma, c->beta, c->B, c->HW, c->C,
                                c->G, c->eps);
    return project(c->out, c->w, (size_t)c->B * c->C * c->HW);
}

static void gn_silu_backward(void *p)
{
    gn_silu_ctx *f = p;
    gn_ctx *c = &f->gn;
    gn_silu_loss(p);
    memcpy(f->dout, c->w, sizeof(float) * (size_t)c->B * c->HW * c->C);
    ddpm_groupnorm_silu_backward(c->dinp, c->dgamma, c->dbeta, f->dout, c->inp, c->mean, c->rstd,
                                 c->gamma, c->beta, c->B, c->HW, c->C, c->G, false);
}

static void check_groupnorm_silu(void)
{
    const int cases[][3] = {{6, 2, 5}, {32, 8, 49}, {600, 2, 3}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        gn_silu_ctx f;
        gn_ctx *c = &f.gn;
        gn_ctx_init(c, 2, cases[k][0], cases[k][2], cases[k][1], 0.3f, 1.5f);
        const size_t n = (size_t)c->B * c->C * c->HW;
        f.tmp = alloc_floats(n);
        f.dout = alloc_floats(n);
        float *want = alloc_floats(n);
        ddpm_groupnorm_forward(f.tmp, c->mean, c->rstd, c->inp, c->gamma, c->beta, c->B, c->HW, c->C, c->G, c->eps);
        ddpm_silu_forward(want, f.tmp, n);
        gn_silu_loss(&f);
        double *want_d = malloc(sizeof(double) * n);
        for (size_t i = 0; i < n; i++) want_d[i] = want[i];
        char name[80];
        snprintf(name, sizeof name, "groupnorm+silu C=%d G=%d HW=%d", c->C, c->G, c->HW);
        check_tensor(name, c->out, want_d, n, 1e-6, 1.0);
        if (c->C <= 32) {
            layer_case lc = {name, gn_silu_loss, gn_silu_backward, &f};
            grad_slot slots[] = {{"inp", c->inp, c->dinp, n}, {"gamma", c->gamma, c->dgamma, (size_t)c->C},
                                 {"beta", c->beta, c->dbeta, (size_t)c->C}};
            check_gradients(&lc, slots, 3, FD_STEP, FD_TOL);
        }
        free(want), free(want_d), free(f.tmp), free(f.dout);
        gn_ctx_free(c);
    }
    printf("groupnorm+silu: equals the two layers; gradients match\n");
}

/* ---- writing instead of adding the input gradient -------------------------- */

/* The `assign` variants must write every element of the input gradient (it
 * starts as NaN here) with exactly what the accumulating call adds to zeros. */
static void expect_same(const char *what, const float *assigned, const float *added, size_t n)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += !(assigned[i] == added[i]);
    CHECK(bad == 0, "%s: %zu of %zu input-gradient elements differ when written instead of added", what,
          bad, n);
}

static void check_assign_modes(void)
{
    /* conv2d: direct (stride 1 and 2, 1x1 stride 2 whose odd pixels no tap
     * reaches), Winograd, one output channel */
    const int shapes[][6] = {/* H, C_in, C_out, k, s, wino mode */
                             {9, 5, 7, 3, 1, 1}, {9, 5, 7, 3, 2, 0}, {8, 4, 6, 1, 2, 0},
                             {11, 16, 24, 3, 1, 4}, {7, 8, 1, 3, 1, 0}, {6, 9, 3, 1, 1, 0}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        force_winograd(shapes[i][5]);
        ddpm_conv2d_dims d = {.B = 2, .H = shapes[i][0], .W = shapes[i][0], .C_in = shapes[i][1],
                              .C_out = shapes[i][2], .kernel = shapes[i][3], .stride = shapes[i][4],
                              .pad = shapes[i][3] / 2};
        conv_ctx c;
        conv_ctx_init(&c, d, true);
        const size_t n_in = (size_t)d.B * d.H * d.W * d.C_in;
        conv_backward(&c);
        float *added = alloc_floats(n_in);
        memcpy(added, c.dinp, sizeof(float) * n_in);
        fill_nan(c.dinp, n_in);
        c.d.assign_dinp = true;
        conv_backward(&c);
        char what[160];
        describe_conv(what, sizeof what, &d, true);
        expect_same(what, c.dinp, added, n_in);
        free(added);
        conv_ctx_free(&c);
    }
    force_winograd(0);
    /* GroupNorm, with and without SiLU */
    for (int silu = 0; silu <= 1; silu++) {
        gn_ctx c;
        gn_ctx_init(&c, 2, 24, 49, 8, 0.3f, 1.5f);
        const size_t n = (size_t)c.B * c.HW * c.C;
        float *dout = alloc_floats(n), *added = alloc_floats(n);
        for (int assign = 0; assign <= 1; assign++) {
            if (assign) fill_nan(c.dinp, n);
            memcpy(dout, c.w, sizeof(float) * n);
            if (silu) {
                ddpm_groupnorm_silu_forward(c.out, c.mean, c.rstd, c.inp, c.gamma, c.beta, c.B, c.HW, c.C, c.G,
                                            c.eps);
                ddpm_groupnorm_silu_backward(c.dinp, c.dgamma, c.dbeta, dout, c.inp, c.mean, c.rstd, c.gamma,
                                             c.beta, c.B, c.HW, c.C, c.G, assign);
            } else {
                ddpm_groupnorm_forward(c.out, c.mean, c.rstd, c.inp, c.gamma, c.beta, c.B, c.HW, c.C, c.G, c.eps);
                ddpm_groupnorm_backward(c.dinp, c.dgamma, c.dbeta, dout, c.inp, c.mean, c.rstd, c.gamma, c.B,
                                        c.HW, c.C, c.G, assign);
            }
            if (!assign) memcpy(added, c.dinp, sizeof(float) * n);
        }
        expect_same(silu ? "groupnorm+silu" : "groupnorm", c.dinp, added, n);
        free(dout), free(added);
        gn_ctx_free(&c);
    }
    /* concat, each side on its own */
    const size_t rows = 10;
    float *dout = random_floats(rows * 7, 1.0f), *da = zero_floats(rows * 3), *db = zero_floats(rows * 4);
    float *da2 = alloc_floats(rows * 3), *db2 = alloc_floats(rows * 4);
    ddpm_concat_backward(da, db, dout, rows, 3, 4, false, false);
    fill_nan(da2, rows * 3), fill_nan(db2, rows * 4);
    ddpm_concat_backward(da2, NULL, dout, rows, 3, 4, true, false);
    ddpm_concat_backward(NULL, db2, dout, rows, 3, 4, false, true);
    expect_same("concat a", da2, da, rows * 3);
    expect_same("concat b", db2, db, rows * 4);
    free(dout), free(da), free(db), free(da2), free(db2);
    printf("assign modes: conv2d, groupnorm and concat write what they would add to zeros\n");
}

/* ---- SiLU --------------------------------------------------------------------- */

typedef struct {
    size_t n;
    float *inp, *out, *w, *dinp;
} unary_ctx;

static double silu_loss(void *p)
{
    unary_ctx *c = p;
    ddpm_silu_forward(c->out, c->inp, c->n);
    return project(c->out, c->w, c->n);
}

static void silu_backward(void *p)
{
    unary_ctx *c = p;
    ddpm_silu_backward(c->dinp, c->w, c->inp, c->n);
}

/* The vectorisable exp against libm's in double: a dense sweep of the range
 * where it is finite and normal, then the limits. */
static void check_fast_exp(void)
{
    double worst = 0.0;
    float at = 0.0f;
    for (float y = -87.0f; y <= 88.0f; y += 0.00137f) {
        const double want = exp((double)y), got = ddpm_fast_expf(y);
        const double rel = fabs(got - want) / want;
        if (rel > worst) worst = rel, at = y;
    }
    CHECK(worst < 3e-7, "fast exp: relative error %.3g at %.9g", worst, at);
    CHECK(ddpm_fast_expf(0.0f) == 1.0f, "e^0 = %.9g", ddpm_fast_expf(0.0f));
    CHECK(ddpm_fast_expf(-200.0f) == 0.0f && ddpm_fast_expf(-INFINITY) == 0.0f, "e^-200, e^-inf");
    CHECK(isinf(ddpm_fast_expf(100.0f)) && isinf(ddpm_fast_expf(INFINITY)), "e^100, e^inf");
    printf("fast exp: within %.2g relative of exp over [-87, 88]\n", worst);
}

static void check_silu(void)
{
    /* 67: a vector loop's main part and its tail */
    unary_ctx c = {.n = 67};
    c.inp = random_floats(c.n, 3.0f), c.out = alloc_floats(c.n), c.w = random_floats(c.n, 1.0f);
    c.dinp = zero_floats(c.n);
    ddpm_silu_forward(c.out, c.inp, c.n);
    double want[67];
    for (size_t i = 0; i < c.n; i++) want[i] = c.inp[i] / (1.0 + exp(-(double)c.inp[i]));
    check_tensor("silu forward", c.out, want, c.n, 1e-6, 1.0);
    /* the tails: no NaN, the right limits */
    float tails[4] = {-200.0f, -88.0f, 88.0f, 200.0f}, tails_out[4];
    ddpm_silu_forward(tails_out, tails, 4);
    CHECK(tails_out[0] == 0.0f && fabsf(tails_out[1]) < 1e-30f, "silu(-200) = %g, silu(-88) = %g",
          tails_out[0], tails_out[1]);
    CHECK(tails_out[2] == 88.0f && tails_out[3] == 200.0f, "silu(88) = %g, silu(200) = %g",
          tails_out[2], tails_out[3]);

    layer_case lc = {"silu", silu_loss, silu_backward, &c};
    grad_slot slots[] = {{"inp", c.inp, c.dinp, c.n}};
    check_gradients(&lc, slots, 1, FD_STEP, FD_TOL);
    free(c.inp), free(c.out), free(c.w), free(c.dinp);
    printf("silu: forward, tails and gradients\n");
}

/* ---- timestep embedding ------------------------------------------------------- */

/* The header's formula written independently: freq_i = max_period^(-i/half). */
static void check_timestep_embedding(void)
{
    const int t[3] = {0, 1, 999}, B = 3, dim = 8, half = 4;
    const float max_period = 10000.0f;
    float out[3 * 8];
    ddpm_timestep_embedding_forward(out, t, B, dim, max_period);
    for (int b = 0; b < B; b++)
        for (int i = 0; i < half; i++) {
            double freq = pow(10000.0, -(double)i / half);
            CHECK_CLOSE(out[b * dim + i], sin(t[b] * freq), 0.0, 1e-6, "sin part, t=%d i=%d", t[b], i);
            CHECK_CLOSE(out[b * dim + half + i], cos(t[b] * freq), 0.0, 1e-6, "cos part, t=%d i=%d",
                        t[b], i);
        }
    /* hand values: t = 0 is (0 0 0 0 | 1 1 1 1); i = 0 has freq 1; for t = 1,
     * i = 2 has freq 10000^(-1/2) = 0.01 */
    for (int i = 0; i < half; i++)
        CHECK(out[i] == 0.0f && out[half + i] == 1.0f, "t=0 entry %d: %g %g", i, out[i], out[half + i]);
    CHECK_CLOSE(out[dim + 0], 0.8414709848078965, 0.0, 1e-7, "sin(1)");
    CHECK_CLOSE(out[dim + half], 0.5403023058681398, 0.0, 1e-7, "cos(1)");
    CHECK_CLOSE(out[dim + 2], 0.009999833334166664, 0.0, 1e-9, "sin(0.01)");
    CHECK_CLOSE(out[dim + half + 2], 0.9999500004166653, 0.0, 1e-7, "cos(0.01)");
    /* t = 999, i = 1: freq 10000^(-1/4) = 0.1, sin(99.9) */
    CHECK_CLOSE(out[2 * dim + 1], -0.5899241613174027, 0.0, 1e-6, "sin(99.9)");
    printf("timestep embedding: matches libm\n");
}

/* ---- upsample ----------------------------------------------------------------- */

typedef struct {
    int B, H, W, C;
    float *inp, *out, *w, *dinp;
} upsample_ctx;

static double upsample_loss(void *p)
{
    upsample_ctx *c = p;
    ddpm_upsample2x_forward(c->out, c->inp, c->B, c->H, c->W, c->C);
    return project(c->out, c->w, (size_t)c->B * c->C * 4 * c->H * c->W);
}

static void upsample_backward(void *p)
{
    upsample_ctx *c = p;
    ddpm_upsample2x_backward(c->dinp, c->w, c->B, c->H, c->W, c->C);
}

static void check_upsample(void)
{
    upsample_ctx c = {.B = 2, .H = 3, .W = 5, .C = 3};
    const size_t n_in = (size_t)c.B * c.C * c.H * c.W, n_out = 4 * n_in;
    c.inp = random_floats(n_in, 1.0f), c.out = alloc_floats(n_out), c.w = random_floats(n_out, 1.0f);
    c.dinp = zero_floats(n_in);
    ddpm_upsample2x_forward(c.out, c.inp, c.B, c.H, c.W, c.C);
    for (int b = 0; b < c.B; b++)
        for (int y = 0; y < 2 * c.H; y++)
            for (int x = 0; x < 2 * c.W; x++)
                for (int ch = 0; ch < c.C; ch++) {
                    float got = c.out[(((size_t)b * 2 * c.H + y) * 2 * c.W + x) * c.C + ch];
                    float want = c.inp[(((size_t)b * c.H + y / 2) * c.W + x / 2) * c.C + ch];
                    CHECK(got == want, "upsample image %d (%d,%d) channel %d: %g, want %g", b, y, x,
                          ch, got, want);
                }
    layer_case lc = {"upsample2x", upsample_loss, upsample_backward, &c};
    grad_slot slots[] = {{"inp", c.inp, c.dinp, n_in}};
    check_gradients(&lc, slots, 1, FD_STEP, FD_TOL);
    free(c.inp), free(c.out), free(c.w), free(c.dinp);
    printf("upsample2x: forward and gradients\n");
}

/* ---- concat ------------------------------------------------------------------- */

typedef struct {
    int B, C1, C2, HW;
    float *a, *b, *out, *w, *da, *db;
} concat_ctx;

static double concat_loss(void *p)
{
    concat_ctx *c = p;
    ddpm_concat_forward(c->out, c->a, c->b, (size_t)c->B * c->HW, c->C1, c->C2);
    return project(c->out, c->w, (size_t)c->B * (c->C1 + c->C2) * c->HW);
}

static void concat_backward(void *p)
{
    concat_ctx *c = p;
    ddpm_concat_backward(c->da, c->db, c->w, (size_t)c->B * c->HW, c->C1, c->C2, false, false);
}

static void check_concat(void)
{
    concat_ctx c = {.B = 3, .C1 = 2, .C2 = 3, .HW = 4};
    const size_t na = (size_t)c.B * c.C1 * c.HW, nb = (size_t)c.B * c.C2 * c.HW, n = na + nb;
    c.a = random_floats(na, 1.0f), c.b = random_floats(nb, 1.0f), c.out = alloc_floats(n);
    c.w = random_floats(n, 1.0f), c.da = zero_floats(na), c.db = zero_floats(nb);
    ddpm_concat_forward(c.out, c.a, c.b, (size_t)c.B * c.HW, c.C1, c.C2);
    for (int s = 0; s < c.B; s++)
        for (int i = 0; i < c.HW; i++)
            for (int ch = 0; ch < c.C1 + c.C2; ch++) {
                const size_t px = (size_t)s * c.HW + i;
                float got = c.out[px * (c.C1 + c.C2) + ch];
                float want = ch < c.C1 ? c.a[px * c.C1 + ch] : c.b[px * c.C2 + ch - c.C1];
                CHECK(got == want, "concat sample %d pixel %d channel %d: %g, want %g", s, i, ch, got, want);
            }
    layer_case lc = {"concat", concat_loss, concat_backward, &c};
    grad_slot slots[] = {{"a", c.a, c.da, na}, {"b", c.b, c.db, nb}};
    check_gradients(&lc, slots, 2, FD_STEP, FD_TOL);
    free(c.a), free(c.b), free(c.out), free(c.w), free(c.da), free(c.db);
    printf("concat: forward and gradients\n");
}

/* ---- attention ---------------------------------------------------------------- */

typedef struct {
    int B, C, N;
    float *qkv, *out, *probs, *scratch, *w, *dqkv;
} attn_ctx;

static double attn_loss(void *p)
{
    attn_ctx *c = p;
    ddpm_attention_forward(c->out, c->probs, c->qkv, c->B, c->C, c->N);
    return project(c->out, c->w, (size_t)c->B * c->C * c->N);
}

static void attn_backward(void *p)
{
    attn_ctx *c = p;
    attn_loss(c);
    fill_nan(c->scratch, ddpm_attention_scratch_floats(c->C, c->N));
    ddpm_attention_backward(c->dqkv, c->scratch, c->w, c->qkv, c->probs, c->B, c->C, c->N);
}

static void attn_ctx_init(attn_ctx *c, int B, int C, int N, float scale)
{
    *c = (attn_ctx){.B = B, .C = C, .N = N};
    const size_t n_qkv = (size_t)B * 3 * C * N, n_out = (size_t)B * C * N;
    c->qkv = random_floats(n_qkv, scale), c->out = alloc_floats(n_out);
    c->probs = alloc_floats((size_t)B * N * N);
    c->scratch = alloc_floats(ddpm_attention_scratch_floats(C, N));
    c->w = random_floats(n_out, 1.0f), c->dqkv = zero_floats(n_qkv);
}

static void attn_ctx_free(attn_ctx *c)
{
    free(c->qkv), free(c->out), free(c->probs), free(c->scratch), free(c->w), free(c->dqkv);
}

/* Forward against the definition, in double. */
static void check_attn_forward(attn_ctx *c, const char *what)
{
    const int B = c->B, C = c->C, N = c->N;
    attn_loss(c);
    double *want = malloc(sizeof(double) * (size_t)B * C * N);
    double *want_p = malloc(sizeof(double) * (size_t)B * N * N);
    double *row = malloc(sizeof(double) * (size_t)N);
    for (int b = 0; b < B; b++) {
        /* position i holds q (C), k (C), v (C) */
        const float *q = c->qkv + (size_t)b * 3 * C * N, *k = q + C, *v = q + 2 * C;
        for (int i = 0; i < N; i++) {
            double max = -INFINITY, sum = 0.0;
            for (int j = 0; j < N; j++) {
                double s = 0.0;
                for (int ch = 0; ch < C; ch++) s += (double)q[i * 3 * C + ch] * k[j * 3 * C + ch];
                row[j] = s / sqrt((double)C);
                max = fmax(max, row[j]);
            }
            for (int j = 0; j < N; j++) sum += row[j] = exp(row[j] - max);
            for (int j = 0; j < N; j++) want_p[((size_t)b * N + i) * N + j] = row[j] / sum;
            for (int ch = 0; ch < C; ch++) {
                double o = 0.0;
                for (int j = 0; j < N; j++) o += row[j] / sum * v[j * 3 * C + ch];
                want[((size_t)b * N + i) * C + ch] = o;
            }
        }
    }
    char buf[128];
    snprintf(buf, sizeof buf, "%s: probs", what);
    check_tensor(buf, c->probs, want_p, (size_t)B * N * N, 1e-5, 1.0);
    snprintf(buf, sizeof buf, "%s: out", what);
    check_tensor(buf, c->out, want, (size_t)B * C * N, 1e-5, 1.0);
    free(want), free(want_p), free(row);
}

static void check_attention(void)
{
    attn_ctx c;
    attn_ctx_init(&c, 2, 4, 6, 1.0f);
    check_attn_forward(&c, "attention");
    layer_case lc = {"attention", attn_loss, attn_backward, &c};
    grad_slot slots[] = {{"qkv", c.qkv, c.dqkv, (size_t)c.B * 3 * c.C * c.N}};
    check_gradients(&lc, slots, 1, FD_STEP, FD_TOL);
    attn_ctx_free(&c);

    /* a single position and a single channel */
    attn_ctx_init(&c, 1, 1, 1, 1.0f);
    check_attn_forward(&c, "attention N=1");
    attn_ctx_free(&c);

    /* huge scores: the row max is subtracted, so no overflow to NaN */
    attn_ctx_init(&c, 1, 3, 5, 60.0f);
    check_attn_forward(&c, "attention, scores ~1e3");
    attn_ctx_free(&c);
    printf("attention: forward and gradients match\n");
}

/* ---- dropout ------------------------------------------------------------------ */

typedef struct {
    size_t n;
    float p;
    uint64_t seed;
    uint8_t *mask;
    float *inp, *out, *w, *dinp;
} dropout_ctx;

/* Re-seeds before every forward so that the mask is fixed across the
 * finite-difference evaluations. */
static double dropout_loss(void *p)
{
    dropout_ctx *c = p;
    ddpm_rng r;
    ddpm_rng_init(&r, c->seed, ddpm_rng_stream(DDPM_STREAM_DROPOUT, 0, 0));
    ddpm_dropout_forward(c->out, c->mask, c->inp, c->p, &r, c->n);
    return project(c->out, c->w, c->n);
}

static void dropout_backward(void *p)
{
    dropout_ctx *c = p;
    dropout_loss(c);
    ddpm_dropout_backward(c->dinp, c->w, c->mask, c->p, c->n);
}

static void dropout_p_one(void)
{
    float x = 1.0f, y;
    uint8_t m;
    ddpm_rng r;
    ddpm_rng_init(&r, 1, 0);
    ddpm_dropout_forward(&y, &m, &x, 1.0f, &r, 1);
}

static void dropout_p_negative(void)
{
    float x = 1.0f, y;
    uint8_t m;
    ddpm_rng r;
    ddpm_rng_init(&r, 1, 0);
    ddpm_dropout_forward(&y, &m, &x, -0.1f, &r, 1);
}

/* Runs fn in a child process and reports whether it aborted (DDPM_ASSERT). */
static bool aborts(void (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork failed");
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stderr)) _exit(3);
        fn();
        _exit(0);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid failed");
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void check_dropout(void)
{
    const size_t n = 200000;
    float *inp = random_floats(n, 1.0f), *out = alloc_floats(n), *out2 = alloc_floats(n);
    uint8_t *mask = malloc(n), *mask2 = malloc(n);

    /* p = 0: an exact copy, everything kept, and rng may be NULL */
    ddpm_dropout_forward(out, mask, inp, 0.0f, NULL, n);
    CHECK(memcmp(out, inp, sizeof(float) * n) == 0, "p = 0 is not an exact copy");
    for (size_t i = 0; i < n; i++) CHECK(mask[i] == 1, "p = 0 dropped element %zu", i);

    const float ps[3] = {0.1f, 0.5f, 0.9f};
    for (int k = 0; k < 3; k++) {
        const float p = ps[k];
        ddpm_rng r;
        ddpm_rng_init(&r, 42, ddpm_rng_stream(DDPM_STREAM_DROPOUT, 7, (uint64_t)k));
        ddpm_dropout_forward(out, mask, inp, p, &r, n);
        size_t kept = 0;
        for (size_t i = 0; i < n; i++) {
            CHECK(mask[i] <= 1, "mask[%zu] = %d", i, mask[i]);
            kept += mask[i];
            const float want = mask[i] ? inp[i] * (1.0f / (1.0f - p)) : 0.0f;
            CHECK(out[i] == want, "p=%g element %zu: %g, want %g", p, i, out[i], want);
        }
        /* binomial: the kept fraction is 1 - p within 5 standard deviations */
        const double frac = (double)kept / n, sigma = sqrt(p * (1.0 - p) / n);
        CHECK(fabs(frac - (1.0 - p)) <= 5.0 * sigma, "p=%g: kept fraction %.5f, want %.5f +- %.5f",
              p, frac, 1.0 - p, 5.0 * sigma);
        /* the same seed gives the same mask; another stream a different one */
        ddpm_rng_init(&r, 42, ddpm_rng_stream(DDPM_STREAM_DROPOUT, 7, (uint64_t)k));
        ddpm_dropout_forward(out2, mask2, inp, p, &r, n);
        CHECK(memcmp(mask, mask2, n) == 0 && memcmp(out, out2, sizeof(float) * n) == 0,
              "p=%g: the same seed gave a different mask", p);
        ddpm_rng_init(&r, 43, ddpm_rng_stream(DDPM_STREAM_DROPOUT, 7, (uint64_t)k));
        ddpm_dropout_forward(out2, mask2, inp, p, &r, n);
        CHECK(memcmp(mask, mask2, n) != 0, "p=%g: another seed gave the same mask", p);
    }
    free(inp), free(out), free(out2), free(mask), free(mask2);

    CHECK(aborts(dropout_p_one), "dropout with p = 1 must assert");
    CHECK(aborts(dropout_p_negative), "dropout with p < 0 must assert");

    dropout_ctx c = {.n = 50, .p = 0.3f, .seed = 5};
    c.inp = random_floats(c.n, 1.0f), c.out = alloc_floats(c.n), c.w = random_floats(c.n, 1.0f);
    c.dinp = zero_floats(c.n), c.mask = malloc(c.n);
    layer_case lc = {"dropout", dropout_loss, dropout_backward, &c};
    grad_slot slots[] = {{"inp", c.inp, c.dinp, c.n}};
    check_gradients(&lc, slots, 1, FD_STEP, FD_TOL);
    free(c.inp), free(c.out), free(c.w), free(c.dinp), free(c.mask);
    printf("dropout: copy at p = 0, kept fractions, seeding and gradients\n");
}

/* ---- element-wise --------------------------------------------------------------- */

typedef struct {
    size_t n;
    float *a, *b, *out, *w, *da, *db;
} add_ctx;

static double add_loss(void *p)
{
    add_ctx *c = p;
    ddpm_add_forward(c->out, c->a, c->b, c->n);
    return project(c->out, c->w, c->n);
}

static void add_backward(void *p)
{
    add_ctx *c = p;
    ddpm_add_backward(c->da, c->db, c->w, c->n);
}

static void check_elementwise(void)
{
    add_ctx a = {.n = 40};
    a.a = random_floats(a.n, 1.0f), a.b = random_floats(a.n, 1.0f), a.out = alloc_floats(a.n);
    a.w = random_floats(a.n, 1.0f), a.da = zero_floats(a.n), a.db = zero_floats(a.n);
    layer_case lc = {"add", add_loss, add_backward, &a};
    grad_slot slots[] = {{"a", a.a, a.da, a.n}, {"b", a.b, a.db, a.n}};
    check_gradients(&lc, slots, 2, FD_STEP, FD_TOL);
    /* out may alias an input */
    float want = a.a[3] + a.b[3];
    ddpm_add_forward(a.a, a.a, a.b, a.n);
    CHECK(a.a[3] == want, "add in place: %g, want %g", a.a[3], want);
    free(a.a), free(a.b), free(a.out), free(a.w), free(a.da), free(a.db);

    printf("add: values and gradients\n");
}

/* ---- losses ------------------------------------------------------------------- */

typedef struct {
    size_t n;
    float scale;
    float *pred, *target, *dpred;
} mse_ctx;

static double mse_loss(void *p)
{
    mse_ctx *c = p;
    return c->scale * ddpm_mse_forward(c->pred, c->target, c->n);
}

static void mse_backward(void *p)
{
    mse_ctx *c = p;
    ddpm_mse_backward(c->dpred, c->pred, c->target, c->scale, c->n);
}

typedef struct {
    int B, K;
    float scale;
    float *logits, *probs, *dlogits;
    uint8_t *labels;
} xent_ctx;

static double xent_loss(void *p)
{
    xent_ctx *c = p;
    return c->scale * ddpm_softmax_xent_forward(c->probs, c->logits, c->labels, c->B, c->K);
}

static void xent_backward(void *p)
{
    xent_ctx *c = p;
    xent_loss(c);
    ddpm_softmax_xent_backward(c->dlogits, c->probs, c->labels, c->scale, c->B, c->K);
}

static void check_losses(void)
{
    const float pred[3] = {1.0f, -2.0f, 0.5f}, target[3] = {0.0f, 1.0f, 0.5f};
    CHECK_CLOSE(ddpm_mse_forward(pred, target, 3), (1.0 + 9.0 + 0.0) / 3.0, 1e-15, 0.0, "mse");

    mse_ctx m = {.n = 30, .scale = 0.7f};
    m.pred = random_floats(m.n, 1.0f), m.target = random_floats(m.n, 1.0f), m.dpred = zero_floats(m.n);
    layer_case lc = {"mse", mse_loss, mse_backward, &m};
    grad_slot slots[] = {{"pred", m.pred, m.dpred, m.n}};
    check_gradients(&lc, slots, 1, FD_STEP, FD_TOL);
    free(m.pred), free(m.target), free(m.dpred);

    xent_ctx x = {.B = 4, .K = 10, .scale = 1.3f};
    const size_t n = (size_t)x.B * x.K;
    x.logits = random_floats(n, 2.0f), x.probs = alloc_floats(n), x.dlogits = zero_floats(n);
    x.labels = malloc((size_t)x.B);
    for (int b = 0; b < x.B; b++) x.labels[b] = (uint8_t)ddpm_rng_below(&rng, (uint32_t)x.K);
    /* value against the definition, -mean log softmax(z)[label] */
    double want = 0.0;
    for (int b = 0; b < x.B; b++) {
        double sum = 0.0;
        for (int k = 0; k < x.K; k++) sum += exp(x.logits[b * x.K + k]);
        want -= log(exp(x.logits[b * x.K + x.labels[b]]) / sum);
    }
    CHECK_CLOSE(ddpm_softmax_xent_forward(x.probs, x.logits, x.labels, x.B, x.K), want / x.B, 1e-12,
                1e-12, "softmax cross-entropy");
    for (int b = 0; b < x.B; b++) {
        double s = 0.0;
        for (int k = 0; k < x.K; k++) s += x.probs[b * x.K + k];
        CHECK_CLOSE(s, 1.0, 0.0, 1e-6, "probs row %d sums to 1", b);
    }
    layer_case lc2 = {"softmax_xent", xent_loss, xent_backward, &x};
    grad_slot slots2[] = {{"logits", x.logits, x.dlogits, n}};
    check_gradients(&lc2, slots2, 1, FD_STEP, FD_TOL);

    /* huge logits: stable, and a confident right answer costs ~0 */
    float big[3] = {1000.0f, 0.0f, -1000.0f}, probs[3];
    uint8_t label0 = 0, label1 = 1;
    CHECK_CLOSE(ddpm_softmax_xent_forward(probs, big, &label0, 1, 3), 0.0, 0.0, 1e-12, "confident");
    CHECK_CLOSE(ddpm_softmax_xent_forward(probs, big, &label1, 1, 3), 1000.0, 1e-12, 0.0, "wrong");
    CHECK(probs[0] == 1.0f && probs[2] == 0.0f, "probs of huge logits: %g %g %g", probs[0],
          probs[1], probs[2]);
    free(x.logits), free(x.probs), free(x.dlogits), free(x.labels);
    printf("losses: mse and softmax cross-entropy values and gradients\n");
}

int main(void)
{
    ddpm_rng_init(&rng, 2024, 0);
    check_conv_reference();
    check_conv_batch_independence();
    check_conv_padding_counts();
    check_conv_backward();
    check_linear();
    check_fourier();
    check_groupnorm();
    check_groupnorm_silu();
    check_assign_modes();
    check_fast_exp();
    check_silu();
    check_timestep_embedding();
    check_upsample();
    check_concat();
    check_attention();
    check_dropout();
    check_elementwise();
    check_losses();
    printf("largest finite-difference relative error: %.3g (tolerance %.3g)\n", worst_grad_err, FD_TOL);
    TEST_PASS("test_layers");
}
