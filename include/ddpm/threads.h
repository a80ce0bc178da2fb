/* ddpm/threads.h: how many threads ddpm-lab computes on, and the small pool
 * that runs them.
 *
 *   ddpm_set_threads(2);                        // before creating workspaces
 *   ddpm_pool *pool = ddpm_pool_create(ddpm_get_threads());
 *   ddpm_pool_run(pool, n_tasks, fn, ctx);       // fn(ctx, task, thread) for every task
 *   ddpm_pool_free(pool);
 *
 * ddpm-lab parallelises itself, over images: a UNet workspace splits a batch
 * into chunks whose size depends on the batch alone and sums what chunks
 * share (parameter gradients) in chunk order, so every result is the same bit
 * for bit at any thread count.  BLAS is therefore kept to one thread: a
 * threaded BLAS would sum some products in a thread-dependent order (and
 * oversubscribe the cores our own threads already use).
 *
 * A pool runs one batch of tasks at a time and belongs to one caller thread at
 * a time; tasks are handed out in no fixed order, so a task's result must not
 * depend on which thread runs it.  `thread` (0 .. threads-1) only picks
 * per-thread scratch.  The calling thread works as thread 0.
 */
#ifndef DDPM_THREADS_H
#define DDPM_THREADS_H

#ifdef __cplusplus
extern "C" {
#endif

/* Threads that workspaces created from now on use; n <= 0 means all online
 * cores.  Also sets BLAS to one thread (see above).  Default: 1. */
/* n <= 0: the environment's DDPM_THREADS when set, else every online core. */
void ddpm_set_threads(int n);
int ddpm_get_threads(void);

typedef struct ddpm_pool ddpm_pool;
typedef void (*ddpm_pool_fn)(void *ctx, int task, int thread);

/* A pool of n_threads - 1 workers plus the caller; n_threads >= 1 (1 starts
 * no thread).  Returns NULL if a thread cannot be started. */
ddpm_pool *ddpm_pool_create(int n_threads);
void ddpm_pool_free(ddpm_pool *pool);
int ddpm_pool_threads(const ddpm_pool *pool);
/* From the next batch on, run tasks on at most n of the pool's threads
 * (n <= 0: all), e.g. to leave a core to another computation for a while.
 * Results do not change (see above).  Safe from any thread. */
void ddpm_pool_limit(ddpm_pool *pool, int n);

/* Runs fn(ctx, task, thread) for task = 0 .. n_tasks-1 and returns when all
 * have finished.  pool may be NULL (everything runs on the caller). */
void ddpm_pool_run(ddpm_pool *pool, int n_tasks, ddpm_pool_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif
#endif
