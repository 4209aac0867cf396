#include "testutil.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *tu_shared_path(const char *rel, char *buf, size_t size)
{
    const char *root = getenv("COMEBACK_SHARED_DATA");
    if (!root || !*root)
        return NULL;
    snprintf(buf, size, "%s/%s", root, rel);
    struct stat st;
    if (stat(buf, &st) != 0)
        return NULL;
    return buf;
}

const char *tu_fixture_path(const char *rel, char *buf, size_t size)
{
    const char *root = getenv("COMEBACK_FIXTURES");
    snprintf(buf, size, "%s/%s", root ? root : "fixtures", rel);
    return buf;
}

const char *tu_tmpdir(char *buf, size_t size)
{
    const char *t = getenv("TMPDIR");
    snprintf(buf, size, "%s/cbtest.XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(buf))
        return NULL;
    return buf;
}

void tu_rmtree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        unlink(dir);
        return;
    }
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            tu_rmtree(path);
        else
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        if (len)
            *len = (size_t)n;
    }
    return buf;
}

int tu_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

void tu_assert_close(double a, double b, double rel, double abs_, const char *ea, const char *eb,
                     const char *file, int line)
{
    if (isnan(a) && isnan(b))
        return;
    double diff = fabs(a - b);
    double scale = fmax(fabs(a), fabs(b));
    if (diff <= abs_ || diff <= rel * scale)
        return;
    print_error("%s:%d: %s = %.17g differs from %s = %.17g (diff %.3g)\n", file, line, ea, a, eb,
                b, diff);
    fail();
}
