/* test_safetensors.c: the checkpoint format.  Round trips are bit-exact, the
 * bytes match the reference implementation's own test vectors, every hostile
 * input is refused with a message naming the problem, truncations and random
 * mutations never crash (run under ASan), and a save that fails midway
 * leaves the previous file intact. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "ddpm/fileio.h"
#include "ddpm/rng.h"
#include "ddpm/safetensors.h"

static char tmp_dir[256];

static const char *tmp_path(const char *name)
{
    static char buf[4][512];
    static int next = 0;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", tmp_dir, name);
    return p;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    unsigned char *bytes;
    ddpm_error err = {0};
    CHECK(ddpm_read_file(path, 1u << 26, &bytes, len, &err) == DDPM_OK, "%s", err.msg);
    return bytes;
}

static void put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> 8 * i);
}

/* A file made of a length field, the given header text and data_len bytes
 * of data (the floats 1, 2, 3, ... little-endian). */
static unsigned char *build(const char *header, size_t data_len, size_t *len)
{
    size_t n = strlen(header);
    *len = 8 + n + data_len;
    unsigned char *b = malloc(*len);
    put_le64(b, n);
    memcpy(b + 8, header, n);
    for (size_t i = 0; i + 4 <= data_len; i += 4) {
        float x = (float)(i / 4 + 1);
        uint32_t u;
        memcpy(&u, &x, 4);
        for (int k = 0; k < 4; k++) b[8 + n + i + (size_t)k] = (unsigned char)(u >> 8 * k);
    }
    return b;
}

static int n_rejections = 0;

/* bytes must be refused with a message naming the source, the phrase and a
 * suggestion; *out must stay NULL. */
static void expect_reject_bytes(const char *what, const unsigned char *bytes, size_t len,
                                const char *phrase)
{
    ddpm_safetensors *f = (ddpm_safetensors *)&f; /* garbage: open must reset it */
    ddpm_error err = {0};
    int rc = ddpm_safetensors_open_memory(&f, bytes, len, &err);
    CHECK(rc == DDPM_ERR, "%s: accepted", what);
    CHECK(f == NULL, "%s: *out not NULL after an error", what);
    CHECK(strncmp(err.msg, "<memory>: ", 10) == 0, "%s: message does not name the source: %s",
          what, err.msg);
    CHECK(strstr(err.msg, phrase), "%s: message lacks '%s': %s", what, phrase, err.msg);
    CHECK(strstr(err.msg, "; "), "%s: message gives no advice: %s", what, err.msg);
    printf("  rejects %-34s %s\n", what, err.msg + 10);
    n_rejections++;
}

static void expect_reject(const char *what, const char *header, size_t data_len,
                          const char *phrase)
{
    size_t len;
    unsigned char *b = build(header, data_len, &len);
    expect_reject_bytes(what, b, len, phrase);
    free(b);
}

static ddpm_safetensors *expect_accept(const char *what, const char *header, size_t data_len)
{
    size_t len;
    unsigned char *b = build(header, data_len, &len);
    ddpm_safetensors *f = NULL;
    ddpm_error err = {0};
    CHECK(ddpm_safetensors_open_memory(&f, b, len, &err) == DDPM_OK, "%s: %s", what, err.msg);
    free(b);
    return f;
}

static float tensor_value(const ddpm_safetensors *f, const char *name, int i)
{
    const ddpm_st_tensor *t = ddpm_safetensors_find(f, name);
    CHECK(t, "tensor '%s' not found", name);
    CHECK(((uintptr_t)t->data & 3) == 0, "tensor '%s' data is not 4-byte aligned", name);
    return t->data[i];
}

/* ---- round trip -------------------------------------------------------- */

static float bits(uint32_t u)
{
    float x;
    memcpy(&x, &u, 4);
    return x;
}

enum { N_RT = 8 };

static void make_round_trip_set(ddpm_st_tensor *t, float *pool, ddpm_st_meta *m)
{
    static const ddpm_st_tensor shapes[N_RT] = {
        {.name = "scalar", .ndim = 0},
        {.name = "vec", .ndim = 1, .shape = {7}},
        {.name = "mat", .ndim = 2, .shape = {2, 3}},
        {.name = "cube", .ndim = 3, .shape = {2, 3, 4}},
        {.name = "down.0.conv.weight", .ndim = 4, .shape = {4, 2, 3, 3}},
        {.name = "empty", .ndim = 3, .shape = {3, 0, 2}},
        {.name = "eight", .ndim = 8, .shape = {1, 2, 1, 2, 1, 1, 2, 1}},
        {.name = "ünï \"quoted\" \\ tab\t", .ndim = 1, .shape = {3}},
    };
    ddpm_rng r;
    ddpm_rng_init(&r, 7, 0);
    ddpm_rng_normal_fill(&r, pool, 256);
    /* Values a lossy path would change: NaN payloads, -0, infinities, denormals. */
    pool[1] = bits(0x7fc00001u), pool[2] = bits(0xffa00000u), pool[3] = -0.0f;
    pool[4] = bits(0x7f800000u), pool[5] = bits(0xff800000u), pool[6] = bits(0x00000001u);
    size_t used = 0;
    for (int i = 0; i < N_RT; i++) {
        t[i] = shapes[i];
        int64_t numel = ddpm_st_numel(&t[i]);
        t[i].data = numel ? pool + used : NULL;
        used += (size_t)numel;
    }
    CHECK(used <= 256, "pool too small");
    m[0] = (ddpm_st_meta){"format", "pt"};
    m[1] = (ddpm_st_meta){"config", "{\"ch\": 32,\n \"T\": 1000}"};
    m[2] = (ddpm_st_meta){"çødé", "αβγ"};
    m[3] = (ddpm_st_meta){"empty", ""};
}

static void check_header_layout(const unsigned char *b, size_t len, const ddpm_st_tensor *t,
                                int n, const ddpm_st_meta *m, int n_meta)
{
    uint64_t hn = 0;
    for (int i = 7; i >= 0; i--) hn = hn << 8 | b[i];
    CHECK(hn % 8 == 0, "header length %llu is not a multiple of 8", (unsigned long long)hn);
    CHECK(8 + hn <= len, "header length past the end");
    char *text = malloc(hn + 1);
    memcpy(text, b + 8, hn);
    text[hn] = '\0';
    CHECK(text[0] == '{', "header must start with '{'");
    size_t json_len = strlen(text);
    while (json_len > 0 && text[json_len - 1] == ' ') json_len--;
    CHECK(json_len + 8 > hn, "more than 7 bytes of padding");
    cJSON *root = cJSON_Parse(text);
    CHECK(root && cJSON_IsObject(root), "header is not a JSON object: %s", text);

    const cJSON *e = root->child;
    CHECK(e && strcmp(e->string, "__metadata__") == 0, "__metadata__ must come first");
    const cJSON *mv = e->child;
    for (int i = 0; i < n_meta; i++, mv = mv->next) {
        CHECK(mv && strcmp(mv->string, m[i].key) == 0, "metadata %d out of order", i);
        CHECK(cJSON_IsString(mv) && strcmp(mv->valuestring, m[i].value) == 0, "metadata %d", i);
    }
    uint64_t offset = 0;
    e = e->next;
    for (int i = 0; i < n; i++, e = e->next) {
        CHECK(e && strcmp(e->string, t[i].name) == 0, "tensor %d is not in written order", i);
        const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
        const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
        const cJSON *of = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
        CHECK(cJSON_IsString(dt) && strcmp(dt->valuestring, "F32") == 0, "dtype of %d", i);
        CHECK(cJSON_GetArraySize(sh) == t[i].ndim, "ndim of %d", i);
        for (int d = 0; d < t[i].ndim; d++)
            CHECK(cJSON_GetArrayItem(sh, d)->valuedouble == (double)t[i].shape[d], "dim %d", d);
        uint64_t end = offset + 4 * (uint64_t)ddpm_st_numel(&t[i]);
        CHECK(cJSON_GetArraySize(of) == 2 && cJSON_GetArrayItem(of, 0)->valuedouble == offset &&
                  cJSON_GetArrayItem(of, 1)->valuedouble == end,
              "tensor %d: offsets must be [%llu, %llu]", i, (unsigned long long)offset,
              (unsigned long long)end);
        offset = end;
    }
    CHECK(e == NULL, "extra entries in the header");
    CHECK(8 + hn + offset == len, "file is %zu bytes, expected %llu", len,
          (unsigned long long)(8 + hn + offset));
    cJSON_Delete(root);
    free(text);
}

static void test_round_trip(void)
{
    ddpm_st_tensor t[N_RT];
    ddpm_st_meta m[4];
    float pool[256];
    make_round_trip_set(t, pool, m);
    ddpm_error err = {0};
    const char *path = tmp_path("rt.safetensors");
    CHECK(ddpm_safetensors_write(path, t, N_RT, m, 4, &err) == DDPM_OK, "%s", err.msg);

    size_t len;
    unsigned char *raw = slurp(path, &len);
    check_header_layout(raw, len, t, N_RT, m, 4);
    free(raw);

    ddpm_safetensors *f;
    CHECK(ddpm_safetensors_open(&f, path, 1u << 20, &err) == DDPM_OK, "%s", err.msg);
    CHECK(ddpm_safetensors_count(f) == N_RT, "count %d", ddpm_safetensors_count(f));
    for (int i = 0; i < N_RT; i++) {
        const ddpm_st_tensor *g = ddpm_safetensors_tensor(f, i);
        CHECK(strcmp(g->name, t[i].name) == 0, "tensor %d is '%s', wrote '%s'", i, g->name,
              t[i].name);
        CHECK(ddpm_safetensors_find(f, t[i].name) == g, "find('%s')", t[i].name);
        CHECK(g->ndim == t[i].ndim, "'%s' ndim", g->name);
        for (int d = 0; d < g->ndim; d++) CHECK(g->shape[d] == t[i].shape[d], "'%s' dim", g->name);
        int64_t numel = ddpm_st_numel(g);
        CHECK(numel == ddpm_st_numel(&t[i]), "'%s' numel", g->name);
        if (numel) CHECK(memcmp(g->data, t[i].data, 4 * (size_t)numel) == 0, "'%s' bits", g->name);

        float dst[256];
        memset(dst, 0xAB, sizeof dst);
        CHECK(ddpm_safetensors_read_f32(f, t[i].name, t[i].shape, t[i].ndim, dst, &err) ==
                  DDPM_OK, "%s", err.msg);
        if (numel) CHECK(memcmp(dst, t[i].data, 4 * (size_t)numel) == 0, "'%s' copy", g->name);
    }
    CHECK(ddpm_safetensors_meta_count(f) == 4, "meta count");
    for (int i = 0; i < 4; i++) {
        CHECK(strcmp(ddpm_safetensors_meta_at(f, i)->key, m[i].key) == 0, "meta order");
        const char *v = ddpm_safetensors_meta(f, m[i].key);
        CHECK(v && strcmp(v, m[i].value) == 0, "meta '%s' = '%s'", m[i].key, v ? v : "(null)");
    }
    CHECK(ddpm_safetensors_meta(f, "absent") == NULL, "absent meta key");
    CHECK(ddpm_safetensors_find(f, "absent") == NULL, "absent tensor");

    /* read_f32 refuses another shape or a missing name, naming both shapes,
     * and leaves dst alone. */
    float dst[6] = {42, 42, 42, 42, 42, 42};
    int64_t wrong[2] = {3, 2};
    CHECK(ddpm_safetensors_read_f32(f, "mat", wrong, 2, dst, &err) == DDPM_ERR, "shape check");
    CHECK(strstr(err.msg, path) && strstr(err.msg, "tensor 'mat' has shape [2, 3], expected [3, 2]"),
          "message: %s", err.msg);
    printf("  read_f32 wrong shape: %s\n", err.msg);
    CHECK(ddpm_safetensors_read_f32(f, "mat", wrong, 1, dst, &err) == DDPM_ERR, "ndim check");
    CHECK(strstr(err.msg, "expected [3]"), "message: %s", err.msg);
    CHECK(ddpm_safetensors_read_f32(f, "nope", wrong, 2, dst, &err) == DDPM_ERR, "missing");
    CHECK(strstr(err.msg, "no tensor named 'nope'"), "message: %s", err.msg);
    CHECK(ddpm_safetensors_read_f32(f, "scalar", NULL, 0, dst, &err) == DDPM_OK, "%s", err.msg);
    CHECK(memcmp(&dst[0], &pool[0], 4) == 0 && dst[1] == 42, "scalar copies one float");
    ddpm_safetensors_close(f);

    /* No tensors and no metadata: the 8-byte "{}" file of the reference. */
    CHECK(ddpm_safetensors_write(tmp_path("none.safetensors"), NULL, 0, NULL, 0, &err) == DDPM_OK,
          "%s", err.msg);
    CHECK(ddpm_safetensors_open(&f, tmp_path("none.safetensors"), 64, &err) == DDPM_OK, "%s",
          err.msg);
    CHECK(ddpm_safetensors_count(f) == 0 && ddpm_safetensors_meta_count(f) == 0, "empty file");
    ddpm_safetensors_close(f);
    printf("round trip: %d tensors and 4 metadata entries bit-exact\n", N_RT);
}

/* ---- known bytes ------------------------------------------------------- */

/* The expected files are the reference implementation's own test vectors
 * (safetensors/src/tensor.rs: test_serialization,
 * test_serialization_forced_alignement, test_empty), written out by hand. */
static void expect_file_bytes(const char *what, const ddpm_st_tensor *t, int n,
                              const ddpm_st_meta *m, int n_meta, const unsigned char *want,
                              size_t want_len)
{
    ddpm_error err = {0};
    const char *path = tmp_path("known.safetensors");
    CHECK(ddpm_safetensors_write(path, t, n, m, n_meta, &err) == DDPM_OK, "%s", err.msg);
    size_t len;
    unsigned char *got = slurp(path, &len);
    CHECK(len == want_len, "%s: %zu bytes, expected %zu", what, len, want_len);
    for (size_t i = 0; i < len; i++)
        CHECK(got[i] == want[i], "%s: byte %zu is 0x%02x, expected 0x%02x", what, i, got[i],
              want[i]);
    free(got);
}

static void test_known_bytes(void)
{
    static const float values[6] = {0, 1, 2, 3, 4, 5};
    static const unsigned char data[24] = {0, 0, 0,    0,    0, 0, 0x80, 0x3f, 0, 0, 0,    0x40,
                                           0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40, 0, 0, 0xa0, 0x40};
    unsigned char want[128];

    /* 64-byte header: no padding needed. */
    const char *json = "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}";
    memcpy(want, "\x40\0\0\0\0\0\0\0", 8);
    memcpy(want + 8, json, 64);
    memcpy(want + 72, data, 24);
    ddpm_st_tensor t = {.name = "attn.0", .ndim = 3, .shape = {1, 2, 3}, .data = values};
    expect_file_bytes("attn.0", &t, 1, NULL, 0, want, 96);

    /* 65 bytes of JSON padded with 7 spaces to 72. */
    json = "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}";
    memcpy(want, "\x48\0\0\0\0\0\0\0", 8);
    memcpy(want + 8, json, 65);
    memcpy(want + 73, "       ", 7);
    memcpy(want + 80, data, 24);
    t = (ddpm_st_tensor){.name = "attn0", .ndim = 4, .shape = {1, 1, 2, 3}, .data = values};
    expect_file_bytes("attn0", &t, 1, NULL, 0, want, 104);

    /* Metadata only, and nothing at all. */
    json = "{\"__metadata__\":{\"framework\":\"pt\"}}     ";
    memcpy(want, "\x28\0\0\0\0\0\0\0", 8);
    memcpy(want + 8, json, 40);
    ddpm_st_meta m = {"framework", "pt"};
    expect_file_bytes("metadata only", NULL, 0, &m, 1, want, 48);
    memcpy(want, "\x08\0\0\0\0\0\0\0{}      ", 16);
    expect_file_bytes("empty", NULL, 0, NULL, 0, want, 16);
    printf("known bytes: 4 files match the reference test vectors\n");
}

/* ---- hostile inputs ---------------------------------------------------- */

#define T1 "\"dtype\":\"F32\",\"shape\":[1]"

static void test_hostile(void)
{
    unsigned char b[64] = {0};
    expect_reject_bytes("empty file", b, 0, "too short");
    expect_reject_bytes("7 bytes", b, 7, "too short");

    put_le64(b, (uint64_t)1 << 63);
    memcpy(b + 8, "{}", 2);
    expect_reject_bytes("header length 2^63", b, 10, "limit of 100000000");
    put_le64(b, 100000001);
    expect_reject_bytes("header length 100 MB + 1", b, 10, "limit of 100000000");
    put_le64(b, 40);
    expect_reject_bytes("header length > file", b, 30, "only 22 bytes follow");
    put_le64(b, UINT64_MAX);
    expect_reject_bytes("header length 2^64-1", b, 30, "limit");

    /* The header takes the whole file: fine with no tensors, not with one. */
    ddpm_safetensors *f = expect_accept("header only", "{}", 0);
    CHECK(ddpm_safetensors_count(f) == 0, "no tensors");
    ddpm_safetensors_close(f);
    expect_reject("header = file - 8, a tensor", "{\"a\":{" T1 ",\"data_offsets\":[0,4]}}", 0,
                  "past the end of the 0-byte data buffer");
    expect_reject("zero header length", "", 8, "not valid JSON");

    expect_reject("non-JSON", "hello world", 0, "not valid JSON");
    expect_reject("unbalanced JSON", "{\"a\":{" T1 ",\"data_offsets\":[0,4]}", 4, "not valid JSON");
    expect_reject("two JSON objects", "{}{}", 0, "not valid JSON");
    expect_reject("trailing garbage", "{} x", 0, "unexpected byte 0x78");
    expect_reject("JSON array", "[1,2,3]", 0, "the header is an array, not a JSON object");
    expect_reject("JSON string", "\"abc\"", 0, "not a JSON object");
    expect_reject("JSON null", "null", 0, "not a JSON object");
    expect_reject("not UTF-8", "{\"\xff\":{}}", 0, "not valid UTF-8");
    expect_reject("overlong UTF-8", "{\"\xc0\xaf\":{}}", 0, "not valid UTF-8");
    expect_reject("UTF-8 surrogate", "{\"\xed\xa0\x80\":{}}", 0, "not valid UTF-8");
    expect_reject("cut UTF-8", "{\"\xe2\x82\":{}}", 0, "not valid UTF-8");
    expect_reject("raw control byte in name", "{\"a\x01\":{}}", 0, "raw control byte 0x01");
    unsigned char nul[16] = {3, 0, 0, 0, 0, 0, 0, 0, '{', 0, '}'};
    expect_reject_bytes("NUL byte in header", nul, 11, "unexpected byte 0x00");
    expect_reject("unterminated string", "{\"abc", 0, "never ends");
    expect_reject("number with leading 0", "{\"a\":{" T1 ",\"data_offsets\":[00,4]}}", 4,
                  "malformed number");
    expect_reject("number with +", "{\"a\":{" T1 ",\"data_offsets\":[+0,4]}}", 4, "unexpected byte");
    expect_reject("number 1.", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.],\"data_offsets\":[0,4]}}",
                  4, "malformed number");
    expect_reject("bare word", "{\"a\":{\"dtype\":F32,\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                  "unexpected byte 0x46");
    char deep[4200];
    memset(deep, '[', 4000);
    deep[4000] = '\0';
    expect_reject("4000 nested arrays", deep, 0, "not valid JSON");

    expect_reject("entry not an object", "{\"a\":5}", 0, "tensor 'a': the entry is a number");
    expect_reject("missing dtype", "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                  "tensor 'a': missing \"dtype\"");
    expect_reject("missing shape", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4,
                  "missing \"shape\"");
    expect_reject("missing data_offsets", "{\"a\":{" T1 "}}", 4, "missing \"data_offsets\"");
    expect_reject("field twice", "{\"a\":{" T1 ",\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4,
                  "field \"dtype\" appears twice");
    expect_reject("dtype F16, F32's size", "{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                  8, "tensor 'a': data_offsets [0, 8] hold 8 bytes, but F16 of shape [2] needs 4");
    expect_reject("dtype BF16", "{\"a\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}}",
                  4, "tensor 'a' has dtype 'BF16', but only F32 and F16 are supported");
    expect_reject("dtype I64", "{\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}",
                  8, "dtype 'I64', but only F32");
    expect_reject("dtype garbage",
                  "{\"a\":{\"dtype\":\"garbage\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                  "dtype 'garbage', but only F32");
    expect_reject("dtype a number", "{\"a\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}",
                  4, "dtype is a number, not a string");
    expect_reject("shape not an array", "{\"a\":{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}}",
                  4, "shape is a number, not an array");
    expect_reject("negative dim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}",
                  4, "shape[0] is -1, not an integer in [0, 2^53)");
    expect_reject("fractional dim",
                  "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,2.5],\"data_offsets\":[0,4]}}", 4,
                  "shape[1] is 2.5");
    expect_reject("dim as a string",
                  "{\"a\":{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}}", 4,
                  "shape[0] is a string");
    expect_reject("dim 2^60", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1152921504606846976,0],"
                  "\"data_offsets\":[0,0]}}", 0, "shape[0] is 1.152921504606847e+18");
    expect_reject("dim 1e999", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1e999],\"data_offsets\":[0,4]}}",
                  4, "shape[0] is inf");
    expect_reject("product overflow", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
                  "\"data_offsets\":[0,4]}}", 4, "overflow");
    expect_reject("byte count overflow", "{\"a\":{\"dtype\":\"F32\",\"shape\":[9007199254740991,"
                  "512],\"data_offsets\":[0,4]}}", 4, "overflow");
    expect_reject("dim 2^53", "{\"a\":{\"dtype\":\"F32\",\"shape\":[9007199254740992,0],"
                  "\"data_offsets\":[0,0]}}", 0, "shape[0] is 9007199254740992");
    expect_reject("product overflow 8 dims", "{\"a\":{\"dtype\":\"F32\",\"shape\":[256,256,256,256,"
                  "256,256,256,256],\"data_offsets\":[0,4]}}", 4, "overflow");
    expect_reject("9 dims", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],"
                  "\"data_offsets\":[0,4]}}", 4, "shape has 9 dimensions, more than the 8");
    expect_reject("offsets reversed", "{\"down.0.conv.weight\":{\"dtype\":\"F32\",\"shape\":[0],"
                  "\"data_offsets\":[100,90]}}", 100,
                  "tensor 'down.0.conv.weight': data_offsets [100, 90] are reversed");
    expect_reject("offsets past the end", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                  "\"data_offsets\":[0,8]}}", 4, "past the end of the 4-byte data buffer");
    expect_reject("offsets 1 value", "{\"a\":{" T1 ",\"data_offsets\":[4]}}", 4,
                  "data_offsets must be [begin, end], not an array of another length");
    expect_reject("offsets 3 values", "{\"a\":{" T1 ",\"data_offsets\":[0,4,8]}}", 8,
                  "must be [begin, end]");
    expect_reject("offsets an object", "{\"a\":{" T1 ",\"data_offsets\":{}}}", 4,
                  "must be [begin, end], not an object");
    expect_reject("offset negative", "{\"a\":{" T1 ",\"data_offsets\":[-4,0]}}", 4,
                  "data_offsets[0] is -4");
    expect_reject("offset fractional", "{\"a\":{" T1 ",\"data_offsets\":[0,4.5]}}", 4,
                  "data_offsets[1] is 4.5");
    expect_reject("offset 2^64", "{\"a\":{" T1 ",\"data_offsets\":[0,18446744073709551616]}}", 4,
                  "data_offsets[1] is 1.8446744073709552e+19");
    expect_reject("wrong byte count", "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],"
                  "\"data_offsets\":[0,8]}}", 8, "hold 8 bytes, but F32 of shape [3] needs 12");
    expect_reject("overlap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                  "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12,
                  "tensors 'a' [0, 8] and 'b' [4, 12] overlap");
    expect_reject("same range twice", "{\"a\":{" T1 ",\"data_offsets\":[0,4]},"
                  "\"b\":{" T1 ",\"data_offsets\":[0,4]}}", 4, "overlap");
    expect_reject("empty inside another", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                  "\"data_offsets\":[0,8]},\"e\":{\"dtype\":\"F32\",\"shape\":[0],"
                  "\"data_offsets\":[4,4]}}", 8, "overlap");
    expect_reject("hole", "{\"a\":{" T1 ",\"data_offsets\":[0,4]},"
                  "\"b\":{" T1 ",\"data_offsets\":[8,12]}}", 12,
                  "bytes [4, 8) of the data buffer belong to no tensor");
    expect_reject("hole at the start", "{\"a\":{" T1 ",\"data_offsets\":[4,8]}}", 8,
                  "bytes [0, 4) of the data buffer belong to no tensor");
    expect_reject("bytes left over", "{\"a\":{" T1 ",\"data_offsets\":[0,4]}}", 12,
                  "bytes [4, 12) at the end of the data buffer belong to no tensor");
    expect_reject("data with no tensors", "{}", 4, "bytes [0, 4) at the end");
    expect_reject("duplicate tensor", "{\"a\":{" T1 ",\"data_offsets\":[0,4]},"
                  "\"a\":{" T1 ",\"data_offsets\":[4,8]}}", 8,
                  "tensor name 'a' appears twice in the header");
    /* "a\u0000x" would decode to the C string "a": refused as a NUL, before it can
     * pass for (or collide with) another name */
    expect_reject("name escaped NUL", "{\"a\\u0000x\":{" T1 ",\"data_offsets\":[0,4]},"
                  "\"a\":{" T1 ",\"data_offsets\":[4,8]}}", 8, "\\u0000 escape (a NUL character)");
    expect_reject("lone name escaped NUL", "{\"w\\u0000\":{" T1 ",\"data_offsets\":[0,4]}}", 4,
                  "\\u0000 escape (a NUL character)");
    expect_reject("metadata escaped NUL", "{\"__metadata__\":{\"format\":\"ddpm\\u0000lab\"}}", 0,
                  "\\u0000 escape (a NUL character)");
    expect_reject("metadata not a string", "{\"__metadata__\":{\"k\":1}}", 0,
                  "__metadata__ value of 'k' is a number, not a string");
    expect_reject("metadata nested", "{\"__metadata__\":{\"k\":{\"x\":\"y\"}}}", 0,
                  "is an object, not a string");
    expect_reject("metadata an array", "{\"__metadata__\":[\"a\"]}", 0,
                  "__metadata__ is an array; it must be an object of strings");
    expect_reject("metadata null", "{\"__metadata__\":null}", 0, "__metadata__ is null");
    expect_reject("metadata twice", "{\"__metadata__\":{},\"__metadata__\":{}}", 0,
                  "__metadata__ appears twice");
    expect_reject("metadata key twice", "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0,
                  "__metadata__ key 'k' appears twice");
    expect_reject("name with escapes", "{\"\\u001b[31mred\":5}", 0, "tensor '?[31mred'");

    /* Too many JSON values for the parser's memory budget. */
    size_t n_zeros = DDPM_ST_MAX_JSON_VALUES + 1;
    char *many = malloc(2 * n_zeros + 16);
    size_t k = (size_t)sprintf(many, "{\"a\":[");
    for (size_t i = 0; i < n_zeros; i++) many[k++] = '0', many[k++] = ',';
    strcpy(many + k - 1, "]}");
    expect_reject("a million JSON values", many, 0, "more than 1048576 JSON values");
    free(many);

    /* Accepted: any JSON order, unaligned data, whitespace, unknown fields,
     * empty tensors on the chain. */
    f = expect_accept("offset order differs from JSON order",
                      "{\"b\":{" T1 ",\"data_offsets\":[4,8]},\"a\":{" T1 ",\"data_offsets\":[0,4]}}",
                      8);
    CHECK(strcmp(ddpm_safetensors_tensor(f, 0)->name, "b") == 0, "header order kept");
    CHECK(tensor_value(f, "a", 0) == 1 && tensor_value(f, "b", 0) == 2, "values by offset");
    ddpm_safetensors_close(f);
    for (int pad = 0; pad < 8; pad++) {
        char h[160];
        snprintf(h, sizeof h, " \n{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12],"
                 "\"extra\":[1]}}%*s", pad, "");
        f = expect_accept("unaligned data", h, 12);
        CHECK(tensor_value(f, "a", 0) == 1 && tensor_value(f, "a", 2) == 3, "pad %d", pad);
        ddpm_safetensors_close(f);
    }
    f = expect_accept("empty tensors on the chain",
                      "{\"e0\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
                      "\"a\":{" T1 ",\"data_offsets\":[0,4]},"
                      "\"e1\":{\"dtype\":\"F32\",\"shape\":[5,0],\"data_offsets\":[4,4]},"
                      "\"b\":{" T1 ",\"data_offsets\":[4,8]},"
                      "\"e2\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,8]}}", 8);
    CHECK(ddpm_safetensors_count(f) == 5 && tensor_value(f, "b", 0) == 2, "empty tensors");
    ddpm_safetensors_close(f);
    f = expect_accept("dim 2^53 - 1 in an empty tensor", "{\"a\":{\"dtype\":\"F32\","
                      "\"shape\":[9007199254740991,0],\"data_offsets\":[0,0]}}", 0);
    CHECK(ddpm_safetensors_find(f, "a")->shape[0] == 9007199254740991, "exact large dim");
    ddpm_safetensors_close(f);
    printf("hostile inputs: %d rejected with the expected message\n", n_rejections);
}

/* ---- truncation and mutation ------------------------------------------- */

/* Opens bytes; if accepted, touches every float and string it hands out so
 * that ASan sees any pointer outside the buffers. */
static int open_and_touch(const unsigned char *bytes, size_t len)
{
    ddpm_safetensors *f;
    ddpm_error err = {0};
    if (ddpm_safetensors_open_memory(&f, bytes, len, &err) != DDPM_OK) {
        CHECK(strncmp(err.msg, "<memory>: ", 10) == 0 && strlen(err.msg) > 20, "bad message: %s",
              err.msg);
        return 0;
    }
    volatile float sink = 0;
    int64_t total = 0;
    for (int i = 0; i < ddpm_safetensors_count(f); i++) {
        const ddpm_st_tensor *t = ddpm_safetensors_tensor(f, i);
        int64_t numel = ddpm_st_numel(t);
        CHECK(numel >= 0, "accepted tensor with invalid shape");
        CHECK(ddpm_safetensors_find(f, t->name) == t, "find disagrees with index");
        for (int64_t e = 0; e < numel; e++) sink += t->data[e];
        total += 4 * numel;
    }
    for (int i = 0; i < ddpm_safetensors_meta_count(f); i++) {
        const ddpm_st_meta *m = ddpm_safetensors_meta_at(f, i);
        CHECK(ddpm_safetensors_meta(f, m->key) == m->value, "meta lookup disagrees");
    }
    CHECK((size_t)total <= len, "tensors hold more bytes than the file");
    (void)sink;
    ddpm_safetensors_close(f);
    return 1;
}

static void test_truncation(const unsigned char *valid, size_t len)
{
    for (size_t cut = 0; cut < len; cut++) {
        unsigned char *prefix = malloc(cut ? cut : 1); /* exact size: ASan guards the end */
        memcpy(prefix, valid, cut);
        CHECK(!open_and_touch(prefix, cut), "prefix of %zu / %zu bytes accepted", cut, len);
        free(prefix);
    }
    CHECK(open_and_touch(valid, len), "the full file is refused");
    unsigned char *longer = malloc(len + 1);
    memcpy(longer, valid, len);
    longer[len] = 0;
    CHECK(!open_and_touch(longer, len + 1), "a file with one byte appended is accepted");
    free(longer);
    printf("truncation: all %zu prefixes refused, the full file accepted\n", len);
}

static void test_mutations(const unsigned char *valid, size_t len)
{
    static const char json_chars[] = "{}[]\":,0123456789-.eE \\u";
    ddpm_rng r;
    ddpm_rng_init(&r, 20240601, 0);
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; i--) header_len = header_len << 8 | valid[i];
    const int iterations = 4000;
    int accepted = 0;
    unsigned char *buf = malloc(len + 64);
    for (int it = 0; it < iterations; it++) {
        memcpy(buf, valid, len);
        size_t n = len;
        int n_mut = 1 + (int)ddpm_rng_below(&r, 4);
        for (int k = 0; k < n_mut; k++) {
            /* Most mutations hit the header, where the structure is. */
            size_t span = ddpm_rng_below(&r, 10) < 8 ? 8 + (size_t)header_len : n;
            if (span > n) span = n;
            size_t at = span ? ddpm_rng_below(&r, (uint32_t)span) : 0;
            switch (ddpm_rng_below(&r, 7)) {
            case 0: if (at < n) buf[at] = (unsigned char)ddpm_rng_below(&r, 256); break;
            case 1: if (at < n) buf[at] = (unsigned char)json_chars[ddpm_rng_below(&r, sizeof json_chars - 1)]; break;
            case 2: if (at < n) buf[at] ^= (unsigned char)(1u << ddpm_rng_below(&r, 8)); break;
            case 3: buf[ddpm_rng_below(&r, 3)] += (unsigned char)(ddpm_rng_below(&r, 33) - 16); break;
            case 4: n = at; break; /* truncate */
            case 5: /* delete a run */
                if (at < n) {
                    size_t cnt = 1 + ddpm_rng_below(&r, 8);
                    if (cnt > n - at) cnt = n - at;
                    memmove(buf + at, buf + at + cnt, n - at - cnt);
                    n -= cnt;
                }
                break;
            case 6: /* insert a run (room: len + 64) */
                if (n + 8 <= len + 64) {
                    size_t cnt = 1 + ddpm_rng_below(&r, 8);
                    memmove(buf + at + cnt, buf + at, n - at);
                    for (size_t j = 0; j < cnt; j++) buf[at + j] = (unsigned char)json_chars[ddpm_rng_below(&r, sizeof json_chars - 1)];
                    n += cnt;
                }
                break;
            }
        }
        /* Mutations that resize the header break the length field, and then
         * only its check would run: mostly, re-frame the mutant so the
         * header is parsed, keeping the data behind it or giving it none
         * (so that the header ends exactly where the buffer does). */
        size_t data_len = len - 8 - (size_t)header_len;
        uint32_t frame = ddpm_rng_below(&r, 3);
        if (frame == 1 && n >= 8 + data_len) put_le64(buf, n - 8 - data_len);
        if (frame == 2 && n >= 8) put_le64(buf, n - 8);
        unsigned char *exact = malloc(n ? n : 1);
        memcpy(exact, buf, n);
        accepted += open_and_touch(exact, n);
        free(exact);
    }
    free(buf);
    printf("mutations: %d random mutants, %d accepted, %d refused, no crash\n", iterations,
           accepted, iterations - accepted);
}

/* ---- writer errors and atomicity --------------------------------------- */

static void test_writer_errors(void)
{
    float x[2] = {1, 2};
    ddpm_st_tensor t[2] = {{.name = "a", .ndim = 1, .shape = {2}, .data = x},
                           {.name = "a", .ndim = 1, .shape = {2}, .data = x}};
    ddpm_error err = {0};
    const char *path = tmp_path("bad.safetensors");
    CHECK(ddpm_safetensors_write(path, t, 2, NULL, 0, &err) == DDPM_ERR, "duplicate names");
    CHECK(strstr(err.msg, path) && strstr(err.msg, "two tensors are named 'a'"), "%s", err.msg);
    t[1].name = "__metadata__";
    CHECK(ddpm_safetensors_write(path, t, 2, NULL, 0, &err) == DDPM_ERR, "reserved name");
    CHECK(strstr(err.msg, "reserved"), "%s", err.msg);
    t[1].name = "b\xff";
    CHECK(ddpm_safetensors_write(path, t, 2, NULL, 0, &err) == DDPM_ERR, "non-UTF-8 name");
    CHECK(strstr(err.msg, "not valid UTF-8"), "%s", err.msg);
    ddpm_st_meta m[2] = {{"k", "1"}, {"k", "2"}};
    CHECK(ddpm_safetensors_write(path, t, 1, m, 2, &err) == DDPM_ERR, "duplicate meta key");
    CHECK(strstr(err.msg, "metadata key 'k' is given twice"), "%s", err.msg);
    ddpm_st_tensor huge = {.name = "h", .ndim = 2, .shape = {INT64_MAX / 2, 3}, .data = x};
    CHECK(ddpm_safetensors_write(path, &huge, 1, NULL, 0, &err) == DDPM_ERR, "overflow");
    CHECK(strstr(err.msg, "larger than 2^63"), "%s", err.msg);
    CHECK(!ddpm_file_exists(path), "a refused save must not create the file");

    /* 100k tensors: a header over the reader's JSON value cap is refused
     * rather than written. */
    enum { MANY = 100000 };
    ddpm_st_tensor *many = calloc(MANY, sizeof *many);
    char (*names)[16] = calloc(MANY, sizeof *names);
    for (int i = 0; i < MANY; i++) {
        snprintf(names[i], sizeof names[i], "t%d", i);
        many[i] = (ddpm_st_tensor){.name = names[i], .ndim = DDPM_ST_MAX_DIMS};
    }
    CHECK(ddpm_safetensors_write(path, many, MANY, NULL, 0, &err) == DDPM_ERR, "huge header");
    CHECK(strstr(err.msg, "split the checkpoint") && !ddpm_file_exists(path), "%s", err.msg);
    CHECK(ddpm_safetensors_write(path, many, MANY / 10, NULL, 0, &err) == DDPM_OK, "%s", err.msg);
    ddpm_safetensors *f;
    CHECK(ddpm_safetensors_open(&f, path, 1 << 24, &err) == DDPM_OK, "%s", err.msg);
    CHECK(ddpm_safetensors_count(f) == MANY / 10, "10k empty tensors");
    ddpm_safetensors_close(f);
    CHECK(unlink(path) == 0, "unlink");
    free(many);
    free(names);
    printf("writer: duplicate, reserved, non-UTF-8, oversized and too-many inputs refused\n");
}

static int count_temp_files(void)
{
    int n = 0;
    DIR *d = opendir(tmp_dir);
    CHECK(d, "opendir");
    for (struct dirent *e; (e = readdir(d));) n += strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    return n;
}

static void test_atomic(void)
{
    ddpm_error err = {0};
    float small[4] = {1, 2, 3, 4};
    ddpm_st_tensor old = {.name = "w", .ndim = 1, .shape = {4}, .data = small};

    /* A missing directory: a clear message, nothing created. */
    const char *missing = tmp_path("no_such_dir/model.safetensors");
    CHECK(ddpm_safetensors_write(missing, &old, 1, NULL, 0, &err) == DDPM_ERR, "missing dir");
    CHECK(strstr(err.msg, "no_such_dir") && strstr(err.msg, "check that the path exists"), "%s",
          err.msg);
    printf("  missing directory: %s\n", err.msg);
    ddpm_safetensors *f;
    CHECK(ddpm_safetensors_open(&f, missing, 1 << 20, &err) == DDPM_ERR, "open missing");
    CHECK(strstr(err.msg, "no_such_dir"), "%s", err.msg);
    CHECK(ddpm_safetensors_open(&f, tmp_dir, 1 << 20, &err) == DDPM_ERR, "open a directory");

    const char *path = tmp_path("model.safetensors");
    CHECK(ddpm_safetensors_write(path, &old, 1, NULL, 0, &err) == DDPM_OK, "%s", err.msg);
    CHECK(ddpm_safetensors_open(&f, path, 16, &err) == DDPM_ERR, "max_file_bytes ignored");
    CHECK(strstr(err.msg, path), "%s", err.msg);
    size_t old_len;
    unsigned char *old_bytes = slurp(path, &old_len);

    /* A full disk midway through the save, simulated with a file-size limit
     * in a child (setrlimit works for root too, unlike chmod): the save must
     * fail cleanly, the old file survive byte for byte, no temp file remain. */
    enum { BIG = 1 << 16 };
    float *big = calloc(BIG, sizeof *big);
    ddpm_st_tensor next = {.name = "w", .ndim = 1, .shape = {BIG}, .data = big};
    int pipe_fd[2];
    CHECK(pipe(pipe_fd) == 0, "pipe");
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        close(pipe_fd[0]);
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit lim = {4096, 4096};
        if (setrlimit(RLIMIT_FSIZE, &lim) != 0) _exit(3);
        ddpm_error child_err = {0};
        int rc = ddpm_safetensors_write(path, &next, 1, NULL, 0, &child_err);
        ssize_t w = write(pipe_fd[1], child_err.msg, strlen(child_err.msg));
        (void)w;
        _exit(rc == DDPM_ERR ? 0 : 1);
    }
    close(pipe_fd[1]);
    char child_msg[1024] = "";
    ssize_t got = read(pipe_fd[0], child_msg, sizeof child_msg - 1);
    child_msg[got > 0 ? got : 0] = '\0';
    close(pipe_fd[0]);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the save over the size limit did not "
          "fail cleanly (status %d)", status);
    CHECK(strstr(child_msg, path) && strstr(child_msg, "full"), "message: %s", child_msg);
    printf("  full disk: %s\n", child_msg);
    size_t now_len;
    unsigned char *now = slurp(path, &now_len);
    CHECK(now_len == old_len && memcmp(now, old_bytes, old_len) == 0,
          "the old file changed after a failed save");
    free(now);
    CHECK(count_temp_files() == 0, "a temporary file remains after a failed save");

    /* A read-only directory (only meaningful when not root). */
    if (geteuid() != 0) {
        CHECK(chmod(tmp_dir, 0555) == 0, "chmod");
        int rc = ddpm_safetensors_write(path, &next, 1, NULL, 0, &err);
        CHECK(chmod(tmp_dir, 0755) == 0, "chmod back");
        CHECK(rc == DDPM_ERR && strstr(err.msg, "not writable"), "read-only dir: %s", err.msg);
        now = slurp(path, &now_len);
        CHECK(now_len == old_len && memcmp(now, old_bytes, old_len) == 0, "old file changed");
        free(now);
    }

    /* And a save that succeeds replaces the file. */
    CHECK(ddpm_safetensors_write(path, &next, 1, NULL, 0, &err) == DDPM_OK, "%s", err.msg);
    CHECK(ddpm_safetensors_open(&f, path, 1 << 20, &err) == DDPM_OK, "%s", err.msg);
    CHECK(ddpm_safetensors_find(f, "w")->shape[0] == BIG, "new file in place");
    ddpm_safetensors_close(f);
    CHECK(count_temp_files() == 0, "a temporary file remains after a save");
    free(big);
    free(old_bytes);
    printf("atomic write: failed saves keep the old file, no temp files left\n");
}

static void remove_tmp_dir(void)
{
    DIR *d = opendir(tmp_dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        unlink(tmp_path(e->d_name));
    }
    closedir(d);
    rmdir(tmp_dir);
}

/* binary16: known bit patterns (IEEE 754-2008 table 3.5's parameters: 5
 * exponent bits, bias 15, 10 fraction bits), rounding ties to even, and a
 * file of F16 and F32 tensors of odd sizes read back. */
static void test_f16(void)
{
    /* exact: the float is an F16 value, so it also converts back */
    static const struct { float f; uint16_t h; bool exact; } known[] = {
        {0.0f, 0x0000, true}, {-0.0f, 0x8000, true}, {1.0f, 0x3C00, true}, {-2.0f, 0xC000, true},
        {0.5f, 0x3800, true}, {65504.0f, 0x7BFF, true},     /* the largest finite */
        {6.103515625e-05f, 0x0400, true},                   /* 2^-14, the smallest normal */
        {5.9604644775390625e-08f, 0x0001, true},            /* 2^-24, the smallest subnormal */
        {3.0517578125e-05f, 0x0200, true},                  /* 2^-15, a subnormal */
        {0.333251953125f, 0x3555, true},                    /* 1/3 as F16 holds it */
        {1.0009765625f, 0x3C01, true},                      /* 1 + 2^-10 */
        {1.00048828125f, 0x3C00, false},                    /* 1 + 2^-11, a tie: to even (down) */
        {1.00146484375f, 0x3C02, false},                    /* 1 + 3 * 2^-11, a tie: to even (up) */
        {2.98023223876953125e-08f, 0x0000, false},          /* 2^-25, a tie at the bottom: to zero */
        {4.4703483581542969e-08f, 0x0001, false},           /* 1.5 * 2^-25: up to the smallest */
        {65519.0f, 0x7BFF, false}, {65520.0f, 0x7C00, false}, {1e10f, 0x7C00, false}, {-1e10f, 0xFC00, false},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        CHECK(ddpm_f32_to_f16(known[i].f) == known[i].h, "f32 -> f16 of %.10g: 0x%04x, expected 0x%04x",
              (double)known[i].f, ddpm_f32_to_f16(known[i].f), known[i].h);
        CHECK(!known[i].exact || (ddpm_f16_to_f32(known[i].h) == known[i].f &&
                                  signbit(ddpm_f16_to_f32(known[i].h)) == signbit(known[i].f)),
              "f16 -> f32 of 0x%04x: %.10g, expected %.10g", known[i].h, (double)ddpm_f16_to_f32(known[i].h),
              (double)known[i].f);
    }
    CHECK(isinf(ddpm_f16_to_f32(0x7C00)) && ddpm_f16_to_f32(0xFC00) < 0 && isnan(ddpm_f16_to_f32(0x7E00)) &&
              isnan(ddpm_f16_to_f32(ddpm_f32_to_f16(NAN))),
          "infinities and NaN");
    /* every F16 value converts back to itself */
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7C00) == 0x7C00 && (h & 0x3FF)) continue; /* NaNs: checked above */
        CHECK(ddpm_f32_to_f16(ddpm_f16_to_f32((uint16_t)h)) == h, "0x%04x does not come back", h);
    }
    /* between two neighbours, to the nearer one */
    for (uint32_t h = 0x0001; h < 0x7BFF; h += 97) {
        const float lo = ddpm_f16_to_f32((uint16_t)h), hi = ddpm_f16_to_f32((uint16_t)(h + 1));
        CHECK(ddpm_f32_to_f16(lo + (hi - lo) * 0.25f) == h && ddpm_f32_to_f16(lo + (hi - lo) * 0.75f) == h + 1,
              "rounding between 0x%04x and 0x%04x", h, h + 1);
    }

    /* a file: F16 of 3 values (6 bytes), then F32 at an offset that is not a
     * multiple of 4, then F16 again */
    float a[3] = {0.1f, -3.5f, 1000.0f}, b[2] = {1.0f / 3.0f, -7e-6f}, c[5] = {1, 2, 3, 4, 65504};
    ddpm_st_tensor t[3] = {
        {.name = "a", .ndim = 1, .shape = {3}, .data = a, .dtype = DDPM_ST_F16},
        {.name = "b", .ndim = 1, .shape = {2}, .data = b},
        {.name = "c", .ndim = 2, .shape = {1, 5}, .data = c, .dtype = DDPM_ST_F16},
    };
    ddpm_error err = {0};
    const char *path = tmp_path("f16.safetensors");
    CHECK(ddpm_safetensors_write(path, t, 3, NULL, 0, &err) == DDPM_OK, "%s", err.msg);
    size_t len;
    unsigned char *bytes = slurp(path, &len);
    const uint64_t hl = (uint64_t)bytes[0] | (uint64_t)bytes[1] << 8;
    CHECK(len == 8 + hl + 6 + 8 + 10, "file of %zu bytes, header %llu", len, (unsigned long long)hl);
    CHECK(strstr((char *)bytes + 8, "\"a\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]}") &&
              strstr((char *)bytes + 8, "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[6,14]}"),
          "the header names the dtypes");
    const unsigned char *data = bytes + 8 + hl;
    CHECK(data[2] == 0x00 && data[3] == 0xC3, "-3.5 = 0xC300, little-endian");
    free(bytes);
    ddpm_safetensors *f;
    CHECK(ddpm_safetensors_open(&f, path, 1u << 20, &err) == DDPM_OK, "%s", err.msg);
    float got[5];
    CHECK(ddpm_safetensors_read_f32(f, "a", (int64_t[]){3}, 1, got, &err) == DDPM_OK, "%s", err.msg);
    for (int i = 0; i < 3; i++)
        CHECK(got[i] == ddpm_f16_to_f32(ddpm_f32_to_f16(a[i])) && fabsf(got[i] - a[i]) <= fabsf(a[i]) / 1024,
              "a[%d] = %g, wrote %g", i, (double)got[i], (double)a[i]);
    CHECK(ddpm_safetensors_read_f32(f, "b", (int64_t[]){2}, 1, got, &err) == DDPM_OK && got[0] == b[0] && got[1] == b[1],
          "F32 after F16 is exact");
    CHECK(ddpm_safetensors_read_f32(f, "c", (int64_t[]){1, 5}, 2, got, &err) == DDPM_OK && got[4] == 65504.0f &&
              got[2] == 3.0f,
          "c");
    CHECK(ddpm_safetensors_find(f, "a")->dtype == DDPM_ST_F16 && ddpm_safetensors_find(f, "b")->dtype == DDPM_ST_F32,
          "the reader says how each was stored");
    ddpm_safetensors_close(f);
    /* beyond F16's range: refused, nothing written */
    c[4] = 70000.0f;
    CHECK(ddpm_safetensors_write(tmp_path("big.safetensors"), t, 3, NULL, 0, &err) == DDPM_ERR &&
              strstr(err.msg, "beyond float16's range") && strstr(err.msg, "'c'"),
          "a float beyond F16: %s", err.msg);
    CHECK(access(tmp_path("big.safetensors"), F_OK) != 0, "no file left");
    printf("float16: known patterns, ties to even, all 65,536 values back, a mixed file read\n");
}

int main(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmp_dir, sizeof tmp_dir, "%s/ddpm_test_safetensors_XXXXXX", base ? base : "/tmp");
    CHECK(mkdtemp(tmp_dir), "mkdtemp: %s", strerror(errno));

    test_round_trip();
    test_known_bytes();
    test_f16();
    test_hostile();
    size_t len;
    unsigned char *valid = slurp(tmp_path("rt.safetensors"), &len);
    test_truncation(valid, len);
    test_mutations(valid, len);
    free(valid);
    test_writer_errors();
    test_atomic();

    remove_tmp_dir();
    TEST_PASS("test_safetensors");
}
