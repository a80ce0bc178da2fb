/* fuzz_outputs.c: libFuzzer target for the guard that keeps an output from
 * replacing an input (ddpm_check_output), and for how the option parser
 * reports which flags a command line gave (ddpm_args_given, which `train
 * --resume` uses to refuse flags that would change a run).
 *
 * The input is split at NUL and newline bytes into words.  In a sandbox
 * folder holding a file, a symlink to it, a folder and a symlink to the
 * folder, the first word is an output path and the next ones are input
 * paths, in any spelling ("./m", "d/../m", "ld/../m", "//m", ...).  The
 * oracle is independent of the guard: realpath() of both names, compared as
 * strings.  The guard must refuse exactly when an input that exists is the
 * output; the sandbox must be unchanged.  Then all words go through the
 * option parser with one option of every type: an option ddpm_args_given
 * says was not given must keep its default. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "ddpm/fileio.h"

enum { MAX_WORDS = 12 };

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static struct stat model_before;
static char sandbox[] = "/tmp/ddpm-fuzz-outputs-XXXXXX";

static void remove_sandbox(void)
{
    if (chdir(sandbox) != 0) return;
    (void)!unlink("m.safetensors"), (void)!unlink("l.png"), (void)!unlink("ld"), (void)!unlink("dangling");
    (void)!rmdir("d/e"), (void)!rmdir("d");
    (void)!chdir("/"), (void)!rmdir(sandbox);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (!mkdtemp(sandbox) || chdir(sandbox) != 0) abort();
    atexit(remove_sandbox);
    FILE *f = fopen("m.safetensors", "wb");
    if (!f || fputs("a model", f) < 0 || fclose(f) != 0) abort();
    if (mkdir("d", 0755) != 0 || mkdir("d/e", 0755) != 0 || symlink("m.safetensors", "l.png") != 0 ||
        symlink("d", "ld") != 0 || symlink("missing", "dangling") != 0)
        abort();
    if (stat("m.safetensors", &model_before) != 0) abort();
    return 0;
}

/* the oracle: both names resolve to the same existing file */
static int same_by_realpath(const char *a, const char *b)
{
    char ra[PATH_MAX], rb[PATH_MAX];
    struct stat st;
    if (stat(b, &st) != 0) return 0; /* an input that does not exist is not at risk */
    return realpath(a, ra) && realpath(b, rb) && strcmp(ra, rb) == 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size > 2048) return 0;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    char *words[MAX_WORDS + 2];
    int n = 0;
    words[n++] = "ddpm-fuzz";
    for (char *p = text, *end = text + size; p < end && n < MAX_WORDS + 1;) {
        words[n++] = p;
        while (p < end && *p != '\0' && *p != '\n') p++;
        *p++ = '\0';
    }
    words[n] = NULL;

    /* the output guard */
    if (n >= 3) {
        const char *out = words[1];
        const char *const *inputs = (const char *const *)&words[2];
        const int n_in = n - 2 > 4 ? 4 : n - 2;
        int expect = 0;
        for (int i = 0; i < n_in; i++) expect |= same_by_realpath(out, inputs[i]);
        ddpm_error err = {0};
        const int refused = ddpm_check_output("--out", out, inputs, n_in, &err) != DDPM_OK;
        if (refused != expect) abort(); /* a missed clash loses a file; a false one blocks a user */
        if (refused && !strstr(err.msg, "is the input")) abort();
    }
    struct stat now;
    if (stat("m.safetensors", &now) != 0 || now.st_ino != model_before.st_ino || now.st_size != model_before.st_size)
        abort();

    /* which flags were given, against what the parser did */
    int steps = -7;
    double eta = -7.0;
    const char *out = NULL;
    bool force = false;
    uint64_t seed = 7;
    int T = -7;
    const ddpm_arg_spec specs[] = {
        {"steps", ARG_INT, &steps, 1, 4000, "S", "int"},
        {"eta", ARG_DOUBLE, &eta, 0, 1, "X", "double"},
        {"out", ARG_STRING, &out, 0, 0, "FILE", "string"},
        {"force", ARG_FLAG, &force, 0, 0, NULL, "flag"},
        {"seed", ARG_U64, &seed, 0, 0, "N", "u64"},
        {"T", ARG_INT, &T, 2, 4000, "N", "one-letter"},
    };
    const int n_specs = (int)(sizeof specs / sizeof specs[0]);
    ddpm_error err = {0};
    const char *pos[4];
    int n_pos = 0;
    if (ddpm_args_parse_positional(specs, n_specs, n, words, pos, 4, &n_pos, &err) == DDPM_OK) {
        if (!ddpm_args_given(specs, n_specs, n, words, "steps") && steps != -7) abort();
        if (!ddpm_args_given(specs, n_specs, n, words, "eta") && eta != -7.0) abort();
        if (!ddpm_args_given(specs, n_specs, n, words, "out") && out != NULL) abort();
        if (!ddpm_args_given(specs, n_specs, n, words, "force") && force) abort();
        if (!ddpm_args_given(specs, n_specs, n, words, "seed") && seed != 7) abort();
        if (!ddpm_args_given(specs, n_specs, n, words, "T") && T != -7) abort();
    }
    free(text);
    return 0;
}
