/* `comeback resume`: a request to a running robot, through its database. */
#include "cli/cli.h"
#include "comeback/robot.h"

const char help_resume[] =
    "usage: comeback resume [BOT.ini] [--db FILE]\n"
    "\n"
    "Resumes entries after `comeback pause`, and re-arms a tripped max_drawdown kill switch\n"
    "(its peak is reset to the current equity).\n"
    "The request is left in the robot's journal (BOT.ini's database, or FILE), which the robot\n"
    "reads every loop (within a second). See docs/robot.md.\n"
    "\n"
    "options:\n"
    "  --db FILE   the robot's journal (default: [bot] db of BOT.ini, else the only\n"
    "              <name>.paper.sqlite or <name>.live.sqlite in this directory)\n";

int cmd_resume(int argc, char **argv)
{
    return cli_robot_control("resume", argc, argv, CB_ROBOT_CTL_RESUME);
}
