/* `comeback orders`: the robot's orders from its journal. */
#include <jansson.h>
#include <stdio.h>

#include "cli/cli.h"
#include "comeback/journal.h"

const char help_orders[] =
    "usage: comeback orders [BOT.ini] [--db FILE] [--json]\n"
    "\n"
    "Lists every order in the robot's journal, oldest first: client_order_id, pair, side,\n"
    "type, why it was sent (entry, exit, stoploss, take_profit), status, quantity,\n"
    "executed_quantity, price and stop price. Works for paper and live robots, running or not.\n"
    "A market buy sized in quote currency shows quantity 0 until it fills.\n"
    "\n"
    "options:\n"
    "  --db FILE   the robot's journal (default: [bot] db of BOT.ini, else the only\n"
    "              <name>.paper.sqlite or <name>.live.sqlite in this directory)\n"
    "  --json      a JSON array, amounts as decimal strings\n";

static int one(const cb_journal_order_t *o, void *arr)
{
    char q[32], x[32], pr[32], sp[32], t[40];
    cb_dec_format(o->quantity, o->qty_scale, q, sizeof q);
    cb_dec_format(o->executed_quantity, o->qty_scale, x, sizeof x);
    cb_dec_format(o->price, o->price_scale, pr, sizeof pr);
    cb_dec_format(o->stop_price, o->price_scale, sp, sizeof sp);
    if (arr) {
        json_array_append_new(
            arr, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I}",
                              "client_order_id", o->client_order_id, "exchange_order_id",
                              o->exchange_order_id, "pair", o->pair, "side", o->side, "type",
                              o->type, "reason", o->reason, "status",
                              cb_order_status_name(o->status), "quantity", q,
                              "executed_quantity", x, "price", pr, "stop_price", sp,
                              "created_ms", (json_int_t)o->created_ms, "updated_ms",
                              (json_int_t)o->updated_ms));
    } else {
        printf("%-19s  %-18s %-10s %-4s %-11s %-11s %-16s %12s %12s %12s %12s\n",
               cb_time_format(o->created_ms, t, sizeof t), o->client_order_id, o->pair, o->side,
               o->type, o->reason, cb_order_status_name(o->status), q, x, pr, sp);
    }
    return cli_stdout_failed() ? CB_EIO : 0; /* a full disk: stop listing */
}

static int walk(cb_journal_t *j, void *arr) { return cb_journal_orders(j, 0, one, arr); }

int cmd_orders(int argc, char **argv)
{
    char header[256];
    snprintf(header, sizeof header,
             "%-19s  %-18s %-10s %-4s %-11s %-11s %-16s %12s %12s %12s %12s\n", "created",
             "client_order_id", "pair", "side", "type", "reason", "status", "quantity",
             "executed", "price", "stop_price");
    return cli_robot_list("orders", argc, argv, header, walk);
}
