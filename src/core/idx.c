/* idx.c: reading and writing IDX files, raw or gzip'ed (see ddpm/idx.h).
 *
 * Everything goes through one in-memory parser so that the fuzzer, the tests
 * and the file reader exercise the same code.  The bytes come from a small
 * "source" that is either the raw buffer or zlib's inflate over it; the
 * parser reads the header, validates it, then reads exactly the declared
 * payload plus one probe byte that must not exist.
 */
#include "ddpm/idx.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ddpm/fileio.h"

enum { IDX_TYPE_UBYTE = 0x08, GZIP_ID1 = 0x1f, GZIP_ID2 = 0x8b };

static const char damaged_hint[] = "the file is damaged or not an MNIST-format IDX file: "
                                   "download it again";

/* ---- byte source: raw bytes or inflate over all gzip members ------------- */

typedef struct {
    const char *name;
    const uint8_t *bytes;
    size_t len;
    size_t pos;          /* raw: next unread byte */
    bool gz;
    bool zs_ready;       /* inflateInit2 succeeded, inflateEnd is due */
    bool finished;       /* gz: every member ended and no input is left */
    z_stream zs;
} source;

static bool is_gzip(const uint8_t *bytes, size_t len)
{
    return len >= 2 && bytes[0] == GZIP_ID1 && bytes[1] == GZIP_ID2;
}

static int source_open(source *s, const uint8_t *bytes, size_t len, const char *name,
                       ddpm_error *err)
{
    memset(s, 0, sizeof *s);
    s->name = name;
    s->bytes = bytes;
    s->len = len;
    s->gz = is_gzip(bytes, len);
    if (!s->gz) return DDPM_OK;
    /* zlib counts input in uInt; DDPM_IDX_MAX_BYTES keeps real files far below. */
    if (len > UINT_MAX)
        return ddpm_fail(err, "'%s': %zu bytes of gzip data is more than this reader accepts",
                         name, len);
    /* 16 + MAX_WBITS: gzip wrapper only (we already saw its magic); zlib
     * then checks the header and the CRC-32/ISIZE trailer for us. */
    if (inflateInit2(&s->zs, 16 + MAX_WBITS) != Z_OK)
        return ddpm_fail(err, "'%s': cannot start the gzip decoder (out of memory)", name);
    s->zs_ready = true;
    s->zs.next_in = (Bytef *)bytes;  /* zlib does not write through next_in */
    s->zs.avail_in = (uInt)len;
    return DDPM_OK;
}

static void source_close(source *s)
{
    if (s->zs_ready) inflateEnd(&s->zs);
    s->zs_ready = false;
}

/* Inflates up to n bytes into dst; *got < n only where the data ends. */
static int gz_read(source *s, uint8_t *dst, size_t n, size_t *got, ddpm_error *err)
{
    size_t done = 0;
    while (done < n && !s->finished) {
        size_t want = n - done < UINT_MAX ? n - done : UINT_MAX;
        s->zs.next_out = dst + done;
        s->zs.avail_out = (uInt)want;
        int rc = inflate(&s->zs, Z_NO_FLUSH);
        done += want - s->zs.avail_out;
        if (rc == Z_STREAM_END) {
            /* A gzip file may hold several members back to back (gzip a b > c). */
            if (s->zs.avail_in == 0) {
                s->finished = true;
            } else if (is_gzip(s->zs.next_in, s->zs.avail_in)) {
                inflateReset(&s->zs);
            } else {
                *got = done;
                return ddpm_fail(err, "'%s': %u bytes of trailing garbage after the gzip data; %s",
                                 s->name, s->zs.avail_in, damaged_hint);
            }
        } else if (rc == Z_BUF_ERROR || (rc == Z_OK && s->zs.avail_in == 0 && s->zs.avail_out)) {
            *got = done;
            return ddpm_fail(err, "'%s': truncated gzip data (the compressed stream ends early); "
                                  "the download is incomplete: download it again", s->name);
        } else if (rc != Z_OK) {
            *got = done;
            return ddpm_fail(err, "'%s': corrupt gzip data (zlib: %s); %s", s->name,
                             s->zs.msg ? s->zs.msg : zError(rc), damaged_hint);
        }
    }
    *got = done;
    return DDPM_OK;
}

static int source_read(source *s, uint8_t *dst, size_t n, size_t *got, ddpm_error *err)
{
    if (s->gz) return gz_read(s, dst, n, got, err);
    size_t left = s->len - s->pos;
    *got = n < left ? n : left;
    memcpy(dst, s->bytes + s->pos, *got);
    s->pos += *got;
    return DDPM_OK;
}

/* ---- header ------------------------------------------------------------- */

static uint32_t load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static const char *type_name(int type)
{
    switch (type) {  /* the type codes of the IDX format */
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return "unknown";
    }
}

static const char *kind_name(int ndims)
{
    return ndims == DDPM_IDX_IMAGES ? "an image file (0x00000803)" : "a label file (0x00000801)";
}

/* Checks the magic against what the caller expects. */
static int check_magic(const source *s, const uint8_t m[4], ddpm_idx_kind expect, ddpm_error *err)
{
    uint32_t magic = load_be32(m);
    if (m[0] != 0 || m[1] != 0) {
        if (!s->gz && ends_with(s->name, ".gz"))
            return ddpm_fail(err, "'%s' is not gzip data (bad magic bytes %02x %02x, expected 1f 8b) "
                                  "and not a raw IDX file either; %s",
                             s->name, m[0], m[1], damaged_hint);
        return ddpm_fail(err, "'%s': bad magic 0x%08x: not an IDX file (expected 0x00000803 for "
                              "images or 0x00000801 for labels); %s", s->name, magic, damaged_hint);
    }
    if (m[2] != IDX_TYPE_UBYTE)
        return ddpm_fail(err, "'%s': magic 0x%08x declares element type 0x%02x (%s); only "
                              "unsigned-byte IDX files (type 0x08) are supported", s->name, magic,
                         m[2], type_name(m[2]));
    if (m[3] != DDPM_IDX_IMAGES && m[3] != DDPM_IDX_LABELS)
        return ddpm_fail(err, "'%s': magic 0x%08x declares %d dimensions; expected 3 (an image "
                              "file, 0x00000803) or 1 (a label file, 0x00000801)", s->name, magic,
                         m[3]);
    if (expect != DDPM_IDX_ANY && m[3] != (uint8_t)expect)
        return ddpm_fail(err, "'%s': magic 0x%08x is %s, expected %s; check that the image and "
                              "label paths are not swapped", s->name, magic,
                         m[3] == DDPM_IDX_IMAGES ? "an image file" : "a label file",
                         kind_name((int)expect));
    return DDPM_OK;
}

/* Reads and validates magic and dimensions; fills ndims, dims and size. */
static int read_header(source *s, ddpm_idx_kind expect, size_t max_bytes, ddpm_idx *out,
                       ddpm_error *err)
{
    uint8_t head[4 + 4 * 3];
    size_t got;
    if (source_read(s, head, 4, &got, err) != DDPM_OK) return DDPM_ERR;
    if (got == 0) return ddpm_fail(err, "'%s' is empty; expected an IDX file: download it again", s->name);
    if (got < 4)
        return ddpm_fail(err, "'%s': truncated header (%zu bytes; an IDX header has at least 8); %s",
                         s->name, got, damaged_hint);
    if (check_magic(s, head, expect, err) != DDPM_OK) return DDPM_ERR;

    int ndims = head[3];
    if (source_read(s, head + 4, 4 * (size_t)ndims, &got, err) != DDPM_OK) return DDPM_ERR;
    if (got < 4 * (size_t)ndims)
        return ddpm_fail(err, "'%s': truncated header (%zu bytes; this one needs %d); %s", s->name,
                         4 + got, 4 + 4 * ndims, damaged_hint);

    char shape[64] = "";
    size_t size = 1;
    bool overflow = false;
    for (int i = 0; i < ndims; i++) {
        out->dims[i] = load_be32(head + 4 + 4 * i);
        size_t used = strlen(shape);
        snprintf(shape + used, sizeof shape - used, "%s%u", i ? " x " : "", out->dims[i]);
        if (!ddpm_mul_size(size, out->dims[i], &size)) overflow = true;
    }
    for (int i = 0; i < ndims; i++)
        if (out->dims[i] == 0)
            return ddpm_fail(err, "'%s': dimension %d of %d is zero (header declares %s); %s",
                             s->name, i + 1, ndims, shape, damaged_hint);
    if (overflow)
        return ddpm_fail(err, "'%s': dimensions %s overflow the size of memory; %s", s->name, shape,
                         damaged_hint);
    if (size > max_bytes)
        return ddpm_fail(err, "'%s': header declares %s = %zu bytes of data, more than the limit "
                              "of %zu; the file is damaged or too large for ddpm-lab",
                         s->name, shape, size, max_bytes);
    out->ndims = ndims;
    out->size = size;
    return DDPM_OK;
}

/* ---- payload ------------------------------------------------------------ */

/* Reads exactly out->size bytes and checks that nothing follows.  For gzip the
 * buffer grows as data arrives, so a tiny file that declares a huge size
 * never makes us allocate that size. */
static int read_payload(source *s, ddpm_idx *out, ddpm_error *err)
{
    size_t header_len = 4 + 4 * (size_t)out->ndims;
    if (!s->gz) {  /* the length is known: check it before allocating */
        size_t left = s->len - header_len;
        if (left < out->size)
            return ddpm_fail(err, "'%s': truncated: the header declares %zu bytes of data but "
                                  "only %zu follow; the file is incomplete: download it again",
                             s->name, out->size, left);
        if (left > out->size)
            return ddpm_fail(err, "'%s': %zu bytes of trailing garbage after the %zu bytes of "
                                  "data the header declares; %s",
                             s->name, left - out->size, out->size, damaged_hint);
    }
    size_t cap = s->gz && out->size > ((size_t)1 << 20) ? (size_t)1 << 20 : out->size;
    uint8_t *buf = malloc(cap);
    if (!buf) return ddpm_fail(err, "'%s': out of memory for %zu bytes", s->name, cap);
    size_t have = 0;
    while (have < out->size) {
        if (have == cap) {
            size_t grown = cap * 2 < out->size ? cap * 2 : out->size;
            uint8_t *bigger = realloc(buf, grown);
            if (!bigger) {
                free(buf);
                return ddpm_fail(err, "'%s': out of memory for %zu bytes", s->name, grown);
            }
            buf = bigger, cap = grown;
        }
        size_t got;
        if (source_read(s, buf + have, cap - have, &got, err) != DDPM_OK) goto fail;
        have += got;
        if (have < cap) break;  /* the data ended */
    }
    if (have < out->size) {
        ddpm_fail(err, "'%s': truncated: the header declares %zu bytes of data but the "
                       "decompressed stream holds only %zu; download the file again",
                  s->name, out->size, have);
        goto fail;
    }
    uint8_t probe;
    size_t extra;
    if (source_read(s, &probe, 1, &extra, err) != DDPM_OK) goto fail;
    if (extra) {
        ddpm_fail(err, "'%s': the decompressed data continues past the %zu bytes the header "
                       "declares; %s", s->name, out->size, damaged_hint);
        goto fail;
    }
    out->data = buf;
    return DDPM_OK;
fail:
    free(buf);
    return DDPM_ERR;
}

/* ---- public ------------------------------------------------------------- */

int ddpm_idx_parse_memory(const uint8_t *bytes, size_t len, const char *name,
                          ddpm_idx_kind expect, size_t max_bytes, ddpm_idx *out,
                          ddpm_error *err)
{
    DDPM_ASSERT(out && (bytes || len == 0));
    DDPM_ASSERT(expect == DDPM_IDX_ANY || expect == DDPM_IDX_IMAGES || expect == DDPM_IDX_LABELS);
    memset(out, 0, sizeof *out);
    if (!name) name = "(memory)";
    if (max_bytes == 0) max_bytes = DDPM_IDX_MAX_BYTES;

    source s;
    int rc = source_open(&s, bytes, len, name, err);
    if (rc == DDPM_OK) rc = read_header(&s, expect, max_bytes, out, err);
    if (rc == DDPM_OK) rc = read_payload(&s, out, err);
    source_close(&s);
    if (rc != DDPM_OK) memset(out, 0, sizeof *out);
    return rc;
}

int ddpm_idx_read(const char *path, ddpm_idx_kind expect, ddpm_idx *out, ddpm_error *err)
{
    DDPM_ASSERT(path && out);
    memset(out, 0, sizeof *out);
    /* Room for the largest payload, its header, and deflate's worst-case
     * expansion of incompressible data (a few bytes per 16 KiB block). */
    size_t max_file = DDPM_IDX_MAX_BYTES + DDPM_IDX_MAX_BYTES / 256 + 4096;
    unsigned char *bytes;
    size_t len;
    if (ddpm_read_file(path, max_file, &bytes, &len, err) != DDPM_OK) return DDPM_ERR;
    int rc = ddpm_idx_parse_memory(bytes, len, path, expect, 0, out, err);
    free(bytes);
    return rc;
}

int ddpm_idx_read_pair(const char *images_path, const char *labels_path, ddpm_idx *images,
                       ddpm_idx *labels, ddpm_error *err)
{
    DDPM_ASSERT(images_path && images && labels);
    memset(labels, 0, sizeof *labels);
    if (ddpm_idx_read(images_path, DDPM_IDX_IMAGES, images, err) != DDPM_OK) return DDPM_ERR;
    if (!labels_path) return DDPM_OK;
    if (ddpm_idx_read(labels_path, DDPM_IDX_LABELS, labels, err) != DDPM_OK) {
        ddpm_idx_free(images);
        return DDPM_ERR;
    }
    if (images->dims[0] != labels->dims[0]) {
        ddpm_fail(err, "'%s' holds %u images but '%s' holds %u labels; use the image and label "
                       "files of the same set (train or t10k)", images_path, images->dims[0],
                  labels_path, labels->dims[0]);
        ddpm_idx_free(images);
        ddpm_idx_free(labels);
        return DDPM_ERR;
    }
    return DDPM_OK;
}

void ddpm_idx_free(ddpm_idx *idx)
{
    if (!idx) return;
    free(idx->data);
    memset(idx, 0, sizeof *idx);
}

static int write_idx(const char *path, int ndims, const uint32_t *dims, const uint8_t *data,
                     size_t size, ddpm_error *err)
{
    uint8_t head[4 + 4 * 3] = {0, 0, IDX_TYPE_UBYTE, (uint8_t)ndims};
    for (int i = 0; i < ndims; i++) store_be32(head + 4 + 4 * i, dims[i]);
    ddpm_atomic_file af;
    if (ddpm_atomic_open(&af, path, err) != DDPM_OK) return DDPM_ERR;
    if (ddpm_atomic_write(&af, head, 4 + 4 * (size_t)ndims, err) != DDPM_OK) return DDPM_ERR;
    if (ddpm_atomic_write(&af, data, size, err) != DDPM_OK) return DDPM_ERR;
    return ddpm_atomic_commit(&af, err);
}

int ddpm_idx_write_images(const char *path, const uint8_t *pixels, size_t n, int rows, int cols,
                          ddpm_error *err)
{
    DDPM_ASSERT(path && pixels && n > 0 && n <= UINT32_MAX && rows > 0 && cols > 0);
    const uint32_t dims[3] = {(uint32_t)n, (uint32_t)rows, (uint32_t)cols};
    size_t size;
    bool fits = ddpm_mul_size(n, (size_t)rows * (size_t)cols, &size);
    DDPM_ASSERT(fits);
    return write_idx(path, DDPM_IDX_IMAGES, dims, pixels, size, err);
}

int ddpm_idx_write_labels(const char *path, const uint8_t *labels, size_t n, ddpm_error *err)
{
    DDPM_ASSERT(path && labels && n > 0 && n <= UINT32_MAX);
    const uint32_t dims[1] = {(uint32_t)n};
    return write_idx(path, DDPM_IDX_LABELS, dims, labels, n, err);
}
