/* journal/: order intents before sending, monotonic updates, fill deduplication, and survival
 * of SIGKILL at random moments. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "comeback/journal.h"
#include "testutil.h"

static char dir[256], path[512];
#define T0 INT64_C(1700000000000)

static int setup(void **state)
{
    (void)state;
    if (!tu_tmpdir(dir, sizeof dir))
        return -1;
    snprintf(path, sizeof path, "%s/bot.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(dir);
    return 0;
}

static cb_journal_order_t make_order(const char *side, int64_t qty)
{
    cb_journal_order_t o;
    memset(&o, 0, sizeof o);
    snprintf(o.pair, sizeof o.pair, "BTC/USDT");
    snprintf(o.side, sizeof o.side, "%s", side);
    snprintf(o.type, sizeof o.type, "market");
    snprintf(o.reason, sizeof o.reason, "entry");
    o.price_scale = 2;
    o.qty_scale = 5;
    o.quantity = qty;
    o.created_ms = 1700000000000;
    return o;
}

static void test_open_and_owner(void **state)
{
    (void)state;
    cb_journal_t *j;
    cb_diag_t d;
    assert_int_equal(cb_journal_open(path, "alpha", &j, &d), 0);
    cb_journal_close(j);
    assert_int_equal(cb_journal_open(path, "beta", &j, &d), CB_ECONFLICT);
    assert_null(j);
    assert_non_null(strstr(d.msg, "belongs to bot 'alpha'"));
    assert_int_equal(cb_journal_open(path, "has space", &j, &d), CB_EINVAL);
    assert_int_equal(cb_journal_open(path, "a-name-longer-than-twenty", &j, &d), CB_EINVAL);
    char bad[600];
    snprintf(bad, sizeof bad, "%s/no/such/dir/x.db", dir);
    assert_int_equal(cb_journal_open(bad, "alpha", &j, &d), CB_EIO);
    assert_non_null(strstr(d.msg, "cannot open the journal"));
}

static void test_intents_and_updates(void **state)
{
    (void)state;
    cb_journal_t *j;
    assert_int_equal(cb_journal_open(path, "alpha", &j, NULL), 0);
    cb_journal_order_t a = make_order("buy", 150000), b = make_order("sell", 150000), got;
    assert_int_equal(cb_journal_order_intent(j, &a), 0);
    assert_int_equal(cb_journal_order_intent(j, &b), 0);
    assert_string_equal(a.client_order_id, "cb-alpha-1");
    assert_string_equal(b.client_order_id, "cb-alpha-2");
    assert_true(strlen("cb-alpha-4294967295") <= 36); /* Binance's client id limit */
    assert_int_equal(cb_journal_order_get(j, "cb-alpha-1", &got), 0);
    assert_int_equal(got.status, CB_OS_INTENT);
    assert_int_equal(got.quantity, 150000);
    assert_int_equal(cb_journal_order_update(j, "cb-alpha-1", "123", CB_OS_NEW, 0, T0 + 5), 0);
    assert_int_equal(cb_journal_order_update(j, "cb-alpha-1", NULL, CB_OS_PARTIALLY_FILLED,
                                             50000, T0 + 6),
                     0);
    /* A late, stale message must not move it backwards. */
    assert_int_equal(cb_journal_order_update(j, "cb-alpha-1", NULL, CB_OS_NEW, 0, T0 + 4), 0);
    assert_int_equal(cb_journal_order_get(j, "cb-alpha-1", &got), 0);
    assert_int_equal(got.status, CB_OS_NEW); /* non-final statuses follow the exchange */
    assert_int_equal(got.executed_quantity, 50000);
    assert_string_equal(got.exchange_order_id, "123");
    assert_int_equal(got.updated_ms, T0 + 6);
    assert_int_equal(cb_journal_order_update(j, "cb-alpha-1", NULL, CB_OS_FILLED, 150000, T0 + 7),
                     0);
    assert_int_equal(cb_journal_order_update(j, "cb-alpha-1", NULL, CB_OS_CANCELED, 0, T0 + 8), 0);
    assert_int_equal(cb_journal_order_get(j, "cb-alpha-1", &got), 0);
    assert_int_equal(got.status, CB_OS_FILLED);
    assert_int_equal(got.executed_quantity, 150000);
    assert_int_equal(cb_journal_order_update(j, "cb-alpha-99", NULL, CB_OS_NEW, 0, T0 + 8),
                     CB_ENOENT);
    cb_journal_close(j);
    /* Sequence continues after reopening: ids are never reused. */
    assert_int_equal(cb_journal_open(path, "alpha", &j, NULL), 0);
    cb_journal_order_t c = make_order("buy", 1);
    assert_int_equal(cb_journal_order_intent(j, &c), 0);
    assert_string_equal(c.client_order_id, "cb-alpha-3");
    cb_journal_order_t bad = make_order("hold", 1);
    assert_int_equal(cb_journal_order_intent(j, &bad), CB_EINVAL);
    cb_journal_close(j);
}

static int count_order(const cb_journal_order_t *o, void *ctx)
{
    (void)o;
    (*(int *)ctx)++;
    return 0;
}

static void test_fills_dedup_and_position(void **state)
{
    (void)state;
    cb_journal_t *j;
    assert_int_equal(cb_journal_open(path, "alpha", &j, NULL), 0);
    cb_journal_order_t a = make_order("buy", 150000);
    assert_int_equal(cb_journal_order_intent(j, &a), 0);
    cb_journal_fill_t f;
    memset(&f, 0, sizeof f);
    snprintf(f.pair, sizeof f.pair, "BTC/USDT");
    snprintf(f.trade_id, sizeof f.trade_id, "777");
    snprintf(f.client_order_id, sizeof f.client_order_id, "%s", a.client_order_id);
    snprintf(f.side, sizeof f.side, "buy");
    snprintf(f.fee_asset, sizeof f.fee_asset, "BNB");
    f.price_scale = 2;
    f.qty_scale = 5;
    f.fee_scale = 8;
    f.price = 2734512;
    f.quantity = 100000;
    f.fee = 1234;
    assert_int_equal(cb_journal_fill(j, &f), 1);
    assert_int_equal(cb_journal_fill(j, &f), 0); /* replayed after a reconnect: ignored */
    snprintf(f.trade_id, sizeof f.trade_id, "778");
    f.quantity = 50000;
    assert_int_equal(cb_journal_fill(j, &f), 1);
    snprintf(f.trade_id, sizeof f.trade_id, "779");
    snprintf(f.side, sizeof f.side, "sell");
    f.quantity = 30000;
    assert_int_equal(cb_journal_fill(j, &f), 1);
    int64_t pos;
    assert_int_equal(cb_journal_position(j, "BTC/USDT", 5, &pos), 0);
    assert_int_equal(pos, 120000);
    assert_int_equal(cb_journal_position(j, "BTC/USDT", 8, &pos), 0);
    assert_int_equal(pos, 120000000);
    assert_int_equal(cb_journal_position(j, "BTC/USDT", 3, &pos), 0);
    assert_int_equal(pos, 1200);
    assert_int_equal(cb_journal_position(j, "ETH/USDT", 5, &pos), 0);
    assert_int_equal(pos, 0);
    int n = 0;
    assert_int_equal(cb_journal_orders(j, 1, count_order, &n), 0);
    assert_int_equal(n, 1);
    char buf[64];
    assert_int_equal(cb_journal_kv_get(j, "paused", buf, sizeof buf), CB_ENOENT);
    assert_int_equal(cb_journal_kv_set(j, "paused", "1"), 0);
    assert_int_equal(cb_journal_kv_set(j, "paused", "0"), 0);
    assert_int_equal(cb_journal_kv_get(j, "paused", buf, sizeof buf), 0);
    assert_string_equal(buf, "0");
    assert_int_equal(cb_journal_event(j, 1, "decision", "{\"entry\":true}"), 0);
    /* Adopting an order the exchange has but the journal lacks; twice is refused. */
    cb_journal_order_t ext = make_order("buy", 5);
    snprintf(ext.client_order_id, sizeof ext.client_order_id, "web_abc");
    ext.status = CB_OS_NEW;
    assert_int_equal(cb_journal_order_adopt(j, &ext), 0);
    assert_int_equal(cb_journal_order_adopt(j, &ext), CB_EEXIST);
    /* Transactions: a rollback leaves nothing behind. */
    assert_int_equal(cb_journal_begin(j), 0);
    cb_journal_order_t t = make_order("buy", 9);
    assert_int_equal(cb_journal_order_intent(j, &t), 0);
    assert_int_equal(cb_journal_rollback(j), 0);
    assert_int_equal(cb_journal_order_get(j, t.client_order_id, &a), CB_ENOENT);
    assert_int_equal(cb_journal_commit(j), CB_ESTATE);
    cb_journal_close(j);
}

/* A child process writes intents, updates and fills as fast as it can and is killed with
 * SIGKILL at a random moment, 20 times. After each kill the journal must open, every client id
 * must be unique, the sequence must be ahead of every id used, and every fill must belong to a
 * recorded order. */
typedef struct check_ctx {
    cb_journal_t *j;
    long long max_seq;
    int bad;
} check_ctx_t;

static int check_order(const cb_journal_order_t *o, void *ctx)
{
    check_ctx_t *c = ctx;
    long long seq = atoll(o->client_order_id + strlen("cb-alpha-"));
    if (seq > c->max_seq)
        c->max_seq = seq;
    return 0;
}

static int check_fill(const cb_journal_fill_t *f, void *ctx)
{
    check_ctx_t *c = ctx;
    cb_journal_order_t o;
    if (cb_journal_order_get(c->j, f->client_order_id, &o) != 0)
        c->bad++;
    return 0;
}

static void child_writer(void)
{
    cb_journal_t *j;
    if (cb_journal_open(path, "alpha", &j, NULL) != 0)
        _exit(3);
    for (int i = 0;; i++) {
        cb_journal_order_t o = make_order(i % 2 ? "sell" : "buy", 100 + i);
        if (cb_journal_order_intent(j, &o) != 0)
            _exit(4);
        cb_journal_order_update(j, o.client_order_id, "x", CB_OS_FILLED, o.quantity, i);
        cb_journal_fill_t f;
        memset(&f, 0, sizeof f);
        snprintf(f.pair, sizeof f.pair, "BTC/USDT");
        snprintf(f.trade_id, sizeof f.trade_id, "t%d", i);
        snprintf(f.client_order_id, sizeof f.client_order_id, "%s", o.client_order_id);
        snprintf(f.side, sizeof f.side, "%s", o.side);
        snprintf(f.fee_asset, sizeof f.fee_asset, "USDT");
        f.qty_scale = 5;
        f.quantity = o.quantity;
        cb_journal_fill(j, &f);
    }
}

static void test_survives_sigkill(void **state)
{
    (void)state;
    srand((unsigned)time(NULL));
    long long last_max = 0;
    for (int round = 0; round < 20; round++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            child_writer();
        usleep((useconds_t)(2000 + rand() % 30000));
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        assert_true(WIFSIGNALED(status));
        cb_journal_t *j;
        assert_int_equal(cb_journal_open(path, "alpha", &j, NULL), 0);
        check_ctx_t c = {j, 0, 0};
        assert_int_equal(cb_journal_orders(j, 0, check_order, &c), 0);
        assert_int_equal(cb_journal_fills(j, NULL, check_fill, &c), 0);
        assert_int_equal(c.bad, 0);
        assert_true(c.max_seq >= last_max);
        last_max = c.max_seq;
        /* The next id must be new. */
        cb_journal_order_t o = make_order("buy", 1), dup;
        assert_int_equal(cb_journal_order_intent(j, &o), 0);
        assert_true(atoll(o.client_order_id + strlen("cb-alpha-")) == c.max_seq + 1);
        (void)dup;
        last_max = c.max_seq + 1;
        cb_journal_close(j);
    }
    print_message("after 20 kills: %lld orders journalled\n", last_max);
}

/* The reason of a failure is the journal's, never SQLite's "not an error" (the robot printed
 * "journal: not an error" for a commit after an inner write rolled the bar back). */
static void test_errmsg_says_why(void **state)
{
    (void)state;
    cb_journal_t *j;
    assert_int_equal(cb_journal_open(path, "alpha", &j, NULL), 0);
    assert_int_equal(cb_journal_begin(j), 0);
    assert_int_equal(cb_journal_begin(j), 0); /* nested, as inside a bar */
    assert_int_equal(cb_journal_rollback(j), 0); /* an inner failure rolls everything back */
    assert_int_equal(cb_journal_commit(j), CB_ESTATE);
    assert_null(strstr(cb_journal_errmsg(j), "not an error"));
    assert_non_null(strstr(cb_journal_errmsg(j), "commit without an open transaction"));
    cb_journal_order_t o = make_order("hold", 100);
    assert_int_equal(cb_journal_order_intent(j, &o), CB_EINVAL);
    assert_string_equal(cb_journal_errmsg(j), "an order's side must be 'buy' or 'sell'");
    /* a successful operation forgets the old reason; SQLite's own error speaks for itself */
    assert_int_equal(cb_journal_kv_set(j, "k", "v"), 0);
    assert_null(strstr(cb_journal_errmsg(j), "not an error"));
    assert_null(strstr(cb_journal_errmsg(j), "side"));
    cb_journal_close(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_and_owner, setup, teardown),
        cmocka_unit_test_setup_teardown(test_intents_and_updates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fills_dedup_and_position, setup, teardown),
        cmocka_unit_test_setup_teardown(test_survives_sigkill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errmsg_says_why, setup, teardown),
    };
    return cmocka_run_group_tests_name("journal", tests, NULL, NULL);
}
