/* viz_cmd.c: `ddpm viz`: flags, the windowed loop with its frame pacing,
 * and the headless screenshot mode; turns failures into exit codes
 * (0 fine, 1 runtime failure, 2 bad input or no display). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <dirent.h>

#include "app.h"
#include "args.h"
#include "cli_util.h"
#include "commands.h"
#include "ddpm/fileio.h"

static const char *SUMMARY =
    "Opens the visualizer: the forward noising of a digit, the reverse trajectory with x_t\n"
    "and its prediction x0-hat at every step, the schedule, step decomposition, a comparison\n"
    "view on identical noise, and live training in the background.  Press H for every key.\n"
    "\n"
    "  ddpm viz                                   # the bundled model\n"
    "  ddpm viz --model runs/tiny/model.safetensors --lecture\n"
    "  ddpm viz --screenshot slide.png --set eta=1,steps=20,mode=grid,frame=end\n"
    "\n"
    "--screenshot renders without a display (software renderer, no window), waits for\n"
    "sampling to finish and writes the PNG: for tests and for making slides.\n"
    "--set takes key=value pairs: eta, steps, schedule, spacing, sampler (ddim|ddpm),\n"
    "variance (DDPM's: small = posterior beta~, large = beta), seed,\n"
    "clip, mode (single|grid|compare), decomp, focus,\n"
    "speed, digit, model (a name from assets/models or 'live'), phase (forward|reverse),\n"
    "frame (a step index or 'end'), t (forward-process t), play, lecture, help, fps, controls.\n"
    "The comparison (mode=compare) samples two configurations, A and B, on the same x_T and\n"
    "noise: compare (sampler|eta|steps|schedule|model|spacing|variance|clip) picks the one\n"
    "setting that differs, B's value is model_b, sampler_b, eta_b, steps_b, spacing_b,\n"
    "schedule_b, variance_b or clip_b, and everything else follows A:\n"
    "  ddpm viz --screenshot eps-v.png --set mode=compare,compare=model,model_b=v-linear,frame=end\n"
    "The study (mode=study, key Z) samples eta x steps for the model and scores every cell as\n"
    "`ddpm sweep` does (same numbers): study_eta=0,0.5,1,study_steps=10,20,50,study_n=100; headless,\n"
    "its panel (PNG) and CSV also go to --export-dir:\n"
    "  ddpm viz --screenshot study.png --set mode=study,model=v-linear\n"
    "Lecture tools: roundtrip=T (J: the digit noised to T, denoised back; rtcurve=1 adds the\n"
    "error against t), probe=X:Y or off (Q: one pixel over t, and x_t against N(0, 1)),\n"
    "draw=FILE.png, blank or off (A: draw the digit), train_tab=filmstrip|loss.  Ctrl+1..9\n"
    "keeps the view in a bookmark (<export dir>/bookmarks.txt), 1..9 brings it back;\n"
    "--record FILE logs a session, --replay FILE plays it back deterministically:\n"
    "  ddpm viz --screenshot trip.png --set roundtrip=500,rtcurve=1,digit=3,frame=end";

/* True when dir holds a snapshot file (step-*.safetensors). */
static bool history_has_snapshots(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return false;
    bool found = false;
    for (struct dirent *e; !found && (e = readdir(d));)
        found = strncmp(e->d_name, "step-", 5) == 0 && strstr(e->d_name, ".safetensors") != NULL;
    closedir(d);
    return found;
}

static int parse_size(const char *s, int *w, int *h, ddpm_error *err)
{
    char *end = NULL;
    long a = strtol(s, &end, 10);
    if (end == s || (*end != 'x' && *end != 'X')) return ddpm_fail(err, "--size %s: expected WxH, e.g. 1920x1080", s);
    const char *b_s = end + 1;
    long b = strtol(b_s, &end, 10);
    if (end == b_s || *end) return ddpm_fail(err, "--size %s: expected WxH, e.g. 1920x1080", s);
    if (a < 1 || b < 1 || a > 100000 || b > 100000) return ddpm_fail(err, "--size %s: width and height must be positive", s);
    *w = (int)a;
    *h = (int)b;
    return DDPM_OK;
}

/* Whether the next frame is due at once.  Training alone does not count: the
 * trainer wakes the loop after each step (the only time its plots change),
 * which leaves the CPU to the trainer and the sampler; input wakes it too. */
static bool animating(const viz_app *a)
{
    return a->pb.playing || a->dirty || a->n_toasts > 0 || a->show_fps || a->ui.active != 0 ||
           (a->sampler && viz_sampler_busy(a->sampler));
}

/* Frame pacing: 60 fps.  (It was 40 while a job ran, when a frame cost
 * 12 ms of CPU in Mesa's llvmpipe; with the panel cache and SDL's software
 * renderer there (gfx.h, app.c) a frame costs 1-2 ms, and a 4x4 DDIM-50 grid
 * under Xvfb with training takes as long at 60 fps as at 40: 1.12-1.13 s
 * against 1.11-1.15 s.) */
static const double FRAME_BUDGET = 1.0 / 60.0;

static int run_window(viz_app *a)
{
    double last = ddpm_now();
    while (!a->quit) {
        const double now = ddpm_now();
        double dt = now - last;
        if (dt > 0.25) dt = 0.25; /* after a stall, do not jump the playhead */
        last = now;
        viz_app_frame(a, dt);
        if (a->opt.quit_after > 0 && now - a->started_at > a->opt.quit_after) a->quit = true;
        /* a timed run that saves its model ends with its training time */
        if ((a->opt.save_live || a->opt.save_history) && a->opt.train_seconds > 0 && now - a->started_at > a->opt.train_seconds)
            a->quit = true;
        /* pace while something moves (vsync may already do it); when idle,
         * sleep until an event arrives (workers push one) */
        const double spent = ddpm_now() - now, budget = FRAME_BUDGET;
        if (animating(a)) {
            if (spent < budget) SDL_Delay((Uint32)((budget - spent) * 1000.0));
        } else {
            SDL_WaitEventTimeout(NULL, 250);
        }
    }
    return 0;
}

static int run_headless(viz_app *a, const char *path, const char *trajectory)
{
    const double dt = 1.0 / 60.0;
    /* a replay runs its own frames, to the end of the recording */
    if (viz_app_replaying(a)) {
        int n = 0;
        while (!viz_replay_done(a) && !a->quit) viz_app_frame(a, dt), n++;
        viz_app_frame(a, 0.0);
        fprintf(stderr, "ddpm viz: replayed %d frames; the live training at step %lld\n", n, (long long)a->train.step);
    } else
        for (int i = 0; i < a->opt.frames; i++) viz_app_frame(a, dt);
    if (a->opt.train_seconds > 0) {
        /* let the trainer run for real time, drawing now and then */
        const double end = a->started_at + a->opt.train_seconds;
        while (ddpm_now() < end) {
            viz_app_frame(a, dt);
            SDL_Delay(50);
        }
        /* pause and wait until at least one step has landed */
        for (int i = 0; i < 600 && a->train.step < 1 && a->train.state != VIZ_TRAIN_FAILED; i++) {
            SDL_Delay(50);
            viz_app_frame(a, dt);
        }
        viz_trainer_pause(a->trainer);
        for (int i = 0; i < 600 && viz_trainer_pending(a->trainer); i++) SDL_Delay(20);
        viz_app_frame(a, dt);
    }
    if (!path) return 0; /* a timed training that only saves its model (--save-live) */
    /* wait for sampling to finish, so the capture shows whole trajectories */
    for (int round = 0; round < 4; round++) {
        if (!viz_sampler_wait_idle(a->sampler, 300.0)) {
            fprintf(stderr, "ddpm viz: sampling did not finish within 300 s; capturing anyway\n");
            break;
        }
        viz_app_frame(a, 0.0); /* picks up the result, may submit a follow-up job */
        if (!viz_sampler_busy(a->sampler)) break;
    }
    /* the round trip's curve: wait for its points */
    for (int i = 0; i < 120000 && a->rtcurve; i++) {
        const int *ts;
        const double *e;
        if (viz_app_rtcurve_points(a, &ts, &e) >= VIZ_RTCURVE_N) break;
        SDL_Delay(5);
    }
    /* the study view: wait for every cell and its score */
    if (a->p.view == VIZ_VIEW_STUDY) {
        viz_app_frame(a, 0.0);
        if (!viz_study_wait_idle(a->study, 600.0))
            fprintf(stderr, "ddpm viz: the study did not finish within 600 s; capturing anyway\n");
    }
    viz_app_frame(a, 0.0);
    ddpm_image img;
    ddpm_error err = {0};
    if (viz_app_capture(a, &img, &err) != DDPM_OK) {
        fprintf(stderr, "ddpm viz: %s\n", err.msg);
        return 1;
    }
    int rc = ddpm_png_write(path, &img, &err);
    ddpm_image_free(&img);
    if (rc != DDPM_OK) return ddpm_cli_bad_input("viz", &err);
    fprintf(stderr, "ddpm viz: wrote %s (%dx%d)\n", path, a->w, a->h);
    if (a->p.view == VIZ_VIEW_STUDY) { /* the study's panel and CSV, as P writes them */
        char made[4200];
        viz_app_frame(a, 0.0); /* the export reads the drawn frame */
        if (viz_export_study_files(a, made, sizeof made, &err) != DDPM_OK) return ddpm_cli_bad_input("viz", &err);
        fprintf(stderr, "ddpm viz: wrote %s\n", made);
    }
    if (trajectory) {
        char made[9000];
        if (viz_export_trajectory_files(a, trajectory, made, sizeof made, &err) != DDPM_OK)
            return ddpm_cli_bad_input("viz", &err);
        fprintf(stderr, "ddpm viz: wrote %s\n", made);
    }
    return 0;
}

int ddpm_cmd_viz(int argc, char **argv)
{
#ifdef __GLIBC__
    /* A trajectory is megabytes (up to 1000 steps x 2 images per sample):
     * allocations that large go straight to mmap and back to the system when
     * freed.  glibc would otherwise raise its mmap threshold after the first
     * such free and keep later ones in the heap, where the window's memory
     * floor creeps up with every job of a long session. */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
    viz_options o;
    viz_options_default(&o);
    const char *size = NULL, *set = NULL, *trajectory = NULL, *replay = NULL;
    bool force = false;
    const ddpm_arg_spec specs[] = {
        {"model", ARG_STRING, &o.model_path, 0, 0, "PATH", "a checkpoint to show (also listed with the bundled ones)"},
        {"models-dir", ARG_STRING, &o.models_dir, 0, 0, "DIR", "folder of bundled models (default <assets>/models)"},
        {"size", ARG_STRING, &size, 0, 0, "WxH", "window or screenshot size (default 1280x720)"},
        {"lecture", ARG_FLAG, &o.lecture, 0, 0, NULL, "lecture style: larger text, high contrast"},
        {"fullscreen", ARG_FLAG, &o.fullscreen, 0, 0, NULL, "start in fullscreen lecture mode (F11)"},
        {"fps", ARG_FLAG, &o.show_fps, 0, 0, NULL, "show frames per second (F3)"},
        {"set", ARG_STRING, &set, 0, 0, "K=V,...", "initial settings, e.g. eta=0.5,steps=20,mode=grid"},
        {"screenshot", ARG_STRING, &o.screenshot, 0, 0, "PNG", "render headless to this file and exit"},
        {"frames", ARG_INT, &o.frames, 1, 100000, "N", "headless: frames to run before the capture"},
        {"trajectory", ARG_STRING, &trajectory, 0, 0, "BASE", "headless: also write BASE.gif and BASE-strip.png"},
        {"train-seconds", ARG_DOUBLE, &o.train_seconds, 0, 86400, "S", "train live from the start (headless: for S seconds)"},
        {"train-batch", ARG_INT, &o.train_batch, 0, 1024, "N", "batch of live training (0 = the preset's)"},
        {"save-live", ARG_STRING, &o.save_live, 0, 0, "PATH",
         "when the run ends, write the live model's sampling weights there (a checkpoint ddpm sample loads); "
         "with --train-seconds: train that long, save, exit (in a window where there is a display)"},
        {"save-history", ARG_STRING, &o.save_history, 0, 0, "DIR",
         "keep the live run's snapshots (steps 50, 100, 200, ... and the last) in DIR as F16 checkpoints: "
         "a history --history shows"},
        {"history", ARG_STRING, &o.history_dir, 0, 0, "DIR",
         "the training history the scrubber shows before the live run has its own (default <assets>/history)"},
        {"force", ARG_FLAG, &force, 0, 0, NULL, "--save-history may replace the snapshots already in DIR, --record an existing FILE"},
        {"no-window", ARG_FLAG, &o.no_window, 0, 0, NULL, "with --train-seconds and --save-live: never open a window"},
        {"export-dir", ARG_STRING, &o.export_dir, 0, 0, "DIR", "where exports and checkpoints go"},
        {"font-dir", ARG_STRING, &o.font_dir, 0, 0, "DIR", "folder with DejaVuSans.ttf (default <assets>/fonts)"},
        {"record", ARG_STRING, &o.record, 0, 0, "FILE",
         "log every input event with its frame, after the starting state (written when the window closes; "
         "--force replaces an existing FILE)"},
        {"replay", ARG_STRING, &replay, 0, 0, "FILE",
         "play a --record log back, deterministically: the same screens at the same frames (with --screenshot: "
         "the last frame, byte-identical run to run)"},
        {"quit-after", ARG_DOUBLE, &o.quit_after, 0, 86400, "S", "close the window after S seconds (smoke tests)"},
    };
    const int n_specs = (int)(sizeof specs / sizeof specs[0]);
    ddpm_error err = {0};
    int rc = ddpm_args_parse(specs, n_specs, argc, argv, &err);
    if (rc == DDPM_ARGS_HELP) {
        ddpm_args_usage(stdout, "viz", SUMMARY, specs, n_specs);
        return 0;
    }
    if (rc != DDPM_OK) return ddpm_cli_bad_input("viz", &err);
    if (size && parse_size(size, &o.width, &o.height, &err) != DDPM_OK) return ddpm_cli_bad_input("viz", &err);
    if (set && replay) {
        ddpm_fail(&err, "--set and --replay: a recording starts from its own settings (its 'state' line)");
        return ddpm_cli_bad_input("viz", &err);
    }
    if (set && viz_settings_parse(&o.settings, set, &err) != DDPM_OK) return ddpm_cli_bad_input("viz", &err);
    if (o.record && replay) {
        ddpm_fail(&err, "--record and --replay together: replay first, then record a new session");
        return ddpm_cli_bad_input("viz", &err);
    }
    if (o.record && !force && ddpm_file_exists(o.record)) {
        ddpm_fail(&err, "--record %s exists; pick another name, or add --force to replace it", o.record);
        return ddpm_cli_bad_input("viz", &err);
    }
    {
        /* no output may be a file the window reads: the model shown, or a
         * history snapshot (a bundled model is listed by folder: checked too) */
        char gif[4200], strip[4200];
        snprintf(gif, sizeof gif, "%s.gif", trajectory ? trajectory : "");
        snprintf(strip, sizeof strip, "%s-strip.png", trajectory ? trajectory : "");
        const char *in[2] = {o.model_path, replay};
        if (ddpm_check_output("--screenshot", o.screenshot, in, 2, &err) != DDPM_OK ||
            ddpm_check_output("--record", o.record, in, 2, &err) != DDPM_OK ||
            ddpm_check_output("--save-live", o.save_live, in, 1, &err) != DDPM_OK ||
            (trajectory && (ddpm_check_output("--trajectory", gif, in, 1, &err) != DDPM_OK ||
                            ddpm_check_output("--trajectory", strip, in, 1, &err) != DDPM_OK)))
            return ddpm_cli_bad_input("viz", &err);
    }
    if (trajectory && !o.screenshot) {
        ddpm_fail(&err, "--trajectory needs --screenshot (in the window, Shift+P exports it)");
        return ddpm_cli_bad_input("viz", &err);
    }

    if (o.save_history && !force && history_has_snapshots(o.save_history)) {
        ddpm_fail(&err, "--save-history %s already holds snapshots (step-*.safetensors); pick an empty folder, "
                        "or add --force to replace them", o.save_history);
        return ddpm_cli_bad_input("viz", &err);
    }

    if (replay) { /* its size and starting state */
        char state[4096];
        int rw = 0, rh = 0;
        if (viz_replay_load(replay, &o.replay, &rw, &rh, state, sizeof state, &err) != DDPM_OK)
            return ddpm_cli_bad_input("viz", &err);
        if (size && (rw != o.width || rh != o.height)) {
            ddpm_fail(&err, "--replay %s was recorded at %dx%d; --size %s would move every click", replay, rw, rh, size);
            viz_recording_free(o.replay);
            return ddpm_cli_bad_input("viz", &err);
        }
        o.width = rw, o.height = rh;
        if (viz_settings_parse(&o.settings, state, &err) != DDPM_OK) {
            viz_recording_free(o.replay);
            ddpm_fail_context(&err, "--replay: its state line");
            return ddpm_cli_bad_input("viz", &err);
        }
    }
    const bool headless = viz_options_headless(&o);
    if (headless) {
        /* no display needed: a software renderer on a surface; the threads
         * need no video driver either */
        if (SDL_Init(0) != 0) {
            fprintf(stderr, "ddpm viz: SDL failed to start: %s\n", SDL_GetError());
            return 1;
        }
    } else if (SDL_Init(SDL_INIT_EVENTS) != 0) {
        fprintf(stderr, "ddpm viz: SDL failed to start: %s\n", SDL_GetError());
        return 1;
    }
    viz_app *a = NULL;
    if (viz_app_create(&a, &o, &err) != DDPM_OK) {
        SDL_Quit();
        return ddpm_cli_bad_input("viz", &err);
    }
    rc = headless ? run_headless(a, o.screenshot, trajectory) : run_window(a);
    if (o.record && viz_record_finish(a, &err) != DDPM_OK) rc = ddpm_cli_bad_input("viz", &err);
    if (o.save_history && viz_app_keep_snapshot(a, &err) != DDPM_OK) rc = ddpm_cli_bad_input("viz", &err);
    if (o.save_live && viz_app_save_live(a, o.save_live, &err) != DDPM_OK) rc = ddpm_cli_bad_input("viz", &err);
    viz_app_free(a);
    SDL_Quit();
    return rc;
}
