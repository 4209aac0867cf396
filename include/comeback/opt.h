/* Comeback optimization: parameter sweeps, walk-forward analysis and the statistics that say
 * whether a best result beats luck (Probability of Backtest Overfitting, Deflated Sharpe).
 * This header starts with the statistics, which depend on nothing but numbers. */
#ifndef COMEBACK_OPT_H
#define COMEBACK_OPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "comeback/core.h"
#include "comeback/backtest.h"
#include "comeback/engine.h"

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
/* The same with the splits evaluated on `jobs` threads (0 = all cores, as cb_opt_parallel);
 * the result is the same, bit for bit, for any `jobs`. */
int cb_pbo_cscv_jobs(const double *returns, size_t n_periods, size_t n_trials,
                     size_t partitions, int jobs, cb_pbo_t *out);


/* ---- Parameter spaces ------------------------------------------------------------------- */

#define CB_OPT_MAX_PARAMS 16
#define CB_OPT_CACHE_DEFAULT ((size_t)1 << 30) /* 1 GiB of shared indicator columns */

/* One swept parameter: values lo, lo+step, ..., up to hi (inclusive, within 1e-9 of a step). */
typedef struct cb_param_range {
    char name[32];
    double lo, hi, step;
} cb_param_range_t;

typedef struct cb_param_space {
    size_t n;
    cb_param_range_t p[CB_OPT_MAX_PARAMS];
} cb_param_space_t;

/* Parses "name=lo:hi:step" (as `--param` gives it) and adds or replaces that parameter.
 * Returns 0, CB_EPARSE (diag says which part) or CB_ELIMIT (too many parameters). */
int cb_param_space_add_spec(cb_param_space_t *space, const char *spec, cb_diag_t *diag);
/* Adds or replaces a range. Returns 0, CB_EINVAL (lo > hi, step <= 0, not finite) or
 * CB_ELIMIT. */
int cb_param_space_add(cb_param_space_t *space, const char *name, double lo, double hi,
                       double step, cb_diag_t *diag);
/* Number of values of parameter k, and of grid points (the product; SIZE_MAX on overflow). */
size_t cb_param_count(const cb_param_range_t *r);
size_t cb_param_space_size(const cb_param_space_t *space);
/* The values of grid point `index` (mixed radix, the first parameter varying slowest), so
 * that index order is the natural nested-loop order. values has space->n entries. */
void cb_param_space_point(const cb_param_space_t *space, size_t index, double *values);
/* Seeded random search: `samples` distinct grid indices in increasing order (all of them when
 * samples >= size). Same seed, same indices, on every machine. Returns the count written. */
size_t cb_param_space_sample(const cb_param_space_t *space, uint64_t seed, size_t samples,
                             size_t *indices);

/* ---- Walk-forward folds ----------------------------------------------------------------- */

typedef struct cb_wf_fold {
    size_t train_from, train_to;  /* [from, to) bar indices */
    size_t test_from, test_to;
} cb_wf_fold_t;

/* Splits n_bars into `folds` consecutive out-of-sample test windows preceded by training
 * windows of train_frac of each fold's window (rolling), or by everything before the test
 * window (anchored). With window length L = n / (f + F (1 - f)), fold k tests
 * [f L + k (1-f) L, f L + (k+1) (1-f) L) and trains on the f L bars before it (rolling) or on
 * [0, test start) (anchored); the last test window ends at n_bars. Returns 0 or CB_EINVAL
 * (folds < 1, train_frac outside (0, 1), or windows shorter than min_bars). */
int cb_walk_forward_folds(size_t n_bars, size_t folds, double train_frac, int anchored,
                          size_t min_bars, cb_wf_fold_t *out);

/* ---- Parallel evaluation ---------------------------------------------------------------- */

/* Evaluates task i (0 <= i < n_tasks) into the caller's result slot i. Must be thread-safe for
 * distinct i. Returns 0 or a negative cb_err code (the run stops at the first failure). */
typedef int (*cb_opt_task_fn)(void *ctx, size_t i);
/* Called from the coordinating thread after tasks complete (done, total); may be NULL. */
typedef void (*cb_opt_progress_fn)(void *ctx, size_t done, size_t total);

/* Runs n_tasks on `jobs` threads (0 = all cores). Tasks are handed out in index order and
 * write only their own slots, so results do not depend on `jobs`. Returns 0 or the first
 * failing task's error (lowest index among failures). */
int cb_opt_parallel(size_t n_tasks, int jobs, cb_opt_task_fn fn, void *ctx,
                    cb_opt_progress_fn progress, void *progress_ctx);
/* Number of online cores. */
int cb_opt_cores(void);

/* ---- The verdict ------------------------------------------------------------------------ */

/* Thresholds (docs/overfitting.md explains them). */
#define CB_VERDICT_PBO_BAD 0.5      /* PBO at or above: likely overfit */
#define CB_VERDICT_PBO_GOOD 0.2     /* PBO below (with a significant DSR): credible */
#define CB_VERDICT_DSR_P 0.05       /* deflated Sharpe p-value below: significant */
#define CB_VERDICT_LUCK_PCT 95.0    /* beats this percentile of random-entry strategies */

typedef enum cb_verdict_kind {
    CB_VERDICT_OVERFIT = 0,   /* "likely overfit" */
    CB_VERDICT_WEAK = 1,      /* "inconclusive" */
    CB_VERDICT_CREDIBLE = 2   /* "credible" */
} cb_verdict_kind_t;

/* A plain verdict from PBO, the deflated Sharpe p-value and the luck percentile (NaN for
 * statistics that could not be computed: they count as missing evidence). Writes one line
 * such as "Verdict: likely overfit (PBO 0.71, deflated Sharpe p = 0.38). Do not trade this
 * without more evidence." into buf and returns the kind. */
cb_verdict_kind_t cb_opt_verdict(double pbo, double dsr_p, double luck_percentile, char *buf,
                                 size_t size);

/* ---- Luck baseline ---------------------------------------------------------------------- */

typedef struct cb_luck_result {
    size_t runs;                /* random strategies run */
    double percentile;          /* % of them whose final balance the best result beats (ties
                                 * count half) */
    double best_return_pct;     /* the best result's total return */
    double median_return_pct;   /* of the random strategies */
    double p95_return_pct;      /* their 95th percentile */
} cb_luck_result_t;

/* Runs `runs` random-entry strategies with the same number of trades and the same holding
 * times (in bars) per pair as `best`, placed uniformly at random without overlap in the same
 * window of the same data, with the same costs and sizing but no stops or targets (the
 * holding times already include their effect). Each run i uses a generator seeded from
 * (seed, i), so the result does not depend on `jobs`. pairs are the best run's pairs (only
 * series, instrument and the strategy's warm-up are used). Returns 0, CB_EINVAL (diag: e.g.
 * not enough bars to place the trades), CB_ENOMEM or an engine error. */
int cb_luck_baseline(const cb_engine_config_t *cfg, const cb_engine_pair_t *pairs,
                     size_t n_pairs, const cb_engine_result_t *best, size_t runs, uint64_t seed,
                     int jobs, cb_luck_result_t *out, cb_diag_t *diag);

/* ---- The optimizer ---------------------------------------------------------------------- */

/* Objectives: name, the metric it reads (report.h), and what it means. Higher is better. */
#define CB_OBJECTIVE_MAP(X)                                                                  \
    X(SHARPE, "sharpe", "annualised Sharpe ratio of daily returns")                          \
    X(SORTINO, "sortino", "annualised Sortino ratio of daily returns")                       \
    X(CALMAR, "calmar", "CAGR / max drawdown")                                               \
    X(PROFIT, "profit", "total return %")                                                    \
    X(SQN, "sqn", "system quality number")                                                   \
    X(PROFIT_FACTOR, "profit_factor", "gross profit / gross loss")

typedef enum cb_objective {
#define CB_OBJ_ENUM_(id, name, desc) CB_OBJ_##id,
    CB_OBJECTIVE_MAP(CB_OBJ_ENUM_)
#undef CB_OBJ_ENUM_
    CB_OBJ_COUNT
} cb_objective_t;

const char *cb_objective_name(cb_objective_t o);
/* "sharpe" -> CB_OBJ_SHARPE. Returns 0 or CB_EINVAL. */
int cb_objective_parse(const char *name, cb_objective_t *out);

typedef struct cb_opt_config {
    cb_param_space_t space;     /* the swept parameters; others keep their file values */
    int random;                 /* 1: seeded random search of `samples` grid points */
    size_t samples;
    uint64_t seed;              /* random search, luck baseline */
    cb_objective_t objective;
    int jobs;                   /* 0 = all cores */
    size_t pbo_partitions;      /* 0 = 16 */
    size_t luck_runs;           /* 0 = 1000; set SIZE_MAX to skip the baseline */
    size_t wf_folds;            /* 0 = no walk-forward */
    double wf_train_frac;       /* 0 = 0.7 */
    int wf_anchored;
    int no_share;               /* 1: no indicator sharing: every combination evaluates its
                                 * rules bar by bar on its own (results are the same) */
    size_t cache_bytes;         /* budget of the shared indicator columns; 0 = 1 GiB */
    cb_opt_progress_fn progress;/* may be NULL; called as combinations finish */
    void *progress_ctx;
} cb_opt_config_t;

/* One combination's outcome. */
typedef struct cb_opt_row {
    size_t index;               /* grid index */
    double values[CB_OPT_MAX_PARAMS];
    double objective;           /* NaN when undefined (ranked last) */
    double total_return_pct, cagr_pct, sharpe, sortino, calmar, sqn, profit_factor;
    double max_drawdown_pct, win_rate_pct;
    size_t trades;
} cb_opt_row_t;

typedef struct cb_wf_result {
    cb_wf_fold_t fold;
    int64_t train_from_ms, train_to_ms, test_from_ms, test_to_ms;
    double values[CB_OPT_MAX_PARAMS]; /* the training winner */
    double is_objective, is_cagr_pct;
    double oos_objective, oos_return_pct, oos_cagr_pct, oos_sharpe, oos_max_drawdown_pct;
    size_t oos_trades;
} cb_wf_result_t;

typedef struct cb_opt_report {
    cb_objective_t objective;
    size_t n_rows;
    cb_opt_row_t *rows;         /* in grid-index order */
    size_t *rank;               /* row indices, best first (NaN objectives last) */
    size_t best;                /* == rank[0] */
    size_t n_days;              /* daily returns per combination used by PBO and DSR */
    int has_pbo, has_dsr, has_luck;
    cb_pbo_t pbo;
    cb_dsr_t dsr;
    cb_luck_result_t luck;
    size_t n_folds;
    cb_wf_result_t *folds;
    double wf_oos_return_pct;   /* stitched out-of-sample: compounded test windows */
    double wf_oos_cagr_pct, wf_is_cagr_pct, wf_efficiency;
    cb_verdict_kind_t verdict_kind;
    char verdict[512];
    cb_rules_cache_stats_t sharing; /* indicator columns computed and reused (not in the JSON) */
} cb_opt_report_t;

/* Runs every combination of cfg->space (or a seeded sample) through the session, ranks them
 * by the objective, computes PBO over their daily returns, the deflated Sharpe of the best,
 * the luck baseline, the walk-forward analysis when asked, and the verdict. Results do not
 * depend on cfg->jobs. Returns 0, CB_EINVAL (diag: empty space, too few days for PBO is NOT
 * an error: has_pbo = 0), a compile or engine error of the first failing combination, or
 * CB_ENOMEM. */
int cb_optimize(const cb_backtest_t *bt, const cb_opt_config_t *cfg, cb_opt_report_t *out,
                cb_diag_t *diag);
void cb_opt_report_free(cb_opt_report_t *r);

/* The report as JSON (keys: objective, params, results, best, pbo, deflated_sharpe,
 * luck_percentile, luck, walk_forward, verdict). Deterministic. Returns 0 or CB_EIO. */
int cb_opt_report_write_json(FILE *out, const cb_backtest_t *bt, const cb_opt_config_t *cfg,
                             const cb_opt_report_t *r);

/* ---- Sharding a sweep over machines without MPI ------------------------------------------ */

/* One shard's share of a sweep: the combinations at positions [first, end) of the sweep's
 * combination order (grid order, or the sorted random sample), with everything the merge needs
 * to rebuild the report: each row and its daily returns, and the sweep's identity. */
typedef struct cb_opt_part {
    char name[256];           /* the file it was read from (labels diagnostics) */
    size_t shard, shards;     /* shard `shard` (1-based) of `shards` */
    size_t total;             /* combinations in the whole sweep */
    size_t first, end;        /* its positions */
    size_t n_days;            /* daily returns per row (the same for every row) */
    cb_opt_row_t *rows;       /* end - first rows in position order (values filled by merge) */
    double *daily;            /* row r's daily returns at daily[r * n_days] */
    char *sweep;              /* the sweep's identity as canonical JSON text: the strategy
                               * file and its SHA-256, the settings, the data's SHA-256, the
                               * search, objective, statistics settings, parameter space and
                               * shard count. Parts of one sweep have equal texts. */
} cb_opt_part_t;

/* Positions of shard k (1-based) of `shards` in a sweep of `total` combinations: contiguous
 * blocks whose sizes differ by at most one, in order. */
void cb_opt_shard_range(size_t total, size_t k, size_t shards, size_t *first, size_t *end);

/* Evaluates shard k of `shards` of the sweep cb_optimize would run (same combinations, same
 * order) into *out; no statistics. Returns 0, CB_EINVAL (diag: bad shard, more shards than
 * combinations, an empty space), an engine or compile error, or CB_ENOMEM. */
int cb_optimize_shard(const cb_backtest_t *bt, const cb_opt_config_t *cfg, size_t k,
                      size_t shards, cb_opt_part_t *out, cb_diag_t *diag);
void cb_opt_part_free(cb_opt_part_t *p);

/* The part as JSON: {"comeback": "optimize part", "format": 1, "sweep": {...}, "shard",
 * "shards", "total", "first", "end", "days", "rows": [{"index", metrics..., "daily"}]}.
 * Numbers round-trip exactly (17 digits; "nan", "inf", "-inf" as strings); "daily" is base64 of
 * the returns as IEEE 754 little-endian doubles. Returns 0 or CB_EIO / CB_ENOMEM. */
int cb_opt_part_write_json(FILE *out, const cb_opt_part_t *p);

/* Reads a part written by cb_opt_part_write_json (outside input: everything is checked).
 * name labels diagnostics: "part2.json:3:5: not JSON: ..." or "part2.json: field
 * 'rows[4].daily': ...". Returns 0, CB_EPARSE (diag) or CB_ENOMEM. */
int cb_opt_part_parse(const char *name, const char *text, size_t len, cb_opt_part_t *out,
                      cb_diag_t *diag);

/* Checks that parts belong to one sweep and cover it exactly once (same sweep identity and
 * shard count, every shard once, positions and row counts as the split says, the same days),
 * and sorts them by shard. The diagnostic names the file and what is wrong. Returns 0 or
 * CB_EINVAL. */
int cb_opt_parts_check(cb_opt_part_t *parts, size_t n, cb_diag_t *diag);

/* The configuration and settings recorded in a sweep identity, to set up the session again:
 * *cfg (space, search, objective, statistics settings), the backtest settings, the strategy
 * file's path and the number of shards. Returns 0 or CB_EPARSE (diag names the field). */
int cb_opt_sweep_config(const char *name, const char *sweep, cb_opt_config_t *cfg,
                        cb_bt_settings_t *settings, char *strategy_path, size_t path_size,
                        cb_diag_t *diag);
/* The sweep identity of a session and configuration (malloc'd canonical JSON text, NULL on
 * failure). shards is recorded as given. */
char *cb_opt_sweep_identity(const cb_backtest_t *bt, const cb_opt_config_t *cfg, size_t shards);

/* Rebuilds the report of the whole sweep from checked parts (cb_opt_parts_check) of the sweep
 * that bt and cfg describe (cb_opt_sweep_config): verifies that the strategy file and data are
 * those of the sweep and that every row is the combination of its position, then ranks and
 * computes PBO, the deflated Sharpe, the luck baseline, the walk-forward analysis (when the
 * sweep asked; it runs here) and the verdict exactly as cb_optimize would have. Returns 0,
 * CB_EINVAL (diag) or an error of the luck baseline or walk-forward runs. */
int cb_opt_merge(const cb_backtest_t *bt, const cb_opt_config_t *cfg,
                 const cb_opt_part_t *parts, size_t n, cb_opt_report_t *out, cb_diag_t *diag);

/* ---- Lookahead check -------------------------------------------------------------------- */

typedef struct cb_lookahead_report {
    size_t bars;               /* bars of the series */
    size_t cuts;               /* truncated copies run */
    size_t decisions;          /* bar decisions compared */
    int found;                 /* 1: some decision changed when later bars were removed */
    size_t first_bar;          /* the earliest such bar (series index) */
    int64_t first_time_ms;     /* its open time */
    size_t cut_at;             /* the copy that showed it ends with bar cut_at - 1 */
    int full_entry, full_exit; /* the decision on the full series */
    int cut_entry, cut_exit;   /* the decision on the truncated copy */
} cb_lookahead_report_t;

/* Runs the session's strategy (an assignment, NULL = the file's values) with the session's
 * configuration on its first series in full, then on `cuts` truncated copies (the bars up to
 * evenly spaced cut points, followed by NaN where later bars were), and compares every
 * decision made before each cut. A strategy that only reads the bars it is given (every
 * rules-language strategy, by construction) makes identical decisions; one that reads ahead
 * (a plug-in indexing past bars->n) is caught at the first bar where it differs, the way
 * freqtrade's lookahead analysis works. Returns 0 (see out->found) or an error. */
int cb_lookahead_check(const cb_backtest_t *bt, const double *values, size_t cuts,
                       cb_lookahead_report_t *out, cb_diag_t *diag);

#ifdef __cplusplus
}
#endif
#endif
