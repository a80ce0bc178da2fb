/* test_idx.c: the IDX reader and writer.  Round trips (raw and gzip), every
 * kind of hostile file rejected with a message that names the problem, and
 * thousands of random mutations of valid files that must never crash (run
 * under ASan by ./lab test). */
#define _GNU_SOURCE
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "ddpm/fileio.h"
#include "ddpm/idx.h"
#include "ddpm/rng.h"

static char tmp_dir[64];

static const char *tmp_path(const char *name)
{
    static char buf[8][256];
    static int next;
    char *p = buf[next++ % 8];
    snprintf(p, 256, "%s/%s", tmp_dir, name);
    return p;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void write_raw(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    CHECK(f, "cannot create %s", path);
    CHECK(fwrite(data, 1, len, f) == len, "short write to %s", path);
    fclose(f);
}

/* Gzip'ed with zlib's own gzip writer, as an independent encoder. */
static void write_gz(const char *path, const char *mode, const void *data, size_t len)
{
    gzFile g = gzopen(path, mode);
    CHECK(g, "gzopen %s", path);
    CHECK(gzwrite(g, data, (unsigned)len) == (int)len, "gzwrite %s", path);
    CHECK(gzclose(g) == Z_OK, "gzclose %s", path);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    unsigned char *bytes;
    ddpm_error err = {{0}};
    CHECK(ddpm_read_file(path, 1u << 30, &bytes, len, &err) == DDPM_OK, "%s", err.msg);
    return bytes;
}

/* An IDX file in memory: header for dims, then payload (or a pattern). */
static size_t make_idx(uint8_t *out, uint32_t magic, const uint32_t *dims, int ndims,
                       const uint8_t *payload, size_t payload_len)
{
    size_t at = 0;
    for (int s = 24; s >= 0; s -= 8) out[at++] = (uint8_t)(magic >> s);
    for (int d = 0; d < ndims; d++)
        for (int s = 24; s >= 0; s -= 8) out[at++] = (uint8_t)(dims[d] >> s);
    if (payload_len) memcpy(out + at, payload, payload_len);
    return at + payload_len;
}

/* Parsing must fail, the message must contain `phrase` and the file name,
 * and nothing may be left allocated. */
static void expect_parse_error(const uint8_t *bytes, size_t len, const char *name,
                               ddpm_idx_kind kind, size_t max_bytes, const char *phrase,
                               int line)
{
    ddpm_idx idx;
    ddpm_error err = {{0}};
    int rc = ddpm_idx_parse_memory(bytes, len, name, kind, max_bytes, &idx, &err);
    if (rc != DDPM_ERR || !strstr(err.msg, phrase) || !strstr(err.msg, name) || idx.data) {
        fprintf(stderr, "test_idx.c:%d: expected an error containing '%s' for '%s', got rc %d: %s\n",
                line, phrase, name, rc, err.msg);
        exit(1);
    }
}
#define EXPECT_ERROR(bytes, len, name, kind, phrase) \
    expect_parse_error(bytes, len, name, kind, 0, phrase, __LINE__)

static void expect_read_error(const char *path, ddpm_idx_kind kind, const char *phrase, int line)
{
    ddpm_idx idx;
    ddpm_error err = {{0}};
    int rc = ddpm_idx_read(path, kind, &idx, &err);
    if (rc != DDPM_ERR || !strstr(err.msg, phrase) || idx.data) {
        fprintf(stderr, "test_idx.c:%d: expected an error containing '%s' for %s, got rc %d: %s\n",
                line, phrase, path, rc, err.msg);
        exit(1);
    }
}
#define EXPECT_READ_ERROR(path, kind, phrase) expect_read_error(path, kind, phrase, __LINE__)

/* ---- round trips ------------------------------------------------------------ */

static void test_round_trip(void)
{
    enum { N = 7, ROWS = 5, COLS = 3 };
    uint8_t pixels[N * ROWS * COLS], labels[N];
    for (int i = 0; i < N * ROWS * COLS; i++) pixels[i] = (uint8_t)(i * 37 + 11);
    for (int i = 0; i < N; i++) labels[i] = (uint8_t)(i % 10);

    ddpm_error err = {{0}};
    const char *ip = tmp_path("rt-images-idx3-ubyte"), *lp = tmp_path("rt-labels-idx1-ubyte");
    CHECK(ddpm_idx_write_images(ip, pixels, N, ROWS, COLS, &err) == DDPM_OK, "%s", err.msg);
    CHECK(ddpm_idx_write_labels(lp, labels, N, &err) == DDPM_OK, "%s", err.msg);

    /* The exact bytes of the format: big-endian magic and dimensions. */
    size_t len;
    unsigned char *bytes = slurp(ip, &len);
    static const uint8_t head[16] = {0, 0, 8, 3, 0, 0, 0, N, 0, 0, 0, ROWS, 0, 0, 0, COLS};
    CHECK(len == 16 + sizeof pixels, "image file is %zu bytes", len);
    CHECK(memcmp(bytes, head, 16) == 0, "image header bytes");
    CHECK(memcmp(bytes + 16, pixels, sizeof pixels) == 0, "image payload bytes");
    free(bytes);

    ddpm_idx im, lb;
    CHECK(ddpm_idx_read_pair(ip, lp, &im, &lb, &err) == DDPM_OK, "%s", err.msg);
    CHECK(im.ndims == 3 && im.dims[0] == N && im.dims[1] == ROWS && im.dims[2] == COLS,
          "image dims %u %u %u", im.dims[0], im.dims[1], im.dims[2]);
    CHECK(im.size == sizeof pixels && memcmp(im.data, pixels, sizeof pixels) == 0, "pixels");
    CHECK(lb.ndims == 1 && lb.dims[0] == N && memcmp(lb.data, labels, N) == 0, "labels");
    ddpm_idx_free(&im);
    ddpm_idx_free(&lb);
    CHECK(im.data == NULL && im.size == 0, "free zeroes");
    ddpm_idx_free(&im);  /* twice is fine */

    /* ANY accepts both kinds. */
    CHECK(ddpm_idx_read(lp, DDPM_IDX_ANY, &lb, &err) == DDPM_OK && lb.ndims == 1, "%s", err.msg);
    ddpm_idx_free(&lb);

    /* The same files gzip'ed, as one member and as two concatenated members. */
    uint8_t raw[16 + sizeof pixels];
    size_t raw_len = make_idx(raw, 0x803, (uint32_t[]){N, ROWS, COLS}, 3, pixels, sizeof pixels);
    const char *gp = tmp_path("rt-images-idx3-ubyte.gz");
    write_gz(gp, "wb9", raw, raw_len);
    CHECK(ddpm_idx_read(gp, DDPM_IDX_IMAGES, &im, &err) == DDPM_OK, "%s", err.msg);
    CHECK(im.size == sizeof pixels && memcmp(im.data, pixels, sizeof pixels) == 0, "gz pixels");
    ddpm_idx_free(&im);

    const char *gp2 = tmp_path("rt2-images-idx3-ubyte.gz");
    write_gz(gp2, "wb", raw, 20);
    write_gz(gp2, "ab", raw + 20, raw_len - 20);  /* a second gzip member */
    CHECK(ddpm_idx_read(gp2, DDPM_IDX_IMAGES, &im, &err) == DDPM_OK, "%s", err.msg);
    CHECK(memcmp(im.data, pixels, sizeof pixels) == 0, "two-member gz pixels");
    ddpm_idx_free(&im);

    /* Gzip is recognised by content, not by name. */
    const char *disguised = tmp_path("plain-name-idx3-ubyte");
    write_gz(disguised, "wb", raw, raw_len);
    CHECK(ddpm_idx_read(disguised, DDPM_IDX_IMAGES, &im, &err) == DDPM_OK, "%s", err.msg);
    ddpm_idx_free(&im);
}

/* ---- hostile input ---------------------------------------------------------- */

static void test_hostile_raw(void)
{
    uint8_t buf[4096] = {0};
    uint8_t payload[2 * 3 * 4];
    memset(payload, 200, sizeof payload);
    size_t n;

    EXPECT_ERROR(buf, 0, "empty-idx3-ubyte", DDPM_IDX_IMAGES, "is empty");
    EXPECT_ERROR((const uint8_t *)"\0\0\x08", 3, "short", DDPM_IDX_IMAGES, "truncated header");

    n = make_idx(buf, 0x12345678, (uint32_t[]){2, 3, 4}, 3, payload, sizeof payload);
    EXPECT_ERROR(buf, n, "junk-idx3-ubyte", DDPM_IDX_IMAGES, "bad magic 0x12345678");

    n = make_idx(buf, 0x801, (uint32_t[]){2}, 1, payload, 2);
    EXPECT_ERROR(buf, n, "train-labels-idx1-ubyte", DDPM_IDX_IMAGES,
                 "magic 0x00000801 is a label file, expected an image file (0x00000803)");
    n = make_idx(buf, 0x803, (uint32_t[]){2, 3, 4}, 3, payload, sizeof payload);
    EXPECT_ERROR(buf, n, "train-images-idx3-ubyte", DDPM_IDX_LABELS,
                 "is an image file, expected a label file");

    n = make_idx(buf, 0x802, (uint32_t[]){2, 12}, 2, payload, sizeof payload);
    EXPECT_ERROR(buf, n, "two-dims", DDPM_IDX_ANY, "declares 2 dimensions");
    n = make_idx(buf, 0x800, NULL, 0, NULL, 0);
    EXPECT_ERROR(buf, n, "no-dims", DDPM_IDX_ANY, "declares 0 dimensions");
    n = make_idx(buf, 0xD03, (uint32_t[]){2, 3, 4}, 3, payload, sizeof payload);
    EXPECT_ERROR(buf, n, "floats", DDPM_IDX_IMAGES, "element type 0x0d (float32)");

    n = make_idx(buf, 0x803, (uint32_t[]){2, 0, 4}, 3, NULL, 0);
    EXPECT_ERROR(buf, n, "zero-dim", DDPM_IDX_IMAGES, "dimension 2 of 3 is zero");
    n = make_idx(buf, 0x801, (uint32_t[]){0}, 1, NULL, 0);
    EXPECT_ERROR(buf, n, "zero-labels", DDPM_IDX_LABELS, "dimension 1 of 1 is zero");

    /* 2^48 bytes fits in size_t but is far over the limit; 0xffffffff^3 overflows. */
    n = make_idx(buf, 0x803, (uint32_t[]){65536, 65536, 65536}, 3, payload, sizeof payload);
    EXPECT_ERROR(buf, n, "huge", DDPM_IDX_IMAGES, "more than the limit");
    n = make_idx(buf, 0x803, (uint32_t[]){0xffffffffu, 0xffffffffu, 0xffffffffu}, 3, NULL, 0);
    EXPECT_ERROR(buf, n, "big-dims", DDPM_IDX_IMAGES, "overflow the size of memory");
    /* 2^22 * 2^21 * 2^21 = 2^64 wraps to 0: unchecked, this header-only file
     * would pass as an empty payload under huge dimensions. */
    n = make_idx(buf, 0x803, (uint32_t[]){1u << 22, 1u << 21, 1u << 21}, 3, NULL, 0);
    EXPECT_ERROR(buf, n, "wraps-to-zero", DDPM_IDX_IMAGES, "overflow the size of memory");
    n = make_idx(buf, 0x803, (uint32_t[]){1000000, 28, 28}, 3, NULL, 0);
    EXPECT_ERROR(buf, n, "too-big", DDPM_IDX_IMAGES, "more than the limit of 536870912");

    n = make_idx(buf, 0x803, (uint32_t[]){2, 3}, 2, NULL, 0);  /* header cut after 2 dims */
    buf[3] = 3;
    EXPECT_ERROR(buf, n, "cut-header", DDPM_IDX_IMAGES, "truncated header");
    n = make_idx(buf, 0x803, (uint32_t[]){2, 3, 4}, 3, payload, sizeof payload - 1);
    /* Raw lengths are checked before allocating, hence "only 23 follow". */
    EXPECT_ERROR(buf, n, "cut-data", DDPM_IDX_IMAGES, "declares 24 bytes of data but only 23 follow");
    n = make_idx(buf, 0x803, (uint32_t[]){2, 3, 4}, 3, payload, sizeof payload);
    buf[n++] = 0;
    EXPECT_ERROR(buf, n, "long-data", DDPM_IDX_IMAGES, "1 bytes of trailing garbage");

    /* A .gz name over non-gzip, non-IDX bytes (an HTML error page, say). */
    const char *html = "<html><body>404 Not Found</body></html>";
    EXPECT_ERROR((const uint8_t *)html, strlen(html), "train-images-idx3-ubyte.gz",
                 DDPM_IDX_IMAGES, "is not gzip data (bad magic bytes 3c 68, expected 1f 8b)");
}

/* Compresses src into a gzip stream in memory with deflate (level 1: speed). */
static uint8_t *gzip_bytes(const uint8_t *src, size_t len, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    CHECK(deflateInit2(&zs, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK, "deflateInit2");
    size_t cap = deflateBound(&zs, (uLong)len);
    uint8_t *out = malloc(cap);
    zs.next_in = (Bytef *)src;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    CHECK(deflate(&zs, Z_FINISH) == Z_STREAM_END, "deflate");
    *out_len = cap - zs.avail_out;
    deflateEnd(&zs);
    return out;
}

static void test_hostile_gz(void)
{
    uint8_t raw[16 + 6 * 28 * 28];
    uint8_t payload[6 * 28 * 28];
    for (size_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)(i * 7);
    size_t raw_len = make_idx(raw, 0x803, (uint32_t[]){6, 28, 28}, 3, payload, sizeof payload);
    size_t gz_len;
    uint8_t *gz = gzip_bytes(raw, raw_len, &gz_len);

    ddpm_idx idx;
    ddpm_error err = {{0}};
    CHECK(ddpm_idx_parse_memory(gz, gz_len, "ok.gz", DDPM_IDX_IMAGES, 0, &idx, &err) == DDPM_OK,
          "%s", err.msg);
    ddpm_idx_free(&idx);

    /* Cut anywhere: inside the deflate data, inside the 8-byte CRC/size trailer. */
    EXPECT_ERROR(gz, gz_len / 2, "half.gz", DDPM_IDX_IMAGES, "truncated gzip data");
    EXPECT_ERROR(gz, gz_len - 4, "no-isize.gz", DDPM_IDX_IMAGES, "truncated gzip data");
    EXPECT_ERROR(gz, 2, "magic-only.gz", DDPM_IDX_IMAGES, "truncated gzip data");

    /* A damaged CRC-32 trailer is caught by zlib. */
    uint8_t *bad = malloc(gz_len + 16);
    memcpy(bad, gz, gz_len);
    bad[gz_len - 8] ^= 0x55;
    EXPECT_ERROR(bad, gz_len, "crc.gz", DDPM_IDX_IMAGES, "corrupt gzip data");

    /* Bytes after the gzip stream that are not another member. */
    memcpy(bad, gz, gz_len);
    memcpy(bad + gz_len, "garbage", 7);
    EXPECT_ERROR(bad, gz_len + 7, "tail.gz", DDPM_IDX_IMAGES, "trailing garbage after the gzip data");
    free(bad);
    free(gz);

    /* Decompressed payload short by one byte / long by one byte. */
    gz = gzip_bytes(raw, raw_len - 1, &gz_len);
    EXPECT_ERROR(gz, gz_len, "short.gz", DDPM_IDX_IMAGES, "decompressed stream holds only");
    free(gz);
    uint8_t longer[sizeof raw + 1];
    memcpy(longer, raw, raw_len);
    longer[raw_len] = 9;
    gz = gzip_bytes(longer, raw_len + 1, &gz_len);
    EXPECT_ERROR(gz, gz_len, "long.gz", DDPM_IDX_IMAGES, "continues past the 4704 bytes");
    free(gz);

    /* Bomb-like streams: 64 MiB of zeros compresses to ~300 KiB at level 1. */
    size_t big = (size_t)64 << 20;
    uint8_t *zeros = calloc(big, 1);
    gz = gzip_bytes(zeros, big, &gz_len);
    CHECK(gz_len < big / 100, "zeros compress to %zu bytes", gz_len);
    EXPECT_ERROR(gz, gz_len, "zeros.gz", DDPM_IDX_ANY, "magic 0x00000000 declares element type 0x00");
    free(gz);
    /* A tiny honest header followed by the flood.  The reader must stop one
     * byte past the payload: the CRC at the very end is broken, so a reader
     * that inflated the whole flood would report corruption instead. */
    make_idx(zeros, 0x803, (uint32_t[]){1, 28, 28}, 3, NULL, 0);
    gz = gzip_bytes(zeros, big, &gz_len);
    gz[gz_len - 8] ^= 0x55;
    EXPECT_ERROR(gz, gz_len, "flood.gz", DDPM_IDX_IMAGES, "continues past the 784 bytes");
    free(gz);
    /* A header declaring more than the caller's cap is refused before inflating the rest. */
    make_idx(zeros, 0x803, (uint32_t[]){16384, 32, 32}, 3, NULL, 0);  /* 16 MiB */
    gz = gzip_bytes(zeros, 16 + ((size_t)16 << 20), &gz_len);
    expect_parse_error(gz, gz_len, "capped.gz", DDPM_IDX_IMAGES, (size_t)1 << 20,
                       "more than the limit of 1048576", __LINE__);
    CHECK(ddpm_idx_parse_memory(gz, gz_len, "uncapped.gz", DDPM_IDX_IMAGES, 0, &idx, &err) == DDPM_OK,
          "the same stream under the default cap: %s", err.msg);
    CHECK(idx.size == (size_t)16 << 20, "size %zu", idx.size);
    ddpm_idx_free(&idx);
    free(gz);
    free(zeros);
}

static void test_files(void)
{
    /* Through the file reader: empty file, missing file, .gz name over text, truncated .gz. */
    write_raw(tmp_path("empty-idx3-ubyte"), "", 0);
    EXPECT_READ_ERROR(tmp_path("empty-idx3-ubyte"), DDPM_IDX_IMAGES, "is empty");
    EXPECT_READ_ERROR(tmp_path("missing-idx3-ubyte"), DDPM_IDX_IMAGES, "No such file");
    write_raw(tmp_path("text-idx3-ubyte.gz"), "hello world, not gzip", 21);
    EXPECT_READ_ERROR(tmp_path("text-idx3-ubyte.gz"), DDPM_IDX_IMAGES, "is not gzip data");

    uint8_t raw[16 + 300];
    uint8_t payload[300];
    for (int i = 0; i < 300; i++) payload[i] = (uint8_t)(i ^ 0x5a);
    size_t raw_len = make_idx(raw, 0x803, (uint32_t[]){3, 10, 10}, 3, payload, 300);
    size_t gz_len;
    uint8_t *gz = gzip_bytes(raw, raw_len, &gz_len);
    write_raw(tmp_path("cut-idx3-ubyte.gz"), gz, gz_len - 10);
    EXPECT_READ_ERROR(tmp_path("cut-idx3-ubyte.gz"), DDPM_IDX_IMAGES, "truncated gzip data");
    free(gz);

    /* Images and labels that disagree on the count. */
    uint8_t labels[9] = {0};
    ddpm_error err = {{0}};
    const char *ip = tmp_path("n3-images-idx3-ubyte"), *lp = tmp_path("n2-labels-idx1-ubyte");
    write_raw(ip, raw, raw_len);
    CHECK(ddpm_idx_write_labels(lp, labels, 2, &err) == DDPM_OK, "%s", err.msg);
    ddpm_idx im, lb;
    CHECK(ddpm_idx_read_pair(ip, lp, &im, &lb, &err) == DDPM_ERR, "count mismatch accepted");
    CHECK(strstr(err.msg, "holds 3 images but") && strstr(err.msg, "holds 2 labels") &&
          strstr(err.msg, "n3-images-idx3-ubyte"), "message: %s", err.msg);
    CHECK(im.data == NULL && lb.data == NULL, "nothing left allocated");
    /* Swapped paths. */
    CHECK(ddpm_idx_read_pair(lp, ip, &im, &lb, &err) == DDPM_ERR && strstr(err.msg, "swapped"),
          "swapped pair: %s", err.msg);

    /* Writing where no file can go. */
    CHECK(ddpm_idx_write_labels(tmp_path("no/such/dir/labels"), labels, 9, &err) == DDPM_ERR &&
          strstr(err.msg, "no/such/dir"), "write to a missing folder: %s", err.msg);
}

/* ---- random mutations ------------------------------------------------------- */

static void mutate_and_parse(const uint8_t *valid, size_t len, const char *name, int rounds,
                             uint64_t seed)
{
    ddpm_rng rng;
    ddpm_rng_init(&rng, seed, ddpm_rng_stream(DDPM_STREAM_DATA, 99, 0));
    uint8_t *buf = malloc(len + 64);
    int accepted = 0;
    for (int r = 0; r < rounds; r++) {
        memcpy(buf, valid, len);
        size_t n = len;
        int edits = 1 + (int)ddpm_rng_below(&rng, 4);
        for (int e = 0; e < edits; e++) {
            switch (ddpm_rng_below(&rng, 5)) {
            case 0: buf[ddpm_rng_below(&rng, (uint32_t)n)] ^= (uint8_t)(1u << ddpm_rng_below(&rng, 8)); break;
            case 1: buf[ddpm_rng_below(&rng, (uint32_t)n)] = (uint8_t)ddpm_rng_below(&rng, 256); break;
            case 2: n = 1 + ddpm_rng_below(&rng, (uint32_t)n); break;               /* truncate */
            case 3: if (n < len + 60) buf[n++] = (uint8_t)ddpm_rng_below(&rng, 256); break;  /* append */
            case 4: buf[ddpm_rng_below(&rng, (uint32_t)(n < 20 ? n : 20))] = 0xff; break;  /* header */
            }
        }
        ddpm_idx idx;
        ddpm_error err = {{0}};
        if (ddpm_idx_parse_memory(buf, n, name, DDPM_IDX_ANY, 0, &idx, &err) == DDPM_OK) {
            size_t expect = 1;
            for (int d = 0; d < idx.ndims; d++) expect *= idx.dims[d];
            CHECK(idx.data && idx.size == expect, "accepted mutation has size %zu", idx.size);
            accepted++;
            ddpm_idx_free(&idx);
        } else {
            CHECK(err.msg[0] && idx.data == NULL, "a rejection must say why");
        }
    }
    free(buf);
    printf("  %d mutations of %s: %d still valid, the rest rejected\n", rounds, name, accepted);
}

static void test_mutations(void)
{
    uint8_t raw[16 + 3 * 6 * 5], payload[3 * 6 * 5];
    for (int i = 0; i < (int)sizeof payload; i++) payload[i] = (uint8_t)(i * 13);
    size_t raw_len = make_idx(raw, 0x803, (uint32_t[]){3, 6, 5}, 3, payload, sizeof payload);
    size_t gz_len;
    uint8_t *gz = gzip_bytes(raw, raw_len, &gz_len);
    mutate_and_parse(raw, raw_len, "mutant-idx3-ubyte", 3000, 1);
    mutate_and_parse(gz, gz_len, "mutant-idx3-ubyte.gz", 3000, 2);
    uint8_t lab[8 + 10];
    size_t lab_len = make_idx(lab, 0x801, (uint32_t[]){10}, 1, payload, 10);
    mutate_and_parse(lab, lab_len, "mutant-idx1-ubyte", 1000, 3);
    free(gz);
}

int main(void)
{
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/ddpm_test_idx.XXXXXX");
    CHECK(mkdtemp(tmp_dir), "mkdtemp");
    test_round_trip();
    test_hostile_raw();
    test_hostile_gz();
    test_files();
    test_mutations();
    nftw(tmp_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    TEST_PASS("test_idx");
}
