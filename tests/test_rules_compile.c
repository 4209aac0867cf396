/* The rules compiler and evaluator: sharing (node counts), constant folding, the semantics of
 * every function on synthetic data, crossings on real BTC/USDT candles against a direct
 * computation, higher timeframes without lookahead on real 1m candles, and the example
 * plug-in giving the same signals as the same rules. */
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "comeback/data.h"
#include "comeback/rules.h"
#include "comeback/ta.h"
#include "rules/rules_int.h"

typedef struct bars {
    size_t n;
    int64_t *t;
    double *o, *h, *l, *c, *v;
} bars_t;

static void bars_free(bars_t *b)
{
    free(b->t);
    free(b->o);
    free(b->h);
    free(b->l);
    free(b->c);
    free(b->v);
}

static void bars_alloc(bars_t *b, size_t n)
{
    b->n = n;
    b->t = calloc(n, sizeof *b->t);
    b->o = calloc(n, sizeof(double));
    b->h = calloc(n, sizeof(double));
    b->l = calloc(n, sizeof(double));
    b->c = calloc(n, sizeof(double));
    b->v = calloc(n, sizeof(double));
    assert_non_null(b->t);
    assert_non_null(b->v);
}

/* Bars from closes (open = previous close, high/low around them). */
static void bars_from_closes(bars_t *b, const double *c, size_t n, int64_t step_ms)
{
    bars_alloc(b, n);
    for (size_t i = 0; i < n; i++) {
        b->t[i] = (int64_t)i * step_ms;
        b->c[i] = c[i];
        b->o[i] = i ? c[i - 1] : c[i];
        b->h[i] = fmax(b->o[i], c[i]) + 1;
        b->l[i] = fmin(b->o[i], c[i]) - 1;
        b->v[i] = 100 + (double)i;
    }
}

/* Reads "open_time_ms,open,high,low,close,volume" CSV (the shared data's layout). */
static int load_csv(const char *rel, bars_t *b)
{
    char path[1024];
    if (!tu_shared_path(rel, path, sizeof path))
        return -1;
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t cap = 1024;
    bars_alloc(b, cap);
    b->n = 0;
    char line[512];
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        if (b->n == cap) {
            cap *= 2;
            b->t = realloc(b->t, cap * sizeof *b->t);
            b->o = realloc(b->o, cap * sizeof(double));
            b->h = realloc(b->h, cap * sizeof(double));
            b->l = realloc(b->l, cap * sizeof(double));
            b->c = realloc(b->c, cap * sizeof(double));
            b->v = realloc(b->v, cap * sizeof(double));
        }
        long long t;
        double o, h, l, c, v;
        if (sscanf(line, "%lld,%lf,%lf,%lf,%lf,%lf", &t, &o, &h, &l, &c, &v) != 6)
            continue;
        size_t i = b->n++;
        b->t[i] = t;
        b->o[i] = o;
        b->h[i] = h;
        b->l[i] = l;
        b->c[i] = c;
        b->v[i] = v;
    }
    fclose(f);
    return 0;
}

static cb_rules_file_t *file_ok(const char *text)
{
    cb_diags_t d = {0};
    cb_rules_file_t *f = NULL;
    int rc = cb_rules_file_parse("t.ini", text, strlen(text), NULL, &f, &d);
    for (size_t i = 0; i < d.n; i++) {
        char buf[1000];
        cb_rules_render_diag(f, &d.items[i], buf, sizeof buf);
        print_message("%s", buf);
    }
    assert_int_equal(rc, 0);
    cb_diags_free(&d);
    return f;
}

static cb_rules_program_t *compile_ok(const cb_rules_file_t *f, const double *values)
{
    cb_diags_t d = {0};
    cb_rules_program_t *p = NULL;
    assert_int_equal(cb_rules_compile(f, values, &p, &d), 0);
    cb_diags_free(&d);
    return p;
}

/* Runs the program over bars; entry/exit per bar (may be NULL). pos: NULL = flat. */
static void run(const cb_rules_program_t *p, const bars_t *b, int64_t base_ms, int *entry,
                int *exit_)
{
    cb_rules_instance_t *inst = NULL;
    cb_diag_t d;
    assert_int_equal(cb_rules_instance_new(p, base_ms, &inst, &d), 0);
    for (size_t i = 0; i < b->n; i++) {
        int en, ex;
        assert_int_equal(cb_rules_instance_step(inst, b->t[i], b->o[i], b->h[i], b->l[i],
                                                b->c[i], b->v[i], NULL, &en, &ex),
                         0);
        if (entry)
            entry[i] = en;
        if (exit_)
            exit_[i] = ex;
    }
    cb_rules_instance_free(inst);
}

/* The value of a numeric expression at every bar: compiled as `entry = (EXPR) > -1e300`, the
 * value is that comparison's left operand. */
static double *values_of(const char *expr, const bars_t *b, const char *extra)
{
    char text[1024];
    snprintf(text, sizeof text, "[strategy]\ntimeframe = 1h\nentry = (%s) > -1e300\n%s", expr,
             extra ? extra : "");
    cb_rules_file_t *f = file_ok(text);
    cb_rules_program_t *p = compile_ok(f, NULL);
    cb_rules_instance_t *inst = NULL;
    cb_diag_t d;
    assert_int_equal(cb_rules_instance_new(p, 0, &inst, &d), 0);
    double *out = calloc(b->n, sizeof *out);
    int node = p->nodes[p->entry].a;
    for (size_t i = 0; i < b->n; i++) {
        int en, ex;
        cb_rules_instance_step(inst, b->t[i], b->o[i], b->h[i], b->l[i], b->c[i], b->v[i], NULL,
                               &en, &ex);
        out[i] = rl_instance_value(inst, node);
    }
    cb_rules_instance_free(inst);
    cb_rules_program_free(p);
    cb_rules_file_free(f);
    return out;
}

/* ---- sharing and folding ---------------------------------------------------------------- */

static void test_cse_node_counts(void **state)
{
    (void)state;
    cb_rules_file_t *f = file_ok(
        "[strategy]\n"
        "entry = crossover(ema(close, 12), ema(close, 26)) and ema(close, 12) > 0\n"
        "exit = crossunder(ema(close, 12), ema(close, 26))\n");
    cb_rules_program_t *p = compile_ok(f, NULL);
    cb_rules_stats_t st;
    cb_rules_program_stats(p, &st);
    /* close, ema12, ema26, crossover, 0, >, and, crossunder: each ema computed once */
    assert_int_equal(st.nodes, 8);
    assert_int_equal(st.indicators, 2);
    assert_int_equal(st.constants, 1);
    assert_int_equal(cb_rules_program_n_indicators(p), 2);
    assert_string_equal(cb_rules_program_indicator(p, 0)->text, "ema(close, 12)");
    assert_int_equal(cb_rules_program_indicator(p, 0)->lookback, 11);
    assert_string_equal(cb_rules_program_indicator(p, 1)->text, "ema(close, 26)");
    assert_int_equal(st.warmup, 26); /* ema26 valid from bar 25, a crossing needs one more */
    cb_rules_program_free(p);
    cb_rules_file_free(f);

    /* a + b and b + a, a parameter equal to a literal, macd's outputs share one macd */
    f = file_ok("[strategy]\n"
                "entry = close + open > 1 and open + close > n and "
                "macd(close, 12, 26, 9).signal < macd(close, 12, 26, 9).macd\n"
                "[params]\nn = 1\n");
    p = compile_ok(f, NULL);
    cb_rules_program_stats(p, &st);
    /* close, open, +, 1, > (the second comparison is the same node, so `and` gets it twice),
     * and, macd (computed once), .signal, .macd, <, and = 11 */
    assert_int_equal(st.nodes, 11);
    assert_int_equal(st.indicators, 1);
    cb_rules_program_free(p);
    cb_rules_file_free(f);
}

static void test_constant_folding(void **state)
{
    (void)state;
    cb_rules_file_t *f = file_ok("[strategy]\nentry = close > 2 * 3 + fast - abs(-2) and "
                                 "close[fast - 4] > sqrt(16) * 0\n[params]\nfast = 4\n");
    cb_rules_program_t *p = compile_ok(f, NULL);
    cb_rules_stats_t st;
    cb_rules_program_stats(p, &st);
    /* close, 8, >, 0, >, and: the arithmetic on constants is gone, close[0] is close */
    assert_int_equal(st.nodes, 6);
    assert_int_equal(st.constants, 2);
    assert_true(p->nodes[p->nodes[p->entry].a].op == OP_GT);
    cb_rules_program_free(p);
    /* the same file with an override, without re-reading it */
    double v[1] = {10};
    p = compile_ok(f, v);
    cb_rules_program_stats(p, &st);
    /* close, 14, >, close[6], 0, >, and */
    assert_int_equal(st.nodes, 7);
    int found = 0;
    for (size_t i = 0; i < p->n_nodes; i++)
        if (p->nodes[i].op == OP_CONST && p->nodes[i].k == 14)
            found = 1;
    assert_true(found);
    cb_rules_program_free(p);
    /* an override that makes an option invalid is reported by compile */
    cb_rules_file_free(f);
    f = file_ok("[strategy]\nentry = ema(close, fast) > 1\n[params]\nfast = 4\n");
    v[0] = 1;
    cb_diags_t d = {0};
    assert_int_equal(cb_rules_compile(f, v, &p, &d), CB_EVALID);
    assert_null(p);
    char buf[500];
    cb_diag_format(&d.items[0], buf, sizeof buf);
    assert_string_equal(buf, "t.ini:2:20: error: ema option 1 'period': expected a whole "
                             "number from 2 to 100000, got 1");
    cb_diags_free(&d);
    cb_rules_file_free(f);
}

/* ---- semantics on synthetic data -------------------------------------------------------- */

static void test_crossover_definition(void **state)
{
    (void)state;
    /* close - 10: -1 0 0 1 1 0 -1 0 1: touching and then crossing counts once */
    const double c[] = {9, 10, 10, 11, 11, 10, 9, 10, 11};
    bars_t b;
    bars_from_closes(&b, c, 9, 3600000);
    cb_rules_file_t *f =
        file_ok("[strategy]\nentry = crossover(close, 10)\nexit = crossunder(close, 10)\n");
    cb_rules_program_t *p = compile_ok(f, NULL);
    int en[9], ex[9];
    run(p, &b, 3600000, en, ex);
    const int want_en[9] = {0, 0, 0, 1, 0, 0, 0, 0, 1};
    const int want_ex[9] = {0, 0, 0, 0, 0, 0, 1, 0, 0};
    for (int i = 0; i < 9; i++) {
        assert_int_equal(en[i], want_en[i]);
        assert_int_equal(ex[i], want_ex[i]);
    }
    cb_rules_program_free(p);
    cb_rules_file_free(f);
    bars_free(&b);
}

/* The column-wise crossings (two bars per step, chunks of 256) against bar-by-bar steps on
 * closes of 9, 10 and 11 only: many exact touches (a - b = 0), NaN (sqrt of -1), every
 * pattern of sides across pairs of bars and chunk boundaries, odd and even lengths. */
static void test_crossover_batch(void **state)
{
    (void)state;
    enum { N = 1000 };
    double c[N];
    uint64_t x = 7;
    for (size_t i = 0; i < N; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        c[i] = 9.0 + (double)((x >> 33) % 3);
    }
    static const char *const rules[] = {
        "[strategy]\nentry = crossover(close, 10)\nexit = crossunder(close, 10)\n",
        "[strategy]\nentry = crossover(sqrt(close - 10), 0.5)\n"
        "exit = crossunder(sqrt(close - 10), 0.5) or crossover(0, sqrt(close - 10) - 0.5)\n",
        "[strategy]\nentry = crossover(close, open) and not crossunder(open, 10)\n"
        "exit = crossunder(close, open)\n",
    };
    static const size_t lens[] = {1, 2, 3, 255, 256, 257, 511, 513, N};
    uint8_t e1[N], x1[N];
    int e2[N], x2[N];
    for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
        cb_rules_file_t *f = file_ok(rules[r]);
        cb_rules_program_t *p = compile_ok(f, NULL);
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            bars_t b;
            bars_from_closes(&b, c, lens[li], 3600000);
            cb_bar_view_t v = {b.n, b.t, b.o, b.h, b.l, b.c, b.v};
            cb_diag_t d;
            assert_int_equal(cb_rules_program_signals(p, &v, 3600000, e1, x1, &d), 0);
            run(p, &b, 3600000, e2, x2);
            for (size_t i = 0; i < b.n; i++) {
                if (e1[i] != e2[i] || x1[i] != x2[i])
                    fail_msg("rules %zu, %zu bars, bar %zu: batch %d/%d, steps %d/%d", r, b.n,
                             i, e1[i], x1[i], e2[i], x2[i]);
            }
            bars_free(&b);
        }
        cb_rules_program_free(p);
        cb_rules_file_free(f);
    }
}

static void test_functions(void **state)
{
    (void)state;
    const double c[] = {5, 7, 6, 9, 4, 4, 8, 10, 3, 6};
    bars_t b;
    bars_from_closes(&b, c, 10, 3600000);
    double *hi = values_of("highest(close, 3)", &b, NULL);
    double *lo = values_of("lowest(close, 4)", &b, NULL);
    double *ch = values_of("change(close, 2)", &b, NULL);
    double *lag = values_of("close[fast]", &b, "[params]\nfast = 3\n");
    double *ar = values_of("abs(open - close) + min(open, close) * 2 - max(1, 2) / 4", &b, NULL);
    double *lg = values_of("log(close) + sqrt(close)", &b, NULL);
    double *hx = values_of("hl2 + hlc3 * 10 + ohlc4 * 100 - volume", &b, NULL);
    for (size_t i = 0; i < 10; i++) {
        if (i < 2)
            assert_true(isnan(hi[i]));
        else
            assert_close(hi[i], fmax(c[i], fmax(c[i - 1], c[i - 2])), 0, 0);
        if (i < 3)
            assert_true(isnan(lo[i]));
        else
            assert_close(lo[i], fmin(fmin(c[i], c[i - 1]), fmin(c[i - 2], c[i - 3])), 0, 0);
        if (i < 2)
            assert_true(isnan(ch[i]));
        else
            assert_close(ch[i], c[i] - c[i - 2], 0, 0);
        if (i < 3)
            assert_true(isnan(lag[i]));
        else
            assert_close(lag[i], c[i - 3], 0, 0);
        assert_close(ar[i], fabs(b.o[i] - c[i]) + fmin(b.o[i], c[i]) * 2 - 0.5, 1e-12, 0);
        assert_close(lg[i], log(c[i]) + sqrt(c[i]), 1e-12, 0);
        double h = b.h[i], l = b.l[i];
        assert_close(hx[i], (h + l) / 2 + (h + l + c[i]) / 3 * 10 + (b.o[i] + h + l + c[i]) / 4 * 100
                                - b.v[i], 1e-12, 0);
    }
    free(hi);
    free(lo);
    free(ch);
    free(lag);
    free(ar);
    free(lg);
    free(hx);
    bars_free(&b);
}


/* highest/lowest (a monotonic deque) against brute force, with NaNs and repeated values. */
static void test_windows_brute_force(void **state)
{
    (void)state;
    size_t n = 3000;
    double *c = malloc(n * sizeof *c);
    uint64_t x = 7;
    for (size_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        c[i] = (double)((x >> 33) % 50); /* many ties */
        if ((x >> 20) % 97 == 0)
            c[i] = NAN;
    }
    bars_t b;
    bars_from_closes(&b, c, n, 3600000);
    static const size_t ws[] = {1, 2, 3, 7, 50};
    for (size_t k = 0; k < sizeof ws / sizeof ws[0]; k++) {
        size_t w = ws[k];
        char e1[64], e2[64];
        snprintf(e1, sizeof e1, "highest(close, %zu)", w);
        snprintf(e2, sizeof e2, "lowest(close, %zu)", w);
        double *hi = values_of(e1, &b, NULL), *lo = values_of(e2, &b, NULL);
        for (size_t i = 0; i < n; i++) {
            double mx = NAN, mn = NAN;
            if (i + 1 >= w) {
                mx = -INFINITY;
                mn = INFINITY;
                for (size_t j = i + 1 - w; j <= i; j++) {
                    if (isnan(c[j])) {
                        mx = mn = NAN;
                        break;
                    }
                    mx = fmax(mx, c[j]);
                    mn = fmin(mn, c[j]);
                }
            }
            if (isnan(mx)) {
                assert_true(isnan(hi[i]));
                assert_true(isnan(lo[i]));
            } else {
                assert_close(hi[i], mx, 0, 0);
                assert_close(lo[i], mn, 0, 0);
            }
        }
        free(hi);
        free(lo);
    }
    bars_free(&b);
    free(c);
}

/* Comparisons with NaN (warm-up) are false, including != ; `not` of such a comparison is true. */
static void test_nan_semantics(void **state)
{
    (void)state;
    const double c[] = {5, 7, 6, 9, 4};
    bars_t b;
    bars_from_closes(&b, c, 5, 3600000);
    cb_rules_file_t *f = file_ok("[strategy]\nentry = close != sma(close, 3) or close == "
                                 "sma(close, 3)\nexit = not (close > sma(close, 3))\n");
    cb_rules_program_t *p = compile_ok(f, NULL);
    int en[5], ex[5];
    run(p, &b, 0, en, ex);
    const int want_en[5] = {0, 0, 1, 1, 1};
    const int want_ex[5] = {1, 1, 1, 0, 1};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(en[i], want_en[i]);
        assert_int_equal(ex[i], want_ex[i]);
    }
    cb_rules_program_free(p);
    cb_rules_file_free(f);
    /* a past condition is false before the first bar, never NaN (which would read as true) */
    f = file_ok("[strategy]\nentry = (close > 0)[2] and close > 0\n"
                "exit = not (close > 100)[1]\n");
    p = compile_ok(f, NULL);
    run(p, &b, 0, en, ex);
    const int want_en2[5] = {0, 0, 1, 1, 1};
    const int want_ex2[5] = {1, 1, 1, 1, 1};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(en[i], want_en2[i]);
        assert_int_equal(ex[i], want_ex2[i]);
    }
    cb_rules_program_free(p);
    cb_rules_file_free(f);
    bars_free(&b);
}

static void test_position_state(void **state)
{
    (void)state;
    cb_rules_file_t *f = file_ok("[strategy]\nentry = close > 0\n"
                                 "exit = bars_held >= 2 or profit_pct > 10% or "
                                 "close < entry_price * 0.9\n");
    cb_rules_program_t *p = compile_ok(f, NULL);
    cb_rules_instance_t *inst;
    cb_diag_t d;
    assert_int_equal(cb_rules_instance_new(p, 0, &inst, &d), 0);
    int en, ex;
    /* flat: position values are NaN, so the exit is false */
    cb_rules_instance_step(inst, 0, 100, 101, 99, 100, 1, NULL, &en, &ex);
    assert_int_equal(en, 1);
    assert_int_equal(ex, 0);
    cb_position_view_t pos = {1, 1, 100, 1, 0.02};
    cb_rules_instance_step(inst, 1, 100, 103, 99, 102, 1, &pos, &en, &ex);
    assert_int_equal(ex, 0);
    pos.bars_held = 2;
    cb_rules_instance_step(inst, 2, 100, 103, 99, 102, 1, &pos, &en, &ex);
    assert_int_equal(ex, 1);
    pos.bars_held = 1;
    pos.profit_pct = 0.11;
    cb_rules_instance_step(inst, 3, 100, 113, 99, 111, 1, &pos, &en, &ex);
    assert_int_equal(ex, 1);
    pos.profit_pct = -0.2;
    cb_rules_instance_step(inst, 4, 100, 113, 79, 80, 1, &pos, &en, &ex);
    assert_int_equal(ex, 1);
    /* time must increase */
    assert_int_equal(cb_rules_instance_step(inst, 4, 1, 1, 1, 1, 1, NULL, &en, &ex), CB_EINVAL);
    cb_rules_instance_free(inst);
    cb_rules_program_free(p);
    cb_rules_file_free(f);
}


/* Evaluating bars never allocates: the heap in use is the same before and after 5000 bars of a
 * program with indicators, multi-output picks, windows, lags and a higher timeframe. */
static void test_no_allocation_per_bar(void **state)
{
    (void)state;
    cb_rules_file_t *f = file_ok(
        "[strategy]\ntimeframe = 1m\n"
        "entry = crossover(ema(close, 12), sma(close@15m, 4)) and macd(close, 12, 26, 9).hist > 0"
        " and highest(high, 30)[2] > low and stoch(14, 3, 3).k < 80\n"
        "exit = crossunder(close, bbands(close, 20, 2).lower) or profit_pct > 5%\n");
    cb_rules_program_t *p = compile_ok(f, NULL);
    cb_rules_instance_t *inst;
    cb_diag_t d;
    assert_int_equal(cb_rules_instance_new(p, 0, &inst, &d), 0);
    cb_position_view_t pos = {1, 3, 100, 1, 0.01};
    int en, ex;
    cb_rules_instance_step(inst, 0, 100, 101, 99, 100, 1, NULL, &en, &ex);
    struct mallinfo2 before = mallinfo2();
    for (int i = 1; i < 5000; i++) {
        double c = 100 + 5 * sin(i * 0.05);
        cb_rules_instance_step(inst, (int64_t)i * 60000, c, c + 1, c - 1, c, 1,
                               (i & 1) ? &pos : NULL, &en, &ex);
    }
    struct mallinfo2 after = mallinfo2();
    assert_int_equal(before.uordblks, after.uordblks);
    assert_int_equal(before.hblkhd, after.hblkhd);
    cb_rules_instance_free(inst);
    cb_rules_program_free(p);
    cb_rules_file_free(f);
}

/* ---- real data ------------------------------------------------------------------------- */

#define BTC_1D "ohlcv/binance_spot_BTCUSDT_1d_2017-08-17_2022-10-10.csv"

/* crossover(close, sma(close, 15)) on real daily candles against a direct computation. */
static void test_real_crossings(void **state)
{
    (void)state;
    bars_t b;
    if (load_csv(BTC_1D, &b) != 0) {
        SKIP_NO_SHARED();
        return;
    }
    assert_int_equal(b.n, 1881);
    cb_rules_file_t *f = file_ok("[strategy]\ntimeframe = 1d\n"
                                 "entry = crossover(close, sma(close, 15))\n"
                                 "exit = crossunder(close, sma(close, 15))\n");
    cb_rules_program_t *p = compile_ok(f, NULL);
    int *en = calloc(b.n, sizeof *en), *ex = calloc(b.n, sizeof *ex);
    run(p, &b, 0, en, ex);
    /* direct: the SMA by summing each window, the crossing by scanning back for the most
     * recent non-zero difference */
    double *diff = calloc(b.n, sizeof *diff);
    for (size_t i = 0; i < b.n; i++) {
        if (i < 14) {
            diff[i] = NAN;
            continue;
        }
        double s = 0;
        for (size_t k = i - 14; k <= i; k++)
            s += b.c[k];
        diff[i] = b.c[i] - s / 15;
    }
    size_t n_en = 0, n_ex = 0, mismatches = 0;
    for (size_t i = 0; i < b.n; i++) {
        int up = 0, down = 0;
        if (!isnan(diff[i]) && diff[i] != 0) {
            double prev = 0;
            for (size_t k = i; k-- > 0 && !isnan(diff[k]);)
                if (fabs(diff[k]) > 1e-9) {
                    prev = diff[k];
                    break;
                }
            up = diff[i] > 0 && prev < 0;
            down = diff[i] < 0 && prev > 0;
        }
        /* a float-rounding tie (|diff| ~ 0) could differ between summation orders */
        if (fabs(diff[i]) < 1e-6)
            continue;
        if (up != en[i] || down != ex[i]) {
            mismatches++;
            print_message("bar %zu: direct %d/%d rules %d/%d (diff %g)\n", i, up, down, en[i],
                          ex[i], diff[i]);
        }
        n_en += (size_t)up;
        n_ex += (size_t)down;
    }
    assert_int_equal(mismatches, 0);
    assert_true(n_en > 50);
    assert_true(n_ex > 50);
    assert_true(n_en - n_ex <= 1 || n_ex - n_en <= 1); /* they alternate */
    free(diff);
    free(en);
    free(ex);
    cb_rules_program_free(p);
    cb_rules_file_free(f);
    bars_free(&b);
}

/* close@1h at every 1m bar is the close of the last COMPLETED hour: never the running hour. */
static void test_higher_timeframe_no_lookahead(void **state)
{
    (void)state;
    bars_t b;
    if (load_csv("ohlcv/binance_spot_BTCUSDT_1m_2023-03-16_2023-05-01.csv", &b) != 0) {
        SKIP_NO_SHARED();
        return;
    }
    const int64_t H = 3600000, M = 60000;
    cb_rules_file_t *f = file_ok("[strategy]\ntimeframe = 1m\n"
                                 "entry = close@1h > -1e300 and high@1h > -1e300 and "
                                 "sma(close@1h, 3) > -1e300 and atr(5)@1h > -1e300\n");
    cb_rules_program_t *p = compile_ok(f, NULL);
    /* find the nodes: the series close@1h, high@1h and the sma over close@1h */
    int n_close = -1, n_high = -1, n_sma = -1, n_atr = -1;
    for (size_t i = 0; i < p->n_nodes; i++) {
        if (p->nodes[i].op == OP_SERIES && p->nodes[i].clock == 1 && p->nodes[i].k == 3)
            n_close = (int)i;
        if (p->nodes[i].op == OP_SERIES && p->nodes[i].clock == 1 && p->nodes[i].k == 1)
            n_high = (int)i;
        if (p->nodes[i].op == OP_TA && strcmp(p->nodes[i].ta->name, "sma") == 0)
            n_sma = (int)i;
        if (p->nodes[i].op == OP_TA && strcmp(p->nodes[i].ta->name, "atr") == 0)
            n_atr = (int)i;
    }
    assert_true(n_close >= 0 && n_high >= 0 && n_sma >= 0 && n_atr >= 0);
    assert_string_equal(cb_rules_program_indicator(p, 1)->text, "atr(5)@1h");
    cb_rules_instance_t *inst;
    cb_diag_t d;
    assert_int_equal(cb_rules_instance_new(p, 0, &inst, &d), 0);
    /* independent bookkeeping: completed hours (close, high, number of bars) */
    double last_close = NAN, last_high = NAN;
    double run_high = -INFINITY;
    int64_t run_bucket = INT64_MIN;
    double closes[3] = {NAN, NAN, NAN};
    size_t n_hours = 0, checked = 0;
    for (size_t i = 0; i < b.n; i++) {
        int64_t bucket = b.t[i] / H * H;
        if (run_bucket != INT64_MIN && bucket != run_bucket) {
            /* the previous hour ended without its last minute (a gap): complete now */
            if (b.t[i - 1] + M < run_bucket + H) {
                last_close = b.c[i - 1];
                last_high = run_high;
                closes[n_hours % 3] = last_close;
                n_hours++;
            }
            run_high = -INFINITY;
        }
        run_bucket = bucket;
        run_high = fmax(run_high, b.h[i]);
        if (b.t[i] + M == bucket + H) { /* this bar closes the hour */
            last_close = b.c[i];
            last_high = run_high;
            closes[n_hours % 3] = last_close;
            n_hours++;
            run_high = -INFINITY;
            run_bucket = INT64_MIN;
        }
        int en, ex;
        assert_int_equal(cb_rules_instance_step(inst, b.t[i], b.o[i], b.h[i], b.l[i], b.c[i],
                                                b.v[i], NULL, &en, &ex),
                         0);
        double got = rl_instance_value(inst, n_close);
        double got_h = rl_instance_value(inst, n_high);
        double got_sma = rl_instance_value(inst, n_sma);
        if (isnan(last_close)) {
            assert_true(isnan(got));
            continue;
        }
        if (got != last_close || got_h != last_high)
            print_message("bar %zu (t=%lld): close@1h %.2f want %.2f, high@1h %.2f want %.2f\n",
                          i, (long long)b.t[i], got, last_close, got_h, last_high);
        assert_true(got == last_close);
        assert_true(got_h == last_high);
        if (n_hours >= 3) {
            double want = (closes[0] + closes[1] + closes[2]) / 3;
            assert_close(got_sma, want, 1e-12, 0);
        } else {
            assert_true(isnan(got_sma));
        }
        checked++;
    }
    assert_true(n_hours > 1000);
    assert_true(checked > 60000);
    cb_rules_instance_free(inst);

    /* The same against the data layer's resampler: at each 1m bar, close@1h and high@1h are
     * those of the latest resampled hour that has ended by the bar's close. */
    cb_series_t *m1 = cb_series_new(b.n);
    assert_non_null(m1);
    for (size_t i = 0; i < b.n; i++)
        assert_int_equal(cb_series_push(m1, b.t[i], b.o[i], b.h[i], b.l[i], b.c[i], b.v[i]), 0);
    snprintf(m1->meta.timeframe, sizeof m1->meta.timeframe, "1m");
    cb_series_t *h1 = NULL;
    size_t incomplete = 0;
    cb_diag_t rd;
    assert_int_equal(cb_series_resample(m1, "1h", CB_RESAMPLE_KEEP_INCOMPLETE, &h1, &incomplete,
                                        &rd), 0);
    assert_true(h1->n > 1000);
    /* atr(5)@1h is the ATR of the hourly candles: the indicator table's batch ATR over the
     * resampled hours */
    double *atr = malloc(h1->n * sizeof *atr);
    const cb_ta_info_t *ai = cb_ta_find("atr");
    double aopts[CB_TA_MAX_OPTS] = {5};
    const double *ain[3] = {h1->high, h1->low, h1->close};
    double *aout[1] = {atr};
    assert_int_equal(cb_ta_batch(ai, h1->n, ain, aopts, aout), 0);
    assert_int_equal(cb_rules_instance_new(p, 0, &inst, &d), 0);
    size_t k = 0; /* h1 candles [0, k) have ended */
    for (size_t i = 0; i < b.n; i++) {
        int en, ex;
        cb_rules_instance_step(inst, b.t[i], b.o[i], b.h[i], b.l[i], b.c[i], b.v[i], NULL, &en,
                               &ex);
        while (k < h1->n && h1->time_ms[k] + H <= b.t[i] + M)
            k++;
        double got = rl_instance_value(inst, n_close);
        if (k == 0) {
            assert_true(isnan(got));
            continue;
        }
        assert_true(got == h1->close[k - 1]);
        assert_true(rl_instance_value(inst, n_high) == h1->high[k - 1]);
        double ga = rl_instance_value(inst, n_atr);
        if (isnan(atr[k - 1]))
            assert_true(isnan(ga));
        else
            assert_close(ga, atr[k - 1], 1e-12, 0);
    }
    free(atr);
    cb_series_free(m1);
    cb_series_free(h1);
    cb_rules_instance_free(inst);
    cb_rules_program_free(p);
    cb_rules_file_free(f);
    bars_free(&b);
}


/* The column-wise fast path gives exactly the bar-by-bar signals. */
static void test_batch_equals_streaming(void **state)
{
    (void)state;
    bars_t b;
    if (load_csv("ohlcv/binance_spot_BTCUSDT_1h_2017-08-17_2022-10-11.csv", &b) != 0) {
        SKIP_NO_SHARED();
        return;
    }
    static const char *const rules[] = {
        "entry = crossover(ema(close, 12), ema(close, 26)) and rsi(close, 14) < 70\n"
        "exit = crossunder(ema(close, 12), ema(close, 26))\n",
        "entry = macd(close, 12, 26, 9).macd > macd(close, 12, 26, 9).signal and "
        "close > bbands(close, 20, 2).middle and stoch(14, 3, 3).k < 80 and atr(14) > 0\n"
        "exit = close < lowest(low, 20)[1] or change(close, 3) < -2% or "
        "max(open, close) / min(open, close) > 1.03\n",
        "entry = crossover(hl2, sma(hlc3, 30)) and volume > highest(volume, 5)[1] * 0.5 "
        "and not (abs(close - open) > sqrt(close) * log(close))\n"
        "exit = crossunder(ohlc4, ema(close@4h, 10))\n",
        /* every operator, with the NaNs of warm-ups in them */
        "entry = (close - open) * 2 / (high - low + 1) > 0.3 and close >= sma(close, 10) or "
        "-close == -open or (close != open and not (close <= ema(close, 5)))\n"
        "exit = crossover(rsi(close, 14), 50) or crossunder(min(ema(close, 5), sma(close, 50)), "
        "max(wma(close, 10), open)) or abs(-change(close, 1)) > 200 or\n    "
        "correl(close, volume, 20) > 0.5 and vwap_session() < close\n",
        /* NaN inside the rules: sqrt and log of negatives, crossings through NaN */
        "entry = crossover(close, sma(close, 30)[5]) and sqrt(close - 20000) > 10 or "
        "log(close - 30000) < 8 and max(close - 20000, sqrt(close - 30000)) > 100\n"
        "exit = crossunder(log(close - 20000), log(open - 20000)) or "
        "min(beta(close, open, 5), 1) < -0.5 or\n    highest(close, 10)[1] < close and "
        "lowest(hlc3, 3) >= low\n",
        "entry = (min(sqrt(close - 30000), 2 * close) > 0 or min(close, 2 * sqrt(close - "
        "30000)) > 0) and crossover(ema(close, 10), sma(close, 20))\n"
        "exit = (max(log(close - 40000), open) > 0 or max(2 * open, log(close - 40000) * 2) > "
        "0) and crossunder(ema(close, 10), sma(close, 20))\n",
    };
    uint8_t *e1 = malloc(b.n), *x1 = malloc(b.n);
    int *e2 = malloc(b.n * sizeof(int)), *x2 = malloc(b.n * sizeof(int));
    for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
        char text[1024];
        snprintf(text, sizeof text, "[strategy]\ntimeframe = 1h\n%s", rules[r]);
        cb_rules_file_t *f = file_ok(text);
        cb_rules_program_t *p = compile_ok(f, NULL);
        /* the whole history, and lengths that end in an odd or short last chunk */
        const size_t lens[] = {b.n, b.n - 1, 1001, 3};
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            bars_t part = b;
            part.n = lens[li];
            cb_bar_view_t v = {part.n, b.t, b.o, b.h, b.l, b.c, b.v};
            cb_diag_t d;
            assert_int_equal(cb_rules_program_signals(p, &v, 0, e1, x1, &d), 0);
            run(p, &part, 0, e2, x2);
            size_t signals = 0;
            for (size_t i = 0; i < part.n; i++) {
                if (e1[i] != e2[i] || x1[i] != x2[i])
                    print_message("rules %zu bar %zu of %zu: batch %d/%d stream %d/%d\n", r,
                                  i, part.n, e1[i], x1[i], e2[i], x2[i]);
                assert_int_equal(e1[i], e2[i]);
                assert_int_equal(x1[i], x2[i]);
                signals += e1[i] + x1[i];
            }
            if (li == 0)
                assert_true(signals > 100);
        }
        cb_rules_program_free(p);
        cb_rules_file_free(f);
    }
    /* position state: unsupported (the signals depend on the trades) */
    cb_rules_file_t *f = file_ok("[strategy]\nentry = close > 0\nexit = bars_held > 3\n");
    cb_rules_program_t *p = compile_ok(f, NULL);
    assert_true(cb_rules_program_uses_position(p));
    cb_bar_view_t v = {b.n, b.t, b.o, b.h, b.l, b.c, b.v};
    cb_diag_t d;
    assert_int_equal(cb_rules_program_signals(p, &v, 0, e1, x1, &d), CB_EUNSUPPORTED);
    cb_rules_program_free(p);
    cb_rules_file_free(f);
    free(e1);
    free(x1);
    free(e2);
    free(x2);
    bars_free(&b);
}

/* ---- the engine's view and plug-ins ----------------------------------------------------- */

static const char *plugin_dir(char *buf, size_t size)
{
    const char *bin = getenv("COMEBACK_BIN");
    if (!bin)
        return NULL;
    const char *slash = strrchr(bin, '/');
    snprintf(buf, size, "%.*s/examples/plugins", slash ? (int)(slash - bin) : 1,
             slash ? bin : ".");
    return buf;
}

static void run_strategy(const cb_rules_strategy_t *s, const bars_t *b, int *en, int *ex)
{
    const cb_strategy_v1_t *vt;
    void *self;
    cb_diag_t d;
    assert_int_equal(cb_rules_strategy_instance(s, 0, &vt, &self, &d), 0);
    cb_position_view_t pos = {0};
    for (size_t i = 0; i < b->n; i++) {
        cb_bar_view_t v = {i + 1, b->t, b->o, b->h, b->l, b->c, b->v};
        cb_decision_t dec;
        assert_int_equal(vt->on_bar(self, &v, &pos, &dec), 0);
        en[i] = dec.enter;
        ex[i] = dec.exit;
    }
    /* a rules instance refuses to go back in time */
    if (!cb_rules_strategy_is_plugin(s)) {
        cb_bar_view_t v = {b->n, b->t, b->o, b->h, b->l, b->c, b->v};
        cb_decision_t dec;
        assert_int_equal(vt->on_bar(self, &v, &pos, &dec), CB_ESTATE);
    }
    vt->destroy(self);
    /* starting late: the bars before the first call are consumed as history, so the
     * decisions from there on are the same as for a run from the start */
    if (!cb_rules_strategy_is_plugin(s)) {
        assert_int_equal(cb_rules_strategy_instance(s, 0, &vt, &self, &d), 0);
        for (size_t i = b->n / 2; i < b->n; i++) {
            cb_bar_view_t v = {i + 1, b->t, b->o, b->h, b->l, b->c, b->v};
            cb_decision_t dec;
            assert_int_equal(vt->on_bar(self, &v, &pos, &dec), 0);
            assert_int_equal(dec.enter, en[i]);
            assert_int_equal(dec.exit, ex[i]);
        }
        vt->destroy(self);
    }
}

static void test_plugin_equivalence(void **state)
{
    (void)state;
    bars_t b;
    if (load_csv(BTC_1D, &b) != 0) {
        SKIP_NO_SHARED();
        return;
    }
    char dir[1024], path[1200], ini[1200];
    assert_non_null(plugin_dir(dir, sizeof dir));
    const char *src = getenv("COMEBACK_SOURCE_DIR");
    assert_non_null(src);
    snprintf(ini, sizeof ini, "%s/examples/plugins/ema_cross/ema_cross.ini", src);
    cb_diags_t d = {0};
    cb_rules_file_t *f = NULL;
    assert_int_equal(cb_rules_file_load(ini, &f, &d), 0);
    cb_rules_strategy_t *rules = NULL, *plug = NULL;
    assert_int_equal(cb_rules_strategy_new(f, NULL, &rules, &d), 0);
    assert_false(cb_rules_strategy_is_plugin(rules));
    assert_non_null(cb_rules_strategy_program(rules));
    /* the plug-in, with the same parameters, through a file naming it */
    snprintf(path, sizeof path, "%s/ema_cross.so", dir);
    char text[1600];
    snprintf(text, sizeof text, "[strategy]\nplugin = %s\n[params]\nfast = 12\nslow = 26\n",
             path);
    cb_rules_file_t *pf = file_ok(text);
    assert_int_equal(cb_rules_strategy_new(pf, NULL, &plug, &d), 0);
    assert_true(cb_rules_strategy_is_plugin(plug));
    int *en1 = calloc(b.n, sizeof(int)), *ex1 = calloc(b.n, sizeof(int));
    int *en2 = calloc(b.n, sizeof(int)), *ex2 = calloc(b.n, sizeof(int));
    run_strategy(rules, &b, en1, ex1);
    run_strategy(plug, &b, en2, ex2);
    size_t signals = 0;
    for (size_t i = 0; i < b.n; i++) {
        if (en1[i] != en2[i] || ex1[i] != ex2[i])
            print_message("bar %zu: rules %d/%d plug-in %d/%d\n", i, en1[i], ex1[i], en2[i],
                          ex2[i]);
        assert_int_equal(en1[i], en2[i]);
        assert_int_equal(ex1[i], ex2[i]);
        signals += (size_t)(en1[i] + ex1[i]);
    }
    assert_true(signals > 20);
    /* a parameter override reaches the plug-in too */
    double v[2] = {5, 30};
    cb_rules_strategy_t *plug2 = NULL;
    assert_int_equal(cb_rules_strategy_new(pf, v, &plug2, &d), 0);
    const cb_strategy_v1_t *vt;
    void *self;
    cb_diag_t e;
    assert_int_equal(cb_rules_strategy_instance(plug2, 0, &vt, &self, &e), 0);
    assert_int_equal(vt->warmup(self), 30);
    vt->destroy(self);
    cb_rules_strategy_free(plug2);
    free(en1);
    free(ex1);
    free(en2);
    free(ex2);
    cb_rules_strategy_free(rules);
    cb_rules_strategy_free(plug);
    cb_rules_file_free(f);
    cb_rules_file_free(pf);
    cb_diags_free(&d);
    bars_free(&b);
}

static void test_plugin_errors(void **state)
{
    (void)state;
    char dir[1024], path[1200];
    assert_non_null(plugin_dir(dir, sizeof dir));
    cb_rules_strategy_t *s = NULL;
    cb_diag_t d;
    snprintf(path, sizeof path, "%s/abi_v99.so", dir);
    assert_int_equal(cb_rules_plugin_load(path, &s, &d), CB_EUNSUPPORTED);
    assert_null(s);
    assert_string_equal(d.msg, "ABI version mismatch: the plug-in was built for version 99, "
                               "this comeback loads version 1; rebuild it against "
                               "include/comeback/strategy.h");
    /* a shared object without the entry symbol */
    assert_int_equal(cb_rules_plugin_load("/lib/x86_64-linux-gnu/libm.so.6", &s, &d),
                     CB_ENOENT);
    assert_string_equal(d.msg, "the plug-in does not export 'cb_strategy_entry_v1' (see "
                               "docs/plugins.md)");
    assert_int_equal(cb_rules_plugin_load("/nonexistent/x.so", &s, &d), CB_ENOENT);
    assert_non_null(strstr(d.msg, "cannot load the plug-in"));
    /* init's refusal comes back as a diagnostic */
    snprintf(path, sizeof path, "%s/ema_cross.so", dir);
    char text[1400];
    snprintf(text, sizeof text, "[strategy]\nplugin = %s\n[params]\nfats = 3\n", path);
    cb_rules_file_t *f = file_ok(text);
    cb_diags_t ds = {0};
    assert_int_equal(cb_rules_strategy_new(f, NULL, &s, &ds), 0);
    const cb_strategy_v1_t *vt;
    void *self;
    assert_int_equal(cb_rules_strategy_instance(s, 0, &vt, &self, &d), CB_EINVAL);
    assert_string_equal(d.msg, "init failed: unknown parameter 'fats' (ema_cross takes fast "
                               "and slow)");
    cb_rules_strategy_free(s);
    cb_rules_file_free(f);
    cb_diags_free(&ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cse_node_counts),
        cmocka_unit_test(test_constant_folding),
        cmocka_unit_test(test_crossover_definition),
        cmocka_unit_test(test_crossover_batch),
        cmocka_unit_test(test_functions),
        cmocka_unit_test(test_windows_brute_force),
        cmocka_unit_test(test_nan_semantics),
        cmocka_unit_test(test_position_state),
        cmocka_unit_test(test_no_allocation_per_bar),
        cmocka_unit_test(test_real_crossings),
        cmocka_unit_test(test_higher_timeframe_no_lookahead),
        cmocka_unit_test(test_batch_equals_streaming),
        cmocka_unit_test(test_plugin_equivalence),
        cmocka_unit_test(test_plugin_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
