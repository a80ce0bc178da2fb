/* app_actions.c: what keys, buttons and the quit dialog do to the app:
 * training, checkpoints, quitting (with an offer to save), lecture mode. */
#include <stdio.h>

#include "app.h"

static bool training_active(const viz_app *a)
{
    return a->trainer && a->train.state == VIZ_TRAIN_RUNNING;
}

void viz_app_request_quit(viz_app *a)
{
    if (a->quit_dialog || a->quit_after_save) return;
    if (training_active(a)) {
        a->quit_dialog = true; /* offer to save first */
        return;
    }
    a->quit = true;
}

void viz_app_quit_choice(viz_app *a, viz_quit_choice c)
{
    a->quit_dialog = false;
    if (c == VIZ_QUIT_NOW) a->quit = true;
    if (c != VIZ_QUIT_SAVE) return;
    /* pause, save at the next step boundary, quit when the save has landed */
    viz_trainer_pause(a->trainer);
    a->quit_after_save = true;
    viz_app_save_checkpoint(a);
}

void viz_app_toggle_training(viz_app *a)
{
    if (!a->trainer) {
        viz_app_toast(a, VIZ_LEVEL_ERROR, "Training is unavailable: no training data (%s)", "assets/digits");
        return;
    }
    viz_trainer_get_status(a->trainer, &a->train); /* the step now, not at the frame's start */
    if (a->train.state == VIZ_TRAIN_RUNNING) {
        viz_trainer_pause(a->trainer);
        viz_app_toast(a, VIZ_LEVEL_INFO, "Training paused at step %lld", (long long)a->train.step);
    } else {
        viz_trainer_train(a->trainer);
        /* show what is being trained: the live network */
        if (!viz_app_model(a)->live) viz_app_select_model(a, viz_models_live(&a->models));
        viz_app_toast(a, VIZ_LEVEL_INFO, a->train.has_run ? "Training resumed" : "Training a %s network from scratch",
                      a->train.run.preset);
    }
}

void viz_app_save_checkpoint(viz_app *a)
{
    if (!a->trainer || !a->train.has_run) {
        viz_app_toast(a, VIZ_LEVEL_WARN, "Nothing to save yet: press T to train a network first");
        return;
    }
    char path[4096];
    snprintf(path, sizeof path, "%.3000s/checkpoints/live-step{step}.safetensors", a->opt.export_dir);
    viz_trainer_save(a->trainer, path);
}

int viz_app_save_live(viz_app *a, const char *path, ddpm_error *err)
{
    if (!a->trainer) return ddpm_fail(err, "--save-live: no live training to save");
    viz_trainer_get_status(a->trainer, &a->train);
    if (!a->train.has_run)
        return ddpm_fail(err, "--save-live: the live network never trained (give --train-seconds, or press T)");
    viz_trainer_pause(a->trainer);
    viz_trainer_export(a->trainer, path);
    for (int i = 0; i < 30000 && viz_trainer_pending(a->trainer); i++) SDL_Delay(2);
    viz_train_event ev;
    int rc = ddpm_fail(err, "--save-live: the trainer did not answer");
    while (viz_trainer_poll_event(a->trainer, &ev)) {
        if (ev.kind == VIZ_TRAIN_EVENT_SAVED) rc = DDPM_OK;
        else if (ev.kind == VIZ_TRAIN_EVENT_ERROR) rc = ddpm_fail(err, "--save-live: %s", ev.text);
        else continue;
        fprintf(stderr, "ddpm viz: %s\n", ev.text);
    }
    return rc;
}

int viz_app_keep_snapshot(viz_app *a, ddpm_error *err)
{
    if (!a->trainer) return ddpm_fail(err, "--save-history: no live training");
    viz_trainer_get_status(a->trainer, &a->train);
    if (!a->train.has_run) return DDPM_OK; /* nothing trained: nothing to keep */
    viz_trainer_pause(a->trainer);
    viz_trainer_snapshot(a->trainer);
    for (int i = 0; i < 30000 && viz_trainer_pending(a->trainer); i++) SDL_Delay(2);
    viz_train_event ev;
    int rc = DDPM_OK;
    while (viz_trainer_poll_event(a->trainer, &ev)) {
        if (ev.kind != VIZ_TRAIN_EVENT_ERROR) continue;
        rc = ddpm_fail(err, "--save-history: %s", ev.text);
        fprintf(stderr, "ddpm viz: %s\n", ev.text);
    }
    return rc;
}

void viz_app_continue_training(viz_app *a)
{
    if (!a->trainer) return;
    int i = a->p.model;
    if (a->models.items[i].live) i = a->models.n_files > 0 ? 0 : -1;
    if (i < 0) {
        viz_app_toast(a, VIZ_LEVEL_WARN, "No bundled model to continue from (none in %s)", a->models.dir);
        return;
    }
    viz_trainer_continue_from(a->trainer, a->models.items[i].path, a->models.items[i].name, true);
    viz_app_select_model(a, viz_models_live(&a->models));
    viz_app_toast(a, VIZ_LEVEL_INFO, "Loading %s to continue its training...", a->models.items[i].name);
}

void viz_app_set_lecture(viz_app *a, bool on)
{
    /* lecture style gives the room to the panels; Tab brings the controls back */
    if (on != a->lecture) a->controls_hidden = on;
    a->lecture = on;
    a->dirty = true;
}

void viz_app_toggle_fullscreen(viz_app *a)
{
    a->fullscreen = !a->fullscreen;
    if (a->window) SDL_SetWindowFullscreen(a->window, a->fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
    viz_app_set_lecture(a, a->fullscreen);
}

void viz_app_toggle_probe(viz_app *a)
{
    if (viz_app_points(a) || !a->have_digits) return;
    const int W = a->digits.width, H = a->digits.height;
    if (a->probe_x >= 0) {
        a->probe_last = a->probe_y * W + a->probe_x;
        a->probe_x = a->probe_y = -1;
        return;
    }
    const int last = a->probe_last >= 0 && a->probe_last < W * H ? a->probe_last : (H / 2) * W + W / 2;
    a->probe_x = last % W, a->probe_y = last / W;
}

void viz_app_toggle_roundtrip(viz_app *a)
{
    viz_params *p = &a->p;
    if (p->world != VIZ_WORLD_IMAGES) return;
    if (p->roundtrip_t > 0) {
        a->roundtrip_last = p->roundtrip_t;
        p->roundtrip_t = 0;
        return;
    }
    const int T = viz_app_T(a);
    p->roundtrip_t = a->roundtrip_last > 0 && a->roundtrip_last < T ? a->roundtrip_last : T * 3 / 10;
    if (p->roundtrip_t < 1) p->roundtrip_t = 1;
    p->view = VIZ_VIEW_SINGLE; /* one digit, one trip */
    a->pb.phase = VIZ_PHASE_REVERSE;
    a->pb.pos = 0;
    a->pb.playing = true;
}
