/* threads.c: the process-wide thread count and a minimal pthread pool.
 *
 * Workers sleep on a condition variable until the caller publishes a new
 * batch (a generation number), then claim task indices with an atomic
 * counter until none are left; the last one to finish wakes the caller.  One
 * batch per forward or backward pass, so a few microseconds of wake-up cost
 * nothing next to the milliseconds of work in each batch. */
#include "ddpm/threads.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "ddpm/common.h"
#include "ddpm/layers.h"

static atomic_int g_threads = 1;

void ddpm_set_threads(int n)
{
    if (n <= 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        n = cores > 0 ? (int)cores : 1;
    }
    atomic_store(&g_threads, n);
    ddpm_blas_set_threads(1);
}

int ddpm_get_threads(void) { return atomic_load(&g_threads); }

struct ddpm_pool {
    int n_threads;
    pthread_t *workers;          /* (n_threads - 1) */
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    uint64_t generation;         /* bumped once per batch, under lock */
    int busy;                    /* workers still in the current batch */
    bool quit;
    /* the current batch, written under lock before the generation bump */
    ddpm_pool_fn fn;
    void *ctx;
    int n_tasks;
    atomic_int next;
};

typedef struct {
    ddpm_pool *pool;
    int thread;
} worker_arg;

static void drain(ddpm_pool *p, ddpm_pool_fn fn, void *ctx, int n_tasks, int thread)
{
    for (;;) {
        int task = atomic_fetch_add(&p->next, 1);
        if (task >= n_tasks) return;
        fn(ctx, task, thread);
    }
}

static void *worker_main(void *arg_)
{
    worker_arg *arg = arg_;
    ddpm_pool *p = arg->pool;
    const int thread = arg->thread;
    free(arg);
    uint64_t seen = 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (p->generation == seen && !p->quit) pthread_cond_wait(&p->wake, &p->lock);
        if (p->quit) break;
        seen = p->generation;
        ddpm_pool_fn fn = p->fn;
        void *ctx = p->ctx;
        int n_tasks = p->n_tasks;
        pthread_mutex_unlock(&p->lock);
        drain(p, fn, ctx, n_tasks, thread);
        pthread_mutex_lock(&p->lock);
        if (--p->busy == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

ddpm_pool *ddpm_pool_create(int n_threads)
{
    DDPM_ASSERT(n_threads >= 1);
    ddpm_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n_threads = 1;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    atomic_init(&p->next, 0);
    if (n_threads > 1) {
        p->workers = calloc((size_t)n_threads - 1, sizeof *p->workers);
        if (!p->workers) {
            ddpm_pool_free(p);
            return NULL;
        }
    }
    for (int i = 1; i < n_threads; i++) {
        worker_arg *arg = malloc(sizeof *arg);
        if (!arg) break;
        arg->pool = p;
        arg->thread = i;
        if (pthread_create(&p->workers[i - 1], NULL, worker_main, arg) != 0) {
            free(arg);
            break;
        }
        p->n_threads++;
    }
    if (p->n_threads != n_threads) {
        ddpm_pool_free(p);
        return NULL;
    }
    return p;
}

void ddpm_pool_free(ddpm_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    p->quit = true;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->n_threads - 1; i++) pthread_join(p->workers[i], NULL);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p->workers);
    free(p);
}

int ddpm_pool_threads(const ddpm_pool *p) { return p ? p->n_threads : 1; }

void ddpm_pool_run(ddpm_pool *p, int n_tasks, ddpm_pool_fn fn, void *ctx)
{
    DDPM_ASSERT(fn && n_tasks >= 0);
    if (!p || p->n_threads == 1 || n_tasks <= 1) {
        for (int task = 0; task < n_tasks; task++) fn(ctx, task, 0);
        return;
    }
    pthread_mutex_lock(&p->lock);
    p->fn = fn;
    p->ctx = ctx;
    p->n_tasks = n_tasks;
    atomic_store(&p->next, 0);
    p->busy = p->n_threads - 1;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    drain(p, fn, ctx, n_tasks, 0);
    pthread_mutex_lock(&p->lock);
    while (p->busy > 0) pthread_cond_wait(&p->done, &p->lock);
    pthread_mutex_unlock(&p->lock);
}
