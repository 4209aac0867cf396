/* Private: Binance spot JSON messages -> exchange types. Each parser takes the raw body,
 * checks every field it reads and, on bad input, fills diag as
 *   <message>:<line>:<column>: <json path>: <sentence>
 * (line/column only for JSON syntax errors). Symbols are mapped to "BASE/QUOTE" pairs and
 * decimal strings to fixed point with the pairs' scales; an unknown symbol is an error. */
#ifndef COMEBACK_BINANCE_INT_H
#define COMEBACK_BINANCE_INT_H

#include "comeback/exchange.h"

/* {"code":-2010,"msg":"..."}: returns 0 and sets *code/msg when body is an error object. */
int cb_bn_parse_error(const char *body, size_t len, int *code, char *msg, size_t msg_size);

/* {"serverTime": 1499827319559} */
int cb_bn_parse_server_time(const char *body, size_t len, int64_t *out, cb_diag_t *diag);

/* GET /api/v3/exchangeInfo: every symbol with its PRICE_FILTER, LOT_SIZE and NOTIONAL or
 * MIN_NOTIONAL filters. *out is malloc'ed. */
int cb_bn_parse_exchange_info(const char *body, size_t len, cb_pair_info_t **out, size_t *n,
                              cb_diag_t *diag);

/* GET /api/v3/klines: [[openTime,"o","h","l","c","v",closeTime,...], ...]. `now_ms` marks
 * candles whose close time is still in the future as not closed (0: all closed). */
int cb_bn_parse_klines(const char *body, size_t len, int64_t now_ms, cb_ex_candle_t **out,
                       size_t *n, cb_diag_t *diag);

/* POST/GET/DELETE /api/v3/order and one element of GET /api/v3/openOrders. The fills of a FULL
 * response are returned when fills != NULL (malloc'ed; *n_fills may be 0). */
int cb_bn_parse_order(const char *body, size_t len, const cb_pair_info_t *pairs, size_t n_pairs,
                      cb_ex_order_t *out, cb_ex_fill_t **fills, size_t *n_fills, cb_diag_t *diag);
/* GET /api/v3/openOrders: an array of orders. */
int cb_bn_parse_orders(const char *body, size_t len, const cb_pair_info_t *pairs,
                       size_t n_pairs, cb_ex_order_t **out, size_t *n, cb_diag_t *diag);

/* POST /api/v3/orderList/oco (newOrderRespType RESULT or FULL) and DELETE
 * /api/v3/orderList: the list and its two legs (told apart by type: LIMIT_MAKER/LIMIT is the
 * limit leg). */
int cb_bn_parse_order_list(const char *body, size_t len, const cb_pair_info_t *pairs,
                           size_t n_pairs, cb_ex_oco_t *out, cb_diag_t *diag);

/* GET /api/v3/account: the balances (all of them; zero ones included when sent). */
int cb_bn_parse_account(const char *body, size_t len, cb_ex_balance_t **out, size_t *n,
                        cb_diag_t *diag);

/* GET /api/v3/account: canTrade, canWithdraw, canDeposit, accountType. */
int cb_bn_parse_account_flags(const char *body, size_t len, cb_ex_account_t *out,
                              cb_diag_t *diag);

/* GET /api/v3/myTrades. */
int cb_bn_parse_my_trades(const char *body, size_t len, const cb_pair_info_t *pairs,
                          size_t n_pairs, cb_ex_fill_t **out, size_t *n, cb_diag_t *diag);

/* GET /api/v3/ticker/bookTicker?symbol=... */
int cb_bn_parse_book_ticker(const char *body, size_t len, const cb_pair_info_t *pairs,
                            size_t n_pairs, cb_book_ticker_t *out, cb_diag_t *diag);

/* A WebSocket message: a raw stream payload, a combined-stream wrapper {"stream","data"} or a
 * WebSocket API user data event {"subscriptionId","event"}. Handles kline, trade, bookTicker,
 * executionReport, outboundAccountPosition and balanceUpdate (CB_STREAM_ACCOUNT), and
 * eventStreamTerminated (a CB_STREAM_STATUS event, connected = 0). Returns 0 with *out filled, CB_ENOENT for a
 * well-formed message of another kind (ignored by callers), or an error. */
int cb_bn_parse_ws(const char *body, size_t len, const cb_pair_info_t *pairs, size_t n_pairs,
                   cb_stream_event_t *out, cb_diag_t *diag);

/* A WebSocket API response {"id","status","result"|"error"}: *status (HTTP-like), and on
 * failure *code/msg (Binance's error); *subscription_id from a result's subscriptionId (-1
 * when absent). id_out (may be NULL) gets the request id as text. Returns 0, CB_ENOENT for a
 * message that is not a response (an event), or CB_EPARSE with diag. */
int cb_bn_parse_ws_api_response(const char *body, size_t len, int *status, int *code, char *msg,
                                size_t msg_size, int64_t *subscription_id, char *id_out,
                                size_t id_size, cb_diag_t *diag);

/* Decimal text -> fixed point at `scale`, rounding extra decimals in `mode` direction.
 * Returns 0, CB_EPARSE or CB_ERANGE. */
int cb_bn_dec_round(const char *s, int scale, cb_round_t mode, int64_t *out);
/* Decimals a tick/step string needs: "0.01000000" -> 2, "1.00000000" -> 0, "0" -> -1. */
int cb_bn_dec_scale(const char *s);

#endif
