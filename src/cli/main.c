/* main.c: the `ddpm` executable; every subcommand lives in src/cli. */
#include <signal.h>

#include "commands.h"

int main(int argc, char **argv)
{
    /* A full file-size quota (ulimit -f) must be a write error that the
     * atomic writers report, not a signal that kills the process mid-save. */
    signal(SIGXFSZ, SIG_IGN);
    return ddpm_main(argc, argv);
}
