/* classifier_train.c: training the digit classifier (see ddpm/classifier.h):
 * Adam with warmup and cosine decay, epoch-permutation batches, random
 * shifts as the only augmentation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ddpm/classifier.h"
#include "ddpm/optim.h"
#include "ddpm/rng.h"

enum { WARMUP_STEPS = 100, MAX_SHIFT_LIMIT = 8 };

ddpm_classifier_train_config ddpm_classifier_train_config_default(void)
{
    ddpm_classifier_train_config c = {.epochs = 12, .batch = 64, .lr = 2e-3, .max_shift = 2, .seed = 0};
    return c;
}

static int check_data(const ddpm_dataset *ds, const char *what, ddpm_error *err)
{
    if (!ds || ds->n == 0) return ddpm_fail(err, "the %s set is empty; use the bundled digits", what);
    if (ds->channels != 1 || ds->height != DDPM_CLASSIFIER_SIZE || ds->width != DDPM_CLASSIFIER_SIZE)
        return ddpm_fail(err, "the %s set '%s' has %dx%dx%d images; the classifier takes 1x28x28 digits",
                         what, ds->name, ds->channels, ds->height, ds->width);
    if (!ds->labels || ds->num_classes > DDPM_CLASSIFIER_CLASSES)
        return ddpm_fail(err, "the %s set '%s' needs labels 0..9; use the bundled digits", what, ds->name);
    return DDPM_OK;
}

/* Shifts each (28, 28) image by its own (dx, dy), filling with the background -1. */
static void shift_images(float *x, int B, int max_shift, ddpm_rng *r, float *tmp)
{
    const int S = DDPM_CLASSIFIER_SIZE;
    for (int b = 0; b < B; b++) {
        const int dx = (int)ddpm_rng_below(r, (uint32_t)(2 * max_shift + 1)) - max_shift;
        const int dy = (int)ddpm_rng_below(r, (uint32_t)(2 * max_shift + 1)) - max_shift;
        float *img = x + (size_t)b * S * S;
        memcpy(tmp, img, sizeof(float) * S * S);
        for (int y = 0; y < S; y++)
            for (int xx = 0; xx < S; xx++) {
                const int sy = y - dy, sx = xx - dx;
                img[y * S + xx] = (sy >= 0 && sy < S && sx >= 0 && sx < S) ? tmp[sy * S + sx] : -1.0f;
            }
    }
}

static int argmax(const float *p, int k)
{
    int best = 0;
    for (int i = 1; i < k; i++)
        if (p[i] > p[best]) best = i;
    return best;
}

int ddpm_classifier_train(ddpm_classifier *c, const ddpm_classifier_train_config *cfg,
                          const ddpm_dataset *train, const ddpm_dataset *heldout,
                          ddpm_classifier_train_callback callback, void *ctx, ddpm_error *err)
{
    DDPM_ASSERT(c && c->params && cfg);
    if (cfg->epochs < 1 || cfg->batch < 1 || cfg->batch > 4096)
        return ddpm_fail(err, "classifier training needs epochs >= 1 and a batch of 1..4096 (got %d, %d)",
                         cfg->epochs, cfg->batch);
    if (cfg->max_shift < 0 || cfg->max_shift > MAX_SHIFT_LIMIT)
        return ddpm_fail(err, "shift augmentation of %d px; use 0..%d", cfg->max_shift, MAX_SHIFT_LIMIT);
    if (check_data(train, "training", err) != DDPM_OK) return DDPM_ERR;
    if (heldout && check_data(heldout, "held-out", err) != DDPM_OK) return DDPM_ERR;

    const int B = cfg->batch, K = DDPM_CLASSIFIER_CLASSES;
    const int64_t steps_per_epoch = ((int64_t)train->n + B - 1) / B;
    const int64_t total = steps_per_epoch * cfg->epochs;
    const size_t n_params = ddpm_classifier_num_params();
    const size_t per_image = (size_t)DDPM_CLASSIFIER_SIZE * DDPM_CLASSIFIER_SIZE;

    ddpm_adam_config ac = ddpm_adam_config_default();
    ac.lr = cfg->lr;
    ac.warmup_steps = total > 10 * WARMUP_STEPS ? WARMUP_STEPS : (int)(total / 10);
    ac.grad_clip = 0.0;
    ddpm_adam opt = {0};
    ddpm_classifier_workspace *ws = NULL;
    if (ddpm_adam_init(&opt, n_params, &ac, err) != DDPM_OK) return DDPM_ERR;
    if (ddpm_classifier_workspace_create(&ws, B, true, err) != DDPM_OK) {
        ddpm_adam_free(&opt);
        return DDPM_ERR;
    }
    float *grads = ddpm_xmalloc(sizeof(float) * n_params);
    float *x = ddpm_xmalloc(sizeof(float) * per_image * (size_t)B);
    float *tmp = ddpm_xmalloc(sizeof(float) * per_image);
    uint8_t *labels = ddpm_xmalloc((size_t)B);
    uint32_t *indices = ddpm_xmalloc(sizeof(uint32_t) * (size_t)B);
    ddpm_batch_sampler bs;
    ddpm_batch_sampler_init(&bs, train->n, cfg->seed);

    int rc = DDPM_OK;
    const double t0 = ddpm_now();
    int64_t step = 0;
    for (int epoch = 1; epoch <= cfg->epochs && rc == DDPM_OK; epoch++) {
        double loss_sum = 0.0;
        int64_t right = 0, seen = 0;
        for (int64_t s = 0; s < steps_per_epoch; s++, step++) {
            ddpm_batch_sampler_draw(&bs, (uint64_t)step, (size_t)B, indices);
            ddpm_dataset_gather(train, indices, (size_t)B, x, labels);
            if (cfg->max_shift > 0) {
                ddpm_rng r;
                ddpm_rng_init(&r, cfg->seed, ddpm_rng_stream(DDPM_STREAM_TRAIN, (uint64_t)step, 1));
                shift_images(x, B, cfg->max_shift, &r, tmp);
            }
            /* cosine decay (Loshchilov & Hutter 2017, no restarts) under Adam's warmup */
            opt.cfg.lr = cfg->lr * 0.5 * (1.0 + cos(M_PI * (double)step / (double)total));
            ddpm_classifier_output out;
            const double loss = ddpm_classifier_forward(c->params, ws, x, labels, B, &out);
            if (!isfinite(loss)) {
                rc = ddpm_fail(err, "the classifier's loss became %g at step %lld; lower the learning rate",
                               loss, (long long)step);
                break;
            }
            for (int b = 0; b < B; b++) right += argmax(out.probs + (size_t)b * K, K) == labels[b];
            seen += B;
            loss_sum += loss;
            memset(grads, 0, sizeof(float) * n_params);
            ddpm_classifier_backward(c->params, grads, ws);
            ddpm_adam_step(&opt, c->params, grads);
            ddpm_classifier_epoch_stats st = {
                .epoch = epoch, .epochs = cfg->epochs, .step = step + 1, .total_steps = total,
                .loss = loss_sum / (double)(s + 1), .train_accuracy = (double)right / (double)seen,
                .heldout_accuracy = -1.0, .seconds = ddpm_now() - t0};
            if (callback && !callback(ctx, &st, false)) {
                rc = ddpm_fail(err, "cancelled");
                break;
            }
        }
        if (rc != DDPM_OK) break;
        c->epochs = epoch;
        c->heldout_accuracy = heldout ? ddpm_classifier_accuracy(c, heldout) : -1.0;
        ddpm_classifier_epoch_stats st = {
            .epoch = epoch, .epochs = cfg->epochs, .step = step, .total_steps = total,
            .loss = loss_sum / (double)steps_per_epoch, .train_accuracy = (double)right / (double)seen,
            .heldout_accuracy = c->heldout_accuracy, .seconds = ddpm_now() - t0};
        if (callback && !callback(ctx, &st, true)) rc = ddpm_fail(err, "cancelled");
    }
    c->seed = cfg->seed;
    ddpm_batch_sampler_free(&bs);
    free(indices);
    free(labels);
    free(tmp);
    free(x);
    free(grads);
    ddpm_classifier_workspace_free(ws);
    ddpm_adam_free(&opt);
    return rc;
}
