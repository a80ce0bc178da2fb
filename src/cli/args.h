/* args.h: the one command-line option parser of every subcommand.
 *
 *   int steps = 50; double eta = 0; const char *out = "samples.png"; bool csv = false;
 *   const ddpm_arg_spec specs[] = {
 *       {"steps", ARG_INT, &steps, 1, 4000, "N", "number of sampling steps"},
 *       {"eta", ARG_DOUBLE, &eta, 0, 1, "X", "DDIM eta"},
 *       {"out", ARG_STRING, &out, 0, 0, "FILE", "output PNG"},
 *       {"csv", ARG_FLAG, &csv, 0, 0, NULL, "print CSV"},
 *   };
 *   int rc = ddpm_args_parse(specs, 4, argc, argv, &err);
 *   // rc: DDPM_OK, DDPM_ARGS_HELP (print usage, exit 0) or DDPM_ERR (exit 2)
 *
 * Options are `--name value` or `--name=value`.  Numbers must parse fully and
 * lie in [min, max] (ignored when min == max).  Strings point into argv.
 * Nothing is allocated.
 */
#ifndef DDPM_CLI_ARGS_H
#define DDPM_CLI_ARGS_H

#include <stdio.h>
#include "ddpm/common.h"

typedef enum { ARG_INT, ARG_DOUBLE, ARG_STRING, ARG_FLAG, ARG_U64 } ddpm_arg_type;

typedef struct ddpm_arg_spec {
    const char *name;     /* long name without "--" */
    ddpm_arg_type type;
    void *dest;           /* int*, double*, const char**, bool*, uint64_t* */
    double min, max;      /* numeric range; no check when min == max */
    const char *metavar;  /* shown in usage, e.g. "N" */
    const char *help;
} ddpm_arg_spec;

enum { DDPM_ARGS_HELP = 1 };

/* Parses argv[1..argc) (argv[0] is the subcommand's name).  Positional
 * arguments are not accepted unless positional != NULL, in which case up to
 * max_positional of them are stored there and *n_positional is set. */
int ddpm_args_parse_positional(const ddpm_arg_spec *specs, int n_specs, int argc, char **argv,
                               const char **positional, int max_positional, int *n_positional,
                               ddpm_error *err);
int ddpm_args_parse(const ddpm_arg_spec *specs, int n_specs, int argc, char **argv,
                    ddpm_error *err);

/* Whether argv[1..argc) sets the option `name` (as --name, --name=value, or
 * -n for a one-letter name), read the way ddpm_args_parse reads it.  For a
 * flag that cannot change what a command does (--resume ignores --batch),
 * the command asks this and says so instead of dropping the flag silently. */
bool ddpm_args_given(const ddpm_arg_spec *specs, int n_specs, int argc, char **argv, const char *name);

/* Prints "usage: ddpm <cmd> [options]", the summary, and one line per option
 * with its default (read from dest). */
void ddpm_args_usage(FILE *f, const char *cmd, const char *summary, const ddpm_arg_spec *specs,
                     int n_specs);

#endif
