/* Indicators beyond TA-Lib that crypto traders ask for, each from its published definition
 * (cited per indicator below and in docs/indicators.md): vwap, vwap_session, hma, supertrend,
 * donchian, keltner, ichimoku, heikinashi, zscore. Batch and streaming share the step
 * functions and do the same floating-point operations in the same order. */
#include "ta/ta_more_int.h"

static double typical(double h, double l, double c)
{
    return (h + l + c) / 3;
}

/* ====================================================================================== */
/* VWAP over a rolling window (vwap, period 1..100000, default 20).                        */
/* Berkowitz, Logue and Noser, "The Total Cost of Transactions on the NYSE", Journal of   */
/* Finance 43(1), 1988: VWAP = sum(price*volume)/sum(volume). Per bar the price is the    */
/* typical price (high+low+close)/3, as in TradingView's VWAP (source hlc3). A window     */
/* without volume has no volume weights: its VWAP is then the plain mean of the typical   */
/* prices (all weights equal). A window of flat candles (high = low = close, one price for */
/* every bar: a maintenance stretch, a pair that does not trade) has that price as its     */
/* VWAP exactly, whatever the volumes: (c+c+c)/3 and sum(tp*v)/sum(v) miss it by ulps.     */
/* Lookback period-1.                                                                      */

typedef struct vwap_acc {
    double pv, v, tp; /* sums of tp*volume, volume, tp */
    int64_t nz;       /* bars with volume != 0 in the window */
    int64_t run;      /* flat candles at `price` ending at the newest bar */
    double price;     /* the newest close */
} vwap_acc_t;

/* Counts the run of flat candles at one price that bar (h, l, c) extends; bits compared as
 * integers, without a branch (such candles come at random on a coarse tick). */
static void vwap_candle(vwap_acc_t *a, double h, double l, double c)
{
    uint64_t hb, lb, cb, pb;
    memcpy(&hb, &h, sizeof hb);
    memcpy(&lb, &l, sizeof lb);
    memcpy(&cb, &c, sizeof cb);
    memcpy(&pb, &a->price, sizeof pb);
    int flat = (hb == lb) & (lb == cb);
    a->run = cb_ta_run_next(a->run & -(int64_t)(cb == pb), 1) & -(int64_t)flat;
    a->price = c;
}

static void vwap_add(vwap_acc_t *a, double tp, double vol)
{
    a->pv += tp * vol;
    a->v += vol;
    a->tp += tp;
    a->nz += vol != 0.0;
}

static void vwap_remove(vwap_acc_t *a, double tp, double vol)
{
    a->pv -= tp * vol;
    a->v -= vol;
    a->tp -= tp;
    a->nz -= vol != 0.0;
    if (a->nz == 0) /* no volume left: drop the rounding residue exactly */
        a->pv = a->v = 0.0;
}

static double vwap_value(const vwap_acc_t *a, double count)
{
    if ((double)a->run >= count)
        return a->price;
    if (a->nz == 0 || a->v == 0.0)
        return a->tp / count;
    return a->pv / a->v;
}

static int vwap_lookback(const double *opts)
{
    return cb_ta_iopt(opts, 0) - 1;
}

static void vwap_batch(size_t n, const double *const *in, const double *opts,
                       double *const *out)
{
    size_t p = (size_t)cb_ta_iopt(opts, 0);
    const double *h = in[0], *l = in[1], *c = in[2], *v = in[3];
    vwap_acc_t a;
    memset(&a, 0, sizeof a);
    for (size_t t = 0; t < n; t++) {
        vwap_candle(&a, h[t], l[t], c[t]);
        vwap_add(&a, typical(h[t], l[t], c[t]), v[t]);
        if (t + 1 >= p) {
            out[0][t] = vwap_value(&a, (double)p);
            size_t k = t + 1 - p;
            vwap_remove(&a, typical(h[k], l[k], c[k]), v[k]);
        }
    }
}

typedef struct vwap_state {
    vwap_acc_t a;
    cb_ta_ring_t tp, vol;
} vwap_state_t;

static size_t vwap_size(const double *opts)
{
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(vwap_state_t));
    cb_ta_layout_add(&l, (size_t)cb_ta_iopt(opts, 0) * sizeof(double));
    cb_ta_layout_add(&l, (size_t)cb_ta_iopt(opts, 0) * sizeof(double));
    return l.off;
}

static void vwap_init(void *st, const double *opts)
{
    vwap_state_t *s = st;
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(vwap_state_t));
    memset(&s->a, 0, sizeof s->a);
    cb_ta_ring_place(&s->tp, &l, (size_t)cb_ta_iopt(opts, 0));
    cb_ta_ring_place(&s->vol, &l, (size_t)cb_ta_iopt(opts, 0));
}

static void vwap_update(void *st, const double *in, double *out)
{
    vwap_state_t *s = st;
    double tp = typical(in[0], in[1], in[2]), dropped;
    vwap_candle(&s->a, in[0], in[1], in[2]);
    vwap_add(&s->a, tp, in[3]);
    cb_ta_ring_push(&s->tp, st, tp, &dropped);
    cb_ta_ring_push(&s->vol, st, in[3], &dropped);
    out[0] = NAN;
    if (s->tp.n == s->tp.cap) {
        out[0] = vwap_value(&s->a, (double)s->tp.cap);
        vwap_remove(&s->a, cb_ta_ring_get(&s->tp, st, 0), cb_ta_ring_get(&s->vol, st, 0));
    }
}

CB_TA_DEFINE(vwap, .title = "Volume Weighted Average Price (rolling)",
             .reference = "Berkowitz, Logue and Noser, J. Finance 43(1) 1988; typical price",
             .n_inputs = 4, .inputs = {"high", "low", "close", "volume"}, .n_opts = 1,
             .opts = {{"period", 20, 1, 100000, 1}}, .n_outputs = 1, .outputs = {"vwap"})

/* ====================================================================================== */
/* VWAP anchored to the UTC day (vwap_session): the same definition, summed from the first */
/* bar whose open time falls on the current UTC calendar day (it resets at 00:00 UTC, as   */
/* TradingView's session VWAP with anchor "Session" on a 24h market). Input "time" is the  */
/* bar open time in ms. Lookback 0.                                                         */

#define MS_PER_DAY 86400000LL

static int64_t utc_day(double time_ms)
{
    /* a time outside int64 milliseconds (only garbage input has one) is clamped, since the
     * conversion of an out-of-range double is undefined (NaN is clamped too) */
    if (!(time_ms > -9.2e18))
        time_ms = -9.2e18;
    else if (time_ms > 9.2e18)
        time_ms = 9.2e18;
    int64_t t = (int64_t)time_ms;
    int64_t d = t / MS_PER_DAY;
    return (t % MS_PER_DAY < 0) ? d - 1 : d;
}

typedef struct vwap_session_state {
    vwap_acc_t a;
    int64_t day, count;
} vwap_session_state_t;

static int vwap_session_lookback(const double *opts)
{
    (void)opts;
    return 0;
}

static double vwap_session_step(vwap_session_state_t *s, const double *bar)
{
    int64_t day = utc_day(bar[4]);
    if (s->count == 0 || day != s->day) {
        memset(&s->a, 0, sizeof s->a);
        s->day = day;
        s->count = 0;
    }
    s->count++;
    vwap_candle(&s->a, bar[0], bar[1], bar[2]);
    vwap_add(&s->a, typical(bar[0], bar[1], bar[2]), bar[3]);
    return vwap_value(&s->a, (double)s->count);
}

static void vwap_session_batch(size_t n, const double *const *in, const double *opts,
                               double *const *out)
{
    (void)opts;
    vwap_session_state_t s;
    memset(&s, 0, sizeof s);
    for (size_t t = 0; t < n; t++) {
        double bar[5] = {in[0][t], in[1][t], in[2][t], in[3][t], in[4][t]};
        out[0][t] = vwap_session_step(&s, bar);
    }
}

static size_t vwap_session_size(const double *opts)
{
    (void)opts;
    return sizeof(vwap_session_state_t);
}

static void vwap_session_init(void *st, const double *opts)
{
    (void)opts;
    memset(st, 0, sizeof(vwap_session_state_t));
}

static void vwap_session_update(void *st, const double *in, double *out)
{
    out[0] = vwap_session_step(st, in);
}

CB_TA_DEFINE_SCALAR(vwap_session, vwap_session_state_t, .title = "Volume Weighted Average Price (UTC-day session)",
             .reference = "Berkowitz, Logue and Noser, J. Finance 43(1) 1988; reset 00:00 UTC",
             .n_inputs = 5, .inputs = {"high", "low", "close", "volume", "time"}, .n_opts = 0,
             .n_outputs = 1, .outputs = {"vwap_session"})

/* ====================================================================================== */
/* HMA (period 2..100000, default 20). Alan Hull, "Hull Moving Average" (2005,            */
/* alanhull.com): HMA = WMA(2*WMA(x, n/2) - WMA(x, n), sqrt(n)), n/2 and sqrt(n) rounded  */
/* down (as Tulip and backtrader). WMA weights 1..k, newest heaviest. Lookback            */
/* (n-1) + (floor(sqrt(n))-1).                                                             */

/* Running WMA: wsum holds the weighted sum, sum the plain sum of the window. Each push adds
 * x with weight k and then lowers every weight by one; `oldest` (the value k-1 bars before
 * x) leaves after the output. */
typedef struct wma_acc {
    double k, div, wsum, sum;
    int64_t count;
} wma_acc_t;

static void wma_acc_init(wma_acc_t *w, int k)
{
    w->k = (double)k;
    w->div = (double)k * ((double)k + 1.0) / 2.0;
    w->wsum = w->sum = 0.0;
    w->count = 0;
}

static double wma_acc_push(wma_acc_t *w, double x, double oldest)
{
    w->sum += x;
    w->wsum += w->k * x;
    int full = (double)(++w->count) >= w->k;
    double out = full ? w->wsum / w->div : NAN;
    w->wsum -= w->sum;
    if (full)
        w->sum -= oldest;
    return out;
}

static int hma_sqrt(int n)
{
    return (int)floor(sqrt((double)n));
}

static int hma_lookback(const double *opts)
{
    int n = cb_ta_iopt(opts, 0);
    return (n - 1) + (hma_sqrt(n) - 1);
}

/* diff_t = 2*WMA(n/2) - WMA(n) at bar t, for a pair of accumulators fed bar by bar. */
static double hma_diff(wma_acc_t *half, wma_acc_t *full, const double *x, int64_t t, int n)
{
    int64_t h = n / 2;
    double a = wma_acc_push(half, x[t], t - h + 1 >= 0 ? x[t - h + 1] : 0.0);
    double b = wma_acc_push(full, x[t], t - n + 1 >= 0 ? x[t - n + 1] : 0.0);
    return 2.0 * a - b;
}

/* The final WMA needs the diff leaving its window; batch recomputes it with a second pair of
 * accumulators running s-1 bars behind (the same operations, so the very same numbers).
 * When the last lookback+1 inputs are identical (cb_ta_flat_t) the HMA is that value exactly;
 * the accumulators go on untouched. */
static void hma_batch(size_t n, const double *const *in, const double *opts,
                      double *const *out)
{
    int p = cb_ta_iopt(opts, 0), s = hma_sqrt(p);
    const double *x = in[0];
    wma_acc_t half, full, lag_half, lag_full, fin;
    wma_acc_init(&half, p / 2);
    wma_acc_init(&full, p);
    wma_acc_init(&lag_half, p / 2);
    wma_acc_init(&lag_full, p);
    wma_acc_init(&fin, s);
    int64_t run = 0, window = p + s - 1;
    double last = 0.0;
    for (int64_t t = 0; t < (int64_t)n; t++) {
        run = cb_ta_flat_next(run, last, x[t]);
        last = x[t];
        double d = hma_diff(&half, &full, x, t, p);
        int64_t u = t - (s - 1);
        double old = 0.0;
        if (u >= 0)
            old = hma_diff(&lag_half, &lag_full, x, u, p);
        if (t >= p - 1) {
            double v = wma_acc_push(&fin, d, old);
            if (!isnan(v))
                out[0][t] = v;
            if (run >= window)
                out[0][t] = x[t];
        }
    }
}

typedef struct hma_state {
    wma_acc_t half, full, fin;
    cb_ta_flat_t flat;
    int64_t n;
    cb_ta_ring_t x, d; /* the last p inputs, the last s diffs */
} hma_state_t;

static size_t hma_size(const double *opts)
{
    int p = cb_ta_iopt(opts, 0);
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(hma_state_t));
    cb_ta_layout_add(&l, (size_t)p * sizeof(double));
    cb_ta_layout_add(&l, (size_t)hma_sqrt(p) * sizeof(double));
    return l.off;
}

static void hma_init(void *st, const double *opts)
{
    hma_state_t *s = st;
    int p = cb_ta_iopt(opts, 0);
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(hma_state_t));
    wma_acc_init(&s->half, p / 2);
    wma_acc_init(&s->full, p);
    wma_acc_init(&s->fin, hma_sqrt(p));
    cb_ta_flat_reset(&s->flat);
    s->n = 0;
    cb_ta_ring_place(&s->x, &l, (size_t)p);
    cb_ta_ring_place(&s->d, &l, (size_t)hma_sqrt(p));
}

static void hma_update(void *st, const double *in, double *out)
{
    hma_state_t *s = st;
    double dropped;
    out[0] = NAN;
    cb_ta_ring_push(&s->x, st, in[0], &dropped);
    int64_t run = cb_ta_flat_push(&s->flat, in[0]);
    size_t h = (size_t)s->half.k, p = (size_t)s->full.k;
    /* the value k-1 bars back (0.0 while the ring is shorter: not used then) */
    double old_h = s->x.n >= h ? cb_ta_ring_ago(&s->x, st, h - 1) : 0.0;
    double old_p = s->x.n >= p ? cb_ta_ring_ago(&s->x, st, p - 1) : 0.0;
    double a = wma_acc_push(&s->half, in[0], old_h);
    double b = wma_acc_push(&s->full, in[0], old_p);
    if (s->n++ < (int64_t)p - 1)
        return;
    double d = 2.0 * a - b;
    cb_ta_ring_push(&s->d, st, d, &dropped);
    size_t k = (size_t)s->fin.k;
    double old = s->d.n >= k ? cb_ta_ring_ago(&s->d, st, k - 1) : 0.0;
    out[0] = wma_acc_push(&s->fin, d, old);
    if (run >= (int64_t)(p + k - 1))
        out[0] = in[0];
}

CB_TA_DEFINE(hma, .title = "Hull Moving Average",
             .reference = "Alan Hull, Hull Moving Average (2005)", .n_inputs = 1,
             .inputs = {"real"}, .n_opts = 1, .opts = {{"period", 20, 2, 100000, 1}},
             .n_outputs = 1, .outputs = {"hma"})

/* ====================================================================================== */
/* SUPERTREND (period 1..100000 default 10, multiplier 0..1000 default 3): outputs value,  */
/* direction. Olivier Seban's SuperTrend as TradingView's ta.supertrend computes it:       */
/* bands hl2 +- multiplier*ATR (Wilder's ATR, TA-Lib's seeding, see atr); the lower band   */
/* only rises and the upper only falls while the previous close stays on their side; the  */
/* trend turns up when the close crosses above the upper band, down when it crosses below */
/* the lower band; the value is the lower band in an uptrend, the upper band in a         */
/* downtrend. direction = +1 up, -1 down (TradingView's ta.supertrend returns the opposite */
/* sign). The first bar starts down, as TradingView does. Lookback = period.              */

typedef struct supertrend_state {
    tm_atr_t atr;
    double mult, prev_close, upper, lower;
    int64_t n;
    double dir;
} supertrend_state_t;

static int supertrend_lookback(const double *opts)
{
    return cb_ta_iopt(opts, 0);
}

static void supertrend_reset(supertrend_state_t *s, const double *opts)
{
    memset(s, 0, sizeof *s);
    tm_atr_init(&s->atr, cb_ta_iopt(opts, 0));
    s->mult = opts[1];
}

static void supertrend_step(supertrend_state_t *s, double h, double l, double c, double *out)
{
    double atr = tm_atr_step(&s->atr, h, l, c);
    double prev_close = s->prev_close;
    s->prev_close = c;
    out[0] = out[1] = NAN;
    if (isnan(atr))
        return;
    double hl2 = (h + l) / 2.0;
    double upper = hl2 + s->mult * atr, lower = hl2 - s->mult * atr;
    if (s->n++ == 0) {
        s->dir = -1.0;
    } else {
        if (!(lower > s->lower || prev_close < s->lower))
            lower = s->lower;
        if (!(upper < s->upper || prev_close > s->upper))
            upper = s->upper;
        if (s->dir < 0)
            s->dir = c > upper ? 1.0 : -1.0;
        else
            s->dir = c < lower ? -1.0 : 1.0;
    }
    s->upper = upper;
    s->lower = lower;
    out[0] = s->dir > 0 ? lower : upper;
    out[1] = s->dir;
}

static void supertrend_batch(size_t n, const double *const *in, const double *opts,
                             double *const *out)
{
    supertrend_state_t s;
    supertrend_reset(&s, opts);
    for (size_t t = 0; t < n; t++) {
        double o[2];
        supertrend_step(&s, in[0][t], in[1][t], in[2][t], o);
        out[0][t] = o[0];
        out[1][t] = o[1];
    }
}

static size_t supertrend_size(const double *opts)
{
    (void)opts;
    return sizeof(supertrend_state_t);
}

static void supertrend_init(void *st, const double *opts)
{
    supertrend_reset(st, opts);
}

static void supertrend_update(void *st, const double *in, double *out)
{
    supertrend_step(st, in[0], in[1], in[2], out);
}

CB_TA_DEFINE_SCALAR(supertrend, supertrend_state_t, .title = "SuperTrend",
             .reference = "Olivier Seban's SuperTrend; TradingView ta.supertrend", .n_inputs = 3,
             .inputs = {"high", "low", "close"}, .n_opts = 2,
             .opts = {{"period", 10, 1, 100000, 1}, {"multiplier", 3, 0, 1000, 0}},
             .n_outputs = 2, .outputs = {"value", "direction"})

/* ====================================================================================== */
/* DONCHIAN (period 1..100000, default 20): outputs upper, middle, lower. Richard          */
/* Donchian's price channel: upper = highest high and lower = lowest low of the last       */
/* `period` bars including the current one, middle = (upper+lower)/2 (as TradingView's    */
/* DC). Lookback period-1.                                                                 */

static int donchian_lookback(const double *opts)
{
    return cb_ta_iopt(opts, 0) - 1;
}

/* Batch: the shared van Herk/Gil-Werman kernel writes the rolling extremes straight into the
 * upper and lower outputs, O(1) per bar whatever the period. */
static void donchian_batch(size_t n, const double *const *in, const double *opts,
                           double *const *out)
{
    size_t p = (size_t)cb_ta_iopt(opts, 0);
    cb_ta_rolling_extreme_(in[0], n, p, out[0], 1);
    cb_ta_rolling_extreme_(in[1], n, p, out[2], 0);
    for (size_t t = p - 1; t < n; t++)
        out[1][t] = (out[0][t] + out[2][t]) / 2.0;
}

static size_t donchian_size(const double *opts)
{
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(tm_hilo_t));
    tm_hilo_t w;
    tm_hilo_place(&w, &l, cb_ta_iopt(opts, 0));
    return l.off;
}

static void donchian_init(void *st, const double *opts)
{
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(tm_hilo_t));
    tm_hilo_place(st, &l, cb_ta_iopt(opts, 0));
}

static void donchian_update(void *st, const double *in, double *out)
{
    tm_hilo_push(st, st, in[0], in[1]);
    double hi = tm_hilo_high(st, st), lo = tm_hilo_low(st, st);
    out[0] = hi;
    out[1] = (hi + lo) / 2.0;
    out[2] = lo;
}

CB_TA_DEFINE(donchian, .title = "Donchian Channels",
             .reference = "Richard Donchian's price channel (TradingView DC)", .n_inputs = 2,
             .inputs = {"high", "low"}, .n_opts = 1, .opts = {{"period", 20, 1, 100000, 1}},
             .n_outputs = 3, .outputs = {"upper", "middle", "lower"})

/* ====================================================================================== */
/* KELTNER (period 2..100000 default 20, multiplier 0..1000 default 2, atr_period          */
/* 1..100000 default 10): outputs upper, middle, lower. Linda Raschke's modern Keltner     */
/* Channels as StockCharts' ChartSchool defines them: middle = EMA(close, period), bands = */
/* middle +- multiplier * ATR(atr_period). The EMA is TA-Lib's (seeded with the SMA of the */
/* first `period` closes, see ema); the ATR is Wilder's, TA-Lib's (see atr).               */
/* Lookback max(period-1, atr_period).                                                     */

typedef struct keltner_state {
    tm_atr_t atr;
    double k, period, ema, mult;
    int64_t seen;
} keltner_state_t;

static int keltner_lookback(const double *opts)
{
    int a = cb_ta_iopt(opts, 0) - 1, b = cb_ta_iopt(opts, 2);
    return a > b ? a : b;
}

static void keltner_reset(keltner_state_t *s, const double *opts)
{
    memset(s, 0, sizeof *s);
    tm_atr_init(&s->atr, cb_ta_iopt(opts, 2));
    s->period = (double)cb_ta_iopt(opts, 0);
    s->k = cb_ta_ema_k(cb_ta_iopt(opts, 0));
    s->mult = opts[1];
}

static void keltner_step(keltner_state_t *s, double h, double l, double c, double *out)
{
    double atr = tm_atr_step(&s->atr, h, l, c);
    if ((double)s->seen < s->period) {
        s->ema += c;
        if ((double)(++s->seen) == s->period)
            s->ema /= s->period;
    } else {
        s->ema = cb_ta_ema_step(s->ema, c, s->k);
    }
    out[0] = out[1] = out[2] = NAN;
    if ((double)s->seen < s->period || isnan(atr))
        return;
    out[0] = s->ema + s->mult * atr;
    out[1] = s->ema;
    out[2] = s->ema - s->mult * atr;
}

static void keltner_batch(size_t n, const double *const *in, const double *opts,
                          double *const *out)
{
    keltner_state_t s;
    keltner_reset(&s, opts);
    for (size_t t = 0; t < n; t++) {
        double o[3];
        keltner_step(&s, in[0][t], in[1][t], in[2][t], o);
        for (int k = 0; k < 3; k++)
            out[k][t] = o[k];
    }
}

static size_t keltner_size(const double *opts)
{
    (void)opts;
    return sizeof(keltner_state_t);
}

static void keltner_init(void *st, const double *opts)
{
    keltner_reset(st, opts);
}

static void keltner_update(void *st, const double *in, double *out)
{
    keltner_step(st, in[0], in[1], in[2], out);
}

CB_TA_DEFINE_SCALAR(keltner, keltner_state_t, .title = "Keltner Channels",
             .reference = "Raschke's Keltner Channels, StockCharts ChartSchool: EMA +- k*ATR",
             .n_inputs = 3, .inputs = {"high", "low", "close"}, .n_opts = 3,
             .opts = {{"period", 20, 2, 100000, 1},
                      {"multiplier", 2, 0, 1000, 0},
                      {"atr_period", 10, 1, 100000, 1}},
             .n_outputs = 3, .outputs = {"upper", "middle", "lower"})

/* ====================================================================================== */
/* ICHIMOKU (tenkan 1..100000 default 9, kijun default 26, senkou default 52,              */
/* displacement 0..100000 default 26): outputs tenkan, kijun, senkou_a, senkou_b, as       */
/* displayed at bar t. Goichi Hosoda's Ichimoku Kinko Hyo: tenkan = (highest high + lowest */
/* low)/2 over 9 bars, kijun the same over 26; senkou A = (tenkan + kijun)/2 and senkou B  */
/* = the 52-bar midpoint, both plotted `displacement` bars ahead, so the value shown at t   */
/* was computed from data up to t-displacement. The chikou span (the close plotted 26 bars */
/* back) is left out: its value for bar t is the close of bar t+26, which a bar-by-bar     */
/* indicator cannot know without looking into the future. All four outputs start together */
/* at the lookback max(senkou-1, kijun-1, tenkan-1) + displacement (senkou B's usually).   */

static int ichimoku_lookback(const double *opts)
{
    int m = cb_ta_iopt(opts, 0);
    for (int k = 1; k < 3; k++)
        if (cb_ta_iopt(opts, k) > m)
            m = cb_ta_iopt(opts, k);
    return m - 1 + cb_ta_iopt(opts, 3);
}

/* Batch: tenkan and kijun at every bar, the undisplaced spans in out[2], out[3], then the
 * spans are moved `displacement` bars later. */
static void ichimoku_batch(size_t n, const double *const *in, const double *opts,
                           double *const *out)
{
    int64_t per[3] = {cb_ta_iopt(opts, 0), cb_ta_iopt(opts, 1), cb_ta_iopt(opts, 2)};
    size_t disp = (size_t)cb_ta_iopt(opts, 3), lb = (size_t)ichimoku_lookback(opts);
    tm_extreme_t hi[3], lo[3];
    for (int k = 0; k < 3; k++) {
        tm_extreme_init(&hi[k]);
        tm_extreme_init(&lo[k]);
    }
    for (int64_t t = 0; t < (int64_t)n; t++) {
        double mid[3] = {NAN, NAN, NAN};
        for (int k = 0; k < 3; k++)
            if (t >= per[k] - 1) {
                tm_extreme_step(&hi[k], in[0], t - per[k] + 1, t, 1);
                tm_extreme_step(&lo[k], in[1], t - per[k] + 1, t, 0);
                mid[k] = (hi[k].val + lo[k].val) / 2.0;
            }
        out[0][t] = mid[0];
        out[1][t] = mid[1];
        out[2][t] = (mid[0] + mid[1]) / 2.0;
        out[3][t] = mid[2];
    }
    if (disp > 0) {
        memmove(out[2] + disp, out[2], (n - disp) * sizeof(double));
        memmove(out[3] + disp, out[3], (n - disp) * sizeof(double));
    }
    for (int k = 0; k < 4; k++)
        cb_ta_fill_nan(out[k], lb);
}

typedef struct ichimoku_state {
    tm_hilo_t w[3];
    cb_ta_ring_t span_a, span_b; /* undisplaced spans of the last displacement+1 bars */
} ichimoku_state_t;

static ichimoku_state_t ichimoku_place(cb_ta_layout_t *l, const double *opts)
{
    ichimoku_state_t s;
    for (int k = 0; k < 3; k++)
        tm_hilo_place(&s.w[k], l, cb_ta_iopt(opts, k));
    cb_ta_ring_place(&s.span_a, l, (size_t)cb_ta_iopt(opts, 3) + 1);
    cb_ta_ring_place(&s.span_b, l, (size_t)cb_ta_iopt(opts, 3) + 1);
    return s;
}

static size_t ichimoku_size(const double *opts)
{
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(ichimoku_state_t));
    ichimoku_place(&l, opts);
    return l.off;
}

static void ichimoku_init(void *st, const double *opts)
{
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(ichimoku_state_t));
    *(ichimoku_state_t *)st = ichimoku_place(&l, opts);
}

static void ichimoku_update(void *st, const double *in, double *out)
{
    ichimoku_state_t *s = st;
    double mid[3], dropped;
    for (int k = 0; k < 3; k++)
        mid[k] = tm_hilo_push(&s->w[k], st, in[0], in[1])
                     ? (tm_hilo_high(&s->w[k], st) + tm_hilo_low(&s->w[k], st)) / 2.0
                     : NAN;
    cb_ta_ring_push(&s->span_a, st, (mid[0] + mid[1]) / 2.0, &dropped);
    cb_ta_ring_push(&s->span_b, st, mid[2], &dropped);
    out[0] = mid[0];
    out[1] = mid[1];
    int full = s->span_a.n == s->span_a.cap;
    out[2] = full ? cb_ta_ring_get(&s->span_a, st, 0) : NAN;
    out[3] = full ? cb_ta_ring_get(&s->span_b, st, 0) : NAN;
}

CB_TA_DEFINE(ichimoku, .title = "Ichimoku Kinko Hyo (without chikou)",
             .reference = "Goichi Hosoda, Ichimoku Kinko Hyo (1969)", .n_inputs = 2,
             .inputs = {"high", "low"}, .n_opts = 4,
             .opts = {{"tenkan", 9, 1, 100000, 1},
                      {"kijun", 26, 1, 100000, 1},
                      {"senkou", 52, 1, 100000, 1},
                      {"displacement", 26, 0, 100000, 1}},
             .n_outputs = 4, .outputs = {"tenkan", "kijun", "senkou_a", "senkou_b"})

/* ====================================================================================== */
/* HEIKINASHI: outputs open, high, low, close of Heikin-Ashi candles. Dan Valcu, "Using    */
/* the Heikin-Ashi Technique", TASC February 2004: close = (o+h+l+c)/4,                    */
/* open = (previous HA open + previous HA close)/2, the first bar's open = (o+c)/2 (as     */
/* backtrader), high = max(h, HA open, HA close), low = min(l, HA open, HA close).         */
/* Lookback 0.                                                                              */

typedef struct heikinashi_state {
    double open, close;
    int64_t n;
} heikinashi_state_t;

static int heikinashi_lookback(const double *opts)
{
    (void)opts;
    return 0;
}

static void heikinashi_step(heikinashi_state_t *s, const double *bar, double *out)
{
    double o = bar[0], h = bar[1], l = bar[2], c = bar[3];
    double ha_close = (o + h + l + c) / 4.0;
    double ha_open = s->n++ ? (s->open + s->close) / 2.0 : (o + c) / 2.0;
    double ha_high = h, ha_low = l;
    if (ha_open > ha_high)
        ha_high = ha_open;
    if (ha_close > ha_high)
        ha_high = ha_close;
    if (ha_open < ha_low)
        ha_low = ha_open;
    if (ha_close < ha_low)
        ha_low = ha_close;
    s->open = ha_open;
    s->close = ha_close;
    out[0] = ha_open;
    out[1] = ha_high;
    out[2] = ha_low;
    out[3] = ha_close;
}

static void heikinashi_batch(size_t n, const double *const *in, const double *opts,
                             double *const *out)
{
    (void)opts;
    heikinashi_state_t s = {0, 0, 0};
    for (size_t t = 0; t < n; t++) {
        double bar[4] = {in[0][t], in[1][t], in[2][t], in[3][t]}, o[4];
        heikinashi_step(&s, bar, o);
        for (int k = 0; k < 4; k++)
            out[k][t] = o[k];
    }
}

static size_t heikinashi_size(const double *opts)
{
    (void)opts;
    return sizeof(heikinashi_state_t);
}

static void heikinashi_init(void *st, const double *opts)
{
    (void)opts;
    memset(st, 0, sizeof(heikinashi_state_t));
}

static void heikinashi_update(void *st, const double *in, double *out)
{
    heikinashi_step(st, in, out);
}

CB_TA_DEFINE_SCALAR(heikinashi, heikinashi_state_t, .title = "Heikin-Ashi candles",
             .reference = "Dan Valcu, Using the Heikin-Ashi Technique, TASC Feb 2004",
             .n_inputs = 4, .inputs = {"open", "high", "low", "close"}, .n_opts = 0,
             .n_outputs = 4, .outputs = {"open", "high", "low", "close"})

/* ====================================================================================== */
/* ZSCORE (period 2..100000, default 20): (x - SMA(x)) / population standard deviation    */
/* over the last `period` values (the standard score; population, divisor `period`).      */
/* The running sums are taken of x minus the segment's first value, which keeps the       */
/* variance free of the cancellation that large prices cause. A standard deviation below  */
/* 1e-6 of the mean's magnitude (or exactly 0) counts as no dispersion: the z-score is    */
/* then 0 (flat prices give 0, never a division by ~0), and so is a window of identical    */
/* values, whatever the residue of the sums (cb_ta_flat_t). Lookback period-1.              */

typedef struct zscore_acc {
    double shift, sum, sumsq;
    int64_t n;
    cb_ta_flat_t flat;
} zscore_acc_t;

static void zscore_add(zscore_acc_t *a, double x)
{
    cb_ta_flat_push(&a->flat, x);
    if (a->n++ == 0)
        a->shift = x;
    double d = x - a->shift;
    a->sum += d;
    a->sumsq += d * d;
}

static void zscore_remove(zscore_acc_t *a, double x)
{
    double d = x - a->shift;
    a->sum -= d;
    a->sumsq -= d * d;
}

static double zscore_value(const zscore_acc_t *a, double x, double p)
{
    double mean_d = a->sum / p;
    double var = a->sumsq / p - mean_d * mean_d;
    double mean = a->shift + mean_d;
    if ((double)a->flat.run >= p)
        return 0.0;
    if (!(var > 0.0) || var <= 1e-12 * mean * mean)
        return 0.0;
    return ((x - a->shift) - mean_d) / sqrt(var);
}

static int zscore_lookback(const double *opts)
{
    return cb_ta_iopt(opts, 0) - 1;
}

static void zscore_batch(size_t n, const double *const *in, const double *opts,
                         double *const *out)
{
    size_t p = (size_t)cb_ta_iopt(opts, 0);
    const double *x = in[0];
    zscore_acc_t a;
    memset(&a, 0, sizeof a);
    for (size_t t = 0; t < n; t++) {
        zscore_add(&a, x[t]);
        if (t + 1 >= p) {
            out[0][t] = zscore_value(&a, x[t], (double)p);
            zscore_remove(&a, x[t + 1 - p]);
        }
    }
}

typedef struct zscore_state {
    zscore_acc_t a;
    cb_ta_ring_t x;
} zscore_state_t;

static size_t zscore_size(const double *opts)
{
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(zscore_state_t));
    cb_ta_layout_add(&l, (size_t)cb_ta_iopt(opts, 0) * sizeof(double));
    return l.off;
}

static void zscore_init(void *st, const double *opts)
{
    zscore_state_t *s = st;
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(zscore_state_t));
    memset(&s->a, 0, sizeof s->a);
    cb_ta_ring_place(&s->x, &l, (size_t)cb_ta_iopt(opts, 0));
}

static void zscore_update(void *st, const double *in, double *out)
{
    zscore_state_t *s = st;
    double dropped;
    zscore_add(&s->a, in[0]);
    cb_ta_ring_push(&s->x, st, in[0], &dropped);
    out[0] = NAN;
    if (s->x.n == s->x.cap) {
        out[0] = zscore_value(&s->a, in[0], (double)s->x.cap);
        zscore_remove(&s->a, cb_ta_ring_get(&s->x, st, 0));
    }
}

CB_TA_DEFINE(zscore, .title = "Z-Score (population)",
             .reference = "standard score (x - mean) / population standard deviation",
             .n_inputs = 1, .inputs = {"real"}, .n_opts = 1,
             .opts = {{"period", 20, 2, 100000, 1}}, .n_outputs = 1, .outputs = {"zscore"})
