/* test_ui_textfit.c: every label fits its box, at the sizes a lecture hall
 * projects (1024x768, 1280x720, 1920x1080), in normal and lecture style,
 * in every view and mode.  The text audit (text.h) records each string's
 * ink and the box it must stay in (its widget, clip rectangle or panel); a
 * string whose ink leaves the box is cut off, two strings whose ink
 * overlaps overprint.  Either fails the test, naming the string, the view
 * and the size (issue 20: "…scaled-line", "10 vs 50 ste",
 * "deterministi0.00").  Labels have to shorten, wrap or scale by design. */
#include <SDL.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "check.h"
#include "cli_util.h"
#include "ddpm/fileio.h"
#include "ui_shot.h"

/* Each view starts from this, so that the settings of one do not leak into the next.
 * 20 DDIM steps, not the window's 50: the audit reads the text, and step
 * counts print in the same two tabular digits, at 2.5x less sampling (CI). */
#define BASE "world=images,mode=single,decomp=0,help=0,fps=0,sampler=ddim,steps=20,clip=0,train_tab=filmstrip,roundtrip=0,probe=off,draw=off,"

static const char *const VIEWS[] = {
    "phase=forward,t=500",
    "phase=forward,t=0",
    "frame=end",
    "frame=12,decomp=1",
    "frame=12,decomp=1,sampler=ddpm",
    "frame=end,sampler=ddpm",
    "frame=end,clip=1,fps=1",
    "mode=grid,frame=end",
    "mode=grid,frame=15",
    "mode=compare,compare=sampler,frame=end",
    "mode=compare,compare=model,frame=end",
    "mode=compare,compare=steps,frame=end",
    "mode=compare,compare=eta,frame=12",
    "mode=compare,compare=schedule,frame=end",
    "mode=compare,compare=spacing,frame=end",
    "mode=compare,compare=variance,frame=end",
    "mode=compare,compare=clip,frame=end",
    "mode=study,study_eta=0,1,study_steps=2,5,study_n=4",
    "controls=0,frame=end",
    "controls=1,frame=end",
    "controls=1,frame=12,decomp=1",
    "controls=1,mode=compare,compare=model,frame=end",
    "help=1",
    "roundtrip=300,frame=end",
    "roundtrip=300,rtcurve=1,frame=end",
    "probe=12:14,phase=forward,t=400",
    "draw=blank",
    "probe=3:20,frame=18,controls=0",
    "roundtrip=600,frame=3,controls=1",
    "frame=end,train_tab=loss",
    "frame=12,decomp=1,train_tab=loss",
    "world=2d",
    "world=2d,phase=forward,t=300",
    "world=2d,help=1",
};

static const struct {
    int w, h;
} SIZES[] = {{1024, 768}, {1280, 720}, {1920, 1080}};

/* Under AddressSanitizer every sampling job is ~10x slower: there the test
 * checks the audit's own memory use on a few views at one size (the release
 * build runs them all). */
#if defined(__SANITIZE_ADDRESS__)
enum { N_SIZES = 1, N_VIEWS = 4 };
#else
enum { N_SIZES = sizeof SIZES / sizeof SIZES[0], N_VIEWS = sizeof VIEWS / sizeof VIEWS[0] };
#endif

/* Runs the app until its jobs are done, then audits one frame. */
static int audit(viz_app *a, const char *what, char *report, size_t cap)
{
    for (int i = 0; i < 3; i++) viz_app_frame(a, 0);
    CHECK(viz_sampler_wait_idle(a->sampler, 300), "%s: sampling finishes", what);
    if (a->study) CHECK(viz_study_wait_idle(a->study, 300), "%s: the study finishes", what);
    viz_app_frame(a, 0);
    CHECK(viz_sampler_wait_idle(a->sampler, 300), "%s: no follow-up job", what);
    viz_app_frame(a, 0);
    viz_text_audit(a->text, true);
    viz_app_frame(a, 0);
    const int n = viz_text_audit_report(a->text, report, cap);
    viz_text_audit(a->text, false);
    return n;
}

int main(int argc, char **argv)
{
    UI_TEST_START("ui-textfit");
    const bool verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    int problems = 0, audited = 0;
    static char report[1 << 16];
    for (size_t s = 0; s < N_SIZES; s++) {
        viz_options o = base_options(NULL);
        o.width = SIZES[s].w;
        o.height = SIZES[s].h;
        viz_app *a = NULL;
        ddpm_error err = {0};
        CHECK(viz_app_create(&a, &o, &err) == DDPM_OK, "%s", err.msg);
        CHECK(viz_text_is_fallback(a->text) == false, "the bundled font loads (the audit measures its text)");
        for (int lecture = 0; lecture < 2; lecture++)
            for (size_t v = 0; v < N_VIEWS; v++) {
                char spec[512], what[600];
                /* lecture style hides the controls (Tab shows them) */
                snprintf(spec, sizeof spec, BASE "lecture=%d,controls=%d,%s", lecture, !lecture, VIEWS[v]);
                snprintf(what, sizeof what, "%dx%d %s: %s", SIZES[s].w, SIZES[s].h, lecture ? "lecture" : "normal",
                         VIEWS[v]);
                viz_settings st;
                viz_settings_init(&st, &a->p);
                CHECK(viz_settings_parse(&st, spec, &err) == DDPM_OK, "%s: %s", spec, err.msg);
                CHECK(viz_app_apply_settings(a, &st, &err) == DDPM_OK, "%s: %s", spec, err.msg);
                const int n = audit(a, what, report, sizeof report);
                /* slide-grade: secondary text of 18 px or more in lecture style, from 1024 x 768 up */
                if (lecture)
                    CHECK(viz_text_px(&a->draw, VIZ_SIZE_SMALL) >= 18, "%s: secondary text %d px", what,
                          viz_text_px(&a->draw, VIZ_SIZE_SMALL));
                audited++;
                if (n || verbose) printf("%s: %d problem(s)\n", what, n);
                for (char *line = strtok(report, "\n"); line; line = strtok(NULL, "\n"))
                    printf("  [%s] %s\n", what, line);
                problems += n;
            }
        viz_app_free(a);
    }
    printf("%d views audited, %d text problems\n", audited, problems);
    CHECK(problems == 0, "every label fits its box (%d problems above)", problems);
    remove(g_out);
    SDL_Quit();
    return check_failures_ ? 1 : 0;
}
