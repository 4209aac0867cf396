/* `comeback data ...`: market data commands. */
#include <stdio.h>

#include "cli/cli.h"

const char help_data[] =
    "usage: comeback data <import|list|info|check|resample|export|synth> ...\n";

int cmd_data(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("data: not yet implemented");
}
