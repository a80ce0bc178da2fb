/* viz_stub.c: placeholder for the visualizer until its issue lands. */
#include <stdio.h>

#include "commands.h"

int ddpm_cmd_viz(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "ddpm viz: not yet available in this build\n");
    return 1;
}
