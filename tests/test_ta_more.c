/* ta/: the indicators of ind_volatility.c, ind_directional.c, ind_oscillators.c, ind_sar.c and
 * ind_extra.c against TA-Lib's generated BTC/USDT series, TA-Lib's regression tables, Tulip's
 * and backtrader's vectors and hand-computed values; streaming against batch; edge cases. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/ta.h"
#include "testutil.h"

enum { IN_OPEN, IN_HIGH, IN_LOW, IN_CLOSE, IN_VOLUME, IN_TIME };

/* Which column feeds an input name of the table ("real" is close, as in `comeback ta`). */
static int input_col(const char *name)
{
    static const char *names[] = {"open", "high", "low", "close", "volume", "time"};
    for (int k = 0; k < 6; k++)
        if (strcmp(names[k], name) == 0)
            return k;
    return IN_CLOSE;
}

static const cb_ta_info_t *find_ind(const char *name)
{
    const cb_ta_info_t *d = cb_ta_find(name);
    if (!d)
        fail_msg("indicator %s is not in the table", name);
    return d;
}

/* ---- Data loading ----------------------------------------------------------------------- */

typedef struct table {
    size_t n_rows, n_cols;
    char **names;
    double *cells; /* row-major; NaN for empty cells */
} table_t;

static void table_free(table_t *t)
{
    for (size_t c = 0; c < t->n_cols; c++)
        free(t->names[c]);
    free(t->names);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

/* Reads a CSV with a header (gzip-compressed when the name ends in .gz). */
static int table_load(const char *path, table_t *t)
{
    memset(t, 0, sizeof *t);
    size_t len = strlen(path);
    int gz = len > 3 && strcmp(path + len - 3, ".gz") == 0;
    FILE *f;
    if (gz) {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "gzip -dc '%s'", path);
        f = popen(cmd, "r");
    } else {
        f = fopen(path, "r");
    }
    if (!f)
        return -1;
    size_t cap = 0;
    char *line = NULL;
    ssize_t got;
    size_t cap_rows = 0;
    while ((got = getline(&line, &cap, f)) > 0) {
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
            line[--got] = 0;
        if (!t->names) {
            size_t nc = 1;
            for (char *p = line; *p; p++)
                nc += *p == ',';
            t->n_cols = nc;
            t->names = calloc(nc, sizeof *t->names);
            char *save = NULL, *tok = strtok_r(line, ",", &save);
            for (size_t c = 0; c < nc && tok; c++, tok = strtok_r(NULL, ",", &save))
                t->names[c] = strdup(tok);
            continue;
        }
        if (t->n_rows == cap_rows) {
            cap_rows = cap_rows ? cap_rows * 2 : 1024;
            t->cells = realloc(t->cells, cap_rows * t->n_cols * sizeof(double));
        }
        double *row = t->cells + t->n_rows * t->n_cols;
        char *p = line;
        for (size_t c = 0; c < t->n_cols; c++) {
            char *end = p;
            while (*end && *end != ',')
                end++;
            row[c] = end == p ? NAN : strtod(p, NULL);
            p = *end ? end + 1 : end;
        }
        t->n_rows++;
    }
    free(line);
    if (gz)
        pclose(f);
    else
        fclose(f);
    return t->names ? 0 : -1;
}

static long table_col(const table_t *t, const char *name)
{
    for (size_t c = 0; c < t->n_cols; c++)
        if (t->names[c] && strcmp(t->names[c], name) == 0)
            return (long)c;
    return -1;
}

static double *table_column(const table_t *t, size_t c)
{
    double *v = malloc(t->n_rows * sizeof *v);
    for (size_t r = 0; r < t->n_rows; r++)
        v[r] = t->cells[r * t->n_cols + c];
    return v;
}

/* OHLCV columns: open, high, low, close, volume, time. */
typedef struct ohlcv {
    size_t n;
    double *col[6];
} ohlcv_t;

static void ohlcv_free(ohlcv_t *o)
{
    for (int k = 0; k < 6; k++)
        free(o->col[k]);
}

static int ohlcv_load(const char *path, ohlcv_t *o)
{
    table_t t;
    if (table_load(path, &t) != 0)
        return -1;
    const char *names[6] = {"open", "high", "low", "close", "volume", NULL};
    o->n = t.n_rows;
    for (int k = 0; k < 5; k++) {
        long c = table_col(&t, names[k]);
        o->col[k] = c < 0 ? NULL : table_column(&t, (size_t)c);
    }
    o->col[IN_TIME] = table_column(&t, 0);
    table_free(&t);
    return 0;
}

/* ---- Running an indicator ------------------------------------------------------------- */

static double **alloc_outs(int n_out, size_t n)
{
    double **o = calloc((size_t)n_out, sizeof *o);
    for (int k = 0; k < n_out; k++)
        o[k] = malloc((n ? n : 1) * sizeof(double));
    return o;
}

static void free_outs(double **o, int n_out)
{
    for (int k = 0; k < n_out; k++)
        free(o[k]);
    free(o);
}

static double **run_batch(const cb_ta_info_t *d, const double *opts, double *const *cols,
                          size_t n)
{
    const double *in[CB_TA_MAX_INPUTS];
    for (int k = 0; k < d->n_inputs; k++)
        in[k] = cols[input_col(d->inputs[k])];
    double **o = alloc_outs(d->n_outputs, n);
    assert_int_equal(cb_ta_batch(d, n, in, opts, o), 0);
    return o;
}

static double **run_stream(const cb_ta_info_t *d, const double *opts, double *const *cols,
                           size_t n)
{
    double **o = alloc_outs(d->n_outputs, n);
    cb_ta_stream_t *st = cb_ta_stream_new(d, opts);
    assert_non_null(st);
    for (size_t i = 0; i < n; i++) {
        double in[CB_TA_MAX_INPUTS], out[CB_TA_MAX_OUTPUTS];
        for (int k = 0; k < d->n_inputs; k++)
            in[k] = cols[input_col(d->inputs[k])][i];
        cb_ta_stream_push(st, in, out);
        for (int k = 0; k < d->n_outputs; k++)
            o[k][i] = out[k];
    }
    cb_ta_stream_free(st);
    return o;
}

/* ---- TA-Lib's generated series over 45,024 BTC/USDT hours ----------------------------- */

static const char *OHLCV_1H = "ohlcv/binance_spot_BTCUSDT_1h_2017-08-17_2022-10-11.csv";
static const char *TALIB_1H = "talib/talib_generated_BTCUSDT_1h_2017-2022_series.csv.gz";

typedef struct talib_case {
    const char *column; /* as named in the file */
    const char *ind;
    double opts[4];
    int out; /* which output */
} talib_case_t;

static const talib_case_t TALIB_CASES[] = {
    {"atr:14", "atr", {14}, 0},
    {"natr:14", "natr", {14}, 0},
    {"adx:14", "adx", {14}, 0},
    {"cci:20", "cci", {20}, 0},
    {"mfi:14", "mfi", {14}, 0},
    {"willr:14", "willr", {14}, 0},
    {"stoch:14:3:3.k", "stoch", {14, 3, 3}, 0},
    {"stoch:14:3:3.d", "stoch", {14, 3, 3}, 1},
    {"sar:0.02:0.2", "sar", {0.02, 0.2}, 0},
    {"aroon:14.down", "aroon", {14}, 0},
    {"aroon:14.up", "aroon", {14}, 1},
    {"ultosc:7:14:28", "ultosc", {7, 14, 28}, 0},
};

static void test_talib_series(void **state)
{
    (void)state;
    char p1[1024], p2[1024];
    if (!tu_shared_path(OHLCV_1H, p1, sizeof p1) || !tu_shared_path(TALIB_1H, p2, sizeof p2)) {
        SKIP_NO_SHARED();
        return;
    }
    ohlcv_t o = {0};
    table_t ref;
    assert_int_equal(ohlcv_load(p1, &o), 0);
    assert_int_equal(table_load(p2, &ref), 0);
    assert_int_equal(ref.n_rows, o.n);
    int failures = 0;
    for (size_t c = 0; c < sizeof TALIB_CASES / sizeof TALIB_CASES[0]; c++) {
        const talib_case_t *tc = &TALIB_CASES[c];
        const cb_ta_info_t *d = find_ind(tc->ind);
        long col = table_col(&ref, tc->column);
        assert_true(col >= 0);
        double **out = run_batch(d, tc->opts, o.col, o.n);
        /* the streaming form must give the very same numbers */
        double **str = run_stream(d, tc->opts, o.col, o.n);
        for (size_t i = 0; i < o.n; i++) {
            double a = out[tc->out][i], b = str[tc->out][i];
            if (!(a == b || (isnan(a) && isnan(b))))
                fail_msg("%s bar %zu: batch %.17g stream %.17g", tc->column, i, a, b);
        }
        free_outs(str, d->n_outputs);
        int lb = cb_ta_lookback(d, tc->opts);
        size_t bad = 0, compared = 0;
        double worst = 0;
        for (size_t i = 0; i < o.n; i++) {
            double want = ref.cells[i * ref.n_cols + (size_t)col];
            double got = out[tc->out][i];
            if ((long)i < lb) {
                if (!isnan(got) || !isnan(want)) {
                    if (bad++ < 3)
                        print_message("%s bar %zu (before lookback %d): got %.17g want %.17g\n",
                                      tc->column, i, lb, got, want);
                }
                continue;
            }
            compared++;
            double err = fabs(got - want);
            double scale = fabs(want) > 1 ? fabs(want) : 1;
            if (!(err <= 1e-9 * scale)) {
                if (bad++ < 3)
                    print_message("%s bar %zu: got %.17g want %.17g\n", tc->column, i, got,
                                  want);
            }
            if (err / scale > worst)
                worst = err / scale;
        }
        print_message("%-16s %zu bars compared, worst relative error %.3g, %zu bad\n",
                      tc->column, compared, worst, bad);
        failures += bad > 0;
        free_outs(out, d->n_outputs);
    }
    ohlcv_free(&o);
    table_free(&ref);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_talib_series),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
