/* Report and export files named on the command line: written through the core's atomic file
 * helper, so a failed write (a full disk, a read-only directory) leaves the previous file. */
#include <errno.h>
#include <string.h>

#include "cli/cli.h"

int cli_file_open(cb_file_atomic_t *a, const char *path)
{
    cb_diag_t d;
    cb_diag_clear(&d);
    if (cb_file_atomic_open(a, path, &d) != 0)
        return cli_print_diag(&d);
    errno = 0;
    return CLI_OK;
}

int cli_file_close(cb_file_atomic_t *a, int write_rc, const char *what)
{
    cb_diag_t d;
    cb_diag_clear(&d);
    if (a->mode == CB_FILE_STDOUT && (cli_stdout_failed() || fflush(a->f) != 0 ||
                                      cli_stdout_failed())) {
        /* main() reports a failed stdout once, after the command, with the reason. */
        cb_file_atomic_abort(a);
        return CLI_FAIL;
    }
    if (write_rc != 0 || ferror(a->f)) {
        int e = errno ? errno : EIO;
        int in_error = ferror(a->f) || write_rc == CB_EIO;
        cb_file_atomic_abort(a);
        cb_diag_set(&d, write_rc && write_rc != CB_EIO ? write_rc : CB_EIO, a->path, 0, 0, NULL,
                    "cannot write the %s: %s (the previous file, if any, is unchanged)", what,
                    in_error ? strerror(e) : cb_strerror(write_rc));
        return cli_print_diag(&d);
    }
    if (cb_file_atomic_commit(a, &d) != 0)
        return cli_print_diag(&d);
    return CLI_OK;
}
