/* THE list of indicators: one CB_TA_X(name) line each, in the order `comeback help ta` and
 * docs show them. No include guard: it is included several times with different CB_TA_X.
 *
 * Design (so that adding an indicator is one line here plus one file):
 * - All metadata (title, reference, inputs, options with defaults and ranges, outputs) lives
 *   in the indicator's own file src/ta/<name>.c, in its CB_TA_DEFINE(name, ...) which defines
 *   `const cb_ta_info_t cb_ta_info_<name>` and the public cb_ta_<name>/cb_ta_<name>_lookback.
 *   See the top of src/ta/ta_int.h for the five static functions a file provides.
 * - This list builds the table (table.c: &cb_ta_info_<name> in this order), declares the
 *   per-indicator functions (ta_int.h), and drives `comeback help ta`, the docs test and the
 *   property tests (tests/test_ta_props.c runs on every entry automatically).
 * - Names are TA-Lib's in lower case where TA-Lib has the indicator. */
CB_TA_X(sma)
CB_TA_X(ema)
CB_TA_X(wma)
CB_TA_X(dema)
CB_TA_X(tema)
CB_TA_X(trima)
CB_TA_X(kama)
CB_TA_X(t3)
CB_TA_X(rsi)
CB_TA_X(macd)
CB_TA_X(cmo)
CB_TA_X(trix)
CB_TA_X(bbands)
CB_TA_X(stddev)
CB_TA_X(var)
CB_TA_X(max)
CB_TA_X(min)
CB_TA_X(mom)
CB_TA_X(roc)
CB_TA_X(linearreg)
CB_TA_X(beta)
CB_TA_X(correl)
CB_TA_X(obv)
CB_TA_X(trange)
CB_TA_X(atr)
CB_TA_X(natr)
CB_TA_X(plus_di)
CB_TA_X(minus_di)
CB_TA_X(adx)
CB_TA_X(adxr)
CB_TA_X(cci)
CB_TA_X(mfi)
CB_TA_X(willr)
CB_TA_X(stoch)
CB_TA_X(stochrsi)
CB_TA_X(ultosc)
CB_TA_X(aroon)
CB_TA_X(sar)
CB_TA_X(vwap)
CB_TA_X(vwap_session)
CB_TA_X(hma)
CB_TA_X(supertrend)
CB_TA_X(donchian)
CB_TA_X(keltner)
CB_TA_X(ichimoku)
CB_TA_X(heikinashi)
CB_TA_X(zscore)
