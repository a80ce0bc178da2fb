/* progress.h: a terminal progress bar for long CLI jobs.
 *
 *   ddpm_progress p;
 *   ddpm_progress_start(&p, "train", 2000, start_step);
 *   ... ddpm_progress_update(&p, step, "loss 0.0312  245 img/s");
 *   ddpm_progress_finish(&p);
 *
 * On a terminal it redraws one line on stderr at most 8 times a second:
 *   train [#########.........]  1200/2000  60%  loss 0.0312  245 img/s  ETA 2m13s
 * Elsewhere (a log file, CI) it prints a plain line every 5% instead.
 */
#ifndef DDPM_CLI_PROGRESS_H
#define DDPM_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ddpm_progress {
    const char *label;
    int64_t total, first;     /* first = where this run started (resume) */
    double t_start, t_last_draw;
    int last_percent;
    bool tty;
} ddpm_progress;

void ddpm_progress_start(ddpm_progress *p, const char *label, int64_t total, int64_t first);
void ddpm_progress_update(ddpm_progress *p, int64_t done, const char *extra);
/* Ends the line. */
void ddpm_progress_finish(ddpm_progress *p);
/* "1h02m", "2m13s", "45s" */
void ddpm_format_duration(double seconds, char *buf, int cap);

#endif
