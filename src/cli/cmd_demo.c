/* `comeback demo`: the first command a newcomer runs. */
#include <stdio.h>

#include "cli/cli.h"

const char help_demo[] =
    "usage: comeback demo [--dir DIR]\n"
    "\n"
    "Generates a synthetic market (labelled SYNTHETIC everywhere it is shown), imports it into\n"
    "the local store and prints `data info` and `data check` for it.\n";

int cmd_demo(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("comeback demo: not yet implemented\n");
    return CLI_OK;
}
