/* journal/: order intents before sending, monotonic updates, fill deduplication, survival
 * of SIGKILL at random moments; a journal recognised and checked on open (foreign, damaged,
 * newer and older files built here with SQLite directly); failed writes remembered; clocks. */
#include <signal.h>
#include <sqlite3.h>
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
        if (cb_journal_order_update(j, o.client_order_id, "x", CB_OS_FILLED, o.quantity, i))
            _exit(5);
        cb_journal_fill_t f;
        memset(&f, 0, sizeof f);
        snprintf(f.pair, sizeof f.pair, "BTC/USDT");
        snprintf(f.trade_id, sizeof f.trade_id, "t%d", i);
        snprintf(f.client_order_id, sizeof f.client_order_id, "%s", o.client_order_id);
        snprintf(f.side, sizeof f.side, "%s", o.side);
        snprintf(f.fee_asset, sizeof f.fee_asset, "USDT");
        f.qty_scale = 5;
        f.quantity = o.quantity;
        f.price = 100 + i;
        if (cb_journal_fill(j, &f) < 0)
            _exit(6);
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


/* ---- what is and is not a journal ------------------------------------------------------ */

/* Runs SQL on path with SQLite directly (as a user's tool or a damaged disk would). */
static void sql(const char *file, const char *stmts)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(file, &db), SQLITE_OK);
    char *err = NULL;
    if (sqlite3_exec(db, stmts, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", stmts, err ? err : "?");
    sqlite3_close(db);
}

static int64_t sql_i64(const char *file, const char *query)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(file, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, query, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* A journal with one filled buy (quantity 100000 at 2734512), closed. */
static void make_journal(void)
{
    cb_journal_t *j;
    assert_int_equal(cb_journal_open(path, "alpha", &j, NULL), 0);
    cb_journal_order_t o = make_order("buy", 100000);
    assert_int_equal(cb_journal_order_intent(j, &o), 0);
    assert_int_equal(cb_journal_order_update(j, o.client_order_id, "1", CB_OS_FILLED, 100000, T0),
                     0);
    cb_journal_fill_t f;
    memset(&f, 0, sizeof f);
    snprintf(f.pair, sizeof f.pair, "BTC/USDT");
    snprintf(f.trade_id, sizeof f.trade_id, "777");
    snprintf(f.client_order_id, sizeof f.client_order_id, "%s", o.client_order_id);
    snprintf(f.side, sizeof f.side, "buy");
    snprintf(f.fee_asset, sizeof f.fee_asset, "USDT");
    f.price_scale = 2;
    f.qty_scale = 5;
    f.fee_scale = 8;
    f.price = 2734512;
    f.quantity = 100000;
    f.time_ms = T0;
    assert_int_equal(cb_journal_fill(j, &f), 1);
    assert_int_equal(cb_journal_kv_set(j, "risk.state", "v=1"), 0);
    cb_journal_close(j);
}

/* Opening path must fail with code and a message containing want; the file must then be
 * byte-for-byte what it was (nothing written into what is refused). */
static void refused(int code, const char *want)
{
    FILE *fp = fopen(path, "rb");
    static char before[1 << 16], after[1 << 16];
    size_t nb = fp ? fread(before, 1, sizeof before, fp) : 0;
    if (fp)
        fclose(fp);
    cb_journal_t *j = NULL;
    cb_diag_t d;
    cb_diag_clear(&d);
    int rc = cb_journal_open(path, "alpha", &j, &d);
    char msg[700];
    cb_diag_format(&d, msg, sizeof msg);
    if (rc != code || !strstr(msg, want))
        fail_msg("got %d '%s', want %d '%s'", rc, msg, code, want);
    assert_null(j);
    assert_non_null(strstr(msg, path)); /* the sentence names the file */
    /* the status commands refuse it alike */
    char bot[32];
    assert_int_equal(cb_journal_open_existing(path, &j, bot, sizeof bot, &d), code);
    fp = fopen(path, "rb");
    size_t na = fp ? fread(after, 1, sizeof after, fp) : 0;
    if (fp)
        fclose(fp);
    assert_int_equal(na, nb);
    assert_memory_equal(after, before, nb);
}

static void test_refuses_foreign_database(void **state)
{
    (void)state;
    sql(path, "CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT);"
              "INSERT INTO customers(name) VALUES('Ada');");
    refused(CB_ECONFLICT, "belongs to another program (application_id 0, tables 'customers')");
    assert_int_equal(sql_i64(path, "SELECT count(*) FROM sqlite_master"), 1);
    /* another program's application_id, even with tables named like ours */
    sql(path, "DROP TABLE customers; CREATE TABLE orders(x); PRAGMA application_id = 42;");
    refused(CB_ECONFLICT, "application_id 42");
    /* not SQLite at all */
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs("pair,price\nBTC/USDT,1\n", fp);
    fclose(fp);
    refused(CB_ECORRUPT, "not a readable SQLite database");
}

static void test_refuses_damaged_journal(void **state)
{
    (void)state;
    static const struct {
        const char *sql;
        int code;
        const char *want;
    } cases[] = {
        {"DROP TABLE fills", CB_ECORRUPT,
         "table 'fills' is missing; this journal is damaged: restore a backup or start a new "
         "journal in another file ([bot] db or --db)"},
        {"DROP TABLE meta", CB_ECORRUPT, "table 'meta' is missing"},
        {"ALTER TABLE orders DROP COLUMN market_ms", CB_ECORRUPT,
         "table 'orders' has no column 'market_ms'"},
        {"UPDATE fills SET quantity = 'abc'", CB_ECORRUPT,
         "table 'fills', row 1: column 'quantity' is 'abc', expected a positive integer"},
        {"UPDATE fills SET price = -1", CB_ECORRUPT,
         "table 'fills', row 1: column 'price' is -1, expected a positive integer"},
        {"UPDATE orders SET quantity = -5", CB_ECORRUPT,
         "table 'orders', row 1: column 'quantity' is -5, expected an integer >= 0"},
        {"UPDATE orders SET status = 'weird'", CB_ECORRUPT,
         "column 'status' is 'weird', expected an order status"},
        {"UPDATE orders SET executed_quantity = 200000", CB_ECORRUPT,
         "column 'executed_quantity' is 200000, expected an integer from 0 to the order's"},
        {"UPDATE fills SET client_order_id = 'cb-alpha-9'", CB_ECORRUPT,
         "expected the client order id of a journaled order"},
        {"UPDATE meta SET value = '99' WHERE key = 'schema_version'", CB_EUNSUPPORTED,
         "schema version 99, written by a newer Comeback (this one reads up to 2)"},
        {"UPDATE meta SET value = 'two' WHERE key = 'schema_version'", CB_ECORRUPT,
         "schema version (meta 'schema_version') is 'two'"},
        {"DELETE FROM meta WHERE key = 'bot'", CB_ECORRUPT, "bot name (meta 'bot') is missing"},
        {"UPDATE meta SET value = '1' WHERE key = 'next_seq'", CB_ECORRUPT,
         "next order sequence (meta 'next_seq') is 1, but orders up to 1 exist"},
        {"UPDATE kv SET value = x'00ff'", CB_ECORRUPT, "table 'kv', row 1: column 'value'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        make_journal();
        sql(path, cases[i].sql);
        print_message("case %zu: %s\n", i, cases[i].sql);
        refused(cases[i].code, cases[i].want);
        tu_rmtree(dir);
        assert_non_null(tu_tmpdir(dir, sizeof dir));
        snprintf(path, sizeof path, "%s/bot.db", dir);
    }
}

static void test_refuses_corrupt_pages(void **state)
{
    (void)state;
    make_journal();
    /* fold the WAL into the file, then scribble over the second page (a table's b-tree) */
    sql(path, "PRAGMA wal_checkpoint(TRUNCATE)");
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 4096 + 8, SEEK_SET), 0);
    for (int i = 0; i < 200; i++)
        fputc(0x5a, fp);
    fclose(fp);
    cb_journal_t *j = NULL;
    cb_diag_t d;
    cb_diag_clear(&d);
    assert_int_equal(cb_journal_open(path, "alpha", &j, &d), CB_ECORRUPT);
    assert_non_null(strstr(d.msg, "restore a backup"));
}

static void test_new_and_empty_files(void **state)
{
    (void)state;
    /* a 0-byte file is a new journal */
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fclose(fp);
    cb_journal_t *j;
    cb_diag_t d;
    char bot[32];
    assert_int_equal(cb_journal_open_existing(path, &j, bot, sizeof bot, &d), CB_ENOENT);
    assert_non_null(strstr(d.msg, "not a robot journal"));
    assert_int_equal(cb_journal_open(path, "alpha", &j, &d), 0);
    assert_int_equal(cb_journal_check(j, &d), 0);
    cb_journal_close(j);
    assert_int_equal(sql_i64(path, "PRAGMA application_id"), CB_JOURNAL_APPLICATION_ID);
    assert_int_equal(sql_i64(path, "SELECT value FROM meta WHERE key = 'schema_version'"),
                     CB_JOURNAL_SCHEMA_VERSION);
    assert_int_equal(cb_journal_open_existing(path, &j, bot, sizeof bot, &d), 0);
    assert_string_equal(bot, "alpha");
    cb_journal_close(j);
    /* a journal the robot wrote opens again, and passes the full check */
    make_journal();
    assert_int_equal(cb_journal_open(path, "alpha", &j, &d), 0);
    assert_int_equal(cb_journal_check(j, &d), 0);
    cb_journal_close(j);
}

/* Schema 1, as Comeback wrote it before the application_id: journals in users' hands. */
static void test_migrates_schema_1(void **state)
{
    (void)state;
    sql(path,
        "PRAGMA journal_mode=WAL;"
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE orders(seq INTEGER PRIMARY KEY, client_order_id TEXT NOT NULL UNIQUE,"
        " exchange_order_id TEXT NOT NULL DEFAULT '', pair TEXT NOT NULL, side TEXT NOT NULL"
        " CHECK(side IN ('buy','sell')), type TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',"
        " status TEXT NOT NULL, price_scale INTEGER NOT NULL, qty_scale INTEGER NOT NULL,"
        " price INTEGER NOT NULL, stop_price INTEGER NOT NULL, quantity INTEGER NOT NULL,"
        " executed_quantity INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL,"
        " updated_ms INTEGER NOT NULL, adopted INTEGER NOT NULL DEFAULT 0);"
        "CREATE TABLE fills(pair TEXT NOT NULL, trade_id TEXT NOT NULL, client_order_id TEXT"
        " NOT NULL, side TEXT NOT NULL CHECK(side IN ('buy','sell')), price_scale INTEGER NOT"
        " NULL, qty_scale INTEGER NOT NULL, fee_scale INTEGER NOT NULL, price INTEGER NOT NULL,"
        " quantity INTEGER NOT NULL, fee INTEGER NOT NULL, fee_asset TEXT NOT NULL, time_ms"
        " INTEGER NOT NULL, PRIMARY KEY(pair, trade_id));"
        "CREATE INDEX fills_by_order ON fills(client_order_id);"
        "CREATE TABLE kv(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE events(id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, kind TEXT NOT"
        " NULL, detail TEXT NOT NULL);"
        "INSERT INTO meta VALUES('bot','alpha'),('schema_version','1'),('next_seq','2');"
        "INSERT INTO orders(seq, client_order_id, exchange_order_id, pair, side, type, reason,"
        " status, price_scale, qty_scale, price, stop_price, quantity, executed_quantity,"
        " created_ms, updated_ms) VALUES(1,'cb-alpha-1','9','BTC/USDT','buy','market','entry',"
        " 'filled',2,5,0,0,100000,100000,1700000000000,1700000000001);"
        "INSERT INTO fills VALUES('BTC/USDT','777','cb-alpha-1','buy',2,5,8,2734512,100000,0,"
        " 'USDT',1700000000000);"
        "INSERT INTO kv VALUES('bar.last_ms','1700000000000');"
        "INSERT INTO events(time_ms, kind, detail) VALUES(1700000000000,'restart','x');");
    assert_int_equal(sql_i64(path, "PRAGMA application_id"), 0);
    cb_journal_t *j;
    cb_diag_t d;
    cb_diag_clear(&d);
    assert_int_equal(cb_journal_open(path, "alpha", &j, &d), 0);
    cb_journal_order_t o;
    assert_int_equal(cb_journal_order_get(j, "cb-alpha-1", &o), 0);
    assert_int_equal(o.status, CB_OS_FILLED);
    assert_int_equal(o.market_ms, 0); /* not recorded before schema 2 */
    int64_t pos;
    assert_int_equal(cb_journal_position(j, "BTC/USDT", 5, &pos), 0);
    assert_int_equal(pos, 100000);
    cb_journal_order_t n = make_order("sell", 100000);
    assert_int_equal(cb_journal_order_intent(j, &n), 0);
    assert_string_equal(n.client_order_id, "cb-alpha-2"); /* the sequence goes on */
    assert_int_equal(cb_journal_check(j, &d), 0);
    cb_journal_close(j);
    assert_int_equal(sql_i64(path, "PRAGMA application_id"), CB_JOURNAL_APPLICATION_ID);
    assert_int_equal(sql_i64(path, "SELECT value FROM meta WHERE key = 'schema_version'"), 2);
    assert_int_equal(sql_i64(path, "SELECT count(*) FROM pragma_table_info('events')"
                                   " WHERE name = 'wall_ms'"),
                     1);
    /* and opens again as a journal of the current schema */
    assert_int_equal(cb_journal_open(path, "alpha", &j, &d), 0);
    cb_journal_close(j);
    /* a schema-1 journal that is damaged is refused, not migrated */
    sql(path, "PRAGMA application_id = 0; UPDATE meta SET value = '1' WHERE key ="
              " 'schema_version'; UPDATE orders SET status = 'weird'");
    refused(CB_ECORRUPT, "column 'status' is 'weird'");
}

/* A failed write returns an error and is remembered, whichever write it was. */
static void test_failed_writes_are_remembered(void **state)
{
    (void)state;
    cb_journal_t *j;
    assert_int_equal(cb_journal_open(path, "alpha", &j, NULL), 0);
    char why[320] = "";
    assert_int_equal(cb_journal_failed(j, why, sizeof why), 0);
    assert_int_equal(cb_journal_kv_set(j, "a", "1"), 0);
    /* another program takes the table away under the open journal: SQLite's own error */
    sql(path, "ALTER TABLE kv RENAME TO kv_gone");
    assert_int_equal(cb_journal_kv_set(j, "a", "2"), CB_EIO);
    assert_int_equal(cb_journal_failed(j, why, sizeof why), 1);
    assert_string_equal(why, "cannot write the robot's state: no such table: kv");
    /* the first failure is the one remembered; the others still fail and say so */
    sql(path, "ALTER TABLE events RENAME TO events_gone");
    assert_int_equal(cb_journal_event(j, 0, "risk", "x"), CB_EIO);
    assert_int_equal(cb_journal_failed(j, why, sizeof why), 1);
    assert_non_null(strstr(why, "robot's state"));
    cb_journal_close(j);
    sql(path, "ALTER TABLE kv_gone RENAME TO kv; ALTER TABLE events_gone RENAME TO events");
    /* a fill and an order update that cannot be written */
    assert_int_equal(cb_journal_open(path, "alpha", &j, NULL), 0);
    cb_journal_order_t o = make_order("buy", 5);
    assert_int_equal(cb_journal_order_intent(j, &o), 0);
    sql(path, "CREATE TRIGGER no_updates BEFORE UPDATE ON orders BEGIN"
              " SELECT RAISE(ABORT, 'disk full (simulated)'); END;");
    assert_int_equal(cb_journal_order_update(j, o.client_order_id, "1", CB_OS_NEW, 0, T0),
                     CB_EIO);
    assert_int_equal(cb_journal_failed(j, why, sizeof why), 1);
    assert_string_equal(why, "cannot record the order's status: disk full (simulated)");
    cb_journal_close(j);
    /* a journal must stay openable: values it would refuse on open are refused on write */
    assert_int_equal(cb_journal_open(path, "alpha", &j, NULL), 0);
    cb_journal_fill_t f;
    memset(&f, 0, sizeof f);
    snprintf(f.pair, sizeof f.pair, "BTC/USDT");
    snprintf(f.trade_id, sizeof f.trade_id, "1");
    snprintf(f.client_order_id, sizeof f.client_order_id, "%s", o.client_order_id);
    snprintf(f.side, sizeof f.side, "buy");
    f.quantity = 5;
    f.price = -1;
    assert_int_equal(cb_journal_fill(j, &f), CB_EINVAL);
    cb_journal_order_t bad = make_order("buy", -5);
    assert_int_equal(cb_journal_order_intent(j, &bad), CB_EINVAL);
    assert_int_equal(cb_journal_event(j, -1, "x", ""), CB_EINVAL);
    assert_int_equal(cb_journal_failed(j, why, sizeof why), 0); /* refused, not failed */
    cb_journal_close(j);
}

/* One clock per column: market time as the caller says, the wall clock stamped. */
static void test_clocks(void **state)
{
    (void)state;
    cb_journal_t *j;
    assert_int_equal(cb_journal_open(path, "alpha", &j, NULL), 0);
    int64_t before = cb_now_ms();
    cb_journal_order_t o = make_order("buy", 5), got;
    o.market_ms = T0 - 3600000;
    o.created_ms = before;
    assert_int_equal(cb_journal_order_intent(j, &o), 0);
    assert_int_equal(cb_journal_order_get(j, o.client_order_id, &got), 0);
    assert_int_equal(got.market_ms, T0 - 3600000);
    assert_int_equal(got.created_ms, before);
    cb_journal_fill_t f;
    memset(&f, 0, sizeof f);
    snprintf(f.pair, sizeof f.pair, "BTC/USDT");
    snprintf(f.trade_id, sizeof f.trade_id, "1");
    snprintf(f.client_order_id, sizeof f.client_order_id, "%s", o.client_order_id);
    snprintf(f.side, sizeof f.side, "buy");
    f.quantity = 5;
    f.price = 7;
    f.time_ms = T0;
    assert_int_equal(cb_journal_fill(j, &f), 1);
    assert_int_equal(cb_journal_event(j, T0, "risk", "x"), 0);
    int64_t after = cb_now_ms();
    cb_journal_close(j);
    assert_int_equal(sql_i64(path, "SELECT time_ms FROM fills"), T0);
    int64_t w = sql_i64(path, "SELECT wall_ms FROM fills");
    assert_true(w >= before && w <= after);
    assert_int_equal(sql_i64(path, "SELECT time_ms FROM events"), T0);
    w = sql_i64(path, "SELECT wall_ms FROM events");
    assert_true(w >= before && w <= after);
}


/* Several processes creating the same new journal at once: each opens it, one creates it. */
static void test_created_at_once(void **state)
{
    (void)state;
    for (int round = 0; round < 5; round++) {
        unlink(path);
        pid_t kids[4];
        for (int k = 0; k < 4; k++) {
            kids[k] = fork();
            assert_true(kids[k] >= 0);
            if (kids[k] == 0) {
                cb_journal_t *j;
                cb_diag_t d;
                int rc = cb_journal_open(path, "alpha", &j, &d);
                if (rc)
                    fprintf(stderr, "child: %s\n", d.msg);
                cb_journal_close(j);
                _exit(rc ? 1 : 0);
            }
        }
        for (int k = 0; k < 4; k++) {
            int st;
            waitpid(kids[k], &st, 0);
            assert_true(WIFEXITED(st));
            assert_int_equal(WEXITSTATUS(st), 0);
        }
    }
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
        cmocka_unit_test_setup_teardown(test_refuses_foreign_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_damaged_journal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_corrupt_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_and_empty_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrates_schema_1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_writes_are_remembered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_created_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errmsg_says_why, setup, teardown),
    };
    return cmocka_run_group_tests_name("journal", tests, NULL, NULL);
}
