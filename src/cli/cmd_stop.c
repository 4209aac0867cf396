/* `comeback stop`: a request to a running robot, through its database. */
#include "cli/cli.h"
#include "comeback/robot.h"

const char help_stop[] =
    "usage: comeback stop [BOT.ini] [--db FILE]\n"
    "\n"
    "Asks a running robot to stop as on SIGTERM: no new entries, what is in flight finishes,\n"
    "the state is persisted, and it exits with status 0.\n"
    "The request is left in the robot's journal (BOT.ini's database, or FILE), which the robot\n"
    "reads every loop (within a second). See docs/robot.md.\n"
    "\n"
    "options:\n"
    "  --db FILE   the robot's journal (default: [bot] db of BOT.ini, else the only\n"
    "              <name>.paper.sqlite or <name>.live.sqlite in this directory)\n";

int cmd_stop(int argc, char **argv)
{
    return cli_robot_control("stop", argc, argv, CB_ROBOT_CTL_STOP);
}
