/* ddpm/config.h: everything that describes a training run, and its JSON form
 * (stored in checkpoint metadata).
 *
 *   ddpm_run_config rc;
 *   ddpm_run_config_default(&rc, "tiny", &err);
 *   rc.prediction = DDPM_PRED_V;
 *   char *json = ddpm_net_config_to_json(&rc.net);       // caller frees
 *   ddpm_net_config back;
 *   ddpm_net_config_from_json(rc.net.arch, json, &back, &err);   // strict: every field, right types
 *   free(json);
 *
 * The from_json functions accept any bytes: malformed JSON, missing fields,
 * wrong types and out-of-range values are runtime errors naming the field.
 */
#ifndef DDPM_CONFIG_H
#define DDPM_CONFIG_H

#include "ddpm/optim.h"
#include "ddpm/scheduler.h"
#include "ddpm/net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ddpm_run_config {
    char preset[32];               /* the preset the network came from, or "custom" */
    ddpm_net_config net;
    ddpm_schedule_config schedule;
    ddpm_prediction prediction;
    char dataset[256];             /* "digits", "fashion", a folder, a 2-D set ("moons", ...) or a CSV */
    int batch;                     /* 1..1024 */
    int64_t total_steps;           /* optimizer steps of the whole run */
    ddpm_adam_config adam;
    double ema_decay;              /* 0..1 (0.999 is usual; 0 = EMA equals the weights) */
    double ema_warmup;             /* 1..1000: the EMA's warm-up (ddpm_ema_decay_at in ddpm/optim.h) */
    double min_snr_gamma;          /* loss weighting over t: 0 = none (the simple loss), else
                                      Min-SNR-gamma (ddpm_loss_weight in ddpm/scheduler.h) */
    double t_logit_mean;           /* where t is drawn: t_logit_std = 0 uniformly, else logit-normal */
    double t_logit_std;            /* with this mean and std (ddpm_t_logit_normal in ddpm/scheduler.h) */
    uint64_t seed;
} ddpm_run_config;

/* The defaults for a preset: linear schedule, T = 1000, lr 1e-3 with 100
 * warmup steps, clip 1, EMA 0.999, seed 0; for the UNets eps-prediction, the
 * bundled digits and batch 64; for the MLP v-prediction, two moons, batch 256
 * and lr 2e-3 decayed over 15,000 steps; total_steps depends on the preset. */
int ddpm_run_config_default(ddpm_run_config *rc, const char *preset, ddpm_error *err);
int ddpm_run_config_validate(const ddpm_run_config *rc, ddpm_error *err);

/* JSON text (malloc'ed, caller frees) and strict parsing. */
char *ddpm_unet_config_to_json(const ddpm_unet_config *c);
int ddpm_unet_config_from_json(const char *json, ddpm_unet_config *out, ddpm_error *err);
char *ddpm_mlp_config_to_json(const ddpm_mlp_config *c);
int ddpm_mlp_config_from_json(const char *json, ddpm_mlp_config *out, ddpm_error *err);
/* The JSON of the arch's own config (a checkpoint stores it under the
 * metadata key ddpm_arch_name(arch), beside "arch"). */
char *ddpm_net_config_to_json(const ddpm_net_config *c);
int ddpm_net_config_from_json(ddpm_arch arch, const char *json, ddpm_net_config *out, ddpm_error *err);

/* {"schedule": "linear", "T": 1000, "beta_start": ..., "beta_end": ..., "prediction": "eps"} */
char *ddpm_scheduler_config_to_json(const ddpm_schedule_config *s, ddpm_prediction pred);
int ddpm_scheduler_config_from_json(const char *json, ddpm_schedule_config *out,
                                    ddpm_prediction *pred, ddpm_error *err);

/* {"batch": 64, "total_steps": ..., "lr": ..., "beta1": ..., ..., "ema_decay": ...} */
char *ddpm_train_config_to_json(const ddpm_run_config *rc);
int ddpm_train_config_from_json(const char *json, ddpm_run_config *rc, ddpm_error *err);

#ifdef __cplusplus
}
#endif
#endif
