/* The table's chunked streaming entry point, on EVERY indicator: stream_run over chunks of
 * random sizes (0 and 1 included) gives, bit for bit, the outputs of one stream_update per bar
 * and leaves the same state, through warm-up, NaN and infinite inputs (restarts) and for
 * several option sets; single updates and chunks mix on one state; an output column may be
 * the input column (in place). Also the pair form, two streams over one column. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/ta.h"
#include "testutil.h"

#define N 2500

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next_u64(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static double urand(void) { return (double)(next_u64() >> 11) / 9007199254740992.0; }

/* columns: open, high, low, close, volume, other (a second series), time */
enum { C_OPEN, C_HIGH, C_LOW, C_CLOSE, C_VOLUME, C_OTHER, C_TIME, N_COLS };
static double cols[N_COLS][N];

static void make_data(void)
{
    double p = 100.0;
    for (size_t i = 0; i < N; i++) {
        double o = p;
        p *= exp((urand() - 0.5) * 0.04);
        cols[C_OPEN][i] = o;
        cols[C_HIGH][i] = fmax(o, p) * (1.0 + urand() * 0.01);
        cols[C_LOW][i] = fmin(o, p) * (1.0 - urand() * 0.01);
        cols[C_CLOSE][i] = p;
        cols[C_VOLUME][i] = i % 13 == 4 ? 0.0 : 1000.0 * urand();
        cols[C_OTHER][i] = p * (1.0 + (urand() - 0.5) * 0.1);
        cols[C_TIME][i] = 1704067200000.0 + 3600000.0 * (double)i;
    }
    /* flat stretch (zero ranges), then bad bars: NaN or infinity in one column at a time,
     * isolated and back to back, early (during warm-up) and late */
    for (size_t i = 600; i < 640; i++)
        for (int k = C_OPEN; k <= C_CLOSE; k++)
            cols[k][i] = 123.5;
    static const size_t bad[] = {3, 4, 150, 151, 152, 900, 1400, 1401, 2000, 2300};
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
        int k = (int)(b % C_TIME);
        cols[k][bad[b]] = b % 3 == 2 ? INFINITY : NAN;
    }
}

static const double *column(const char *name)
{
    static const char *const names[] = {"open", "high", "low", "close", "volume", "real1",
                                        "time"};
    for (int k = 0; k < N_COLS; k++)
        if (!strcmp(name, names[k]))
            return cols[k];
    return cols[C_CLOSE]; /* real, real0 */
}

static void *new_state(const cb_ta_info_t *info, const double *opts, size_t *size)
{
    *size = cb_ta_stream_size(info, opts);
    assert_true(*size > 0);
    size_t bytes = (*size + 15) & ~(size_t)15;
    void *st = aligned_alloc(16, bytes);
    assert_non_null(st);
    memset(st, 0, bytes); /* padding alike in both states, for memcmp */
    assert_int_equal(cb_ta_stream_init(info, st, opts), 0);
    return st;
}

/* Output k of bar i by single updates (ref) and by the chunked form (got). */
static double ref[CB_TA_MAX_OUTPUTS][N], got[CB_TA_MAX_OUTPUTS][N];

static void check_set(const cb_ta_info_t *info, const double *opts)
{
    size_t size;
    void *a = new_state(info, opts, &size);
    void *b = new_state(info, opts, &size);
    const double *in[CB_TA_MAX_INPUTS];
    for (int k = 0; k < info->n_inputs; k++)
        in[k] = column(info->inputs[k]);
    for (size_t i = 0; i < N; i++) {
        double bar[CB_TA_MAX_INPUTS], out[CB_TA_MAX_OUTPUTS];
        for (int k = 0; k < info->n_inputs; k++)
            bar[k] = in[k][i];
        for (int k = 0; k < info->n_outputs; k++)
            out[k] = -7.25; /* a value no step leaves behind by accident */
        cb_ta_stream_update(info, a, bar, out);
        for (int k = 0; k < info->n_outputs; k++)
            ref[k][i] = out[k];
    }
    for (int k = 0; k < info->n_outputs; k++)
        for (size_t i = 0; i < N; i++)
            got[k][i] = 99.5;
    /* chunks of random sizes, with now and then a single update in between */
    for (size_t i = 0; i < N;) {
        size_t m = (size_t)(next_u64() % 4 == 0 ? next_u64() % 3 : next_u64() % 300);
        if (m > N - i)
            m = N - i;
        const double *ci[CB_TA_MAX_INPUTS];
        double *co[CB_TA_MAX_OUTPUTS];
        for (int k = 0; k < info->n_inputs; k++)
            ci[k] = in[k] + i;
        for (int k = 0; k < info->n_outputs; k++)
            co[k] = got[k] + i;
        if (m == 1 && next_u64() % 2) {
            double bar[CB_TA_MAX_INPUTS], out[CB_TA_MAX_OUTPUTS];
            for (int k = 0; k < info->n_inputs; k++)
                bar[k] = ci[k][0];
            cb_ta_stream_update(info, b, bar, out);
            for (int k = 0; k < info->n_outputs; k++)
                co[k][0] = out[k];
        } else {
            assert_int_equal(cb_ta_stream_run(info, b, m, ci, co), 0);
        }
        i += m;
    }
    for (int k = 0; k < info->n_outputs; k++)
        for (size_t i = 0; i < N; i++)
            if (memcmp(&ref[k][i], &got[k][i], sizeof(double)) != 0)
                fail_msg("%s(%g,%g,%g,%g) output %s bar %zu: update %.17g, run %.17g",
                         info->name, opts[0], opts[1], opts[2], opts[3], info->outputs[k], i,
                         ref[k][i], got[k][i]);
    if (memcmp(a, b, size) != 0)
        fail_msg("%s(%g,%g,%g,%g): the states differ after %d bars", info->name, opts[0],
                 opts[1], opts[2], opts[3], N);

    /* in place: the output column is the input column (one-series indicators) */
    if (info->n_inputs == 1) {
        void *c = new_state(info, opts, &size);
        static double buf[N];
        memcpy(buf, in[0], sizeof buf);
        double *co[CB_TA_MAX_OUTPUTS] = {buf};
        for (int k = 1; k < info->n_outputs; k++)
            co[k] = got[k];
        const double *ci[1] = {buf};
        assert_int_equal(cb_ta_stream_run(info, c, N, ci, co), 0);
        if (memcmp(buf, ref[0], sizeof buf) != 0)
            fail_msg("%s(%g,%g,%g,%g): in place differs", info->name, opts[0], opts[1],
                     opts[2], opts[3]);
        free(c);
    }
    free(a);
    free(b);
}

static void test_every_indicator(void **state)
{
    (void)state;
    make_data();
    for (size_t t = 0; t < cb_ta_count(); t++) {
        const cb_ta_info_t *info = cb_ta_at(t);
        assert_non_null(info->stream_run);
        /* defaults, then whole-number options at their minimum and at minimum + 5 */
        for (int s = 0; s < 3; s++) {
            double opts[CB_TA_MAX_OPTS] = {0};
            for (int k = 0; k < info->n_opts; k++) {
                const cb_ta_opt_info_t *o = &info->opts[k];
                opts[k] = o->def;
                if (o->integer && s > 0)
                    opts[k] = fmin(o->min + (s == 2 ? 5 : 0), o->max);
            }
            check_set(info, opts);
        }
    }
}

/* cb_ta_stream_run_pair: two streams of one indicator over the same column, in random
 * chunks, give what stream_run on each gives (outputs and states, bit for bit), through
 * warm-up, NaN and infinities (the close column has them): EMA, which has the interleaved
 * form, at several period pairs, and SMA and RSI, which take the plain one. */
static void test_pair(void **state)
{
    (void)state;
    make_data();
    static const char *const names[] = {"ema", "ema", "ema", "sma", "rsi"};
    static const double periods[][2] = {{12, 26}, {2, 3}, {50, 7}, {10, 30}, {14, 9}};
    for (size_t c = 0; c < sizeof names / sizeof names[0]; c++) {
        const cb_ta_info_t *info = cb_ta_find(names[c]);
        assert_non_null(info);
        double o1[CB_TA_MAX_OPTS] = {periods[c][0]}, o2[CB_TA_MAX_OPTS] = {periods[c][1]};
        size_t z1 = cb_ta_stream_size(info, o1), z2 = cb_ta_stream_size(info, o2);
        void *a1 = aligned_alloc(16, (z1 + 15) & ~(size_t)15);
        void *a2 = aligned_alloc(16, (z2 + 15) & ~(size_t)15);
        void *b1 = aligned_alloc(16, (z1 + 15) & ~(size_t)15);
        void *b2 = aligned_alloc(16, (z2 + 15) & ~(size_t)15);
        double *ra = malloc(2 * N * sizeof *ra), *rb = malloc(2 * N * sizeof *rb);
        memset(a1, 0, z1); /* bytes the state does not use compare equal */
        memset(a2, 0, z2);
        memset(b1, 0, z1);
        memset(b2, 0, z2);
        assert_int_equal(cb_ta_stream_init(info, a1, o1), 0);
        assert_int_equal(cb_ta_stream_init(info, a2, o2), 0);
        assert_int_equal(cb_ta_stream_init(info, b1, o1), 0);
        assert_int_equal(cb_ta_stream_init(info, b2, o2), 0);
        const double *x = cols[C_CLOSE];
        for (size_t i = 0; i < N;) {
            size_t m = (size_t)(urand() * 300);
            if (m > N - i)
                m = N - i;
            const double *in[1] = {x + i};
            double *p1[1] = {ra + i}, *p2[1] = {ra + N + i};
            assert_int_equal(cb_ta_stream_run(info, a1, m, in, p1), 0);
            assert_int_equal(cb_ta_stream_run(info, a2, m, in, p2), 0);
            assert_int_equal(cb_ta_stream_run_pair(info, b1, b2, m, x + i, rb + i, rb + N + i),
                             0);
            i += m;
        }
        assert_memory_equal(ra, rb, 2 * N * sizeof *ra);
        assert_memory_equal(a1, b1, z1);
        assert_memory_equal(a2, b2, z2);
        free(a1);
        free(a2);
        free(b1);
        free(b2);
        free(ra);
        free(rb);
    }
    /* not one input and one output */
    double y[2];
    assert_int_equal(cb_ta_stream_run_pair(cb_ta_find("macd"), NULL, NULL, 0, y, y, y),
                     CB_EINVAL);
    assert_int_equal(cb_ta_stream_run_pair(NULL, NULL, NULL, 0, y, y, y), CB_EINVAL);
}

static void test_null_info(void **state)
{
    (void)state;
    double x = 1, y;
    const double *in[1] = {&x};
    double *out[1] = {&y};
    assert_int_equal(cb_ta_stream_run(NULL, NULL, 1, in, out), CB_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_indicator),
        cmocka_unit_test(test_pair),
        cmocka_unit_test(test_null_info),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
