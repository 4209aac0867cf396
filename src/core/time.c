/* Time: UTC civil dates, parsing and formatting, clocks, timeframes. */
#include "comeback/core.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Civil date <-> day count, by the era arithmetic of the proleptic Gregorian calendar:
 * 400-year eras of 146097 days, with March as the first month so leap days fall last. */
int64_t cb_days_from_civil(int64_t year, int month, int day)
{
    int64_t y = year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (month + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void cb_civil_from_days(int64_t days, int64_t *year, int *month, int *day)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = yoe + era * 400 + (m <= 2);
    *month = m;
    *day = d;
}

static int days_in_month(int64_t y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

/* Reads exactly `n` digits at *p (bounded by end). */
static int read_digits(const char **p, const char *end, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (*p >= end || (unsigned)(**p - '0') > 9)
            return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return 0;
}

int cb_time_parse(const char *s, size_t len, int64_t *out_ms)
{
    if (!s)
        return CB_EINVAL;
    if (len == (size_t)-1)
        len = strlen(s);
    const char *p = s, *end = s + len;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '"'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '"'))
        end--;
    int year, month, day, hh = 0, mi = 0, ss = 0, frac_ms = 0;
    if (read_digits(&p, end, 4, &year))
        return CB_EPARSE;
    if (p >= end || (*p != '-' && *p != '/'))
        return CB_EPARSE;
    char sep = *p++;
    if (read_digits(&p, end, 2, &month))
        return CB_EPARSE;
    if (p >= end || *p != sep)
        return CB_EPARSE;
    p++;
    if (read_digits(&p, end, 2, &day))
        return CB_EPARSE;
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
        return CB_ERANGE;
    if (p < end && (*p == 'T' || *p == ' ')) {
        p++;
        if (read_digits(&p, end, 2, &hh))
            return CB_EPARSE;
        if (p < end && *p == ':') {
            p++;
            if (read_digits(&p, end, 2, &mi))
                return CB_EPARSE;
            if (p < end && *p == ':') {
                p++;
                if (read_digits(&p, end, 2, &ss))
                    return CB_EPARSE;
                if (p < end && (*p == '.' || *p == ',')) {
                    p++;
                    int digits = 0, v = 0;
                    while (p < end && (unsigned)(*p - '0') <= 9) {
                        if (digits < 3)
                            v = v * 10 + (*p - '0');
                        digits++;
                        p++;
                    }
                    if (digits == 0)
                        return CB_EPARSE;
                    for (int i = digits; i < 3; i++)
                        v *= 10;
                    frac_ms = v;
                }
            }
        } else {
            return CB_EPARSE; /* "2024-01-01 13" is ambiguous */
        }
        if (hh > 23 || mi > 59 || ss > 60)
            return CB_ERANGE;
    }
    int64_t offset_ms = 0;
    if (p < end && (*p == 'Z' || *p == 'z')) {
        p++;
    } else if (p < end && (*p == '+' || *p == '-') && p != s) {
        int sign = *p == '-' ? -1 : 1, oh, om = 0;
        p++;
        if (read_digits(&p, end, 2, &oh))
            return CB_EPARSE;
        if (p < end && *p == ':')
            p++;
        if (p < end && read_digits(&p, end, 2, &om))
            return CB_EPARSE;
        if (oh > 23 || om > 59)
            return CB_ERANGE;
        offset_ms = sign * ((int64_t)oh * CB_MS_PER_HOUR + (int64_t)om * CB_MS_PER_MIN);
    } else if (p < end && *p == ' ' && end - p >= 4 && memcmp(p, " UTC", 4) == 0) {
        p += 4;
    }
    if (p != end)
        return CB_EPARSE;
    int64_t days = cb_days_from_civil(year, month, day);
    *out_ms = days * CB_MS_PER_DAY + hh * CB_MS_PER_HOUR + mi * CB_MS_PER_MIN +
              ss * CB_MS_PER_SEC + frac_ms - offset_ms;
    return 0;
}

static void split_ms(int64_t ms, int64_t *y, int *mo, int *d, int *h, int *mi, int *s, int *f)
{
    int64_t days = ms / CB_MS_PER_DAY, rem = ms % CB_MS_PER_DAY;
    if (rem < 0) {
        rem += CB_MS_PER_DAY;
        days--;
    }
    cb_civil_from_days(days, y, mo, d);
    *h = (int)(rem / CB_MS_PER_HOUR);
    *mi = (int)(rem / CB_MS_PER_MIN % 60);
    *s = (int)(rem / CB_MS_PER_SEC % 60);
    *f = (int)(rem % 1000);
}

char *cb_time_format(int64_t ms, char *buf, size_t size)
{
    int64_t y;
    int mo, d, h, mi, s, f;
    split_ms(ms, &y, &mo, &d, &h, &mi, &s, &f);
    if (f)
        snprintf(buf, size, "%04lld-%02d-%02d %02d:%02d:%02d.%03d", (long long)y, mo, d, h, mi,
                 s, f);
    else
        snprintf(buf, size, "%04lld-%02d-%02d %02d:%02d:%02d", (long long)y, mo, d, h, mi, s);
    return buf;
}

char *cb_time_format_iso(int64_t ms, char *buf, size_t size)
{
    int64_t y;
    int mo, d, h, mi, s, f;
    split_ms(ms, &y, &mo, &d, &h, &mi, &s, &f);
    if (f)
        snprintf(buf, size, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y, mo, d, h, mi,
                 s, f);
    else
        snprintf(buf, size, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, mo, d, h, mi, s);
    return buf;
}

int64_t cb_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t cb_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- Timeframes ---- */

/* Binance's weeks open on Monday; 1970-01-05 was the first Monday after the epoch. */
#define CB_WEEK_ORIGIN_MS (4 * CB_MS_PER_DAY)

int cb_timeframe_parse(const char *s, cb_timeframe_t *tf)
{
    if (!s || !tf)
        return CB_EINVAL;
    memset(tf, 0, sizeof *tf);
    size_t len = strlen(s);
    if (len < 2 || len > 6)
        return CB_EPARSE;
    int64_t n = 0;
    size_t i = 0;
    for (; i < len - 1; i++) {
        if ((unsigned)(s[i] - '0') > 9)
            return CB_EPARSE;
        n = n * 10 + (s[i] - '0');
    }
    if (n <= 0)
        return CB_EPARSE;
    switch (s[len - 1]) {
    case 's': tf->ms = n * CB_MS_PER_SEC; break;
    case 'm': tf->ms = n * CB_MS_PER_MIN; break;
    case 'h': tf->ms = n * CB_MS_PER_HOUR; break;
    case 'd': tf->ms = n * CB_MS_PER_DAY; break;
    case 'w': tf->ms = n * 7 * CB_MS_PER_DAY; break;
    case 'M':
        if (n > 12)
            return CB_EPARSE;
        tf->months = (int)n;
        break;
    default: return CB_EPARSE;
    }
    memcpy(tf->name, s, len + 1);
    return 0;
}

static int64_t month_index(int64_t t_ms)
{
    int64_t days = t_ms / CB_MS_PER_DAY;
    if (t_ms % CB_MS_PER_DAY < 0)
        days--;
    int64_t y;
    int m, d;
    cb_civil_from_days(days, &y, &m, &d);
    return (y - 1970) * 12 + (m - 1);
}

static int64_t month_start(int64_t idx)
{
    int64_t y = 1970 + (idx >= 0 ? idx / 12 : (idx - 11) / 12);
    int m = (int)(idx - (y - 1970) * 12) + 1;
    return cb_days_from_civil(y, m, 1) * CB_MS_PER_DAY;
}

int64_t cb_timeframe_floor(const cb_timeframe_t *tf, int64_t t_ms)
{
    if (tf->months) {
        int64_t idx = month_index(t_ms);
        int64_t r = idx % tf->months;
        if (r < 0)
            r += tf->months;
        return month_start(idx - r);
    }
    int64_t origin = (tf->ms % (7 * CB_MS_PER_DAY) == 0) ? CB_WEEK_ORIGIN_MS : 0;
    int64_t x = t_ms - origin;
    int64_t r = x % tf->ms;
    if (r < 0)
        r += tf->ms;
    return t_ms - r;
}

int64_t cb_timeframe_next(const cb_timeframe_t *tf, int64_t open_ms)
{
    if (tf->months)
        return month_start(month_index(open_ms) + tf->months);
    return open_ms + tf->ms;
}

int cb_timeframe_on_grid(const cb_timeframe_t *tf, int64_t t_ms)
{
    return cb_timeframe_floor(tf, t_ms) == t_ms;
}
