/* Fuzz the indicator spec parser and, for accepted specs, both forms of the indicator over a
 * short series taken from the rest of the input (arbitrary doubles: NaN, inf, huge values).
 * Input: "spec\n" followed by raw bytes read as doubles. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/ta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t line = 0;
    while (line < size && data[line] != '\n')
        line++;
    if (line > 256)
        return 0;
    char spec[257];
    memcpy(spec, data, line);
    spec[line] = '\0';
    const cb_ta_info_t *info;
    double opts[CB_TA_MAX_OPTS];
    cb_diag_t d;
    if (cb_ta_parse_spec(spec, &info, opts, &d) != 0)
        return 0;
    size_t rest = line < size ? size - line - 1 : 0;
    size_t n = rest / sizeof(double);
    if (n > 256)
        n = 256;
    double x[CB_TA_MAX_INPUTS][257];
    for (int k = 0; k < CB_TA_MAX_INPUTS; k++)
        for (size_t i = 0; i < n; i++) {
            double v;
            memcpy(&v, data + line + 1 + ((i + (size_t)k * 7) % n) * sizeof(double), sizeof v);
            x[k][i] = v;
        }
    const double *in[CB_TA_MAX_INPUTS];
    double out[CB_TA_MAX_OUTPUTS][257];
    double *outp[CB_TA_MAX_OUTPUTS];
    for (int k = 0; k < CB_TA_MAX_INPUTS; k++)
        in[k] = x[k];
    for (int k = 0; k < CB_TA_MAX_OUTPUTS; k++)
        outp[k] = out[k];
    if (cb_ta_batch(info, n, in, opts, outp) != 0)
        abort();
    cb_ta_stream_t *s = cb_ta_stream_new(info, opts);
    if (!s)
        return 0;
    for (size_t i = 0; i < n; i++) {
        double bar[CB_TA_MAX_INPUTS], o[CB_TA_MAX_OUTPUTS];
        for (int k = 0; k < info->n_inputs; k++)
            bar[k] = x[k][i];
        cb_ta_stream_push(s, bar, o);
    }
    cb_ta_stream_free(s);
    return 0;
}
