/* Backtest sessions: settings -> engine configuration + pairs, and runs with any assignment. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "comeback/backtest.h"

static int apply_section(cb_bt_settings_t *st, const cb_rules_section_t *sec, const char *path,
                         cb_diag_t *diag)
{
    for (size_t i = 0; i < sec->n; i++) {
        const cb_rules_kv_t *kv = &sec->items[i];
        char *dst = NULL;
        size_t cap = 0;
#define CB_BT_KEY_(field, name_)                                                             \
    if (!dst && !strcmp(kv->key, name_)) {                                                   \
        dst = st->field;                                                                     \
        cap = sizeof st->field;                                                              \
    }
        CB_BT_SETTINGS_MAP(CB_BT_KEY_)
#undef CB_BT_KEY_
        if (!dst)
            return cb_diag_set(diag, CB_EPARSE, path, kv->line, 1, NULL,
                               "[backtest]: unknown key '%s' (keys: data, pair, start_balance, "
                               "stake, max_open_trades, fee, maker_fee, slippage, from, to)",
                               kv->key);
        if ((size_t)snprintf(dst, cap, "%s", kv->value) >= cap)
            return cb_diag_set(diag, CB_EPARSE, path, kv->line, kv->column, NULL,
                               "[backtest]: the value of '%s' is too long", kv->key);
        if (dst == st->data && path && strrchr(path, '/')) {
            /* Data paths in the file are relative to the file (store names are left alone). */
            const char *slash = strrchr(path, '/');
            char list[4096], *save = NULL;
            snprintf(list, sizeof list, "%s", kv->value);
            st->data[0] = '\0';
            for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                while (*tok == ' ')
                    tok++;
                size_t tl = strlen(tok);
                while (tl && tok[tl - 1] == ' ')
                    tok[--tl] = '\0';
                char rel[4096];
                struct stat sb;
                snprintf(rel, sizeof rel, "%.*s/%s", (int)(slash - path), path, tok);
                const char *use = tok[0] != '/' && stat(rel, &sb) == 0 ? rel : tok;
                size_t used = strlen(st->data);
                snprintf(st->data + used, sizeof st->data - used, "%s%s", used ? "," : "", use);
            }
        }
    }
    return 0;
}

/* "binance_spot_BTCUSDT_1h.csv" -> "BTC/USDT": a run of capitals ending in a known quote
 * currency, between separators. Returns 1 when found. */
static int guess_pair(const char *path, char *out, size_t size)
{
    static const char *quotes[] = {"USDT", "USDC", "BUSD", "FDUSD", "TUSD", "USD",
                                   "EUR",  "BTC",  "ETH",  "BNB"};
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (const char *p = base; *p; p++) {
        if (p != base && p[-1] != '_' && p[-1] != '-' && p[-1] != '.')
            continue;
        size_t n = 0;
        while ((p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= '0' && p[n] <= '9'))
            n++;
        if (n < 5 || n > 20 || (p[n] && p[n] != '_' && p[n] != '-' && p[n] != '.'))
            continue;
        for (size_t q = 0; q < sizeof quotes / sizeof quotes[0]; q++) {
            size_t ql = strlen(quotes[q]);
            if (n > ql + 1 && !strncmp(p + n - ql, quotes[q], ql)) {
                snprintf(out, size, "%.*s/%s", (int)(n - ql), p, quotes[q]);
                return 1;
            }
        }
    }
    return 0;
}

/* The sentence for an amount that did not parse: beyond the limit of fixed point (core.h,
 * CB_FX_MAX), finer than 1e-8, or not an amount at all (`expected`). */
static int amount_error(cb_diag_t *diag, const char *field, const char *value,
                        const char *expected)
{
    char *end;
    double v = strtod(value, &end);
    while (*end == ' ')
        end++;
    if (end != value && (v > CB_FX_MAX_D || v < -CB_FX_MAX_D)) {
        cb_fx_range_diag(diag, field, field, v, end);
        diag->code = CB_EINVAL;
        return CB_EINVAL;
    }
    const char *dot = strchr(value, '.');
    if (end != value && dot && dot < end && end - dot - 1 > CB_FX_SCALE)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, field,
                           "'%s' has more than %d decimals (amounts are fixed point at 1e-8)",
                           value, CB_FX_SCALE);
    return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, field, "expected %s, got '%s'", expected,
                       value);
}

static int parse_rate(const char *what, const char *s, int64_t *out, cb_diag_t *diag)
{
    if (cb_rate_parse(s, out) != 0)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, what,
                           "expected a rate such as 0.1%%, 0.001 or 10bps, got '%s'", s);
    return 0;
}

static int open_one(const char *name, cb_series_t **out, cb_diag_t *diag)
{
    cb_read_opts_t ro;
    memset(&ro, 0, sizeof ro);
    ro.format = CB_FORMAT_AUTO;
    cb_diag_clear(diag);
    int rc = cb_series_open(name, &ro, out, diag);
    if (rc && diag && !diag->file[0])
        snprintf(diag->file, sizeof diag->file, "%s", name);
    return rc;
}

void cb_backtest_close(cb_backtest_t *bt)
{
    if (!bt)
        return;
    for (size_t k = 0; k < bt->n; k++)
        cb_series_free(bt->series[k]);
    bt->n = 0;
}

/* Defaults, then [backtest], then the overrides. */
static int setup_settings(cb_backtest_t *bt, const cb_rules_file_t *file, const char *path,
                          const cb_bt_settings_t *ov, cb_diag_t *diag)
{
    memset(bt, 0, sizeof *bt);
    bt->file = file;
    bt->path = path;
    cb_bt_settings_t *st = &bt->settings;
    snprintf(st->fee, sizeof st->fee, "0.1%%");
    snprintf(st->stake, sizeof st->stake, "10%%");
    const cb_rules_section_t *sec = cb_rules_file_section(file, "backtest");
    int rc;
    if (sec && (rc = apply_section(st, sec, path, diag)) != 0)
        return rc;
    if (ov) {
#define CB_BT_OVERRIDE_(field, name_)                                                        \
    if (ov->field[0])                                                                        \
        snprintf(st->field, sizeof st->field, "%s", ov->field);
        CB_BT_SETTINGS_MAP(CB_BT_OVERRIDE_)
#undef CB_BT_OVERRIDE_
    }
    return 0;
}

static int setup_account(cb_backtest_t *bt, const cb_rules_file_t *file, const char *path,
                         cb_diag_t *diag);

int cb_backtest_setup(cb_backtest_t *bt, const cb_rules_file_t *file, const char *path,
                      const cb_bt_settings_t *ov, cb_diag_t *diag)
{
    int rc = setup_settings(bt, file, path, ov, diag);
    if (rc)
        return rc;
    cb_bt_settings_t *st = &bt->settings;
    if (!st->data[0])
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL,
                           "no data: give --data SERIES or [backtest] data = ...");

    /* The series. */
    char list[4096];
    snprintf(list, sizeof list, "%s", st->data);
    char *save = NULL;
    for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        size_t len = strlen(tok);
        while (len && tok[len - 1] == ' ')
            tok[--len] = '\0';
        if (!*tok)
            continue;
        if (bt->n == CB_BT_MAX_PAIRS) {
            cb_backtest_close(bt);
            return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL,
                               "too many series (at most %d)", CB_BT_MAX_PAIRS);
        }
        snprintf(bt->names[bt->n], sizeof bt->names[0], "%s", tok);
        if ((rc = open_one(tok, &bt->series[bt->n], diag)) != 0) {
            cb_backtest_close(bt);
            return rc;
        }
        bt->n++;
    }
    if (bt->n == 0)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL, "no series in '%s'", st->data);
    return setup_account(bt, file, path, diag);
}

int cb_backtest_setup_live(cb_backtest_t *bt, const cb_rules_file_t *file, const char *path,
                           const cb_bt_settings_t *ov, const char *const *pairs, size_t n_pairs,
                           const char *timeframe, cb_diag_t *diag)
{
    int rc = setup_settings(bt, file, path, ov, diag);
    if (rc)
        return rc;
    bt->settings.data[0] = bt->settings.pair[0] = '\0';
    if (n_pairs == 0 || n_pairs > CB_BT_MAX_PAIRS)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "pairs", "expected 1 to %d pairs",
                           CB_BT_MAX_PAIRS);
    for (size_t k = 0; k < n_pairs; k++) {
        if (!(bt->series[k] = cb_series_new(1024))) {
            cb_backtest_close(bt);
            return CB_ENOMEM;
        }
        bt->n = k + 1;
        cb_series_meta_t *m = &bt->series[k]->meta;
        snprintf(m->pair, sizeof m->pair, "%s", pairs[k]);
        snprintf(m->timeframe, sizeof m->timeframe, "%s", timeframe ? timeframe : "");
        snprintf(bt->names[k], sizeof bt->names[k], "%s", pairs[k]);
    }
    return setup_account(bt, file, path, diag);
}

/* The account, the pairs and their rounding, from the settings and the opened series. */
static int setup_account(cb_backtest_t *bt, const cb_rules_file_t *file, const char *path,
                         cb_diag_t *diag)
{
    cb_bt_settings_t *st = &bt->settings;
    int rc;
    cb_engine_config_t *cfg = &bt->cfg;
    cb_engine_config_default(cfg);
    rc = CB_EINVAL;
    if (st->start_balance[0] &&
        cb_money_parse(st->start_balance, &cfg->start_balance, bt->quote, sizeof bt->quote)) {
        amount_error(diag, "start_balance", st->start_balance,
                     "an amount such as \"10000 USDT\"");
        goto fail;
    }
    if (cfg->start_balance <= 0) {
        cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "start_balance", "must be positive, got '%s'",
                    st->start_balance);
        goto fail;
    }
    char pair_list[CB_BT_MAX_PAIRS][32];
    size_t n_pair_list = 0;
    if (st->pair[0]) {
        char tmp[sizeof st->pair], *psave = NULL;
        snprintf(tmp, sizeof tmp, "%s", st->pair);
        for (char *tok = strtok_r(tmp, ", ", &psave); tok && n_pair_list < CB_BT_MAX_PAIRS;
             tok = strtok_r(NULL, ", ", &psave))
            snprintf(pair_list[n_pair_list++], sizeof pair_list[0], "%s", tok);
        if (n_pair_list != bt->n) {
            cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "pair", "%zu pair%s named for %zu series",
                        n_pair_list, n_pair_list == 1 ? "" : "s", bt->n);
            goto fail;
        }
    }
    for (size_t k = 0; k < bt->n; k++) {
        const char *pair = n_pair_list ? pair_list[k] : bt->series[k]->meta.pair;
        char fallback[64];
        if (!pair[0] && guess_pair(bt->names[k], fallback, sizeof fallback))
            pair = fallback;
        if (!pair[0]) {
            snprintf(fallback, sizeof fallback, "PAIR%zu/%s", k + 1,
                     bt->quote[0] ? bt->quote : "USDT");
            pair = fallback;
        }
        cb_instrument_default(&bt->instruments[k], pair);
        if (bt->quote[0] && strcmp(bt->instruments[k].quote, bt->quote) != 0) {
            cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL,
                        "%s: its quote currency is %s but the start balance is in %s", pair,
                        bt->instruments[k].quote, bt->quote);
            goto fail;
        }
        if (k && strcmp(bt->instruments[k].quote, bt->instruments[0].quote) != 0) {
            cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL,
                        "every pair must share one quote currency (%s and %s)",
                        bt->instruments[0].pair, pair);
            goto fail;
        }
        cb_timeframe_t tf;
        if (bt->series[k]->meta.timeframe[0] &&
            cb_timeframe_parse(bt->series[k]->meta.timeframe, &tf) == 0)
            bt->tf_ms[k] = tf.ms;
    }
    if (!bt->quote[0])
        snprintf(bt->quote, sizeof bt->quote, "%s", bt->instruments[0].quote);
    const cb_rules_section_t *ps = cb_rules_file_section(file, "pairs");
    for (size_t i = 0; ps && i < ps->n; i++) {
        const cb_rules_kv_t *kv = &ps->items[i];
        size_t k = 0;
        while (k < bt->n && strcmp(bt->instruments[k].pair, kv->key) != 0)
            k++;
        cb_instrument_t tmp;
        cb_instrument_default(&tmp, kv->key);
        cb_diag_t d;
        cb_diag_clear(&d);
        if (cb_instrument_parse(k < bt->n ? &bt->instruments[k] : &tmp, kv->value, &d) != 0) {
            cb_diag_set(diag, CB_EPARSE, path, kv->line, kv->column, d.field, "[pairs] %s: %s",
                        kv->key, d.msg);
            rc = CB_EPARSE;
            goto fail;
        }
    }
    if (cb_stake_parse(st->stake, bt->quote, &cfg->stake, NULL) != 0) {
        amount_error(diag, "stake", st->stake,
                     "'1000' (quote), '10%' (of equity), '1 BTC' (base) or 'all'");
        goto fail;
    }
    if (cfg->stake.kind == CB_STAKE_BASE && strcmp(cfg->stake.unit, bt->instruments[0].base)) {
        cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "stake", "'%s' is in %s but the pair %s trades %s",
                    st->stake, cfg->stake.unit, bt->instruments[0].pair, bt->instruments[0].base);
        goto fail;
    }
    if (parse_rate("fee", st->fee, &cfg->costs.taker_fee, diag) ||
        parse_rate("maker_fee", st->maker_fee[0] ? st->maker_fee : st->fee,
                   &cfg->costs.maker_fee, diag) ||
        (st->slippage[0] && parse_rate("slippage", st->slippage, &cfg->costs.slippage, diag)))
        goto fail;
    if (st->max_open_trades[0]) {
        char *end;
        long v = strtol(st->max_open_trades, &end, 10);
        if (end == st->max_open_trades || *end || v < 0 || v > 1000000) {
            cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "max_open_trades",
                        "expected a whole number >= 0, got '%s'", st->max_open_trades);
            goto fail;
        }
        cfg->max_open_trades = (int)v;
    }
    if ((st->from[0] && cb_time_parse(st->from, (size_t)-1, &cfg->from_ms)) ||
        (st->to[0] && cb_time_parse(st->to, (size_t)-1, &cfg->to_ms))) {
        cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "from/to",
                    "expected a date such as 2024-01-31 or \"2024-01-31 13:00\", got '%s'",
                    st->from[0] ? st->from : st->to);
        goto fail;
    }
    if (st->to[0] && strlen(st->to) == 10)
        cfg->to_ms += CB_MS_PER_DAY - 1; /* a date means the whole day */
    cb_rules_exits_t ex;
    cb_rules_file_exits(file, &ex);
    cfg->stop_loss = ex.stoploss;
    cfg->take_profit = ex.take_profit;
    cfg->trailing_stop = ex.trailing_stop;
    cfg->trailing_offset = ex.trailing_offset;
    return 0;
fail:
    cb_backtest_close(bt);
    return rc;
}

/* One pair's strategy. Rules that read no position state decide the same whatever the trades
 * were, so their signals for the whole series are computed at once and replayed (several times
 * faster than stepping; the rules module falls back to bar by bar if the engine passes other
 * bars, such as a live series that grew). */
static int pair_strategy(const cb_rules_strategy_t *strat, const cb_series_t *s, int64_t tf_ms,
                         cb_engine_pair_t *pair, cb_diag_t *diag)
{
    cb_bar_view_t hist = {s->n, s->time_ms, s->open, s->high, s->low, s->close, s->volume};
    int rc = cb_rules_strategy_instance_shared(strat, tf_ms, NULL, &hist, &pair->strategy,
                                               &pair->strategy_self, diag);
    if (rc == 0)
        cb_backtest_pair_signals(pair);
    return rc;
}

void cb_backtest_pair_signals(cb_engine_pair_t *pair)
{
    const cb_series_t *s = pair->series;
    cb_bar_view_t hist = {s->n, s->time_ms, s->open, s->high, s->low, s->close, s->volume};
    if (!cb_rules_strategy_signals(pair->strategy, pair->strategy_self, &hist,
                                   &pair->entry_signal, &pair->exit_signal))
        pair->entry_signal = pair->exit_signal = NULL;
}

int cb_backtest_pairs(const cb_backtest_t *bt, const cb_rules_strategy_t *strat,
                      cb_engine_pair_t *pairs, cb_diag_t *diag)
{
    memset(pairs, 0, bt->n * sizeof *pairs);
    for (size_t k = 0; k < bt->n; k++) {
        pairs[k].series = bt->series[k];
        pairs[k].instrument = bt->instruments[k];
        int rc = pair_strategy(strat, bt->series[k], bt->tf_ms[k], &pairs[k], diag);
        if (rc) {
            cb_backtest_pairs_free(bt, pairs);
            return rc;
        }
    }
    return 0;
}

void cb_backtest_pairs_free(const cb_backtest_t *bt, cb_engine_pair_t *pairs)
{
    for (size_t k = 0; k < bt->n; k++) {
        if (pairs[k].strategy && pairs[k].strategy->destroy)
            pairs[k].strategy->destroy(pairs[k].strategy_self);
        pairs[k].strategy = NULL;
        pairs[k].strategy_self = NULL;
        pairs[k].entry_signal = pairs[k].exit_signal = NULL;
    }
}

int cb_backtest_run(const cb_backtest_t *bt, const double *values, const cb_engine_config_t *cfg,
                    cb_engine_result_t *out, cb_diags_t *diags, cb_diag_t *diag)
{
    memset(out, 0, sizeof *out);
    cb_rules_strategy_t *strat = NULL;
    int rc = cb_rules_strategy_new(bt->file, values, &strat, diags);
    if (rc) {
        if (diags && diags->n && diag)
            *diag = diags->items[0];
        else
            cb_diag_set(diag, rc, bt->path, 0, 0, NULL, "the strategy cannot be prepared: %s",
                        cb_strerror(rc));
        return rc;
    }
    cb_engine_pair_t pairs[CB_BT_MAX_PAIRS];
    rc = cb_backtest_pairs(bt, strat, pairs, diag);
    if (!rc) {
        rc = cb_engine_run(cfg ? cfg : &bt->cfg, pairs, bt->n, out, diag);
        cb_backtest_pairs_free(bt, pairs);
    }
    cb_rules_strategy_free(strat);
    return rc;
}
