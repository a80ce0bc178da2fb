/* cli_util.c: helpers shared by the subcommands (see cli_util.h). */
#include "cli_util.h"

#include <errno.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ddpm_cli_bad_input(const char *cmd, const ddpm_error *err)
{
    fprintf(stderr, "ddpm %s: %s\n", cmd, err->msg);
    return DDPM_EXIT_BAD_INPUT;
}

void ddpm_cli_note_schedule_alias(const char *cmd, const char *name)
{
    const char *ours = ddpm_schedule_alias_of(name);
    if (ours)
        fprintf(stderr, "ddpm %s: note: schedule '%s' is this project's '%s'%s\n", cmd, name, ours,
                strcmp(name, "sqrt_linear") == 0
                    ? " (the linspace of beta; the seed notes' own 'linear' is this project's scaled-linear)"
                    : "");
}

const char *ddpm_cli_asset_dir(void)
{
    const char *env = getenv("DDPM_ASSETS");
    return env && *env ? env : DDPM_ASSET_DIR;
}

void ddpm_cli_model_path(const char *name, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/models/%s.safetensors", ddpm_cli_asset_dir(), name);
}

int ddpm_cli_model_load(ddpm_cli_model *m, const char *path, int max_batch, ddpm_error *err)
{
    memset(m, 0, sizeof *m);
    if (ddpm_checkpoint_load(&m->ck, path, DDPM_CKPT_WEIGHTS, err) != DDPM_OK) return DDPM_ERR;
    if (max_batch <= 0) max_batch = ddpm_cli_model_is_points(m) ? DDPM_CLI_POINTS_BATCH : 64;
    if (ddpm_schedule_init(&m->schedule, &m->ck.run.schedule, err) != DDPM_OK ||
        ddpm_net_workspace_create(&m->ws, m->ck.net, max_batch, false, err) != DDPM_OK) {
        ddpm_cli_model_free(m);
        return DDPM_ERR;
    }
    m->denoiser.net = m->ck.net;
    m->denoiser.weights = ddpm_checkpoint_weights(&m->ck);
    m->denoiser.ws = m->ws;
    return DDPM_OK;
}

int ddpm_cli_model_set_batch(ddpm_cli_model *m, int max_batch, ddpm_error *err)
{
    ddpm_net_workspace_free(m->ws);
    m->ws = m->denoiser.ws = NULL;
    if (ddpm_net_workspace_create(&m->ws, m->ck.net, max_batch, false, err) != DDPM_OK) return DDPM_ERR;
    m->denoiser.ws = m->ws;
    return DDPM_OK;
}

bool ddpm_cli_model_is_points(const ddpm_cli_model *m)
{
    int C, H, W;
    ddpm_net_config_shape(&m->ck.run.net, &C, &H, &W);
    return H == 1 && W == 1;
}

void ddpm_cli_model_free(ddpm_cli_model *m)
{
    if (!m) return;
    ddpm_net_workspace_free(m->ws);
    ddpm_schedule_free(&m->schedule);
    ddpm_checkpoint_free(&m->ck);
    memset(m, 0, sizeof *m);
}

int ddpm_cli_sample_grid_png(const ddpm_cli_sample_grid_args *a, const char *path, ddpm_error *err)
{
    int C, S, W;
    ddpm_net_config_shape(ddpm_net_get_config(a->net), &C, &S, &W);
    float *x = malloc(sizeof(float) * (size_t)a->n * C * S * W);
    if (!x) return ddpm_fail(err, "out of memory");
    ddpm_net_denoiser den = {a->net, a->weights, a->ws};
    ddpm_sample_request req = {.schedule = a->schedule, .cfg = a->sampler, .pred = a->pred, .seed = a->seed};
    int rc = ddpm_sample(&req, ddpm_net_denoise, &den, a->n, C, S, W, x, NULL, NULL, NULL, err);
    if (rc == DDPM_OK && S == 1 && W == 1) {
        rc = ddpm_cli_points_png(path, x, (size_t)a->n, C, a->ref, a->title, err);
    } else if (rc == DDPM_OK) {
        ddpm_grid_spec gs = ddpm_grid_spec_default(a->n);
        gs.scale = a->scale;
        ddpm_image img;
        ddpm_image_grid(&img, &gs, x, a->n, S, S);
        rc = ddpm_png_write(path, &img, err);
        ddpm_image_free(&img);
    }
    free(x);
    return rc;
}

/* Reference points drawn under the samples: enough to show the shape. */
enum { SCATTER_REF_MAX = 4000 };

int ddpm_cli_points_png(const char *path, const float *pts, size_t n, int D, const ddpm_dataset *ref,
                        const char *title, ddpm_error *err)
{
    ddpm_scatter_spec spec = ddpm_scatter_spec_default();
    const size_t n_ref = ref && ref->points ? (ref->n < SCATTER_REF_MAX ? ref->n : SCATTER_REF_MAX) : 0;
    const int ref_D = ref ? ref->channels : D;
    /* a point file's data may lie elsewhere: widen the view to hold it */
    for (size_t i = 0; i < n_ref; i++) {
        const float x = ref->points[i * (size_t)ref_D], y = ref->points[i * (size_t)ref_D + (ref_D > 1)];
        if (x < spec.x_min + 0.25f) spec.x_min = floorf(x) - 0.5f;
        if (x > spec.x_max - 0.25f) spec.x_max = ceilf(x) + 0.5f;
        if (y < spec.y_min + 0.25f) spec.y_min = floorf(y) - 0.5f;
        if (y > spec.y_max - 0.25f) spec.y_max = ceilf(y) + 0.5f;
    }
    const float half = fmaxf(spec.x_max - spec.x_min, spec.y_max - spec.y_min) / 2; /* square, as the plot */
    const float cx = (spec.x_min + spec.x_max) / 2, cy = (spec.y_min + spec.y_max) / 2;
    spec.x_min = cx - half, spec.x_max = cx + half, spec.y_min = cy - half, spec.y_max = cy + half;
    ddpm_image img;
    ddpm_image_scatter(&img, &spec, pts, n, D, n_ref ? ref->points : NULL, n_ref, title);
    const int rc = ddpm_png_write(path, &img, err);
    ddpm_image_free(&img);
    return rc;
}

void ddpm_cli_to_bytes(const float *x, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        double v = (x[i] + 1.0) * 127.5;
        v = isfinite(v) ? v : 0.0;
        out[i] = (uint8_t)lrint(v < 0 ? 0 : (v > 255 ? 255 : v));
    }
}

/* ---- lists of eta and steps ------------------------------------------------------------ */

typedef struct {
    char text[64];
} list_item;

static int split_list(const char *text, const char *what, list_item *items, int max, int *n, ddpm_error *err)
{
    *n = 0;
    const char *p = text;
    const bool eta = strstr(what, "eta") != NULL;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0)
            return ddpm_fail(err, "%s '%s' has an empty item; write values separated by commas, e.g. %s %s", what,
                             text, what, eta ? "0,0.5,1" : "10,50,1000");
        if (*n == max) return ddpm_fail(err, "%s lists more than %d values", what, max);
        if (len >= sizeof items[0].text) return ddpm_fail(err, "%s: '%.20s...' is not a number", what, p);
        memcpy(items[*n].text, p, len);
        items[*n].text[len] = '\0';
        (*n)++;
        if (!comma) return DDPM_OK;
        p = comma + 1;
    }
}

int ddpm_cli_parse_etas(const char *text, const char *what, double *out, int max, int *n, ddpm_error *err)
{
    list_item *items = ddpm_xcalloc((size_t)max, sizeof *items);
    int rc = split_list(text, what, items, max, n, err);
    for (int i = 0; i < *n && rc == DDPM_OK; i++) {
        char *end;
        errno = 0;
        out[i] = strtod(items[i].text, &end);
        if (*end != '\0' || errno == ERANGE || !isfinite(out[i]))
            rc = ddpm_fail(err, "%s: '%s' is not a number", what, items[i].text);
        else if (out[i] < 0.0 || out[i] > 1.0)
            rc = ddpm_fail(err, "%s: %s is outside [0, 1] (0 = deterministic DDIM, 1 = DDPM-like)", what,
                           items[i].text);
    }
    free(items);
    return rc;
}

int ddpm_cli_parse_steps(const char *text, const char *what, int *out, int max, int *n, ddpm_error *err)
{
    list_item *items = ddpm_xcalloc((size_t)max, sizeof *items);
    int rc = split_list(text, what, items, max, n, err);
    for (int i = 0; i < *n && rc == DDPM_OK; i++) {
        char *end;
        errno = 0;
        long v = strtol(items[i].text, &end, 10);
        if (*end != '\0' || errno == ERANGE)
            rc = ddpm_fail(err, "%s: '%s' is not an integer", what, items[i].text);
        else if (v < 1 || v > DDPM_T_MAX)
            rc = ddpm_fail(err, "%s: %ld is out of range; step counts are 1..T", what, v);
        else
            out[i] = (int)v;
    }
    free(items);
    return rc;
}

void ddpm_cli_sampler_desc(const ddpm_sampler_config *cfg, char *buf, size_t cap)
{
    if (cfg->sampler == DDPM_SAMPLER_DDPM)
        snprintf(buf, cap, "DDPM, %d steps, sigma^2 = %s (%s)", cfg->steps,
                 cfg->variance == DDPM_VARIANCE_LARGE ? "beta" : "beta~", ddpm_variance_name(cfg->variance));
    else
        snprintf(buf, cap, "DDIM, %d steps, eta %g", cfg->steps, cfg->eta);
}
