/* `comeback data check`. */
#include "cli/cli.h"
#include "cli/data_cli.h"

int data_check_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("data check: not yet implemented");
}
