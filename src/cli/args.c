/* args.c: long-option parsing with typed, range-checked values. */
#include "args.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const ddpm_arg_spec *find_spec(const ddpm_arg_spec *specs, int n, const char *name,
                                      size_t len)
{
    for (int i = 0; i < n; i++)
        if (strlen(specs[i].name) == len && strncmp(specs[i].name, name, len) == 0) return &specs[i];
    return NULL;
}

static int parse_value(const ddpm_arg_spec *s, const char *text, ddpm_error *err)
{
    const bool ranged = s->min != s->max;
    char *end = NULL;
    errno = 0;
    switch (s->type) {
    case ARG_INT: {
        long v = strtol(text, &end, 10);
        if (end == text || *end != '\0' || errno == ERANGE || v < INT32_MIN || v > INT32_MAX)
            return ddpm_fail(err, "--%s expects an integer, got '%s'", s->name, text);
        if (ranged && (v < s->min || v > s->max))
            return ddpm_fail(err, "--%s = %ld is out of range; use %.0f..%.0f", s->name, v, s->min,
                             s->max);
        if (strcmp(s->name, "threads") == 0) {
            /* every command's --threads: more threads than cores only waits on itself */
            long cores = sysconf(_SC_NPROCESSORS_ONLN);
            if (cores < 1) cores = 1;
            if (v < 0 || v > cores)
                return ddpm_fail(err, "--threads = %ld: this machine has %ld core%s; use 0 (all of them) to %ld", v,
                                 cores, cores == 1 ? "" : "s", cores);
        }
        *(int *)s->dest = (int)v;
        return DDPM_OK;
    }
    case ARG_U64: {
        if (text[0] == '-') return ddpm_fail(err, "--%s expects a non-negative integer, got '%s'", s->name, text);
        unsigned long long v = strtoull(text, &end, 10);
        if (end == text || *end != '\0' || errno == ERANGE)
            return ddpm_fail(err, "--%s expects a non-negative integer, got '%s'", s->name, text);
        *(uint64_t *)s->dest = (uint64_t)v;
        return DDPM_OK;
    }
    case ARG_DOUBLE: {
        double v = strtod(text, &end);
        if (end == text || *end != '\0' || !isfinite(v))
            return ddpm_fail(err, "--%s expects a finite number, got '%s'", s->name, text);
        if (ranged && (v < s->min || v > s->max))
            return ddpm_fail(err, "--%s = %g is out of range; use %g..%g", s->name, v, s->min, s->max);
        *(double *)s->dest = v;
        return DDPM_OK;
    }
    case ARG_STRING:
        if (text[0] == '\0') return ddpm_fail(err, "--%s needs a non-empty value", s->name);
        *(const char **)s->dest = text;
        return DDPM_OK;
    case ARG_FLAG:
        if (strcmp(text, "1") == 0 || strcmp(text, "true") == 0 || strcmp(text, "yes") == 0) {
            *(bool *)s->dest = true;
            return DDPM_OK;
        }
        if (strcmp(text, "0") == 0 || strcmp(text, "false") == 0 || strcmp(text, "no") == 0) {
            *(bool *)s->dest = false;
            return DDPM_OK;
        }
        return ddpm_fail(err, "--%s is a switch; use --%s or --%s=0/1", s->name, s->name, s->name);
    }
    return ddpm_fail(err, "--%s: unsupported option type", s->name);
}

int ddpm_args_parse_positional(const ddpm_arg_spec *specs, int n_specs, int argc, char **argv,
                               const char **positional, int max_positional, int *n_positional,
                               ddpm_error *err)
{
    if (n_positional) *n_positional = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!a) break;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) return DDPM_ARGS_HELP;
        /* "-n 16": a one-letter option may be written with a single dash */
        char long_form[8];
        if (a[0] == '-' && a[1] != '-' && a[1] != '\0' && a[2] == '\0' &&
            find_spec(specs, n_specs, a + 1, 1)) {
            snprintf(long_form, sizeof long_form, "--%s", a + 1);
            a = long_form;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            if (positional && n_positional && *n_positional < max_positional) {
                positional[(*n_positional)++] = a;
                continue;
            }
            return ddpm_fail(err, "unexpected argument '%s'; options look like --name value (see --help)", a);
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const ddpm_arg_spec *s = find_spec(specs, n_specs, name, len);
        if (!s) {
            return ddpm_fail(err, "unknown option '--%.*s' (see --help for the list)", (int)(len > 64 ? 64 : len), name);
        }
        const char *value;
        if (eq) {
            value = eq + 1;
        } else if (s->type == ARG_FLAG) {
            *(bool *)s->dest = true;
            continue;
        } else {
            if (i + 1 >= argc || !argv[i + 1])
                return ddpm_fail(err, "--%s needs a value (%s)", s->name, s->metavar ? s->metavar : "value");
            value = argv[++i];
        }
        if (parse_value(s, value, err) != DDPM_OK) return DDPM_ERR;
    }
    return DDPM_OK;
}

bool ddpm_args_given(const ddpm_arg_spec *specs, int n_specs, int argc, char **argv, const char *name)
{
    for (int i = 1; i < argc && argv[i]; i++) {
        const char *a = argv[i];
        const ddpm_arg_spec *s = NULL;
        bool inline_value = false;
        if (a[0] == '-' && a[1] != '-' && a[1] != '\0' && a[2] == '\0') {
            s = find_spec(specs, n_specs, a + 1, 1);
        } else if (strncmp(a, "--", 2) == 0 && a[2] != '\0') {
            const char *eq = strchr(a + 2, '=');
            s = find_spec(specs, n_specs, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
            inline_value = eq != NULL;
        }
        if (!s) continue; /* a positional argument */
        if (strcmp(s->name, name) == 0) return true;
        if (s->type != ARG_FLAG && !inline_value) i++; /* skip its value */
    }
    return false;
}

int ddpm_args_parse(const ddpm_arg_spec *specs, int n_specs, int argc, char **argv, ddpm_error *err)
{
    return ddpm_args_parse_positional(specs, n_specs, argc, argv, NULL, 0, NULL, err);
}

void ddpm_args_usage(FILE *f, const char *cmd, const char *summary, const ddpm_arg_spec *specs,
                     int n_specs)
{
    fprintf(f, "usage: ddpm %s [options]\n\n%s\n\noptions:\n", cmd, summary);
    for (int i = 0; i < n_specs; i++) {
        const ddpm_arg_spec *s = &specs[i];
        char left[64];
        const char *dashes = strlen(s->name) == 1 ? "-" : "--";
        if (s->type == ARG_FLAG)
            snprintf(left, sizeof left, "%s%s", dashes, s->name);
        else
            snprintf(left, sizeof left, "%s%s %s", dashes, s->name, s->metavar ? s->metavar : "VALUE");
        char def[96] = "";
        /* a help text that states its own default (a sentinel such as 0 = "the preset's") is
         * not followed by the sentinel's value */
        bool states_default = s->help && strstr(s->help, "default");
        switch (states_default ? ARG_FLAG : s->type) {
        case ARG_INT: snprintf(def, sizeof def, " (default %d)", *(int *)s->dest); break;
        case ARG_U64: snprintf(def, sizeof def, " (default %llu)", (unsigned long long)*(uint64_t *)s->dest); break;
        case ARG_DOUBLE: snprintf(def, sizeof def, " (default %g)", *(double *)s->dest); break;
        case ARG_STRING:
            if (*(const char **)s->dest) snprintf(def, sizeof def, " (default %s)", *(const char **)s->dest);
            break;
        case ARG_FLAG: break;
        }
        fprintf(f, "  %-24s %s%s\n", left, s->help, def);
    }
    fprintf(f, "  %-24s %s\n", "-h, --help", "show this help");
}
