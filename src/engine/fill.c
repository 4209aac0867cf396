/* The fill model: pure functions deciding whether an order executes within a candle, at what
 * price, quantity, fee and slippage. Shared by the backtest venue, the paper venue and the
 * exchange simulator, so that all three fill the same order the same way. */
#include "comeback/venue.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- fixed point ------------------------------------------------------------------------ */

int64_t cb_fx_from_double(double x)
{
    int64_t v;
    if (cb_fx_from_double_checked(x, &v) == 0)
        return v;
    return x < 0 ? -CB_FX_MAX : x > 0 ? CB_FX_MAX : 0; /* saturated (NaN: 0) */
}

int64_t cb_fx_floor(int64_t v, int64_t unit)
{
    if (unit <= 1)
        return v;
    int64_t r = v % unit;
    if (r < 0)
        r += unit;
    return v - r;
}

int64_t cb_fx_ceil(int64_t v, int64_t unit)
{
    int64_t f = cb_fx_floor(v, unit);
    return f == v ? v : f > CB_FX_MAX - unit ? f : f + unit;
}

int64_t cb_fx_notional(int64_t price, int64_t qty, int round_up)
{
    int64_t p64;
    if (!__builtin_mul_overflow(price, qty, &p64)) {
        /* the usual case, without a 128-bit division (the same truncation toward zero) */
        int64_t q64 = p64 / CB_FX_ONE;
        if (round_up && q64 * CB_FX_ONE < p64)
            q64++;
        return q64;
    }
    int64_t n;
    if (cb_fx_mul(price, qty, round_up, &n) == 0)
        return n;
    return (price < 0) != (qty < 0) ? -CB_FX_MAX : CB_FX_MAX;
}

int64_t cb_fx_fee(int64_t notional, int64_t rate)
{
    return cb_fx_notional(notional, rate, 1);
}

/* What quantity q costs at price p (notional rounded up) with its fee at rate r (rounded up),
 * in 128 bits: the two roundings that make the cost a step function of q. */
static __int128 buy_cost(__int128 p, __int128 q, __int128 r)
{
    __int128 n = (p * q + CB_FX_ONE - 1) / CB_FX_ONE;
    return n + (n * r + CB_FX_ONE - 1) / CB_FX_ONE;
}

/* buy_cost <= quote, in 64 bits when the products fit (no 128-bit division: fills are many) */
static inline int affordable(int64_t p, int64_t q, int64_t r, int64_t quote)
{
    int64_t pq, n, nr;
    if (__builtin_mul_overflow(p, q, &pq) || pq > INT64_MAX - CB_FX_ONE)
        return buy_cost(p, q, r) <= quote;
    n = (pq + CB_FX_ONE - 1) / CB_FX_ONE;
    if (__builtin_mul_overflow(n, r, &nr) || nr > INT64_MAX - CB_FX_ONE)
        return buy_cost(p, q, r) <= quote;
    return n <= quote && (nr + CB_FX_ONE - 1) / CB_FX_ONE <= quote - n;
}

int cb_fx_qty_for_quote(int64_t quote, int64_t price, int64_t rate, int64_t step, int64_t *qty)
{
    *qty = 0;
    if (quote <= 0 || price <= 0 || rate < 0)
        return 0;
    if (step < 1)
        step = 1;
    /* cost(q) >= p*q*(1+r) exactly, so no q above hi fits; and cost(q) < p*q*(1+r) + 3 units
     * (two roundings up, r <= 1), so every q up to lo fits. Near hi at usual prices (one step
     * costs more than the roundings); else by bisection between lo and hi over whole steps
     * (about 30 rounds at the smallest prices). */
    __int128 den = (__int128)price * (CB_FX_ONE + rate);
    __int128 one2 = (__int128)CB_FX_ONE * CB_FX_ONE;
    __int128 hi = (__int128)quote * one2 / den / step;
    const __int128 top = CB_FX_MAX / step;
    if (hi > top)
        hi = top;
    for (int k = 0; k < 3 && hi > 0; k++, hi--)
        if (affordable(price, (int64_t)(hi * step), rate, quote)) {
            if (hi == top && buy_cost(price, (hi + 1) * step, rate) <= quote)
                return CB_ERANGE; /* the budget buys more than the largest quantity */
            *qty = (int64_t)(hi * step);
            return 0;
        }
    __int128 lo = quote > 3 ? (__int128)(quote - 3) * one2 / den / step : 0;
    if (lo > hi)
        lo = hi;
    while (lo < hi) {
        __int128 mid = lo + (hi - lo + 1) / 2;
        if (buy_cost(price, mid * step, rate) <= quote)
            lo = mid;
        else
            hi = mid - 1;
    }
    *qty = (int64_t)(lo * step);
    return 0;
}

/* ---- names ------------------------------------------------------------------------------ */

const char *cb_order_type_name(cb_order_type_t t)
{
    switch (t) {
#define CB_OT_NAME_(id, name) case CB_ORDER_##id: return name;
        CB_ORDER_TYPE_MAP(CB_OT_NAME_)
#undef CB_OT_NAME_
    }
    return "unknown";
}

const char *cb_reject_name(cb_reject_t r)
{
    switch (r) {
#define CB_RJ_NAME_(id, name, msg) case CB_REJECT_##id: return name;
        CB_REJECT_MAP(CB_RJ_NAME_)
#undef CB_RJ_NAME_
    case CB_REJECT_COUNT: break;
    }
    return "unknown";
}

const char *cb_reject_message(cb_reject_t r)
{
    switch (r) {
#define CB_RJ_MSG_(id, name, msg) case CB_REJECT_##id: return msg;
        CB_REJECT_MAP(CB_RJ_MSG_)
#undef CB_RJ_MSG_
    case CB_REJECT_COUNT: break;
    }
    return "unknown";
}

/* ---- instruments and rates -------------------------------------------------------------- */

void cb_instrument_default(cb_instrument_t *ins, const char *pair)
{
    memset(ins, 0, sizeof *ins);
    snprintf(ins->pair, sizeof ins->pair, "%s", pair ? pair : "");
    const char *slash = pair ? strchr(pair, '/') : NULL;
    if (slash) {
        size_t nb = (size_t)(slash - pair);
        if (nb >= sizeof ins->base)
            nb = sizeof ins->base - 1;
        memcpy(ins->base, pair, nb);
        snprintf(ins->quote, sizeof ins->quote, "%s", slash + 1);
    } else {
        snprintf(ins->base, sizeof ins->base, "%s", pair ? pair : "");
        snprintf(ins->quote, sizeof ins->quote, "USDT");
    }
    ins->tick = 1;
    ins->step = 1;
    ins->min_notional = 0;
}

int cb_instrument_parse(cb_instrument_t *ins, const char *spec, cb_diag_t *diag)
{
    const char *p = spec;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (!*p)
            break;
        const char *k = p;
        while (*p && *p != '=' && *p != ' ' && *p != ',')
            p++;
        size_t kl = (size_t)(p - k);
        while (*p == ' ')
            p++;
        if (*p != '=')
            return cb_diag_set(diag, CB_EPARSE, NULL, 0, 0, "pairs", "expected key=value in "
                               "'%s' (keys: tick, step, min_notional)", spec);
        p++;
        while (*p == ' ')
            p++;
        const char *v = p;
        while (*p && *p != ' ' && *p != ',' && *p != '\t')
            p++;
        size_t vl = (size_t)(p - v);
        int64_t val;
        char key[32];
        snprintf(key, sizeof key, "%.*s", (int)(kl < 31 ? kl : 31), k);
        if (cb_dec_parse(v, vl, CB_FX_SCALE, &val) != 0 || val < 0)
            return cb_diag_set(diag, CB_EPARSE, NULL, 0, 0, key,
                               "expected a non-negative number with at most 8 decimals, got "
                               "'%.*s'", (int)vl, v);
        if (!strcmp(key, "tick") || !strcmp(key, "step")) {
            if (val == 0)
                return cb_diag_set(diag, CB_EPARSE, NULL, 0, 0, key, "must be positive");
            if (key[0] == 't')
                ins->tick = val;
            else
                ins->step = val;
        } else if (!strcmp(key, "min_notional")) {
            ins->min_notional = val;
        } else {
            return cb_diag_set(diag, CB_EPARSE, NULL, 0, 0, key,
                               "unknown key (expected tick, step or min_notional)");
        }
    }
    return 0;
}

int cb_rate_parse(const char *s, int64_t *out_rate)
{
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ')
        n--;
    while (n && *s == ' ') {
        s++;
        n--;
    }
    int scale = CB_FX_SCALE;
    if (n >= 1 && s[n - 1] == '%') {
        n--;
        scale -= 2;
    } else if (n >= 3 && !strncmp(s + n - 3, "bps", 3)) {
        n -= 3;
        scale -= 4;
    }
    while (n && s[n - 1] == ' ')
        n--;
    int64_t v;
    int rc = cb_dec_parse(s, n, scale, &v);
    if (rc)
        return rc;
    if (v < 0 || v > CB_FX_ONE)
        return CB_ERANGE;
    *out_rate = v;
    return 0;
}

/* ---- matching --------------------------------------------------------------------------- */

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* ref moved against the order by the slippage rate, rounded against it to the tick, kept
 * inside [low, high] (a fill never happens at a price the bar did not trade). */
static int64_t slipped(cb_side_t side, int64_t ref, int64_t rate, int64_t tick,
                       const cb_bar_fx_t *b)
{
    int64_t adj = rate ? cb_fx_notional(ref, rate, 1) : 0;
    if (side == CB_BUY) {
        int64_t up;
        if (cb_fx_add(ref, adj, &up))
            up = CB_FX_MAX; /* kept inside the bar below */
        int64_t p = cb_fx_ceil(up, tick);
        if (p > b->high) {
            p = cb_fx_floor(b->high, tick);
            if (p < ref)
                p = ref;
        }
        return p;
    }
    int64_t p = cb_fx_floor(ref - adj, tick);
    if (p < b->low) {
        p = cb_fx_ceil(b->low, tick);
        if (p > ref)
            p = ref;
    }
    return p;
}

static int limit_match(cb_side_t side, int64_t limit, int fresh, const cb_bar_fx_t *b,
                       cb_fill_phase_t phase, cb_fill_quote_t *q)
{
    /* Touching the limit is not enough (the queue position is unknown): the bar must trade
     * strictly through it. */
    if (phase == CB_PHASE_AT_OPEN) {
        if (fresh)
            return 0;
        if (side == CB_BUY ? b->open < limit : b->open > limit) {
            q->price = q->ref_price = b->open;
            q->maker = 1;
            return 1;
        }
        return 0;
    }
    if (phase != CB_PHASE_LIMITS)
        return 0;
    if (side == CB_BUY ? b->low < limit : b->high > limit) {
        q->price = q->ref_price = clamp64(limit, b->low, b->high);
        q->maker = 1;
        return 1;
    }
    return 0;
}

int cb_fill_match(const cb_order_t *o, int *triggered, int fresh, const cb_bar_fx_t *b,
                  cb_fill_phase_t phase, int64_t tick, const cb_costs_t *c, cb_fill_quote_t *q)
{
    int buy = o->side == CB_BUY;
    q->maker = 0;
    switch (o->type) {
    case CB_ORDER_MARKET:
        if (phase != CB_PHASE_AT_OPEN || fresh)
            return 0;
        q->ref_price = b->open;
        q->price = slipped(o->side, b->open, c->slippage, tick, b);
        return 1;
    case CB_ORDER_LIMIT:
        return limit_match(o->side, o->limit_price, fresh, b, phase, q);
    case CB_ORDER_STOP_MARKET:
    case CB_ORDER_STOP_LIMIT: {
        int stop_limit = o->type == CB_ORDER_STOP_LIMIT;
        if (stop_limit && triggered && *triggered)
            return limit_match(o->side, o->limit_price, 0, b, phase, q);
        int64_t ref;
        if (phase == CB_PHASE_AT_OPEN) {
            if (fresh || !(buy ? b->open >= o->stop_price : b->open <= o->stop_price))
                return 0;
            ref = b->open; /* gapped past the trigger: the open is the first price */
        } else if (phase == CB_PHASE_STOPS) {
            if (!(buy ? b->high >= o->stop_price : b->low <= o->stop_price))
                return 0;
            ref = clamp64(o->stop_price, b->low, b->high);
        } else {
            return 0;
        }
        int64_t p = slipped(o->side, ref, c->slippage, tick, b);
        if (stop_limit) {
            if (triggered)
                *triggered = 1;
            /* never worse than the limit; when even the trigger price is beyond the limit
             * (a gap), the order rests as a limit */
            if (buy ? ref > o->limit_price : ref < o->limit_price)
                return 0;
            if (buy ? p > o->limit_price : p < o->limit_price)
                p = o->limit_price;
        }
        q->ref_price = ref;
        q->price = p;
        return 1;
    }
    }
    return 0;
}

cb_reject_t cb_order_check(const cb_order_t *o, const cb_instrument_t *ins)
{
    int64_t step = ins->step > 0 ? ins->step : 1, tick = ins->tick > 0 ? ins->tick : 1;
    if (o->settle)
        return o->qty > 0 && o->qty % step == 0 ? CB_REJECT_NONE : CB_REJECT_STEP;
    if (o->type == CB_ORDER_MARKET && o->side == CB_BUY && o->qty == 0) {
        if (o->quote_qty <= 0)
            return CB_REJECT_INVALID;
        if (ins->min_notional && o->quote_qty < ins->min_notional)
            return CB_REJECT_MIN_NOTIONAL;
        return CB_REJECT_NONE;
    }
    if (o->qty <= 0 || o->qty % step != 0)
        return CB_REJECT_STEP;
    int64_t px = 0;
    if (o->type == CB_ORDER_LIMIT || o->type == CB_ORDER_STOP_LIMIT) {
        if (o->limit_price <= 0)
            return CB_REJECT_PRICE;
        if (o->limit_price % tick)
            return CB_REJECT_TICK;
        px = o->limit_price;
    }
    if (o->type == CB_ORDER_STOP_MARKET || o->type == CB_ORDER_STOP_LIMIT) {
        if (o->stop_price <= 0)
            return CB_REJECT_PRICE;
        if (o->stop_price % tick)
            return CB_REJECT_TICK;
        if (!px)
            px = o->stop_price;
    }
    /* A sell whose proceeds would pass the limit is refused when it fills, not here: raising
     * a trailing stop must never be refused (the engine defers it, engine.c stop_sync). */
    if (px && ins->min_notional && cb_fx_notional(px, o->qty, 0) < ins->min_notional)
        return CB_REJECT_MIN_NOTIONAL;
    return CB_REJECT_NONE;
}

cb_reject_t cb_fill_complete(const cb_order_t *o, const cb_fill_quote_t *q,
                             const cb_instrument_t *ins, const cb_costs_t *c,
                             int64_t available_quote, int64_t time_ms, cb_fill_t *f)
{
    int64_t step = ins->step > 0 ? ins->step : 1;
    int64_t rate = q->maker ? c->maker_fee : c->taker_fee;
    int buy = o->side == CB_BUY;
    int64_t qty = o->qty;
    if (q->price <= 0)
        return CB_REJECT_PRICE; /* a price below the 1e-8 unit (it rounded to zero) */
    if (qty == 0 && buy && o->quote_qty > 0) {
        /* the most whole steps whose notional plus fee fit in quote_qty */
        if (cb_fx_qty_for_quote(o->quote_qty, q->price, rate, step, &qty))
            return CB_REJECT_RANGE;
    }
    if (qty <= 0 || qty % step != 0)
        return CB_REJECT_STEP;
    int64_t notional, fee, cost;
    if (cb_fx_mul(q->price, qty, buy, &notional))
        return buy ? CB_REJECT_BALANCE : CB_REJECT_RANGE;
    if (!o->settle && ins->min_notional && notional < ins->min_notional)
        return CB_REJECT_MIN_NOTIONAL;
    fee = cb_fx_fee(notional, rate); /* <= notional: rates are at most 100% */
    if (buy && (cb_fx_add(notional, fee, &cost) || cost > available_quote))
        return CB_REJECT_BALANCE; /* a cost beyond the limit is beyond any balance */
    int64_t dp = q->price - q->ref_price;
    memset(f, 0, sizeof *f);
    f->order_id = o->id;
    f->pair = o->pair;
    f->side = o->side;
    f->maker = q->maker;
    f->time_ms = time_ms;
    f->price = q->price;
    f->ref_price = q->ref_price;
    f->qty = qty;
    f->notional = notional;
    f->fee = fee;
    f->slippage = cb_fx_notional(dp < 0 ? -dp : dp, qty, 0);
    return CB_REJECT_NONE;
}
