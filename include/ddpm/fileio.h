/* ddpm/fileio.h: atomic file writes and bounded whole-file reads.
 *
 *   ddpm_atomic_file af;
 *   if (ddpm_atomic_open(&af, "run/model.safetensors", &err) != 0) return -1;
 *   if (ddpm_atomic_write(&af, header, n, &err) != 0) return -1;   // aborts af on error
 *   if (ddpm_atomic_commit(&af, &err) != 0) return -1;            // fsync + rename
 *
 * A write goes to a temporary file beside the target ("<path>.tmp.<pid>"),
 * is fsync'ed, renamed over the target, and the directory is fsync'ed.  Until
 * the rename the previous file is untouched, so a crash or a full disk during
 * a save never destroys what was already saved.  Any failed call removes the
 * temporary file and leaves `af` closed; ddpm_atomic_abort is for callers
 * that give up on their own.
 */
#ifndef DDPM_FILEIO_H
#define DDPM_FILEIO_H

#include <stdio.h>

#include "ddpm/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ddpm_atomic_file {
    FILE *fp;
    char path[4096];
    char tmp_path[4096 + 32];
} ddpm_atomic_file;

int ddpm_atomic_open(ddpm_atomic_file *af, const char *path, ddpm_error *err);
int ddpm_atomic_write(ddpm_atomic_file *af, const void *data, size_t bytes, ddpm_error *err);
int ddpm_atomic_commit(ddpm_atomic_file *af, ddpm_error *err);
void ddpm_atomic_abort(ddpm_atomic_file *af);

/* Writes a whole buffer to path atomically. */
int ddpm_write_file_atomic(const char *path, const void *data, size_t bytes, ddpm_error *err);

/* Opens path for reading only if it is a regular file: opened without
 * blocking (a FIFO or a device would wait forever for a writer), checked
 * with fstat, then read normally.  NULL with a message naming the path. */
FILE *ddpm_open_regular(const char *path, ddpm_error *err);

/* ddpm_open_regular for a file of at most max_bytes: its size in *len, or
 * NULL with a message naming the path when it is larger. */
FILE *ddpm_open_bounded(const char *path, size_t max_bytes, size_t *len, ddpm_error *err);

/* Reads a whole regular file of at most max_bytes into a malloc'ed buffer
 * (caller frees *out).  A larger file, a directory or a read error is a
 * runtime error naming the path. */
int ddpm_read_file(const char *path, size_t max_bytes, unsigned char **out, size_t *out_len,
                   ddpm_error *err);

/* True when a and b name the same existing file: the same device and inode,
 * whatever the spelling, symlinks or hard links between them. */
bool ddpm_same_file(const char *a, const char *b);

/* DDPM_ERR, naming both, when the output `out` (given by `flag`, e.g.
 * "--out") is the same file as one of the n inputs: no command may replace
 * what it reads.  NULL entries are skipped. */
int ddpm_check_output(const char *flag, const char *out, const char *const *inputs, int n, ddpm_error *err);

/* Creates a directory and its parents (like mkdir -p); fine if it exists. */
int ddpm_mkdir_p(const char *path, ddpm_error *err);

/* True if path names an existing regular file / directory. */
bool ddpm_file_exists(const char *path);
bool ddpm_dir_exists(const char *path);

#ifdef __cplusplus
}
#endif
#endif
