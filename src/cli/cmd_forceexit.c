/* `comeback forceexit PAIR`: close one pair's position of a running robot. */
#include "cli/cli.h"
#include "comeback/robot.h"

const char help_forceexit[] =
    "usage: comeback forceexit PAIR [BOT.ini] [--db FILE]\n"
    "\n"
    "Asks a running robot to close its position in PAIR (BTC/USDT) now, with a market order\n"
    "(in paper mode it fills at the next candle's open), or to cancel its pending entry in that\n"
    "pair. The request is left in the robot's journal (BOT.ini's database, or FILE), which the\n"
    "robot reads every loop (within a second). See docs/robot.md.\n"
    "\n"
    "options:\n"
    "  --db FILE   the robot's journal (default: [bot] db of BOT.ini)\n";

int cmd_forceexit(int argc, char **argv)
{
    return cli_robot_control("forceexit", argc, argv, CB_ROBOT_CTL_FORCEEXIT);
}
