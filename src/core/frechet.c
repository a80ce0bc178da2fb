/* frechet.c: Gaussian feature statistics, the Frechet distance between two
 * Gaussians, and the symmetric eigendecomposition and square root it needs
 * (see ddpm/quality.h).  All in double; matrices are row-major (n, n). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ddpm/quality.h"

enum { JACOBI_MAX_SWEEPS = 60 };

/* ---- statistics ------------------------------------------------------------ */

void ddpm_feature_stats_init(ddpm_feature_stats *st, int dim)
{
    DDPM_ASSERT(st && dim > 0);
    st->dim = dim;
    st->n = 0;
    st->mean = ddpm_xcalloc((size_t)dim, sizeof(double));
    st->cov = ddpm_xcalloc((size_t)dim * (size_t)dim, sizeof(double));
}

void ddpm_feature_stats_free(ddpm_feature_stats *st)
{
    if (!st) return;
    free(st->mean);
    free(st->cov);
    memset(st, 0, sizeof *st);
}

void ddpm_feature_stats_compute(ddpm_feature_stats *st,
                                const float *features, /* (n, dim) */
                                size_t n, int dim)
{
    DDPM_ASSERT(features && n >= 1);
    ddpm_feature_stats_init(st, dim);
    st->n = n;
    const size_t D = (size_t)dim;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < D; j++) st->mean[j] += features[i * D + j];
    for (size_t j = 0; j < D; j++) st->mean[j] /= (double)n;
    /* two passes (centre, then accumulate) rather than E[xx^T] - mu mu^T,
     * which cancels catastrophically when the mean is large */
    double *centred = ddpm_xmalloc(sizeof(double) * D);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < D; j++) centred[j] = features[i * D + j] - st->mean[j];
        for (size_t j = 0; j < D; j++) {
            double *row = st->cov + j * D;
            for (size_t k = j; k < D; k++) row[k] += centred[j] * centred[k];
        }
    }
    free(centred);
    const double denom = n > 1 ? (double)(n - 1) : 1.0;  /* numpy.cov's default */
    for (size_t j = 0; j < D; j++)
        for (size_t k = j; k < D; k++) {
            st->cov[j * D + k] /= denom;
            st->cov[k * D + j] = st->cov[j * D + k];
        }
}

/* ---- eigendecomposition ------------------------------------------------------ */

int ddpm_sym_eigen(const double *a, int n, double *values, double *vectors)
{
    DDPM_ASSERT(a && values && vectors && n > 0);
    const size_t N = (size_t)n;
    double *A = ddpm_xmalloc(sizeof(double) * N * N);
    for (size_t i = 0; i < N; i++)
        for (size_t j = i; j < N; j++) A[i * N + j] = A[j * N + i] = a[i * N + j];
    double *V = vectors;
    for (size_t i = 0; i < N * N; i++) V[i] = 0.0;
    for (size_t i = 0; i < N; i++) V[i * N + i] = 1.0;

    int sweep = 0;
    for (; sweep < JACOBI_MAX_SWEEPS; sweep++) {
        double off = 0.0;
        for (size_t p = 0; p < N; p++)
            for (size_t q = p + 1; q < N; q++) off += A[p * N + q] * A[p * N + q];
        if (off == 0.0) break;
        for (size_t p = 0; p < N; p++) {
            for (size_t q = p + 1; q < N; q++) {
                const double apq = A[p * N + q], app = A[p * N + p], aqq = A[q * N + q];
                if (apq == 0.0) continue;
                /* After a few sweeps, an element below the rounding of both
                 * diagonal entries it couples is zero for all purposes
                 * (Rutishauser's rule); zeroing it lets `off` reach 0. */
                const double g = 100.0 * fabs(apq);
                if (sweep > 3 && fabs(app) + g == fabs(app) && fabs(aqq) + g == fabs(aqq)) {
                    A[p * N + q] = A[q * N + p] = 0.0;
                    continue;
                }
                /* The rotation J = [c s; -s c] in the (p, q) plane with
                 * (J^T A J)_pq = 0: t = tan(phi) is the smaller root of
                 * t^2 + 2 theta t - 1 = 0, theta = (a_qq - a_pp) / (2 a_pq). */
                const double theta = (aqq - app) / (2.0 * apq);
                double t;
                if (fabs(theta) > 1e150)
                    t = 0.5 / theta;  /* theta^2 would overflow; t ~ 1 / (2 theta) */
                else
                    t = (theta >= 0.0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
                const double c = 1.0 / sqrt(t * t + 1.0), s = t * c;
                for (size_t k = 0; k < N; k++) { /* A <- A J (columns p, q) */
                    const double akp = A[k * N + p], akq = A[k * N + q];
                    A[k * N + p] = c * akp - s * akq;
                    A[k * N + q] = s * akp + c * akq;
                }
                for (size_t k = 0; k < N; k++) { /* A <- J^T A (rows p, q) */
                    const double apk = A[p * N + k], aqk = A[q * N + k];
                    A[p * N + k] = c * apk - s * aqk;
                    A[q * N + k] = s * apk + c * aqk;
                }
                A[p * N + q] = A[q * N + p] = 0.0;  /* zero by construction, up to rounding */
                for (size_t k = 0; k < N; k++) { /* V <- V J */
                    const double vkp = V[k * N + p], vkq = V[k * N + q];
                    V[k * N + p] = c * vkp - s * vkq;
                    V[k * N + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    for (size_t i = 0; i < N; i++) values[i] = A[i * N + i];
    free(A);
    /* ascending order, columns of V along (selection sort: n is small) */
    for (size_t i = 0; i < N; i++) {
        size_t m = i;
        for (size_t j = i + 1; j < N; j++)
            if (values[j] < values[m]) m = j;
        if (m == i) continue;
        double tv = values[i];
        values[i] = values[m];
        values[m] = tv;
        for (size_t k = 0; k < N; k++) {
            double tmp = V[k * N + i];
            V[k * N + i] = V[k * N + m];
            V[k * N + m] = tmp;
        }
    }
    return sweep;
}

void ddpm_sym_sqrtm(const double *a, int n, double *out)
{
    DDPM_ASSERT(a && out && n > 0);
    const size_t N = (size_t)n;
    double *values = ddpm_xmalloc(sizeof(double) * N);
    double *V = ddpm_xmalloc(sizeof(double) * N * N);
    ddpm_sym_eigen(a, n, values, V);
    /* negative eigenvalues of a PSD matrix are rounding: clamp to 0 */
    for (size_t k = 0; k < N; k++) values[k] = sqrt(values[k] > 0.0 ? values[k] : 0.0);
    for (size_t i = 0; i < N; i++)
        for (size_t j = i; j < N; j++) {
            double sum = 0.0;
            for (size_t k = 0; k < N; k++) sum += V[i * N + k] * values[k] * V[j * N + k];
            out[i * N + j] = out[j * N + i] = sum;
        }
    free(V);
    free(values);
}

/* ---- Frechet distance ---------------------------------------------------------- */

/* C (n, n) = A (n, n) . B (n, n) */
static void matmul(double *C, const double *A, const double *B, size_t N)
{
    for (size_t i = 0; i < N; i++) {
        double *c = C + i * N;
        for (size_t j = 0; j < N; j++) c[j] = 0.0;
        for (size_t k = 0; k < N; k++) {
            const double aik = A[i * N + k];
            const double *b = B + k * N;
            for (size_t j = 0; j < N; j++) c[j] += aik * b[j];
        }
    }
}

double ddpm_frechet_distance(const ddpm_feature_stats *a, const ddpm_feature_stats *b)
{
    DDPM_ASSERT(a && b && a->dim == b->dim && a->dim > 0);
    const size_t N = (size_t)a->dim;
    double mean_term = 0.0, trace = 0.0;
    for (size_t i = 0; i < N; i++) {
        const double d = a->mean[i] - b->mean[i];
        mean_term += d * d;
        trace += a->cov[i * N + i] + b->cov[i * N + i];
    }
    /* Tr (S1^1/2 S2 S1^1/2)^1/2: the inner matrix is symmetric PSD, so its
     * square root's trace is the sum of the square roots of its eigenvalues.
     * (It equals Tr (S1 S2)^1/2, the form usually written, without needing
     * the square root of a non-symmetric matrix.) */
    double *root = ddpm_xmalloc(sizeof(double) * N * N);
    double *tmp = ddpm_xmalloc(sizeof(double) * N * N);
    double *inner = ddpm_xmalloc(sizeof(double) * N * N);
    ddpm_sym_sqrtm(a->cov, a->dim, root);
    matmul(tmp, root, b->cov, N);
    matmul(inner, tmp, root, N);
    for (size_t i = 0; i < N; i++) /* symmetrise away the rounding of the products */
        for (size_t j = i + 1; j < N; j++)
            inner[i * N + j] = inner[j * N + i] = 0.5 * (inner[i * N + j] + inner[j * N + i]);
    double *values = root; /* reuse: eigenvalues (n), then vectors in tmp */
    ddpm_sym_eigen(inner, a->dim, values, tmp);
    double trace_sqrt = 0.0;
    for (size_t k = 0; k < N; k++) trace_sqrt += sqrt(values[k] > 0.0 ? values[k] : 0.0);
    free(inner);
    free(tmp);
    free(root);
    const double fd = mean_term + trace - 2.0 * trace_sqrt;
    return fd > 0.0 ? fd : 0.0;  /* -1e-12 from rounding means 0 */
}
