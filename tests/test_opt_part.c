/* opt/part: the parts of a sharded sweep. The split covers every combination once; a part
 * round-trips exactly (NaN, infinities, -0 and the last bit of every daily return); malformed
 * parts and sets of parts that are not one whole sweep are refused with exact messages. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/opt.h"
#include "testutil.h"

/* Shard 1 of 2 of a two-combination sweep; days 0.01, -0.02, 0. */
#define SWEEP                                                                                \
    "{\"version\":\"0.1\",\"strategy_file\":\"s.ini\",\"strategy_sha256\":\"ab\","            \
    "\"settings\":{\"data\":\"m.csv\",\"pair\":\"\",\"start_balance\":\"\",\"stake\":\"10%\","  \
    "\"max_open_trades\":\"\",\"fee\":\"0.1%\",\"maker_fee\":\"\",\"slippage\":\"\","          \
    "\"from\":\"\",\"to\":\"\"},\"data_sha256\":[\"cd\"],\"objective\":\"sharpe\","           \
    "\"search\":\"grid\",\"samples\":100,\"seed\":\"1\",\"partitions\":0,\"luck_runs\":1000,"  \
    "\"walk_forward\":0,\"train_frac\":0.0,\"anchored\":false,\"params\":[{\"name\":\"fast\","  \
    "\"lo\":3.0,\"hi\":5.0,\"step\":2.0}],\"combinations\":2,\"shards\":2}"
static const char good[] =
    "{\"comeback\":\"optimize part\",\"format\":1,\"sweep\":" SWEEP ",\"shard\":1,"
    "\"shards\":2,\"total\":2,\"first\":0,\"end\":1,\"days\":3,\"rows\":[{\"index\":0,"
    "\"objective\":1.5,\"total_return_pct\":1.5,\"cagr_pct\":1.5,\"sharpe\":1.5,"
    "\"sortino\":1.5,\"calmar\":1.5,\"sqn\":\"nan\",\"profit_factor\":\"inf\","
    "\"max_drawdown_pct\":1.5,\"win_rate_pct\":1.5,\"trades\":3,"
    "\"daily\":\"exSuR+F6hD97FK5H4XqUvwAAAAAAAAAA\"}]}";

/* good with the first occurrence of `from` replaced by `to` (malloc'd). */
static char *mutate(const char *from, const char *to)
{
    const char *at = strstr(good, from);
    assert_non_null(at);
    size_t n = strlen(good) - strlen(from) + strlen(to);
    char *s = malloc(n + 1);
    size_t pre = (size_t)(at - good);
    memcpy(s, good, pre);
    strcpy(s + pre, to);
    strcat(s, at + strlen(from));
    return s;
}

static void parse_ok(const char *name, const char *text, cb_opt_part_t *p)
{
    cb_diag_t d;
    int rc = cb_opt_part_parse(name, text, strlen(text), p, &d);
    if (rc)
        print_error("%s\n", d.msg);
    assert_int_equal(rc, 0);
}

static void test_shard_ranges(void **state)
{
    (void)state;
    for (size_t total = 0; total < 40; total++)
        for (size_t shards = 1; shards < 9; shards++) {
            size_t next = 0, lo = SIZE_MAX, hi = 0;
            for (size_t k = 1; k <= shards; k++) {
                size_t a, b;
                cb_opt_shard_range(total, k, shards, &a, &b);
                assert_int_equal(a, next); /* contiguous, in order */
                lo = b - a < lo ? b - a : lo;
                hi = b - a > hi ? b - a : hi;
                next = b;
            }
            assert_int_equal(next, total); /* everything, once */
            assert_true(hi - lo <= 1);     /* balanced */
        }
    size_t a, b;
    cb_opt_shard_range(1000, 2, 4, &a, &b);
    assert_int_equal(a, 250);
    assert_int_equal(b, 500);
}

static void test_round_trip(void **state)
{
    (void)state;
    cb_opt_part_t p;
    parse_ok("p.json", good, &p);
    assert_int_equal(p.shard, 1);
    assert_int_equal(p.shards, 2);
    assert_int_equal(p.n_days, 3);
    assert_true(isnan(p.rows[0].sqn));
    assert_true(isinf(p.rows[0].profit_factor) && p.rows[0].profit_factor > 0);
    assert_true(p.daily[0] == 0.01 && p.daily[1] == -0.02 && p.daily[2] == 0);
    /* values that only an exact encoding keeps */
    double tricky[3] = {-0.0, 5e-324, 0.1 + 0.2};
    memcpy(p.daily, tricky, sizeof tricky);
    p.rows[0].sharpe = -INFINITY;
    p.rows[0].objective = 1.0 / 3.0;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_int_equal(cb_opt_part_write_json(m, &p), 0);
    fclose(m);
    cb_opt_part_t q;
    parse_ok("q.json", buf, &q);
    assert_memory_equal(q.daily, tricky, sizeof tricky);
    assert_true(isinf(q.rows[0].sharpe) && q.rows[0].sharpe < 0);
    assert_true(q.rows[0].objective == 1.0 / 3.0);
    assert_string_equal(p.sweep, q.sweep);
    free(buf);
    cb_opt_part_free(&p);
    cb_opt_part_free(&q);
}

/* Malformed parts: the exact message, naming the file, the field (or line and column) and
 * what is wrong. */
static void test_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *from, *to, *msg;
    } cases[] = {
        {"{\"comeback\"", "[\"comeback\"",
         "p.json:1:12: not JSON: ']' expected near ':'"},
        {"\"comeback\":\"optimize part\"", "\"comeback\":\"optimize\"",
         "p.json: not a part of a sharded sweep (written by comeback optimize --shard i/N "
         "--json FILE)"},
        {"\"format\":1", "\"format\":2", "p.json: field 'format': this comeback reads format 1"},
        {"\"sweep\":{", "\"sweep\":\"x\",\"y\":{", NULL},
        {"\"shards\":2,\"total\"", "\"shards\":-2,\"total\"",
         "p.json: field 'shards': expected a whole number from 0 to 1000000"},
        {"\"shard\":1", "\"shard\":3", "p.json: field 'shard': expected 1 to 2 (shards), got 3"},
        {"\"first\":0", "\"first\":1",
         "p.json: field 'first': shard 1/2 of 2 combinations covers positions 0 to 1, not 1 to "
         "1"},
        {"\"total\":2", "\"totl\":2", "p.json: field 'total': missing"},
        {"\"rows\":[{", "\"rows\":[3,{",
         "p.json: field 'rows': expected 1 row (positions 0 to 1), got 2"},
        {"\"rows\":[{", "\"rows\":\"x\",\"r\":[{", "p.json: field 'rows': expected an array"},
        {"\"sqn\":\"nan\"", "\"sqn\":\"NaN\"",
         "p.json: field 'rows[0].sqn': expected a number, \"nan\", \"inf\" or \"-inf\""},
        {"\"index\":0", "\"index\":0.5",
         "p.json: field 'rows[0].index': expected a whole number from 0 to "
         "9223372036854775807"},
        {"\"trades\":3,", "",  "p.json: field 'rows[0].trades': missing"},
        {"exSuR+F6hD97FK5H4XqUvwAAAAAAAAAA", "exSuR+F6hD97FK5H4XqUvwAAAAAAAAA",
         "p.json: field 'rows[0].daily': expected 3 days as base64 (32 characters)"},
        {"exSuR+F6hD97FK5H4XqUvwAAAAAAAAAA", "exSuR+F6hD97FK5H4XqUvwAAAAAAAA*A",
         "p.json: field 'rows[0].daily': not valid base64"},
        /* a days count the rows do not back is refused before the daily matrix is allocated
         * (a fuzzer found 10^15 days asking for petabytes) */
        {"\"days\":3", "\"days\":1000000000000000",
         "p.json: field 'rows[0].daily': expected 1000000000000000 days as base64 "
         "(10666666666666668 characters)"},
        {"\"days\":3", "\"days\":3,\"days\":3",
         "p.json:1:"}, /* duplicate keys are refused by the JSON reader itself */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char *text = mutate(cases[k].from, cases[k].to);
        cb_opt_part_t p;
        cb_diag_t d;
        int rc = cb_opt_part_parse("p.json", text, strlen(text), &p, &d);
        char msg[700];
        cb_diag_format(&d, msg, sizeof msg);
        print_message("case %zu: %s\n", k, msg);
        assert_int_equal(rc, CB_EPARSE);
        assert_null(p.rows);
        assert_null(p.sweep);
        if (!cases[k].msg)
            assert_string_equal(msg, "p.json: field 'sweep': expected an object");
        else if (!strcmp(cases[k].msg, "p.json:1:"))
            assert_non_null(strstr(msg, "duplicate object key"));
        else
            assert_string_equal(msg, cases[k].msg);
        free(text);
    }
}

static void load2(cb_opt_part_t *p, const char *name, int shard)
{
    char *text = shard == 1 ? mutate("\"shards\":2", "\"shards\":2")
                            : mutate("\"shard\":1,\"shards\":2,\"total\":2,\"first\":0,\"end\":1",
                                     "\"shard\":2,\"shards\":2,\"total\":2,\"first\":1,\"end\":2");
    if (shard == 2) {
        char *t2 = text;
        const char *at = strstr(t2, "\"index\":0");
        t2[at - t2 + 8] = '1';
    }
    parse_ok(name, text, p);
    free(text);
}

static void check_msg(cb_opt_part_t *parts, size_t n, const char *want)
{
    cb_diag_t d;
    int rc = cb_opt_parts_check(parts, n, &d);
    if (!want) {
        assert_int_equal(rc, 0);
        return;
    }
    char msg[700];
    cb_diag_format(&d, msg, sizeof msg);
    print_message("%s\n", msg);
    assert_int_equal(rc, CB_EINVAL);
    assert_string_equal(msg, want);
}

static void test_parts_check(void **state)
{
    (void)state;
    cb_opt_part_t p[3];
    load2(&p[0], "b.json", 2);
    load2(&p[1], "a.json", 1);
    check_msg(p, 2, NULL);
    assert_int_equal(p[0].shard, 1); /* sorted by shard */
    assert_string_equal(p[0].name, "a.json");
    check_msg(p, 1, "shard 2/2 is missing: merge needs every part of the sweep");
    load2(&p[2], "c.json", 2);
    check_msg(p, 3, "c.json: shard 2/2 again (already in b.json)");
    cb_opt_part_free(&p[2]);
    /* another fee: another sweep */
    char *text = mutate("\"fee\":\"0.1%\"", "\"fee\":\"0.2%\"");
    text[strstr(text, "\"shard\":1") - text + 8] = '2';
    char *fix = strstr(text, "\"first\":0,\"end\":1");
    memcpy(fix, "\"first\":1,\"end\":2", 17);
    text[strstr(text, "\"index\":0") - text + 8] = '1';
    parse_ok("d.json", text, &p[2]);
    free(text);
    check_msg((cb_opt_part_t[]){p[0], p[2]}, 2,
              "d.json: field 'sweep.settings.fee': differs from a.json: the parts are of "
              "different sweeps");
    cb_opt_part_free(&p[2]);
    check_msg(p, 0, "no parts to merge");
    cb_opt_part_free(&p[0]);
    cb_opt_part_free(&p[1]);
}

static void test_sweep_config(void **state)
{
    (void)state;
    cb_opt_part_t p;
    parse_ok("p.json", good, &p);
    cb_opt_config_t cfg;
    cb_bt_settings_t st;
    char path[64];
    cb_diag_t d;
    assert_int_equal(cb_opt_sweep_config("p.json", p.sweep, &cfg, &st, path, sizeof path, &d),
                     0);
    assert_string_equal(path, "s.ini");
    assert_string_equal(st.fee, "0.1%");
    assert_int_equal(cfg.space.n, 1);
    assert_int_equal(cb_param_space_size(&cfg.space), 2);
    assert_int_equal(cfg.luck_runs, 1000);
    cb_opt_part_free(&p);
    static const struct {
        const char *from, *to, *msg;
    } cases[] = {
        {"\"objective\":\"sharpe\"", "\"objective\":\"luck\"",
         "p.json: field 'sweep.objective': unknown objective 'luck'"},
        {"\"search\":\"grid\"", "\"search\":\"all\"",
         "p.json: field 'sweep.search': expected grid or random"},
        {"\"step\":2.0", "\"step\":0",
         "p.json: field 'sweep.params[0]': parameter 'fast': range 3..5 step 0 is empty or "
         "invalid (need lo <= hi and step > 0)"},
        {"\"luck_runs\":1000", "\"luck_runs\":-5",
         "p.json: field 'sweep.luck_runs': expected -1 (skipped) or a whole number"},
        {"\"fee\":\"0.1%\"", "\"fee\":1", "p.json: field 'sweep.settings.fee': expected a string"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char *text = mutate(cases[k].from, cases[k].to);
        parse_ok("p.json", text, &p);
        int rc = cb_opt_sweep_config("p.json", p.sweep, &cfg, &st, path, sizeof path, &d);
        char msg[700];
        cb_diag_format(&d, msg, sizeof msg);
        print_message("sweep case %zu: %s\n", k, msg);
        assert_int_not_equal(rc, 0);
        assert_string_equal(msg, cases[k].msg);
        cb_opt_part_free(&p);
        free(text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shard_ranges),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_parts_check),
        cmocka_unit_test(test_sweep_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
