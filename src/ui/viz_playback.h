/* viz_playback.h: the timeline, as pure functions (no SDL).
 *
 * Two phases share one playhead.  FORWARD runs the noising process of a
 * real digit, t = 0 .. T-1; REVERSE runs the sampler's trajectory, frame
 * k = 0 .. S, where frame k is the input x_t of reverse step k and frame S is
 * the final x_0.  Playing runs forward then reverse (when `loop` is set) and
 * stops on x_0.
 *
 *   viz_playback pb = viz_playback_initial();
 *   viz_playback_advance(&pb, dt, speed, S, T);    // every frame while playing
 *   int k = viz_playback_frame(&pb, S);
 */
#ifndef VIZ_PLAYBACK_H
#define VIZ_PLAYBACK_H

#include <stdbool.h>

typedef enum { VIZ_PHASE_FORWARD, VIZ_PHASE_REVERSE } viz_phase;

typedef struct viz_playback {
    viz_phase phase;
    double pos;       /* FORWARD: t in [0, T-1]; REVERSE: frame in [0, S] */
    bool playing;
    bool loop;        /* at the end of FORWARD, go on into REVERSE */
} viz_playback;

/* REVERSE, frame 0, paused, loop on. */
viz_playback viz_playback_initial(void);

/* Advances by dt seconds when playing.  REVERSE moves `speed` frames per
 * second; FORWARD covers the same t-range per second as REVERSE does
 * (viz_playback_forward_rate), so one speed governs both phases, down to
 * slow motion.  Stops at the end of a phase (FORWARD continues into REVERSE
 * when loop is set). */
double viz_playback_forward_rate(double speed, int S, int T);   /* timesteps per second */
void viz_playback_advance(viz_playback *pb, double dt, double speed, int S, int T);

/* The reverse frame to show, 0..S (0 during FORWARD: x_T is where sampling starts). */
int viz_playback_frame(const viz_playback *pb, int S);
/* The forward t to show during FORWARD, 0..T-1. */
int viz_playback_forward_t(const viz_playback *pb, int T);
/* Progress through the current phase, 0..1. */
double viz_playback_progress(const viz_playback *pb, int S, int T);
/* Sets the position from a progress fraction (scrubbing the timeline). */
void viz_playback_seek(viz_playback *pb, double progress, int S, int T);

/* One step back (dir < 0) or forward (dir > 0) by `count` frames (or
 * timesteps in FORWARD, scaled so that a key press is visible); pauses. */
void viz_playback_step(viz_playback *pb, int dir, int count, int S, int T);

/* Space: pause when playing; when paused at the end of the phase, restart it. */
void viz_playback_toggle(viz_playback *pb, int S, int T);

/* When the number of steps changes from S_old to S_new, keeps the same
 * progress through the trajectory (x_T stays x_T and x_0 stays x_0). */
void viz_playback_remap(viz_playback *pb, int S_old, int S_new);

/* Clamps pos into the phase's range (after T or S changed). */
void viz_playback_clamp(viz_playback *pb, int S, int T);

#endif
