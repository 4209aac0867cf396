/* JSON and CSV outputs of a backtest, written by hand so that money keeps its exact decimal
 * text and the bytes are the same on every run. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "comeback/report.h"
#include "report_int.h"

void rp_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

void rp_fx(FILE *f, int64_t v)
{
    char buf[48];
    cb_dec_format(v, CB_FX_SCALE, buf, sizeof buf);
    fputs(buf, f);
}

void rp_num(FILE *f, double v)
{
    if (isnan(v) || isinf(v)) {
        fputs("null", f);
        return;
    }
    if (v == 0) {
        fputs("0", f);
        return;
    }
    fprintf(f, "%.12g", v);
}

/* money as a double from sums: round to 1e-8 and print exactly */
static void rp_money(FILE *f, double v)
{
    if (isnan(v) || isinf(v)) {
        fputs("null", f);
        return;
    }
    rp_fx(f, cb_fx_from_double(v));
}

void rp_time_iso(int64_t ms, char *buf, size_t size) { cb_time_format_iso(ms, buf, size); }

/* cb_series_sha256 is defined by data/ (store.c): one definition of a series' hash. */

static void group_json(FILE *f, const cb_group_row_t *g, const char *name_key, int pair)
{
    fprintf(f, "{");
    rp_json_str(f, name_key);
    fprintf(f, ": ");
    rp_json_str(f, g->name);
    fprintf(f, ", \"trades\": %zu, \"wins\": %zu, \"draws\": %zu, \"losses\": %zu, \"pnl\": ",
            g->trades, g->wins, g->draws, g->losses);
    rp_money(f, g->pnl);
    fprintf(f, ", \"return_pct\": ");
    rp_num(f, g->return_pct);
    fprintf(f, ", \"avg_pnl_pct\": ");
    rp_num(f, g->trades ? g->pnl_pct_sum / (double)g->trades : NAN);
    fprintf(f, ", \"fees\": ");
    rp_money(f, g->fees);
    if (pair) {
        fprintf(f, ", \"buy_hold_pct\": ");
        rp_num(f, g->buy_hold_pct);
    }
    fprintf(f, "}");
}

int cb_report_write_json(FILE *f, const cb_report_t *rep)
{
    const cb_engine_result_t *r = rep->result;
    const cb_metrics_t *m = rep->metrics;
    char t1[40];
    fprintf(f, "{\n  \"version\": ");
    rp_json_str(f, cb_version());
    fprintf(f, ",\n  \"strategy\": ");
    rp_json_str(f, rep->strategy);
    fprintf(f, ",\n  \"quote\": ");
    rp_json_str(f, r->quote);
    fprintf(f, ",\n  \"metrics\": {\n");
    for (int k = 0; k < CB_METRIC_COUNT; k++) {
        const cb_metric_info_t *in = cb_metric_info((cb_metric_id_t)k);
        fprintf(f, "    ");
        rp_json_str(f, in->key);
        fprintf(f, ": ");
        double v = m->v[k].value;
        if (k == CB_M_START_BALANCE)
            rp_fx(f, r->start_balance);
        else if (k == CB_M_FINAL_BALANCE)
            rp_fx(f, r->final_balance);
        else if (k == CB_M_ABS_PROFIT)
            rp_fx(f, r->final_balance - r->start_balance);
        else if (k == CB_M_FEES)
            rp_fx(f, r->fees_paid);
        else if (k == CB_M_SLIPPAGE)
            rp_fx(f, r->slippage_paid);
        else if (in->kind == CB_MK_MONEY)
            rp_money(f, v);
        else if (in->kind == CB_MK_TIME || in->kind == CB_MK_DURATION || in->kind == CB_MK_COUNT)
            isnan(v) ? fputs("null", f) : fprintf(f, "%lld", (long long)llround(v));
        else if (in->kind == CB_MK_TEXT) {
            fprintf(f, "{\"name\": ");
            rp_json_str(f, m->v[k].text);
            fprintf(f, ", \"value\": ");
            rp_num(f, v);
            fprintf(f, "}");
        } else
            rp_num(f, v);
        fprintf(f, "%s\n", k + 1 < CB_METRIC_COUNT ? "," : "");
    }
    fprintf(f, "  },\n  \"rejected\": {");
    for (int k = 1; k < CB_REJECT_COUNT; k++) {
        fprintf(f, "%s", k > 1 ? ", " : "");
        rp_json_str(f, cb_reject_name((cb_reject_t)k));
        fprintf(f, ": %zu", r->rejected[k]);
    }
    fprintf(f, ", \"exits_refused\": %zu, \"limit_entries_expired\": %zu},\n",
            r->rejected_exits, r->expired_entries);
    fprintf(f, "  \"trades\": [");
    for (size_t i = 0; i < r->n_trades; i++) {
        const cb_trade_t *t = &r->trades[i];
        if (ferror(f))
            return CB_EIO; /* a full disk: stop now, the caller discards the file */
        fprintf(f, "%s\n    {\"pair\": ", i ? "," : "");
        rp_json_str(f, r->pairs[t->pair].pair);
        fprintf(f, ", \"signal_time_ms\": %lld, \"entry_time_ms\": %lld, \"entry_time\": ",
                (long long)t->signal_time_ms, (long long)t->entry_time_ms);
        rp_json_str(f, cb_time_format_iso(t->entry_time_ms, t1, sizeof t1));
        fprintf(f, ", \"entry_price\": ");
        rp_fx(f, t->entry_price);
        fprintf(f, ", \"exit_time_ms\": %lld, \"exit_time\": ", (long long)t->exit_time_ms);
        rp_json_str(f, cb_time_format_iso(t->exit_time_ms, t1, sizeof t1));
        fprintf(f, ", \"exit_price\": ");
        rp_fx(f, t->exit_price);
        fprintf(f, ", \"quantity\": ");
        rp_fx(f, t->quantity);
        fprintf(f, ", \"fees\": ");
        rp_fx(f, t->fees);
        fprintf(f, ", \"slippage\": ");
        rp_fx(f, t->slippage);
        fprintf(f, ", \"pnl\": ");
        rp_fx(f, t->pnl);
        fprintf(f, ", \"pnl_pct\": ");
        rp_num(f, t->pnl_pct);
        fprintf(f, ", \"mae_pct\": ");
        rp_num(f, t->mae_pct);
        fprintf(f, ", \"mfe_pct\": ");
        rp_num(f, t->mfe_pct);
        fprintf(f, ", \"bars_held\": %zu, \"exit_reason\": ", t->bars_held);
        rp_json_str(f, cb_exit_reason_name(t->exit_reason));
        fprintf(f, "}");
    }
    fprintf(f, "%s],\n  \"pairs\": [", r->n_trades ? "\n  " : "");
    for (size_t k = 0; k < m->n_pairs; k++) {
        fprintf(f, "%s\n    ", k ? "," : "");
        group_json(f, &m->pairs[k], "pair", 1);
    }
    fprintf(f, "\n  ],\n  \"exit_reasons\": [");
    for (size_t k = 0; k < m->n_reasons; k++) {
        fprintf(f, "%s\n    ", k ? "," : "");
        group_json(f, &m->reasons[k], "exit_reason", 0);
    }
    fprintf(f, "\n  ],\n  \"monthly\": [");
    for (size_t k = 0; k < m->n_months; k++) {
        fprintf(f, "%s\n    ", k ? "," : "");
        group_json(f, &m->months[k], "month", 0);
    }
    fprintf(f, "%s],\n  \"config\": {", m->n_months ? "\n  " : "");
    for (size_t k = 0; k < rep->n_config; k++) {
        fprintf(f, "%s\n    ", k ? "," : "");
        rp_json_str(f, rep->config[k].key);
        fprintf(f, ": ");
        rp_json_str(f, rep->config[k].value);
    }
    fprintf(f, "%s},\n  \"data\": [", rep->n_config ? "\n  " : "");
    for (size_t k = 0; k < rep->n_data; k++) {
        const cb_report_data_t *d = &rep->data[k];
        fprintf(f, "%s\n    {\"name\": ", k ? "," : "");
        rp_json_str(f, d->name);
        fprintf(f, ", \"pair\": ");
        rp_json_str(f, d->pair);
        fprintf(f, ", \"timeframe\": ");
        rp_json_str(f, d->timeframe);
        fprintf(f, ", \"bars\": %zu, \"first_ms\": %lld, \"last_ms\": %lld, \"synthetic\": %s, "
                   "\"sha256\": ",
                d->bars, (long long)d->first_ms, (long long)d->last_ms,
                d->synthetic ? "true" : "false");
        rp_json_str(f, d->sha256);
        fprintf(f, "}");
    }
    fprintf(f, "%s]", rep->n_data ? "\n  " : "");
    if (rep->with_equity) {
        fprintf(f, ",\n  \"equity\": [");
        for (size_t i = 0; i < r->n_days; i++) {
            if (ferror(f))
                return CB_EIO; /* a full disk: stop now, the caller discards the file */
            fprintf(f, "%s\n    {\"day_ms\": %lld, \"equity\": ", i ? "," : "",
                    (long long)r->day_ms[i]);
            rp_money(f, i + 1 == r->n_days ? cb_fx_to_double(r->final_balance)
                                           : r->day_equity[i]);
            fprintf(f, "}");
        }
        fprintf(f, "%s]", r->n_days ? "\n  " : "");
    }
    fprintf(f, "\n}\n");
    return ferror(f) ? CB_EIO : 0;
}

int cb_report_write_trades_csv(FILE *f, const cb_report_t *rep)
{
    const cb_engine_result_t *r = rep->result;
    fprintf(f, "pair,signal_time_ms,entry_time_ms,entry_price,exit_time_ms,exit_price,quantity,"
               "fees,slippage,pnl,pnl_pct,mae_pct,mfe_pct,bars_held,exit_reason\n");
    for (size_t i = 0; i < r->n_trades; i++) {
        const cb_trade_t *t = &r->trades[i];
        if (ferror(f))
            return CB_EIO; /* a full disk: stop now, the caller discards the file */
        fprintf(f, "%s,%lld,%lld,", r->pairs[t->pair].pair, (long long)t->signal_time_ms,
                (long long)t->entry_time_ms);
        rp_fx(f, t->entry_price);
        fprintf(f, ",%lld,", (long long)t->exit_time_ms);
        rp_fx(f, t->exit_price);
        fputc(',', f);
        rp_fx(f, t->quantity);
        fputc(',', f);
        rp_fx(f, t->fees);
        fputc(',', f);
        rp_fx(f, t->slippage);
        fputc(',', f);
        rp_fx(f, t->pnl);
        fputc(',', f);
        rp_num(f, t->pnl_pct);
        fputc(',', f);
        rp_num(f, t->mae_pct);
        fputc(',', f);
        rp_num(f, t->mfe_pct);
        fprintf(f, ",%zu,%s\n", t->bars_held, cb_exit_reason_name(t->exit_reason));
    }
    return ferror(f) ? CB_EIO : 0;
}
