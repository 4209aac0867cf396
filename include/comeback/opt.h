/* Comeback optimization: parameter sweeps, walk-forward analysis and the statistics that say
 * whether a best result beats luck (Probability of Backtest Overfitting, Deflated Sharpe).
 * This header starts with the statistics, which depend on nothing but numbers. */
#ifndef COMEBACK_OPT_H
#define COMEBACK_OPT_H

#include <stddef.h>
#include <stdint.h>

#include "comeback/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Distributions ---------------------------------------------------------------------- */

/* Standard normal CDF and its inverse (|error| < 1e-13 over (0, 1)); NaN outside (0, 1). */
double cb_norm_cdf(double x);
double cb_norm_inv(double p);

/* Sample moments of x[0..n): mean, standard deviation (n-1 denominator), skewness and
 * (non-excess) kurtosis with population moments, as in Bailey & Lopez de Prado. */
typedef struct cb_moments {
    double mean, stdev, skew, kurtosis;
    size_t n;
} cb_moments_t;
void cb_moments(const double *x, size_t n, cb_moments_t *out);

/* ---- Deflated Sharpe Ratio (Bailey & Lopez de Prado, 2014) ------------------------------ */

typedef struct cb_dsr {
    double sharpe;          /* the observed per-period Sharpe ratio of the best trial */
    double sharpe0;         /* expected maximum Sharpe of `trials` unskilled trials */
    double dsr;             /* P(true Sharpe > 0 | selection among trials) */
    double p_value;         /* 1 - dsr */
    size_t trials;
} cb_dsr_t;

/* Expected maximum of `trials` Sharpe ratios drawn with variance `sharpe_var` and mean 0:
 *   SR0 = sqrt(V) * ((1 - g) * Z^-1(1 - 1/N) + g * Z^-1(1 - 1/(N e))), g = Euler's gamma. */
double cb_expected_max_sharpe(double sharpe_var, size_t trials);

/* Probabilistic Sharpe ratio of `sharpe` against the benchmark `sharpe0`, given n_obs
 * observations with skewness `skew` and kurtosis `kurt` (non-excess; 3 for normal):
 *   PSR = Phi((SR - SR0) sqrt(T - 1) / sqrt(1 - skew SR + (kurt - 1)/4 SR^2)).
 * All Sharpe ratios per period (not annualised). NaN when the inputs are degenerate. */
double cb_psr(double sharpe, double sharpe0, size_t n_obs, double skew, double kurt);

/* DSR: the PSR against the expected maximum Sharpe of `trials` trials whose Sharpe ratios have
 * variance sharpe_var. Returns 0 or CB_EINVAL (trials < 1, n_obs < 2). */
int cb_deflated_sharpe(double sharpe, double sharpe_var, size_t trials, size_t n_obs,
                       double skew, double kurt, cb_dsr_t *out);

/* ---- Probability of Backtest Overfitting (Bailey, Borwein, Lopez de Prado, Zhu 2015) ----- */

typedef struct cb_pbo {
    double pbo;             /* fraction of splits whose in-sample best ranks below the OOS median */
    size_t splits;          /* combinations evaluated: C(S, S/2) */
    size_t partitions;      /* S */
    double logit_mean;      /* mean of the logits lambda_c */
    double perf_degradation_slope; /* regression slope of OOS on IS performance of the best */
    double prob_oos_loss;   /* fraction of splits where the IS-best had OOS Sharpe < 0 */
} cb_pbo_t;

/* Combinatorially symmetric cross-validation over a T x N matrix of per-period returns
 * (row-major: returns[t * n_trials + j] is trial j's return in period t). Rows are cut into
 * `partitions` (even, >= 2; 16 by default) contiguous blocks of equal size (the last T mod S
 * rows are dropped, as in the paper); every half of the blocks is in turn the training set.
 * Performance is the Sharpe ratio (mean / stdev) of each trial on each half. Ties in the
 * out-of-sample ranking take the average rank. Returns 0, CB_EINVAL (bad shape: fewer than 2
 * trials, odd or too many partitions for the rows) or CB_ENOMEM. */
int cb_pbo_cscv(const double *returns, size_t n_periods, size_t n_trials, size_t partitions,
                cb_pbo_t *out);

#ifdef __cplusplus
}
#endif
#endif
