/* app_keys.c: every keyboard shortcut (the help overlay in overlay.c lists them). */
#include "app.h"
#include "ddpm/rng.h"

void viz_app_handle_key(viz_app *a, const SDL_KeyboardEvent *e)
{
    const SDL_Keycode k = e->keysym.sym;
    const bool shift = (e->keysym.mod & KMOD_SHIFT) != 0, ctrl = (e->keysym.mod & KMOD_CTRL) != 0;
    const bool repeat = e->repeat != 0;
    const int S = a->shown ? viz_result_steps(a->shown) : a->p.steps;
    const int T = viz_app_T(a);
    viz_params *p = &a->p;
    a->dirty = true;

    if (a->quit_dialog) {
        if (k == SDLK_ESCAPE) viz_app_quit_choice(a, VIZ_QUIT_CANCEL);
        if (k == SDLK_RETURN || k == SDLK_KP_ENTER || k == SDLK_s) viz_app_quit_choice(a, VIZ_QUIT_SAVE);
        if (k == SDLK_q) viz_app_quit_choice(a, VIZ_QUIT_NOW);
        return;
    }
    if (a->show_help && (k == SDLK_ESCAPE || k == SDLK_h || k == SDLK_F1)) {
        a->show_help = false;
        return;
    }
    if (k == SDLK_w && !repeat) {
        viz_app_set_world(a, viz_app_points(a) ? VIZ_WORLD_IMAGES : VIZ_WORLD_POINTS);
        viz_app_clamp_params(a);
        return;
    }
    /* the 2D world's own keys; the rest are shared */
    if (viz_app_points(a)) {
        bool used = true;
        switch (k) {
        case SDLK_b: p->dataset = (p->dataset + (shift ? VIZ_DATASET_COUNT - 1 : 1)) % VIZ_DATASET_COUNT; break;
        case SDLK_d: if (!repeat) a->drawing = !a->drawing; break;
        case SDLK_BACKSPACE: case SDLK_DELETE: if (a->drawing) viz_app_clear_drawing(a); else used = false; break;
        case SDLK_RETURN: case SDLK_KP_ENTER: if (a->drawing) viz_app_train_on_drawing(a); else used = false; break;
        case SDLK_y: if (!repeat) p->trails = !p->trails; break;
        case SDLK_u: p->x0_show = (viz_x0_show)((p->x0_show + 1) % VIZ_X0_COUNT); break;
        case SDLK_i: if (!repeat) p->field = (viz_field)((p->field + 1) % VIZ_FIELD_COUNT); break;
        default: used = false; break;
        }
        if (used) {
            viz_app_clamp_params(a);
            return;
        }
    }
    switch (k) {
    case SDLK_1: case SDLK_2: case SDLK_3: case SDLK_4: case SDLK_5: case SDLK_6: case SDLK_7: case SDLK_8:
    case SDLK_9: /* bookmarks: Ctrl (or Shift) keeps, the plain key restores */
        if (repeat) break;
        if (ctrl || shift) viz_app_bookmark_save(a, (int)(e->keysym.sym - SDLK_0));
        else viz_app_bookmark_restore(a, (int)(e->keysym.sym - SDLK_0));
        break;
    case SDLK_SPACE: if (!repeat) viz_playback_toggle(&a->pb, S, T); break;
    case SDLK_LEFT: viz_playback_step(&a->pb, -1, shift ? 10 : 1, S, T); break;
    case SDLK_RIGHT: viz_playback_step(&a->pb, +1, shift ? 10 : 1, S, T); break;
    case SDLK_HOME: a->pb.playing = false; a->pb.pos = 0; break;
    case SDLK_END: a->pb.playing = false; viz_playback_seek(&a->pb, 1.0, S, T); break;
    case SDLK_LEFTBRACKET: p->steps = viz_steps_ladder(p->steps, T, -1); break;
    case SDLK_RIGHTBRACKET: p->steps = viz_steps_ladder(p->steps, T, +1); break;
    case SDLK_MINUS: case SDLK_KP_MINUS: p->speed /= 1.5; break;
    case SDLK_EQUALS: case SDLK_PLUS: case SDLK_KP_PLUS: p->speed *= 1.5; break;
    case SDLK_e: if (!repeat) p->eta = p->eta < 0.5 ? 1.0 : 0.0; break;
    case SDLK_s:
        if (ctrl) viz_app_save_checkpoint(a);
        else if (!repeat) p->sampler = p->sampler == DDPM_SAMPLER_DDIM ? DDPM_SAMPLER_DDPM : DDPM_SAMPLER_DDIM;
        break;
    case SDLK_c: p->schedule = (ddpm_schedule_kind)((p->schedule + (shift ? DDPM_SCHEDULE_COUNT - 1 : 1)) % DDPM_SCHEDULE_COUNT); break;
    case SDLK_k: p->spacing = (ddpm_spacing)((p->spacing + 1) % DDPM_SPACING_COUNT); break;
    case SDLK_x: if (!repeat) p->clip_x0 = !p->clip_x0; break;
    case SDLK_r: p->seed = viz_seed_step(p->seed, shift ? -1 : +1); break;
    case SDLK_g: if (!repeat) p->view = p->view == VIZ_VIEW_GRID ? VIZ_VIEW_SINGLE : VIZ_VIEW_GRID; break;
    case SDLK_m:
        if (!repeat) {
            if (p->view == VIZ_VIEW_COMPARE) p->view = a->view_before_compare;
            else a->view_before_compare = p->view, p->view = VIZ_VIEW_COMPARE;
        }
        break;
    case SDLK_v:
        p->compare = (viz_compare)((p->compare + 1) % VIZ_COMPARE_COUNT);
        if (p->view != VIZ_VIEW_COMPARE) a->view_before_compare = p->view, p->view = VIZ_VIEW_COMPARE;
        break;
    case SDLK_z: /* the study: eta x steps, scored */
        if (!repeat && !viz_app_points(a)) {
            if (p->view == VIZ_VIEW_STUDY) p->view = a->view_before_compare;
            else a->view_before_compare = p->view, p->view = VIZ_VIEW_STUDY;
        }
        break;
    case SDLK_d: if (!repeat) p->decomposition = !p->decomposition; break;
    case SDLK_j: if (!repeat) viz_app_toggle_roundtrip(a); break;
    case SDLK_a: if (!repeat) viz_app_canvas_open(a); break;
    case SDLK_q: if (ctrl) viz_app_request_quit(a); else if (!repeat) viz_app_toggle_probe(a); break;
    case SDLK_UP: p->digit++; break;
    case SDLK_DOWN: p->digit--; break;
    case SDLK_n: {
        ddpm_rng r;
        ddpm_rng_init(&r, (uint64_t)a->frame_count, ddpm_rng_stream(DDPM_STREAM_DATA, 77, (uint64_t)p->digit));
        p->digit = (int)ddpm_rng_below(&r, a->have_digits ? (uint32_t)viz_app_images(a)->n : 1u);
        break;
    }
    case SDLK_f:
        if (!repeat) {
            a->pb.phase = a->pb.phase == VIZ_PHASE_FORWARD ? VIZ_PHASE_REVERSE : VIZ_PHASE_FORWARD;
            a->pb.pos = 0;
            a->pb.playing = true;
        }
        break;
    case SDLK_o: {
        int n = a->models.n, i = (p->model + (shift ? n - 1 : 1)) % n;
        viz_app_select_model(a, i);
        break;
    }
    case SDLK_t: if (!repeat) viz_app_toggle_training(a); break;
    case SDLK_COMMA:
    case SDLK_PERIOD: viz_app_scrub_history(a, e->keysym.sym == SDLK_PERIOD ? 1 : -1); break;
    case SDLK_p:
        if (!repeat) {
            if (shift) viz_app_export_trajectory(a);
            else viz_app_export_view(a);
        }
        break;
    case SDLK_F11: if (!repeat) viz_app_toggle_fullscreen(a); break;
    case SDLK_l: if (!repeat) viz_app_set_lecture(a, !a->lecture); break;
    case SDLK_F3: if (!repeat) a->show_fps = !a->show_fps; break;
    case SDLK_TAB: if (!repeat) a->controls_hidden = !a->controls_hidden; break;
    case SDLK_h: case SDLK_F1: if (!repeat) a->show_help = !a->show_help; break;
    case SDLK_ESCAPE: /* leave fullscreen first, as everywhere else */
        if (a->fullscreen) viz_app_toggle_fullscreen(a);
        else viz_app_request_quit(a);
        break;
    default: break;
    }
    viz_app_clamp_params(a);
}
