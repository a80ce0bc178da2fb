/* fuzz_cli.c: libFuzzer target for command-line parsing.  The input is split
 * at NUL and newline bytes into arguments; they go through the option parser
 * with a spec of every option type, the name parsers, and a whole
 * `ddpm schedule` run (its output discarded). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "ddpm/scheduler.h"

enum { MAX_ARGS = 24 };

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    /* the commands print; keep the fuzzer's terminal readable */
    if (!freopen("/dev/null", "w", stdout)) return 0;
    return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size > 4096) return 0;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    char *argv[MAX_ARGS + 3];
    int argc = 0;
    argv[argc++] = "ddpm";
    argv[argc++] = "schedule";
    char *p = text, *end = text + size;
    while (p < end && argc < MAX_ARGS + 2) {
        argv[argc++] = p;
        while (p < end && *p != '\0' && *p != '\n') p++;
        *p++ = '\0';
    }
    argv[argc] = NULL;

    /* the generic parser with one option of every type */
    int i = 0;
    double d = 0;
    const char *s = NULL;
    bool f = false;
    uint64_t u = 0;
    const ddpm_arg_spec specs[] = {
        {"steps", ARG_INT, &i, 1, 4000, "S", "int"},
        {"eta", ARG_DOUBLE, &d, 0, 1, "X", "double"},
        {"out", ARG_STRING, &s, 0, 0, "FILE", "string"},
        {"csv", ARG_FLAG, &f, 0, 0, NULL, "flag"},
        {"seed", ARG_U64, &u, 0, 0, "N", "u64"},
        {"n", ARG_INT, &i, 1, 100, "N", "one-letter"},
    };
    ddpm_error err = {0};
    const char *pos[2];
    int n_pos = 0;
    ddpm_args_parse_positional(specs, 6, argc - 1, argv + 1, pos, 2, &n_pos, &err);
    ddpm_args_parse(specs, 6, argc - 1, argv + 1, &err);

    /* name parsers */
    for (int k = 2; k < argc; k++) {
        ddpm_schedule_kind sk;
        ddpm_prediction pr;
        ddpm_spacing sp;
        ddpm_sampler_kind sa;
        ddpm_variance va;
        ddpm_schedule_parse(argv[k], &sk, &err);
        ddpm_prediction_parse(argv[k], &pr, &err);
        ddpm_spacing_parse(argv[k], &sp, &err);
        ddpm_sampler_parse(argv[k], &sa, &err);
        ddpm_variance_parse(argv[k], &va, &err);
    }

    /* a whole command; `ddpm schedule` only computes and prints */
    int rc = ddpm_main(argc, argv);
    if (rc != 0 && rc != DDPM_EXIT_BAD_INPUT) abort(); /* bad input must be exit code 2 */
    free(text);
    return 0;
}
