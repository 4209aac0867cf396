/* Shared kernels of several indicators. */
#include "ta/ta_int.h"

void cb_ta_rolling_extreme_(const double *x, size_t n, size_t period, double *out, int want_max)
{
    if (period == 0 || n < period)
        return;
    /* Pass 1 (backward): for each window start j <= n - period, the extreme of x[j .. end of
     * j's block] goes to out[j + period - 1], the bar whose window starts at j. Blocks are
     * [b*period, b*period + period - 1]; `pos` is j's position in its block. */
    double run = x[n - 1];
    size_t last_start = n - period;
    size_t pos = (n - 1) % period;
    for (size_t j = n; j-- > 0;) {
        if (pos == period - 1 || j == n - 1)
            run = x[j];
        else if (want_max ? (x[j] > run) : (x[j] < run))
            run = x[j];
        if (j <= last_start)
            out[j + period - 1] = run;
        pos = pos ? pos - 1 : period - 1;
    }
    /* Pass 2 (forward): the running extreme from the start of i's block to i covers the rest
     * of the window [i - period + 1, i]. */
    double pre = x[0];
    pos = 0;
    for (size_t i = 0; i < n; i++) {
        if (pos == 0)
            pre = x[i];
        else if (want_max ? (x[i] > pre) : (x[i] < pre))
            pre = x[i];
        if (i + 1 >= period) {
            double s = out[i];
            out[i] = want_max ? (pre > s ? pre : s) : (pre < s ? pre : s);
        }
        if (++pos == period)
            pos = 0;
    }
}
