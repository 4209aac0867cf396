/* Writing a user-named file so that a failure never leaves a truncated file in its place: the
 * bytes go to a temporary file beside the target, which is flushed, synced and renamed over
 * the target only when every write succeeded. */
#include "comeback/core.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int copy_path(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        return -1;
    memcpy(dst, src, n + 1);
    return 0;
}

/* The directory of path ("." when it has none). */
static void dir_of(const char *path, char *dir, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, size, ".");
        return;
    }
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    if (n >= size)
        n = size - 1;
    memcpy(dir, path, n);
    dir[n] = '\0';
}

/* Creates path.tmp.<pid>.<random> with mode 0666 minus the umask (as fopen would), retrying on a
 * name that is taken. Returns the descriptor or -1 with errno set. */
static int create_temp(const char *path, char *tmp, size_t size)
{
    static unsigned counter;
    uint64_t seed = (uint64_t)cb_monotonic_ns() ^ ((uint64_t)getpid() << 32);
    for (int attempt = 0; attempt < 100; attempt++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u + counter++;
        /* <path>.tmp.<pid>.<random>, the store's pattern: a dead writer's file is told. */
        int n = snprintf(tmp, size, "%s.tmp.%ld.%06llx", path, (long)getpid(),
                         (unsigned long long)((seed >> 24) & 0xffffff));
        if (n < 0 || (size_t)n >= size) {
            errno = ENAMETOOLONG;
            return -1;
        }
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

static int fail(cb_diag_t *diag, const char *path, const char *what, int err)
{
    return cb_diag_set(diag, CB_EIO, path, 0, 0, NULL, "%s: %s", what, strerror(err));
}

int cb_file_atomic_open(cb_file_atomic_t *a, const char *path, cb_diag_t *diag)
{
    memset(a, 0, sizeof *a);
    a->fd = -1;
    if (!path || !path[0])
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL, "no file name given");
    if (copy_path(a->path, sizeof a->path, path) != 0)
        return cb_diag_set(diag, CB_EINVAL, path, 0, 0, NULL, "the path is too long");
    if (!strcmp(path, "-")) {
        a->f = stdout;
        a->mode = CB_FILE_STDOUT;
        return 0;
    }
    struct stat st;
    int exists = lstat(path, &st) == 0;
    if (exists && S_ISLNK(st.st_mode)) {
        /* Replace the file the link points to, not the link. */
        char real[PATH_MAX];
        if (realpath(path, real) && copy_path(a->path, sizeof a->path, real) == 0)
            exists = stat(a->path, &st) == 0;
        else
            exists = 0;
    }
    if (exists && S_ISDIR(st.st_mode))
        return cb_diag_set(diag, CB_EINVAL, path, 0, 0, NULL, "cannot write: %s (give a file name)",
                           strerror(EISDIR));
    if (exists && !S_ISREG(st.st_mode)) {
        /* A device, a FIFO or a socket (/dev/stdout, /dev/null): it cannot be renamed over,
         * so it is written in place and only the flush and close are checked. */
        a->f = fopen(a->path, "w");
        if (!a->f)
            return fail(diag, path, "cannot open for writing", errno);
        a->mode = CB_FILE_IN_PLACE;
        return 0;
    }
    a->fd = create_temp(a->path, a->tmp, sizeof a->tmp);
    if (a->fd < 0) {
        int e = errno;
        char dir[4096];
        dir_of(a->path, dir, sizeof dir);
        a->tmp[0] = '\0';
        return cb_diag_set(diag, CB_EIO, path, 0, 0, NULL, "cannot create a file in %s: %s",
                           dir, strerror(e));
    }
    /* An existing file keeps its permissions. */
    if (exists)
        (void)fchmod(a->fd, st.st_mode & 07777);
    a->f = fdopen(a->fd, "w");
    if (!a->f) {
        int e = errno;
        close(a->fd);
        unlink(a->tmp);
        a->fd = -1;
        a->tmp[0] = '\0';
        return fail(diag, path, "cannot write", e);
    }
    a->mode = CB_FILE_RENAME;
    return 0;
}

int cb_file_atomic_commit(cb_file_atomic_t *a, cb_diag_t *diag)
{
    if (!a->f)
        return cb_diag_set(diag, CB_ESTATE, a->path, 0, 0, NULL, "the file is not open");
    FILE *f = a->f;
    a->f = NULL;
    errno = 0;
    int ok = fflush(f) == 0 && !ferror(f);
    int e = errno ? errno : EIO;
    if (a->mode == CB_FILE_STDOUT) {
        if (!ok)
            return fail(diag, "<stdout>", "cannot write", e);
        return 0;
    }
    if (ok && a->mode == CB_FILE_RENAME && fsync(a->fd) != 0 && errno != EINVAL) {
        ok = 0;
        e = errno;
    }
    if (fclose(f) != 0 && ok) {
        ok = 0;
        e = errno;
    }
    a->fd = -1;
    if (a->mode == CB_FILE_IN_PLACE)
        return ok ? 0 : fail(diag, a->path, "cannot write", e);
    if (ok && rename(a->tmp, a->path) != 0) {
        ok = 0;
        e = errno;
    }
    if (!ok) {
        unlink(a->tmp);
        a->tmp[0] = '\0';
        return cb_diag_set(diag, CB_EIO, a->path, 0, 0, NULL,
                           "cannot write: %s (the previous file, if any, is unchanged)",
                           strerror(e));
    }
    a->tmp[0] = '\0';
    /* Make the rename itself durable. */
    char dir[4096];
    dir_of(a->path, dir, sizeof dir);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        int fr = fsync(dfd);
        e = errno;
        close(dfd);
        if (fr != 0 && e != EINVAL)
            return cb_diag_set(diag, CB_EIO, dir, 0, 0, NULL, "cannot sync the directory: %s",
                               strerror(e));
    }
    return 0;
}

void cb_file_atomic_abort(cb_file_atomic_t *a)
{
    if (a->f && a->mode != CB_FILE_STDOUT)
        fclose(a->f);
    a->f = NULL;
    a->fd = -1;
    if (a->mode == CB_FILE_RENAME && a->tmp[0])
        unlink(a->tmp);
    a->tmp[0] = '\0';
}

int cb_file_write_atomic(const char *path, int (*write_fn)(FILE *f, void *ctx), void *ctx,
                         cb_diag_t *diag)
{
    cb_file_atomic_t a;
    int rc = cb_file_atomic_open(&a, path, diag);
    if (rc)
        return rc;
    errno = 0;
    rc = write_fn(a.f, ctx);
    if (rc || ferror(a.f)) {
        int e = errno ? errno : EIO;
        int in_error = ferror(a.f);
        cb_file_atomic_abort(&a);
        return cb_diag_set(diag, rc && rc != CB_EIO ? rc : CB_EIO, path, 0, 0, NULL,
                           "cannot write: %s (the previous file, if any, is unchanged)",
                           in_error || !rc || rc == CB_EIO ? strerror(e) : cb_strerror(rc));
    }
    return cb_file_atomic_commit(&a, diag);
}
