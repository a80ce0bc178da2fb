/* ddpm/classifier.h: the small digit classifier that scores samples
 * (ddpm/quality.h), built only from the layer kit of ddpm/layers.h.
 *
 *   ddpm_classifier clf;
 *   char path[4096];
 *   ddpm_classifier_default_path(path, sizeof path);        // <assets>/classifier.safetensors
 *   if (ddpm_classifier_load(&clf, path, &err) != 0) ...;    // names the file and the fix
 *   float *probs = malloc(sizeof(float) * n * DDPM_CLASSIFIER_CLASSES);
 *   float *feats = malloc(sizeof(float) * n * DDPM_CLASSIFIER_FEATURES);
 *   ddpm_classifier_predict(&clf, x, n, probs, feats);       // x: (n, 1, 28, 28) in [-1, 1]
 *   ddpm_classifier_free(&clf);
 *
 * Architecture (fixed; stride-2 convolutions instead of pooling):
 *   x (1, 28, 28)
 *   conv1 3x3 1->16, stride 1   (16, 28, 28)   SiLU
 *   conv2 3x3 16->64, stride 2  (64, 14, 14)   SiLU
 *   conv3 3x3 64->64, stride 2  (64, 7, 7)     SiLU
 *   flatten (3136), fc1 linear -> 128          = the FEATURES
 *   SiLU, fc2 linear -> 10                     = the logits; softmax = probs
 * 449,194 parameters (1.8 MB as F32), 4.1 M multiply-adds per image.
 *
 * The features are fc1's output BEFORE its SiLU.  The Frechet distance
 * models features as a Gaussian; the pre-activation is an affine map of the
 * conv features and much closer to Gaussian than SiLU's output, which is
 * bounded below (by -0.28) and piles up there.
 *
 * Weights are one flat float array laid out by the parameter table
 * (ddpm_classifier_tensor), PyTorch-style names and shapes ("conv1.weight"
 * (32, 1, 3, 3), "fc1.weight" (128, 3136), ...), so the safetensors file is
 * also a PyTorch state dict of the same network.
 *
 * Ownership: a ddpm_classifier filled by init or a successful load owns
 * `params`; ddpm_classifier_free releases it.  A workspace belongs to one
 * thread at a time and its outputs stay valid until its next forward.
 */
#ifndef DDPM_CLASSIFIER_H
#define DDPM_CLASSIFIER_H

#include "ddpm/common.h"
#include "ddpm/dataset.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
    DDPM_CLASSIFIER_SIZE = 28,       /* input images are (1, 28, 28) */
    DDPM_CLASSIFIER_CLASSES = 10,
    DDPM_CLASSIFIER_FEATURES = 128,  /* penultimate width */
    DDPM_CLASSIFIER_FORMAT_VERSION = 1,
};

/* The architecture in one line, as stored in the file's metadata. */
extern const char DDPM_CLASSIFIER_ARCHITECTURE[];

typedef struct ddpm_classifier_tensor_info {
    const char *name;
    int ndim;
    int shape[4];
    size_t offset;   /* into the flat parameter array, in floats */
    size_t numel;
} ddpm_classifier_tensor_info;

int ddpm_classifier_num_tensors(void);
const ddpm_classifier_tensor_info *ddpm_classifier_tensor(int i);
size_t ddpm_classifier_num_params(void);

typedef struct ddpm_classifier {
    float *params;            /* (ddpm_classifier_num_params()) owned */
    /* provenance, stored in the file's metadata */
    double heldout_accuracy;  /* on the bundled digits' held-out 1,000; -1 if unknown */
    uint64_t seed;
    int epochs;
} ddpm_classifier;

/* Allocates params with PyTorch's default initialisation (uniform
 * +-1/sqrt(fan_in) for weights and biases), deterministic in seed. */
void ddpm_classifier_init(ddpm_classifier *c, uint64_t seed);
/* Releases params and zeroes *c; safe on a zeroed classifier. */
void ddpm_classifier_free(ddpm_classifier *c);

/* ---- running it ------------------------------------------------------------ */

typedef struct ddpm_classifier_workspace ddpm_classifier_workspace;

/* training = true also allocates the activation gradients.  Returns DDPM_ERR
 * only when out of memory. */
int ddpm_classifier_workspace_create(ddpm_classifier_workspace **out, int max_batch,
                                     bool training, ddpm_error *err);
void ddpm_classifier_workspace_free(ddpm_classifier_workspace *ws);

/* What a forward pass hands out; arrays owned by the workspace. */
typedef struct ddpm_classifier_output {
    const float *logits;    /* (B, 10) */
    const float *probs;     /* (B, 10) softmax of the logits */
    const float *features;  /* (B, 128) fc1 output before SiLU */
} ddpm_classifier_output;

/* Forward pass of B <= max_batch images (B, 1, 28, 28).  With labels (B) it
 * returns the mean cross-entropy, otherwise 0. */
double ddpm_classifier_forward(const float *params, ddpm_classifier_workspace *ws,
                               const float *x, const uint8_t *labels, int B,
                               ddpm_classifier_output *out);

/* Backward pass of the last forward, which must have had labels and a
 * training workspace: accumulates d(mean cross-entropy)/d(params) into grads
 * (num_params floats; zero them first yourself). */
void ddpm_classifier_backward(const float *params, float *grads, ddpm_classifier_workspace *ws);

/* Classifies n images (n, 1, 28, 28) of any count in batches of 100, shared
 * out over ddpm_get_threads() threads (the same bits at any count).  probs
 * (n, 10) and features (n, 128) may each be NULL.  Allocation failure is
 * fatal (sizes are the program's own). */
void ddpm_classifier_predict(const ddpm_classifier *c, const float *x, size_t n, float *probs,
                             float *features);

/* Fraction of ds's images whose argmax matches their label (ds needs labels). */
double ddpm_classifier_accuracy(const ddpm_classifier *c, const ddpm_dataset *ds);

/* ---- training ---------------------------------------------------------------
 * Adam on softmax cross-entropy over the images of `train`, in the epoch
 * order of ddpm_batch_sampler (seed), with a linear warmup and a cosine decay
 * of the learning rate, and each image shifted by a random (dx, dy) in
 * [-max_shift, max_shift]^2 (background fill) drawn from the stream
 * (seed, DDPM_STREAM_TRAIN, step, 1).  Deterministic in seed. */
typedef struct ddpm_classifier_train_config {
    int epochs;
    int batch;
    double lr;         /* peak learning rate */
    int max_shift;     /* pixels; 0 = no augmentation */
    uint64_t seed;
} ddpm_classifier_train_config;

/* 12 epochs, batch 64, lr 2e-3, shifts of +-2 px, seed 0: what made the bundled file. */
ddpm_classifier_train_config ddpm_classifier_train_config_default(void);

typedef struct ddpm_classifier_epoch_stats {
    int epoch, epochs;          /* 1-based */
    int64_t step, total_steps;  /* optimizer steps done / planned */
    double loss;                /* mean training loss over the epoch */
    double train_accuracy;      /* over the epoch's (augmented) batches */
    double heldout_accuracy;    /* on `heldout` after the epoch; -1 without one */
    double seconds;             /* since training started */
} ddpm_classifier_epoch_stats;

/* Called after every optimizer step (epoch_done false, loss/accuracy so far
 * in the epoch) and after every epoch (epoch_done true).  Return false to
 * stop (training then returns DDPM_ERR "cancelled"). */
typedef bool (*ddpm_classifier_train_callback)(void *ctx, const ddpm_classifier_epoch_stats *s,
                                               bool epoch_done);

/* Trains c (initialised with ddpm_classifier_init) in place.  heldout may be
 * NULL; when given, c->heldout_accuracy is its final accuracy.  Images must be
 * (1, 28, 28) with labels < 10.  Returns DDPM_ERR for unfit data, a
 * non-finite loss, or a cancel. */
int ddpm_classifier_train(ddpm_classifier *c, const ddpm_classifier_train_config *cfg,
                          const ddpm_dataset *train, const ddpm_dataset *heldout,
                          ddpm_classifier_train_callback callback, void *ctx, ddpm_error *err);

/* ---- files (classifier_io.c) --------------------------------------------------
 * A safetensors file (ddpm/safetensors.h) with the tensors of the parameter
 * table and "__metadata__": format = "ddpm-lab-classifier", format_version,
 * architecture, heldout_accuracy, seed, epochs, dataset, created_by. */

/* "<assets>/classifier.safetensors": $DDPM_ASSETS, else the build's DDPM_ASSET_DIR. */
void ddpm_classifier_default_path(char *buf, size_t cap);
/* The classifier that scores samples of a dataset spec: "fashion" ->
 * "<assets>/classifier-fashion.safetensors" (trained on Fashion-MNIST), every
 * other spec (the digits, a folder of MNIST digits) -> the default above. */
void ddpm_classifier_path_for(const char *dataset, char *buf, size_t cap);

/* Writes atomically. */
int ddpm_classifier_save(const ddpm_classifier *c, const char *path, ddpm_error *err);

/* Loads and validates: the format and version, every tensor's name and shape
 * (no missing or extra tensor), finite values.  On DDPM_ERR *c is zeroed and
 * err names the file and says to retrain it with `ddpm eval --train-classifier`. */
int ddpm_classifier_load(ddpm_classifier *c, const char *path, ddpm_error *err);

#ifdef __cplusplus
}
#endif
#endif
