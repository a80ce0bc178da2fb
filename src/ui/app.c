/* app.c: the visualizer's lifetime and frame loop: creating the window (or
 * the headless surface), the models, data and worker threads; each frame,
 * events in, state from the workers, panels drawn in their layout rectangles.
 * Sampling jobs live in app_jobs.c, keys in app_keys.c, actions in
 * app_actions.c. */
#include "app.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "ddpm/layers.h"
#include "ddpm/rng.h"
#include "ddpm/threads.h"
#include "viz_util.h"

void viz_options_default(viz_options *o)
{
    memset(o, 0, sizeof *o);
    o->width = 1280;
    o->height = 720;
    o->frames = 3;
    o->export_dir = "ddpm-viz";
    viz_params none;
    memset(&none, 0, sizeof none);
    viz_settings_init(&o->settings, &none); /* nothing set */
}

bool viz_options_headless(const viz_options *o)
{
    if (o->screenshot) return true;
    if (!(o->save_live || o->save_history) || o->train_seconds <= 0) return false;
    /* a timed run that saves: in a window where there is a display, else without */
    const char *x11 = getenv("DISPLAY"), *wayland = getenv("WAYLAND_DISPLAY");
    return o->no_window || !((x11 && *x11) || (wayland && *wayland));
}

/* ---- messages ----------------------------------------------------------------------- */

static void message_v(viz_message *m, viz_level level, double until, const char *fmt, va_list ap)
{
    vsnprintf(m->text, sizeof m->text, fmt, ap);
    m->level = level;
    m->until = until;
}

void viz_app_toast(viz_app *a, viz_level level, const char *fmt, ...)
{
    if (a->n_toasts == VIZ_MAX_TOASTS) {
        memmove(a->toasts, a->toasts + 1, sizeof a->toasts[0] * (VIZ_MAX_TOASTS - 1));
        a->n_toasts--;
    }
    va_list ap;
    va_start(ap, fmt);
    message_v(&a->toasts[a->n_toasts++], level, a->now + 5.0, fmt, ap);
    va_end(ap);
    fprintf(stderr, "ddpm viz: %s\n", a->toasts[a->n_toasts - 1].text);
}

void viz_app_banner(viz_app *a, viz_level level, const char *fmt, ...)
{
    viz_message m;
    va_list ap;
    va_start(ap, fmt);
    message_v(&m, level, 0, fmt, ap);
    va_end(ap);
    for (int i = 0; i < a->n_banners; i++)
        if (strcmp(a->banners[i].text, m.text) == 0) return;
    if (a->n_banners == VIZ_MAX_BANNERS) return;
    a->banners[a->n_banners++] = m;
    fprintf(stderr, "ddpm viz: %s\n", m.text);
}

/* ---- staging buffers and textures --------------------------------------------------------- */

uint32_t *viz_app_pixels(viz_app *a, size_t n)
{
    if (n > a->pixels_cap) {
        uint32_t *p = realloc(a->pixels, n * sizeof *p);
        if (!p) return NULL;
        a->pixels = p;
        a->pixels_cap = n;
    }
    return a->pixels;
}

float *viz_app_scratch(viz_app *a, size_t n)
{
    if (n > a->scratch_cap) {
        float *p = realloc(a->scratch, n * sizeof *p);
        if (!p) return NULL;
        a->scratch = p;
        a->scratch_cap = n;
    }
    return a->scratch;
}

static uint32_t argb(SDL_Color c) { return 0xFF000000u | (uint32_t)c.r << 16 | (uint32_t)c.g << 8 | c.b; }

void viz_app_upload_images(viz_app *a, int slot, uint64_t key, const float *images, int B, int H, int W,
                           viz_tone tone, float m)
{
    viz_image_tex *t = &a->tex[slot];
    if (key && t->key == key && t->tex) return;
    int cols = 1;
    while (cols * cols < B) cols++;
    int gw, gh;
    viz_tone_grid_size(B, cols, W, H, B > 1 ? 1 : 0, &gw, &gh);
    uint32_t *px = viz_app_pixels(a, (size_t)gw * gh);
    if (!px) return;
    viz_tone_grid(px, images, B, cols, W, H, B > 1 ? 1 : 0, argb(a->draw.theme.panel), tone, m);
    viz_image_update(&a->draw, t, key, px, gw, gh);
}

SDL_Rect viz_app_draw_tex(viz_app *a, int slot, SDL_Rect area)
{
    SDL_Rect r = viz_image_draw(&a->draw, &a->tex[slot], area);
    a->tex_rect[slot] = r;
    return r;
}

/* ---- models and schedules ----------------------------------------------------------------- */

const viz_model *viz_app_model(const viz_app *a) { return &a->models.items[a->p.model]; }

const ddpm_run_config *viz_app_run_config(const viz_app *a)
{
    const viz_model *m = viz_app_model(a);
    return m->live ? &a->train.run : &m->ck.run;
}

int viz_app_T(const viz_app *a) { return viz_app_run_config(a)->schedule.T; }

bool viz_app_compares_models(const viz_app *a)
{
    return a->p.view == VIZ_VIEW_COMPARE && a->p.compare == VIZ_COMPARE_MODEL;
}

const viz_model *viz_app_model_b(const viz_app *a) { return &a->models.items[a->p.b.model]; }

const ddpm_run_config *viz_app_run_config_b(const viz_app *a)
{
    const viz_model *m = viz_app_model_b(a);
    return m->live ? &a->train.run : m->loaded ? &m->ck.run : viz_app_run_config(a);
}

bool viz_app_mismatch(const viz_app *a) { return viz_schedule_mismatch(&a->p, &viz_app_run_config(a)->schedule); }

/* Selects model i, loading it; a broken file falls back to the live network. */
void viz_app_select_model(viz_app *a, int i)
{
    ddpm_error err = {0};
    if (viz_models_load(&a->models, i, &err) != DDPM_OK) {
        viz_app_banner(a, VIZ_LEVEL_ERROR, "Could not load model '%s': %s. Showing the live (untrained) network instead.",
                       a->models.items[i].name, err.msg);
        i = viz_models_live(&a->models);
    }
    a->p.model = i;
    a->p.schedule = viz_app_run_config(a)->schedule.kind; /* a new model starts matched */
    const viz_model *m = viz_app_model(a);
    if (!m->live && m->loaded && strcmp(m->ck.run.dataset, "fashion") == 0 && !a->fashion_tried) {
        a->fashion_tried = true;
        ddpm_error ferr = {0};
        a->have_fashion = ddpm_dataset_open(&a->fashion, "fashion", DDPM_SPLIT_TRAIN, &ferr) == DDPM_OK;
        if (!a->have_fashion)
            viz_app_banner(a, VIZ_LEVEL_WARN, "'%s' was trained on Fashion-MNIST, which is not installed (%s): the "
                           "forward panel shows digits", m->name, ferr.msg);
    }
    viz_app_clamp_params(a);
}

const ddpm_dataset *viz_app_images(const viz_app *a)
{
    const viz_model *m = viz_app_model(a);
    if (a->have_fashion && !m->live && m->loaded && strcmp(m->ck.run.dataset, "fashion") == 0) return &a->fashion;
    return &a->digits;
}

/* B's model, loaded when the comparison of models needs it; a broken file
 * gets a banner once and B falls back to A's model. */
static void load_model_b(viz_app *a)
{
    viz_model *m = &a->models.items[a->p.b.model];
    if (m->live || m->loaded) return;
    ddpm_error err = {0};
    if (viz_models_load(&a->models, a->p.b.model, &err) != DDPM_OK) {
        viz_app_banner(a, VIZ_LEVEL_ERROR, "Could not load model '%s' for B: %s. B shows A's model instead.", m->name,
                       err.msg);
        a->p.b.model = a->p.model;
    }
}

static void update_schedules(viz_app *a)
{
    const ddpm_schedule_config mc = viz_app_run_config(a)->schedule;
    const ddpm_schedule_config sc = viz_schedule_config(&a->p, &mc);
    ddpm_error err = {0};
    bool changed = false;
    if (!a->sched_ok || memcmp(&sc, &a->sched_cfg, sizeof sc) != 0) {
        ddpm_schedule_free(&a->sched);
        a->sched_ok = ddpm_schedule_init(&a->sched, &sc, &err) == DDPM_OK;
        a->sched_cfg = sc;
        changed = true;
    }
    if (memcmp(&mc, &a->model_sched_cfg, sizeof mc) != 0 || !a->model_sched.T) {
        ddpm_schedule_free(&a->model_sched);
        if (ddpm_schedule_init(&a->model_sched, &mc, &err) != DDPM_OK) memset(&a->model_sched, 0, sizeof a->model_sched);
        a->model_sched_cfg = mc;
        changed = true;
    }
    if (!a->sched_ok) return;
    /* the timesteps the sampler will visit, for the schedule plot's ticks */
    ddpm_sampler_config cfg = viz_sampler_config(&a->p);
    if (cfg.steps > a->sched.T) cfg.steps = a->sched.T;
    const int start_t = viz_job_start_t(&a->p) < a->sched.T ? viz_job_start_t(&a->p) : 0; /* a round trip's own */
    if (changed || memcmp(&cfg, &a->ts_cfg, sizeof cfg) != 0 || a->n_ts == 0 || start_t != a->ts_start) {
        int *ts = realloc(a->ts, sizeof(int) * ((size_t)a->sched.T + 1));
        if (!ts) return;
        a->ts = ts;
        a->n_ts = start_t > 0 ? ddpm_timesteps_from(a->sched.T, &cfg, start_t, a->ts, &err)
                              : ddpm_timesteps(a->sched.T, &cfg, a->ts, &err);
        if (a->n_ts < 0) a->n_ts = 0;
        a->ts_cfg = cfg;
        a->ts_start = start_t;
    }
}

void viz_app_clamp_params(viz_app *a)
{
    viz_params_clamp(&a->p, viz_app_T(a), a->models.n, a->have_digits ? (int)viz_app_images(a)->n : 1);
}

/* ---- the forward panel's digit ----------------------------------------------------------- */

static void update_forward_digit(viz_app *a)
{
    if (!a->have_digits) return;
    const size_t per = (size_t)a->digits.height * a->digits.width;
    if (!a->fwd_x0) {
        a->fwd_x0 = malloc(sizeof(float) * per * 4);
        if (!a->fwd_x0) return;
        a->fwd_eps = a->fwd_x0 + per;
        a->fwd_xt = a->fwd_x0 + 2 * per;
        a->fwd_v = a->fwd_x0 + 3 * per;
        a->fwd_digit = -1;
    }
    /* the source of x0: a dataset digit, or the drawing (app_canvas.c) */
    const uint64_t source = a->canvas_on && a->canvas ? VIZ_CANVAS_SOURCE + a->canvas_version : (uint64_t)a->p.digit;
    const ddpm_dataset *images = viz_app_images(a);
    if (a->fwd_digit >= 0 && a->fwd_source == source && a->fwd_seed == a->p.seed && a->fwd_data == images) return;
    a->fwd_data = images;
    if (a->canvas_on && a->canvas) memcpy(a->fwd_x0, a->canvas, sizeof(float) * per);
    else ddpm_dataset_images(images, (size_t)a->p.digit, 1, a->fwd_x0);
    /* one fixed epsilon per (seed, digit), the drawing's its own: the
     * animation is smooth because only t changes from frame to frame, and
     * drawing does not reshuffle the noise */
    const uint64_t stream = a->canvas_on && a->canvas ? VIZ_CANVAS_SOURCE : (uint64_t)a->p.digit;
    ddpm_rng r;
    ddpm_rng_init(&r, a->p.seed, ddpm_rng_stream(DDPM_STREAM_FORWARD, stream, 0));
    ddpm_rng_normal_fill(&r, a->fwd_eps, per);
    a->fwd_digit = a->p.digit;
    a->fwd_source = source;
    a->fwd_seed = a->p.seed;
}

/* ---- panels' frame ---------------------------------------------------------------------------- */

SDL_Rect viz_panel_content(viz_app *a, SDL_Rect r)
{
    viz_draw *d = &a->draw;
    const int pad = viz_px(d, 10), top = viz_px(d, 7) + viz_line_h(d, VIZ_SIZE_TITLE) + viz_px(d, 6);
    return (SDL_Rect){r.x + pad, r.y + top, r.w - 2 * pad, r.h - top - pad};
}

SDL_Rect viz_panel_begin_reserve(viz_app *a, SDL_Rect r, const char *title, const char *subtitle, int right)
{
    viz_draw *d = &a->draw;
    viz_fill_round(d, r, viz_px(d, 8), d->theme.panel);
    if (d->lecture) viz_outline(d, r, 1, d->theme.panel_edge);
    const int pad = viz_px(d, 10);
    const int room = r.w - 2 * pad - (right > 0 ? right + viz_px(d, 8) : 0);
    int x = r.x + pad, y = r.y + viz_px(d, 7);
    int w = viz_label_fit(d, x, y, VIZ_ALIGN_LEFT, VIZ_SIZE_TITLE, true, d->theme.title, room, title);
    const int th = viz_line_h(d, VIZ_SIZE_TITLE);
    if (subtitle && *subtitle && w > 0) {
        const int sh = viz_line_h(d, VIZ_SIZE_SMALL), sx = x + w + viz_px(d, 10);
        /* the subtitle (its versions) where it fits, else not at all */
        int sw = 0;
        const char *last = strrchr(subtitle, '\n');
        viz_measure(d, VIZ_SIZE_SMALL, false, last ? last + 1 : subtitle, &sw, NULL);
        if (sx + sw <= x + room)
            viz_label_fit(d, sx, y + th - sh - viz_px(d, 1), VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, false, d->theme.text_dim,
                          x + room - sx, subtitle);
    }
    return viz_panel_content(a, r);
}

SDL_Rect viz_panel_begin(viz_app *a, SDL_Rect r, const char *title, const char *subtitle)
{
    return viz_panel_begin_reserve(a, r, title, subtitle, 0);
}

/* ---- events --------------------------------------------------------------------------------------- */

void viz_app_handle_event(viz_app *a, viz_input *in, const SDL_Event *e)
{
    viz_record_event(a, e);
    switch (e->type) {
    case SDL_QUIT: viz_app_request_quit(a); break;
    case SDL_KEYDOWN: viz_app_handle_key(a, &e->key); break;
    case SDL_MOUSEMOTION:
        in->mx = e->motion.x;
        in->my = e->motion.y;
        a->dirty = true;
        break;
    case SDL_MOUSEBUTTONDOWN:
        if (e->button.button == SDL_BUTTON_LEFT) {
            in->down = in->pressed = true;
            in->mx = e->button.x;
            in->my = e->button.y;
        }
        a->dirty = true;
        break;
    case SDL_MOUSEBUTTONUP:
        if (e->button.button == SDL_BUTTON_LEFT) {
            in->down = false;
            in->released = true;
        }
        a->dirty = true;
        break;
    case SDL_MOUSEWHEEL: in->wheel += e->wheel.y; a->dirty = true; break;
    default: break;
    }
}

bool viz_app_queue_event(viz_app *a, const SDL_Event *e)
{
    if (a->n_queued >= (int)(sizeof a->queued / sizeof a->queued[0])) return false;
    a->queued[a->n_queued++] = *e;
    return true;
}

static void poll_events(viz_app *a, viz_input *in)
{
    memset(in, 0, sizeof *in);
    in->mx = a->ui.in.mx;
    in->my = a->ui.in.my;
    in->down = a->ui.in.down;
    for (int i = 0; i < a->n_queued; i++) viz_app_handle_event(a, in, &a->queued[i]);
    a->n_queued = 0;
    if (a->headless) return;
    /* a replay plays its own input: the live one waits until it is over
     * (closing the window still works) */
    const bool replay = viz_app_replaying(a) && !viz_replay_done(a);
    SDL_Event e;
    while (SDL_PollEvent(&e)) {
        switch (e.type) {
        case SDL_MOUSEMOTION: /* window points -> renderer pixels (high-DPI) */
            e.motion.x = (int)(e.motion.x * a->mouse_scale);
            e.motion.y = (int)(e.motion.y * a->mouse_scale);
            if (!replay) viz_app_handle_event(a, in, &e);
            break;
        case SDL_MOUSEBUTTONDOWN:
        case SDL_MOUSEBUTTONUP:
            e.button.x = (int)(e.button.x * a->mouse_scale);
            e.button.y = (int)(e.button.y * a->mouse_scale);
            if (!replay) viz_app_handle_event(a, in, &e);
            break;
        case SDL_QUIT:
            viz_app_handle_event(a, in, &e);
            break;
        case SDL_KEYDOWN:
        case SDL_MOUSEWHEEL:
            if (!replay) viz_app_handle_event(a, in, &e);
            break;
        case SDL_WINDOWEVENT: a->dirty = true; break;
        case SDL_RENDER_TARGETS_RESET:
        case SDL_RENDER_DEVICE_RESET: /* the cached panels' textures are gone */
            viz_gfx_invalidate(a->gfx);
            a->dirty = true;
            break;
        default: break;
        }
    }
}

static void compute_layout(viz_app *a)
{
    const viz_layout_want want = {.controls = !a->controls_hidden,
                                  .decomposition = a->p.decomposition,
                                  .points = viz_app_points(a),
                                  .study = a->p.view == VIZ_VIEW_STUDY,
                                  .lecture = a->lecture,
                                  .banner_h = viz_overlay_banners_height(a)};
    viz_layout_compute(&a->layout, a->w, a->h, a->draw.scale, &want);
}

static void update_size(viz_app *a)
{
    int w = a->w, h = a->h;
    if (a->window) {
        SDL_GetRendererOutputSize(a->renderer, &w, &h);
        int ww = 1, wh = 1;
        SDL_GetWindowSize(a->window, &ww, &wh);
        a->mouse_scale = ww > 0 ? (float)w / ww : 1.0f;
    }
    a->w = w;
    a->h = h;
    float scale = viz_layout_scale(w, h, a->lecture);
    viz_draw_set_scale(&a->draw, scale, a->lecture);
    compute_layout(a);
}

static void poll_trainer(viz_app *a)
{
    if (!a->trainer) return;
    viz_trainer_get_status(a->trainer, &a->train);
    /* a new live run (reset, or continued from a model trained with another
     * schedule): the live view starts matched to it, like a model switch */
    if (a->train.run.schedule.kind != a->live_schedule_seen) {
        if (viz_app_model(a)->live) a->p.schedule = a->train.run.schedule.kind;
        a->live_schedule_seen = a->train.run.schedule.kind;
    }
    viz_trainer_copy_history(a->trainer, &a->history);
    viz_app_update_history(a);
    viz_train_event ev;
    while (viz_trainer_poll_event(a->trainer, &ev)) {
        viz_level lv = ev.kind == VIZ_TRAIN_EVENT_ERROR ? VIZ_LEVEL_ERROR
                     : ev.kind == VIZ_TRAIN_EVENT_SAVED ? VIZ_LEVEL_OK : VIZ_LEVEL_INFO;
        viz_app_toast(a, lv, "%s", ev.text);
        if (a->quit_after_save && ev.kind == VIZ_TRAIN_EVENT_SAVED) a->quit = true;
        if (a->quit_after_save && ev.kind == VIZ_TRAIN_EVENT_ERROR) a->quit_after_save = false; /* stay: not saved */
    }
}

/* ---- the frame ------------------------------------------------------------------------------------- */

static void draw_all(viz_app *a)
{
    viz_draw *d = &a->draw;
    SDL_SetRenderDrawColor(a->renderer, d->theme.bg.r, d->theme.bg.g, d->theme.bg.b, 255);
    SDL_RenderClear(a->renderer);
    const viz_layout *L = &a->layout;
    memset(a->tex_rect, 0, sizeof a->tex_rect);
    a->ui.top_layer = a->quit_dialog ? 2 : a->show_help ? 1 : 0;
    /* each panel draws clipped to its own rectangle: nothing spills over */
    static void (*const image_panels[VIZ_PANEL_COUNT])(viz_app *, SDL_Rect) = {
        [VIZ_PANEL_HEADER] = viz_panel_header,       [VIZ_PANEL_CONTROLS] = viz_panel_controls,
        [VIZ_PANEL_FORWARD] = viz_panel_forward,     [VIZ_PANEL_REVERSE] = viz_panel_reverse,
        [VIZ_PANEL_SCHEDULE] = viz_panel_schedule,   [VIZ_PANEL_TRAINING] = viz_panel_training,
        [VIZ_PANEL_DECOMP] = viz_panel_decomposition, [VIZ_PANEL_TIMELINE] = viz_panel_timeline,
        [VIZ_PANEL_STUDY] = viz_panel_study,
    };
    /* the 2D world: its own data and particle panels, the rest shared */
    static void (*const point_panels[VIZ_PANEL_COUNT])(viz_app *, SDL_Rect) = {
        [VIZ_PANEL_HEADER] = viz_panel_header,       [VIZ_PANEL_CONTROLS] = viz_panel_controls,
        [VIZ_PANEL_FORWARD] = viz_panel_points_forward, [VIZ_PANEL_REVERSE] = viz_panel_points_reverse,
        [VIZ_PANEL_SCHEDULE] = viz_panel_schedule,   [VIZ_PANEL_TRAINING] = viz_panel_training,
        [VIZ_PANEL_TIMELINE] = viz_panel_timeline,   [VIZ_PANEL_FIELD] = viz_panel_field,
        [VIZ_PANEL_DENSITY] = viz_panel_density,
    };
    void (*const *panels)(viz_app *, SDL_Rect) = viz_app_points(a) ? point_panels : image_panels;
    /* each panel is cached (gfx.h): redrawn only when what it draws changed */
    a->panels_drawn = 0;
    for (int i = 0; i < VIZ_PANEL_COUNT; i++) {
        if (L->panel[i].w <= 0 || L->panel[i].h <= 0 || !panels[i]) continue;
        viz_gfx_begin(a->gfx, i, L->panel[i], d->theme.bg);
        /* the pixel probe takes the schedule's place: both plot over t */
        if (i == VIZ_PANEL_SCHEDULE && a->probe_x >= 0 && !viz_app_points(a)) viz_panel_probe(a, L->panel[i]);
        else panels[i](a, L->panel[i]);
        a->panels_drawn += viz_gfx_end(a->gfx);
    }
    viz_overlay_banners(a);
    viz_text_audit_layer(a->text);         /* what floats above the panels may cover them */
    viz_overlay_toasts(a);
    a->ui.layer = 1;
    viz_text_audit_layer(a->text);
    if (a->show_help) viz_overlay_help(a);
    a->ui.layer = 2;
    viz_text_audit_layer(a->text);
    if (a->quit_dialog) viz_overlay_quit_dialog(a);
    a->ui.layer = 0;
}

static void update_state(viz_app *a, double dt)
{
    poll_trainer(a);
    if (a->models.items[a->p.model].live == false && !a->models.items[a->p.model].loaded)
        viz_app_select_model(a, a->p.model);
    viz_app_clamp_params(a);
    if (viz_app_compares_models(a)) load_model_b(a);
    update_schedules(a);
    if (viz_app_points(a)) viz_app_update_points(a);
    else update_forward_digit(a);
    if (a->rtcurve_pending && viz_job_start_t(&a->p) > 0) {
        viz_app_rtcurve_start(a);
        a->rtcurve_pending = false;
    }
    viz_app_submit_jobs(a);
    viz_app_update_shown(a);
    viz_app_update_study(a);

    const int S = a->shown ? viz_result_steps(a->shown) : a->p.steps;
    const int T = a->sched_ok ? a->sched.T : viz_app_T(a);
    viz_playback_advance(&a->pb, dt, a->p.speed, S, T);
    /* while playing, the playhead waits for steps still being computed */
    if (a->shown && a->pb.phase == VIZ_PHASE_REVERSE && a->pb.playing) {
        viz_progress pr;
        viz_sampler_progress(a->sampler, a->shown, &pr);
        double limit = (double)pr.done[0] * S / (a->shown->traj[0].S > 0 ? a->shown->traj[0].S : 1);
        if (pr.state == VIZ_JOB_RUNNING && a->pb.pos > limit) a->pb.pos = limit;
    }
    viz_playback_clamp(&a->pb, S, T);
}

void viz_app_frame(viz_app *a, double dt)
{
    const double wall0 = a->now = ddpm_now();
    viz_record_frame(a, dt); /* before the frame's events, which follow its line */
    viz_input in;
    poll_events(a, &in);
    if (viz_app_replaying(a)) dt = viz_replay_begin_frame(a, dt, &in); /* its clock, its input */
    update_size(a);
    update_state(a, dt);
    /* the layout may depend on toggles changed by keys */
    compute_layout(a);
    viz_ui_begin(&a->ui, &in);
    draw_all(a);
    viz_ui_end(&a->ui);
    if (a->export_view_pending) viz_export_pending_view(a);
    viz_text_end_frame(a->text);
    if (!a->headless) SDL_RenderPresent(a->renderer);

    /* frame time, smoothed */
    const double t = ddpm_now();
    if (a->last_frame > 0) {
        double ft = t - a->last_frame;
        if (a->show_fps && !a->headless) {
            if (a->n_frame_times == a->frame_cap) {
                int cap = a->frame_cap ? a->frame_cap * 2 : 4096;
                double *ft_new = realloc(a->frame_times, sizeof(double) * (size_t)cap);
                if (ft_new) a->frame_times = ft_new, a->frame_cap = cap;
            }
            if (a->n_frame_times < a->frame_cap) a->frame_times[a->n_frame_times++] = ft;
            if (a->train.state == VIZ_TRAIN_RUNNING) {
                if (a->frames_training == 0) a->train_step0 = a->train.step, a->train_t0 = t;
                a->train_step1 = a->train.step, a->train_t1 = t;
                a->frames_training++;
                if (a->train.yielding) a->frames_held++;
            }
        }
        a->frame_ms = a->frame_ms > 0 ? 0.9 * a->frame_ms + 0.1 * (t - wall0) * 1000.0 : (t - wall0) * 1000.0;
        double inst = ft > 0 ? 1.0 / ft : 0;
        a->fps = a->fps > 0 ? 0.9 * a->fps + 0.1 * inst : inst;
    }
    a->last_frame = t;
    viz_record_end_frame(a);
    a->frame_count++;
    a->dirty = false;
    for (int i = 0; i < a->n_toasts; i++)
        if (a->toasts[i].until < a->now) {
            memmove(a->toasts + i, a->toasts + i + 1, sizeof a->toasts[0] * (size_t)(a->n_toasts - i - 1));
            a->n_toasts--;
            i--;
        }
}

int viz_app_capture(viz_app *a, ddpm_image *out, ddpm_error *err)
{
    viz_input in = {0};
    in.mx = in.my = -1000; /* no hover highlights in a capture */
    a->ui.in = in;
    viz_ui_begin(&a->ui, &in);
    draw_all(a);
    viz_ui_end(&a->ui);
    ddpm_image_init(out, a->w, a->h);
    if (SDL_RenderReadPixels(a->renderer, NULL, SDL_PIXELFORMAT_RGB24, out->rgb, a->w * 3) != 0) {
        ddpm_image_free(out);
        return ddpm_fail(err, "cannot read the rendered pixels back: %s", SDL_GetError());
    }
    return DDPM_OK;
}

/* ---- create / free -------------------------------------------------------------------------------- */

static void wake_ui(void *ctx)
{
    viz_app *a = ctx;
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = a->wake_event;
    SDL_PushEvent(&e); /* thread-safe; wakes SDL_WaitEventTimeout */
}

/* Whether an OpenGL renderer is a software rasteriser (its GL_RENDERER
 * names llvmpipe, softpipe or swrast); the name goes to `name`. */
static bool gl_in_software(SDL_Renderer *r, char *name, size_t cap)
{
    SDL_RendererInfo info;
    if (SDL_GetRendererInfo(r, &info) != 0 || strncmp(info.name, "opengl", 6) != 0) return false;
    typedef const unsigned char *(*get_string_fn)(unsigned int);
    get_string_fn get_string = (get_string_fn)SDL_GL_GetProcAddress("glGetString");
    const unsigned char *s = get_string ? get_string(0x1F01u /* GL_RENDERER */) : NULL;
    if (!s) return false;
    snprintf(name, cap, "%s", (const char *)s);
    return strstr(name, "llvmpipe") || strstr(name, "softpipe") || strstr(name, "swrast");
}

static int open_output(viz_app *a, ddpm_error *err)
{
    if (a->headless) {
        a->surface = SDL_CreateRGBSurfaceWithFormat(0, a->w, a->h, 32, SDL_PIXELFORMAT_ARGB8888);
        if (!a->surface) return ddpm_fail(err, "cannot create a %dx%d surface: %s", a->w, a->h, SDL_GetError());
        a->renderer = SDL_CreateSoftwareRenderer(a->surface);
        if (!a->renderer) return ddpm_fail(err, "cannot create a software renderer: %s", SDL_GetError());
        a->mouse_scale = 1.0f;
        return DDPM_OK;
    }
    if (SDL_InitSubSystem(SDL_INIT_VIDEO | SDL_INIT_EVENTS) != 0)
        return ddpm_fail(err, "no video device (%s). Is a display available? For headless use, render to a "
                              "file with --screenshot out.png (works without a display)", SDL_GetError());
    Uint32 flags = SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI;
    if (a->fullscreen) flags |= SDL_WINDOW_FULLSCREEN_DESKTOP;
    a->window = SDL_CreateWindow("ddpm viz", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, a->w, a->h, flags);
    if (!a->window)
        return ddpm_fail(err, "cannot open a window (%s). For headless use, render to a file with "
                              "--screenshot out.png", SDL_GetError());
    SDL_SetWindowMinimumSize(a->window, VIZ_MIN_W, VIZ_MIN_H);
    a->renderer = SDL_CreateRenderer(a->window, -1, SDL_RENDERER_ACCELERATED | SDL_RENDERER_PRESENTVSYNC);
    char gl_name[128] = "";
    if (a->renderer && !SDL_getenv("SDL_RENDER_DRIVER") && gl_in_software(a->renderer, gl_name, sizeof gl_name)) {
        /* OpenGL drawn by the CPU (Mesa's llvmpipe: no GPU driver, Xvfb, a
         * VM): SDL's own software renderer blits the cached panels at memory
         * speed where llvmpipe samples them as textures: a fifth of the CPU
         * per frame (a still view at 60 fps under Xvfb: 0.085 against 0.47
         * cores), which the sampler gets instead.  SDL_RENDER_DRIVER=opengl
         * keeps GL. */
        SDL_DestroyRenderer(a->renderer);
        SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
        a->renderer = SDL_CreateRenderer(a->window, -1, SDL_RENDERER_SOFTWARE);
        if (!a->renderer) a->renderer = SDL_CreateRenderer(a->window, -1, SDL_RENDERER_ACCELERATED);
    }
    if (!a->renderer) a->renderer = SDL_CreateRenderer(a->window, -1, SDL_RENDERER_SOFTWARE);
    if (!a->renderer) return ddpm_fail(err, "cannot create a renderer: %s", SDL_GetError());
    a->wake_event = SDL_RegisterEvents(1);
    SDL_RendererInfo info;
    if (a->show_fps && SDL_GetRendererInfo(a->renderer, &info) == 0)
        fprintf(stderr, "ddpm viz: renderer %s%s%s%s%s, %d CPUs\n", info.name,
                info.flags & SDL_RENDERER_PRESENTVSYNC ? " with vsync" : "", gl_name[0] ? " (OpenGL is " : "",
                gl_name, gl_name[0] ? " in software)" : "", SDL_GetCPUCount());
    return DDPM_OK;
}

/* --set model=NAME / model_b=NAME: the model's index, or a message listing them. */
static int find_model(viz_app *a, const char *key, const char *name, int *out, ddpm_error *err)
{
    *out = viz_models_find(&a->models, name);
    if (*out >= 0) return DDPM_OK;
    char names[512] = "";
    for (int j = 0; j < a->models.n; j++) {
        strncat(names, a->models.items[j].name, sizeof names - strlen(names) - 1);
        if (j + 1 < a->models.n) strncat(names, ", ", sizeof names - strlen(names) - 1);
    }
    return ddpm_fail(err, "--set %s=%s: no such model; available: %s", key, name, names);
}

int viz_app_apply_settings(viz_app *a, const viz_settings *s, ddpm_error *err)
{
    if (s->world >= 0 && !viz_app_set_world(a, (viz_world)s->world))
        return ddpm_fail(err, "--set world=%s: the 2D world cannot be opened (see the message above)",
                         viz_world_name((viz_world)s->world));
    int i = -1;
    if (s->model_name[0]) {
        if (find_model(a, "model", s->model_name, &i, err) != DDPM_OK) return DDPM_ERR;
        viz_app_select_model(a, i);
    }
    if (s->model_b_name[0]) {
        if (find_model(a, "model_b", s->model_b_name, &i, err) != DDPM_OK) return DDPM_ERR;
        a->p.b.model = i;
    }
    if ((s->set & VIZ_SET_STEPS) && s->params.steps > viz_app_T(a))
        return ddpm_fail(err, "--set steps=%d exceeds T = %d of model '%s'; use 1..%d", s->params.steps,
                         viz_app_T(a), viz_app_model(a)->name, viz_app_T(a));
    if ((s->set & VIZ_SET_ROUNDTRIP) && s->params.roundtrip_t >= viz_app_T(a))
        return ddpm_fail(err, "--set roundtrip=%d: model '%s' has T = %d; a round trip starts at 1..%d (0: off)",
                         s->params.roundtrip_t, viz_app_model(a)->name, viz_app_T(a), viz_app_T(a) - 1);
    if ((s->set & VIZ_SET_B_STEPS) && s->params.b.steps > viz_app_T(a))
        return ddpm_fail(err, "--set steps_b=%d exceeds T = %d of model '%s'; use 1..%d", s->params.b.steps,
                         viz_app_T(a), viz_app_model(a)->name, viz_app_T(a));
    viz_settings_apply(s, &a->p);
    viz_app_clamp_params(a);
    if (s->phase >= 0) a->pb.phase = s->phase ? VIZ_PHASE_REVERSE : VIZ_PHASE_FORWARD;
    if (s->forward_t >= 0) {
        a->pb.phase = VIZ_PHASE_FORWARD;
        a->pb.pos = s->forward_t;
    }
    if (s->frame >= 0) {
        a->pb.phase = VIZ_PHASE_REVERSE;
        a->pb.pos = s->frame;
    }
    if (s->playing >= 0) a->pb.playing = s->playing;
    if (s->lecture >= 0) viz_app_set_lecture(a, s->lecture);
    if (s->help >= 0) a->show_help = s->help;
    if (s->fps >= 0) a->show_fps = s->fps;
    if (s->controls >= 0) a->controls_hidden = !s->controls;
    if (s->train_tab >= 0) a->snaps.loss_view = s->train_tab == 1;
    if (s->rtcurve == 1) a->rtcurve_pending = true; /* once the forward digit is ready (update_state) */
    if (!strcmp(s->draw_png, "off")) { /* back to the dataset's digits */
        a->canvas_on = a->canvas_editing = false;
    } else if (!strcmp(s->draw_png, "blank")) { /* an empty canvas, open for drawing */
        viz_app_canvas_clear(a);
        if (!a->canvas_editing) viz_app_canvas_open(a);
    } else if (s->draw_png[0] && viz_app_canvas_load_png(a, s->draw_png, err) != DDPM_OK) {
        return DDPM_ERR;
    }
    if (s->probe_x >= -1) {
        const int W = a->have_digits ? a->digits.width : 28, H = a->have_digits ? a->digits.height : 28;
        if (s->probe_x >= W || s->probe_y >= H)
            return ddpm_fail(err, "--set probe=%d:%d is outside the %dx%d image", s->probe_x, s->probe_y, W, H);
        a->probe_x = s->probe_x, a->probe_y = s->probe_y;
    }
    return DDPM_OK;
}

int viz_app_create(viz_app **out, const viz_options *opt, ddpm_error *err)
{
    *out = NULL;
    viz_app *a = calloc(1, sizeof *a);
    if (!a) {
        viz_recording_free(opt->replay);
        return ddpm_fail(err, "out of memory");
    }
    a->opt = *opt;
    a->recording = opt->replay; /* ours now: freed with the app */
    a->headless = viz_options_headless(opt);
    a->lecture = opt->lecture || opt->fullscreen;
    a->controls_hidden = a->lecture;
    a->probe_x = a->probe_y = a->probe_last = -1;
    a->fullscreen = opt->fullscreen && !a->headless;
    a->show_fps = opt->show_fps;
    a->started_at = a->now = ddpm_now();
    a->pb = viz_playback_initial();

    int w = opt->width, h = opt->height;
    char size_note[200] = "";
    if (w < VIZ_MIN_W || h < VIZ_MIN_H || w > VIZ_MAX_W || h > VIZ_MAX_H) {
        int cw = w < VIZ_MIN_W ? VIZ_MIN_W : w > VIZ_MAX_W ? VIZ_MAX_W : w;
        int ch = h < VIZ_MIN_H ? VIZ_MIN_H : h > VIZ_MAX_H ? VIZ_MAX_H : h;
        snprintf(size_note, sizeof size_note, "Window size %dx%d is outside %dx%d..%dx%d; using %dx%d", w, h,
                 VIZ_MIN_W, VIZ_MIN_H, VIZ_MAX_W, VIZ_MAX_H, cw, ch);
        w = cw, h = ch;
    }
    a->w = w;
    a->h = h;
    /* The live training computes on every core (its workspace's pool: a
     * two-core laptop trains about twice as fast as on one), and lends one
     * to the sampler while a one-thread job runs (viz_trainer_lend); the
     * sampler's and the panels' workspaces compute on one thread each.  BLAS
     * stays at one thread (ddpm_set_threads). */
    ddpm_set_threads(0);
    if (open_output(a, err) != DDPM_OK) {
        viz_app_free(a);
        return DDPM_ERR;
    }

    char font_dir[4096], warning[4200];
    if (opt->font_dir) viz_copy_str(font_dir, sizeof font_dir, opt->font_dir);
    else snprintf(font_dir, sizeof font_dir, "%.4000s/fonts", ddpm_cli_asset_dir());
    a->gfx = viz_gfx_create(a->renderer);
    a->text = a->gfx ? viz_text_create(a->renderer, font_dir, warning, sizeof warning) : NULL;
    if (!a->text) {
        viz_app_free(a);
        return ddpm_fail(err, "out of memory");
    }
    viz_draw_init(&a->draw, a->renderer, a->gfx, a->text);
    viz_ui_init(&a->ui, &a->draw);
    a->ui.in.mx = a->ui.in.my = -1000;
    if (warning[0]) viz_app_banner(a, VIZ_LEVEL_WARN, "%s", warning);
    if (size_note[0]) viz_app_banner(a, VIZ_LEVEL_WARN, "%s", size_note);

    /* data: the forward panel's digits and the live trainer's training set */
    ddpm_error derr = {0};
    a->have_digits = ddpm_dataset_open(&a->digits, "digits", DDPM_SPLIT_TRAIN, &derr) == DDPM_OK;
    if (!a->have_digits)
        viz_app_banner(a, VIZ_LEVEL_ERROR, "No training digits: %s (the forward process and live training are off)", derr.msg);

    /* models */
    char models_dir[4096];
    if (opt->models_dir) viz_copy_str(models_dir, sizeof models_dir, opt->models_dir);
    else snprintf(models_dir, sizeof models_dir, "%.4000s/models", ddpm_cli_asset_dir());
    /* a model of points opens in the 2D world, whose model list it joins */
    const bool points_model = opt->model_path && viz_model_file_is_points(opt->model_path);
    a->points_dataset = -1;
    if (viz_models_scan(&a->models, models_dir, points_model ? NULL : opt->model_path, err) != DDPM_OK) {
        viz_app_free(a);
        return DDPM_ERR;
    }

    /* workers */
    viz_trainer_options to = viz_trainer_options_default(a->have_digits ? &a->digits : NULL);
    to.batch = opt->train_batch;
    if (opt->save_history) viz_copy_str(to.history_dir, sizeof to.history_dir, opt->save_history);
    to.history_first = opt->history_first;
    to.deterministic = opt->replay != NULL;
    if (!a->headless) {
        to.notify = wake_ui;
        to.notify_ctx = a;
    }
    if (viz_trainer_start(&a->trainer, &to, err) != DDPM_OK ||
        viz_sampler_start(&a->sampler, viz_trainer_weights(a->trainer), a->headless ? NULL : wake_ui, a, err) != DDPM_OK ||
        viz_study_start(&a->study, viz_trainer_weights(a->trainer), a->headless ? NULL : wake_ui, a, err) != DDPM_OK) {
        viz_app_free(a);
        return DDPM_ERR;
    }
    viz_trainer_get_status(a->trainer, &a->train);
    a->live_schedule_seen = a->train.run.schedule.kind;

    /* the starting model: --model, else eps-linear, else the first bundled one, else live */
    int start = -1;
    if (opt->model_path && !points_model) start = viz_models_find(&a->models, opt->model_path);
    if (start < 0) start = viz_models_find(&a->models, DDPM_DEFAULT_MODEL);
    if (start < 0 && a->models.n_files > 0 && (!opt->model_path || points_model)) start = 0;
    if (start < 0) {
        start = viz_models_live(&a->models);
        if (a->models.n_files == 0)
            viz_app_banner(a, VIZ_LEVEL_WARN,
                           "No bundled model found in %s \xE2\x80\x94 showing an untrained network; press T to train one live",
                           models_dir);
    }
    viz_params_default(&a->p, &a->train.run.schedule);
    viz_app_select_model(a, start); /* a broken file falls back to live, with a banner */
    /* B of the comparison of models: the next bundled model of the same data
     * (eps-linear -> v-linear, past fashion: comparing a digit model with a
     * fashion one shows nothing about the settings) */
    const int nf = a->models.n_files;
    a->p.b.model = nf == 0 ? a->p.model : a->p.model < nf ? (a->p.model + 1) % nf : 0;
    if (nf > 1 && a->p.model < nf && !viz_app_model(a)->live && viz_app_model(a)->loaded) {
        for (int k = 1; k < nf; k++) {
            const int j = (a->p.model + k) % nf;
            ddpm_error lerr = {0};
            if (viz_models_load(&a->models, j, &lerr) == DDPM_OK &&
                strcmp(a->models.items[j].ck.run.dataset, viz_app_model(a)->ck.run.dataset) == 0) {
                a->p.b.model = j;
                break;
            }
        }
    }
    if (points_model && !viz_app_set_world(a, VIZ_WORLD_POINTS)) {
        viz_app_free(a);
        return ddpm_fail(err, "'%s' holds a model of points, and the 2D world cannot be opened", opt->model_path);
    }
    if (viz_app_apply_settings(a, &opt->settings, err) != DDPM_OK) {
        viz_app_free(a);
        return DDPM_ERR;
    }
    if (opt->train_seconds > 0) {
        viz_trainer_train(a->trainer);
        a->training_requested = true;
        /* as with T: show the network being trained, unless a model was asked for */
        if ((!opt->model_path || points_model) && !opt->settings.model_name[0] && !viz_app_model(a)->live)
            viz_app_select_model(a, viz_models_live(&a->models));
    }
    viz_app_update_history(a); /* before the first job: --set snapshot=N names one of it */
    update_size(a);
    if (opt->record && viz_record_start(a, opt->record, err) != DDPM_OK) {
        viz_app_free(a);
        return DDPM_ERR;
    }
    *out = a;
    return DDPM_OK;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* The --fps summary: how smooth the window was. */
static void print_frame_summary(viz_app *a)
{
    if (a->n_frame_times < 10) return;
    const int n = a->n_frame_times;
    double total = 0;
    for (int i = 0; i < n; i++) total += a->frame_times[i];
    qsort(a->frame_times, (size_t)n, sizeof(double), cmp_double);
    fprintf(stderr,
            "ddpm viz: %d frames in %.1f s: %.1f fps on average; median frame %.1f ms, 95th percentile %.1f ms, "
            "worst %.1f ms; training ran during %.0f%% of the frames\n",
            n, total, n / total, 1000 * a->frame_times[n / 2], 1000 * a->frame_times[n * 95 / 100],
            1000 * a->frame_times[n - 1], 100.0 * a->frames_training / n);
    if (a->frames_training > 0 && a->train_t1 > a->train_t0)
        fprintf(stderr,
                "ddpm viz: the live training took %lld steps in %.1f s (%.1f steps/s); it held between steps "
                "for sampling jobs during %.0f%% of those frames\n",
                (long long)(a->train_step1 - a->train_step0), a->train_t1 - a->train_t0,
                (double)(a->train_step1 - a->train_step0) / (a->train_t1 - a->train_t0),
                100.0 * a->frames_held / a->frames_training);
}

void viz_app_free(viz_app *a)
{
    if (!a) return;
    print_frame_summary(a);
    /* stop the workers first: they may hold pointers into the models */
    viz_sampler_stop(a->sampler);
    viz_app_rtcurve_stop(a);
    viz_study_stop(a->study);
    viz_study_release(a->study_shown);
    viz_trainer_stop(a->trainer);
    viz_recording_free(a->recording);
    if (a->away.started) {
        viz_trainer_stop(a->away.trainer);
        viz_loss_history_free(&a->away.history);
        viz_models_free(&a->away.models);
    }
    viz_result_release(a->shown);
    viz_loss_history_free(&a->history);
    viz_app_history_free(a);
    ddpm_dataset_free(&a->points);
    ddpm_dataset_free(&a->points_held);
    free(a->drawn);
    free(a->fwd_pts);
    free(a->fwd_pts_eps);
    ddpm_net_workspace_free(a->field_ws);
    ddpm_net_free(a->field_net);
    free(a->field_weights);
    for (size_t i = 0; i < sizeof a->tex / sizeof a->tex[0]; i++) viz_image_free(&a->tex[i]);
    viz_text_free(a->text);
    viz_gfx_free(a->gfx);
    if (a->renderer) SDL_DestroyRenderer(a->renderer);
    if (a->window) SDL_DestroyWindow(a->window);
    if (a->surface) SDL_FreeSurface(a->surface);
    viz_models_free(&a->models);
    if (a->have_digits) ddpm_dataset_free(&a->digits);
    if (a->have_fashion) ddpm_dataset_free(&a->fashion);
    ddpm_schedule_free(&a->sched);
    ddpm_schedule_free(&a->model_sched);
    free(a->ts);
    free(a->frame_times);
    free(a->fwd_x0);
    free(a->canvas);
    free(a->pixels);
    free(a->scratch);
    if (!a->headless) SDL_QuitSubSystem(SDL_INIT_VIDEO | SDL_INIT_EVENTS);
    free(a);
}
