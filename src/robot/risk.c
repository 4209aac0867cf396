/* Risk controls: entry checks, daily counters, halts, the kill switch and cooldowns. */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/risk.h"

static const char *const reason_names[] = {
#define CB_RR_NAME_(id, name, msg) name,
    CB_RISK_REASON_MAP(CB_RR_NAME_)
#undef CB_RR_NAME_
};
static const char *const reason_msgs[] = {
#define CB_RR_MSG_(id, name, msg) msg,
    CB_RISK_REASON_MAP(CB_RR_MSG_)
#undef CB_RR_MSG_
};

const char *cb_risk_reason_name(cb_risk_reason_t r)
{
    return (unsigned)r < CB_RISK_REASON_COUNT ? reason_names[r] : "unknown";
}

const char *cb_risk_reason_message(cb_risk_reason_t r)
{
    return (unsigned)r < CB_RISK_REASON_COUNT ? reason_msgs[r] : "unknown";
}

static int64_t day_of(int64_t ms)
{
    return ms >= 0 ? ms / CB_MS_PER_DAY : -((-ms + CB_MS_PER_DAY - 1) / CB_MS_PER_DAY);
}

/* "30m", "2h", "1d", "0" -> ms. */
static int parse_duration(const char *v, int64_t *out)
{
    if (strcmp(v, "0") == 0) {
        *out = 0;
        return 0;
    }
    cb_timeframe_t tf;
    if (cb_timeframe_parse(v, &tf) != 0 || tf.months)
        return -1;
    *out = tf.ms;
    return 0;
}

static int parse_int(const char *v, int *out)
{
    char *e;
    long x = strtol(v, &e, 10);
    if (e == v || *e || x < 0 || x > 1000000)
        return -1;
    *out = (int)x;
    return 0;
}

/* "20%" -> 0.2 (0 < f < 1). */
static int parse_frac(const char *v, double *out)
{
    size_t n = strlen(v);
    if (n < 2 || v[n - 1] != '%')
        return -1;
    char buf[32];
    if (n - 1 >= sizeof buf)
        return -1;
    memcpy(buf, v, n - 1);
    buf[n - 1] = '\0';
    char *e;
    double x = strtod(buf, &e);
    if (e == buf || *e || !(x > 0 && x < 100))
        return -1;
    *out = x / 100;
    return 0;
}

int cb_risk_set(cb_risk_limits_t *l, const char *key, const char *value, cb_diag_t *diag)
{
    char field[64];
    snprintf(field, sizeof field, "key '%s'", key);
    if (!strcmp(key, "max_open_trades") || !strcmp(key, "max_trades_per_day")) {
        int *dst = !strcmp(key, "max_open_trades") ? &l->max_open_trades : &l->max_trades_per_day;
        if (parse_int(value, dst))
            return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, field,
                               "expected a whole number >= 0 (0 = no limit), got \"%s\"", value);
        return 0;
    }
    if (!strcmp(key, "max_daily_loss")) {
        l->max_daily_loss = 0;
        l->max_daily_loss_frac = 0;
        if (parse_frac(value, &l->max_daily_loss_frac) == 0)
            return 0;
        if (cb_dec_parse(value, (size_t)-1, CB_RISK_SCALE, &l->max_daily_loss) == 0 &&
            l->max_daily_loss >= 0)
            return 0;
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, field,
                           "expected a quote amount (200) or a percentage of the day's start "
                           "equity (5%%), got \"%s\"",
                           value);
    }
    if (!strcmp(key, "max_drawdown")) {
        if (parse_frac(value, &l->max_drawdown_frac))
            return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, field,
                               "expected a percentage of the peak equity such as 20%%, got \"%s\"",
                               value);
        return 0;
    }
    if (!strcmp(key, "drawdown_action")) {
        if (!strcmp(value, "halt"))
            l->drawdown_close = 0;
        else if (!strcmp(value, "close"))
            l->drawdown_close = 1;
        else
            return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, field,
                               "expected 'halt' or 'close', got \"%s\"", value);
        return 0;
    }
    if (!strcmp(key, "cooldown") || !strcmp(key, "stale_after")) {
        int64_t *dst = !strcmp(key, "cooldown") ? &l->cooldown_ms : &l->stale_after_ms;
        if (!strcmp(key, "stale_after") && !strcmp(value, "auto")) {
            *dst = 0;
            return 0;
        }
        if (parse_duration(value, dst))
            return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, field,
                               "expected a duration such as 30m, 2h or 1d (or 0), got \"%s\"",
                               value);
        return 0;
    }
    if (!strcmp(key, "max_position")) {
        if (cb_dec_parse(value, (size_t)-1, CB_RISK_SCALE, &l->max_position) != 0 ||
            l->max_position < 0)
            return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, field,
                               "expected a quote amount >= 0 (0 = no limit), got \"%s\"", value);
        return 0;
    }
    return CB_ENOENT;
}

void cb_risk_state_init(cb_risk_state_t *st, int64_t now_ms, int64_t equity)
{
    memset(st, 0, sizeof *st);
    st->day = day_of(now_ms);
    st->day_start_equity = equity;
    st->peak_equity = equity;
}

int cb_risk_on_equity(const cb_risk_limits_t *l, cb_risk_state_t *st, int64_t now_ms,
                      int64_t equity)
{
    int64_t day = day_of(now_ms);
    if (day != st->day) {
        st->day = day;
        st->trades_today = 0;
        st->halted_today = 0;
        st->day_start_equity = equity;
    }
    if (equity > st->peak_equity)
        st->peak_equity = equity;
    int64_t lost = st->day_start_equity - equity;
    if (lost > 0 && !st->halted_today) {
        if ((l->max_daily_loss > 0 && lost >= l->max_daily_loss) ||
            (l->max_daily_loss_frac > 0 &&
             (double)lost >= l->max_daily_loss_frac * (double)st->day_start_equity))
            st->halted_today = 1;
    }
    if (!st->killed && l->max_drawdown_frac > 0 && st->peak_equity > 0 &&
        (double)(st->peak_equity - equity) >= l->max_drawdown_frac * (double)st->peak_equity) {
        st->killed = 1;
        return l->drawdown_close;
    }
    return 0;
}

void cb_risk_on_entry(cb_risk_state_t *st, int64_t now_ms)
{
    int64_t day = day_of(now_ms);
    if (day != st->day) {
        st->day = day;
        st->trades_today = 0;
        st->halted_today = 0;
    }
    st->trades_today++;
}

void cb_risk_on_exit(const cb_risk_limits_t *l, cb_risk_state_t *st, size_t pair, int64_t now_ms,
                     int stoploss)
{
    if (stoploss && l->cooldown_ms > 0 && pair < CB_RISK_MAX_PAIRS)
        st->cooldown_until_ms[pair] = now_ms + l->cooldown_ms;
}

cb_risk_reason_t cb_risk_check_entry(const cb_risk_limits_t *l, cb_risk_state_t *st,
                                     const cb_risk_entry_t *e)
{
    cb_risk_reason_t r = CB_RISK_NONE;
    int64_t stale = l->stale_after_ms > 0 ? l->stale_after_ms : 2 * e->timeframe_ms;
    int same_day = day_of(e->now_ms) == st->day;
    if (st->paused)
        r = CB_RISK_PAUSED;
    else if (st->killed)
        r = CB_RISK_KILLED;
    else if (st->halted_today && same_day)
        r = CB_RISK_DAILY_LOSS;
    else if (l->max_open_trades > 0 && e->open_trades >= l->max_open_trades)
        r = CB_RISK_OPEN_TRADES;
    else if (l->max_trades_per_day > 0 && same_day && st->trades_today >= l->max_trades_per_day)
        r = CB_RISK_TRADES_PER_DAY;
    else if (e->pair < CB_RISK_MAX_PAIRS && e->now_ms < st->cooldown_until_ms[e->pair])
        r = CB_RISK_COOLDOWN;
    else if (l->max_position > 0 && e->position_notional + e->order_notional > l->max_position)
        r = CB_RISK_POSITION;
    else if (stale > 0 && e->now_ms - e->last_candle_close_ms > stale)
        r = CB_RISK_STALE;
    if (r != CB_RISK_NONE)
        st->refusals[r]++;
    return r;
}

void cb_risk_pause(cb_risk_state_t *st, int paused) { st->paused = paused ? 1 : 0; }

void cb_risk_reset_kill(cb_risk_state_t *st, int64_t equity)
{
    st->killed = 0;
    st->peak_equity = equity;
}

size_t cb_risk_state_format(const cb_risk_state_t *st, char *buf, size_t size)
{
    size_t w = 0;
    int n = snprintf(buf, size,
                     "v=1 day=%" PRId64 " trades=%d start=%" PRId64 " peak=%" PRId64
                     " halted=%d killed=%d paused=%d cooldown=",
                     st->day, st->trades_today, st->day_start_equity, st->peak_equity,
                     st->halted_today, st->killed, st->paused);
    if (n < 0)
        return 0;
    w = (size_t)n;
    int first = 1;
    for (size_t i = 0; i < CB_RISK_MAX_PAIRS; i++) {
        if (!st->cooldown_until_ms[i])
            continue;
        n = snprintf(w < size ? buf + w : NULL, w < size ? size - w : 0, "%s%zu:%" PRId64,
                     first ? "" : ",", i, st->cooldown_until_ms[i]);
        if (n < 0)
            return 0;
        w += (size_t)n;
        first = 0;
    }
    return w;
}

static int take_i64(const char **p, const char *key, int64_t *out)
{
    size_t k = strlen(key);
    if (strncmp(*p, key, k) != 0 || (*p)[k] != '=')
        return -1;
    char *e;
    long long v = strtoll(*p + k + 1, &e, 10);
    if (e == *p + k + 1)
        return -1;
    *out = v;
    *p = e;
    while (**p == ' ')
        (*p)++;
    return 0;
}

int cb_risk_state_parse(const char *text, cb_risk_state_t *st)
{
    cb_risk_state_t s;
    memset(&s, 0, sizeof s);
    const char *p = text;
    int64_t v, trades, halted, killed, paused;
    if (take_i64(&p, "v", &v) || v != 1 || take_i64(&p, "day", &s.day) ||
        take_i64(&p, "trades", &trades) || take_i64(&p, "start", &s.day_start_equity) ||
        take_i64(&p, "peak", &s.peak_equity) || take_i64(&p, "halted", &halted) ||
        take_i64(&p, "killed", &killed) || take_i64(&p, "paused", &paused))
        return CB_EPARSE;
    if (trades < 0 || trades > 1000000000 || (halted | killed | paused) & ~INT64_C(1))
        return CB_EPARSE;
    s.trades_today = (int)trades;
    s.halted_today = (int)halted;
    s.killed = (int)killed;
    s.paused = (int)paused;
    if (strncmp(p, "cooldown=", 9) != 0)
        return CB_EPARSE;
    p += 9;
    while (*p) {
        char *e;
        unsigned long long i = strtoull(p, &e, 10);
        if (e == p || *e != ':' || i >= CB_RISK_MAX_PAIRS)
            return CB_EPARSE;
        p = e + 1;
        long long until = strtoll(p, &e, 10);
        if (e == p)
            return CB_EPARSE;
        s.cooldown_until_ms[i] = until;
        p = e;
        if (*p == ',')
            p++;
        else if (*p)
            return CB_EPARSE;
    }
    *st = s;
    return 0;
}

void cb_risk_summarise(const cb_risk_limits_t *l, const cb_risk_state_t *st, int64_t equity,
                       int open_trades, cb_risk_summary_t *out)
{
    memset(out, 0, sizeof *out);
    out->day_start_ms = st->day * CB_MS_PER_DAY;
    out->next_reset_ms = (st->day + 1) * CB_MS_PER_DAY;
    out->trades_today = st->trades_today;
    out->trades_left = -1;
    if (l->max_trades_per_day > 0)
        out->trades_left = l->max_trades_per_day > st->trades_today
                               ? l->max_trades_per_day - st->trades_today
                               : 0;
    out->open_trades = open_trades;
    out->open_left = -1;
    if (l->max_open_trades > 0)
        out->open_left = l->max_open_trades > open_trades ? l->max_open_trades - open_trades : 0;
    int64_t lost = st->day_start_equity - equity;
    out->daily_loss = lost > 0 ? lost : 0;
    /* the tighter of the two forms, as cb_risk_on_equity trips on either */
    int64_t lim = l->max_daily_loss;
    if (l->max_daily_loss_frac > 0) {
        int64_t f = (int64_t)(l->max_daily_loss_frac * (double)st->day_start_equity);
        if (!lim || f < lim)
            lim = f;
    }
    out->daily_loss_limit = lim;
    out->drawdown_frac = st->peak_equity > 0 && equity < st->peak_equity
                             ? (double)(st->peak_equity - equity) / (double)st->peak_equity
                             : 0.0;
    out->drawdown_limit = l->max_drawdown_frac;
}
