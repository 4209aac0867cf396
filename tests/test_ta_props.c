/* Properties every indicator of the table must have (runs on EVERY entry automatically):
 * - streaming equals batch (bit for bit, or within 1e-12 relative to the value or to the
 *   output's typical magnitude) on synthetic and real data, for several option sets;
 * - the first value is exactly at the lookback; nothing before it;
 * - chunking independence: a streaming state copied with memcpy at arbitrary points (snapshot)
 *   continues identically; batch over a prefix equals the full batch (no lookahead);
 * - bad input: a NaN bar in the middle restarts the indicator (documented convention), a
 *   series shorter than the lookback gives only NaN, invalid options are rejected everywhere,
 *   all-equal prices give finite values (no NaN spreading). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/ta.h"
#include "testutil.h"

typedef struct cols {
    size_t n;
    double *open, *high, *low, *close, *volume, *other, *time;
} cols_t;

static void cols_free(cols_t *c)
{
    free(c->open);
    free(c->high);
    free(c->low);
    free(c->close);
    free(c->volume);
    free(c->other);
    free(c->time);
    memset(c, 0, sizeof *c);
}

static void cols_alloc(cols_t *c, size_t n)
{
    c->n = n;
    c->open = calloc(n + 1, sizeof(double));
    c->high = calloc(n + 1, sizeof(double));
    c->low = calloc(n + 1, sizeof(double));
    c->close = calloc(n + 1, sizeof(double));
    c->volume = calloc(n + 1, sizeof(double));
    c->other = calloc(n + 1, sizeof(double));
    c->time = calloc(n + 1, sizeof(double));
    assert_non_null(c->other);
    assert_non_null(c->time);
    /* hourly bars from 2024-01-01 00:00 UTC (several sessions for session-anchored ones) */
    for (size_t i = 0; i < n; i++)
        c->time[i] = 1704067200000.0 + 3600000.0 * (double)i;
}

static uint64_t rng_state = 88172645463325252ull;
static double urand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* A deterministic random walk with OHLC relations respected. */
static void synth(cols_t *c, size_t n)
{
    cols_alloc(c, n);
    double p = 100.0, q = 50.0;
    for (size_t i = 0; i < n; i++) {
        double o = p;
        p *= exp((urand() - 0.5) * 0.04);
        double h = fmax(o, p) * (1.0 + urand() * 0.01), l = fmin(o, p) * (1.0 - urand() * 0.01);
        c->open[i] = o;
        c->high[i] = h;
        c->low[i] = l;
        c->close[i] = p;
        c->volume[i] = (i % 17 == 5) ? 0.0 : 1000.0 * urand();
        q = q * 0.7 + p * 0.3 * (1.0 + (urand() - 0.5) * 0.05);
        c->other[i] = q;
    }
}

static void flat(cols_t *c, size_t n, double v)
{
    cols_alloc(c, n);
    for (size_t i = 0; i < n; i++) {
        c->open[i] = c->high[i] = c->low[i] = c->close[i] = c->other[i] = v;
        c->volume[i] = 10.0;
    }
}

/* A minimal reader of the shared OHLCV CSV (only for this test, until data readers land):
 * time,open,high,low,close,volume with a header. */
static int load_real(cols_t *c, size_t max_rows)
{
    char path[1024];
    if (!tu_shared_path("ohlcv/binance_spot_BTCUSDT_1h_2017-08-17_2022-10-11.csv", path,
                        sizeof path))
        return -1;
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    cols_alloc(c, max_rows);
    char line[512];
    size_t n = 0;
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return -1;
    }
    while (n < max_rows && fgets(line, sizeof line, f)) {
        double t, o, h, l, cl, v;
        if (sscanf(line, "%lf,%lf,%lf,%lf,%lf,%lf", &t, &o, &h, &l, &cl, &v) != 6)
            continue;
        c->open[n] = o;
        c->high[n] = h;
        c->low[n] = l;
        c->close[n] = cl;
        c->volume[n] = v;
        c->other[n] = (o + h + l) / 3.0;
        c->time[n] = t;
        n++;
    }
    fclose(f);
    c->n = n;
    return 0;
}

static const double *input_for(const cols_t *c, const char *name)
{
    if (!strcmp(name, "open"))
        return c->open;
    if (!strcmp(name, "high"))
        return c->high;
    if (!strcmp(name, "low"))
        return c->low;
    if (!strcmp(name, "volume"))
        return c->volume;
    if (!strcmp(name, "real1"))
        return c->other;
    if (!strcmp(name, "time"))
        return c->time;
    return c->close; /* real, real0, close */
}

/* Option sets to try: defaults, integer options at their minimum, at min+3, at min+7. */
static int option_sets(const cb_ta_info_t *info, double sets[4][CB_TA_MAX_OPTS])
{
    for (int s = 0; s < 4; s++) {
        for (int k = 0; k < CB_TA_MAX_OPTS; k++)
            sets[s][k] = 0;
        for (int k = 0; k < info->n_opts; k++) {
            const cb_ta_opt_info_t *o = &info->opts[k];
            double v = o->def;
            if (o->integer && s > 0) {
                static const double add[4] = {0, 0, 3, 7};
                v = o->min + add[s];
                if (v > o->max)
                    v = o->max;
                if (v > 60)
                    v = 60;
            }
            sets[s][k] = v;
        }
    }
    return 4;
}

static int close_enough(double a, double b, double scale)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    if (a == b)
        return 1;
    double d = fabs(a - b);
    return d <= 1e-12 * fmax(fabs(a), fabs(b)) || d <= 1e-12 * scale;
}

typedef struct run {
    double *out[CB_TA_MAX_OUTPUTS];
} run_t;

static void run_alloc(run_t *r, const cb_ta_info_t *info, size_t n)
{
    memset(r, 0, sizeof *r);
    for (int k = 0; k < info->n_outputs; k++) {
        r->out[k] = malloc((n + 1) * sizeof(double));
        assert_non_null(r->out[k]);
    }
}

static void run_free(run_t *r)
{
    for (int k = 0; k < CB_TA_MAX_OUTPUTS; k++)
        free(r->out[k]);
}

static void get_inputs(const cb_ta_info_t *info, const cols_t *c, size_t from,
                       const double *in[CB_TA_MAX_INPUTS])
{
    for (int k = 0; k < info->n_inputs; k++)
        in[k] = input_for(c, info->inputs[k]) + from;
}

static double col_scale(const double *v, size_t n)
{
    double s = 0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i])) {
            s += fabs(v[i]);
            m++;
        }
    return m ? s / (double)m : 1.0;
}

/* Streams c through a state, copying the state to a new buffer every `copy_every` bars (0 =
 * never), and compares with batch. */
static void check_stream(const cb_ta_info_t *info, const double *opts, const cols_t *c,
                         const run_t *batch, size_t copy_every, const char *what)
{
    size_t size = cb_ta_stream_size(info, opts);
    assert_true(size > 0);
    void *st = aligned_alloc(16, (size + 15) & ~(size_t)15);
    assert_non_null(st);
    assert_int_equal(cb_ta_stream_init(info, st, opts), 0);
    int lb = cb_ta_lookback(info, opts);
    const double *in[CB_TA_MAX_INPUTS];
    get_inputs(info, c, 0, in);
    double scale[CB_TA_MAX_OUTPUTS];
    for (int k = 0; k < info->n_outputs; k++)
        scale[k] = col_scale(batch->out[k], c->n);
    for (size_t i = 0; i < c->n; i++) {
        double bar[CB_TA_MAX_INPUTS], out[CB_TA_MAX_OUTPUTS];
        for (int k = 0; k < info->n_inputs; k++)
            bar[k] = in[k][i];
        int valid = cb_ta_stream_update(info, st, bar, out);
        int any_valid = 0;
        for (int k = 0; k < info->n_outputs; k++) {
            if (!close_enough(out[k], batch->out[k][i], scale[k]))
                fail_msg("%s %s(%g,%g,%g,%g) output %s bar %zu: stream %.17g batch %.17g", what,
                         info->name, opts[0], opts[1], opts[2], opts[3], info->outputs[k], i,
                         out[k], batch->out[k][i]);
            if (!isnan(out[k]))
                any_valid = 1;
        }
        if (valid != any_valid && !(valid == 1 && !any_valid))
            fail_msg("%s %s bar %zu: update returned %d, outputs say %d", what, info->name, i,
                     valid, any_valid);
        if (copy_every && (i % copy_every) == copy_every - 1) {
            void *st2 = aligned_alloc(16, (size + 15) & ~(size_t)15);
            assert_non_null(st2);
            memcpy(st2, st, size);
            memset(st, 0xA5, size);
            free(st);
            st = st2;
        }
    }
    (void)lb;
    free(st);
}

static void check_one(const cb_ta_info_t *info, const double *opts, const cols_t *c,
                      const char *what, int finite_data)
{
    size_t n = c->n;
    int lb = cb_ta_lookback(info, opts);
    assert_true(lb >= 0);
    run_t full;
    run_alloc(&full, info, n);
    const double *in[CB_TA_MAX_INPUTS];
    get_inputs(info, c, 0, in);
    assert_int_equal(cb_ta_batch(info, n, in, opts, full.out), 0);

    /* the first value is exactly at the lookback (finite data) */
    if (finite_data) {
        for (int k = 0; k < info->n_outputs; k++) {
            for (size_t i = 0; i < n; i++) {
                int is_nan = isnan(full.out[k][i]);
                if ((i < (size_t)lb) != is_nan)
                    fail_msg("%s %s(%g,%g,%g,%g) output %s bar %zu (lookback %d): %.17g", what,
                             info->name, opts[0], opts[1], opts[2], opts[3], info->outputs[k],
                             i, lb, full.out[k][i]);
            }
        }
    }

    /* streaming equals batch, with and without state copies */
    check_stream(info, opts, c, &full, 0, what);
    check_stream(info, opts, c, &full, 37, what);

    /* no lookahead: batch over prefixes equals the full batch there */
    static const size_t cuts[] = {1, 2, 17, 100, 333};
    for (size_t ci = 0; ci < sizeof cuts / sizeof cuts[0]; ci++) {
        size_t m = cuts[ci] < n ? cuts[ci] : n;
        m = n - m; /* drop the last cuts[ci] bars */
        run_t part;
        run_alloc(&part, info, m);
        assert_int_equal(cb_ta_batch(info, m, in, opts, part.out), 0);
        for (int k = 0; k < info->n_outputs; k++)
            for (size_t i = 0; i < m; i++)
                if (!(part.out[k][i] == full.out[k][i] ||
                      (isnan(part.out[k][i]) && isnan(full.out[k][i]))))
                    fail_msg("%s %s output %s bar %zu changed when %zu later bars were added: "
                             "%.17g vs %.17g",
                             what, info->name, info->outputs[k], i, n - m, part.out[k][i],
                             full.out[k][i]);
        run_free(&part);
    }
    run_free(&full);
}

static void for_each_set(const cols_t *c, const char *what, int finite_data)
{
    for (size_t t = 0; t < cb_ta_count(); t++) {
        const cb_ta_info_t *info = cb_ta_at(t);
        double sets[4][CB_TA_MAX_OPTS];
        int ns = option_sets(info, sets);
        for (int s = 0; s < ns; s++)
            check_one(info, sets[s], c, what, finite_data);
    }
}

static void test_synthetic(void **state)
{
    (void)state;
    cols_t c;
    synth(&c, 1500);
    for_each_set(&c, "synthetic", 1);
    cols_free(&c);
}

static void test_real(void **state)
{
    (void)state;
    cols_t c;
    if (load_real(&c, 6000) != 0) {
        SKIP_NO_SHARED();
        return;
    }
    for_each_set(&c, "real", 1);
    cols_free(&c);
}

/* A NaN bar restarts the indicator: outputs there are NaN, and afterwards equal to batch run
 * on the series that starts after the NaN. */
static void test_nan_restart(void **state)
{
    (void)state;
    cols_t c;
    synth(&c, 800);
    size_t bad = 400;
    for (size_t t = 0; t < cb_ta_count(); t++) {
        const cb_ta_info_t *info = cb_ta_at(t);
        for (int which = 0; which < info->n_inputs; which++) {
            cols_t d;
            cols_alloc(&d, c.n);
            memcpy(d.open, c.open, c.n * sizeof(double));
            memcpy(d.high, c.high, c.n * sizeof(double));
            memcpy(d.low, c.low, c.n * sizeof(double));
            memcpy(d.close, c.close, c.n * sizeof(double));
            memcpy(d.volume, c.volume, c.n * sizeof(double));
            memcpy(d.other, c.other, c.n * sizeof(double));
            memcpy(d.time, c.time, c.n * sizeof(double));
            double *target = (double *)input_for(&d, info->inputs[which]);
            target[bad] = NAN;
            double opts[CB_TA_MAX_OPTS];
            assert_int_equal(cb_ta_check_opts(info, opts, 0, NULL), 0);
            int lb = cb_ta_lookback(info, opts);
            run_t full, tail;
            run_alloc(&full, info, d.n);
            run_alloc(&tail, info, d.n);
            const double *in[CB_TA_MAX_INPUTS];
            get_inputs(info, &d, 0, in);
            assert_int_equal(cb_ta_batch(info, d.n, in, opts, full.out), 0);
            get_inputs(info, &d, bad + 1, in);
            assert_int_equal(cb_ta_batch(info, d.n - bad - 1, in, opts, tail.out), 0);
            for (int k = 0; k < info->n_outputs; k++) {
                if (!isnan(full.out[k][bad]))
                    fail_msg("%s: output at the NaN bar is %.17g", info->name, full.out[k][bad]);
                for (size_t i = bad + 1; i < d.n; i++) {
                    double a = full.out[k][i], b = tail.out[k][i - bad - 1];
                    if (!(a == b || (isnan(a) && isnan(b))))
                        fail_msg("%s output %s bar %zu after NaN: %.17g vs restart %.17g",
                                 info->name, info->outputs[k], i, a, b);
                    if (i > bad + (size_t)lb && isnan(a))
                        fail_msg("%s output %s bar %zu: NaN spread past the lookback",
                                 info->name, info->outputs[k], i);
                }
            }
            check_stream(info, opts, &d, &full, 0, "nan");
            run_free(&full);
            run_free(&tail);
            cols_free(&d);
        }
    }
    cols_free(&c);
}

/* Too short a series: only NaN, no crash, returns 0 (also n == 0). */
static void test_short_series(void **state)
{
    (void)state;
    cols_t c;
    synth(&c, 40);
    for (size_t t = 0; t < cb_ta_count(); t++) {
        const cb_ta_info_t *info = cb_ta_at(t);
        double opts[CB_TA_MAX_OPTS];
        assert_int_equal(cb_ta_check_opts(info, opts, 0, NULL), 0);
        for (int k = 0; k < info->n_opts; k++)
            if (info->opts[k].integer && info->opts[k].max >= 50)
                opts[k] = 50;
        int lb = cb_ta_lookback(info, opts);
        size_t n = (size_t)lb < c.n ? (size_t)lb : c.n;
        run_t r;
        run_alloc(&r, info, c.n);
        const double *in[CB_TA_MAX_INPUTS];
        get_inputs(info, &c, 0, in);
        assert_int_equal(cb_ta_batch(info, n, in, opts, r.out), 0);
        for (int k = 0; k < info->n_outputs; k++)
            for (size_t i = 0; i < n; i++)
                if (!isnan(r.out[k][i]))
                    fail_msg("%s: value %.17g at bar %zu before lookback %d", info->name,
                             r.out[k][i], i, lb);
        assert_int_equal(cb_ta_batch(info, 0, in, opts, r.out), 0);
        run_free(&r);
    }
    cols_free(&c);
}

static void test_invalid_options(void **state)
{
    (void)state;
    double dummy[4] = {1, 2, 3, 4};
    const double *in[CB_TA_MAX_INPUTS] = {dummy, dummy, dummy, dummy, dummy};
    double o[4][4];
    double *out[CB_TA_MAX_OUTPUTS] = {o[0], o[1], o[2], o[3], o[0]};
    for (size_t t = 0; t < cb_ta_count(); t++) {
        const cb_ta_info_t *info = cb_ta_at(t);
        double opts[CB_TA_MAX_OPTS];
        cb_diag_t d;
        /* too many options */
        assert_int_equal(cb_ta_check_opts(info, opts, info->n_opts + 1, &d), CB_EINVAL);
        for (int k = 0; k < info->n_opts; k++) {
            const cb_ta_opt_info_t *oi = &info->opts[k];
            double bad[4] = {oi->min - 1.0, oi->max + 1.0, NAN, oi->integer ? oi->min + 0.5 : NAN};
            if (oi->min <= -1e30)
                bad[0] = NAN;
            if (oi->max >= 1e30)
                bad[1] = NAN;
            for (int b = 0; b < 4; b++) {
                assert_int_equal(cb_ta_check_opts(info, opts, 0, NULL), 0);
                opts[k] = bad[b];
                if (cb_ta_check_opts(info, opts, info->n_opts, &d) != CB_EINVAL)
                    fail_msg("%s option %s = %g accepted", info->name, oi->name, bad[b]);
                assert_true(strstr(d.field, oi->name) != NULL);
                assert_int_equal(cb_ta_lookback(info, opts), -1);
                assert_int_equal(cb_ta_batch(info, 4, in, opts, out), CB_EINVAL);
                assert_int_equal(cb_ta_stream_size(info, opts), 0);
                assert_null(cb_ta_stream_new(info, opts));
            }
        }
        /* period 0 and negative through the spec parser */
        if (info->n_opts && info->opts[0].integer && info->opts[0].min >= 1) {
            char spec[80];
            const cb_ta_info_t *got;
            snprintf(spec, sizeof spec, "%s:0", info->name);
            assert_int_equal(cb_ta_parse_spec(spec, &got, opts, &d), CB_EINVAL);
            snprintf(spec, sizeof spec, "%s:-5", info->name);
            assert_int_equal(cb_ta_parse_spec(spec, &got, opts, &d), CB_EINVAL);
        }
    }
}

/* All-equal prices: finite values after the lookback, in both forms. */
static void test_flat(void **state)
{
    (void)state;
    cols_t c;
    flat(&c, 300, 42.5);
    for (size_t t = 0; t < cb_ta_count(); t++) {
        const cb_ta_info_t *info = cb_ta_at(t);
        double opts[CB_TA_MAX_OPTS];
        assert_int_equal(cb_ta_check_opts(info, opts, 0, NULL), 0);
        check_one(info, opts, &c, "flat", 1);
    }
    cols_free(&c);
}

static void test_spec_parsing(void **state)
{
    (void)state;
    const cb_ta_info_t *info;
    double opts[CB_TA_MAX_OPTS];
    cb_diag_t d;
    assert_int_equal(cb_ta_parse_spec("sma:20", &info, opts, &d), 0);
    assert_string_equal(info->name, "sma");
    assert_true(opts[0] == 20);
    assert_int_equal(cb_ta_parse_spec("ema", &info, opts, &d), 0);
    assert_true(opts[0] == 30);
    assert_int_equal(cb_ta_parse_spec("smaa:20", &info, opts, &d), CB_ENOENT);
    assert_non_null(strstr(d.msg, "unknown indicator 'smaa' (did you mean 'sma'?)"));
    assert_non_null(strstr(d.msg, "ema"));
    assert_int_equal(cb_ta_parse_spec("zzzzzzzz", &info, opts, &d), CB_ENOENT);
    assert_int_equal(cb_ta_parse_spec("sma:x", &info, opts, &d), CB_EINVAL);
    assert_non_null(strstr(d.msg, "expected a whole number from 2 to 100000, got \"x\""));
    assert_int_equal(cb_ta_parse_spec("sma:2.5", &info, opts, &d), CB_EINVAL);
    assert_int_equal(cb_ta_parse_spec("sma:20:3", &info, opts, &d), CB_EINVAL);
    assert_non_null(strstr(d.msg, "takes at most 1 option"));
    assert_int_equal(cb_ta_parse_spec("sma:", &info, opts, &d), CB_EINVAL);
    assert_int_equal(cb_ta_parse_spec("", &info, opts, &d), CB_ENOENT);
    assert_int_equal(cb_ta_parse_spec(":3", &info, opts, &d), CB_ENOENT);
    assert_null(cb_ta_find("nope"));
    for (size_t t = 0; t < cb_ta_count(); t++) {
        assert_ptr_equal(cb_ta_find(cb_ta_at(t)->name), cb_ta_at(t));
        assert_int_equal(cb_ta_parse_spec(cb_ta_at(t)->name, &info, opts, &d), 0);
    }
    assert_null(cb_ta_at(cb_ta_count()));
}

/* The heap stream wrapper. */
static void test_heap_stream(void **state)
{
    (void)state;
    const cb_ta_info_t *info = cb_ta_find("sma");
    double opts[CB_TA_MAX_OPTS] = {3};
    cb_ta_stream_t *s = cb_ta_stream_new(info, opts);
    assert_non_null(s);
    double x[] = {1, 2, 3, 4, NAN, 6, 7, 8}, out;
    double want[] = {NAN, NAN, 2, 3, NAN, NAN, NAN, 7};
    for (int i = 0; i < 8; i++) {
        int v = cb_ta_stream_push(s, &x[i], &out);
        assert_int_equal(v, !isnan(want[i]));
        if (isnan(want[i]))
            assert_true(isnan(out));
        else
            assert_true(out == want[i]);
    }
    cb_ta_stream_free(s);
    cb_ta_stream_free(NULL);
}

/* docs/indicators.md documents every table entry under a "### <name> " heading. */
static void test_docs_cover_table(void **state)
{
    (void)state;
    const char *src = getenv("COMEBACK_SOURCE_DIR");
    if (!src) {
        print_message("skipped: COMEBACK_SOURCE_DIR unset\n");
        skip();
        return;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/docs/indicators.md", src);
    size_t len;
    char *text = tu_read_file(path, &len);
    assert_non_null(text);
    for (size_t t = 0; t < cb_ta_count(); t++) {
        char head[96];
        snprintf(head, sizeof head, "\n### %s ", cb_ta_at(t)->name);
        if (!strstr(text, head))
            fail_msg("docs/indicators.md has no section \"### %s \"", cb_ta_at(t)->name);
    }
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_parsing),   cmocka_unit_test(test_heap_stream),
        cmocka_unit_test(test_synthetic),      cmocka_unit_test(test_real),
        cmocka_unit_test(test_nan_restart),    cmocka_unit_test(test_short_series),
        cmocka_unit_test(test_invalid_options), cmocka_unit_test(test_flat),
        cmocka_unit_test(test_docs_cover_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
