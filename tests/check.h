/* check.h: the tiny assertion kit of the test programs.  A failed check
 * prints the first mismatch with file:line and exits non-zero. */
#ifndef DDPM_TEST_CHECK_H
#define DDPM_TEST_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int check_failures_ = 0;

#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        if (!(cond)) {                                                    \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                 \
            fprintf(stderr, "\n");                                        \
            exit(1);                                                      \
        }                                                                 \
    } while (0)

/* |a - b| <= atol + rtol * |b| */
#define CHECK_CLOSE(a, b, rtol, atol, ...)                                \
    do {                                                                  \
        double a_ = (double)(a), b_ = (double)(b);                        \
        if (!(fabs(a_ - b_) <= (atol) + (rtol) * fabs(b_))) {             \
            fprintf(stderr, "%s:%d: %s = %.17g vs %s = %.17g (diff %.3g): ", \
                    __FILE__, __LINE__, #a, a_, #b, b_, fabs(a_ - b_));   \
            fprintf(stderr, __VA_ARGS__);                                 \
            fprintf(stderr, "\n");                                        \
            exit(1);                                                      \
        }                                                                 \
    } while (0)

#define TEST_PASS(name)                                                   \
    do {                                                                  \
        (void)check_failures_;                                            \
        printf("%s: all checks passed\n", name);                         \
        return 0;                                                         \
    } while (0)

#endif
