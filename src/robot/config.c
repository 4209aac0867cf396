/* The bot file's [exchange], [bot] and [risk] sections -> cb_robot_config_t. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/robot.h"

const char *cb_robot_mode_name(cb_robot_mode_t m) { return m == CB_ROBOT_LIVE ? "live" : "paper"; }

static int parse_mode(const char *v, cb_robot_mode_t *out)
{
    if (!strcmp(v, "paper"))
        *out = CB_ROBOT_PAPER;
    else if (!strcmp(v, "live"))
        *out = CB_ROBOT_LIVE;
    else
        return -1;
    return 0;
}

/* dir of BOT.ini + rel, unless rel is absolute. */
static int resolve(const char *ini, const char *rel, char *out, size_t size)
{
    const char *slash = strrchr(ini, '/');
    int n = rel[0] == '/' || !slash ? snprintf(out, size, "%s", rel)
                                    : snprintf(out, size, "%.*s/%s", (int)(slash - ini), ini, rel);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 20)
        return 0;
    for (const char *c = s; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '_'))
            return 0;
    return 1;
}

static int bad(cb_diag_t *diag, const char *path, const cb_rules_kv_t *kv, const char *sec,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int bad(cb_diag_t *diag, const char *path, const cb_rules_kv_t *kv, const char *sec,
               const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cb_diag_set(diag, CB_EINVAL, path, kv->line, kv->column, NULL, "[%s] %s: %s", sec,
                       kv->key, msg);
}

/* Unknown keys point at the key (column 1), other errors at the value. */
static int unknown_key(cb_diag_t *diag, const char *path, const cb_rules_kv_t *kv,
                       const char *sec, const char *keys)
{
    return cb_diag_set(diag, CB_EINVAL, path, kv->line, 1, NULL, "[%s] %s: unknown key (keys: %s)",
                       sec, kv->key, keys);
}

static int set_path(const char *path, const cb_rules_kv_t *kv, const char *sec, char *dst,
                    size_t size, cb_diag_t *diag)
{
    if (!kv->value[0] || resolve(path, kv->value, dst, size))
        return bad(diag, path, kv, sec, "expected a file path, got '%s'", kv->value);
    return 0;
}

static int copy_text(const char *path, const cb_rules_kv_t *kv, const char *sec, char *dst,
                     size_t size, cb_diag_t *diag)
{
    if ((size_t)snprintf(dst, size, "%s", kv->value) >= size)
        return bad(diag, path, kv, sec, "the value is too long ('%.40s...')", kv->value);
    return 0;
}

static int load_exchange(const cb_rules_section_t *sec, const char *path, cb_robot_config_t *c,
                         cb_diag_t *diag)
{
    for (size_t i = 0; sec && i < sec->n; i++) {
        const cb_rules_kv_t *kv = &sec->items[i];
        int rc;
        if (!strcmp(kv->key, "name")) {
            if (strcmp(kv->value, "binance") != 0)
                return bad(diag, path, kv, "exchange", "the only exchange is binance, got '%s'",
                           kv->value);
            rc = copy_text(path, kv, "exchange", c->exchange, sizeof c->exchange, diag);
        } else if (!strcmp(kv->key, "api_url")) {
            rc = copy_text(path, kv, "exchange", c->api_url, sizeof c->api_url, diag);
        } else if (!strcmp(kv->key, "ws_url")) {
            rc = copy_text(path, kv, "exchange", c->ws_url, sizeof c->ws_url, diag);
        } else if (!strcmp(kv->key, "key_file")) {
            rc = set_path(path, kv, "exchange", c->key_file, sizeof c->key_file, diag);
        } else {
            return unknown_key(diag, path, kv, "exchange", "name, api_url, ws_url, key_file");
        }
        if (rc)
            return rc;
    }
    return 0;
}

static int load_pairs(const cb_rules_kv_t *kv, const char *path, cb_robot_config_t *c,
                      cb_diag_t *diag)
{
    char list[1024], *save = NULL;
    snprintf(list, sizeof list, "%s", kv->value);
    c->n_pairs = 0;
    for (char *tok = strtok_r(list, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        const char *slash = strchr(tok, '/');
        if (!slash || slash == tok || !slash[1] || strchr(slash + 1, '/') || strlen(tok) >= 32)
            return bad(diag, path, kv, "bot", "expected pairs such as BTC/USDT, got '%s'", tok);
        if (c->n_pairs == CB_ROBOT_MAX_PAIRS)
            return bad(diag, path, kv, "bot", "too many pairs");
        for (size_t k = 0; k < c->n_pairs; k++)
            if (!strcmp(c->pairs[k], tok))
                return bad(diag, path, kv, "bot", "'%s' is named twice", tok);
        snprintf(c->pairs[c->n_pairs++], sizeof c->pairs[0], "%s", tok);
    }
    if (!c->n_pairs)
        return bad(diag, path, kv, "bot", "expected at least one pair such as BTC/USDT");
    return 0;
}

static int load_bot(const cb_rules_section_t *sec, const char *path, const char *mode,
                    cb_robot_config_t *c, cb_diag_t *diag)
{
    int have_mode = 0;
    for (size_t i = 0; sec && i < sec->n; i++) {
        const cb_rules_kv_t *kv = &sec->items[i];
        int rc = 0;
        if (!strcmp(kv->key, "mode")) {
            if (parse_mode(kv->value, &c->mode))
                return bad(diag, path, kv, "bot", "expected paper or live, got '%s'", kv->value);
            have_mode = 1;
        } else if (!strcmp(kv->key, "name")) {
            if (!valid_name(kv->value))
                return bad(diag, path, kv, "bot",
                           "expected 1 to 20 letters, digits, '-' or '_' (it becomes part of "
                           "every client order id), got '%s'",
                           kv->value);
            snprintf(c->name, sizeof c->name, "%s", kv->value);
        } else if (!strcmp(kv->key, "pairs")) {
            rc = load_pairs(kv, path, c, diag);
        } else if (!strcmp(kv->key, "timeframe")) {
            cb_timeframe_t tf;
            if (cb_timeframe_parse(kv->value, &tf) || tf.months || tf.ms <= 0)
                return bad(diag, path, kv, "bot", "expected a timeframe such as 1m, 1h or 1d, "
                           "got '%s'", kv->value);
            snprintf(c->timeframe, sizeof c->timeframe, "%s", kv->value);
            c->tf_ms = tf.ms;
        } else if (!strcmp(kv->key, "history")) {
            char *end;
            long v = strtol(kv->value, &end, 10);
            if (end == kv->value || *end || v < 1 || v > 1000000)
                return bad(diag, path, kv, "bot", "expected a number of candles from 1 to "
                           "1000000, got '%s'", kv->value);
            c->history = (size_t)v;
        } else if (!strcmp(kv->key, "db")) {
            rc = set_path(path, kv, "bot", c->db, sizeof c->db, diag);
        } else if (!strcmp(kv->key, "log")) {
            rc = set_path(path, kv, "bot", c->log, sizeof c->log, diag);
        } else {
            return unknown_key(diag, path, kv, "bot",
                               "mode, name, pairs, timeframe, history, db, log");
        }
        if (rc)
            return rc;
    }
    if (mode && parse_mode(mode, &c->mode))
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "--mode",
                           "expected paper or live, got '%s'", mode);
    (void)have_mode;
    return 0;
}

int cb_robot_config_load(const cb_rules_file_t *file, const char *path, const char *mode,
                         cb_robot_config_t *c, cb_diag_t *diag)
{
    memset(c, 0, sizeof *c);
    snprintf(c->path, sizeof c->path, "%s", path);
    snprintf(c->exchange, sizeof c->exchange, "binance");
    const cb_rules_section_t *bot = cb_rules_file_section(file, "bot");
    int rc;
    if ((rc = load_exchange(cb_rules_file_section(file, "exchange"), path, c, diag)) ||
        (rc = load_bot(bot, path, mode, c, diag)))
        return rc;
    const cb_rules_section_t *risk = cb_rules_file_section(file, "risk");
    for (size_t i = 0; risk && i < risk->n; i++) {
        const cb_rules_kv_t *kv = &risk->items[i];
        cb_diag_t d;
        cb_diag_clear(&d);
        rc = cb_risk_set(&c->risk, kv->key, kv->value, &d);
        if (rc == CB_ENOENT)
            return unknown_key(diag, path, kv, "risk",
                               "max_open_trades, max_trades_per_day, max_daily_loss, "
                               "max_drawdown, drawdown_action, cooldown, max_position, "
                               "stale_after");
        if (rc)
            return cb_diag_set(diag, CB_EINVAL, path, kv->line, kv->column, NULL,
                               "[risk] %s: %s", kv->key, d.msg);
    }
    long bot_line = bot ? bot->line : 0;
    if (!c->n_pairs)
        return cb_diag_set(diag, CB_EINVAL, path, bot_line, 0, NULL,
                           "[bot] pairs: missing (for example pairs = BTC/USDT, ETH/USDT)");
    if (!c->timeframe[0]) {
        const char *tf = cb_rules_file_timeframe(file);
        cb_timeframe_t t;
        if (!tf || cb_timeframe_parse(tf, &t) || t.months || t.ms <= 0)
            return cb_diag_set(diag, CB_EINVAL, path, bot_line, 0, NULL,
                               "[bot] timeframe: missing (and [strategy] names none)");
        snprintf(c->timeframe, sizeof c->timeframe, "%s", tf);
        c->tf_ms = t.ms;
    }
    if (!c->name[0]) {
        /* the file's base name, cut to what a client order id allows */
        const char *b = strrchr(path, '/');
        b = b ? b + 1 : path;
        size_t k = 0;
        for (const char *p = b; *p && *p != '.' && k < 20; p++)
            c->name[k++] = valid_name((char[]){*p, 0}) ? *p : '_';
        c->name[k] = '\0';
        if (!k)
            snprintf(c->name, sizeof c->name, "bot");
    }
    if (!c->db[0]) {
        char rel[64];
        snprintf(rel, sizeof rel, "%s.%s.sqlite", c->name, cb_robot_mode_name(c->mode));
        resolve(path, rel, c->db, sizeof c->db);
    }
    return 0;
}
