/* ddpm/common.h: the two error tiers shared by every module of ddpm-lab.
 *
 *   ddpm_error err = {0};
 *   if (ddpm_schedule_init(&s, &cfg, &err) != 0) {
 *       fprintf(stderr, "error: %s\n", err.msg);   // names the problem and the fix
 *       return 2;
 *   }
 *
 * Programmer errors (a NULL where none is allowed, an index out of range that a
 * caller computed) use DDPM_ASSERT: it prints file:line and aborts.  Runtime
 * errors (files, user input, SDL) return DDPM_ERR and fill a ddpm_error whose
 * message names what was wrong and what to do.  Only main() turns an error into
 * an exit code.
 */
#ifndef DDPM_COMMON_H
#define DDPM_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { DDPM_OK = 0, DDPM_ERR = -1 };

/* Exit code for bad input (a file, a flag, a value out of range).
 * Crashes are never an acceptable answer to bad input. */
enum { DDPM_EXIT_BAD_INPUT = 2 };

typedef struct ddpm_error {
    char msg[1024];
} ddpm_error;

/* Formats a message into err (err may be NULL) and returns DDPM_ERR, so that
 * `return ddpm_fail(err, "...")` is the one idiom for a runtime failure. */
int ddpm_fail(ddpm_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prepends "context: " to an existing message (for example a file name). */
int ddpm_fail_context(ddpm_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void ddpm_assert_fail(const char *file, int line, const char *expr)
    __attribute__((noreturn));

#define DDPM_ASSERT(cond) \
    ((cond) ? (void)0 : ddpm_assert_fail(__FILE__, __LINE__, #cond))

/* Allocation that treats out-of-memory as fatal (with a message): used only
 * for sizes the program computed itself, never for sizes read from a file. */
void *ddpm_xmalloc(size_t bytes);
void *ddpm_xcalloc(size_t count, size_t size);

/* Allocation of count*size bytes that returns NULL (never aborts) on overflow
 * or out-of-memory; for sizes that came from outside. */
void *ddpm_try_calloc(size_t count, size_t size);

/* Overflow-checked size arithmetic: returns false on overflow. */
bool ddpm_mul_size(size_t a, size_t b, size_t *out);
bool ddpm_add_size(size_t a, size_t b, size_t *out);

/* Monotonic wall clock in seconds. */
double ddpm_now(void);

/* Peak resident set size of this process in bytes (0 if unknown). */
size_t ddpm_peak_rss_bytes(void);

#ifdef __cplusplus
}
#endif
#endif
