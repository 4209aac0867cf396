/* Statistics of overfitting: normal distribution, moments, the Deflated Sharpe Ratio and the
 * Probability of Backtest Overfitting by combinatorially symmetric cross-validation. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/opt.h"

#define CB_EULER_GAMMA 0.57721566490153286061
#define CB_SQRT2 1.41421356237309504880
#define CB_SQRT2PI 2.50662827463100050242

double cb_norm_cdf(double x) { return 0.5 * erfc(-x / CB_SQRT2); }

/* A rational first guess (Acklam's published coefficients) refined by one Halley step on
 * erfc, which brings it to double precision. */
double cb_norm_inv(double p)
{
    static const double a[6] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                -2.759285104469687e+02, 1.383577518672690e+02,
                                -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[5] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                -1.556989798598866e+02, 6.680131188771972e+01,
                                -1.328068155288572e+01};
    static const double c[6] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                -2.400758277161838e+00, -2.549732539343734e+00,
                                4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[4] = {7.784695709041462e-03, 3.224671290700398e-01,
                                2.445134137142996e+00, 3.754408661907416e+00};
    if (!(p > 0.0 && p < 1.0))
        return NAN;
    const double plow = 0.02425;
    double x;
    if (p < plow) {
        double q = sqrt(-2 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p <= 1 - plow) {
        double q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    } else {
        double q = sqrt(-2 * log(1 - p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    double e = cb_norm_cdf(x) - p;
    double u = e * CB_SQRT2PI * exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}

void cb_moments(const double *x, size_t n, cb_moments_t *out)
{
    memset(out, 0, sizeof *out);
    out->n = n;
    if (n == 0)
        return;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += x[i];
    double mean = sum / (double)n, m2 = 0, m3 = 0, m4 = 0;
    for (size_t i = 0; i < n; i++) {
        double dev = x[i] - mean, d2 = dev * dev;
        m2 += d2;
        m3 += d2 * dev;
        m4 += d2 * d2;
    }
    out->mean = mean;
    out->stdev = n > 1 ? sqrt(m2 / (double)(n - 1)) : 0;
    m2 /= (double)n;
    m3 /= (double)n;
    m4 /= (double)n;
    out->skew = m2 > 0 ? m3 / pow(m2, 1.5) : 0;
    out->kurtosis = m2 > 0 ? m4 / (m2 * m2) : 3;
}

double cb_expected_max_sharpe(double sharpe_var, size_t trials)
{
    if (trials < 2 || !(sharpe_var >= 0))
        return 0;
    double n = (double)trials;
    double z1 = cb_norm_inv(1 - 1 / n), z2 = cb_norm_inv(1 - 1 / (n * M_E));
    return sqrt(sharpe_var) * ((1 - CB_EULER_GAMMA) * z1 + CB_EULER_GAMMA * z2);
}

double cb_psr(double sharpe, double sharpe0, size_t n_obs, double skew, double kurt)
{
    if (n_obs < 2)
        return NAN;
    double den = 1 - skew * sharpe + (kurt - 1) / 4 * sharpe * sharpe;
    if (!(den > 0))
        return NAN;
    return cb_norm_cdf((sharpe - sharpe0) * sqrt((double)(n_obs - 1)) / sqrt(den));
}

int cb_deflated_sharpe(double sharpe, double sharpe_var, size_t trials, size_t n_obs,
                       double skew, double kurt, cb_dsr_t *out)
{
    if (trials < 1 || n_obs < 2 || !out)
        return CB_EINVAL;
    out->sharpe = sharpe;
    out->trials = trials;
    out->sharpe0 = cb_expected_max_sharpe(sharpe_var, trials);
    out->dsr = cb_psr(sharpe, out->sharpe0, n_obs, skew, kurt);
    out->p_value = 1 - out->dsr;
    return 0;
}

static double sharpe_of(double sum, double sumsq, double n)
{
    double mean = sum / n;
    double var = (sumsq - n * mean * mean) / (n - 1);
    if (var <= 1e-300 * (sumsq > 0 ? sumsq : 1)) {
        if (mean > 0)
            return INFINITY;
        if (mean < 0)
            return -INFINITY;
        return 0;
    }
    return mean / sqrt(var);
}

/* The splits of CSCV, shared by the tasks that evaluate them (cb_opt_parallel). */
typedef struct cscv {
    const double *bsum, *bsq; /* per trial j and block s: [j * S + s] */
    size_t S, N;
    double half_n;
    const uint32_t *masks;    /* every half of the blocks, in increasing order */
    size_t n_splits;
    double *lambda, *is_best, *oos_best; /* per split */
} cscv_t;

enum { CSCV_SPLITS_PER_TASK = 64 };

/* Splits [k0, k0 + CSCV_SPLITS_PER_TASK): the in-sample best's out-of-sample rank as a
 * logit, and its Sharpe ratios in and out of sample. */
static int cscv_task(void *ctx, size_t task)
{
    const cscv_t *c = ctx;
    size_t S = c->S, N = c->N;
    double *is = malloc(2 * N * sizeof *is);
    if (!is)
        return CB_ENOMEM;
    double *oos = is + N;
    size_t k0 = task * CSCV_SPLITS_PER_TASK, k1 = k0 + CSCV_SPLITS_PER_TASK;
    for (size_t k = k0; k < k1 && k < c->n_splits; k++) {
        uint32_t mask = c->masks[k];
        size_t best = 0;
        for (size_t j = 0; j < N; j++) {
            const double *bs = c->bsum + j * S, *bq = c->bsq + j * S;
            double si = 0, qi = 0, so = 0, qo = 0;
            for (size_t s = 0; s < S; s++) {
                if (mask & (1u << s)) {
                    si += bs[s];
                    qi += bq[s];
                } else {
                    so += bs[s];
                    qo += bq[s];
                }
            }
            is[j] = sharpe_of(si, qi, c->half_n);
            oos[j] = sharpe_of(so, qo, c->half_n);
            if (is[j] > is[best])
                best = j;
        }
        double below = 0, ties = 0;
        for (size_t j = 0; j < N; j++) {
            if (j == best)
                continue;
            if (oos[j] < oos[best])
                below++;
            else if (oos[j] == oos[best])
                ties++;
        }
        double rank = 1 + below + ties / 2; /* 1 = worst out of sample */
        double omega = rank / ((double)N + 1);
        c->lambda[k] = log(omega / (1 - omega));
        c->is_best[k] = is[best];
        c->oos_best[k] = oos[best];
    }
    free(is);
    return 0;
}

int cb_pbo_cscv(const double *returns, size_t n_periods, size_t n_trials, size_t partitions,
                cb_pbo_t *out)
{
    return cb_pbo_cscv_jobs(returns, n_periods, n_trials, partitions, 1, out);
}

int cb_pbo_cscv_jobs(const double *returns, size_t n_periods, size_t n_trials,
                     size_t partitions, int jobs, cb_pbo_t *out)
{
    if (!returns || !out || n_trials < 2 || partitions < 2 || partitions % 2 || partitions > 24)
        return CB_EINVAL;
    size_t rows = n_periods / partitions;
    if (rows * partitions / 2 < 2)
        return CB_EINVAL;
    memset(out, 0, sizeof *out);
    size_t S = partitions, N = n_trials, n_splits = 0;
    for (uint32_t mask = 0; mask < (1u << S); mask++)
        n_splits += (size_t)__builtin_popcount(mask) == S / 2;
    cscv_t c = {NULL, NULL, S, N, (double)(rows * S / 2), NULL, n_splits, NULL, NULL, NULL};
    double *bsum = calloc(S * N, sizeof *bsum), *bsq = calloc(S * N, sizeof *bsq);
    uint32_t *masks = malloc(n_splits * sizeof *masks);
    double *per = malloc(3 * n_splits * sizeof *per);
    int rc = 0;
    if (!bsum || !bsq || !masks || !per) {
        rc = CB_ENOMEM;
        goto done;
    }
    for (size_t s = 0; s < S; s++)
        for (size_t t = s * rows; t < (s + 1) * rows; t++)
            for (size_t j = 0; j < N; j++) {
                double r = returns[t * N + j];
                bsum[j * S + s] += r;
                bsq[j * S + s] += r * r;
            }
    n_splits = 0;
    for (uint32_t mask = 0; mask < (1u << S); mask++)
        if ((size_t)__builtin_popcount(mask) == S / 2)
            masks[n_splits++] = mask;
    c.bsum = bsum;
    c.bsq = bsq;
    c.masks = masks;
    c.lambda = per;
    c.is_best = per + n_splits;
    c.oos_best = per + 2 * n_splits;
    rc = cb_opt_parallel((n_splits + CSCV_SPLITS_PER_TASK - 1) / CSCV_SPLITS_PER_TASK, jobs,
                         cscv_task, &c, NULL, NULL);
    if (rc)
        goto done;
    /* summed in split order, whatever the threads: the same bits for any `jobs` */
    size_t overfit = 0, oos_loss = 0;
    double logit_sum = 0, sx = 0, sy = 0, sxx = 0, sxy = 0, n_fit = 0;
    for (size_t k = 0; k < n_splits; k++) {
        double lambda = c.lambda[k], ib = c.is_best[k], ob = c.oos_best[k];
        logit_sum += lambda;
        if (lambda <= 0)
            overfit++;
        if (ob < 0)
            oos_loss++;
        if (isfinite(ib) && isfinite(ob)) {
            sx += ib;
            sy += ob;
            sxx += ib * ib;
            sxy += ib * ob;
            n_fit++;
        }
    }
    out->splits = n_splits;
    out->partitions = S;
    out->pbo = (double)overfit / (double)n_splits;
    out->logit_mean = logit_sum / (double)n_splits;
    out->prob_oos_loss = (double)oos_loss / (double)n_splits;
    double k = n_fit, den = k * sxx - sx * sx;
    out->perf_degradation_slope = den > 0 ? (k * sxy - sx * sy) / den : 0;
done:
    free(bsum);
    free(bsq);
    free(masks);
    free(per);
    return rc;
}
