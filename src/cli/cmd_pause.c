/* `comeback pause`: a request to a running robot, through its database. */
#include "cli/cli.h"
#include "comeback/robot.h"

const char help_pause[] =
    "usage: comeback pause [BOT.ini] [--db FILE]\n"
    "\n"
    "Pauses a running robot: no new entries; exits (stops, targets, exit rules) keep working.\n"
    "The pause is persisted: a restarted robot stays paused until `comeback resume`.\n"
    "The request is left in the robot's journal (BOT.ini's database, or FILE), which the robot\n"
    "reads every loop (within a second). See docs/robot.md.\n"
    "\n"
    "options:\n"
    "  --db FILE   the robot's journal (default: [bot] db of BOT.ini, else the only\n"
    "              <name>.paper.sqlite or <name>.live.sqlite in this directory)\n";

int cmd_pause(int argc, char **argv)
{
    return cli_robot_control("pause", argc, argv, CB_ROBOT_CTL_PAUSE);
}
