/* test_ui_points.c: the visualizer's 2D world, headless.  A small model of
 * the moons opens in it; every 2D panel has content (data, particles,
 * field, density with its score); the particles are the sampler's own
 * (x_0 of the shown trajectory is what ddpm_sample gives for the seed, and
 * two renders are the same pixels); x0-hat lines, the cloud and the paths
 * each change the reverse panel; the field's two kinds differ; compare shows
 * two clouds; drawing points makes a data set the trainer takes; the world
 * switch keeps each world's sliders; --set world/dataset keys work and bad
 * ones exit 2. */
#include <SDL.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "check.h"
#include "commands.h"
#include "ddpm/checkpoint.h"
#include "ddpm/fileio.h"
#include "ddpm/layers.h"
#include "ddpm/sampler.h"
#include "ddpm/trainer.h"
#include "ui_shot.h"

static char g_model[256];

/* A model of the moons, trained here for a second (the MLP preset); under
 * ThreadSanitizer, where a step costs 20 times as much, for fewer steps: the
 * score there only has to show a model that learned something. */
enum { MODEL_STEPS = UI_UNDER_TSAN ? 500 : 1500 };
static void make_model(void)
{
    ddpm_error err = {0};
    ddpm_dataset ds;
    CHECK(ddpm_dataset_open(&ds, "moons", DDPM_SPLIT_TRAIN, &err) == 0, "%s", err.msg);
    ddpm_run_config run;
    CHECK(ddpm_run_config_default(&run, "mlp", &err) == 0, "%s", err.msg);
    run.adam.decay_steps = MODEL_STEPS;
    ddpm_trainer *tr;
    CHECK(ddpm_trainer_create(&tr, &run, &ds, &err) == 0, "%s", err.msg);
    for (int s = 0; s < MODEL_STEPS; s++) CHECK(ddpm_trainer_step(tr, NULL, &err) == 0, "%s", err.msg);
    snprintf(g_model, sizeof g_model, "/tmp/ddpm-test-ui-points-%d.safetensors", (int)getpid());
    CHECK(ddpm_trainer_export(tr, g_model, &err) == 0, "%s", err.msg);
    ddpm_trainer_free(tr);
    ddpm_dataset_free(&ds);
}

static SDL_Rect tex(const viz_app *a, int slot)
{
    const SDL_Rect r = a->tex_rect[slot];
    CHECK(r.w > 40 && r.h > 40, "texture slot %d drawn (%dx%d)", slot, r.w, r.h);
    return r;
}

/* Pixels of a 0xRRGGBB colour family: strong in its main channels. */
static long count_rgb(const ddpm_image *img, SDL_Rect r, uint32_t rgb, int tol)
{
    const SDL_Color c = {rgb >> 16 & 255, rgb >> 8 & 255, rgb & 255, 255};
    return count_color(img, r, c, tol);
}

static void test_panels(void)
{
    viz_options o = base_options("steps=100,sampler=ddpm,frame=end");
    o.model_path = g_model; /* a model of points opens the 2D world */
    ddpm_image img;
    viz_app *a = render(&o, &img);
    CHECK(viz_app_points(a), "a model of points opens the 2D world");
    CHECK(!viz_app_model(a)->live && strstr(viz_app_model(a)->path, "ddpm-test-ui-points"), "the model is shown");
    check_panels_have_content(a, &img, "2D world");
    CHECK(a->layout.panel[VIZ_PANEL_FIELD].w > 0 && a->layout.panel[VIZ_PANEL_DENSITY].w > 0 &&
          a->layout.panel[VIZ_PANEL_DECOMP].w == 0, "the 2D layout");
    const SDL_Rect fwd = tex(a, VIZ_TEX_PTS_FWD), rev = tex(a, VIZ_TEX_PTS_A), field = tex(a, VIZ_TEX_PTS_FIELD),
                   dens = tex(a, VIZ_TEX_PTS_DENSITY);
    /* data in blue, particles in orange, arrows in green */
    CHECK(count_rgb(&img, fwd, VIZ_RGB_DATA, 40) > 500, "the data panel shows the data");
    const long particles = count_rgb(&img, rev, VIZ_RGB_PARTICLE, 50);
    CHECK(particles > 800, "the reverse panel shows the particles: %ld orange pixels", particles);
    CHECK(count_rgb(&img, field, VIZ_RGB_FIELD, 60) > 300, "the field panel shows arrows");
    /* the particles landed: scored against the held-out data */
    CHECK(a->score_ok && a->score.n == VIZ_POINTS_N && isfinite(a->score.ratio), "the density panel's score");
    printf("  the moons model after %d steps, 100 DDPM steps: %.2fx the floor (one set)\n", MODEL_STEPS, a->score.ratio);
    CHECK(a->score.ratio < 40, "a trained model's samples score %.1f x the floor", a->score.ratio);
    CHECK(region(&img, dens).var > 50, "the density panel has a histogram");

    /* the particles are the sampler's: x_0 of the trajectory is what ddpm_sample gives */
    const viz_traj *tr = &a->shown->traj[0];
    const float *x0 = tr->x_t + (size_t)tr->S * a->shown->B * a->shown->per;
    ddpm_checkpoint ck;
    ddpm_error err = {0};
    CHECK(ddpm_checkpoint_load(&ck, g_model, DDPM_CKPT_WEIGHTS, &err) == 0, "%s", err.msg);
    ddpm_schedule sched;
    CHECK(ddpm_schedule_init(&sched, &ck.run.schedule, &err) == 0, "%s", err.msg);
    ddpm_net_workspace *ws;
    CHECK(ddpm_net_workspace_create(&ws, ck.net, VIZ_POINTS_N, false, &err) == 0, "%s", err.msg);
    ddpm_net_denoiser den = {ck.net, ddpm_checkpoint_weights(&ck), ws};
    ddpm_sample_request req = {.schedule = &sched, .cfg = a->shown->job.sides[0].cfg, .pred = ck.run.prediction,
                               .seed = a->p.seed, .first_index = 0};
    float *x = malloc(sizeof(float) * 2 * VIZ_POINTS_N);
    CHECK(ddpm_sample(&req, ddpm_net_denoise, &den, VIZ_POINTS_N, 2, 1, 1, x, NULL, NULL, NULL, &err) == 0, "%s", err.msg);
    CHECK(memcmp(x, x0, sizeof(float) * 2 * VIZ_POINTS_N) == 0, "the shown particles are not ddpm_sample's");
    free(x);
    ddpm_net_workspace_free(ws);
    ddpm_schedule_free(&sched);
    ddpm_checkpoint_free(&ck);

    /* the same settings render the same pixels (below the header, which says how long sampling took) */
    const size_t skip = (size_t)a->layout.panel[VIZ_PANEL_HEADER].h * img.w * 3;
    viz_app_free(a); /* one app at a time: each owns the font library */
    ddpm_image again;
    viz_app *b = render(&o, &again);
    CHECK(again.w == img.w && again.h == img.h &&
          memcmp(again.rgb + skip, img.rgb + skip, (size_t)img.w * img.h * 3 - skip) == 0, "two renders differ");
    ddpm_image_free(&again);
    viz_app_free(b);
    ddpm_image_free(&img);
}

/* The reverse panel at a middle frame with each overlay, and the field's kinds. */
static void test_overlays_and_field(void)
{
    const char *sets[] = {"x0=off,trails=0", "x0=lines,trails=0", "x0=cloud,trails=0", "x0=off,trails=1"};
    ddpm_image img[4];
    SDL_Rect rev = {0};
    for (int i = 0; i < 4; i++) {
        char set[128];
        snprintf(set, sizeof set, "steps=50,sampler=ddim,frame=20,%s", sets[i]);
        viz_options o = base_options(set);
        o.model_path = g_model;
        viz_app *a = render(&o, &img[i]);
        rev = tex(a, VIZ_TEX_PTS_A);
        viz_app_free(a);
    }
    for (int i = 1; i < 4; i++) {
        double diff = 0;
        for (int y = rev.y; y < rev.y + rev.h; y++)
            for (int x = rev.x; x < rev.x + rev.w; x++) {
                const uint8_t *p = ddpm_image_pixel(&img[0], x, y), *q = ddpm_image_pixel(&img[i], x, y);
                diff += abs(p[0] - q[0]) + abs(p[1] - q[1]) + abs(p[2] - q[2]);
            }
        diff /= 3.0 * rev.w * rev.h;
        CHECK(diff > 0.1, "'%s' changes nothing in the reverse panel (%.3f)", sets[i], diff);
    }
    /* x0-hat in cyan only when shown */
    CHECK(count_rgb(&img[0], rev, VIZ_RGB_X0, 40) < count_rgb(&img[2], rev, VIZ_RGB_X0, 40) / 4,
          "the x0-hat cloud is cyan");
    for (int i = 0; i < 4; i++) ddpm_image_free(&img[i]);

    ddpm_image s, x;
    viz_options o = base_options("steps=50,frame=25,field=score");
    o.model_path = g_model;
    viz_app *a = render(&o, &s);
    const SDL_Rect f = tex(a, VIZ_TEX_PTS_FIELD);
    CHECK(a->field.ok && a->field.t > 0, "the field at the current t");
    viz_app_free(a);
    o = base_options("steps=50,frame=25,field=x0");
    o.model_path = g_model;
    a = render(&o, &x);
    CHECK(memcmp(&f, &a->tex_rect[VIZ_TEX_PTS_FIELD], sizeof f) == 0, "the field panel in the same place");
    double diff = 0;
    for (int y = f.y; y < f.y + f.h; y++)
        for (int xx = f.x; xx < f.x + f.w; xx++) {
            const uint8_t *p = ddpm_image_pixel(&s, xx, y), *q = ddpm_image_pixel(&x, xx, y);
            diff += abs(p[0] - q[0]);
        }
    CHECK(diff / (f.w * f.h) > 0.5, "the score and the x0-hat displacement draw the same field");
    viz_app_free(a);
    ddpm_image_free(&s);
    ddpm_image_free(&x);
}

static void test_compare_and_sizes(void)
{
    viz_options o = base_options("mode=compare,compare=eta,steps=40,frame=end");
    o.model_path = g_model;
    ddpm_image img;
    viz_app *a = render(&o, &img);
    const SDL_Rect ra = tex(a, VIZ_TEX_PTS_A), rb = tex(a, VIZ_TEX_PTS_B);
    CHECK(ra.x + ra.w <= rb.x, "A beside B");
    CHECK(region_diff(&img, ra, rb) > 0.3, "eta 0 and eta 1 land the same particles");
    ddpm_image_free(&img);
    viz_app_free(a);
    /* lecture style at a projector's sizes, and a portrait window */
    const int sizes[][2] = {{1024, 768}, {1920, 1080}, {1080, 1600}};
    for (int i = 0; i < 3; i++) {
        o = base_options("steps=20,lecture=1");
        o.model_path = g_model;
        o.width = sizes[i][0], o.height = sizes[i][1];
        a = render(&o, &img);
        CHECK(img.w == sizes[i][0] && img.h == sizes[i][1], "size %dx%d", img.w, img.h);
        char what[64];
        snprintf(what, sizeof what, "2D world, lecture, %dx%d", img.w, img.h);
        check_panels_have_content(a, &img, what);
        ddpm_image_free(&img);
        viz_app_free(a);
    }
}

/* Drawing: points in the data panel become the data set, and the live
 * trainer trains on them. */
static void test_drawing_and_worlds(void)
{
    viz_options o = base_options("world=2d,steps=20");
    ddpm_image img;
    viz_app *a = render(&o, &img);
    ddpm_image_free(&img);
    CHECK(viz_app_points(a) && viz_app_model(a)->live, "the 2D world with its live network");
    CHECK(a->points.n == DDPM_POINTS_TRAIN && strcmp(a->points.name, "moons") == 0, "moons by default");
    a->drawing = true;
    for (int i = 0; i < 60; i++) viz_app_draw_points(a, -2.0f + i * 0.07f, 0.5f * sinf(i * 0.2f));
    CHECK(a->n_drawn == 180, "three points a brush stroke: %zu", a->n_drawn);
    viz_app_train_on_drawing(a);
    CHECK(a->p.dataset == VIZ_DATASET_DRAWN && a->points.n == 180, "the drawing is the data set");
    const double end = ddpm_now() + 60;
    while (ddpm_now() < end && a->train.step < 50) {
        viz_app_frame(a, 1.0 / 60);
        SDL_Delay(20);
    }
    CHECK(a->train.step >= 50, "the live network trains on the drawing (step %lld)", (long long)a->train.step);
    CHECK(a->train.run.net.arch == DDPM_ARCH_MLP && strcmp(a->train.run.dataset, "drawn") == 0,
          "an MLP trains, and its run names the drawing as its data: '%s'", a->train.run.dataset);
    viz_trainer_pause(a->trainer);
    /* the world switch keeps each world's sliders */
    a->p.steps = 37;
    CHECK(viz_app_set_world(a, VIZ_WORLD_IMAGES) && !viz_app_points(a), "back to the digits");
    CHECK(a->p.steps != 37 && a->p.world == VIZ_WORLD_IMAGES, "the digits' own sliders");
    a->p.steps = 11;
    CHECK(viz_app_set_world(a, VIZ_WORLD_POINTS) && a->p.steps == 37 && a->p.dataset == VIZ_DATASET_DRAWN,
          "the 2D world's sliders came back");
    CHECK(viz_app_set_world(a, VIZ_WORLD_IMAGES) && a->p.steps == 11, "and the digits' too");
    viz_app_free(a);

    /* the command: the keys work, bad values exit 2 */
    const char *ok[] = {"viz", "--screenshot", g_out, "--size", "1280x720", "--set",
                        "world=2d,dataset=rings,steps=10,trails=1,x0=cloud,field=x0", NULL};
    const char *bad[][6] = {
        {"viz", "--screenshot", g_out, "--set", "world=3d", NULL},
        {"viz", "--screenshot", g_out, "--set", "dataset=spiral", NULL},
        {"viz", "--screenshot", g_out, "--set", "x0=arrows", NULL},
        {"viz", "--screenshot", g_out, "--set", "field=curl", NULL},
    };
    char *argv[16];
    int argc = 0;
    for (; ok[argc]; argc++) argv[argc] = (char *)ok[argc];
    remove(g_out);
    CHECK(ddpm_cmd_viz(argc, argv) == 0 && ddpm_file_exists(g_out), "a 2D screenshot from the command");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (argc = 0; bad[i][argc]; argc++) argv[argc] = (char *)bad[i][argc];
        CHECK(ddpm_cmd_viz(argc, argv) == DDPM_EXIT_BAD_INPUT, "--set %s: exit 2", bad[i][4]);
    }
}

/* A failed CHECK exits: the model and the screenshot go with it. */
static void cleanup(void)
{
    remove(g_out);
    if (g_model[0]) remove(g_model);
}

int main(void)
{
    atexit(cleanup);
    snprintf(g_out, sizeof g_out, "/tmp/ddpm-test-ui-points-%d.png", (int)getpid());
    CHECK(SDL_Init(0) == 0, "SDL_Init: %s", SDL_GetError());
    ddpm_blas_set_threads(1);
    make_model();
    /* Under ThreadSanitizer, the sections whose threads interact: the
     * sampler's particles reaching the panels, and drawn points reaching the
     * trainer.  The overlays, the field (the UI thread's) and the layouts
     * draw on one thread the same way, and ran in the release and ASan
     * builds: here they would cost a minute of the CI's 15. */
    static const struct { const char *name; void (*fn)(void); bool tsan; } tests[] = {
        {"panels", test_panels, true},
        {"overlays and field", test_overlays_and_field, false},
        {"compare and sizes", test_compare_and_sizes, false},
        {"drawing and worlds", test_drawing_and_worlds, true},
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (UI_UNDER_TSAN && !tests[i].tsan) {
            printf("  %-24s skipped under ThreadSanitizer (one thread; the other builds run it)\n", tests[i].name);
            continue;
        }
        const double t0 = ddpm_now();
        tests[i].fn();
        printf("  %-24s %.2f s\n", tests[i].name, ddpm_now() - t0);
    }
    SDL_Quit();
    TEST_PASS("test_ui_points");
}
