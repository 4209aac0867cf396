/* The synthetic market: a deterministic geometric random walk with GARCH(1,1) volatility
 * clustering, occasional jumps, a Brownian-bridge intrabar path for high/low, volume that
 * grows with the size of the move, and prices rounded to a tick. Used by the demo and by the
 * large benchmarks, so it must be fast (a few million bars per second) and byte-identical for
 * the same options on the same build: its own PRNG (xoshiro256** seeded by splitmix64) and its
 * own normal variates (polar Box-Muller); no global state. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "comeback/data.h"

/* ---- PRNG ------------------------------------------------------------------------------- */

typedef struct rng {
    uint64_t s[4];
    double spare;  /* the second Box-Muller variate */
    int has_spare;
} rng_t;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t next_u64(rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in (0, 1): never 0, so log() is always finite. */
static inline double uniform(rng_t *r)
{
    return ((double)(next_u64(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* Standard normal variates, two at a time, by Marsaglia's polar form of Box-Muller (no
 * trigonometry; the rejection loop is as deterministic as the rest). */
static inline double normal(rng_t *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u, v, q;
    do {
        u = 2.0 * uniform(r) - 1.0;
        v = 2.0 * uniform(r) - 1.0;
        q = u * u + v * v;
    } while (q >= 1.0 || q == 0.0);
    double f = sqrt(-2.0 * log(q) / q);
    r->spare = v * f;
    r->has_spare = 1;
    return u * f;
}

static void rng_seed(rng_t *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
    r->has_spare = 0;
    r->spare = 0;
}

/* ---- Model parameters (documented in docs/data.md) -------------------------------------- */

#define SYN_ANNUAL_VOL 0.60          /* long-run volatility, per year */
#define SYN_GARCH_ALPHA 0.06         /* weight of the last squared return */
#define SYN_GARCH_BETA 0.92          /* persistence of the variance */
#define SYN_JUMPS_PER_DAY 0.5        /* average jump count per day */
#define SYN_JUMP_SD 0.010            /* jump size, log-return standard deviation */
#define SYN_HALF_LIFE_DAYS 730.0     /* weak pull of the log price back to the start */
#define SYN_VOLUME_PER_MIN 25.0      /* mean base-asset volume of a quiet 1-minute bar */
#define SYN_DAY_MS 86400000.0
#define SYN_YEAR_MS (365.25 * SYN_DAY_MS)

/* Rounds p to the tick grid given as 10^-decimals (decimals may be negative). */
static inline double round_tick(double p, double scale, int scale_up)
{
    return scale_up ? floor(p * scale + 0.5) / scale : floor(p / scale + 0.5) * scale;
}

int cb_synth_generate(const cb_synth_opts_t *opts, cb_series_t **out, cb_diag_t *diag)
{
    *out = NULL;
    const char *tfname = opts->timeframe ? opts->timeframe : "1m";
    cb_timeframe_t tf;
    if (cb_timeframe_parse(tfname, &tf) != 0)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "timeframe",
                           "'%s' is not a timeframe (e.g. 1m, 1h, 1d)", tfname);
    double start = opts->start_price > 0 ? opts->start_price : 20000.0;
    if (!(start < 1e12) || start < 1e-6)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "start price",
                           "%g is outside 1e-6 .. 1e12", start);
    const char *pair = opts->pair ? opts->pair : "SYN/USDT";
    if (strlen(pair) >= sizeof(((cb_series_meta_t *)0)->pair))
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "pair", "'%s' is too long", pair);
    int64_t t = opts->start_ms ? opts->start_ms : INT64_C(1577836800000); /* 2020-01-01 */
    t = cb_timeframe_floor(&tf, t);

    cb_series_t *s = cb_series_new(opts->bars ? opts->bars : 1);
    if (!s)
        return cb_diag_set(diag, CB_ENOMEM, NULL, 0, 0, NULL, NULL);
    s->meta.synthetic = 1;
    snprintf(s->meta.exchange, sizeof s->meta.exchange, "synth");
    snprintf(s->meta.pair, sizeof s->meta.pair, "%s", pair);
    snprintf(s->meta.timeframe, sizeof s->meta.timeframe, "%s", tf.name);
    snprintf(s->meta.source, sizeof s->meta.source, "synth seed=%llu",
             (unsigned long long)opts->seed);

    double bar_ms = tf.months ? tf.months * 30.436875 * SYN_DAY_MS : (double)tf.ms;
    double var_target = SYN_ANNUAL_VOL * SYN_ANNUAL_VOL * bar_ms / SYN_YEAR_MS;
    double sig_target = sqrt(var_target);
    double omega = var_target * (1.0 - SYN_GARCH_ALPHA - SYN_GARCH_BETA);
    double var_cap = 100.0 * var_target;
    double p_jump = SYN_JUMPS_PER_DAY * bar_ms / SYN_DAY_MS;
    if (p_jump > 0.05)
        p_jump = 0.05;
    double kappa = 0.6931471805599453 / (SYN_HALF_LIFE_DAYS * SYN_DAY_MS / bar_ms);
    double vol_base = SYN_VOLUME_PER_MIN * bar_ms / 60000.0;
    /* A tick of 10^(floor(log10(start)) - 6): 0.01 for a 20,000 start like BTC/USDT. */
    int decimals = 6 - (int)floor(log10(start));
    int scale_up = decimals >= 0;
    double scale = 1.0;
    for (int i = 0; i < (decimals >= 0 ? decimals : -decimals); i++)
        scale *= 10.0;
    double tick = scale_up ? 1.0 / scale : scale;

    rng_t rng;
    rng_seed(&rng, opts->seed);
    double log0 = log(start);
    double logp = log0;
    double var = var_target;
    double prev_close = round_tick(start, scale, scale_up);
    double p_prev = start; /* exp(logp), unrounded */
    double last_ret = 0.0;
    for (size_t i = 0; i < opts->bars; i++) {
        var = omega + SYN_GARCH_ALPHA * last_ret * last_ret + SYN_GARCH_BETA * var;
        if (var > var_cap)
            var = var_cap;
        double sd = sqrt(var);
        double z = normal(&rng);
        double x = sd * z - kappa * (logp - log0) - 0.5 * var;
        if (uniform(&rng) < p_jump)
            x += SYN_JUMP_SD * normal(&rng);
        /* Extremes of a Brownian bridge from 0 to x with variance var over the bar, sampled
         * exactly: P(max > m) = exp(-2 m (m - x) / var). */
        double disc_hi = sqrt(x * x - 2.0 * var * log(uniform(&rng)));
        double disc_lo = sqrt(x * x - 2.0 * var * log(uniform(&rng)));
        double hi = p_prev * exp(0.5 * (x + disc_hi));
        double lo = p_prev * exp(0.5 * (x - disc_lo));
        logp += x;
        p_prev *= exp(x);
        double c = round_tick(p_prev, scale, scale_up);
        if (c < tick)
            c = tick;
        double o = prev_close;
        double h = round_tick(hi, scale, scale_up);
        double l = round_tick(lo, scale, scale_up);
        if (l < tick)
            l = tick;
        double mx = o > c ? o : c, mn = o < c ? o : c;
        if (h < mx)
            h = mx;
        if (l > mn)
            l = mn;
        /* Volume: lognormal noise around a level that grows with the size of the move. */
        double v = vol_base * (0.35 + 0.65 * fabs(x) / sig_target) *
                   exp(0.45 * normal(&rng) - 0.10125);
        v = floor(v * 1e5 + 0.5) / 1e5;
        s->time_ms[i] = t;
        s->open[i] = o;
        s->high[i] = h;
        s->low[i] = l;
        s->close[i] = c;
        s->volume[i] = v;
        prev_close = c;
        last_ret = x;
        t = tf.months ? cb_timeframe_next(&tf, t) : t + tf.ms;
    }
    s->n = opts->bars;
    *out = s;
    return 0;
}
