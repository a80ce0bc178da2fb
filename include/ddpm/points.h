/* ddpm/points.h: the 2D world's data: built-in point sets, point files, and
 * the distance between two clouds of points.
 *
 *   float xy[2 * 1000];
 *   ddpm_points_generate(DDPM_POINTS_MOONS, 1000, seed, xy);   // (1000, 2)
 *   float *pts; size_t n;
 *   if (ddpm_points_read_csv("shape.csv", &pts, &n, &err) != 0) ...;   // caller frees pts
 *   double ed = ddpm_energy_distance(xy, 1000, pts, n, 2);
 *
 * The sets (every one roughly within [-3, 3] x [-2, 2], so that the forward
 * process's N(0, I) covers them at t = T):
 *   moons         scikit-learn's make_moons (noise 0.05): half the points on
 *                 the upper unit half circle (cos a, sin a), half on the lower
 *                 one (1 - cos a, 0.5 - sin a), a = pi k / (m - 1) evenly
 *                 spaced, plus N(0, 0.05^2) on each coordinate; then
 *                 x' = 2 (x - 0.5), y' = 2 (y - 0.25).
 *   swissroll     scikit-learn's make_swiss_roll seen from its side (x, z):
 *                 a = 1.5 pi (1 + 2 u), u ~ U(0, 1); (a cos a, a sin a) / 5,
 *                 plus N(0, 0.05^2) on each coordinate.
 *   gaussians8    eight Gaussians of standard deviation 0.1 centred on the
 *                 circle of radius 2 at angles k pi / 4.
 *   checkerboard  uniform on the 8 unit squares of [-2, 2]^2 whose corner
 *                 (floor x + floor y) is even.
 *   rings         three concentric circles of radii 0.6, 1.3, 2.0, points
 *                 in proportion to the circumference, radial N(0, 0.05^2).
 * Sets are deterministic in (kind, n, seed); ddpm_dataset_open (dataset.h)
 * makes the 20,000 training points from seed 0 and the 2,000 held-out ones
 * from seed 1.
 *
 * A point file is CSV: one point a line, D numbers separated by commas (or
 * spaces, or tabs), optionally a first line of column names; '#' starts a
 * comment.  Every line must have the same count, 1..DDPM_MLP_MAX_DIM.
 */
#ifndef DDPM_POINTS_H
#define DDPM_POINTS_H

#include "ddpm/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    DDPM_POINTS_MOONS,
    DDPM_POINTS_SWISSROLL,
    DDPM_POINTS_GAUSSIANS8,
    DDPM_POINTS_CHECKERBOARD,
    DDPM_POINTS_RINGS,
    DDPM_POINTS_COUNT
} ddpm_points_kind;

/* Points a built-in set has in its training and held-out splits. */
enum { DDPM_POINTS_TRAIN = 20000, DDPM_POINTS_HELDOUT = 2000 };

/* Largest point file read (bytes) and points taken from one. */
#define DDPM_POINTS_MAX_FILE_BYTES ((size_t)256 << 20)
enum { DDPM_POINTS_MAX_N = 4000000 };

const char *ddpm_points_name(ddpm_points_kind kind);
/* True and *out set when name is a built-in set; err (may be NULL) lists them otherwise. */
bool ddpm_points_parse(const char *name, ddpm_points_kind *out, ddpm_error *err);
/* "moons, swissroll, gaussians8, checkerboard, rings" */
const char *ddpm_points_names_list(void);

/* n points of a built-in set, (n, 2), deterministic in (kind, n, seed). */
void ddpm_points_generate(ddpm_points_kind kind, size_t n, uint64_t seed, float *xy);

/* Reads a point file (see above) into a malloc'ed (n, D) array.  Every
 * number must be finite and within +-1e6. */
int ddpm_points_read_csv(const char *path, float **out, size_t *n, int *D, ddpm_error *err);
/* Writes (n, D) points as CSV, atomically: "# comment" (when not NULL, one
 * line), a header "x,y" (or "x0,x1,..."), then a point a line. */
int ddpm_points_write_csv(const char *path, const float *pts, size_t n, int D, const char *comment,
                          ddpm_error *err);
/* The value of "key=" in the first line of a point file when that line is a
 * '#' comment (e.g. "dataset" in what `ddpm sample` writes), into buf; false
 * when there is none. */
bool ddpm_points_csv_tag(const char *path, const char *key, char *buf, size_t cap);

/* The energy distance between the two clouds (Szekely & Rizzo 2013):
 *   2 E|X - Y| - E|X - X'| - E|Y - Y'|
 * with X from a, Y from b, all pairs, Euclidean norms over D coordinates
 * (the V-statistic: the diagonal zeros of E|X - X'| included).  It is 0 for
 * identical clouds and grows with any difference in distribution; two
 * finite samples of the same distribution score near, not at, 0 (compare
 * against that floor at the same sizes). */
double ddpm_energy_distance(const float *a, size_t na, const float *b, size_t nb, int D);

/* ---- scoring samples against a data set ------------------------------------ */

/* What sets of samples score.  The reference is the data set's held-out
 * points (at most DDPM_POINTS_SCORE_MAX, evenly strided).  Each set of n
 * samples gets its energy distance to the reference, and `ed` is their mean.
 * The floor is what real points cost: the mean energy distance of up to ten
 * disjoint sets of n training points (strided through the training split) to
 * the same reference, so ratio = ed / floor is about 1 for samples as good
 * as real data and grows as they get worse.  One set's distance varies by a
 * factor of two from draw to draw on multi-modal data (how the points split
 * between the modes is binomial), hence the means. */
typedef struct ddpm_points_score {
    size_t n, n_ref;     /* points a set (at most DDPM_POINTS_SCORE_MAX), reference points */
    int sets;            /* sets of samples */
    double ed;           /* mean energy distance of the sample sets to the reference */
    double ed_min, ed_max;
    double floor;        /* mean energy distance of n real points to it */
    int floor_sets;      /* how many sets of real points the floor averages */
    double ratio;        /* ed / floor */
} ddpm_points_score;

enum { DDPM_POINTS_SCORE_MAX = 4000 };

struct ddpm_dataset;
/* Scores `sets` sets of n samples, pts (sets * n, D), against held (the
 * reference) and train (the floor), two splits of one point set with D
 * values a point.  Returns DDPM_ERR when the data are not points of D values
 * or there are no samples. */
int ddpm_points_score_samples(const float *pts, size_t n, int sets, int D, const struct ddpm_dataset *train,
                              const struct ddpm_dataset *held, ddpm_points_score *out, ddpm_error *err);

/* The two halves of ddpm_points_score_samples, for a caller that scores
 * many sample sets against one data set (the visualizer): the floor for sets
 * of n points (how many real sets it averages into *sets), and a score with
 * that floor.  ddpm_points_floor returns a negative number on the errors of
 * ddpm_points_score_samples. */
double ddpm_points_floor(const struct ddpm_dataset *train, const struct ddpm_dataset *held, size_t n, int D,
                         int *sets);
int ddpm_points_score_with_floor(const float *pts, size_t n, int sets, int D, const struct ddpm_dataset *held,
                                 double floor, int floor_sets, ddpm_points_score *out, ddpm_error *err);

#ifdef __cplusplus
}
#endif
#endif
