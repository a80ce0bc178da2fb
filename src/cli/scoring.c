/* scoring.c: pieces shared by `ddpm eval` and `ddpm sweep` (see scoring.h). */
#include "scoring.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddpm/dataset.h"

int ddpm_cli_scorer_open(ddpm_cli_scorer *s, const char *path, const char *dataset, ddpm_error *err)
{
    memset(s, 0, sizeof *s);
    snprintf(s->dataset, sizeof s->dataset, "%s", dataset && *dataset ? dataset : "digits");
    if (path)
        snprintf(s->path, sizeof s->path, "%s", path);
    else
        ddpm_classifier_path_for(s->dataset, s->path, sizeof s->path);
    if (ddpm_classifier_load(&s->classifier, s->path, err) != DDPM_OK) {
        if (!path && strcmp(s->dataset, "fashion") == 0)
            ddpm_fail_context(err, "scoring Fashion-MNIST needs its classifier; train it with "
                                   "`ddpm eval --train-classifier --data fashion`");
        return DDPM_ERR;
    }
    if (ddpm_quality_reference_open(&s->ref, &s->classifier, s->dataset, err) != DDPM_OK) {
        ddpm_classifier_free(&s->classifier);
        return ddpm_fail_context(err, "the FD reference needs the held-out split of '%s'", s->dataset);
    }
    return DDPM_OK;
}

const char *ddpm_cli_scorer_what(const ddpm_cli_scorer *s)
{
    if (strcmp(s->dataset, "digits") == 0) return "digits";
    if (strcmp(s->dataset, "fashion") == 0) return "Fashion-MNIST images";
    return "images";
}

void ddpm_cli_scorer_close(ddpm_cli_scorer *s)
{
    if (!s) return;
    ddpm_quality_reference_free(&s->ref);
    ddpm_classifier_free(&s->classifier);
}

static bool on_step(void *ctx, const ddpm_step_view *v)
{
    ddpm_cli_sample_progress *p = ctx;
    p->done += v->B;
    ddpm_progress_update(p->prog, p->done, p->extra ? p->extra : "");
    return true;
}

int ddpm_cli_sample_batched(ddpm_cli_model *m, const ddpm_sampler_config *cfg, uint64_t seed,
                            int n, int batch, float *x, ddpm_cli_sample_progress *progress,
                            ddpm_error *err)
{
    DDPM_ASSERT(m && cfg && x && n > 0 && batch > 0);
    int C, S, W;
    ddpm_net_config_shape(&m->ck.run.net, &C, &S, &W);
    const size_t per = (size_t)C * S * S;
    for (int b0 = 0; b0 < n; b0 += batch) {
        const int nb = n - b0 < batch ? n - b0 : batch;
        ddpm_sample_request req = {.schedule = &m->schedule, .cfg = *cfg, .pred = m->ck.run.prediction,
                                   .seed = seed, .first_index = b0};
        if (ddpm_sample(&req, ddpm_net_denoise, &m->denoiser, nb, C, S, S, x + (size_t)b0 * per, NULL,
                        progress && progress->prog ? on_step : NULL, progress, err) != DDPM_OK)
            return DDPM_ERR;
    }
    return DDPM_OK;
}

void ddpm_cli_quantize(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t byte;
        ddpm_cli_to_bytes(x + i, 1, &byte);
        ddpm_pixels_from_bytes(x + i, &byte, 1); /* as ddpm_dataset reads bytes */
    }
}

void ddpm_cli_sweep_csv_header(FILE *csv)
{
    fprintf(csv, "checkpoint,prediction,schedule,eta,steps,n_scored,confidence,entropy,inception_score,fd,"
                 "fd_ratio,seconds\n");
}

void ddpm_cli_sweep_csv_row(FILE *csv, const char *name, const ddpm_run_config *run, double eta, int steps,
                            int n_score, const ddpm_quality *q, const ddpm_quality *floor, double seconds)
{
    fprintf(csv, "%s,%s,%s,%g,%d,%d,", name, ddpm_prediction_name(run->prediction),
            ddpm_schedule_name(run->schedule.kind), eta, steps, n_score);
    if (q)
        fprintf(csv, "%.6f,%.6f,%.6f,%.6f,%.6f,", q->confidence, q->entropy, q->inception_score, q->fd,
                floor && floor->fd > 0 ? q->fd / floor->fd : 0.0);
    else
        fprintf(csv, ",,,,,");
    fprintf(csv, "%.3f\n", seconds);
    fflush(csv);  /* a long sweep's finished cells survive an interruption */
}
