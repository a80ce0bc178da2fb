/* loss.c: the two training losses.  MSE between the network output and its
 * target is DDPM's simplified objective (Ho et al. 2020, eq. 14); softmax
 * cross-entropy trains the classifier.
 * Reductions are in double and the value is returned as double. */
#include "ddpm/common.h"
#include "ddpm/layers.h"

#include <math.h>

double ddpm_mse_forward(const float *pred,   /* (n) */
                        const float *target, /* (n) */
                        size_t n)
{
    DDPM_ASSERT(pred && target && n > 0);
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double e = (double)pred[i] - target[i];
        sum += e * e;
    }
    return sum / (double)n;
}

void ddpm_mse_backward(float *dpred,        /* (n) or NULL */
                       const float *pred,   /* (n) */
                       const float *target, /* (n) */
                       float scale, size_t n)
{
    if (!dpred) return;
    DDPM_ASSERT(pred && target && n > 0);
    const float k = (float)(2.0 * scale / (double)n); /* d/dpred of mean (pred - target)^2 */
    for (size_t i = 0; i < n; i++) dpred[i] += k * (pred[i] - target[i]);
}

double ddpm_softmax_xent_forward(float *probs,          /* (B, K) */
                                 const float *logits,   /* (B, K) */
                                 const uint8_t *labels, /* (B) */
                                 int B, int K)
{
    DDPM_ASSERT(probs && logits && labels && B > 0 && K > 0);
    double loss = 0.0;
    for (int b = 0; b < B; b++) {
        const float *z = logits + (size_t)b * K;
        float *pr = probs + (size_t)b * K;
        DDPM_ASSERT(labels[b] < K);
        /* Subtracting the row max keeps every exp in (0, 1]. */
        float zmax = z[0];
        for (int k = 1; k < K; k++) zmax = z[k] > zmax ? z[k] : zmax;
        double sum = 0.0;
        for (int k = 0; k < K; k++) sum += exp((double)z[k] - zmax);
        for (int k = 0; k < K; k++) pr[k] = (float)(exp((double)z[k] - zmax) / sum);
        /* -log p_label = log sum exp(z - zmax) - (z_label - zmax), without log(0) */
        loss += log(sum) - ((double)z[labels[b]] - zmax);
    }
    return loss / B;
}

void ddpm_softmax_xent_backward(float *dlogits,        /* (B, K) or NULL */
                                const float *probs,    /* (B, K) */
                                const uint8_t *labels, /* (B) */
                                float scale, int B, int K)
{
    if (!dlogits) return;
    DDPM_ASSERT(probs && labels && B > 0 && K > 0);
    const float k_scale = scale / (float)B;
    for (int b = 0; b < B; b++) {
        DDPM_ASSERT(labels[b] < K);
        for (int k = 0; k < K; k++) {
            const float onehot = k == labels[b] ? 1.0f : 0.0f;
            dlogits[(size_t)b * K + k] += (probs[(size_t)b * K + k] - onehot) * k_scale;
        }
    }
}
