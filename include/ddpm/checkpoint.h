/* ddpm/checkpoint.h: ddpm-lab model checkpoints, in safetensors format.
 *
 *   ddpm_checkpoint ck;
 *   if (ddpm_checkpoint_load(&ck, "assets/models/eps-linear.safetensors",
 *                            DDPM_CKPT_WEIGHTS, &err) != 0) ...;
 *   const float *w = ddpm_checkpoint_weights(&ck);   // EMA if present, else raw
 *   ... ck.run.net, ck.run.schedule, ck.run.prediction, ck.step ...
 *   ddpm_checkpoint_free(&ck);
 *
 * A checkpoint is one safetensors file (see ddpm/safetensors.h).  Tensors:
 *   ema.<name>      the EMA weights, what sampling uses
 *   model.<name>    the raw weights
 *   adam_m.<name>, adam_v.<name>   the optimizer moments
 * where <name> runs over the network's parameter table ("conv_in.weight", ...),
 * so `safetensors.torch.load_file` gives a PyTorch user a state dict per
 * prefix (tools/torch_mirror.py loads it).  The "__metadata__" holds:
 *   format = "ddpm-lab", format_version = "1", arch ("unet" or "mlp"; a file
 *   without it holds a UNet), the network's config as JSON under the arch's
 *   name ("unet": {...} or "mlp": {...}), scheduler
 *   (JSON: schedule, T, beta range, prediction), train (JSON: batch, lr, ...),
 *   dataset, step, seed, adam_step, created_by, and for a snapshot of a live
 *   run (ddpm/history.h) seconds, the run's wall time when it was taken.
 * Weights may be stored as F16 (snapshots are, to halve their size); they
 * load as floats all the same.
 * A file may hold any non-empty subset of the four groups: the bundled models
 * carry only ema.*, which keeps them small; a training checkpoint carries all
 * four, so that a resumed run continues exactly.
 *
 * Loading validates everything: the safetensors layer checks the bytes; this
 * layer checks the metadata, that every group present matches the config's
 * parameter table exactly (no missing, extra or mis-shaped tensor) and that
 * every weight is finite.  Messages name the file, the problem and the fix.
 */
#ifndef DDPM_CHECKPOINT_H
#define DDPM_CHECKPOINT_H

#include "ddpm/config.h"
#include "ddpm/net.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { DDPM_CHECKPOINT_FORMAT_VERSION = 1 };

/* Groups, as flags. */
enum {
    DDPM_CKPT_EMA = 1,
    DDPM_CKPT_MODEL = 2,
    DDPM_CKPT_OPTIM = 4,
    /* for loading: at least one of ema or model */
    DDPM_CKPT_WEIGHTS = 8,
    DDPM_CKPT_ALL = DDPM_CKPT_EMA | DDPM_CKPT_MODEL | DDPM_CKPT_OPTIM,
};

/* Largest magnitude a loaded network weight may have: trained weights stay
 * within about 10 (AdamW with clipping); a file beyond it is corrupt. */
#define DDPM_CHECKPOINT_MAX_WEIGHT 1e4

/* Largest checkpoint file the loader reads (the format allows more). */
#define DDPM_CHECKPOINT_MAX_BYTES ((size_t)2 << 30)

typedef struct ddpm_checkpoint {
    ddpm_run_config run;     /* unet, schedule, prediction, dataset, training setup */
    int64_t step;            /* optimizer steps taken */
    int64_t adam_step;       /* steps the Adam moments have seen */
    double seconds;          /* wall time of the run at this step, or -1 when not recorded */
    ddpm_net *net;           /* built from run.net; owned */
    size_t n_params;
    unsigned groups;         /* DDPM_CKPT_* present in the file */
    float *ema, *model;      /* (n_params) each, or NULL; owned */
    float *adam_m, *adam_v;  /* (n_params) each, or NULL; owned */
} ddpm_checkpoint;

/* Loads and validates path.  `require` is a set of DDPM_CKPT_* the file must
 * hold (DDPM_CKPT_WEIGHTS: ema or model).  On error *ck is zeroed and err
 * names the file. */
int ddpm_checkpoint_load(ddpm_checkpoint *ck, const char *path, unsigned require, ddpm_error *err);
void ddpm_checkpoint_free(ddpm_checkpoint *ck);

/* The weights sampling should use: EMA if present, else the raw weights. */
const float *ddpm_checkpoint_weights(const ddpm_checkpoint *ck);

/* What a save writes.  Any of the arrays may be NULL to leave its group out
 * (at least one of ema and model is required). */
typedef struct ddpm_checkpoint_data {
    const ddpm_run_config *run;
    const ddpm_net *net;
    int64_t step;
    const float *ema, *model;
    const float *adam_m, *adam_v;
    int64_t adam_step;
    double seconds;          /* > 0: stored as the run's wall time at this step */
    bool half;               /* weights as F16 (ddpm/safetensors.h): half the size */
} ddpm_checkpoint_data;

/* Writes atomically (temp file, fsync, rename): a crash or a full disk
 * during the save leaves the previous file untouched. */
int ddpm_checkpoint_save(const char *path, const ddpm_checkpoint_data *data, ddpm_error *err);

#ifdef __cplusplus
}
#endif
#endif
