/* attention.c: the single-head self-attention core of the UNet's attention
 * block (Vaswani et al. 2017, eq. 1), over the N = H*W positions of a sample:
 *   S = Q K^T / sqrt(C)   (N, N)      Q, K, V are (N, C) column slices of qkv
 *   P = softmax over each row of S
 *   out = P V             (N, C)      out[i, c] = sum_j P[i, j] V[j, c]
 * Backward, per sample (dS is the softmax Jacobian applied row by row):
 *   dV += P^T dout,  dP = dout V^T,  dS = P o (dP - rowsum(dP o P)),
 *   dQ += dS K / sqrt(C),  dK += dS^T Q / sqrt(C).
 * Every product is one ddpm_sgemm on the strided slices (row stride 3C);
 * scratch holds dP/dS. */
#include "ddpm/common.h"
#include "ddpm/layers.h"

#include <math.h>

#include "simd.h"

size_t ddpm_attention_scratch_floats(int C, int N)
{
    DDPM_ASSERT(C > 0 && N > 0);
    return (size_t)N * (size_t)N;
}

/* Row-wise softmax of S (N, N) in place, with the row max subtracted so that
 * every exp is in (0, 1] and large scores cannot overflow; the exps are
 * simd.h's vectorisable one, summed in double. */
DDPM_VECTORIZE
static void softmax_rows(float *S, int N)
{
    for (int i = 0; i < N; i++) {
        float *row = S + (size_t)i * N;
        float max = row[0];
        for (int j = 1; j < N; j++) max = row[j] > max ? row[j] : max;
        for (int j = 0; j < N; j++) row[j] = ddpm_fast_expf(row[j] - max);
        double sum = 0.0;
        for (int j = 0; j < N; j++) sum += row[j];
        const float inv = (float)(1.0 / sum);
        for (int j = 0; j < N; j++) row[j] *= inv;
    }
}

void ddpm_attention_forward(float *out,       /* (B, N, C) */
                            float *probs,     /* (B, N, N) saved for backward */
                            const float *qkv, /* (B, N, 3C) */
                            int B, int C, int N)
{
    DDPM_ASSERT(out && probs && qkv && B > 0 && C > 0 && N > 0);
    const float scale = 1.0f / sqrtf((float)C);
    for (int b = 0; b < B; b++) {
        const float *q = qkv + (size_t)b * 3 * C * N; /* (N, C), row stride 3C */
        const float *k = q + C;
        const float *v = q + 2 * C;
        float *P = probs + (size_t)b * N * N;         /* (N, N) */
        ddpm_sgemm(0, 1, N, N, C, scale, q, 3 * C, k, 3 * C, 0.0f, P, N);
        softmax_rows(P, N);
        ddpm_sgemm(0, 0, N, C, N, 1.0f, P, N, v, 3 * C, 0.0f, out + (size_t)b * N * C, C);
    }
}

void ddpm_attention_backward(float *dqkv,        /* (B, N, 3C) or NULL */
                             float *scratch,     /* ddpm_attention_scratch_floats(C, N) */
                             const float *dout,  /* (B, N, C) */
                             const float *qkv,   /* (B, N, 3C) */
                             const float *probs, /* (B, N, N) */
                             int B, int C, int N)
{
    if (!dqkv) return;
    DDPM_ASSERT(scratch && dout && qkv && probs && B > 0 && C > 0 && N > 0);
    const float scale = 1.0f / sqrtf((float)C);
    float *dS = scratch; /* (N, N): dP, then dS in place */
    for (int b = 0; b < B; b++) {
        const float *q = qkv + (size_t)b * 3 * C * N; /* (N, C), row stride 3C */
        const float *k = q + C;
        const float *v = q + 2 * C;
        float *dq = dqkv + (size_t)b * 3 * C * N;
        float *dk = dq + C;
        float *dv = dq + 2 * C;
        const float *P = probs + (size_t)b * N * N; /* (N, N) */
        const float *dy = dout + (size_t)b * N * C; /* (N, C) */
        ddpm_sgemm(1, 0, N, C, N, 1.0f, P, N, dy, C, 1.0f, dv, 3 * C);     /* dV += P^T dout */
        ddpm_sgemm(0, 1, N, N, C, 1.0f, dy, C, v, 3 * C, 0.0f, dS, N);     /* dP = dout V^T */
        for (int i = 0; i < N; i++) {
            const float *p = P + (size_t)i * N;
            float *d = dS + (size_t)i * N;
            double dot = 0.0;
            for (int j = 0; j < N; j++) dot += (double)d[j] * p[j];
            const float fdot = (float)dot;
            for (int j = 0; j < N; j++) d[j] = p[j] * (d[j] - fdot);
        }
        ddpm_sgemm(0, 0, N, C, N, scale, dS, N, k, 3 * C, 1.0f, dq, 3 * C); /* dQ += dS K / sqrt(C) */
        ddpm_sgemm(1, 0, N, C, N, scale, dS, N, q, 3 * C, 1.0f, dk, 3 * C); /* dK += dS^T Q / sqrt(C) */
    }
}
