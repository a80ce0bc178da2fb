/* scoring.h: what `ddpm eval` and `ddpm sweep` share: the classifier loaded
 * with its held-out reference, samples drawn in batches under a progress
 * bar, and samples quantised to bytes as an IDX file stores them. */
#ifndef DDPM_CLI_SCORING_H
#define DDPM_CLI_SCORING_H

#include <stdio.h>

#include "cli_util.h"
#include "ddpm/classifier.h"
#include "ddpm/quality.h"
#include "progress.h"

typedef struct ddpm_cli_scorer {
    char path[4096];              /* the classifier file */
    char dataset[256];            /* the dataset spec the reference comes from */
    ddpm_classifier classifier;
    ddpm_quality_reference ref;   /* borrows classifier: keep the scorer in place */
} ddpm_cli_scorer;

/* Loads the classifier (path NULL: the one for `dataset`, ddpm_classifier_path_for)
 * and computes the held-out statistics of `dataset` (NULL: the bundled
 * digits).  Errors name the file and the fix. */
int ddpm_cli_scorer_open(ddpm_cli_scorer *s, const char *path, const char *dataset, ddpm_error *err);
/* "digits", "Fashion-MNIST images" or "images of <spec>": what the floor's rows are. */
const char *ddpm_cli_scorer_what(const ddpm_cli_scorer *s);
void ddpm_cli_scorer_close(ddpm_cli_scorer *s);

/* Progress over image-steps (one UNet evaluation of one image); prog may be
 * NULL.  `done` advances as sampling goes. */
typedef struct ddpm_cli_sample_progress {
    ddpm_progress *prog;
    int64_t done;
    const char *extra;            /* shown after the bar, or NULL */
} ddpm_cli_sample_progress;

/* Draws n samples (n, C, S, S) into x in batches of `batch`; sample i uses
 * the locked noise streams of index i, so the result does not depend on
 * `batch`. */
int ddpm_cli_sample_batched(ddpm_cli_model *m, const ddpm_sampler_config *cfg, uint64_t seed,
                            int n, int batch, float *x, ddpm_cli_sample_progress *progress,
                            ddpm_error *err);

/* Rounds x in place to the 8-bit grid of [-1, 1] (what ddpm_cli_to_bytes
 * stores, read back), so samples scored straight from the sampler score
 * exactly as the IDX file `ddpm sample` writes. */
void ddpm_cli_quantize(float *x, size_t n);

/* The per-cell CSV of `ddpm sweep` (and the visualizer's study export):
 * checkpoint, prediction, schedule, eta, steps, n_scored, confidence,
 * entropy, inception_score, fd, fd_ratio, seconds.  q NULL: no scores. */
void ddpm_cli_sweep_csv_header(FILE *csv);
void ddpm_cli_sweep_csv_row(FILE *csv, const char *name, const ddpm_run_config *run, double eta, int steps,
                            int n_score, const ddpm_quality *q, const ddpm_quality *floor, double seconds);

#endif
