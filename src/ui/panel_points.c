/* panel_points.c: the 2D world's two particle panels.  "Data & forward
 * process": the point set, and while the forward process plays, the same
 * points noised to x_t = sqrt(ab) x0 + sqrt(1 - ab) eps (draw your own points
 * here, in draw mode).  "Reverse process": the particles at x_t frame by
 * frame, with a few particles' whole paths (ODE paths glide, SDE paths
 * jitter) and where each particle "thinks it is going", x0-hat, as lines or
 * a second cloud; in the comparison view, two clouds on identical noise.
 * Also the plots every 2D panel draws on (viz_points_canvas). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "app.h"

static const char *SUB_X0 = "x\xCC\x82\xE2\x82\x80"; /* x̂0 */

static uint32_t rgb_of(SDL_Color c) { return (uint32_t)c.r << 16 | (uint32_t)c.g << 8 | c.b; }
static SDL_Color color_of(uint32_t rgb) { return viz_rgba(rgb >> 16 & 255, rgb >> 8 & 255, rgb & 255, 255); }

/* ---- the canvas --------------------------------------------------------------------------------- */

bool viz_points_canvas_begin(viz_app *a, viz_points_canvas *c, SDL_Rect area, int slot, uint64_t key)
{
    viz_draw *d = &a->draw;
    memset(c, 0, sizeof *c);
    /* room for the tick labels left of and under the plot */
    const int lab = viz_line_h(d, VIZ_SIZE_SMALL), left = viz_px(d, 22);
    int side = area.w - left < area.h - lab ? area.w - left : area.h - lab;
    if (side < 16) side = 16;
    c->plot = (SDL_Rect){area.x + left + (area.w - left - side) / 2, area.y, side, side};
    c->slot = slot;
    float x_min, x_max, y_min, y_max;
    viz_app_points_view(a, &x_min, &x_max, &y_min, &y_max);
    c->pl = viz_plot2d_make(x_min, x_max, y_min, y_max, side, side);
    c->key = viz_key(key, (uint64_t)side, a->lecture, 0x9A);
    const viz_image_tex *t = &a->tex[slot];
    if (t->tex && t->key == c->key && t->w == side) return false;
    uint32_t *px = viz_app_pixels(a, (size_t)side * side);
    if (!px) return false;
    c->r = (viz_raster){px, side, side};
    c->drawing = true;
    viz_raster_clear(&c->r, 0xFF000000u | rgb_of(viz_mix(d->theme.panel, d->theme.bg, 0.5f)));
    const uint32_t grid = rgb_of(viz_mix(d->theme.panel, d->theme.text_dim, 0.18f));
    const uint32_t axis = rgb_of(viz_mix(d->theme.panel, d->theme.text_dim, 0.45f));
    viz_raster_grid(&c->r, &c->pl, grid, axis);
    return true;
}

void viz_points_canvas_end(viz_app *a, viz_points_canvas *c)
{
    viz_draw *d = &a->draw;
    if (c->drawing) viz_image_update(d, &a->tex[c->slot], c->key, c->r.px, c->r.w, c->r.h);
    SDL_Rect drawn = viz_app_draw_tex(a, c->slot, c->plot);
    viz_outline(d, drawn, 1, d->theme.image_frame);
    /* tick labels at the integers, every other one when crowded */
    const int sh = viz_line_h(d, VIZ_SIZE_SMALL);
    int lw = 0;
    viz_measure(d, VIZ_SIZE_SMALL, false, "-8", &lw, NULL);
    const float unit = c->pl.scale * drawn.w / (float)c->plot.w, need = (float)((lw > sh ? lw : sh) + viz_px(d, 6));
    const int every = unit >= need ? 1 : 2 * unit >= need ? 2 : 5 * unit >= need ? 5 : 10;
    for (int k = (int)ceilf(c->pl.x_min); k <= (int)floorf(c->pl.x_max); k++) {
        if (k % every) continue;
        float px, py;
        viz_plot2d_map(&c->pl, (float)k, 0, &px, &py);
        viz_label(d, drawn.x + (int)(px * drawn.w / c->plot.w), drawn.y + drawn.h + viz_px(d, 1), VIZ_ALIGN_CENTER,
                  VIZ_SIZE_SMALL, d->theme.text_dim, "%d", k);
    }
    for (int k = (int)ceilf(c->pl.y_min); k <= (int)floorf(c->pl.y_max); k++) {
        if (k % every) continue;
        float px, py;
        viz_plot2d_map(&c->pl, 0, (float)k, &px, &py);
        viz_label(d, drawn.x - viz_px(d, 4), drawn.y + (int)(py * drawn.h / c->plot.h) - sh / 2, VIZ_ALIGN_RIGHT,
                  VIZ_SIZE_SMALL, d->theme.text_dim, "%d", k);
    }
    c->plot = drawn;
}

void viz_points_draw_data(viz_app *a, viz_points_canvas *c, float alpha)
{
    const ddpm_dataset *ds = &a->points;
    if (!ds->points || ds->channels != 2) return;
    const size_t n = ds->n < 4000 ? ds->n : 4000;
    const float rad = a->lecture ? 1.6f : 1.2f;
    for (size_t i = 0; i < n; i++) {
        const size_t j = i * ds->n / n;
        float px, py;
        viz_plot2d_map(&c->pl, ds->points[2 * j], ds->points[2 * j + 1], &px, &py);
        viz_raster_dot(&c->r, px, py, rad, VIZ_RGB_DATA, alpha);
    }
}

/* A particle cloud (n points of 2 values) into the canvas. */
static void draw_cloud(viz_points_canvas *c, const float *pts, int n, uint32_t rgb, float radius, float alpha)
{
    for (int i = 0; i < n; i++) {
        float px, py;
        viz_plot2d_map(&c->pl, pts[2 * i], pts[2 * i + 1], &px, &py);
        viz_raster_dot(&c->r, px, py, radius, rgb, alpha);
    }
}

/* A key of coloured dots and names under a plot; returns its height. */
static int legend(viz_app *a, int x, int y, int w, const char *const *names, const uint32_t *rgb, int n)
{
    viz_draw *d = &a->draw;
    const int sh = viz_line_h(d, VIZ_SIZE_SMALL), dot = viz_px(d, 7);
    int cx = x;
    for (int i = 0; i < n; i++) {
        int tw;
        viz_measure(d, VIZ_SIZE_SMALL, false, names[i], &tw, NULL);
        if (cx > x && cx + dot + viz_px(d, 4) + tw > x + w) { /* wrap */
            cx = x;
            y += sh;
        }
        viz_fill_round(d, (SDL_Rect){cx, y + (sh - dot) / 2, dot, dot}, dot / 2, color_of(rgb[i]));
        viz_label(d, cx + dot + viz_px(d, 4), y, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, d->theme.text, "%s", names[i]);
        cx += dot + viz_px(d, 4) + tw + viz_px(d, 12);
    }
    return y + sh;
}

/* ---- data and forward process ------------------------------------------------------------------------- */

void viz_panel_points_forward(viz_app *a, SDL_Rect r)
{
    viz_draw *d = &a->draw;
    const viz_theme *th = &d->theme;
    const bool forward = a->pb.phase == VIZ_PHASE_FORWARD;
    const int t_now = forward ? viz_app_current_t(a) : -1;
    char sub[96];
    snprintf(sub, sizeof sub, "%s, %zu points", viz_dataset_name(a->p.dataset), a->points.n);
    SDL_Rect c = viz_panel_begin(a, r, a->drawing ? "Draw your data" : forward ? "Forward process" : "Data", sub);
    const int sh = viz_line_h(d, VIZ_SIZE_SMALL), lh = viz_line_h(d, VIZ_SIZE_BODY);
    const int text_h = lh + 2 * sh + viz_px(d, 8);
    SDL_Rect area = {c.x, c.y, c.w, c.h - text_h};

    viz_points_canvas cv;
    const uint64_t key = viz_key(a->points_version, (uint64_t)(t_now + 2), a->p.seed ^ ((uint64_t)a->p.schedule << 40),
                                 (uint64_t)a->fwd_n * 4 + a->drawing * 2 + forward);
    if (viz_points_canvas_begin(a, &cv, area, VIZ_TEX_PTS_FWD, key)) {
        if (!forward || t_now < 0 || !a->sched_ok) {
            viz_points_draw_data(a, &cv, a->drawing ? 0.9f : 0.75f);
        } else {
            /* x_t of the panel's points, from the scheduler's closed form (DDPM eq. 4) */
            viz_points_draw_data(a, &cv, 0.22f);
            float *xt = viz_app_scratch(a, 2 * (size_t)a->fwd_n);
            if (xt) {
                ddpm_q_sample(&a->sched, t_now, a->fwd_pts, a->fwd_pts_eps, xt, 2 * (size_t)a->fwd_n);
                draw_cloud(&cv, xt, a->fwd_n, VIZ_RGB_PARTICLE, a->lecture ? 1.7f : 1.3f, 0.75f);
            }
        }
    }
    viz_points_canvas_end(a, &cv);

    /* draw mode: strokes in the plot add points */
    if (a->drawing && viz_ui_hover(&a->ui, cv.plot) && a->ui.in.down) {
        const float sx = (float)(a->ui.in.mx - cv.plot.x) / cv.plot.w, sy = (float)(a->ui.in.my - cv.plot.y) / cv.plot.h;
        const float x = cv.pl.x_min + sx * (cv.pl.x_max - cv.pl.x_min);
        const float y = cv.pl.y_max - sy * (cv.pl.y_max - cv.pl.y_min);
        viz_app_draw_points(a, x, y);
        a->ui.mouse_used = true;
    }

    int y = area.y + area.h + viz_px(d, 6);
    if (a->drawing) {
        viz_label_bold(d, c.x, y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, th->accent, "%zu points drawn", a->n_drawn);
        viz_label(d, c.x, y + lh, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, th->text_dim, "drag to draw \xC2\xB7 Enter: train");
        viz_label(d, c.x, y + lh + sh, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, th->text_dim, "Backspace: clear \xC2\xB7 D: done");
        return;
    }
    if (forward && t_now >= 0 && a->sched_ok) {
        const double ab = a->sched.alpha_bar[t_now];
        int w = viz_label_bold(d, c.x, y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, th->title, "t = %d", t_now);
        viz_label_bold(d, c.x + w + viz_px(d, 14), y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, th->accent,
                       "\xCE\xB1\xCC\x84 = %.4f", ab);
        viz_label(d, c.x, y + lh, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, th->text_dim,
                  "x\xE2\x82\x9C = %.3f\xC2\xB7x\xE2\x82\x80 + %.3f\xC2\xB7\xCE\xB5", sqrt(ab), sqrt(1.0 - ab));
    } else {
        viz_label(d, c.x, y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, th->text, "the data x\xE2\x82\x80");
        viz_label(d, c.x, y + lh, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, th->text_dim, "F: noise it");
    }
    viz_label(d, c.x, y + lh + sh, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, th->text_dim, "B: next set \xC2\xB7 D: draw");
}

/* ---- the reverse process -------------------------------------------------------------------------------- */

/* One side's particles at frame v->k into a canvas: the data, the
 * particles, x0-hat over them, the paths on top. */
static void draw_particles(viz_app *a, viz_points_canvas *c, const viz_frame_view *v)
{
    const viz_result *res = v->r;
    const int B = res->B;
    const size_t fr = (size_t)B * res->per;
    const float rad = a->lecture ? 1.7f : 1.3f;
    viz_points_draw_data(a, c, 0.2f);
    draw_cloud(c, v->x_t, B, VIZ_RGB_PARTICLE, rad, 0.7f);
    /* where the particles think they are going */
    if (v->x0_hat && a->p.x0_show == VIZ_X0_LINES) {
        const int n = B < 300 ? B : 300;
        for (int i = 0; i < n; i++) {
            float x0p, y0p, x1p, y1p;
            viz_plot2d_map(&c->pl, v->x_t[2 * i], v->x_t[2 * i + 1], &x0p, &y0p);
            viz_plot2d_map(&c->pl, v->x0_hat[2 * i], v->x0_hat[2 * i + 1], &x1p, &y1p);
            viz_raster_line(&c->r, x0p, y0p, x1p, y1p, 1.0f, VIZ_RGB_X0, 0.28f);
            viz_raster_dot(&c->r, x1p, y1p, 1.5f, VIZ_RGB_X0, 0.9f);
        }
    } else if (v->x0_hat && a->p.x0_show == VIZ_X0_CLOUD) {
        draw_cloud(c, v->x0_hat, B, VIZ_RGB_X0, rad, 0.5f);
    }
    /* trails: the first VIZ_TRAILS_N particles' paths from x_T to frame k, in
     * colours of their own so that crossing paths stay apart */
    if (a->p.trails) {
        /* older parts of a path fade: with hundreds of noisy DDPM steps the
         * recent moves stay readable */
        const int n = B < VIZ_TRAILS_N ? B : VIZ_TRAILS_N;
        for (int i = 0; i < n; i++) {
            const uint32_t rgb = i % 3 == 0 ? 0xFFE08A : i % 3 == 1 ? 0xF2A0FF : 0xB8F0A0;
            float px0 = 0, py0 = 0;
            for (int k = 0; k <= v->k; k++) {
                const float *p = v->tr->x_t + (size_t)k * fr + (size_t)i * res->per;
                float px, py;
                viz_plot2d_map(&c->pl, p[0], p[1], &px, &py);
                const float age = (float)k / (v->k > 0 ? v->k : 1);
                if (k > 0) viz_raster_line(&c->r, px0, py0, px, py, a->lecture ? 1.4f : 1.0f, rgb, 0.12f + 0.7f * age);
                px0 = px, py0 = py;
            }
            viz_raster_dot(&c->r, px0, py0, rad + 1.4f, rgb, 1.0f);
        }
    }
}

static void step_caption(const viz_frame_view *v, char *buf, size_t cap)
{
    if (v->k >= v->S) snprintf(buf, cap, "step %d/%d \xC2\xB7 done: x\xE2\x82\x80", v->k, v->S);
    else snprintf(buf, cap, "step %d/%d \xC2\xB7 t = %d", v->k, v->S, v->t);
}

void viz_panel_points_reverse(viz_app *a, SDL_Rect r)
{
    viz_draw *d = &a->draw;
    const viz_theme *th = &d->theme;
    viz_frame_view v[2];
    const bool have = viz_app_frame_view(a, 0, &v[0]);
    const int sides = have && a->shown->job.n_sides > 1 && viz_app_frame_view(a, 1, &v[1]) ? 2 : have ? 1 : 0;
    char sub[160];
    const viz_model *m = viz_app_model(a);
    if (sides) {
        char st[64];
        step_caption(&v[0], st, sizeof st);
        snprintf(sub, sizeof sub, "%d particles \xC2\xB7 %s", a->shown->B, st);
    } else {
        snprintf(sub, sizeof sub, "%s", m->live ? "live network" : m->name);
    }
    SDL_Rect c = viz_panel_begin(a, r, sides == 2 ? "Reverse process: A vs B" : "Reverse process", sub);
    const int sh = viz_line_h(d, VIZ_SIZE_SMALL), lh = viz_line_h(d, VIZ_SIZE_BODY);
    if (!sides) {
        viz_label(d, c.x, c.y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, th->text_dim, "computing\xE2\x80\xA6");
        return;
    }
    const int legend_h = 2 * sh + viz_px(d, 6);
    const int gap = viz_px(d, 10);
    for (int s = 0; s < sides; s++) {
        const int w = sides == 2 ? (c.w - gap) / 2 : c.w;
        SDL_Rect area = {c.x + s * (w + gap), c.y + (sides == 2 ? lh : 0), w, c.h - legend_h - (sides == 2 ? lh : 0)};
        if (sides == 2)
            viz_label_bold(d, area.x, c.y, VIZ_ALIGN_LEFT, VIZ_SIZE_BODY, s ? th->second : th->accent, "%s: %s",
                           s ? "B" : "A", a->shown->job.sides[s].label);
        viz_points_canvas cv;
        const uint64_t key = viz_key(a->shown->id, (uint64_t)v[s].k * 2 + (v[s].x0_hat != NULL),
                                     (uint64_t)a->p.trails * 4 + a->p.x0_show, a->points_version * 3 + s);
        if (viz_points_canvas_begin(a, &cv, area, s ? VIZ_TEX_PTS_B : VIZ_TEX_PTS_A, key)) draw_particles(a, &cv, &v[s]);
        viz_points_canvas_end(a, &cv);
        if (sides == 2) {
            char st[64];
            step_caption(&v[s], st, sizeof st);
            viz_label(d, cv.plot.x + viz_px(d, 4), cv.plot.y + viz_px(d, 3), VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, th->text,
                      "%s", st);
        }
    }
    /* the key */
    const char *names[4];
    uint32_t rgb[4];
    int n = 0;
    names[n] = "particles x\xE2\x82\x9C", rgb[n++] = VIZ_RGB_PARTICLE;
    if (a->p.x0_show != VIZ_X0_OFF) {
        static char x0_name[48];
        snprintf(x0_name, sizeof x0_name, "%s (where they head)", SUB_X0);
        names[n] = x0_name, rgb[n++] = VIZ_RGB_X0;
    }
    if (a->p.trails) names[n] = "paths", rgb[n++] = 0xFFE08A;
    names[n] = "data", rgb[n++] = VIZ_RGB_DATA;
    const int y = legend(a, c.x, c.y + c.h - legend_h + viz_px(d, 4), c.w, names, rgb, n);
    (void)y;
}
