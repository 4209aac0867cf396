/* Resampling to a coarser timeframe: open first, high max, low min, close last, volume sum.
 * Buckets follow cb_timeframe_floor (weeks open on Monday, months on the 1st); a bucket with
 * missing candles is counted and skipped or kept, an empty one produces nothing. */
#include <stdio.h>
#include <string.h>

#include "comeback/data.h"

/* Candles of `src` that make one bucket of `to` opening at `start`. */
static int64_t expected_count(const cb_timeframe_t *src, const cb_timeframe_t *to, int64_t start)
{
    if (src->months)
        return to->months / src->months;
    return (cb_timeframe_next(to, start) - start) / src->ms;
}

int cb_series_resample(const cb_series_t *s, const char *to, cb_resample_policy_t policy,
                       cb_series_t **out, size_t *incomplete, cb_diag_t *diag)
{
    *out = NULL;
    if (incomplete)
        *incomplete = 0;
    cb_timeframe_t src, dst;
    if (!s->meta.timeframe[0] || cb_timeframe_parse(s->meta.timeframe, &src) != 0)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL,
                           "the series has no timeframe to resample from");
    if (!to || cb_timeframe_parse(to, &dst) != 0)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "--to",
                           "'%s' is not a timeframe (e.g. 5m, 4h, 1d, 1w, 1M)", to ? to : "");
    /* The target grid must be made of whole source candles. */
    int ok;
    if (dst.months)
        ok = src.months ? dst.months % src.months == 0 : CB_MS_PER_DAY % src.ms == 0;
    else
        ok = !src.months && dst.ms % src.ms == 0 &&
             cb_timeframe_on_grid(&src, cb_timeframe_floor(&dst, 0));
    if (!ok)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "--to",
                           "%s candles cannot be built from whole %s candles", dst.name,
                           src.name);

    cb_series_t *r = cb_series_new(s->n ? s->n / 2 + 1 : 1);
    if (!r)
        return cb_diag_set(diag, CB_ENOMEM, NULL, 0, 0, NULL, NULL);
    r->meta = s->meta;
    memcpy(r->meta.timeframe, dst.name, sizeof r->meta.timeframe);
    char src_note[200];
    size_t sl = strnlen(s->meta.source, sizeof src_note - 1);
    memcpy(src_note, s->meta.source, sl);
    src_note[sl] = '\0';
    snprintf(r->meta.source, sizeof r->meta.source, "%.199s, resampled %.7s->%.7s", src_note,
             src.name, dst.name);

    size_t n_incomplete = 0;
    size_t i = 0;
    while (i < s->n) {
        int64_t start = cb_timeframe_floor(&dst, s->time_ms[i]);
        int64_t end = cb_timeframe_next(&dst, start);
        double o = s->open[i], h = s->high[i], l = s->low[i], c = s->close[i];
        double v = s->volume[i];
        int64_t count = 1;
        size_t j = i + 1;
        for (; j < s->n && s->time_ms[j] < end; j++) {
            if (s->high[j] > h)
                h = s->high[j];
            if (s->low[j] < l)
                l = s->low[j];
            c = s->close[j];
            v += s->volume[j];
            count++;
        }
        i = j;
        int complete = count >= expected_count(&src, &dst, start);
        if (!complete)
            n_incomplete++;
        if (complete || policy == CB_RESAMPLE_KEEP_INCOMPLETE) {
            int e = cb_series_push(r, start, o, h, l, c, v);
            if (e) {
                cb_series_free(r);
                return cb_diag_set(diag, e, NULL, 0, 0, NULL, NULL);
            }
        }
    }
    if (incomplete)
        *incomplete = n_incomplete;
    *out = r;
    return 0;
}
