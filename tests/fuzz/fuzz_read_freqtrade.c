/* Fuzz target: the freqtrade reader (format forced), with and without skip_bad_rows, and the
 * checker over whatever it loads. */
#include <stdint.h>
#include <string.h>

#include "comeback/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int skip = 0; skip <= 1; skip++) {
        cb_read_opts_t opts = {CB_FORMAT_FREQTRADE, NULL, skip, 8, NULL};
        cb_series_t *s = NULL;
        cb_read_report_t rep;
        cb_diag_t d;
        char buf[1024];
        if (cb_series_read_buffer("fuzz", (const char *)data, size, &opts, &s, &rep, &d) == 0) {
            cb_check_report_t cr;
            cb_series_check(s, "fuzz", &cr);
            cb_check_report_free(&cr);
            cb_series_free(s);
        } else {
            cb_diag_format(&d, buf, sizeof buf);
        }
        cb_read_report_free(&rep);
    }
    return 0;
}
