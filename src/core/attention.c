/* attention.c: the single-head self-attention core of the UNet's attention
 * block (Vaswani et al. 2017, eq. 1), over the N = H*W positions of a sample:
 *   S = Q^T K / sqrt(C)   (N, N)      Q, K, V are (C, N) slices of qkv
 *   P = softmax over each row of S
 *   out = V P^T           (C, N)      out[c, i] = sum_j P[i, j] V[c, j]
 * Backward, per sample (dS is the softmax Jacobian applied row by row):
 *   dV += dout P,  dP = dout^T V,  dS = P o (dP - rowsum(dP o P)),
 *   dQ += K dS^T / sqrt(C),  dK += Q dS / sqrt(C).
 * Every product is one ddpm_sgemm on the strided slices; scratch holds dP/dS. */
#include "ddpm/common.h"
#include "ddpm/layers.h"

#include <math.h>

size_t ddpm_attention_scratch_floats(int C, int N)
{
    DDPM_ASSERT(C > 0 && N > 0);
    return (size_t)N * (size_t)N;
}

/* Row-wise softmax of S (N, N) in place, with the row max subtracted so that
 * every exp is in (0, 1] and large scores cannot overflow. */
static void softmax_rows(float *S, int N)
{
    for (int i = 0; i < N; i++) {
        float *row = S + (size_t)i * N;
        float max = row[0];
        for (int j = 1; j < N; j++) max = row[j] > max ? row[j] : max;
        double sum = 0.0;
        for (int j = 0; j < N; j++) {
            row[j] = expf(row[j] - max);
            sum += row[j];
        }
        const float inv = (float)(1.0 / sum);
        for (int j = 0; j < N; j++) row[j] *= inv;
    }
}

void ddpm_attention_forward(float *out,       /* (B, C, N) */
                            float *probs,     /* (B, N, N) saved for backward */
                            const float *qkv, /* (B, 3C, N) */
                            int B, int C, int N)
{
    DDPM_ASSERT(out && probs && qkv && B > 0 && C > 0 && N > 0);
    const float scale = 1.0f / sqrtf((float)C);
    for (int b = 0; b < B; b++) {
        const float *q = qkv + (size_t)b * 3 * C * N; /* (C, N) */
        const float *k = q + (size_t)C * N;           /* (C, N) */
        const float *v = k + (size_t)C * N;           /* (C, N) */
        float *P = probs + (size_t)b * N * N;         /* (N, N) */
        ddpm_sgemm(1, 0, N, N, C, scale, q, N, k, N, 0.0f, P, N);
        softmax_rows(P, N);
        ddpm_sgemm(0, 1, C, N, N, 1.0f, v, N, P, N, 0.0f, out + (size_t)b * C * N, N);
    }
}

void ddpm_attention_backward(float *dqkv,        /* (B, 3C, N) or NULL */
                             float *scratch,     /* ddpm_attention_scratch_floats(C, N) */
                             const float *dout,  /* (B, C, N) */
                             const float *qkv,   /* (B, 3C, N) */
                             const float *probs, /* (B, N, N) */
                             int B, int C, int N)
{
    if (!dqkv) return;
    DDPM_ASSERT(scratch && dout && qkv && probs && B > 0 && C > 0 && N > 0);
    const float scale = 1.0f / sqrtf((float)C);
    float *dS = scratch; /* (N, N): dP, then dS in place */
    for (int b = 0; b < B; b++) {
        const float *q = qkv + (size_t)b * 3 * C * N; /* (C, N) */
        const float *k = q + (size_t)C * N;
        const float *v = k + (size_t)C * N;
        float *dq = dqkv + (size_t)b * 3 * C * N; /* (C, N) */
        float *dk = dq + (size_t)C * N;
        float *dv = dk + (size_t)C * N;
        const float *P = probs + (size_t)b * N * N; /* (N, N) */
        const float *dy = dout + (size_t)b * C * N; /* (C, N) */
        ddpm_sgemm(0, 0, C, N, N, 1.0f, dy, N, P, N, 1.0f, dv, N); /* dV += dout P */
        ddpm_sgemm(1, 0, N, N, C, 1.0f, dy, N, v, N, 0.0f, dS, N); /* dP = dout^T V */
        for (int i = 0; i < N; i++) {
            const float *p = P + (size_t)i * N;
            float *d = dS + (size_t)i * N;
            double dot = 0.0;
            for (int j = 0; j < N; j++) dot += (double)d[j] * p[j];
            const float fdot = (float)dot;
            for (int j = 0; j < N; j++) d[j] = p[j] * (d[j] - fdot);
        }
        ddpm_sgemm(0, 1, C, N, N, scale, k, N, dS, N, 1.0f, dq, N); /* dQ += K dS^T / sqrt(C) */
        ddpm_sgemm(0, 0, C, N, N, scale, q, N, dS, N, 1.0f, dk, N); /* dK += Q dS / sqrt(C) */
    }
}
