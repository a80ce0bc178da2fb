/* test_ui_screenshot.c: headless renders of every panel and mode through the
 * same app code the window uses (software renderer on a surface, no
 * display): each panel has content, the reverse panel's x0-hat differs from
 * x_t, eta = 0 leaves the noise term flat and eta = 1 does not, the
 * comparison shows a difference, lecture mode changes the theme, training
 * fills the loss plots, sizes are honoured or clamped, and bad input gives
 * exit code 2 or a banner, never a crash. */
#include <SDL.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "check.h"
#include "cli_util.h"
#include "commands.h"
#include "ddpm/fileio.h"
#include "ddpm/idx.h"
#include "ddpm/rng.h"
#include "ui_shot.h"

/* A trained model for the x0-hat check: $DDPM_VIZ_TEST_MODEL, else the bundled
 * default; NULL when neither exists (the untrained network is used). */
static const char *trained_model(void)
{
    static char path[4096];
    const char *env = getenv("DDPM_VIZ_TEST_MODEL");
    if (env && *env) return env;
    ddpm_cli_model_path(DDPM_DEFAULT_MODEL, path, sizeof path);
    return ddpm_file_exists(path) ? path : NULL;
}

static void test_single_view(void)
{
    const char *model = trained_model();
    /* an untrained network predicts eps = 0 (zero-initialised output layer),
     * so its x0-hat is x_t scaled: they look alike once both saturate; at
     * x_T they still differ.  A trained model's x0-hat is a digit. */
    viz_options o = base_options(model ? "steps=20,frame=10" : "steps=20,frame=0");
    o.model_path = model;
    ddpm_image img;
    viz_app *a = render(&o, &img);
    CHECK(img.w == 1280 && img.h == 720, "default size 1280x720, got %dx%d", img.w, img.h);
    check_panels_have_content(a, &img, "single");
    SDL_Rect xt = a->tex_rect[VIZ_TEX_XT0], x0 = a->tex_rect[VIZ_TEX_X00];
    CHECK(xt.w > 50 && x0.w > 50, "x_t and x0-hat are drawn large: %d, %d", xt.w, x0.w);
    CHECK(xt.x + xt.w <= x0.x, "side by side");
    stats sx = region(&img, xt), s0 = region(&img, x0);
    CHECK(sx.var > 100 && s0.var > 100, "both have content: %.0f, %.0f", sx.var, s0.var);
    double diff = region_diff(&img, xt, x0);
    printf("x0-hat vs x_t (%s model): mean |diff| %.1f\n", model ? model : "untrained", diff);
    CHECK(diff > 10.0, "x0-hat differs from x_t (mean |diff| %.1f)", diff);
    if (model) {
        /* a digit: mostly dark background, some bright strokes */
        stats d0 = region(&img, viz_inset(x0, 1));
        CHECK(d0.mean < 110, "the prediction looks like a digit on black: mean %.1f", d0.mean);
    }
    CHECK(a->tex_rect[VIZ_TEX_FWD_XT].w > 40 && region(&img, a->tex_rect[VIZ_TEX_FWD_XT]).var > 100,
          "forward panel shows x_t");
    CHECK(a->tex_rect[VIZ_TEX_TERM0].w == 0, "no decomposition unless asked");
    viz_frame_view v;
    CHECK(viz_app_frame_view(a, 0, &v) && v.k == (model ? 10 : 0) && v.S == 20 && v.complete, "frame of 20, complete");
    ddpm_image_free(&img);
    viz_app_free(a);
}

static void test_grid_and_decomposition(void)
{
    viz_options o = base_options("mode=grid,steps=8,frame=4,decomp=1,eta=0,focus=5");
    ddpm_image img;
    viz_app *a = render(&o, &img);
    check_panels_have_content(a, &img, "grid+decomposition");
    CHECK(a->shown && a->shown->B == VIZ_GRID_N && a->shown->job.focus == 5, "a 4x4 job following sample 5");
    SDL_Rect xt = a->tex_rect[VIZ_TEX_XT0];
    CHECK(xt.w > 100, "grid drawn: %d", xt.w);
    /* the decomposition: eta = 0 -> the noise term is flat mid-gray */
    SDL_Rect noise = a->tex_rect[VIZ_TEX_TERM2], x0t = a->tex_rect[VIZ_TEX_TERM0];
    CHECK(noise.w > 20 && x0t.w > 20 && a->tex_rect[VIZ_TEX_TERM1].w > 20 && a->tex_rect[VIZ_TEX_TERM_SUM].w > 20,
          "the three terms and their sum are drawn (%d %d %d %d)", a->tex_rect[VIZ_TEX_TERM0].w,
          a->tex_rect[VIZ_TEX_TERM1].w, a->tex_rect[VIZ_TEX_TERM2].w, a->tex_rect[VIZ_TEX_TERM_SUM].w);
    stats sn = region(&img, viz_inset(noise, 2)), s0 = region(&img, viz_inset(x0t, 2));
    CHECK(sn.var < 1.0 && sn.mean > 110 && sn.mean < 145, "eta 0: sigma z is zero (mid-gray): mean %.1f var %.2f",
          sn.mean, sn.var);
    CHECK(s0.var > 50, "the x0-hat term has structure: var %.1f", s0.var);
    ddpm_image_free(&img);
    viz_app_free(a);

    o = base_options("mode=single,steps=8,frame=4,decomp=1,eta=1");
    a = render(&o, &img);
    noise = a->tex_rect[VIZ_TEX_TERM2];
    sn = region(&img, viz_inset(noise, 2));
    CHECK(sn.var > 50, "eta 1: sigma z adds noise: var %.1f", sn.var);
    ddpm_image_free(&img);
    viz_app_free(a);
}

static void test_comparison(void)
{
    viz_options o = base_options("mode=compare,compare=eta,steps=6,frame=end");
    ddpm_image img;
    viz_app *a = render(&o, &img);
    check_panels_have_content(a, &img, "compare");
    CHECK(a->shown && a->shown->job.n_sides == 2, "two sides");
    CHECK(a->shown->job.sides[0].cfg.eta == 0.0 && a->shown->job.sides[1].cfg.eta == 1.0, "eta 0 vs 1");
    SDL_Rect ra = a->tex_rect[VIZ_TEX_XT0], rb = a->tex_rect[VIZ_TEX_XT1], rd = a->tex_rect[VIZ_TEX_DIFF_XT];
    CHECK(ra.w > 30 && rb.w > 30 && rd.w > 30, "A, B and the difference are drawn");
    CHECK(region_diff(&img, ra, rb) > 3.0, "eta changes the result");
    CHECK(region(&img, rd).var > 5.0, "the difference image is not flat");
    /* identical x_T: frame 0 of both sides is the same image */
    const size_t n = (size_t)a->shown->B * a->shown->per;
    CHECK(memcmp(a->shown->traj[0].x_t, a->shown->traj[1].x_t, n * sizeof(float)) == 0, "same x_T");
    ddpm_image_free(&img);
    viz_app_free(a);

    /* 10 vs 50 steps: both finish */
    o = base_options("mode=compare,compare=steps,frame=end");
    a = render(&o, &img);
    viz_progress pr;
    viz_sampler_progress(a->sampler, a->shown, &pr);
    CHECK(pr.done[0] == 50 && pr.done[1] == 10, "A's 50 and B's 10 steps done: %d %d", pr.done[0], pr.done[1]);
    ddpm_image_free(&img);
    viz_app_free(a);
}

/* Side i's final x_0 is what ddpm_sample gives for its model file, its own
 * schedule and the side's sampler settings, from the job's seed. */
static void check_side_is_ddpm_sample(const viz_app *a, int side, const char *model_name)
{
    char path[4096];
    ddpm_cli_model_path(model_name, path, sizeof path);
    const viz_result *r = a->shown;
    const viz_traj *tr = &r->traj[side];
    ddpm_checkpoint ck;
    ddpm_error err = {0};
    CHECK(ddpm_checkpoint_load(&ck, path, DDPM_CKPT_WEIGHTS, &err) == 0, "%s", err.msg);
    CHECK(r->pred[side] == ck.run.prediction, "side %d predicts %s", side, ddpm_prediction_name(ck.run.prediction));
    ddpm_schedule sched;
    CHECK(ddpm_schedule_init(&sched, &ck.run.schedule, &err) == 0, "%s", err.msg);
    ddpm_net_workspace *ws;
    CHECK(ddpm_net_workspace_create(&ws, ck.net, r->B, false, &err) == 0, "%s", err.msg);
    ddpm_net_denoiser den = {ck.net, ddpm_checkpoint_weights(&ck), ws};
    ddpm_sample_request req = {.schedule = &sched, .cfg = r->job.sides[side].cfg, .pred = ck.run.prediction,
                               .seed = r->job.seed, .first_index = r->job.first_index};
    const size_t n = (size_t)r->B * r->per;
    float *x = malloc(sizeof(float) * n);
    CHECK(x && ddpm_sample(&req, ddpm_net_denoise, &den, r->B, r->C, r->H, r->W, x, NULL, NULL, NULL, &err) == 0, "%s",
          err.msg);
    CHECK(memcmp(x, tr->x_t + (size_t)tr->S * n, sizeof(float) * n) == 0, "side %d is not %s's ddpm_sample", side,
          model_name);
    free(x);
    /* and the command itself: `ddpm sample MODEL -n B --steps S --seed ...` writes the same bytes */
    char idx_path[4200], png_path[4200], n_arg[16], steps_arg[16], seed_arg[32];
    snprintf(png_path, sizeof png_path, "%s-%s.png", g_out, model_name);
    snprintf(idx_path, sizeof idx_path, "%s-%s-idx3-ubyte", g_out, model_name);
    snprintf(n_arg, sizeof n_arg, "%d", r->B);
    snprintf(steps_arg, sizeof steps_arg, "%d", r->job.sides[side].cfg.steps);
    snprintf(seed_arg, sizeof seed_arg, "%llu", (unsigned long long)r->job.seed);
    remove(idx_path);
    char *argv[] = {"sample", path, "-n", n_arg, "--steps", steps_arg, "--seed", seed_arg, "--sampler", "ddim",
                    "--eta", "0", "--out", png_path, "--idx", idx_path, "--quiet", NULL};
    CHECK(r->job.sides[side].cfg.sampler == DDPM_SAMPLER_DDIM && r->job.sides[side].cfg.eta == 0.0 &&
              !r->job.sides[side].cfg.clip_x0 && r->job.first_index == 0,
          "the command line above says the side's settings");
    CHECK(ddpm_cmd_sample((int)(sizeof argv / sizeof argv[0]) - 1, argv) == 0, "ddpm sample %s", model_name);
    ddpm_idx idx;
    CHECK(ddpm_idx_read(idx_path, DDPM_IDX_IMAGES, &idx, &err) == 0, "%s", err.msg);
    uint8_t *bytes = malloc(n);
    ddpm_cli_to_bytes(tr->x_t + (size_t)tr->S * n, n, bytes);
    CHECK(idx.dims[0] == (uint32_t)r->B && memcmp(idx.data, bytes, n) == 0,
          "side %d's pixels are not those of `ddpm sample %s`", side, model_name);
    free(bytes);
    ddpm_idx_free(&idx);
    remove(idx_path);
    remove(png_path);
    ddpm_net_workspace_free(ws);
    ddpm_schedule_free(&sched);
    ddpm_checkpoint_free(&ck);
}

/* compare=model: each side samples with its own model, on the same x_T. */
static void test_compare_models(void)
{
    char path[4096];
    ddpm_cli_model_path("v-linear", path, sizeof path);
    if (!ddpm_file_exists(path)) {
        printf("  (no bundled v-linear: comparison of models skipped)\n");
        return;
    }
    viz_options o = base_options("mode=compare,compare=model,model=eps-linear,model_b=v-linear,steps=6,frame=end");
    ddpm_image img;
    viz_app *a = render(&o, &img);
    check_panels_have_content(a, &img, "compare models");
    const viz_result *r = a->shown;
    CHECK(r && r->job.n_sides == 2 && r->job.sides[0].model != r->job.sides[1].model, "two models");
    CHECK(!r->job.by_level, "one schedule: aligned by t");
    CHECK(memcmp(&r->job.sides[0].cfg, &r->job.sides[1].cfg, sizeof r->job.sides[0].cfg) == 0,
          "everything but the model follows A");
    CHECK(region_diff(&img, a->tex_rect[VIZ_TEX_X00], a->tex_rect[VIZ_TEX_X01]) > 3.0, "two models, two results");
    check_side_is_ddpm_sample(a, 0, "eps-linear");
    check_side_is_ddpm_sample(a, 1, "v-linear");
    ddpm_image_free(&img);
    viz_app_free(a);

    /* another schedule: the sides are aligned by noise level, not t */
    o = base_options("mode=compare,compare=model,model=eps-linear,model_b=eps-cosine,steps=20,frame=8");
    a = render(&o, &img);
    r = a->shown;
    CHECK(r->job.by_level && viz_app_aligned_by_level(a), "linear vs cosine: aligned by alpha_bar");
    check_side_is_ddpm_sample(a, 1, "eps-cosine");
    viz_frame_view v0, v1;
    CHECK(viz_app_frame_view(a, 0, &v0) && viz_app_frame_view(a, 1, &v1), "both sides shown");
    const viz_traj *tb = &r->traj[1];
    for (int k = 0; k <= tb->S; k++)
        CHECK(fabs(tb->abar[k] - v0.abar) >= fabs(v1.abar - v0.abar), "B's frame %d is nearer in alpha_bar", k);
    CHECK(v0.t != v1.t, "... which is another t (%d vs %d)", v0.t, v1.t);
    ddpm_image_free(&img);
    viz_app_free(a);

    /* a model name that does not exist: exit code 2 from --set */
    viz_options bad = base_options("mode=compare,compare=model,model_b=nosuchmodel");
    viz_app *none = NULL;
    ddpm_error err = {0};
    CHECK(viz_app_create(&none, &bad, &err) != 0 && strstr(err.msg, "model_b=nosuchmodel"), "%s", err.msg);
}

static void test_lecture_and_sizes(void)
{
    viz_options o = base_options("steps=5,frame=end");
    o.lecture = true;
    o.width = 1920;
    o.height = 1080;
    ddpm_image img;
    viz_app *a = render(&o, &img);
    CHECK(img.w == 1920 && img.h == 1080, "requested size");
    check_panels_have_content(a, &img, "lecture");
    CHECK(a->draw.lecture && a->draw.scale >= 1.49f, "lecture mode at scale %.2f", a->draw.scale);
    const uint8_t *bg = ddpm_image_pixel(&img, img.w - 2, img.h - 2);
    CHECK(bg[0] == 0 && bg[1] == 0 && bg[2] == 0, "high contrast: a black background (%d,%d,%d)", bg[0], bg[1], bg[2]);
    CHECK(viz_text_px(&a->draw, VIZ_SIZE_BODY) >= 24, "large text: %d px", viz_text_px(&a->draw, VIZ_SIZE_BODY));
    ddpm_image_free(&img);
    viz_app_free(a);

    /* 4K: everything scales */
    o = base_options("steps=3");
    o.width = 3840;
    o.height = 2160;
    a = render(&o, &img);
    CHECK(img.w == 3840 && a->draw.scale >= 2.9f, "4K at scale %.2f", a->draw.scale);
    check_panels_have_content(a, &img, "4K");
    ddpm_image_free(&img);
    viz_app_free(a);

    /* too small: clamped, with a banner */
    o = base_options("steps=3");
    o.width = 300;
    o.height = 200;
    a = render(&o, &img);
    CHECK(img.w == VIZ_MIN_W && img.h == VIZ_MIN_H, "clamped to the minimum: %dx%d", img.w, img.h);
    bool banner = false;
    for (int i = 0; i < a->n_banners; i++) banner |= strstr(a->banners[i].text, "300x200") != NULL;
    CHECK(banner, "a banner explains the clamp");
    ddpm_image_free(&img);
    viz_app_free(a);

    /* narrow (portrait) windows stack the panels */
    o = base_options("steps=3");
    o.width = 1080;
    o.height = 1920;
    a = render(&o, &img);
    check_panels_have_content(a, &img, "portrait");
    CHECK(a->layout.panel[VIZ_PANEL_REVERSE].w > a->layout.panel[VIZ_PANEL_FORWARD].w, "reverse gets the full width");
    ddpm_image_free(&img);
    viz_app_free(a);
}

static void test_training_panel(void)
{
    viz_options o = base_options("steps=3,frame=end");
    o.train_seconds = 0.1; /* starts training at creation */
    o.train_batch = 4;
    viz_app *a = NULL;
    ddpm_error err = {0};
    CHECK(viz_app_create(&a, &o, &err) == DDPM_OK, "%s", err.msg);
    const double end = ddpm_now() + 120;
    while (a->train.step < 4 && ddpm_now() < end) {
        viz_app_frame(a, 1.0 / 60);
        SDL_Delay(20);
    }
    CHECK(a->train.step >= 4, "training ran: step %lld", (long long)a->train.step);
    CHECK(viz_app_model(a)->live, "training shows the live network");
    viz_trainer_pause(a->trainer);
    while (viz_trainer_pending(a->trainer)) SDL_Delay(10);
    viz_app_frame(a, 0);
    viz_sampler_wait_idle(a->sampler, 60);
    viz_app_frame(a, 0);
    ddpm_image img;
    CHECK(viz_app_capture(a, &img, &err) == DDPM_OK, "%s", err.msg);
    SDL_Rect tp = a->layout.panel[VIZ_PANEL_TRAINING];
    CHECK(a->history.n >= 4, "history copied: %zu", a->history.n);
    /* the filmstrip first (test_ui_history checks it), then one click to the loss */
    CHECK(!a->snaps.loss_view && a->tex_rect[VIZ_TEX_FILM].w > 0, "the filmstrip shows by default");
    ddpm_image_free(&img);
    a->snaps.loss_view = true;
    viz_app_frame(a, 0);
    CHECK(viz_app_capture(a, &img, &err) == DDPM_OK, "%s", err.msg);
    CHECK(count_color(&img, tp, a->draw.theme.accent, 12) > 30, "the loss curve is drawn");
    CHECK(count_color(&img, tp, a->draw.theme.second, 12) > 30, "loss-by-t bars are drawn");
    viz_frame_view v;
    CHECK(viz_app_frame_view(a, 0, &v) && v.r->weights_step >= 1, "samples come from trained live weights (step %lld)",
          v.r ? (long long)v.r->weights_step : -1LL);
    ddpm_image_free(&img);
    viz_app_free(a);
}

static bool file_starts_with(const char *path, const char *magic)
{
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    char buf[16] = {0};
    size_t n = fread(buf, 1, strlen(magic), f);
    fclose(f);
    return n == strlen(magic) && memcmp(buf, magic, n) == 0;
}

static void test_export_and_quit(void)
{
    char dir[256], base[300], path[400];
    snprintf(dir, sizeof dir, "/tmp/ddpm-test-ui-export-%d", (int)getpid());
    viz_options o = base_options("mode=grid,steps=5,frame=end");
    o.export_dir = dir;
    ddpm_image img;
    viz_app *a = render(&o, &img);
    ddpm_image_free(&img);
    ddpm_error err = {0};
    CHECK(ddpm_mkdir_p(dir, &err) == DDPM_OK, "%s", err.msg);
    snprintf(base, sizeof base, "%s/traj", dir);
    char made[9000];
    CHECK(viz_export_trajectory_files(a, base, made, sizeof made, &err) == DDPM_OK, "%s", err.msg);
    snprintf(path, sizeof path, "%s.gif", base);
    CHECK(file_starts_with(path, "GIF89a"), "an animated GIF: %s", path);
    remove(path);
    snprintf(path, sizeof path, "%s-strip.png", base);
    CHECK(file_starts_with(path, "\x89PNG"), "a PNG strip: %s", path);
    remove(path);
    snprintf(path, sizeof path, "%s/view.png", dir);
    CHECK(viz_export_read_view(a, path, &err) == DDPM_OK && file_starts_with(path, "\x89PNG"), "%s", err.msg);
    remove(path);

    /* quitting while training offers to save; "Save & quit" saves, then quits */
    viz_app_request_quit(a);
    CHECK(a->quit && !a->quit_dialog, "no training: quit at once");
    a->quit = false;
    viz_app_toggle_training(a);
    const double end = ddpm_now() + 120;
    while (a->train.step < 1 && ddpm_now() < end) {
        viz_app_frame(a, 1.0 / 60);
        SDL_Delay(10);
    }
    CHECK(a->train.state == VIZ_TRAIN_RUNNING, "training runs");
    viz_app_request_quit(a);
    CHECK(a->quit_dialog && !a->quit, "training: the dialog asks first");
    viz_app_quit_choice(a, VIZ_QUIT_CANCEL);
    CHECK(!a->quit_dialog && !a->quit, "cancel keeps the app open");
    viz_app_request_quit(a);
    viz_app_quit_choice(a, VIZ_QUIT_SAVE);
    while (!a->quit && ddpm_now() < end) {
        viz_app_frame(a, 1.0 / 60);
        SDL_Delay(10);
    }
    CHECK(a->quit, "quit after the save landed");
    const int64_t step = a->train.step;
    /* the toast names the file; its name carries the step actually saved */
    const char *saved = NULL;
    for (int i = 0; i < a->n_toasts; i++)
        if (a->toasts[i].level == VIZ_LEVEL_OK && strstr(a->toasts[i].text, " to ")) saved = strstr(a->toasts[i].text, " to ") + 4;
    CHECK(saved, "a toast says where the checkpoint went");
    snprintf(path, sizeof path, "%s", saved);
    char expect[64];
    snprintf(expect, sizeof expect, "live-step%06lld.safetensors", (long long)step);
    CHECK(strstr(path, dir) == path && strstr(path, expect), "%s is in %s and named %s", path, dir, expect);
    viz_app_free(a); /* joins the threads */
    CHECK(ddpm_file_exists(path), "the checkpoint %s was saved", path);
    ddpm_checkpoint ck;
    CHECK(ddpm_checkpoint_load(&ck, path, DDPM_CKPT_ALL, &err) == DDPM_OK && ck.step == step, "%s", err.msg);
    ddpm_checkpoint_free(&ck);
    remove(path);
    snprintf(path, sizeof path, "%s/checkpoints", dir);
    rmdir(path);
    rmdir(dir);
}

static int run_cmd(const char *const *args)
{
    char *argv[32];
    int argc = 0;
    for (; args[argc]; argc++) argv[argc] = (char *)args[argc];
    argv[argc] = NULL;
    return ddpm_cmd_viz(argc, argv);
}

static void test_command_and_bad_input(void)
{
    /* the command writes a PNG of the requested size */
    const char *ok[] = {"viz", "--screenshot", g_out, "--size", "1024x600", "--set", "steps=4,mode=grid", NULL};
    remove(g_out);
    CHECK(run_cmd(ok) == 0, "screenshot command");
    CHECK(ddpm_file_exists(g_out), "wrote %s", g_out);
    FILE *f = fopen(g_out, "rb");
    unsigned char hdr[24];
    CHECK(f && fread(hdr, 1, 24, f) == 24, "read PNG header");
    fclose(f);
    const unsigned w = (unsigned)hdr[16] << 24 | hdr[17] << 16 | hdr[18] << 8 | hdr[19];
    const unsigned h = (unsigned)hdr[20] << 24 | hdr[21] << 16 | hdr[22] << 8 | hdr[23];
    CHECK(memcmp(hdr + 1, "PNG", 3) == 0 && w == 1024 && h == 600, "PNG %ux%u", w, h);

    const char *bad[][8] = {
        {"viz", "--screenshot", g_out, "--set", "eta=2", NULL},
        {"viz", "--screenshot", g_out, "--set", "colour=red", NULL},
        {"viz", "--screenshot", g_out, "--set", "schedule=cubic", NULL},
        {"viz", "--screenshot", g_out, "--set", "steps=2000", NULL},   /* > T */
        {"viz", "--screenshot", g_out, "--set", "model=nope", NULL},
        {"viz", "--screenshot", g_out, "--size", "big", NULL},
        {"viz", "--screenshot", g_out, "--frames", "0", NULL},
        {"viz", "--bogus", NULL},
        {"viz", "--trajectory", "/tmp/x", NULL},                          /* needs --screenshot */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = run_cmd(bad[i]);
        CHECK(rc == DDPM_EXIT_BAD_INPUT, "case %zu (%s %s) gives exit code 2, got %d", i, bad[i][3] ? bad[i][3] : "",
              bad[i][4] ? bad[i][4] : "", rc);
    }

    /* a missing font: the bitmap font stands in, with a banner */
    viz_options o = base_options("steps=3");
    o.font_dir = "/nonexistent-fonts";
    ddpm_image img;
    viz_app *a = render(&o, &img);
    CHECK(viz_text_is_fallback(a->text), "bitmap font in use");
    bool banner = false;
    for (int i = 0; i < a->n_banners; i++) banner |= strstr(a->banners[i].text, "Font not usable") != NULL;
    CHECK(banner, "a banner says the font is missing");
    check_panels_have_content(a, &img, "bitmap font");
    ddpm_image_free(&img);
    viz_app_free(a);

    /* a file named like the font that is not one: the same fallback, a different message */
    char font_dir[256], font_path[300];
    snprintf(font_dir, sizeof font_dir, "/tmp/ddpm-test-ui-%d-fonts", (int)getpid());
    mkdir(font_dir, 0755);
    snprintf(font_path, sizeof font_path, "%s/DejaVuSans.ttf", font_dir);
    FILE *ff = fopen(font_path, "wb");
    CHECK(ff != NULL, "write %s", font_path);
    if (ff) {
        fputs("<html>404 Not Found</html>", ff);
        fclose(ff);
    }
    o = base_options("steps=3");
    o.font_dir = font_dir;
    a = render(&o, &img);
    CHECK(viz_text_is_fallback(a->text), "bitmap font in use for a file that is not a font");
    banner = false;
    for (int i = 0; i < a->n_banners; i++) banner |= strstr(a->banners[i].text, "Font unreadable") != NULL;
    CHECK(banner, "a banner says the font is unreadable");
    check_panels_have_content(a, &img, "bitmap font (unreadable file)");
    ddpm_image_free(&img);
    viz_app_free(a);
    remove(font_path);
    rmdir(font_dir);

    /* a corrupt model: banner, and the untrained live network instead */
    char bad_model[256];
    snprintf(bad_model, sizeof bad_model, "/tmp/ddpm-test-ui-%d-corrupt.safetensors", (int)getpid());
    f = fopen(bad_model, "wb");
    fputs("this is not a safetensors file", f);
    fclose(f);
    o = base_options("steps=3");
    o.model_path = bad_model;
    a = render(&o, &img);
    CHECK(viz_app_model(a)->live, "fell back to the live network");
    banner = false;
    for (int i = 0; i < a->n_banners; i++) banner |= strstr(a->banners[i].text, "Could not load") != NULL;
    CHECK(banner, "a banner names the broken model");
    check_panels_have_content(a, &img, "corrupt model");
    ddpm_image_free(&img);
    viz_app_free(a);
    remove(bad_model);

    /* an empty models folder: the "no bundled model" banner */
    o = base_options("steps=3");
    o.models_dir = "/nonexistent-models";
    a = render(&o, &img);
    banner = false;
    for (int i = 0; i < a->n_banners; i++) banner |= strstr(a->banners[i].text, "No bundled model found") != NULL;
    CHECK(banner && viz_app_model(a)->live, "untrained network with a banner");
    ddpm_image_free(&img);
    viz_app_free(a);
}

/* The round trip (issue 20): the run starts from the forward panel's digit
 * noised to t with its fixed epsilon, visits t and the sampler's steps below
 * it, and ends where ddpm_sample with start_t ends for the same x_t, which
 * this test builds from the dataset and the seed on its own. */
static void test_roundtrip(void)
{
    viz_options o = base_options("roundtrip=300,steps=20,digit=5,seed=2,frame=end");
    ddpm_image img;
    viz_app *a = render(&o, &img);
    const viz_result *r = a->shown;
    CHECK(r && r->job.start_t == 300 && r->B == 1, "a round trip job from t = 300");
    CHECK(r->traj[0].t[0] == 300 && r->traj[0].S == 1 + 6, "t = 300, then 250, 200, ..., 0 (20 steps, leading): S %d",
          r->traj[0].S);
    CHECK(a->tex_rect[VIZ_TEX_RT_ERR].w > 10, "the error map is drawn");
    char path[4096];
    ddpm_cli_model_path(DDPM_DEFAULT_MODEL, path, sizeof path);
    ddpm_checkpoint ck;
    ddpm_error err = {0};
    CHECK(ddpm_checkpoint_load(&ck, path, DDPM_CKPT_WEIGHTS, &err) == 0, "%s", err.msg);
    ddpm_schedule sched;
    CHECK(ddpm_schedule_init(&sched, &ck.run.schedule, &err) == 0, "%s", err.msg);
    ddpm_dataset ds;
    CHECK(ddpm_dataset_open(&ds, "digits", DDPM_SPLIT_TRAIN, &err) == 0, "%s", err.msg);
    const size_t per = r->per;
    float x0[784], eps[784], xt[784], x[784];
    CHECK(per == 784, "digits");
    ddpm_dataset_images(&ds, 5, 1, x0);
    ddpm_rng rng;
    ddpm_rng_init(&rng, 2, ddpm_rng_stream(DDPM_STREAM_FORWARD, 5, 0));
    ddpm_rng_normal_fill(&rng, eps, per);
    ddpm_q_sample(&sched, 300, x0, eps, xt, per);
    CHECK(memcmp(xt, r->traj[0].x_t, sizeof xt) == 0, "frame 0 is the digit noised to t = 300");
    ddpm_net_workspace *ws;
    CHECK(ddpm_net_workspace_create(&ws, ck.net, 1, false, &err) == 0, "%s", err.msg);
    ddpm_net_denoiser den = {ck.net, ddpm_checkpoint_weights(&ck), ws};
    ddpm_sample_request req = {.schedule = &sched, .cfg = r->job.sides[0].cfg, .pred = ck.run.prediction,
                               .seed = r->job.seed, .first_index = r->job.first_index, .start_t = 300};
    CHECK(ddpm_sample(&req, ddpm_net_denoise, &den, 1, 1, 28, 28, x, xt, NULL, NULL, &err) == 0, "%s", err.msg);
    CHECK(memcmp(x, r->traj[0].x_t + (size_t)r->traj[0].S * per, sizeof x) == 0, "the result is ddpm_sample's");
    double e = 0;
    for (size_t i = 0; i < per; i++) e += fabs(x[i] - x0[i]);
    CHECK(e / per < 0.25, "from t = 300 the digit comes back (mean |error| %.3f)", e / per);
    /* the error against t, on its thread: 9 trips, the one from t = 300 is this one */
    CHECK(viz_app_rtcurve_start(a), "the curve starts");
    const int *ts = NULL;
    const double *errs = NULL;
    int n = 0;
    for (int i = 0; i < 60000 && (n = viz_app_rtcurve_points(a, &ts, &errs)) < VIZ_RTCURVE_N; i++) SDL_Delay(5);
    CHECK(n == VIZ_RTCURVE_N && ts[2] == 300, "9 points, the third at t = 300: %d points", n);
    CHECK(fabs(errs[2] - e / per) < 1e-5, "the curve's t = 300 is the window's trip: %.6f vs %.6f", errs[2], e / per);
    CHECK(errs[0] < errs[8], "more noise, less comes back: %.3f at t = %d, %.3f at t = %d", errs[0], ts[0], errs[8], ts[8]);
    viz_app_frame(a, 0); /* and it is drawn */
    ddpm_net_workspace_free(ws);
    ddpm_dataset_free(&ds);
    ddpm_schedule_free(&sched);
    ddpm_checkpoint_free(&ck);
    ddpm_image_free(&img);
    viz_app_free(a);
}

/* The pixel probe: a click on the forward panel's x_t picks that pixel
 * (and turns the probe on), Q turns it off and on again at the same pixel,
 * and a pixel outside the image is refused with a message. */
static void test_probe(void)
{
    viz_options o = base_options("phase=forward,t=500");
    ddpm_image img;
    viz_app *a = render(&o, &img);
    CHECK(a->probe_x < 0, "the probe starts off");
    const SDL_Rect r = a->tex_rect[VIZ_TEX_FWD_XT];
    CHECK(r.w >= 28 && r.h >= 28, "x_t is drawn");
    const int px = 20, py = 7;
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_MOUSEMOTION;
    e.motion.x = r.x + (2 * px + 1) * r.w / 56, e.motion.y = r.y + (2 * py + 1) * r.h / 56;
    viz_app_queue_event(a, &e);
    e.type = SDL_MOUSEBUTTONDOWN;
    e.button.button = SDL_BUTTON_LEFT, e.button.x = e.motion.x, e.button.y = e.motion.y;
    viz_app_queue_event(a, &e);
    viz_app_frame(a, 0);
    CHECK(a->probe_x == px && a->probe_y == py, "the click picked pixel (%d, %d): (%d, %d)", px, py, a->probe_x, a->probe_y);
    viz_app_toggle_probe(a);
    CHECK(a->probe_x < 0, "Q turns it off");
    viz_app_toggle_probe(a);
    CHECK(a->probe_x == px && a->probe_y == py, "and on again at the same pixel");
    ddpm_image_free(&img);
    viz_app_free(a);
    viz_options bad = base_options("probe=40:3");
    ddpm_error err = {0};
    a = NULL;
    CHECK(viz_app_create(&a, &bad, &err) == DDPM_ERR && strstr(err.msg, "outside"), "probe=40:3 refused: %s", err.msg);
}

/* Draw a digit: a PNG of black ink on white paper becomes the canvas, white
 * on black like the dataset, and the forward x0 and the round trip's start;
 * painting with the mouse sets the pixels under the brush. */
static void test_canvas(void)
{
    char png[256];
    snprintf(png, sizeof png, "/tmp/ddpm-test-ui-canvas-%d.png", (int)getpid());
    ddpm_image ink;
    ddpm_image_init(&ink, 56, 56); /* twice the canvas: box-filtered down */
    for (int y = 0; y < 56; y++)
        for (int x = 0; x < 56; x++) {
            uint8_t *p = ddpm_image_pixel(&ink, x, y);
            p[0] = p[1] = p[2] = x >= 24 && x < 32 && y >= 8 && y < 48 ? 0 : 255; /* a "1": columns 12..15 */
        }
    ddpm_error err = {0};
    CHECK(ddpm_png_write(png, &ink, &err) == DDPM_OK, "%s", err.msg);
    ddpm_image_free(&ink);
    char set[400];
    snprintf(set, sizeof set, "draw=%s,roundtrip=200,steps=10,frame=end", png);
    viz_options o = base_options(set);
    ddpm_image img;
    viz_app *a = render(&o, &img);
    CHECK(a->canvas_on && a->fwd_x0, "the PNG is the drawing");
    CHECK(a->fwd_x0[20 * 28 + 13] == 1.0f && a->fwd_x0[20 * 28 + 5] == -1.0f && a->fwd_x0[2 * 28 + 13] == -1.0f,
          "ink on paper became white on black: %g %g %g", a->fwd_x0[20 * 28 + 13], a->fwd_x0[20 * 28 + 5],
          a->fwd_x0[2 * 28 + 13]);
    const viz_result *r = a->shown;
    CHECK(r && r->job.start_t == 200, "a round trip");
    float xt[784];
    ddpm_q_sample(&a->sched, 200, a->fwd_x0, a->fwd_eps, xt, 784);
    CHECK(memcmp(xt, r->traj[0].x_t, sizeof xt) == 0, "the round trip starts from the drawing");
    /* paint: A opens the canvas, a press at pixel (4, 4) sets it */
    viz_app_canvas_open(a);
    viz_app_canvas_clear(a);
    viz_app_frame(a, 0);
    const SDL_Rect fr = a->tex_rect[VIZ_TEX_FWD_XT];
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_MOUSEBUTTONDOWN;
    e.button.button = SDL_BUTTON_LEFT, e.button.x = fr.x + 9 * fr.w / 56, e.button.y = fr.y + 9 * fr.h / 56;
    viz_app_queue_event(a, &e);
    viz_app_frame(a, 0);
    viz_app_frame(a, 0);
    CHECK(a->canvas[4 * 28 + 4] == 1.0f && a->canvas[20 * 28 + 20] == -1.0f, "the brush painted (4, 4) and only near it");
    CHECK(a->fwd_x0[4 * 28 + 4] == 1.0f, "the drawing is the forward x0 at once");
    ddpm_image_free(&img);
    viz_app_free(a);
    /* not a PNG: refused with a message */
    FILE *txt = fopen(png, "w");
    CHECK(txt && fputs("not a picture\n", txt) >= 0 && fclose(txt) == 0, "write %s", png);
    snprintf(set, sizeof set, "draw=%s", png);
    viz_options bad = base_options(set);
    a = NULL;
    CHECK(viz_app_create(&a, &bad, &err) == DDPM_ERR && strstr(err.msg, "PNG"), "draw=not-a-png refused: %s", err.msg);
    remove(png);
}

int main(void)
{
    snprintf(g_out, sizeof g_out, "/tmp/ddpm-test-ui-%d.png", (int)getpid());
    CHECK(SDL_Init(0) == 0, "SDL_Init: %s", SDL_GetError());
    static const struct { const char *name; void (*fn)(void); } tests[] = {
        {"single view", test_single_view},
        {"grid and decomposition", test_grid_and_decomposition},
        {"comparison", test_comparison},
        {"comparison of models", test_compare_models},
        {"lecture mode and sizes", test_lecture_and_sizes},
        {"training panel", test_training_panel},
        {"export and quit dialog", test_export_and_quit},
        {"command and bad input", test_command_and_bad_input},
        {"round trip", test_roundtrip},
        {"pixel probe", test_probe},
        {"draw a digit", test_canvas},
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        const double t0 = ddpm_now();
        tests[i].fn();
        printf("  %-24s %.2f s\n", tests[i].name, ddpm_now() - t0);
    }
    remove(g_out);
    SDL_Quit();
    TEST_PASS("test_ui_screenshot");
}
