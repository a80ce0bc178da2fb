/* app_record.c: --record FILE and --replay FILE.
 *
 * A recording is text, one line each:
 *   ddpm-viz-recording 1
 *   size W H                  the window (it keeps this size while recording)
 *   state SETTINGS            the whole starting state, as --set takes it
 *   f DT                      a frame begins; DT its seconds
 *   k SYM MOD REPEAT          a key press in that frame (SDL keycode, modifiers)
 *   m X Y                     the mouse moved (renderer pixels)
 *   b BUTTON DOWN X Y         a mouse button went down (1) or up (0)
 *   w Y                       the wheel turned
 *   q                         the window was closed
 *   s STEP                    the live trainer's step count at the frame's end, when it changed
 *
 * A replay starts from the state line at that size and feeds each frame its
 * events and DT.  It is deterministic, run to run, down to the pixels:
 *   - the clock is the recording's (the sum of the DTs), never the wall;
 *   - each frame first waits until the sampler and the study have finished
 *     what the frame before asked for, so a result shows at the same frame;
 *   - the live training goes by steps, not by wall time: each frame ends with
 *     the trainer at the step count recorded for it, where it waits
 *     (viz_trainer_set_step_limit), before and after the frame's events;
 *   - what measures wall time is not shown (sampling seconds, img/s, the
 *     snapshots' training seconds), and the live model refreshes once a
 *     second of the recording's clock.
 * The replayed run is deterministic in itself; where the original session's
 * timing decided something (how many steps a Restart came after), the
 * replay may differ from it, the same way every time.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "ddpm/common.h"
#include "ddpm/fileio.h"

typedef struct rec_event {
    char kind;                   /* k m b w q */
    int v[4];
} rec_event;

typedef struct rec_frame {
    double dt;
    int first, n;                /* its events in ev[] */
    int64_t step;                /* the trainer's step at its end (-1: as before) */
} rec_frame;

struct viz_recording {
    /* recording */
    char *text;
    size_t len, cap;
    int64_t last_step;
    char path[4096];
    /* replay */
    rec_frame *frames;
    int n_frames, next;
    rec_event *ev;
    int n_ev;
    double clock;
    int64_t limit;
};

/* ---- recording -------------------------------------------------------------------- */

static void put(viz_recording *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(viz_recording *r, const char *fmt, ...)
{
    char line[4400];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    if ((size_t)k >= sizeof line) k = (int)sizeof line - 1;
    if (r->len + (size_t)k + 1 > r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 1 << 16;
        while (cap < r->len + (size_t)k + 1) cap *= 2;
        char *t = realloc(r->text, cap);
        if (!t) return; /* out of memory: the recording loses this line */
        r->text = t, r->cap = cap;
    }
    memcpy(r->text + r->len, line, (size_t)k);
    r->len += (size_t)k;
    r->text[r->len] = '\0';
}

int viz_record_start(viz_app *a, const char *path, ddpm_error *err)
{
    viz_recording *r = calloc(1, sizeof *r);
    if (!r) return ddpm_fail(err, "out of memory");
    snprintf(r->path, sizeof r->path, "%s", path);
    char state[4096];
    if (viz_app_state_spec(a, state, sizeof state) != DDPM_OK) {
        free(r);
        return ddpm_fail(err, "--record: the starting state does not fit a line");
    }
    put(r, "ddpm-viz-recording 1\nsize %d %d\nstate %s\n", a->w, a->h, state);
    r->last_step = -1;
    a->recording = r;
    if (a->window) SDL_SetWindowResizable(a->window, SDL_FALSE); /* mouse positions keep their meaning */
    return DDPM_OK;
}

void viz_record_frame(viz_app *a, double dt)
{
    if (a->recording && !a->recording->frames) put(a->recording, "f %.17g\n", dt);
}

void viz_record_event(viz_app *a, const SDL_Event *e)
{
    viz_recording *r = a->recording;
    if (!r || r->frames) return;
    switch (e->type) {
    case SDL_KEYDOWN: put(r, "k %d %d %d\n", (int)e->key.keysym.sym, (int)e->key.keysym.mod, e->key.repeat ? 1 : 0); break;
    case SDL_MOUSEMOTION: put(r, "m %d %d\n", e->motion.x, e->motion.y); break;
    case SDL_MOUSEBUTTONDOWN:
    case SDL_MOUSEBUTTONUP:
        put(r, "b %d %d %d %d\n", e->button.button, e->type == SDL_MOUSEBUTTONDOWN, e->button.x, e->button.y);
        break;
    case SDL_MOUSEWHEEL: put(r, "w %d\n", e->wheel.y); break;
    case SDL_QUIT: put(r, "q\n"); break;
    default: break;
    }
}

void viz_record_end_frame(viz_app *a)
{
    viz_recording *r = a->recording;
    if (!r || r->frames) return;
    if (a->train.step != r->last_step) {
        put(r, "s %lld\n", (long long)a->train.step);
        r->last_step = a->train.step;
    }
}

int viz_record_finish(viz_app *a, ddpm_error *err)
{
    viz_recording *r = a->recording;
    if (!r || r->frames) return DDPM_OK;
    ddpm_atomic_file af;
    int rc = DDPM_OK;
    if (ddpm_atomic_open(&af, r->path, err) != DDPM_OK || ddpm_atomic_write(&af, r->text, r->len, err) != DDPM_OK ||
        ddpm_atomic_commit(&af, err) != DDPM_OK)
        rc = DDPM_ERR;
    else
        fprintf(stderr, "ddpm viz: recorded %s (replay: ddpm viz --replay %s)\n", r->path, r->path);
    return rc;
}

void viz_recording_free(viz_recording *r)
{
    if (!r) return;
    free(r->text), free(r->frames), free(r->ev);
    free(r);
}

/* ---- replay ----------------------------------------------------------------------- */

int viz_replay_load(const char *path, viz_recording **out, int *w, int *h, char *state, size_t cap, ddpm_error *err)
{
    *out = NULL;
    size_t len = 0;
    unsigned char *bytes = NULL;
    if (ddpm_read_file(path, 256u << 20, &bytes, &len, err) != DDPM_OK) return ddpm_fail_context(err, "--replay");
    char *text = malloc(len + 1);
    if (!text) {
        free(bytes);
        return ddpm_fail(err, "out of memory");
    }
    memcpy(text, bytes, len);
    text[len] = '\0';
    free(bytes);
    if (memchr(text, '\0', len)) {
        free(text);
        return ddpm_fail(err, "--replay %s: not a text file (a recording is text)", path);
    }
    viz_recording *r = calloc(1, sizeof *r);
    if (!r) {
        free(text);
        return ddpm_fail(err, "out of memory");
    }
    int cap_f = 0, cap_e = 0, line_no = 0;
    bool have_size = false, have_state = false;
    char *save = NULL;
    int rc = DDPM_OK;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        line_no++;
        if (line_no == 1) {
            if (strcmp(line, "ddpm-viz-recording 1") != 0) {
                rc = ddpm_fail(err, "--replay %s: not a ddpm viz recording (the first line is not "
                                    "'ddpm-viz-recording 1')", path);
                break;
            }
            continue;
        }
        int v[4] = {0};
        long long step = 0;
        double dt = 0;
        if (!strncmp(line, "size ", 5)) {
            if (sscanf(line + 5, "%d %d", w, h) != 2 || *w < 1 || *h < 1) goto bad;
            have_size = true;
        } else if (!strncmp(line, "state ", 6)) {
            if (strlen(line + 6) >= cap) goto bad;
            snprintf(state, cap, "%s", line + 6);
            have_state = true;
        } else if (line[0] == 'f' && line[1] == ' ') {
            if (sscanf(line + 2, "%lf", &dt) != 1 || !(dt >= 0.0 && dt <= 1.0)) goto bad;
            if (r->n_frames == cap_f) {
                cap_f = cap_f ? cap_f * 2 : 1024;
                rec_frame *f = realloc(r->frames, sizeof *f * (size_t)cap_f);
                if (!f) goto oom;
                r->frames = f;
            }
            r->frames[r->n_frames++] = (rec_frame){dt, r->n_ev, 0, -1};
        } else if (line[0] == 's' && line[1] == ' ') {
            if (!r->n_frames || sscanf(line + 2, "%lld", &step) != 1 || step < 0) goto bad;
            r->frames[r->n_frames - 1].step = step;
        } else if (strchr("kmbwq", line[0]) && (line[1] == ' ' || line[1] == '\0')) {
            const int want = line[0] == 'k' ? 3 : line[0] == 'm' ? 2 : line[0] == 'b' ? 4 : line[0] == 'w' ? 1 : 0;
            if (!r->n_frames) goto bad;
            if (want && sscanf(line + 2, "%d %d %d %d", &v[0], &v[1], &v[2], &v[3]) != want) goto bad;
            if (r->n_ev == cap_e) {
                cap_e = cap_e ? cap_e * 2 : 1024;
                rec_event *e = realloc(r->ev, sizeof *e * (size_t)cap_e);
                if (!e) goto oom;
                r->ev = e;
            }
            r->ev[r->n_ev++] = (rec_event){line[0], {v[0], v[1], v[2], v[3]}};
            r->frames[r->n_frames - 1].n++;
        } else if (line[0] != '#') {
            goto bad;
        }
        continue;
    bad:
        rc = ddpm_fail(err, "--replay %s: line %d is not a recording line: '%.80s'", path, line_no, line);
        break;
    oom:
        rc = ddpm_fail(err, "out of memory");
        break;
    }
    free(text);
    if (rc == DDPM_OK && (!have_size || !have_state))
        rc = ddpm_fail(err, "--replay %s: no 'size' or 'state' line (a recording starts with both)", path);
    if (rc == DDPM_OK && line_no == 0) rc = ddpm_fail(err, "--replay %s: the file is empty", path);
    if (rc != DDPM_OK) {
        viz_recording_free(r);
        return rc;
    }
    if (!r->frames) { /* a recording of no frames replays as nothing: keep it valid */
        r->frames = calloc(1, sizeof *r->frames);
        if (!r->frames) {
            viz_recording_free(r);
            return ddpm_fail(err, "out of memory");
        }
    }
    r->limit = 0; /* no training step before the recording has one */
    *out = r;
    return DDPM_OK;
}

bool viz_replay_done(const viz_app *a)
{
    return a->recording && a->recording->frames && a->recording->next >= a->recording->n_frames;
}

bool viz_app_replaying(const viz_app *a)
{
    return a->recording && a->recording->frames != NULL;
}

/* The live trainer at the recorded step count: its commands done, and it
 * stepped up to the limit (where it waits), unless it is not running. */
static void train_to_limit(viz_app *a)
{
    viz_recording *r = a->recording;
    if (!a->trainer) return;
    for (int i = 0; i < 60000 && viz_trainer_pending(a->trainer); i++) SDL_Delay(1);
    viz_trainer_set_step_limit(a->trainer, r->limit);
    for (int i = 0; i < 600000; i++) { /* however slow the machine (a sanitizer build) */
        viz_train_status st;
        viz_trainer_get_status(a->trainer, &st);
        if (st.step >= r->limit || st.state != VIZ_TRAIN_RUNNING) break;
        SDL_Delay(1);
    }
    for (int i = 0; i < 60000 && viz_trainer_pending(a->trainer); i++) SDL_Delay(1);
}

/* Before a replayed frame: what the frame before asked for is finished. */
static void settle(viz_app *a)
{
    train_to_limit(a);
    if (a->sampler) viz_sampler_wait_idle(a->sampler, 300.0);
    if (a->study) viz_study_wait_idle(a->study, 600.0);
}

double viz_replay_begin_frame(viz_app *a, double dt, viz_input *in)
{
    viz_recording *r = a->recording;
    if (!r || !r->frames) return dt;
    if (r->next >= r->n_frames) {
        /* the recording is over: a screenshot is taken, or the window goes on
         * live (the training too) */
        if (a->trainer && r->limit != -2) {
            settle(a);
            if (!a->headless) viz_trainer_set_step_limit(a->trainer, -1);
            r->limit = -2;
        }
        if (!a->headless) return dt;
        a->now = r->clock;
        return 0.0;
    }
    if (r->next == 0) r->clock = a->now; /* the clock counts from here: only differences are used */
    const rec_frame *f = &r->frames[r->next++];
    /* the frame ends, as recorded, with the trainer at the step count of its
     * 's' line: reached before its events (a pause lands exactly there) and
     * after them (a T or a Restart in this frame starts a run that stops there) */
    if (f->step >= 0) r->limit = f->step;
    settle(a);
    r->clock += f->dt;
    a->now = r->clock;
    for (int i = f->first; i < f->first + f->n; i++) {
        const rec_event *e = &r->ev[i];
        SDL_Event ev;
        memset(&ev, 0, sizeof ev);
        switch (e->kind) {
        case 'k':
            ev.type = SDL_KEYDOWN;
            ev.key.keysym.sym = (SDL_Keycode)e->v[0];
            ev.key.keysym.mod = (Uint16)e->v[1];
            ev.key.repeat = (Uint8)e->v[2];
            break;
        case 'm': ev.type = SDL_MOUSEMOTION, ev.motion.x = e->v[0], ev.motion.y = e->v[1]; break;
        case 'b':
            ev.type = e->v[1] ? SDL_MOUSEBUTTONDOWN : SDL_MOUSEBUTTONUP;
            ev.button.button = (Uint8)e->v[0], ev.button.x = e->v[2], ev.button.y = e->v[3];
            break;
        case 'w': ev.type = SDL_MOUSEWHEEL, ev.wheel.y = e->v[0]; break;
        default: ev.type = SDL_QUIT; break;
        }
        viz_app_handle_event(a, in, &ev);
    }
    if (f->n) train_to_limit(a);
    return f->dt;
}
