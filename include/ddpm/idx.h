/* ddpm/idx.h: the IDX file format of MNIST and its relatives, raw or gzip'ed.
 *
 *   ddpm_idx images, labels;
 *   if (ddpm_idx_read_pair("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
 *                          &images, &labels, &err) != 0) {
 *       fprintf(stderr, "error: %s\n", err.msg);   // names the file, the problem, the fix
 *       return 2;
 *   }
 *   // images.dims = {n, rows, cols}, images.data = n*rows*cols bytes, row-major
 *   ddpm_idx_free(&images);
 *   ddpm_idx_free(&labels);
 *
 *   ddpm_idx_write_images("samples-idx3-ubyte", pixels, n, 28, 28, &err);  // atomic, raw
 *
 * Format (LeCun, Cortes & Burges, http://yann.lecun.com/exdb/mnist/): a
 * big-endian magic 0x0000TTDD (TT the element type, DD the number of
 * dimensions), DD big-endian uint32 dimensions, then the elements row-major.
 * Only unsigned bytes (TT = 0x08) are accepted, as images (DD = 3, magic
 * 0x00000803) or labels (DD = 1, magic 0x00000801).
 *
 * Whether a file is gzip'ed is decided by its first two bytes (1f 8b), never
 * by its name.  The reader trusts nothing in the file: the header is checked
 * (magic, nonzero dimensions, no overflow, at most DDPM_IDX_MAX_BYTES of
 * elements) before anything is allocated, gzip data is decompressed with a
 * hard cap, and the data must be exactly as long as the header says.
 *
 * Ownership: a ddpm_idx filled by a successful read owns `data`;
 * ddpm_idx_free releases it.  On failure nothing is left to free.
 */
#ifndef DDPM_IDX_H
#define DDPM_IDX_H

#include "ddpm/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest element payload the reader accepts (decompressed): 512 MiB, about
 * ten times the 47 MB of MNIST's training images. */
#define DDPM_IDX_MAX_BYTES ((size_t)512 << 20)

typedef enum {
    DDPM_IDX_ANY = 0,      /* images or labels, whichever the file is */
    DDPM_IDX_LABELS = 1,   /* magic 0x00000801: (n) */
    DDPM_IDX_IMAGES = 3,   /* magic 0x00000803: (n, rows, cols) */
} ddpm_idx_kind;

typedef struct ddpm_idx {
    int ndims;           /* 1 (labels) or 3 (images) */
    uint32_t dims[3];    /* dims[0] = n; dims[1..2] = rows, cols for images */
    size_t size;         /* number of elements = product of dims */
    uint8_t *data;       /* (dims[0], ...) row-major; owned, freed by ddpm_idx_free */
} ddpm_idx;

/* Parses an IDX file held in memory (raw or gzip'ed).  `name` is what error
 * messages call it (the file name).  `max_bytes` bounds the element payload;
 * 0 means DDPM_IDX_MAX_BYTES.  On success fills *out (caller frees with
 * ddpm_idx_free) and returns DDPM_OK; otherwise returns DDPM_ERR, fills err
 * and leaves *out empty.  This is also the fuzzing entry point. */
int ddpm_idx_parse_memory(const uint8_t *bytes, size_t len, const char *name,
                          ddpm_idx_kind expect, size_t max_bytes, ddpm_idx *out,
                          ddpm_error *err);

/* Reads and parses the file at path (see ddpm_idx_parse_memory). */
int ddpm_idx_read(const char *path, ddpm_idx_kind expect, ddpm_idx *out, ddpm_error *err);

/* Reads an image file and, if labels_path is not NULL, its label file, and
 * checks that both hold the same number of items.  On failure neither is
 * left allocated. */
int ddpm_idx_read_pair(const char *images_path, const char *labels_path, ddpm_idx *images,
                       ddpm_idx *labels, ddpm_error *err);

/* Releases idx->data and zeroes *idx; safe on a zeroed or freed ddpm_idx. */
void ddpm_idx_free(ddpm_idx *idx);

/* Write raw (uncompressed) IDX files atomically (temp file, fsync, rename).
 * pixels: (n, rows, cols) bytes; labels: (n) bytes.  n, rows and cols must
 * be positive and fit in 32 bits (asserted: the caller computed them). */
int ddpm_idx_write_images(const char *path, const uint8_t *pixels, size_t n, int rows, int cols,
                          ddpm_error *err);
int ddpm_idx_write_labels(const char *path, const uint8_t *labels, size_t n, ddpm_error *err);

#ifdef __cplusplus
}
#endif
#endif
