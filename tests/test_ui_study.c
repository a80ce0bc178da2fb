/* test_ui_study.c: the study view (eta x steps, scored) headless: every cell
 * fills in and is scored, the grid is deterministic (two runs, the same
 * pixels and scores), its numbers are `ddpm sweep`'s for the same model,
 * lists, n and seed (the CSV rows agree to the printed digit), and its
 * export writes the same CSV. */
#include <SDL.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "check.h"
#include "cli_util.h"
#include "commands.h"
#include "ddpm/fileio.h"
#include "ui_shot.h"

#define LISTS "study_eta=0,1,study_steps=2,5,study_n=16"

static viz_app *render_study(const char *set, ddpm_image *img)
{
    viz_options o = base_options(set);
    viz_app *a = NULL;
    ddpm_error err = {0};
    CHECK(viz_app_create(&a, &o, &err) == DDPM_OK, "%s", err.msg);
    for (int i = 0; i < 3; i++) viz_app_frame(a, 1.0 / 60);
    CHECK(viz_study_wait_idle(a->study, 300), "the study finishes");
    viz_app_frame(a, 0);
    CHECK(viz_app_capture(a, img, &err) == DDPM_OK, "%s", err.msg);
    return a;
}

/* The CSV rows' score columns (everything but the trailing seconds). */
static int read_rows(const char *path, char rows[][256], int max)
{
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "open %s", path);
    char line[512];
    int n = -1;
    while (fgets(line, sizeof line, f) && n < max) {
        if (n >= 0) {
            char *last = strrchr(line, ',');
            if (last) *last = '\0';
            snprintf(rows[n], sizeof rows[n], "%.255s", line);
        }
        n++;
    }
    fclose(f);
    return n < 0 ? 0 : n;
}

int main(void)
{
    UI_TEST_START("ui-study");
    char model[4096];
    ddpm_cli_model_path(DDPM_DEFAULT_MODEL, model, sizeof model);
    ddpm_image img;
    viz_app *a = render_study("mode=study,model=eps-linear," LISTS, &img);
    const viz_study_result *r = a->study_shown;
    CHECK(r && r->job.n_eta == 2 && r->job.n_steps == 2 && r->job.n_score == 16, "the lists and n reach the job");
    bool scoring = false;
    char why[256];
    viz_study_state(a->study, r, why, sizeof why, &scoring, NULL);
    CHECK(scoring, "scored: %s", why);
    CHECK(a->layout.panel[VIZ_PANEL_STUDY].w > 0 && a->layout.panel[VIZ_PANEL_REVERSE].w == 0, "the study panel");
    check_panels_have_content(a, &img, "study");
    CHECK(region(&img, a->tex_rect[VIZ_TEX_STUDY]).var > 100, "the cells show digits");
    viz_study_cell cells[4];
    for (int k = 0; k < 4; k++) {
        viz_study_cell_get(a->study, r, k, &cells[k]);
        CHECK(cells[k].shown && cells[k].scored, "cell %d done", k);
        CHECK(cells[k].q.confidence > 0.1 && cells[k].q.fd > 0, "cell %d scored: conf %.3f fd %.1f", k,
              cells[k].q.confidence, cells[k].q.fd);
    }
    CHECK(fabs(cells[0].q.fd - cells[3].q.fd) > 1e-6, "different settings, different scores");
    /* the export: the panel as a PNG, and the CSV */
    char made[4200];
    ddpm_error err = {0};
    CHECK(viz_export_study_files(a, made, sizeof made, &err) == DDPM_OK, "%s", err.msg);
    char png[4096], csv_study[4096];
    CHECK(sscanf(made, "%4095s and %4095s", png, csv_study) == 2, "paths: %s", made);
    FILE *pf = fopen(png, "rb");
    unsigned char head[24] = {0};
    CHECK(pf && fread(head, 1, sizeof head, pf) == sizeof head, "the PNG %s", png);
    fclose(pf);
    const int pw = head[16] << 24 | head[17] << 16 | head[18] << 8 | head[19];
    CHECK(memcmp(head + 1, "PNG", 3) == 0 && pw == a->layout.panel[VIZ_PANEL_STUDY].w, "a PNG of the panel: %d px", pw);

    /* determinism: a second app, the same pixels and scores */
    const size_t n_img = (size_t)4 * VIZ_STUDY_SHOW * r->per;
    float *first = malloc(sizeof(float) * n_img);
    memcpy(first, r->images, sizeof(float) * n_img);
    ddpm_image_free(&img);
    viz_app_free(a);
    ddpm_image again;
    viz_app *b = render_study("mode=study,model=eps-linear," LISTS, &again);
    const viz_study_result *r2 = b->study_shown;
    CHECK(memcmp(first, r2->images, sizeof(float) * n_img) == 0, "the study's samples differ between runs");
    for (int k = 0; k < 4; k++) {
        viz_study_cell c;
        viz_study_cell_get(b->study, r2, k, &c);
        CHECK(c.q.fd == cells[k].q.fd && c.q.confidence == cells[k].q.confidence, "cell %d's score differs", k);
    }
    free(first);
    ddpm_image_free(&again);
    viz_app_free(b);

    /* ddpm sweep with the same model, lists, n and seed: the same numbers */
    char csv_sweep[300], png_sweep[300];
    snprintf(csv_sweep, sizeof csv_sweep, "/tmp/ddpm-test-ui-study-%d-sweep.csv", (int)getpid());
    snprintf(png_sweep, sizeof png_sweep, "/tmp/ddpm-test-ui-study-%d-sweep.png", (int)getpid());
    char *argv[] = {"sweep", model, "--eta", "0,1", "--steps", "2,5", "--score-n", "16", "-n", "4", "--seed", "0",
                    "--out", png_sweep, "--csv", csv_sweep, "--quiet", NULL};
    CHECK(ddpm_cmd_sweep((int)(sizeof argv / sizeof argv[0]) - 1, argv) == 0, "ddpm sweep");
    char rows_sweep[8][256], rows_study[8][256];
    const int ns = read_rows(csv_sweep, rows_sweep, 8), nv = read_rows(csv_study, rows_study, 8);
    CHECK(ns == 4 && nv == 4, "four rows each: %d %d", ns, nv);
    for (int i = 0; i < 4; i++)
        CHECK(strcmp(rows_sweep[i], rows_study[i]) == 0, "row %d: sweep '%s' vs study '%s'", i, rows_sweep[i],
              rows_study[i]);
    remove(csv_sweep), remove(png_sweep), remove(png), remove(csv_study), remove(g_out);
    SDL_Quit();
    TEST_PASS("test_ui_study");
}
