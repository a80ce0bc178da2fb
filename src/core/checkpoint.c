/* checkpoint.c: model checkpoints on top of the safetensors layer. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddpm/checkpoint.h"
#include "ddpm/safetensors.h"

static const char *const group_prefix[3] = {"ema.", "model.", "adam_m."};
#define ADAM_V_PREFIX "adam_v."

static const char *FIX = "the file is corrupt or was not written by ddpm-lab; re-save it or use another checkpoint";

void ddpm_checkpoint_free(ddpm_checkpoint *ck)
{
    if (!ck) return;
    ddpm_net_free(ck->net);
    free(ck->ema);
    free(ck->model);
    free(ck->adam_m);
    free(ck->adam_v);
    memset(ck, 0, sizeof *ck);
}

const float *ddpm_checkpoint_weights(const ddpm_checkpoint *ck)
{
    return ck->ema ? ck->ema : ck->model;
}

static bool parse_i64(const char *s, int64_t lo, int64_t *out)
{
    if (!s || !*s) return false;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0' || v < lo) return false;
    *out = v;
    return true;
}

/* Loads one prefix group into a new array; the tensor list must match the
 * parameter table exactly (checked by count and by name and shape). */
static int load_group(const ddpm_safetensors *f, const ddpm_net *net, const char *prefix,
                      float **out, ddpm_error *err)
{
    size_t n = ddpm_net_num_params(net);
    float *w = malloc(sizeof(float) * (n ? n : 1));
    if (!w) return ddpm_fail(err, "out of memory for %zu weights", n);
    for (int i = 0; i < ddpm_net_num_tensors(net); i++) {
        const ddpm_param_info *p = ddpm_net_tensor(net, i);
        char name[160];
        snprintf(name, sizeof name, "%s%s", prefix, p->name);
        int64_t shape[4];
        for (int d = 0; d < p->ndim; d++) shape[d] = p->shape[d];
        if (ddpm_safetensors_read_f32(f, name, shape, p->ndim, w + p->offset, err) != DDPM_OK) {
            free(w);
            return ddpm_fail_context(err, "the checkpoint does not match its network config (%s)",
                                     "a different model or a damaged file");
        }
        /* usable weights: finite, and (the network's, not Adam's moments) of
         * a magnitude training can produce; one weight of 3e38 is finite yet
         * turns every sample into NaN */
        const bool weights = strcmp(prefix, "ema.") == 0 || strcmp(prefix, "model.") == 0;
        for (size_t k = 0; k < p->numel; k++) {
            const float v = w[p->offset + k];
            if (!isfinite(v)) {
                free(w);
                return ddpm_fail(err,
                                 "tensor '%s' contains NaN or Inf (element %zu): the weights are "
                                 "corrupt, probably saved after training diverged; use an earlier "
                                 "checkpoint or lower the learning rate",
                                 name, k);
            }
            if (weights && fabsf(v) > DDPM_CHECKPOINT_MAX_WEIGHT) {
                free(w);
                return ddpm_fail(err,
                                 "tensor '%s' holds %g (element %zu), beyond the %g any trained weight reaches: "
                                 "the weights are corrupt; use another checkpoint",
                                 name, (double)v, k, DDPM_CHECKPOINT_MAX_WEIGHT);
            }
        }
    }
    *out = w;
    return DDPM_OK;
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int ddpm_checkpoint_load(ddpm_checkpoint *ck, const char *path, unsigned require, ddpm_error *err)
{
    DDPM_ASSERT(ck && path);
    memset(ck, 0, sizeof *ck);
    ddpm_safetensors *f = NULL;
    if (ddpm_safetensors_open(&f, path, DDPM_CHECKPOINT_MAX_BYTES, err) != DDPM_OK) return DDPM_ERR;

    const char *format = ddpm_safetensors_meta(f, "format");
    const char *version = ddpm_safetensors_meta(f, "format_version");
    int64_t v = 0;
    if (!format || strcmp(format, "ddpm-lab") != 0) {
        ddpm_fail(err, "'%s' is a safetensors file but not a ddpm-lab checkpoint (no format = ddpm-lab "
                       "in its metadata); pick a checkpoint written by `ddpm train`", path);
        goto fail;
    }
    if (!parse_i64(version, 1, &v) || v > DDPM_CHECKPOINT_FORMAT_VERSION) {
        ddpm_fail(err, "'%s' has checkpoint format version '%s', this build reads version %d; "
                       "update ddpm-lab", path, version ? version : "(none)", DDPM_CHECKPOINT_FORMAT_VERSION);
        goto fail;
    }
    /* configs; the run starts from the defaults and the file overrides */
    if (ddpm_run_config_default(&ck->run, "tiny", err) != DDPM_OK) goto fail;
    /* "arch" names the metadata key of the network's config; files from
     * before the MLP have none and hold a UNet */
    const char *arch_name = ddpm_safetensors_meta(f, "arch");
    ddpm_arch arch = DDPM_ARCH_UNET;
    if ((arch_name && ddpm_arch_parse(arch_name, &arch, err) != DDPM_OK) ||
        ddpm_net_config_from_json(arch, ddpm_safetensors_meta(f, ddpm_arch_name(arch)), &ck->run.net, err) !=
            DDPM_OK ||
        ddpm_scheduler_config_from_json(ddpm_safetensors_meta(f, "scheduler"), &ck->run.schedule,
                                        &ck->run.prediction, err) != DDPM_OK) {
        ddpm_fail_context(err, "'%s': bad metadata (%s)", path, FIX);
        goto fail;
    }
    const char *train = ddpm_safetensors_meta(f, "train");
    if (train && ddpm_train_config_from_json(train, &ck->run, err) != DDPM_OK) {
        ddpm_fail_context(err, "'%s': bad metadata (%s)", path, FIX);
        goto fail;
    }
    /* "preset" names the network: a label that is no preset (an experiment's)
     * or a preset whose network has since changed becomes the preset the
     * network matches, else "custom" */
    ddpm_net_config pc;
    if (!train || ddpm_net_preset(ck->run.preset, &pc, NULL) != DDPM_OK ||
        !ddpm_net_config_equal(&pc, &ck->run.net)) {
        const char *name = ddpm_net_config_preset_name(&ck->run.net);
        snprintf(ck->run.preset, sizeof ck->run.preset, "%s", name ? name : "custom");
    }
    const char *dataset = ddpm_safetensors_meta(f, "dataset");
    snprintf(ck->run.dataset, sizeof ck->run.dataset, "%s", dataset ? dataset : "digits");
    const char *seed = ddpm_safetensors_meta(f, "seed");
    int64_t seed_v = 0;
    if (seed && parse_i64(seed, 0, &seed_v)) ck->run.seed = (uint64_t)seed_v;
    ck->seconds = -1.0;
    const char *secs = ddpm_safetensors_meta(f, "seconds");
    if (secs) {
        char *end;
        const double s = strtod(secs, &end);
        if (end == secs || *end || !(s >= 0.0 && s < 1e9)) {
            ddpm_fail(err, "'%s': metadata 'seconds' = '%.32s' is not a number of seconds; %s", path, secs, FIX);
            goto fail;
        }
        ck->seconds = s;
    }
    if (!parse_i64(ddpm_safetensors_meta(f, "step"), 0, &ck->step)) {
        ddpm_fail(err, "'%s': metadata 'step' is missing or not a non-negative integer; %s", path, FIX);
        goto fail;
    }
    if (ddpm_net_create(&ck->net, &ck->run.net, err) != DDPM_OK) {
        ddpm_fail_context(err, "'%s'", path);
        goto fail;
    }
    ck->n_params = ddpm_net_num_params(ck->net);

    /* which groups are present, and nothing else */
    int counts[4] = {0};
    for (int i = 0; i < ddpm_safetensors_count(f); i++) {
        const char *name = ddpm_safetensors_tensor(f, i)->name;
        int g = -1;
        for (int k = 0; k < 3; k++)
            if (has_prefix(name, group_prefix[k])) g = k;
        if (has_prefix(name, ADAM_V_PREFIX)) g = 3;
        if (g < 0) {
            ddpm_fail(err, "'%s' holds tensor '%s', which is not ema.*, model.*, adam_m.* or adam_v.*; %s",
                      path, name, FIX);
            goto fail;
        }
        counts[g]++;
    }
    const int expected = ddpm_net_num_tensors(ck->net);
    for (int g = 0; g < 4; g++) {
        if (counts[g] != 0 && counts[g] != expected) {
            ddpm_fail(err, "'%s' has %d %s* tensors but its network config has %d; the file does not "
                           "match its config (%s)", path, counts[g],
                      g == 3 ? ADAM_V_PREFIX : group_prefix[g], expected, FIX);
            goto fail;
        }
    }
    if ((counts[2] != 0) != (counts[3] != 0)) {
        ddpm_fail(err, "'%s' has only half of the optimizer state (adam_m / adam_v); %s", path, FIX);
        goto fail;
    }
    if (counts[0]) ck->groups |= DDPM_CKPT_EMA;
    if (counts[1]) ck->groups |= DDPM_CKPT_MODEL;
    if (counts[2]) ck->groups |= DDPM_CKPT_OPTIM;
    if (!(ck->groups & (DDPM_CKPT_EMA | DDPM_CKPT_MODEL))) {
        ddpm_fail(err, "'%s' holds no weights (neither ema.* nor model.* tensors); %s", path, FIX);
        goto fail;
    }
    unsigned need = require & DDPM_CKPT_ALL, missing = need & ~ck->groups;
    if (missing) {
        char what[128] = "";
        if (missing & DDPM_CKPT_EMA) strcat(what, "the EMA weights, ");
        if (missing & DDPM_CKPT_MODEL) strcat(what, "the raw weights, ");
        if (missing & DDPM_CKPT_OPTIM) strcat(what, "the optimizer state, ");
        what[strlen(what) - 2] = '\0';
        ddpm_fail(err, "'%s' lacks %s; %s", path, what,
                  (need & DDPM_CKPT_OPTIM) ? "resume needs a training checkpoint (ckpt.safetensors in "
                                             "the run folder), not an exported model"
                                           : "use a training checkpoint");
        goto fail;
    }
    if ((ck->groups & DDPM_CKPT_EMA) && load_group(f, ck->net, "ema.", &ck->ema, err)) goto fail_ctx;
    if ((ck->groups & DDPM_CKPT_MODEL) && load_group(f, ck->net, "model.", &ck->model, err)) goto fail_ctx;
    if (ck->groups & DDPM_CKPT_OPTIM) {
        if (load_group(f, ck->net, "adam_m.", &ck->adam_m, err)) goto fail_ctx;
        if (load_group(f, ck->net, ADAM_V_PREFIX, &ck->adam_v, err)) goto fail_ctx;
        if (!parse_i64(ddpm_safetensors_meta(f, "adam_step"), 0, &ck->adam_step)) {
            ddpm_fail(err, "'%s': metadata 'adam_step' is missing or invalid; %s", path, FIX);
            goto fail;
        }
    }
    ddpm_safetensors_close(f);
    return DDPM_OK;
fail_ctx:
    ddpm_fail_context(err, "'%s'", path);
fail:
    ddpm_safetensors_close(f);
    ddpm_checkpoint_free(ck);
    return DDPM_ERR;
}

int ddpm_checkpoint_save(const char *path, const ddpm_checkpoint_data *d, ddpm_error *err)
{
    DDPM_ASSERT(path && d && d->run && d->net && (d->ema || d->model));
    DDPM_ASSERT(!d->adam_m == !d->adam_v);
    const ddpm_net *net = d->net;
    const int nt = ddpm_net_num_tensors(net);
    const float *groups[4] = {d->ema, d->model, d->adam_m, d->adam_v};
    const char *prefixes[4] = {"ema.", "model.", "adam_m.", ADAM_V_PREFIX};
    int n_groups = 0;
    for (int g = 0; g < 4; g++) n_groups += groups[g] != NULL;

    ddpm_st_tensor *tensors = calloc((size_t)nt * (size_t)n_groups, sizeof *tensors);
    char (*names)[160] = calloc((size_t)nt * (size_t)n_groups, sizeof *names);
    char *net_json = ddpm_net_config_to_json(&d->run->net);
    const char *arch = ddpm_arch_name(d->run->net.arch);
    char *sched_json = ddpm_scheduler_config_to_json(&d->run->schedule, d->run->prediction);
    char *train_json = ddpm_train_config_to_json(d->run);
    int rc = DDPM_ERR;
    if (!tensors || !names) {
        ddpm_fail(err, "out of memory saving '%s'", path);
        goto done;
    }
    int k = 0;
    for (int g = 0; g < 4; g++) {
        if (!groups[g]) continue;
        for (int i = 0; i < nt; i++, k++) {
            const ddpm_param_info *p = ddpm_net_tensor(net, i);
            snprintf(names[k], sizeof names[k], "%s%s", prefixes[g], p->name);
            tensors[k].name = names[k];
            tensors[k].ndim = p->ndim;
            for (int dd = 0; dd < p->ndim; dd++) tensors[k].shape[dd] = p->shape[dd];
            tensors[k].data = groups[g] + p->offset;
            if (d->half && g < 2) tensors[k].dtype = DDPM_ST_F16; /* the optimizer state stays exact */
        }
    }
    char step[32], seed[32], adam_step[32], version[8], seconds[32];
    snprintf(seconds, sizeof seconds, "%.3f", d->seconds);
    snprintf(step, sizeof step, "%" PRId64, d->step);
    snprintf(seed, sizeof seed, "%" PRIu64, d->run->seed);
    snprintf(adam_step, sizeof adam_step, "%" PRId64, d->adam_step);
    snprintf(version, sizeof version, "%d", DDPM_CHECKPOINT_FORMAT_VERSION);
    ddpm_st_meta meta[] = {
        {"format", "ddpm-lab"},      {"format_version", version}, {"created_by", "ddpm-lab " DDPM_VERSION},
        {"arch", arch},              {arch, net_json},            {"scheduler", sched_json},
        {"train", train_json},
        {"dataset", d->run->dataset}, {"step", step},              {"seed", seed},
        {"adam_step", adam_step},    {"seconds", seconds},
    };
    int n_meta = (int)(sizeof meta / sizeof meta[0]) - 2;
    if (d->adam_m) meta[n_meta++] = (ddpm_st_meta){"adam_step", adam_step};
    if (d->seconds > 0) meta[n_meta++] = (ddpm_st_meta){"seconds", seconds};
    rc = ddpm_safetensors_write(path, tensors, k, meta, n_meta, err);
done:
    free(tensors);
    free(names);
    free(net_json);
    free(sched_json);
    free(train_json);
    return rc;
}
