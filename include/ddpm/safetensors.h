/* ddpm/safetensors.h: checkpoints in Hugging Face's safetensors format, F32
 * and F16 (IEEE 754 binary16: half the size, for bundled histories).
 *
 *   ddpm_st_tensor t[2] = {
 *       {.name = "conv_in.weight", .ndim = 4, .shape = {32, 1, 3, 3}, .data = w},
 *       {.name = "conv_in.bias",   .ndim = 1, .shape = {32},          .data = b},
 *   };
 *   ddpm_st_meta m[1] = {{"step", "1200"}};
 *   if (ddpm_safetensors_write("run/model.safetensors", t, 2, m, 1, &err) != 0) ...;
 *
 *   ddpm_safetensors *f;
 *   if (ddpm_safetensors_open(&f, "run/model.safetensors", 1u << 30, &err) != 0) ...;
 *   int64_t shape[4] = {32, 1, 3, 3};
 *   if (ddpm_safetensors_read_f32(f, "conv_in.weight", shape, 4, w, &err) != 0) ...;
 *   const char *step = ddpm_safetensors_meta(f, "step");      // NULL if absent
 *   ddpm_safetensors_close(f);
 *
 * The format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON,
 * then the data buffer.  The JSON maps each tensor name to
 *   {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}
 * (byte offsets into the data buffer) and may hold "__metadata__", an object
 * of string values.  Tensors are row-major and little-endian.
 *
 * Writing: tensors go to the file in the order given, their offsets
 * contiguous from 0, after "__metadata__" (omitted when there is none).  The
 * header is padded with spaces to a multiple of 8 bytes, as the reference
 * implementation does, so the data starts aligned.  The write is atomic
 * (ddpm/fileio.h): a failed save leaves the previous file as it was.
 *
 * Reading: the whole file is read into memory and validated before anything
 * is returned: the header length against the real size, UTF-8, JSON syntax,
 * every field's type and range, the dtype (F32 or F16), and that the tensors
 * tile the data buffer exactly: no overlap, no gap, no byte left over.  Any
 * byte string gives either a valid handle or DDPM_ERR with a message naming
 * the file (or "<memory>"), the problem and what to do.
 *
 * An open handle is never modified, so several threads may read it at once.
 */
#ifndef DDPM_SAFETENSORS_H
#define DDPM_SAFETENSORS_H

#include "ddpm/common.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
    DDPM_ST_MAX_DIMS = 8,
    /* The reference implementation refuses larger headers; so do we. */
    DDPM_ST_MAX_HEADER_BYTES = 100000000,
    /* JSON values (objects, arrays, strings, numbers...) one header may hold.
     * The parser needs ~80 bytes per value, so this bounds its memory at
     * ~85 MB whatever the file says; a tensor costs ~15 values, so ~70k
     * tensors fit. */
    DDPM_ST_MAX_JSON_VALUES = 1 << 20,
};

/* How a tensor is stored in the file.  Whatever it is, data are floats. */
typedef enum { DDPM_ST_F32 = 0, DDPM_ST_F16 = 1 } ddpm_st_dtype;

/* One tensor: what the writer takes and what the reader hands out. */
typedef struct ddpm_st_tensor {
    const char *name;                /* UTF-8, unique in a file */
    int ndim;                        /* 0 (a scalar) .. DDPM_ST_MAX_DIMS */
    int64_t shape[DDPM_ST_MAX_DIMS]; /* shape[0..ndim); a 0 makes an empty tensor */
    const float *data;               /* (numel) row-major floats, host byte order */
    ddpm_st_dtype dtype;             /* in the file: F32 (the default), or F16, which the
                                        writer rounds to nearest even (a float beyond
                                        F16's range is an error) and the reader widens */
} ddpm_st_tensor;

/* IEEE 754 binary16 <-> float: rounding to nearest, ties to even; every F16
 * value (subnormals, infinities, NaN) converts back exactly. */
uint16_t ddpm_f32_to_f16(float f);
float ddpm_f16_to_f32(uint16_t h);

/* One "__metadata__" entry: both strings UTF-8. */
typedef struct ddpm_st_meta {
    const char *key;
    const char *value;
} ddpm_st_meta;

/* The number of elements: the product of the shape, 1 for a scalar, or -1 if
 * a dimension is negative or the product overflows int64. */
int64_t ddpm_st_numel(const ddpm_st_tensor *t);

/* ---- writing ----------------------------------------------------------- */

/* Writes n_tensors tensors and n_meta metadata pairs to path, atomically.
 * Names must be non-NULL with 0 <= ndim <= DDPM_ST_MAX_DIMS, no negative
 * dimension, and data non-NULL unless the tensor is empty (asserted).
 * Returns DDPM_OK, or DDPM_ERR naming the problem: a duplicate or reserved
 * ("__metadata__") tensor name, a duplicate metadata key, a string that is
 * not UTF-8, a size that overflows, or an I/O error (missing directory, full
 * disk...).  On error the file at path is untouched and no temporary file
 * remains.  The caller keeps ownership of everything passed in. */
int ddpm_safetensors_write(const char *path, const ddpm_st_tensor *tensors, int n_tensors,
                           const ddpm_st_meta *meta, int n_meta, ddpm_error *err);

/* ---- reading ----------------------------------------------------------- */

/* An open checkpoint.  It owns the file's bytes; every pointer it hands out
 * (tensor names and data, metadata strings) stays valid until
 * ddpm_safetensors_close. */
typedef struct ddpm_safetensors ddpm_safetensors;

/* Reads and validates a whole file of at most max_file_bytes.  On success
 * *out is a new handle (close it); on DDPM_ERR *out is NULL and err says why,
 * naming path. */
int ddpm_safetensors_open(ddpm_safetensors **out, const char *path, size_t max_file_bytes,
                          ddpm_error *err);

/* The same for bytes already in memory (copied; the caller keeps `bytes`).
 * Messages name the source "<memory>".  For tests and fuzzing. */
int ddpm_safetensors_open_memory(ddpm_safetensors **out, const void *bytes, size_t len,
                                 ddpm_error *err);

/* Frees the handle and everything it handed out.  NULL is fine. */
void ddpm_safetensors_close(ddpm_safetensors *f);

/* Tensors in header order, i = 0 .. count-1.  data is 4-byte aligned host
 * floats (F16 widened); numel = ddpm_st_numel(t) never fails here. */
int ddpm_safetensors_count(const ddpm_safetensors *f);
const ddpm_st_tensor *ddpm_safetensors_tensor(const ddpm_safetensors *f, int i);

/* The tensor called name, or NULL if the file has none.  O(log count). */
const ddpm_st_tensor *ddpm_safetensors_find(const ddpm_safetensors *f, const char *name);

/* Copies tensor `name` into dst (numel floats) after checking that its shape
 * is exactly expect_shape[0..expect_ndim).  A missing tensor or another shape
 * is DDPM_ERR with a message naming the file, the tensor, and the expected
 * and found shapes; dst is then untouched. */
int ddpm_safetensors_read_f32(const ddpm_safetensors *f, const char *name,
                              const int64_t *expect_shape, int expect_ndim, float *dst,
                              ddpm_error *err);

/* Metadata in header order, i = 0 .. meta_count-1, and lookup by key
 * (NULL if absent). */
int ddpm_safetensors_meta_count(const ddpm_safetensors *f);
const ddpm_st_meta *ddpm_safetensors_meta_at(const ddpm_safetensors *f, int i);
const char *ddpm_safetensors_meta(const ddpm_safetensors *f, const char *key);

#ifdef __cplusplus
}
#endif
#endif
