/* test_quality.c: the eigendecomposition and matrix square root; the
 * Frechet distance (zero against itself, symmetric, the closed form for
 * diagonal Gaussians, numpy's value for a random pair); the scores'
 * formulas on hand-made classifier outputs; and, with the bundled
 * classifier, high scores for real digits and poor ones for noise and for
 * one digit repeated. */
#include <string.h>

#include "check.h"
#include "ddpm/quality.h"
#include "ddpm/rng.h"

/* ---- linear algebra ------------------------------------------------------------ */

static double *random_matrix(int rows, int cols, uint64_t seed)
{
    double *m = malloc(sizeof(double) * (size_t)rows * cols);
    ddpm_rng r;
    ddpm_rng_init(&r, seed, 0);
    for (int i = 0; i < rows * cols; i++) m[i] = ddpm_rng_normal(&r);
    return m;
}

/* out (n, n) = B (n, k) B^T: symmetric PSD of rank <= k */
static double *gram(const double *B, int n, int k)
{
    double *out = calloc((size_t)n * n, sizeof(double));
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            for (int l = 0; l < k; l++) out[i * n + j] += B[i * k + l] * B[j * k + l];
    return out;
}

static double max_abs(const double *a, int n)
{
    double m = 0;
    for (int i = 0; i < n; i++) m = fmax(m, fabs(a[i]));
    return m;
}

static void check_eigen(int n, uint64_t seed)
{
    double *a = random_matrix(n, n, seed);
    for (int i = 0; i < n; i++) /* symmetrise */
        for (int j = 0; j < i; j++) a[i * n + j] = a[j * n + i];
    double *values = malloc(sizeof(double) * n), *V = malloc(sizeof(double) * n * n);
    int sweeps = ddpm_sym_eigen(a, n, values, V);
    const double scale = max_abs(a, n * n);
    double worst_recon = 0, worst_orth = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0) CHECK(values[i - 1] <= values[i], "eigenvalues not ascending at %d", i);
        for (int j = 0; j < n; j++) {
            double recon = 0, dot = 0;
            for (int k = 0; k < n; k++) {
                recon += V[i * n + k] * values[k] * V[j * n + k];
                dot += V[k * n + i] * V[k * n + j];
            }
            worst_recon = fmax(worst_recon, fabs(recon - a[i * n + j]));
            worst_orth = fmax(worst_orth, fabs(dot - (i == j)));
        }
    }
    printf("eigen n=%d: %d sweeps, |V L V^T - A| %.2g, |V^T V - I| %.2g\n", n, sweeps, worst_recon,
           worst_orth);
    CHECK(sweeps < 60, "Jacobi did not converge");
    CHECK(worst_recon < 1e-12 * n * scale, "reconstruction error %g", worst_recon);
    CHECK(worst_orth < 1e-12 * n, "eigenvectors not orthonormal: %g", worst_orth);
    free(a), free(values), free(V);
}

static void check_known_spectrum(void)
{
    /* Q diag(1..6) Q^T for the orthogonal Q of a random symmetric matrix */
    enum { N = 6 };
    double *s = random_matrix(N, N, 9);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < i; j++) s[i * N + j] = s[j * N + i];
    double vals[N], Q[N * N], a[N * N], got[N], V[N * N];
    ddpm_sym_eigen(s, N, vals, Q);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            a[i * N + j] = 0;
            for (int k = 0; k < N; k++) a[i * N + j] += Q[i * N + k] * (k + 1.0) * Q[j * N + k];
        }
    ddpm_sym_eigen(a, N, got, V);
    for (int k = 0; k < N; k++) CHECK_CLOSE(got[k], k + 1.0, 0, 1e-13, "eigenvalue %d", k);
    /* a diagonal matrix is already converged: zero sweeps, values sorted */
    double d[9] = {3, 0, 0, 0, -1, 0, 0, 0, 2}, dv[3], dV[9];
    CHECK(ddpm_sym_eigen(d, 3, dv, dV) == 0, "a diagonal matrix needed rotations");
    CHECK(dv[0] == -1 && dv[1] == 2 && dv[2] == 3, "diagonal eigenvalues %g %g %g", dv[0], dv[1], dv[2]);
    free(s);
}

static void check_sqrtm(int n, int rank)
{
    double *B = random_matrix(n, rank, 100 + n + rank);
    double *a = gram(B, n, rank), *root = malloc(sizeof(double) * n * n);
    ddpm_sym_sqrtm(a, n, root);
    double worst = 0, worst_sym = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double sq = 0;
            for (int k = 0; k < n; k++) sq += root[i * n + k] * root[k * n + j];
            worst = fmax(worst, fabs(sq - a[i * n + j]));
            worst_sym = fmax(worst_sym, fabs(root[i * n + j] - root[j * n + i]));
        }
    const double scale = max_abs(a, n * n);
    printf("sqrtm n=%d rank %d: |R R - A| = %.2g (max |A| %.3g)\n", n, rank, worst, scale);
    CHECK(worst < 1e-10 * scale, "the square root does not square back: %g", worst);
    CHECK(worst_sym == 0, "the square root is not symmetric");
    free(B), free(a), free(root);
}

/* ---- Frechet distance ---------------------------------------------------------------- */

static ddpm_feature_stats diagonal(const double *mean, const double *var, int n)
{
    ddpm_feature_stats st;
    ddpm_feature_stats_init(&st, n);
    for (int i = 0; i < n; i++) {
        st.mean[i] = mean[i];
        st.cov[i * n + i] = var[i];
    }
    st.n = 100;
    return st;
}

static void check_frechet(void)
{
    /* hand-checked statistics: rows (1,2), (3,4), (5,0) */
    const float f[6] = {1, 2, 3, 4, 5, 0};
    ddpm_feature_stats st;
    ddpm_feature_stats_compute(&st, f, 3, 2);
    CHECK(st.mean[0] == 3 && st.mean[1] == 2, "mean %g %g", st.mean[0], st.mean[1]);
    CHECK(st.cov[0] == 4 && st.cov[3] == 4 && st.cov[1] == -2 && st.cov[2] == -2,
          "covariance %g %g %g %g (expected 4 -2 -2 4)", st.cov[0], st.cov[1], st.cov[2], st.cov[3]);
    ddpm_feature_stats_free(&st);

    /* diagonal Gaussians: |m1 - m2|^2 + sum (sqrt v1 - sqrt v2)^2 */
    const double m1[4] = {0, 1, 2, 3}, m2[4] = {0.5, 1, 1, 3}, v1[4] = {1, 4, 9, 0.25},
                 v2[4] = {4, 4, 1, 1};
    ddpm_feature_stats a = diagonal(m1, v1, 4), b = diagonal(m2, v2, 4);
    double expected = 0.25 + 1.0;
    for (int i = 0; i < 4; i++) expected += pow(sqrt(v1[i]) - sqrt(v2[i]), 2);
    CHECK_CLOSE(ddpm_frechet_distance(&a, &b), expected, 1e-12, 1e-12, "diagonal closed form");
    CHECK_CLOSE(ddpm_frechet_distance(&b, &a), expected, 1e-12, 1e-12, "diagonal closed form, swapped");
    CHECK(ddpm_frechet_distance(&a, &a) < 1e-12, "FD(a, a) = %g", ddpm_frechet_distance(&a, &a));
    ddpm_feature_stats_free(&a);
    ddpm_feature_stats_free(&b);

    /* random 128-d feature sets: ~0 against themselves, symmetric */
    enum { N = 400, D = 128 };
    float *fa = malloc(sizeof(float) * N * D), *fb = malloc(sizeof(float) * N * D);
    ddpm_rng r;
    ddpm_rng_init(&r, 77, 0);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++) {
            const double z = ddpm_rng_normal(&r);
            fa[i * D + j] = (float)(z * (1 + j % 5) + (j % 3));
            fb[i * D + j] = (float)(0.8 * z * (1 + j % 7) + ddpm_rng_normal(&r) * 0.5 + (j % 2));
        }
    ddpm_feature_stats sa, sb;
    ddpm_feature_stats_compute(&sa, fa, N, D);
    ddpm_feature_stats_compute(&sb, fb, N, D);
    double trace = 0;
    for (int j = 0; j < D; j++) trace += sa.cov[j * D + j];
    const double self = ddpm_frechet_distance(&sa, &sa);
    const double ab = ddpm_frechet_distance(&sa, &sb), ba = ddpm_frechet_distance(&sb, &sa);
    printf("FD of a set against itself %.3g (trace of its covariance %.1f); FD(a,b) %.9g, FD(b,a) %.9g\n",
           self, trace, ab, ba);
    CHECK(self < 1e-9 * trace, "FD(a, a) = %g", self);
    CHECK_CLOSE(ab, ba, 1e-9, 0, "FD is not symmetric");
    CHECK(ab > 1.0, "FD of different sets is %g", ab);
    ddpm_feature_stats_free(&sa);
    ddpm_feature_stats_free(&sb);
    free(fa);
    free(fb);
}

/* numpy cross-check, for full covariances that do not commute:
 *   B_k[i][j] = sin(k + 3i + 7j + ij) (5x5), S1 = B_1 B_1^T / 4,
 *   S2 = B_2 B_2^T / 4 + 0.1 I, mu1 = (i / 5), mu2 = (cos i).
 * numpy (float64) gives 7.293220532444794 both through eigh (sqrtm of S1,
 * then the eigenvalues of S1^1/2 S2 S1^1/2) and through eigvals(S1 S2). */
#define NUMPY_FD 7.293220532444794
static void check_frechet_numpy(void)
{
    enum { N = 5 };
    double B1[N * N], B2[N * N];
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            B1[i * N + j] = sin(1.0 + 3 * i + 7 * j + i * j);
            B2[i * N + j] = sin(2.0 + 3 * i + 7 * j + i * j);
        }
    ddpm_feature_stats a, b;
    ddpm_feature_stats_init(&a, N);
    ddpm_feature_stats_init(&b, N);
    double *g1 = gram(B1, N, N), *g2 = gram(B2, N, N);
    for (int i = 0; i < N; i++) {
        a.mean[i] = i / 5.0;
        b.mean[i] = cos((double)i);
        for (int j = 0; j < N; j++) {
            a.cov[i * N + j] = g1[i * N + j] / 4;
            b.cov[i * N + j] = g2[i * N + j] / 4 + (i == j ? 0.1 : 0.0);
        }
    }
    const double fd = ddpm_frechet_distance(&a, &b);
    printf("FD of the numpy case: %.16g\n", fd);
    CHECK_CLOSE(fd, NUMPY_FD, 1e-10, 0, "FD against numpy");
    free(g1), free(g2);
    ddpm_feature_stats_free(&a);
    ddpm_feature_stats_free(&b);
}

/* ---- scores ------------------------------------------------------------------------ */

static void check_score_formulas(void)
{
    enum { N = 20, K = DDPM_CLASSIFIER_CLASSES };
    float p[N * K];
    ddpm_quality q;
    /* sure and balanced: two of each digit, one-hot */
    memset(p, 0, sizeof p);
    for (int i = 0; i < N; i++) p[i * K + i % K] = 1.0f;
    ddpm_quality_from_outputs(p, NULL, N, NULL, &q);
    CHECK_CLOSE(q.confidence, 1.0, 0, 1e-12, "confidence");
    CHECK_CLOSE(q.entropy, log(10.0), 0, 1e-12, "entropy");
    CHECK_CLOSE(q.inception_score, 10.0, 1e-12, 0, "IS");
    CHECK(q.fd == -1.0 && q.n == N, "fd without a reference");
    /* sure, one digit only */
    memset(p, 0, sizeof p);
    for (int i = 0; i < N; i++) p[i * K + 4] = 1.0f;
    ddpm_quality_from_outputs(p, NULL, N, NULL, &q);
    CHECK(q.entropy == 0.0, "entropy of one label %g", q.entropy);
    CHECK_CLOSE(q.inception_score, 1.0, 1e-12, 0, "IS of one label");
    /* undecided: uniform probabilities */
    for (int i = 0; i < N * K; i++) p[i] = 0.1f;
    ddpm_quality_from_outputs(p, NULL, N, NULL, &q);
    CHECK_CLOSE(q.confidence, 0.1, 1e-6, 0, "confidence of uniform");
    CHECK_CLOSE(q.inception_score, 1.0, 1e-6, 0, "IS of uniform");
    /* half sure of 0..4, half unsure: IS = exp(mean KL) by hand */
    memset(p, 0, sizeof p);
    for (int i = 0; i < N; i++) {
        if (i < N / 2) {
            p[i * K + i % 5] = 1.0f;
        } else {
            for (int k = 0; k < K; k++) p[i * K + k] = 0.1f;
        }
    }
    /* p(y) = 0.5 * 0.2 + 0.5 * 0.1 = 0.15 for y < 5, 0.05 otherwise;
     * KL(sure) = ln(1 / 0.15); KL(uniform) = 0.5 ln(0.1/0.15) + 0.5 ln(0.1/0.05) */
    const double kl = 0.5 * log(1 / 0.15) + 0.5 * (0.5 * log(0.1 / 0.15) + 0.5 * log(0.1 / 0.05));
    ddpm_quality_from_outputs(p, NULL, N, NULL, &q);
    CHECK_CLOSE(q.inception_score, exp(kl), 1e-6, 0, "IS by hand");
    CHECK_CLOSE(q.confidence, 0.55, 1e-6, 0, "confidence by hand");
}

static void check_real_and_bad(void)
{
    char path[4096];
    ddpm_classifier_default_path(path, sizeof path);
    ddpm_classifier c;
    ddpm_error err = {0};
    CHECK(ddpm_classifier_load(&c, path, &err) == 0, "%s", err.msg);
    ddpm_quality_reference ref;
    CHECK(ddpm_quality_reference_init(&ref, &c, NULL, &err) == 0, "%s", err.msg);
    CHECK(ref.heldout.n == 1000 && ref.heldout.dim == DDPM_CLASSIFIER_FEATURES, "reference statistics");

    ddpm_quality floor;
    ddpm_quality_floor(&ref, 1000, &floor);
    printf("floor (1000 training digits): confidence %.4f entropy %.4f IS %.3f FD %.3f\n", floor.confidence,
           floor.entropy, floor.inception_score, floor.fd);
    CHECK(floor.n == 1000, "floor n");
    CHECK(floor.confidence > 0.95, "real digits' confidence %g", floor.confidence);
    CHECK(floor.entropy > 2.25, "real digits' label entropy %g", floor.entropy);
    CHECK(floor.inception_score > 8.5, "real digits' IS %g", floor.inception_score);
    double trace = 0;
    for (int i = 0; i < ref.heldout.dim; i++) trace += ref.heldout.cov[i * ref.heldout.dim + i];
    printf("  (trace of the held-out feature covariance: %.1f)\n", trace);
    CHECK(floor.fd > 0 && floor.fd < 0.05 * trace, "real digits' FD %g vs total variance %g", floor.fd, trace);
    ddpm_quality fewer;
    ddpm_quality_floor(&ref, 200, &fewer);
    printf("floor (200 training digits): FD %.3f\n", fewer.fd);
    CHECK(fewer.fd > floor.fd, "FD's small-sample bias should grow as n shrinks: %g at 200 vs %g at 1000",
          fewer.fd, floor.fd);
    /* the floor's digits are the evenly strided i * 9000 / n */
    {
        enum { NF = 100 };
        uint32_t idx[NF];
        for (int i = 0; i < NF; i++) idx[i] = (uint32_t)(i * 90);
        float *digits = malloc(sizeof(float) * NF * 784);
        ddpm_dataset_gather(&ref.train, idx, NF, digits, NULL);
        ddpm_quality direct, f100;
        ddpm_quality_score(&ref, digits, NF, &direct);
        ddpm_quality_floor(&ref, NF, &f100);
        CHECK(direct.fd == f100.fd && direct.confidence == f100.confidence, "the floor of 100 is not digits 0, 90, 180, ...");
        free(digits);
    }
    /* a floor larger than the training split uses all of it (shown on a split cut to 50 digits) */
    const size_t full = ref.train.n;
    ref.train.n = 50;
    ddpm_quality capped;
    ddpm_quality_floor(&ref, 80, &capped);
    ref.train.n = full;
    CHECK(capped.n == 50, "a floor of 80 from 50 digits scored %zu", capped.n);

    enum { NB = 300, P = 784 };
    float *x = malloc(sizeof(float) * NB * P);
    ddpm_rng r;
    ddpm_rng_init(&r, 5, 0);
    for (int i = 0; i < NB * P; i++) x[i] = (float)(2 * ddpm_rng_uniform(&r) - 1);
    ddpm_quality noise;
    ddpm_quality_score(&ref, x, NB, &noise);
    printf("uniform noise: confidence %.4f entropy %.4f IS %.3f FD %.1f\n", noise.confidence, noise.entropy,
           noise.inception_score, noise.fd);
    CHECK(noise.fd > 20 * floor.fd, "noise FD %g is not far above the floor %g", noise.fd, floor.fd);
    CHECK(noise.inception_score < 3, "noise IS %g", noise.inception_score);

    for (int i = 0; i < NB; i++) ddpm_dataset_images(&ref.train, 7, 1, x + (size_t)i * P);
    ddpm_quality same;
    ddpm_quality_score(&ref, x, NB, &same);
    printf("one digit x %d: confidence %.4f entropy %.4f IS %.3f FD %.1f\n", NB, same.confidence, same.entropy,
           same.inception_score, same.fd);
    CHECK(same.entropy == 0.0, "one repeated digit has label entropy %g", same.entropy);
    CHECK_CLOSE(same.inception_score, 1.0, 1e-4, 0, "IS of one repeated digit");
    CHECK(same.fd > 10 * floor.fd, "one repeated digit: FD %g vs floor %g", same.fd, floor.fd);
    free(x);
    ddpm_quality_reference_free(&ref);
    ddpm_classifier_free(&c);
}

int main(void)
{
    check_eigen(7, 1);
    check_eigen(128, 2);
    check_known_spectrum();
    check_sqrtm(64, 64);
    check_sqrtm(64, 10);
    check_frechet();
    check_frechet_numpy();
    check_score_formulas();
    check_real_and_bad();
    TEST_PASS("test_quality");
}
