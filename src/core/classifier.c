/* classifier.c: the digit classifier's parameter table, forward and backward
 * (see ddpm/classifier.h).  Five layers in a fixed chain, so the forward is
 * written out rather than interpreted from an op list like the UNet's. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddpm/classifier.h"
#include "ddpm/layers.h"
#include "ddpm/rng.h"
#include "ddpm/threads.h"

const char DDPM_CLASSIFIER_ARCHITECTURE[] =
    "conv3x3 1->16 s1, SiLU, conv3x3 16->64 s2, SiLU, conv3x3 64->64 s2, SiLU, "
    "flatten 3136, linear 3136->128 (features, pre-SiLU), SiLU, linear 128->10";

enum { C1 = 16, C2 = 64, C3 = 64, S0 = 28, S1 = 28, S2 = 14, S3 = 7, FLAT = C3 * S3 * S3 };

/* Tensor indices into the table below. */
enum { CONV1_W, CONV1_B, CONV2_W, CONV2_B, CONV3_W, CONV3_B, FC1_W, FC1_B, FC2_W, FC2_B, N_TENSORS };

/* Sizes and offsets are compile-time constants, so the table is immutable
 * and any thread may read it. */
enum {
    N_CONV1_W = C1 * 1 * 9, N_CONV1_B = C1,
    N_CONV2_W = C2 * C1 * 9, N_CONV2_B = C2,
    N_CONV3_W = C3 * C2 * 9, N_CONV3_B = C3,
    N_FC1_W = DDPM_CLASSIFIER_FEATURES * FLAT, N_FC1_B = DDPM_CLASSIFIER_FEATURES,
    N_FC2_W = DDPM_CLASSIFIER_CLASSES * DDPM_CLASSIFIER_FEATURES, N_FC2_B = DDPM_CLASSIFIER_CLASSES,
    O_CONV1_W = 0, O_CONV1_B = O_CONV1_W + N_CONV1_W,
    O_CONV2_W = O_CONV1_B + N_CONV1_B, O_CONV2_B = O_CONV2_W + N_CONV2_W,
    O_CONV3_W = O_CONV2_B + N_CONV2_B, O_CONV3_B = O_CONV3_W + N_CONV3_W,
    O_FC1_W = O_CONV3_B + N_CONV3_B, O_FC1_B = O_FC1_W + N_FC1_W,
    O_FC2_W = O_FC1_B + N_FC1_B, O_FC2_B = O_FC2_W + N_FC2_W,
    N_PARAMS = O_FC2_B + N_FC2_B,
};

static const ddpm_classifier_tensor_info g_table[N_TENSORS] = {
    {"conv1.weight", 4, {C1, 1, 3, 3}, O_CONV1_W, N_CONV1_W},
    {"conv1.bias", 1, {C1}, O_CONV1_B, N_CONV1_B},
    {"conv2.weight", 4, {C2, C1, 3, 3}, O_CONV2_W, N_CONV2_W},
    {"conv2.bias", 1, {C2}, O_CONV2_B, N_CONV2_B},
    {"conv3.weight", 4, {C3, C2, 3, 3}, O_CONV3_W, N_CONV3_W},
    {"conv3.bias", 1, {C3}, O_CONV3_B, N_CONV3_B},
    {"fc1.weight", 2, {DDPM_CLASSIFIER_FEATURES, FLAT}, O_FC1_W, N_FC1_W},
    {"fc1.bias", 1, {DDPM_CLASSIFIER_FEATURES}, O_FC1_B, N_FC1_B},
    {"fc2.weight", 2, {DDPM_CLASSIFIER_CLASSES, DDPM_CLASSIFIER_FEATURES}, O_FC2_W, N_FC2_W},
    {"fc2.bias", 1, {DDPM_CLASSIFIER_CLASSES}, O_FC2_B, N_FC2_B},
};

int ddpm_classifier_num_tensors(void) { return N_TENSORS; }

const ddpm_classifier_tensor_info *ddpm_classifier_tensor(int i)
{
    DDPM_ASSERT(i >= 0 && i < N_TENSORS);
    return &g_table[i];
}

size_t ddpm_classifier_num_params(void) { return N_PARAMS; }

void ddpm_classifier_init(ddpm_classifier *c, uint64_t seed)
{
    DDPM_ASSERT(c);
    memset(c, 0, sizeof *c);
    c->params = ddpm_xmalloc(sizeof(float) * N_PARAMS);
    c->heldout_accuracy = -1.0;
    c->seed = seed;
    /* Tensors alternate weight, bias, so i & ~1 is the weight of tensor i's
     * layer; its fan_in is numel / output channels. */
    for (int i = 0; i < N_TENSORS; i++) {
        const ddpm_classifier_tensor_info *w = &g_table[i & ~1];
        const double bound = 1.0 / sqrt((double)(w->numel / (size_t)w->shape[0]));
        ddpm_rng r;
        ddpm_rng_init(&r, seed, ddpm_rng_stream(DDPM_STREAM_INIT, (uint64_t)i, 1));
        float *p = c->params + g_table[i].offset;
        for (size_t k = 0; k < g_table[i].numel; k++)
            p[k] = (float)((2.0 * ddpm_rng_uniform(&r) - 1.0) * bound);
    }
}

void ddpm_classifier_free(ddpm_classifier *c)
{
    if (!c) return;
    free(c->params);
    memset(c, 0, sizeof *c);
}

/* ---- workspace ------------------------------------------------------------- */

/* Activations, per image, in the order of the forward pass. */
enum { A1, H1, A2, H2, A3, H3, FLATTENED, FEAT, G, LOGITS, PROBS, N_ACTS };
static const size_t act_size[N_ACTS] = {
    C1 * S1 * S1, C1 * S1 * S1, C2 * S2 * S2, C2 * S2 * S2, C3 * S3 * S3, C3 * S3 * S3, FLAT,
    DDPM_CLASSIFIER_FEATURES, DDPM_CLASSIFIER_FEATURES, DDPM_CLASSIFIER_CLASSES,
    DDPM_CLASSIFIER_CLASSES,
};

struct ddpm_classifier_workspace {
    int max_batch, B;
    bool training, have_labels;
    float *arena;             /* activations, then their gradients when training */
    float *act[N_ACTS];       /* (B, act_size[i]) each */
    float *dact[N_ACTS];      /* the same shapes, or NULL */
    size_t act_floats;        /* of all activations for max_batch */
    float *scratch;           /* the largest conv scratch */
    float *wf[3], *wb[3];     /* packed conv weights (forward, input gradient) */
    float *dwf[3];            /* packed conv weight gradients, when training */
    uint8_t *labels;          /* (max_batch) of the last forward */
    const float *x;           /* the input of the last forward (borrowed) */
};

static ddpm_conv2d_dims conv_dims(int layer, int B)
{
    static const int cin[3] = {1, C1, C2}, cout[3] = {C1, C2, C3}, size[3] = {S0, S1, S2},
                     stride[3] = {1, 2, 2};
    ddpm_conv2d_dims d = {.B = B, .C_in = cin[layer], .H = size[layer], .W = size[layer],
                          .C_out = cout[layer], .kernel = 3, .stride = stride[layer], .pad = 1};
    return d;
}

int ddpm_classifier_workspace_create(ddpm_classifier_workspace **out, int max_batch,
                                     bool training, ddpm_error *err)
{
    DDPM_ASSERT(out && max_batch > 0);
    *out = NULL;
    ddpm_classifier_workspace *ws = calloc(1, sizeof *ws);
    if (!ws) return ddpm_fail(err, "out of memory for the classifier workspace");
    ws->max_batch = max_batch;
    ws->training = training;
    size_t per_image = 0;
    for (int i = 0; i < N_ACTS; i++) per_image += act_size[i];
    ws->act_floats = per_image * (size_t)max_batch;
    size_t scratch = 0;
    for (int l = 0; l < 3; l++) {
        ddpm_conv2d_dims d = conv_dims(l, max_batch);
        size_t s = ddpm_conv2d_scratch_floats(&d);
        scratch = s > scratch ? s : scratch;
    }
    ws->arena = malloc(sizeof(float) * ws->act_floats * (training ? 2 : 1));
    ws->scratch = malloc(sizeof(float) * scratch);
    ws->labels = calloc((size_t)max_batch, 1);
    bool packed_ok = true;
    for (int l = 0; l < 3; l++) {
        ddpm_conv2d_dims d = conv_dims(l, 1);
        ws->wf[l] = malloc(sizeof(float) * ddpm_conv2d_wf_floats(&d));
        ws->wb[l] = training ? malloc(sizeof(float) * ddpm_conv2d_wb_floats(&d)) : NULL;
        ws->dwf[l] = training ? malloc(sizeof(float) * ddpm_conv2d_dwf_floats(&d)) : NULL;
        packed_ok = packed_ok && ws->wf[l] && (!training || (ws->wb[l] && ws->dwf[l]));
    }
    if (!ws->arena || !ws->scratch || !ws->labels || !packed_ok) {
        ddpm_classifier_workspace_free(ws);
        return ddpm_fail(err, "out of memory for the classifier workspace (batch %d)", max_batch);
    }
    size_t at = 0;
    for (int i = 0; i < N_ACTS; i++) {
        ws->act[i] = ws->arena + at;
        if (training) ws->dact[i] = ws->arena + ws->act_floats + at;
        at += act_size[i] * (size_t)max_batch;
    }
    *out = ws;
    return DDPM_OK;
}

void ddpm_classifier_workspace_free(ddpm_classifier_workspace *ws)
{
    if (!ws) return;
    free(ws->arena);
    free(ws->scratch);
    free(ws->labels);
    for (int l = 0; l < 3; l++) free(ws->wf[l]), free(ws->wb[l]), free(ws->dwf[l]);
    free(ws);
}

/* ---- forward and backward ---------------------------------------------------- */

static const float *param(const float *params, int tensor)
{
    return params + g_table[tensor].offset;
}

double ddpm_classifier_forward(const float *params, ddpm_classifier_workspace *ws,
                               const float *x, const uint8_t *labels, int B,
                               ddpm_classifier_output *out)
{
    DDPM_ASSERT(params && ws && x && B > 0 && B <= ws->max_batch);
    ws->B = B;
    ws->x = x;
    ws->have_labels = labels != NULL;
    if (labels) {
        for (int b = 0; b < B; b++) DDPM_ASSERT(labels[b] < DDPM_CLASSIFIER_CLASSES);
        memcpy(ws->labels, labels, (size_t)B);
    } else {
        memset(ws->labels, 0, (size_t)B);
    }
    float *const *a = ws->act;
    const float *inp = x;
    for (int l = 0; l < 3; l++) {
        ddpm_conv2d_dims d = conv_dims(l, B);
        ddpm_conv2d_pack_wf(ws->wf[l], param(params, CONV1_W + 2 * l), &d);
        ddpm_conv2d_forward(a[A1 + 2 * l], ws->scratch, inp, ws->wf[l],
                            param(params, CONV1_B + 2 * l), &d);
        ddpm_silu_forward(a[H1 + 2 * l], a[A1 + 2 * l], act_size[A1 + 2 * l] * (size_t)B);
        inp = a[H1 + 2 * l];
    }
    /* The layers are channels-last, (B, 7, 7, 64); fc1 reads PyTorch's
     * flattening order (B, 64, 7, 7), so that the weights mean the same in
     * both (and the shipped classifier stays valid). */
    for (int b = 0; b < B; b++)
        for (int p = 0; p < S3 * S3; p++)
            for (int c = 0; c < C3; c++)
                a[FLATTENED][(size_t)b * FLAT + (size_t)c * S3 * S3 + p] =
                    a[H3][(size_t)b * FLAT + (size_t)p * C3 + c];
    ddpm_linear_forward(a[FEAT], a[FLATTENED], param(params, FC1_W), param(params, FC1_B), B, FLAT,
                        DDPM_CLASSIFIER_FEATURES);
    ddpm_silu_forward(a[G], a[FEAT], act_size[G] * (size_t)B);
    ddpm_linear_forward(a[LOGITS], a[G], param(params, FC2_W), param(params, FC2_B), B,
                        DDPM_CLASSIFIER_FEATURES, DDPM_CLASSIFIER_CLASSES);
    /* The one softmax of the project lives in the cross-entropy; without
     * labels it runs against label 0 and the loss is discarded. */
    double loss = ddpm_softmax_xent_forward(a[PROBS], a[LOGITS], ws->labels, B,
                                            DDPM_CLASSIFIER_CLASSES);
    if (out) {
        out->logits = a[LOGITS];
        out->probs = a[PROBS];
        out->features = a[FEAT];
    }
    return labels ? loss : 0.0;
}

static float *grad(float *grads, int tensor)
{
    return grads + g_table[tensor].offset;
}

void ddpm_classifier_backward(const float *params, float *grads, ddpm_classifier_workspace *ws)
{
    DDPM_ASSERT(params && grads && ws && ws->training && ws->have_labels && ws->B > 0);
    const int B = ws->B;
    float *const *a = ws->act, *const *da = ws->dact;
    memset(ws->dact[0], 0, sizeof(float) * ws->act_floats);
    ddpm_softmax_xent_backward(da[LOGITS], a[PROBS], ws->labels, 1.0f, B, DDPM_CLASSIFIER_CLASSES);
    ddpm_linear_backward(da[G], grad(grads, FC2_W), grad(grads, FC2_B), da[LOGITS], a[G],
                         param(params, FC2_W), B, DDPM_CLASSIFIER_FEATURES, DDPM_CLASSIFIER_CLASSES);
    ddpm_silu_backward(da[FEAT], da[G], a[FEAT], act_size[G] * (size_t)B);
    ddpm_linear_backward(da[FLATTENED], grad(grads, FC1_W), grad(grads, FC1_B), da[FEAT],
                         a[FLATTENED], param(params, FC1_W), B, FLAT, DDPM_CLASSIFIER_FEATURES);
    for (int b = 0; b < B; b++)
        for (int p = 0; p < S3 * S3; p++)
            for (int c = 0; c < C3; c++)
                da[H3][(size_t)b * FLAT + (size_t)p * C3 + c] +=
                    da[FLATTENED][(size_t)b * FLAT + (size_t)c * S3 * S3 + p];
    for (int l = 2; l >= 0; l--) {
        ddpm_silu_backward(da[A1 + 2 * l], da[H1 + 2 * l], a[A1 + 2 * l],
                           act_size[A1 + 2 * l] * (size_t)B);
        ddpm_conv2d_dims d = conv_dims(l, B);
        if (l > 0) ddpm_conv2d_pack_wb(ws->wb[l], param(params, CONV1_W + 2 * l), &d);
        memset(ws->dwf[l], 0, sizeof(float) * ddpm_conv2d_dwf_floats(&d));
        ddpm_conv2d_backward(l > 0 ? da[H1 + 2 * (l - 1)] : NULL, ws->dwf[l],
                             grad(grads, CONV1_B + 2 * l), ws->scratch, da[A1 + 2 * l],
                             l > 0 ? a[H1 + 2 * (l - 1)] : ws->x, l > 0 ? ws->wb[l] : NULL, &d);
        ddpm_conv2d_unpack_grad(grad(grads, CONV1_W + 2 * l), ws->dwf[l], &d);
    }
}

/* ---- inference over any number of images --------------------------------------- */

enum { PREDICT_BATCH = 100 };

/* Batch k of a prediction: images [k max_batch, ...) on the thread's own
 * workspace.  The batches do not depend on the thread count, nor do the bits. */
typedef struct {
    const ddpm_classifier *c;
    const float *x;
    size_t n;
    int max_batch;
    float *probs, *features;
    ddpm_classifier_workspace **ws; /* one per thread */
} predict_job;

static void predict_task(void *ctx, int task, int thread)
{
    const predict_job *j = ctx;
    const size_t per_image = (size_t)DDPM_CLASSIFIER_SIZE * DDPM_CLASSIFIER_SIZE;
    const size_t i = (size_t)task * (size_t)j->max_batch;
    const int B = j->n - i < (size_t)j->max_batch ? (int)(j->n - i) : j->max_batch;
    ddpm_classifier_output o;
    ddpm_classifier_forward(j->c->params, j->ws[thread], j->x + i * per_image, NULL, B, &o);
    if (j->probs)
        memcpy(j->probs + i * DDPM_CLASSIFIER_CLASSES, o.probs,
               sizeof(float) * (size_t)B * DDPM_CLASSIFIER_CLASSES);
    if (j->features)
        memcpy(j->features + i * DDPM_CLASSIFIER_FEATURES, o.features,
               sizeof(float) * (size_t)B * DDPM_CLASSIFIER_FEATURES);
}

void ddpm_classifier_predict(const ddpm_classifier *c, const float *x, size_t n, float *probs,
                             float *features)
{
    DDPM_ASSERT(c && c->params && (x || n == 0));
    if (n == 0) return;
    const int max_batch = n < PREDICT_BATCH ? (int)n : PREDICT_BATCH;
    const size_t batches = (n + (size_t)max_batch - 1) / (size_t)max_batch;
    DDPM_ASSERT(batches <= INT32_MAX);
    /* the batches over ddpm_get_threads() threads (ddpm/threads.h) */
    enum { MAX_THREADS = 64 };
    int threads = ddpm_get_threads();
    if ((size_t)threads > batches) threads = (int)batches;
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    ddpm_pool *pool = threads > 1 ? ddpm_pool_create(threads) : NULL;
    if (!pool) threads = 1;
    ddpm_classifier_workspace *ws[MAX_THREADS];
    for (int t = 0; t < threads; t++) {
        ddpm_error err = {0};
        if (ddpm_classifier_workspace_create(&ws[t], max_batch, false, &err) != DDPM_OK) {
            fprintf(stderr, "ddpm: %s\n", err.msg);
            abort();
        }
    }
    predict_job job = {c, x, n, max_batch, probs, features, ws};
    ddpm_pool_run(pool, (int)batches, predict_task, &job);
    for (int t = 0; t < threads; t++) ddpm_classifier_workspace_free(ws[t]);
    ddpm_pool_free(pool);
}

static int argmax(const float *p, int k)
{
    int best = 0;
    for (int i = 1; i < k; i++)
        if (p[i] > p[best]) best = i;
    return best;
}

double ddpm_classifier_accuracy(const ddpm_classifier *c, const ddpm_dataset *ds)
{
    DDPM_ASSERT(c && ds && ds->labels && ds->n > 0);
    DDPM_ASSERT(ds->height == DDPM_CLASSIFIER_SIZE && ds->width == DDPM_CLASSIFIER_SIZE);
    const size_t hw = (size_t)DDPM_CLASSIFIER_SIZE * DDPM_CLASSIFIER_SIZE;
    float *probs = ddpm_xmalloc(sizeof(float) * ds->n * DDPM_CLASSIFIER_CLASSES);
    float *pixels = ddpm_xmalloc(sizeof(float) * ds->n * hw);
    ddpm_dataset_images(ds, 0, ds->n, pixels);
    ddpm_classifier_predict(c, pixels, ds->n, probs, NULL);
    free(pixels);
    size_t right = 0;
    for (size_t i = 0; i < ds->n; i++)
        right += argmax(probs + i * DDPM_CLASSIFIER_CLASSES, DDPM_CLASSIFIER_CLASSES) == ds->labels[i];
    free(probs);
    return (double)right / (double)ds->n;
}
