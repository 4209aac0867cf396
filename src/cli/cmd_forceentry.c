/* `comeback forceentry PAIR`: open a position in one pair of a running robot now. */
#include "cli/cli.h"
#include "comeback/robot.h"

const char help_forceentry[] =
    "usage: comeback forceentry PAIR [BOT.ini] [--db FILE] [--wait SECONDS]\n"
    "\n"
    "Asks a running robot to enter PAIR (BTC/USDT) now with a market order of its usual stake\n"
    "(in paper mode it fills at the next candle's open), as if its strategy had said enter at\n"
    "the last closed candle. The entry passes the same checks as a strategy's: the pause, the\n"
    "kill switch, max_daily_loss, max_open_trades, max_trades_per_day, cooldown, max_position,\n"
    "stale data, and the balance. PAIR must be one of the robot's pairs; anything else is\n"
    "refused at once, and so is a request when no robot is running. The command waits for the\n"
    "robot's answer and prints it: ok, or refused with the reason (also logged by the robot).\n"
    "The order is journaled with the reason force_entry; its exits are the strategy's.\n"
    "See docs/robot.md.\n"
    "\n"
    "options:\n"
    "  --db FILE        the robot's journal (default: [bot] db of BOT.ini, else the only\n"
    "                   <name>.paper.sqlite or <name>.live.sqlite in this directory)\n"
    "  --wait SECONDS   how long to wait for the robot's answer (default 10; 0 = do not wait)\n"
    "\n"
    "Exit status: 0 when the robot sent the entry, 1 when it refused or did not answer, 2 on a\n"
    "bad command line (a malformed pair).\n";

int cmd_forceentry(int argc, char **argv)
{
    return cli_robot_control("forceentry", argc, argv, CB_ROBOT_CTL_FORCEENTRY);
}
