/* progress.c: the CLI progress bar (see progress.h). */
#include "progress.h"

#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "ddpm/common.h"

void ddpm_format_duration(double s, char *buf, int cap)
{
    if (!isfinite(s) || s < 0) {
        snprintf(buf, (size_t)cap, "?");
        return;
    }
    long t = lround(s);
    if (t >= 3600)
        snprintf(buf, (size_t)cap, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else if (t >= 60)
        snprintf(buf, (size_t)cap, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, (size_t)cap, "%lds", t);
}

void ddpm_progress_start(ddpm_progress *p, const char *label, int64_t total, int64_t first)
{
    p->label = label;
    p->total = total > 0 ? total : 1;
    p->first = first;
    p->t_start = ddpm_now();
    p->t_last_draw = 0;
    p->last_percent = -1;
    p->tty = isatty(fileno(stderr));
}

void ddpm_progress_update(ddpm_progress *p, int64_t done, const char *extra)
{
    double now = ddpm_now();
    int percent = (int)(100 * done / p->total);
    bool last = done >= p->total;
    if (p->tty) {
        if (!last && now - p->t_last_draw < 0.125) return;
    } else {
        if (!last && percent / 5 == p->last_percent / 5) return;
    }
    p->t_last_draw = now;
    p->last_percent = percent;
    double rate = (double)(done - p->first) / fmax(now - p->t_start, 1e-9);
    char eta[32];
    ddpm_format_duration(rate > 0 ? (double)(p->total - done) / rate : NAN, eta, sizeof eta);
    char bar[21];
    int filled = (int)(20 * done / p->total);
    for (int i = 0; i < 20; i++) bar[i] = i < filled ? '#' : '.';
    bar[20] = '\0';
    fprintf(stderr, "%s%s [%s] %lld/%lld %3d%%  %s  ETA %s%s", p->tty ? "\r" : "", p->label, bar,
            (long long)done, (long long)p->total, percent, extra ? extra : "", eta,
            p->tty ? "\033[K" : "\n");
    fflush(stderr);
}

void ddpm_progress_finish(ddpm_progress *p)
{
    if (p->tty) fputc('\n', stderr);
    fflush(stderr);
}
