/* test_cli_args.c: the option parser (forms, types, ranges, errors) and a
 * small deterministic fuzz of `ddpm schedule` argument lists: any list gives
 * exit code 0 or 2, never a crash (ASan watches the memory). */
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "check.h"
#include "commands.h"
#include "ddpm/rng.h"

static int parse(int argc, char **argv, int *i, double *d, const char **s, bool *f, uint64_t *u,
                 ddpm_error *err)
{
    const ddpm_arg_spec specs[] = {
        {"steps", ARG_INT, i, 1, 4000, "S", "int"},
        {"eta", ARG_DOUBLE, d, 0, 1, "X", "double"},
        {"out", ARG_STRING, s, 0, 0, "FILE", "string"},
        {"csv", ARG_FLAG, f, 0, 0, NULL, "flag"},
        {"seed", ARG_U64, u, 0, 0, "N", "u64"},
        {"n", ARG_INT, i, 1, 100, "N", "one letter"},
    };
    return ddpm_args_parse(specs, 6, argc, argv, err);
}

#define ARGV(...) ((char *[]){"cmd", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){"cmd", __VA_ARGS__}) / sizeof(char *)))

static void check_parser(void)
{
    int i = 0;
    double d = 0;
    const char *s = NULL;
    bool f = false;
    uint64_t u = 0;
    ddpm_error err = {0};
#define OK(...) CHECK(parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), &i, &d, &s, &f, &u, &err) == DDPM_OK, "%s", err.msg)
#define BAD(want, ...)                                                                        \
    do {                                                                                      \
        CHECK(parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), &i, &d, &s, &f, &u, &err) == DDPM_ERR, \
              "accepted: %s", #__VA_ARGS__);                                                  \
        CHECK(strstr(err.msg, want), "message for %s: %s", #__VA_ARGS__, err.msg);           \
    } while (0)
    OK("--steps", "50", "--eta=0.25", "--out", "x.png", "--csv", "--seed", "18446744073709551615");
    CHECK(i == 50 && d == 0.25 && strcmp(s, "x.png") == 0 && f && u == UINT64_MAX, "values");
    OK("-n", "7", "--csv=0");
    CHECK(i == 7 && !f, "short option and --flag=0");
    OK("--steps=1", "--steps=4000");
    BAD("out of range", "--steps", "0");
    BAD("out of range", "--steps", "4001");
    BAD("out of range", "--eta", "-0.1");
    BAD("out of range", "--eta", "1.5");
    BAD("finite number", "--eta", "nan");
    BAD("finite number", "--eta", "inf");
    BAD("finite number", "--eta", "0.5x");
    BAD("integer", "--steps", "5.5");
    BAD("integer", "--steps", "99999999999999999999");
    BAD("non-negative", "--seed", "-1");
    BAD("needs a value", "--steps");
    BAD("non-empty", "--out", "");
    BAD("unknown option", "--step", "5");
    BAD("unexpected argument", "stray");
    BAD("switch", "--csv=maybe");
    CHECK(parse(ARGC("--help"), ARGV("--help"), &i, &d, &s, &f, &u, &err) == DDPM_ARGS_HELP, "--help");
}

/* Random argument lists for `ddpm schedule` from a vocabulary of options
 * and values, valid and not. */
static void fuzz_schedule(void)
{
    static const char *vocab[] = {
        "--schedule", "linear", "scaled-linear", "cosine", "sqrt", "sigmoid", "cosin", "--T", "2",
        "4000", "4001", "1", "0", "-3", "1000", "--steps", "50", "999", "--spacing", "leading",
        "trailing", "linspace", "lead", "--sampler", "ddpm", "ddim", "--eta", "0.5", "nan", "-1",
        "--csv", "--beta-start", "--beta-end", "0.02", "1e-4", "0.9999", "1.5", "--help", "-n",
        "--steps=7", "--T=10", "--eta=2", "", "--", "-", "x", "--csv=1", "1e308"};
    const int nv = (int)(sizeof vocab / sizeof vocab[0]);
    ddpm_rng r;
    ddpm_rng_init(&r, 2024, 0);
    fflush(stdout);
    int saved_out = dup(1);
    if (!freopen("/dev/null", "w", stdout)) CHECK(0, "redirect stdout");
    FILE *saved_err = stderr;
    stderr = fopen("/dev/null", "w");
    int counts[3] = {0};
    for (int it = 0; it < 1500; it++) {
        char *argv[12] = {"ddpm", "schedule"};
        int argc = 2 + (int)ddpm_rng_below(&r, 9);
        for (int k = 2; k < argc; k++) argv[k] = (char *)vocab[ddpm_rng_below(&r, (uint32_t)nv)];
        argv[argc] = NULL;
        int rc = ddpm_main(argc, argv);
        if (rc != 0 && rc != 2) {
            fclose(stderr);
            stderr = saved_err;
            CHECK(0, "exit code %d for an argument list", rc);
        }
        counts[rc]++;
    }
    fclose(stderr);
    stderr = saved_err;
    fflush(stdout);
    dup2(saved_out, 1);
    close(saved_out);
    /* the vocabulary must exercise both outcomes */
    CHECK(counts[0] > 50 && counts[2] > 50, "ok %d, bad input %d", counts[0], counts[2]);
}

int main(void)
{
    check_parser();
    fuzz_schedule();
    TEST_PASS("test_cli_args");
}
