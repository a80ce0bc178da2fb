/* fileio.c: temp-file-fsync-rename writes and bounded reads (see ddpm/fileio.h). */
#define _GNU_SOURCE
#include "ddpm/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail_errno(ddpm_error *err, const char *what, const char *path, int e)
{
    const char *hint = "";
    if (e == ENOSPC || e == EFBIG || e == EDQUOT)
        hint = "; the disk (or file-size limit) is full: free space or choose another --out";
    else if (e == EACCES || e == EPERM || e == EROFS)
        hint = "; the location is not writable: choose a writable directory";
    else if (e == ENOENT)
        hint = "; check that the path exists";
    return ddpm_fail(err, "%s '%s': %s%s", what, path, strerror(e), hint);
}

int ddpm_atomic_open(ddpm_atomic_file *af, const char *path, ddpm_error *err)
{
    DDPM_ASSERT(af && path);
    memset(af, 0, sizeof *af);
    if (strlen(path) >= sizeof af->path) return ddpm_fail(err, "path too long: '%.64s...'", path);
    snprintf(af->path, sizeof af->path, "%s", path);
    snprintf(af->tmp_path, sizeof af->tmp_path, "%s.tmp.%ld", path, (long)getpid());
    af->fp = fopen(af->tmp_path, "wb");
    if (!af->fp) return fail_errno(err, "cannot create", af->tmp_path, errno);
    return DDPM_OK;
}

void ddpm_atomic_abort(ddpm_atomic_file *af)
{
    if (!af || !af->fp) return;
    fclose(af->fp);
    af->fp = NULL;
    unlink(af->tmp_path);
}

int ddpm_atomic_write(ddpm_atomic_file *af, const void *data, size_t bytes, ddpm_error *err)
{
    DDPM_ASSERT(af && af->fp);
    if (bytes && fwrite(data, 1, bytes, af->fp) != bytes) {
        int e = errno ? errno : EIO;
        ddpm_atomic_abort(af);
        return fail_errno(err, "cannot write", af->path, e);
    }
    return DDPM_OK;
}

static void fsync_parent_dir(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    int fd = open(dirname(buf), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd); /* best effort: some filesystems refuse fsync on directories */
        close(fd);
    }
}

int ddpm_atomic_commit(ddpm_atomic_file *af, ddpm_error *err)
{
    DDPM_ASSERT(af && af->fp);
    int e = 0;
    if (fflush(af->fp) != 0) e = errno ? errno : EIO;
    if (!e && fsync(fileno(af->fp)) != 0) e = errno;
    if (fclose(af->fp) != 0 && !e) e = errno ? errno : EIO;
    af->fp = NULL;
    if (e) {
        unlink(af->tmp_path);
        return fail_errno(err, "cannot write", af->path, e);
    }
    if (rename(af->tmp_path, af->path) != 0) {
        e = errno;
        unlink(af->tmp_path);
        return fail_errno(err, "cannot replace", af->path, e);
    }
    fsync_parent_dir(af->path);
    return DDPM_OK;
}

int ddpm_write_file_atomic(const char *path, const void *data, size_t bytes, ddpm_error *err)
{
    ddpm_atomic_file af;
    if (ddpm_atomic_open(&af, path, err) != DDPM_OK) return DDPM_ERR;
    if (ddpm_atomic_write(&af, data, bytes, err) != DDPM_OK) return DDPM_ERR;
    return ddpm_atomic_commit(&af, err);
}

FILE *ddpm_open_regular(const char *path, ddpm_error *err)
{
    const int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        fail_errno(err, "cannot open", path, errno);
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        ddpm_fail(err, "'%s' is not a regular file (%s); pass a file", path,
                  S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO" : "a device or socket");
        return NULL;
    }
    const int flags = fcntl(fd, F_GETFL);
    if (flags >= 0) (void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        fail_errno(err, "cannot open", path, errno);
        close(fd);
    }
    return f;
}

FILE *ddpm_open_bounded(const char *path, size_t max_bytes, size_t *len, ddpm_error *err)
{
    FILE *f = ddpm_open_regular(path, err);
    if (!f) return NULL;
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        fail_errno(err, "cannot read", path, errno);
        fclose(f);
        return NULL;
    }
    if ((unsigned long long)st.st_size > (unsigned long long)max_bytes) {
        ddpm_fail(err, "'%s' is %lld bytes, more than the %zu this reader accepts", path, (long long)st.st_size,
                  max_bytes);
        fclose(f);
        return NULL;
    }
    *len = (size_t)st.st_size;
    return f;
}

int ddpm_read_file(const char *path, size_t max_bytes, unsigned char **out, size_t *out_len,
                   ddpm_error *err)
{
    DDPM_ASSERT(path && out && out_len);
    *out = NULL;
    *out_len = 0;
    size_t len;
    FILE *f = ddpm_open_bounded(path, max_bytes, &len, err);
    if (!f) return DDPM_ERR;
    unsigned char *buf = malloc(len ? len : 1);
    if (!buf) {
        fclose(f);
        return ddpm_fail(err, "out of memory reading '%s' (%zu bytes)", path, len);
    }
    size_t got = fread(buf, 1, len, f);
    int e = ferror(f) ? (errno ? errno : EIO) : 0;
    fclose(f);
    if (e || got != len) {
        free(buf);
        return e ? fail_errno(err, "cannot read", path, e)
                 : ddpm_fail(err, "'%s' changed size while being read", path);
    }
    *out = buf;
    *out_len = len;
    return DDPM_OK;
}

int ddpm_mkdir_p(const char *path, ddpm_error *err)
{
    char buf[4096];
    if (strlen(path) >= sizeof buf) return ddpm_fail(err, "path too long");
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return fail_errno(err, "cannot create directory", buf, errno);
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) return fail_errno(err, "cannot create directory", buf, errno);
    if (!ddpm_dir_exists(buf)) return ddpm_fail(err, "'%s' exists and is not a directory", buf);
    return DDPM_OK;
}

bool ddpm_same_file(const char *a, const char *b)
{
    struct stat x, y;
    return a && b && stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

int ddpm_check_output(const char *flag, const char *out, const char *const *inputs, int n, ddpm_error *err)
{
    for (int i = 0; out && i < n; i++)
        if (inputs[i] && ddpm_same_file(out, inputs[i]))
            return ddpm_fail(err, "%s %s is the input '%s': writing it would destroy what this command reads; "
                                  "pick another output",
                             flag, out, inputs[i]);
    return DDPM_OK;
}

bool ddpm_file_exists(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool ddpm_dir_exists(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}
