/* trainer_thread.h: live training on its own thread, and the bridge the UI
 * reads it through.
 *
 *   viz_trainer *vt;
 *   viz_trainer_options o = viz_trainer_options_default(&digits);
 *   viz_trainer_start(&vt, &o, &err);     // thread starts idle; untrained weights published
 *   viz_trainer_train(vt);                // T: train (from scratch the first time) / resume
 *   ... each UI frame ...
 *   viz_trainer_get_status(vt, &st);      // step, images/s, state
 *   viz_trainer_copy_history(vt, &hist);  // loss curve and loss-by-t, when they changed
 *   while (viz_trainer_poll_event(vt, &ev)) toast(ev.text);
 *   ... the sampler reads viz_trainer_weights(vt) (weights_buffer.h) ...
 *   viz_trainer_stop(vt);                 // quit flag, wake, join, free
 *
 * The UI never waits on the thread: every command (train, pause, reset,
 * continue from a model, save) is queued and carried out at the next step
 * boundary, and its outcome comes back as a status change or an event.
 * Everything the thread shares is guarded by one mutex; `quit` is atomic.
 * The thread never touches SDL video.
 */
#ifndef VIZ_TRAINER_THREAD_H
#define VIZ_TRAINER_THREAD_H

#include "ddpm/dataset.h"
#include "ddpm/history.h"
#include "ddpm/trainer.h"
#include "weights_buffer.h"

enum { VIZ_LOSS_BANDS = 20 };

/* The learning filmstrip (ddpm/history.h) noises this image of the training
 * data with this seed's locked noise: the same inputs for every run, live or
 * bundled, so that their rows compare. */
enum { VIZ_FILM_DIGIT = 0 };
#define VIZ_FILM_SEED 20261206u

typedef enum {
    VIZ_TRAIN_IDLE,      /* no run yet: the published weights are the untrained init */
    VIZ_TRAIN_RUNNING,
    VIZ_TRAIN_PAUSED,
    VIZ_TRAIN_FAILED,    /* the loss diverged or a command failed; reset to recover */
} viz_train_state;

typedef struct viz_trainer_options {
    const ddpm_dataset *data;   /* borrowed; must outlive the trainer */
    char preset[32];            /* the network of a scratch run ("tiny", "mlp") */
    int batch;                  /* 0 = the preset's */
    uint64_t seed;
    int publish_every;          /* steps between weight snapshots, >= 1 (and at most one
                                   snapshot, and one notify, every 20 ms) */
    /* Called by the thread after each step and each finished command, e.g. to
     * wake the UI's event loop; must be thread-safe.  NULL for none. */
    void (*notify)(void *ctx);
    void *notify_ctx;
    char history_dir[4096];     /* non-empty: each snapshot is also written there (F16) */
    int history_first;          /* the first snapshot step (then doubling); 0 = DDPM_HISTORY_FIRST */
    bool deterministic;         /* a replay: weights published after every step and the
                                   filmstrip row every FILM_STEPS steps (not by wall time),
                                   and no step before viz_trainer_set_step_limit allows one */
} viz_trainer_options;

viz_trainer_options viz_trainer_options_default(const ddpm_dataset *data);

typedef struct viz_train_status {
    viz_train_state state;
    bool has_run;               /* a run exists (created by train, reset or continue) */
    bool busy;                  /* a command (loading, saving, creating) is under way */
    char busy_what[64];
    int64_t step;
    double loss, loss_smooth;   /* last step, and smoothed */
    double images_per_s;
    char origin[160];           /* "scratch (tiny preset)" or "continued from <name>" */
    ddpm_run_config run;        /* of the live network */
    uint64_t history_version;
    bool yielding;              /* running, but holding between steps for the sampler */
    bool stepping;              /* a training step is under way (a hold or pause waits for it) */
    int run_id;                 /* bumped by every new run (reset, continue, new points) */
    double seconds;             /* time this run has spent in training steps */
} viz_train_status;

/* A snapshot of the live run's EMA weights, taken at the doubling steps
 * (ddpm_history_is_snapshot_step) and when asked (viz_trainer_snapshot). */
typedef struct viz_snapshot {
    int run_id;
    int64_t step;
    double seconds;             /* of training, as viz_train_status.seconds */
    ddpm_run_config run;
    size_t n;
    float *weights;             /* (n) owned */
    float *film;                /* (DDPM_FILM_N, per) x0-hat of the filmstrip, or NULL (points); owned */
} viz_snapshot;

void viz_snapshot_free(viz_snapshot *s);

typedef enum { VIZ_TRAIN_EVENT_INFO, VIZ_TRAIN_EVENT_SAVED, VIZ_TRAIN_EVENT_ERROR } viz_train_event_kind;

typedef struct viz_train_event {
    viz_train_event_kind kind;
    char text[600];
} viz_train_event;

/* The UI's copy of the loss history.  Arrays are owned by the struct. */
typedef struct viz_loss_history {
    size_t n, cap;
    int64_t *step;              /* (n) */
    float *loss;                /* (n) per step */
    float *smooth;              /* (n) exponentially smoothed, bias-corrected */
    double band_loss[VIZ_LOSS_BANDS];   /* recent mean loss for t in band b of T/VIZ_LOSS_BANDS */
    int64_t band_count[VIZ_LOSS_BANDS];
    int T;
    uint64_t version;           /* 0: never copied */
} viz_loss_history;

void viz_loss_history_free(viz_loss_history *h);

typedef struct viz_trainer viz_trainer;

int viz_trainer_start(viz_trainer **out, const viz_trainer_options *o, ddpm_error *err);
/* Sets quit, wakes the thread, joins it (at most one training step) and frees all. */
void viz_trainer_stop(viz_trainer *vt);

/* Commands.  Non-blocking. */
void viz_trainer_train(viz_trainer *vt);        /* start from scratch if no run, else resume */
void viz_trainer_pause(viz_trainer *vt);
void viz_trainer_reset(viz_trainer *vt, bool run_after);   /* a fresh scratch run */
/* Continue (fine-tune) from a checkpoint's weights; label names it in the UI. */
void viz_trainer_continue_from(viz_trainer *vt, const char *path, const char *label, bool run_after);
/* Trains on other points from now on (the 2D world's data sets, or points
 * drawn with the mouse): pts (n, D) are copied; the run starts again from
 * scratch on them (the network stays the preset's, with D inputs), named
 * `name` in the UI.  A dataset given at start is no longer used. */
void viz_trainer_set_points(viz_trainer *vt, const char *name, const float *pts, size_t n, int D,
                            bool run_after);
/* Saves only the EMA weights, what sampling uses (ddpm_trainer_export), as
 * a checkpoint `ddpm sample` loads; an event says where. */
void viz_trainer_export(viz_trainer *vt, const char *path);
/* Saves the full training state to path (atomically); "{step}" in path
 * becomes the step saved, zero-padded.  An event says where. */
void viz_trainer_save(viz_trainer *vt, const char *path);

/* Holds a running training between steps while on (calls nest: each on needs
 * an off), so that a sampling job can have both cores of a two-core machine;
 * a step under way finishes first, and commands are still carried out.
 * Non-blocking; safe from any thread. */
void viz_trainer_yield(viz_trainer *vt, bool on);
/* Lends a core while on (calls nest): training goes on, on one thread, from
 * its next step, so that a one-thread sampling job and the training do not
 * fight over two cores (ddpm_trainer_limit_threads; results do not change).
 * Non-blocking; safe from any thread. */
void viz_trainer_lend(viz_trainer *vt, bool on);

void viz_trainer_get_status(viz_trainer *vt, viz_train_status *st);
/* A replay (app_record.c): the trainer takes no step past `limit` (it waits
 * there, as paused), so training goes by recorded steps, not by wall time;
 * -1 lifts the limit. */
void viz_trainer_set_step_limit(viz_trainer *vt, int64_t limit);
/* Copies the history into h when it changed since h->version; returns true then. */
bool viz_trainer_copy_history(viz_trainer *vt, viz_loss_history *h);
/* Pops the oldest snapshot the UI has not taken yet (ownership moves to
 * out); false when there is none. */
bool viz_trainer_poll_snapshot(viz_trainer *vt, viz_snapshot *out);
/* Takes a snapshot of the current step (queued like every command). */
void viz_trainer_snapshot(viz_trainer *vt);
/* The filmstrip of the live weights, refreshed about every two seconds of
 * training: copies (DDPM_FILM_N, per) floats into film (cap floats) when its
 * version differs from *version, and returns true then. */
bool viz_trainer_copy_film(viz_trainer *vt, float *film, size_t cap, int64_t *step, uint64_t *version);
/* Pops the oldest event; false when there is none. */
bool viz_trainer_poll_event(viz_trainer *vt, viz_train_event *ev);
/* True while commands are queued or being carried out (tests wait on it). */
bool viz_trainer_pending(viz_trainer *vt);

/* The live weights (owned by vt). */
viz_weights *viz_trainer_weights(viz_trainer *vt);

#endif
