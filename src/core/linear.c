/* linear.c: fully connected layer, out = inp . W^T + bias (PyTorch's nn.Linear
 * layout: W is (OC, IC)): a GEMM per row forward, one GEMM each way back. */
#include "ddpm/common.h"
#include "ddpm/layers.h"

#include <string.h>

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
