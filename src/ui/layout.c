/* layout.c: panel rectangles from the window size (see layout.h). */
#include "layout.h"

#include <math.h>
#include <string.h>

float viz_layout_scale(int w, int h, bool lecture)
{
    float s = fminf((float)w / 1280.0f, (float)h / 720.0f);
    s = s < 0.75f ? 0.75f : s > 4.0f ? 4.0f : s;
    return lecture ? s * VIZ_LECTURE_ZOOM : s;
}

static int u(float scale, float units) { return (int)lrintf(units * scale); }

static SDL_Rect rect(int x, int y, int w, int h) { return (SDL_Rect){x, y, w > 0 ? w : 0, h > 0 ? h : 0}; }

/* Forward (fw_pct of the width) and reverse side by side; returns the y below them. */
static int playback_row(viz_layout *L, int x, int y, int w, int h, int fw_pct, int gap)
{
    const int fw = w * fw_pct / 100;
    L->panel[VIZ_PANEL_FORWARD] = rect(x, y, fw, h);
    L->panel[VIZ_PANEL_REVERSE] = rect(x + fw + gap, y, w - fw - gap, h);
    return y + h + gap;
}

/* The 2D world's panels in the main area (x, y, w, h). */
static void points_panels(viz_layout *L, int x, int y, int w, int h, int gap, bool lecture)
{
    if (w * 5 >= h * 4 + h / 4 && lecture) {
        /* lecture: data | particles | field on top, density | training below (no schedule) */
        const int row1 = h * 60 / 100, row2 = h - row1 - gap;
        const int a = w * 27 / 100, c = w * 27 / 100, b = w - a - c - 2 * gap;
        L->panel[VIZ_PANEL_FORWARD] = rect(x, y, a, row1);
        L->panel[VIZ_PANEL_REVERSE] = rect(x + a + gap, y, b, row1);
        L->panel[VIZ_PANEL_FIELD] = rect(x + a + gap + b + gap, y, c, row1);
        const int d = (w - gap) / 2;
        L->panel[VIZ_PANEL_DENSITY] = rect(x, y + row1 + gap, d, row2);
        L->panel[VIZ_PANEL_TRAINING] = rect(x + d + gap, y + row1 + gap, w - d - gap, row2);
    } else if (w * 5 >= h * 4 + h / 4) {
        /* wide: data | particles | field on top, schedule | density | training below */
        const int row1 = h * 58 / 100, row2 = h - row1 - gap;
        const int a = w * 27 / 100, c = w * 27 / 100, b = w - a - c - 2 * gap;
        L->panel[VIZ_PANEL_FORWARD] = rect(x, y, a, row1);
        L->panel[VIZ_PANEL_REVERSE] = rect(x + a + gap, y, b, row1);
        L->panel[VIZ_PANEL_FIELD] = rect(x + a + gap + b + gap, y, c, row1);
        const int y2 = y + row1 + gap, s = w * 30 / 100, t = w * 34 / 100, d = w - s - t - 2 * gap;
        L->panel[VIZ_PANEL_SCHEDULE] = rect(x, y2, s, row2);
        L->panel[VIZ_PANEL_DENSITY] = rect(x + s + gap, y2, d, row2);
        L->panel[VIZ_PANEL_TRAINING] = rect(x + s + gap + d + gap, y2, t, row2);
    } else {
        /* narrow: particles on top, then data | field, then density | training; the schedule is left out */
        const int r1 = h * 44 / 100, r2 = (h - r1 - 2 * gap) / 2, r3 = h - r1 - r2 - 2 * gap;
        const int half = (w - gap) / 2;
        L->panel[VIZ_PANEL_REVERSE] = rect(x, y, w, r1);
        L->panel[VIZ_PANEL_FORWARD] = rect(x, y + r1 + gap, half, r2);
        L->panel[VIZ_PANEL_FIELD] = rect(x + half + gap, y + r1 + gap, w - half - gap, r2);
        const int y3 = y + r1 + r2 + 2 * gap;
        L->panel[VIZ_PANEL_DENSITY] = rect(x, y3, half, r3);
        L->panel[VIZ_PANEL_TRAINING] = rect(x + half + gap, y3, w - half - gap, r3);
    }
}

void viz_layout_compute(viz_layout *L, int w, int h, float scale, const viz_layout_want *want)
{
    memset(L, 0, sizeof *L);
    const bool controls = want->controls, decomposition = want->decomposition, points = want->points,
               study = want->study, lecture = want->lecture;
    int banner_h = want->banner_h;
    const int gap = u(scale, 8);
    L->gap = gap;
    const int header_h = u(scale, 44);
    const int timeline_h = u(scale, 58);
    L->panel[VIZ_PANEL_HEADER] = rect(0, 0, w, header_h);

    int side_w = controls ? u(scale, 292) : 0;
    if (side_w > w * (lecture ? 38 : 32) / 100) side_w = w * (lecture ? 38 : 32) / 100;
    if (controls) L->panel[VIZ_PANEL_CONTROLS] = rect(gap, header_h + gap, side_w, h - header_h - 2 * gap);
    if (banner_h > h / 4) banner_h = h / 4;
    const int top = header_h + gap + banner_h;

    const int mx = controls ? gap + side_w + gap : gap;
    const int mw = w - mx - gap;
    const int mh = h - top - gap - timeline_h - gap;
    if (study && !points) { /* no playback: the grid takes it all */
        L->panel[VIZ_PANEL_STUDY] = rect(mx, top, mw, h - top - gap);
        return;
    }
    L->panel[VIZ_PANEL_TIMELINE] = rect(mx, top + mh + gap, mw, timeline_h);

    if (points) {
        points_panels(L, mx, top, mw, mh, gap, lecture);
    } else if (w * 5 >= h * 4 + h / 4 && lecture) {
        /* lecture: the playback row, and below it the schedule (or the
         * decomposition, when it is on) and the training; beside the
         * controls only one of them: the decomposition, else the training */
        const int row1 = mh * 60 / 100, row2 = mh - row1 - gap;
        const int y2 = playback_row(L, mx, top, mw, row1, 38, gap);
        if (controls) {
            L->panel[decomposition ? VIZ_PANEL_DECOMP : VIZ_PANEL_TRAINING] = rect(mx, y2, mw, row2);
        } else {
            const int a = (mw - gap) * (decomposition ? 58 : 50) / 100;
            L->panel[decomposition ? VIZ_PANEL_DECOMP : VIZ_PANEL_SCHEDULE] = rect(mx, y2, a, row2);
            L->panel[VIZ_PANEL_TRAINING] = rect(mx + a + gap, y2, mw - a - gap, row2);
        }
    } else if (w * 5 >= h * 4 + h / 4) {
        /* wide: two rows */
        const int row1 = mh * 57 / 100, row2 = mh - row1 - gap;
        const int y2 = playback_row(L, mx, top, mw, row1, 31, gap);
        if (decomposition) {
            const int a = mw * 27 / 100, c = mw * 30 / 100, b = mw - a - c - 2 * gap;
            L->panel[VIZ_PANEL_SCHEDULE] = rect(mx, y2, a, row2);
            L->panel[VIZ_PANEL_DECOMP] = rect(mx + a + gap, y2, b, row2);
            L->panel[VIZ_PANEL_TRAINING] = rect(mx + a + gap + b + gap, y2, c, row2);
        } else {
            const int a = (mw - gap) * 45 / 100;
            L->panel[VIZ_PANEL_SCHEDULE] = rect(mx, y2, a, row2);
            L->panel[VIZ_PANEL_TRAINING] = rect(mx + a + gap, y2, mw - a - gap, row2);
        }
    } else {
        /* narrow: reverse on top, then forward | schedule, then training | decomposition */
        const int r1 = mh * 44 / 100, r2 = (mh - r1 - 2 * gap) / 2, r3 = mh - r1 - r2 - 2 * gap;
        const int half = (mw - gap) / 2;
        L->panel[VIZ_PANEL_REVERSE] = rect(mx, top, mw, r1);
        L->panel[VIZ_PANEL_FORWARD] = rect(mx, top + r1 + gap, half, r2);
        L->panel[VIZ_PANEL_SCHEDULE] = rect(mx + half + gap, top + r1 + gap, mw - half - gap, r2);
        const int y3 = top + r1 + r2 + 2 * gap;
        if (decomposition) {
            L->panel[VIZ_PANEL_TRAINING] = rect(mx, y3, half, r3);
            L->panel[VIZ_PANEL_DECOMP] = rect(mx + half + gap, y3, mw - half - gap, r3);
        } else {
            L->panel[VIZ_PANEL_TRAINING] = rect(mx, y3, mw, r3);
        }
    }
}

const char *viz_panel_name(viz_panel p)
{
    static const char *names[] = {"header", "controls", "forward", "reverse", "schedule",
                                  "training", "decomposition", "timeline", "field", "density", "study"};
    return (int)p >= 0 && p < VIZ_PANEL_COUNT ? names[p] : "?";
}
