/* viz_unavailable.c: `ddpm viz` in a build configured without the UI. */
#ifndef DDPM_HAVE_UI
#include <stdio.h>

#include "commands.h"

int ddpm_cmd_viz(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "ddpm viz: this build has no visualizer (configured with -DDDPM_BUILD_UI=OFF); "
                    "rebuild with ./lab viz\n");
    return 1;
}
#endif
