/* The metrics of a backtest, computed from the engine's result. The formulas are in the table
 * (report.h) and docs/metrics.md; keep the three in step. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/report.h"

static const cb_metric_info_t k_info[CB_METRIC_COUNT] = {
#define CB_METRIC_INFO_(id, key, label, kind, formula) {key, label, formula, kind},
    CB_METRIC_MAP(CB_METRIC_INFO_)
#undef CB_METRIC_INFO_
};

const cb_metric_info_t *cb_metric_info(cb_metric_id_t id)
{
    return (unsigned)id < CB_METRIC_COUNT ? &k_info[id] : NULL;
}

void cb_metrics_free(cb_metrics_t *m)
{
    if (!m)
        return;
    free(m->pairs);
    free(m->reasons);
    free(m->months);
    memset(m, 0, sizeof *m);
}

static void add_trade(cb_group_row_t *g, const cb_trade_t *t)
{
    g->trades++;
    if (t->pnl > 0)
        g->wins++;
    else if (t->pnl < 0)
        g->losses++;
    else
        g->draws++;
    g->pnl += cb_fx_to_double(t->pnl);
    g->pnl_pct_sum += t->pnl_pct;
    g->fees += cb_fx_to_double(t->fees);
    g->duration_ms += t->exit_time_ms - t->entry_time_ms;
}

/* The month of a time as year * 12 + month (1..12); the table's names are formatted once per
 * month from it, not per day or trade (an optimizer computes metrics for every combination). */
static int64_t month_key(int64_t ms)
{
    int64_t y;
    int mo, d;
    int64_t days = ms >= 0 ? ms / CB_MS_PER_DAY : -((-ms + CB_MS_PER_DAY - 1) / CB_MS_PER_DAY);
    cb_civil_from_days(days, &y, &mo, &d);
    return y * 12 + mo;
}

int cb_metrics_compute(const cb_engine_result_t *r, cb_metrics_t *m)
{
    memset(m, 0, sizeof *m);
    for (int k = 0; k < CB_METRIC_COUNT; k++)
        m->v[k].value = NAN;
#define SET(id, x) (m->v[CB_M_##id].value = (x))
    double start = cb_fx_to_double(r->start_balance), fin = cb_fx_to_double(r->final_balance);
    SET(START_BALANCE, start);
    SET(FINAL_BALANCE, fin);
    SET(ABS_PROFIT, cb_fx_to_double(r->final_balance - r->start_balance));
    SET(TOTAL_RETURN, (fin / start - 1.0) * 100.0);
    double days = r->steps ? (double)(r->last_ms - r->first_ms + r->timeframe_ms) /
                                 (double)CB_MS_PER_DAY
                           : 0.0;
    SET(DAYS, days);
    SET(PERIOD_START, (double)r->first_ms);
    SET(PERIOD_END, (double)r->last_ms);
    double cagr = NAN;
    if (days > 0 && fin > 0)
        cagr = (pow(fin / start, 365.25 / days) - 1.0) * 100.0;
    SET(CAGR, cagr);

    /* daily returns */
    double sum = 0, sum2 = 0, down2 = 0, best = NAN, worst = NAN, prev = start;
    size_t wd = 0, dd = 0, ld = 0;
    for (size_t i = 0; i < r->n_days; i++) {
        double e = r->day_equity[i];
        if (i == r->n_days - 1)
            e = fin; /* the end-of-data close pays its fee on the last day */
        double ret = prev > 0 ? e / prev - 1.0 : 0.0;
        prev = e;
        sum += ret;
        sum2 += ret * ret;
        if (ret < 0)
            down2 += ret * ret;
        if (isnan(best) || ret > best)
            best = ret;
        if (isnan(worst) || ret < worst)
            worst = ret;
        wd += ret > 0;
        ld += ret < 0;
        dd += ret == 0;
    }
    size_t nd = r->n_days;
    if (nd >= 2) {
        double mean = sum / (double)nd;
        double var = (sum2 - (double)nd * mean * mean) / (double)(nd - 1);
        if (var > 0)
            SET(SHARPE, mean / sqrt(var) * sqrt(365.0));
        if (down2 > 0)
            SET(SORTINO, mean / sqrt(down2 / (double)nd) * sqrt(365.0));
    }
    if (nd) {
        SET(BEST_DAY, best * 100.0);
        SET(WORST_DAY, worst * 100.0);
    }
    SET(WIN_DAYS, (double)wd);
    SET(DRAW_DAYS, (double)dd);
    SET(LOSS_DAYS, (double)ld);

    /* drawdown and exposure */
    SET(MAX_DD_PCT, r->max_dd_pct);
    SET(MAX_DD_ABS, r->max_dd_abs);
    SET(MAX_DD_DURATION, (double)r->max_dd_duration_ms);
    SET(MAX_DD_BARS, (double)r->max_dd_bars);
    if (r->max_dd_pct > 0) {
        SET(DD_START, (double)r->max_dd_peak_ms);
        SET(DD_END, (double)r->max_dd_trough_ms);
        if (!isnan(cagr))
            SET(CALMAR, cagr / r->max_dd_pct);
    }
    SET(ULCER, r->ulcer_index);
    SET(EXPOSURE, r->steps ? (double)r->steps_in_market / (double)r->steps * 100.0 : 0.0);
    SET(MIN_BALANCE, r->steps ? r->equity_min : start);
    SET(MAX_BALANCE, r->steps ? r->equity_max : start);
    SET(FEES, cb_fx_to_double(r->fees_paid));
    SET(SLIPPAGE, cb_fx_to_double(r->slippage_paid));
    SET(MARKET_CHANGE, r->buy_hold_return_pct);
    SET(BUY_HOLD, r->buy_hold_return_pct);
    size_t rej = 0;
    for (int k = 0; k < CB_REJECT_COUNT; k++)
        rej += r->rejected[k];
    SET(REJECTED, (double)rej);
    SET(ENTRY_SIGNALS, (double)r->entry_signals);

    /* trades */
    size_t n = r->n_trades, wins = 0, losses = 0, draws = 0, run_w = 0, run_l = 0, max_w = 0,
           max_l = 0, eod = 0;
    double gw = 0, gl = 0, psum = 0, psum2 = 0, pctsum = 0, mae = 0, mfe = 0, dur = 0,
           dur_w = 0, dur_l = 0;
    const cb_trade_t *bt = NULL, *wt = NULL;
    for (size_t i = 0; i < n; i++) {
        const cb_trade_t *t = &r->trades[i];
        double p = cb_fx_to_double(t->pnl), d = (double)(t->exit_time_ms - t->entry_time_ms);
        psum += p;
        psum2 += p * p;
        pctsum += t->pnl_pct;
        mae += t->mae_pct;
        mfe += t->mfe_pct;
        dur += d;
        eod += t->exit_reason == CB_EXIT_END_OF_DATA;
        if (t->pnl > 0) {
            wins++;
            gw += p;
            dur_w += d;
            run_w++;
            run_l = 0;
        } else if (t->pnl < 0) {
            losses++;
            gl += p;
            dur_l += d;
            run_l++;
            run_w = 0;
        } else {
            draws++;
            run_w = run_l = 0;
        }
        if (run_w > max_w)
            max_w = run_w;
        if (run_l > max_l)
            max_l = run_l;
        if (!bt || t->pnl_pct > bt->pnl_pct)
            bt = t;
        if (!wt || t->pnl_pct < wt->pnl_pct)
            wt = t;
    }
    SET(TRADES, (double)n);
    SET(WINS, (double)wins);
    SET(LOSSES, (double)losses);
    SET(DRAWS, (double)draws);
    SET(END_OF_DATA, (double)eod);
    SET(MAX_CONSEC_WINS, (double)max_w);
    SET(MAX_CONSEC_LOSSES, (double)max_l);
    if (days > 0)
        SET(TRADES_PER_DAY, (double)n / days);
    if (n) {
        double mean = psum / (double)n;
        SET(WIN_RATE, (double)wins / (double)n * 100.0);
        SET(EXPECTANCY, mean);
        SET(AVG_PROFIT_PCT, pctsum / (double)n);
        SET(AVG_MAE, mae / (double)n);
        SET(AVG_MFE, mfe / (double)n);
        SET(AVG_DURATION, dur / (double)n);
        double var = psum2 / (double)n - mean * mean;
        if (var > 0)
            SET(SQN, sqrt((double)n) * mean / sqrt(var));
        if (gl < 0)
            SET(PROFIT_FACTOR, gw / -gl);
        if (wins && losses) {
            double aw = gw / (double)wins, al = -gl / (double)losses;
            SET(EXPECTANCY_RATIO, (1.0 + aw / al) * ((double)wins / (double)n) - 1.0);
        }
        SET(BEST_TRADE, bt->pnl_pct);
        snprintf(m->v[CB_M_BEST_TRADE].text, sizeof m->v[0].text, "%s",
                 r->pairs[bt->pair].pair);
        SET(WORST_TRADE, wt->pnl_pct);
        snprintf(m->v[CB_M_WORST_TRADE].text, sizeof m->v[0].text, "%s",
                 r->pairs[wt->pair].pair);
    }
    if (wins)
        SET(AVG_DURATION_WIN, dur_w / (double)wins);
    if (losses)
        SET(AVG_DURATION_LOSS, dur_l / (double)losses);

    /* per pair */
    m->pairs = calloc(r->n_pairs ? r->n_pairs : 1, sizeof *m->pairs);
    m->reasons = calloc(CB_EXIT_COUNT, sizeof *m->reasons);
    if (!m->pairs || !m->reasons)
        goto nomem;
    m->n_pairs = r->n_pairs;
    for (size_t k = 0; k < r->n_pairs; k++) {
        snprintf(m->pairs[k].name, sizeof m->pairs[k].name, "%s", r->pairs[k].pair);
        const cb_pair_result_t *pr = &r->pairs[k];
        m->pairs[k].buy_hold_pct =
            pr->first_close > 0 ? (pr->last_close / pr->first_close - 1.0) * 100.0 : NAN;
    }
    for (size_t i = 0; i < n; i++)
        add_trade(&m->pairs[r->trades[i].pair], &r->trades[i]);
    const cb_group_row_t *bp = NULL, *wp = NULL;
    for (size_t k = 0; k < r->n_pairs; k++) {
        m->pairs[k].return_pct = m->pairs[k].pnl / start * 100.0;
        if (!m->pairs[k].trades)
            continue;
        if (!bp || m->pairs[k].pnl > bp->pnl)
            bp = &m->pairs[k];
        if (!wp || m->pairs[k].pnl < wp->pnl)
            wp = &m->pairs[k];
    }
    if (bp) {
        SET(BEST_PAIR, bp->return_pct);
        snprintf(m->v[CB_M_BEST_PAIR].text, sizeof m->v[0].text, "%s", bp->name);
        SET(WORST_PAIR, wp->return_pct);
        snprintf(m->v[CB_M_WORST_PAIR].text, sizeof m->v[0].text, "%s", wp->name);
    }
    /* per exit reason (every reason listed, in table order) */
    m->n_reasons = CB_EXIT_COUNT;
    for (int k = 0; k < CB_EXIT_COUNT; k++)
        snprintf(m->reasons[k].name, sizeof m->reasons[k].name, "%s",
                 cb_exit_reason_name((cb_exit_reason_t)k));
    for (size_t i = 0; i < n; i++)
        add_trade(&m->reasons[r->trades[i].exit_reason], &r->trades[i]);
    for (int k = 0; k < CB_EXIT_COUNT; k++)
        m->reasons[k].return_pct = m->reasons[k].pnl / start * 100.0;
    /* monthly: equity change from the previous month's last close (or the start) */
    if (r->n_days) {
        int64_t k0 = month_key(r->day_ms[0]), k1 = month_key(r->day_ms[r->n_days - 1]);
        size_t nm_count = (size_t)(k1 - k0 + 1);
        m->months = calloc(nm_count, sizeof *m->months);
        if (!m->months)
            goto nomem;
        m->n_months = nm_count;
        double base = start;
        size_t di = 0;
        for (size_t j = 0; j < nm_count; j++) {
            int64_t key = k0 + (int64_t)j;
            int64_t y = (key - 1) / 12;
            int mo = (int)((key - 1) % 12) + 1;
            snprintf(m->months[j].name, sizeof m->months[j].name, "%04lld-%02d", (long long)y,
                     mo);
            double last = base;
            /* the days before the next month's first (keys are year * 12 + month) */
            int64_t y1 = key / 12, m1 = key % 12; /* key = y1 * 12 + m1, m1 in 0..11 */
            if (m1 < 0) {
                m1 += 12;
                y1--;
            }
            int64_t end_ms = cb_days_from_civil(y1, (int)m1 + 1, 1) * CB_MS_PER_DAY;
            while (di < r->n_days) {
                if (r->day_ms[di] >= end_ms)
                    break;
                last = di == r->n_days - 1 ? fin : r->day_equity[di];
                di++;
            }
            m->months[j].return_pct = base > 0 ? (last / base - 1.0) * 100.0 : 0.0;
            base = last;
        }
        for (size_t i = 0; i < n; i++) {
            int64_t kk = month_key(r->trades[i].exit_time_ms);
            if (kk >= k0 && kk <= k1)
                add_trade(&m->months[kk - k0], &r->trades[i]);
        }
    }
#undef SET
    return 0;
nomem:
    cb_metrics_free(m);
    return CB_ENOMEM;
}

/* "1,234,567.89" */
static void group_thousands(double v, int decimals, char *buf, size_t size)
{
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.*f", decimals, fabs(v));
    char *dot = strchr(tmp, '.');
    size_t ilen = dot ? (size_t)(dot - tmp) : strlen(tmp);
    char out[96];
    size_t w = 0;
    if (v < 0 && strspn(tmp, "0.") != strlen(tmp))
        out[w++] = '-';
    for (size_t i = 0; i < ilen; i++) {
        out[w++] = tmp[i];
        size_t left = ilen - i - 1;
        if (left && left % 3 == 0)
            out[w++] = ',';
    }
    out[w] = 0;
    snprintf(buf, size, "%s%s", out, dot ? dot : "");
}

static void fmt_duration(double ms, char *buf, size_t size)
{
    int64_t s = (int64_t)llround(ms / 1000.0);
    int64_t d = s / 86400, h = s % 86400 / 3600, mi = s % 3600 / 60;
    if (d)
        snprintf(buf, size, "%lldd %02lld:%02lld", (long long)d, (long long)h, (long long)mi);
    else
        snprintf(buf, size, "%02lld:%02lld", (long long)h, (long long)mi);
}

void cb_metric_format(const cb_metrics_t *m, cb_metric_id_t id, const char *quote, char *buf,
                      size_t size)
{
    const cb_metric_value_t *v = &m->v[id];
    double x = v->value;
    if (isnan(x) || isinf(x)) {
        snprintf(buf, size, "-");
        return;
    }
    char num[64];
    switch (k_info[id].kind) {
    case CB_MK_MONEY:
        group_thousands(x, fabs(x) >= 100 ? 2 : 4, num, sizeof num);
        snprintf(buf, size, "%s %s", num, quote ? quote : "");
        return;
    case CB_MK_PCT: snprintf(buf, size, "%.2f%%", x); return;
    case CB_MK_RATIO: snprintf(buf, size, "%.2f", x); return;
    case CB_MK_COUNT: snprintf(buf, size, "%.0f", x); return;
    case CB_MK_DURATION: fmt_duration(x, buf, size); return;
    case CB_MK_TIME: {
        char t[40];
        cb_time_format((int64_t)x, t, sizeof t);
        snprintf(buf, size, "%s", t);
        return;
    }
    case CB_MK_TEXT: snprintf(buf, size, "%s %.2f%%", v->text, x); return;
    }
    snprintf(buf, size, "?");
}
