/* app_bookmarks.c: the whole view state as one line of --set text, and
 * bookmarks of it: Ctrl+1..9 (or Shift) keeps the state in a slot, 1..9
 * brings it back.  The slots live in <export dir>/bookmarks.txt, one
 * "N <settings>" line each, so a lecture is a sequence of bookmarks that
 * survives a restart (and can be edited by hand: the line is what --set
 * takes).  A recording (app_record.c) starts from the same text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "ddpm/fileio.h"

int viz_app_state_spec(viz_app *a, char *buf, size_t cap)
{
    if (viz_params_format(&a->p, buf, cap) != DDPM_OK) return DDPM_ERR;
    size_t u = strlen(buf);
    int k = snprintf(buf + u, cap - u, ",model=%s", viz_app_model(a)->name);
    u += k > 0 ? (size_t)k : 0;
    if (u < cap && a->p.view == VIZ_VIEW_COMPARE && a->p.compare == VIZ_COMPARE_MODEL && a->p.b.model >= 0 &&
        a->p.b.model < a->models.n) {
        k = snprintf(buf + u, cap - u, ",model_b=%s", a->models.items[a->p.b.model].name);
        u += k > 0 ? (size_t)k : 0;
    }
    /* the playhead (paused: a bookmark is a still), and the window's toggles */
    const int T = viz_app_T(a);
    if (u < cap) {
        if (a->pb.phase == VIZ_PHASE_FORWARD)
            k = snprintf(buf + u, cap - u, ",t=%d,play=0", viz_playback_forward_t(&a->pb, T));
        else
            k = snprintf(buf + u, cap - u, ",frame=%d,play=0", (int)a->pb.pos);
        u += k > 0 ? (size_t)k : 0;
    }
    if (u < cap) {
        k = snprintf(buf + u, cap - u, ",lecture=%d,controls=%d,train_tab=%s", a->lecture ? 1 : 0,
                     a->controls_hidden ? 0 : 1, a->snaps.loss_view ? "loss" : "filmstrip");
        u += k > 0 ? (size_t)k : 0;
    }
    if (u < cap) {
        if (a->probe_x >= 0) k = snprintf(buf + u, cap - u, ",probe=%d:%d", a->probe_x, a->probe_y);
        else k = snprintf(buf + u, cap - u, ",probe=off");
        u += k > 0 ? (size_t)k : 0;
    }
    return u < cap ? DDPM_OK : DDPM_ERR;
}

enum { LINE_MAX_BYTES = 4096, SLOTS = 9 };

static void bookmarks_path(const viz_app *a, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.3000s/bookmarks.txt", a->opt.export_dir);
}

/* Reads the file's slots (1..9) into lines[slot]; a missing file is empty. */
static void read_slots(const viz_app *a, char lines[SLOTS + 1][LINE_MAX_BYTES])
{
    for (int i = 0; i <= SLOTS; i++) lines[i][0] = '\0';
    char path[3100];
    bookmarks_path(a, path, sizeof path);
    ddpm_error err = {0};
    if (!ddpm_file_exists(path)) return;
    FILE *f = ddpm_open_regular(path, &err);
    if (!f) return;
    char line[LINE_MAX_BYTES + 8];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] < '1' || line[0] > '9' || line[1] != ' ') continue; /* comments, junk */
        snprintf(lines[line[0] - '0'], LINE_MAX_BYTES, "%.4000s", line + 2);
    }
    fclose(f);
}

void viz_app_bookmark_save(viz_app *a, int slot)
{
    if (slot < 1 || slot > SLOTS) return;
    static char lines[SLOTS + 1][LINE_MAX_BYTES];
    read_slots(a, lines);
    if (viz_app_state_spec(a, lines[slot], LINE_MAX_BYTES) != DDPM_OK) {
        viz_app_toast(a, VIZ_LEVEL_ERROR, "Bookmark %d: the state does not fit a line", slot);
        return;
    }
    char path[3100], text[(SLOTS + 1) * (LINE_MAX_BYTES + 4)];
    bookmarks_path(a, path, sizeof path);
    size_t u = (size_t)snprintf(text, sizeof text,
                                "# ddpm viz bookmarks: Ctrl+N keeps the view in slot N, N brings it back; "
                                "each line is --set settings\n");
    for (int i = 1; i <= SLOTS; i++)
        if (lines[i][0] && u < sizeof text) u += (size_t)snprintf(text + u, sizeof text - u, "%d %s\n", i, lines[i]);
    ddpm_error err = {0};
    ddpm_atomic_file af;
    if (ddpm_mkdir_p(a->opt.export_dir, &err) != DDPM_OK || ddpm_atomic_open(&af, path, &err) != DDPM_OK ||
        ddpm_atomic_write(&af, text, u, &err) != DDPM_OK || ddpm_atomic_commit(&af, &err) != DDPM_OK) {
        viz_app_toast(a, VIZ_LEVEL_ERROR, "Bookmark %d not kept: %s", slot, err.msg);
        return;
    }
    viz_app_toast(a, VIZ_LEVEL_OK, "Bookmark %d kept (press %d to come back) in %s", slot, slot, path);
}

void viz_app_bookmark_restore(viz_app *a, int slot)
{
    if (slot < 1 || slot > SLOTS) return;
    static char lines[SLOTS + 1][LINE_MAX_BYTES];
    read_slots(a, lines);
    if (!lines[slot][0]) {
        viz_app_toast(a, VIZ_LEVEL_INFO, "No bookmark %d yet: Ctrl+%d keeps the current view there", slot, slot);
        return;
    }
    viz_settings s;
    viz_settings_init(&s, &a->p);
    ddpm_error err = {0};
    if (viz_settings_parse(&s, lines[slot], &err) != DDPM_OK || viz_app_apply_settings(a, &s, &err) != DDPM_OK) {
        viz_app_toast(a, VIZ_LEVEL_ERROR, "Bookmark %d cannot be restored: %s", slot, err.msg);
        return;
    }
    viz_app_toast(a, VIZ_LEVEL_OK, "Bookmark %d", slot);
}
