/* conv_layers.c: the speed of each way to run a 3x3, stride-1 convolution
 * (direct, Winograd F(2x2,3x3), Winograd F(4x4,3x3)) for the shapes the
 * UNet presets use, pass by pass (forward, weight gradient, input gradient),
 * as direct-equivalent GFLOP/s on one thread, with the choice conv2d makes
 * by itself marked.  These measurements set the rules in
 * src/core/conv2d_winograd.c.  Times are CPU time (the best of --reps), so a
 * busy machine distorts them less than wall-clock would.
 *
 *   ./build/bench/conv_layers [B] [reps] [tiny|small]   B images per call (default 4);
 *                                                  one preset's shapes only */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conv2d_winograd.h"
#include "ddpm/common.h"
#include "ddpm/layers.h"

static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

enum { FWD, DW, DX, PASSES };

/* Best-of-reps seconds of each pass for one shape, in the current mode. */
static void measure(const ddpm_conv2d_dims *d, int reps, double best[PASSES])
{
    const size_t n_in = (size_t)d->B * d->H * d->W * d->C_in, n_out = (size_t)d->B * d->H * d->W * d->C_out;
    const size_t n_w = (size_t)d->C_out * d->C_in * 9;
    float *x = ddpm_xmalloc(sizeof(float) * n_in), *y = ddpm_xmalloc(sizeof(float) * n_out);
    float *w = ddpm_xmalloc(sizeof(float) * n_w), *dx = ddpm_xcalloc(n_in, sizeof(float));
    float *wf = ddpm_xmalloc(sizeof(float) * ddpm_conv2d_wf_floats(d));
    float *wb = ddpm_xmalloc(sizeof(float) * ddpm_conv2d_wb_floats(d));
    float *dwf = ddpm_xcalloc(ddpm_conv2d_dwf_floats(d), sizeof(float));
    float *scratch = ddpm_xmalloc(sizeof(float) * ddpm_conv2d_scratch_floats(d));
    for (size_t i = 0; i < n_in; i++) x[i] = (float)(i % 11) * 0.1f - 0.5f;
    for (size_t i = 0; i < n_w; i++) w[i] = (float)(i % 7) * 0.02f - 0.06f;
    for (size_t i = 0; i < n_out; i++) y[i] = (float)(i % 5) * 0.1f - 0.2f;
    ddpm_conv2d_pack_wf(wf, w, d);
    ddpm_conv2d_pack_wb(wb, w, d);
    for (int p = 0; p < PASSES; p++) best[p] = 1e30;
    for (int r = 0; r <= reps; r++) { /* the first round warms up */
        double t0 = cpu_seconds();
        ddpm_conv2d_forward(y, scratch, x, wf, NULL, d);
        double t1 = cpu_seconds();
        ddpm_conv2d_backward(NULL, dwf, NULL, scratch, y, x, NULL, d);
        double t2 = cpu_seconds();
        ddpm_conv2d_backward(dx, NULL, NULL, scratch, y, x, wb, d);
        double t3 = cpu_seconds();
        if (r == 0) continue;
        const double t[PASSES] = {t1 - t0, t2 - t1, t3 - t2};
        for (int p = 0; p < PASSES; p++)
            if (t[p] < best[p]) best[p] = t[p];
    }
    free(x), free(y), free(w), free(dx), free(wf), free(wb), free(dwf), free(scratch);
}

int main(int argc, char **argv)
{
    const int B = argc > 1 ? atoi(argv[1]) : 4, reps = argc > 2 ? atoi(argv[2]) : 10;
    if (B < 1 || reps < 1) {
        fprintf(stderr, "usage: conv_layers [B >= 1] [reps >= 1] [tiny|small]\n");
        return 2;
    }
    /* (H = W, C_in, C_out): the 3x3 stride-1 convolutions of tiny and small */
    const int shapes[][3] = {/* tiny */
                             {28, 16, 16}, {28, 32, 16}, {28, 16, 32}, {28, 32, 32}, {28, 64, 32},
                             {28, 96, 32}, {28, 64, 64}, {14, 32, 32}, {14, 64, 32}, {14, 32, 64},
                             {14, 64, 64}, {14, 96, 64}, {14, 128, 64}, {7, 32, 32}, {7, 64, 32},
                             {7, 64, 64}, {7, 128, 64},
                             /* small */
                             {28, 1, 24}, {28, 24, 24}, {28, 48, 24}, {28, 72, 24}, {28, 48, 48},
                             {28, 24, 1}, {14, 24, 48}, {14, 48, 48}, {14, 72, 48}, {14, 96, 48},
                             {7, 48, 48}, {7, 96, 48}};
    const char *only = argc > 3 ? argv[3] : NULL; /* "tiny" or "small": that preset's shapes */
    const size_t n_tiny = 17;
    const int modes[3] = {1, 2, 4};
    const char *const names[3] = {"direct", "F(2,3)", "F(4,3)"};
    printf("B = %d images per call, best of %d; direct-equivalent GFLOP/s, * = the automatic choice\n\n", B, reps);
    printf("| map | C_in -> C_out | pass | %s | %s | %s |\n|---|---|---|---:|---:|---:|\n", names[0], names[1], names[2]);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        if (only && (strcmp(only, "tiny") == 0) != (s < n_tiny)) continue;
        ddpm_conv2d_dims d = {.B = B, .H = shapes[s][0], .W = shapes[s][0], .C_in = shapes[s][1],
                              .C_out = shapes[s][2], .kernel = 3, .stride = 1, .pad = 1};
        const double flops = 2.0 * B * d.H * d.W * d.C_in * d.C_out * 9;
        double t[3][PASSES];
        for (int m = 0; m < 3; m++) {
            ddpm_wino_force(modes[m]);
            measure(&d, reps, t[m]);
        }
        ddpm_wino_force(0);
        const int chosen[PASSES] = {ddpm_wino_tile_forward(&d), ddpm_wino_tile_dweight(&d), ddpm_wino_tile_dinp(&d)};
        const char *const pass[PASSES] = {"forward", "weight grad", "input grad"};
        for (int p = 0; p < PASSES; p++) {
            printf("| %dx%d | %d -> %d | %s |", d.H, d.W, d.C_in, d.C_out, pass[p]);
            for (int m = 0; m < 3; m++) {
                const bool is_chosen = (chosen[p] == 0 && m == 0) || (chosen[p] == 2 && m == 1) ||
                                       (chosen[p] == 4 && m == 2);
                printf(" %.0f%s |", flops / t[m][p] / 1e9, is_chosen ? "*" : "");
            }
            printf("\n");
        }
    }
    return 0;
}
