/* config.c: run configurations and their strict JSON form (cJSON). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ddpm/config.h"

int ddpm_run_config_default(ddpm_run_config *rc, const char *preset, ddpm_error *err)
{
    memset(rc, 0, sizeof *rc);
    if (ddpm_net_preset(preset, &rc->net, err) != DDPM_OK) return DDPM_ERR;
    snprintf(rc->preset, sizeof rc->preset, "%s", preset);
    rc->schedule = ddpm_schedule_config_default();
    rc->prediction = DDPM_PRED_EPS;
    rc->adam = ddpm_adam_config_default();
    rc->ema_decay = 0.999;
    rc->ema_warmup = DDPM_EMA_WARMUP_DEFAULT;
    rc->seed = 0;
    if (rc->net.arch == DDPM_ARCH_MLP) {
        /* the 2D world's recipe, chosen by measurement (bench/README.md):
         * v-prediction, a larger batch and a higher learning rate decayed
         * over 15,000 steps reach the data's own energy-distance floor in
         * about ten seconds on two cores */
        snprintf(rc->dataset, sizeof rc->dataset, "moons");
        rc->prediction = DDPM_PRED_V;
        rc->batch = 256;
        rc->adam.lr = 2e-3;
        rc->adam.decay_steps = 15000;
        rc->adam.final_lr = 0.05;
        rc->total_steps = 15100;
        return DDPM_OK;
    }
    snprintf(rc->dataset, sizeof rc->dataset, "digits");
    rc->batch = 64;
    rc->total_steps = strcmp(preset, "small") == 0 ? 20000 : 2000;
    /* live training: x0-prediction gives recognisable digits in the fewest
     * steps (tiny at 1000 steps: eps FD 21x the floor, v 6.8x, x0 5.9x),
     * and Min-SNR weighting helps it more: gamma 5 by 12 % at a fixed two
     * minutes, gamma 0.5 to 2 by another ~10 % at 1,500 steps (FD 3.95-4.12x
     * the floor against 4.48x; 20 gives 4.95x), so 1, the middle of that
     * plateau (the tables in bench/README.md, "The live recipe") */
    if (strcmp(preset, "live") == 0) {
        rc->prediction = DDPM_PRED_X0;
        rc->min_snr_gamma = 1.0;
        /* and t drawn logit-normally, the middle of the process more often
         * than its ends, a little below the middle: at 1,500 steps FD 4.12x ->
         * 2.92x the floor and confidence 0.858 -> 0.908 (bench/README.md,
         * "Round 3": mean 0 and std 1 gave 3.01x, std 0.5 4.25x, mean +0.5
         * 3.89x) */
        rc->t_logit_mean = -0.25;
        rc->t_logit_std = 0.7;
        /* Adam's beta2 0.99 and an EMA warm-up of (1 + s)/(20 + s): FD 2.92x ->
         * 2.65x at 1,500 steps, confidence 0.908 -> 0.905 (the same table) */
        rc->adam.beta2 = 0.99;
        rc->ema_warmup = 20.0;
    }
    return DDPM_OK;
}

int ddpm_run_config_validate(const ddpm_run_config *rc, ddpm_error *err)
{
    if (ddpm_net_config_validate(&rc->net, err) != DDPM_OK) return DDPM_ERR;
    if (ddpm_schedule_config_validate(&rc->schedule, err) != DDPM_OK) return DDPM_ERR;
    if ((int)rc->prediction < 0 || rc->prediction >= DDPM_PRED_COUNT)
        return ddpm_fail(err, "unknown prediction type %d; use eps, v or x0", (int)rc->prediction);
    if (rc->batch < 1 || rc->batch > 1024)
        return ddpm_fail(err, "batch = %d is out of range; use 1..1024 (64 is usual)", rc->batch);
    if (rc->total_steps < 1 || rc->total_steps > 100000000)
        return ddpm_fail(err, "steps = %lld is out of range; use 1..100000000", (long long)rc->total_steps);
    if (ddpm_adam_config_validate(&rc->adam, err) != DDPM_OK) return DDPM_ERR;
    if (!(rc->min_snr_gamma == 0.0 || (rc->min_snr_gamma >= 0.1 && rc->min_snr_gamma <= 100.0)))
        return ddpm_fail(err, "Min-SNR gamma %g is out of range; use 0 (off) or 0.1..100 (5 is usual)",
                         rc->min_snr_gamma);
    if (!(rc->t_logit_std == 0.0 || (rc->t_logit_std >= 0.1 && rc->t_logit_std <= 4.0)) ||
        !(rc->t_logit_mean >= -4.0 && rc->t_logit_mean <= 4.0))
        return ddpm_fail(err, "t sampling logit-normal:%g:%g is out of range; use a mean in -4..4 and a std in "
                              "0.1..4 (0:1 is usual), or uniform",
                         rc->t_logit_mean, rc->t_logit_std);
    if (!(rc->ema_warmup >= 1.0 && rc->ema_warmup <= 1000.0))
        return ddpm_fail(err, "EMA warm-up %g is out of range; use 1..1000 (10 is usual)", rc->ema_warmup);
    if (!(rc->ema_decay >= 0.0 && rc->ema_decay < 1.0))
        return ddpm_fail(err, "EMA decay %g is out of range; use 0 <= decay < 1 (0.999 is usual)", rc->ema_decay);
    if (rc->dataset[0] == '\0') return ddpm_fail(err, "empty dataset name; use digits, fashion or a folder");
    return DDPM_OK;
}

/* ---- JSON helpers ----------------------------------------------------------- */

static char *print_and_free(cJSON *o)
{
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    DDPM_ASSERT(s);
    return s;
}

static int parse_object(const char *json, const char *what, cJSON **out, ddpm_error *err)
{
    *out = NULL;
    if (!json) return ddpm_fail(err, "%s: missing", what);
    cJSON *o = cJSON_Parse(json);
    if (!o || !cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return ddpm_fail(err, "%s is not a JSON object", what);
    }
    *out = o;
    return DDPM_OK;
}

/* An integer field in [lo, hi]. */
static int get_int(const cJSON *o, const char *what, const char *key, double lo, double hi,
                   int64_t *out, ddpm_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v)) return ddpm_fail(err, "%s: field '%s' is missing or not a number", what, key);
    double d = v->valuedouble;
    if (!(d >= lo && d <= hi) || d != floor(d))
        return ddpm_fail(err, "%s: field '%s' = %g is not an integer in %g..%g", what, key, d, lo, hi);
    *out = (int64_t)d;
    return DDPM_OK;
}

static int get_num(const cJSON *o, const char *what, const char *key, double lo, double hi,
                   double *out, ddpm_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v)) return ddpm_fail(err, "%s: field '%s' is missing or not a number", what, key);
    double d = v->valuedouble;
    if (!isfinite(d) || d < lo || d > hi)
        return ddpm_fail(err, "%s: field '%s' = %g is out of range %g..%g", what, key, d, lo, hi);
    *out = d;
    return DDPM_OK;
}

static int get_bool(const cJSON *o, const char *what, const char *key, bool *out, ddpm_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsBool(v)) return ddpm_fail(err, "%s: field '%s' is missing or not true/false", what, key);
    *out = cJSON_IsTrue(v);
    return DDPM_OK;
}

static const char *get_str(const cJSON *o, const char *what, const char *key, ddpm_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(v) || !v->valuestring) {
        ddpm_fail(err, "%s: field '%s' is missing or not a string", what, key);
        return NULL;
    }
    return v->valuestring;
}

/* ---- UNet config ---------------------------------------------------------------- */

char *ddpm_unet_config_to_json(const ddpm_unet_config *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "in_channels", c->in_channels);
    cJSON_AddNumberToObject(o, "out_channels", c->out_channels);
    cJSON_AddNumberToObject(o, "image_size", c->image_size);
    cJSON_AddNumberToObject(o, "base_channels", c->base_channels);
    cJSON *mult = cJSON_AddArrayToObject(o, "channel_mult");
    cJSON *attn = cJSON_AddArrayToObject(o, "attention");
    for (int l = 0; l < c->levels; l++) {
        cJSON_AddItemToArray(mult, cJSON_CreateNumber(c->channel_mult[l]));
        cJSON_AddItemToArray(attn, cJSON_CreateBool(c->attention[l]));
    }
    cJSON_AddNumberToObject(o, "res_blocks", c->res_blocks);
    cJSON_AddBoolToObject(o, "mid_attention", c->mid_attention);
    cJSON_AddNumberToObject(o, "groups", c->groups);
    cJSON_AddNumberToObject(o, "time_embed_dim", c->time_embed_dim);
    cJSON_AddNumberToObject(o, "dropout", c->dropout);
    return print_and_free(o);
}

int ddpm_unet_config_from_json(const char *json, ddpm_unet_config *out, ddpm_error *err)
{
    const char *what = "UNet config";
    cJSON *o;
    if (parse_object(json, what, &o, err) != DDPM_OK) return DDPM_ERR;
    ddpm_unet_config c;
    memset(&c, 0, sizeof c);
    int64_t v = 0;
    double d = 0.0;
    int rc = DDPM_ERR;
    if (get_int(o, what, "in_channels", 1, 4, &v, err)) goto done;
    c.in_channels = (int)v;
    if (get_int(o, what, "out_channels", 1, 4, &v, err)) goto done;
    c.out_channels = (int)v;
    if (get_int(o, what, "image_size", 4, 256, &v, err)) goto done;
    c.image_size = (int)v;
    if (get_int(o, what, "base_channels", 1, 1024, &v, err)) goto done;
    c.base_channels = (int)v;
    if (get_int(o, what, "res_blocks", 1, 8, &v, err)) goto done;
    c.res_blocks = (int)v;
    if (get_int(o, what, "groups", 1, 1024, &v, err)) goto done;
    c.groups = (int)v;
    if (get_int(o, what, "time_embed_dim", 2, 4096, &v, err)) goto done;
    c.time_embed_dim = (int)v;
    if (get_bool(o, what, "mid_attention", &c.mid_attention, err)) goto done;
    if (get_num(o, what, "dropout", 0.0, 0.9, &d, err)) goto done;
    c.dropout = (float)d;
    const cJSON *mult = cJSON_GetObjectItemCaseSensitive(o, "channel_mult");
    const cJSON *attn = cJSON_GetObjectItemCaseSensitive(o, "attention");
    if (!cJSON_IsArray(mult) || !cJSON_IsArray(attn)) {
        ddpm_fail(err, "%s: 'channel_mult' and 'attention' must be arrays", what);
        goto done;
    }
    c.levels = cJSON_GetArraySize(mult);
    if (c.levels < 1 || c.levels > DDPM_UNET_MAX_LEVELS || cJSON_GetArraySize(attn) != c.levels) {
        ddpm_fail(err, "%s: 'channel_mult' needs 1..%d entries and 'attention' as many", what,
                  DDPM_UNET_MAX_LEVELS);
        goto done;
    }
    for (int l = 0; l < c.levels; l++) {
        const cJSON *m = cJSON_GetArrayItem(mult, l), *a = cJSON_GetArrayItem(attn, l);
        if (!cJSON_IsNumber(m) || m->valuedouble != floor(m->valuedouble) || m->valuedouble < 1 ||
            m->valuedouble > 16 || !cJSON_IsBool(a)) {
            ddpm_fail(err, "%s: level %d needs an integer multiplier 1..16 and a true/false attention", what, l);
            goto done;
        }
        c.channel_mult[l] = (int)m->valuedouble;
        c.attention[l] = cJSON_IsTrue(a);
    }
    if (ddpm_unet_config_validate(&c, err) != DDPM_OK) goto done;
    *out = c;
    rc = DDPM_OK;
done:
    cJSON_Delete(o);
    return rc;
}

/* ---- MLP config ------------------------------------------------------------------ */

char *ddpm_mlp_config_to_json(const ddpm_mlp_config *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "data_dim", c->data_dim);
    cJSON_AddNumberToObject(o, "hidden", c->hidden);
    cJSON_AddNumberToObject(o, "blocks", c->blocks);
    cJSON_AddNumberToObject(o, "time_embed_dim", c->time_embed_dim);
    cJSON_AddBoolToObject(o, "norm", c->norm);
    cJSON_AddNumberToObject(o, "fourier", c->fourier);
    return print_and_free(o);
}

int ddpm_mlp_config_from_json(const char *json, ddpm_mlp_config *out, ddpm_error *err)
{
    const char *what = "MLP config";
    cJSON *o;
    if (parse_object(json, what, &o, err) != DDPM_OK) return DDPM_ERR;
    ddpm_mlp_config c;
    memset(&c, 0, sizeof c);
    int64_t v = 0;
    int rc = DDPM_ERR;
    if (get_int(o, what, "data_dim", 1, DDPM_MLP_MAX_DIM, &v, err)) goto done;
    c.data_dim = (int)v;
    if (get_int(o, what, "hidden", 2, 4096, &v, err)) goto done;
    c.hidden = (int)v;
    if (get_int(o, what, "blocks", 1, 32, &v, err)) goto done;
    c.blocks = (int)v;
    if (get_int(o, what, "time_embed_dim", 2, 4096, &v, err)) goto done;
    c.time_embed_dim = (int)v;
    if (get_bool(o, what, "norm", &c.norm, err)) goto done;
    if (get_int(o, what, "fourier", 0, 16, &v, err)) goto done;
    c.fourier = (int)v;
    if (ddpm_mlp_config_validate(&c, err) != DDPM_OK) goto done;
    *out = c;
    rc = DDPM_OK;
done:
    cJSON_Delete(o);
    return rc;
}

char *ddpm_net_config_to_json(const ddpm_net_config *c)
{
    return c->arch == DDPM_ARCH_MLP ? ddpm_mlp_config_to_json(&c->mlp) : ddpm_unet_config_to_json(&c->unet);
}

int ddpm_net_config_from_json(ddpm_arch arch, const char *json, ddpm_net_config *out, ddpm_error *err)
{
    ddpm_net_config c;
    memset(&c, 0, sizeof c);
    c.arch = arch;
    int rc = arch == DDPM_ARCH_MLP ? ddpm_mlp_config_from_json(json, &c.mlp, err)
                                   : ddpm_unet_config_from_json(json, &c.unet, err);
    if (rc == DDPM_OK) *out = c;
    return rc;
}

/* ---- scheduler config --------------------------------------------------------- */

char *ddpm_scheduler_config_to_json(const ddpm_schedule_config *s, ddpm_prediction pred)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "schedule", ddpm_schedule_name(s->kind));
    cJSON_AddNumberToObject(o, "T", s->T);
    cJSON_AddNumberToObject(o, "beta_start", s->beta_start);
    cJSON_AddNumberToObject(o, "beta_end", s->beta_end);
    cJSON_AddStringToObject(o, "prediction", ddpm_prediction_name(pred));
    return print_and_free(o);
}

int ddpm_scheduler_config_from_json(const char *json, ddpm_schedule_config *out,
                                    ddpm_prediction *pred, ddpm_error *err)
{
    const char *what = "scheduler config";
    cJSON *o;
    if (parse_object(json, what, &o, err) != DDPM_OK) return DDPM_ERR;
    ddpm_schedule_config s = ddpm_schedule_config_default();
    ddpm_prediction p = DDPM_PRED_EPS;
    int64_t T = 0;
    int rc = DDPM_ERR;
    const char *name = get_str(o, what, "schedule", err);
    if (!name || ddpm_schedule_parse(name, &s.kind, err) != DDPM_OK) goto done;
    if (get_int(o, what, "T", DDPM_T_MIN, DDPM_T_MAX, &T, err)) goto done;
    s.T = (int)T;
    if (get_num(o, what, "beta_start", 0.0, 1.0, &s.beta_start, err)) goto done;
    if (get_num(o, what, "beta_end", 0.0, 1.0, &s.beta_end, err)) goto done;
    name = get_str(o, what, "prediction", err);
    if (!name || ddpm_prediction_parse(name, &p, err) != DDPM_OK) goto done;
    if (ddpm_schedule_config_validate(&s, err) != DDPM_OK) goto done;
    *out = s;
    *pred = p;
    rc = DDPM_OK;
done:
    cJSON_Delete(o);
    return rc;
}

/* ---- training hyper-parameters ------------------------------------------------ */

char *ddpm_train_config_to_json(const ddpm_run_config *rc)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "preset", rc->preset);
    cJSON_AddNumberToObject(o, "batch", rc->batch);
    cJSON_AddNumberToObject(o, "total_steps", (double)rc->total_steps);
    cJSON_AddNumberToObject(o, "lr", rc->adam.lr);
    cJSON_AddNumberToObject(o, "beta1", rc->adam.beta1);
    cJSON_AddNumberToObject(o, "beta2", rc->adam.beta2);
    cJSON_AddNumberToObject(o, "eps", rc->adam.eps);
    cJSON_AddNumberToObject(o, "weight_decay", rc->adam.weight_decay);
    cJSON_AddNumberToObject(o, "warmup_steps", rc->adam.warmup_steps);
    cJSON_AddNumberToObject(o, "decay_steps", (double)rc->adam.decay_steps);
    cJSON_AddNumberToObject(o, "final_lr", rc->adam.final_lr);
    cJSON_AddNumberToObject(o, "grad_clip", rc->adam.grad_clip);
    cJSON_AddNumberToObject(o, "ema_decay", rc->ema_decay);
    if (rc->min_snr_gamma > 0) cJSON_AddNumberToObject(o, "min_snr_gamma", rc->min_snr_gamma);
    if (rc->ema_warmup != DDPM_EMA_WARMUP_DEFAULT) cJSON_AddNumberToObject(o, "ema_warmup", rc->ema_warmup);
    if (rc->t_logit_std > 0) {
        cJSON_AddNumberToObject(o, "t_logit_mean", rc->t_logit_mean);
        cJSON_AddNumberToObject(o, "t_logit_std", rc->t_logit_std);
    }
    /* a string: JSON numbers are doubles and would round a 64-bit seed */
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)rc->seed);
    cJSON_AddStringToObject(o, "seed", seed);
    return print_and_free(o);
}

int ddpm_train_config_from_json(const char *json, ddpm_run_config *rc, ddpm_error *err)
{
    const char *what = "training config";
    cJSON *o;
    if (parse_object(json, what, &o, err) != DDPM_OK) return DDPM_ERR;
    ddpm_run_config r = *rc;
    int64_t v = 0;
    int result = DDPM_ERR;
    const char *preset = get_str(o, what, "preset", err);
    if (!preset) goto done;
    snprintf(r.preset, sizeof r.preset, "%s", preset);
    /* a scale-out run (python/train_ddp.py) may use a larger global batch than C trains with:
     * it loads for sampling; ddpm_run_config_validate bounds what C trains */
    if (get_int(o, what, "batch", 1, 1 << 20, &v, err)) goto done;
    r.batch = (int)v;
    if (get_int(o, what, "total_steps", 1, 1e8, &v, err)) goto done;
    r.total_steps = v;
    if (get_num(o, what, "lr", 0.0, 1.0, &r.adam.lr, err)) goto done;
    if (get_num(o, what, "beta1", 0.0, 1.0, &r.adam.beta1, err)) goto done;
    if (get_num(o, what, "beta2", 0.0, 1.0, &r.adam.beta2, err)) goto done;
    if (get_num(o, what, "eps", 0.0, 1.0, &r.adam.eps, err)) goto done;
    if (get_num(o, what, "weight_decay", 0.0, 1.0, &r.adam.weight_decay, err)) goto done;
    if (get_int(o, what, "warmup_steps", 0, 1e8, &v, err)) goto done;
    r.adam.warmup_steps = (int)v;
    /* the decay came later: files without it have none */
    r.adam.decay_steps = 0;
    if (cJSON_GetObjectItemCaseSensitive(o, "decay_steps")) {
        if (get_int(o, what, "decay_steps", 0, 1e8, &v, err)) goto done;
        r.adam.decay_steps = v;
        if (get_num(o, what, "final_lr", 0.0, 1.0, &r.adam.final_lr, err)) goto done;
    }
    if (get_num(o, what, "grad_clip", 0.0, 1e9, &r.adam.grad_clip, err)) goto done;
    if (get_num(o, what, "ema_decay", 0.0, 1.0, &r.ema_decay, err)) goto done;
    /* so did the loss weighting: files without it have none */
    r.min_snr_gamma = 0.0;
    if (cJSON_GetObjectItemCaseSensitive(o, "min_snr_gamma") &&
        get_num(o, what, "min_snr_gamma", 0.1, 100.0, &r.min_snr_gamma, err))
        goto done;
    /* and the EMA's warm-up: files without it have diffusers' */
    r.ema_warmup = DDPM_EMA_WARMUP_DEFAULT;
    if (cJSON_GetObjectItemCaseSensitive(o, "ema_warmup") &&
        get_num(o, what, "ema_warmup", 1.0, 1000.0, &r.ema_warmup, err))
        goto done;
    /* and where t is drawn: files without it drew t uniformly */
    r.t_logit_mean = r.t_logit_std = 0.0;
    if (cJSON_GetObjectItemCaseSensitive(o, "t_logit_std") &&
        (get_num(o, what, "t_logit_std", 0.1, 4.0, &r.t_logit_std, err) ||
         get_num(o, what, "t_logit_mean", -4.0, 4.0, &r.t_logit_mean, err)))
        goto done;
    const char *seed = get_str(o, what, "seed", err);
    if (!seed) goto done;
    char *end;
    unsigned long long s = strtoull(seed, &end, 10);
    if (end == seed || *end != '\0' || seed[0] == '-') {
        ddpm_fail(err, "%s: field 'seed' = '%.32s' is not a non-negative integer", what, seed);
        goto done;
    }
    r.seed = (uint64_t)s;
    if (ddpm_adam_config_validate(&r.adam, err) != DDPM_OK) goto done;
    *rc = r;
    result = DDPM_OK;
done:
    cJSON_Delete(o);
    return result;
}
