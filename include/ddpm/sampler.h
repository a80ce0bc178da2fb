/* ddpm/sampler.h: the reverse process from x_T to x_0, for any denoiser.
 *
 *   ddpm_sample_request req = {.schedule = &sched, .cfg = cfg, .pred = DDPM_PRED_EPS,
 *                              .seed = 7, .first_index = 0};
 *   float *x = malloc(sizeof(float) * B * C * H * W);
 *   if (ddpm_sample(&req, my_denoiser, my_ctx, B, C, H, W, x, NULL, NULL, &err) != 0) ...;
 *
 * Locked noise.  Sample i (counting from req.first_index) draws x_T from the
 * stream (DDPM_STREAM_XT, i, 0) and the noise of its k-th reverse step from
 * (DDPM_STREAM_STEP, i, k).  So changing eta, the number of steps, the
 * sampler or the batch size re-runs from the same x_T and the same noise
 * sequence, and the change on screen is the only difference.
 *
 * One implementation serves the CLI, the visualizer and the tests: each step
 * is ddpm_step() from ddpm/scheduler.h.
 */
#ifndef DDPM_SAMPLER_H
#define DDPM_SAMPLER_H

#include "ddpm/scheduler.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A denoiser: writes the model output for B images x (B, C, H, W) at
 * timesteps t (B) into out (B, C, H, W).  Returns DDPM_OK or DDPM_ERR. */
typedef int (*ddpm_denoise_fn)(void *ctx, const float *x, const int *t, int B, float *out,
                               ddpm_error *err);

/* What a step callback sees.  All arrays are (B, C, H, W) and owned by the
 * sampler; they are valid only during the call. */
typedef struct ddpm_step_view {
    int k, steps;            /* step index 0..steps-1 and the total */
    int t, t_prev;           /* timesteps of this step (t_prev = -1 at the end) */
    const float *x_t;        /* the input of the step */
    const float *x_prev;     /* its output */
    const float *model_out;
    ddpm_step_parts parts;   /* x0_hat, eps_hat, x0_term, dir_term, noise_term */
    ddpm_step_coefs coefs;
    int B, C, H, W;
} ddpm_step_view;

/* Return false to stop sampling early (the call then returns DDPM_ERR with
 * the message "cancelled"). */
typedef bool (*ddpm_step_callback)(void *ctx, const ddpm_step_view *view);

typedef struct ddpm_sample_request {
    const ddpm_schedule *schedule;
    ddpm_sampler_config cfg;
    ddpm_prediction pred;
    uint64_t seed;
    int64_t first_index;     /* index of the first sample, for the noise streams */
    int start_t;             /* > 0: a round trip (SDEdit): the run starts at this t, and
                                x_T passed to ddpm_sample is x_{start_t}; its steps are
                                ddpm_timesteps_from.  0: the whole run, from T */
} ddpm_sample_request;

/* Fills x_T for B samples from their locked streams. */
void ddpm_sample_initial_noise(uint64_t seed, int64_t first_index, int B, size_t per_image,
                               float *x_T);
/* Fills the noise z of reverse step k for B samples. */
void ddpm_sample_step_noise(uint64_t seed, int64_t first_index, int k, int B, size_t per_image,
                            float *z);

/* Runs the whole reverse process.  x receives x_0 (B, C, H, W).  If x_T is
 * not NULL it is used as the starting point instead of the locked noise.
 * The callback, if given, is called after every step. */
int ddpm_sample(const ddpm_sample_request *req, ddpm_denoise_fn denoise, void *denoise_ctx, int B,
                int C, int H, int W, float *x, const float *x_T, ddpm_step_callback callback,
                void *callback_ctx, ddpm_error *err);

#ifdef __cplusplus
}
#endif
#endif
