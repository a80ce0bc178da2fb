/* fuzz_safetensors.c: libFuzzer target for the safetensors reader.
 *
 * Each input is a candidate file.  When the reader accepts it, every tensor
 * and metadata string is read back, so ASan flags any pointer the reader
 * hands out beyond its buffers; when it refuses, the message must be there.
 * Read from a file, where the header is checked before the data are read,
 * the same bytes must get the same verdict.
 *
 * The custom mutator keeps the 8-byte length field in step with the header
 * half of the time: plain byte mutations that grow or shrink the JSON break
 * that field, and then only the reader's first check would ever run. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ddpm/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

/* The same bytes as a file: ddpm_safetensors_open checks the header first
 * (reading only it), then parses the whole file.  It must agree with the
 * parse from memory: the header check refuses nothing the parse accepts. */
static char file_path[] = "/dev/shm/ddpm-fuzz-st-XXXXXX"; /* memory-backed where it exists */

static void remove_file(void) { (void)!unlink(file_path); }

static int open_as_file(const uint8_t *data, size_t size)
{
    static int made;
    if (!made) {
        int fd = mkstemp(file_path);
        if (fd < 0) {
            memcpy(file_path, "/tmp/ddpm-fuzz-st-XXXXXX", sizeof "/tmp/ddpm-fuzz-st-XXXXXX");
            fd = mkstemp(file_path);
        }
        if (fd < 0) abort();
        close(fd);
        atexit(remove_file);
        made = 1;
    }
    FILE *out = fopen(file_path, "wb");
    if (!out || fwrite(data, 1, size, out) != size || fclose(out) != 0) abort();
    ddpm_safetensors *f = NULL;
    ddpm_error err = {0};
    const int rc = ddpm_safetensors_open(&f, file_path, (size_t)1 << 20, &err);
    ddpm_safetensors_close(f);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ddpm_safetensors *f;
    ddpm_error err;
    err.msg[0] = '\0';
    const int rc = ddpm_safetensors_open_memory(&f, data, size, &err);
    if ((open_as_file(data, size) == DDPM_OK) != (rc == DDPM_OK)) abort();
    if (rc != DDPM_OK) {
        if (f != NULL || strncmp(err.msg, "<memory>: ", 10) != 0) abort();
        return 0;
    }
    volatile float sink = 0;
    for (int i = 0; i < ddpm_safetensors_count(f); i++) {
        const ddpm_st_tensor *t = ddpm_safetensors_tensor(f, i);
        int64_t numel = ddpm_st_numel(t);
        if (numel < 0 || (uint64_t)numel > size / 4 || ddpm_safetensors_find(f, t->name) != t)
            abort();
        float *copy = malloc(4 * (size_t)numel + 4);
        if (ddpm_safetensors_read_f32(f, t->name, t->shape, t->ndim, copy, &err) != DDPM_OK)
            abort();
        for (int64_t e = 0; e < numel; e++) sink += copy[e] + t->data[e];
        free(copy);
    }
    for (int i = 0; i < ddpm_safetensors_meta_count(f); i++) {
        const ddpm_st_meta *m = ddpm_safetensors_meta_at(f, i);
        if (ddpm_safetensors_meta(f, m->key) != m->value) abort();
        sink += (float)strlen(m->value);
    }
    (void)sink;
    ddpm_safetensors_close(f);
    return 0;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    uint64_t n = 0;
    for (int i = 7; size >= 8 && i >= 0; i--) n = n << 8 | data[i];
    if (seed % 2 == 0 || size < 8 || n == 0 || n > size - 8)
        return LLVMFuzzerMutate(data, size, max_size);

    /* Park the data buffer at the end of the room, mutate the header in
     * place, then bring the data back behind it and rewrite the length. */
    size_t data_len = size - 8 - (size_t)n;
    memmove(data + max_size - data_len, data + 8 + n, data_len);
    size_t new_n = LLVMFuzzerMutate(data + 8, (size_t)n, max_size - 8 - data_len);
    memmove(data + 8 + new_n, data + max_size - data_len, data_len);
    for (int i = 0; i < 8; i++) data[i] = (uint8_t)((uint64_t)new_n >> 8 * i);
    return 8 + new_n + data_len;
}
