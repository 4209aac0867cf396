/* Pieces shared by the exchange venue and reconciliation. */
#ifndef COMEBACK_LIVE_INT_H
#define COMEBACK_LIVE_INT_H

#include "comeback/live.h"

#define LV_UNSENT_DEFAULT_MS 10000

/* The journal's status for an exchange status. */
cb_order_status_t lv_status_from_ex(cb_ex_status_t s);

/* The fills the journal holds for one client order id, summed. Quantities at the pair's
 * qty_scale, notional at price_scale + qty_scale, fees at CB_EX_AMOUNT_SCALE. */
typedef struct lv_agg {
    int64_t qty;
    __int128 notional;
    int64_t fee_base, fee_quote, fee_other;
    int64_t last_ms;
    int n, n_maker;
} lv_agg_t;
int lv_aggregate(cb_journal_t *j, const char *coid, const cb_pair_info_t *p, lv_agg_t *out);

/* Brings the journal's record of one order up to date with the exchange's view `eo`: status,
 * exchange id and executed quantity, and (when the journal's fills fall short of eo's executed
 * quantity) the order's fills from my_trades. *complete = 1 when the journal now holds fills
 * for all of eo's executed quantity. *n_new counts fills recorded. */
CB_MUST_CHECK int lv_sync_order(cb_exchange_t *ex, cb_journal_t *j, const cb_pair_info_t *p,
                                const char *coid, const cb_ex_order_t *eo, int *complete,
                                size_t *n_new, cb_diag_t *diag);

/* Records exchange fills in the journal (deduplicated); *n_new counts the new ones. Fills
 * whose order_id differs from `order_id` (when >= 0) are skipped; coid is stored with each. */
CB_MUST_CHECK int lv_record_fills(cb_journal_t *j, const cb_pair_info_t *p,
                                  const cb_ex_fill_t *f, size_t n, int64_t order_id,
                                  const char *coid, size_t *n_new);

/* 1 for errors after which the exchange certainly did not execute a placement. */
int lv_definitive(int rc);

int64_t lv_now(int64_t (*now_ms)(void *), void *user);

#endif
