/* robot/: the bot file's sections and their defaults, the paper venue's journaling (intent
 * before the order exists, fills once, ids never reused across restarts), control requests. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
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
    /* forced entries; answers are read back once the robot wrote "done ..." */
    assert_int_equal(cb_robot_control(j, CB_ROBOT_CTL_FORCEENTRY, "BTC/USDT", 9), 0);
    assert_int_equal(cb_journal_kv_get(j, "control.forceentry.BTC/USDT", buf, sizeof buf), 0);
    assert_string_equal(buf, "9");
    assert_int_equal(cb_robot_control_answer(j, CB_ROBOT_CTL_FORCEENTRY, "BTC/USDT", buf,
                                             sizeof buf),
                     0);
    assert_int_equal(cb_journal_kv_set(j, "control.forceentry.BTC/USDT",
                                       "done refused: paused: trading is paused"),
                     0);
    assert_int_equal(cb_robot_control_answer(j, CB_ROBOT_CTL_FORCEENTRY, "BTC/USDT", buf,
                                             sizeof buf),
                     1);
    assert_string_equal(buf, "refused: paused: trading is paused");
    assert_int_equal(cb_robot_control_answer(j, CB_ROBOT_CTL_FORCEEXIT, "XRP/USDT", buf,
                                             sizeof buf),
                     CB_ENOENT);
    assert_int_equal(cb_robot_control_answer(j, CB_ROBOT_CTL_PAUSE, "BTC/USDT", buf, sizeof buf),
                     CB_EINVAL);
    /* the pairs the robot wrote at its start */
    char pairs[4][32];
    assert_int_equal(cb_robot_journal_pairs(j, pairs, 4), CB_ENOENT);
    assert_int_equal(cb_journal_kv_set(j, "robot.pairs", "BTC/USDT,ETH/USDT"), 0);
    assert_int_equal(cb_robot_journal_pairs(j, pairs, 4), 2);
    assert_string_equal(pairs[1], "ETH/USDT");
    cb_journal_close(j);
    tu_rmtree(dir);
}

/* Liveness: the heartbeat against the clock and the process behind the pid. */
static void test_liveness(void **state)
{
    (void)state;
    char dir[256], path[300];
    assert_non_null(tu_tmpdir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/live.sqlite", dir);
    cb_journal_t *j;
    cb_diag_t d;
    assert_int_equal(cb_journal_open(path, "alive", &j, &d), 0);
    cb_robot_liveness_t lv;
    assert_int_equal(cb_robot_liveness(j, 1000, &lv), 0);
    assert_int_equal(lv.alive, CB_ROBOT_NEVER);
    /* a status that says running, from a process that is gone */
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    assert_true(child > 0);
    int wst;
    assert_int_equal(waitpid(child, &wst, 0), child);
    char st[128];
    snprintf(st, sizeof st, "{\"state\":\"running\",\"pid\":%d,\"heartbeat_ms\":1000}",
             (int)child);
    assert_int_equal(cb_journal_kv_set(j, "robot.status", st), 0);
    assert_int_equal(cb_robot_liveness(j, 2000, &lv), 0);
    assert_int_equal(lv.alive, CB_ROBOT_NOT_RUNNING);
    assert_int_equal(lv.age_ms, 1000);
    /* a live pid that is not a comeback program (this test) is not the robot either */
    assert_int_equal(cb_journal_heartbeat(j, (int64_t)getpid(), 1500), 0);
    int64_t pid = 0, beat = 0;
    assert_int_equal(cb_journal_heartbeat_get(j, &pid, &beat), 0);
    assert_int_equal(pid, getpid());
    assert_int_equal(beat, 1500);
    assert_int_equal(cb_robot_liveness(j, 2000, &lv), 0);
    assert_int_equal(lv.pid, getpid());
    assert_int_equal(lv.heartbeat_ms, 1500);
    assert_int_equal(lv.alive, access("/proc/self/comm", R_OK) == 0 ? CB_ROBOT_NOT_RUNNING
                                                                   : CB_ROBOT_RUNNING);
    /* a clean stop is not running whatever the pid */
    assert_int_equal(cb_journal_kv_set(j, "robot.status", "{\"state\":\"stopped\"}"), 0);
    assert_int_equal(cb_robot_liveness(j, 2000, &lv), 0);
    assert_int_equal(lv.alive, CB_ROBOT_NOT_RUNNING);
    assert_string_equal(lv.state, "stopped");
    char age[32];
    cb_robot_age_format(1500, age, sizeof age);
    assert_string_equal(age, "1 s");
    cb_robot_age_format(180000, age, sizeof age);
    assert_string_equal(age, "3 min");
    cb_robot_age_format(3 * CB_MS_PER_DAY, age, sizeof age);
    assert_string_equal(age, "3 d");
    cb_journal_close(j);
    tu_rmtree(dir);
}

/* The journal functions the robot's requests use: a prefix walk that takes '_' and '.'
 * literally, the newest order of a pair, and relabelling its reason. */
static int count_kv(const char *key, const char *value, void *ctx)
{
    (void)value;
    int *n = ctx;
    (*n)++;
    return strncmp(key, "control.force", 13) == 0 ? 0 : 99;
}

static void test_request_journal(void **state)
{
    (void)state;
    char dir[256], path[300];
    assert_non_null(tu_tmpdir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/rq.sqlite", dir);
    cb_journal_t *j;
    cb_diag_t d;
    assert_int_equal(cb_journal_open(path, "rq", &j, &d), 0);
    assert_int_equal(cb_journal_kv_set(j, "control.forceexit.BTC/USDT", "1"), 0);
    assert_int_equal(cb_journal_kv_set(j, "control.forceentry.ETH/USDT", "2"), 0);
    assert_int_equal(cb_journal_kv_set(j, "controlXforceexit.BTC/USDT", "3"), 0);
    assert_int_equal(cb_journal_kv_set(j, "control_force", "4"), 0);
    int n = 0;
    assert_int_equal(cb_journal_kv_each(j, "control.force", count_kv, &n), 0);
    assert_int_equal(n, 2);
    cb_journal_order_t o, last;
    assert_int_equal(cb_journal_order_last(j, "BTC/USDT", &last), CB_ENOENT);
    for (int i = 0; i < 2; i++) {
        memset(&o, 0, sizeof o);
        snprintf(o.pair, sizeof o.pair, "BTC/USDT");
        snprintf(o.side, sizeof o.side, "%s", i ? "sell" : "buy");
        snprintf(o.type, sizeof o.type, "market");
        snprintf(o.reason, sizeof o.reason, "%s", i ? "exit" : "entry");
        o.price_scale = o.qty_scale = 8;
        o.quantity = 1000;
        o.created_ms = 1000 + i;
        assert_int_equal(cb_journal_order_intent(j, &o), 0);
    }
    assert_int_equal(cb_journal_order_last(j, "BTC/USDT", &last), 0);
    assert_string_equal(last.client_order_id, "cb-rq-2");
    assert_int_equal(cb_journal_order_set_reason(j, last.client_order_id, "force_exit"), 0);
    assert_int_equal(cb_journal_order_get(j, "cb-rq-2", &o), 0);
    assert_string_equal(o.reason, "force_exit");
    assert_int_equal(cb_journal_order_set_reason(j, "cb-rq-9", "force_exit"), CB_ENOENT);
    assert_int_equal(cb_journal_order_set_reason(j, "cb-rq-2", ""), CB_EINVAL);
    cb_journal_close(j);
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_paper_venue_journals),
        cmocka_unit_test(test_control_requests),
        cmocka_unit_test(test_liveness),
        cmocka_unit_test(test_request_journal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
