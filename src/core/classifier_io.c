/* classifier_io.c: the digit classifier as a safetensors file, with a loader
 * that trusts nothing in it (see ddpm/classifier.h). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddpm/classifier.h"
#include "ddpm/safetensors.h"

#ifndef DDPM_ASSET_DIR  /* CMake defines it; a bare compile may not */
#define DDPM_ASSET_DIR "assets"
#endif

#define FORMAT_NAME "ddpm-lab-classifier"
#define FIX "retrain it with `ddpm eval --train-classifier` (or restore assets/classifier.safetensors from git)"

/* A classifier file is ~1.8 MB; anything far larger is not one. */
enum { MAX_FILE_BYTES = 64 << 20 };

void ddpm_classifier_default_path(char *buf, size_t cap)
{
    const char *env = getenv("DDPM_ASSETS");
    snprintf(buf, cap, "%s/classifier.safetensors", env && *env ? env : DDPM_ASSET_DIR);
}

void ddpm_classifier_path_for(const char *dataset, char *buf, size_t cap)
{
    if (dataset && strcmp(dataset, "fashion") == 0) {
        const char *env = getenv("DDPM_ASSETS");
        snprintf(buf, cap, "%s/classifier-fashion.safetensors", env && *env ? env : DDPM_ASSET_DIR);
        return;
    }
    ddpm_classifier_default_path(buf, cap);
}

int ddpm_classifier_save(const ddpm_classifier *c, const char *path, ddpm_error *err)
{
    DDPM_ASSERT(c && c->params && path);
    ddpm_st_tensor tensors[16];
    const int n = ddpm_classifier_num_tensors();
    DDPM_ASSERT(n <= 16);
    for (int i = 0; i < n; i++) {
        const ddpm_classifier_tensor_info *t = ddpm_classifier_tensor(i);
        tensors[i] = (ddpm_st_tensor){.name = t->name, .ndim = t->ndim, .data = c->params + t->offset};
        for (int d = 0; d < t->ndim; d++) tensors[i].shape[d] = t->shape[d];
    }
    char version[16], accuracy[32], seed[32], epochs[16];
    snprintf(version, sizeof version, "%d", DDPM_CLASSIFIER_FORMAT_VERSION);
    snprintf(accuracy, sizeof accuracy, "%.4f", c->heldout_accuracy);
    snprintf(seed, sizeof seed, "%" PRIu64, c->seed);
    snprintf(epochs, sizeof epochs, "%d", c->epochs);
    const ddpm_st_meta meta[] = {
        {"format", FORMAT_NAME},
        {"format_version", version},
        {"architecture", DDPM_CLASSIFIER_ARCHITECTURE},
        {"features", "fc1 output before SiLU (128)"},
        {"dataset", "bundled digits, train split (9,000)"},
        {"heldout_accuracy", accuracy},
        {"seed", seed},
        {"epochs", epochs},
        {"created_by", "ddpm-lab " DDPM_VERSION " (ddpm eval --train-classifier)"},
    };
    return ddpm_safetensors_write(path, tensors, n, meta, (int)(sizeof meta / sizeof meta[0]), err);
}

/* Replaces err's message with "classifier '<path>': <message>; <FIX>". */
static int fail_with_fix(ddpm_error *err, const char *path)
{
    if (!err) return DDPM_ERR;
    char inner[sizeof err->msg];
    snprintf(inner, sizeof inner, "%s", err->msg);
    /* the file layers' messages start with the path already */
    const size_t len = strlen(path);
    if (strncmp(inner, path, len) == 0 && inner[len] == ':')
        return ddpm_fail(err, "classifier %.700s; %s", inner, FIX);
    return ddpm_fail(err, "classifier '%s': %.700s; %s", path, inner, FIX);
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-') return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0' || errno == ERANGE) return false;
    *out = v;
    return true;
}

int ddpm_classifier_load(ddpm_classifier *c, const char *path, ddpm_error *err)
{
    DDPM_ASSERT(c && path);
    memset(c, 0, sizeof *c);
    ddpm_safetensors *f = NULL;
    if (ddpm_safetensors_open(&f, path, MAX_FILE_BYTES, err) != DDPM_OK) return fail_with_fix(err, path);

    const char *format = ddpm_safetensors_meta(f, "format");
    const char *version = ddpm_safetensors_meta(f, "format_version");
    uint64_t v = 0;
    if (!format || strcmp(format, FORMAT_NAME) != 0) {
        ddpm_fail(err, "not a digit classifier (metadata format is '%s', expected '" FORMAT_NAME "')",
                  format ? format : "(none)");
        goto fail;
    }
    if (!parse_u64(version, &v) || v < 1 || v > DDPM_CLASSIFIER_FORMAT_VERSION) {
        ddpm_fail(err, "format version '%s', this build reads version %d", version ? version : "(none)",
                  DDPM_CLASSIFIER_FORMAT_VERSION);
        goto fail;
    }
    const int n = ddpm_classifier_num_tensors();
    if (ddpm_safetensors_count(f) != n) {
        ddpm_fail(err, "it holds %d tensors, the classifier has %d", ddpm_safetensors_count(f), n);
        goto fail;
    }
    c->params = ddpm_xmalloc(sizeof(float) * ddpm_classifier_num_params());
    for (int i = 0; i < n; i++) {
        const ddpm_classifier_tensor_info *t = ddpm_classifier_tensor(i);
        int64_t shape[4];
        for (int d = 0; d < t->ndim; d++) shape[d] = t->shape[d];
        /* same count and every expected name present: nothing extra either */
        const ddpm_st_tensor *found = ddpm_safetensors_find(f, t->name);
        if (!found) {
            ddpm_fail(err, "tensor '%s' is missing", t->name);
            goto fail;
        }
        bool same = found->ndim == t->ndim;
        for (int d = 0; same && d < t->ndim; d++) same = found->shape[d] == shape[d];
        if (!same) {
            char got[96] = "", want[96] = "";
            for (int d = 0; d < found->ndim && d < 4; d++)
                snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", d ? ", " : "",
                         (long long)found->shape[d]);
            for (int d = 0; d < t->ndim; d++)
                snprintf(want + strlen(want), sizeof want - strlen(want), "%s%d", d ? ", " : "", t->shape[d]);
            ddpm_fail(err, "tensor '%s' has shape [%s%s], this build's classifier has [%s] (another architecture)",
                      t->name, got, found->ndim > 4 ? ", ..." : "", want);
            goto fail;
        }
        if (ddpm_safetensors_read_f32(f, t->name, shape, t->ndim, c->params + t->offset, err) != DDPM_OK)
            goto fail;
        for (size_t k = 0; k < t->numel; k++) {
            if (!isfinite(c->params[t->offset + k])) {
                ddpm_fail(err, "tensor '%s' holds NaN or Inf (element %zu)", t->name, k);
                goto fail;
            }
        }
    }
    const char *acc = ddpm_safetensors_meta(f, "heldout_accuracy");
    char *end = NULL;
    c->heldout_accuracy = acc ? strtod(acc, &end) : -1.0;
    if (!acc || *end != '\0' || !(c->heldout_accuracy >= 0.0 && c->heldout_accuracy <= 1.0))
        c->heldout_accuracy = -1.0;  /* provenance only: unknown is fine */
    uint64_t u = 0;
    c->seed = parse_u64(ddpm_safetensors_meta(f, "seed"), &u) ? u : 0;
    c->epochs = parse_u64(ddpm_safetensors_meta(f, "epochs"), &u) && u < 1000000 ? (int)u : 0;
    ddpm_safetensors_close(f);
    return DDPM_OK;
fail:
    ddpm_safetensors_close(f);
    ddpm_classifier_free(c);
    return fail_with_fix(err, path);
}
