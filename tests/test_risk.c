/* robot/risk: every control, its refusal reason, day rollover, and state persistence. */
#include <string.h>

#include "comeback/risk.h"
#include "testutil.h"

#define Q(x) ((int64_t)(x) * INT64_C(100000000)) /* whole quote units at 1e-8 */
#define DAY0 INT64_C(1700006400000)              /* 2023-11-15 00:00:00 UTC */
#define HOUR CB_MS_PER_HOUR

static cb_risk_entry_t entry(int64_t now, size_t pair)
{
    cb_risk_entry_t e;
    memset(&e, 0, sizeof e);
    e.now_ms = now;
    e.pair = pair;
    e.timeframe_ms = HOUR;
    e.last_candle_close_ms = now;
    e.order_notional = Q(100);
    return e;
}

static void test_parse_keys(void **state)
{
    (void)state;
    cb_risk_limits_t l;
    memset(&l, 0, sizeof l);
    cb_diag_t d;
    assert_int_equal(cb_risk_set(&l, "max_open_trades", "3", &d), 0);
    assert_int_equal(l.max_open_trades, 3);
    assert_int_equal(cb_risk_set(&l, "max_trades_per_day", "10", &d), 0);
    assert_int_equal(cb_risk_set(&l, "max_daily_loss", "5%", &d), 0);
    assert_true(l.max_daily_loss_frac == 0.05 && l.max_daily_loss == 0);
    assert_int_equal(cb_risk_set(&l, "max_daily_loss", "200.5", &d), 0);
    assert_true(l.max_daily_loss == INT64_C(20050000000) && l.max_daily_loss_frac == 0);
    assert_int_equal(cb_risk_set(&l, "max_drawdown", "20%", &d), 0);
    assert_true(l.max_drawdown_frac == 0.2);
    assert_int_equal(cb_risk_set(&l, "drawdown_action", "close", &d), 0);
    assert_int_equal(l.drawdown_close, 1);
    assert_int_equal(cb_risk_set(&l, "cooldown", "30m", &d), 0);
    assert_int_equal(l.cooldown_ms, 30 * CB_MS_PER_MIN);
    assert_int_equal(cb_risk_set(&l, "stale_after", "auto", &d), 0);
    assert_int_equal(cb_risk_set(&l, "max_position", "1500", &d), 0);
    assert_int_equal(cb_risk_set(&l, "stake", "100", &d), CB_ENOENT);
    /* Malformed values, each with its sentence. */
    assert_int_equal(cb_risk_set(&l, "max_open_trades", "three", &d), CB_EINVAL);
    assert_string_equal(d.field, "key 'max_open_trades'");
    assert_string_equal(d.msg, "expected a whole number >= 0 (0 = no limit), got \"three\"");
    assert_int_equal(cb_risk_set(&l, "max_open_trades", "-1", &d), CB_EINVAL);
    assert_int_equal(cb_risk_set(&l, "max_drawdown", "20", &d), CB_EINVAL);
    assert_string_equal(d.msg, "expected a percentage of the peak equity such as 20%, got \"20\"");
    assert_int_equal(cb_risk_set(&l, "max_drawdown", "120%", &d), CB_EINVAL);
    assert_int_equal(cb_risk_set(&l, "max_daily_loss", "lots", &d), CB_EINVAL);
    assert_int_equal(cb_risk_set(&l, "max_daily_loss", "-5", &d), CB_EINVAL);
    assert_int_equal(cb_risk_set(&l, "drawdown_action", "panic", &d), CB_EINVAL);
    assert_string_equal(d.msg, "expected 'halt' or 'close', got \"panic\"");
    assert_int_equal(cb_risk_set(&l, "cooldown", "soon", &d), CB_EINVAL);
    assert_int_equal(cb_risk_set(&l, "cooldown", "1M", &d), CB_EINVAL);
    assert_int_equal(cb_risk_set(&l, "max_position", "1e3", &d), CB_EINVAL);
}

static void test_controls(void **state)
{
    (void)state;
    cb_risk_limits_t l;
    memset(&l, 0, sizeof l);
    l.max_open_trades = 2;
    l.max_trades_per_day = 3;
    l.cooldown_ms = 2 * HOUR;
    l.max_position = Q(250);
    cb_risk_state_t st;
    cb_risk_state_init(&st, DAY0, Q(1000));
    cb_risk_entry_t e = entry(DAY0 + HOUR, 0);
    assert_int_equal(cb_risk_check_entry(&l, &st, &e), CB_RISK_NONE);
    e.open_trades = 2;
    assert_int_equal(cb_risk_check_entry(&l, &st, &e), CB_RISK_OPEN_TRADES);
    e.open_trades = 0;
    for (int i = 0; i < 3; i++)
        cb_risk_on_entry(&st, DAY0 + HOUR);
    assert_int_equal(cb_risk_check_entry(&l, &st, &e), CB_RISK_TRADES_PER_DAY);
    /* A new UTC day resets the count. */
    cb_risk_entry_t tomorrow = entry(DAY0 + 25 * HOUR, 0);
    cb_risk_on_equity(&l, &st, DAY0 + 25 * HOUR, Q(1000));
    assert_int_equal(cb_risk_check_entry(&l, &st, &tomorrow), CB_RISK_NONE);
    /* Cooldown after a stop-loss, in that pair only, for two hours. */
    cb_risk_on_exit(&l, &st, 1, DAY0 + 25 * HOUR, 1);
    cb_risk_entry_t p1 = entry(DAY0 + 26 * HOUR, 1);
    assert_int_equal(cb_risk_check_entry(&l, &st, &p1), CB_RISK_COOLDOWN);
    p1.now_ms = p1.last_candle_close_ms = DAY0 + 27 * HOUR;
    assert_int_equal(cb_risk_check_entry(&l, &st, &p1), CB_RISK_NONE);
    cb_risk_on_exit(&l, &st, 2, DAY0 + 25 * HOUR, 0); /* a normal exit starts no cooldown */
    cb_risk_entry_t p2 = entry(DAY0 + 25 * HOUR, 2);
    assert_int_equal(cb_risk_check_entry(&l, &st, &p2), CB_RISK_NONE);
    /* Position limit counts the position plus the order. */
    p2.position_notional = Q(200);
    assert_int_equal(cb_risk_check_entry(&l, &st, &p2), CB_RISK_POSITION);
    p2.position_notional = Q(150);
    assert_int_equal(cb_risk_check_entry(&l, &st, &p2), CB_RISK_NONE);
    /* Stale data: newest candle older than two timeframes. */
    p2.last_candle_close_ms = p2.now_ms - 2 * HOUR - 1;
    assert_int_equal(cb_risk_check_entry(&l, &st, &p2), CB_RISK_STALE);
    /* Manual pause comes first. */
    cb_risk_pause(&st, 1);
    assert_int_equal(cb_risk_check_entry(&l, &st, &tomorrow), CB_RISK_PAUSED);
    cb_risk_pause(&st, 0);
    assert_true(st.refusals[CB_RISK_PAUSED] == 1 && st.refusals[CB_RISK_COOLDOWN] == 1);
    assert_string_equal(cb_risk_reason_name(CB_RISK_STALE), "stale_data");
}

static void test_daily_loss_and_kill_switch(void **state)
{
    (void)state;
    cb_risk_limits_t l;
    memset(&l, 0, sizeof l);
    l.max_daily_loss_frac = 0.05;
    l.max_drawdown_frac = 0.20;
    cb_risk_state_t st;
    cb_risk_state_init(&st, DAY0, Q(1000));
    cb_risk_entry_t e = entry(DAY0 + HOUR, 0);
    assert_int_equal(cb_risk_on_equity(&l, &st, DAY0 + HOUR, Q(960)), 0);
    assert_int_equal(cb_risk_check_entry(&l, &st, &e), CB_RISK_NONE);
    assert_int_equal(cb_risk_on_equity(&l, &st, DAY0 + HOUR, Q(950)), 0); /* -5%: halt */
    assert_int_equal(cb_risk_check_entry(&l, &st, &e), CB_RISK_DAILY_LOSS);
    /* Next day: entries resume, measured from the new day's start equity. */
    cb_risk_entry_t next = entry(DAY0 + 24 * HOUR, 0);
    assert_int_equal(cb_risk_on_equity(&l, &st, DAY0 + 24 * HOUR, Q(950)), 0);
    assert_int_equal(cb_risk_check_entry(&l, &st, &next), CB_RISK_NONE);
    assert_int_equal(st.day_start_equity, Q(950));
    /* Peak 1000; 20% below it trips the kill switch (halt only: returns 0). */
    assert_int_equal(cb_risk_on_equity(&l, &st, DAY0 + 48 * HOUR, Q(800)), 0);
    assert_int_equal(st.killed, 1);
    cb_risk_entry_t later = entry(DAY0 + 72 * HOUR, 0);
    cb_risk_on_equity(&l, &st, DAY0 + 72 * HOUR, Q(900));
    assert_int_equal(cb_risk_check_entry(&l, &st, &later), CB_RISK_KILLED);
    cb_risk_reset_kill(&st, Q(900));
    assert_int_equal(cb_risk_check_entry(&l, &st, &later), CB_RISK_NONE);
    /* With drawdown_action = close the trip asks to close positions, once. */
    l.drawdown_close = 1;
    assert_int_equal(cb_risk_on_equity(&l, &st, DAY0 + 73 * HOUR, Q(700)), 1);
    assert_int_equal(cb_risk_on_equity(&l, &st, DAY0 + 73 * HOUR, Q(600)), 0);
    /* An absolute daily loss. */
    cb_risk_limits_t a;
    memset(&a, 0, sizeof a);
    a.max_daily_loss = Q(30);
    cb_risk_state_init(&st, DAY0, Q(1000));
    cb_risk_on_equity(&a, &st, DAY0 + HOUR, Q(971));
    assert_int_equal(st.halted_today, 0);
    cb_risk_on_equity(&a, &st, DAY0 + HOUR, Q(970));
    assert_int_equal(st.halted_today, 1);
}

static void test_state_round_trip(void **state)
{
    (void)state;
    cb_risk_state_t st, back;
    cb_risk_state_init(&st, DAY0, Q(1000));
    st.trades_today = 4;
    st.paused = 1;
    st.cooldown_until_ms[0] = DAY0 + 5;
    st.cooldown_until_ms[17] = DAY0 + 9;
    char buf[512];
    cb_risk_state_format(&st, buf, sizeof buf);
    assert_int_equal(cb_risk_state_parse(buf, &back), 0);
    assert_int_equal(back.day, st.day);
    assert_int_equal(back.trades_today, 4);
    assert_int_equal(back.paused, 1);
    assert_int_equal(back.peak_equity, Q(1000));
    assert_int_equal(back.cooldown_until_ms[17], DAY0 + 9);
    assert_int_equal(back.cooldown_until_ms[0], DAY0 + 5);
#define HEAD_ "v=1 day=1 trades=1 start=1 peak=1 "
    const char *bad[] = {
        "",
        "v=2 day=1",
        "v=1 day=x",
        (HEAD_ "halted=2 killed=0 paused=0 cooldown="),
        (HEAD_ "halted=0 killed=0 paused=0 cooldown=99:1"),
        (HEAD_ "halted=0 killed=0 paused=0 cooldown=1:"),
        (HEAD_ "halted=0 killed=0 paused=0"),
    };
#undef HEAD_
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(cb_risk_state_parse(bad[i], &back), CB_EPARSE);
}

/* What `comeback status` shows: used and left for each limit that is set, -1 / 0 for those
 * that are not, the tighter of the two daily-loss forms, and the next reset at 00:00 UTC. */
static void test_summary(void **state)
{
    (void)state;
    cb_risk_limits_t l;
    memset(&l, 0, sizeof l);
    cb_risk_state_t st;
    cb_risk_state_init(&st, DAY0 + 5 * HOUR, Q(10000));
    cb_risk_summary_t sm;
    cb_risk_summarise(&l, &st, Q(9900), 1, &sm);
    assert_int_equal(sm.trades_left, -1);
    assert_int_equal(sm.open_left, -1);
    assert_int_equal(sm.daily_loss, Q(100));
    assert_int_equal(sm.daily_loss_limit, 0);
    assert_true(sm.drawdown_limit == 0.0);
    assert_int_equal(sm.day_start_ms, DAY0);
    assert_int_equal(sm.next_reset_ms, DAY0 + 24 * HOUR);
    l.max_trades_per_day = 5;
    l.max_open_trades = 3;
    l.max_daily_loss = Q(600);
    l.max_daily_loss_frac = 0.05; /* 500 of 10000: tighter than 600 */
    l.max_drawdown_frac = 0.2;
    cb_risk_on_entry(&st, DAY0 + 6 * HOUR);
    cb_risk_on_entry(&st, DAY0 + 7 * HOUR);
    cb_risk_summarise(&l, &st, Q(9900), 1, &sm);
    assert_int_equal(sm.trades_today, 2);
    assert_int_equal(sm.trades_left, 3);
    assert_int_equal(sm.open_trades, 1);
    assert_int_equal(sm.open_left, 2);
    assert_int_equal(sm.daily_loss_limit, Q(500));
    assert_true(sm.drawdown_frac > 0.0099 && sm.drawdown_frac < 0.0101);
    assert_true(sm.drawdown_limit == 0.2);
    /* a gain is no loss; used up limits leave 0, never a negative count */
    cb_risk_summarise(&l, &st, Q(10100), 4, &sm);
    assert_int_equal(sm.daily_loss, 0);
    assert_int_equal(sm.open_left, 0);
    assert_true(sm.drawdown_frac == 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_parse_keys),
        cmocka_unit_test(test_controls),
        cmocka_unit_test(test_daily_loss_and_kill_switch),
        cmocka_unit_test(test_state_round_trip),
    };
    return cmocka_run_group_tests_name("risk", tests, NULL, NULL);
}
