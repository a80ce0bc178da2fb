/* ddpm/quality.h: sample-quality scores from the digit classifier
 * (ddpm/classifier.h), and the Frechet distance with the symmetric
 * eigendecomposition behind it.
 *
 *   ddpm_quality_reference ref;
 *   if (ddpm_quality_reference_init(&ref, &clf, NULL, &err) != 0) ...;  // held-out statistics
 *   ddpm_quality q, floor;
 *   ddpm_quality_score(&ref, images, n, &q);      // images: (n, 1, 28, 28) in [-1, 1]
 *   ddpm_quality_floor(&ref, n, &floor);          // real digits, same n
 *   printf("FD %.2f = %.2fx the real-vs-real floor\n", q.fd, q.fd / floor.fd);
 *   ddpm_quality_reference_free(&ref);
 *
 * The scores of a set of n images, with p(y|x) the classifier's softmax:
 *   confidence       mean over x of max_y p(y|x).  1 = every sample looks like
 *                    some digit without doubt.
 *   entropy          of the histogram of predicted labels argmax_y p(y|x), in
 *                    nats: ln 10 = 2.303 when all ten digits are equally
 *                    frequent, 0 when every sample is the same digit.
 *   inception score  exp(E_x KL(p(y|x) || p(y))), p(y) = E_x p(y|x)
 *                    (Salimans et al. 2016) with this classifier in place of
 *                    Inception: 1 (useless) .. 10 (sure and diverse).
 *   FD               Frechet distance between Gaussians fitted to the
 *                    classifier's 128 penultimate features of the set and of
 *                    the reference (Heusel et al. 2017, "FID" with Inception):
 *                      ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2)
 *                    Lower is better; it is biased upwards for small n.
 *
 * The reference and the floor.  The reference statistics (mean, covariance)
 * are those of the 1,000 held-out bundled digits, which neither the
 * classifier nor any diffusion model trained on.  The floor is the same
 * scores for n REAL digits that the reference did not see: n digits of the
 * TRAINING split, evenly strided (index floor(i * 9000 / n), i = 0..n-1, so
 * i * 9 for the default n = 1,000), scored against the held-out statistics.
 * The floor's FD is what sampling noise alone costs at that sample size, so
 * FD / FD_floor compares like with like; the bundled models aim for at most
 * 2x at n = 1,000.  (The classifier trained on those digits, so the floor's
 * confidence is slightly optimistic; its FD is not, since the reference is
 * held out.)
 *
 * Everything is computed in double.  The matrix square roots come from a
 * cyclic Jacobi eigendecomposition (ddpm_sym_eigen) with eigenvalues below
 * zero, which only rounding produces for these PSD matrices, clamped to 0;
 * an FD of -1e-12 from rounding is reported as 0.
 */
#ifndef DDPM_QUALITY_H
#define DDPM_QUALITY_H

#include "ddpm/classifier.h"
#include "ddpm/dataset.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ddpm_quality {
    size_t n;                /* images scored */
    double confidence;
    double entropy;          /* nats */
    double inception_score;
    double fd;               /* to the reference statistics; -1 when none were given */
} ddpm_quality;

/* ---- Gaussian statistics and the Frechet distance (frechet.c) -------------- */

typedef struct ddpm_feature_stats {
    int dim;
    size_t n;          /* samples the statistics came from */
    double *mean;      /* (dim) owned */
    double *cov;       /* (dim, dim) owned; unbiased, divided by n - 1 (n when n = 1) */
} ddpm_feature_stats;

/* Allocates st for dim-dimensional statistics, zeroed (n = 0). */
void ddpm_feature_stats_init(ddpm_feature_stats *st, int dim);
/* Mean and covariance of features (n, dim), n >= 1; st is initialised here. */
void ddpm_feature_stats_compute(ddpm_feature_stats *st, const float *features, size_t n, int dim);
void ddpm_feature_stats_free(ddpm_feature_stats *st);

/* The Frechet distance between N(a->mean, a->cov) and N(b->mean, b->cov);
 * same dim (asserted).  Symmetric in a and b; >= 0. */
double ddpm_frechet_distance(const ddpm_feature_stats *a, const ddpm_feature_stats *b);

/* Eigendecomposition of the symmetric matrix a (n, n) by cyclic Jacobi
 * rotations (Golub & Van Loan, Matrix Computations, sec. 8.5): values (n)
 * ascending, vectors (n, n) with eigenvector k in COLUMN k, so
 * a = V diag(values) V^T.  Only the upper triangle of a is read.  Returns
 * the number of sweeps used; convergence to full double precision takes
 * about 6-10 sweeps for n = 128. */
int ddpm_sym_eigen(const double *a, int n, double *values, double *vectors);

/* The symmetric square root V diag(sqrt(max(lambda, 0))) V^T of a symmetric
 * positive semi-definite a (n, n) into out (n, n). */
void ddpm_sym_sqrtm(const double *a, int n, double *out);

/* ---- scores (quality.c) ---------------------------------------------------------- */

/* Scores from classifier outputs: probs (n, 10), features (n, 128).  ref may
 * be NULL (fd = -1).  n >= 1. */
void ddpm_quality_from_outputs(const float *probs, const float *features, size_t n,
                               const ddpm_feature_stats *ref, ddpm_quality *out);

typedef struct ddpm_quality_reference {
    const ddpm_classifier *classifier;  /* borrowed; must outlive the reference */
    ddpm_feature_stats heldout;         /* features of the held-out digits */
    ddpm_dataset train;                 /* the training split, where floors come from */
} ddpm_quality_reference;

/* Opens the bundled digits (assets_dir as for ddpm_dataset_open_digits: NULL
 * means $DDPM_ASSETS, else the build's assets) and computes the held-out
 * statistics with classifier c.  DDPM_ERR if the digits cannot be read. */
int ddpm_quality_reference_init(ddpm_quality_reference *ref, const ddpm_classifier *c,
                                const char *assets_dir, ddpm_error *err);
/* The same for any dataset of 28x28 gray images by spec (ddpm_dataset_open:
 * "digits", "fashion", a folder): its held-out split is the FD reference and
 * its training split gives the floors.  Use the classifier trained on it
 * (ddpm_classifier_path_for). */
int ddpm_quality_reference_open(ddpm_quality_reference *ref, const ddpm_classifier *c, const char *spec,
                                ddpm_error *err);
void ddpm_quality_reference_free(ddpm_quality_reference *ref);

/* Scores n >= 1 images (n, 1, 28, 28) in [-1, 1] against the reference. */
void ddpm_quality_score(const ddpm_quality_reference *ref, const float *images, size_t n,
                        ddpm_quality *out);

/* The floor for sample size n: n real training digits, evenly strided (see
 * above), scored like samples.  n larger than the training split uses all
 * of it (out->n says how many). */
void ddpm_quality_floor(const ddpm_quality_reference *ref, size_t n, ddpm_quality *out);

#ifdef __cplusplus
}
#endif
#endif
