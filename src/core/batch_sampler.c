/* batch_sampler.c: which images training step s sees (see ddpm/dataset.h).
 *
 * Epoch-permutation sampling rather than i.i.d. draws: every image is
 * visited once per epoch, and the order is a pure function of (n, seed,
 * epoch), so a run resumed at step s continues exactly where it stopped. */
#include "ddpm/dataset.h"

#include <stdlib.h>

#include "ddpm/rng.h"

void ddpm_batch_sampler_init(ddpm_batch_sampler *bs, size_t n, uint64_t seed)
{
    DDPM_ASSERT(bs && n > 0 && n <= UINT32_MAX);
    bs->n = n;
    bs->seed = seed;
    bs->order = ddpm_xmalloc(n * sizeof *bs->order);
    bs->epoch = 0;
    bs->has_epoch = false;
}

void ddpm_batch_sampler_free(ddpm_batch_sampler *bs)
{
    if (!bs) return;
    free(bs->order);
    bs->order = NULL;
    bs->has_epoch = false;
}

/* The permutation of epoch e: Fisher-Yates (Knuth, TAOCP vol. 2, Algorithm P)
 * driven by the stream (seed, DDPM_STREAM_DATA, e). */
static void load_epoch(ddpm_batch_sampler *bs, uint64_t epoch)
{
    if (bs->has_epoch && bs->epoch == epoch) return;
    ddpm_rng rng;
    ddpm_rng_init(&rng, bs->seed, ddpm_rng_stream(DDPM_STREAM_DATA, epoch, 0));
    for (size_t i = 0; i < bs->n; i++) bs->order[i] = (uint32_t)i;
    for (size_t i = bs->n - 1; i > 0; i--) {
        size_t j = ddpm_rng_below(&rng, (uint32_t)(i + 1));
        uint32_t t = bs->order[i];
        bs->order[i] = bs->order[j];
        bs->order[j] = t;
    }
    bs->epoch = epoch;
    bs->has_epoch = true;
}

void ddpm_batch_sampler_draw(ddpm_batch_sampler *bs, uint64_t step, size_t batch,
                             uint32_t *indices)
{
    DDPM_ASSERT(bs && bs->order && indices);
    uint64_t position;  /* of the step's first image in the endless sequence */
    DDPM_ASSERT(!__builtin_mul_overflow(step, (uint64_t)batch, &position));
    for (size_t k = 0; k < batch; k++) {
        uint64_t p = position + k;
        load_epoch(bs, p / bs->n);
        indices[k] = bs->order[p % bs->n];
    }
}
