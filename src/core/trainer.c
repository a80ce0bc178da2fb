/* trainer.c: the diffusion training step (DDPM Algorithm 1) and run state. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddpm/layers.h"
#include "ddpm/rng.h"
#include "ddpm/trainer.h"

struct ddpm_trainer {
    ddpm_run_config run;
    const ddpm_dataset *data;
    ddpm_net *net;
    ddpm_net_workspace *ws;
    ddpm_schedule sched;
    ddpm_adam opt;
    ddpm_batch_sampler batches;
    size_t n_params;
    float *params, *grads, *ema;     /* one arena: (n_params) each */
    int64_t step;
    /* per-step buffers, (B, C, H, W) unless noted */
    size_t per_image;
    float *x0, *eps, *x_t, *target, *dout;
    float *sample_loss;              /* (B) */
    int *t;                          /* (B) */
    uint32_t *indices;               /* (B) */
};

static int check_data(const ddpm_run_config *run, const ddpm_dataset *data, ddpm_error *err)
{
    int C, H, W;
    ddpm_net_config_shape(&run->net, &C, &H, &W);
    if (!data || data->n == 0) return ddpm_fail(err, "the training set is empty; use --data digits");
    if (data->channels != C || data->height != H || data->width != W)
        return ddpm_fail(err,
                         "dataset '%s' has samples of %dx%dx%d values but the model expects %dx%dx%d; "
                         "pick a model (preset or checkpoint) made for this data",
                         data->name, data->channels, data->height, data->width, C, H, W);
    const ddpm_unet_config *u = &run->net.unet;
    if (run->net.arch == DDPM_ARCH_UNET && u->out_channels != u->in_channels)
        return ddpm_fail(err, "the model outputs %d channels for %d-channel input; diffusion needs them equal",
                         u->out_channels, u->in_channels);
    return DDPM_OK;
}

static int create_common(ddpm_trainer **out, const ddpm_run_config *run, const ddpm_dataset *data,
                         ddpm_error *err)
{
    *out = NULL;
    if (ddpm_run_config_validate(run, err) != DDPM_OK) return DDPM_ERR;
    if (check_data(run, data, err) != DDPM_OK) return DDPM_ERR;
    ddpm_trainer *tr = calloc(1, sizeof *tr);
    if (!tr) return ddpm_fail(err, "out of memory");
    tr->run = *run;
    tr->data = data;
    if (ddpm_net_create(&tr->net, &run->net, err) != DDPM_OK) goto fail;
    if (ddpm_schedule_init(&tr->sched, &run->schedule, err) != DDPM_OK) goto fail;
    tr->n_params = ddpm_net_num_params(tr->net);
    if (ddpm_adam_init(&tr->opt, tr->n_params, &run->adam, err) != DDPM_OK) goto fail;
    if (ddpm_net_workspace_create(&tr->ws, tr->net, run->batch, true, err) != DDPM_OK) goto fail;
    const size_t B = (size_t)run->batch;
    tr->per_image = ddpm_net_config_sample_floats(&run->net);
    tr->params = calloc(3 * tr->n_params, sizeof(float));
    float *buf = calloc(5 * B * tr->per_image + B, sizeof(float));
    tr->t = calloc(B, sizeof(int));
    tr->indices = calloc(B, sizeof(uint32_t));
    if (!tr->params || !buf || !tr->t || !tr->indices) {
        free(buf);
        ddpm_fail(err, "out of memory for the training buffers; use a smaller --batch");
        goto fail;
    }
    tr->grads = tr->params + tr->n_params;
    tr->ema = tr->params + 2 * tr->n_params;
    tr->x0 = buf;
    tr->eps = buf + B * tr->per_image;
    tr->x_t = buf + 2 * B * tr->per_image;
    tr->target = buf + 3 * B * tr->per_image;
    tr->dout = buf + 4 * B * tr->per_image;
    tr->sample_loss = buf + 5 * B * tr->per_image;
    ddpm_batch_sampler_init(&tr->batches, data->n, run->seed);
    *out = tr;
    return DDPM_OK;
fail:
    ddpm_trainer_free(tr);
    return DDPM_ERR;
}

int ddpm_trainer_create(ddpm_trainer **out, const ddpm_run_config *run, const ddpm_dataset *data,
                        ddpm_error *err)
{
    if (create_common(out, run, data, err) != DDPM_OK) return DDPM_ERR;
    ddpm_trainer *tr = *out;
    ddpm_net_init_params(tr->net, tr->params, run->seed);
    memcpy(tr->ema, tr->params, sizeof(float) * tr->n_params);
    return DDPM_OK;
}

int ddpm_trainer_resume(ddpm_trainer **out, const ddpm_checkpoint *ck, const ddpm_run_config *run,
                        const ddpm_dataset *data, ddpm_error *err)
{
    ddpm_run_config merged = ck->run;
    if (run) {
        /* the network and the diffusion process come from the checkpoint */
        merged = *run;
        merged.net = ck->run.net;
        merged.schedule = ck->run.schedule;
        merged.prediction = ck->run.prediction;
        snprintf(merged.preset, sizeof merged.preset, "%s", ck->run.preset);
    }
    if (create_common(out, &merged, data, err) != DDPM_OK) return DDPM_ERR;
    ddpm_trainer *tr = *out;
    const float *w = ck->model ? ck->model : ck->ema;
    memcpy(tr->params, w, sizeof(float) * tr->n_params);
    memcpy(tr->ema, ck->ema ? ck->ema : w, sizeof(float) * tr->n_params);
    tr->step = ck->step;
    if (ck->adam_m && ck->adam_v) {
        memcpy(tr->opt.m, ck->adam_m, sizeof(float) * tr->n_params);
        memcpy(tr->opt.v, ck->adam_v, sizeof(float) * tr->n_params);
        tr->opt.step = ck->adam_step;
    }
    return DDPM_OK;
}

void ddpm_trainer_free(ddpm_trainer *tr)
{
    if (!tr) return;
    ddpm_batch_sampler_free(&tr->batches);
    ddpm_net_workspace_free(tr->ws);
    ddpm_net_free(tr->net);
    ddpm_schedule_free(&tr->sched);
    ddpm_adam_free(&tr->opt);
    free(tr->params);
    free(tr->x0);
    free(tr->t);
    free(tr->indices);
    free(tr);
}

int ddpm_trainer_step(ddpm_trainer *tr, ddpm_train_stats *stats, ddpm_error *err)
{
    const int B = tr->run.batch;
    const size_t D = tr->per_image, n = (size_t)B * D;
    const int T = tr->sched.T;

    ddpm_batch_sampler_draw(&tr->batches, (uint64_t)tr->step, (size_t)B, tr->indices);
    ddpm_dataset_gather(tr->data, tr->indices, (size_t)B, tr->x0, NULL);

    ddpm_rng rng;
    ddpm_rng_init(&rng, tr->run.seed, ddpm_rng_stream(DDPM_STREAM_TRAIN, (uint64_t)tr->step, 0));
    for (int b = 0; b < B; b++)
        tr->t[b] = tr->run.t_logit_std > 0
                       ? ddpm_t_logit_normal(T, tr->run.t_logit_mean, tr->run.t_logit_std, ddpm_rng_normal(&rng))
                       : (int)ddpm_rng_below(&rng, (uint32_t)T);
    ddpm_rng_normal_fill(&rng, tr->eps, n);
    for (int b = 0; b < B; b++) {
        const size_t o = (size_t)b * D;
        ddpm_q_sample(&tr->sched, tr->t[b], tr->x0 + o, tr->eps + o, tr->x_t + o, D);
        ddpm_prediction_target(&tr->sched, tr->run.prediction, tr->t[b], tr->x0 + o, tr->eps + o,
                               tr->target + o, D);
    }

    ddpm_rng drop;
    ddpm_rng_init(&drop, tr->run.seed, ddpm_rng_stream(DDPM_STREAM_DROPOUT, (uint64_t)tr->step, 0));
    ddpm_net_forward(tr->net, tr->params, tr->ws, tr->x_t, tr->t, B,
                      tr->run.net.arch == DDPM_ARCH_UNET && tr->run.net.unet.dropout > 0.0f ? &drop : NULL);
    const float *out = ddpm_net_output(tr->ws);

    double loss = 0.0;
    for (int b = 0; b < B; b++) {
        const size_t o = (size_t)b * D;
        double l = ddpm_mse_forward(out + o, tr->target + o, D);
        tr->sample_loss[b] = (float)l;
        loss += l;
    }
    loss /= B;
    if (!isfinite(loss))
        return ddpm_fail(err, "the loss became %g at step %lld: training diverged; the weights were "
                              "not updated and the last saved checkpoint is intact; lower --lr or "
                              "resume from the last checkpoint",
                         loss, (long long)tr->step);
    /* Every target (eps, v, x0 of images in [-1, 1]) has a second moment of
     * at most about 1, which is the loss of a network that outputs zeros (as
     * a fresh one does: conv_out starts at zero).  A loss ten times that is a
     * network far worse than doing nothing: it has diverged. */
    if (loss > DDPM_TRAIN_DIVERGED_LOSS)
        return ddpm_fail(err, "the loss jumped to %.3g at step %lld, %g times what a network that "
                              "outputs zeros scores: training diverged (is the learning rate %g too "
                              "high?); the last saved checkpoint is intact; lower --lr and resume it",
                         loss, (long long)tr->step, DDPM_TRAIN_DIVERGED_LOSS, tr->run.adam.lr);

    /* the gradient of the (weighted) mean over the batch of each sample's MSE;
     * the loss reported stays the plain MSE, comparable between runs */
    memset(tr->dout, 0, sizeof(float) * n);
    if (tr->run.min_snr_gamma > 0) {
        for (int b = 0; b < B; b++) {
            const size_t o = (size_t)b * D;
            const double w = ddpm_loss_weight(&tr->sched, tr->run.prediction, tr->t[b], tr->run.min_snr_gamma);
            ddpm_mse_backward(tr->dout + o, out + o, tr->target + o, (float)(w / B), D);
        }
    } else {
        ddpm_mse_backward(tr->dout, out, tr->target, 1.0f, n);
    }
    memset(tr->grads, 0, sizeof(float) * tr->n_params);
    ddpm_net_backward(tr->net, tr->params, tr->grads, tr->ws, tr->dout, NULL);

    double norm = ddpm_global_norm(tr->grads, tr->n_params);
    if (!isfinite(norm))
        return ddpm_fail(err, "the gradient became %g at step %lld: training diverged; the weights "
                              "were not updated; lower --lr or resume from the last checkpoint",
                         norm, (long long)tr->step);
    const double lr = ddpm_adam_lr_at(&tr->run.adam, tr->opt.step);
    ddpm_adam_step(&tr->opt, tr->params, tr->grads);
    ddpm_ema_update(tr->ema, tr->params, tr->n_params, ddpm_ema_decay_at(tr->run.ema_decay, tr->run.ema_warmup, tr->step));
    tr->step++;

    if (stats) {
        stats->step = tr->step;
        stats->loss = loss;
        stats->grad_norm = norm;
        stats->lr = lr;
        stats->batch = B;
        stats->t = tr->t;
        stats->sample_loss = tr->sample_loss;
    }
    return DDPM_OK;
}

static int save(const ddpm_trainer *tr, const char *path, bool full, ddpm_error *err)
{
    ddpm_checkpoint_data d = {
        .run = &tr->run, .net = tr->net, .step = tr->step, .ema = tr->ema,
        .model = full ? tr->params : NULL,
        .adam_m = full ? tr->opt.m : NULL, .adam_v = full ? tr->opt.v : NULL,
        .adam_step = tr->opt.step,
    };
    return ddpm_checkpoint_save(path, &d, err);
}

int ddpm_trainer_save(const ddpm_trainer *tr, const char *path, ddpm_error *err)
{
    return save(tr, path, true, err);
}

int ddpm_trainer_export(const ddpm_trainer *tr, const char *path, ddpm_error *err)
{
    return save(tr, path, false, err);
}

int64_t ddpm_trainer_step_count(const ddpm_trainer *tr) { return tr->step; }
const ddpm_run_config *ddpm_trainer_run(const ddpm_trainer *tr) { return &tr->run; }
const ddpm_net *ddpm_trainer_net(const ddpm_trainer *tr) { return tr->net; }
const ddpm_schedule *ddpm_trainer_schedule(const ddpm_trainer *tr) { return &tr->sched; }
const float *ddpm_trainer_params(const ddpm_trainer *tr) { return tr->params; }
const float *ddpm_trainer_ema(const ddpm_trainer *tr) { return tr->ema; }
void ddpm_trainer_limit_threads(ddpm_trainer *tr, int n) { ddpm_net_workspace_limit_threads(tr->ws, n); }

size_t ddpm_trainer_bytes(const ddpm_trainer *tr)
{
    const size_t B = (size_t)tr->run.batch;
    return sizeof(float) * (5 * tr->n_params + 5 * B * tr->per_image + B) +
           ddpm_net_workspace_bytes(tr->ws) + B * (sizeof(int) + sizeof(uint32_t)) +
           tr->data->n * sizeof(uint32_t);
}

void ddpm_trainer_set_params(ddpm_trainer *tr, const float *params, size_t n)
{
    DDPM_ASSERT(n == tr->n_params);
    memcpy(tr->params, params, sizeof(float) * n);
    memcpy(tr->ema, params, sizeof(float) * n);
}

/* ---- the smoothed loss (trainer.h) ---------------------------------------------- */

double ddpm_loss_smooth_add(ddpm_loss_smoother *s, double loss)
{
    const double beta = 1.0 - 1.0 / DDPM_LOSS_WINDOW;
    s->acc = beta * s->acc + (1.0 - beta) * loss;
    s->n++;
    const double corr = s->n < 2000 ? 1.0 - pow(beta, (double)s->n) : 1.0;
    return s->acc / corr;
}

void ddpm_loss_smooth_resume(ddpm_loss_smoother *s, double smoothed)
{
    s->acc = smoothed;
    s->n = 2000; /* past the correction: the value is already an average */
}
