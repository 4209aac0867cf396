/* robot/: the bot file's sections and their defaults, the paper venue's journaling (intent
 * before the order exists, fills once, ids never reused across restarts), control requests. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "comeback/robot.h"
#include "robot/robot_int.h"
#include "testutil.h"

#define FX(x) ((int64_t)((x) * 100000000.0 + 0.5))

static const char bot_text[] = "[strategy]\n"
                               "timeframe = 4h\n"
                               "entry = close > 1\n"
                               "exit = close < 1\n"
                               "[bot]\n"
                               "pairs = BTC/USDT, ETH/USDT\n"
                               "log = logs/bot.jsonl\n"
                               "[risk]\n"
                               "max_open_trades = 2\n"
                               "cooldown = 2h\n";

static cb_rules_file_t *parse(const char *text)
{
    cb_diags_t d = {0};
    cb_rules_file_t *f = NULL;
    assert_int_equal(cb_rules_file_parse("x.ini", text, strlen(text), NULL, &f, &d), 0);
    cb_diags_free(&d);
    return f;
}

static void test_config_defaults(void **state)
{
    (void)state;
    cb_rules_file_t *f = parse(bot_text);
    cb_robot_config_t c;
    cb_diag_t d;
    cb_diag_clear(&d);
    assert_int_equal(cb_robot_config_load(f, "/srv/bots/my.bot.ini", NULL, &c, &d), 0);
    assert_string_equal(c.name, "my");
    assert_int_equal(c.mode, CB_ROBOT_PAPER);
    assert_string_equal(c.db, "/srv/bots/my.paper.sqlite");
    assert_string_equal(c.log, "/srv/bots/logs/bot.jsonl");
    assert_string_equal(c.timeframe, "4h"); /* from [strategy] */
    assert_int_equal(c.tf_ms, 4 * 3600000);
    assert_int_equal(c.n_pairs, 2);
    assert_string_equal(c.pairs[1], "ETH/USDT");
    assert_int_equal(c.risk.max_open_trades, 2);
    assert_int_equal(c.risk.cooldown_ms, 2 * 3600000);
    assert_string_equal(c.exchange, "binance");
    /* the mode of the command line wins, and names the default database */
    assert_int_equal(cb_robot_config_load(f, "bot.ini", "live", &c, &d), 0);
    assert_int_equal(c.mode, CB_ROBOT_LIVE);
    assert_string_equal(c.db, "bot.live.sqlite");
    assert_int_equal(cb_robot_config_load(f, "bot.ini", "demo", &c, &d), CB_EINVAL);
    assert_string_equal(d.field, "--mode");
    cb_rules_file_free(f);
}

static void test_config_errors(void **state)
{
    (void)state;
    static const struct {
        const char *extra, *want;
    } cases[] = {
        {"[bot]\nmode = demo\n", "x.ini:6:8: [bot] mode: expected paper or live, got 'demo'"},
        {"[bot]\npairs = BTC/USDT, BTC/USDT\n",
         "x.ini:6:9: [bot] pairs: 'BTC/USDT' is named twice"},
        {"[exchange]\nsecret = x\n", "x.ini:6:1: [exchange] secret: unknown key"},
        {"[risk]\nmax_drawdown = 150%\n", "x.ini:6:16: [risk] max_drawdown: "},
        {"[bot]\ndb =\n", "x.ini:6:5: [bot] db: expected a file path"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* a section of its own: a second [bot] or [risk] would be refused as a duplicate */
        char text[1024];
        snprintf(text, sizeof text, "%s%s",
                 "[strategy]\ntimeframe = 4h\nentry = close > 1\nexit = close < 1\n",
                 cases[i].extra);
        cb_rules_file_t *f = parse(text);
        cb_robot_config_t c;
        cb_diag_t d;
        cb_diag_clear(&d);
        assert_int_equal(cb_robot_config_load(f, "x.ini", NULL, &c, &d), CB_EINVAL);
        char got[600];
        cb_diag_format(&d, got, sizeof got);
        if (!strstr(got, cases[i].want))
            fail_msg("case %zu: got '%s', want '%s'", i, got, cases[i].want);
        cb_rules_file_free(f);
    }
}

typedef struct sink_log {
    int fills, other;
} sink_log_t;

static void sink(void *ctx, const cb_venue_event_t *ev)
{
    sink_log_t *s = ctx;
    if (ev->type == CB_EV_FILL)
        s->fills++;
    else
        s->other++;
}

static int count_orders(const cb_journal_order_t *o, void *ctx)
{
    (void)o;
    ++*(int *)ctx;
    return 0;
}

static void test_paper_venue_journals(void **state)
{
    (void)state;
    char dir[256], path[300];
    assert_non_null(tu_tmpdir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/paper.sqlite", dir);
    cb_journal_t *j;
    cb_diag_t d;
    assert_int_equal(cb_journal_open(path, "tbot", &j, &d), 0);
    cb_instrument_t ins;
    cb_instrument_default(&ins, "BTC/USDT");
    ins.tick = FX(0.01);
    ins.step = FX(0.001);
    cb_costs_t costs = {FX(0.001), FX(0.001), 0};
    for (int run = 0; run < 2; run++) { /* the second run is a restart: ids must not repeat */
        cb_venue_t v;
        assert_int_equal(robot_paper_venue_new(j, &ins, 1, FX(1000), &costs, &v), 0);
        sink_log_t s = {0, 0};
        v.ops->set_sink(v.self, sink, &s);
        cb_order_t o = {0};
        o.id = 1; /* the engine's ids start again at every start */
        o.side = CB_BUY;
        o.type = CB_ORDER_MARKET;
        o.quote_qty = FX(100);
        o.ref_price = FX(100);
        o.created_ms = 1000;
        cb_reject_t why;
        assert_int_equal(v.ops->submit(v.self, &o, &why), 0);
        cb_journal_order_t jo;
        char coid[32];
        snprintf(coid, sizeof coid, "cb-tbot-%d", run * 2 + 1);
        assert_int_equal(cb_journal_order_get(j, coid, &jo), 0);
        assert_int_equal(jo.status, CB_OS_NEW);
        assert_string_equal(jo.reason, "entry");
        assert_int_equal(v.ops->on_bar(v.self, 0, 2000, FX(100), FX(101), FX(99), FX(100)), 0);
        assert_int_equal(s.fills, 1);
        assert_int_equal(cb_journal_order_get(j, coid, &jo), 0);
        assert_int_equal(jo.status, CB_OS_FILLED);
        assert_int_equal(jo.executed_quantity, FX(0.999)); /* 100 USDT at 100, 0.1% fee */
        /* a refused order is journaled as rejected: a sell of more than held */
        cb_order_t big = {0};
        big.id = 2;
        big.side = CB_SELL;
        big.type = CB_ORDER_MARKET;
        big.qty = FX(5);
        assert_int_equal(v.ops->submit(v.self, &big, &why), CB_EREJECTED);
        snprintf(coid, sizeof coid, "cb-tbot-%d", run * 2 + 2);
        assert_int_equal(cb_journal_order_get(j, coid, &jo), 0);
        assert_int_equal(jo.status, CB_OS_REJECTED);
        v.ops->destroy(v.self);
    }
    int64_t pos;
    assert_int_equal(cb_journal_position(j, "BTC/USDT", 8, &pos), 0);
    assert_int_equal(pos, 2 * FX(0.999)); /* both fills recorded: trade ids differ */
    int n = 0;
    cb_journal_orders(j, 1, count_orders, &n);
    assert_int_equal(n, 0);
    /* a position held before a restart can be credited to a new paper account */
    cb_venue_t v;
    assert_int_equal(robot_paper_venue_new(j, &ins, 1, FX(1000), &costs, &v), 0);
    assert_int_equal(robot_paper_deposit(&v, 0, pos), 0);
    cb_order_t sell = {0};
    sell.id = 1;
    sell.side = CB_SELL;
    sell.type = CB_ORDER_STOP_MARKET;
    sell.qty = pos;
    sell.stop_price = FX(90);
    cb_reject_t why;
    assert_int_equal(v.ops->submit(v.self, &sell, &why), 0);
    assert_string_equal(robot_order_reason(&sell), "stoploss");
    v.ops->destroy(v.self);
    cb_venue_t bt;
    assert_int_equal(cb_backtest_venue_new(&ins, 1, 0, &costs, &bt), 0);
    assert_int_equal(robot_paper_deposit(&bt, 0, 1), CB_EINVAL); /* not a paper venue */
    bt.ops->destroy(bt.self);
    cb_journal_close(j);
    tu_rmtree(dir);
}

static void test_control_requests(void **state)
{
    (void)state;
    char dir[256], path[300];
    assert_non_null(tu_tmpdir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/ctl.sqlite", dir);
    cb_journal_t *j;
    cb_diag_t d;
    char buf[256], bot[32];
    assert_int_equal(cb_journal_open_existing(path, &j, bot, sizeof bot, &d), CB_ENOENT);
    assert_int_equal(access(path, F_OK), -1); /* never created by a reader */
    assert_int_equal(cb_journal_open(path, "ctl", &j, &d), 0);
    cb_journal_close(j);
    assert_int_equal(cb_journal_open_existing(path, &j, bot, sizeof bot, &d), 0);
    assert_string_equal(bot, "ctl");
    assert_int_equal(cb_robot_status_json(j, buf, sizeof buf), CB_ENOENT);
    assert_int_equal(cb_robot_control(j, CB_ROBOT_CTL_PAUSE, NULL, 5), 0);
    assert_int_equal(cb_journal_kv_get(j, "control.paused", buf, sizeof buf), 0);
    assert_string_equal(buf, "1");
    assert_int_equal(cb_robot_control(j, CB_ROBOT_CTL_RESUME, NULL, 6), 0);
    assert_int_equal(cb_journal_kv_get(j, "control.paused", buf, sizeof buf), 0);
    assert_string_equal(buf, "0");
    assert_int_equal(cb_journal_kv_get(j, "control.rearm", buf, sizeof buf), 0);
    assert_string_equal(buf, "6");
    assert_int_equal(cb_robot_control(j, CB_ROBOT_CTL_FORCEEXIT, "ETH/USDT", 7), 0);
    assert_int_equal(cb_journal_kv_get(j, "control.forceexit.ETH/USDT", buf, sizeof buf), 0);
    assert_string_equal(buf, "7");
    assert_int_equal(cb_robot_control(j, CB_ROBOT_CTL_FORCEEXIT, NULL, 7), CB_EINVAL);
    assert_int_equal(cb_robot_control(j, CB_ROBOT_CTL_STOP, NULL, 8), 0);
    cb_journal_close(j);
    tu_rmtree(dir);
}


/* The robot's own state in the journal is checked at start like the journal's rows: garbage
 * is refused with a sentence, never replaced by made-up numbers. */
static void test_refuses_garbage_state(void **state)
{
    (void)state;
    char dir[256], path[300];
    assert_non_null(tu_tmpdir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/bot.paper.sqlite", dir);
    cb_rules_file_t *f = parse(bot_text);
    cb_robot_config_t c;
    cb_diag_t d;
    cb_diag_clear(&d);
    assert_int_equal(cb_robot_config_load(f, "x.ini", NULL, &c, &d), 0);
    snprintf(c.db, sizeof c.db, "%s", path);
    snprintf(c.log, sizeof c.log, "%s/bot.jsonl", dir);
    static const struct {
        const char *key, *value, *want;
    } cases[] = {
        {"risk.state", "v=1 day=garbage", "the robot's state 'risk.state' is 'v=1 day=garbage'"},
        {"paper.start_balance", "-5", "'paper.start_balance' is '-5', expected a positive"},
        {"bar.last_ms", "yesterday", "'bar.last_ms' is 'yesterday', expected a time in ms"},
        {"robot.mode", "demo", "'robot.mode' is 'demo', expected paper or live"},
        {"pos.highest.ETH/USDT", "1e9", "'pos.highest.ETH/USDT' is '1e9', expected a price"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cb_journal_t *j;
        assert_int_equal(cb_journal_open(path, "x", &j, &d), 0);
        assert_int_equal(cb_journal_kv_set(j, cases[i].key, cases[i].value), 0);
        cb_journal_close(j);
        cb_robot_t *r = NULL;
        cb_diag_clear(&d);
        int rc = cb_robot_new(f, &c, NULL, &r, &d);
        char msg[700];
        cb_diag_format(&d, msg, sizeof msg);
        if (rc != CB_ECORRUPT || !strstr(msg, cases[i].want) || !strstr(msg, "restore a backup"))
            fail_msg("case %zu: got %d '%s', want '%s'", i, rc, msg, cases[i].want);
        assert_null(r);
        unlink(path);
    }
    /* a sound journal starts */
    cb_robot_t *r = NULL;
    int rc = cb_robot_new(f, &c, NULL, &r, &d);
    if (rc) {
        char msg[700];
        cb_diag_format(&d, msg, sizeof msg);
        fail_msg("a new journal: %s", msg);
    }
    cb_robot_free(r);
    cb_rules_file_free(f);
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_paper_venue_journals),
        cmocka_unit_test(test_control_requests),
        cmocka_unit_test(test_refuses_garbage_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
