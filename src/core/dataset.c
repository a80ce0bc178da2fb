/* dataset.c: opening the bundled digits, Fashion-MNIST, a folder of IDX
 * files or a point set, and handing out samples as floats (images: bytes
 * into [-1, 1]) (see ddpm/dataset.h). */
#include "ddpm/dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddpm/fileio.h"
#include "ddpm/idx.h"
#include "ddpm/mlp.h"
#include "ddpm/points.h"

#ifndef DDPM_ASSET_DIR  /* CMake defines it; a bare compile (the fuzzer) may not */
#define DDPM_ASSET_DIR "assets"
#endif

/* ---- splits ------------------------------------------------------------- */

static const char *const split_names[DDPM_SPLIT_COUNT] = {"train", "heldout", "all"};

const char *ddpm_split_name(ddpm_split split)
{
    return (int)split >= 0 && split < DDPM_SPLIT_COUNT ? split_names[split] : "unknown";
}

int ddpm_split_parse(const char *name, ddpm_split *out, ddpm_error *err)
{
    DDPM_ASSERT(out);
    for (int i = 0; name && i < DDPM_SPLIT_COUNT; i++) {
        if (strcmp(name, split_names[i]) == 0) {
            *out = (ddpm_split)i;
            return DDPM_OK;
        }
    }
    if (name && (strcmp(name, "test") == 0 || strcmp(name, "held-out") == 0)) {
        *out = DDPM_SPLIT_HELDOUT;
        return DDPM_OK;
    }
    return ddpm_fail(err, "unknown split '%s': use train, heldout or all", name ? name : "(null)");
}

/* ---- bytes to floats ------------------------------------------------------ */

/* A contiguous run [first, first + count) of an image file and its labels. */
typedef struct {
    const ddpm_idx *images;
    const ddpm_idx *labels;  /* data NULL when there are none */
    size_t first, count;
} part;

static int fill_from_parts(ddpm_dataset *ds, const char *name, const part *parts, int nparts,
                           ddpm_error *err)
{
    DDPM_ASSERT(nparts >= 1);
    uint32_t rows = parts[0].images->dims[1], cols = parts[0].images->dims[2];
    size_t n = 0;
    bool all_labelled = true;
    for (int p = 0; p < nparts; p++) {
        if (parts[p].images->dims[1] != rows || parts[p].images->dims[2] != cols)
            return ddpm_fail(err, "%s: the image files disagree on the image size (%ux%u vs %ux%u); "
                                  "use train and t10k files of the same dataset", name, rows, cols,
                             parts[p].images->dims[1], parts[p].images->dims[2]);
        n += parts[p].count;
        all_labelled = all_labelled && parts[p].labels->data;
    }
    /* Sizes come from validated headers: at most DDPM_IDX_MAX_BYTES per file. */
    size_t hw = (size_t)rows * cols;
    uint8_t *bytes = ddpm_try_calloc(n * hw, 1);
    uint8_t *labels = all_labelled ? ddpm_try_calloc(n, 1) : NULL;
    if (!bytes || (all_labelled && !labels)) {
        free(bytes);
        free(labels);
        return ddpm_fail(err, "%s: out of memory for %zu images of %ux%u", name, n, rows, cols);
    }

    size_t at = 0;
    int largest = -1;
    for (int p = 0; p < nparts; p++) {
        const uint8_t *src = parts[p].images->data + parts[p].first * hw;
        memcpy(bytes + at * hw, src, parts[p].count * hw);
        if (labels) {
            const uint8_t *lab = parts[p].labels->data + parts[p].first;
            for (size_t i = 0; i < parts[p].count; i++) {
                labels[at + i] = lab[i];
                if (lab[i] > largest) largest = lab[i];
            }
        }
        at += parts[p].count;
    }
    snprintf(ds->name, sizeof ds->name, "%s", name);
    ds->n = n;
    ds->channels = 1;
    ds->height = (int)rows;
    ds->width = (int)cols;
    ds->bytes = bytes;
    ds->labels = labels;
    ds->num_classes = largest + 1;
    return DDPM_OK;
}

/* ---- the bundled digits ----------------------------------------------------- */

int ddpm_dataset_open_digits(ddpm_dataset *ds, const char *assets_dir, ddpm_split split,
                             ddpm_error *err)
{
    DDPM_ASSERT(ds && (int)split >= 0 && split < DDPM_SPLIT_COUNT);
    memset(ds, 0, sizeof *ds);
    if (!assets_dir) assets_dir = getenv("DDPM_ASSETS");
    if (!assets_dir || !*assets_dir) assets_dir = DDPM_ASSET_DIR;
    char images_path[4096], labels_path[4096];
    snprintf(images_path, sizeof images_path, "%s/digits/digits-images-idx3-ubyte.gz", assets_dir);
    snprintf(labels_path, sizeof labels_path, "%s/digits/digits-labels-idx1-ubyte.gz", assets_dir);
    if (!ddpm_file_exists(images_path))
        return ddpm_fail(err, "the bundled digits are missing: no '%s'; set DDPM_ASSETS to the "
                              "assets folder of a ddpm-lab checkout, or regenerate them "
                              "(assets/README.md)", images_path);

    ddpm_idx images, labels;
    if (ddpm_idx_read_pair(images_path, labels_path, &images, &labels, err) != DDPM_OK)
        return DDPM_ERR;
    size_t total = images.dims[0];
    int rc;
    if (total <= DDPM_DIGITS_HELDOUT) {
        rc = ddpm_fail(err, "'%s' holds %zu digits, not more than the %d held out; regenerate "
                            "it (assets/README.md)", images_path, total, DDPM_DIGITS_HELDOUT);
    } else {
        size_t n_train = total - DDPM_DIGITS_HELDOUT;
        part p = {&images, &labels, 0, total};
        if (split == DDPM_SPLIT_TRAIN) p.count = n_train;
        if (split == DDPM_SPLIT_HELDOUT) p.first = n_train, p.count = DDPM_DIGITS_HELDOUT;
        rc = fill_from_parts(ds, "digits", &p, 1, err);
    }
    ddpm_idx_free(&images);
    ddpm_idx_free(&labels);
    return rc;
}

/* ---- a folder of MNIST-family files ------------------------------------------ */

/* Where torchvision and friends put the files, relative to the folder given. */
static const char *const layouts[] = {"", "/MNIST/raw", "/FashionMNIST/raw", "/raw"};
enum { N_LAYOUTS = sizeof layouts / sizeof layouts[0] };

/* Finds <dir>/<set>-<what>{-,.}idx<d>-ubyte[.gz], preferring the raw file
 * (torchvision keeps both, and raw loads faster).  False if none exists. */
static bool find_idx_file(const char *dir, const char *set, const char *what, int ndims,
                          char *out, size_t cap)
{
    static const char *const seps[] = {"-", "."};
    static const char *const exts[] = {"", ".gz"};
    for (int e = 0; e < 2; e++)
        for (int s = 0; s < 2; s++) {
            snprintf(out, cap, "%s/%s-%s%sidx%d-ubyte%s", dir, set, what, seps[s], ndims, exts[e]);
            if (ddpm_file_exists(out)) return true;
        }
    return false;
}

typedef struct {
    bool found;
    char images[4096 + 64], labels[4096 + 64];
    bool has_labels;
    ddpm_idx image_idx, label_idx;
} idx_set;

static void find_set(const char *dir, const char *set, idx_set *s)
{
    s->found = find_idx_file(dir, set, "images", 3, s->images, sizeof s->images);
    s->has_labels = find_idx_file(dir, set, "labels", 1, s->labels, sizeof s->labels);
}

static int read_set(idx_set *s, ddpm_error *err)
{
    return ddpm_idx_read_pair(s->images, s->has_labels ? s->labels : NULL, &s->image_idx,
                              &s->label_idx, err);
}

int ddpm_dataset_open_dir(ddpm_dataset *ds, const char *dir, ddpm_split split, ddpm_error *err)
{
    DDPM_ASSERT(ds && dir && (int)split >= 0 && split < DDPM_SPLIT_COUNT);
    memset(ds, 0, sizeof *ds);
    if (!ddpm_dir_exists(dir))
        return ddpm_fail(err, "'%s' is not a folder; pass 'digits', 'fashion' or a folder holding "
                              "MNIST-format IDX files", dir);
    if (strlen(dir) > 4000) return ddpm_fail(err, "folder name too long: '%.64s...'", dir);

    char base[4096 + 32];
    idx_set train, test;
    memset(&train, 0, sizeof train);
    memset(&test, 0, sizeof test);
    for (int l = 0; l < N_LAYOUTS && !train.found && !test.found; l++) {
        snprintf(base, sizeof base, "%s%s", dir, layouts[l]);
        find_set(base, "train", &train);
        find_set(base, "t10k", &test);
    }
    if (!train.found && !test.found)
        return ddpm_fail(err, "'%s' holds no MNIST-format IDX files: looked for "
                              "train-images-idx3-ubyte and t10k-images-idx3-ubyte (also with "
                              "'.idx3-ubyte' and '.gz') in it and in its MNIST/raw, "
                              "FashionMNIST/raw and raw subfolders", dir);
    /* A named split needs its own files; "all" takes whichever sets exist. */
    if (split == DDPM_SPLIT_TRAIN && !train.found)
        return ddpm_fail(err, "'%s' has no training images (train-images-idx3-ubyte[.gz]); "
                              "only t10k files were found", base);
    if (split == DDPM_SPLIT_HELDOUT && !test.found)
        return ddpm_fail(err, "'%s' has no held-out images (t10k-images-idx3-ubyte[.gz]); "
                              "only train files were found: use the train split", base);
    bool want_train = train.found && split != DDPM_SPLIT_HELDOUT;
    bool want_test = test.found && split != DDPM_SPLIT_TRAIN;

    int rc = DDPM_OK;
    part parts[2];
    int nparts = 0;
    if (want_train && (rc = read_set(&train, err)) == DDPM_OK)
        parts[nparts++] = (part){&train.image_idx, &train.label_idx, 0, train.image_idx.dims[0]};
    if (rc == DDPM_OK && want_test && (rc = read_set(&test, err)) == DDPM_OK)
        parts[nparts++] = (part){&test.image_idx, &test.label_idx, 0, test.image_idx.dims[0]};
    if (rc == DDPM_OK) rc = fill_from_parts(ds, dir, parts, nparts, err);
    ddpm_idx_free(&train.image_idx);
    ddpm_idx_free(&train.label_idx);
    ddpm_idx_free(&test.image_idx);
    ddpm_idx_free(&test.label_idx);
    return rc;
}

/* ---- Fashion-MNIST ---------------------------------------------------------- */

int ddpm_dataset_open_fashion(ddpm_dataset *ds, const char *root, ddpm_split split,
                              ddpm_error *err)
{
    DDPM_ASSERT(ds);
    memset(ds, 0, sizeof *ds);
    if (!root) root = DDPM_FASHION_DIR;
    if (!ddpm_dir_exists(root))
        return ddpm_fail(err, "Fashion-MNIST is not installed (no folder '%s'): install it with "
                              "`sudo apt install dataset-fashion-mnist`, or pass the folder that "
                              "holds its IDX files", root);
    if (ddpm_dataset_open_dir(ds, root, split, err) != DDPM_OK)
        return ddpm_fail_context(err, "Fashion-MNIST (reinstall with `sudo apt install "
                                      "--reinstall dataset-fashion-mnist`)");
    snprintf(ds->name, sizeof ds->name, "fashion");
    return DDPM_OK;
}

/* ---- point sets ---------------------------------------------------------------- */

int ddpm_dataset_from_points(ddpm_dataset *ds, const char *name, const float *pts, size_t n, int D,
                             ddpm_error *err)
{
    DDPM_ASSERT(ds && name && (pts || n == 0));
    memset(ds, 0, sizeof *ds);
    if (n == 0) return ddpm_fail(err, "%s: no points to train on", name);
    if (D < 1 || D > DDPM_MLP_MAX_DIM) return ddpm_fail(err, "%s: points of %d values; use 1..%d", name, D,
                                                        DDPM_MLP_MAX_DIM);
    for (size_t i = 0; i < n * (size_t)D; i++)
        if (!isfinite(pts[i])) return ddpm_fail(err, "%s: point %zu is not finite", name, i / (size_t)D);
    float *copy = ddpm_try_calloc(n * (size_t)D, sizeof(float));
    if (!copy) return ddpm_fail(err, "%s: out of memory for %zu points", name, n);
    memcpy(copy, pts, sizeof(float) * n * (size_t)D);
    snprintf(ds->name, sizeof ds->name, "%s", name);
    ds->n = n;
    ds->channels = D;
    ds->height = ds->width = 1;
    ds->points = copy;
    return DDPM_OK;
}

/* A built-in set: training points from seed 0, held-out from seed 1. */
static int open_points(ddpm_dataset *ds, ddpm_points_kind kind, ddpm_split split, ddpm_error *err)
{
    const size_t n_train = split == DDPM_SPLIT_HELDOUT ? 0 : DDPM_POINTS_TRAIN;
    const size_t n_held = split == DDPM_SPLIT_TRAIN ? 0 : DDPM_POINTS_HELDOUT;
    float *xy = ddpm_xmalloc(sizeof(float) * 2 * (n_train + n_held));
    ddpm_points_generate(kind, n_train, 0, xy);
    ddpm_points_generate(kind, n_held, 1, xy + 2 * n_train);
    const int rc = ddpm_dataset_from_points(ds, ddpm_points_name(kind), xy, n_train + n_held, 2, err);
    free(xy);
    return rc;
}

static int open_point_file(ddpm_dataset *ds, const char *path, ddpm_error *err)
{
    float *pts;
    size_t n;
    int D;
    if (ddpm_points_read_csv(path, &pts, &n, &D, err) != DDPM_OK) return DDPM_ERR;
    const int rc = ddpm_dataset_from_points(ds, path, pts, n, D, err);
    free(pts);
    return rc;
}

/* ---- by spec ---------------------------------------------------------------- */

int ddpm_dataset_open(ddpm_dataset *ds, const char *spec, ddpm_split split, ddpm_error *err)
{
    DDPM_ASSERT(ds);
    memset(ds, 0, sizeof *ds);
    if (!spec || !*spec || strcmp(spec, "digits") == 0)
        return ddpm_dataset_open_digits(ds, NULL, split, err);
    if (strcmp(spec, "fashion") == 0) return ddpm_dataset_open_fashion(ds, NULL, split, err);
    ddpm_points_kind kind;
    if (ddpm_points_parse(spec, &kind, NULL)) return open_points(ds, kind, split, err);
    if (ddpm_file_exists(spec)) return open_point_file(ds, spec, err);
    if (!ddpm_dir_exists(spec))
        return ddpm_fail(err, "unknown dataset '%s': use 'digits' (bundled), 'fashion' (Debian's "
                              "dataset-fashion-mnist), a folder holding MNIST-format IDX files, a 2-D "
                              "point set (%s) or a CSV file of points",
                         spec, ddpm_points_names_list());
    return ddpm_dataset_open_dir(ds, spec, split, err);
}

bool ddpm_dataset_spec_is_points(const char *spec)
{
    ddpm_points_kind kind;
    return spec && (ddpm_points_parse(spec, &kind, NULL) ||
                    (strcmp(spec, "digits") != 0 && strcmp(spec, "fashion") != 0 && ddpm_file_exists(spec)));
}

void ddpm_dataset_free(ddpm_dataset *ds)
{
    if (!ds) return;
    free(ds->bytes);
    free(ds->points);
    free(ds->labels);
    memset(ds, 0, sizeof *ds);
}

void ddpm_pixels_from_bytes(float *out, const uint8_t *in, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = (float)in[i] / 127.5f - 1.0f;
}

void ddpm_dataset_images(const ddpm_dataset *ds, size_t first, size_t count, float *out)
{
    DDPM_ASSERT(ds && out && first <= ds->n && count <= ds->n - first);
    const size_t per = (size_t)ds->channels * ds->height * ds->width;
    if (ds->points) memcpy(out, ds->points + first * per, sizeof(float) * count * per);
    else ddpm_pixels_from_bytes(out, ds->bytes + first * per, count * per);
}

void ddpm_dataset_gather(const ddpm_dataset *ds, const uint32_t *indices, size_t count,
                         float *pixels, uint8_t *labels)
{
    DDPM_ASSERT(ds && indices && pixels && (!labels || ds->labels));
    const size_t per = (size_t)ds->channels * ds->height * ds->width;
    for (size_t k = 0; k < count; k++) {
        DDPM_ASSERT(indices[k] < ds->n);
        if (ds->points) memcpy(pixels + k * per, ds->points + indices[k] * per, sizeof(float) * per);
        else ddpm_pixels_from_bytes(pixels + k * per, ds->bytes + indices[k] * per, per);
        if (labels) labels[k] = ds->labels[indices[k]];
    }
}

const char *ddpm_dataset_class_name(const ddpm_dataset *ds, int label)
{
    static const char *const fashion[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
    if (!ds || label < 0 || label > 9 || strcmp(ds->name, "fashion") != 0) return NULL;
    return fashion[label];
}
