/* The robot's loop: history over REST, closed candles from the stream, the engine stepped bar by
 * bar with the venue of the mode, risk controls before entries, state in the journal. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

#include "comeback/backtest.h"
#include "comeback/engine.h"
#include "comeback/exchange.h"
#include "comeback/live.h"
#include "robot_int.h"

typedef struct pending {
    cb_ex_candle_t *c;
    size_t n, cap;
} pending_t;

struct cb_robot {
    cb_robot_config_t cfg;
    cb_robot_opts_t opts;
    const cb_rules_file_t *file;
    cb_backtest_t bt;
    int have_bt;
    cb_rules_strategy_t *strat;
    cb_engine_pair_t pairs[CB_BT_MAX_PAIRS];
    int have_pairs;
    size_t n;
    cb_journal_t *j;
    cb_exchange_t *ex;
    cb_venue_t venue;
    cb_engine_t *eng;
    cb_engine_config_t ecfg;
    cb_engine_hooks_t hooks;
    cb_ex_stream_t *stream;
    FILE *logf;
    int log_failing; /* the log file's last write failed (said once until it works again) */
    cb_risk_state_t risk;
    int64_t start_balance;          /* the paper account's first balance */
    int64_t cash;                   /* quote at this start */
    pending_t pend[CB_BT_MAX_PAIRS];
    int64_t last_ms[CB_BT_MAX_PAIRS];   /* open time of the newest candle in each series */
    int64_t entry_counted[CB_BT_MAX_PAIRS];
    int64_t first_wait_ns;          /* when the oldest pending candle started waiting */
    int64_t clock_server, clock_mono_ns;
    int64_t started_ms, last_status_ns, last_bar_ms;
    size_t trades_seen;
    char rearm_seen[64];
    int stopping, connected;
    int resend_exit[CB_BT_MAX_PAIRS];
    int64_t last_recon_ns;          /* live: the last reconciliation with the exchange */
    char halted[400];               /* "" or why entries stopped: "journal write failed: ..." */
    int64_t last_beat_ns;           /* the last heartbeat written */
    int64_t dust[CB_BT_MAX_PAIRS];  /* holdings too small to sell: flat for the strategy */
    int forced[CB_BT_MAX_PAIRS];    /* an operator's forced exit is on its way */
    char refusal[192];              /* why allow_entry refused last ("reason: message") */
    size_t recon_open;              /* live: differences with the exchange: no entries */
    char recon_msg[384];            /* the first of them */
};

/* ---- logging ---------------------------------------------------------------------------- */

static void fx_str(int64_t v, char *buf, size_t size) { cb_dec_format(v, CB_FX_SCALE, buf, size); }

/* One log record: `human` to the operator, the JSON object (consumed) to the log file, with
 * the wall time and the event name added. */
static void rlog(cb_robot_t *r, const char *event, json_t *o, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void rlog(cb_robot_t *r, const char *event, json_t *o, const char *fmt, ...)
{
    char when[40], line[1024];
    int64_t now = cb_now_ms();
    cb_time_format(now, when, sizeof when);
    va_list ap;
    va_start(ap, fmt);
    int k = snprintf(line, sizeof line, "%s %s: ", when, event);
    vsnprintf(line + k, sizeof line - (size_t)k, fmt, ap);
    va_end(ap);
    if (r->opts.log)
        r->opts.log(r->opts.log_ctx, line);
    if (!o)
        o = json_object();
    if (r->logf && o) {
        cb_time_format_iso(now, when, sizeof when);
        json_object_set_new(o, "time", json_string(when));
        json_object_set_new(o, "event", json_string(event));
        json_object_set_new(o, "bot", json_string(r->cfg.name));
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (s) {
            /* A full disk must not go unnoticed: the operator is told once, on the console
             * (the journal keeps every decision either way). */
            int bad = fprintf(r->logf, "%s\n", s) < 0;
            bad |= fflush(r->logf) != 0 || ferror(r->logf);
            if (bad && !r->log_failing && r->opts.log) {
                char warn[1400], t[40];
                snprintf(warn, sizeof warn,
                         "%s log: cannot write the log file %s: %s (the journal still records "
                         "every order and fill)",
                         cb_time_format(now, t, sizeof t), r->cfg.log,
                         strerror(errno ? errno : EIO));
                r->opts.log(r->opts.log_ctx, warn);
            }
            r->log_failing = bad;
            clearerr(r->logf);
            free(s);
        }
    }
    json_decref(o);
}

static json_t *jpair(cb_robot_t *r, uint32_t k, int64_t bar_ms)
{
    char t[40];
    return json_pack("{s:s,s:s}", "pair", r->cfg.pairs[k], "bar",
                     cb_time_format_iso(bar_ms, t, sizeof t));
}

/* ---- the clock -------------------------------------------------------------------------- */

/* The exchange's time: measured at start and carried forward by the monotonic clock. A
 * simulator replaying faster than real time runs ahead of it, which makes no bar look stale. */
static int64_t robot_now(const cb_robot_t *r, int64_t bar_close_ms)
{
    int64_t t = r->clock_server + (cb_monotonic_ns() - r->clock_mono_ns) / 1000000;
    return t > bar_close_ms ? t : bar_close_ms;
}

/* ---- journal writes --------------------------------------------------------------------- */

static void write_status(cb_robot_t *r, const char *state);

/* After a failed journal write (wherever it happened: here, in the venue or in the
 * reconciliation; the journal remembers the first), the journal is behind the truth: no new
 * entries from then on. Exits keep working and every write is still tried; a restart
 * rebuilds the state from the journal (and, live, reconciles it with the exchange). */
static void check_journal(cb_robot_t *r)
{
    char why[320];
    if (r->halted[0] || !cb_journal_failed(r->j, why, sizeof why))
        return;
    snprintf(r->halted, sizeof r->halted, "journal write failed: %s", why);
    rlog(r, "halted", json_pack("{s:s}", "reason", r->halted),
         "%s; no new entries until the robot is restarted (exits keep working; the restart "
         "rebuilds the state from the journal)",
         r->halted);
    write_status(r, "running");
}

/* Every journal write of the loop passes its result here. */
static int jw(cb_robot_t *r, int rc)
{
    if (rc < 0)
        check_journal(r);
    return rc;
}

/* ---- engine hooks ----------------------------------------------------------------------- */

static void on_decision(void *ctx, uint32_t k, int64_t t, double close, const cb_decision_t *d,
                        int in_pos)
{
    cb_robot_t *r = ctx;
    const char *what = in_pos ? (d->exit ? "exit" : "hold") : (d->enter ? "enter" : "wait");
    json_t *o = jpair(r, k, t);
    json_object_set_new(o, "close", json_real(close));
    json_object_set_new(o, "decision", json_string(what));
    json_object_set_new(o, "in_position", json_boolean(in_pos));
    if (d->limit_price > 0)
        json_object_set_new(o, "limit_price", json_real(d->limit_price));
    if (d->stake > 0)
        json_object_set_new(o, "stake", json_real(d->stake));
    char bt[40];
    rlog(r, "decision", o, "%s bar %s close %.10g: %s", r->cfg.pairs[k],
         cb_time_format(t, bt, sizeof bt), close, what);
}

static int allow_entry(void *ctx, uint32_t k, int64_t t, double close, int64_t notional)
{
    cb_robot_t *r = ctx;
    char bt[40], amount[32];
    fx_str(notional, amount, sizeof amount);
    const char *why = NULL, *msg = NULL;
    if (r->stopping) {
        why = "stopping";
        msg = "the robot is stopping: no new entries";
    } else if (r->halted[0]) {
        why = "journal_write_failed";
        msg = r->halted;
    } else if (r->recon_open) {
        why = "reconcile";
        msg = "the journal and the exchange differ: no new entries until `comeback reconcile "
              "--adopt|--ignore` resolves it";
    } else {
        cb_risk_entry_t en;
        memset(&en, 0, sizeof en);
        en.pair = k;
        en.last_candle_close_ms = t + r->cfg.tf_ms;
        en.now_ms = robot_now(r, en.last_candle_close_ms);
        en.open_trades = cb_engine_open_positions(r->eng);
        en.timeframe_ms = r->cfg.tf_ms;
        en.order_notional = notional;
        cb_risk_reason_t rr = cb_risk_check_entry(&r->cfg.risk, &r->risk, &en);
        if (rr != CB_RISK_NONE) {
            why = cb_risk_reason_name(rr);
            msg = cb_risk_reason_message(rr);
        }
    }
    if (!why) {
        r->refusal[0] = '\0';
        return 1;
    }
    snprintf(r->refusal, sizeof r->refusal, "%s: %.160s", why, msg);
    json_t *o = jpair(r, k, t);
    json_object_set_new(o, "close", json_real(close));
    json_object_set_new(o, "notional", json_string(amount));
    json_object_set_new(o, "reason", json_string(why));
    json_object_set_new(o, "message", json_string(msg));
    char detail[256];
    snprintf(detail, sizeof detail, "%s %s: entry refused: %.160s", r->cfg.pairs[k], why, msg);
    jw(r, cb_journal_event(r->j, t, "risk", detail));
    rlog(r, "refused", o, "%s bar %s: entry of %s refused (%s): %s", r->cfg.pairs[k],
         cb_time_format(t, bt, sizeof bt), amount, why, msg);
    return 0;
}

/* ---- journal-derived state (paper) ------------------------------------------------------ */

typedef struct fill_sum {
    const cb_robot_t *r;
    int64_t cash_delta;
    cb_journal_fill_t last_buy[CB_BT_MAX_PAIRS];
} fill_sum_t;

static int sum_fill(const cb_journal_fill_t *f, void *ctx)
{
    fill_sum_t *s = ctx;
    int buy = !strcmp(f->side, "buy");
    int64_t notional = cb_fx_notional(f->price, f->quantity, buy);
    s->cash_delta += buy ? -(notional + f->fee) : notional - f->fee;
    if (buy)
        for (size_t k = 0; k < s->r->n; k++)
            if (!strcmp(s->r->cfg.pairs[k], f->pair))
                s->last_buy[k] = *f;
    return 0;
}

static int pair_index(const cb_robot_t *r, const char *pair);
static void update_dust(cb_robot_t *r, size_t k);
static int live_reconcile_as(cb_robot_t *r, int at_start, cb_recon_action_t action, char **report,
                             cb_diag_t *diag);

static int cancel_stale(const cb_journal_order_t *o, void *ctx)
{
    cb_robot_t *r = ctx;
    char d[256];
    snprintf(d, sizeof d, "paper order %s (%s %s) was in flight when the robot stopped: canceled",
             o->client_order_id, o->pair, o->reason);
    int rc = cb_journal_order_update(r->j, o->client_order_id, NULL, CB_OS_CANCELED, 0,
                                     cb_now_ms());
    if (rc || (rc = cb_journal_event(r->j, o->market_ms, "restart", d)))
        return rc;
    /* an exit decided before the stop is still wanted: it is sent again once the position is
     * restored (entries are not: the next signal decides afresh) */
    int k = pair_index(r, o->pair);
    if (k >= 0 && !strcmp(o->reason, "exit"))
        r->resend_exit[k] = 1;
    rlog(r, "restart", json_pack("{s:s,s:s}", "client_order_id", o->client_order_id, "pair",
                                 o->pair),
         "%s", d);
    return 0;
}

static int kv_i64(cb_journal_t *j, const char *key, int64_t *out)
{
    char buf[64];
    if (cb_journal_kv_get(j, key, buf, sizeof buf))
        return -1;
    char *e;
    long long v = strtoll(buf, &e, 10);
    if (e == buf || *e)
        return -1;
    *out = v;
    return 0;
}

CB_MUST_CHECK static int kv_set_i64(cb_journal_t *j, const char *key, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64, v);
    return cb_journal_kv_set(j, key, buf);
}

/* ---- setup ------------------------------------------------------------------------------ */

void cb_robot_free(cb_robot_t *r)
{
    if (!r)
        return;
    cb_ex_stream_close(r->stream);
    cb_engine_free(r->eng);
    if (r->venue.ops)
        r->venue.ops->destroy(r->venue.self);
    if (r->have_pairs)
        cb_backtest_pairs_free(&r->bt, r->pairs);
    cb_rules_strategy_free(r->strat);
    if (r->have_bt)
        cb_backtest_close(&r->bt);
    cb_exchange_free(r->ex);
    cb_journal_close(r->j);
    for (size_t k = 0; k < CB_BT_MAX_PAIRS; k++)
        free(r->pend[k].c);
    if (r->logf)
        fclose(r->logf);
    free(r);
}

/* The one place the mode chooses the venue. Live mode plugs the exchange venue (module live)
 * in here; the robot only ever talks to cb_venue_t. */
/* Live: how long an intent the exchange does not know may still arrive (the connector's
 * receive window plus time in flight). COMEBACK_UNSENT_AFTER_MS shortens it for tests. */
static int64_t unsent_after_ms(void)
{
    const char *e = getenv("COMEBACK_UNSENT_AFTER_MS");
    long long v = e ? atoll(e) : 0;
    return v > 0 ? v : 0;
}

/* Live: the exchange's rounding rules replace [pairs], the account must be able to pay for
 * the stake, and the engine's cash is the exchange's quote balance. */
static int make_live_venue(cb_robot_t *r, cb_diag_t *diag)
{
    const char *names[CB_ROBOT_MAX_PAIRS];
    for (size_t k = 0; k < r->n; k++)
        names[k] = r->cfg.pairs[k];
    cb_pair_info_t *all = NULL;
    size_t n_all = 0;
    int rc = cb_exchange_pairs(r->ex, &all, &n_all, diag);
    for (size_t k = 0; rc == 0 && k < r->n; k++) {
        const cb_pair_info_t *p = cb_pair_find(all, n_all, names[k]);
        if (!p)
            rc = cb_diag_set(diag, CB_ENOENT, r->cfg.path, 0, 0, "[bot] pairs",
                             "the exchange does not list the pair %s", names[k]);
        else if ((rc = cb_live_instrument(p, &r->bt.instruments[k], diag)) == 0)
            r->pairs[k].instrument = r->bt.instruments[k];
    }
    free(all);
    if (rc)
        return rc;
    cb_exchange_venue_opts_t vo;
    memset(&vo, 0, sizeof vo);
    vo.ex = r->ex;
    vo.journal = r->j;
    vo.pairs = names;
    vo.n_pairs = r->n;
    vo.unsent_after_ms = unsent_after_ms();
    if ((rc = cb_exchange_venue_new(&vo, &r->venue, diag)) != 0)
        return rc;
    r->cash = r->venue.ops->quote_balance(r->venue.self);
    const cb_stake_t *st = &r->bt.cfg.stake;
    int mot = r->cfg.risk.max_open_trades ? r->cfg.risk.max_open_trades
                                          : r->bt.cfg.max_open_trades;
    int64_t need = st->kind == CB_STAKE_QUOTE ? st->amount * (mot > 0 ? mot : 1) : 1;
    if (st->kind != CB_STAKE_BASE && r->cash < need) {
        char a[32], b[32], c[32];
        fx_str(r->cash, a, sizeof a);
        fx_str(st->kind == CB_STAKE_QUOTE ? st->amount : 0, b, sizeof b);
        fx_str(need, c, sizeof c);
        if (st->kind != CB_STAKE_QUOTE)
            return cb_diag_set(diag, CB_EVALID, r->cfg.path, 0, 0, "[backtest] stake",
                               "the %s balance is %s: nothing to trade with", r->bt.quote, a);
        return cb_diag_set(diag, CB_EVALID, r->cfg.path, 0, 0, "[backtest] stake",
                           "the %s balance %s cannot pay stake %s x max_open_trades %d = %s: "
                           "lower the stake or max_open_trades, or fund the account",
                           r->bt.quote, a, b, mot > 0 ? mot : 1, c);
    }
    return 0;
}

static int make_venue(cb_robot_t *r, cb_diag_t *diag)
{
    switch (r->cfg.mode) {
    case CB_ROBOT_PAPER:
        return robot_paper_venue_new(r->j, r->bt.instruments, r->n, r->cash, &r->bt.cfg.costs,
                                     &r->venue);
    case CB_ROBOT_LIVE: return make_live_venue(r, diag);
    }
    return CB_EINVAL;
}

/* The robot's own state in the journal's kv table, checked like the journal's rows: a value
 * that is there must read back, or the robot would start from made-up numbers. */
static int bad_state(const cb_robot_t *r, const char *key, const char *value, const char *want,
                     cb_diag_t *diag)
{
    return cb_diag_set(diag, CB_ECORRUPT, r->cfg.db, 0, 0, NULL,
                       "the robot's state '%s' is '%.80s', expected %s; this journal is "
                       "damaged: restore a backup or start a new journal in another file "
                       "([bot] db)",
                       key, value, want);
}

static int check_state(cb_robot_t *r, cb_diag_t *diag)
{
    char v[1024];
    if (cb_journal_kv_get(r->j, "robot.mode", v, sizeof v) == 0 && strcmp(v, "paper") &&
        strcmp(v, "live"))
        return bad_state(r, "robot.mode", v, "paper or live", diag);
    cb_risk_state_t rs;
    if (cb_journal_kv_get(r->j, "risk.state", v, sizeof v) == 0 && cb_risk_state_parse(v, &rs))
        return bad_state(r, "risk.state", v, "the risk state the robot writes", diag);
    struct {
        char key[64];
        int64_t min;
        const char *want;
    } ints[2 + CB_ROBOT_MAX_PAIRS];
    size_t n = 0;
    snprintf(ints[n].key, sizeof ints[n].key, "bar.last_ms");
    ints[n].min = 0;
    ints[n++].want = "a time in ms";
    snprintf(ints[n].key, sizeof ints[n].key, "paper.start_balance");
    ints[n].min = 1;
    ints[n++].want = "a positive amount (1e-8 units)";
    for (size_t k = 0; k < r->n; k++) {
        snprintf(ints[n].key, sizeof ints[n].key, "pos.highest.%s", r->cfg.pairs[k]);
        ints[n].min = 0;
        ints[n++].want = "a price (1e-8 units)";
    }
    for (size_t i = 0; i < n; i++) {
        int64_t x;
        if (cb_journal_kv_get(r->j, ints[i].key, v, sizeof v) == 0 &&
            (kv_i64(r->j, ints[i].key, &x) != 0 || x < ints[i].min))
            return bad_state(r, ints[i].key, v, ints[i].want, diag);
    }
    return 0;
}

int cb_robot_new(const cb_rules_file_t *file, const cb_robot_config_t *cfg,
                 const cb_robot_opts_t *opts, cb_robot_t **out, cb_diag_t *diag)
{
    *out = NULL;
    cb_robot_t *r = calloc(1, sizeof *r);
    if (!r)
        return CB_ENOMEM;
    r->cfg = *cfg;
    if (opts)
        r->opts = *opts;
    r->file = file;
    r->n = cfg->n_pairs;
    int rc;
    const char *names[CB_ROBOT_MAX_PAIRS];
    for (size_t k = 0; k < r->n; k++)
        names[k] = cfg->pairs[k];
    if ((rc = cb_backtest_setup_live(&r->bt, file, cfg->path, NULL, names, r->n, cfg->timeframe,
                                     diag)) != 0)
        goto fail;
    r->have_bt = 1;
    if (opts && opts->paper_currency && opts->paper_currency[0] &&
        strcmp(opts->paper_currency, r->bt.quote) != 0) {
        rc = cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "--dry-run-balance",
                         "the balance is in %s but the pairs are quoted in %s",
                         opts->paper_currency, r->bt.quote);
        goto fail;
    }
    cb_diags_t diags = {0};
    rc = cb_rules_strategy_new(file, NULL, &r->strat, &diags);
    if (rc) {
        if (diags.n)
            *diag = diags.items[0];
        else
            cb_diag_set(diag, rc, cfg->path, 0, 0, NULL, "the strategy cannot be prepared");
        cb_diags_free(&diags);
        goto fail;
    }
    cb_diags_free(&diags);
    if ((rc = cb_backtest_pairs(&r->bt, r->strat, r->pairs, diag)) != 0)
        goto fail;
    r->have_pairs = 1;
    if (cfg->log[0] && !(r->logf = fopen(cfg->log, "a"))) {
        rc = cb_diag_set(diag, CB_EIO, cfg->log, 0, 0, NULL, "cannot open the log file");
        goto fail;
    }
    if ((rc = cb_journal_open(cfg->db, cfg->name, &r->j, diag)) != 0)
        goto fail;
    if ((rc = check_state(r, diag)) != 0)
        goto fail;
    /* Paper and live never share a database. */
    char mode[16];
    const char *want = cb_robot_mode_name(cfg->mode);
    if (cb_journal_kv_get(r->j, "robot.mode", mode, sizeof mode) == 0 && strcmp(mode, want)) {
        rc = cb_diag_set(diag, CB_ECONFLICT, cfg->db, 0, 0, NULL,
                         "this database belongs to a %s robot; paper and live never share a "
                         "database (set [bot] db to another file)",
                         mode);
        goto fail;
    }
    if ((rc = cb_journal_kv_set(r->j, "robot.mode", want)) != 0) {
        cb_diag_set(diag, rc, cfg->db, 0, 0, NULL, "journal: cannot write: %s",
                    cb_journal_errmsg(r->j));
        goto fail;
    }
    if (cfg->mode == CB_ROBOT_LIVE) {
        /* signed, and refused when the key can withdraw */
        if ((rc = cb_live_connect(cfg->api_url, cfg->key_file, &r->ex, diag)) != 0 ||
            (rc = cb_live_check_account(r->ex, diag)) != 0)
            goto fail;
    } else {
        cb_binance_opts_t bo;
        memset(&bo, 0, sizeof bo);
        bo.base_url = cfg->api_url[0] ? cfg->api_url : NULL;
        if ((rc = cb_binance_new(&bo, &r->ex, diag)) != 0)
            goto fail;
    }
    /* The paper account: its first balance is remembered; the cash now follows from it and
     * every fill journaled since. */
    if (cfg->mode == CB_ROBOT_PAPER) {
        if (kv_i64(r->j, "paper.start_balance", &r->start_balance)) {
            r->start_balance = opts && opts->paper_balance ? opts->paper_balance
                                                           : r->bt.cfg.start_balance;
            if (r->start_balance <= 0) {
                char a[32];
                fx_str(r->start_balance, a, sizeof a);
                rc = cb_diag_set(diag, CB_EINVAL, cfg->path, 0, 0,
                                 opts && opts->paper_balance ? "--dry-run-balance"
                                                             : "[backtest] start_balance",
                                 "the paper account's start balance is %s %s: it must be "
                                 "positive",
                                 a, r->bt.quote);
                goto fail;
            }
            if ((rc = kv_set_i64(r->j, "paper.start_balance", r->start_balance)) != 0) {
                cb_diag_set(diag, rc, cfg->db, 0, 0, NULL, "journal: cannot write: %s",
                            cb_journal_errmsg(r->j));
                goto fail;
            }
        }
        fill_sum_t fs;
        memset(&fs, 0, sizeof fs);
        fs.r = r;
        if ((rc = cb_journal_fills(r->j, NULL, sum_fill, &fs)) != 0) {
            cb_diag_set(diag, rc, cfg->db, 0, 0, NULL, "journal: cannot read the fills: %s",
                        cb_journal_errmsg(r->j));
            goto fail;
        }
        r->cash = r->start_balance + fs.cash_delta;
    } else {
        r->cash = r->bt.cfg.start_balance;
    }
    if ((rc = make_venue(r, diag)) != 0)
        goto fail;
    *out = r;
    return 0;
fail:
    /* Every failure says what failed, never an empty diag ("success" with exit status 1). */
    if (!cb_diag_is_set(diag))
        cb_diag_set(diag, rc, cfg->path, 0, 0, NULL, "the %s robot cannot start: %s",
                    cb_robot_mode_name(cfg->mode), cb_strerror(rc));
    cb_robot_free(r);
    return rc;
}

/* ---- status ----------------------------------------------------------------------------- */

/* The robot is alive: written at least every second from the loop (and during catch-up). */
static void beat(cb_robot_t *r)
{
    if (cb_journal_heartbeat(r->j, (int64_t)getpid(), cb_now_ms()) == 0)
        r->last_beat_ns = cb_monotonic_ns();
}

static void beat_if_due(cb_robot_t *r)
{
    if (cb_monotonic_ns() - r->last_beat_ns >= INT64_C(1000000000))
        beat(r);
}

/* The risk limits as a person reads them: amounts with their unit, used and left, the next
 * reset; a limit that is not set is absent. */
static json_t *risk_json(cb_robot_t *r)
{
    const cb_risk_limits_t *l = &r->cfg.risk;
    int64_t eq = r->eng ? cb_engine_equity(r->eng) : r->cash;
    int open = r->eng ? cb_engine_open_positions(r->eng) : 0;
    cb_risk_summary_t sm;
    cb_risk_summarise(l, &r->risk, eq, open, &sm);
    char a[32], b[32], t[40];
    json_t *o = json_object();
    json_object_set_new(o, "paused", json_boolean(r->risk.paused));
    json_object_set_new(o, "killed", json_boolean(r->risk.killed));
    json_object_set_new(o, "halted_today", json_boolean(r->risk.halted_today));
    json_object_set_new(o, "day", json_string(cb_time_format_iso(sm.day_start_ms, t, sizeof t)));
    json_object_set_new(o, "next_reset",
                        json_string(cb_time_format_iso(sm.next_reset_ms, t, sizeof t)));
    json_object_set_new(o, "trades_today", json_integer(sm.trades_today));
    if (l->max_trades_per_day > 0) {
        json_object_set_new(o, "max_trades_per_day", json_integer(l->max_trades_per_day));
        json_object_set_new(o, "trades_left", json_integer(sm.trades_left));
    }
    json_object_set_new(o, "open_trades", json_integer(sm.open_trades));
    if (l->max_open_trades > 0) {
        json_object_set_new(o, "max_open_trades", json_integer(l->max_open_trades));
        json_object_set_new(o, "open_left", json_integer(sm.open_left));
    }
    fx_str(r->risk.day_start_equity, a, sizeof a);
    json_object_set_new(o, "day_start_equity", json_string(a));
    fx_str(sm.daily_loss, a, sizeof a);
    json_object_set_new(o, "daily_loss", json_string(a));
    if (sm.daily_loss_limit > 0) {
        fx_str(sm.daily_loss_limit, b, sizeof b);
        json_object_set_new(o, "max_daily_loss", json_string(b));
        fx_str(sm.daily_loss_limit > sm.daily_loss ? sm.daily_loss_limit - sm.daily_loss : 0, b,
               sizeof b);
        json_object_set_new(o, "daily_loss_left", json_string(b));
    }
    fx_str(r->risk.peak_equity, a, sizeof a);
    json_object_set_new(o, "peak_equity", json_string(a));
    json_object_set_new(o, "drawdown_pct", json_real(sm.drawdown_frac * 100.0));
    if (sm.drawdown_limit > 0) {
        json_object_set_new(o, "max_drawdown_pct", json_real(sm.drawdown_limit * 100.0));
        json_object_set_new(o, "drawdown_action",
                            json_string(l->drawdown_close ? "close" : "halt"));
    }
    if (l->max_position > 0) {
        fx_str(l->max_position, a, sizeof a);
        json_object_set_new(o, "max_position", json_string(a));
    }
    if (l->cooldown_ms > 0) {
        json_object_set_new(o, "cooldown_s", json_integer(l->cooldown_ms / 1000));
        json_t *cd = json_array();
        int64_t now = r->last_bar_ms + r->cfg.tf_ms;
        for (size_t k = 0; k < r->n && k < CB_RISK_MAX_PAIRS; k++)
            if (r->risk.cooldown_until_ms[k] > now)
                json_array_append_new(
                    cd, json_pack("{s:s,s:s}", "pair", r->cfg.pairs[k], "until",
                                  cb_time_format_iso(r->risk.cooldown_until_ms[k], t, sizeof t)));
        json_object_set_new(o, "cooldowns", cd);
    }
    json_t *rf = json_object();
    for (int k = 1; k < CB_RISK_REASON_COUNT; k++)
        if (r->risk.refusals[k])
            json_object_set_new(rf, cb_risk_reason_name((cb_risk_reason_t)k),
                                json_integer((json_int_t)r->risk.refusals[k]));
    json_object_set_new(o, "refusals", rf);
    return o;
}

static void write_status(cb_robot_t *r, const char *state)
{
    char a[32], b[32], c[32], when[40];
    json_t *o = json_object();
    json_object_set_new(o, "bot", json_string(r->cfg.name));
    json_object_set_new(o, "mode", json_string(cb_robot_mode_name(r->cfg.mode)));
    json_object_set_new(o, "state", json_string(state));
    /* running, and serving the positions' exits, but entering nothing: why */
    if (r->halted[0])
        json_object_set_new(o, "halted", json_string(r->halted));
    json_object_set_new(o, "pid", json_integer((json_int_t)getpid()));
    json_object_set_new(o, "started_ms", json_integer(r->started_ms));
    json_object_set_new(o, "heartbeat_ms", json_integer(cb_now_ms()));
    json_object_set_new(o, "last_bar_ms", json_integer(r->last_bar_ms));
    json_object_set_new(o, "quote", json_string(r->bt.quote));
    json_t *pj = json_array();
    for (size_t k = 0; k < r->n; k++)
        json_array_append_new(pj, json_string(r->cfg.pairs[k]));
    json_object_set_new(o, "pairs", pj);
    if (r->eng) {
        fx_str(cb_engine_cash(r->eng), a, sizeof a);
        fx_str(cb_engine_equity(r->eng), b, sizeof b);
        json_object_set_new(o, "cash", json_string(a));
        json_object_set_new(o, "equity", json_string(b));
    }
    if (r->cfg.mode == CB_ROBOT_PAPER) {
        fx_str(r->start_balance, a, sizeof a);
        json_object_set_new(o, "start_balance", json_string(a));
    }
    json_t *ps = json_array();
    for (size_t k = 0; r->eng && k < r->n; k++) {
        cb_engine_position_t p;
        cb_engine_position(r->eng, k, &p);
        if (!p.open)
            continue;
        int64_t last = cb_fx_from_double(p.last_close);
        int64_t upnl = cb_fx_notional(last, p.qty, 0) - cb_fx_notional(p.entry_price, p.qty, 1) -
                       p.entry_fee;
        json_t *e = json_object();
        json_object_set_new(e, "pair", json_string(r->cfg.pairs[k]));
        json_object_set_new(e, "asset", json_string(r->pairs[k].instrument.base));
        fx_str(p.qty, a, sizeof a);
        json_object_set_new(e, "quantity", json_string(a));
        fx_str(p.entry_price, a, sizeof a);
        json_object_set_new(e, "entry_price", json_string(a));
        json_object_set_new(e, "entry_time", json_string(cb_time_format_iso(p.entry_ms, when,
                                                                            sizeof when)));
        fx_str(last, b, sizeof b);
        json_object_set_new(e, "last_close", json_string(b));
        fx_str(upnl, c, sizeof c);
        json_object_set_new(e, "unrealised_pnl", json_string(c));
        fx_str(p.stop_level, a, sizeof a);
        json_object_set_new(e, "stop", json_string(a));
        fx_str(p.tp_level, a, sizeof a);
        json_object_set_new(e, "take_profit", json_string(a));
        json_object_set_new(e, "trailing", json_boolean(p.stop_trailing));
        json_array_append_new(ps, e);
    }
    json_object_set_new(o, "positions", ps);
    json_t *dj = json_array();
    for (size_t k = 0; k < r->n; k++) {
        if (r->dust[k] <= 0)
            continue;
        const cb_series_t *se = r->bt.series[k];
        double last = se && se->n ? se->close[se->n - 1] : 0.0;
        fx_str(r->dust[k], a, sizeof a);
        fx_str(cb_fx_notional(cb_fx_from_double(last), r->dust[k], 0), b, sizeof b);
        json_array_append_new(dj, json_pack("{s:s,s:s,s:s,s:s}", "pair", r->cfg.pairs[k],
                                            "asset", r->pairs[k].instrument.base, "quantity",
                                            a, "value", b));
    }
    json_object_set_new(o, "dust", dj);
    if (r->recon_open)
        json_object_set_new(o, "alert", json_pack("{s:s,s:I,s:s}", "kind", "reconcile",
                                                  "differences", (json_int_t)r->recon_open,
                                                  "message", r->recon_msg));
    json_object_set_new(o, "risk", risk_json(r));
    char risk[1024];
    cb_risk_state_format(&r->risk, risk, sizeof risk);
    json_object_set_new(o, "risk_state", json_string(risk));
    json_object_set_new(o, "paused", json_boolean(r->risk.paused));
    json_object_set_new(o, "killed", json_boolean(r->risk.killed));
    json_object_set_new(o, "halted_today", json_boolean(r->risk.halted_today));
    json_object_set_new(o, "trades_today", json_integer(r->risk.trades_today));
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s)
        jw(r, cb_journal_kv_set(r->j, "robot.status", s));
    free(s);
    json_decref(o);
    beat(r);
    r->last_status_ns = cb_monotonic_ns();
}

int cb_robot_status_json(cb_journal_t *j, char *buf, size_t size)
{
    return cb_journal_kv_get(j, "robot.status", buf, size);
}

/* ---- control requests ------------------------------------------------------------------- */

static const char *control_name(cb_robot_control_t what)
{
    switch (what) {
#define CB_RC_NAME_(id, name, msg)                                                           \
    case CB_ROBOT_CTL_##id: return name;
        CB_ROBOT_CONTROL_MAP(CB_RC_NAME_)
#undef CB_RC_NAME_
    case CB_ROBOT_CTL_COUNT: break;
    }
    return "?";
}

int cb_robot_control_answer(cb_journal_t *j, cb_robot_control_t what, const char *pair,
                            char *buf, size_t size)
{
    if ((what != CB_ROBOT_CTL_FORCEEXIT && what != CB_ROBOT_CTL_FORCEENTRY) || !pair)
        return CB_EINVAL;
    char key[96], v[512];
    snprintf(key, sizeof key, "control.%s.%s", control_name(what), pair);
    int rc = cb_journal_kv_get(j, key, v, sizeof v);
    if (rc)
        return rc;
    if (strncmp(v, "done ", 5) != 0)
        return 0;
    snprintf(buf, size, "%s", v + 5);
    return 1;
}

int cb_robot_reconcile_request(cb_journal_t *j, const char *action, int64_t now_ms)
{
    if (!action || (strcmp(action, "check") && strcmp(action, "adopt") && strcmp(action, "ignore")))
        return CB_EINVAL;
    char v[64];
    snprintf(v, sizeof v, "%s %" PRId64, action, now_ms);
    int rc = cb_journal_kv_set(j, "control.reconcile", v);
    if (!rc) {
        char d[96];
        snprintf(d, sizeof d, "reconcile %s requested", action);
        rc = cb_journal_event(j, 0, "control", d); /* no candle: market time 0 */
    }
    return rc;
}

int cb_robot_reconcile_answer(cb_journal_t *j, int64_t request_ms, char **report)
{
    char v[64], want[40];
    *report = NULL;
    int rc = cb_journal_kv_get(j, "control.reconcile", v, sizeof v);
    if (rc)
        return rc;
    snprintf(want, sizeof want, "done %" PRId64, request_ms);
    if (strcmp(v, want) != 0)
        return 0;
    static char buf[1 << 16];
    if ((rc = cb_journal_kv_get(j, "control.reconcile.report", buf, sizeof buf)) != 0)
        return rc;
    *report = strdup(buf);
    return *report ? 1 : CB_ENOMEM;
}

int cb_robot_journal_pairs(cb_journal_t *j, char pairs[][32], size_t max)
{
    char v[CB_ROBOT_MAX_PAIRS * 33 + 1];
    int rc = cb_journal_kv_get(j, "robot.pairs", v, sizeof v);
    if (rc)
        return rc;
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r(v, ",", &save); t && n < max; t = strtok_r(NULL, ",", &save))
        snprintf(pairs[n++], 32, "%s", t);
    return (int)n;
}

void cb_robot_age_format(int64_t ms, char *buf, size_t size)
{
    int64_t s = ms < 0 ? 0 : ms / 1000;
    if (s < 120)
        snprintf(buf, size, "%lld s", (long long)s);
    else if (s < 7200)
        snprintf(buf, size, "%lld min", (long long)(s / 60));
    else if (s < 2 * 86400)
        snprintf(buf, size, "%lld h", (long long)(s / 3600));
    else
        snprintf(buf, size, "%lld d", (long long)(s / 86400));
}

/* 1 when pid is a live process running a comeback program (where /proc tells; elsewhere a
 * live pid is taken as the robot). */
static int robot_process_alive(int64_t pid)
{
    if (pid <= 0 || pid > INT32_MAX)
        return 0;
    if (kill((pid_t)pid, 0) != 0 && errno != EPERM)
        return 0;
    char path[64], comm[64] = "";
    snprintf(path, sizeof path, "/proc/%lld/comm", (long long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return access("/proc/self/comm", R_OK) != 0; /* no /proc: trust kill() */
    int ok = fgets(comm, sizeof comm, f) != NULL;
    fclose(f);
    return ok && !strncmp(comm, "comeback", 8);
}

int cb_robot_liveness(cb_journal_t *j, int64_t now_ms, cb_robot_liveness_t *out)
{
    memset(out, 0, sizeof *out);
    static char buf[1 << 16];
    int rc = cb_robot_status_json(j, buf, sizeof buf);
    if (rc == CB_ENOENT)
        return 0; /* NEVER */
    if (rc)
        return rc;
    json_t *o = json_loads(buf, 0, NULL);
    if (o) {
        snprintf(out->state, sizeof out->state, "%s",
                 json_string_value(json_object_get(o, "state"))
                     ? json_string_value(json_object_get(o, "state"))
                     : "");
        out->pid = json_integer_value(json_object_get(o, "pid"));
        out->heartbeat_ms = json_integer_value(json_object_get(o, "heartbeat_ms"));
        json_decref(o);
    }
    int64_t pid = 0, beat = 0;
    if (cb_journal_heartbeat_get(j, &pid, &beat) == 0 && beat >= out->heartbeat_ms) {
        out->pid = pid;
        out->heartbeat_ms = beat;
    }
    out->age_ms = out->heartbeat_ms > 0 ? now_ms - out->heartbeat_ms : 0;
    int exited = !strcmp(out->state, "stopped") || !strcmp(out->state, "failed");
    if (exited || !robot_process_alive(out->pid))
        out->alive = CB_ROBOT_NOT_RUNNING;
    else if (out->age_ms > CB_ROBOT_STALL_MS)
        out->alive = CB_ROBOT_STALLED;
    else
        out->alive = CB_ROBOT_RUNNING;
    return 0;
}

int cb_robot_control(cb_journal_t *j, cb_robot_control_t what, const char *pair, int64_t now_ms)
{
    char key[96], when[32];
    snprintf(when, sizeof when, "%" PRId64, now_ms);
    int rc;
    switch (what) {
    case CB_ROBOT_CTL_PAUSE: rc = cb_journal_kv_set(j, "control.paused", "1"); break;
    case CB_ROBOT_CTL_RESUME:
        rc = cb_journal_kv_set(j, "control.paused", "0");
        if (!rc)
            rc = cb_journal_kv_set(j, "control.rearm", when);
        break;
    case CB_ROBOT_CTL_STOP: rc = cb_journal_kv_set(j, "control.stop", when); break;
    case CB_ROBOT_CTL_FORCEEXIT:
    case CB_ROBOT_CTL_FORCEENTRY:
        if (!pair || !pair[0] || strlen(pair) > 31)
            return CB_EINVAL;
        snprintf(key, sizeof key, "control.%s.%s", control_name(what), pair);
        rc = cb_journal_kv_set(j, key, when);
        break;
    default: return CB_EINVAL;
    }
    if (!rc) {
        char d[96];
        snprintf(d, sizeof d, "%s%s%s requested", control_name(what), pair ? " " : "",
                 pair ? pair : "");
        rc = cb_journal_event(j, 0, "control", d); /* no candle: market time 0 */
    }
    return rc;
}

/* ---- forced exits and entries ---------------------------------------------------------- */

typedef struct request {
    char key[96];
    char pair[32];
    int entry;                      /* forceentry (else forceexit) */
    int64_t requested_ms;
} request_t;

typedef struct requests {
    request_t q[16];
    size_t n;
} requests_t;

static int collect_request(const char *key, const char *value, void *ctx)
{
    requests_t *rq = ctx;
    if (!strncmp(value, "done", 4) || rq->n == sizeof rq->q / sizeof rq->q[0])
        return 0;
    request_t *q = &rq->q[rq->n];
    memset(q, 0, sizeof *q);
    const char *exit_p = "control.forceexit.", *entry_p = "control.forceentry.";
    if (!strncmp(key, exit_p, strlen(exit_p)))
        snprintf(q->pair, sizeof q->pair, "%s", key + strlen(exit_p));
    else if (!strncmp(key, entry_p, strlen(entry_p))) {
        snprintf(q->pair, sizeof q->pair, "%s", key + strlen(entry_p));
        q->entry = 1;
    } else
        return 0;
    snprintf(q->key, sizeof q->key, "%s", key);
    q->requested_ms = atoll(value);
    rq->n++;
    return 0;
}

/* Answers a request in its key ("done ok: ...") and logs it. */
static void answer(cb_robot_t *r, const request_t *q, const char *verdict, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void answer(cb_robot_t *r, const request_t *q, const char *verdict, const char *fmt, ...)
{
    char msg[320], done[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(done, sizeof done, "done %s: %s", verdict, msg);
    const char *what = q->entry ? "forceentry" : "forceexit";
    char d[480];
    snprintf(d, sizeof d, "%s %s %s: %s", what, q->pair, verdict, msg);
    if (cb_journal_kv_set(r->j, q->key, done) || cb_journal_event(r->j, 0, "control", d))
        rlog(r, "warning", json_pack("{s:s}", "message", cb_journal_errmsg(r->j)),
             "%s %s: the answer could not be written to the journal (%s); the request is "
             "served again at the next loop", what, q->pair, cb_journal_errmsg(r->j));
    rlog(r, what, json_pack("{s:s,s:s,s:s}", "pair", q->pair, "result", verdict, "message", msg),
         "%s: forced %s requested by the operator: %s: %s", q->pair,
         q->entry ? "entry" : "exit", verdict, msg);
}

/* The venue journaled the order the engine just sent under a plain reason; an operator's
 * order is labelled as such. */
static void relabel_last(cb_robot_t *r, size_t k, const char *side, const char *from,
                         const char *to)
{
    cb_journal_order_t o;
    if (cb_journal_order_last(r->j, r->cfg.pairs[k], &o) == 0 && !strcmp(o.side, side) &&
        !strcmp(o.reason, from) && cb_journal_order_set_reason(r->j, o.client_order_id, to))
        rlog(r, "warning", json_pack("{s:s}", "message", cb_journal_errmsg(r->j)),
             "%s: order %s could not be labelled %s in the journal (%s)", r->cfg.pairs[k],
             o.client_order_id, to, cb_journal_errmsg(r->j));
}

static void serve_request(cb_robot_t *r, const request_t *q)
{
    int k = pair_index(r, q->pair);
    if (k < 0) {
        char list[CB_ROBOT_MAX_PAIRS * 33] = "";
        for (size_t i = 0; i < r->n; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                     r->cfg.pairs[i]);
        answer(r, q, "expired", "%s is not traded by this robot (its pairs: %s)", q->pair, list);
        return;
    }
    if (q->requested_ms > 0 && q->requested_ms < r->started_ms - 1000) {
        char t1[40];
        answer(r, q, "expired", "requested at %s, before this robot started: not acted on",
               cb_time_format(q->requested_ms, t1, sizeof t1));
        return;
    }
    if (r->stopping) {
        answer(r, q, "refused", "the robot is stopping");
        return;
    }
    cb_engine_position_t p;
    cb_engine_position(r->eng, (size_t)k, &p);
    char a[32];
    if (!q->entry) {
        if (!p.open && !p.entry_pending) {
            if (r->dust[k] > 0) {
                fx_str(r->dust[k], a, sizeof a);
                answer(r, q, "refused", "no position in %s, only dust of %s %s (too small to "
                       "sell; it goes with the next sell)", q->pair, a,
                       r->pairs[k].instrument.base);
            } else {
                answer(r, q, "refused", "no position in %s", q->pair);
            }
            return;
        }
        int rc = cb_engine_force_exit(r->eng, (size_t)k, r->last_bar_ms);
        if (rc) {
            answer(r, q, "refused", "the exit could not be sent (%s)", cb_strerror(rc));
            return;
        }
        if (p.open) {
            r->forced[k] = 1;
            relabel_last(r, (size_t)k, "sell", "exit", "force_exit");
            answer(r, q, "ok", "market exit sent%s", r->cfg.mode == CB_ROBOT_PAPER
                                                         ? " (fills at the next candle's open)"
                                                         : "");
        } else {
            answer(r, q, "ok", "pending entry canceled");
        }
        return;
    }
    cb_reject_t why = CB_REJECT_NONE;
    r->refusal[0] = '\0';
    int rc = cb_engine_force_entry(r->eng, (size_t)k, r->last_bar_ms, &why);
    switch (rc) {
    case 0:
        relabel_last(r, (size_t)k, "buy", "entry", "force_entry");
        answer(r, q, "ok", "market entry sent%s", r->cfg.mode == CB_ROBOT_PAPER
                                                      ? " (fills at the next candle's open)"
                                                      : "");
        break;
    case CB_EEXIST:
        answer(r, q, "refused", "%s already has %s", q->pair,
               p.open ? "an open position" : "an entry on its way");
        break;
    case CB_ESTATE: answer(r, q, "refused", "no candle of %s processed yet", q->pair); break;
    case CB_ELIMIT:
        answer(r, q, "refused", "%s", r->refusal[0] ? r->refusal : "the risk checks refused it");
        break;
    case CB_EREJECTED:
        answer(r, q, "refused", "%s: %s", cb_reject_name(why), cb_reject_message(why));
        break;
    default: answer(r, q, "refused", "%s", cb_strerror(rc)); break;
    }
}

/* `comeback reconcile` while the robot runs: the robot reconciles itself (one writer, no
 * race with its own orders) and leaves the report for the command. */
static void serve_reconcile(cb_robot_t *r)
{
    char v[64];
    if (cb_journal_kv_get(r->j, "control.reconcile", v, sizeof v) != 0 || !strncmp(v, "done", 4))
        return;
    cb_recon_action_t action = !strncmp(v, "adopt", 5)    ? CB_RECON_ADOPT
                               : !strncmp(v, "ignore", 6) ? CB_RECON_IGNORE
                                                          : CB_RECON_CHECK;
    const char *sp = strchr(v, ' ');
    char *report = NULL;
    cb_diag_t d;
    cb_diag_clear(&d);
    rlog(r, "reconcile", json_pack("{s:s}", "action", action == CB_RECON_ADOPT    ? "adopt"
                                                      : action == CB_RECON_IGNORE ? "ignore"
                                                                                  : "check"),
         "reconciliation requested by the operator (%s)", v);
    live_reconcile_as(r, 0, action, &report, &d);
    jw(r, cb_journal_kv_set(r->j, "control.reconcile.report",
                            report ? report : "{\"error\":\"out of memory\"}"));
    free(report);
    write_status(r, "running"); /* the alert as the command reads it after the answer */
    char done[64];
    snprintf(done, sizeof done, "done %s", sp ? sp + 1 : "0");
    jw(r, cb_journal_kv_set(r->j, "control.reconcile", done));
}

static void serve_requests(cb_robot_t *r)
{
    requests_t rq;
    rq.n = 0;
    if (cb_journal_kv_each(r->j, "control.force", collect_request, &rq) != 0)
        return;
    for (size_t i = 0; i < rq.n; i++)
        serve_request(r, &rq.q[i]);
}

static void poll_controls(cb_robot_t *r)
{
    char v[64];
    int paused = cb_journal_kv_get(r->j, "control.paused", v, sizeof v) == 0 && !strcmp(v, "1");
    if (paused != r->risk.paused) {
        cb_risk_pause(&r->risk, paused);
        rlog(r, paused ? "paused" : "resumed", NULL, "%s",
             paused ? "trading paused by the operator: no new entries (exits keep working)"
                    : "trading resumed by the operator");
        write_status(r, "running");
    }
    if (cb_journal_kv_get(r->j, "control.rearm", v, sizeof v) == 0 &&
        strcmp(v, r->rearm_seen) != 0) {
        if (r->rearm_seen[0] && r->risk.killed && r->eng) {
            cb_risk_reset_kill(&r->risk, cb_engine_equity(r->eng));
            rlog(r, "rearmed", NULL, "the max_drawdown kill switch was re-armed by the operator");
        }
        snprintf(r->rearm_seen, sizeof r->rearm_seen, "%s", v);
    }
    if (cb_journal_kv_get(r->j, "control.stop", v, sizeof v) == 0 && strcmp(v, "0") != 0) {
        jw(r, cb_journal_kv_set(r->j, "control.stop", "0"));
        rlog(r, "stop", NULL, "stop requested by the operator");
        r->stopping = 1;
    }
    if (r->eng)
        serve_requests(r);
    if (r->eng && r->cfg.mode == CB_ROBOT_LIVE)
        serve_reconcile(r);
}

/* ---- candles ---------------------------------------------------------------------------- */

static int pair_index(const cb_robot_t *r, const char *pair)
{
    for (size_t k = 0; k < r->n; k++)
        if (!strcmp(r->cfg.pairs[k], pair))
            return (int)k;
    return -1;
}

static void on_stream(const cb_stream_event_t *ev, void *user)
{
    cb_robot_t *r = user;
    if (ev->kind == CB_STREAM_STATUS) {
        if (r->stopping)
            return;
        r->connected = ev->u.status.connected;
        rlog(r, ev->u.status.connected ? "connected" : "disconnected",
             json_pack("{s:s}", "message", ev->u.status.message), "market stream %s: %s",
             ev->u.status.connected ? "connected" : "disconnected", ev->u.status.message);
        return;
    }
    if (ev->kind != CB_STREAM_CANDLE || !ev->u.candle.candle.closed)
        return;
    int k = pair_index(r, ev->pair);
    if (k < 0)
        return;
    pending_t *p = &r->pend[k];
    const cb_ex_candle_t *c = &ev->u.candle.candle;
    int64_t newest = p->n ? p->c[p->n - 1].time_ms : r->last_ms[k];
    if (c->time_ms <= newest)
        return; /* already have it (history, or a gap fill overlapping it) */
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        cb_ex_candle_t *q = realloc(p->c, cap * sizeof *q);
        if (!q)
            return;
        p->c = q;
        p->cap = cap;
    }
    p->c[p->n++] = *c;
    if (!r->first_wait_ns)
        r->first_wait_ns = cb_monotonic_ns();
}

/* The open time of the next bar to step: the oldest pending candle, once every pair has one
 * (or it has waited 3 s: a pair without trades may lag); INT64_MAX when none is ready. */
static int64_t ready_time(cb_robot_t *r)
{
    int64_t t = INT64_MAX;
    int all = 1;
    for (size_t k = 0; k < r->n; k++) {
        if (r->pend[k].n == 0)
            all = 0;
        else if (r->pend[k].c[0].time_ms < t)
            t = r->pend[k].c[0].time_ms;
    }
    if (t == INT64_MAX)
        return t;
    if (!all && cb_monotonic_ns() - r->first_wait_ns < INT64_C(3000000000))
        return INT64_MAX;
    return t;
}

static int append_candle(cb_robot_t *r, size_t k, const cb_ex_candle_t *c)
{
    int rc = cb_series_push(r->bt.series[k], c->time_ms, c->open, c->high, c->low, c->close,
                            c->volume);
    if (!rc)
        r->last_ms[k] = c->time_ms;
    return rc;
}

/* ---- one bar ---------------------------------------------------------------------------- */

static void after_step(cb_robot_t *r, int64_t t)
{
    int64_t close_ms = t + r->cfg.tf_ms;
    const cb_engine_result_t *pr = cb_engine_progress(r->eng);
    char a[32], b[32], c[32], w1[40], w2[40];
    for (; r->trades_seen < pr->n_trades; r->trades_seen++) {
        const cb_trade_t *tr = &pr->trades[r->trades_seen];
        if (r->entry_counted[tr->pair] != tr->entry_time_ms) {
            cb_risk_on_entry(&r->risk, close_ms);
            r->entry_counted[tr->pair] = tr->entry_time_ms;
        }
        cb_risk_on_exit(&r->cfg.risk, &r->risk, tr->pair, close_ms,
                        tr->exit_reason == CB_EXIT_STOP_LOSS ||
                            tr->exit_reason == CB_EXIT_TRAILING_STOP);
        /* the engine knows a market exit; the operator's one is a force_exit */
        const char *why = cb_exit_reason_name(tr->exit_reason);
        if (r->forced[tr->pair] && tr->exit_reason == CB_EXIT_EXIT_SIGNAL)
            why = "force_exit";
        r->forced[tr->pair] = 0;
        update_dust(r, tr->pair);
        fx_str(tr->exit_price, a, sizeof a);
        fx_str(tr->quantity, b, sizeof b);
        fx_str(tr->pnl, c, sizeof c);
        json_t *o = jpair(r, tr->pair, tr->exit_time_ms);
        json_object_set_new(o, "reason", json_string(why));
        json_object_set_new(o, "exit_price", json_string(a));
        json_object_set_new(o, "quantity", json_string(b));
        json_object_set_new(o, "pnl", json_string(c));
        rlog(r, "exit", o, "%s: position closed (%s) at %s, quantity %s, pnl %s %s",
             r->cfg.pairs[tr->pair], why, a, b, c, r->bt.quote);
    }
    for (size_t k = 0; k < r->n; k++) {
        cb_engine_position_t p;
        cb_engine_position(r->eng, k, &p);
        if (!p.open)
            continue;
        if (r->entry_counted[k] != p.entry_ms) {
            cb_risk_on_entry(&r->risk, close_ms);
            r->entry_counted[k] = p.entry_ms;
            fx_str(p.entry_price, a, sizeof a);
            fx_str(p.qty, b, sizeof b);
            json_t *o = jpair(r, (uint32_t)k, p.entry_ms);
            json_object_set_new(o, "entry_price", json_string(a));
            json_object_set_new(o, "quantity", json_string(b));
            json_object_set_new(o, "stop", json_integer(p.stop_level));
            json_object_set_new(o, "take_profit", json_integer(p.tp_level));
            fx_str(p.stop_level, w1, sizeof w1);
            fx_str(p.tp_level, w2, sizeof w2);
            char exits[160];
            if (p.exit_pending)
                snprintf(exits, sizeof exits, "an exit is already on its way");
            else if (p.stop_level > 0 || p.tp_level > 0)
                snprintf(exits, sizeof exits, "resting exits:%s%s%s%s%s",
                         p.stop_level > 0 ? " stop " : "", p.stop_level > 0 ? w1 : "",
                         p.stop_level > 0 && p.tp_level > 0 ? "," : "",
                         p.tp_level > 0 ? " take-profit " : "", p.tp_level > 0 ? w2 : "");
            else
                snprintf(exits, sizeof exits, "no resting exits (the exit rules decide)");
            rlog(r, "entry", o, "%s: position opened at %s, quantity %s; %s", r->cfg.pairs[k], a,
                 b, exits);
        }
        char key[64];
        snprintf(key, sizeof key, "pos.highest.%s", r->cfg.pairs[k]);
        jw(r, kv_set_i64(r->j, key, p.highest));
    }
    int64_t eq = cb_engine_equity(r->eng);
    int was_killed = r->risk.killed, was_halted = r->risk.halted_today;
    int close_all = cb_risk_on_equity(&r->cfg.risk, &r->risk, close_ms, eq);
    if (r->risk.killed && !was_killed) {
        fx_str(eq, a, sizeof a);
        rlog(r, "kill_switch", json_pack("{s:s}", "equity", a),
             "max_drawdown tripped at equity %s: entries halted%s", a,
             close_all ? ", closing every position" : "");
        jw(r, cb_journal_event(r->j, t, "risk", "max_drawdown kill switch tripped"));
        for (size_t k = 0; close_all && k < r->n; k++)
            cb_engine_force_exit(r->eng, k, t);
    }
    if (r->risk.halted_today && !was_halted)
        rlog(r, "halted", NULL, "max_daily_loss reached: entries halted until 00:00 UTC");
    char risk[1024];
    cb_risk_state_format(&r->risk, risk, sizeof risk);
    jw(r, cb_journal_kv_set(r->j, "risk.state", risk));
    jw(r, kv_set_i64(r->j, "bar.last_ms", t));
    r->last_bar_ms = t;
}

static int step_bar(cb_robot_t *r, int64_t t, cb_diag_t *diag)
{
    /* Paper: one transaction per bar, so a crash leaves the bar wholly done or not at all (it
     * is then replayed from the history at restart). A transaction that cannot begin or
     * commit halts entries (check_journal); the bar is stepped all the same, so that the
     * positions' exits keep working. */
    int txn = r->cfg.mode == CB_ROBOT_PAPER && jw(r, cb_journal_begin(r->j)) == 0;
    int rc = cb_engine_step(r->eng, t, diag);
    if (!rc)
        after_step(r, t);
    beat_if_due(r);
    if (txn) {
        if (rc)
            jw(r, cb_journal_rollback(r->j));
        else
            jw(r, cb_journal_commit(r->j));
    }
    return rc;
}

static int poll_venue(cb_robot_t *r, cb_diag_t *diag)
{
    if (!r->venue.ops->poll)
        return 0;
    int rc = r->venue.ops->poll(r->venue.self, cb_now_ms());
    if (rc)
        return cb_diag_set(diag, rc, NULL, 0, 0, NULL,
                           "the %s venue cannot be trusted any more (%s): trading stopped",
                           r->venue.ops->name, cb_strerror(rc));
    return 0;
}

/* ---- start ------------------------------------------------------------------------------ */

static int load_history(cb_robot_t *r, cb_diag_t *diag)
{
    size_t warm = 0;
    for (size_t k = 0; k < r->n; k++) {
        size_t w = r->pairs[k].strategy->warmup
                       ? r->pairs[k].strategy->warmup(r->pairs[k].strategy_self)
                       : 0;
        if (w > warm)
            warm = w;
    }
    size_t want = r->cfg.history ? r->cfg.history : (warm * 2 > warm + 200 ? warm * 2 : warm + 200);
    int64_t now;
    int rc = cb_exchange_server_time(r->ex, &now, diag);
    if (rc)
        return rc;
    r->clock_server = now;
    r->clock_mono_ns = cb_monotonic_ns();
    /* `want` closed candles: counted back from the open of the candle forming now (which is
     * not closed), not from now itself, which would lose one whenever now is mid-candle */
    cb_timeframe_t tf;
    int64_t forming = now;
    if (cb_timeframe_parse(r->cfg.timeframe, &tf) == 0 && !tf.months)
        forming = cb_timeframe_floor(&tf, now);
    int64_t from = forming - (int64_t)want * r->cfg.tf_ms;
    if (from < 0)
        from = 0;
    for (size_t k = 0; k < r->n; k++) {
        cb_series_t *s = r->bt.series[k];
        if ((rc = cb_exchange_download(r->ex, r->cfg.pairs[k], r->cfg.timeframe, from, 0, s,
                                       NULL, NULL, diag)) != 0)
            return rc;
        r->last_ms[k] = s->n ? s->time_ms[s->n - 1] : 0;
        char t1[40];
        rlog(r, "history",
             json_pack("{s:s,s:I,s:I}", "pair", r->cfg.pairs[k], "candles", (json_int_t)s->n,
                       "warmup", (json_int_t)warm),
             "%s: %zu closed %s candles loaded (warm-up needs %zu), the newest opened %s",
             r->cfg.pairs[k], s->n, r->cfg.timeframe, warm,
             s->n ? cb_time_format(r->last_ms[k], t1, sizeof t1) : "-");
        if (s->n < warm)
            rlog(r, "warning", NULL, "%s: only %zu candles of history for a warm-up of %zu: the "
                 "first decisions wait for more", r->cfg.pairs[k], s->n, warm);
    }
    return 0;
}

/* ---- dust ------------------------------------------------------------------------------- */

/* The smallest quantity of pair k the exchange lets the robot sell now: one step, and the
 * minimum notional at the last close (rounded up to the step). Less is dust, not a position. */
static int64_t sellable_min(const cb_robot_t *r, size_t k)
{
    const cb_instrument_t *ins = &r->pairs[k].instrument;
    int64_t step = ins->step > 0 ? ins->step : 1, m = step;
    const cb_series_t *se = r->bt.series[k];
    int64_t px = se && se->n ? cb_fx_from_double(se->close[se->n - 1]) : 0;
    if (ins->min_notional > 0 && px > 0) {
        __int128 q = ((__int128)ins->min_notional * CB_FX_ONE + px - 1) / px;
        q = (q + step - 1) / step * step;
        if (q > m && q < INT64_MAX)
            m = (int64_t)q;
    }
    return m;
}

/* The base quantity the robot's fills left on the account for pair k (live: net of the
 * commissions charged in the base asset). */
static int held_base(cb_robot_t *r, size_t k, int64_t *out)
{
    *out = 0;
    if (r->cfg.mode == CB_ROBOT_LIVE)
        return cb_live_position(r->j, r->cfg.pairs[k], r->pairs[k].instrument.base, out);
    return cb_journal_position(r->j, r->cfg.pairs[k], CB_FX_SCALE, out);
}

/* What a flat pair still holds is dust: shown in the status, kept in the kv store. */
static void set_dust(cb_robot_t *r, size_t k, int64_t qty)
{
    if (qty < 0)
        qty = 0;
    if (qty == r->dust[k])
        return;
    r->dust[k] = qty;
    char key[64];
    snprintf(key, sizeof key, "pos.dust.%s", r->cfg.pairs[k]);
    if (kv_set_i64(r->j, key, qty)) /* for people only: the fills are what counts */
        rlog(r, "warning", NULL, "%s: the dust could not be written to the journal (%s)",
             r->cfg.pairs[k], cb_journal_errmsg(r->j));
}

static void update_dust(cb_robot_t *r, size_t k)
{
    cb_engine_position_t p;
    int64_t held;
    if (!r->eng || cb_engine_position(r->eng, k, &p) != 0 || held_base(r, k, &held) != 0)
        return;
    set_dust(r, k, p.open ? 0 : held);
}

/* At a restart: a holding below sellable_min is not restored as a position (it could never be
 * sold, and the strategy would wait on it forever): the pair is flat with dust. */
static void restore_dust(cb_robot_t *r, size_t k, int64_t qty)
{
    set_dust(r, k, qty);
    if (qty <= 0)
        return;
    char a[32], b[32], c[32];
    fx_str(qty, a, sizeof a);
    fx_str(sellable_min(r, k), b, sizeof b);
    fx_str(r->pairs[k].instrument.min_notional, c, sizeof c);
    const char *base = r->pairs[k].instrument.base;
    rlog(r, "dust",
         json_pack("{s:s,s:s,s:s,s:s}", "pair", r->cfg.pairs[k], "asset", base, "quantity", a,
                   "sellable_min", b),
         "%s: %s %s left by earlier trades is dust, not a position (the smallest sellable "
         "quantity is %s %s: step and min notional %s %s): the pair is flat and trades again; "
         "the dust is sold with the next position in %s",
         r->cfg.pairs[k], a, base, b, base, c, r->bt.quote, r->cfg.pairs[k]);
}

/* Positions held before a restart (paper): quantity from the journaled fills, entry from the
 * last buy, the trailing stop's highest high from the kv store. */
static int restore_paper(cb_robot_t *r, cb_diag_t *diag)
{
    int jr = cb_journal_orders(r->j, 1, cancel_stale, r);
    fill_sum_t fs;
    memset(&fs, 0, sizeof fs);
    fs.r = r;
    if (!jr)
        jr = cb_journal_fills(r->j, NULL, sum_fill, &fs);
    if (jr)
        return cb_diag_set(diag, jr, r->cfg.db, 0, 0, NULL,
                           "journal: cannot restore the paper account: %s",
                           cb_journal_errmsg(r->j));
    for (size_t k = 0; k < r->n; k++) {
        int64_t qty = 0;
        if ((jr = cb_journal_position(r->j, r->cfg.pairs[k], CB_FX_SCALE, &qty)) != 0)
            return cb_diag_set(diag, jr, r->cfg.db, 0, 0, NULL,
                               "%s: cannot sum the journal's fills (%s)", r->cfg.pairs[k],
                               cb_strerror(jr));
        if (qty < sellable_min(r, k)) {
            restore_dust(r, k, qty);
            continue;
        }
        const cb_journal_fill_t *f = &fs.last_buy[k];
        cb_engine_position_t p;
        memset(&p, 0, sizeof p);
        p.qty = qty;
        p.entry_price = f->price;
        p.entry_fee = f->fee;
        p.entry_ms = f->time_ms;
        p.signal_ms = f->time_ms - r->cfg.tf_ms;
        char key[64];
        snprintf(key, sizeof key, "pos.highest.%s", r->cfg.pairs[k]);
        if (kv_i64(r->j, key, &p.highest))
            p.highest = p.entry_price;
        int rc = robot_paper_deposit(&r->venue, (uint32_t)k, qty);
        if (!rc)
            rc = cb_engine_restore(r->eng, k, &p);
        if (rc)
            return cb_diag_set(diag, rc, r->cfg.db, 0, 0, NULL,
                               "%s: cannot restore the position held before the restart (%s)",
                               r->cfg.pairs[k], cb_strerror(rc));
        r->entry_counted[k] = p.entry_ms;
        char a[32], b[32], t1[40];
        fx_str(qty, a, sizeof a);
        fx_str(p.entry_price, b, sizeof b);
        cb_engine_position_t now;
        cb_engine_position(r->eng, k, &now);
        char s1[32], s2[32];
        fx_str(now.stop_level, s1, sizeof s1);
        fx_str(now.tp_level, s2, sizeof s2);
        rlog(r, "restored",
             json_pack("{s:s,s:s,s:s,s:s,s:s}", "pair", r->cfg.pairs[k], "quantity", a,
                       "entry_price", b, "stop", s1, "take_profit", s2),
             "%s: position held before the restart restored: %s at %s (entered %s); exits "
             "placed again: stop %s, take-profit %s",
             r->cfg.pairs[k], a, b, cb_time_format(p.entry_ms, t1, sizeof t1), s1, s2);
        if (r->resend_exit[k] && cb_engine_force_exit(r->eng, k, r->last_bar_ms) == 0)
            rlog(r, "exit", json_pack("{s:s}", "pair", r->cfg.pairs[k]),
                 "%s: the exit decided before the restart is sent again", r->cfg.pairs[k]);
    }
    return 0;
}

/* Live: the journal against the exchange (live.h). At start every difference stops the
 * robot. While running, an order still on its way or an exchange that does not answer is
 * retried at the next minute; any other difference stops new entries (fail closed) while the
 * exits of the positions keep being managed, until a reconciliation finds nothing open again
 * (the one `comeback reconcile --adopt|--ignore` asks the robot to run, or the next minute's).
 * `action` is the operator's (CB_RECON_CHECK otherwise); *report (may be NULL) receives the
 * report as JSON (malloc'ed). */
static void recon_block(cb_robot_t *r, size_t open, const char *first)
{
    if (open && (!r->recon_open || strcmp(r->recon_msg, first))) {
        snprintf(r->recon_msg, sizeof r->recon_msg, "%s", first);
        char d[1024];
        snprintf(d, sizeof d, "ALERT: the journal and the exchange differ (%zu difference%s): "
                 "%.400s; no new entries, exits keep being managed, until `comeback reconcile "
                 "%.300s --adopt|--ignore` resolves it",
                 open, open == 1 ? "" : "s", first, r->cfg.path);
        jw(r, cb_journal_event(r->j, 0, "reconcile", d));
        rlog(r, "alert", json_pack("{s:s,s:I,s:s}", "kind", "reconcile", "differences",
                                   (json_int_t)open, "message", first),
             "%s", d);
    } else if (!open && r->recon_open) {
        jw(r, cb_journal_event(r->j, 0, "reconcile",
                               "the journal and the exchange agree again: entries resumed"));
        rlog(r, "resolved", json_pack("{s:s}", "kind", "reconcile"),
             "the journal and the exchange agree again: entries resumed");
        r->recon_msg[0] = '\0';
    }
    r->recon_open = open;
}

static int live_reconcile(cb_robot_t *r, int at_start, cb_diag_t *diag)
{
    return live_reconcile_as(r, at_start, CB_RECON_CHECK, NULL, diag);
}

static int live_reconcile_as(cb_robot_t *r, int at_start, cb_recon_action_t action, char **report,
                             cb_diag_t *diag)
{
    const char *names[CB_ROBOT_MAX_PAIRS];
    for (size_t k = 0; k < r->n; k++)
        names[k] = r->cfg.pairs[k];
    cb_reconcile_opts_t o;
    memset(&o, 0, sizeof o);
    o.ex = r->ex;
    o.journal = r->j;
    o.bot = r->cfg.name;
    o.pairs = names;
    o.n_pairs = r->n;
    o.unsent_after_ms = unsent_after_ms();
    o.wait_unsent = at_start;
    o.action = action;
    r->last_recon_ns = cb_monotonic_ns();
    cb_reconcile_report_t rep;
    cb_diag_t d;
    cb_diag_clear(&d);
    int rc = cb_reconcile(&o, &rep, &d);
    if (rc) {
        char msg[600];
        cb_diag_format(&d, msg, sizeof msg);
        if (!at_start) {
            rlog(r, "warning", json_pack("{s:s}", "message", msg),
                 "reconciliation could not run (%s): retried in a minute", msg);
            if (report) {
                json_t *e = json_pack("{s:s}", "error", msg);
                *report = e ? json_dumps(e, JSON_COMPACT) : NULL;
                json_decref(e);
            }
            return 0;
        }
        *diag = d;
        return rc;
    }
    size_t fatal = 0;
    const char *first = NULL;
    for (size_t i = 0; i < rep.n_diffs; i++) {
        const cb_recon_diff_t *df = &rep.diffs[i];
        if (df->resolved)
            continue;
        rlog(r, "reconcile",
             json_pack("{s:s,s:s,s:s}", "kind", cb_recon_kind_name(df->kind), "pair", df->pair,
                       "message", df->message),
             "%s: %s", cb_recon_kind_name(df->kind), df->message);
        if (at_start || df->kind != CB_RECON_UNRESOLVED) {
            fatal++;
            if (!first)
                first = df->message;
        }
    }
    if (at_start || rep.orders_updated || rep.fills_recorded || rep.not_sent)
        rlog(r, "reconcile",
             json_pack("{s:I,s:I,s:I,s:I}", "checked", (json_int_t)rep.orders_checked,
                       "updated", (json_int_t)rep.orders_updated, "not_sent",
                       (json_int_t)rep.not_sent, "fills", (json_int_t)rep.fills_recorded),
             "reconciled with the exchange: %zu order%s in flight checked, %zu updated, %zu not "
             "sent, %zu missed fill%s recorded, %zu difference%s",
             rep.orders_checked, rep.orders_checked == 1 ? "" : "s", rep.orders_updated,
             rep.not_sent, rep.fills_recorded, rep.fills_recorded == 1 ? "" : "s", fatal,
             fatal == 1 ? "" : "s");
    if (fatal && at_start)
        rc = cb_diag_set(diag, CB_ESTATE, r->cfg.db, 0, 0, NULL,
                         "the journal and the exchange differ (%zu difference%s): %s; trading "
                         "stopped until `comeback reconcile %s` resolves it",
                         fatal, fatal == 1 ? "" : "s", first, r->cfg.path);
    else if (!at_start)
        recon_block(r, fatal, first ? first : "");
    if (report)
        *report = cb_reconcile_report_json(&rep);
    cb_reconcile_report_free(&rep);
    return rc;
}

/* Live, on start: reconcile, cancel what the previous run left open (the exits are placed
 * afresh), then restore the positions the journal's fills hold. */
typedef struct exits_in_flight {
    char coid[CB_ROBOT_MAX_PAIRS][48];
    cb_robot_t *r;
} exits_in_flight_t;

static int note_exit(const cb_journal_order_t *o, void *ctx)
{
    exits_in_flight_t *x = ctx;
    int k = pair_index(x->r, o->pair);
    if (k >= 0 && !strcmp(o->reason, "exit"))
        snprintf(x->coid[k], sizeof x->coid[k], "%s", o->client_order_id);
    return 0;
}

static int restore_live(cb_robot_t *r, cb_diag_t *diag)
{
    /* an exit whose intent was written but never reached the exchange is decided again */
    exits_in_flight_t ex;
    memset(&ex, 0, sizeof ex);
    ex.r = r;
    int rc = cb_journal_orders(r->j, 1, note_exit, &ex);
    if (rc)
        return cb_diag_set(diag, rc, r->cfg.db, 0, 0, NULL, "journal: cannot read the orders: %s",
                           cb_journal_errmsg(r->j));
    rc = live_reconcile(r, 1, diag);
    if (rc)
        return rc;
    for (size_t k = 0; k < r->n; k++) {
        cb_journal_order_t o;
        if (ex.coid[k][0] && cb_journal_order_get(r->j, ex.coid[k], &o) == 0 &&
            o.status == CB_OS_REJECTED && o.executed_quantity == 0)
            r->resend_exit[k] = 1;
    }
    const char *names[CB_ROBOT_MAX_PAIRS];
    for (size_t k = 0; k < r->n; k++)
        names[k] = r->cfg.pairs[k];
    size_t n_canceled = 0;
    if ((rc = cb_live_cancel_open(r->ex, r->j, names, r->n, &n_canceled, diag)) != 0)
        return rc;
    if (n_canceled)
        rlog(r, "restart", json_pack("{s:I}", "canceled", (json_int_t)n_canceled),
             "%zu order%s left open by the previous run cancelled (exits are placed afresh)",
             n_canceled, n_canceled == 1 ? "" : "s");
    for (size_t k = 0; k < r->n; k++) {
        cb_live_position_t lp;
        const cb_instrument_t *ins = &r->pairs[k].instrument;
        /* below what can be sold, a holding is flat (dust), also for the rebuild's averaging */
        if ((rc = cb_live_position_rebuild(r->j, names[k], ins->base, sellable_min(r, k),
                                           &lp)) != 0)
            return cb_diag_set(diag, rc, r->cfg.db, 0, 0, NULL,
                               "%s: cannot rebuild the position from the journal", names[k]);
        if (!lp.open) {
            restore_dust(r, k, lp.qty);
            continue;
        }
        cb_engine_position_t p;
        memset(&p, 0, sizeof p);
        p.qty = lp.qty;
        p.entry_price = lp.entry_price;
        p.entry_fee = lp.entry_fee;
        p.entry_ms = lp.entry_ms;
        p.signal_ms = lp.entry_ms - r->cfg.tf_ms;
        char key[64];
        snprintf(key, sizeof key, "pos.highest.%s", names[k]);
        if (kv_i64(r->j, key, &p.highest) || p.highest < p.entry_price)
            p.highest = p.entry_price;
        if ((rc = cb_engine_restore(r->eng, k, &p)) != 0)
            return cb_diag_set(diag, rc, r->cfg.db, 0, 0, NULL,
                               "%s: cannot restore the position held before the restart (%s)",
                               names[k], cb_strerror(rc));
        r->entry_counted[k] = p.entry_ms;
        char a[32], b[32], t1[40];
        fx_str(lp.qty, a, sizeof a);
        fx_str(lp.entry_price, b, sizeof b);
        rlog(r, "restored",
             json_pack("{s:s,s:s,s:s}", "pair", names[k], "quantity", a, "entry_price", b),
             "%s: position held before the restart restored: %s at %s (entered %s); exits "
             "placed again",
             names[k], a, b, cb_time_format(p.entry_ms, t1, sizeof t1));
        if (r->resend_exit[k] && cb_engine_force_exit(r->eng, k, r->last_bar_ms) == 0)
            rlog(r, "exit", json_pack("{s:s}", "pair", names[k]),
                 "%s: the exit decided before the restart never reached the exchange: sent "
                 "again", names[k]);
    }
    return 0;
}

static int robot_run(cb_robot_t *r, cb_diag_t *diag);

int cb_robot_run(cb_robot_t *r, cb_diag_t *diag)
{
    int rc = robot_run(r, diag);
    if (rc && !r->stopping) {
        /* failed before its loop (history, reconciliation, the stream): say so, so that the
         * status does not stay "starting" */
        r->stopping = 1;
        char msg[600];
        cb_diag_format(diag, msg, sizeof msg);
        rlog(r, "error", json_pack("{s:s}", "message", msg), "%s", msg);
        write_status(r, "failed");
    }
    return rc;
}

static int robot_run(cb_robot_t *r, cb_diag_t *diag)
{
    int rc;
    r->started_ms = cb_now_ms();
    if ((rc = cb_journal_kv_set(r->j, "control.stop", "0")) != 0)
        return cb_diag_set(diag, rc, r->cfg.db, 0, 0, NULL, "journal: cannot write: %s",
                           cb_journal_errmsg(r->j));
    {
        /* the pairs, for the control commands that check what they are asked */
        char list[CB_ROBOT_MAX_PAIRS * 33] = "";
        for (size_t k = 0; k < r->n; k++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k ? "," : "",
                     r->cfg.pairs[k]);
        if ((rc = cb_journal_kv_set(r->j, "robot.pairs", list)) != 0)
            return cb_diag_set(diag, rc, r->cfg.db, 0, 0, NULL, "journal: cannot write: %s",
                               cb_journal_errmsg(r->j));
    }
    write_status(r, "starting");
    if (cb_journal_kv_get(r->j, "control.rearm", r->rearm_seen, sizeof r->rearm_seen) != 0)
        r->rearm_seen[0] = 0;
    char bal[32];
    fx_str(r->cash, bal, sizeof bal);
    rlog(r, "start",
         json_pack("{s:s,s:s,s:s,s:s}", "mode", cb_robot_mode_name(r->cfg.mode), "db", r->cfg.db,
                   "timeframe", r->cfg.timeframe, "cash", bal),
         "%s robot '%s' starting: %zu pair%s on %s, journal %s, cash %s %s",
         cb_robot_mode_name(r->cfg.mode), r->cfg.name, r->n, r->n == 1 ? "" : "s",
         r->cfg.timeframe, r->cfg.db, bal, r->bt.quote);
    {
        /* where each exit lives: on the exchange, or watched by the robot itself */
        const cb_engine_config_t *c = &r->bt.cfg;
        int live = r->cfg.mode == CB_ROBOT_LIVE;
        rlog(r, "exits",
             json_pack("{s:s,s:s,s:s,s:s}", "stop_loss",
                       c->stop_loss > 0 ? (live ? "exchange" : "paper") : "off", "take_profit",
                       c->take_profit > 0 ? (live ? "emulated" : "paper") : "off",
                       "trailing_stop",
                       c->trailing_stop > 0 ? (live ? "exchange" : "paper") : "off",
                       "exit_rules", live ? "market order" : "paper"),
             "exits: stop-loss %s; take-profit %s; trailing stop %s; exit rules %s",
             c->stop_loss <= 0 ? "off"
             : live            ? "rests on the exchange (STOP_LOSS) from the entry fill on"
                               : "simulated by the fill model",
             c->take_profit <= 0 ? "off"
             : live ? "emulated by the robot (a market sell when a closed candle reaches it)"
                    : "simulated by the fill model",
             c->trailing_stop <= 0 ? "off"
             : live ? "moves the stop on the exchange at each closed candle"
                    : "simulated by the fill model",
             live ? "send market orders" : "are filled by the fill model");
    }
    if ((rc = load_history(r, diag)) != 0)
        return rc;
    /* Bars after the last one processed before a restart (or, at the first start, after the
     * history) are traded; earlier ones only warm the strategies up. */
    int64_t last_done, from = 0;
    int restart = kv_i64(r->j, "bar.last_ms", &last_done) == 0;
    if (restart) {
        from = last_done + 1;
        r->last_bar_ms = last_done;
    } else {
        for (size_t k = 0; k < r->n; k++)
            if (r->last_ms[k] + 1 > from)
                from = r->last_ms[k] + 1;
    }
    r->ecfg = r->bt.cfg;
    r->ecfg.start_balance = r->cash > 0 ? r->cash : 1;
    r->ecfg.live = 1;
    r->ecfg.from_ms = from;
    r->ecfg.to_ms = 0;
    r->ecfg.venue = &r->venue;
    r->hooks.ctx = r;
    r->hooks.decision = on_decision;
    r->hooks.allow_entry = allow_entry;
    r->ecfg.hooks = &r->hooks;
    if ((rc = cb_engine_open(&r->ecfg, r->pairs, r->n, &r->eng, diag)) != 0)
        return rc;
    int64_t t;
    while ((t = cb_engine_next_time(r->eng)) < from)
        if ((rc = cb_engine_step(r->eng, t, diag)) != 0)
            return rc;
    char rs[1024];
    /* a risk state that is there was checked by cb_robot_new */
    if (cb_journal_kv_get(r->j, "risk.state", rs, sizeof rs) != 0 ||
        cb_risk_state_parse(rs, &r->risk) != 0)
        cb_risk_state_init(&r->risk, r->clock_server, r->cash);
    if (r->cfg.mode == CB_ROBOT_LIVE) {
        /* no enclosing transaction: every intent must be on disk before its order is sent */
        if ((rc = restore_live(r, diag)) != 0)
            return rc;
    } else {
        if ((rc = cb_journal_begin(r->j)) == 0 && (rc = restore_paper(r, diag)) != 0) {
            cb_journal_rollback(r->j);
            return rc;
        }
        if (rc || (rc = cb_journal_commit(r->j)) != 0)
            return cb_diag_set(diag, rc, r->cfg.db, 0, 0, NULL,
                               "journal: cannot record the restart: %s",
                               cb_journal_errmsg(r->j));
    }
    if (restart && last_done > 0) {
        char t1[40];
        rlog(r, "resume", NULL, "resuming after the bar of %s (catching up on the candles "
             "that closed meanwhile)", cb_time_format(last_done, t1, sizeof t1));
    }
    /* catch-up: bars that closed while the robot was away */
    while ((t = cb_engine_next_time(r->eng)) != INT64_MAX)
        if ((rc = step_bar(r, t, diag)) != 0)
            return rc;
    poll_controls(r);
    check_journal(r);
    write_status(r, "running");
    cb_ex_stream_opts_t so;
    memset(&so, 0, sizeof so);
    so.ws_url = r->cfg.ws_url[0] ? r->cfg.ws_url : NULL;
    const char *names[CB_ROBOT_MAX_PAIRS];
    for (size_t k = 0; k < r->n; k++)
        names[k] = r->cfg.pairs[k];
    so.pairs = names;
    so.n_pairs = r->n;
    so.timeframe = r->cfg.timeframe;
    so.rest = r->ex;
    /* candles that close between loading history and connecting are filled from REST */
    int64_t have[CB_ROBOT_MAX_PAIRS];
    for (size_t k = 0; k < r->n; k++)
        have[k] = r->last_ms[k] > 0 ? r->last_ms[k] : INT64_MIN;
    so.last_closed_ms = have;
    so.fn = on_stream;
    so.user = r;
    if ((rc = cb_binance_stream_open(&so, &r->stream, diag)) != 0)
        return rc;
    while (!r->stopping && !(r->opts.stop && *r->opts.stop)) {
        check_journal(r); /* a write of the venue or the reconciliation may have failed */
        if ((rc = cb_ex_stream_poll(r->stream, 200)) != 0) {
            cb_diag_set(diag, rc, NULL, 0, 0, NULL, "the market stream failed");
            break;
        }
        int stepped = 0;
        while (!r->stopping && (t = ready_time(r)) != INT64_MAX) {
            for (size_t k = 0; k < r->n; k++) {
                pending_t *p = &r->pend[k];
                if (p->n && p->c[0].time_ms == t) {
                    if ((rc = append_candle(r, k, &p->c[0])) != 0)
                        goto out;
                    memmove(p->c, p->c + 1, --p->n * sizeof *p->c);
                }
            }
            r->first_wait_ns = 0;
            for (size_t k = 0; k < r->n && !r->first_wait_ns; k++)
                if (r->pend[k].n)
                    r->first_wait_ns = cb_monotonic_ns();
            if ((rc = step_bar(r, t, diag)) != 0 || (rc = poll_venue(r, diag)) != 0)
                goto out;
            stepped = 1;
            poll_controls(r);
        }
        if ((rc = poll_venue(r, diag)) != 0)
            break;
        if (r->cfg.mode == CB_ROBOT_LIVE &&
            cb_monotonic_ns() - r->last_recon_ns > INT64_C(60000000000) &&
            (rc = live_reconcile(r, 0, diag)) != 0)
            break;
        poll_controls(r);
        if (stepped || cb_monotonic_ns() - r->last_status_ns > INT64_C(1000000000))
            write_status(r, "running");
    }
out:
    r->stopping = 1;
    if (!rc) {
        rc = poll_venue(r, diag); /* what is in flight at an exchange gets its last word */
        check_journal(r);
        if (r->halted[0])
            rlog(r, "stopped", json_pack("{s:s}", "halted", r->halted),
                 "stopped, halted (%s): %s lacks what could not be written; the next start "
                 "rebuilds the state from what it holds",
                 r->halted, r->cfg.db);
        else
            rlog(r, "stopped", NULL, "stopped cleanly: state persisted in %s", r->cfg.db);
    } else {
        char msg[600];
        cb_diag_format(diag, msg, sizeof msg);
        rlog(r, "error", json_pack("{s:s}", "message", msg), "%s", msg);
    }
    write_status(r, rc ? "failed" : "stopped");
    return rc;
}
