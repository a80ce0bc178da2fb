/* dispatch.c: the table of subcommands and the top-level usage. */
#include "commands.h"
#include "ddpm/layers.h"

#include <stdio.h>
#include <string.h>

#include "ddpm/common.h"

const ddpm_command ddpm_commands[] = {
    {"viz", ddpm_cmd_viz, "open the visualizer (forward/reverse process, sliders, live training)"},
    {"train", ddpm_cmd_train, "train a UNet on the bundled digits or an IDX dataset"},
    {"sample", ddpm_cmd_sample, "sample images from a checkpoint (PNG grid, IDX, trajectory GIF)"},
    {"sweep", ddpm_cmd_sweep, "compare checkpoints over eta x steps on identical noise"},
    {"eval", ddpm_cmd_eval, "score samples with the bundled digit classifier"},
    {"schedule", ddpm_cmd_schedule, "print noise-schedule tables and sampler timestep lists"},
    {"bench", ddpm_cmd_bench, "measure UNet speed against this machine's sgemm peak"},
    {NULL, NULL, NULL},
};

static void usage(FILE *f)
{
    fprintf(f, "ddpm-lab %s: a diffusion-model lab\n\nusage: ddpm <command> [options]\n\ncommands:\n",
            DDPM_VERSION);
    for (const ddpm_command *c = ddpm_commands; c->name; c++)
        fprintf(f, "  %-10s %s\n", c->name, c->summary);
    fprintf(f, "\n`ddpm <command> --help` lists a command's options.\n");
}

int ddpm_main(int argc, char **argv)
{
    if (argc < 2 || !argv[1]) {
        usage(stderr);
        return DDPM_EXIT_BAD_INPUT;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(name, "--version") == 0) {
        printf("ddpm-lab %s\n", DDPM_VERSION);
        return 0;
    }
    for (const ddpm_command *c = ddpm_commands; c->name; c++) {
        if (strcmp(c->name, name) != 0) continue;
        /* under a memory limit: fail now, with a message, rather than let the
         * matrix library spin on its first allocation later (layers.h) */
        ddpm_error err = {0};
        if (ddpm_blas_reserve(&err) != DDPM_OK) {
            fprintf(stderr, "ddpm %s: %s\n", name, err.msg);
            return DDPM_EXIT_BAD_INPUT;
        }
#ifdef DDPM_HAVE_UI
        /* slide-size labels in every exported picture (the bitmap font without the font file) */
        viz_export_text_install(NULL);
        const int rc = c->run(argc - 1, argv + 1);
        viz_export_text_uninstall();
        return rc;
#else
        return c->run(argc - 1, argv + 1);
#endif
    }
    fprintf(stderr, "error: unknown command '%s'\n\n", name);
    usage(stderr);
    return DDPM_EXIT_BAD_INPUT;
}
