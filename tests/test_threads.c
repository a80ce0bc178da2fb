/* test_threads.c: the pool runs every task exactly once, on a thread index
 * in range, returns only when all are done, and works with no workers, no
 * tasks and many batches in a row; the thread-count setting. */
#include <stdatomic.h>
#include <string.h>

#include "check.h"
#include "ddpm/threads.h"

typedef struct {
    atomic_int runs[1000];
    atomic_int bad_thread, work;
    int threads;
} count_ctx;

static void count_task(void *p, int task, int thread)
{
    count_ctx *c = p;
    atomic_fetch_add(&c->runs[task], 1);
    if (thread < 0 || thread >= c->threads) atomic_fetch_add(&c->bad_thread, 1);
    /* a little work so that the workers really interleave */
    double x = 0;
    for (int i = 0; i < 200 * (task % 7); i++) x += i;
    atomic_fetch_add(&c->work, (int)(x > 0));
}

static void check_pool(int threads, int n_tasks, int batches)
{
    ddpm_pool *pool = threads > 0 ? ddpm_pool_create(threads) : NULL;
    CHECK(threads <= 0 || pool, "pool of %d threads", threads);
    CHECK(ddpm_pool_threads(pool) == (threads > 0 ? threads : 1), "thread count");
    static count_ctx c;
    for (int b = 0; b < batches; b++) {
        memset(&c, 0, sizeof c);
        c.threads = ddpm_pool_threads(pool);
        ddpm_pool_run(pool, n_tasks, count_task, &c);
        for (int i = 0; i < n_tasks; i++)
            CHECK(atomic_load(&c.runs[i]) == 1, "%d threads, batch %d: task %d ran %d times", threads, b,
                  i, atomic_load(&c.runs[i]));
        CHECK(atomic_load(&c.bad_thread) == 0, "a thread index out of range");
    }
    ddpm_pool_free(pool);
}

int main(void)
{
    check_pool(0, 17, 2);     /* NULL pool: everything on the caller */
    check_pool(1, 17, 2);
    check_pool(2, 0, 3);
    check_pool(2, 1, 3);
    check_pool(2, 1000, 50);
    check_pool(3, 999, 20);
    check_pool(8, 5, 20);     /* more threads than tasks */
    CHECK(ddpm_get_threads() == 1, "the default is one thread, got %d", ddpm_get_threads());
    ddpm_set_threads(3);
    CHECK(ddpm_get_threads() == 3, "set 3, got %d", ddpm_get_threads());
    ddpm_set_threads(0);
    CHECK(ddpm_get_threads() >= 1, "all cores: %d", ddpm_get_threads());
    printf("pool: every task once, at 1 to 8 threads, over many batches\n");
    TEST_PASS("test_threads");
}
