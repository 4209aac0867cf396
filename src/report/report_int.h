/* Private helpers shared by the report writers. */
#ifndef COMEBACK_REPORT_INT_H
#define COMEBACK_REPORT_INT_H

#include <stdio.h>

#include "comeback/report.h"

void rp_json_str(FILE *f, const char *s);
void rp_fx(FILE *f, int64_t v);
void rp_num(FILE *f, double v);
void rp_time_iso(int64_t ms, char *buf, size_t size);

#endif
