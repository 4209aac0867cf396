/* The terminal summary: metrics (one or two columns by width), then the per-pair, per-exit-
 * reason and monthly tables. Colour only when asked (the CLI asks on a TTY). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "comeback/report.h"
#include "report_int.h"

#define GREEN "\033[32m"
#define RED "\033[31m"
#define BOLD "\033[1m"
#define RESET "\033[0m"

static const char *sign_color(double v, int color)
{
    if (!color || isnan(v) || v == 0)
        return "";
    return v > 0 ? GREEN : RED;
}

static int signed_metric(cb_metric_id_t id)
{
    switch (id) {
    case CB_M_ABS_PROFIT: case CB_M_TOTAL_RETURN: case CB_M_CAGR: case CB_M_EXPECTANCY:
    case CB_M_AVG_PROFIT_PCT: case CB_M_BEST_TRADE: case CB_M_WORST_TRADE:
    case CB_M_BEST_PAIR: case CB_M_WORST_PAIR: case CB_M_MARKET_CHANGE: case CB_M_BUY_HOLD:
        return 1;
    default: return 0;
    }
}

static void rule(FILE *f, int width)
{
    for (int i = 0; i < width; i++)
        fputc('-', f);
    fputc('\n', f);
}

static void cell(FILE *f, const char *text, int w, int right, const char *col, int color)
{
    int len = (int)strlen(text);
    if (len > w) {
        fprintf(f, "%s%.*s%s", col, w, text, *col && color ? RESET : "");
        return;
    }
    if (right)
        fprintf(f, "%*s", w - len, "");
    fprintf(f, "%s%s%s", col, text, *col && color ? RESET : "");
    if (!right)
        fprintf(f, "%*s", w - len, "");
}

static void table(FILE *f, const char *title, const cb_group_row_t *rows, size_t n,
                  const char *name_hdr, int with_bh, int with_ret, const char *quote, int width,
                  int color, int skip_empty)
{
    fprintf(f, "\n%s%s%s\n", color ? BOLD : "", title, color ? RESET : "");
    /* columns: name, trades, win/draw/loss, win %, avg %, pnl, return %, [b&h %] */
    int wide = width >= 96;
    int nw = 14;
    char buf[64];
    cell(f, name_hdr, nw, 0, "", color);
    cell(f, "trades", 7, 1, "", color);
    if (wide)
        cell(f, "W/D/L", 13, 1, "", color);
    cell(f, "win%", 8, 1, "", color);
    cell(f, "avg%", 9, 1, "", color);
    snprintf(buf, sizeof buf, "pnl %s", quote);
    cell(f, buf, 16, 1, "", color);
    if (with_ret)
        cell(f, "return%", 10, 1, "", color);
    if (with_bh && wide)
        cell(f, "b&h%", 10, 1, "", color);
    fputc('\n', f);
    for (size_t i = 0; i < n; i++) {
        const cb_group_row_t *g = &rows[i];
        if (skip_empty && !g->trades)
            continue;
        cell(f, g->name, nw, 0, "", color);
        snprintf(buf, sizeof buf, "%zu", g->trades);
        cell(f, buf, 7, 1, "", color);
        if (wide) {
            snprintf(buf, sizeof buf, "%zu/%zu/%zu", g->wins, g->draws, g->losses);
            cell(f, buf, 13, 1, "", color);
        }
        if (g->trades)
            snprintf(buf, sizeof buf, "%.1f", (double)g->wins / (double)g->trades * 100.0);
        else
            snprintf(buf, sizeof buf, "-");
        cell(f, buf, 8, 1, "", color);
        double avg = g->trades ? g->pnl_pct_sum / (double)g->trades : NAN;
        if (g->trades)
            snprintf(buf, sizeof buf, "%.2f", avg);
        cell(f, buf, 9, 1, sign_color(avg, color), color);
        snprintf(buf, sizeof buf, "%.2f", g->pnl);
        cell(f, buf, 16, 1, sign_color(g->pnl, color), color);
        if (with_ret) {
            snprintf(buf, sizeof buf, "%.2f", g->return_pct);
            cell(f, buf, 10, 1, sign_color(g->return_pct, color), color);
        }
        if (with_bh && wide) {
            snprintf(buf, sizeof buf, "%.2f", g->buy_hold_pct);
            cell(f, buf, 10, 1, "", color);
        }
        fputc('\n', f);
    }
}

int cb_report_write_text(FILE *f, const cb_report_t *rep, int width, int color)
{
    const cb_engine_result_t *r = rep->result;
    const cb_metrics_t *m = rep->metrics;
    if (width < 40)
        width = 40;
    if (width > 160)
        width = 160;
    char a[40], b[40];
    fprintf(f, "%sBacktest: %s%s  %s .. %s, %zu pair%s\n", color ? BOLD : "",
            rep->strategy ? rep->strategy : "?", color ? RESET : "",
            r->steps ? cb_time_format(r->first_ms, a, sizeof a) : "-",
            r->steps ? cb_time_format(r->last_ms, b, sizeof b) : "-", r->n_pairs,
            r->n_pairs == 1 ? "" : "s");
    for (size_t k = 0; k < rep->n_data; k++)
        if (rep->data[k].synthetic) {
            fprintf(f, "%sSYNTHETIC DATA%s: %s is generated, not a real market\n",
                    color ? RED : "", color ? RESET : "", rep->data[k].name);
        }
    rule(f, width);
    /* metrics: label + value cells of 50 columns, as many per line as fit */
    int colw = 50, per = width / colw;
    if (per < 1)
        per = 1;
    int labw = 24, valw = colw - labw - 2;
    if (per == 1 && width < colw) {
        labw = width / 2;
        valw = width - labw - 1;
    }
    int col = 0;
    for (int k = 0; k < CB_METRIC_COUNT; k++) {
        const cb_metric_info_t *in = cb_metric_info((cb_metric_id_t)k);
        char v[96];
        cb_metric_format(m, (cb_metric_id_t)k, r->quote, v, sizeof v);
        cell(f, in->label, labw, 0, "", color);
        cell(f, v, valw, 1,
             signed_metric((cb_metric_id_t)k) ? sign_color(m->v[k].value, color) : "", color);
        if (++col == per) {
            fputc('\n', f);
            col = 0;
        } else {
            fputs("  ", f);
        }
    }
    if (col)
        fputc('\n', f);
    size_t rej = 0;
    for (int k = 1; k < CB_REJECT_COUNT; k++)
        rej += r->rejected[k];
    if (rej || r->rejected_exits || r->expired_entries) {
        fprintf(f, "Refused entries:");
        for (int k = 1; k < CB_REJECT_COUNT; k++)
            if (r->rejected[k])
                fprintf(f, " %s %zu", cb_reject_name((cb_reject_t)k), r->rejected[k]);
        if (r->rejected_exits)
            fprintf(f, "; exit orders refused %zu", r->rejected_exits);
        if (r->expired_entries)
            fprintf(f, "; limit entries expired %zu", r->expired_entries);
        fputc('\n', f);
    }
    rule(f, width);
    table(f, "Per pair", m->pairs, m->n_pairs, "pair", 1, 1, r->quote, width, color, 0);
    table(f, "Per exit reason (end_of_data: closed because the data ended)", m->reasons,
          m->n_reasons, "exit reason", 0, 0, r->quote, width, color, 1);
    if (m->n_months) {
        fprintf(f, "\n%sMonthly returns (%%)%s\n", color ? BOLD : "", color ? RESET : "");
        int per_line = (width - 1) / 17;
        if (per_line < 1)
            per_line = 1;
        for (size_t k = 0; k < m->n_months; k++) {
            char buf[40];
            snprintf(buf, sizeof buf, "%+.2f", m->months[k].return_pct);
            fprintf(f, "%s ", m->months[k].name);
            cell(f, buf, 8, 1, sign_color(m->months[k].return_pct, color), color);
            fputs((int)(k % (size_t)per_line) == per_line - 1 || k + 1 == m->n_months ? "\n"
                                                                                      : "  ",
                  f);
        }
    }
    return ferror(f) ? CB_EIO : 0;
}
