/* Fuzz target: a robot journal opened from arbitrary bytes (a user's file, a damaged disk).
 * The bytes are written to a file and opened as the status commands open a journal: it is
 * recognised, checked (quick_check, tables, columns, every row) and migrated, or refused with
 * a sentence; never a crash, a leak or a read of a row the checks let through wrongly. A
 * journal that opens is walked and checked in full (integrity_check). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "comeback/journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], path[128], wal[140], shm[140];

static void cleanup(void)
{
    unlink(path);
    unlink(wal);
    unlink(shm);
    if (dir[0])
        rmdir(dir);
}

static int count_order(const cb_journal_order_t *o, void *ctx)
{
    /* what the checks promise about every row */
    if (o->quantity < 0 || o->executed_quantity < 0 || o->price < 0 || o->qty_scale < 0 ||
        o->qty_scale > 18 || o->price_scale < 0 || o->price_scale > 18)
        abort();
    ++*(size_t *)ctx;
    return 0;
}

static int count_fill(const cb_journal_fill_t *f, void *ctx)
{
    if (f->quantity <= 0 || f->price <= 0 || f->fee < 0 || f->qty_scale < 0 ||
        f->qty_scale > 18)
        abort();
    ++*(size_t *)ctx;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/cbfuzz-journal.XXXXXX");
        if (!mkdtemp(dir)) {
            dir[0] = 0;
            return 0;
        }
        snprintf(path, sizeof path, "%s/j.db", dir);
        snprintf(wal, sizeof wal, "%s-wal", path);
        snprintf(shm, sizeof shm, "%s-shm", path);
        atexit(cleanup);
    }
    unlink(wal);
    unlink(shm);
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return 0;
    size_t w = fwrite(data, 1, size, fp);
    if (fclose(fp) != 0 || w != size)
        return 0;
    cb_journal_t *j = NULL;
    cb_diag_t d;
    cb_diag_clear(&d);
    char bot[32];
    if (cb_journal_open_existing(path, &j, bot, sizeof bot, &d) == 0) {
        size_t n = 0;
        if (cb_journal_orders(j, 0, count_order, &n) == 0 &&
            cb_journal_fills(j, NULL, count_fill, &n) == 0) {
            int64_t pos;
            (void)cb_journal_position(j, "BTC/USDT", 8, &pos);
        }
        (void)cb_journal_check(j, &d);
        cb_journal_close(j);
    } else if (!d.msg[0]) {
        abort(); /* every refusal says why */
    }
    return 0;
}
