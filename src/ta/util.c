/* Shared kernels of several indicators. */
#include "ta/ta_int.h"

/* Branch-free on x86 (maxsd/minsd): the same result as a compare-and-select. */
static inline double pick_max(double a, double b) { return b > a ? b : a; }
static inline double pick_min(double a, double b) { return b < a ? b : a; }

#define ROLLING_EXTREME(PICK)                                                                \
    do {                                                                                     \
        size_t last_start = n - period;                                                      \
        /* Pass 1, backward in each block [b, e): the extreme of x[j .. e-1] goes to          \
         * out[j + period - 1], the bar whose window starts at j. */                         \
        for (size_t b = 0; b <= last_start; b += period) {                                   \
            size_t e = b + period < n ? b + period : n;                                      \
            double run = x[e - 1];                                                           \
            for (size_t j = e; j-- > b;) {                                                   \
                run = PICK(run, x[j]);                                                       \
                if (j <= last_start)                                                         \
                    out[j + period - 1] = run;                                               \
            }                                                                                \
        }                                                                                    \
        /* Pass 2, forward in each block: the extreme of x[b .. i] covers the rest of the    \
         * window [i - period + 1, i]. */                                                    \
        for (size_t b = 0; b < n; b += period) {                                             \
            size_t e = b + period < n ? b + period : n;                                      \
            double pre = x[b];                                                               \
            for (size_t i = b; i < e; i++) {                                                 \
                pre = PICK(pre, x[i]);                                                       \
                if (i + 1 >= period)                                                         \
                    out[i] = PICK(pre, out[i]);                                              \
            }                                                                                \
        }                                                                                    \
    } while (0)

void cb_ta_rolling_extreme_(const double *x, size_t n, size_t period, double *out, int want_max)
{
    if (period == 0 || n < period)
        return;
    if (want_max)
        ROLLING_EXTREME(pick_max);
    else
        ROLLING_EXTREME(pick_min);
}
