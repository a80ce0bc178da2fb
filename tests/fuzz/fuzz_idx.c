/* fuzz_idx.c: libFuzzer target for the IDX parser, raw and gzip'ed.
 *
 *   CC=clang cmake -S . -B build-fuzz -DDDPM_FUZZ=ON -DDDPM_BUILD_UI=OFF
 *   cmake --build build-fuzz -j2 --target fuzz_idx
 *   mkdir -p tests/fuzz/corpus-work/idx
 *   build-fuzz/tests/fuzz/fuzz_idx -max_len=4096 -max_total_time=120 \
 *       tests/fuzz/corpus-work/idx tests/fuzz/corpus/idx
 *
 * Gzip is detected from the bytes, so each input is parsed as it is (raw, or
 * gzip when it starts with 1f 8b).  It is also gzip'ed here and parsed
 * again: mutating gzip bytes almost always breaks the CRC-32 first, so this
 * is how arbitrary content reaches the header and length checks behind a
 * valid gzip stream.  Each parse runs as "any", as images and as labels,
 * under the default cap and under a small one (64 KiB).  Accepted files must
 * be self-consistent; rejected ones must say why.  The name ends in .gz so
 * the "not gzip data" message is exercised too.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ddpm/idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_all_ways(const uint8_t *data, size_t size)
{
    static const ddpm_idx_kind kinds[3] = {DDPM_IDX_ANY, DDPM_IDX_IMAGES, DDPM_IDX_LABELS};
    static const size_t caps[2] = {0, (size_t)64 << 10};
    for (int k = 0; k < 3; k++)
        for (int c = 0; c < 2; c++) {
            ddpm_idx idx;
            ddpm_error err = {{0}};
            if (ddpm_idx_parse_memory(data, size, "fuzz-idx3-ubyte.gz", kinds[k], caps[c], &idx,
                                      &err) == DDPM_OK) {
                size_t expect = 1;
                for (int d = 0; d < idx.ndims; d++) expect *= idx.dims[d];
                if (!idx.data || idx.size != expect || (kinds[k] && idx.ndims != (int)kinds[k]))
                    abort();
                volatile uint8_t touch = idx.data[idx.size - 1];  /* the whole buffer is ours */
                (void)touch;
                ddpm_idx_free(&idx);
            } else if (!err.msg[0] || idx.data) {
                abort();
            }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse_all_ways(data, size);

    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
    size_t cap = deflateBound(&zs, (uLong)size);
    uint8_t *gz = malloc(cap);
    zs.next_in = (Bytef *)data;
    zs.avail_in = (uInt)size;
    zs.next_out = gz;
    zs.avail_out = (uInt)cap;
    if (gz && deflate(&zs, Z_FINISH) == Z_STREAM_END) parse_all_ways(gz, cap - zs.avail_out);
    deflateEnd(&zs);
    free(gz);
    return 0;
}
