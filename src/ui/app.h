/* app.h: the visualizer application: its state, the frame loop and the
 * pieces the panels share.  Only the main thread touches any of this; the
 * trainer and sampler threads are reached through their bridges.
 *
 *   viz_app *a;
 *   if (viz_app_create(&a, &opt, &err) != 0) ...;        // window, or headless surface
 *   while (!a->quit) viz_app_frame(a, dt);               // poll, ui, draw, present
 *   viz_app_free(a);                                     // stops the threads
 *
 * Panels live in panel_*.c, one per file; each draws into the rectangle the
 * layout gives it and edits a->p (the sliders) or calls the bridges.
 */
#ifndef VIZ_APP_H
#define VIZ_APP_H

#include <SDL.h>

#include "ddpm/dataset.h"
#include "ddpm/image.h"
#include "draw.h"
#include "layout.h"
#include "models.h"
#include "raster.h"
#include "tone.h"
#include "sampler_thread.h"
#include "study_thread.h"
#include "trainer_thread.h"
#include "ui.h"
#include "viz_params.h"
#include "viz_playback.h"

typedef struct viz_recording viz_recording;   /* app_record.c */
typedef struct viz_rtcurve viz_rtcurve;       /* app_rtcurve.c */
enum { VIZ_RTCURVE_N = 9 };                   /* its points: t = 0.1 T .. 0.9 T */

typedef struct viz_options {
    const char *model_path;      /* --model: also selected at start */
    const char *models_dir;      /* NULL: <assets>/models */
    const char *font_dir;        /* NULL: <assets>/fonts */
    const char *export_dir;      /* where P / Shift+P / Ctrl+S write */
    const char *screenshot;      /* headless: capture to this PNG and exit */
    int width, height;
    int frames;                  /* headless: frames to run before the capture */
    bool lecture, fullscreen, show_fps;
    double train_seconds;        /* > 0: train from the start for this long (headless waits) */
    const char *save_live;       /* when the run ends: the live model's sampling weights to this file */
    const char *save_history;    /* the live run's snapshots go to this folder (F16) */
    const char *history_dir;     /* the bundled history; NULL: <assets>/history */
    int history_first;           /* the live run's first snapshot step; 0: DDPM_HISTORY_FIRST (tests: sooner) */
    bool no_window;              /* a timed run (--train-seconds, --save-live) without a window */
    int train_batch;             /* 0: the preset's */
    double quit_after;           /* windowed smoke tests: quit after this many seconds */
    viz_settings settings;       /* --set */
    const char *record;          /* --record: log the input here (written when the app ends) */
    viz_recording *replay;       /* --replay, loaded (viz_replay_load); the app takes it over */
} viz_options;

void viz_options_default(viz_options *o);
/* No window: a screenshot, or a timed live training that saves its model
 * (--train-seconds with --save-live) with --no-window or no display. */
bool viz_options_headless(const viz_options *o);

enum { VIZ_MAX_BANNERS = 6, VIZ_MAX_TOASTS = 4 };

typedef enum { VIZ_LEVEL_INFO, VIZ_LEVEL_OK, VIZ_LEVEL_WARN, VIZ_LEVEL_ERROR } viz_level;

typedef struct viz_message {
    char text[700];
    viz_level level;
    double until;                /* toasts: when it disappears */
} viz_message;

/* What one side of the shown trajectory looks like at the current frame. */
typedef struct viz_frame_view {
    const viz_result *r;
    const viz_traj *tr;
    int side;
    int k;                       /* the frame shown: playback frame, limited to what is done */
    int S, done;
    bool complete;               /* every step finished */
    int t;                       /* timestep of frame k (-1: clean) */
    double abar;                 /* its alpha_bar in the side's schedule (1: clean) */
    const float *x_t;            /* (B, per) frame k */
    const float *x0_hat;         /* (B, per) prediction at frame k (frame S: the result) */
    const float *x_prev;         /* (B, per) frame k + 1, or NULL at the end */
    int step;                    /* the reverse step whose terms belong to this frame (-1: none) */
} viz_frame_view;

/* What a world (images, or 2-D points) keeps while the other one is shown:
 * its models, its live trainer and its sliders (app_world.c swaps them). */
typedef struct viz_world_state {
    bool started;                /* made (the points world is made on first entry) */
    viz_models models;
    viz_trainer *trainer;
    viz_train_status train;
    viz_loss_history history;
    ddpm_schedule_kind live_schedule_seen;
    viz_params p;
    bool was_training;           /* its training ran when the world was left: it resumes on return */
} viz_world_state;

/* The training history the scrubber and the filmstrip show (app_history.c):
 * the live runs' snapshots, and the bundled history (assets/history), which
 * shows until the live run has snapshots of its own. */
typedef struct viz_snap {
    ddpm_checkpoint ck;          /* run, step, seconds, net, and the EMA weights (ck.ema) */
    float *film;                 /* (DDPM_FILM_N, per) x0-hat of the filmstrip, or NULL */
    int run_id;                  /* the live run it came from; 0: the bundled history */
} viz_snap;
enum { VIZ_SNAPS_MAX = 96 };     /* kept until exit (jobs borrow them): 8 runs of 12 */
typedef struct viz_history_store {
    viz_snap items[VIZ_SNAPS_MAX];
    int n;
    bool loaded;                 /* the bundled history was looked for */
    int n_bundled;
    char bundled_dir[4096];
    int shown_run;               /* the run whose snapshots are shown (0 bundled, -1 none) */
    int shown[DDPM_HISTORY_MAX + 1];   /* items of that run, by step */
    int n_shown;
    size_t per;                  /* floats per filmstrip image (0: none) */
    float *film_xt;              /* (DDPM_FILM_N, per) the filmstrip's noisy inputs */
    ddpm_schedule_config film_sched;   /* the schedule they were made with */
    float *film_now;             /* (DDPM_FILM_N, per) the live weights' row */
    int64_t film_now_step;       /* -1: none yet */
    bool loss_view;              /* the training panel shows the loss by t instead of the filmstrip */
    int film_cols;               /* columns the filmstrip drew last (x_t's included; 0: none) */
    uint64_t film_version;
    bool full_warned;
} viz_history_store;

/* The learned field of the 2D world on a grid, cached (app_world.c). */
enum { VIZ_FIELD_GRID = 21 };
typedef struct viz_field_cache {
    uint64_t key;                /* model, weights version, t, kind; 0 = nothing */
    float x0[VIZ_FIELD_GRID * VIZ_FIELD_GRID * 2];     /* x0-hat at each grid point */
    float score[VIZ_FIELD_GRID * VIZ_FIELD_GRID * 2];  /* -eps-hat / sqrt(1 - alpha_bar) */
    float x_min, x_max, y_min, y_max;                   /* the grid spans this view */
    int t;
    bool ok;
} viz_field_cache;

typedef struct viz_app {
    viz_options opt;
    bool headless;
    viz_recording *recording;    /* --record or --replay (app_record.c), or NULL */
    SDL_Event queued[16];        /* viz_app_queue_event: handled by the next frame */
    int n_queued;
    SDL_Window *window;
    SDL_Surface *surface;        /* headless render target */
    SDL_Renderer *renderer;
    viz_text *text;
    viz_gfx *gfx;            /* all drawing; caches the panels */
    int panels_drawn;        /* panels redrawn in the last frame (the rest came from the cache) */
    viz_draw draw;
    viz_ui ui;
    viz_layout layout;
    int w, h;                    /* renderer output, pixels */
    float mouse_scale;           /* window coordinates -> renderer pixels */
    Uint32 wake_event;           /* pushed by the worker threads */

    bool quit;                   /* leave the loop */
    bool lecture, fullscreen, show_help, show_fps, controls_hidden;
    bool quit_dialog;            /* "Save & quit / Quit / Cancel" is open */
    bool quit_after_save;        /* waiting for the save to land, then quit */
    bool export_view_pending;    /* P: read the next drawn frame back into a PNG */
    double started_at, now;

    /* data and workers */
    ddpm_dataset digits;         /* the training split: forward panel and trainer */
    bool have_digits;
    ddpm_dataset fashion;        /* Fashion-MNIST's, opened when a model trained on it is shown */
    bool have_fashion, fashion_tried;
    viz_models models;
    viz_trainer *trainer;
    viz_sampler *sampler;
    viz_study *study;            /* the study view's worker */
    viz_study_result *study_shown;   /* its newest grid (a reference) */
    viz_params study_submitted;  /* the params of the last study job */
    bool study_has_submitted;
    viz_train_status train;      /* copied every frame */
    ddpm_schedule_kind live_schedule_seen; /* to notice a live run with another schedule */
    viz_loss_history history;
    viz_history_store snaps;     /* the scrubber's snapshots and the filmstrip */
    bool training_requested;     /* headless --train-seconds */

    /* what the sliders say, and what was last sent to the sampler */
    viz_params p;
    viz_params submitted;
    bool has_submitted;
    uint64_t submitted_weights;  /* live weights version of the last job */
    double submitted_at;
    double refresh_cost;         /* seconds on one core of the last finished job */
    uint64_t costed_job;         /* the job refresh_cost came from */
    int last_S;                  /* playback steps, to remap the playhead */
    viz_playback pb;
    viz_view view_before_compare; /* M returns to it */
    viz_result *shown;           /* the trajectory on screen (a reference) */
    double newest_since;         /* when a newer result than `shown` appeared */
    uint64_t newest_id;

    /* schedules for display: selected kind, and the model's own */
    ddpm_schedule sched, model_sched;
    ddpm_schedule_config sched_cfg, model_sched_cfg;
    bool sched_ok;
    int *ts;                     /* (T) the timesteps the sampler will visit */
    int n_ts;
    ddpm_sampler_config ts_cfg;  /* what ts was computed for */
    int ts_start;                /* the round trip's t they start from (0: from T) */
    int roundtrip_last;          /* the round trip's t when J turned it off */
    viz_rtcurve *rtcurve;        /* the round trip's error against t, or NULL */
    bool rtcurve_pending;        /* --set rtcurve=1: start it at the next frame */
    int probe_x, probe_y;        /* the pixel probe (Q, a click on x_t): -1 off */
    int probe_last;              /* its pixel (y * W + x) when Q turned it off */

    /* the 2D world (app_world.c) */
    viz_world_state away;        /* the world not shown */
    ddpm_dataset points;         /* the shown point set's training split (or the drawn points) */
    ddpm_dataset points_held;    /* its held-out split: what the density panel scores against */
    int points_dataset;          /* which set `points` holds (-1: none yet) */
    uint64_t points_version;     /* bumped whenever `points` changes */
    float *drawn;                /* (n_drawn, 2) points drawn with the mouse */
    size_t n_drawn, drawn_cap;
    bool drawing;                /* draw mode: strokes in the data panel add points */
    bool drawn_dirty;            /* drawn since the trainer last got the drawing */
    float *fwd_pts;              /* (fwd_n, 2) the data points the forward panel noises, */
    float *fwd_pts_eps;          /* (fwd_n, 2) with their fixed noise */
    int fwd_n;
    uint64_t fwd_key;            /* (points_version, seed) they were made for */
    viz_field_cache field;
    ddpm_net *field_net;         /* the live network the field panel evaluates */
    ddpm_net_workspace *field_ws;  /* an inference workspace for the grid, of field_ws_net */
    const ddpm_net *field_ws_net;
    float *field_weights;        /* a copy of the live weights it last took */
    uint64_t field_weights_version;
    double score_floor;          /* the density score's floor for the shown point set (0: not yet) */
    int score_floor_sets;
    uint64_t score_floor_version; /* the points_version it was computed for */
    uint64_t score_id;           /* the result the density score belongs to */
    ddpm_points_score score;
    bool score_ok;

    /* forward panel: the digit and its fixed noise */
    float *fwd_x0, *fwd_eps, *fwd_xt, *fwd_v;   /* (per) each; v: a v-model's target at t */
    int fwd_digit;
    uint64_t fwd_source;         /* what fwd_x0 holds: a digit's index, or VIZ_CANVAS_SOURCE + the drawing's version */
    uint64_t submitted_source;   /* ... when the last job was submitted (a round trip starts from it) */
    /* the drawing (app_canvas.c) */
    float *canvas;               /* (H * W) in [-1, 1], or NULL */
    bool canvas_on;              /* the forward panel's x0 is the drawing */
    bool canvas_editing;         /* the mouse paints on the forward panel */
    int brush;                   /* 1..3 */
    uint64_t canvas_version;
    uint64_t fwd_seed;
    const ddpm_dataset *fwd_data; /* the dataset fwd_x0 came from (viz_app_images) */

    /* textures and a staging buffer */
    viz_image_tex tex[28];
    SDL_Rect tex_rect[28];       /* where each slot was drawn this frame (tests read it) */
    uint32_t *pixels;
    size_t pixels_cap;
    float *scratch;              /* float staging (difference images) */
    size_t scratch_cap;

    viz_message banners[VIZ_MAX_BANNERS];
    int n_banners;
    viz_message toasts[VIZ_MAX_TOASTS];
    int n_toasts;

    /* frame timing, and a log of both for --fps (printed at exit) */
    double fps, frame_ms, last_frame;
    double *frame_times;         /* (frame_cap) seconds between frames */
    int n_frame_times, frame_cap;
    double frames_training;      /* frames drawn while training ran */
    double frames_held;          /* of those, frames while it held for a sampling job */
    int64_t train_step0, train_step1; /* its step at the first and last of those frames */
    double train_t0, train_t1;
    uint64_t reported_job;       /* last finished job written to the log */
    int frame_count;
    bool dirty;                  /* something changed: draw again soon */
} viz_app;

/* Texture slots. */
enum {
    VIZ_TEX_FWD_X0, VIZ_TEX_FWD_XT, VIZ_TEX_FWD_EPS,
    VIZ_TEX_XT0, VIZ_TEX_X00, VIZ_TEX_XT1, VIZ_TEX_X01, VIZ_TEX_DIFF_XT, VIZ_TEX_DIFF_X0,
    VIZ_TEX_TERM0, VIZ_TEX_TERM1, VIZ_TEX_TERM2, VIZ_TEX_TERM_SUM, VIZ_TEX_STRIP,
    VIZ_TEX_PTS_FWD, VIZ_TEX_PTS_A, VIZ_TEX_PTS_B, VIZ_TEX_PTS_FIELD, VIZ_TEX_PTS_DENSITY, VIZ_TEX_FILM,
    VIZ_TEX_FWD_V, VIZ_TEX_STUDY, VIZ_TEX_RT_X0, VIZ_TEX_RT_OUT, VIZ_TEX_RT_ERR,
    VIZ_TEX_COUNT
};
_Static_assert(VIZ_TEX_COUNT <= (int)(sizeof ((viz_app *)0)->tex / sizeof ((viz_app *)0)->tex[0]),
               "viz_app.tex has a slot for every texture");
_Static_assert(VIZ_TEX_COUNT <= (int)(sizeof ((viz_app *)0)->tex_rect / sizeof ((viz_app *)0)->tex_rect[0]),
               "viz_app.tex_rect has a rectangle for every texture");

int viz_app_create(viz_app **out, const viz_options *opt, ddpm_error *err);
/* One frame: events, state, widgets, drawing, present.  dt in seconds. */
void viz_app_frame(viz_app *a, double dt);
/* Draws the current state once more without presenting, then reads it back. */
int viz_app_capture(viz_app *a, ddpm_image *out, ddpm_error *err);
/* The whole view state as --set text: the params, the model(s), the
 * playhead (paused) and the window's toggles (app_bookmarks.c). */
int viz_app_state_spec(viz_app *a, char *buf, size_t cap);
/* Draw a digit (app_canvas.c): A opens or closes the canvas; the drawing is
 * the forward panel's x0 while canvas_on (the digit buttons go back). */
#define VIZ_CANVAS_SOURCE (1ull << 40)
void viz_app_canvas_open(viz_app *a);
void viz_app_canvas_clear(viz_app *a);
void viz_app_canvas_paint(viz_app *a, float fx, float fy);   /* at canvas pixel coordinates */
int viz_app_canvas_load_png(viz_app *a, const char *path, ddpm_error *err);
/* Q: the pixel probe on (the last pixel, or the middle) or off. */
void viz_app_toggle_probe(viz_app *a);
/* The round trip's error against t (app_rtcurve.c), on its own thread:
 * start (false for a live model, or none loaded), the points so far for
 * the current settings (0 when it was computed for others), stop. */
bool viz_app_rtcurve_start(viz_app *a);
int viz_app_rtcurve_points(const viz_app *a, const int **ts, const double **err);
uint64_t viz_app_rtcurve_key(const viz_app *a);
void viz_app_rtcurve_stop(viz_app *a);
/* J: the round trip on (single view, from the last t or 0.3 T) or off. */
void viz_app_toggle_roundtrip(viz_app *a);
/* Ctrl+N / N: keep the state in bookmark slot N (1..9) of
 * <export dir>/bookmarks.txt, or bring it back. */
void viz_app_bookmark_save(viz_app *a, int slot);
void viz_app_bookmark_restore(viz_app *a, int slot);
/* ---- recording and replay (app_record.c) ---- */
/* --record: starts the log with the size and the state; the log is written
 * (atomically) by viz_record_finish when the app ends. */
int viz_record_start(viz_app *a, const char *path, ddpm_error *err);
void viz_record_frame(viz_app *a, double dt);
void viz_record_event(viz_app *a, const SDL_Event *e);   /* coordinates in renderer pixels */
void viz_record_end_frame(viz_app *a);
int viz_record_finish(viz_app *a, ddpm_error *err);
void viz_recording_free(viz_recording *r);
/* --replay: reads a recording; its size and starting state go to w, h and state. */
int viz_replay_load(const char *path, viz_recording **out, int *w, int *h, char *state, size_t cap, ddpm_error *err);
/* A replayed frame: waits for the work of the frame before, feeds this
 * frame's events to viz_app_handle_event, sets the clock; returns its dt. */
double viz_replay_begin_frame(viz_app *a, double dt, viz_input *in);
bool viz_app_replaying(const viz_app *a);      /* deterministic mode: no wall time shown or used */
bool viz_replay_done(const viz_app *a);        /* every recorded frame has been played */
/* An input event for the next frame, as if the window had it (tests, and
 * headless runs); false when 16 are waiting already. */
bool viz_app_queue_event(viz_app *a, const SDL_Event *e);
/* One input event (mouse coordinates in renderer pixels), as the window's. */
void viz_app_handle_event(viz_app *a, viz_input *in, const SDL_Event *e);

/* Applies --set settings (viz_settings_parse) to a running app, as at start. */
int viz_app_apply_settings(viz_app *a, const viz_settings *s, ddpm_error *err);
void viz_app_free(viz_app *a);

/* ---- inside the app (app.c, app_jobs.c, app_keys.c, app_world.c) ------------------------ */

/* Shows world w: the other one's models, trainer and sliders are kept (its
 * training pauses, and resumes on return); the points world is made the
 * first time.  False, with a banner, when it cannot be made. */
bool viz_app_set_world(viz_app *a, viz_world w);
bool viz_app_points(const viz_app *a);
/* Each frame: the point set of p.dataset (loaded, or the drawing), the
 * forward panel's noised points, the trainer's data, the density score. */
void viz_app_update_points(viz_app *a);
/* The 2D world's view of the data: [x_min, x_max] x [y_min, y_max], square. */
void viz_app_points_view(const viz_app *a, float *x_min, float *x_max, float *y_min, float *y_max);
/* The field at the current t (computed when t, the model or its weights changed); NULL when none. */
const viz_field_cache *viz_app_field(viz_app *a);
/* Draw mode: a stroke at data coordinates (x, y) adds a few points around it. */
void viz_app_draw_points(viz_app *a, float x, float y);
/* Clears the drawing. */
void viz_app_clear_drawing(viz_app *a);
/* Hands the drawing to the trainer and trains on it. */
void viz_app_train_on_drawing(viz_app *a);

/* Each frame (images world): the bundled history (first call), the live
 * run's new snapshots and filmstrip row, and which snapshots are shown. */
void viz_app_update_history(viz_app *a);
/* Shown snapshot i (0 .. snaps.n_shown - 1), or NULL. */
const viz_snap *viz_app_snapshot(const viz_app *a, int i);
/* The snapshot the reverse panel samples (the live model with the scrubber
 * off "now"), or NULL. */
const viz_snap *viz_app_scrubbed(const viz_app *a);
void viz_app_history_free(viz_app *a);
/* Shows snapshot i (-1: the live weights now) in the reverse panel, on the live model. */
void viz_app_scrub_to(viz_app *a, int i);
/* The previous (dir < 0) or next snapshot; past the last comes "now". */
void viz_app_scrub_history(viz_app *a, int dir);

/* Selects model i (loading it); a broken file falls back to the live network with a banner. */
void viz_app_select_model(viz_app *a, int i);
/* Brings a->p into range for the selected model. */
void viz_app_clamp_params(viz_app *a);
/* The run config (network, schedule, prediction) of the selected model. */
const ddpm_run_config *viz_app_run_config(const viz_app *a);
/* The comparison of models (compare=model in the comparison view): B's
 * model entry and run config (A's when B's is not loaded yet). */
bool viz_app_compares_models(const viz_app *a);
const viz_model *viz_app_model_b(const viz_app *a);
const ddpm_run_config *viz_app_run_config_b(const viz_app *a);
/* Playback length of a result: its largest number of steps. */
int viz_result_steps(const viz_result *r);
void viz_app_submit_jobs(viz_app *a);
/* A worker's hold callback (viz_job.hold): both cores hold the training, one lends it one. */
void viz_app_hold_trainer(void *ctx, int threads, bool on);
/* Seconds between the refreshes that follow a running training (0: none). */
double viz_app_refresh_interval(const viz_app *a);
void viz_app_update_shown(viz_app *a);
/* The study view (app_study.c): submits a study job when its settings
 * changed, and takes the newest result. */
void viz_app_update_study(viz_app *a);
/* P in the study view: the study panel as a PNG and its cells as the CSV `ddpm sweep` writes. */
void viz_export_study(viz_app *a);
/* The same, returning the paths in made (headless: after --screenshot). */
int viz_export_study_files(viz_app *a, char *made, size_t cap, ddpm_error *err);
/* The `ddpm sweep` command that gives the study's numbers (for the footer and the export). */
void viz_study_command(const viz_app *a, const viz_study_result *r, char *buf, size_t cap);
void viz_app_handle_key(viz_app *a, const SDL_KeyboardEvent *e);

/* ---- shared by the panels (app.c) ---------------------------------------------------- */

/* Draws a panel's background and title; returns the content rectangle. */
SDL_Rect viz_panel_begin(viz_app *a, SDL_Rect r, const char *title, const char *subtitle);
/* The same, keeping `right` pixels of the title row free (tabs).  Title and
 * subtitle may list shorter versions, one per line (viz_label_fit); a
 * subtitle that fits in none is left out. */
SDL_Rect viz_panel_begin_reserve(viz_app *a, SDL_Rect r, const char *title, const char *subtitle, int right);
/* The content rectangle viz_panel_begin gives, without drawing: for a panel
 * that lays itself out before it draws its title. */
SDL_Rect viz_panel_content(viz_app *a, SDL_Rect r);
/* The model entry that is selected, and its schedule and prediction. */
const viz_model *viz_app_model(const viz_app *a);
/* The images the forward panel shows: the current model's dataset (Fashion-MNIST
 * for a model trained on it, when installed), else the digits.  Both are 28x28. */
const ddpm_dataset *viz_app_images(const viz_app *a);
int viz_app_T(const viz_app *a);
bool viz_app_mismatch(const viz_app *a);
/* The shown trajectory at the current frame; false when there is none. */
bool viz_app_frame_view(viz_app *a, int side, viz_frame_view *v); /* aligned by t (below) */
/* Two sides of different step counts (10 against 50) visit different
 * timesteps: the lead side (the one with more steps, 0 otherwise) follows the
 * playback, and viz_app_frame_view gives the other one's visited frame whose
 * t is nearest to the lead's, so every panel shows them aligned by t. */
int viz_app_lead_side(const viz_app *a);
/* True when the shown sides are two models of different schedules (T, betas
 * or kind): the other side's frame is then the one of nearest alpha_bar (the
 * comparison of schedules keeps equal t: that is its point). */
bool viz_app_aligned_by_level(const viz_app *a);
/* The current timestep the panels mark (-1: clean data). */
int viz_app_current_t(viz_app *a);
/* ARGB staging for n pixels (grows). */
uint32_t *viz_app_pixels(viz_app *a, size_t n);
float *viz_app_scratch(viz_app *a, size_t n);
/* Uploads B images (per = H * W floats each) as one grid texture (1 image: no grid). */
void viz_app_upload_images(viz_app *a, int slot, uint64_t key, const float *images, int B, int H, int W,
                           viz_tone tone, float m);
/* Draws texture slot `slot` fitted into area and records where (tex_rect). */
SDL_Rect viz_app_draw_tex(viz_app *a, int slot, SDL_Rect area);
void viz_app_toast(viz_app *a, viz_level level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void viz_app_banner(viz_app *a, viz_level level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Actions the keys, buttons and dialogs share. */
void viz_app_request_quit(viz_app *a);
/* The quit dialog's three answers. */
typedef enum { VIZ_QUIT_SAVE, VIZ_QUIT_NOW, VIZ_QUIT_CANCEL } viz_quit_choice;
void viz_app_quit_choice(viz_app *a, viz_quit_choice c);
void viz_app_toggle_training(viz_app *a);
void viz_app_save_checkpoint(viz_app *a);
/* --save-live: pauses the live training, writes its sampling (EMA) weights
 * to path and waits for the file; DDPM_ERR with the trainer's message. */
int viz_app_save_live(viz_app *a, const char *path, ddpm_error *err);
/* --save-history: pauses the live training and keeps a last snapshot of it
 * (written to the history folder); DDPM_ERR with the trainer's message. */
int viz_app_keep_snapshot(viz_app *a, ddpm_error *err);
void viz_app_continue_training(viz_app *a);
void viz_app_export_view(viz_app *a);
void viz_app_export_trajectory(viz_app *a);
void viz_app_set_lecture(viz_app *a, bool on);
/* export.c: the drawn frame to a PNG (P, done between drawing and presenting);
 * the shown trajectory as <base>.gif and <base>-strip.png (made: the paths). */
int viz_export_read_view(viz_app *a, const char *path, ddpm_error *err);
void viz_export_pending_view(viz_app *a);
int viz_export_trajectory_files(viz_app *a, const char *base, char *made, size_t cap, ddpm_error *err);
void viz_app_toggle_fullscreen(viz_app *a);

/* ---- the 2D world's plots (panel_points.c) -----------------------------------------------
 * A square plot of the data view drawn into pixels (raster.h) and shown as
 * one texture, with its tick labels:
 *   viz_points_canvas c;
 *   if (viz_points_canvas_begin(a, &c, area, VIZ_TEX_PTS_A, key)) { ... draw into c.r via c.pl ... }
 *   viz_points_canvas_end(a, &c);            // uploads when drawn, shows it, labels the axes
 * begin returns false (nothing to draw) when the texture already holds key. */
typedef struct viz_points_canvas {
    SDL_Rect plot;               /* where the plot lands on screen */
    viz_raster r;
    viz_plot2d pl;
    int slot;
    uint64_t key;
    bool drawing;
} viz_points_canvas;
bool viz_points_canvas_begin(viz_app *a, viz_points_canvas *c, SDL_Rect area, int slot, uint64_t key);
void viz_points_canvas_end(viz_app *a, viz_points_canvas *c);
/* The data set's points, faint, into the canvas. */
void viz_points_draw_data(viz_app *a, viz_points_canvas *c, float alpha);
/* Colours of the 2D world (0xRRGGBB), the same in every panel. */
enum {
    VIZ_RGB_DATA = 0x5A8CFF,     /* the data: blue */
    VIZ_RGB_PARTICLE = 0xFFAA28, /* x_t: orange */
    VIZ_RGB_X0 = 0x50DCE6,       /* x0-hat: cyan */
    VIZ_RGB_FIELD = 0x9BE37A,    /* the field: green */
};

/* ---- panels (panel_*.c, overlay.c) ----------------------------------------------------- */

void viz_panel_header(viz_app *a, SDL_Rect r);
void viz_panel_controls(viz_app *a, SDL_Rect r);
void viz_panel_forward(viz_app *a, SDL_Rect r);
void viz_panel_reverse(viz_app *a, SDL_Rect r);
void viz_panel_schedule(viz_app *a, SDL_Rect r);
void viz_panel_training(viz_app *a, SDL_Rect r);
void viz_panel_decomposition(viz_app *a, SDL_Rect r);
void viz_panel_timeline(viz_app *a, SDL_Rect r);
void viz_panel_study(viz_app *a, SDL_Rect r);
/* the 2D world (panel_points.c, panel_field.c, panel_density.c) */
void viz_panel_points_forward(viz_app *a, SDL_Rect r);
void viz_panel_points_reverse(viz_app *a, SDL_Rect r);
void viz_panel_field(viz_app *a, SDL_Rect r);
void viz_panel_density(viz_app *a, SDL_Rect r);
void viz_overlay_banners(viz_app *a);
int viz_overlay_banners_height(viz_app *a);   /* the space banners take under the header */
void viz_overlay_toasts(viz_app *a);
void viz_overlay_help(viz_app *a);
void viz_panel_probe(viz_app *a, SDL_Rect r);   /* in the schedule panel's place while the probe is on */
void viz_overlay_quit_dialog(viz_app *a);

#endif
