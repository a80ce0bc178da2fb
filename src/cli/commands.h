/* commands.h: the subcommands of the `ddpm` executable.  Each takes the
 * argv that starts at its own name and returns the process exit code
 * (0 success, 1 runtime failure, 2 bad input). */
#ifndef DDPM_CLI_COMMANDS_H
#define DDPM_CLI_COMMANDS_H

typedef int (*ddpm_command_fn)(int argc, char **argv);

typedef struct ddpm_command {
    const char *name;
    ddpm_command_fn run;
    const char *summary;
} ddpm_command;

int ddpm_cmd_viz(int argc, char **argv);
int ddpm_cmd_train(int argc, char **argv);
int ddpm_cmd_sample(int argc, char **argv);
int ddpm_cmd_sweep(int argc, char **argv);
int ddpm_cmd_eval(int argc, char **argv);
int ddpm_cmd_schedule(int argc, char **argv);
int ddpm_cmd_bench(int argc, char **argv);

/* The table main() dispatches on, terminated by a NULL name. */
extern const ddpm_command ddpm_commands[];

/* Runs `ddpm <argv...>` in-process; used by main and by tests/fuzzers. */
int ddpm_main(int argc, char **argv);

#ifdef DDPM_HAVE_UI
#include <stdbool.h>
/* The visualizer's TrueType text for exported pictures (src/ui/export_text.c):
 * ddpm_main installs it around every command; false when the font is missing
 * (the bitmap font stays). */
bool viz_export_text_install(const char *font_dir);
void viz_export_text_uninstall(void);
#endif

#endif
