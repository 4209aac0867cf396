/* The candle series: columnar arrays, heap-owned or memory-mapped. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "comeback/data.h"

cb_series_t *cb_series_new(size_t cap)
{
    cb_series_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (cap && cb_series_reserve(s, cap) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

static void free_columns(cb_series_t *s)
{
    if (s->map_) {
        munmap(s->map_, s->map_len_);
        s->map_ = NULL;
        s->map_len_ = 0;
    } else {
        free(s->time_ms);
        free(s->open);
        free(s->high);
        free(s->low);
        free(s->close);
        free(s->volume);
    }
    s->time_ms = NULL;
    s->open = s->high = s->low = s->close = s->volume = NULL;
    s->cap_ = 0;
}

void cb_series_free(cb_series_t *s)
{
    if (!s)
        return;
    free_columns(s);
    free(s);
}

/* Grows one column to cap elements, copying the first n. */
static int grow(void **col, size_t elem, size_t n, size_t cap, int mapped)
{
    void *p;
    if (mapped) {
        p = malloc(cap * elem);
        if (p && n)
            memcpy(p, *col, n * elem);
    } else {
        p = realloc(*col, cap * elem);
    }
    if (!p)
        return CB_ENOMEM;
    *col = p;
    return 0;
}

int cb_series_reserve(cb_series_t *s, size_t cap)
{
    if (cap <= s->cap_ && !s->map_)
        return 0;
    if (cap < s->n)
        cap = s->n;
    if (cap == 0)
        cap = 1;
    int mapped = s->map_ != NULL;
    /* Build the new columns aside so a failure leaves s unchanged. */
    cb_series_t t = *s;
    void *cols[6] = {t.time_ms, t.open, t.high, t.low, t.close, t.volume};
    size_t sizes[6] = {sizeof(int64_t), sizeof(double), sizeof(double),
                       sizeof(double),  sizeof(double), sizeof(double)};
    void *fresh[6];
    for (int k = 0; k < 6; k++) {
        if (mapped) {
            fresh[k] = malloc(cap * sizes[k]);
            if (fresh[k] && s->n)
                memcpy(fresh[k], cols[k], s->n * sizes[k]);
            if (!fresh[k]) {
                for (int j = 0; j < k; j++)
                    free(fresh[j]);
                return CB_ENOMEM;
            }
        } else {
            fresh[k] = cols[k];
            if (grow(&fresh[k], sizes[k], s->n, cap, 0) != 0) {
                /* Columns already grown stay valid (realloc keeps data); record them. */
                s->time_ms = k > 0 ? fresh[0] : s->time_ms;
                s->open = k > 1 ? fresh[1] : s->open;
                s->high = k > 2 ? fresh[2] : s->high;
                s->low = k > 3 ? fresh[3] : s->low;
                s->close = k > 4 ? fresh[4] : s->close;
                return CB_ENOMEM;
            }
        }
    }
    if (mapped) {
        munmap(s->map_, s->map_len_);
        s->map_ = NULL;
        s->map_len_ = 0;
    }
    s->time_ms = fresh[0];
    s->open = fresh[1];
    s->high = fresh[2];
    s->low = fresh[3];
    s->close = fresh[4];
    s->volume = fresh[5];
    s->cap_ = cap;
    return 0;
}

int cb_series_push(cb_series_t *s, int64_t time_ms, double open, double high, double low,
                   double close, double volume)
{
    if (s->n == s->cap_ || s->map_) {
        size_t cap = s->cap_ < 64 ? 64 : s->cap_ * 2;
        if (cap < s->n + 1)
            cap = s->n + 1;
        int r = cb_series_reserve(s, cap);
        if (r)
            return r;
    }
    size_t i = s->n++;
    s->time_ms[i] = time_ms;
    s->open[i] = open;
    s->high[i] = high;
    s->low[i] = low;
    s->close[i] = close;
    s->volume[i] = volume;
    return 0;
}

cb_series_t *cb_series_slice(const cb_series_t *s, size_t from, size_t to)
{
    if (to > s->n)
        to = s->n;
    if (from > to)
        from = to;
    size_t n = to - from;
    cb_series_t *r = cb_series_new(n ? n : 1);
    if (!r)
        return NULL;
    r->meta = s->meta;
    if (n) {
        memcpy(r->time_ms, s->time_ms + from, n * sizeof(int64_t));
        memcpy(r->open, s->open + from, n * sizeof(double));
        memcpy(r->high, s->high + from, n * sizeof(double));
        memcpy(r->low, s->low + from, n * sizeof(double));
        memcpy(r->close, s->close + from, n * sizeof(double));
        memcpy(r->volume, s->volume + from, n * sizeof(double));
    }
    r->n = n;
    return r;
}

size_t cb_series_lower_bound(const cb_series_t *s, int64_t t_ms)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->time_ms[mid] < t_ms)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}
