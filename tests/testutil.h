/* Helpers shared by the test programs. Include after <cmocka.h>'s prerequisites. */
#ifndef COMEBACK_TESTUTIL_H
#define COMEBACK_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* Path of a file in ../shared/data (e.g. "ohlcv/x.csv") in buf, or NULL when the shared
 * data is absent; then the calling test should skip: `if (!p) { SKIP_NO_SHARED(); }`. */
const char *tu_shared_path(const char *rel, char *buf, size_t size);
/* Path of a file in tests/fixtures. */
const char *tu_fixture_path(const char *rel, char *buf, size_t size);
/* A fresh temporary directory (removed by tu_rmtree). */
const char *tu_tmpdir(char *buf, size_t size);
void tu_rmtree(const char *dir);
/* Reads a whole file; caller frees. NULL when missing. */
char *tu_read_file(const char *path, size_t *len);
/* Writes text to a file. Returns 0 on success. */
int tu_write_file(const char *path, const char *text);

#define SKIP_NO_SHARED()                                                                     \
    do {                                                                                     \
        print_message("skipped: ../shared/data is absent (set COMEBACK_SHARED_DATA)\n");      \
        skip();                                                                              \
    } while (0)

/* Asserts two doubles agree within rel (relative) or abs (absolute) tolerance, printing both. */
#define assert_close(a, b, rel, abs_)                                                        \
    tu_assert_close((a), (b), (rel), (abs_), #a, #b, __FILE__, __LINE__)
void tu_assert_close(double a, double b, double rel, double abs_, const char *ea, const char *eb,
                     const char *file, int line);

#endif
