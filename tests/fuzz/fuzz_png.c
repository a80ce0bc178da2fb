/* fuzz_png.c: libFuzzer target for ddpm_png_read_gray (the drawing canvas's
 * --set draw=FILE.png, through libpng's simplified API).
 *
 *   CC=clang cmake -S . -B build-fuzz -DDDPM_FUZZ=ON -DDDPM_BUILD_UI=OFF
 *   cmake --build build-fuzz -j2 --target fuzz_png
 *   build-fuzz/tests/fuzz/fuzz_png -max_total_time=60 corpus-work tests/fuzz/corpus/png
 *
 * The reader takes a path (it refuses FIFOs before opening), so each input
 * is written to a file first.  An accepted PNG must have a size within the
 * limit and a whole buffer of that size; a rejected one must say why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ddpm/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void remove_file(void) { remove(path); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/fuzz-png-%d.png", (int)getpid());
        atexit(remove_file);
    }
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    fclose(f);
    uint8_t *px = NULL;
    int w = 0, h = 0;
    ddpm_error err = {{0}};
    if (ddpm_png_read_gray(path, 256, &px, &w, &h, &err) == DDPM_OK) {
        if (!px || w < 1 || h < 1 || w > 256 || h > 256) abort();
        volatile uint8_t touch = px[(size_t)w * h - 1]; /* the whole buffer is ours */
        (void)touch;
        free(px);
    } else if (!err.msg[0] || px) {
        abort();
    }
    return 0;
}
