/* `comeback trades`: the robot's executions from its journal. */
#include <jansson.h>
#include <stdio.h>

#include "cli/cli.h"
#include "comeback/journal.h"

const char help_trades[] =
    "usage: comeback trades [BOT.ini] [--db FILE] [--json]\n"
    "\n"
    "Lists the robot's trades (executions of its orders, one per fill, as the exchange's\n"
    "myTrades) from its journal, oldest first: time, pair, side, price, quantity, fee and its\n"
    "asset, the client_order_id of the order and the trade id. Works for paper and live\n"
    "robots, running or not.\n"
    "\n"
    "options:\n"
    "  --db FILE   the robot's journal (default: [bot] db of BOT.ini, else the only\n"
    "              <name>.paper.sqlite or <name>.live.sqlite in this directory)\n"
    "  --json      a JSON array, amounts as decimal strings\n";

static int one(const cb_journal_fill_t *f, void *arr)
{
    char q[32], pr[32], fee[32], t[40];
    cb_dec_format(f->quantity, f->qty_scale, q, sizeof q);
    cb_dec_format(f->price, f->price_scale, pr, sizeof pr);
    cb_dec_format(f->fee, f->fee_scale, fee, sizeof fee);
    if (arr)
        json_array_append_new(
            arr, json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "time_ms",
                              (json_int_t)f->time_ms, "pair", f->pair, "side", f->side, "price",
                              pr, "quantity", q, "fee", fee, "fee_asset", f->fee_asset,
                              "client_order_id", f->client_order_id, "trade_id", f->trade_id));
    else
        printf("%-19s  %-10s %-4s %14s %14s %12s %-6s %-18s %s\n",
               cb_time_format(f->time_ms, t, sizeof t), f->pair, f->side, pr, q, fee,
               f->fee_asset, f->client_order_id, f->trade_id);
    return cli_stdout_failed() ? CB_EIO : 0; /* a full disk: stop listing */
}

static int walk(cb_journal_t *j, void *arr) { return cb_journal_fills(j, NULL, one, arr); }

int cmd_trades(int argc, char **argv)
{
    char header[256];
    snprintf(header, sizeof header, "%-19s  %-10s %-4s %14s %14s %12s %-6s %-18s %s\n", "time",
             "pair", "side", "price", "quantity", "fee", "asset", "client_order_id", "trade_id");
    return cli_robot_list("trades", argc, argv, header, walk);
}
