/* safetensors.c: the safetensors checkpoint format, a writer and a reader
 * that trusts nothing in the file (see ddpm/safetensors.h).
 *
 * The reader works in this order, each step relying only on the ones before:
 *   1. the length field, checked against the real size before any allocation;
 *   2. a lexical scan of the header: UTF-8, JSON tokens, and a cap on the
 *      number of values.  cJSON is lenient about control characters and
 *      number syntax, and its memory grows with the value count;
 *   3. cJSON builds the tree; every entry is checked for type and range;
 *   4. names are sorted (duplicates, lookups) and extents sorted by offset
 *      (overlaps, holes, bytes left over);
 *   5. the data buffer is moved to a 4-byte boundary and converted to host
 *      byte order in place, so tensors are handed out as float pointers.
 *
 * Reference: github.com/huggingface/safetensors (README and tensor.rs): the
 * header is padded with spaces to 8 bytes, extents sorted by offset must tile
 * the data buffer from 0 to its end, headers over 100 MB are refused.
 */
#include "ddpm/safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddpm/fileio.h"

struct ddpm_safetensors {
    char *source;                 /* path, or "<memory>": every message names it */
    unsigned char *bytes;         /* the whole file; the data buffer moved inside */
    cJSON *header;                /* owns the name, key and value strings */
    ddpm_st_tensor *tensors;      /* (n_tensors) in header order */
    int n_tensors;
    ddpm_st_meta *meta;           /* (n_meta) in header order */
    int n_meta;
    const char *const **tensor_by_name; /* (n_tensors) &tensors[i].name, sorted */
    const char *const **meta_by_key;    /* (n_meta) &meta[i].key, sorted */
    float *floats;                /* the tensors' floats when one is F16 (else in bytes) */
};

/* Lookups sort pointers to the name field and convert back to the struct. */
_Static_assert(offsetof(ddpm_st_tensor, name) == 0, "name must be the first member");
_Static_assert(offsetof(ddpm_st_meta, key) == 0, "key must be the first member");

static const char HINT_CORRUPT[] =
    "the file is corrupt or not a safetensors checkpoint; re-save it or pick another file";
static const char HINT_DTYPE[] =
    "ddpm-lab reads float32 and float16 only; convert the checkpoint to F32 (in PyTorch: "
    "{k: v.float() for k, v in sd.items()}) and save it again";
static const char HINT_MISMATCH[] =
    "the checkpoint was saved by another model configuration; use the flags it was "
    "trained with, or pick the checkpoint that matches this model";
static const char HINT_MEMORY[] = "free memory or load a smaller file";

/* ---- messages ---------------------------------------------------------- */

/* Every reader error: "<source>: <what>; <hint>". */
static int fail_at(ddpm_error *err, const char *source, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail_at(ddpm_error *err, const char *source, const char *hint, const char *fmt, ...)
{
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return ddpm_fail(err, "%s: %s; %s", source, what, hint);
}

/* A name from the file made safe to print: control bytes become '?' (no
 * terminal escapes from a hostile file) and long names are cut.  Returned by
 * value so that show(s).text can sit in an argument list. */
enum { SHOW_MAX = 64 };
typedef struct {
    char text[SHOW_MAX + 4];
} shown;

static shown show(const char *s)
{
    shown out;
    size_t n = strlen(s), cut = n;
    if (n > SHOW_MAX) {
        cut = SHOW_MAX;
        while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80) cut--; /* whole characters */
    }
    for (size_t i = 0; i < cut; i++) {
        unsigned char c = (unsigned char)s[i];
        out.text[i] = c < 0x20 || c == 0x7F ? '?' : (char)c;
    }
    strcpy(out.text + cut, n > cut ? "..." : "");
    return out;
}

typedef struct {
    char text[DDPM_ST_MAX_DIMS * 22 + 4];
} shape_text;

/* "[2, 3]"; "[]" for a scalar. */
static shape_text show_shape(const int64_t *shape, int ndim)
{
    shape_text out;
    size_t len = 0;
    out.text[len++] = '[';
    for (int d = 0; d < ndim; d++)
        len += (size_t)snprintf(out.text + len, sizeof out.text - len, "%s%lld", d ? ", " : "",
                                (long long)shape[d]);
    snprintf(out.text + len, sizeof out.text - len, "]");
    return out;
}

/* ---- bytes ------------------------------------------------------------- */

/* The format is little-endian whatever the host; these say so explicitly. */
static uint64_t load_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static void store_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> 8 * i);
}

static uint32_t load_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void store_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> 8 * i);
}

/* ---- binary16 ----------------------------------------------------------- */

uint16_t ddpm_f32_to_f16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    const uint16_t sign = (uint16_t)(u >> 16 & 0x8000u);
    const uint32_t exp = u >> 23 & 0xFFu, man = u & 0x7FFFFFu;
    if (exp == 0xFF) return (uint16_t)(sign | 0x7C00u | (man ? 0x200u : 0)); /* inf, NaN (quiet) */
    const int e = (int)exp - 127 + 15; /* the binary16 exponent field */
    if (e >= 31) return (uint16_t)(sign | 0x7C00u); /* too large: infinity */
    if (e <= 0) { /* a subnormal or zero: 24-bit significand shifted right */
        if (e < -10) return sign; /* below half the smallest subnormal */
        const uint32_t sig = man | 0x800000u;
        const int shift = 14 - e; /* 14..24 */
        uint32_t half = sig >> shift;
        const uint32_t rest = sig & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rest > mid || (rest == mid && (half & 1))) half++;
        return (uint16_t)(sign | half); /* a carry into the exponent field is right */
    }
    uint32_t half = (uint32_t)e << 10 | man >> 13;
    const uint32_t rest = man & 0x1FFFu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1))) half++; /* may carry up to infinity */
    return (uint16_t)(sign | half);
}

float ddpm_f16_to_f32(uint16_t h)
{
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = h >> 10 & 0x1Fu, man = h & 0x3FFu;
    uint32_t u;
    if (exp == 0x1F) {
        u = sign | 0x7F800000u | man << 13;
    } else if (exp == 0) {
        if (man == 0) {
            u = sign;
        } else { /* subnormal: normalise */
            int e = -1;
            uint32_t m = man;
            do {
                m <<= 1;
                e++;
            } while (!(m & 0x400u));
            u = sign | (uint32_t)(127 - 15 - e) << 23 | (m & 0x3FFu) << 13;
        }
    } else {
        u = sign | (exp + 127 - 15) << 23 | man << 13;
    }
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static int dtype_bytes(ddpm_st_dtype d) { return d == DDPM_ST_F16 ? 2 : 4; }

/* Length of the UTF-8 sequence at p (whose lead byte is >= 0x80), or 0 if it
 * is invalid: a stray continuation byte, overlong, a surrogate, above
 * U+10FFFF, or cut short by the end of the buffer (n bytes). */
static size_t utf8_seq_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1Fu, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0Fu, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07u, min = 0x10000;
    else return 0;
    if (len > n) return 0;
    for (size_t k = 1; k < len; k++) {
        if ((p[k] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (p[k] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

static bool utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t len = utf8_seq_len(p + i, n - i);
        if (!len) return false;
        i += len;
    }
    return true;
}

/* ---- names ------------------------------------------------------------- */

static int cmp_names(const void *a, const void *b)
{
    return strcmp(**(const char *const *const *)a, **(const char *const *const *)b);
}

static int cmp_key_to_name(const void *key, const void *elem)
{
    return strcmp((const char *)key, **(const char *const *const *)elem);
}

/* Sorts pointers to name fields; returns a name that occurs twice, or NULL. */
static const char *sort_names(const char *const **by_name, int n)
{
    if (n < 2) return NULL;
    qsort(by_name, (size_t)n, sizeof *by_name, cmp_names);
    for (int i = 1; i < n; i++)
        if (strcmp(*by_name[i - 1], *by_name[i]) == 0) return *by_name[i];
    return NULL;
}

static const void *find_name(const char *const **by_name, int n, const char *name)
{
    if (n < 1) return NULL;
    const char *const *const *hit = bsearch(name, by_name, (size_t)n, sizeof *by_name,
                                            cmp_key_to_name);
    return hit ? (const void *)*hit : NULL;
}

int64_t ddpm_st_numel(const ddpm_st_tensor *t)
{
    DDPM_ASSERT(t && t->ndim >= 0 && t->ndim <= DDPM_ST_MAX_DIMS);
    int64_t n = 1;
    for (int d = 0; d < t->ndim; d++)
        if (t->shape[d] < 0 || __builtin_mul_overflow(n, t->shape[d], &n)) return -1;
    return n;
}

/* ---- the header's tokens ------------------------------------------------ */

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Length of the JSON number at p (RFC 8259: -?(0|[1-9][0-9]*)(.[0-9]+)?
 * ([eE][+-]?[0-9]+)?), or 0 if malformed.  A number running on into more
 * number characters ("01", "1.2.3") is malformed too: cJSON would take the
 * whole run to strtod, which accepts more than JSON does. */
static size_t json_number_len(const unsigned char *p, size_t n)
{
    size_t i = 0;
    if (i < n && p[i] == '-') i++;
    if (i < n && p[i] == '0') {
        i++;
    } else if (i < n && p[i] >= '1' && p[i] <= '9') {
        while (i < n && is_digit(p[i])) i++;
    } else {
        return 0;
    }
    if (i < n && p[i] == '.') {
        size_t first = ++i;
        while (i < n && is_digit(p[i])) i++;
        if (i == first) return 0;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-')) i++;
        size_t first = i;
        while (i < n && is_digit(p[i])) i++;
        if (i == first) return 0;
    }
    if (i < n && p[i] && strchr("0123456789+-.eE", p[i])) return 0;
    return i;
}

/* Checks the header's tokens, which cJSON checks loosely, and counts its
 * values, which cJSON allocates ~80 bytes each for (an upper bound: every
 * value but the first follows a '{', '[' or ','; *values gets the count so
 * far).  Structure (nesting, commas, colons, escapes) is left to cJSON. */
static int scan_header(const unsigned char *h, size_t n, size_t *values, const char *source,
                       ddpm_error *err)
{
    *values = 1;
    for (size_t i = 0; i < n;) {
        unsigned char c = h[i];
        size_t at = i;
        if (c == '"') {
            for (i++;;) {
                if (i >= n)
                    return fail_at(err, source, HINT_CORRUPT, "the header is not valid JSON: "
                                   "the string at header byte %zu never ends", at);
                c = h[i];
                if (c == '"') {
                    i++;
                    break;
                }
                if (c == '\\') {
                    /* the escape itself is cJSON's to check, but for \u0000: a NUL that
                     * cJSON would decode into a C string, cutting a name short */
                    if (n - i >= 6 && memcmp(h + i + 1, "u0000", 5) == 0)
                        return fail_at(err, source, HINT_CORRUPT, "the header is not usable: a "
                                       "\\u0000 escape (a NUL character) in a string at header "
                                       "byte %zu; names and metadata cannot hold one", i);
                    i += 2;
                } else if (c < 0x20) {
                    return fail_at(err, source, HINT_CORRUPT, "the header is not valid JSON: "
                                   "raw control byte 0x%02x in a string at header byte %zu",
                                   c, i);
                } else if (c >= 0x80) {
                    size_t len = utf8_seq_len(h + i, n - i);
                    if (!len)
                        return fail_at(err, source, HINT_CORRUPT, "the header is not valid "
                                       "UTF-8 (byte 0x%02x at header byte %zu)", c, i);
                    i += len;
                } else {
                    i++;
                }
            }
        } else if (c == '{' || c == '[' || c == ',') {
            ++*values;
            i++;
        } else if (c && strchr("}]: \t\n\r", c)) {
            i++;
        } else if (c == '-' || is_digit(c)) {
            size_t len = json_number_len(h + i, n - i);
            if (!len)
                return fail_at(err, source, HINT_CORRUPT, "the header is not valid JSON: "
                               "malformed number at header byte %zu", at);
            i += len;
        } else if (n - i >= 4 && (memcmp(h + i, "true", 4) == 0 || memcmp(h + i, "null", 4) == 0)) {
            i += 4;
        } else if (n - i >= 5 && memcmp(h + i, "false", 5) == 0) {
            i += 5;
        } else {
            return fail_at(err, source, HINT_CORRUPT, "the header is not valid JSON: "
                           "unexpected byte 0x%02x at header byte %zu", c, at);
        }
        if (*values > DDPM_ST_MAX_JSON_VALUES)
            return fail_at(err, source, HINT_CORRUPT, "the header holds more than %d JSON "
                           "values, more than any checkpoint this loader supports",
                           DDPM_ST_MAX_JSON_VALUES);
    }
    return DDPM_OK;
}

/* ---- writing ----------------------------------------------------------- */

/* JSON text is produced twice by the same code: first to measure (buf NULL),
 * then into a buffer of exactly that size. */
typedef struct {
    char *buf;
    size_t len;
} json_out;

static void out_bytes(json_out *o, const char *s, size_t n)
{
    if (o->buf) memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void out_text(json_out *o, const char *s)
{
    out_bytes(o, s, strlen(s));
}

static void out_u64(json_out *o, uint64_t v)
{
    char b[24];
    out_bytes(o, b, (size_t)snprintf(b, sizeof b, "%llu", (unsigned long long)v));
}

/* A JSON string, escaped as serde_json (the reference) escapes it. */
static void out_string(json_out *o, const char *s)
{
    out_text(o, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        switch (*p) {
        case '"': out_text(o, "\\\""); break;
        case '\\': out_text(o, "\\\\"); break;
        case '\b': out_text(o, "\\b"); break;
        case '\f': out_text(o, "\\f"); break;
        case '\n': out_text(o, "\\n"); break;
        case '\r': out_text(o, "\\r"); break;
        case '\t': out_text(o, "\\t"); break;
        default:
            if (*p < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", *p);
                out_text(o, esc);
            } else {
                out_bytes(o, (const char *)p, 1);
            }
        }
    }
    out_text(o, "\"");
}

static void emit_header(json_out *o, const ddpm_st_tensor *tensors, int n_tensors,
                        const ddpm_st_meta *meta, int n_meta)
{
    out_text(o, "{");
    if (n_meta > 0) {
        out_text(o, "\"__metadata__\":{");
        for (int i = 0; i < n_meta; i++) {
            if (i) out_text(o, ",");
            out_string(o, meta[i].key);
            out_text(o, ":");
            out_string(o, meta[i].value);
        }
        out_text(o, "}");
    }
    uint64_t offset = 0;
    for (int i = 0; i < n_tensors; i++) {
        const ddpm_st_tensor *t = &tensors[i];
        if (i || n_meta > 0) out_text(o, ",");
        out_string(o, t->name);
        out_text(o, t->dtype == DDPM_ST_F16 ? ":{\"dtype\":\"F16\",\"shape\":[" : ":{\"dtype\":\"F32\",\"shape\":[");
        for (int d = 0; d < t->ndim; d++) {
            if (d) out_text(o, ",");
            out_u64(o, (uint64_t)t->shape[d]);
        }
        out_text(o, "],\"data_offsets\":[");
        uint64_t end = offset + (uint64_t)dtype_bytes(t->dtype) * (uint64_t)ddpm_st_numel(t);
        out_u64(o, offset);
        out_text(o, ",");
        out_u64(o, end);
        out_text(o, "]}");
        offset = end;
    }
    out_text(o, "}");
}

/* Checks what the caller passed: asserts for programmer errors, DDPM_ERR for
 * names and sizes that may come from a configuration. */
static int check_write_args(const char *path, const ddpm_st_tensor *tensors, int n_tensors,
                            const ddpm_st_meta *meta, int n_meta, ddpm_error *err)
{
    uint64_t total = 0;
    for (int i = 0; i < n_tensors; i++) {
        const ddpm_st_tensor *t = &tensors[i];
        DDPM_ASSERT(t->name && t->ndim >= 0 && t->ndim <= DDPM_ST_MAX_DIMS);
        DDPM_ASSERT(t->dtype == DDPM_ST_F32 || t->dtype == DDPM_ST_F16);
        for (int d = 0; d < t->ndim; d++) DDPM_ASSERT(t->shape[d] >= 0);
        int64_t numel = ddpm_st_numel(t);
        if (numel < 0 || numel > INT64_MAX / 4 ||
            __builtin_add_overflow(total, (uint64_t)dtype_bytes(t->dtype) * (uint64_t)numel, &total) ||
            total > INT64_MAX)
            return ddpm_fail(err, "cannot save '%s': tensor '%s' of shape %s makes the file "
                             "larger than 2^63 bytes; check the model dimensions",
                             path, show(t->name).text, show_shape(t->shape, t->ndim).text);
        DDPM_ASSERT(t->data || numel == 0);
        if (!utf8_valid(t->name))
            return ddpm_fail(err, "cannot save '%s': tensor name '%s' is not valid UTF-8; "
                             "safetensors names must be UTF-8", path, show(t->name).text);
        if (strcmp(t->name, "__metadata__") == 0)
            return ddpm_fail(err, "cannot save '%s': '__metadata__' is reserved for the "
                             "metadata; rename that tensor", path);
        for (int64_t e = 0; t->dtype == DDPM_ST_F16 && e < numel; e++)
            if (isfinite(t->data[e]) && !(fabsf(t->data[e]) < 65520.0f)) /* rounds to infinity */
                return ddpm_fail(err, "cannot save '%s': tensor '%s' holds %g, beyond float16's "
                                 "range (65504); save it as F32", path, show(t->name).text,
                                 (double)t->data[e]);
    }
    for (int i = 0; i < n_meta; i++) {
        DDPM_ASSERT(meta[i].key && meta[i].value);
        if (!utf8_valid(meta[i].key) || !utf8_valid(meta[i].value))
            return ddpm_fail(err, "cannot save '%s': metadata '%s' is not valid UTF-8; "
                             "safetensors metadata must be UTF-8", path, show(meta[i].key).text);
    }

    int n_max = n_tensors > n_meta ? n_tensors : n_meta;
    const char *const **by_name = ddpm_xcalloc((size_t)n_max + 1, sizeof *by_name);
    for (int i = 0; i < n_tensors; i++) by_name[i] = &tensors[i].name;
    const char *dup_tensor = sort_names(by_name, n_tensors);
    for (int i = 0; i < n_meta; i++) by_name[i] = &meta[i].key;
    const char *dup_key = sort_names(by_name, n_meta);
    free(by_name);
    if (dup_tensor)
        return ddpm_fail(err, "cannot save '%s': two tensors are named '%s'; every tensor "
                         "needs its own name", path, show(dup_tensor).text);
    if (dup_key)
        return ddpm_fail(err, "cannot save '%s': metadata key '%s' is given twice; keep one",
                         path, show(dup_key).text);
    return DDPM_OK;
}

int ddpm_safetensors_write(const char *path, const ddpm_st_tensor *tensors, int n_tensors,
                           const ddpm_st_meta *meta, int n_meta, ddpm_error *err)
{
    DDPM_ASSERT(path && n_tensors >= 0 && n_meta >= 0);
    DDPM_ASSERT(tensors || n_tensors == 0);
    DDPM_ASSERT(meta || n_meta == 0);
    if (check_write_args(path, tensors, n_tensors, meta, n_meta, err) != DDPM_OK)
        return DDPM_ERR;

    /* Spaces pad the header to a multiple of 8 so the data starts aligned. */
    json_out measure = {NULL, 0};
    emit_header(&measure, tensors, n_tensors, meta, n_meta);
    size_t header_len = (measure.len + 7) & ~(size_t)7;
    unsigned char *head = ddpm_xmalloc(8 + header_len);
    store_le64(head, header_len);
    json_out fill = {(char *)head + 8, 0};
    emit_header(&fill, tensors, n_tensors, meta, n_meta);
    DDPM_ASSERT(fill.len == measure.len);
    memset(head + 8 + fill.len, ' ', header_len - fill.len);
    /* Never write what the reader would refuse: the same size and value
     * limits apply (they allow ~70k tensors).  Any other complaint of the
     * scan would be a bug here. */
    size_t values;
    int scanned = scan_header(head + 8, header_len, &values, path, NULL);
    DDPM_ASSERT(scanned == DDPM_OK || values > DDPM_ST_MAX_JSON_VALUES);
    if (header_len > DDPM_ST_MAX_HEADER_BYTES || scanned != DDPM_OK) {
        free(head);
        return ddpm_fail(err, "cannot save '%s': %d tensors and %d metadata entries make a "
                         "header larger than safetensors readers accept (%d bytes or %d JSON "
                         "values); split the checkpoint", path, n_tensors, n_meta,
                         DDPM_ST_MAX_HEADER_BYTES, DDPM_ST_MAX_JSON_VALUES);
    }

    ddpm_atomic_file af;
    int rc = ddpm_atomic_open(&af, path, err);
    if (rc == DDPM_OK) rc = ddpm_atomic_write(&af, head, 8 + header_len, err);
    free(head);

    /* Floats go out little-endian through a small buffer, so the same code
     * is right on any host (a plain copy on little-endian ones). */
    unsigned char chunk[16384];
    const size_t per_chunk = sizeof chunk / 4;
    for (int i = 0; i < n_tensors && rc == DDPM_OK; i++) {
        size_t numel = (size_t)ddpm_st_numel(&tensors[i]);
        const bool half = tensors[i].dtype == DDPM_ST_F16;
        for (size_t j = 0; j < numel && rc == DDPM_OK; j += per_chunk) {
            size_t k = numel - j < per_chunk ? numel - j : per_chunk;
            for (size_t e = 0; e < k; e++) {
                if (half) {
                    const uint16_t h = ddpm_f32_to_f16(tensors[i].data[j + e]);
                    chunk[2 * e] = (unsigned char)h, chunk[2 * e + 1] = (unsigned char)(h >> 8);
                    continue;
                }
                uint32_t u;
                memcpy(&u, &tensors[i].data[j + e], 4);
                store_le32(chunk + 4 * e, u);
            }
            rc = ddpm_atomic_write(&af, chunk, (half ? 2 : 4) * k, err);
        }
    }
    /* A failed open or write has already removed the temporary file. */
    if (rc == DDPM_OK) rc = ddpm_atomic_commit(&af, err);
    return rc;
}

/* ---- reading: entries -------------------------------------------------- */

static const char *json_kind(const cJSON *v)
{
    if (cJSON_IsObject(v)) return "an object";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    return "an invalid value";
}

/* A JSON number that must be a non-negative integer.  cJSON keeps numbers
 * as doubles, exact for integers below 2^53: more than any offset into a
 * file that fits in memory.  Larger values are refused rather than rounded
 * (a literal 2^53 + 1 would read as 2^53, hence the strict bound). */
static int read_count(const cJSON *v, const char *source, const char *tensor, const char *field,
                      int index, int64_t *out, ddpm_error *err)
{
    if (!cJSON_IsNumber(v))
        return fail_at(err, source, HINT_CORRUPT, "tensor '%s': %s[%d] is %s, not a "
                       "non-negative integer", show(tensor).text, field, index, json_kind(v));
    double x = v->valuedouble;
    if (!(x >= 0 && x < 9007199254740992.0 && x == floor(x)))
        return fail_at(err, source, HINT_CORRUPT, "tensor '%s': %s[%d] is %.17g, not an "
                       "integer in [0, 2^53)", show(tensor).text, field, index, x);
    *out = (int64_t)x;
    return DDPM_OK;
}

typedef struct {
    int64_t begin, end; /* byte range in the data buffer */
    int index;          /* into tensors[] */
} extent;

static int cmp_extents(const void *a, const void *b)
{
    const extent *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* Checks one tensor entry and fills t (name, shape) and its byte range. */
static int parse_tensor(const cJSON *entry, const char *source, size_t data_len,
                        ddpm_st_tensor *t, extent *ext, ddpm_error *err)
{
    const char *name = entry->string;
    if (!cJSON_IsObject(entry))
        return fail_at(err, source, HINT_CORRUPT, "tensor '%s': the entry is %s, not an object "
                       "with dtype, shape and data_offsets", show(name).text, json_kind(entry));
    const cJSON *dtype = NULL, *shape = NULL, *offsets = NULL;
    for (const cJSON *field = entry->child; field; field = field->next) {
        const cJSON **slot = strcmp(field->string, "dtype") == 0          ? &dtype
                             : strcmp(field->string, "shape") == 0        ? &shape
                             : strcmp(field->string, "data_offsets") == 0 ? &offsets
                                                                          : NULL;
        if (!slot) continue; /* unknown fields are ignored, as by the reference */
        if (*slot)
            return fail_at(err, source, HINT_CORRUPT, "tensor '%s': field \"%s\" appears twice",
                           show(name).text, field->string);
        *slot = field;
    }
    const char *missing = !dtype ? "dtype" : !shape ? "shape" : !offsets ? "data_offsets" : NULL;
    if (missing)
        return fail_at(err, source, HINT_CORRUPT, "tensor '%s': missing \"%s\"", show(name).text,
                       missing);

    if (!cJSON_IsString(dtype))
        return fail_at(err, source, HINT_CORRUPT, "tensor '%s': dtype is %s, not a string",
                       show(name).text, json_kind(dtype));
    if (strcmp(dtype->valuestring, "F32") == 0)
        t->dtype = DDPM_ST_F32;
    else if (strcmp(dtype->valuestring, "F16") == 0)
        t->dtype = DDPM_ST_F16;
    else
        return fail_at(err, source, HINT_DTYPE, "tensor '%s' has dtype '%s', but only F32 and F16 "
                       "are supported", show(name).text, show(dtype->valuestring).text);

    if (!cJSON_IsArray(shape))
        return fail_at(err, source, HINT_CORRUPT, "tensor '%s': shape is %s, not an array",
                       show(name).text, json_kind(shape));
    int ndim = cJSON_GetArraySize(shape);
    if (ndim > DDPM_ST_MAX_DIMS)
        return fail_at(err, source, HINT_CORRUPT, "tensor '%s': shape has %d dimensions, more "
                       "than the %d supported", show(name).text, ndim, DDPM_ST_MAX_DIMS);
    t->name = name;
    t->ndim = ndim;
    int d = 0;
    for (const cJSON *dim = shape->child; dim; dim = dim->next, d++)
        if (read_count(dim, source, name, "shape", d, &t->shape[d], err) != DDPM_OK)
            return DDPM_ERR;
    int64_t numel = ddpm_st_numel(t);
    if (numel < 0 || numel > INT64_MAX / 4)
        return fail_at(err, source, HINT_CORRUPT, "tensor '%s': shape %s has more elements "
                       "than a 64-bit size can count (overflow)", show(name).text,
                       show_shape(t->shape, ndim).text);

    if (!cJSON_IsArray(offsets) || cJSON_GetArraySize(offsets) != 2)
        return fail_at(err, source, HINT_CORRUPT, "tensor '%s': data_offsets must be [begin, "
                       "end], not %s%s", show(name).text, json_kind(offsets),
                       cJSON_IsArray(offsets) ? " of another length" : "");
    if (read_count(offsets->child, source, name, "data_offsets", 0, &ext->begin, err) ||
        read_count(offsets->child->next, source, name, "data_offsets", 1, &ext->end, err))
        return DDPM_ERR;
    if (ext->begin > ext->end)
        return fail_at(err, source, HINT_CORRUPT, "tensor '%s': data_offsets [%lld, %lld] are "
                       "reversed", show(name).text, (long long)ext->begin, (long long)ext->end);
    if ((uint64_t)ext->end > data_len)
        return fail_at(err, source, HINT_CORRUPT, "tensor '%s': data_offsets [%lld, %lld] reach "
                       "past the end of the %zu-byte data buffer (the file is truncated?)",
                       show(name).text, (long long)ext->begin, (long long)ext->end, data_len);
    const int64_t size = dtype_bytes(t->dtype);
    if (ext->end - ext->begin != size * numel)
        return fail_at(err, source, HINT_CORRUPT, "tensor '%s': data_offsets [%lld, %lld] hold "
                       "%lld bytes, but %s of shape %s needs %lld", show(name).text,
                       (long long)ext->begin, (long long)ext->end,
                       (long long)(ext->end - ext->begin), t->dtype == DDPM_ST_F16 ? "F16" : "F32",
                       show_shape(t->shape, ndim).text, (long long)(size * numel));
    return DDPM_OK;
}

static int parse_metadata(ddpm_safetensors *f, const cJSON *obj, ddpm_error *err)
{
    if (!cJSON_IsObject(obj))
        return fail_at(err, f->source, HINT_CORRUPT, "__metadata__ is %s; it must be an object "
                       "of strings", json_kind(obj));
    int n = cJSON_GetArraySize(obj);
    f->meta = ddpm_try_calloc((size_t)n + 1, sizeof *f->meta);
    f->meta_by_key = ddpm_try_calloc((size_t)n + 1, sizeof *f->meta_by_key);
    if (!f->meta || !f->meta_by_key)
        return fail_at(err, f->source, HINT_MEMORY, "out of memory for %d metadata entries", n);
    for (const cJSON *v = obj->child; v; v = v->next) {
        if (!cJSON_IsString(v))
            return fail_at(err, f->source, HINT_CORRUPT, "__metadata__ value of '%s' is %s, "
                           "not a string", show(v->string).text, json_kind(v));
        f->meta[f->n_meta] = (ddpm_st_meta){v->string, v->valuestring};
        f->meta_by_key[f->n_meta] = &f->meta[f->n_meta].key;
        f->n_meta++;
    }
    const char *dup = sort_names(f->meta_by_key, f->n_meta);
    if (dup)
        return fail_at(err, f->source, HINT_CORRUPT, "__metadata__ key '%s' appears twice",
                       show(dup).text);
    return DDPM_OK;
}

/* Sorted by offset, the extents must tile [0, data_len): each begins where
 * the previous ended.  Empty tensors sit anywhere on that chain. */
static int check_tiling(const ddpm_safetensors *f, extent *ext, size_t data_len, ddpm_error *err)
{
    if (f->n_tensors > 1) qsort(ext, (size_t)f->n_tensors, sizeof *ext, cmp_extents);
    int64_t cursor = 0;
    for (int i = 0; i < f->n_tensors; i++) {
        if (ext[i].begin < cursor) {
            const extent *p = &ext[i - 1]; /* i > 0: cursor starts at 0 */
            return fail_at(err, f->source, HINT_CORRUPT, "tensors '%s' [%lld, %lld] and '%s' "
                           "[%lld, %lld] overlap", show(f->tensors[p->index].name).text,
                           (long long)p->begin, (long long)p->end,
                           show(f->tensors[ext[i].index].name).text, (long long)ext[i].begin,
                           (long long)ext[i].end);
        }
        if (ext[i].begin > cursor)
            return fail_at(err, f->source, HINT_CORRUPT, "bytes [%lld, %lld) of the data buffer "
                           "belong to no tensor (a hole before '%s')", (long long)cursor,
                           (long long)ext[i].begin, show(f->tensors[ext[i].index].name).text);
        cursor = ext[i].end;
    }
    if ((uint64_t)cursor != data_len)
        return fail_at(err, f->source, HINT_CORRUPT, "bytes [%lld, %zu) at the end of the data "
                       "buffer belong to no tensor", (long long)cursor, data_len);
    return DDPM_OK;
}

/* Parses f->bytes into f: a file of len bytes.  header_only: f->bytes holds
 * only the file's first bytes (the length field and the header it gives, or
 * fewer when that field is out of range); the header is checked against a
 * data buffer of the size the file gives it, and nothing more is read. */
static int parse_file(ddpm_safetensors *f, size_t len, bool header_only, ddpm_error *err)
{
    const char *src = f->source;
    if (len < 8)
        return fail_at(err, src, HINT_CORRUPT, "the file is %zu bytes, too short for the 8-byte "
                       "header length that starts a safetensors file", len);
    uint64_t n = load_le64(f->bytes);
    if (n > DDPM_ST_MAX_HEADER_BYTES)
        return fail_at(err, src, HINT_CORRUPT, "the header length field says %llu bytes, more "
                       "than the format's limit of %d", (unsigned long long)n,
                       DDPM_ST_MAX_HEADER_BYTES);
    if (n > len - 8)
        return fail_at(err, src, HINT_CORRUPT, "the header length field says %llu bytes, but "
                       "only %zu bytes follow it (the file is truncated?)",
                       (unsigned long long)n, len - 8);
    size_t header_len = (size_t)n, data_start = 8 + header_len, data_len = len - data_start;
    size_t values;
    if (scan_header(f->bytes + 8, header_len, &values, src, err) != DDPM_OK) return DDPM_ERR;

    /* cJSON gets its own NUL-terminated copy: it never reads past a
     * terminator, and the data buffer may later move over the header. */
    char *text = malloc(header_len + 1);
    if (!text)
        return fail_at(err, src, HINT_MEMORY, "out of memory for a %zu-byte header", header_len);
    memcpy(text, f->bytes + 8, header_len);
    text[header_len] = '\0';
    const char *parse_end = text;
    f->header = cJSON_ParseWithOpts(text, &parse_end, 1);
    int rc = DDPM_OK;
    if (!f->header)
        rc = fail_at(err, src, HINT_CORRUPT, "the header is not valid JSON (error near header "
                     "byte %zu)", (size_t)(parse_end - text));
    free(text);
    if (rc != DDPM_OK) return rc;
    if (!cJSON_IsObject(f->header))
        return fail_at(err, src, HINT_CORRUPT, "the header is %s, not a JSON object",
                       json_kind(f->header));

    int n_entries = cJSON_GetArraySize(f->header);
    f->tensors = ddpm_try_calloc((size_t)n_entries + 1, sizeof *f->tensors);
    f->tensor_by_name = ddpm_try_calloc((size_t)n_entries + 1, sizeof *f->tensor_by_name);
    extent *ext = ddpm_try_calloc((size_t)n_entries + 1, sizeof *ext);
    if (!f->tensors || !f->tensor_by_name || !ext)
        rc = fail_at(err, src, HINT_MEMORY, "out of memory for %d tensors", n_entries);
    const cJSON *meta = NULL;
    for (const cJSON *e = f->header->child; e && rc == DDPM_OK; e = e->next) {
        if (strcmp(e->string, "__metadata__") == 0) {
            rc = meta ? fail_at(err, src, HINT_CORRUPT, "__metadata__ appears twice")
                      : parse_metadata(f, e, err);
            meta = e;
            continue;
        }
        int i = f->n_tensors++;
        ext[i].index = i;
        f->tensor_by_name[i] = &f->tensors[i].name;
        rc = parse_tensor(e, src, data_len, &f->tensors[i], &ext[i], err);
    }
    if (rc == DDPM_OK) {
        const char *dup = sort_names(f->tensor_by_name, f->n_tensors);
        if (dup)
            rc = fail_at(err, src, HINT_CORRUPT, "tensor name '%s' appears twice in the header",
                         show(dup).text);
    }
    if (rc == DDPM_OK) rc = check_tiling(f, ext, data_len, err);
    if (rc != DDPM_OK || header_only) {
        free(ext);
        return rc;
    }

    /* With an F16 tensor the floats go to an array of their own: the data
     * buffer holds half of them, and an F32 tensor after an odd-sized F16 one
     * is not aligned. */
    bool all_f32 = true;
    size_t n_floats = 0;
    for (int i = 0; i < f->n_tensors; i++) {
        all_f32 = all_f32 && f->tensors[i].dtype == DDPM_ST_F32;
        n_floats += (size_t)ddpm_st_numel(&f->tensors[i]);
    }
    if (!all_f32) {
        float *floats = malloc((n_floats ? n_floats : 1) * sizeof *floats);
        if (!floats) {
            free(ext);
            return fail_at(err, src, HINT_MEMORY, "out of memory for %zu floats", n_floats);
        }
        f->floats = floats;
        const unsigned char *data = f->bytes + data_start;
        for (int i = 0; i < f->n_tensors; i++) {
            ddpm_st_tensor *t = &f->tensors[ext[i].index];
            const unsigned char *p = data + ext[i].begin;
            const size_t numel = (size_t)ddpm_st_numel(t);
            for (size_t e = 0; e < numel; e++) {
                if (t->dtype == DDPM_ST_F16) {
                    floats[e] = ddpm_f16_to_f32((uint16_t)(p[2 * e] | p[2 * e + 1] << 8));
                } else {
                    const uint32_t u = load_le32(p + 4 * e);
                    memcpy(&floats[e], &u, 4);
                }
            }
            t->data = floats;
            floats += numel;
        }
        free(ext);
        return DDPM_OK;
    }

    /* Move the data buffer down to a 4-byte boundary (over the last bytes of
     * the header, already parsed) and turn it into host-order floats.  Every
     * tensor begins at a multiple of 4, being tiled from 0 by F32 tensors. */
    unsigned char *base = f->bytes + (data_start & ~(size_t)3);
    memmove(base, f->bytes + data_start, data_len);
    for (size_t i = 0; i + 4 <= data_len; i += 4) {
        uint32_t u = load_le32(base + i);
        memcpy(base + i, &u, 4);
    }
    for (int i = 0; i < f->n_tensors; i++) {
        DDPM_ASSERT(ext[i].begin % 4 == 0);
        f->tensors[ext[i].index].data = (const float *)(const void *)(base + ext[i].begin);
    }
    free(ext);
    return DDPM_OK;
}

/* Takes ownership of bytes (malloc'ed, len bytes). */
static int open_bytes(ddpm_safetensors **out, unsigned char *bytes, size_t len,
                      const char *source, ddpm_error *err)
{
    ddpm_safetensors *f = ddpm_xcalloc(1, sizeof *f);
    f->bytes = bytes;
    f->source = ddpm_xmalloc(strlen(source) + 1);
    strcpy(f->source, source);
    if (parse_file(f, len, false, err) != DDPM_OK) {
        ddpm_safetensors_close(f);
        return DDPM_ERR;
    }
    *out = f;
    return DDPM_OK;
}

/* One read of the file, in two parts: the length field and the header alone
 * are read and checked first (names, shapes, offsets that tile the data the
 * file's size leaves), so a large file with a bad header is refused before
 * its data are read, or a buffer for them is allocated; then the rest. */
int ddpm_safetensors_open(ddpm_safetensors **out, const char *path, size_t max_file_bytes,
                          ddpm_error *err)
{
    DDPM_ASSERT(out && path);
    *out = NULL;
    size_t len;
    FILE *fp = ddpm_open_bounded(path, max_file_bytes, &len, err);
    if (!fp) return DDPM_ERR;
    unsigned char head[8];
    const size_t have = fread(head, 1, sizeof head, fp);
    if (have < sizeof head && len >= sizeof head) {
        fclose(fp);
        return fail_at(err, path, HINT_CORRUPT, "cannot read its first 8 bytes (it changed while being read?)");
    }
    size_t want = have; /* the bytes the header check reads: the field, and the header it gives */
    if (have == 8) {
        const uint64_t n = load_le64(head);
        if (n <= DDPM_ST_MAX_HEADER_BYTES && n <= len - 8) want = 8 + (size_t)n;
    }
    ddpm_safetensors *f = ddpm_xcalloc(1, sizeof *f);
    f->source = ddpm_xmalloc(strlen(path) + 1);
    strcpy(f->source, path);
    f->bytes = malloc(want ? want : 1);
    int rc = f->bytes ? DDPM_OK : fail_at(err, path, HINT_MEMORY, "out of memory for a %zu-byte header", want);
    if (rc == DDPM_OK) {
        memcpy(f->bytes, head, have);
        if (want > have && fread(f->bytes + have, 1, want - have, fp) != want - have)
            rc = fail_at(err, path, HINT_CORRUPT, "the file ended inside its %zu-byte header "
                         "(it changed while being read?)", want - 8);
    }
    if (rc == DDPM_OK) rc = parse_file(f, len, true, err);
    unsigned char *part = f->bytes;
    f->bytes = NULL;
    ddpm_safetensors_close(f);
    unsigned char *bytes = NULL;
    if (rc == DDPM_OK) {
        bytes = malloc(len ? len : 1);
        if (!bytes) rc = fail_at(err, path, HINT_MEMORY, "out of memory reading %zu bytes", len);
    }
    if (rc == DDPM_OK) {
        memcpy(bytes, part, want);
        const size_t got = fread(bytes + want, 1, len - want, fp);
        if (ferror(fp)) rc = fail_at(err, path, HINT_CORRUPT, "cannot read it (%s)", strerror(errno ? errno : EIO));
        else if (got != len - want) rc = fail_at(err, path, HINT_CORRUPT, "it changed size while being read");
    }
    free(part);
    fclose(fp);
    if (rc != DDPM_OK) {
        free(bytes);
        return rc;
    }
    return open_bytes(out, bytes, len, path, err);
}

int ddpm_safetensors_open_memory(ddpm_safetensors **out, const void *bytes, size_t len,
                                 ddpm_error *err)
{
    DDPM_ASSERT(out && (bytes || len == 0));
    *out = NULL;
    unsigned char *copy = malloc(len ? len : 1);
    if (!copy) return fail_at(err, "<memory>", HINT_MEMORY, "out of memory for %zu bytes", len);
    if (len) memcpy(copy, bytes, len);
    return open_bytes(out, copy, len, "<memory>", err);
}

void ddpm_safetensors_close(ddpm_safetensors *f)
{
    if (!f) return;
    cJSON_Delete(f->header);
    free(f->tensor_by_name);
    free(f->tensors);
    free(f->meta_by_key);
    free(f->meta);
    free(f->bytes);
    free(f->floats);
    free(f->source);
    free(f);
}

/* ---- reading: access --------------------------------------------------- */

int ddpm_safetensors_count(const ddpm_safetensors *f)
{
    DDPM_ASSERT(f);
    return f->n_tensors;
}

const ddpm_st_tensor *ddpm_safetensors_tensor(const ddpm_safetensors *f, int i)
{
    DDPM_ASSERT(f && i >= 0 && i < f->n_tensors);
    return &f->tensors[i];
}

const ddpm_st_tensor *ddpm_safetensors_find(const ddpm_safetensors *f, const char *name)
{
    DDPM_ASSERT(f && name);
    return find_name(f->tensor_by_name, f->n_tensors, name);
}

int ddpm_safetensors_read_f32(const ddpm_safetensors *f, const char *name,
                              const int64_t *expect_shape, int expect_ndim, float *dst,
                              ddpm_error *err)
{
    DDPM_ASSERT(f && name && dst);
    DDPM_ASSERT(expect_ndim >= 0 && expect_ndim <= DDPM_ST_MAX_DIMS);
    DDPM_ASSERT(expect_shape || expect_ndim == 0);
    const ddpm_st_tensor *t = ddpm_safetensors_find(f, name);
    if (!t)
        return fail_at(err, f->source, HINT_MISMATCH, "no tensor named '%s' (the file holds %d "
                       "tensors)", show(name).text, f->n_tensors);
    bool same = t->ndim == expect_ndim;
    for (int d = 0; same && d < expect_ndim; d++) same = t->shape[d] == expect_shape[d];
    if (!same)
        return fail_at(err, f->source, HINT_MISMATCH, "tensor '%s' has shape %s, expected %s",
                       show(name).text, show_shape(t->shape, t->ndim).text,
                       show_shape(expect_shape, expect_ndim).text);
    int64_t numel = ddpm_st_numel(t);
    if (numel > 0) memcpy(dst, t->data, (size_t)numel * sizeof *dst);
    return DDPM_OK;
}

int ddpm_safetensors_meta_count(const ddpm_safetensors *f)
{
    DDPM_ASSERT(f);
    return f->n_meta;
}

const ddpm_st_meta *ddpm_safetensors_meta_at(const ddpm_safetensors *f, int i)
{
    DDPM_ASSERT(f && i >= 0 && i < f->n_meta);
    return &f->meta[i];
}

const char *ddpm_safetensors_meta(const ddpm_safetensors *f, const char *key)
{
    DDPM_ASSERT(f && key);
    const ddpm_st_meta *m = find_name(f->meta_by_key, f->n_meta, key);
    return m ? m->value : NULL;
}
