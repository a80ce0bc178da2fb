/* stubs.c: subcommands whose issue has not landed yet. */
#include <stdio.h>

#include "commands.h"

static int not_yet(const char *name)
{
    fprintf(stderr, "ddpm %s: not yet available in this build\n", name);
    return 1;
}

int ddpm_cmd_sweep(int argc, char **argv) { (void)argc; (void)argv; return not_yet("sweep"); }
int ddpm_cmd_eval(int argc, char **argv) { (void)argc; (void)argv; return not_yet("eval"); }
