/* ddpm/dataset.h: the training samples, images (kept as their files' bytes,
 * handed out as floats in [-1, 1]) or points (kept as floats), and the
 * deterministic order in which training visits them.
 *
 *   ddpm_dataset ds;
 *   if (ddpm_dataset_open(&ds, "digits", DDPM_SPLIT_TRAIN, &err) != 0) ...;  // 9,000 images
 *   // ds.bytes: (ds.n, 1, ds.height, ds.width); ds.labels: (ds.n) or NULL
 *
 *   ddpm_batch_sampler bs;
 *   ddpm_batch_sampler_init(&bs, ds.n, seed);
 *   uint32_t idx[64];
 *   ddpm_batch_sampler_draw(&bs, step, 64, idx);       // same (seed, step) -> same batch
 *   ddpm_dataset_gather(&ds, idx, 64, x0, labels);     // x0: (64, 1, H, W)
 *   ddpm_batch_sampler_free(&bs);
 *   ddpm_dataset_free(&ds);
 *
 * Datasets, by spec (ddpm_dataset_open):
 *   "digits"   (the default) 10,000 MNIST digits bundled in assets/digits/
 *              (see assets/README.md).  Held-out = the file's last 1,000
 *              (100 per class), train = the other 9,000.  The assets folder
 *              is DDPM_ASSET_DIR (set at build time) unless the environment
 *              variable DDPM_ASSETS names another.
 *   "fashion"  Fashion-MNIST from Debian's dataset-fashion-mnist package in
 *              DDPM_FASHION_DIR.  Train = 60,000 train files, held-out =
 *              10,000 t10k files.
 *   "moons", "swissroll", "gaussians8", "checkerboard", "rings"
 *              the 2D world's built-in point sets (ddpm/points.h): 20,000
 *              training points (seed 0) and 2,000 held-out ones (seed 1).
 *   a file     of points, CSV (ddpm/points.h); every split is the whole file.
 *   a folder   holding MNIST-family IDX files under their usual names
 *              (train-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz],
 *              also spelled train-images.idx3-ubyte), directly or in
 *              torchvision's MNIST/raw or FashionMNIST/raw.  Splits as for
 *              "fashion".  A folder called "digits" or "fashion" needs a
 *              path prefix: "./digits".
 * DDPM_SPLIT_ALL is train followed by held-out (for a folder, whichever of
 * the two it has).  Label files are optional for folders: without them
 * labels is NULL.
 *
 * A point set is a dataset of samples (D, 1, 1): channels = D, height =
 * width = 1, `points` holds them and `bytes` is NULL.
 *
 * Pixels are x / 127.5 - 1 for bytes x, so 0 -> -1 and 255 -> +1 exactly.
 * The bytes are what is kept (a quarter of the floats: 7 MiB for the digits,
 * 47 MiB for Fashion-MNIST); ddpm_dataset_gather and ddpm_dataset_images
 * convert as they copy.
 *
 * Ownership: a dataset filled by a successful open owns bytes and labels;
 * ddpm_dataset_free releases them.  On failure nothing is left to free.
 */
#ifndef DDPM_DATASET_H
#define DDPM_DATASET_H

#include "ddpm/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DDPM_FASHION_DIR "/usr/share/datasets/fashion-mnist"

enum { DDPM_DIGITS_HELDOUT = 1000 };  /* the bundled digits' held-out tail */

typedef enum {
    DDPM_SPLIT_TRAIN,     /* what training sees */
    DDPM_SPLIT_HELDOUT,   /* never trained on; for evaluation */
    DDPM_SPLIT_ALL,       /* train, then held-out */
    DDPM_SPLIT_COUNT
} ddpm_split;

typedef struct ddpm_dataset {
    char name[256];      /* "digits", "fashion", a point set, or the file or folder it came from */
    size_t n;            /* number of samples */
    int channels;        /* 1 for images; D for points */
    int height, width;   /* 28 x 28 for the MNIST family; 1 x 1 for points */
    uint8_t *bytes;      /* images: (n, 1, height, width), 0..255 as in the files; owned; NULL for points */
    float *points;       /* points: (n, D); owned; NULL for images */
    uint8_t *labels;     /* (n) class of each image, or NULL without labels; owned */
    int num_classes;     /* 1 + the largest label; 0 without labels */
} ddpm_dataset;

/* "train", "heldout", "all".  Parse also accepts "test" for held-out; an
 * unknown name is a runtime error that lists the valid ones. */
const char *ddpm_split_name(ddpm_split split);
int ddpm_split_parse(const char *name, ddpm_split *out, ddpm_error *err);

/* Opens a dataset by spec (see above; NULL or "" means "digits").
 * Returns DDPM_OK, or DDPM_ERR with a message naming what is missing and how
 * to get it. */
int ddpm_dataset_open(ddpm_dataset *ds, const char *spec, ddpm_split split, ddpm_error *err);

/* The same, for one kind of source with an explicit location:
 * assets_dir: the folder holding digits/ (NULL: $DDPM_ASSETS, else DDPM_ASSET_DIR);
 * root: the Fashion-MNIST folder (NULL: DDPM_FASHION_DIR);
 * dir: a folder of MNIST-family files. */
int ddpm_dataset_open_digits(ddpm_dataset *ds, const char *assets_dir, ddpm_split split,
                             ddpm_error *err);
int ddpm_dataset_open_fashion(ddpm_dataset *ds, const char *root, ddpm_split split,
                              ddpm_error *err);
int ddpm_dataset_open_dir(ddpm_dataset *ds, const char *dir, ddpm_split split, ddpm_error *err);

/* Whether spec names points (a built-in point set or a file) rather than
 * images, without opening it. */
bool ddpm_dataset_spec_is_points(const char *spec);

/* Releases bytes, points and labels and zeroes *ds; safe on a zeroed dataset. */
void ddpm_dataset_free(ddpm_dataset *ds);

/* The name of class `label` of a labelled dataset: Fashion-MNIST's ten
 * (Xiao, Rasul & Vollgraf 2017: "T-shirt/top", "Trouser", ... "Ankle boot"),
 * NULL for the digits (the label is the name) and for other datasets. */
const char *ddpm_dataset_class_name(const ddpm_dataset *ds, int label);

/* Pixels of n bytes: out[i] = in[i] / 127.5 - 1 (0 -> -1, 255 -> +1 exactly). */
void ddpm_pixels_from_bytes(float *out, const uint8_t *in, size_t n);

/* A point set from memory: copies pts (n, D), names it `name`.  n >= 1 and
 * 1 <= D <= DDPM_MLP_MAX_DIM; every value finite (runtime errors). */
int ddpm_dataset_from_points(ddpm_dataset *ds, const char *name, const float *pts, size_t n, int D,
                             ddpm_error *err);

/* Samples first .. first+count-1 as floats into out (count, C, height,
 * width); first + count <= ds->n (asserted). */
void ddpm_dataset_images(const ddpm_dataset *ds, size_t first, size_t count, float *out);

/* Copies samples indices[0..count) into pixels (count, C, H, W) and, when
 * labels is not NULL, their labels into labels (count); labels needs
 * ds->labels.  Every index must be < ds->n (asserted). */
void ddpm_dataset_gather(const ddpm_dataset *ds, const uint32_t *indices, size_t count,
                         float *pixels, uint8_t *labels);

/* ---- batch order (batch_sampler.c) ----------------------------------------
 * Training step s takes positions s*B .. s*B+B-1 of an endless sequence of
 * epochs; each epoch is a fresh permutation of 0..n-1 drawn from the stream
 * (seed, DDPM_STREAM_DATA, epoch).  So every image is seen once per epoch,
 * and the batch of a step depends only on (n, seed, step, B): a resumed run
 * sees the same batches as one that never stopped.  The sampler caches the
 * current epoch's permutation; that cache changes no result. */
typedef struct ddpm_batch_sampler {
    size_t n;             /* dataset size, 1 .. UINT32_MAX */
    uint64_t seed;
    uint32_t *order;      /* (n) permutation of the cached epoch; owned */
    uint64_t epoch;       /* which epoch `order` holds, valid when has_epoch */
    bool has_epoch;
} ddpm_batch_sampler;

void ddpm_batch_sampler_init(ddpm_batch_sampler *bs, size_t n, uint64_t seed);
void ddpm_batch_sampler_free(ddpm_batch_sampler *bs);
/* Fills indices[0..batch) (each < n) for training step `step`. */
void ddpm_batch_sampler_draw(ddpm_batch_sampler *bs, uint64_t step, size_t batch,
                             uint32_t *indices);

#ifdef __cplusplus
}
#endif
#endif
