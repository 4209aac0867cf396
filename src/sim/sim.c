/* The exchange simulator's market and account: a replay clock over candle series, orders of
 * one account filled against the replayed prices, balances, fees, and the audit state. The
 * HTTP side (sim_http.c) only translates Binance's wire format to these calls. */
#include "sim/sim_int.h"

#include "comeback/venue.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sim_log(cb_sim_t *sim, const char *fmt, ...)
{
    if (sim->opts.quiet)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (sim->opts.log)
        sim->opts.log(sim->opts.log_user, line);
    else
        fprintf(stderr, "exchange-sim: %s\n", line);
}

/* ---- faults ------------------------------------------------------------------------- */

static int parse_prob(const char *v, double *p, long *ms, int *n, int need_ms)
{
    char *end;
    *p = strtod(v, &end);
    if (end == v || *p < 0 || *p > 1)
        return -1;
    if (*end == ':') {
        long x = strtol(end + 1, &end, 10);
        if (x < 0 || x > 600000)
            return -1;
        if (ms)
            *ms = x;
        else if (n)
            *n = (int)x;
        else
            return -1;
    } else if (need_ms) {
        return -1;
    }
    return *end == '\0' ? 0 : -1;
}

static int faults_parse(const char *spec, sim_faults_t *f, cb_diag_t *diag)
{
    memset(f, 0, sizeof *f);
    f->seed = 1;
    f->burst429 = 1;
    f->delay_ms = 500;
    f->lost_ms = 3000;
    if (!spec || !*spec)
        return 0;
    char buf[512];
    if (strlen(spec) >= sizeof buf)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "--faults", "the fault spec is too long");
    strcpy(buf, spec);
    char *save = NULL;
    for (char *it = strtok_r(buf, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
        while (*it == ' ')
            it++;
        char *eq = strchr(it, '=');
        if (!eq)
            return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "--faults",
                               "'%s' is not KIND=VALUE (kinds: seed, 5xx, 429, delay, lost, "
                               "reject, drop)",
                               it);
        *eq = '\0';
        const char *k = it, *v = eq + 1;
        int bad = 0;
        if (strcmp(k, "seed") == 0) {
            char *end;
            f->seed = strtoull(v, &end, 10);
            bad = end == v || *end;
        } else if (strcmp(k, "5xx") == 0) {
            bad = parse_prob(v, &f->p5xx, NULL, NULL, 0);
        } else if (strcmp(k, "429") == 0) {
            bad = parse_prob(v, &f->p429, NULL, &f->burst429, 0) || f->burst429 < 1;
        } else if (strcmp(k, "delay") == 0) {
            bad = parse_prob(v, &f->pdelay, &f->delay_ms, NULL, 0);
        } else if (strcmp(k, "lost") == 0) {
            bad = parse_prob(v, &f->plost, &f->lost_ms, NULL, 0);
        } else if (strcmp(k, "reject") == 0) {
            bad = parse_prob(v, &f->preject, NULL, NULL, 0);
        } else if (strcmp(k, "drop") == 0) {
            bad = parse_prob(v, &f->pdrop, NULL, NULL, 0);
        } else {
            return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "--faults",
                               "unknown fault kind '%s' (kinds: seed, 5xx, 429, delay, lost, "
                               "reject, drop)",
                               k);
        }
        if (bad)
            return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "--faults",
                               "bad value '%s' for '%s' (a probability 0..1, with ':MS' for "
                               "delay and lost, ':N' for 429 bursts)",
                               v, k);
    }
    return 0;
}

int cb_sim_faults_check(const char *spec, cb_diag_t *diag)
{
    sim_faults_t f;
    return faults_parse(spec, &f, diag);
}

double sim_rand(cb_sim_t *sim)
{
    /* splitmix64: tiny, seedable, the same on every machine. */
    uint64_t z = (sim->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

/* ---- markets ------------------------------------------------------------------------ */

static int decimals_of(double p)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.8f", p);
    size_t n = strlen(buf);
    while (n > 0 && buf[n - 1] == '0')
        n--;
    const char *dot = strchr(buf, '.');
    return dot ? (int)((buf + n) - dot - 1) : 0;
}

static int stable_quote(const char *q)
{
    static const char *const s[] = {"USDT", "USDC", "BUSD", "FDUSD", "TUSD", "USD", "EUR", "DAI"};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        if (strcmp(q, s[i]) == 0)
            return 1;
    return 0;
}

static int market_init(sim_market_t *m, const cb_series_t *s, cb_diag_t *diag)
{
    memset(m, 0, sizeof *m);
    m->s = s;
    cb_pair_info_t *p = &m->info;
    if (cb_pair_split(s->meta.pair, p->base, sizeof p->base, p->quote, sizeof p->quote))
        return cb_diag_set(diag, CB_EINVAL, s->meta.source, 0, 0, NULL,
                           "the series has no pair like BTC/USDT (name it as PAIR=FILE or use a "
                           "store name such as binance:BTC/USDT:1h)");
    snprintf(p->pair, sizeof p->pair, "%s", s->meta.pair);
    snprintf(p->symbol, sizeof p->symbol, "%s%s", p->base, p->quote);
    if (s->n == 0)
        return cb_diag_set(diag, CB_EINVAL, s->meta.source, 0, 0, NULL, "the series is empty");
    int ps = 0;
    size_t lim = s->n < 2000 ? s->n : 2000;
    for (size_t i = 0; i < lim; i++) {
        double v[4] = {s->open[i], s->high[i], s->low[i], s->close[i]};
        for (int j = 0; j < 4; j++) {
            int d = decimals_of(v[j]);
            if (d > ps)
                ps = d;
        }
    }
    double last = s->close[s->n - 1] > 0 ? s->close[s->n - 1] : 1;
    int qs = (int)floor(log10(last)) + 1;
    qs = qs < 0 ? 0 : qs > 8 ? 8 : qs;
    /* Every price of the data, every order price and quantity and every balance must fit in
     * int64 at 1e-8 (core.h, CB_FX_MAX): the filters say so (maxPrice, maxQty), and data
     * beyond it cannot be replayed. */
    double hi = 0;
    for (size_t i = 0; i < s->n; i++)
        if (!(s->high[i] <= hi))
            hi = s->high[i];
    if (!(hi <= CB_FX_MAX_D)) {
        cb_fx_range_diag(diag, NULL, "the highest price of the series", hi, p->quote);
        diag->code = CB_EINVAL;
        snprintf(diag->file, sizeof diag->file, "%s", s->meta.source);
        return CB_EINVAL;
    }
    p->trading = 1;
    p->price_scale = ps;
    p->qty_scale = qs;
    p->tick = 1;
    p->step = 1;
    p->min_price = 1;
    p->max_price = CB_FX_MAX / cb_pow10_i64(CB_FX_SCALE - ps);
    p->min_qty = 1;
    p->max_qty = CB_FX_MAX / cb_pow10_i64(CB_FX_SCALE - qs);
    int ns = ps + qs;
    p->min_notional = stable_quote(p->quote) ? 5 * cb_pow10_i64(ns)
                                             : (ns >= 4 ? cb_pow10_i64(ns - 4) : 1);
    p->min_notional_market = 1;
    return 0;
}

sim_market_t *sim_market_find(cb_sim_t *sim, const char *name)
{
    for (size_t i = 0; name && i < sim->n_mk; i++)
        if (strcmp(sim->mk[i].info.symbol, name) == 0 || strcmp(sim->mk[i].info.pair, name) == 0)
            return &sim->mk[i];
    return NULL;
}

static int64_t px_fx(const sim_market_t *m, double p)
{
    return (int64_t)llround(p * (double)cb_pow10_i64(m->info.price_scale));
}

static sim_bar_t bar_at(const sim_market_t *m, size_t i)
{
    sim_bar_t b = {px_fx(m, m->s->open[i]), px_fx(m, m->s->high[i]), px_fx(m, m->s->low[i]),
                   px_fx(m, m->s->close[i])};
    return b;
}

int64_t sim_last_price(const cb_sim_t *sim, const sim_market_t *m)
{
    (void)sim;
    /* The price "now" is the open of the candle being formed (the backtester's next-bar open
     * from a decision taken at the previous close); after the data, the last close. */
    return m->closed < m->s->n ? px_fx(m, m->s->open[m->closed])
                               : px_fx(m, m->s->close[m->s->n - 1]);
}

/* ---- balances ----------------------------------------------------------------------- */

sim_asset_t *sim_asset(cb_sim_t *sim, const char *asset, int create)
{
    for (size_t i = 0; i < sim->n_assets; i++)
        if (strcmp(sim->assets[i].asset, asset) == 0)
            return &sim->assets[i];
    if (!create || sim->n_assets >= sizeof sim->assets / sizeof sim->assets[0])
        return NULL;
    sim_asset_t *a = &sim->assets[sim->n_assets++];
    memset(a, 0, sizeof *a);
    snprintf(a->asset, sizeof a->asset, "%s", asset);
    return a;
}

static int parse_balances(cb_sim_t *sim, const char *spec, cb_diag_t *diag)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", spec ? spec : "10000 USDT");
    char *save = NULL;
    for (char *it = strtok_r(buf, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
        char amount[64], asset[CB_EX_ASSET_MAX + 8];
        int64_t v;
        if (sscanf(it, " %63s %23s", amount, asset) != 2 || strlen(asset) >= CB_EX_ASSET_MAX ||
            cb_dec_parse(amount, (size_t)-1, CB_EX_AMOUNT_SCALE, &v) || v < 0)
            return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "--balance",
                               "'%s' is not an amount and an asset like \"10000 USDT\"", it);
        sim_asset_t *a = sim_asset(sim, asset, 1);
        if (!a)
            return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "--balance", "too many assets");
        if (cb_fx_add(a->free, v, &a->free)) {
            cb_fx_range_diag(diag, "--balance", asset, cb_fx_to_double(a->free) +
                             cb_fx_to_double(v), asset);
            return CB_EINVAL;
        }
    }
    return 0;
}

/* ---- clock -------------------------------------------------------------------------- */

int64_t sim_now_locked(cb_sim_t *sim)
{
    int64_t t = sim->base_ms + sim->advanced_ms;
    double el_ms = (double)(cb_monotonic_ns() - sim->base_ns) / 1e6;
    if (sim->opts.speed > 0)
        t += (int64_t)(el_ms * sim->opts.speed * (double)sim->tf.ms / 1000.0);
    else if (sim->opts.speed < 0)
        t += (int64_t)el_ms;
    return t;
}

/* ---- the fill model ----------------------------------------------------------------- */

/* Resting orders are matched with the backtester's fill model (venue.h, cb_fill_match), so a
 * rehearsal against the simulator fills like a backtest: each closed candle is processed in the
 * model's phases (at the open, stops, limits) and an order placed during a candle skips that
 * candle's open. Binance's take-profit (a trigger on the favourable side) is the model's limit
 * at the trigger price; a take-profit-limit triggers that way and then rests as a limit.
 * Prices here are at the pair's price scale; the model works in 1e-8 units. */
static int64_t to_fx(int64_t v, int scale) { return v * cb_pow10_i64(CB_FX_SCALE - scale); }

int sim_match(sim_order_t *so, const cb_pair_info_t *p,
              const sim_bar_t *bar, int64_t bar_time, int phase, int fresh, int64_t *fill_px,
              int *maker)
{
    int ps = p->price_scale;
    cb_order_t o;
    memset(&o, 0, sizeof o);
    o.side = so->o.side == CB_EX_BUY ? CB_BUY : CB_SELL;
    o.qty = to_fx(so->o.qty, p->qty_scale);
    cb_bar_fx_t b = {bar_time, to_fx(bar->open, ps), to_fx(bar->high, ps), to_fx(bar->low, ps),
                     to_fx(bar->close, ps)};
    switch (so->o.type) {
    case CB_EX_ORDER_MARKET:
        o.type = CB_ORDER_MARKET;
        break;
    case CB_EX_ORDER_LIMIT:
        o.type = CB_ORDER_LIMIT;
        o.limit_price = to_fx(so->o.price, ps);
        break;
    case CB_EX_ORDER_STOP_LOSS:
        o.type = CB_ORDER_STOP_MARKET;
        o.stop_price = to_fx(so->o.stop_price, ps);
        break;
    case CB_EX_ORDER_STOP_LOSS_LIMIT:
        o.type = CB_ORDER_STOP_LIMIT;
        o.stop_price = to_fx(so->o.stop_price, ps);
        o.limit_price = to_fx(so->o.price, ps);
        break;
    case CB_EX_ORDER_TAKE_PROFIT:
        o.type = CB_ORDER_LIMIT;
        o.limit_price = to_fx(so->o.stop_price, ps);
        break;
    case CB_EX_ORDER_TAKE_PROFIT_LIMIT:
        o.type = CB_ORDER_LIMIT;
        o.limit_price = to_fx(so->triggered ? so->o.price : so->o.stop_price, ps);
        break;
    default:
        return 0;
    }
    cb_costs_t costs = {0, 0, 0};
    cb_fill_quote_t q;
    int64_t tick = to_fx(p->tick, ps);
    if (!cb_fill_match(&o, &so->triggered, fresh, &b, (cb_fill_phase_t)phase, tick, &costs, &q))
        return 0;
    if (so->o.type == CB_EX_ORDER_TAKE_PROFIT_LIMIT && !so->triggered) {
        /* The trigger traded: from now on it is a limit at its own price. */
        so->triggered = 1;
        return sim_match(so, p, bar, bar_time, phase, 0, fill_px, maker);
    }
    int64_t unit = cb_pow10_i64(CB_FX_SCALE - ps);
    *fill_px = q.price / unit;
    *maker = so->o.type == CB_EX_ORDER_LIMIT ? q.maker : 0;
    return 1;
}

/* ---- accounting --------------------------------------------------------------------- */

static int64_t to_amount(int64_t v, int scale) { return v * cb_pow10_i64(8 - scale); }

int sim_dec_check(const char *v, int scale, int64_t *out)
{
    size_t n_int = strspn(v, "0123456789"), n_frac = 0;
    const char *frac = v + n_int;
    if (*frac == '.')
        n_frac = strspn(frac + 1, "0123456789");
    if (n_int < 1 || n_int > 20 ||
        (*frac && (*frac != '.' || n_frac < 1 || n_frac > 20 || frac[1 + n_frac])))
        return -1100;
    size_t sig = n_frac; /* significant decimals: trailing zeros do not count */
    while (sig && frac[sig] == '0')
        sig--;
    if (sig > 8)
        return -1111;
    int64_t v8;
    if ((int)sig > scale || cb_dec_parse(v, (size_t)-1, 8, &v8) != 0 ||
        cb_dec_parse(v, (size_t)-1, scale, out) != 0)
        return -1013;
    return *out > 0 ? 0 : -1130;
}

int sim_notional_ok(const cb_pair_info_t *p, int64_t px, int64_t qty)
{
    /* price * qty at price_scale + qty_scale (cummulativeQuoteQty) and at 8 decimals (the
     * balances) must both fit: the NOTIONAL filter's maxNotional */
    __int128 n = (__int128)px * qty;
    int s = p->price_scale + p->qty_scale;
    if (n > INT64_MAX)
        return 0;
    return s >= 8 || n <= CB_FX_MAX / cb_pow10_i64(8 - s);
}

/* px * qty at 8 decimals, through core.h's checked product; CB_FX_MAX when it does not fit
 * (more than any balance holds; order_check refuses such orders with NOTIONAL first). */
static int64_t notional_amount(int64_t px, int ps, int64_t qty, int qs, int round_up)
{
    int s = ps + qs;
    int64_t n;
    int rc = s <= 8 ? cb_fx_muldiv(px, qty, 1, 0, &n) ||
                          cb_fx_muldiv(n, cb_pow10_i64(8 - s), 1, 0, &n)
                    : cb_fx_muldiv(px, qty, cb_pow10_i64(s - 8), round_up, &n);
    return rc ? CB_FX_MAX : n;
}

static int64_t fee_of(const cb_sim_t *sim, int64_t amount)
{
    if (sim->fee_bps <= 0)
        return 0;
    return (int64_t)(((__int128)amount * sim->fee_bps + 9999) / 10000);
}

static void unlock(cb_sim_t *sim, sim_order_t *so)
{
    if (so->locked > 0) {
        sim_asset_t *a = sim_asset(sim, so->lock_asset, 1);
        if (a) {
            a->locked -= so->locked;
            a->free += so->locked;
        }
        so->locked = 0;
    }
}

/* Ends an open order as `status` (CANCELED or EXPIRED), its funds unlocked. */
static void finish(cb_sim_t *sim, sim_order_t *so, cb_ex_status_t status, int64_t t)
{
    unlock(sim, so);
    so->o.status = status;
    so->o.updated_ms = t;
    sim_ws_order_event_locked(sim, so, status == CB_EX_STATUS_CANCELED ? "CANCELED" : "EXPIRED",
                              NULL);
}

/* The quantity still fillable in candle k of market m under max_fill_fraction (a share of
 * the candle's volume, used by every order of the pair); INT64_MAX when partial fills are
 * off. */
static int64_t budget_left(cb_sim_t *sim, sim_market_t *m, size_t k)
{
    if (sim->opts.max_fill_fraction <= 0)
        return INT64_MAX;
    if (k >= m->s->n)
        k = m->s->n - 1;
    if (m->budget_k != k) {
        m->budget_k = k;
        m->budget_used = 0;
    }
    double cap = floor(sim->opts.max_fill_fraction * m->s->volume[k] *
                       (double)cb_pow10_i64(m->info.qty_scale));
    int64_t c = cap >= 9e18 ? INT64_MAX : cap > 0 ? cb_pair_round_qty(&m->info, (int64_t)cap) : 0;
    return c > m->budget_used ? c - m->budget_used : 0;
}

/* Fills q (qty_scale; at most what is left) of the order at px, from its locked funds (the
 * share of the lock for q). When it is a leg of an OCO, the other leg expires first and its
 * lock passes to this one. An order whose funds are gone (a gap beyond the locked amount)
 * expires instead. */
static void execute(cb_sim_t *sim, sim_order_t *so, int64_t px, int64_t q, int maker, int64_t t)
{
    sim_market_t *m = &sim->mk[so->market];
    const cb_pair_info_t *p = &m->info;
    if (so->sibling >= 0) {
        sim_order_t *sb = &sim->orders[so->sibling];
        if (cb_ex_status_open(sb->o.status)) {
            if (sb->locked > 0 && strcmp(sb->lock_asset, so->lock_asset) == 0) {
                so->locked += sb->locked;
                sb->locked = 0;
            }
            finish(sim, sb, CB_EX_STATUS_EXPIRED, t);
        }
    }
    int64_t left = so->o.qty - so->o.executed_qty;
    if (q > left)
        q = left;
    if (q <= 0)
        return;
    sim_asset_t *base = sim_asset(sim, p->base, 1), *quote = sim_asset(sim, p->quote, 1);
    int64_t part = q == left ? so->locked : (int64_t)((__int128)so->locked * q / left);
    if (part > 0) {
        sim_asset_t *a = sim_asset(sim, so->lock_asset, 1);
        if (a) {
            a->locked -= part;
            a->free += part;
        }
        so->locked -= part;
    }
    int64_t qty8 = to_amount(q, p->qty_scale);
    int buy = so->o.side == CB_EX_BUY;
    int64_t cost8 = notional_amount(px, p->price_scale, q, p->qty_scale, buy);
    so->o.updated_ms = t;
    if (!base || !quote || (buy && quote->free < cost8) || (!buy && base->free < qty8)) {
        sim_log(sim, "order %s expired: insufficient balance at fill time",
                so->o.client_order_id);
        finish(sim, so, CB_EX_STATUS_EXPIRED, t);
        return;
    }
    int64_t got, cum;
    if (!sim_notional_ok(p, px, q) ||
        cb_fx_add(so->o.quote_qty, px * q, &cum) ||
        cb_fx_add(buy ? base->free : quote->free, buy ? qty8 : cost8, &got) ||
        cb_fx_add(got, buy ? base->locked : quote->locked, &got)) {
        sim_log(sim, "order %s expired: the %s balance would exceed the largest representable "
                "amount 92233720368.54775807", so->o.client_order_id, buy ? p->base : p->quote);
        finish(sim, so, CB_EX_STATUS_EXPIRED, t);
        return;
    }
    int64_t fee;
    const char *fee_asset;
    if (buy) {
        quote->free -= cost8;
        fee = fee_of(sim, qty8);
        base->free += qty8 - fee;
        fee_asset = p->base;
    } else {
        base->free -= qty8;
        fee = fee_of(sim, cost8);
        quote->free += cost8 - fee;
        fee_asset = p->quote;
    }
    so->o.executed_qty += q;
    so->o.quote_qty = cum;
    so->o.status = so->o.executed_qty == so->o.qty ? CB_EX_STATUS_FILLED
                                                   : CB_EX_STATUS_PARTIALLY_FILLED;
    if (so->o.status == CB_EX_STATUS_FILLED)
        unlock(sim, so); /* what a buy locked above its fill price */
    cb_ex_fill_t fill, *f = &fill;
    if (sim->n_fills == sim->cap_fills) {
        size_t cap = sim->cap_fills ? sim->cap_fills * 2 : 64;
        cb_ex_fill_t *nf = realloc(sim->fills, cap * sizeof *nf);
        if (nf) {
            sim->fills = nf;
            sim->cap_fills = cap;
        }
    }
    if (sim->n_fills < sim->cap_fills)
        f = &sim->fills[sim->n_fills++]; /* else the audit trail lost one; balances are right */
    memset(f, 0, sizeof *f);
    f->trade_id = sim->next_trade_id++;
    f->order_id = so->o.order_id;
    memcpy(f->client_order_id, so->o.client_order_id, sizeof f->client_order_id);
    memcpy(f->pair, p->pair, sizeof f->pair);
    f->side = so->o.side;
    f->price = px;
    f->qty = q;
    f->fee = fee;
    snprintf(f->fee_asset, sizeof f->fee_asset, "%s", fee_asset);
    f->maker = maker;
    f->time_ms = t;
    sim_ws_order_event_locked(sim, so, "TRADE", f);
}

void sim_sync_locked(cb_sim_t *sim)
{
    int64_t now = sim_now_locked(sim);
    for (size_t mi = 0; mi < sim->n_mk; mi++) {
        sim_market_t *m = &sim->mk[mi];
        while (m->closed < m->s->n &&
               cb_timeframe_next(&sim->tf, m->s->time_ms[m->closed]) <= now) {
            size_t k = m->closed;
            int64_t close_t = cb_timeframe_next(&sim->tf, m->s->time_ms[k]);
            sim_bar_t bar = bar_at(m, k);
            for (int phase = CB_PHASE_AT_OPEN; phase <= CB_PHASE_LIMITS; phase++) {
                for (size_t i = 0; i < sim->n_orders; i++) {
                    sim_order_t *so = &sim->orders[i];
                    if (so->market != mi || !cb_ex_status_open(so->o.status) ||
                        so->o.created_ms >= close_t)
                        continue;
                    int64_t px;
                    int maker = 0;
                    int fresh = so->o.created_ms > m->s->time_ms[k];
                    if (!sim_match(so, &m->info, &bar, m->s->time_ms[k], phase, fresh, &px,
                                   &maker))
                        continue;
                    int64_t q = so->o.qty - so->o.executed_qty, b = budget_left(sim, m, k);
                    if (q > b)
                        q = b;
                    if (q > 0) {
                        execute(sim, so, px, q, maker, close_t - 1);
                        m->budget_used += q;
                    }
                }
            }
            m->closed++;
        }
    }
}

sim_order_t *sim_order_find(cb_sim_t *sim, const sim_market_t *m, const char *coid,
                            int64_t order_id)
{
    /* Newest first: a client order id may be reused once the older order is final. */
    for (size_t i = sim->n_orders; i > 0; i--) {
        sim_order_t *so = &sim->orders[i - 1];
        if (&sim->mk[so->market] != m)
            continue;
        if ((coid && strcmp(so->o.client_order_id, coid) == 0) ||
            (!coid && so->o.order_id == order_id))
            return so;
    }
    return NULL;
}

static int has_price_of(cb_ex_order_type_t t)
{
    return t == CB_EX_ORDER_LIMIT || t == CB_EX_ORDER_STOP_LOSS_LIMIT ||
           t == CB_EX_ORDER_TAKE_PROFIT_LIMIT;
}

/* Binance's checks of one order (filters, duplicate id, stops that would trigger now), and
 * the funds it must lock: *need of lock_asset. Returns 0 or a Binance error code with msg. */
static int order_check(cb_sim_t *sim, sim_market_t *m, const cb_ex_order_req_t *req,
                       int64_t *need, const char **lock_asset, char *msg, size_t msg_size)
{
    const cb_pair_info_t *p = &m->info;
    int64_t last = sim_last_price(sim, m);
    cb_ex_order_type_t t = req->type;
    int has_price = has_price_of(t);
    int has_stop = t != CB_EX_ORDER_MARKET && t != CB_EX_ORDER_LIMIT;
    int buy = req->side == CB_EX_BUY;
    if (req->qty <= 0 || req->qty % p->step || req->qty < p->min_qty ||
        (p->max_qty && req->qty > p->max_qty)) {
        snprintf(msg, msg_size, "Filter failure: LOT_SIZE");
        return -1013;
    }
    if ((has_price && (req->price <= 0 || req->price % p->tick ||
                       (p->max_price && req->price > p->max_price))) ||
        (has_stop && (req->stop_price <= 0 || req->stop_price % p->tick ||
                      (p->max_price && req->stop_price > p->max_price)))) {
        snprintf(msg, msg_size, "Filter failure: PRICE_FILTER");
        return -1013;
    }
    int64_t ref = has_price ? req->price : has_stop ? req->stop_price : last;
    int64_t top = ref;
    if (has_price && has_stop && req->stop_price > top)
        top = req->stop_price;
    if (last > top)
        top = last; /* a crossing limit fills at the last price */
    if ((__int128)ref * req->qty < p->min_notional || !sim_notional_ok(p, top, req->qty)) {
        snprintf(msg, msg_size, "Filter failure: NOTIONAL");
        return -1013;
    }
    for (size_t i = 0; i < sim->n_orders; i++)
        if (cb_ex_status_open(sim->orders[i].o.status) &&
            strcmp(sim->orders[i].o.client_order_id, req->client_order_id) == 0) {
            snprintf(msg, msg_size, "Duplicate order sent.");
            return -2010;
        }
    if (has_stop) {
        int down = (t == CB_EX_ORDER_STOP_LOSS || t == CB_EX_ORDER_STOP_LOSS_LIMIT) ? !buy : buy;
        if ((down && last <= req->stop_price) || (!down && last >= req->stop_price)) {
            snprintf(msg, msg_size, "Order would trigger immediately.");
            return -2010;
        }
    }
    /* Funds: what the order may spend is locked until it fills or is cancelled. */
    int64_t lock_px = has_price ? req->price : has_stop ? req->stop_price : last;
    *lock_asset = buy ? p->quote : p->base;
    *need = buy ? notional_amount(lock_px, p->price_scale, req->qty, p->qty_scale, 1)
                : to_amount(req->qty, p->qty_scale);
    return 0;
}

static int orders_reserve(cb_sim_t *sim, size_t more)
{
    if (sim->n_orders + more <= sim->cap_orders)
        return 0;
    size_t cap = sim->cap_orders ? sim->cap_orders * 2 : 64;
    sim_order_t *no = realloc(sim->orders, cap * sizeof *no);
    if (!no)
        return -1;
    sim->orders = no;
    sim->cap_orders = cap;
    return 0;
}

/* Appends a checked order (room reserved), locking `need` of lock_asset. */
static size_t order_add(cb_sim_t *sim, sim_market_t *m, const cb_ex_order_req_t *req,
                        int64_t need, const char *lock_asset)
{
    const cb_pair_info_t *p = &m->info;
    cb_ex_order_type_t t = req->type;
    sim_order_t *so = &sim->orders[sim->n_orders];
    memset(so, 0, sizeof *so);
    so->market = (size_t)(m - sim->mk);
    so->sibling = -1;
    cb_ex_order_t *o = &so->o;
    memcpy(o->pair, p->pair, sizeof o->pair);
    snprintf(o->client_order_id, sizeof o->client_order_id, "%s", req->client_order_id);
    o->order_id = sim->next_order_id++;
    o->side = req->side;
    o->type = t;
    o->status = CB_EX_STATUS_NEW;
    o->qty = req->qty;
    o->price = has_price_of(t) ? req->price : 0;
    o->stop_price = (t != CB_EX_ORDER_MARKET && t != CB_EX_ORDER_LIMIT) ? req->stop_price : 0;
    o->time_in_force = t == CB_EX_ORDER_LIMIT ? req->time_in_force : CB_EX_TIF_GTC;
    o->created_ms = o->updated_ms = sim_now_locked(sim);
    sim_asset_t *a = sim_asset(sim, lock_asset, 1);
    if (a && need > 0) {
        a->free -= need;
        a->locked += need;
        so->locked = need;
    }
    snprintf(so->lock_asset, sizeof so->lock_asset, "%s", lock_asset);
    return sim->n_orders++;
}

int sim_place_locked(cb_sim_t *sim, sim_market_t *m, const cb_ex_order_req_t *req_in,
                     size_t *out, char *msg, size_t msg_size)
{
    const cb_pair_info_t *p = &m->info;
    int64_t now = sim_now_locked(sim);
    int64_t last = sim_last_price(sim, m);
    cb_ex_order_req_t req = *req_in;
    if (req.type == CB_EX_ORDER_MARKET && req.quote_qty > 0) {
        /* quoteOrderQty: as much quantity (down to the step) as the amount buys or sells at
         * the current price. */
        int ns = p->price_scale + p->qty_scale;
        __int128 num = req.quote_qty;
        if (ns >= 8)
            num *= cb_pow10_i64(ns - 8);
        else
            num /= cb_pow10_i64(8 - ns);
        __int128 q = last > 0 ? num / last : 0;
        req.qty = q > INT64_MAX ? 0 : cb_pair_round_qty(p, (int64_t)q);
    }
    int64_t need;
    const char *lock_asset;
    int code = order_check(sim, m, &req, &need, &lock_asset, msg, msg_size);
    if (code)
        return code;
    sim_asset_t *a = sim_asset(sim, lock_asset, 1);
    if (!a || a->free < need) {
        snprintf(msg, msg_size, "Account has insufficient balance for requested action.");
        return -2010;
    }
    if (orders_reserve(sim, 1)) {
        snprintf(msg, msg_size, "Internal error; unable to process your request.");
        return -1000;
    }
    size_t idx = order_add(sim, m, &req, need, lock_asset);
    sim_order_t *so = &sim->orders[idx];
    so->quote_order_qty = req.type == CB_EX_ORDER_MARKET ? req.quote_qty : 0;
    *out = idx;
    sim_ws_order_event_locked(sim, so, "NEW", NULL);
    /* Market orders, and limit orders that cross the last price, trade now at that price,
     * as much as the candle being formed allows (all of it without partial fills). */
    int buy = req.side == CB_EX_BUY;
    int crosses = req.type == CB_EX_ORDER_LIMIT && (buy ? req.price >= last : req.price <= last);
    if (req.type == CB_EX_ORDER_MARKET || crosses) {
        int64_t q = req.qty, b = budget_left(sim, m, m->closed);
        if (so->o.time_in_force == CB_EX_TIF_FOK && b < q)
            q = 0;
        else if (q > b)
            q = b;
        if (q > 0) {
            execute(sim, so, last, q, 0, now);
            m->budget_used += q;
        }
    }
    /* What a market order or an IOC/FOK limit could not fill now expires. */
    if (cb_ex_status_open(so->o.status) &&
        (req.type == CB_EX_ORDER_MARKET || so->o.time_in_force != CB_EX_TIF_GTC))
        finish(sim, so, CB_EX_STATUS_EXPIRED, now);
    return 0;
}

int sim_place_oco_locked(cb_sim_t *sim, sim_market_t *m, const char *list_client_id,
                         const cb_ex_order_req_t legs[2], const int limit_maker[2], size_t *out,
                         char *msg, size_t msg_size)
{
    int64_t last = sim_last_price(sim, m), need[2];
    const char *asset[2];
    if (legs[0].side != legs[1].side || legs[0].qty != legs[1].qty) {
        snprintf(msg, msg_size, "Order list legs must have the same side and quantity.");
        return -1102;
    }
    if (strcmp(legs[0].client_order_id, legs[1].client_order_id) == 0) {
        snprintf(msg, msg_size, "Duplicate order sent.");
        return -2010;
    }
    for (int i = 0; i < 2; i++) {
        int code = order_check(sim, m, &legs[i], &need[i], &asset[i], msg, msg_size);
        if (code)
            return code;
        int64_t px = legs[i].type == CB_EX_ORDER_LIMIT ? legs[i].price : legs[i].stop_price;
        /* the above leg is above the price, the below leg below it */
        if (i == 0 ? px <= last : px >= last) {
            snprintf(msg, msg_size, "Order would immediately match and take.");
            return -2010;
        }
        if (limit_maker[i] && legs[i].type != CB_EX_ORDER_LIMIT) {
            snprintf(msg, msg_size, "Invalid orderType.");
            return -1116;
        }
    }
    for (size_t i = 0; i < sim->n_lists; i++)
        if (strcmp(sim->lists[i].client_id, list_client_id) == 0) {
            const sim_order_t *a = &sim->orders[sim->lists[i].legs[0]],
                              *b = &sim->orders[sim->lists[i].legs[1]];
            if (cb_ex_status_open(a->o.status) || cb_ex_status_open(b->o.status)) {
                snprintf(msg, msg_size, "Duplicate order sent.");
                return -2010;
            }
        }
    /* One lock for both legs (only one of them can execute): the larger of the two. */
    int big = need[1] > need[0];
    sim_asset_t *a = sim_asset(sim, asset[big], 1);
    if (!a || a->free < need[big]) {
        snprintf(msg, msg_size, "Account has insufficient balance for requested action.");
        return -2010;
    }
    if (orders_reserve(sim, 2)) {
        snprintf(msg, msg_size, "Internal error; unable to process your request.");
        return -1000;
    }
    if (sim->n_lists == sim->cap_lists) {
        size_t cap = sim->cap_lists ? sim->cap_lists * 2 : 16;
        sim_list_t *nl = realloc(sim->lists, cap * sizeof *nl);
        if (!nl) {
            snprintf(msg, msg_size, "Internal error; unable to process your request.");
            return -1000;
        }
        sim->lists = nl;
        sim->cap_lists = cap;
    }
    sim_list_t *l = &sim->lists[sim->n_lists];
    memset(l, 0, sizeof *l);
    l->id = (int64_t)sim->n_lists + 1;
    snprintf(l->client_id, sizeof l->client_id, "%s", list_client_id);
    l->market = (size_t)(m - sim->mk);
    l->created_ms = sim_now_locked(sim);
    for (int i = 0; i < 2; i++)
        l->legs[i] = order_add(sim, m, &legs[i], i == big ? need[i] : 0, asset[i]);
    for (int i = 0; i < 2; i++) {
        sim_order_t *so = &sim->orders[l->legs[i]];
        so->sibling = (long)l->legs[1 - i];
        so->limit_maker = limit_maker[i];
        so->o.order_list_id = l->id;
        sim_ws_order_event_locked(sim, so, "NEW", NULL);
    }
    *out = sim->n_lists++;
    return 0;
}

sim_list_t *sim_list_find(cb_sim_t *sim, const sim_market_t *m, const char *client_id,
                          int64_t list_id)
{
    for (size_t i = sim->n_lists; i > 0; i--) {
        sim_list_t *l = &sim->lists[i - 1];
        if (&sim->mk[l->market] == m &&
            ((client_id && strcmp(l->client_id, client_id) == 0) || (!client_id && l->id == list_id)))
            return l;
    }
    return NULL;
}

int sim_cancel_locked(cb_sim_t *sim, size_t idx, char *msg, size_t msg_size)
{
    sim_order_t *so = &sim->orders[idx];
    if (!cb_ex_status_open(so->o.status)) {
        snprintf(msg, msg_size, "Unknown order sent.");
        return -2011;
    }
    int64_t now = sim_now_locked(sim);
    finish(sim, so, CB_EX_STATUS_CANCELED, now);
    /* Cancelling one leg of an OCO cancels the list. */
    if (so->sibling >= 0 && cb_ex_status_open(sim->orders[so->sibling].o.status))
        finish(sim, &sim->orders[so->sibling], CB_EX_STATUS_CANCELED, now);
    return 0;
}

int cb_sim_deposit(cb_sim_t *sim, const char *asset, int64_t delta)
{
    if (!asset || !*asset || strlen(asset) >= CB_EX_ASSET_MAX)
        return CB_EINVAL;
    pthread_mutex_lock(&sim->mu);
    sim_asset_t *a = sim_asset(sim, asset, 1);
    int r = 0;
    int64_t total;
    if (!a || (delta < 0 && a->free < -delta)) {
        r = CB_EINVAL;
    } else if (cb_fx_add(a->free, delta, &total) || cb_fx_add(total, a->locked, &total)) {
        r = CB_ERANGE; /* free + locked must stay representable */
    } else {
        a->free += delta;
        sim_ws_balance_event_locked(sim, asset, delta);
    }
    pthread_mutex_unlock(&sim->mu);
    return r;
}

/* ---- signed requests ---------------------------------------------------------------- */

int sim_check_key_locked(cb_sim_t *sim, const char *key, char *msg, size_t msg_size)
{
    if (!key || !*key) {
        snprintf(msg, msg_size, "API-key format invalid.");
        return -2014;
    }
    if (sim->keys && strcmp(key, cb_api_keys_key(sim->keys)) != 0) {
        snprintf(msg, msg_size, "Invalid API-key, IP, or permissions for action.");
        return -2015;
    }
    return 0;
}

int sim_check_time_locked(cb_sim_t *sim, int64_t ts, int64_t rw, char *msg, size_t msg_size)
{
    if (rw > 60000) {
        snprintf(msg, msg_size, "recvWindow must be less than 60000");
        return -1131;
    }
    /* The market clock may run faster than real time: the receive window is stretched by
     * the same factor, so a client that synced its clock recently stays inside it. */
    double rate = sim->opts.speed > 0 ? sim->opts.speed * (double)sim->tf.ms / 1000.0 : 1.0;
    if (rate < 1)
        rate = 1;
    int64_t now = sim_now_locked(sim);
    /* While paused the server clock stands still and real time goes on: only stale
     * timestamps are refused then. */
    if (sim->opts.speed != 0 && (double)(ts - now) >= 1000.0 * rate) {
        snprintf(msg, msg_size, "Timestamp for this request was 1000ms ahead of the server's time.");
        return -1021;
    }
    if ((double)(now - ts) > (double)rw * rate) {
        snprintf(msg, msg_size, "Timestamp for this request is outside of the recvWindow.");
        return -1021;
    }
    return 0;
}

int sim_signature_ok(cb_sim_t *sim, const char *payload, size_t len, const char *sig)
{
    if (!sim->keys)
        return 1;
    return cb_api_keys_verify(sim->keys, payload, len, sig);
}

/* ---- formatting and state ----------------------------------------------------------- */

void sim_fmt8(int64_t v, int scale, char *buf, size_t size)
{
    /* the digits at `scale`, then zeros up to 8 decimals (multiplying first could wrap) */
    size_t n = cb_dec_format_fixed(v, scale, buf, size);
    if (scale >= 8 || n >= size)
        return;
    if (scale == 0 && n + 1 < size)
        buf[n++] = '.';
    for (int k = scale; k < 8 && n + 1 < size; k++)
        buf[n++] = '0';
    buf[n] = '\0';
}

char *cb_sim_state_json(cb_sim_t *sim)
{
    pthread_mutex_lock(&sim->mu);
    sim_sync_locked(sim);
    json_t *root = json_object(), *orders = json_array(), *fills = json_array(),
           *bal = json_object();
    char a[48], b[48], c[48];
    for (size_t i = 0; i < sim->n_orders; i++) {
        const cb_ex_order_t *o = &sim->orders[i].o;
        const cb_pair_info_t *p = &sim->mk[sim->orders[i].market].info;
        cb_dec_format(o->qty, p->qty_scale, a, sizeof a);
        cb_dec_format(o->executed_qty, p->qty_scale, b, sizeof b);
        cb_dec_format(o->price, p->price_scale, c, sizeof c);
        json_array_append_new(
            orders, json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}",
                              "client_order_id", o->client_order_id, "order_id",
                              (json_int_t)o->order_id, "pair", o->pair, "side",
                              cb_ex_side_name(o->side), "type", cb_ex_order_type_name(o->type),
                              "status", cb_ex_status_name(o->status), "quantity", a,
                              "executed_quantity", b, "price", c, "created_ms",
                              (json_int_t)o->created_ms, "updated_ms",
                              (json_int_t)o->updated_ms));
    }
    for (size_t i = 0; i < sim->n_fills; i++) {
        const cb_ex_fill_t *f = &sim->fills[i];
        const sim_market_t *m = sim_market_find(sim, f->pair);
        cb_dec_format(f->price, m->info.price_scale, a, sizeof a);
        cb_dec_format(f->qty, m->info.qty_scale, b, sizeof b);
        cb_dec_format(f->fee, CB_EX_AMOUNT_SCALE, c, sizeof c);
        json_array_append_new(
            fills, json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "trade_id",
                             (json_int_t)f->trade_id, "order_id", (json_int_t)f->order_id,
                             "client_order_id", f->client_order_id, "pair", f->pair, "side",
                             cb_ex_side_name(f->side), "price", a, "quantity", b, "fee", c,
                             "fee_asset", f->fee_asset, "time_ms", (json_int_t)f->time_ms));
    }
    for (size_t i = 0; i < sim->n_assets; i++) {
        cb_dec_format(sim->assets[i].free, CB_EX_AMOUNT_SCALE, a, sizeof a);
        cb_dec_format(sim->assets[i].locked, CB_EX_AMOUNT_SCALE, b, sizeof b);
        json_object_set_new(bal, sim->assets[i].asset, json_pack("{s:s, s:s}", "free", a,
                                                                 "locked", b));
    }
    json_object_set_new(root, "time_ms", json_integer((json_int_t)sim_now_locked(sim)));
    json_object_set_new(root, "orders", orders);
    json_object_set_new(root, "fills", fills);
    json_object_set_new(root, "balances", bal);
    /* what fault injection did so far, for soak runs and tests that count it */
    const cb_sim_fault_counts_t *fc = &sim->counts;
    json_object_set_new(root, "faults",
                        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "5xx", (json_int_t)fc->http5xx,
                                  "429", (json_int_t)fc->http429, "delay", (json_int_t)fc->delay,
                                  "lost", (json_int_t)fc->lost, "reject", (json_int_t)fc->reject,
                                  "drop", (json_int_t)fc->drop));
    pthread_mutex_unlock(&sim->mu);
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return s;
}

/* ---- life cycle --------------------------------------------------------------------- */

int cb_sim_new(const cb_sim_opts_t *opts, cb_sim_t **out, cb_diag_t *diag)
{
    *out = NULL;
    if (!opts || !opts->series || opts->n_series == 0)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "--data",
                           "the simulator needs at least one series");
    cb_sim_t *sim = calloc(1, sizeof *sim);
    if (!sim)
        return cb_diag_set(diag, CB_ENOMEM, NULL, 0, 0, NULL, NULL);
    sim->opts = *opts;
    pthread_mutex_init(&sim->mu, NULL);
    int r = 0;
    sim->mk = calloc(opts->n_series, sizeof *sim->mk);
    if (!sim->mk) {
        r = cb_diag_set(diag, CB_ENOMEM, NULL, 0, 0, NULL, NULL);
        goto fail;
    }
    for (size_t i = 0; i < opts->n_series; i++) {
        const cb_series_t *s = opts->series[i];
        cb_timeframe_t tf;
        if (cb_timeframe_parse(s->meta.timeframe, &tf) || tf.months) {
            r = cb_diag_set(diag, CB_EINVAL, s->meta.source, 0, 0, NULL,
                            "the series has no fixed timeframe (got \"%s\")", s->meta.timeframe);
            goto fail;
        }
        if (i == 0)
            sim->tf = tf;
        else if (tf.ms != sim->tf.ms) {
            r = cb_diag_set(diag, CB_EINVAL, s->meta.source, 0, 0, NULL,
                            "all series must share one timeframe (%s vs %s)", tf.name,
                            sim->tf.name);
            goto fail;
        }
        if ((r = market_init(&sim->mk[i], s, diag)))
            goto fail;
        for (size_t j = 0; j < i; j++)
            if (strcmp(sim->mk[j].info.symbol, sim->mk[i].info.symbol) == 0) {
                r = cb_diag_set(diag, CB_EINVAL, s->meta.source, 0, 0, NULL,
                                "pair %s is given twice", sim->mk[i].info.pair);
                goto fail;
            }
        sim->n_mk++;
    }
    if (!(opts->max_fill_fraction >= 0 && opts->max_fill_fraction <= 1)) {
        r = cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "--max-fill-fraction",
                        "the share of a candle's volume an order may fill must be between 0 "
                        "and 1 (got %g)", opts->max_fill_fraction);
        goto fail;
    }
    if ((r = faults_parse(opts->faults, &sim->faults, diag)))
        goto fail;
    sim->rng = sim->faults.seed;
    if ((r = parse_balances(sim, opts->balance, diag)))
        goto fail;
    if (opts->keys && (r = cb_api_keys_dup(opts->keys, &sim->keys))) {
        cb_diag_set(diag, r, NULL, 0, 0, NULL, NULL);
        goto fail;
    }
    sim->opts.keys = NULL;
    sim->fee_bps = opts->fee_bps == 0 ? 10 : opts->fee_bps;
    sim->weight_limit = opts->weight_limit > 0 ? opts->weight_limit : 6000;
    sim->next_order_id = 1;
    sim->next_trade_id = 1;
    int64_t first = INT64_MAX, last = INT64_MIN;
    for (size_t i = 0; i < sim->n_mk; i++) {
        const cb_series_t *s = sim->mk[i].s;
        if (s->time_ms[0] < first)
            first = s->time_ms[0];
        int64_t end = cb_timeframe_next(&sim->tf, s->time_ms[s->n - 1]);
        if (end > last)
            last = end;
    }
    sim->base_ms = opts->start_ms == 0 ? first : opts->start_ms == INT64_MAX ? last
                                                                             : opts->start_ms;
    sim->base_ns = cb_monotonic_ns();
    pthread_mutex_lock(&sim->mu);
    sim_sync_locked(sim);
    pthread_mutex_unlock(&sim->mu);
    *out = sim;
    return 0;
fail:
    cb_sim_free(sim);
    return r;
}

int cb_sim_start(cb_sim_t *sim, cb_diag_t *diag)
{
    int r = sim_http_start(sim, diag);
    if (r == 0 && sim->opts.ws_port >= 0)
        r = sim_ws_start(sim, diag);
    return r;
}

int cb_sim_port(const cb_sim_t *sim) { return sim->port; }
int cb_sim_ws_port(const cb_sim_t *sim) { return sim->ws ? sim->ws_port : 0; }

void cb_sim_advance(cb_sim_t *sim, int64_t n_candles)
{
    pthread_mutex_lock(&sim->mu);
    sim->advanced_ms += n_candles * sim->tf.ms;
    sim_sync_locked(sim);
    pthread_mutex_unlock(&sim->mu);
}

int64_t cb_sim_time(cb_sim_t *sim)
{
    pthread_mutex_lock(&sim->mu);
    int64_t t = sim_now_locked(sim);
    pthread_mutex_unlock(&sim->mu);
    return t;
}

void cb_sim_fault_counts(cb_sim_t *sim, cb_sim_fault_counts_t *out)
{
    pthread_mutex_lock(&sim->mu);
    *out = sim->counts;
    pthread_mutex_unlock(&sim->mu);
}

void cb_sim_free(cb_sim_t *sim)
{
    if (!sim)
        return;
    sim_ws_stop(sim);
    sim_http_stop(sim);
    cb_api_keys_free(sim->keys);
    free(sim->mk);
    free(sim->orders);
    free(sim->lists);
    free(sim->fills);
    pthread_mutex_destroy(&sim->mu);
    free(sim);
}
