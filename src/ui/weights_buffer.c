/* weights_buffer.c: the trainer -> sampler weight handoff (see weights_buffer.h). */
#include "weights_buffer.h"

#include <stdlib.h>
#include <string.h>

int viz_weights_init(viz_weights *wb, ddpm_error *err)
{
    memset(wb, 0, sizeof *wb);
    wb->lock = SDL_CreateMutex();
    if (!wb->lock) return ddpm_fail(err, "cannot create a mutex: %s", SDL_GetError());
    return DDPM_OK;
}

void viz_weights_free(viz_weights *wb)
{
    if (!wb) return;
    if (wb->lock) SDL_DestroyMutex(wb->lock);
    free(wb->buf[0]);
    free(wb->buf[1]);
    memset(wb, 0, sizeof *wb);
}

int viz_weights_reset(viz_weights *wb, const ddpm_run_config *run, size_t n, const float *initial,
                      int64_t step, ddpm_error *err)
{
    float *a = malloc(sizeof(float) * n), *b = malloc(sizeof(float) * n);
    if (!a || !b) {
        free(a), free(b);
        return ddpm_fail(err, "out of memory for a copy of the weights (%zu floats)", n);
    }
    memcpy(a, initial, sizeof(float) * n);
    SDL_LockMutex(wb->lock);
    float *old0 = wb->buf[0], *old1 = wb->buf[1];
    wb->buf[0] = a;
    wb->buf[1] = b;
    wb->front = 0;
    wb->info.run = *run;
    wb->info.n = n;
    wb->info.step = step;
    wb->info.version++;
    wb->has_weights = true;
    SDL_UnlockMutex(wb->lock);
    free(old0), free(old1);
    return DDPM_OK;
}

void viz_weights_publish(viz_weights *wb, const float *weights, int64_t step)
{
    /* Only the producer changes front and the buffers, so it may read them
     * without the lock; the back buffer is read by nobody until the swap. */
    const int back = 1 - wb->front;
    memcpy(wb->buf[back], weights, sizeof(float) * wb->info.n);
    SDL_LockMutex(wb->lock);
    wb->front = back;
    wb->info.step = step;
    wb->info.version++;
    SDL_UnlockMutex(wb->lock);
}

float *viz_weights_take(viz_weights *wb, viz_weights_info *info)
{
    float *copy = NULL;
    SDL_LockMutex(wb->lock);
    if (wb->has_weights) {
        copy = malloc(sizeof(float) * wb->info.n);
        if (copy) {
            memcpy(copy, wb->buf[wb->front], sizeof(float) * wb->info.n);
            *info = wb->info;
        }
    }
    SDL_UnlockMutex(wb->lock);
    return copy;
}

uint64_t viz_weights_version(viz_weights *wb)
{
    SDL_LockMutex(wb->lock);
    uint64_t v = wb->info.version;
    SDL_UnlockMutex(wb->lock);
    return v;
}
