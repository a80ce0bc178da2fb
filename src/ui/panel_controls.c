/* panel_controls.c: the sliders and switches, top to bottom: world, model,
 * sampler, noise, view (with the 2D world's data set and overlays),
 * playback.  Every widget edits a->p; the app turns a->p into sampling jobs
 * (viz_params.c). */
#include <math.h>
#include <stdio.h>

#include "app.h"

typedef struct column {
    viz_app *a;
    SDL_Rect r;
    int y;
    int row_h, slider_h, gap, section_gap;
    bool titles;
} column;

static SDL_Rect row(column *c, int h)
{
    SDL_Rect r = {c->r.x, c->y, c->r.w, h};
    c->y += h + c->gap;
    return r;
}

static void section(column *c, const char *title)
{
    c->y += c->section_gap;
    if (!c->titles) return;
    viz_draw *d = &c->a->draw;
    const int h = viz_line_h(d, VIZ_SIZE_SMALL);
    viz_label_bold(d, c->r.x, c->y, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, d->theme.text_dim, "%s", title);
    viz_fill(d, (SDL_Rect){c->r.x, c->y + h + viz_px(d, 2), c->r.w, 1}, d->theme.panel_edge);
    c->y += h + viz_px(d, 7);
}

/* The height the column needs with these sizes (the same sequence as draw). */
static int needed(const column *c, int n_rows, int n_sliders, int n_sections, int small_lines)
{
    viz_draw *d = &c->a->draw;
    int sec = c->section_gap + (c->titles ? viz_line_h(d, VIZ_SIZE_SMALL) + viz_px(d, 7) : 0);
    return n_rows * (c->row_h + c->gap) + n_sliders * (c->slider_h + c->gap) + n_sections * sec +
           small_lines * (viz_line_h(d, VIZ_SIZE_SMALL) + c->gap);
}

static double log_unit(double v, double lo, double hi) { return log(v / lo) / log(hi / lo); }
static double log_value(double u, double lo, double hi) { return lo * exp(u * log(hi / lo)); }

/* ---- the sampler's widgets: A's in the SAMPLER section, and the same
 * widget for B's value of the compared setting (side 1: its own ids and a
 * "B " in front of the label) */

static const char *side_label(int side, const char *label, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s%s", side ? "B " : "", label);
    return buf;
}

static bool w_model(column *c, int side, int *model)
{
    viz_app *a = c->a;
    const viz_model *m = &a->models.items[*model];
    char buf[96], lb[32];
    snprintf(buf, sizeof buf, "%s%s", m->name, m->broken ? " (broken)" : "");
    int mi = *model;
    if (!viz_ui_stepper(&a->ui, viz_ui_id("model", side), row(c, c->row_h), side_label(side, "Model", lb, sizeof lb),
                        buf, &mi, a->models.n))
        return false;
    *model = mi;
    return true;
}

static bool w_sampler(column *c, int side, ddpm_sampler_kind *v)
{
    static const char *const names[] = {"DDPM", "DDIM"};
    static const char *const b_names[] = {"B: DDPM", "B: DDIM"};
    int si = (int)*v;
    if (!viz_ui_segmented(&c->a->ui, viz_ui_id("sampler", side), row(c, c->row_h), side ? b_names : names, 2, &si))
        return false;
    *v = (ddpm_sampler_kind)si;
    return true;
}

static bool w_eta(column *c, int side, ddpm_sampler_kind sampler, double *eta)
{
    char buf[64], lb[48];
    double eta_u = *eta;
    /* sigma^2 = eta^2 beta~ here (DDIM eq. 16, diffusers); the seed notes write
     * sigma^2 = eta beta~, so their eta is this one squared: shown between 0 and 1,
     * where the two differ */
    const bool seeds_differ = sampler == DDPM_SAMPLER_DDIM && *eta > 0.0 && *eta < 1.0;
    if (seeds_differ) snprintf(buf, sizeof buf, "%.2f = seeds' %.2f", *eta, *eta * *eta);
    else snprintf(buf, sizeof buf, "%.2f", *eta);
    /* the label says what eta means for the sampler in use (DDPM has none) */
    side_label(side,
               sampler != DDPM_SAMPLER_DDIM ? "\xCE\xB7  (DDIM only)"
               : seeds_differ               ? "\xCE\xB7"
                                            : "\xCE\xB7  (0 = deterministic)",
               lb, sizeof lb);
    if (!viz_ui_slider(&c->a->ui, viz_ui_id("eta", side), row(c, c->slider_h), lb, buf, &eta_u)) return false;
    *eta = floor(eta_u * 100.0 + 0.5) / 100.0; /* two decimals, and 0 and 1 exactly at the ends */
    return true;
}

static bool w_variance(column *c, int side, ddpm_variance *v)
{
    /* DDPM sec. 3.2: sigma_t^2 = beta~_t (small, optimal for a point x0) or beta_t
     * (large, for x0 ~ N(0, I)); DDIM sets its own from eta */
    char lb[32];
    int vi = (int)*v;
    if (!viz_ui_stepper(&c->a->ui, viz_ui_id("variance", side), row(c, c->row_h),
                        side_label(side, "\xCF\x83\xC2\xB2", lb, sizeof lb),
                        *v == DDPM_VARIANCE_LARGE ? "large: \xCE\xB2" : "small: \xCE\xB2\xCC\x83", &vi,
                        DDPM_VARIANCE_COUNT))
        return false;
    *v = (ddpm_variance)vi;
    return true;
}

static bool w_steps(column *c, int side, int T, int *steps)
{
    char buf[64], lb[32];
    double steps_u = viz_steps_to_unit(*steps, T);
    snprintf(buf, sizeof buf, "%d / %d", *steps, T);
    if (!viz_ui_slider(&c->a->ui, viz_ui_id("steps", side), row(c, c->slider_h),
                       side_label(side, "Steps", lb, sizeof lb), buf, &steps_u))
        return false;
    *steps = viz_steps_from_unit(steps_u, T);
    return true;
}

static bool w_spacing(column *c, int side, ddpm_spacing *v)
{
    char lb[32];
    int sp = (int)*v;
    if (!viz_ui_stepper(&c->a->ui, viz_ui_id("spacing", side), row(c, c->row_h),
                        side_label(side, "Spacing", lb, sizeof lb), ddpm_spacing_name(*v), &sp, DDPM_SPACING_COUNT))
        return false;
    *v = (ddpm_spacing)sp;
    return true;
}

static bool w_schedule(column *c, int side, ddpm_schedule_kind *v, bool mismatch)
{
    char buf[64], lb[32];
    int sk = (int)*v;
    snprintf(buf, sizeof buf, "%s%s", ddpm_schedule_name(*v), mismatch ? " \xE2\x9A\xA0" : "");
    if (!viz_ui_stepper(&c->a->ui, viz_ui_id("schedule", side), row(c, c->row_h),
                        side_label(side, "Schedule", lb, sizeof lb), buf, &sk, DDPM_SCHEDULE_COUNT))
        return false;
    *v = (ddpm_schedule_kind)sk;
    return true;
}

static bool w_clip(column *c, int side, bool *clip)
{
    char lb[64];
    return viz_ui_toggle(&c->a->ui, viz_ui_id("clip", side), row(c, c->row_h),
                         side_label(side, "Clip x\xCC\x82\xE2\x82\x80 to [\xE2\x88\x92" "1, 1]", lb, sizeof lb), clip);
}

/* B's value of the compared setting, with A's widget for it. */
static void b_widget(column *c, viz_params *p, int T)
{
    viz_b_values *b = &p->b;
    switch (p->compare) {
    case VIZ_COMPARE_SAMPLER: w_sampler(c, 1, &b->sampler); break;
    case VIZ_COMPARE_ETA: w_eta(c, 1, DDPM_SAMPLER_DDIM, &b->eta); break;
    case VIZ_COMPARE_STEPS: w_steps(c, 1, T, &b->steps); break;
    case VIZ_COMPARE_SCHEDULE: w_schedule(c, 1, &b->schedule, false); break;
    case VIZ_COMPARE_MODEL: w_model(c, 1, &b->model); break;
    case VIZ_COMPARE_SPACING: w_spacing(c, 1, &b->spacing); break;
    case VIZ_COMPARE_VARIANCE: w_variance(c, 1, &b->variance); break;
    case VIZ_COMPARE_CLIP: w_clip(c, 1, &b->clip_x0); break;
    default: break;
    }
}

/* B's row is a slider (taller) for these. */
static bool b_is_slider(viz_compare cmp) { return cmp == VIZ_COMPARE_ETA || cmp == VIZ_COMPARE_STEPS; }

void viz_panel_controls(viz_app *a, SDL_Rect r)
{
    viz_draw *d = &a->draw;
    viz_ui *ui = &a->ui;
    const viz_theme *t = &d->theme;
    viz_params *p = &a->p;
    const int T = viz_app_T(a);
    viz_fill_round(d, r, viz_px(d, 8), t->panel);
    if (d->lecture) viz_outline(d, r, 1, t->panel_edge);

    column c = {a, viz_inset(r, viz_px(d, 12)), 0, 0, 0, 0, 0, true};
    c.y = c.r.y - viz_px(d, 4);
    const int lh = viz_line_h(d, VIZ_SIZE_BODY);
    c.row_h = lh + viz_px(d, 10);
    c.slider_h = lh + viz_px(d, 20);
    c.gap = viz_px(d, 7);
    c.section_gap = viz_px(d, 8);
    const bool compare = p->view == VIZ_VIEW_COMPARE, points = viz_app_points(a);
    const bool b_slider = compare && b_is_slider(p->compare);
    const bool rt_row = !points && p->view == VIZ_VIEW_SINGLE, rt_slider = rt_row && p->roundtrip_t > 0;
    const int rows = (points ? 13 : 9 + rt_row) + (compare ? 2 - b_slider : 0), sliders = 3 + b_slider + rt_slider,
              sections = 6,
              smalls = 1;
    /* squeeze when the window is short (lecture text at 720p); last, the
     * world switch gives way (W does the same) */
    bool world_row = true;
    bool info_row = true;
    for (int pass = 0; pass < 6 && needed(&c, rows - !world_row, sliders, sections - !world_row, smalls - !info_row) > c.r.h;
         pass++) {
        if (pass == 0) c.gap = viz_px(d, 3), c.section_gap = viz_px(d, 4);
        if (pass == 1) c.titles = false;
        if (pass == 2) c.row_h = lh + viz_px(d, 4), c.slider_h = lh + viz_px(d, 14);
        if (pass == 3) world_row = false;
        if (pass == 4) info_row = false;           /* the header says what the model predicts */
        if (pass == 5) c.slider_h = lh + viz_px(d, 10), c.section_gap = viz_px(d, 2);
    }
    char buf[128];

    /* ---- world ---- */
    static const char *const worlds[] = {"Digits", "2D points\n2D"};
    int wi = (int)p->world;
    if (world_row) section(&c, "WORLD (W)");
    if (world_row && viz_ui_segmented(ui, viz_ui_id("world", 0), row(&c, c.row_h), worlds, 2, &wi)) {
        viz_app_set_world(a, (viz_world)wi);
        p = &a->p; /* the other world's sliders now */
    }

    /* ---- model ---- */
    section(&c, "MODEL");
    int mi = p->model;
    const viz_model *m;
    if (w_model(&c, 0, &mi)) {
        /* the app loads it (and falls back if it cannot) */
        p->model = mi;
        p->schedule = a->models.items[mi].live ? a->train.run.schedule.kind
                    : a->models.items[mi].loaded ? a->models.items[mi].ck.run.schedule.kind : p->schedule;
    }
    m = viz_app_model(a);
    if (m->loaded || m->live) {
        const ddpm_run_config *run = m->live ? &a->train.run : &m->ck.run;
        snprintf(buf, sizeof buf, "%s-pred \xC2\xB7 %s \xC2\xB7 T=%d \xC2\xB7 %s", ddpm_prediction_name(run->prediction),
                 ddpm_schedule_name(run->schedule.kind), run->schedule.T, run->preset);
    } else {
        snprintf(buf, sizeof buf, "loading...");
    }
    if (info_row) {
        SDL_Rect info = row(&c, viz_line_h(d, VIZ_SIZE_SMALL));
        viz_label_fit(d, info.x, info.y, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, false, t->text_dim, info.w, buf);
    }

    /* ---- sampler ---- */
    section(&c, "SAMPLER");
    w_sampler(&c, 0, &p->sampler);
    w_eta(&c, 0, p->sampler, &p->eta);
    if (p->sampler == DDPM_SAMPLER_DDPM) w_variance(&c, 0, &p->variance);
    w_steps(&c, 0, T, &p->steps);
    w_spacing(&c, 0, &p->spacing);
    w_schedule(&c, 0, &p->schedule, viz_app_mismatch(a));
    if (!points) w_clip(&c, 0, &p->clip_x0); /* [-1, 1] is an image's range: points have none */

    /* ---- noise ---- */
    section(&c, "NOISE (LOCKED PER SEED)");
    SDL_Rect seed_row = row(&c, c.row_h);
    const int bw = seed_row.w * 30 / 100;
    SDL_Rect seed_box = {seed_row.x, seed_row.y, seed_row.w - bw - viz_px(d, 6), seed_row.h};
    int dir = 1; /* the stepper's index trick: 0 = back, 1 = stay, 2 = forward */
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)p->seed);
    if (viz_ui_stepper(ui, viz_ui_id("seed", 0), seed_box, "Seed", buf, &dir, 3))
        p->seed = viz_seed_step(p->seed, dir == 0 ? -1 : +1);
    if (viz_ui_button(ui, viz_ui_id("new-seed", 0), (SDL_Rect){seed_row.x + seed_row.w - bw, seed_row.y, bw, seed_row.h},
                      "New (R)", false))
        p->seed = viz_seed_step(p->seed, +1);

    /* ---- view ---- */
    section(&c, "VIEW");
    static const char *const views[] = {"Single", "Grid", "A vs B", "Study"};
    static const char *const cloud_views[] = {"One cloud", "Compare"};
    int vi = points ? (p->view == VIZ_VIEW_COMPARE) : (int)p->view;
    if (viz_ui_segmented(ui, viz_ui_id("view", 0), row(&c, c.row_h), points ? cloud_views : views, points ? 2 : 4, &vi))
        p->view = points ? (vi ? VIZ_VIEW_COMPARE : VIZ_VIEW_SINGLE) : (viz_view)vi;
    if (compare) {
        /* what differs between A (the sliders above) and B; B's value below it */
        int ci = (int)p->compare;
        static const char *const names[VIZ_COMPARE_COUNT] = {
            "sampler", "\xCE\xB7", "steps", "schedule", "model", "spacing", "\xCF\x83\xC2\xB2 (DDPM)", "clip x\xCC\x82\xE2\x82\x80"};
        if (viz_ui_stepper(ui, viz_ui_id("compare", 0), row(&c, c.row_h), "A vs B", names[p->compare], &ci,
                           VIZ_COMPARE_COUNT))
            p->compare = (viz_compare)ci;
        b_widget(&c, p, T);
    }
    if (points) {
        int ds = p->dataset;
        if (p->dataset == VIZ_DATASET_DRAWN) snprintf(buf, sizeof buf, "drawn (%zu)", a->n_drawn);
        else snprintf(buf, sizeof buf, "%s", viz_dataset_name(p->dataset));
        if (viz_ui_stepper(ui, viz_ui_id("dataset", 0), row(&c, c.row_h), "Data (B)", buf, &ds, VIZ_DATASET_COUNT))
            p->dataset = ds;
        viz_ui_toggle(ui, viz_ui_id("draw", 0), row(&c, c.row_h), "Draw your own (D)", &a->drawing);
        viz_ui_toggle(ui, viz_ui_id("trails", 0), row(&c, c.row_h), "Paths of a few (Y)", &p->trails);
        static const char *const x0_names[] = {"off", "cloud", "lines"};
        int xi = (int)p->x0_show;
        if (viz_ui_stepper(ui, viz_ui_id("x0", 0), row(&c, c.row_h), "x\xCC\x82\xE2\x82\x80 (U)", x0_names[p->x0_show],
                           &xi, VIZ_X0_COUNT))
            p->x0_show = (viz_x0_show)xi;
        static const char *const field_names[] = {"score", "x\xCC\x82\xE2\x82\x80 \xE2\x88\x92 x"};
        int fi = (int)p->field;
        if (viz_ui_stepper(ui, viz_ui_id("field", 0), row(&c, c.row_h), "Field (I)", field_names[p->field], &fi,
                           VIZ_FIELD_COUNT))
            p->field = (viz_field)fi;
    } else {
        viz_ui_toggle(ui, viz_ui_id("decomp", 0), row(&c, c.row_h), "Step decomposition (D)\nDecomposition (D)",
                      &p->decomposition);
        /* the round trip (SDEdit): noise the digit to t, denoise it back (one digit: the single view) */
        bool rt = p->roundtrip_t > 0;
        if (rt_row && viz_ui_toggle(ui, viz_ui_id("roundtrip", 0), row(&c, c.row_h), "Round trip (J)", &rt))
            viz_app_toggle_roundtrip(a);
        if (rt_slider) {
            double u = (double)p->roundtrip_t / (T > 1 ? T - 1 : 1);
            snprintf(buf, sizeof buf, "t = %d", p->roundtrip_t);
            if (viz_ui_slider(ui, viz_ui_id("roundtrip-t", 0), row(&c, c.slider_h), "noised to\nto", buf, &u)) {
                const int step = T >= 100 ? T / 100 : 1; /* round values: 10, 20, ... for T = 1000 */
                const int tt = (int)lrint(u * (T - 1) / step) * step;
                p->roundtrip_t = tt < 1 ? 1 : tt > T - 1 ? T - 1 : tt;
            }
        }
    }

    /* ---- playback ---- */
    section(&c, "PLAYBACK");
    double sp_u = log_unit(p->speed, VIZ_SPEED_MIN, VIZ_SPEED_MAX);
    if (a->pb.phase == VIZ_PHASE_FORWARD) { /* the same speed, in the forward sweep's unit */
        const double tr = viz_playback_forward_rate(p->speed, a->shown ? viz_result_steps(a->shown) : p->steps, T);
        snprintf(buf, sizeof buf, tr < 10 ? "%.2g t/s" : "%.0f t/s", tr);
    } else {
        snprintf(buf, sizeof buf, p->speed < 10 ? "%.2g steps/s" : "%.0f steps/s", p->speed);
    }
    if (viz_ui_slider(ui, viz_ui_id("speed", 0), row(&c, c.slider_h), "Speed", buf, &sp_u))
        p->speed = log_value(sp_u, VIZ_SPEED_MIN, VIZ_SPEED_MAX);

    /* the most used keys, where there is room */
    static const char *const image_hints[] = {
        "Space play \xC2\xB7 \xE2\x86\x90\xE2\x86\x92 step \xC2\xB7 [ ] steps \xC2\xB7 E \xCE\xB7",
        "R seed \xC2\xB7 G grid \xC2\xB7 M compare \xC2\xB7 D terms",
        "T train \xC2\xB7 P export \xC2\xB7 H all keys",
    };
    static const char *const point_hints[] = {
        "Space play \xC2\xB7 \xE2\x86\x90\xE2\x86\x92 step \xC2\xB7 [ ] steps \xC2\xB7 E \xCE\xB7",
        "B data \xC2\xB7 D draw \xC2\xB7 M compare \xC2\xB7 W digits",
        "T train \xC2\xB7 P export \xC2\xB7 H all keys",
    };
    const char *const *hints = points ? point_hints : image_hints;
    const int sh = viz_line_h(d, VIZ_SIZE_SMALL) + viz_px(d, 3);
    const int n_hints = 3;
    int hy = c.r.y + c.r.h - n_hints * sh;
    int widest = 0;
    for (int i = 0; i < n_hints; i++) {
        int w = 0;
        viz_measure(d, VIZ_SIZE_SMALL, false, hints[i], &w, NULL);
        if (w > widest) widest = w;
    }
    if (hy > c.y && widest <= c.r.w) /* where there is room for all of them, whole */
        for (int i = 0; i < n_hints; i++, hy += sh)
            viz_label(d, c.r.x, hy, VIZ_ALIGN_LEFT, VIZ_SIZE_SMALL, t->text_dim, "%s", hints[i]);
}
