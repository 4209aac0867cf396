/* Paging a venue's candle history into a series (comeback data download). */
#include <stdlib.h>
#include <string.h>

#include "comeback/data.h"
#include "comeback/exchange.h"

int cb_exchange_download(cb_exchange_t *ex, const char *pair, const char *timeframe,
                         int64_t from_ms, int64_t to_ms, cb_series_t *s, cb_download_fn fn,
                         void *user, cb_diag_t *diag)
{
    cb_timeframe_t tf;
    if (cb_timeframe_parse(timeframe, &tf) != 0)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "timeframe",
                           "'%s' is not a timeframe like 1m, 1h or 1d", timeframe);
    cb_download_progress_t pr = {0, 0, from_ms, to_ms, 0};
    int64_t cursor = from_ms;
    if (s->n > 0) {
        int64_t next = cb_timeframe_next(&tf, s->time_ms[s->n - 1]);
        if (next > cursor)
            cursor = next;
    }
    for (;;) {
        if (to_ms > 0 && cursor >= to_ms)
            return 0;
        cb_ex_candle_t *c;
        size_t n;
        int r = cb_exchange_candles(ex, pair, timeframe, cursor, to_ms > 0 ? to_ms - 1 : 0, 1000,
                                    &c, &n, diag);
        if (r)
            return r;
        pr.pages++;
        size_t appended = 0;
        int done = n < 1000;
        for (size_t i = 0; i < n; i++) {
            if (c[i].time_ms < cursor || (to_ms > 0 && c[i].time_ms >= to_ms))
                continue;
            if (!c[i].closed) {
                done = 1; /* the candle still forming is not history yet */
                break;
            }
            if ((r = cb_series_push(s, c[i].time_ms, c[i].open, c[i].high, c[i].low, c[i].close,
                                    c[i].volume))) {
                free(c);
                return cb_diag_set(diag, r, NULL, 0, 0, NULL, NULL);
            }
            appended++;
            cursor = cb_timeframe_next(&tf, c[i].time_ms);
            pr.at_ms = c[i].time_ms;
        }
        free(c);
        pr.candles += appended;
        if (fn)
            fn(&pr, user);
        if (done || appended == 0)
            return 0;
    }
}
