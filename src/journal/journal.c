/* The robot's journal in SQLite: order intents before sending, acknowledgements, fills
 * deduplicated by exchange trade id, durable key/values and an event log. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "comeback/journal.h"

struct cb_journal {
    sqlite3 *db;
    char bot[24];
    int depth; /* nesting of cb_journal_begin */
    char err[256]; /* why the last operation failed when SQLite does not say (errmsg) */
};

static const char *const status_names[] = {
#define CB_OS_NAME_(id, name) name,
    CB_ORDER_STATUS_MAP(CB_OS_NAME_)
#undef CB_OS_NAME_
};
#define N_STATUS (sizeof status_names / sizeof status_names[0])

const char *cb_order_status_name(cb_order_status_t s)
{
    return (size_t)s < N_STATUS ? status_names[s] : "unknown";
}

int cb_order_status_parse(const char *name, cb_order_status_t *out)
{
    if (!name)
        return CB_EINVAL;
    for (size_t i = 0; i < N_STATUS; i++)
        if (strcasecmp(name, status_names[i]) == 0) {
            *out = (cb_order_status_t)i;
            return 0;
        }
    /* Binance spells a few differently. */
    if (!strcasecmp(name, "PENDING_CANCEL") || !strcasecmp(name, "PENDING_NEW")) {
        *out = CB_OS_NEW;
        return 0;
    }
    if (!strcasecmp(name, "EXPIRED_IN_MATCH")) {
        *out = CB_OS_EXPIRED;
        return 0;
    }
    return CB_EINVAL;
}

int cb_order_status_final(cb_order_status_t s)
{
    return s == CB_OS_FILLED || s == CB_OS_CANCELED || s == CB_OS_REJECTED ||
           s == CB_OS_EXPIRED;
}

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS orders("
    " seq INTEGER PRIMARY KEY,"
    " client_order_id TEXT NOT NULL UNIQUE,"
    " exchange_order_id TEXT NOT NULL DEFAULT '',"
    " pair TEXT NOT NULL, side TEXT NOT NULL CHECK(side IN ('buy','sell')),"
    " type TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', status TEXT NOT NULL,"
    " price_scale INTEGER NOT NULL, qty_scale INTEGER NOT NULL,"
    " price INTEGER NOT NULL, stop_price INTEGER NOT NULL, quantity INTEGER NOT NULL,"
    " executed_quantity INTEGER NOT NULL DEFAULT 0,"
    " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,"
    " adopted INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS fills("
    " pair TEXT NOT NULL, trade_id TEXT NOT NULL, client_order_id TEXT NOT NULL,"
    " side TEXT NOT NULL CHECK(side IN ('buy','sell')),"
    " price_scale INTEGER NOT NULL, qty_scale INTEGER NOT NULL, fee_scale INTEGER NOT NULL,"
    " price INTEGER NOT NULL, quantity INTEGER NOT NULL, fee INTEGER NOT NULL,"
    " fee_asset TEXT NOT NULL, time_ms INTEGER NOT NULL,"
    " PRIMARY KEY(pair, trade_id));"
    "CREATE INDEX IF NOT EXISTS fills_by_order ON fills(client_order_id);"
    "CREATE TABLE IF NOT EXISTS kv(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL,"
    " kind TEXT NOT NULL, detail TEXT NOT NULL);";

/* Never SQLite's "not an error": the reason recorded by the failing operation, else SQLite's
 * own message of the failed call. */
const char *cb_journal_errmsg(cb_journal_t *j)
{
    if (!j)
        return "no journal";
    if (j->err[0])
        return j->err;
    if (j->db && sqlite3_errcode(j->db) != SQLITE_OK)
        return sqlite3_errmsg(j->db);
    return "the journal gave no reason";
}

/* Records why an operation failed without a SQLite error (cb_journal_errmsg); returns rc. */
static int jfail(cb_journal_t *j, int rc, const char *why)
{
    snprintf(j->err, sizeof j->err, "%s", why);
    return rc;
}

static int exec(cb_journal_t *j, const char *sql)
{
    j->err[0] = '\0';
    return sqlite3_exec(j->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : CB_EIO;
}

static int valid_bot(const char *bot)
{
    size_t n = strlen(bot);
    if (n == 0 || n > 20)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = bot[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

/* Prepares sql, returning NULL on error (the caller reports CB_EIO). */
static sqlite3_stmt *prep(cb_journal_t *j, const char *sql)
{
    sqlite3_stmt *st = NULL;
    j->err[0] = '\0'; /* a new operation: SQLite's message now speaks for it */
    if (sqlite3_prepare_v2(j->db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    return st;
}



/* The two small key/value tables: meta (the journal's own bookkeeping) and kv (the robot's). */
static int table_get(cb_journal_t *j, int meta, const char *key, char *buf, size_t size)
{
    sqlite3_stmt *st = prep(j, meta ? "SELECT value FROM meta WHERE key = ?"
                                    : "SELECT value FROM kv WHERE key = ?");
    if (!st)
        return CB_EIO;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int r = sqlite3_step(st), rc;
    if (r == SQLITE_ROW) {
        snprintf(buf, size, "%s", (const char *)sqlite3_column_text(st, 0));
        rc = 0;
    } else {
        rc = r == SQLITE_DONE ? CB_ENOENT : CB_EIO;
    }
    sqlite3_finalize(st);
    return rc;
}

static int table_set(cb_journal_t *j, int meta, const char *key, const char *value)
{
    sqlite3_stmt *st = prep(j, meta ? "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key)"
                                      " DO UPDATE SET value = excluded.value"
                                    : "INSERT INTO kv(key, value) VALUES(?, ?) ON CONFLICT(key)"
                                      " DO UPDATE SET value = excluded.value");
    if (!st)
        return CB_EIO;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : CB_EIO;
    sqlite3_finalize(st);
    return rc;
}

static int get_meta(cb_journal_t *j, const char *key, char *buf, size_t size)
{
    return table_get(j, 1, key, buf, size);
}

static int set_meta(cb_journal_t *j, const char *key, const char *value)
{
    return table_set(j, 1, key, value);
}

int cb_journal_kv_set(cb_journal_t *j, const char *key, const char *value)
{
    return table_set(j, 0, key, value);
}

int cb_journal_kv_get(cb_journal_t *j, const char *key, char *buf, size_t size)
{
    return table_get(j, 0, key, buf, size);
}

int cb_journal_open(const char *path, const char *bot, cb_journal_t **out, cb_diag_t *diag)
{
    *out = NULL;
    if (!path || !bot || !valid_bot(bot))
        return cb_diag_set(diag, CB_EINVAL, path, 0, 0, "bot name",
                           "'%s' must be 1 to 20 letters, digits, '-' or '_' (it becomes part "
                           "of every client order id)",
                           bot ? bot : "");
    cb_journal_t *j = calloc(1, sizeof *j);
    if (!j)
        return CB_ENOMEM;
    snprintf(j->bot, sizeof j->bot, "%s", bot);
    if (sqlite3_open_v2(path, &j->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        cb_diag_set(diag, CB_EIO, path, 0, 0, NULL, "cannot open the journal: %s",
                    j->db ? sqlite3_errmsg(j->db) : "out of memory");
        cb_journal_close(j);
        return CB_EIO;
    }
    sqlite3_busy_timeout(j->db, 5000);
    char mode[16] = "";
    sqlite3_stmt *st = prep(j, "PRAGMA journal_mode=WAL");
    if (st && sqlite3_step(st) == SQLITE_ROW)
        snprintf(mode, sizeof mode, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (strcasecmp(mode, "wal") != 0 || exec(j, "PRAGMA synchronous=FULL") ||
        exec(j, "PRAGMA foreign_keys=ON")) {
        cb_diag_set(diag, CB_EIO, path, 0, 0, NULL, "cannot set up the journal: %s",
                    sqlite3_errmsg(j->db));
        cb_journal_close(j);
        return CB_EIO;
    }
    /* Schema and first-time metadata in one transaction: a crash while a new journal is being
     * created leaves either nothing or all of it (never a journal without its sequence). */
    char owner[32];
    int r = exec(j, "BEGIN IMMEDIATE");
    if (r == 0 && (r = exec(j, schema)) == 0) {
        r = get_meta(j, "bot", owner, sizeof owner);
        if (r == CB_ENOENT) {
            snprintf(owner, sizeof owner, "%s", bot);
            r = set_meta(j, "bot", bot);
            if (r == 0)
                r = set_meta(j, "schema_version", "1");
            if (r == 0)
                r = set_meta(j, "next_seq", "1");
        }
    }
    if (r == 0)
        r = exec(j, "COMMIT");
    if (r != 0) {
        cb_diag_set(diag, CB_EIO, path, 0, 0, NULL, "cannot initialise the journal: %s",
                    sqlite3_errmsg(j->db));
        exec(j, "ROLLBACK");
        cb_journal_close(j);
        return CB_EIO;
    }
    if (strcmp(owner, bot) != 0) {
        cb_diag_set(diag, CB_ECONFLICT, path, 0, 0, NULL,
                    "this journal belongs to bot '%s', not '%s'; use another db file", owner,
                    bot);
        cb_journal_close(j);
        return CB_ECONFLICT;
    }
    *out = j;
    return 0;
}

int cb_journal_open_existing(const char *path, cb_journal_t **out, char *bot, size_t bot_size,
                             cb_diag_t *diag)
{
    *out = NULL;
    sqlite3 *db = NULL;
    char owner[32] = "";
    int ok = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'bot'", -1, &st, NULL) ==
                SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW) {
            snprintf(owner, sizeof owner, "%s", (const char *)sqlite3_column_text(st, 0));
            ok = 1;
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    if (!ok)
        return cb_diag_set(diag, CB_ENOENT, path, 0, 0, NULL,
                           "not a robot journal (no such file, or no bot recorded in it)");
    if (bot)
        snprintf(bot, bot_size, "%s", owner);
    return cb_journal_open(path, owner, out, diag);
}

void cb_journal_close(cb_journal_t *j)
{
    if (!j)
        return;
    sqlite3_close(j->db);
    free(j);
}

int cb_journal_begin(cb_journal_t *j)
{
    if (j->depth++ > 0)
        return 0;
    if (exec(j, "BEGIN IMMEDIATE")) {
        j->depth = 0;
        return CB_EIO;
    }
    return 0;
}

int cb_journal_commit(cb_journal_t *j)
{
    if (j->depth == 0)
        return jfail(j, CB_ESTATE,
                     "commit without an open transaction (a write inside it failed and rolled "
                     "it back)");
    if (--j->depth > 0)
        return 0;
    return exec(j, "COMMIT");
}

int cb_journal_rollback(cb_journal_t *j)
{
    if (j->depth == 0)
        return jfail(j, CB_ESTATE, "rollback without an open transaction");
    j->depth = 0;
    return exec(j, "ROLLBACK");
}

int cb_journal_order_intent(cb_journal_t *j, cb_journal_order_t *o)
{
    if (strcmp(o->side, "buy") != 0 && strcmp(o->side, "sell") != 0)
        return jfail(j, CB_EINVAL, "an order's side must be 'buy' or 'sell'");
    int rc = cb_journal_begin(j);
    if (rc)
        return rc;
    char buf[32];
    long long seq = 0;
    rc = get_meta(j, "next_seq", buf, sizeof buf);
    if (rc == 0)
        seq = strtoll(buf, NULL, 10);
    if (rc || seq < 1) {
        cb_journal_rollback(j);
        return rc ? jfail(j, rc, "the journal has no order sequence (meta next_seq)")
                  : jfail(j, CB_ECORRUPT, "the journal's order sequence (meta next_seq) is "
                                          "not a positive number");
    }
    snprintf(o->client_order_id, sizeof o->client_order_id, "cb-%s-%lld", j->bot, seq);
    o->status = CB_OS_INTENT;
    sqlite3_stmt *st = prep(
        j, "INSERT INTO orders(seq, client_order_id, exchange_order_id, pair, side, type, reason,"
           " status, price_scale, qty_scale, price, stop_price, quantity, executed_quantity,"
           " created_ms, updated_ms) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,0,?,?)");
    if (!st) {
        cb_journal_rollback(j);
        return CB_EIO;
    }
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_text(st, 2, o->client_order_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, o->exchange_order_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, o->pair, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, o->side, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, o->type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, o->reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, cb_order_status_name(o->status), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 9, o->price_scale);
    sqlite3_bind_int(st, 10, o->qty_scale);
    sqlite3_bind_int64(st, 11, o->price);
    sqlite3_bind_int64(st, 12, o->stop_price);
    sqlite3_bind_int64(st, 13, o->quantity);
    sqlite3_bind_int64(st, 14, o->created_ms);
    sqlite3_bind_int64(st, 15, o->created_ms);
    int ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    snprintf(buf, sizeof buf, "%lld", seq + 1);
    if (!ok || set_meta(j, "next_seq", buf)) {
        cb_journal_rollback(j);
        return CB_EIO;
    }
    o->updated_ms = o->created_ms;
    o->executed_quantity = 0;
    return cb_journal_commit(j);
}

static void row_to_order(sqlite3_stmt *st, cb_journal_order_t *o)
{
    memset(o, 0, sizeof *o);
#define COPY_TEXT_(dst, col)                                                                 \
    snprintf(dst, sizeof dst, "%s",                                                          \
             sqlite3_column_text(st, col) ? (const char *)sqlite3_column_text(st, col) : "")
    COPY_TEXT_(o->client_order_id, 0);
    COPY_TEXT_(o->exchange_order_id, 1);
    COPY_TEXT_(o->pair, 2);
    COPY_TEXT_(o->side, 3);
    COPY_TEXT_(o->type, 4);
    COPY_TEXT_(o->reason, 5);
    cb_order_status_t s = CB_OS_UNKNOWN;
    cb_order_status_parse((const char *)sqlite3_column_text(st, 6), &s);
    o->status = s;
    o->price_scale = sqlite3_column_int(st, 7);
    o->qty_scale = sqlite3_column_int(st, 8);
    o->price = sqlite3_column_int64(st, 9);
    o->stop_price = sqlite3_column_int64(st, 10);
    o->quantity = sqlite3_column_int64(st, 11);
    o->executed_quantity = sqlite3_column_int64(st, 12);
    o->created_ms = sqlite3_column_int64(st, 13);
    o->updated_ms = sqlite3_column_int64(st, 14);
}

#define ORDER_COLUMNS                                                                        \
    "client_order_id, exchange_order_id, pair, side, type, reason, status, price_scale,"     \
    " qty_scale, price, stop_price, quantity, executed_quantity, created_ms, updated_ms"

int cb_journal_order_get(cb_journal_t *j, const char *client_order_id, cb_journal_order_t *out)
{
    sqlite3_stmt *st = prep(j, "SELECT " ORDER_COLUMNS " FROM orders WHERE client_order_id = ?");
    if (!st)
        return CB_EIO;
    sqlite3_bind_text(st, 1, client_order_id, -1, SQLITE_STATIC);
    int r = sqlite3_step(st), rc;
    if (r == SQLITE_ROW) {
        row_to_order(st, out);
        rc = 0;
    } else {
        rc = r == SQLITE_DONE ? CB_ENOENT : CB_EIO;
    }
    sqlite3_finalize(st);
    return rc;
}

int cb_journal_order_update(cb_journal_t *j, const char *client_order_id,
                            const char *exchange_order_id, cb_order_status_t status,
                            int64_t executed_quantity, int64_t time_ms)
{
    int rc = cb_journal_begin(j);
    if (rc)
        return rc;
    cb_journal_order_t o;
    rc = cb_journal_order_get(j, client_order_id, &o);
    if (rc) {
        cb_journal_rollback(j);
        return rc;
    }
    /* Never move backwards: a final status stays, executed quantity only grows. */
    cb_order_status_t next = status;
    if (cb_order_status_final(o.status))
        next = o.status;
    else if (status == CB_OS_INTENT || (status == CB_OS_UNKNOWN && o.status != CB_OS_INTENT))
        next = o.status;
    int64_t exec_qty = executed_quantity > o.executed_quantity ? executed_quantity
                                                               : o.executed_quantity;
    sqlite3_stmt *st = prep(j, "UPDATE orders SET status = ?, executed_quantity = ?,"
                               " exchange_order_id = CASE WHEN ?3 IS NULL OR ?3 = ''"
                               "  THEN exchange_order_id ELSE ?3 END,"
                               " updated_ms = max(updated_ms, ?4) WHERE client_order_id = ?5");
    if (!st) {
        cb_journal_rollback(j);
        return CB_EIO;
    }
    sqlite3_bind_text(st, 1, cb_order_status_name(next), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, exec_qty);
    if (exchange_order_id)
        sqlite3_bind_text(st, 3, exchange_order_id, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_int64(st, 4, time_ms);
    sqlite3_bind_text(st, 5, client_order_id, -1, SQLITE_STATIC);
    int ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    if (!ok) {
        cb_journal_rollback(j);
        return CB_EIO;
    }
    return cb_journal_commit(j);
}

int cb_journal_order_adopt(cb_journal_t *j, const cb_journal_order_t *o)
{
    if (strcmp(o->side, "buy") != 0 && strcmp(o->side, "sell") != 0)
        return jfail(j, CB_EINVAL, "an order's side must be 'buy' or 'sell'");
    sqlite3_stmt *st = prep(
        j, "INSERT INTO orders(seq, client_order_id, exchange_order_id, pair, side, type, reason,"
           " status, price_scale, qty_scale, price, stop_price, quantity, executed_quantity,"
           " created_ms, updated_ms, adopted) VALUES((SELECT COALESCE(MAX(seq), 0) + 1000000000"
           " FROM orders),?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1)");
    if (!st)
        return CB_EIO;
    sqlite3_bind_text(st, 1, o->client_order_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, o->exchange_order_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, o->pair, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, o->side, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, o->type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, o->reason[0] ? o->reason : "adopted", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, cb_order_status_name(o->status), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 8, o->price_scale);
    sqlite3_bind_int(st, 9, o->qty_scale);
    sqlite3_bind_int64(st, 10, o->price);
    sqlite3_bind_int64(st, 11, o->stop_price);
    sqlite3_bind_int64(st, 12, o->quantity);
    sqlite3_bind_int64(st, 13, o->executed_quantity);
    sqlite3_bind_int64(st, 14, o->created_ms);
    sqlite3_bind_int64(st, 15, o->updated_ms);
    int r = sqlite3_step(st);
    sqlite3_finalize(st);
    if (r == SQLITE_CONSTRAINT)
        return CB_EEXIST;
    return r == SQLITE_DONE ? 0 : CB_EIO;
}

int cb_journal_fill(cb_journal_t *j, const cb_journal_fill_t *f)
{
    if (strcmp(f->side, "buy") != 0 && strcmp(f->side, "sell") != 0)
        return jfail(j, CB_EINVAL, "a fill's side must be 'buy' or 'sell'");
    sqlite3_stmt *st = prep(
        j, "INSERT OR IGNORE INTO fills(pair, trade_id, client_order_id, side, price_scale,"
           " qty_scale, fee_scale, price, quantity, fee, fee_asset, time_ms)"
           " VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!st)
        return CB_EIO;
    sqlite3_bind_text(st, 1, f->pair, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, f->trade_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, f->client_order_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, f->side, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, f->price_scale);
    sqlite3_bind_int(st, 6, f->qty_scale);
    sqlite3_bind_int(st, 7, f->fee_scale);
    sqlite3_bind_int64(st, 8, f->price);
    sqlite3_bind_int64(st, 9, f->quantity);
    sqlite3_bind_int64(st, 10, f->fee);
    sqlite3_bind_text(st, 11, f->fee_asset, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 12, f->time_ms);
    int r = sqlite3_step(st);
    sqlite3_finalize(st);
    if (r != SQLITE_DONE)
        return CB_EIO;
    return sqlite3_changes(j->db) == 1 ? 1 : 0;
}

int cb_journal_orders(cb_journal_t *j, int only_open, cb_journal_order_fn fn, void *ctx)
{
    sqlite3_stmt *st = prep(j, only_open
                                   ? "SELECT " ORDER_COLUMNS " FROM orders WHERE status NOT IN"
                                     " ('filled','canceled','rejected','expired') ORDER BY seq"
                                   : "SELECT " ORDER_COLUMNS " FROM orders ORDER BY seq");
    if (!st)
        return CB_EIO;
    int r, rc = 0;
    cb_journal_order_t o;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        row_to_order(st, &o);
        if ((rc = fn(&o, ctx)) != 0)
            break;
    }
    if (rc == 0 && r != SQLITE_DONE)
        rc = CB_EIO;
    sqlite3_finalize(st);
    return rc;
}

static void row_to_fill(sqlite3_stmt *st, cb_journal_fill_t *f)
{
    memset(f, 0, sizeof *f);
    COPY_TEXT_(f->pair, 0);
    COPY_TEXT_(f->trade_id, 1);
    COPY_TEXT_(f->client_order_id, 2);
    COPY_TEXT_(f->side, 3);
    f->price_scale = sqlite3_column_int(st, 4);
    f->qty_scale = sqlite3_column_int(st, 5);
    f->fee_scale = sqlite3_column_int(st, 6);
    f->price = sqlite3_column_int64(st, 7);
    f->quantity = sqlite3_column_int64(st, 8);
    f->fee = sqlite3_column_int64(st, 9);
    COPY_TEXT_(f->fee_asset, 10);
    f->time_ms = sqlite3_column_int64(st, 11);
}

#define FILL_COLUMNS                                                                         \
    "pair, trade_id, client_order_id, side, price_scale, qty_scale, fee_scale, price,"       \
    " quantity, fee, fee_asset, time_ms"

int cb_journal_fills(cb_journal_t *j, const char *client_order_id, cb_journal_fill_fn fn,
                     void *ctx)
{
    sqlite3_stmt *st = prep(j, client_order_id
                                   ? "SELECT " FILL_COLUMNS " FROM fills WHERE client_order_id"
                                     " = ? ORDER BY time_ms, rowid"
                                   : "SELECT " FILL_COLUMNS " FROM fills ORDER BY time_ms, rowid");
    if (!st)
        return CB_EIO;
    if (client_order_id)
        sqlite3_bind_text(st, 1, client_order_id, -1, SQLITE_STATIC);
    int r, rc = 0;
    cb_journal_fill_t f;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        row_to_fill(st, &f);
        if ((rc = fn(&f, ctx)) != 0)
            break;
    }
    if (rc == 0 && r != SQLITE_DONE)
        rc = CB_EIO;
    sqlite3_finalize(st);
    return rc;
}

int cb_journal_position(cb_journal_t *j, const char *pair, int qty_scale, int64_t *out)
{
    sqlite3_stmt *st = prep(j, "SELECT side, quantity, qty_scale FROM fills WHERE pair = ?");
    if (!st)
        return CB_EIO;
    sqlite3_bind_text(st, 1, pair, -1, SQLITE_STATIC);
    int64_t pos = 0;
    int r, rc = 0;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t q = sqlite3_column_int64(st, 1);
        int scale = sqlite3_column_int(st, 2);
        if (scale < qty_scale)
            q *= cb_pow10_i64(qty_scale - scale);
        else if (scale > qty_scale) {
            int64_t div = cb_pow10_i64(scale - qty_scale);
            if (q % div != 0) {
                rc = CB_ERANGE; /* the fill is finer than the requested scale */
                jfail(j, rc, "a fill's quantity is finer than the pair's quantity step");
                break;
            }
            q /= div;
        }
        pos += strcmp((const char *)sqlite3_column_text(st, 0), "buy") == 0 ? q : -q;
    }
    if (rc == 0 && r != SQLITE_DONE)
        rc = CB_EIO;
    sqlite3_finalize(st);
    if (rc == 0)
        *out = pos;
    return rc;
}



int cb_journal_event(cb_journal_t *j, int64_t time_ms, const char *kind, const char *detail)
{
    sqlite3_stmt *st = prep(j, "INSERT INTO events(time_ms, kind, detail) VALUES(?, ?, ?)");
    if (!st)
        return CB_EIO;
    sqlite3_bind_int64(st, 1, time_ms);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, detail ? detail : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : CB_EIO;
    sqlite3_finalize(st);
    return rc;
}

/* ---- The robot's liveness, requests and labels (new functions; see journal.h) ---------- */

int cb_journal_heartbeat(cb_journal_t *j, int64_t pid, int64_t now_ms)
{
    char v[48];
    snprintf(v, sizeof v, "%lld %lld", (long long)now_ms, (long long)pid);
    return table_set(j, 0, "robot.heartbeat", v);
}

int cb_journal_heartbeat_get(cb_journal_t *j, int64_t *pid, int64_t *time_ms)
{
    char v[48];
    int rc = table_get(j, 0, "robot.heartbeat", v, sizeof v);
    if (rc)
        return rc;
    long long t = 0, p = 0;
    if (sscanf(v, "%lld %lld", &t, &p) != 2 || t <= 0 || p <= 0)
        return CB_ECORRUPT;
    *time_ms = t;
    *pid = p;
    return 0;
}

int cb_journal_kv_each(cb_journal_t *j, const char *prefix, cb_journal_kv_fn fn, void *ctx)
{
    /* a range instead of LIKE: prefixes hold '_' and '.', which LIKE would treat as patterns */
    sqlite3_stmt *st = prep(j, "SELECT key, value FROM kv WHERE key >= ?1 AND"
                               " substr(key, 1, length(?1)) = ?1 ORDER BY key");
    if (!st)
        return CB_EIO;
    sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
    int r, rc = 0;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        const char *v = (const char *)sqlite3_column_text(st, 1);
        if ((rc = fn(k ? k : "", v ? v : "", ctx)) != 0)
            break;
    }
    if (rc == 0 && r != SQLITE_DONE)
        rc = CB_EIO;
    sqlite3_finalize(st);
    return rc;
}

int cb_journal_order_last(cb_journal_t *j, const char *pair, cb_journal_order_t *out)
{
    sqlite3_stmt *st =
        prep(j, "SELECT " ORDER_COLUMNS " FROM orders WHERE pair = ? ORDER BY seq DESC LIMIT 1");
    if (!st)
        return CB_EIO;
    sqlite3_bind_text(st, 1, pair, -1, SQLITE_STATIC);
    int r = sqlite3_step(st), rc;
    if (r == SQLITE_ROW) {
        row_to_order(st, out);
        rc = 0;
    } else {
        rc = r == SQLITE_DONE ? CB_ENOENT : CB_EIO;
    }
    sqlite3_finalize(st);
    return rc;
}

int cb_journal_order_set_reason(cb_journal_t *j, const char *client_order_id,
                                const char *reason)
{
    if (!reason || !reason[0] || strlen(reason) >= sizeof ((cb_journal_order_t *)0)->reason)
        return CB_EINVAL;
    sqlite3_stmt *st = prep(j, "UPDATE orders SET reason = ? WHERE client_order_id = ?");
    if (!st)
        return CB_EIO;
    sqlite3_bind_text(st, 1, reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, client_order_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : CB_EIO;
    if (rc == 0 && sqlite3_changes(j->db) != 1)
        rc = CB_ENOENT;
    sqlite3_finalize(st);
    return rc;
}
