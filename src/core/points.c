/* points.c: the 2D world's built-in point sets, point files (CSV) and the
 * energy distance (see ddpm/points.h for the definitions). */
#include "ddpm/points.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddpm/dataset.h"
#include "ddpm/fileio.h"
#include "ddpm/mlp.h"
#include "ddpm/rng.h"
#include "simd.h"

static const char *const names[DDPM_POINTS_COUNT] = {"moons", "swissroll", "gaussians8", "checkerboard",
                                                      "rings"};

const char *ddpm_points_name(ddpm_points_kind kind)
{
    DDPM_ASSERT((int)kind >= 0 && kind < DDPM_POINTS_COUNT);
    return names[kind];
}

const char *ddpm_points_names_list(void) { return "moons, swissroll, gaussians8, checkerboard, rings"; }

bool ddpm_points_parse(const char *name, ddpm_points_kind *out, ddpm_error *err)
{
    for (int k = 0; name && k < DDPM_POINTS_COUNT; k++)
        if (strcmp(name, names[k]) == 0) {
            *out = (ddpm_points_kind)k;
            return true;
        }
    ddpm_fail(err, "unknown point set '%s'; use %s", name ? name : "(null)", ddpm_points_names_list());
    return false;
}

static const double PI = 3.14159265358979323846;

/* scikit-learn's make_moons, then x' = 2 (x - 0.5), y' = 2 (y - 0.25) */
static void moons(ddpm_rng *r, size_t n, float *xy)
{
    const size_t n_out = n / 2, n_in = n - n_out;
    for (size_t i = 0; i < n; i++) {
        const bool outer = i < n_out;
        const size_t k = outer ? i : i - n_out, m = outer ? n_out : n_in;
        const double a = m > 1 ? PI * (double)k / (double)(m - 1) : 0.0;
        double x = outer ? cos(a) : 1.0 - cos(a), y = outer ? sin(a) : 0.5 - sin(a);
        x += 0.05 * ddpm_rng_normal(r);
        y += 0.05 * ddpm_rng_normal(r);
        xy[2 * i] = (float)(2.0 * (x - 0.5));
        xy[2 * i + 1] = (float)(2.0 * (y - 0.25));
    }
    /* shuffled, as make_moons does by default: any prefix is a fair sample */
    for (size_t i = n; i > 1; i--) {
        const size_t j = ddpm_rng_below(r, (uint32_t)i);
        const float x = xy[2 * (i - 1)], y = xy[2 * (i - 1) + 1];
        xy[2 * (i - 1)] = xy[2 * j], xy[2 * (i - 1) + 1] = xy[2 * j + 1];
        xy[2 * j] = x, xy[2 * j + 1] = y;
    }
}

static void swissroll(ddpm_rng *r, size_t n, float *xy)
{
    for (size_t i = 0; i < n; i++) {
        const double a = 1.5 * PI * (1.0 + 2.0 * ddpm_rng_uniform(r));
        xy[2 * i] = (float)(a * cos(a) / 5.0 + 0.05 * ddpm_rng_normal(r));
        xy[2 * i + 1] = (float)(a * sin(a) / 5.0 + 0.05 * ddpm_rng_normal(r));
    }
}

static void gaussians8(ddpm_rng *r, size_t n, float *xy)
{
    for (size_t i = 0; i < n; i++) {
        const double a = PI / 4.0 * (double)ddpm_rng_below(r, 8);
        xy[2 * i] = (float)(2.0 * cos(a) + 0.1 * ddpm_rng_normal(r));
        xy[2 * i + 1] = (float)(2.0 * sin(a) + 0.1 * ddpm_rng_normal(r));
    }
}

static void checkerboard(ddpm_rng *r, size_t n, float *xy)
{
    for (size_t i = 0; i < n; i++) {
        /* one of the 8 squares, then a uniform point in it */
        const int s = (int)ddpm_rng_below(r, 8), row = s / 2, col = 2 * (s % 2) + (row % 2);
        xy[2 * i] = (float)(col - 2 + ddpm_rng_uniform(r));
        xy[2 * i + 1] = (float)(row - 2 + ddpm_rng_uniform(r));
    }
}

static void rings(ddpm_rng *r, size_t n, float *xy)
{
    static const double radius[3] = {0.6, 1.3, 2.0};
    const double total = radius[0] + radius[1] + radius[2];
    for (size_t i = 0; i < n; i++) {
        const double u = ddpm_rng_uniform(r) * total;
        const int k = u < radius[0] ? 0 : u < radius[0] + radius[1] ? 1 : 2;
        const double a = 2.0 * PI * ddpm_rng_uniform(r), rad = radius[k] + 0.05 * ddpm_rng_normal(r);
        xy[2 * i] = (float)(rad * cos(a));
        xy[2 * i + 1] = (float)(rad * sin(a));
    }
}

void ddpm_points_generate(ddpm_points_kind kind, size_t n, uint64_t seed, float *xy)
{
    DDPM_ASSERT((int)kind >= 0 && kind < DDPM_POINTS_COUNT && (xy || n == 0));
    ddpm_rng r;
    ddpm_rng_init(&r, seed, ddpm_rng_stream(DDPM_STREAM_DATA, 1000 + (uint64_t)kind, (uint64_t)n));
    switch (kind) {
    case DDPM_POINTS_MOONS: moons(&r, n, xy); break;
    case DDPM_POINTS_SWISSROLL: swissroll(&r, n, xy); break;
    case DDPM_POINTS_GAUSSIANS8: gaussians8(&r, n, xy); break;
    case DDPM_POINTS_CHECKERBOARD: checkerboard(&r, n, xy); break;
    case DDPM_POINTS_RINGS: rings(&r, n, xy); break;
    case DDPM_POINTS_COUNT: break;
    }
}

/* ---- point files ----------------------------------------------------------------- */

/* The numbers of one line into v (at most DDPM_MLP_MAX_DIM); returns how many,
 * or -1 for a token that is not a number (or more values than allowed). */
static int parse_line(char *line, double *v)
{
    int k = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',' || *p == '\r') p++;
        if (*p == '\0' || *p == '#') return k;
        if (k == DDPM_MLP_MAX_DIM) return -1;
        char *end;
        errno = 0;
        const double d = strtod(p, &end);
        if (end == p || errno == ERANGE) return -1;
        if (*end != '\0' && *end != ' ' && *end != '\t' && *end != ',' && *end != '\r' && *end != '#') return -1;
        v[k++] = d;
        p = end;
    }
}

int ddpm_points_read_csv(const char *path, float **out, size_t *n_out, int *D_out, ddpm_error *err)
{
    DDPM_ASSERT(path && out && n_out && D_out);
    *out = NULL, *n_out = 0, *D_out = 0;
    unsigned char *buf;
    size_t len;
    if (ddpm_read_file(path, DDPM_POINTS_MAX_FILE_BYTES, &buf, &len, err) != DDPM_OK) return DDPM_ERR;
    if (memchr(buf, '\0', len)) {
        free(buf);
        return ddpm_fail(err, "'%s' holds NUL bytes: it is not a text file of points", path);
    }
    char *text = realloc(buf, len + 1);
    if (!text) {
        free(buf);
        return ddpm_fail(err, "out of memory reading '%s'", path);
    }
    text[len] = '\0';
    float *pts = NULL;
    size_t n = 0, cap = 0, line_no = 0;
    int D = 0;
    bool first_data = true;
    int rc = DDPM_OK;
    for (char *line = text, *next; line && rc == DDPM_OK; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        line_no++;
        double v[DDPM_MLP_MAX_DIM];
        const int k = parse_line(line, v);
        if (k == 0) continue;
        if (k < 0) {
            /* a line of column names before the first point is a header */
            if (first_data && isalpha((unsigned char)line[strspn(line, " \t")])) {
                first_data = false; /* one header, before the first point */
                continue;
            }
            rc = ddpm_fail(err, "'%s' line %zu: '%.40s' is not a list of at most %d numbers; a point file "
                                "has one point a line, its coordinates separated by commas",
                           path, line_no, line, DDPM_MLP_MAX_DIM);
            break;
        }
        first_data = false;
        if (D == 0) D = k;
        if (k != D) {
            rc = ddpm_fail(err, "'%s' line %zu has %d values, the lines before it %d; every point needs the "
                                "same number of coordinates", path, line_no, k, D);
            break;
        }
        for (int j = 0; j < k; j++)
            if (!isfinite(v[j]) || fabs(v[j]) > 1e6) {
                rc = ddpm_fail(err, "'%s' line %zu: value %g is not a finite number within +-1e6", path, line_no,
                               v[j]);
                break;
            }
        if (rc != DDPM_OK) break;
        if (n == DDPM_POINTS_MAX_N) {
            rc = ddpm_fail(err, "'%s' has more than %d points; use fewer", path, DDPM_POINTS_MAX_N);
            break;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            float *grown = realloc(pts, sizeof(float) * cap * (size_t)D);
            if (!grown) {
                rc = ddpm_fail(err, "out of memory reading '%s'", path);
                break;
            }
            pts = grown;
        }
        for (int j = 0; j < k; j++) pts[n * (size_t)D + (size_t)j] = (float)v[j];
        n++;
    }
    free(text);
    if (rc == DDPM_OK && n == 0)
        rc = ddpm_fail(err, "'%s' holds no points; a point file has one point a line, e.g. '0.5,-1.2'", path);
    if (rc != DDPM_OK) {
        free(pts);
        return DDPM_ERR;
    }
    *out = pts, *n_out = n, *D_out = D;
    return DDPM_OK;
}

int ddpm_points_write_csv(const char *path, const float *pts, size_t n, int D, const char *comment,
                          ddpm_error *err)
{
    DDPM_ASSERT(path && (pts || n == 0) && D >= 1 && (!comment || !strchr(comment, '\n')));
    const size_t cap = 64 + (comment ? strlen(comment) + 3 : 0) + n * (size_t)D * 18;
    char *buf = malloc(cap);
    if (!buf) return ddpm_fail(err, "out of memory writing '%s'", path);
    size_t at = 0;
    if (comment) at += (size_t)snprintf(buf, cap, "# %s\n", comment);
    if (D == 2) {
        at += (size_t)snprintf(buf + at, cap - at, "x,y\n");
    } else {
        for (int j = 0; j < D; j++) at += (size_t)snprintf(buf + at, cap - at, j ? ",x%d" : "x%d", j);
        at += (size_t)snprintf(buf + at, cap - at, "\n");
    }
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < D; j++)
            at += (size_t)snprintf(buf + at, cap - at, "%.9g%c", (double)pts[i * (size_t)D + (size_t)j],
                                   j + 1 < D ? ',' : '\n');
    const int rc = ddpm_write_file_atomic(path, buf, at, err);
    free(buf);
    return rc;
}

bool ddpm_points_csv_tag(const char *path, const char *key, char *buf, size_t cap)
{
    DDPM_ASSERT(path && key && buf && cap > 0);
    buf[0] = '\0';
    ddpm_error ignored;
    FILE *f = ddpm_open_regular(path, &ignored); /* a FIFO must not block */
    if (!f) return false;
    char line[1024];
    const bool got = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    if (!got || line[0] != '#') return false;
    char pattern[64];
    snprintf(pattern, sizeof pattern, "%s=", key);
    const char *at = strstr(line, pattern);
    if (!at) return false;
    at += strlen(pattern);
    const size_t len = strcspn(at, ", \t\r\n");
    if (len == 0 || len >= cap) return false;
    memcpy(buf, at, len);
    buf[len] = '\0';
    return true;
}

/* ---- energy distance ---------------------------------------------------------------- */

/* sum_j |p - q_j| over nb points q of two coordinates, in double: eight
 * running sums (element j into sum j % 8, then added in order), a fixed
 * order that vectorises, so the result is the same on every CPU. */
DDPM_VECTORIZE
static double row_distance_2d(const float *p, const float *restrict q, size_t nb)
{
    double part[8] = {0};
    const double px = p[0], py = p[1];
    size_t j = 0;
    for (; j + 8 <= nb; j += 8)
        for (int k = 0; k < 8; k++) {
            const double dx = px - q[2 * (j + k)], dy = py - q[2 * (j + k) + 1];
            part[k] += sqrt(dx * dx + dy * dy);
        }
    for (int k = 0; j < nb; j++, k++) {
        const double dx = px - q[2 * j], dy = py - q[2 * j + 1];
        part[k] += sqrt(dx * dx + dy * dy);
    }
    double s = 0;
    for (int k = 0; k < 8; k++) s += part[k];
    return s;
}

/* The mean of |a_i - b_j| over all pairs, in double. */
static double mean_distance(const float *a, size_t na, const float *b, size_t nb, int D)
{
    double total = 0.0;
    for (size_t i = 0; i < na; i++) {
        const float *p = a + i * (size_t)D;
        if (D == 2) { /* the 2D world: thousands of points, often */
            total += row_distance_2d(p, b, nb);
            continue;
        }
        double row = 0.0;
        for (size_t j = 0; j < nb; j++) {
            const float *q = b + j * (size_t)D;
            double s = 0.0;
            for (int d = 0; d < D; d++) {
                const double e = (double)p[d] - q[d];
                s += e * e;
            }
            row += sqrt(s);
        }
        total += row;
    }
    return total / ((double)na * (double)nb);
}

double ddpm_energy_distance(const float *a, size_t na, const float *b, size_t nb, int D)
{
    DDPM_ASSERT(a && b && na > 0 && nb > 0 && D >= 1);
    return 2.0 * mean_distance(a, na, b, nb, D) - mean_distance(a, na, a, na, D) -
           mean_distance(b, nb, b, nb, D);
}

/* n points of ds taken from `first` with a stride, into out (n, D). */
static void strided(float *out, const ddpm_dataset *ds, size_t first, size_t stride, size_t n)
{
    const size_t D = (size_t)ds->channels;
    for (size_t i = 0; i < n; i++) memcpy(out + i * D, ds->points + (first + i * stride) * D, sizeof(float) * D);
}

/* The reference: at most DDPM_POINTS_SCORE_MAX held-out points, evenly strided (malloc'ed). */
static float *reference(const ddpm_dataset *held, size_t *n_ref)
{
    *n_ref = held->n < DDPM_POINTS_SCORE_MAX ? held->n : DDPM_POINTS_SCORE_MAX;
    float *ref = ddpm_xmalloc(sizeof(float) * *n_ref * (size_t)held->channels);
    strided(ref, held, 0, held->n / *n_ref, *n_ref);
    return ref;
}

static bool usable(const ddpm_dataset *train, const ddpm_dataset *held, int D)
{
    return train->points && held->points && train->channels == D && held->channels == D && held->n > 0 && train->n > 0;
}

double ddpm_points_floor(const ddpm_dataset *train, const ddpm_dataset *held, size_t n, int D, int *sets_out)
{
    DDPM_ASSERT(train && held);
    if (!usable(train, held, D) || n == 0) return -1.0;
    if (n > DDPM_POINTS_SCORE_MAX) n = DDPM_POINTS_SCORE_MAX;
    size_t n_ref;
    float *ref = reference(held, &n_ref);
    const size_t n_real = train->n < n ? train->n : n, sets = train->n / n_real < 10 ? train->n / n_real : 10;
    const size_t stride = train->n / n_real; /* set j: points j, j + stride, ... */
    float *real = ddpm_xmalloc(sizeof(float) * n_real * (size_t)D);
    double floor = 0;
    for (size_t j = 0; j < sets; j++) {
        strided(real, train, j, stride, n_real);
        floor += ddpm_energy_distance(real, n_real, ref, n_ref, D) / (double)sets;
    }
    free(ref);
    free(real);
    if (sets_out) *sets_out = (int)sets;
    return floor;
}

int ddpm_points_score_with_floor(const float *pts, size_t n, int n_sets, int D, const ddpm_dataset *held,
                                 double floor, int floor_sets, ddpm_points_score *out, ddpm_error *err)
{
    DDPM_ASSERT(pts && held && out);
    memset(out, 0, sizeof *out);
    if (!held->points || held->channels != D || held->n == 0)
        return ddpm_fail(err, "'%s' does not hold points of %d values to compare the samples with", held->name, D);
    if (n == 0 || n_sets < 1) return ddpm_fail(err, "no samples to score");
    const size_t stride_set = n; /* where set k starts, in points */
    if (n > DDPM_POINTS_SCORE_MAX) n = DDPM_POINTS_SCORE_MAX;
    size_t n_ref;
    float *ref = reference(held, &n_ref);
    out->n = n, out->n_ref = n_ref, out->floor_sets = floor_sets, out->sets = n_sets, out->floor = floor;
    for (int k = 0; k < n_sets; k++) {
        const double ed = ddpm_energy_distance(pts + (size_t)k * stride_set * (size_t)D, n, ref, n_ref, D);
        out->ed += ed / n_sets;
        if (k == 0 || ed < out->ed_min) out->ed_min = ed;
        if (k == 0 || ed > out->ed_max) out->ed_max = ed;
    }
    out->ratio = floor > 0 ? out->ed / floor : 0.0;
    free(ref);
    return DDPM_OK;
}

int ddpm_points_score_samples(const float *pts, size_t n, int n_sets, int D, const ddpm_dataset *train,
                              const ddpm_dataset *held, ddpm_points_score *out, ddpm_error *err)
{
    DDPM_ASSERT(pts && train && held && out);
    memset(out, 0, sizeof *out);
    if (!usable(train, held, D))
        return ddpm_fail(err, "'%s' does not hold points of %d values to compare the samples with", train->name, D);
    if (n == 0 || n_sets < 1) return ddpm_fail(err, "no samples to score");
    int floor_sets = 0;
    const double floor = ddpm_points_floor(train, held, n, D, &floor_sets);
    return ddpm_points_score_with_floor(pts, n, n_sets, D, held, floor, floor_sets, out, err);
}
