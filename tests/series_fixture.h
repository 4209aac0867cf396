/* A deterministic hourly test market shared by the simulator, exchange and live tests. */
#ifndef COMEBACK_TEST_SERIES_FIXTURE_H
#define COMEBACK_TEST_SERIES_FIXTURE_H

#include <stdio.h>

#include "comeback/core.h"
#include "comeback/data.h"

/* n hourly candles from 2024-01-01, prices with 2 decimals around 40000. */
static inline cb_series_t *make_series_n(const char *pair, double base, int n)
{
    cb_series_t *s = cb_series_new((size_t)n);
    int64_t t0 = cb_days_from_civil(2024, 1, 1) * CB_MS_PER_DAY;
    double px = base;
    for (int i = 0; i < n; i++) {
        double o = px, c = px + ((i * 37) % 11 - 5) * 7.25;
        double h = (o > c ? o : c) + 20.5, l = (o < c ? o : c) - 19.75;
        cb_series_push(s, t0 + i * CB_MS_PER_HOUR, o, h, l, c, 1.5 + (i % 7));
        px = c;
    }
    snprintf(s->meta.pair, sizeof s->meta.pair, "%s", pair);
    snprintf(s->meta.timeframe, sizeof s->meta.timeframe, "1h");
    snprintf(s->meta.source, sizeof s->meta.source, "test");
    return s;
}

#endif
