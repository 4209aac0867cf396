/* `comeback optimize STRATEGY.ini ...`: sweeps parameters on all cores, ranks them, and says
 * how likely the best is to hold out of sample (PBO, deflated Sharpe, luck, walk-forward). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "comeback/backtest.h"
#include "comeback/opt.h"
#include "comeback/rules.h"

#ifdef CB_HAVE_MPI
#include <mpi.h>
#endif

const char help_optimize[] =
    "usage: comeback optimize STRATEGY.ini [--param NAME=LO:HI:STEP ...] [--search grid|random]\n"
    "                        [--samples N] [--seed S] [--objective OBJ] [--jobs N] [--top K]\n"
    "                        [--walk-forward FOLDS [--train-frac 0.7] [--anchored]]\n"
    "                        [--luck-runs N] [--partitions S] [--indicator-cache MIB]\n"
    "                        [--shard I/N] [--json FILE] [--html FILE] [--quiet]\n"
    "                        [backtest options: --data --pair --from --to --fee --maker-fee\n"
    "                        --slippage --stake --start-balance --max-open-trades --set]\n"
    "       comeback optimize merge PART.json... [--json FILE] [--html FILE] [--top K]\n"
    "                        [--jobs N] [--quiet]\n"
    "\n"
    "Runs the strategy for every combination of the swept parameters (the ranges in [params],\n"
    "`fast = 12 [5..30 step 1]`, and --param), on all cores, and prints the top K. Then it\n"
    "says how likely the best is to be luck: the Probability of Backtest Overfitting over the\n"
    "daily returns of every combination, the Deflated Sharpe Ratio of the best given how many\n"
    "were tried, the percentile it reaches among random-entry strategies with the same trades\n"
    "and holding times, and a verdict in plain words (docs/overfitting.md). Results are the\n"
    "same for any --jobs.\n"
    "\n"
    "options:\n"
    "  --param NAME=LO:HI:STEP  sweep a parameter (repeatable; replaces the file's range)\n"
    "  --search grid|random     every grid point (default) or a seeded random sample\n"
    "  --samples N              points of a random search (default 100)\n"
    "  --seed S                 seed of the random search and the luck baseline (default 1)\n"
    "  --objective OBJ          sharpe (default), sortino, calmar, profit, sqn, profit_factor\n"
    "  --jobs N                 worker threads (default: all cores)\n"
    "  --top K                  rows of the ranking to print (default 10)\n"
    "  --walk-forward FOLDS     walk-forward analysis: optimize on each training window, test\n"
    "                           the winner on the following unseen window\n"
    "  --train-frac F           training share of each fold's window (default 0.7)\n"
    "  --anchored               training windows all start at the beginning\n"
    "  --luck-runs N            random-entry strategies of the luck baseline (default 1000;\n"
    "                           0 skips it)\n"
    "  --partitions S           PBO blocks (even, default 16)\n"
    "  --indicator-cache MIB    memory for indicators shared between combinations (default\n"
    "                           1024); 0 turns sharing off (same results, slower)\n"
    "  --shard I/N              evaluate only the I-th of N equal blocks of the combinations\n"
    "                           and write them with --json FILE as a part for merge\n"
    "  --json FILE              every result and statistic as JSON\n"
    "  --html FILE              a self-contained HTML report\n"
    "  --quiet                  no progress bar and no table: only the verdict line\n"
    "\n"
    "Built with -DCOMEBACK_MPI=ON, `mpirun -np K comeback optimize ...` spreads the\n"
    "combinations over K processes (and machines) and prints the same report. Without MPI,\n"
    "run `--shard 1/N --json part1.json` ... `--shard N/N --json partN.json` anywhere, then\n"
    "`comeback optimize merge part*.json`: it checks that the parts are one whole sweep of\n"
    "the same strategy file, data and settings, and prints the report the unsharded run\n"
    "would have printed (it reads the strategy and data again for the luck baseline).\n"
    "\n"
    "Exit status: 0 on success, 1 when the strategy, data or a setting is wrong or an output\n"
    "cannot be written (stdout, or --json/--html: written beside FILE and renamed into place,\n"
    "a failed write leaves the previous file), 2 on a bad command line.\n";

#define MAX_SETS 64

/* This process's MPI rank: only rank 0 writes files. */
static int mpi_rank;

typedef struct progress {
    int on;
    double t0;
} progress_t;

static double now_s(void) { return (double)cb_monotonic_ns() * 1e-9; }

static void show_progress(void *ctx, size_t done, size_t total)
{
    progress_t *p = ctx;
    if (!p->on)
        return;
    double el = now_s() - p->t0, rate = el > 0 ? (double)done / el : 0;
    double eta = rate > 0 ? (double)(total - done) / rate : 0;
    int width = 30, fill = total ? (int)((double)width * (double)done / (double)total) : width;
    fprintf(stderr, "\r[%.*s%*s] %zu/%zu combinations  %.1f/s  ETA %.0fs ", fill,
            "##############################", width - fill, "", done, total, rate, eta);
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

static void fmt_num(char *buf, size_t size, double v, int decimals)
{
    if (isnan(v))
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%.*f", decimals, v);
}

static void print_table(const cb_opt_config_t *cfg, const cb_opt_report_t *r, size_t top)
{
    printf("\n%4s", "#");
    for (size_t k = 0; k < cfg->space.n; k++)
        printf(" %10.10s", cfg->space.p[k].name);
    printf(" %10s %9s %8s %8s %7s\n", cb_objective_name(r->objective), "return%", "sharpe",
           "maxdd%", "trades");
    for (size_t i = 0; i < r->n_rows && i < top; i++) {
        const cb_opt_row_t *row = &r->rows[r->rank[i]];
        printf("%4zu", i + 1);
        for (size_t k = 0; k < cfg->space.n; k++)
            printf(" %10.6g", row->values[k]);
        char o[32], ret[32], sh[32], dd[32];
        fmt_num(o, sizeof o, row->objective, 3);
        fmt_num(ret, sizeof ret, row->total_return_pct, 2);
        fmt_num(sh, sizeof sh, row->sharpe, 2);
        fmt_num(dd, sizeof dd, row->max_drawdown_pct, 2);
        printf(" %10s %9s %8s %8s %7zu\n", o, ret, sh, dd, row->trades);
    }
}

static void print_stats(const cb_opt_config_t *cfg, const cb_opt_report_t *r)
{
    printf("\nOverfitting statistics (%zu combinations, %zu days of returns):\n", r->n_rows,
           r->n_days);
    if (r->has_pbo)
        printf("  Probability of Backtest Overfitting  %.2f  (%zu splits of %zu blocks; "
               "in-sample best loses out of sample in %.0f%% of them)\n",
               r->pbo.pbo, r->pbo.splits, r->pbo.partitions, r->pbo.prob_oos_loss * 100);
    else
        printf("  Probability of Backtest Overfitting  n/a  (needs 2+ combinations and 2 days "
               "per block)\n");
    if (r->has_dsr)
        printf("  Deflated Sharpe ratio                %.3f  (p = %.3f; daily Sharpe %.4f vs "
               "%.4f expected from %zu trials of luck)\n",
               r->dsr.dsr, r->dsr.p_value, r->dsr.sharpe, r->dsr.sharpe0, r->dsr.trials);
    else
        printf("  Deflated Sharpe ratio                n/a\n");
    if (r->has_luck)
        printf("  Luck baseline                        beats %.1f%% of %zu random-entry "
               "strategies (their median %.2f%%, 95th percentile %.2f%%; best %.2f%%)\n",
               r->luck.percentile, r->luck.runs, r->luck.median_return_pct,
               r->luck.p95_return_pct, r->luck.best_return_pct);
    else
        printf("  Luck baseline                        n/a\n");
    if (r->n_folds) {
        printf("\nWalk-forward (%zu folds, %s):\n", r->n_folds,
               cfg->wf_anchored ? "anchored" : "rolling");
        printf("  %-4s %-10s %-10s %-10s %-10s %10s %9s %9s\n", "fold", "train", "to", "test",
               "to", "IS obj", "OOS ret%", "OOS shrp");
        for (size_t k = 0; k < r->n_folds; k++) {
            const cb_wf_result_t *w = &r->folds[k];
            char a[32], b[32], c[32], d[32], io[32], orr[32], os[32];
            cb_time_format(w->train_from_ms, a, sizeof a);
            cb_time_format(w->train_to_ms, b, sizeof b);
            cb_time_format(w->test_from_ms, c, sizeof c);
            cb_time_format(w->test_to_ms, d, sizeof d);
            a[10] = b[10] = c[10] = d[10] = '\0';
            fmt_num(io, sizeof io, w->is_objective, 3);
            fmt_num(orr, sizeof orr, w->oos_return_pct, 2);
            fmt_num(os, sizeof os, w->oos_sharpe, 2);
            printf("  %-4zu %-10s %-10s %-10s %-10s %10s %9s %9s  ", k + 1, a, b, c, d, io, orr,
                   os);
            for (size_t p = 0; p < cfg->space.n; p++)
                printf("%s%s=%g", p ? " " : "", cfg->space.p[p].name, w->values[p]);
            printf("\n");
        }
        char e[32];
        fmt_num(e, sizeof e, r->wf_efficiency, 2);
        printf("  stitched out-of-sample return %.2f%% (annualised %.2f%%), in-sample annualised "
               "%.2f%%, walk-forward efficiency %s\n",
               r->wf_oos_return_pct, r->wf_oos_cagr_pct, r->wf_is_cagr_pct, e);
    }
}

static void html_escape(FILE *o, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", o);
        else if (*s == '>')
            fputs("&gt;", o);
        else if (*s == '&')
            fputs("&amp;", o);
        else
            fputc(*s, o);
    }
}

static int write_html(FILE *o, const char *ini, const cb_opt_config_t *cfg,
                      const cb_opt_report_t *r, size_t top)
{
    fprintf(o, "<!doctype html><html><head><meta charset=\"utf-8\"><title>Optimization: ");
    html_escape(o, ini);
    fprintf(o, "</title><style>body{font-family:sans-serif;margin:2em;max-width:70em}"
               "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;"
               "text-align:right}.v{font-size:1.2em;padding:1em;border-radius:6px}"
               ".v0{background:#fdd}.v1{background:#ffd}.v2{background:#dfd}</style></head><body>"
               "<h1>Optimization of ");
    html_escape(o, ini);
    fprintf(o, "</h1><p class=\"v v%d\">", (int)r->verdict_kind);
    html_escape(o, r->verdict);
    fprintf(o, "</p><p>%zu combinations, objective %s, %zu days of returns.</p>", r->n_rows,
            cb_objective_name(r->objective), r->n_days);
    fprintf(o, "<h2>Top %zu</h2><table><tr><th>#</th>", top < r->n_rows ? top : r->n_rows);
    for (size_t k = 0; k < cfg->space.n; k++) {
        fprintf(o, "<th>");
        html_escape(o, cfg->space.p[k].name);
        fprintf(o, "</th>");
    }
    fprintf(o, "<th>%s</th><th>return %%</th><th>Sharpe</th><th>max DD %%</th><th>trades</th>"
               "</tr>\n",
            cb_objective_name(r->objective));
    for (size_t i = 0; i < r->n_rows && i < top; i++) {
        const cb_opt_row_t *row = &r->rows[r->rank[i]];
        fprintf(o, "<tr><td>%zu</td>", i + 1);
        for (size_t k = 0; k < cfg->space.n; k++)
            fprintf(o, "<td>%g</td>", row->values[k]);
        fprintf(o, "<td>%.3f</td><td>%.2f</td><td>%.2f</td><td>%.2f</td><td>%zu</td></tr>\n",
                row->objective, row->total_return_pct, row->sharpe, row->max_drawdown_pct,
                row->trades);
    }
    fprintf(o, "</table><h2>Overfitting statistics</h2><ul>");
    if (r->has_pbo)
        fprintf(o, "<li>Probability of Backtest Overfitting: %.2f (%zu splits)</li>", r->pbo.pbo,
                r->pbo.splits);
    if (r->has_dsr)
        fprintf(o, "<li>Deflated Sharpe ratio: %.3f (p = %.3f, %zu trials)</li>", r->dsr.dsr,
                r->dsr.p_value, r->dsr.trials);
    if (r->has_luck)
        fprintf(o, "<li>Beats %.1f%% of %zu random-entry strategies</li>", r->luck.percentile,
                r->luck.runs);
    fprintf(o, "</ul>");
    if (r->n_folds) {
        fprintf(o, "<h2>Walk-forward</h2><table><tr><th>fold</th><th>test from</th><th>test to"
                   "</th><th>IS objective</th><th>OOS return %%</th><th>OOS Sharpe</th></tr>");
        for (size_t k = 0; k < r->n_folds; k++) {
            char a[32], b[32];
            fprintf(o, "<tr><td>%zu</td><td>%s</td><td>%s</td><td>%.3f</td><td>%.2f</td>"
                       "<td>%.2f</td></tr>",
                    k + 1, cb_time_format(r->folds[k].test_from_ms, a, sizeof a),
                    cb_time_format(r->folds[k].test_to_ms, b, sizeof b),
                    r->folds[k].is_objective, r->folds[k].oos_return_pct, r->folds[k].oos_sharpe);
        }
        fprintf(o, "</table><p>Stitched out-of-sample return %.2f%%; walk-forward efficiency "
                   "%.2f.</p>",
                r->wf_oos_return_pct, r->wf_efficiency);
    }
    fprintf(o, "<p>How to read this: docs/overfitting.md.</p></body></html>\n");
    return ferror(o) ? CB_EIO : 0;
}

static int report_out(const char *ini, const cb_backtest_t *bt, const cb_opt_config_t *cfg,
                      const cb_opt_report_t *r, size_t top, int quiet, const char *json_path,
                      const char *html_path);

/* "2/4" -> 2, 4. Returns 0 or -1. */
static int parse_shard(const char *v, size_t *k, size_t *n)
{
    char *end, *end2;
    unsigned long long a = strtoull(v, &end, 10);
    if (end == v || *end != '/' || v[0] == '-')
        return -1;
    unsigned long long b = strtoull(end + 1, &end2, 10);
    if (end2 == end + 1 || *end2 || end[1] == '-' || a < 1 || a > b || b > 1000000)
        return -1;
    *k = (size_t)a;
    *n = (size_t)b;
    return 0;
}

/* --shard i/N: evaluates the shard's combinations and writes the part for merge. */
static int run_shard(const cb_backtest_t *bt, const cb_opt_config_t *cfg, size_t k,
                     size_t shards, const char *json_path, int quiet)
{
    cb_opt_part_t part;
    cb_diag_t d;
    cb_diag_clear(&d);
    if (cb_optimize_shard(bt, cfg, k, shards, &part, &d) != 0)
        return cli_print_diag(&d), CLI_FAIL;
    int status = CLI_OK;
    cb_file_atomic_t o;
    if (cli_file_open(&o, json_path) != CLI_OK ||
        cli_file_close(&o, cb_opt_part_write_json(o.f, &part), "part") != CLI_OK) {
        status = CLI_FAIL;
    } else if (!quiet) {
        printf("Shard %zu/%zu: combinations %zu to %zu of %zu evaluated; part written to %s "
               "(comeback optimize merge reads all %zu parts)\n",
               k, shards, part.first + 1, part.end, part.total, json_path, shards);
    }
    cb_opt_part_free(&part);
    return status;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* comeback optimize merge PART.json... : the report of the whole sweep from its parts. */
static int merge_main(int argc, char **argv)
{
    const char *json_path = NULL, *html_path = NULL, *v;
    const char *files[4096];
    size_t n_files = 0, top = 10;
    int quiet = 0, jobs = 0, r;
    for (int i = 2; i < argc; i++) {
        if ((r = cli_opt(argc, argv, &i, "--json", &json_path)) != 0 ||
            (r = cli_opt(argc, argv, &i, "--html", &html_path)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            continue;
        }
        const char *nums[2] = {"--top", "--jobs"};
        int matched = 0;
        for (int k = 0; k < 2 && !matched; k++) {
            if ((r = cli_opt(argc, argv, &i, nums[k], &v)) == 0)
                continue;
            if (r < 0)
                return CLI_USAGE;
            char *end;
            long x = strtol(v, &end, 10);
            if (end == v || *end || x < 1 || x > (k ? 1024 : 100000000))
                return cli_usage_error("optimize", "%s: expected a whole number from 1 to %d, "
                                                   "got '%s'",
                                       nums[k], k ? 1024 : 100000000, v);
            if (k)
                jobs = (int)x;
            else
                top = (size_t)x;
            matched = 1;
        }
        if (matched)
            continue;
        if (!strcmp(argv[i], "--quiet")) {
            quiet = 1;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1])
            return cli_unknown_option("optimize merge", argv[i]);
        if (n_files == sizeof files / sizeof files[0])
            return cli_usage_error("optimize", "merge: too many parts");
        files[n_files++] = argv[i];
    }
    if (n_files == 0)
        return cli_usage_error("optimize", "merge: give the parts written by --shard i/N --json");
    cb_opt_part_t *parts = calloc(n_files, sizeof *parts);
    if (!parts)
        return cli_error("out of memory"), CLI_FAIL;
    int status = CLI_FAIL;
    size_t n_parts = 0;
    cb_diag_t d;
    cb_diag_clear(&d);
    for (; n_parts < n_files; n_parts++) {
        size_t len = 0;
        char *text = read_all(files[n_parts], &len);
        if (!text) {
            cli_error("%s: cannot read: %s", files[n_parts], strerror(errno));
            goto out_parts;
        }
        int rc = cb_opt_part_parse(files[n_parts], text, len, &parts[n_parts], &d);
        free(text);
        if (rc) {
            cli_print_diag(&d);
            goto out_parts;
        }
    }
    if (cb_opt_parts_check(parts, n_parts, &d) != 0) {
        cli_print_diag(&d);
        goto out_parts;
    }
    cb_opt_config_t cfg;
    cb_bt_settings_t st;
    char ini[1024];
    if (cb_opt_sweep_config(parts[0].name, parts[0].sweep, &cfg, &st, ini, sizeof ini, &d) != 0) {
        cli_print_diag(&d);
        goto out_parts;
    }
    cfg.jobs = jobs;
    cb_rules_file_t *f = NULL;
    if (cli_load_strategy(ini, &f) != CLI_OK)
        goto out_parts;
    cb_backtest_t bt;
    if (cb_backtest_setup(&bt, f, ini, &st, &d) != 0) {
        cli_print_diag(&d);
        goto out_file;
    }
    if (!quiet)
        printf("Merging %zu parts of the sweep of %s: %zu combinations, objective %s\n",
               n_parts, ini, parts[0].total, cb_objective_name(cfg.objective));
    cb_opt_report_t rep;
    if (cb_opt_merge(&bt, &cfg, parts, n_parts, &rep, &d) != 0) {
        cli_print_diag(&d);
    } else {
        status = report_out(ini, &bt, &cfg, &rep, top, quiet, json_path, html_path);
        cb_opt_report_free(&rep);
    }
    cb_backtest_close(&bt);
out_file:
    cb_rules_file_free(f);
out_parts:
    for (size_t q = 0; q < n_parts; q++)
        cb_opt_part_free(&parts[q]);
    free(parts);
    return status;
}

/* Prints the report (table, statistics, verdict) and writes the JSON and HTML files asked. */
static int report_out(const char *ini, const cb_backtest_t *bt, const cb_opt_config_t *cfg,
                      const cb_opt_report_t *r, size_t top, int quiet, const char *json_path,
                      const char *html_path)
{
    int status = CLI_OK;
    if (!quiet) {
        print_table(cfg, r, top);
        print_stats(cfg, r);
        if (r->sharing.misses)
            printf("  Indicator sharing                    %zu columns computed, reused %zu "
                   "times (peak %.0f MiB)\n",
                   r->sharing.misses, r->sharing.hits,
                   (double)r->sharing.peak_bytes / 1048576.0);
        printf("\n");
    }
    printf("%s\n", r->verdict);
    if (mpi_rank != 0)
        json_path = html_path = NULL;
    if (json_path) {
        cb_file_atomic_t o;
        if (cli_file_open(&o, json_path) != CLI_OK ||
            cli_file_close(&o, cb_opt_report_write_json(o.f, bt, cfg, r), "JSON report") !=
                CLI_OK) {
            status = CLI_FAIL;
        } else if (!quiet) {
            printf("JSON written to %s\n", json_path);
        }
    }
    if (html_path) {
        cb_file_atomic_t o;
        if (cli_file_open(&o, html_path) != CLI_OK ||
            cli_file_close(&o, write_html(o.f, ini, cfg, r, top), "HTML report") != CLI_OK) {
            status = CLI_FAIL;
        } else if (!quiet) {
            printf("HTML report written to %s\n", html_path);
        }
    }
    return status;
}

static int optimize_main(int argc, char **argv)
{
    const char *ini = NULL, *json_path = NULL, *html_path = NULL, *v;
    const char *sets[MAX_SETS];
    int n_sets = 0, quiet = 0, r;
    size_t top = 10, cache_mib = CB_OPT_CACHE_DEFAULT >> 20, shard = 0, shards = 0;
    cb_bt_settings_t cl;
    memset(&cl, 0, sizeof cl);
    cb_opt_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.samples = 100;
    cfg.seed = 1;
    cfg.luck_runs = 1000;
    const char *params[CB_OPT_MAX_PARAMS * 2];
    int n_params = 0;
    for (int i = 1; i < argc; i++) {
        if ((r = cli_bt_setting(argc, argv, &i, &cl)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            continue;
        }
        if ((r = cli_opt(argc, argv, &i, "--set", &v)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            if (n_sets == MAX_SETS)
                return cli_usage_error("optimize", "too many --set options");
            sets[n_sets++] = v;
            continue;
        }
        if ((r = cli_opt(argc, argv, &i, "--param", &v)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            if (n_params == (int)(sizeof params / sizeof params[0]))
                return cli_usage_error("optimize", "too many --param options");
            params[n_params++] = v;
            continue;
        }
        if ((r = cli_opt(argc, argv, &i, "--search", &v)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            if (!strcmp(v, "grid"))
                cfg.random = 0;
            else if (!strcmp(v, "random"))
                cfg.random = 1;
            else
                return cli_usage_error("optimize", "--search: expected grid or random, got '%s'",
                                       v);
            continue;
        }
        if ((r = cli_opt(argc, argv, &i, "--objective", &v)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            if (cb_objective_parse(v, &cfg.objective) != 0)
                return cli_usage_error("optimize",
                                       "--objective: expected sharpe, sortino, calmar, profit, "
                                       "sqn or profit_factor, got '%s'",
                                       v);
            continue;
        }
        struct {
            const char *name;
            size_t *dst;
            size_t lo;
        } counts[] = {{"--samples", &cfg.samples, 1},   {"--top", &top, 1},
                      {"--walk-forward", &cfg.wf_folds, 1},
                      {"--luck-runs", &cfg.luck_runs, 0},
                      {"--partitions", &cfg.pbo_partitions, 2},
                      {"--indicator-cache", &cache_mib, 0}};
        int matched = 0;
        for (size_t k = 0; k < sizeof counts / sizeof counts[0] && !matched; k++) {
            if ((r = cli_opt(argc, argv, &i, counts[k].name, &v)) == 0)
                continue;
            if (r < 0)
                return CLI_USAGE;
            char *end;
            unsigned long long x = strtoull(v, &end, 10);
            if (end == v || *end || x < counts[k].lo || x > 100000000ULL)
                return cli_usage_error("optimize", "%s: expected a whole number >= %zu, got '%s'",
                                       counts[k].name, counts[k].lo, v);
            *counts[k].dst = (size_t)x;
            matched = 1;
        }
        if (matched)
            continue;
        if ((r = cli_opt(argc, argv, &i, "--seed", &v)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            char *end;
            cfg.seed = strtoull(v, &end, 10);
            if (end == v || *end)
                return cli_usage_error("optimize", "--seed: expected a whole number, got '%s'",
                                       v);
            continue;
        }
        if ((r = cli_opt(argc, argv, &i, "--jobs", &v)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            char *end;
            long x = strtol(v, &end, 10);
            if (end == v || *end || x < 1 || x > 1024)
                return cli_usage_error("optimize", "--jobs: expected 1 to 1024, got '%s'", v);
            cfg.jobs = (int)x;
            continue;
        }
        if ((r = cli_opt(argc, argv, &i, "--train-frac", &v)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            char *end;
            cfg.wf_train_frac = strtod(v, &end);
            if (end == v || *end || !(cfg.wf_train_frac > 0 && cfg.wf_train_frac < 1))
                return cli_usage_error("optimize",
                                       "--train-frac: expected a fraction between 0 and 1, got "
                                       "'%s'",
                                       v);
            continue;
        }
        if ((r = cli_opt(argc, argv, &i, "--shard", &v)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            if (parse_shard(v, &shard, &shards) != 0)
                return cli_usage_error("optimize",
                                       "--shard: expected i/N with 1 <= i <= N, got '%s'", v);
            continue;
        }
        if ((r = cli_opt(argc, argv, &i, "--json", &json_path)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            continue;
        }
        if ((r = cli_opt(argc, argv, &i, "--html", &html_path)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            continue;
        }
        if (!strcmp(argv[i], "--anchored")) {
            cfg.wf_anchored = 1;
            continue;
        }
        if (!strcmp(argv[i], "--quiet")) {
            quiet = 1;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1])
            return cli_unknown_option("optimize", argv[i]);
        if (ini)
            return cli_usage_error("optimize", "one strategy file only ('%s' and '%s')", ini,
                                   argv[i]);
        ini = argv[i];
    }
    if (!ini)
        return cli_usage_error("optimize", "missing the strategy file");
    if (shards && (!json_path || html_path))
        return cli_usage_error("optimize", "--shard writes its part with --json FILE (and no "
                                           "--html: merge writes the report)");
    if (cfg.luck_runs == 0)
        cfg.luck_runs = SIZE_MAX; /* --luck-runs 0: skip */
    cfg.no_share = cache_mib == 0;
    cfg.cache_bytes = cache_mib << 20;
    if (cfg.pbo_partitions % 2)
        return cli_usage_error("optimize", "--partitions must be even");

    cb_rules_file_t *f = NULL;
    if (cli_load_strategy(ini, &f) != CLI_OK)
        return CLI_FAIL;
    int status = CLI_FAIL;
    cb_diag_t d;
    cb_diag_clear(&d);
    /* The file's ranges, then --param. --set pins a parameter: it is not swept. */
    for (size_t k = 0; k < cb_rules_file_n_params(f); k++) {
        const cb_rules_param_t *p = cb_rules_file_param(f, k);
        int pinned = 0;
        for (int s = 0; s < n_sets; s++) {
            size_t len = strlen(p->name);
            if (!strncmp(sets[s], p->name, len) && sets[s][len] == '=')
                pinned = 1;
        }
        if (p->has_range && !pinned &&
            cb_param_space_add(&cfg.space, p->name, p->min, p->max,
                               p->step > 0 ? p->step : (p->max - p->min) / 10, &d) != 0) {
            cli_print_diag(&d);
            goto out_file;
        }
    }
    for (int k = 0; k < n_params; k++)
        if (cb_param_space_add_spec(&cfg.space, params[k], &d) != 0) {
            cli_print_diag(&d);
            status = CLI_USAGE;
            goto out_file;
        }
    if (cfg.space.n == 0) {
        cli_error("%s: nothing to optimize: give --param NAME=LO:HI:STEP or a range in [params] "
                  "(fast = 12 [5..30 step 1])",
                  ini);
        status = CLI_USAGE;
        goto out_file;
    }
    cb_backtest_t bt;
    if (cb_backtest_setup(&bt, f, ini, &cl, &d) != 0) {
        cli_print_diag(&d);
        goto out_file;
    }
    /* --set values become the file's values for every combination. */
    for (int s = 0; s < n_sets; s++) {
        double scratch[256];
        cb_rules_params_default(f, scratch);
        if (cb_rules_params_set(f, scratch, sets[s], &d) != 0) {
            cli_print_diag(&d);
            status = CLI_USAGE;
            goto out_bt;
        }
        /* Pinning works by a one-value range. */
        const char *eq = strchr(sets[s], '=');
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(eq - sets[s]), sets[s]);
        for (size_t k = 0; k < cb_rules_file_n_params(f); k++)
            if (!strcmp(cb_rules_file_param(f, k)->name, name))
                cb_param_space_add(&cfg.space, name, scratch[k], scratch[k], 1, NULL);
    }
    size_t total = cb_param_space_size(&cfg.space);
    progress_t prog = {!quiet && isatty(STDERR_FILENO), now_s()};
    cfg.progress = show_progress;
    cfg.progress_ctx = &prog;
    if (!quiet)
        printf("Optimizing %s over %zu series: %zu combinations (%s search%s), objective %s, "
               "%d threads\n",
               ini, bt.n, cfg.random && cfg.samples < total ? cfg.samples : total,
               cfg.random ? "random" : "grid", bt.series[0]->meta.synthetic ? ", SYNTHETIC data" : "",
               cb_objective_name(cfg.objective), cfg.jobs ? cfg.jobs : cb_opt_cores());
    if (shards) {
        status = run_shard(&bt, &cfg, shard, shards, json_path, quiet);
        goto out_bt;
    }
    cb_opt_report_t rep;
    if (cb_optimize(&bt, &cfg, &rep, &d) != 0) {
        cli_print_diag(&d);
        goto out_bt;
    }
    status = report_out(ini, &bt, &cfg, &rep, top, quiet, json_path, html_path);
    cb_opt_report_free(&rep);
out_bt:
    cb_backtest_close(&bt);
out_file:
    cb_rules_file_free(f);
    return status;
}

/* With MPI (built with -DCOMEBACK_MPI=ON and started by mpirun), every rank runs the same
 * command; combinations are spread over the ranks and gathered, and rank 0 alone reports. */
int cmd_optimize(int argc, char **argv)
{
#ifdef CB_HAVE_MPI
    MPI_Init(NULL, NULL);
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    mpi_rank = rank;
    if (rank != 0) { /* only rank 0 speaks; a failed redirect is merely noisy */
        FILE *o = freopen("/dev/null", "w", stdout), *e = freopen("/dev/null", "w", stderr);
        (void)o;
        (void)e;
    }
    int status = argc > 1 && !strcmp(argv[1], "merge") ? merge_main(argc, argv)
                                                       : optimize_main(argc, argv);
    MPI_Finalize();
    return status;
#else
    if (argc > 1 && !strcmp(argv[1], "merge"))
        return merge_main(argc, argv);
    return optimize_main(argc, argv);
#endif
}
