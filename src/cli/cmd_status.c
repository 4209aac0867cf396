/* `comeback status`: what a robot is doing, from its journal. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "comeback/journal.h"
#include "comeback/robot.h"

const char help_status[] =
    "usage: comeback status [BOT.ini] [--db FILE] [--json]\n"
    "\n"
    "Shows a robot's state from its journal: mode and pairs; whether it runs (running, pid N,\n"
    "heartbeat 1 s ago; stalled: the process is alive but its loop has not beaten for 15 s;\n"
    "not running, with its last heartbeat), cash and equity, open positions with their entry,\n"
    "last close, unrealised PnL and resting exits, dust (holdings too small to sell, which are\n"
    "not positions), today's fills and entries, and the risk limits used and left (trades\n"
    "today, open trades, daily loss, drawdown, cooldowns, the next reset at 00:00 UTC; limits\n"
    "that are not set are not shown). The running robot refreshes it every second and after\n"
    "every candle, and writes a heartbeat every second.\n"
    "\n"
    "options:\n"
    "  --db FILE   the robot's journal (default: [bot] db of BOT.ini, else the only\n"
    "              <name>.paper.sqlite or <name>.live.sqlite in this directory)\n"
    "  --json      the status as one JSON object\n";

typedef struct today {
    int64_t day_start;
    long n;
} today_t;

static int count_today(const cb_journal_fill_t *f, void *p)
{
    today_t *t = p;
    t->n += f->time_ms >= t->day_start;
    return 0;
}

static const char *js(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "-";
}

static long long ji(json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

/* The risk limits as a person reads them; a limit that is not set is not shown. */
static void print_risk(json_t *rk, const char *quote)
{
    printf("           trades today %lld", ji(rk, "trades_today"));
    if (json_object_get(rk, "max_trades_per_day"))
        printf(" of %lld (%lld left)", ji(rk, "max_trades_per_day"), ji(rk, "trades_left"));
    printf("; open trades %lld", ji(rk, "open_trades"));
    if (json_object_get(rk, "max_open_trades"))
        printf(" of %lld (%lld left)", ji(rk, "max_open_trades"), ji(rk, "open_left"));
    putchar('\n');
    if (json_object_get(rk, "max_daily_loss"))
        printf("           daily loss %s %s of %s %s (%s %s left; the day started at %s %s)\n",
               js(rk, "daily_loss"), quote, js(rk, "max_daily_loss"), quote,
               js(rk, "daily_loss_left"), quote, js(rk, "day_start_equity"), quote);
    if (json_object_get(rk, "max_drawdown_pct"))
        printf("           drawdown %.2f%% of %.4g%% from the peak %s %s (then: %s)\n",
               json_real_value(json_object_get(rk, "drawdown_pct")),
               json_real_value(json_object_get(rk, "max_drawdown_pct")), js(rk, "peak_equity"),
               quote, js(rk, "drawdown_action"));
    if (json_object_get(rk, "max_position"))
        printf("           max position %s %s per pair\n", js(rk, "max_position"), quote);
    json_t *cd = json_object_get(rk, "cooldowns");
    for (size_t i = 0; i < json_array_size(cd); i++)
        printf("           cooldown %s until %s\n", js(json_array_get(cd, i), "pair"),
               js(json_array_get(cd, i), "until"));
    const char *reset = js(rk, "next_reset");
    printf("           daily counters reset at %.10s 00:00 UTC\n", reset);
    json_t *rf = json_object_get(rk, "refusals");
    if (json_object_size(rf)) {
        printf("           entries refused:");
        const char *k;
        json_t *v;
        int first = 1;
        json_object_foreach(rf, k, v)
        {
            printf("%s %s %lld", first ? "" : ",", k, (long long)json_integer_value(v));
            first = 0;
        }
        putchar('\n');
    }
}

static void duration(int64_t ms, char *buf, size_t size)
{
    int64_t s = ms / 1000;
    snprintf(buf, size, "%lldd %02lldh %02lldm %02llds", (long long)(s / 86400),
             (long long)(s / 3600 % 24), (long long)(s / 60 % 60), (long long)(s % 60));
}

int cmd_status(int argc, char **argv)
{
    int json = 0;
    cb_journal_t *j;
    int rc = cli_robot_journal("status", argc, argv, &json, NULL, 0, &j);
    if (rc != CLI_OK)
        return rc;
    static char buf[1 << 16];
    if (cb_robot_status_json(j, buf, sizeof buf) != 0) {
        cb_journal_close(j);
        return cli_error("no robot has run on this database yet");
    }
    json_t *o = json_loads(buf, 0, NULL);
    if (!o) {
        cb_journal_close(j);
        return cli_error("the status in the journal is not readable");
    }
    /* the newest bar the robot processed is "today" for a replay; the wall clock otherwise */
    int64_t now = cb_now_ms();
    today_t td = {now / CB_MS_PER_DAY * CB_MS_PER_DAY, 0};
    json_int_t last_bar = json_integer_value(json_object_get(o, "last_bar_ms"));
    if (last_bar > 0 && last_bar < now - CB_MS_PER_DAY)
        td.day_start = last_bar / CB_MS_PER_DAY * CB_MS_PER_DAY;
    cb_journal_fills(j, NULL, count_today, &td);
    json_object_set_new(o, "fills_today", json_integer(td.n));
    cb_robot_liveness_t lv;
    if (cb_robot_liveness(j, now, &lv) != 0)
        memset(&lv, 0, sizeof lv);
    cb_journal_close(j);
    /* what the journal says, checked against the heartbeat and the process */
    const char *alive = lv.alive == CB_ROBOT_RUNNING   ? "running"
                        : lv.alive == CB_ROBOT_STALLED ? "stalled"
                                                       : "not_running";
    json_object_set_new(o, "alive", json_string(alive));
    json_object_set_new(o, "heartbeat_ms", json_integer(lv.heartbeat_ms));
    json_object_set_new(o, "heartbeat_age_ms", json_integer(lv.age_ms));
    if (lv.alive != CB_ROBOT_RUNNING && strcmp(lv.state, "stopped") && strcmp(lv.state, "failed"))
        json_object_set_new(o, "state", json_string(alive));
    if (json) {
        json_dumpf(o, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        putchar('\n');
        json_decref(o);
        return CLI_OK;
    }
    char t2[40], d1[48], age[32];
    json_int_t started = json_integer_value(json_object_get(o, "started_ms"));
    const char *state = js(o, "state");
    const char *quote = js(o, "quote");
    printf("bot        %s (%s mode)", js(o, "bot"), js(o, "mode"));
    json_t *pairs = json_object_get(o, "pairs");
    for (size_t i = 0; i < json_array_size(pairs); i++)
        printf("%s%s", i ? ", " : ", pairs ", json_string_value(json_array_get(pairs, i)));
    putchar('\n');
    cb_robot_age_format(lv.age_ms, age, sizeof age);
    if (lv.alive == CB_ROBOT_RUNNING) {
        duration(now - started, d1, sizeof d1);
        printf("state      %s, pid %lld, heartbeat %s ago, up %s\n",
               strcmp(state, "starting") ? "running" : "starting", (long long)lv.pid, age, d1);
    } else if (lv.alive == CB_ROBOT_STALLED) {
        printf("state      stalled (pid %lld alive, last heartbeat %s ago)\n", (long long)lv.pid,
               age);
    } else if (!strcmp(lv.state, "stopped") || !strcmp(lv.state, "failed")) {
        printf("state      %s (not running, last heartbeat %s ago)\n", lv.state, age);
    } else {
        printf("state      not running (last heartbeat %s ago; it did not stop cleanly)\n", age);
    }
    printf("last bar   %s\n", last_bar ? cb_time_format(last_bar, t2, sizeof t2) : "-");
    printf("cash       %s %s\n", js(o, "cash"), quote);
    printf("equity     %s %s\n", js(o, "equity"), quote);
    if (json_object_get(o, "start_balance"))
        printf("paper      started with %s %s\n", js(o, "start_balance"), quote);
    json_t *al = json_object_get(o, "alert");
    if (json_is_object(al))
        printf("alert      the journal and the exchange differ (%lld difference%s): %s; no new "
               "entries, exits keep working, until `comeback reconcile --adopt|--ignore`\n",
               ji(al, "differences"), ji(al, "differences") == 1 ? "" : "s", js(al, "message"));
    json_t *ps = json_object_get(o, "positions");
    printf("positions  %zu open\n", json_array_size(ps));
    for (size_t i = 0; i < json_array_size(ps); i++) {
        json_t *p = json_array_get(ps, i);
        const char *asset = json_object_get(p, "asset") ? js(p, "asset") : "";
        printf("  %-10s %s %s at %s %s (entered %s), last %s %s, unrealised %s %s", js(p, "pair"),
               js(p, "quantity"), asset, js(p, "entry_price"), quote, js(p, "entry_time"),
               js(p, "last_close"), quote, js(p, "unrealised_pnl"), quote);
        /* resting exits; an exit that is not set is not shown */
        const char *stop = js(p, "stop"), *tp = js(p, "take_profit");
        int has_stop = strcmp(stop, "0") && strcmp(stop, "-"), has_tp = strcmp(tp, "0") &&
                                                                          strcmp(tp, "-");
        if (has_stop)
            printf("; %s %s %s", json_is_true(json_object_get(p, "trailing")) ? "trailing stop"
                                                                              : "stop",
                   stop, quote);
        if (has_tp)
            printf("%s take-profit %s %s", has_stop ? "," : ";", tp, quote);
        putchar('\n');
    }
    json_t *dust = json_object_get(o, "dust");
    for (size_t i = 0; i < json_array_size(dust); i++) {
        json_t *dj = json_array_get(dust, i);
        printf("%s %-10s %s %s (worth %s %s): too small to sell, not a position; sold with the "
               "next position\n",
               i ? "          " : "dust      ", js(dj, "pair"), js(dj, "quantity"),
               js(dj, "asset"), js(dj, "value"), quote);
    }
    long long entries = (long long)json_integer_value(json_object_get(o, "trades_today"));
    printf("today      %lld fill%s, %lld entr%s\n", (long long)td.n, td.n == 1 ? "" : "s",
           entries, entries == 1 ? "y" : "ies");
    int paused = json_is_true(json_object_get(o, "paused")),
        killed = json_is_true(json_object_get(o, "killed")),
        halted = json_is_true(json_object_get(o, "halted_today"));
    printf("risk       %s%s%s%s\n", paused ? "PAUSED (comeback resume) " : "",
           killed ? "KILL-SWITCH (max_drawdown tripped; comeback resume re-arms it) " : "",
           halted ? "HALTED-TODAY (max_daily_loss reached) " : "",
           paused || killed || halted ? "" : "entries allowed");
    json_t *rk = json_object_get(o, "risk");
    if (json_is_object(rk))
        print_risk(rk, quote);
    json_decref(o);
    return CLI_OK;
}

