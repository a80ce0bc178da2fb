/* ddpm/history.h: the history of a training run, to watch a model learn.
 *
 *   if (ddpm_history_is_snapshot_step(step)) ... keep the EMA weights ...
 *   ddpm_history_save_snapshot("assets/history", &data, &err);  // DIR/step-000400.safetensors
 *
 *   ddpm_history h;
 *   ddpm_history_load(&h, "assets/history", &err);               // every snapshot, by step
 *   ... h.snaps[i].step, h.snaps[i].seconds, ddpm_checkpoint_weights(&h.snaps[i]) ...
 *   ddpm_history_free(&h);
 *
 * Snapshots are taken at doubling steps, 50, 100, 200, 400, ..., so a run of
 * any length keeps a handful, early ones where the model changes most.  Each
 * is an ordinary checkpoint (ddpm/checkpoint.h) of the EMA weights in F16,
 * with the run's wall time at that step ("seconds"): `ddpm sample` and
 * `ddpm eval` take any of them, and a folder of them is a history.
 *
 * The learning filmstrip: one digit, noised to a few fixed t with locked
 * noise, and what a network predicts for x0 from each; over the snapshots it
 * shows the model learning to denoise, easy (small t) before hard.
 */
#ifndef DDPM_HISTORY_H
#define DDPM_HISTORY_H

#include "ddpm/checkpoint.h"
#include "ddpm/scheduler.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
    DDPM_HISTORY_FIRST = 50, /* the first snapshot step; then each doubles */
    DDPM_HISTORY_MAX = 24,   /* snapshots a history holds (50 * 2^23 steps) */
    DDPM_FILM_N = 5,         /* the filmstrip's timesteps */
};

/* The filmstrip's timesteps for T steps: 0.1, 0.3, 0.5, 0.7 and 0.9 of T
 * (100, 300, 500, 700, 900 at T = 1000). */
void ddpm_film_timesteps(int T, int ts[DDPM_FILM_N]);

/* True at first, 2 first, 4 first, ...: 50, 100, 200, 400, ... for
 * DDPM_HISTORY_FIRST (tests take snapshots sooner). */
bool ddpm_history_is_snapshot_step(int64_t step, int first);

/* DIR/step-000400.safetensors */
void ddpm_history_path(char *buf, size_t cap, const char *dir, int64_t step);

/* Writes one snapshot (d->step, d->seconds, the EMA weights in F16) into dir,
 * which must exist; atomic, like every checkpoint. */
int ddpm_history_save_snapshot(const char *dir, const ddpm_checkpoint_data *d, ddpm_error *err);

typedef struct ddpm_history {
    int n;
    ddpm_checkpoint snaps[DDPM_HISTORY_MAX]; /* by step */
} ddpm_history;

/* Loads every step-*.safetensors in dir.  They must hold one network and
 * one diffusion setup, at distinct steps; a folder without any is an error. */
int ddpm_history_load(ddpm_history *h, const char *dir, ddpm_error *err);
void ddpm_history_free(ddpm_history *h);

/* The filmstrip's inputs: x0 (per floats) noised to each of ts with the
 * locked noise of `seed` (one draw, shared by every t): x_t (DDPM_FILM_N, per). */
void ddpm_film_inputs(const ddpm_schedule *s, const float *x0, size_t per, const int ts[DDPM_FILM_N],
                      uint64_t seed, float *x_t);

/* x0-hat of a network for the filmstrip's inputs: (DDPM_FILM_N, per) floats.
 * ws: an inference workspace of the network for DDPM_FILM_N samples. */
int ddpm_film_predict(const ddpm_net *net, const float *weights, ddpm_net_workspace *ws, const ddpm_schedule *s,
                      ddpm_prediction pred, const float *x_t, const int ts[DDPM_FILM_N], float *x0_hat,
                      ddpm_error *err);

#ifdef __cplusplus
}
#endif
#endif
