/* test_points.c: the 2D world's data (ddpm/points.h): every built-in set
 * follows its documented definition; sets repeat for a seed and differ
 * across seeds; point files (CSV) read, write and reject bad input with a
 * message; the energy distance and its floor: real points score near the
 * floor, a Gaussian far above it, and identical clouds score 0. */
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ddpm/dataset.h"
#include "ddpm/fileio.h"
#include "ddpm/points.h"
#include "ddpm/rng.h"

enum { N = 8000 };

static const double PI = 3.14159265358979323846;

static void mean_std(const float *xy, size_t n, int coord, double *mean, double *sd)
{
    double s = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) s += xy[2 * i + coord];
    *mean = s / n;
    for (size_t i = 0; i < n; i++) s2 += (xy[2 * i + coord] - *mean) * (xy[2 * i + coord] - *mean);
    *sd = sqrt(s2 / n);
}

/* The distance from p to the nearest of m points of a curve. */
static double to_curve(const double *curve, int m, double x, double y)
{
    double best = 1e9;
    for (int i = 0; i < m; i++) {
        const double d = hypot(x - curve[2 * i], y - curve[2 * i + 1]);
        if (d < best) best = d;
    }
    return best;
}

/* moons: scikit-learn's make_moons, mapped by x' = 2(x - 0.5), y' = 2(y - 0.25):
 * the mapped arcs are (2 cos a - 1, 2 sin a - 0.5) and (1 - 2 cos a, 0.5 - 2 sin a),
 * half the points on each, and the noise 0.05 becomes 0.1 */
static void check_moons(const float *xy)
{
    enum { M = 2000 };
    static double upper[2 * M], lower[2 * M];
    for (int i = 0; i < M; i++) {
        const double a = PI * i / (M - 1);
        upper[2 * i] = 2 * cos(a) - 1, upper[2 * i + 1] = 2 * sin(a) - 0.5;
        lower[2 * i] = 1 - 2 * cos(a), lower[2 * i + 1] = 0.5 - 2 * sin(a);
    }
    int n_upper = 0;
    double sq = 0;
    for (int i = 0; i < N; i += 4) {
        const double du = to_curve(upper, M, xy[2 * i], xy[2 * i + 1]);
        const double dl = to_curve(lower, M, xy[2 * i], xy[2 * i + 1]);
        n_upper += du < dl;
        const double d = du < dl ? du : dl;
        sq += d * d;
    }
    const double rms = sqrt(sq / (N / 4));
    /* the distance to the curve of 2-D Gaussian noise of sd 0.1 across a smooth
     * curve is about its one-dimensional part: rms ~ 0.1 */
    printf("moons: %d of %d nearest the upper arc, rms distance to the arcs %.4f\n", n_upper, N / 4, rms);
    CHECK(abs(n_upper - N / 8) < 60, "moons: %d of %d points on the upper arc, expected half", n_upper, N / 4);
    CHECK(rms > 0.085 && rms < 0.115, "moons: rms distance to the arcs %.4f, expected about 0.1", rms);
    double mx, sx, my, sy;
    mean_std(xy, N, 0, &mx, &sx);
    mean_std(xy, N, 1, &my, &sy);
    CHECK(fabs(mx) < 0.05 && fabs(my) < 0.05, "moons: mean (%.3f, %.3f), expected about 0", mx, my);
}

static void check_swissroll(const float *xy)
{
    /* (a cos a, a sin a) / 5, a in [1.5 pi, 4.5 pi], noise 0.05 */
    enum { M = 6000 };
    static double curve[2 * M];
    for (int i = 0; i < M; i++) {
        const double a = 1.5 * PI * (1 + 2.0 * i / (M - 1));
        curve[2 * i] = a * cos(a) / 5, curve[2 * i + 1] = a * sin(a) / 5;
    }
    double sq = 0;
    for (int i = 0; i < N; i += 8) {
        const double d = to_curve(curve, M, xy[2 * i], xy[2 * i + 1]);
        sq += d * d;
    }
    const double rms = sqrt(sq / (N / 8));
    CHECK(rms > 0.04 && rms < 0.06, "swissroll: rms distance to the spiral %.4f, expected about 0.05", rms);
    /* a is uniform: the radius |p| = a / 5 is uniform on [0.3 pi, 0.9 pi] */
    double r_sum = 0;
    for (int i = 0; i < N; i++) r_sum += hypot(xy[2 * i], xy[2 * i + 1]);
    CHECK(fabs(r_sum / N - 0.6 * PI) < 0.03, "swissroll: mean radius %.3f, expected 0.6 pi", r_sum / N);
}

static void check_gaussians8(const float *xy)
{
    int count[8] = {0};
    double sq = 0;
    for (int i = 0; i < N; i++) {
        const int k = (int)lround(atan2(xy[2 * i + 1], xy[2 * i]) / (PI / 4) + 8) % 8;
        count[k]++;
        const double dx = xy[2 * i] - 2 * cos(k * PI / 4), dy = xy[2 * i + 1] - 2 * sin(k * PI / 4);
        sq += dx * dx + dy * dy;
    }
    const double sd = sqrt(sq / (2.0 * N));
    CHECK(sd > 0.095 && sd < 0.105, "gaussians8: sd around the centres %.4f, expected 0.1", sd);
    for (int k = 0; k < 8; k++) CHECK(abs(count[k] - N / 8) < 120, "gaussians8: %d points at centre %d", count[k], k);
}

static void check_checkerboard(const float *xy)
{
    int count[4][4] = {{0}};
    for (int i = 0; i < N; i++) {
        const double x = xy[2 * i], y = xy[2 * i + 1];
        CHECK(x >= -2 && x < 2 && y >= -2 && y < 2, "checkerboard: (%g, %g) outside [-2, 2)^2", x, y);
        const int cx = (int)floor(x), cy = (int)floor(y);
        CHECK(((cx + cy) % 2 + 2) % 2 == 0, "checkerboard: (%g, %g) in a square whose corner sum is odd", x, y);
        count[cy + 2][cx + 2]++;
    }
    for (int j = 0; j < 4; j++)
        for (int i = 0; i < 4; i++)
            if ((i + j) % 2 == 0) CHECK(abs(count[j][i] - N / 8) < 120, "checkerboard: %d points in square (%d, %d)",
                                       count[j][i], i - 2, j - 2);
}

static void check_rings(const float *xy)
{
    static const double radius[3] = {0.6, 1.3, 2.0};
    int count[3] = {0};
    double sq = 0;
    for (int i = 0; i < N; i++) {
        const double r = hypot(xy[2 * i], xy[2 * i + 1]);
        int k = 0;
        for (int j = 1; j < 3; j++)
            if (fabs(r - radius[j]) < fabs(r - radius[k])) k = j;
        count[k]++;
        sq += (r - radius[k]) * (r - radius[k]);
    }
    CHECK(sqrt(sq / N) > 0.045 && sqrt(sq / N) < 0.055, "rings: radial sd %.4f, expected 0.05", sqrt(sq / N));
    /* in proportion to the circumference: 0.6 : 1.3 : 2.0 */
    for (int k = 0; k < 3; k++)
        CHECK(fabs(count[k] - N * radius[k] / 3.9) < 150, "rings: %d points on ring %d, expected %.0f", count[k], k,
              N * radius[k] / 3.9);
}

static void check_sets(void)
{
    static float a[2 * N], b[2 * N];
    for (int k = 0; k < DDPM_POINTS_COUNT; k++) {
        ddpm_points_kind kind;
        CHECK(ddpm_points_parse(ddpm_points_name(k), &kind, NULL) && kind == (ddpm_points_kind)k, "name %d", k);
        ddpm_points_generate(k, N, 0, a);
        ddpm_points_generate(k, N, 0, b);
        CHECK(memcmp(a, b, sizeof a) == 0, "%s does not repeat for a seed", ddpm_points_name(k));
        ddpm_points_generate(k, N, 1, b);
        CHECK(memcmp(a, b, sizeof a) != 0, "%s: seeds 0 and 1 gave the same points", ddpm_points_name(k));
        for (int i = 0; i < 2 * N; i++)
            CHECK(isfinite(a[i]) && fabsf(a[i]) < 3.5f, "%s: value %g outside the view", ddpm_points_name(k), a[i]);
        switch (k) {
        case DDPM_POINTS_MOONS: check_moons(a); break;
        case DDPM_POINTS_SWISSROLL: check_swissroll(a); break;
        case DDPM_POINTS_GAUSSIANS8: check_gaussians8(a); break;
        case DDPM_POINTS_CHECKERBOARD: check_checkerboard(a); break;
        case DDPM_POINTS_RINGS: check_rings(a); break;
        }
    }
    ddpm_error err = {0};
    ddpm_points_kind kind;
    CHECK(!ddpm_points_parse("spiral", &kind, &err) && strstr(err.msg, "moons"), "unknown set: %s", err.msg);
    printf("the five built-in sets follow their definitions\n");
}

/* As a dataset: the splits, samples of (2, 1, 1). */
static void check_dataset(void)
{
    ddpm_error err = {0};
    ddpm_dataset tr, held, all;
    CHECK(ddpm_dataset_open(&tr, "rings", DDPM_SPLIT_TRAIN, &err) == 0, "%s", err.msg);
    CHECK(ddpm_dataset_open(&held, "rings", DDPM_SPLIT_HELDOUT, &err) == 0, "%s", err.msg);
    CHECK(ddpm_dataset_open(&all, "rings", DDPM_SPLIT_ALL, &err) == 0, "%s", err.msg);
    CHECK(tr.n == DDPM_POINTS_TRAIN && held.n == DDPM_POINTS_HELDOUT && all.n == tr.n + held.n, "split sizes");
    CHECK(tr.channels == 2 && tr.height == 1 && tr.width == 1 && tr.points && !tr.bytes, "a point set's shape");
    CHECK(memcmp(all.points, tr.points, sizeof(float) * 2 * tr.n) == 0 &&
          memcmp(all.points + 2 * tr.n, held.points, sizeof(float) * 2 * held.n) == 0, "all = train, then held-out");
    float got[6];
    uint32_t idx[3] = {5, 0, DDPM_POINTS_TRAIN - 1};
    ddpm_dataset_gather(&tr, idx, 3, got, NULL);
    for (int i = 0; i < 3; i++)
        CHECK(got[2 * i] == tr.points[2 * idx[i]] && got[2 * i + 1] == tr.points[2 * idx[i] + 1], "gather %d", i);
    CHECK(ddpm_dataset_spec_is_points("rings") && !ddpm_dataset_spec_is_points("digits"), "spec kinds");
    ddpm_dataset_free(&tr), ddpm_dataset_free(&held), ddpm_dataset_free(&all);
    float bad[4] = {0, 1, NAN, 2};
    CHECK(ddpm_dataset_from_points(&tr, "x", bad, 2, 2, &err) == DDPM_ERR && strstr(err.msg, "not finite"),
          "NaN points: %s", err.msg);
}

static void write_text(const char *path, const char *text)
{
    ddpm_error err = {0};
    CHECK(ddpm_write_file_atomic(path, text, strlen(text), &err) == 0, "%s", err.msg);
}

static void check_csv(void)
{
    char dir[] = "/tmp/ddpm_test_points_XXXXXX";
    CHECK(mkdtemp(dir), "mkdtemp");
    char path[256];
    ddpm_error err = {0};
    float *pts;
    size_t n;
    int D;
    /* a round trip keeps every float exactly, with a comment and a header */
    float xy[6] = {0.1f, -2.5f, 1e-7f, 3.25f, -0.333333f, 1234.5f};
    snprintf(path, sizeof path, "%s/a.csv", dir);
    CHECK(ddpm_points_write_csv(path, xy, 3, 2, "ddpm sample: dataset=moons, steps=50", &err) == 0, "%s", err.msg);
    CHECK(ddpm_points_read_csv(path, &pts, &n, &D, &err) == 0, "%s", err.msg);
    CHECK(n == 3 && D == 2 && memcmp(pts, xy, sizeof xy) == 0, "round trip");
    free(pts);
    char tag[64];
    CHECK(ddpm_points_csv_tag(path, "dataset", tag, sizeof tag) && strcmp(tag, "moons") == 0, "tag: '%s'", tag);
    CHECK(!ddpm_points_csv_tag(path, "model", tag, sizeof tag), "a tag that is not there");
    /* spaces, tabs, blank lines, comments, CRLF, a header, three values */
    snprintf(path, sizeof path, "%s/b.csv", dir);
    write_text(path, "a b c\r\n\n# note\n1 2\t3\r\n 4,5 ,6 # trailing\n");
    CHECK(ddpm_points_read_csv(path, &pts, &n, &D, &err) == 0, "%s", err.msg);
    CHECK(n == 2 && D == 3 && pts[0] == 1 && pts[5] == 6, "mixed separators: n %zu D %d", n, D);
    free(pts);
    const char *bad[][2] = {
        {"1,2\n3\n", "line 2 has 1 values"},
        {"1,2\nx,y\n", "line 2"},
        {"1,nan\n", "finite"},
        {"1,1e9\n", "finite"},
        {"# only a comment\n", "no points"},
        {"", "no points"},
        {"1,2,", ""},
        {"1,2x\n", "line 1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(path, sizeof path, "%s/bad%zu.csv", dir, i);
        write_text(path, bad[i][0]);
        const int rc = ddpm_points_read_csv(path, &pts, &n, &D, &err);
        if (i == 6) { /* a trailing separator is just a separator */
            CHECK(rc == 0 && n == 1 && D == 2, "trailing comma: %s", err.msg);
            free(pts);
            continue;
        }
        CHECK(rc == DDPM_ERR && strstr(err.msg, bad[i][1]) && strstr(err.msg, path), "bad csv %zu: %s", i, err.msg);
    }
    snprintf(path, sizeof path, "%s/nul.csv", dir);
    CHECK(ddpm_write_file_atomic(path, "1,2\n\0\n", 6, &err) == 0, "%s", err.msg);
    CHECK(ddpm_points_read_csv(path, &pts, &n, &D, &err) == DDPM_ERR && strstr(err.msg, "NUL"), "NUL: %s", err.msg);
    /* a file is a dataset too */
    snprintf(path, sizeof path, "%s/a.csv", dir);
    ddpm_dataset ds;
    CHECK(ddpm_dataset_open(&ds, path, DDPM_SPLIT_TRAIN, &err) == 0 && ds.n == 3 && ds.channels == 2, "%s", err.msg);
    ddpm_dataset_free(&ds);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "cleanup");
    printf("point files: round trip, separators, comments, and bad input named\n");
}

static void check_energy_distance(void)
{
    ddpm_error err = {0};
    ddpm_dataset tr, held;
    CHECK(ddpm_dataset_open(&tr, "moons", DDPM_SPLIT_TRAIN, &err) == 0, "%s", err.msg);
    CHECK(ddpm_dataset_open(&held, "moons", DDPM_SPLIT_HELDOUT, &err) == 0, "%s", err.msg);
    enum { S = 2000, SETS = 5 };
    static float sets[2 * S * SETS];
    /* real points of an independent draw: near the floor */
    ddpm_points_generate(DDPM_POINTS_MOONS, S * SETS, 77, sets);
    ddpm_points_score real;
    CHECK(ddpm_points_score_samples(sets, S, SETS, 2, &tr, &held, &real, &err) == 0, "%s", err.msg);
    /* N(0, I), what an untrained model's x_T is: far above it */
    ddpm_rng r;
    ddpm_rng_init(&r, 5, 0);
    ddpm_rng_normal_fill(&r, sets, 2 * S * SETS);
    ddpm_points_score gauss;
    CHECK(ddpm_points_score_samples(sets, S, SETS, 2, &tr, &held, &gauss, &err) == 0, "%s", err.msg);
    /* and real points moved by 0.3: clearly off */
    ddpm_points_generate(DDPM_POINTS_MOONS, S * SETS, 78, sets);
    for (int i = 0; i < S * SETS; i++) sets[2 * i] += 0.3f;
    ddpm_points_score shifted;
    CHECK(ddpm_points_score_samples(sets, S, SETS, 2, &tr, &held, &shifted, &err) == 0, "%s", err.msg);
    printf("energy distance / floor: real points %.2f (sets %.2f..%.2f), shifted by 0.3: %.1f, N(0, I): %.0f\n",
           real.ratio, real.ed_min / real.floor, real.ed_max / real.floor, shifted.ratio, gauss.ratio);
    CHECK(real.floor_sets == 10 && real.sets == SETS && real.n == S && real.n_ref == DDPM_POINTS_HELDOUT, "score shape");
    CHECK(real.ratio > 0.4 && real.ratio < 2.0, "real points scored %.2f x the floor", real.ratio);
    CHECK(shifted.ratio > 10, "points moved by 0.3 scored only %.2f x the floor", shifted.ratio);
    CHECK(gauss.ratio > 100, "N(0, I) scored only %.2f x the floor", gauss.ratio);
    /* the definition: 0 for identical clouds, symmetric, positive otherwise */
    CHECK(ddpm_energy_distance(held.points, S, held.points, S, 2) == 0.0, "a cloud against itself");
    const double ab = ddpm_energy_distance(tr.points, 500, held.points, 700, 2);
    const double ba = ddpm_energy_distance(held.points, 700, tr.points, 500, 2);
    CHECK(ab > 0 && fabs(ab - ba) < 1e-12, "symmetry: %g vs %g", ab, ba);
    /* against a brute-force double loop of the formula */
    double xy = 0, xx = 0, yy = 0;
    const float *a = tr.points, *b = held.points;
#define D2(p, i, q, j) hypot((double)p[2 * (i)] - q[2 * (j)], (double)p[2 * (i) + 1] - q[2 * (j) + 1])
    for (int i = 0; i < 50; i++)
        for (int j = 0; j < 60; j++) xy += D2(a, i, b, j) / (50.0 * 60);
    for (int i = 0; i < 50; i++)
        for (int j = 0; j < 50; j++) xx += D2(a, i, a, j) / (50.0 * 50);
    for (int i = 0; i < 60; i++)
        for (int j = 0; j < 60; j++) yy += D2(b, i, b, j) / (60.0 * 60);
#undef D2
    CHECK_CLOSE(ddpm_energy_distance(a, 50, b, 60, 2), 2 * xy - xx - yy, 1e-9, 1e-12, "the formula");
    CHECK(ddpm_points_score_samples(sets, S, 1, 3, &tr, &held, &real, &err) == DDPM_ERR, "points of 3 values vs 2");
    ddpm_dataset_free(&tr), ddpm_dataset_free(&held);
}

int main(void)
{
    check_sets();
    check_dataset();
    check_csv();
    check_energy_distance();
    TEST_PASS("test_points");
}
