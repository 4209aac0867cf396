/* Backtest sessions: settings -> engine configuration + pairs, and runs with any assignment. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "comeback/backtest.h"

static const char *const setting_keys[CB_BT_N_SETTINGS] = {
#define CB_BT_KEY_NAME_(field, name_) name_,
    CB_BT_SETTINGS_MAP(CB_BT_KEY_NAME_)
#undef CB_BT_KEY_NAME_
};

/* The command-line option of setting idx: "--maker-fee" (cli_bt_setting's rule). */
static void option_name(int idx, char *buf, size_t size)
{
    size_t k = (size_t)snprintf(buf, size, "--");
    for (const char *c = setting_keys[idx]; *c && k + 1 < size; c++)
        buf[k++] = *c == '_' ? '-' : *c;
    buf[k] = '\0';
}

/* A bad setting, named where it was written: "s.ini:12:7: [backtest] fee: ..." for the
 * file's, "--fee: ..." for the command line's (and the defaults, which are valid). */
static int bad_setting(const cb_backtest_t *bt, int idx, cb_diag_t *diag, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int bad_setting(const cb_backtest_t *bt, int idx, cb_diag_t *diag, const char *fmt, ...)
{
    char msg[480];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (bt->set_line[idx] > 0)
        return cb_diag_set(diag, CB_EINVAL, bt->path, bt->set_line[idx], bt->set_column[idx],
                           NULL, "[backtest] %s: %s", setting_keys[idx], msg);
    char opt[48];
    option_name(idx, opt, sizeof opt);
    return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, opt, "%s", msg);
}

/* A sentence about a setting that names it itself (setting_text): located at the setting's
 * [backtest] line when it is the file's. */
static int setting_diag(const cb_backtest_t *bt, int idx, cb_diag_t *diag, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int setting_diag(const cb_backtest_t *bt, int idx, cb_diag_t *diag, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    long line = bt->set_line[idx];
    return cb_diag_set(diag, CB_EINVAL, line > 0 ? bt->path : NULL, line, bt->set_column[idx],
                       NULL, "%s", msg);
}

/* How a setting is named in a sentence: "--from 2030-01-01" or "from = 2030-01-01". */
static void setting_text(const cb_backtest_t *bt, int idx, const char *value, char *buf,
                         size_t size)
{
    if (bt->set_line[idx] > 0) {
        snprintf(buf, size, "%s = %s", setting_keys[idx], value);
        return;
    }
    char opt[48];
    option_name(idx, opt, sizeof opt);
    snprintf(buf, size, "%s %s", opt, value);
}

static int apply_section(cb_backtest_t *bt, const cb_rules_section_t *sec, const char *path,
                         cb_diag_t *diag)
{
    cb_bt_settings_t *st = &bt->settings;
    for (size_t i = 0; i < sec->n; i++) {
        const cb_rules_kv_t *kv = &sec->items[i];
        char *dst = NULL;
        size_t cap = 0;
        int idx = -1;
#define CB_BT_KEY_(field, name_)                                                             \
    if (!dst && !strcmp(kv->key, name_)) {                                                   \
        dst = st->field;                                                                     \
        cap = sizeof st->field;                                                              \
        idx = CB_BT_SET_##field;                                                             \
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
        bt->set_line[idx] = kv->line;
        bt->set_column[idx] = kv->column;
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
static int amount_error(const cb_backtest_t *bt, int idx, cb_diag_t *diag, const char *value,
                        const char *expected)
{
    char *end;
    double v = strtod(value, &end);
    while (*end == ' ')
        end++;
    if (end != value && (v > CB_FX_MAX_D || v < -CB_FX_MAX_D)) {
        cb_diag_t d;
        cb_fx_range_diag(&d, NULL, setting_keys[idx], v, end);
        return bad_setting(bt, idx, diag, "%s", d.msg);
    }
    const char *dot = strchr(value, '.');
    if (end != value && dot && dot < end && end - dot - 1 > CB_FX_SCALE)
        return bad_setting(bt, idx, diag,
                           "'%s' has more than %d decimals (amounts are fixed point at 1e-8)",
                           value, CB_FX_SCALE);
    return bad_setting(bt, idx, diag, "expected %s, got '%s'", expected, value);
}

static int parse_rate(const cb_backtest_t *bt, int idx, const char *s, int64_t *out,
                      cb_diag_t *diag)
{
    if (cb_rate_parse(s, out) != 0)
        return bad_setting(bt, idx, diag, "expected a rate such as 0.1%%, 0.001 or 10bps, got "
                           "'%s'", s);
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
    if (sec && (rc = apply_section(bt, sec, path, diag)) != 0)
        return rc;
    if (ov) {
#define CB_BT_OVERRIDE_(field, name_)                                                        \
    if (ov->field[0]) {                                                                      \
        snprintf(st->field, sizeof st->field, "%s", ov->field);                              \
        bt->set_line[CB_BT_SET_##field] = bt->set_column[CB_BT_SET_##field] = 0;             \
    }
        CB_BT_SETTINGS_MAP(CB_BT_OVERRIDE_)
#undef CB_BT_OVERRIDE_
    }
    return 0;
}

static int setup_account(cb_backtest_t *bt, const cb_rules_file_t *file, const char *path,
                         cb_diag_t *diag);

/* "2022-10-11 10:00" (seconds when not zero). */
static const char *when(int64_t ms, char *buf, size_t size)
{
    cb_time_format(ms, buf, size);
    size_t n = strlen(buf);
    if (n == 19 && !strcmp(buf + 16, ":00"))
        buf[16] = '\0';
    return buf;
}

/* A 4h strategy on 1h candles would compute every indicator over hours while its author
 * reasons in 4-hour bars: backtest, optimize, check, run and rules eval all come here. */
int cb_backtest_check_timeframe(const cb_rules_file_t *file, const char *path, const char *have,
                                const char *what, cb_diag_t *diag)
{
    const char *want = cb_rules_file_timeframe(file);
    cb_timeframe_t w, h;
    if (!want || !have || !have[0] || cb_timeframe_parse(want, &w) != 0 ||
        cb_timeframe_parse(have, &h) != 0)
        return 0;
    if (w.ms == h.ms && w.months == h.months)
        return 0;
    int col = 0;
    long line = cb_rules_file_key_line(file, "timeframe", &col);
    char hint[160] = "";
    if (!w.months && !h.months && h.ms < w.ms && w.ms % h.ms == 0)
        snprintf(hint, sizeof hint, " (comeback data resample makes %s candles from them)", want);
    return cb_diag_set(diag, CB_EINVAL, line > 0 ? path : NULL, line, col, NULL,
                       "the strategy says timeframe = %s; %s%s", want, what, hint);
}

/* Every series against the strategy's timeframe, and the window: each series must have a
 * candle opening in [from, to], or the run would report zeros. */
static int check_data(const cb_backtest_t *bt, cb_diag_t *diag)
{
    const cb_engine_config_t *cfg = &bt->cfg;
    const cb_bt_settings_t *st = &bt->settings;
    for (size_t k = 0; k < bt->n; k++) {
        const cb_series_t *s = bt->series[k];
        char what[700];
        snprintf(what, sizeof what, "%s has %s candles", bt->names[k], s->meta.timeframe);
        int rc = cb_backtest_check_timeframe(bt->file, bt->path, s->meta.timeframe, what, diag);
        if (rc)
            return rc;
        char a[96], b[96], f[40], l[40];
        if (s->n == 0)
            return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL, "%s has no candles",
                               bt->names[k]);
        int64_t first = s->time_ms[0], last = s->time_ms[s->n - 1];
        setting_text(bt, CB_BT_SET_from, st->from, a, sizeof a);
        setting_text(bt, CB_BT_SET_to, st->to, b, sizeof b);
        if (st->from[0] && cfg->from_ms > last)
            return setting_diag(bt, CB_BT_SET_from, diag,
                                "%s is after the last candle of %s (%s)", a, bt->names[k],
                                when(last, l, sizeof l));
        if (st->to[0] && cfg->to_ms < first)
            return setting_diag(bt, CB_BT_SET_to, diag,
                                "%s is before the first candle of %s (%s)", b, bt->names[k],
                                when(first, f, sizeof f));
        size_t lo = st->from[0] ? cb_series_lower_bound(s, cfg->from_ms) : 0;
        size_t hi = st->to[0] ? cb_series_lower_bound(s, cfg->to_ms + 1) : s->n;
        if (lo >= hi)
            return setting_diag(bt, st->from[0] ? CB_BT_SET_from : CB_BT_SET_to, diag,
                                "no candle of %s opens between %s and %s (a gap in the data; "
                                "its candles span %s .. %s)", bt->names[k], a, b,
                                when(first, f, sizeof f), when(last, l, sizeof l));
    }
    return 0;
}

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
    if ((rc = setup_account(bt, file, path, diag)) != 0)
        return rc;
    if ((rc = check_data(bt, diag)) != 0)
        cb_backtest_close(bt);
    return rc;
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
    char what[96];
    snprintf(what, sizeof what, "the robot runs on %s candles ([bot] timeframe)",
             timeframe ? timeframe : "");
    if ((rc = cb_backtest_check_timeframe(file, path, timeframe, what, diag)) != 0) {
        cb_backtest_close(bt);
        return rc;
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
        amount_error(bt, CB_BT_SET_start_balance, diag, st->start_balance,
                     "an amount such as \"10000 USDT\"");
        goto fail;
    }
    if (cfg->start_balance <= 0) {
        bad_setting(bt, CB_BT_SET_start_balance, diag, "must be positive, got '%s'",
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
            bad_setting(bt, CB_BT_SET_pair, diag, "%zu pair%s named for %zu series",
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
        amount_error(bt, CB_BT_SET_stake, diag, st->stake,
                     "'1000' (quote), '10%' (of equity), '1 BTC' (base) or 'all'");
        goto fail;
    }
    if (cfg->stake.kind == CB_STAKE_BASE && strcmp(cfg->stake.unit, bt->instruments[0].base)) {
        bad_setting(bt, CB_BT_SET_stake, diag, "'%s' is in %s but the pair %s trades %s",
                    st->stake, cfg->stake.unit, bt->instruments[0].pair, bt->instruments[0].base);
        goto fail;
    }
    if (parse_rate(bt, CB_BT_SET_fee, st->fee, &cfg->costs.taker_fee, diag) ||
        parse_rate(bt, st->maker_fee[0] ? CB_BT_SET_maker_fee : CB_BT_SET_fee,
                   st->maker_fee[0] ? st->maker_fee : st->fee, &cfg->costs.maker_fee, diag) ||
        (st->slippage[0] &&
         parse_rate(bt, CB_BT_SET_slippage, st->slippage, &cfg->costs.slippage, diag)))
        goto fail;
    if (st->max_open_trades[0]) {
        char *end;
        long v = strtol(st->max_open_trades, &end, 10);
        if (end == st->max_open_trades || *end || v < 0 || v > 1000000) {
            bad_setting(bt, CB_BT_SET_max_open_trades, diag,
                        "expected a whole number >= 0, got '%s'", st->max_open_trades);
            goto fail;
        }
        cfg->max_open_trades = (int)v;
    }
    for (int k = 0; k < 2; k++) {
        const char *v = k ? st->to : st->from;
        if (v[0] && cb_time_parse(v, (size_t)-1, k ? &cfg->to_ms : &cfg->from_ms)) {
            bad_setting(bt, k ? CB_BT_SET_to : CB_BT_SET_from, diag,
                        "expected a date such as 2024-01-31 or \"2024-01-31 13:00\", got '%s'",
                        v);
            goto fail;
        }
    }
    int to_is_day = st->to[0] && strlen(st->to) == 10;
    if (to_is_day)
        cfg->to_ms += CB_MS_PER_DAY - 1; /* a date means the whole day */
    if (st->from[0] && st->to[0] && cfg->from_ms >= cfg->to_ms + to_is_day) {
        /* an empty window: the report would be all zeros, dated 1970 */
        char a[96], b[96];
        setting_text(bt, CB_BT_SET_from, st->from, a, sizeof a);
        setting_text(bt, CB_BT_SET_to, st->to, b, sizeof b);
        setting_diag(bt, bt->set_line[CB_BT_SET_from] || !bt->set_line[CB_BT_SET_to]
                             ? CB_BT_SET_from : CB_BT_SET_to,
                     diag, "%s is not before %s: the window has no bars", a, b);
        goto fail;
    }
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
