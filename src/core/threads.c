/* threads.c: the process-wide thread count and a minimal pthread pool.
 *
 * Workers wait for the caller to publish a new batch (a generation number),
 * then claim task indices with an atomic counter until none are left; the
 * last one to finish wakes the caller.  Waiting threads poll for a few tens
 * of microseconds before sleeping on a condition variable, which keeps the
 * per-layer batches of a single image split over threads cheap while an
 * idle pool still costs nothing. */
#include "ddpm/threads.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include <stdio.h>
#include "ddpm/common.h"
#include "ddpm/layers.h"

static atomic_int g_threads = 1;

/* Each thread that calls into OpenBLAS gets its own work buffer, and a
 * failed allocation of one is retried forever (see ddpm_blas_reserve):
 * under an address-space limit (ulimit -v), as many threads as leave room
 * for their buffers. */
static int threads_that_fit(int n)
{
    while (n > 1 && !ddpm_blas_buffers_fit(n)) n--;
    return n;
}

void ddpm_set_threads(int n)
{
    if (n <= 0) {
        /* "all cores", unless DDPM_THREADS says how many (like OMP_NUM_THREADS:
         * e.g. the sanitizer stages of ./lab test, where memory errors do not
         * need a second thread and every thread costs) */
        const char *env = getenv("DDPM_THREADS");
        long cores = env && atoi(env) > 0 ? atol(env) : sysconf(_SC_NPROCESSORS_ONLN);
        n = cores > 0 ? (int)cores : 1;
    }
    const int fit = threads_that_fit(n);
    if (fit < n)
        fprintf(stderr, "ddpm: note: the memory limit (ulimit -v) leaves room for %d thread%s' work buffers, not %d; "
                        "using %d\n", fit, fit == 1 ? "" : "s", n, fit);
    atomic_store(&g_threads, fit);
    ddpm_blas_set_threads(1);
}

int ddpm_get_threads(void) { return atomic_load(&g_threads); }

/* How long an idle thread polls before it sleeps: a few hundred us, the gap
 * between the convolutions of one image split over threads, so that a worker
 * stays awake through a pass instead of paying a futex wake-up per layer. */
enum { SPIN = 20000 };

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

struct ddpm_pool {
    int n_threads;
    pthread_t *workers;          /* (n_threads - 1) */
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    atomic_uint_fast64_t generation; /* bumped once per batch (release), under lock */
    atomic_int busy;             /* workers still in the current batch */
    bool quit;                   /* under lock */
    atomic_bool quitting;        /* the same, for spinning readers */
    /* the current batch, written before the generation bump */
    ddpm_pool_fn fn;
    void *ctx;
    int n_tasks;
    int use;                     /* threads taking part in the current batch */
    atomic_int next;
    atomic_int limit;            /* ddpm_pool_limit: threads a batch may use */
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
    for (;;) {
        /* poll a while, then sleep until the generation moves */
        uint64_t gen = atomic_load_explicit(&p->generation, memory_order_acquire);
        for (int i = 0; i < SPIN && gen == seen && !atomic_load(&p->quitting); i++) {
            cpu_relax();
            gen = atomic_load_explicit(&p->generation, memory_order_acquire);
        }
        if (gen == seen) {
            pthread_mutex_lock(&p->lock);
            while (atomic_load(&p->generation) == seen && !p->quit) pthread_cond_wait(&p->wake, &p->lock);
            bool quit = p->quit;
            gen = atomic_load(&p->generation);
            pthread_mutex_unlock(&p->lock);
            if (quit) break;
        }
        if (atomic_load(&p->quitting)) break;
        seen = gen;
        if (thread < p->use) drain(p, p->fn, p->ctx, p->n_tasks, thread);
        if (atomic_fetch_sub(&p->busy, 1) == 1) {
            pthread_mutex_lock(&p->lock);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->lock);
        }
    }
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
    atomic_init(&p->generation, 0);
    atomic_init(&p->busy, 0);
    atomic_init(&p->quitting, false);
    atomic_init(&p->next, 0);
    atomic_init(&p->limit, n_threads);
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
    atomic_store(&p->quitting, true);
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

void ddpm_pool_limit(ddpm_pool *p, int n)
{
    if (!p) return;
    atomic_store(&p->limit, n <= 0 || n > p->n_threads ? p->n_threads : n);
}

void ddpm_pool_run(ddpm_pool *p, int n_tasks, ddpm_pool_fn fn, void *ctx)
{
    DDPM_ASSERT(fn && n_tasks >= 0);
    const int use = p ? atomic_load(&p->limit) : 1;
    if (!p || use <= 1 || n_tasks <= 1) {
        for (int task = 0; task < n_tasks; task++) fn(ctx, task, 0);
        return;
    }
    pthread_mutex_lock(&p->lock);
    p->fn = fn;
    p->ctx = ctx;
    p->n_tasks = n_tasks;
    p->use = use; /* workers past it only check in: idle threads of the machine's to give away */
    atomic_store(&p->next, 0);
    atomic_store(&p->busy, p->n_threads - 1);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    drain(p, fn, ctx, n_tasks, 0);
    /* wait for the workers: poll a while, then sleep */
    for (int i = 0; i < SPIN && atomic_load(&p->busy) > 0; i++) cpu_relax();
    if (atomic_load(&p->busy) > 0) {
        pthread_mutex_lock(&p->lock);
        while (atomic_load(&p->busy) > 0) pthread_cond_wait(&p->done, &p->lock);
        pthread_mutex_unlock(&p->lock);
    }
}
