/* LINEARREG, BETA and CORREL. */
#include "ta/ta_int.h"

/* ---- LINEARREG ---------------------------------------------------------------------------
 * The least-squares line through the last `period` values, evaluated at the newest bar
 * (TA-Lib TA_LINEARREG): with ages a = period-1 (oldest) .. 0 (newest) as TA-Lib numbers them,
 * SumX = p(p-1)/2, SumXSqr = p(p-1)(2p-1)/6, Divisor = SumX^2 - p*SumXSqr,
 * m = (p*SumXY - SumX*SumY)/Divisor, b = (SumY - m*SumX)/p, value = b + m*(p-1).
 * TA-Lib recomputes SumY and SumXY over the window at every bar (O(period)); we update them in
 * O(1) and recompute them exactly every `period` bars, which bounds the rounding drift (the
 * values agree with TA-Lib to ~1e-12 relative) and is the same in both forms. A window of
 * identical values gives that value exactly (cb_ta_flat_t, ta_int.h): the formula above does
 * not, even from exact sums. */

typedef struct lr_consts {
    double p, sum_x, divisor;
} lr_consts_t;

static lr_consts_t lr_consts(int period)
{
    lr_consts_t c;
    double p = (double)period;
    c.p = p;
    c.sum_x = p * (p - 1.0) * 0.5;
    double sum_x_sqr = p * (p - 1.0) * (2.0 * p - 1.0) / 6.0;
    c.divisor = c.sum_x * c.sum_x - p * sum_x_sqr;
    return c;
}
static inline double lr_value(const lr_consts_t *c, double sum_y, double sum_xy)
{
    double m = (c->p * sum_xy - c->sum_x * sum_y) / c->divisor;
    double b = (sum_y - m * c->sum_x) / c->p;
    return b + m * (c->p - 1.0);
}
/* The incremental update when y_new enters and y_old (age p-1) leaves. */
static inline void lr_slide(double *sum_y, double *sum_xy, double y_new, double y_old, double p)
{
    *sum_xy = *sum_xy + (*sum_y - y_old) - (p - 1.0) * y_old;
    *sum_y = *sum_y - y_old + y_new;
}

static int linearreg_lookback(const double *opts) { return cb_ta_iopt(opts, 0) - 1; }

static void linearreg_batch(size_t n, const double *const *in, const double *opts,
                            double *const *out)
{
    const double *y = in[0];
    size_t p = (size_t)cb_ta_iopt(opts, 0);
    lr_consts_t c = lr_consts((int)p);
    double sy = 0.0, sxy = 0.0, last = 0.0;
    size_t phase = 0;
    int64_t run = 0, ip = (int64_t)p;
    for (size_t t = 0; t + 1 < p; t++) {
        run = cb_ta_flat_next(run, last, y[t]);
        last = y[t];
    }
    for (size_t t = p - 1; t < n; t++) {
        run = cb_ta_flat_next(run, last, y[t]);
        last = y[t];
        if (phase == 0) {
            sy = sxy = 0.0;
            for (size_t a = p; a-- > 0;) {
                double v = y[t - a];
                sy += v;
                sxy += (double)a * v;
            }
        } else {
            lr_slide(&sy, &sxy, y[t], y[t - p], c.p);
        }
        if (++phase == p)
            phase = 0;
        double v = lr_value(&c, sy, sxy);
        out[0][t] = v;
        if (run >= ip)
            out[0][t] = y[t];
    }
}

typedef struct linearreg_state {
    lr_consts_t c;
    double sy, sxy;
    int64_t phase;
    cb_ta_flat_t flat;
    cb_ta_ring_t ring; /* the last period+1 values */
} linearreg_state_t;

static size_t linearreg_size(const double *opts)
{
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(linearreg_state_t));
    cb_ta_layout_add(&l, ((size_t)cb_ta_iopt(opts, 0) + 1) * sizeof(double));
    return l.off;
}
static void linearreg_init(void *st, const double *opts)
{
    linearreg_state_t *s = st;
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(linearreg_state_t));
    s->c = lr_consts(cb_ta_iopt(opts, 0));
    s->sy = s->sxy = 0.0;
    s->phase = 0;
    cb_ta_flat_reset(&s->flat);
    cb_ta_ring_place(&s->ring, &l, (size_t)cb_ta_iopt(opts, 0) + 1);
}
static void linearreg_update(void *st, const double *in, double *out)
{
    linearreg_state_t *s = st;
    double dropped;
    size_t p = s->ring.cap - 1;
    int64_t run = cb_ta_flat_push(&s->flat, in[0]);
    cb_ta_ring_push(&s->ring, st, in[0], &dropped);
    if (s->ring.n < p)
        return;
    if (s->phase == 0) {
        s->sy = s->sxy = 0.0;
        for (size_t a = p; a-- > 0;) {
            double v = cb_ta_ring_ago(&s->ring, st, a);
            s->sy += v;
            s->sxy += (double)a * v;
        }
    } else {
        lr_slide(&s->sy, &s->sxy, in[0], cb_ta_ring_ago(&s->ring, st, p), s->c.p);
    }
    if (++s->phase == (int64_t)p)
        s->phase = 0;
    double v = lr_value(&s->c, s->sy, s->sxy);
    out[0] = v;
    if (run >= (int64_t)p)
        out[0] = in[0];
}

CB_TA_DEFINE(linearreg, .title = "Linear Regression", .reference = "TA-Lib TA_LINEARREG",
             .n_inputs = 1, .inputs = {"real"},
             .n_opts = 1, .opts = {{"period", 14, 2, 100000, 1}},
             .n_outputs = 1, .outputs = {"linearreg"})

/* ---- BETA --------------------------------------------------------------------------------
 * TA-Lib TA_BETA: x and y are the 1-bar returns (p - prev)/prev of real0 and real1 (0 when
 * |prev| < 1e-8); over the last `period` returns, beta = (n*Sxy - Sx*Sy) / (n*Sxx - Sx^2), the
 * slope of y on x, and 0 when the denominator is zero (|.| < 1e-8). Running sums in TA-Lib's
 * order (add the new return, output, subtract the oldest). When the last period+1 prices of a
 * series are identical (cb_ta_flat_t), its last `period` returns are zero and the sums made of
 * them are set to exactly 0 (their value) instead of the residue left in them: a flat real1
 * gives beta 0, not ~1e-14. (The runs are taken of the prices, which the integer unit can
 * compare straight from memory.) */

static inline double ret_of(double p, double prev)
{
    return !CB_TA_IS_ZERO(prev) ? (p - prev) / prev : 0.0;
}

typedef struct beta_sums {
    double sxx, sxy, sx, sy;
} beta_sums_t;

static inline void beta_add(beta_sums_t *s, double x, double y)
{
    s->sxx += x * x;
    s->sxy += x * y;
    s->sx += x;
    s->sy += y;
}
static inline void beta_sub(beta_sums_t *s, double x, double y)
{
    s->sxx -= x * x;
    s->sxy -= x * y;
    s->sx -= x;
    s->sy -= y;
}
static inline double beta_value(const beta_sums_t *s, double n)
{
    double d = (n * s->sxx) - (s->sx * s->sx);
    return !CB_TA_IS_ZERO(d) ? ((n * s->sxy) - (s->sx * s->sy)) / d : 0.0;
}

static int beta_lookback(const double *opts) { return cb_ta_iopt(opts, 0); }

/* ret_of for the two series at once: {(a - pa) / pa, (b - pb) / pb}, a lane 0 where its
 * previous price is zero (|.| < 1e-8). */
static inline cb_ta_v2d ret_of_v2(cb_ta_v2d p, cb_ta_v2d prev)
{
    const cb_ta_v2d lo = {-0.00000001, -0.00000001}, hi = {0.00000001, 0.00000001};
    cb_ta_v2u zero = (cb_ta_v2u)((lo < prev) & (prev < hi));
    return (cb_ta_v2d)(~zero & (cb_ta_v2u)((p - prev) / prev));
}

/* beta_add/beta_sub/beta_value's operations with {sxx, sxy} and {sx, sy} in vector lanes and
 * each pair of returns from one vector division; the inputs screened on the way. The returns
 * leaving the window come from a stack ring when period <= BETA_RING (else recomputed; the
 * same numbers). */
#define BETA_RING 512
static int beta_fused(size_t n, const double *const *in, const double *opts, double *const *out)
{
    const double *a = in[0], *b = in[1];
    size_t p = (size_t)cb_ta_iopt(opts, 0);
    double dn = (double)p;
    const cb_ta_v2d vn = {dn, dn};
    cb_ta_v2d sq = {0.0, 0.0}, sl = {0.0, 0.0}; /* {sxx, sxy}, {sx, sy} */
    uint64_t bad = cb_ta_nf(a[0]) | cb_ta_nf(b[0]);
    int64_t ra = 1, rb = 1, window = (int64_t)p + 1; /* runs of identical prices */
    for (size_t i = 1; i < p; i++) {
        cb_ta_v2d cur = {a[i], b[i]}, prev = {a[i - 1], b[i - 1]};
        bad |= cb_ta_nf(a[i]) | cb_ta_nf(b[i]);
        cb_ta_v2d r = ret_of_v2(cur, prev), xx = {r[0], r[0]};
        sq += xx * r;
        sl += r;
        ra = cb_ta_flat_next(ra, a[i - 1], a[i]);
        rb = cb_ta_flat_next(rb, b[i - 1], b[i]);
    }
    int ring = p <= BETA_RING;
    cb_ta_v2d rr[BETA_RING];
    const size_t mask = BETA_RING - 1;
    if (ring)
        for (size_t i = 1; i < p; i++) {
            cb_ta_v2d cur = {a[i], b[i]}, prev = {a[i - 1], b[i - 1]};
            rr[i & mask] = ret_of_v2(cur, prev);
        }
    for (size_t t = p; t < n; t++) {
        size_t j = t + 1 - p; /* the oldest return in the window */
        cb_ta_v2d cur = {a[t], b[t]}, prev = {a[t - 1], b[t - 1]};
        bad |= cb_ta_nf(a[t]) | cb_ta_nf(b[t]);
        cb_ta_v2d r = ret_of_v2(cur, prev), xx = {r[0], r[0]}, o;
        if (ring) {
            rr[t & mask] = r;
            o = rr[j & mask];
        } else {
            cb_ta_v2d ocur = {a[j], b[j]}, oprev = {a[j - 1], b[j - 1]};
            o = ret_of_v2(ocur, oprev);
        }
        cb_ta_v2d ox = {o[0], o[0]};
        sq += xx * r;
        sl += r;
        ra = cb_ta_flat_next(ra, a[t - 1], a[t]);
        rb = cb_ta_flat_next(rb, b[t - 1], b[t]);
        if (ra >= window) { /* rare: flat stretches */
            sq = (cb_ta_v2d){0.0, 0.0};
            sl[0] = 0.0;
        }
        if (rb >= window) {
            sq[1] = 0.0;
            sl[1] = 0.0;
        }
        cb_ta_v2d sxv = {sl[0], sl[0]};
        cb_ta_v2d dn2 = vn * sq - sxv * sl; /* {d, numerator} */
        out[0][t] = !CB_TA_IS_ZERO(dn2[0]) ? dn2[1] / dn2[0] : 0.0;
        sq -= ox * o;
        sl -= o;
    }
    return (int)(bad >> 63);
}

typedef struct beta_state {
    beta_sums_t s;
    double n, last_a, last_b;
    int64_t bar;
    cb_ta_flat_t fa, fb; /* runs of identical prices */
    cb_ta_ring_t rx, ry; /* the last `period` returns */
} beta_state_t;

static size_t beta_size(const double *opts)
{
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(beta_state_t));
    size_t p = (size_t)cb_ta_iopt(opts, 0);
    cb_ta_layout_add(&l, p * sizeof(double));
    cb_ta_layout_add(&l, p * sizeof(double));
    return l.off;
}
static void beta_init(void *st, const double *opts)
{
    beta_state_t *s = st;
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(beta_state_t));
    size_t p = (size_t)cb_ta_iopt(opts, 0);
    memset(&s->s, 0, sizeof s->s);
    s->n = (double)p;
    s->last_a = s->last_b = 0.0;
    s->bar = 0;
    cb_ta_flat_reset(&s->fa);
    cb_ta_flat_reset(&s->fb);
    cb_ta_ring_place(&s->rx, &l, p);
    cb_ta_ring_place(&s->ry, &l, p);
}
static void beta_update(void *st, const double *in, double *out)
{
    beta_state_t *s = st;
    double dropped;
    int64_t ra = cb_ta_flat_push(&s->fa, in[0]), rb = cb_ta_flat_push(&s->fb, in[1]);
    if (s->bar++ > 0) {
        double x = ret_of(in[0], s->last_a), y = ret_of(in[1], s->last_b);
        beta_add(&s->s, x, y);
        cb_ta_ring_push(&s->rx, st, x, &dropped);
        cb_ta_ring_push(&s->ry, st, y, &dropped);
        if (s->rx.n == s->rx.cap) {
            int64_t window = (int64_t)s->rx.cap + 1;
            if (ra >= window)
                s->s.sxx = s->s.sxy = s->s.sx = 0.0;
            if (rb >= window)
                s->s.sxy = s->s.sy = 0.0;
            out[0] = beta_value(&s->s, s->n);
            beta_sub(&s->s, cb_ta_ring_get(&s->rx, st, 0), cb_ta_ring_get(&s->ry, st, 0));
        }
    }
    s->last_a = in[0];
    s->last_b = in[1];
}

CB_TA_DEFINE_FUSED(beta, .title = "Beta", .reference = "TA-Lib TA_BETA",
             .n_inputs = 2, .inputs = {"real0", "real1"},
             .n_opts = 1, .opts = {{"period", 5, 1, 100000, 1}},
             .n_outputs = 1, .outputs = {"beta"})

/* ---- CORREL ------------------------------------------------------------------------------
 * Pearson's correlation coefficient of real0 and real1 over the last `period` bars (TA-Lib
 * TA_CORREL, its running sums and order: remove the oldest bar, add the new one):
 * (Sxy - Sx*Sy/n) / sqrt((Sxx - Sx^2/n) * (Syy - Sy^2/n)), and 0 when the product under the
 * root is < 1e-8 (flat input). A window where either input is flat (cb_ta_flat_t) gives exactly
 * 0: at large prices the running sums' residue is far above that threshold (-0.32 was seen on
 * a flat window at 1e9). */

typedef struct correl_sums {
    double sx, sx2, sxy, sy, sy2;
} correl_sums_t;

static inline void correl_add(correl_sums_t *s, double x, double y)
{
    s->sx += x;
    s->sx2 += x * x;
    s->sxy += x * y;
    s->sy += y;
    s->sy2 += y * y;
}
static inline void correl_sub(correl_sums_t *s, double x, double y)
{
    s->sx -= x;
    s->sx2 -= x * x;
    s->sxy -= x * y;
    s->sy -= y;
    s->sy2 -= y * y;
}
static inline double correl_value(const correl_sums_t *s, double p)
{
    double t = (s->sx2 - ((s->sx * s->sx) / p)) * (s->sy2 - ((s->sy * s->sy) / p));
    return !CB_TA_IS_ZERO_OR_NEG(t) ? (s->sxy - ((s->sx * s->sy) / p)) / sqrt(t) : 0.0;
}

static int correl_lookback(const double *opts) { return cb_ta_iopt(opts, 0) - 1; }

/* correl_add/correl_sub/correl_value's operations with {sx, sy} and {sx2, sy2} in vector
 * lanes (one division for both squared sums over the period); the inputs screened on the
 * way. */
static int correl_fused(size_t n, const double *const *in, const double *opts,
                        double *const *out)
{
    const double *a = in[0], *b = in[1];
    size_t p = (size_t)cb_ta_iopt(opts, 0);
    double dp = (double)p;
    const cb_ta_v2d vp = {dp, dp};
    cb_ta_v2d s1 = {0.0, 0.0}, s2 = {0.0, 0.0}; /* {sx, sy}, {sx2, sy2} */
    double sxy = 0.0, la = 0.0, lb = 0.0;
    int64_t ra = 0, rb = 0, ip = (int64_t)p;
    uint64_t bad = 0;
    for (size_t t = 0; t < n; t++) {
        cb_ta_v2d v = {a[t], b[t]};
        bad |= cb_ta_nf(a[t]) | cb_ta_nf(b[t]);
        ra = cb_ta_flat_next(ra, la, a[t]);
        rb = cb_ta_flat_next(rb, lb, b[t]);
        la = a[t];
        lb = b[t];
        if (t >= p) {
            cb_ta_v2d w = {a[t - p], b[t - p]};
            s1 -= w;
            s2 -= w * w;
            sxy -= w[0] * w[1];
        }
        s1 += v;
        s2 += v * v;
        sxy += v[0] * v[1];
        if (t + 1 < p)
            continue;
        cb_ta_v2d var = s2 - (s1 * s1) / vp;
        double q = var[0] * var[1];
        double r = !CB_TA_IS_ZERO_OR_NEG(q) ? (sxy - ((s1[0] * s1[1]) / dp)) / sqrt(q) : 0.0;
        out[0][t] = r;
        if ((ra >= ip) | (rb >= ip))
            out[0][t] = 0.0;
    }
    return (int)(bad >> 63);
}

typedef struct correl_state {
    correl_sums_t s;
    double p;
    cb_ta_flat_t fa, fb;
    cb_ta_ring_t ra, rb;
} correl_state_t;

static size_t correl_size(const double *opts)
{
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(correl_state_t));
    size_t p = (size_t)cb_ta_iopt(opts, 0);
    cb_ta_layout_add(&l, p * sizeof(double));
    cb_ta_layout_add(&l, p * sizeof(double));
    return l.off;
}
static void correl_init(void *st, const double *opts)
{
    correl_state_t *s = st;
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(correl_state_t));
    size_t p = (size_t)cb_ta_iopt(opts, 0);
    memset(&s->s, 0, sizeof s->s);
    s->p = (double)p;
    cb_ta_flat_reset(&s->fa);
    cb_ta_flat_reset(&s->fb);
    cb_ta_ring_place(&s->ra, &l, p);
    cb_ta_ring_place(&s->rb, &l, p);
}
static void correl_update(void *st, const double *in, double *out)
{
    correl_state_t *s = st;
    double da = 0, db = 0;
    int full = cb_ta_ring_push(&s->ra, st, in[0], &da);
    cb_ta_ring_push(&s->rb, st, in[1], &db);
    if (full)
        correl_sub(&s->s, da, db);
    correl_add(&s->s, in[0], in[1]);
    int64_t ra = cb_ta_flat_push(&s->fa, in[0]), rb = cb_ta_flat_push(&s->fb, in[1]);
    int64_t p = (int64_t)s->ra.cap;
    if (s->ra.n == s->ra.cap)
        out[0] = ((ra >= p) | (rb >= p)) ? 0.0 : correl_value(&s->s, s->p);
}

CB_TA_DEFINE_FUSED(correl, .title = "Pearson's Correlation Coefficient (r)",
             .reference = "TA-Lib TA_CORREL",
             .n_inputs = 2, .inputs = {"real0", "real1"},
             .n_opts = 1, .opts = {{"period", 30, 1, 100000, 1}},
             .n_outputs = 1, .outputs = {"correl"})
