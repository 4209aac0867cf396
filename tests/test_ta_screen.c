/* The NaN/infinity screening of the batch layer and the fused kernels (src/ta/table.c,
 * CB_TA_DEFINE_FUSED in src/ta/ta_int.h): exponent-bit tests, 256-value blocks, and kernels
 * that screen their own inputs. Bad values are put where a block or a vector loop begins or
 * ends, in the first and last element, in the part a fused kernel screens apart; denormals,
 * signed zeros and the largest doubles must not count as bad. Every indicator of the table is
 * checked against the restart convention built by hand: NaN at the bad bar, and elsewhere
 * exactly what batch gives on the finite segment alone. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/ta.h"
#include "ta/ta_int.h"
#include "testutil.h"

#define MAXN 1100

static int same(double a, double b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

/* The screen itself, against isfinite, over every kind of double and every position around
 * the block and vector boundaries. */
static void test_screen_words(void **state)
{
    (void)state;
    const double bad[] = {NAN, -NAN, INFINITY, -INFINITY};
    const double good[] = {0.0, -0.0, DBL_MIN, -DBL_MIN, DBL_MAX, -DBL_MAX, 4.9e-324,
                           -4.9e-324, 2.225073858507201e-308, 1.0, -1e300, 123.456};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        assert_true(cb_ta_nf(bad[k]) >> 63);
    for (size_t k = 0; k < sizeof good / sizeof good[0]; k++)
        assert_false(cb_ta_nf(good[k]) >> 63);
    /* every NaN payload: exponent all ones, any nonzero mantissa, either sign */
    for (int s = 0; s < 2; s++)
        for (int bit = 0; bit < 52; bit++) {
            uint64_t u = 0x7ff0000000000000ull | (1ull << bit) | ((uint64_t)s << 63);
            double x;
            memcpy(&x, &u, sizeof x);
            assert_true(isnan(x) && (cb_ta_nf(x) >> 63));
        }
    static double x[MAXN];
    const size_t sizes[] = {0, 1, 2, 3, 255, 256, 257, 511, 512, 513, 1024, 1031};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        for (size_t i = 0; i < n; i++)
            x[i] = good[i % (sizeof good / sizeof good[0])];
        assert_int_equal(cb_ta_any_nonfinite_(x, n), 0);
        for (size_t pos = 0; pos < n; pos++) {
            if (!(pos < 3 || pos + 3 >= n || pos % 256 < 2 || pos % 256 > 253))
                continue;
            for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
                double keep = x[pos];
                x[pos] = bad[k];
                if (!cb_ta_any_nonfinite_(x, n))
                    fail_msg("n=%zu: %g at %zu not found", n, bad[k], pos);
                x[pos] = keep;
            }
        }
    }
}

/* Deterministic market: open high low close volume, and a second real series. */
typedef struct mkt {
    double col[6][MAXN];
} mkt_t;

static void make_market(mkt_t *m, size_t n)
{
    uint64_t r = 0x2545F4914F6CDD1Dull;
    double c = 100.0;
    for (size_t i = 0; i < n; i++) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        double u = (double)(r >> 11) / 9007199254740992.0;
        double o = c;
        c = c * (1.0 + (u - 0.5) * 0.02);
        double hi = fmax(o, c) * (1.0 + u * 0.005), lo = fmin(o, c) * (1.0 - u * 0.004);
        m->col[0][i] = o;
        m->col[1][i] = hi;
        m->col[2][i] = lo;
        m->col[3][i] = c;
        m->col[4][i] = 1000.0 + u * 500.0;
        m->col[5][i] = 50.0 + 10.0 * sin((double)i * 0.1) + u;
    }
}

static const double *input_col(const mkt_t *m, const char *name)
{
    if (!strcmp(name, "open"))
        return m->col[0];
    if (!strcmp(name, "high"))
        return m->col[1];
    if (!strcmp(name, "low"))
        return m->col[2];
    if (!strcmp(name, "volume"))
        return m->col[4];
    if (!strcmp(name, "real1"))
        return m->col[5];
    return m->col[3]; /* close, real, real0 */
}

/* Batch over n bars of m, with the restart convention rebuilt by hand from finite segments;
 * fails on the first differing value. */
static void check_against_segments(const cb_ta_info_t *info, const double *opts, const mkt_t *m,
                                   size_t n, const char *what)
{
    static double o[CB_TA_MAX_OUTPUTS][MAXN], w[CB_TA_MAX_OUTPUTS][MAXN];
    double *out[CB_TA_MAX_OUTPUTS], *want[CB_TA_MAX_OUTPUTS];
    const double *in[CB_TA_MAX_INPUTS], *seg[CB_TA_MAX_INPUTS];
    for (int k = 0; k < CB_TA_MAX_OUTPUTS; k++) {
        out[k] = o[k];
        want[k] = w[k];
    }
    for (int k = 0; k < info->n_inputs; k++)
        in[k] = input_col(m, info->inputs[k]);
    assert_int_equal(cb_ta_batch(info, n, in, opts, out), 0);
    size_t start = 0;
    while (start <= n) {
        size_t end = start;
        while (end < n) {
            int ok = 1;
            for (int k = 0; k < info->n_inputs; k++)
                ok &= isfinite(in[k][end]) != 0;
            if (!ok)
                break;
            end++;
        }
        double *wk[CB_TA_MAX_OUTPUTS];
        for (int k = 0; k < info->n_inputs; k++)
            seg[k] = in[k] + start;
        for (int k = 0; k < info->n_outputs; k++)
            wk[k] = want[k] + start;
        assert_int_equal(cb_ta_batch(info, end - start, seg, opts, wk), 0);
        if (end < n)
            for (int k = 0; k < info->n_outputs; k++)
                want[k][end] = NAN;
        start = end + 1;
    }
    for (int k = 0; k < info->n_outputs; k++)
        for (size_t i = 0; i < n; i++)
            if (!same(o[k][i], w[k][i]))
                fail_msg("%s %s n=%zu output %d bar %zu: got %.17g, segments give %.17g",
                         info->name, what, n, k, i, o[k][i], w[k][i]);
}

/* Every indicator (small default-ish options so that segments produce values), every input
 * column in turn receiving a bad value at the edges of blocks and vector loops. */
static void test_restart_everywhere(void **state)
{
    (void)state;
    static mkt_t m;
    const double bad[] = {NAN, INFINITY, -INFINITY};
    const size_t sizes[] = {0, 1, 2, 5, 257, 600};
    for (size_t t = 0; t < cb_ta_count(); t++) {
        const cb_ta_info_t *info = cb_ta_at(t);
        double opts[CB_TA_MAX_OPTS];
        assert_int_equal(cb_ta_check_opts(info, opts, 0, NULL), 0);
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
            size_t n = sizes[si];
            make_market(&m, n);
            check_against_segments(info, opts, &m, n, "clean");
            if (n < 5)
                continue;
            int lb = cb_ta_lookback(info, opts);
            size_t pos[] = {0, 1, (size_t)lb, (size_t)lb + 1, 255, 256, n - 2, n - 1};
            for (int col = 0; col < info->n_inputs; col++) {
                double *x = (double *)input_col(&m, info->inputs[col]);
                for (size_t pi = 0; pi < sizeof pos / sizeof pos[0]; pi++) {
                    size_t p = pos[pi];
                    if (p >= n)
                        continue;
                    double keep = x[p];
                    x[p] = bad[(pi + (size_t)col) % 3];
                    char what[64];
                    snprintf(what, sizeof what, "bad %s at %zu", info->inputs[col], p);
                    check_against_segments(info, opts, &m, n, what);
                    x[p] = keep;
                }
            }
        }
    }
}

/* The fused kernels (MOM, TRANGE) on tiny and odd lengths, with denormals, signed zeros and
 * huge values, which are finite and must never restart them; values checked by hand. */
static void test_fused_values(void **state)
{
    (void)state;
    static double x[MAXN], h[MAXN], l[MAXN], c[MAXN], o[MAXN];
    const double odd[] = {4.9e-324, -0.0, 0.0, DBL_MIN, -4.9e-324, 1e308, -1e308, 7.5};
    double opts[CB_TA_MAX_OPTS] = {1};
    for (size_t n = 0; n < 40; n++) {
        for (size_t i = 0; i < n; i++) {
            x[i] = odd[i % 8];
            h[i] = (double)i + 2.0;
            l[i] = (double)i - odd[(i + 3) % 8];
            c[i] = odd[i % 8];
        }
        for (int p = 1; p <= 3; p++) {
            opts[0] = p;
            double *out[1] = {o};
            assert_int_equal(cb_ta_mom(n, (const double *const[]){x}, opts, out), 0);
            for (size_t i = 0; i < n; i++) {
                double want = i < (size_t)p ? NAN : x[i] - x[i - (size_t)p];
                if (!same(o[i], want))
                    fail_msg("mom:%d n=%zu bar %zu: %.17g want %.17g", p, n, i, o[i], want);
            }
        }
        double *out[1] = {o};
        assert_int_equal(cb_ta_trange(n, (const double *const[]){h, l, c}, NULL, out), 0);
        for (size_t i = 0; i < n; i++) {
            double want = NAN;
            if (i > 0) {
                want = h[i] - l[i];
                double t = fabs(c[i - 1] - h[i]);
                if (t > want)
                    want = t;
                t = fabs(c[i - 1] - l[i]);
                if (t > want)
                    want = t;
            }
            if (!same(o[i], want))
                fail_msg("trange n=%zu bar %zu: %.17g want %.17g", n, i, o[i], want);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_screen_words),
        cmocka_unit_test(test_fused_values),
        cmocka_unit_test(test_restart_everywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
