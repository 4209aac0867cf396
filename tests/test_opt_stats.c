/* opt/ statistics: normal quantiles, moments, Deflated Sharpe Ratio, PBO by CSCV.
 * Each expected value is derived in the comment beside it, independently of the code. */
#include <math.h>
#include <stdlib.h>

#include "comeback/opt.h"
#include "testutil.h"

static void test_normal(void **state)
{
    (void)state;
    /* Standard quantiles (tabulated values of the normal distribution). */
    assert_close(cb_norm_inv(0.975), 1.959963984540054, 1e-13, 0);
    assert_close(cb_norm_inv(0.99), 2.326347874040841, 1e-13, 0);
    assert_close(cb_norm_inv(0.5), 0.0, 0, 1e-15);
    assert_close(cb_norm_inv(1e-10), -6.361340902404056, 1e-12, 0);
    assert_close(cb_norm_cdf(1.959963984540054), 0.975, 1e-14, 0);
    for (double p = 0.001; p < 1; p += 0.0137)
        assert_close(cb_norm_cdf(cb_norm_inv(p)), p, 1e-13, 1e-16);
    assert_true(isnan(cb_norm_inv(0)));
    assert_true(isnan(cb_norm_inv(1)));
    assert_true(isnan(cb_norm_inv(NAN)));
}

static void test_moments(void **state)
{
    (void)state;
    /* x = 1,2,3,4,10: mean 4; deviations -3,-2,-1,0,6; sum d^2 = 50, d^3 = 180, d^4 = 1394.
     * stdev = sqrt(50/4) = 3.5355; m2 = 10, m3 = 36, m4 = 278.8;
     * skew = 36 / 10^1.5 = 1.138420; kurt = 278.8 / 100 = 2.788. */
    const double x[5] = {1, 2, 3, 4, 10};
    cb_moments_t m;
    cb_moments(x, 5, &m);
    assert_close(m.mean, 4, 1e-15, 0);
    assert_close(m.stdev, sqrt(12.5), 1e-15, 0);
    assert_close(m.skew, 36 / pow(10, 1.5), 1e-14, 0);
    assert_close(m.kurtosis, 2.788, 1e-14, 0);
    const double same[3] = {2, 2, 2};
    cb_moments(same, 3, &m);
    assert_close(m.stdev, 0, 0, 0);
    assert_close(m.skew, 0, 0, 0);
}

static void test_deflated_sharpe_paper_example(void **state)
{
    (void)state;
    /* Bailey & Lopez de Prado (2014), "The Deflated Sharpe Ratio", numerical example:
     * annualised SR 2.5 over T = 1250 daily observations, N = 100 trials whose annualised
     * Sharpe ratios have variance 0.5, returns with skew -3 and kurtosis 10.
     * Per day: SR = 2.5 / sqrt(250) = 0.158114, V = 0.5 / 250 = 0.002.
     * SR0 = sqrt(0.002) * ((1 - 0.5772) * Z(0.99) + 0.5772 * Z(1 - 1/(100 e)))
     *     = 0.044721 * (0.4228 * 2.326348 + 0.5772 * 2.680148) = 0.113165
     * DSR = Phi((0.158114 - 0.113165) * sqrt(1249) / sqrt(1 + 3 * 0.158114 + 9/4 * 0.025)) =
     *     = Phi(1.2836) = 0.9004 (the paper's 0.9004). */
    cb_dsr_t d;
    assert_int_equal(cb_deflated_sharpe(2.5 / sqrt(250), 0.5 / 250, 100, 1250, -3, 10, &d), 0);
    assert_close(d.sharpe0, 0.1132, 0, 5e-5);
    assert_close(d.dsr, 0.9004, 0, 5e-4);
    assert_close(d.p_value, 1 - d.dsr, 1e-15, 0);
    /* One trial: nothing to deflate; SR0 = 0 and DSR is the plain PSR against 0. */
    assert_int_equal(cb_deflated_sharpe(0.1, 0.01, 1, 100, 0, 3, &d), 0);
    assert_close(d.sharpe0, 0, 0, 0);
    assert_close(d.dsr, cb_norm_cdf(0.1 * sqrt(99) / sqrt(1 + 0.5 * 0.01)), 1e-14, 0);
    assert_int_equal(cb_deflated_sharpe(0.1, 0.01, 0, 100, 0, 3, &d), CB_EINVAL);
    assert_int_equal(cb_deflated_sharpe(0.1, 0.01, 5, 1, 0, 3, &d), CB_EINVAL);
}

/* Trials A, B, C over 4 periods, split into S = 2 blocks of 2 rows (rows 0-1 and 2-3).
 *   A = .01 .03 | -.01 -.03  -> SR per block:  1.4142 | -1.4142
 *   B = .00 .02 |  .00  .02  ->                 0.7071 |  0.7071
 *   C = -.01 .01 | .02  .04  ->                 0      |  2.1213
 * Split 1 (train block 1): best A; out of sample A is worst of 3 -> rank 1, w = 1/4, logit < 0.
 * Split 2 (train block 2): best C; out of sample C is worst -> rank 1, w = 1/4, logit < 0.
 * PBO = 2/2 = 1. A's OOS Sharpe in split 1 is negative, C's in split 2 is 0: P(loss) = 1/2.
 * Adding D = .05 .07 | .05 .07 (SR 4.2426 in both blocks), D is best in and out of sample:
 * rank 4 of 4, w = 4/5, logit = ln 4 > 0 in both splits -> PBO = 0. */
static void test_pbo_hand_example(void **state)
{
    (void)state;
    const double abc[4 * 3] = {0.01,  0.00, -0.01, 0.03,  0.02, 0.01,
                               -0.01, 0.00, 0.02,  -0.03, 0.02, 0.04};
    cb_pbo_t p;
    assert_int_equal(cb_pbo_cscv(abc, 4, 3, 2, &p), 0);
    assert_int_equal(p.splits, 2);
    assert_close(p.pbo, 1.0, 0, 0);
    assert_close(p.logit_mean, log(1.0 / 3.0), 1e-12, 0);
    assert_close(p.prob_oos_loss, 0.5, 0, 0);
    const double abcd[4 * 4] = {0.01,  0.00, -0.01, 0.05, 0.03,  0.02, 0.01, 0.07,
                                -0.01, 0.00, 0.02,  0.05, -0.03, 0.02, 0.04, 0.07};
    assert_int_equal(cb_pbo_cscv(abcd, 4, 4, 2, &p), 0);
    assert_close(p.pbo, 0.0, 0, 0);
    assert_close(p.logit_mean, log(4.0), 1e-12, 0);
    /* Bad shapes. */
    assert_int_equal(cb_pbo_cscv(abc, 4, 1, 2, &p), CB_EINVAL);
    assert_int_equal(cb_pbo_cscv(abc, 4, 3, 3, &p), CB_EINVAL);
    assert_int_equal(cb_pbo_cscv(abc, 2, 3, 2, &p), CB_EINVAL);
}

/* A brute-force CSCV written from the paper's definition (rows, not block sums), to compare
 * with the fast implementation on random matrices. */
static double brute_sharpe(const double *m, size_t T, size_t N, size_t j, const int *in_set,
                           int want)
{
    (void)T;
    double s = 0, q = 0, n = 0;
    for (size_t t = 0; t < T; t++)
        if (in_set[t] == want) {
            s += m[t * N + j];
            n++;
        }
    double mean = s / n;
    for (size_t t = 0; t < T; t++)
        if (in_set[t] == want)
            q += (m[t * N + j] - mean) * (m[t * N + j] - mean);
    return mean / sqrt(q / (n - 1));
}

static double brute_pbo(const double *m, size_t T, size_t N, size_t S)
{
    size_t rows = T / S, splits = 0, bad = 0;
    int *in_set = malloc(T * sizeof *in_set);
    for (unsigned mask = 0; mask < (1u << S); mask++) {
        if ((size_t)__builtin_popcount(mask) != S / 2)
            continue;
        for (size_t t = 0; t < T; t++)
            in_set[t] = t < rows * S ? (int)((mask >> (t / rows)) & 1u) : -1;
        size_t best = 0;
        double best_is = -INFINITY;
        for (size_t j = 0; j < N; j++) {
            double v = brute_sharpe(m, T, N, j, in_set, 1);
            if (v > best_is) {
                best_is = v;
                best = j;
            }
        }
        double ob = brute_sharpe(m, T, N, best, in_set, 0), rank = 1;
        for (size_t j = 0; j < N; j++)
            if (j != best && brute_sharpe(m, T, N, j, in_set, 0) < ob)
                rank++;
        if (rank / (double)(N + 1) <= 0.5)
            bad++;
        splits++;
    }
    free(in_set);
    return (double)bad / (double)splits;
}

static void test_pbo_matches_brute_force(void **state)
{
    (void)state;
    const size_t T = 203, N = 7, S = 8; /* 203 rows: the last 3 are dropped */
    double *m = malloc(T * N * sizeof *m);
    uint64_t x = 12345;
    for (size_t i = 0; i < T * N; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        m[i] = ((double)(x >> 11) / 9007199254740992.0 - 0.5) * 0.02 + 0.0004 * (double)(i % N);
    }
    cb_pbo_t p;
    assert_int_equal(cb_pbo_cscv(m, T, N, S, &p), 0);
    assert_int_equal(p.splits, 70); /* C(8, 4) */
    assert_close(p.pbo, brute_pbo(m, T, N, S), 0, 1e-12);
    free(m);
}

/* The splits evaluated on threads give the same result, bit for bit, as on one: 16
 * partitions (12,870 splits, many tasks), 60 trials, and the result matches the brute force. */
static void test_pbo_jobs_identical(void **state)
{
    (void)state;
    const size_t T = 320, N = 60, S = 16;
    double *m = malloc(T * N * sizeof *m);
    uint64_t x = 777;
    for (size_t i = 0; i < T * N; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        m[i] = ((double)(x >> 11) / 9007199254740992.0 - 0.5) * 0.02 + 0.0001 * (double)(i % 5);
    }
    cb_pbo_t one, two, all;
    assert_int_equal(cb_pbo_cscv_jobs(m, T, N, S, 1, &one), 0);
    assert_int_equal(cb_pbo_cscv_jobs(m, T, N, S, 2, &two), 0);
    assert_int_equal(cb_pbo_cscv_jobs(m, T, N, S, 0, &all), 0);
    assert_int_equal(one.splits, 12870); /* C(16, 8) */
    assert_memory_equal(&one, &two, sizeof one);
    assert_memory_equal(&one, &all, sizeof one);
    assert_close(one.pbo, brute_pbo(m, T, N, S), 0, 1e-12);
    free(m);
}

/* Pure noise: on one data set the PBO depends on which trial happened to have the best
 * full-sample Sharpe, so it is averaged over many data sets, where the in-sample winner's
 * out-of-sample rank is uniform and the mean PBO is 1/2. A planted persistent edge in one
 * trial drives PBO to 0. */
static uint64_t xs_state = 99;
static double noise(void)
{
    double u = 0;
    for (int k = 0; k < 12; k++) { /* Irwin-Hall approximation of a normal draw */
        xs_state ^= xs_state << 13;
        xs_state ^= xs_state >> 7;
        xs_state ^= xs_state << 17;
        u += (double)(xs_state >> 11) / 9007199254740992.0;
    }
    return u - 6;
}

static void test_pbo_noise_vs_edge(void **state)
{
    (void)state;
    const size_t T = 400, N = 20, sets = 60;
    double *m = malloc(T * N * sizeof *m), mean_pbo = 0;
    cb_pbo_t p;
    for (size_t k = 0; k < sets; k++) {
        for (size_t i = 0; i < T * N; i++)
            m[i] = noise() * 0.01;
        assert_int_equal(cb_pbo_cscv(m, T, N, 8, &p), 0);
        mean_pbo += p.pbo / (double)sets;
    }
    print_message("noise: mean PBO over %zu data sets %.3f\n", sets, mean_pbo);
    assert_true(mean_pbo > 0.4 && mean_pbo < 0.6);
    for (size_t t = 0; t < T; t++)
        m[t * N + 7] += 0.01; /* Sharpe ~1 per period: a real, persistent edge */
    assert_int_equal(cb_pbo_cscv(m, T, N, 16, &p), 0);
    assert_int_equal(p.splits, 12870);
    assert_close(p.pbo, 0, 0, 0);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normal),
        cmocka_unit_test(test_moments),
        cmocka_unit_test(test_deflated_sharpe_paper_example),
        cmocka_unit_test(test_pbo_hand_example),
        cmocka_unit_test(test_pbo_matches_brute_force),
        cmocka_unit_test(test_pbo_jobs_identical),
        cmocka_unit_test(test_pbo_noise_vs_edge),
    };
    return cmocka_run_group_tests_name("opt_stats", tests, NULL, NULL);
}
