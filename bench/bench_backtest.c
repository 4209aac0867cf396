/* Backtest throughput: the ema-cross-rsi strategy (EMA 12/26 cross, RSI(14) < 70, stop-loss 5%,
 * trailing stop 3% from +1%) on 5,000,000 synthetic 1m bars (cb_synth_generate, seed 42;
 * BENCH_QUICK: 200,000), through the full engine (venue, fill model, fixed-point account,
 * equity marked at every close), next to a hand-written C loop computing the same strategy
 * with the same fill rules (the reference: what the bare arithmetic costs). Also the same
 * strategy written in the rules language, and the peak memory. The hand loop and the engine
 * must agree on the number of trades. Rates are CPU time (the runs are single-threaded, so it is
 * their own time), so that what else the machine runs moves them less than wall clock would;
 * the wall-clock ratio is printed beside. The engine and the hand loop run alternately and
 * the ratio is the median over those pairs of runs, so that a pair sees one machine state. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"
#include "comeback/backtest.h"
#include "comeback/engine.h"
#include "comeback/rules.h"

/* ---- synthetic market: `comeback data synth --bars 5000000 --timeframe 1m --seed 42` -------- */

static cb_series_t *make_market(size_t n)
{
    cb_synth_opts_t so = {n, "1m", 42, 0, 0, NULL};
    cb_series_t *s = NULL;
    cb_diag_t d;
    if (cb_synth_generate(&so, &s, &d) != 0) {
        fprintf(stderr, "bench_backtest: %s\n", d.msg);
        exit(1);
    }
    return s;
}

/* ---- the strategy in C (streaming, O(1) per bar) ---------------------------------------- */

typedef struct ecr {
    double a_fast, a_slow, ema_fast, ema_slow;
    double avg_gain, avg_loss, prev_close;
    double prev_nz; /* last non-zero (fast - slow) */
    size_t n;
} ecr_t;

static void ecr_reset(ecr_t *s)
{
    memset(s, 0, sizeof *s);
    s->a_fast = 2.0 / 13.0;
    s->a_slow = 2.0 / 27.0;
}

/* One bar: returns entry/exit signals. RSI is Wilder's with a simple-average seed. */
static inline void ecr_step(ecr_t *s, double c, int *entry, int *exit)
{
    size_t i = s->n++;
    if (i == 0) {
        s->ema_fast = s->ema_slow = c;
    } else {
        s->ema_fast += s->a_fast * (c - s->ema_fast);
        s->ema_slow += s->a_slow * (c - s->ema_slow);
        double ch = c - s->prev_close, g = ch > 0 ? ch : 0, l = ch < 0 ? -ch : 0;
        if (i <= 14) {
            s->avg_gain += g / 14.0;
            s->avg_loss += l / 14.0;
        } else {
            s->avg_gain = (s->avg_gain * 13.0 + g) / 14.0;
            s->avg_loss = (s->avg_loss * 13.0 + l) / 14.0;
        }
    }
    s->prev_close = c;
    double d = s->ema_fast - s->ema_slow;
    double rsi = s->avg_loss > 0 ? 100.0 - 100.0 / (1.0 + s->avg_gain / s->avg_loss) : 100.0;
    *entry = *exit = 0;
    if (i >= 26) {
        *entry = s->prev_nz < 0 && d > 0 && rsi < 70.0;
        *exit = s->prev_nz > 0 && d < 0;
    }
    if (d != 0)
        s->prev_nz = d;
}

static size_t ecr_warmup(void *self)
{
    (void)self;
    return 27;
}

static int ecr_on_bar(void *self, const cb_bar_view_t *b, const cb_position_view_t *pos,
                      cb_decision_t *out)
{
    (void)pos;
    int e, x;
    ecr_step(self, b->close[b->n - 1], &e, &x);
    out->enter = e;
    out->exit = x;
    return 0;
}

static const cb_strategy_v1_t ecr_strategy = {
    CB_STRATEGY_ABI_VERSION, "ema-cross-rsi (C)", NULL, ecr_warmup, ecr_on_bar, NULL,
};

/* ---- the hand-written loop: the same strategy and fill rules, nothing else -------------- */

typedef struct hand_result {
    size_t trades;
    double balance;
} hand_result_t;

static hand_result_t hand_loop(const cb_series_t *s)
{
    ecr_t st;
    ecr_reset(&st);
    double cash = 10000, qty = 0, entry = 0, highest = 0, stop = 0;
    const double fee = 0.001, slip = 0.0005;
    int pending_entry = 0, pending_exit = 0;
    size_t trades = 0;
    for (size_t i = 0; i < s->n; i++) {
        double o = s->open[i], h = s->high[i], l = s->low[i], c = s->close[i];
        if (pending_entry) {
            double px = fmin(o * (1 + slip), h), stake = cash * 0.1;
            qty = floor(stake / (px * (1 + fee)) * 1e5) / 1e5;
            cash -= qty * px * (1 + fee);
            entry = highest = px;
            stop = entry * 0.95;
            pending_entry = 0;
        } else if (pending_exit) {
            double px = fmax(o * (1 - slip), l);
            cash += qty * px * (1 - fee);
            qty = 0;
            trades++;
            pending_exit = 0;
        }
        if (qty > 0 && (o <= stop || l <= stop)) {
            double px = fmax((o <= stop ? o : stop) * (1 - slip), l);
            cash += qty * px * (1 - fee);
            qty = 0;
            trades++;
        }
        if (qty > 0) {
            if (h > highest)
                highest = h;
            if (highest >= entry * 1.01 && highest * 0.97 > stop)
                stop = highest * 0.97;
        }
        int e, x;
        ecr_step(&st, c, &e, &x);
        if (i + 1 >= 27 && i + 1 < s->n) {
            if (qty > 0 && x)
                pending_exit = 1;
            else if (qty == 0 && e)
                pending_entry = 1;
        }
    }
    if (qty > 0) {
        cash += qty * s->close[s->n - 1] * (1 - fee);
        trades++;
    }
    hand_result_t r = {trades, cash};
    return r;
}

/* ---- runs ------------------------------------------------------------------------------- */

typedef struct job {
    const cb_series_t *s;
    cb_engine_config_t cfg;
    size_t trades;
    double final_balance;
    cb_rules_strategy_t *rules; /* NULL: the C strategy */
    int session;                /* rules through cb_backtest_pairs, as `comeback backtest` */
} job_t;

static cb_backtest_t g_bt; /* the session the `backtest` command would have (one pair) */

static void run_engine(void *arg)
{
    job_t *j = arg;
    ecr_t st;
    ecr_reset(&st);
    cb_engine_pair_t p;
    memset(&p, 0, sizeof p);
    p.series = j->s;
    cb_instrument_default(&p.instrument, "SYN/USDT");
    p.instrument.tick = CB_FX_ONE / 100;
    p.instrument.step = 1000;
    p.strategy = &ecr_strategy;
    p.strategy_self = &st;
    const cb_strategy_v1_t *vt = NULL;
    void *self = NULL;
    if (j->rules && j->session) {
        /* the command's path: rules that read no position replay whole-series signals */
        cb_diag_t d;
        g_bt.n = 1;
        g_bt.series[0] = (cb_series_t *)j->s;
        g_bt.instruments[0] = p.instrument;
        g_bt.tf_ms[0] = 60000;
        if (cb_backtest_pairs(&g_bt, j->rules, &p, &d) != 0) {
            fprintf(stderr, "bench: %s\n", d.msg);
            exit(1);
        }
        vt = p.strategy;
        self = p.strategy_self;
    } else if (j->rules) {
        cb_diag_t d;
        if (cb_rules_strategy_instance(j->rules, 60000, &vt, &self, &d) != 0) {
            fprintf(stderr, "bench: %s\n", d.msg);
            exit(1);
        }
        p.strategy = vt;
        p.strategy_self = self;
    }
    cb_engine_result_t r;
    cb_diag_t d;
    if (cb_engine_run(&j->cfg, &p, 1, &r, &d) != 0) {
        fprintf(stderr, "bench: engine failed: %s\n", d.msg);
        exit(1);
    }
    j->trades = r.n_trades;
    j->final_balance = cb_fx_to_double(r.final_balance);
    cb_engine_result_free(&r);
    if (vt && vt->destroy)
        vt->destroy(self);
}

static void run_hand(void *arg)
{
    job_t *j = arg;
    hand_result_t h = hand_loop(j->s);
    j->trades = h.trades;
    j->final_balance = h.balance;
}

static const char k_rules[] =
    "[strategy]\n"
    "name = ema-cross-rsi\n"
    "timeframe = 1m\n"
    "entry = crossover(ema(close, 12), ema(close, 26)) and rsi(close, 14) < 70\n"
    "exit = crossunder(ema(close, 12), ema(close, 26))\n"
    "stoploss = 5%\n"
    "trailing_stop = 3%\n"
    "trailing_offset = 1%\n";

int main(void)
{
    size_t n = bench_quick() ? 200000 : 5000000;
    int runs = bench_quick() ? 3 : 7;
    cb_series_t *s = make_market(n);
    job_t j;
    memset(&j, 0, sizeof j);
    j.s = s;
    cb_engine_config_default(&j.cfg);
    j.cfg.costs.taker_fee = CB_FX_ONE / 1000;
    j.cfg.costs.maker_fee = CB_FX_ONE / 1000;
    j.cfg.costs.slippage = CB_FX_ONE / 2000;
    j.cfg.stop_loss = 0.05;
    j.cfg.trailing_stop = 0.03;
    j.cfg.trailing_offset = 0.01;

    job_t h = j;
    bench_pair_t pe = bench_time_paired(run_engine, &j, run_hand, &h, 1, runs);
    bench_stats_t eng = pe.a, hand = pe.b;
    size_t eng_trades = j.trades;
    double eng_final = j.final_balance;
    double rate = (double)n / eng.cpu_median, ref = (double)n / hand.cpu_median;
    printf("bars=%zu engine trades=%zu final=%.2f | hand loop trades=%zu final=%.2f\n", n,
           eng_trades, eng_final, h.trades, h.final_balance);
    printf("wall clock: engine %.2f Mbars/s, hand loop %.2f Mbars/s, ratio %.3f\n",
           (double)n / eng.median / 1e6, (double)n / hand.median / 1e6, hand.median / eng.median);
    bench_report("backtest.ema_cross_rsi_c", rate / 1e6, "Mbars/s",
                 (double)n / eng.cpu_max / 1e6, (double)n / eng.cpu_min / 1e6, "hand_loop",
                 pe.ratio);
    bench_report("backtest.hand_loop", ref / 1e6, "Mbars/s", (double)n / hand.cpu_max / 1e6,
                 (double)n / hand.cpu_min / 1e6, NULL, 0);

    /* the same strategy in the rules language, through the rules adapter */
    cb_rules_file_t *f = NULL;
    cb_diags_t diags = {0};
    if (cb_rules_file_parse("bench.ini", k_rules, sizeof k_rules - 1, NULL, &f, &diags) == 0 &&
        cb_rules_strategy_new(f, NULL, &j.rules, &diags) == 0) {
        bench_stats_t rl = bench_time(run_engine, &j, 0, bench_quick() ? 1 : 3);
        double rr = (double)n / rl.cpu_median;
        printf("rules-language run: trades=%zu final=%.2f\n", j.trades, j.final_balance);
        bench_report("backtest.ema_cross_rsi_rules", rr / 1e6, "Mbars/s",
                     (double)n / rl.cpu_max / 1e6, (double)n / rl.cpu_min / 1e6, "hand_loop",
                     rr / ref);
        /* the same through the backtest command's session (whole-series signals replayed) */
        j.session = 1;
        bench_pair_t ps = bench_time_paired(run_engine, &j, run_hand, &h, 1, runs);
        bench_stats_t rs = ps.a;
        double rsr = (double)n / rs.cpu_median;
        printf("rules-language run, session: trades=%zu final=%.2f\n", j.trades,
               j.final_balance);
        bench_report("backtest.ema_cross_rsi_rules_session", rsr / 1e6, "Mbars/s",
                     (double)n / rs.cpu_max / 1e6, (double)n / rs.cpu_min / 1e6, "hand_loop",
                     ps.ratio);
        j.session = 0;
        cb_rules_strategy_free(j.rules);
    } else {
        for (size_t k = 0; k < diags.n; k++)
            fprintf(stderr, "bench: rules: %s\n", diags.items[k].msg);
    }
    cb_diags_free(&diags);
    cb_rules_file_free(f);
    bench_report("backtest.peak_rss", bench_peak_rss_mib(), "MiB", 0, 0, NULL, 0);
    bench_report("backtest.data_size", (double)n * 48.0 / 1048576.0, "MiB", 0, 0, NULL, 0);
    cb_series_free(s);
    return 0;
}
