/* cli_util.h: pieces several subcommands share: error exits, the bundled
 * model's path, a loaded model ready to sample, and sample grids as PNG. */
#ifndef DDPM_CLI_UTIL_H
#define DDPM_CLI_UTIL_H

#include "ddpm/checkpoint.h"
#include "ddpm/dataset.h"
#include "ddpm/image.h"
#include "ddpm/sampler.h"
#include "ddpm/net.h"

/* Prints "ddpm <cmd>: <message>" and returns DDPM_EXIT_BAD_INPUT. */
int ddpm_cli_bad_input(const char *cmd, const ddpm_error *err);

/* When `name` is another codebase's name for a schedule (sqrt_linear,
 * scaled_linear), prints "ddpm <cmd>: note: ..." saying which schedule it
 * means here, so nobody trains the wrong one by a name. */
void ddpm_cli_note_schedule_alias(const char *cmd, const char *name);

/* The assets folder: $DDPM_ASSETS, else the build's DDPM_ASSET_DIR. */
const char *ddpm_cli_asset_dir(void);
/* "<assets>/models/<name>.safetensors" into buf. */
void ddpm_cli_model_path(const char *name, char *buf, size_t cap);
/* The model `ddpm sample` and `ddpm viz` use when given none. */
#define DDPM_DEFAULT_MODEL "eps-linear"

/* A checkpoint loaded for sampling: its network, EMA weights, schedule and
 * an inference workspace. */
typedef struct ddpm_cli_model {
    ddpm_checkpoint ck;
    ddpm_schedule schedule;
    ddpm_net_workspace *ws;
    ddpm_net_denoiser denoiser;   /* ctx for ddpm_net_denoise */
} ddpm_cli_model;

/* max_batch: samples per forward pass of the workspace; 0 picks 64 images
 * or DDPM_CLI_POINTS_BATCH points. */
int ddpm_cli_model_load(ddpm_cli_model *m, const char *path, int max_batch, ddpm_error *err);
enum { DDPM_CLI_POINTS_BATCH = 4096 };
/* Replaces the workspace by one for max_batch samples a pass. */
int ddpm_cli_model_set_batch(ddpm_cli_model *m, int max_batch, ddpm_error *err);
/* Whether the model makes points (its samples are 1x1 maps) rather than images. */
bool ddpm_cli_model_is_points(const ddpm_cli_model *m);
void ddpm_cli_model_free(ddpm_cli_model *m);

/* Draws n samples with `sampler` and writes them as a PNG: a grid of
 * images, or for points a scatter plot over the reference points `ref`
 * (the data; may be NULL). */
typedef struct ddpm_cli_sample_grid_args {
    const ddpm_net *net;
    const float *weights;
    ddpm_net_workspace *ws;
    const ddpm_schedule *schedule;
    ddpm_sampler_config sampler;
    ddpm_prediction pred;
    uint64_t seed;
    int n, scale;
    const ddpm_dataset *ref;
    const char *title;             /* scatter plots: a title line, or NULL */
} ddpm_cli_sample_grid_args;
int ddpm_cli_sample_grid_png(const ddpm_cli_sample_grid_args *a, const char *path, ddpm_error *err);

/* Writes points (n, D) as a scatter PNG over the first points of ref
 * (NULL: none), the view fitted to both. */
int ddpm_cli_points_png(const char *path, const float *pts, size_t n, int D, const ddpm_dataset *ref,
                        const char *title, ddpm_error *err);

/* Float images in [-1, 1] to bytes (round, clamp), as MNIST stores them. */
void ddpm_cli_to_bytes(const float *x, size_t n, uint8_t *out);

/* Comma-separated lists of eta values (each in [0, 1]) and of step counts
 * (1..DDPM_T_MAX), at most max items: `ddpm sweep --eta/--steps` and the
 * visualizer's study (study_eta=, study_steps=).  what names the list in
 * messages ("--eta"). */
int ddpm_cli_parse_etas(const char *text, const char *what, double *out, int max, int *n, ddpm_error *err);
/* "DDIM, 50 steps, eta 0" or "DDPM, 50 steps, sigma^2 = beta~ (small)": what
 * a sampler configuration does, for reports (DDPM has no eta). */
void ddpm_cli_sampler_desc(const ddpm_sampler_config *cfg, char *buf, size_t cap);
int ddpm_cli_parse_steps(const char *text, const char *what, int *out, int max, int *n, ddpm_error *err);

#endif
