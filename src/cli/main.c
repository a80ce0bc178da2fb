/* main.c: the `ddpm` executable; every subcommand lives in src/cli. */
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "commands.h"

int main(int argc, char **argv)
{
    /* A full file-size quota (ulimit -f) must be a write error that the
     * atomic writers report, not a signal that kills the process mid-save. */
    signal(SIGXFSZ, SIG_IGN);
    /* Under a memory limit (ulimit -v), each of OpenBLAS's worker threads,
     * started when the library loads, allocates a work buffer and retries
     * forever when that fails; exit then waits for them.  ddpm-lab runs BLAS
     * on one thread anyway (ddpm_set_threads), so it starts OpenBLAS without
     * workers: once, by re-executing itself with OPENBLAS_NUM_THREADS=1 (the
     * library reads it before main).  ddpm_blas_reserve then checks the one
     * buffer left (dispatch.c). */
    struct rlimit rl;
    if (!getenv("OPENBLAS_NUM_THREADS") && getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        setenv("OPENBLAS_NUM_THREADS", "1", 1);
        execv("/proc/self/exe", argv); /* returns only on failure: go on as we are */
    }
    return ddpm_main(argc, argv);
}
