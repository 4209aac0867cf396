/* The HTML report: one self-contained page (inline CSS and SVG, no scripts, no network). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "comeback/report.h"
#include "report_int.h"

#define W 960
#define H 260
#define PADL 70
#define PADR 16
#define PADT 14
#define PADB 26

static void esc(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

typedef struct axis {
    int64_t t0, t1;
    double y0, y1;
} axis_t;

static double px_x(const axis_t *a, int64_t t)
{
    double span = (double)(a->t1 - a->t0);
    return PADL + (span > 0 ? (double)(t - a->t0) / span : 0.5) * (W - PADL - PADR);
}

static double px_y(const axis_t *a, double v)
{
    double span = a->y1 - a->y0;
    return PADT + (span > 0 ? (a->y1 - v) / span : 0.5) * (H - PADT - PADB);
}

static void frame(FILE *f, const axis_t *a, const char *fmt_unit)
{
    char d0[40], d1[40];
    cb_time_format(a->t0, d0, sizeof d0);
    cb_time_format(a->t1, d1, sizeof d1);
    d0[10] = d1[10] = 0;
    fprintf(f, "<rect x='%d' y='%d' width='%d' height='%d' fill='#fafafa' stroke='#ccc'/>\n",
            PADL, PADT, W - PADL - PADR, H - PADT - PADB);
    for (int k = 0; k <= 4; k++) {
        double v = a->y0 + (a->y1 - a->y0) * k / 4.0;
        double y = px_y(a, v);
        fprintf(f, "<line x1='%d' x2='%d' y1='%.1f' y2='%.1f' stroke='#e4e4e4'/>", PADL,
                W - PADR, y, y);
        fprintf(f, "<text x='%d' y='%.1f' class='ax' text-anchor='end'>%.*f%s</text>\n",
                PADL - 4, y + 4, fabs(a->y1 - a->y0) >= 50 ? 0 : 2, v, fmt_unit);
    }
    fprintf(f, "<text x='%d' y='%d' class='ax'>%s</text>", PADL, H - 8, d0);
    fprintf(f, "<text x='%d' y='%d' class='ax' text-anchor='end'>%s</text>\n", W - PADR, H - 8,
            d1);
}

static void polyline(FILE *f, const axis_t *a, const int64_t *t, const double *y, size_t n,
                     const char *color, double scale)
{
    fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='1.4' points='", color);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%.1f,%.1f ", px_x(a, t[i]), px_y(a, y[i] * scale));
    fprintf(f, "'/>\n");
}

static void range(const double *y, size_t n, double *lo, double *hi)
{
    for (size_t i = 0; i < n; i++) {
        if (isnan(y[i]))
            continue;
        if (y[i] < *lo)
            *lo = y[i];
        if (y[i] > *hi)
            *hi = y[i];
    }
}

static void svg_open(FILE *f, const char *title)
{
    fprintf(f, "<h2>");
    esc(f, title);
    fprintf(f, "</h2>\n<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 %d %d' "
               "width='100%%' role='img'>\n", W, H);
}

static void price_chart(FILE *f, const cb_report_t *rep, size_t k)
{
    const cb_engine_result_t *r = rep->result;
    const cb_pair_result_t *p = &r->pairs[k];
    if (p->n_samples < 1)
        return;
    char title[96];
    snprintf(title, sizeof title, "%s: price, entries (green) and exits (red)", p->pair);
    svg_open(f, title);
    axis_t a = {p->sample_ms[0], p->sample_ms[p->n_samples - 1], INFINITY, -INFINITY};
    if (a.t1 == a.t0)
        a.t1 = a.t0 + 1;
    range(p->sample_close, p->n_samples, &a.y0, &a.y1);
    for (size_t i = 0; i < r->n_trades; i++) {
        const cb_trade_t *t = &r->trades[i];
        if (t->pair != k)
            continue;
        double e = cb_fx_to_double(t->entry_price), x = cb_fx_to_double(t->exit_price);
        range(&e, 1, &a.y0, &a.y1);
        range(&x, 1, &a.y0, &a.y1);
    }
    frame(f, &a, "");
    polyline(f, &a, p->sample_ms, p->sample_close, p->n_samples, "#445", 1.0);
    size_t shown = 0;
    for (size_t i = 0; i < r->n_trades && shown < 2000; i++) {
        const cb_trade_t *t = &r->trades[i];
        if (t->pair != k)
            continue;
        shown++;
        double ex = px_x(&a, t->entry_time_ms), ey = px_y(&a, cb_fx_to_double(t->entry_price));
        double xx = px_x(&a, t->exit_time_ms), xy = px_y(&a, cb_fx_to_double(t->exit_price));
        fprintf(f, "<path d='M%.1f %.1f l-4 7 h8 z' fill='#1a9850'><title>entry %s</title>"
                   "</path>",
                ex, ey, cb_exit_reason_name(t->exit_reason));
        fprintf(f, "<path d='M%.1f %.1f l-4 -7 h8 z' fill='#d73027'><title>%s %.2f%%</title>"
                   "</path>\n",
                xx, xy, cb_exit_reason_name(t->exit_reason), t->pnl_pct);
    }
    fprintf(f, "</svg>\n");
}

static void equity_chart(FILE *f, const cb_engine_result_t *r)
{
    if (r->n_curve < 1)
        return;
    svg_open(f, "Equity (blue) against buy and hold (grey)");
    axis_t a = {r->curve_ms[0], r->curve_ms[r->n_curve - 1], INFINITY, -INFINITY};
    if (a.t1 == a.t0)
        a.t1 = a.t0 + 1;
    range(r->curve_equity, r->n_curve, &a.y0, &a.y1);
    range(r->curve_bh, r->n_curve, &a.y0, &a.y1);
    frame(f, &a, "");
    polyline(f, &a, r->curve_ms, r->curve_bh, r->n_curve, "#999", 1.0);
    polyline(f, &a, r->curve_ms, r->curve_equity, r->n_curve, "#2166ac", 1.0);
    fprintf(f, "</svg>\n");
}

static void drawdown_chart(FILE *f, const cb_engine_result_t *r)
{
    if (r->n_curve < 1)
        return;
    svg_open(f, "Drawdown (underwater, % below the running peak)");
    axis_t a = {r->curve_ms[0], r->curve_ms[r->n_curve - 1], 0, 0};
    if (a.t1 == a.t0)
        a.t1 = a.t0 + 1;
    double lo = 0, hi = 0;
    range(r->curve_dd_pct, r->n_curve, &lo, &hi);
    a.y0 = -(hi > 0 ? hi : 1);
    frame(f, &a, "%");
    fprintf(f, "<polygon fill='#f4a582' stroke='#d6604d' points='%.1f,%.1f ", px_x(&a, a.t0),
            px_y(&a, 0));
    for (size_t i = 0; i < r->n_curve; i++)
        fprintf(f, "%.1f,%.1f ", px_x(&a, r->curve_ms[i]), px_y(&a, -r->curve_dd_pct[i]));
    fprintf(f, "%.1f,%.1f'/>\n</svg>\n", px_x(&a, a.t1), px_y(&a, 0));
}

static void heatmap(FILE *f, const cb_metrics_t *m)
{
    if (!m->n_months)
        return;
    int y0, y1, mo;
    sscanf(m->months[0].name, "%d-%d", &y0, &mo);
    sscanf(m->months[m->n_months - 1].name, "%d-%d", &y1, &mo);
    int rows = y1 - y0 + 1, cw = 66, ch = 24, left = 60, top = 22;
    double maxabs = 0.01;
    for (size_t k = 0; k < m->n_months; k++)
        if (fabs(m->months[k].return_pct) > maxabs)
            maxabs = fabs(m->months[k].return_pct);
    fprintf(f, "<h2>Monthly returns</h2>\n<svg xmlns='http://www.w3.org/2000/svg' "
               "viewBox='0 0 %d %d' width='%d' role='img'>\n",
            left + 12 * cw + 4, top + rows * ch + 4, left + 12 * cw + 4);
    static const char *names[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int k = 0; k < 12; k++)
        fprintf(f, "<text x='%d' y='16' class='ax' text-anchor='middle'>%s</text>",
                left + k * cw + cw / 2, names[k]);
    for (int y = 0; y < rows; y++)
        fprintf(f, "<text x='%d' y='%d' class='ax' text-anchor='end'>%d</text>", left - 6,
                top + y * ch + 16, y0 + y);
    fputc('\n', f);
    for (size_t k = 0; k < m->n_months; k++) {
        int yy, mm;
        sscanf(m->months[k].name, "%d-%d", &yy, &mm);
        double v = m->months[k].return_pct, s = fmin(fabs(v) / maxabs, 1.0);
        int rr = v >= 0 ? (int)(255 - 200 * s) : 255, gg = v >= 0 ? 255 : (int)(255 - 200 * s),
            bb = (int)(255 - 200 * s);
        fprintf(f, "<rect x='%d' y='%d' width='%d' height='%d' fill='rgb(%d,%d,%d)' "
                   "stroke='#fff'><title>%s %+.2f%%</title></rect>",
                left + (mm - 1) * cw, top + (yy - y0) * ch, cw, ch, rr, gg, bb,
                m->months[k].name, v);
        fprintf(f, "<text x='%d' y='%d' class='cell' text-anchor='middle'>%+.1f</text>\n",
                left + (mm - 1) * cw + cw / 2, top + (yy - y0) * ch + 16, v);
    }
    fprintf(f, "</svg>\n");
}

static void group_table(FILE *f, const char *title, const cb_group_row_t *g, size_t n,
                        const char *hdr, int skip_empty)
{
    fprintf(f, "<h2>%s</h2>\n<table><tr><th>%s</th><th>trades</th><th>wins</th><th>draws</th>"
               "<th>losses</th><th>avg %%</th><th>pnl</th><th>return %%</th></tr>\n",
            title, hdr);
    for (size_t k = 0; k < n; k++) {
        if (skip_empty && !g[k].trades)
            continue;
        double avg = g[k].trades ? g[k].pnl_pct_sum / (double)g[k].trades : 0;
        fprintf(f, "<tr><td>");
        esc(f, g[k].name);
        fprintf(f, "</td><td>%zu</td><td>%zu</td><td>%zu</td><td>%zu</td><td class='%s'>%.2f"
                   "</td><td class='%s'>%.2f</td><td class='%s'>%.2f</td></tr>\n",
                g[k].trades, g[k].wins, g[k].draws, g[k].losses, avg < 0 ? "neg" : "pos", avg,
                g[k].pnl < 0 ? "neg" : "pos", g[k].pnl, g[k].return_pct < 0 ? "neg" : "pos",
                g[k].return_pct);
    }
    fprintf(f, "</table>\n");
}

int cb_report_write_html(FILE *f, const cb_report_t *rep)
{
    const cb_engine_result_t *r = rep->result;
    const cb_metrics_t *m = rep->metrics;
    fprintf(f, "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>\n<title>"
               "Comeback backtest: ");
    esc(f, rep->strategy);
    fprintf(f, "</title>\n<style>\nbody{font:14px/1.4 system-ui,sans-serif;margin:24px auto;"
               "max-width:1000px;color:#222}\ntable{border-collapse:collapse;margin:8px 0}\n"
               "td,th{padding:2px 10px;border-bottom:1px solid #eee;text-align:right}\n"
               "td:first-child,th:first-child{text-align:left}\n.pos{color:#1a7f37}.neg{color:"
               "#c62828}\n.ax{font-size:11px;fill:#555}.cell{font-size:11px;fill:#222}\n"
               ".warn{background:#fee;border:1px solid #c62828;padding:6px 10px}\n"
               ".grid{columns:2;column-gap:32px}\n</style></head><body>\n<h1>Backtest: ");
    esc(f, rep->strategy);
    fprintf(f, "</h1>\n");
    for (size_t k = 0; k < rep->n_data; k++)
        if (rep->data[k].synthetic) {
            fprintf(f, "<p class='warn'><b>SYNTHETIC DATA</b>: ");
            esc(f, rep->data[k].name);
            fprintf(f, " is generated, not a real market.</p>\n");
        }
    fprintf(f, "<p>Comeback %s. Data:", cb_version());
    for (size_t k = 0; k < rep->n_data; k++) {
        fprintf(f, " <code>");
        esc(f, rep->data[k].name);
        fprintf(f, "</code> (%zu bars, sha256 <code>%.16s</code>&hellip;)", rep->data[k].bars,
                rep->data[k].sha256);
    }
    fprintf(f, "</p>\n<h2>Summary</h2>\n<div class='grid'><table>\n");
    for (int k = 0; k < CB_METRIC_COUNT; k++) {
        char v[96];
        cb_metric_format(m, (cb_metric_id_t)k, r->quote, v, sizeof v);
        const cb_metric_info_t *in = cb_metric_info((cb_metric_id_t)k);
        fprintf(f, "<tr><td title='");
        esc(f, in->formula);
        fprintf(f, "'>%s</td><td>", in->label);
        esc(f, v);
        fprintf(f, "</td></tr>\n");
    }
    fprintf(f, "</table></div>\n");
    equity_chart(f, r);
    drawdown_chart(f, r);
    for (size_t k = 0; k < r->n_pairs; k++)
        price_chart(f, rep, k);
    heatmap(f, m);
    group_table(f, "Per pair", m->pairs, m->n_pairs, "pair", 0);
    group_table(f, "Per exit reason", m->reasons, m->n_reasons, "exit reason", 1);
    fprintf(f, "<h2>Configuration</h2>\n<table>\n");
    for (size_t k = 0; k < rep->n_config; k++) {
        fprintf(f, "<tr><td>");
        esc(f, rep->config[k].key);
        fprintf(f, "</td><td>");
        esc(f, rep->config[k].value);
        fprintf(f, "</td></tr>\n");
    }
    fprintf(f, "</table>\n<h2>Trades (first 500)</h2>\n<table><tr><th>pair</th><th>entry</th>"
               "<th>price</th><th>exit</th><th>price</th><th>qty</th><th>pnl</th><th>%%</th>"
               "<th>reason</th></tr>\n");
    for (size_t i = 0; i < r->n_trades && i < 500; i++) {
        const cb_trade_t *t = &r->trades[i];
        char e[40], x[40];
        cb_time_format(t->entry_time_ms, e, sizeof e);
        cb_time_format(t->exit_time_ms, x, sizeof x);
        fprintf(f, "<tr><td>");
        esc(f, r->pairs[t->pair].pair);
        fprintf(f, "</td><td>%s</td><td>", e);
        rp_fx(f, t->entry_price);
        fprintf(f, "</td><td>%s</td><td>", x);
        rp_fx(f, t->exit_price);
        fprintf(f, "</td><td>");
        rp_fx(f, t->quantity);
        fprintf(f, "</td><td class='%s'>", t->pnl < 0 ? "neg" : "pos");
        rp_fx(f, t->pnl);
        fprintf(f, "</td><td>%.2f</td><td>%s</td></tr>\n", t->pnl_pct,
                cb_exit_reason_name(t->exit_reason));
    }
    fprintf(f, "</table>\n</body></html>\n");
    return ferror(f) ? CB_EIO : 0;
}
