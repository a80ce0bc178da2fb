/* viz_playback.c: the timeline of the forward and reverse phases (pure). */
#include "viz_playback.h"

#include <math.h>

viz_playback viz_playback_initial(void)
{
    viz_playback pb = {.phase = VIZ_PHASE_REVERSE, .pos = 0.0, .playing = false, .loop = true};
    return pb;
}

static double phase_end(const viz_playback *pb, int S, int T)
{
    return pb->phase == VIZ_PHASE_FORWARD ? (double)(T - 1) : (double)S;
}

void viz_playback_clamp(viz_playback *pb, int S, int T)
{
    double end = phase_end(pb, S, T);
    if (!(pb->pos >= 0.0)) pb->pos = 0.0;
    if (pb->pos > end) pb->pos = end;
}

double viz_playback_forward_rate(double speed, int S, int T)
{
    return speed * (double)T / (double)(S < 1 ? 1 : S);
}

void viz_playback_advance(viz_playback *pb, double dt, double speed, int S, int T)
{
    if (!pb->playing || !(dt > 0.0)) return;
    if (S < 1) S = 1;
    if (pb->phase == VIZ_PHASE_FORWARD) {
        /* one speed for both phases: the forward sweep takes as long as the
         * reverse run (S / speed seconds), down to slow motion */
        pb->pos += viz_playback_forward_rate(speed, S, T) * dt;
        if (pb->pos >= T - 1) {
            if (pb->loop) {
                pb->phase = VIZ_PHASE_REVERSE;
                pb->pos = 0.0;
            } else {
                pb->pos = T - 1;
                pb->playing = false;
            }
        }
        return;
    }
    pb->pos += speed * dt;
    if (pb->pos >= S) {
        pb->pos = S;
        pb->playing = false;
    }
}

int viz_playback_frame(const viz_playback *pb, int S)
{
    if (pb->phase == VIZ_PHASE_FORWARD) return 0;
    int k = (int)floor(pb->pos + 1e-9);
    return k < 0 ? 0 : k > S ? S : k;
}

int viz_playback_forward_t(const viz_playback *pb, int T)
{
    if (pb->phase != VIZ_PHASE_FORWARD) return 0;
    int t = (int)floor(pb->pos + 1e-9);
    return t < 0 ? 0 : t > T - 1 ? T - 1 : t;
}

double viz_playback_progress(const viz_playback *pb, int S, int T)
{
    double end = phase_end(pb, S, T);
    if (end <= 0.0) return 1.0;
    double p = pb->pos / end;
    return p < 0 ? 0 : p > 1 ? 1 : p;
}

void viz_playback_seek(viz_playback *pb, double progress, int S, int T)
{
    if (!(progress >= 0.0)) progress = 0.0;
    if (progress > 1.0) progress = 1.0;
    double end = phase_end(pb, S, T);
    pb->pos = floor(progress * end + 0.5);
}

void viz_playback_step(viz_playback *pb, int dir, int count, int S, int T)
{
    pb->playing = false;
    double unit = 1.0;
    if (pb->phase == VIZ_PHASE_FORWARD) {
        /* one key press moves as far as one sampler step does */
        unit = S > 0 ? floor((double)T / S) : 1.0;
        if (unit < 1.0) unit = 1.0;
        pb->pos = floor(pb->pos + 1e-9);
    } else {
        pb->pos = floor(pb->pos + 1e-9);
    }
    pb->pos += (dir < 0 ? -1.0 : 1.0) * unit * (count > 0 ? count : 1);
    viz_playback_clamp(pb, S, T);
}

void viz_playback_toggle(viz_playback *pb, int S, int T)
{
    if (pb->playing) {
        pb->playing = false;
        return;
    }
    if (pb->pos >= phase_end(pb, S, T)) pb->pos = 0.0;
    pb->playing = true;
}

void viz_playback_remap(viz_playback *pb, int S_old, int S_new)
{
    if (pb->phase != VIZ_PHASE_REVERSE || S_old == S_new) return;
    if (S_old < 1 || S_new < 1) {
        pb->pos = 0.0;
        return;
    }
    if (pb->pos >= S_old) {
        pb->pos = S_new;
        return;
    }
    /* not yet at x_0 before the change: not at x_0 after it either */
    pb->pos = floor(pb->pos / S_old * S_new + 0.5);
    if (pb->pos > S_new - 1) pb->pos = S_new - 1;
}
