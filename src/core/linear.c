/* linear.c: fully connected layer, out = inp . W^T + bias (PyTorch's nn.Linear
 * layout: W is (OC, IC)): forward as a GEMM per row, or on the microkernel
 * from packed weights; one GEMM each way back. */
#include "ddpm/common.h"
#include "ddpm/layers.h"

#include <string.h>

#include "microkernel.h"

static size_t round16(int n) { return ((size_t)n + 15) / 16 * 16; }

size_t ddpm_linear_wf_floats(int IC, int OC) { return (size_t)IC * round16(OC); }

void ddpm_linear_pack_wf(float *wf, const float *weight, int IC, int OC)
{
    DDPM_ASSERT(wf && weight && IC > 0 && OC > 0);
    const size_t ld = round16(OC);
    for (int i = 0; i < IC; i++) {
        float *row = wf + (size_t)i * ld;
        for (int o = 0; o < OC; o++) row[o] = weight[(size_t)o * IC + i];
        for (size_t o = (size_t)OC; o < ld; o++) row[o] = 0.0f;
    }
}

void ddpm_linear_forward_packed(float *out, const float *inp, const float *wf, const float *bias,
                                const float *res, int B, int IC, int OC)
{
    DDPM_ASSERT(out && inp && wf && B > 0 && IC > 0 && OC > 0);
    const ptrdiff_t a_off[1] = {0};
    const float *b[1] = {wf};
    ddpm_mk_args mk = {.c = out, .c_rs = OC, .M = B, .N = OC, .a = inp, .a_rs = IC, .a_ks = 1,
                       .a_off = a_off, .b = b, .b_ks = (ptrdiff_t)round16(OC), .ntaps = 1, .K = IC,
                       .bias = bias, .accumulate = false, .res = res, .res_rs = OC};
    ddpm_mk_run(&mk);
}

void ddpm_linear_forward(float *out,          /* (B, OC) */
                         const float *inp,    /* (B, IC) */
                         const float *weight, /* (OC, IC) */
                         const float *bias,   /* (OC) or NULL */
                         int B, int IC, int OC)
{
    DDPM_ASSERT(out && inp && weight && B > 0 && IC > 0 && OC > 0);
    /* One product per row: BLAS may sum a row's products in an order that
     * depends on how many rows the call has (OpenBLAS's SSE3 kernels do), and
     * an image's output must not depend on the batch it came in (the
     * visualizer's grid against its single view, a batch split over threads).
     * Every row starts from the bias and the GEMM adds onto it (beta = 1). */
    for (int b = 0; b < B; b++) {
        float *row = out + (size_t)b * OC;
        if (bias) memcpy(row, bias, sizeof(float) * (size_t)OC);
        ddpm_sgemm(0, 1, 1, OC, IC, 1.0f, inp + (size_t)b * IC, IC, weight, IC, bias ? 1.0f : 0.0f, row, OC);
    }
}

void ddpm_linear_backward(float *dinp,         /* (B, IC) or NULL */
                          float *dweight,      /* (OC, IC) or NULL */
                          float *dbias,        /* (OC) or NULL */
                          const float *dout,   /* (B, OC) */
                          const float *inp,    /* (B, IC) */
                          const float *weight, /* (OC, IC) */
                          int B, int IC, int OC)
{
    DDPM_ASSERT(dout && inp && weight && B > 0 && IC > 0 && OC > 0);
    if (dinp) /* dinp (B, IC) += dout (B, OC) . W (OC, IC) */
        ddpm_sgemm(0, 0, B, IC, OC, 1.0f, dout, OC, weight, IC, 1.0f, dinp, IC);
    if (dweight) /* dW (OC, IC) += dout^T (OC, B) . inp (B, IC) */
        ddpm_sgemm(1, 0, OC, IC, B, 1.0f, dout, OC, inp, IC, 1.0f, dweight, IC);
    if (dbias) {
        for (int o = 0; o < OC; o++) {
            double sum = 0.0;
            for (int b = 0; b < B; b++) sum += dout[(size_t)b * OC + o];
            dbias[o] += (float)sum;
        }
    }
}
