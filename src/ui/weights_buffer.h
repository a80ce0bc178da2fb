/* weights_buffer.h: the double buffer through which the trainer thread
 * hands its EMA weights to the sampler, at step boundaries.
 *
 *   producer (trainer thread)                consumer (sampler thread)
 *   viz_weights_reset(wb, &run, n);          viz_weights_info info;
 *   ... each step ...                        float *w = viz_weights_take(wb, &info);
 *   viz_weights_publish(wb, ema, step);      ... sample with w (info.run.net) ...
 *                                            free(w);
 *
 * The producer writes the back buffer without the lock (nobody else reads
 * it), then swaps front and back and bumps the version under the lock.  A
 * consumer copies the front buffer under the lock, so a half-written set of
 * weights is never seen.  Only the producer calls reset and publish.
 */
#ifndef VIZ_WEIGHTS_BUFFER_H
#define VIZ_WEIGHTS_BUFFER_H

#include <SDL_mutex.h>

#include "ddpm/config.h"

typedef struct viz_weights_info {
    ddpm_run_config run;   /* the network and diffusion settings of the weights */
    size_t n;              /* floats */
    int64_t step;          /* training steps behind them */
    uint64_t version;      /* bumped by every publish and reset */
} viz_weights_info;

typedef struct viz_weights {
    SDL_mutex *lock;
    float *buf[2];         /* (n) each; front is readable, the other is the producer's */
    int front;
    viz_weights_info info; /* of the front buffer */
    bool has_weights;
} viz_weights;

int viz_weights_init(viz_weights *wb, ddpm_error *err);
void viz_weights_free(viz_weights *wb);

/* Producer: a new network (n floats).  The front buffer receives `initial`
 * (n floats) at `step` and becomes visible at once. */
int viz_weights_reset(viz_weights *wb, const ddpm_run_config *run, size_t n, const float *initial,
                      int64_t step, ddpm_error *err);

/* Producer: publishes n floats (the n of the last reset) as of `step`. */
void viz_weights_publish(viz_weights *wb, const float *weights, int64_t step);

/* Consumer: a malloc'ed copy of the current weights (caller frees) and their
 * description, or NULL when nothing was published yet or memory ran out. */
float *viz_weights_take(viz_weights *wb, viz_weights_info *info);

/* The current version (0: nothing yet). */
uint64_t viz_weights_version(viz_weights *wb);

#endif
