/* quality.c: confidence, label entropy, inception score and Frechet distance
 * of a set of images, and the held-out reference and real-digit floor they
 * are judged against (see ddpm/quality.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ddpm/quality.h"

enum { K = DDPM_CLASSIFIER_CLASSES, F = DDPM_CLASSIFIER_FEATURES };

void ddpm_quality_from_outputs(const float *probs,    /* (n, 10) */
                               const float *features, /* (n, 128) or NULL when ref is NULL */
                               size_t n, const ddpm_feature_stats *ref, ddpm_quality *out)
{
    DDPM_ASSERT(probs && n >= 1 && out && (!ref || (features && ref->dim == F)));
    memset(out, 0, sizeof *out);
    out->n = n;
    double marginal[K] = {0}, counts[K] = {0}, confidence = 0.0;
    for (size_t i = 0; i < n; i++) {
        const float *p = probs + i * K;
        int best = 0;
        for (int k = 0; k < K; k++) {
            marginal[k] += p[k];
            if (p[k] > p[best]) best = k;
        }
        confidence += p[best];
        counts[best] += 1.0;
    }
    out->confidence = confidence / (double)n;
    /* H = -sum_k h_k ln h_k over the predicted-label histogram h */
    double entropy = 0.0;
    for (int k = 0; k < K; k++) {
        const double h = counts[k] / (double)n;
        if (h > 0.0) entropy -= h * log(h);
        marginal[k] /= (double)n;
    }
    out->entropy = entropy;
    /* IS = exp(E_x sum_y p(y|x) (ln p(y|x) - ln p(y))); 0 ln 0 = 0 */
    double kl = 0.0;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < K; k++) {
            const double p = probs[i * K + k];
            if (p > 0.0) kl += p * (log(p) - log(marginal[k]));
        }
    out->inception_score = exp(kl / (double)n);
    out->fd = -1.0;
    if (ref) {
        ddpm_feature_stats st;
        ddpm_feature_stats_compute(&st, features, n, F);
        out->fd = ddpm_frechet_distance(&st, ref);
        ddpm_feature_stats_free(&st);
    }
}

/* The held-out statistics from the held-out split (which it frees); ref->train is open. */
static int reference_from(ddpm_quality_reference *ref, ddpm_dataset *heldout)
{
    const size_t hw = (size_t)heldout->height * heldout->width;
    float *features = ddpm_xmalloc(sizeof(float) * heldout->n * F);
    float *pixels = ddpm_xmalloc(sizeof(float) * heldout->n * hw);
    ddpm_dataset_images(heldout, 0, heldout->n, pixels);
    ddpm_classifier_predict(ref->classifier, pixels, heldout->n, NULL, features);
    ddpm_feature_stats_compute(&ref->heldout, features, heldout->n, F);
    free(pixels);
    free(features);
    ddpm_dataset_free(heldout);
    return DDPM_OK;
}

int ddpm_quality_reference_init(ddpm_quality_reference *ref, const ddpm_classifier *c,
                                const char *assets_dir, ddpm_error *err)
{
    DDPM_ASSERT(ref && c && c->params);
    memset(ref, 0, sizeof *ref);
    ref->classifier = c;
    ddpm_dataset heldout;
    if (ddpm_dataset_open_digits(&heldout, assets_dir, DDPM_SPLIT_HELDOUT, err) != DDPM_OK)
        return DDPM_ERR;
    if (ddpm_dataset_open_digits(&ref->train, assets_dir, DDPM_SPLIT_TRAIN, err) != DDPM_OK) {
        ddpm_dataset_free(&heldout);
        return DDPM_ERR;
    }
    return reference_from(ref, &heldout);
}

int ddpm_quality_reference_open(ddpm_quality_reference *ref, const ddpm_classifier *c, const char *spec,
                                ddpm_error *err)
{
    DDPM_ASSERT(ref && c && c->params);
    memset(ref, 0, sizeof *ref);
    ref->classifier = c;
    ddpm_dataset heldout;
    if (ddpm_dataset_open(&heldout, spec, DDPM_SPLIT_HELDOUT, err) != DDPM_OK) return DDPM_ERR;
    if (ddpm_dataset_open(&ref->train, spec, DDPM_SPLIT_TRAIN, err) != DDPM_OK) {
        ddpm_dataset_free(&heldout);
        return DDPM_ERR;
    }
    if (!heldout.bytes || heldout.channels != 1 || heldout.height != DDPM_CLASSIFIER_SIZE ||
        heldout.width != DDPM_CLASSIFIER_SIZE) {
        ddpm_dataset_free(&heldout);
        ddpm_dataset_free(&ref->train);
        return ddpm_fail(err, "'%s' does not hold 28x28 gray images; the classifier scores those", heldout.name);
    }
    return reference_from(ref, &heldout);
}

void ddpm_quality_reference_free(ddpm_quality_reference *ref)
{
    if (!ref) return;
    ddpm_feature_stats_free(&ref->heldout);
    ddpm_dataset_free(&ref->train);
    memset(ref, 0, sizeof *ref);
}

void ddpm_quality_score(const ddpm_quality_reference *ref, const float *images, size_t n,
                        ddpm_quality *out)
{
    DDPM_ASSERT(ref && ref->classifier && images && n >= 1);
    float *probs = ddpm_xmalloc(sizeof(float) * n * K);
    float *features = ddpm_xmalloc(sizeof(float) * n * F);
    ddpm_classifier_predict(ref->classifier, images, n, probs, features);
    ddpm_quality_from_outputs(probs, features, n, &ref->heldout, out);
    free(features);
    free(probs);
}

void ddpm_quality_floor(const ddpm_quality_reference *ref, size_t n, ddpm_quality *out)
{
    DDPM_ASSERT(ref && ref->train.n > 0 && n >= 1);
    const size_t total = ref->train.n;
    if (n > total) n = total;
    uint32_t *indices = ddpm_xmalloc(sizeof(uint32_t) * n);
    for (size_t i = 0; i < n; i++) indices[i] = (uint32_t)(i * total / n);  /* evenly strided */
    const size_t per_image = (size_t)ref->train.height * ref->train.width;
    float *images = ddpm_xmalloc(sizeof(float) * n * per_image);
    ddpm_dataset_gather(&ref->train, indices, n, images, NULL);
    ddpm_quality_score(ref, images, n, out);
    free(images);
    free(indices);
}
