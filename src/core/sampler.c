/* sampler.c: the reverse-process loop over ddpm_step, with locked noise. */
#include <stdlib.h>
#include <string.h>

#include "ddpm/rng.h"
#include "ddpm/sampler.h"

void ddpm_sample_initial_noise(uint64_t seed, int64_t first_index, int B, size_t per_image,
                               float *x_T)
{
    for (int b = 0; b < B; b++) {
        ddpm_rng r;
        ddpm_rng_init(&r, seed, ddpm_rng_stream(DDPM_STREAM_XT, (uint64_t)(first_index + b), 0));
        ddpm_rng_normal_fill(&r, x_T + (size_t)b * per_image, per_image);
    }
}

void ddpm_sample_step_noise(uint64_t seed, int64_t first_index, int k, int B, size_t per_image,
                            float *z)
{
    for (int b = 0; b < B; b++) {
        ddpm_rng r;
        ddpm_rng_init(&r, seed,
                      ddpm_rng_stream(DDPM_STREAM_STEP, (uint64_t)(first_index + b), (uint64_t)k));
        ddpm_rng_normal_fill(&r, z + (size_t)b * per_image, per_image);
    }
}

int ddpm_sample(const ddpm_sample_request *req, ddpm_denoise_fn denoise, void *denoise_ctx, int B,
                int C, int H, int W, float *x, const float *x_T, ddpm_step_callback callback,
                void *callback_ctx, ddpm_error *err)
{
    DDPM_ASSERT(req && req->schedule && denoise && x && B > 0 && C > 0 && H > 0 && W > 0);
    const ddpm_schedule *s = req->schedule;
    const int T = s->T;
    int *ts = malloc(sizeof(int) * ((size_t)T + 1));
    int *tb = malloc(sizeof(int) * (size_t)B);
    if (!ts || !tb) {
        free(ts), free(tb);
        return ddpm_fail(err, "out of memory");
    }
    int S = req->start_t > 0 ? ddpm_timesteps_from(T, &req->cfg, req->start_t, ts, err)
                              : ddpm_timesteps(T, &req->cfg, ts, err);
    if (S < 0) {
        free(ts), free(tb);
        return DDPM_ERR;
    }
    const size_t per_image = (size_t)C * H * W, n = per_image * (size_t)B;
    /* model output, noise, the step input (kept for the callback) and five parts */
    const int n_bufs = callback ? 8 : 2;
    float *mem = malloc(sizeof(float) * n * (size_t)n_bufs);
    if (!mem) {
        free(ts), free(tb);
        return ddpm_fail(err, "out of memory for %d samples", B);
    }
    float *out = mem, *z = mem + n;
    float *x_in = callback ? mem + 2 * n : NULL;
    ddpm_step_parts parts = {0};
    if (callback) {
        parts.x0_hat = mem + 3 * n;
        parts.eps_hat = mem + 4 * n;
        parts.x0_term = mem + 5 * n;
        parts.dir_term = mem + 6 * n;
        parts.noise_term = mem + 7 * n;
    }

    if (x_T)
        memmove(x, x_T, sizeof(float) * n);
    else
        ddpm_sample_initial_noise(req->seed, req->first_index, B, per_image, x);

    int rc = DDPM_OK;
    for (int k = 0; k < S && rc == DDPM_OK; k++) {
        const int t = ts[k], t_prev = k + 1 < S ? ts[k + 1] : -1;
        for (int b = 0; b < B; b++) tb[b] = t;
        if (denoise(denoise_ctx, x, tb, B, out, err) != DDPM_OK) {
            rc = DDPM_ERR;
            break;
        }
        ddpm_step_coefs coefs;
        ddpm_step_coefs_compute(s, &req->cfg, t, t_prev, &coefs);
        const float *zp = NULL;
        if (coefs.sigma > 0.0) {
            ddpm_sample_step_noise(req->seed, req->first_index, k, B, per_image, z);
            zp = z;
        }
        if (callback) memcpy(x_in, x, sizeof(float) * n);
        ddpm_step(s, &req->cfg, req->pred, t, t_prev, x, out, zp, x, callback ? &parts : NULL, n);
        if (callback) {
            ddpm_step_view v = {.k = k, .steps = S, .t = t, .t_prev = t_prev, .x_t = x_in,
                                .x_prev = x, .model_out = out, .parts = parts, .coefs = coefs,
                                .B = B, .C = C, .H = H, .W = W};
            if (!callback(callback_ctx, &v)) rc = ddpm_fail(err, "cancelled");
        }
    }
    free(mem);
    free(ts);
    free(tb);
    return rc;
}
