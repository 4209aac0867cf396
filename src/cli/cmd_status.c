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
    "Shows a robot's state from its journal: mode, running or stopped (with uptime and the\n"
    "last heartbeat), cash and equity, open positions with their entry, last close,\n"
    "unrealised PnL and resting exits, today's trades, and the risk state (paused, daily-loss\n"
    "halt, max_drawdown kill switch, trades today). The running robot refreshes it every\n"
    "second and after every candle.\n"
    "\n"
    "options:\n"
    "  --db FILE   the robot's journal (default: [bot] db of BOT.ini)\n"
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
    cb_journal_close(j);
    if (json) {
        json_dumpf(o, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        putchar('\n');
        json_decref(o);
        return CLI_OK;
    }
    char t1[40], t2[40], d1[48];
    json_int_t started = json_integer_value(json_object_get(o, "started_ms"));
    json_int_t beat = json_integer_value(json_object_get(o, "heartbeat_ms"));
    const char *state = js(o, "state");
    int running = !strcmp(state, "running") && now - beat < 10000;
    printf("bot        %s (%s mode)\n", js(o, "bot"), js(o, "mode"));
    if (running) {
        duration(now - started, d1, sizeof d1);
        printf("state      running, pid %lld, up %s\n",
               (long long)json_integer_value(json_object_get(o, "pid")), d1);
    } else {
        printf("state      %s (last heartbeat %s)\n",
               !strcmp(state, "running") ? "not running (it did not stop cleanly)" : state,
               cb_time_format(beat, t1, sizeof t1));
    }
    const char *why_halted = json_string_value(json_object_get(o, "halted"));
    if (!why_halted)
        why_halted = "";
    if (why_halted[0])
        printf("halted     %s: no new entries until the robot is restarted (exits keep "
               "working)\n",
               why_halted);
    printf("last bar   %s\n", last_bar ? cb_time_format(last_bar, t2, sizeof t2) : "-");
    printf("cash       %s %s\n", js(o, "cash"), js(o, "quote"));
    printf("equity     %s %s\n", js(o, "equity"), js(o, "quote"));
    if (json_object_get(o, "start_balance"))
        printf("paper      started with %s %s\n", js(o, "start_balance"), js(o, "quote"));
    json_t *ps = json_object_get(o, "positions");
    printf("positions  %zu open\n", json_array_size(ps));
    for (size_t i = 0; i < json_array_size(ps); i++) {
        json_t *p = json_array_get(ps, i);
        printf("  %-10s qty %s entry %s at %s, last %s, unrealised %s %s, stop %s, target %s\n",
               js(p, "pair"), js(p, "quantity"), js(p, "entry_price"), js(p, "entry_time"),
               js(p, "last_close"), js(p, "unrealised_pnl"), js(o, "quote"), js(p, "stop"),
               js(p, "take_profit"));
    }
    printf("today      %lld fills, %lld entries\n", (long long)td.n,
           (long long)json_integer_value(json_object_get(o, "trades_today")));
    int paused = json_is_true(json_object_get(o, "paused")),
        killed = json_is_true(json_object_get(o, "killed")),
        halted = json_is_true(json_object_get(o, "halted_today"));
    printf("risk       %s%s%s%s%s\n", why_halted[0] ? "HALTED " : "", paused ? "PAUSED " : "",
           killed ? "KILL-SWITCH " : "", halted ? "HALTED-TODAY" : "",
           paused || killed || halted || why_halted[0] ? "" : "entries allowed");
    printf("           %s\n", js(o, "risk"));
    json_decref(o);
    return CLI_OK;
}
