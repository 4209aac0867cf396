/* `comeback forceexit PAIR`: close one pair's position of a running robot. */
#include "cli/cli.h"
#include "comeback/robot.h"

const char help_forceexit[] =
    "usage: comeback forceexit PAIR [BOT.ini] [--db FILE] [--wait SECONDS]\n"
    "\n"
    "Asks a running robot to close its position in PAIR (BTC/USDT) now, with a market order\n"
    "(in paper mode it fills at the next candle's open), or to cancel its pending entry in that\n"
    "pair. PAIR must be one of the robot's pairs, spelled as in its [bot] pairs; anything else\n"
    "is refused at once, and so is a request when no robot is running. The request is left in\n"
    "the robot's journal (BOT.ini's database, or FILE), which the robot reads every loop\n"
    "(within a second); the command waits for its answer and prints it: ok, refused (no\n"
    "position) or expired. The exit is journaled and logged with the reason force_exit.\n"
    "See docs/robot.md.\n"
    "\n"
    "options:\n"
    "  --db FILE        the robot's journal (default: [bot] db of BOT.ini, else the only\n"
    "                   <name>.paper.sqlite or <name>.live.sqlite in this directory)\n"
    "  --wait SECONDS   how long to wait for the robot's answer (default 10; 0 = do not wait)\n"
    "\n"
    "Exit status: 0 when the robot sent the exit, 1 when it refused or did not answer, 2 on a\n"
    "bad command line (a malformed pair).\n";

int cmd_forceexit(int argc, char **argv)
{
    return cli_robot_control("forceexit", argc, argv, CB_ROBOT_CTL_FORCEEXIT);
}
