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
    int depth;         /* nesting of cb_journal_begin */
    char err[256];     /* why the last operation failed when SQLite does not say */
    int failed;        /* writes that failed since open */
    char failure[300]; /* the first one's sentence */
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

/* The current schema (CB_JOURNAL_SCHEMA_VERSION), as a new journal is created. */
static const char schema[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE orders("
    " seq INTEGER PRIMARY KEY,"
    " client_order_id TEXT NOT NULL UNIQUE,"
    " exchange_order_id TEXT NOT NULL DEFAULT '',"
    " pair TEXT NOT NULL, side TEXT NOT NULL CHECK(side IN ('buy','sell')),"
    " type TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', status TEXT NOT NULL,"
    " price_scale INTEGER NOT NULL, qty_scale INTEGER NOT NULL,"
    " price INTEGER NOT NULL, stop_price INTEGER NOT NULL, quantity INTEGER NOT NULL,"
    " executed_quantity INTEGER NOT NULL DEFAULT 0,"
    " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,"
    " adopted INTEGER NOT NULL DEFAULT 0, market_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE fills("
    " pair TEXT NOT NULL, trade_id TEXT NOT NULL, client_order_id TEXT NOT NULL,"
    " side TEXT NOT NULL CHECK(side IN ('buy','sell')),"
    " price_scale INTEGER NOT NULL, qty_scale INTEGER NOT NULL, fee_scale INTEGER NOT NULL,"
    " price INTEGER NOT NULL, quantity INTEGER NOT NULL, fee INTEGER NOT NULL,"
    " fee_asset TEXT NOT NULL, time_ms INTEGER NOT NULL, wall_ms INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(pair, trade_id));"
    "CREATE INDEX fills_by_order ON fills(client_order_id);"
    "CREATE TABLE kv(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE events(id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL,"
    " kind TEXT NOT NULL, detail TEXT NOT NULL, wall_ms INTEGER NOT NULL DEFAULT 0);";

/* Schema 1 -> 2: the application_id, and the second clock of each record. Rows written
 * before have market_ms / wall_ms 0 ("not recorded"). */
static const char migrate_1_2[] =
    "ALTER TABLE orders ADD COLUMN market_ms INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE fills ADD COLUMN wall_ms INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE events ADD COLUMN wall_ms INTEGER NOT NULL DEFAULT 0;";

/* Where to go from a journal that cannot be used. */
#define WAY_OUT "restore a backup or start a new journal in another file ([bot] db or --db)"

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

/* Remembers the first failed write ("cannot <what>: <SQLite's reason>") and returns rc. */
static int wfail(cb_journal_t *j, const char *what, int rc)
{
    if (!j->failed)
        snprintf(j->failure, sizeof j->failure, "cannot %s: %s", what, sqlite3_errmsg(j->db));
    j->failed++;
    return rc;
}

int cb_journal_failed(const cb_journal_t *j, char *why, size_t size)
{
    if (!j || !j->failed)
        return 0;
    if (why && size)
        snprintf(why, size, "%s", j->failure);
    return 1;
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
        const unsigned char *v = sqlite3_column_text(st, 0);
        snprintf(buf, size, "%s", v ? (const char *)v : "");
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
        return wfail(j, meta ? "write the journal's metadata" : "write the robot's state",
                     CB_EIO);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : CB_EIO;
    if (rc)
        wfail(j, meta ? "write the journal's metadata" : "write the robot's state", rc);
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

/* ---- recognising and checking a journal ------------------------------------------------- */

/* One integer from a query without parameters: 0, or CB_EIO / CB_ECORRUPT (SQLite's code in
 * *sqlite_rc). */
static int query_i64(cb_journal_t *j, const char *sql, int64_t *out, int *sqlite_rc)
{
    sqlite3_stmt *st = NULL;
    int r = sqlite3_prepare_v2(j->db, sql, -1, &st, NULL);
    if (r == SQLITE_OK) {
        r = sqlite3_step(st);
        if (r == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            r = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    *sqlite_rc = r;
    return r == SQLITE_OK ? 0 : CB_EIO;
}

static int damaged_file(const char *path, cb_journal_t *j, cb_diag_t *diag)
{
    return cb_diag_set(diag, CB_ECORRUPT, path, 0, 0, NULL,
                       "this file is not a readable SQLite database (%s): not a journal, or a "
                       "damaged one; " WAY_OUT,
                       sqlite3_errmsg(j->db));
}

/* The tables and columns each schema version has: (table, column, first version). */
static const struct {
    const char *table, *column;
    int since;
} columns[] = {
    {"meta", "key", 1},           {"meta", "value", 1},
    {"orders", "seq", 1},         {"orders", "client_order_id", 1},
    {"orders", "exchange_order_id", 1}, {"orders", "pair", 1},
    {"orders", "side", 1},        {"orders", "type", 1},
    {"orders", "reason", 1},      {"orders", "status", 1},
    {"orders", "price_scale", 1}, {"orders", "qty_scale", 1},
    {"orders", "price", 1},       {"orders", "stop_price", 1},
    {"orders", "quantity", 1},    {"orders", "executed_quantity", 1},
    {"orders", "created_ms", 1},  {"orders", "updated_ms", 1},
    {"orders", "adopted", 1},     {"orders", "market_ms", 2},
    {"fills", "pair", 1},         {"fills", "trade_id", 1},
    {"fills", "client_order_id", 1}, {"fills", "side", 1},
    {"fills", "price_scale", 1},  {"fills", "qty_scale", 1},
    {"fills", "fee_scale", 1},    {"fills", "price", 1},
    {"fills", "quantity", 1},     {"fills", "fee", 1},
    {"fills", "fee_asset", 1},    {"fills", "time_ms", 1},
    {"fills", "wall_ms", 2},      {"kv", "key", 1},
    {"kv", "value", 1},           {"events", "id", 1},
    {"events", "time_ms", 1},     {"events", "kind", 1},
    {"events", "detail", 1},      {"events", "wall_ms", 2},
};

/* What every row must satisfy: (table, column, a condition true for a BAD value, what is
 * expected, first version). Types through typeof(): SQLite keeps 'abc' in an INTEGER column. */
#define INT_(c) "typeof(" c ") <> 'integer'"
#define TEXT_(c) "typeof(" c ") <> 'text'"
#define NONEMPTY_(c) TEXT_(c) " OR " c " = ''"
#define SCALE_(c) INT_(c) " OR " c " NOT BETWEEN 0 AND 18"
static const struct {
    const char *table, *column, *bad, *want;
    int since;
} row_checks[] = {
    {"meta", "value", TEXT_("value"), "text", 1},
    {"orders", "client_order_id", NONEMPTY_("client_order_id"), "a client order id", 1},
    {"orders", "exchange_order_id", TEXT_("exchange_order_id"), "text", 1},
    {"orders", "pair", NONEMPTY_("pair"), "a pair", 1},
    {"orders", "side", "side NOT IN ('buy', 'sell')", "buy or sell", 1},
    {"orders", "type", NONEMPTY_("type"), "an order type", 1},
    {"orders", "reason", TEXT_("reason"), "text", 1},
    {"orders", "status", NULL /* built from the status table */, "an order status", 1},
    {"orders", "price_scale", SCALE_("price_scale"), "a scale from 0 to 18", 1},
    {"orders", "qty_scale", SCALE_("qty_scale"), "a scale from 0 to 18", 1},
    {"orders", "price", INT_("price") " OR price < 0", "an integer >= 0", 1},
    {"orders", "stop_price", INT_("stop_price") " OR stop_price < 0", "an integer >= 0", 1},
    /* 0 for a market buy of a quote amount (quoteOrderQty): the exchange decides the quantity */
    {"orders", "quantity", INT_("quantity") " OR quantity < 0", "an integer >= 0", 1},
    {"orders", "executed_quantity",
     INT_("executed_quantity") " OR executed_quantity < 0 OR"
                               " (quantity > 0 AND executed_quantity > quantity)",
     "an integer from 0 to the order's quantity", 1},
    {"orders", "created_ms", INT_("created_ms") " OR created_ms < 0", "a time in ms", 1},
    {"orders", "updated_ms", INT_("updated_ms") " OR updated_ms < 0", "a time in ms", 1},
    {"orders", "adopted", "adopted NOT IN (0, 1)", "0 or 1", 1},
    {"orders", "market_ms", INT_("market_ms") " OR market_ms < 0", "a time in ms", 2},
    {"fills", "pair", NONEMPTY_("pair"), "a pair", 1},
    {"fills", "trade_id", NONEMPTY_("trade_id"), "a trade id", 1},
    {"fills", "client_order_id",
     NONEMPTY_("client_order_id") " OR client_order_id NOT IN"
                                  " (SELECT client_order_id FROM orders)",
     "the client order id of a journaled order", 1},
    {"fills", "side", "side NOT IN ('buy', 'sell')", "buy or sell", 1},
    {"fills", "price_scale", SCALE_("price_scale"), "a scale from 0 to 18", 1},
    {"fills", "qty_scale", SCALE_("qty_scale"), "a scale from 0 to 18", 1},
    {"fills", "fee_scale", SCALE_("fee_scale"), "a scale from 0 to 18", 1},
    {"fills", "price", INT_("price") " OR price <= 0", "a positive integer", 1},
    {"fills", "quantity", INT_("quantity") " OR quantity <= 0", "a positive integer", 1},
    {"fills", "fee", INT_("fee") " OR fee < 0", "an integer >= 0", 1},
    {"fills", "fee_asset", TEXT_("fee_asset"), "an asset", 1},
    {"fills", "time_ms", INT_("time_ms") " OR time_ms < 0", "a time in ms", 1},
    {"fills", "wall_ms", INT_("wall_ms") " OR wall_ms < 0", "a time in ms", 2},
    {"kv", "value", TEXT_("value"), "text", 1},
    {"events", "time_ms", INT_("time_ms") " OR time_ms < 0", "a time in ms", 1},
    {"events", "kind", NONEMPTY_("kind"), "an event kind", 1},
    {"events", "detail", TEXT_("detail"), "text", 1},
    {"events", "wall_ms", INT_("wall_ms") " OR wall_ms < 0", "a time in ms", 2},
};
#undef INT_
#undef TEXT_
#undef NONEMPTY_
#undef SCALE_

static int has_table(cb_journal_t *j, const char *table, int *out)
{
    sqlite3_stmt *st = prep(j, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND"
                               " name = ?");
    if (!st)
        return CB_EIO;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    *out = r == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    return r == SQLITE_ROW ? 0 : CB_EIO;
}

static int has_column(cb_journal_t *j, const char *table, const char *column, int *out)
{
    sqlite3_stmt *st = prep(j, "SELECT count(*) FROM pragma_table_info(?) WHERE name = ?");
    if (!st)
        return CB_EIO;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, column, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    *out = r == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    return r == SQLITE_ROW ? 0 : CB_EIO;
}

/* PRAGMA quick_check or integrity_check: 0, or CB_ECORRUPT with its first complaint. */
static int check_pages(cb_journal_t *j, const char *path, int full, cb_diag_t *diag)
{
    sqlite3_stmt *st = prep(j, full ? "PRAGMA integrity_check(1)" : "PRAGMA quick_check(1)");
    if (!st)
        return damaged_file(path, j, diag);
    int r = sqlite3_step(st), rc = 0;
    const unsigned char *v = r == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    if (r != SQLITE_ROW)
        rc = damaged_file(path, j, diag);
    else if (!v || strcmp((const char *)v, "ok") != 0)
        rc = cb_diag_set(diag, CB_ECORRUPT, path, 0, 0, NULL,
                         "the journal's file is damaged (%s: %.200s); " WAY_OUT,
                         full ? "integrity_check" : "quick_check", v ? (const char *)v : "?");
    sqlite3_finalize(st);
    return rc;
}

/* The first row of `table` for which `bad` holds: CB_ECORRUPT naming it. */
static int check_rows(cb_journal_t *j, const char *path, const char *table, const char *column,
                      const char *bad, const char *want, cb_diag_t *diag)
{
    char sql[600];
    snprintf(sql, sizeof sql, "SELECT rowid, quote(%s) FROM %s WHERE %s ORDER BY rowid LIMIT 1",
             column, table, bad);
    sqlite3_stmt *st = prep(j, sql);
    if (!st)
        return damaged_file(path, j, diag);
    int r = sqlite3_step(st), rc = 0;
    if (r == SQLITE_ROW) {
        const unsigned char *v = sqlite3_column_text(st, 1);
        rc = cb_diag_set(diag, CB_ECORRUPT, path, 0, 0, NULL,
                         "table '%s', row %lld: column '%s' is %.60s, expected %s; this "
                         "journal is damaged: " WAY_OUT,
                         table, (long long)sqlite3_column_int64(st, 0), column,
                         v ? (const char *)v : "NULL", want);
    } else if (r != SQLITE_DONE) {
        rc = damaged_file(path, j, diag);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Everything a journal of `version` must hold: its tables and columns, its metadata and
 * every row. */
static int check_journal(cb_journal_t *j, const char *path, int version, cb_diag_t *diag)
{
    int rc, yes;
    const char *last = "";
    for (size_t i = 0; i < sizeof columns / sizeof columns[0]; i++) {
        if (columns[i].since > version)
            continue;
        if (strcmp(last, columns[i].table) != 0) {
            last = columns[i].table;
            if ((rc = has_table(j, last, &yes)) != 0)
                return damaged_file(path, j, diag);
            if (!yes)
                return cb_diag_set(diag, CB_ECORRUPT, path, 0, 0, NULL,
                                   "table '%s' is missing; this journal is damaged: " WAY_OUT,
                                   last);
        }
        if ((rc = has_column(j, columns[i].table, columns[i].column, &yes)) != 0)
            return damaged_file(path, j, diag);
        if (!yes)
            return cb_diag_set(diag, CB_ECORRUPT, path, 0, 0, NULL,
                               "table '%s' has no column '%s'; this journal is damaged: " WAY_OUT,
                               columns[i].table, columns[i].column);
    }
    char buf[64], owner[64];
    rc = get_meta(j, "bot", owner, sizeof owner);
    if (rc == CB_ENOENT || (rc == 0 && !valid_bot(owner)))
        return cb_diag_set(diag, CB_ECORRUPT, path, 0, 0, NULL,
                           "the journal's bot name (meta 'bot') is %s; this journal is "
                           "damaged: " WAY_OUT,
                           rc ? "missing" : "not a bot name");
    if (rc)
        return damaged_file(path, j, diag);
    rc = get_meta(j, "next_seq", buf, sizeof buf);
    char *e = buf;
    long long next = rc == 0 ? strtoll(buf, &e, 10) : 0;
    int64_t max_seq = 0;
    int src;
    if (rc == 0 && query_i64(j, "SELECT COALESCE(MAX(seq), 0) FROM orders WHERE adopted = 0",
                             &max_seq, &src) != 0)
        return damaged_file(path, j, diag);
    if (rc != 0 || e == buf || *e || next < 1 || next <= max_seq)
        return cb_diag_set(diag, CB_ECORRUPT, path, 0, 0, NULL,
                           "the journal's next order sequence (meta 'next_seq') is %s, but "
                           "orders up to %lld exist: client order ids would be reused; this "
                           "journal is damaged: " WAY_OUT,
                           rc ? "missing" : buf, (long long)max_seq);
    for (size_t i = 0; i < sizeof row_checks / sizeof row_checks[0]; i++) {
        if (row_checks[i].since > version)
            continue;
        const char *bad = row_checks[i].bad;
        char status_bad[256];
        if (!bad) {
            size_t k = (size_t)snprintf(status_bad, sizeof status_bad, "status NOT IN (");
            for (size_t s = 0; s < N_STATUS; s++)
                k += (size_t)snprintf(status_bad + k, sizeof status_bad - k, "%s'%s'",
                                      s ? ", " : "", status_names[s]);
            snprintf(status_bad + k, sizeof status_bad - k, ")");
            bad = status_bad;
        }
        if ((rc = check_rows(j, path, row_checks[i].table, row_checks[i].column, bad,
                             row_checks[i].want, diag)) != 0)
            return rc;
    }
    return 0;
}

/* What the file at the open connection is: a new database (no tables), a Comeback journal
 * (of *version), or something else (refused with a sentence). */
static int classify(cb_journal_t *j, const char *path, int *is_new, int *version,
                    cb_diag_t *diag)
{
    *is_new = 0;
    *version = 0;
    int64_t app = 0, n_tables = 0;
    int src;
    if (query_i64(j, "PRAGMA application_id", &app, &src) != 0 ||
        query_i64(j, "SELECT count(*) FROM sqlite_master", &n_tables, &src) != 0)
        return damaged_file(path, j, diag);
    if (app == 0 && n_tables == 0) {
        *is_new = 1;
        return 0;
    }
    int ours = app == CB_JOURNAL_APPLICATION_ID;
    if (!ours && app == 0) {
        /* before schema 2 a journal had no application_id: it is recognised by its tables */
        static const char *const own[] = {"meta", "orders", "fills"};
        for (size_t i = 0; i < 3 && !ours; i++) {
            int yes = 0;
            if (has_table(j, own[i], &yes) != 0)
                return damaged_file(path, j, diag);
            ours = yes;
        }
    }
    if (!ours) {
        char names[160] = "";
        sqlite3_stmt *st = prep(j, "SELECT name FROM sqlite_master WHERE type = 'table'"
                                   " ORDER BY name LIMIT 4");
        size_t k = 0;
        while (st && sqlite3_step(st) == SQLITE_ROW && k < sizeof names - 40)
            k += (size_t)snprintf(names + k, sizeof names - k, "%s'%.30s'", k ? ", " : "",
                                  (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        return cb_diag_set(diag, CB_ECONFLICT, path, 0, 0, NULL,
                           "this SQLite database belongs to another program (application_id "
                           "%lld, tables %s), not a Comeback journal; the robot never writes "
                           "into it: choose another file ([bot] db or --db)",
                           (long long)app, names[0] ? names : "none");
    }
    int yes = 0;
    if (has_table(j, "meta", &yes) != 0)
        return damaged_file(path, j, diag);
    if (!yes)
        return cb_diag_set(diag, CB_ECORRUPT, path, 0, 0, NULL,
                           "table 'meta' is missing; this journal is damaged: " WAY_OUT);
    char buf[32];
    int rc = get_meta(j, "schema_version", buf, sizeof buf);
    char *e = buf;
    long v = rc == 0 ? strtol(buf, &e, 10) : 0;
    if (rc == CB_EIO)
        return damaged_file(path, j, diag);
    if (rc == CB_ENOENT || e == buf || *e || v < 1)
        return cb_diag_set(diag, CB_ECORRUPT, path, 0, 0, NULL,
                           "the journal's schema version (meta 'schema_version') is %s%s%s; "
                           "this journal is damaged: " WAY_OUT,
                           rc ? "missing" : "'", rc ? "" : buf, rc ? "" : "'");
    if (v > CB_JOURNAL_SCHEMA_VERSION)
        return cb_diag_set(diag, CB_EUNSUPPORTED, path, 0, 0, NULL,
                           "this journal has schema version %ld, written by a newer Comeback "
                           "(this one reads up to %d): run it with that version, or start a "
                           "new journal in another file ([bot] db or --db)",
                           v, CB_JOURNAL_SCHEMA_VERSION);
    *version = (int)v;
    return 0;
}

int cb_journal_check(cb_journal_t *j, cb_diag_t *diag)
{
    char path[512];
    const char *f = sqlite3_db_filename(j->db, "main");
    snprintf(path, sizeof path, "%s", f ? f : "");
    int rc = check_pages(j, path, 1, diag);
    return rc ? rc : check_journal(j, path, CB_JOURNAL_SCHEMA_VERSION, diag);
}

/* Creates a new journal or migrates one of an older schema, in one transaction: a crash in
 * between leaves either nothing or all of it (never a journal without its sequence). */
static int init_or_migrate(cb_journal_t *j, const char *bot, int is_new, int version)
{
    char id[48];
    snprintf(id, sizeof id, "PRAGMA application_id = %d", CB_JOURNAL_APPLICATION_ID);
    char ver[16];
    snprintf(ver, sizeof ver, "%d", CB_JOURNAL_SCHEMA_VERSION);
    int r = exec(j, "BEGIN IMMEDIATE");
    int64_t n_tables = 0;
    int src;
    if (r == 0 && is_new && query_i64(j, "SELECT count(*) FROM sqlite_master", &n_tables, &src))
        r = CB_EIO;
    if (r == 0 && is_new && n_tables > 0) {
        exec(j, "ROLLBACK"); /* another process created it meanwhile: look at it again */
        return CB_EEXIST;
    }
    if (r == 0 && is_new) {
        if ((r = exec(j, schema)) == 0 && (r = set_meta(j, "bot", bot)) == 0)
            r = set_meta(j, "next_seq", "1");
    } else if (r == 0 && version < 2) {
        r = exec(j, migrate_1_2);
    }
    if (r == 0)
        r = set_meta(j, "schema_version", ver);
    if (r == 0)
        r = exec(j, id);
    if (r == 0)
        r = exec(j, "COMMIT");
    if (r != 0)
        exec(j, "ROLLBACK");
    return r;
}

/* Opens path: bot names the owner wanted (NULL: any; create: a missing or empty file becomes
 * a new journal of bot). */
static int journal_open(const char *path, const char *bot, int create, cb_journal_t **out,
                        char *owner_out, size_t owner_size, cb_diag_t *diag)
{
    *out = NULL;
    cb_journal_t *j = calloc(1, sizeof *j);
    if (!j)
        return CB_ENOMEM;
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = 0;
    if (sqlite3_open_v2(path, &j->db, flags, NULL) != SQLITE_OK) {
        rc = create ? cb_diag_set(diag, CB_EIO, path, 0, 0, NULL, "cannot open the journal: %s",
                                  j->db ? sqlite3_errmsg(j->db) : "out of memory")
                    : cb_diag_set(diag, CB_ENOENT, path, 0, 0, NULL,
                                  "not a robot journal: there is no such file (%s)",
                                  j->db ? sqlite3_errmsg(j->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(j->db, 5000);
    int is_new, version, again = 0;
classify_again:
    if ((rc = classify(j, path, &is_new, &version, diag)) != 0)
        goto fail;
    if (is_new && !create) {
        rc = cb_diag_set(diag, CB_ENOENT, path, 0, 0, NULL,
                         "not a robot journal: the file is empty");
        goto fail;
    }
    char owner[64] = "";
    if (!is_new) {
        if ((rc = check_pages(j, path, 0, diag)) != 0 ||
            (rc = check_journal(j, path, version, diag)) != 0)
            goto fail;
        if (get_meta(j, "bot", owner, sizeof owner) != 0) {
            rc = damaged_file(path, j, diag);
            goto fail;
        }
        if (bot && strcmp(owner, bot) != 0) {
            rc = cb_diag_set(diag, CB_ECONFLICT, path, 0, 0, NULL,
                             "this journal belongs to bot '%s', not '%s'; use another db file",
                             owner, bot);
            goto fail;
        }
    } else {
        snprintf(owner, sizeof owner, "%s", bot);
    }
    snprintf(j->bot, sizeof j->bot, "%s", owner);
    /* Switching a new file to WAL takes an exclusive lock for which SQLite does not wait
     * (another process opening the same new journal holds it a moment): try for 2 s. */
    char mode[16] = "";
    for (int tries = 0; tries < 100 && strcasecmp(mode, "wal") != 0; tries++) {
        if (tries)
            sqlite3_sleep(20);
        sqlite3_stmt *st = prep(j, "PRAGMA journal_mode=WAL");
        if (st && sqlite3_step(st) == SQLITE_ROW)
            snprintf(mode, sizeof mode, "%s", (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    if (strcasecmp(mode, "wal") != 0 || exec(j, "PRAGMA synchronous=FULL") ||
        exec(j, "PRAGMA foreign_keys=ON")) {
        rc = cb_diag_set(diag, CB_EIO, path, 0, 0, NULL, "cannot set up the journal: %s",
                         sqlite3_errmsg(j->db));
        goto fail;
    }
    int im = is_new || version < CB_JOURNAL_SCHEMA_VERSION
                 ? init_or_migrate(j, owner, is_new, version)
                 : 0;
    if (im == CB_EEXIST && !again++)
        goto classify_again;
    if (im != 0) {
        rc = cb_diag_set(diag, CB_EIO, path, 0, 0, NULL, "cannot %s the journal: %s",
                         is_new ? "initialise" : "migrate", sqlite3_errmsg(j->db));
        goto fail;
    }
    if (owner_out)
        snprintf(owner_out, owner_size, "%s", owner);
    *out = j;
    return 0;
fail:
    cb_journal_close(j);
    return rc;
}

int cb_journal_open(const char *path, const char *bot, cb_journal_t **out, cb_diag_t *diag)
{
    *out = NULL;
    if (!path || !bot || !valid_bot(bot))
        return cb_diag_set(diag, CB_EINVAL, path, 0, 0, "bot name",
                           "'%s' must be 1 to 20 letters, digits, '-' or '_' (it becomes part "
                           "of every client order id)",
                           bot ? bot : "");
    return journal_open(path, bot, 1, out, NULL, 0, diag);
}

int cb_journal_open_existing(const char *path, cb_journal_t **out, char *bot, size_t bot_size,
                             cb_diag_t *diag)
{
    *out = NULL;
    if (!path)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL, "no journal named");
    return journal_open(path, NULL, 0, out, bot, bot_size, diag);
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
        return wfail(j, "begin a transaction", CB_EIO);
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
    if (exec(j, "COMMIT") == 0)
        return 0;
    /* a COMMIT that failed (disk full, locked) may leave the transaction open: end it, so
     * that the next write does not land in a transaction nobody will commit */
    wfail(j, "commit a transaction", CB_EIO);
    if (!sqlite3_get_autocommit(j->db))
        exec(j, "ROLLBACK");
    return CB_EIO;
}

int cb_journal_rollback(cb_journal_t *j)
{
    if (j->depth == 0)
        return jfail(j, CB_ESTATE, "rollback without an open transaction");
    j->depth = 0;
    if (sqlite3_get_autocommit(j->db))
        return 0; /* SQLite already ended it (after an I/O error) */
    return exec(j, "ROLLBACK") ? wfail(j, "roll a transaction back", CB_EIO) : 0;
}

/* The ranges cb_journal_open checks, refused at the door too: a journal the robot wrote must
 * always open again. */
static int order_ok(const cb_journal_order_t *o)
{
    return (!strcmp(o->side, "buy") || !strcmp(o->side, "sell")) && o->pair[0] && o->type[0] &&
           o->price_scale >= 0 && o->price_scale <= 18 && o->qty_scale >= 0 &&
           o->qty_scale <= 18 && o->price >= 0 && o->stop_price >= 0 && o->quantity >= 0 &&
           o->executed_quantity >= 0 && o->created_ms >= 0 && o->updated_ms >= 0 &&
           o->market_ms >= 0;
}

int cb_journal_order_intent(cb_journal_t *j, cb_journal_order_t *o)
{
    if (strcmp(o->side, "buy") != 0 && strcmp(o->side, "sell") != 0)
        return jfail(j, CB_EINVAL, "an order's side must be 'buy' or 'sell'");
    o->executed_quantity = 0;
    o->updated_ms = o->created_ms;
    if (!order_ok(o))
        return jfail(j, CB_EINVAL, "an order's fields are out of range (negative "
                                   "price, quantity or time, or a bad scale)");
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
        return rc ? wfail(j, "read the order sequence", rc)
                  : jfail(j, CB_ECORRUPT, "the journal's order sequence (meta next_seq) is "
                                          "not a positive number");
    }
    snprintf(o->client_order_id, sizeof o->client_order_id, "cb-%s-%lld", j->bot, seq);
    o->status = CB_OS_INTENT;
    sqlite3_stmt *st = prep(
        j, "INSERT INTO orders(seq, client_order_id, exchange_order_id, pair, side, type, reason,"
           " status, price_scale, qty_scale, price, stop_price, quantity, executed_quantity,"
           " created_ms, updated_ms, market_ms) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,0,?,?,?)");
    if (!st) {
        wfail(j, "record the order intent", CB_EIO);
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
    sqlite3_bind_int64(st, 16, o->market_ms);
    int ok = sqlite3_step(st) == SQLITE_DONE;
    if (!ok)
        wfail(j, "record the order intent", CB_EIO);
    sqlite3_finalize(st);
    snprintf(buf, sizeof buf, "%lld", seq + 1);
    if (!ok || set_meta(j, "next_seq", buf)) {
        cb_journal_rollback(j);
        return CB_EIO;
    }
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
    o->market_ms = sqlite3_column_int64(st, 15);
}

#define ORDER_COLUMNS                                                                        \
    "client_order_id, exchange_order_id, pair, side, type, reason, status, price_scale,"     \
    " qty_scale, price, stop_price, quantity, executed_quantity, created_ms, updated_ms,"     \
    " market_ms"

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
    if (executed_quantity < 0 || time_ms < 0)
        return CB_EINVAL;
    int rc = cb_journal_begin(j);
    if (rc)
        return rc;
    cb_journal_order_t o;
    rc = cb_journal_order_get(j, client_order_id, &o);
    if (rc) {
        if (rc != CB_ENOENT)
            wfail(j, "read the order to update", rc);
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
        wfail(j, "record the order's status", CB_EIO);
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
    if (!ok)
        wfail(j, "record the order's status", CB_EIO);
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
    if (!order_ok(o) || !o->client_order_id[0])
        return jfail(j, CB_EINVAL, "an adopted order needs a client order id and "
                                   "fields in range");
    sqlite3_stmt *st = prep(
        j, "INSERT INTO orders(seq, client_order_id, exchange_order_id, pair, side, type, reason,"
           " status, price_scale, qty_scale, price, stop_price, quantity, executed_quantity,"
           " created_ms, updated_ms, adopted, market_ms) VALUES((SELECT COALESCE(MAX(seq), 0)"
           " + 1000000000 FROM orders),?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1,?)");
    if (!st)
        return wfail(j, "adopt the order", CB_EIO);
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
    sqlite3_bind_int64(st, 16, o->market_ms);
    int r = sqlite3_step(st);
    if (r != SQLITE_DONE && r != SQLITE_CONSTRAINT)
        wfail(j, "adopt the order", CB_EIO);
    sqlite3_finalize(st);
    if (r == SQLITE_CONSTRAINT)
        return CB_EEXIST;
    return r == SQLITE_DONE ? 0 : CB_EIO;
}

int cb_journal_fill(cb_journal_t *j, const cb_journal_fill_t *f)
{
    if (strcmp(f->side, "buy") != 0 && strcmp(f->side, "sell") != 0)
        return jfail(j, CB_EINVAL, "a fill's side must be 'buy' or 'sell'");
    if (!f->pair[0] ||
        !f->trade_id[0] || !f->client_order_id[0] || f->price <= 0 || f->quantity <= 0 ||
        f->fee < 0 || f->time_ms < 0 || f->wall_ms < 0 || f->price_scale < 0 ||
        f->price_scale > 18 || f->qty_scale < 0 || f->qty_scale > 18 || f->fee_scale < 0 ||
        f->fee_scale > 18)
        return jfail(j, CB_EINVAL, "a fill needs a pair, a trade id, an order id, "
                                   "a positive price and quantity and fields in range");
    sqlite3_stmt *st = prep(
        j, "INSERT OR IGNORE INTO fills(pair, trade_id, client_order_id, side, price_scale,"
           " qty_scale, fee_scale, price, quantity, fee, fee_asset, time_ms, wall_ms)"
           " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!st)
        return wfail(j, "record the fill", CB_EIO);
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
    sqlite3_bind_int64(st, 13, f->wall_ms > 0 ? f->wall_ms : cb_now_ms());
    int r = sqlite3_step(st);
    if (r != SQLITE_DONE)
        wfail(j, "record the fill", CB_EIO);
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
    f->wall_ms = sqlite3_column_int64(st, 12);
}

#define FILL_COLUMNS                                                                         \
    "pair, trade_id, client_order_id, side, price_scale, qty_scale, fee_scale, price,"       \
    " quantity, fee, fee_asset, time_ms, wall_ms"

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



int cb_journal_event(cb_journal_t *j, int64_t market_ms, const char *kind, const char *detail)
{
    if (market_ms < 0 || !kind || !kind[0])
        return CB_EINVAL;
    sqlite3_stmt *st = prep(j, "INSERT INTO events(time_ms, kind, detail, wall_ms)"
                               " VALUES(?, ?, ?, ?)");
    if (!st)
        return wfail(j, "record an event", CB_EIO);
    sqlite3_bind_int64(st, 1, market_ms);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, detail ? detail : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, cb_now_ms());
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : CB_EIO;
    if (rc)
        wfail(j, "record an event", rc);
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
        return wfail(j, "relabel the order", CB_EIO);
    sqlite3_bind_text(st, 1, reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, client_order_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : CB_EIO;
    if (rc)
        wfail(j, "relabel the order", rc);
    if (rc == 0 && sqlite3_changes(j->db) != 1)
        rc = CB_ENOENT;
    sqlite3_finalize(st);
    return rc;
}
