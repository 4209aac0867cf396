/* Private pieces of the robot: the paper venue and the venue factory. */
#ifndef COMEBACK_ROBOT_INT_H
#define COMEBACK_ROBOT_INT_H

#include "comeback/journal.h"
#include "comeback/robot.h"
#include "comeback/venue.h"

/* The paper venue: the backtest venue (the backtester's fill model) fed with the live closed
 * candles, every order journaled like a live one: the intent with its client order id before
 * it is accepted, then its status and fills (trade id = the client order id: paper orders fill whole, once, fees in the quote
 * currency, amounts at 8 decimals). Holds `quote` of quote currency. */
int robot_paper_venue_new(cb_journal_t *j, const cb_instrument_t *ins, size_t n, int64_t quote,
                          const cb_costs_t *costs, cb_venue_t *out);
/* Credits a position held before a restart to the paper account. */
int robot_paper_deposit(cb_venue_t *v, uint32_t pair, int64_t base_qty);

/* The reason the journal records for an order the engine sends (by side and type). */
const char *robot_order_reason(const cb_order_t *o);

#endif
