/* The strategy file and the rules language's diagnostics: a catalogue of bad rules, each with
 * its exact message, line and column; plus the file's structure as other modules read it. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "comeback/rules.h"
#include "comeback/ta.h"

typedef struct bad_case {
    const char *text;
    const char *expect; /* the first error, as cb_diag_format prints it */
} bad_case_t;

static const bad_case_t catalogue[] = {
    {"[strategy]\nentry = crossover(ema(close, 12), rsx(close, 14))\n",
     "s.ini:2:35: error: unknown function 'rsx'; did you mean 'rsi'?"},
    {"[strategy]\nentry = close > fsat\n[params]\nfast = 3\n",
     "s.ini:2:17: error: undefined name 'fsat' (not a series, a parameter or position state); did you mean 'fast'?"},
    {"[strategy]\nentry = close[-1] > close\n",
     "s.ini:2:15: error: negative offset -1 would look at future bars; x[n] means n bars ago (n >= 0)"},
    {"[strategy]\nentry = close[1.5] > close\n",
     "s.ini:2:15: error: the offset must be a whole number from 0 to 100000, got 1.5"},
    {"[strategy]\nentry = close[volume] > close\n",
     "s.ini:2:15: error: the offset in [...] must be a constant or a parameter"},
    {"[strategy]\nentry = (close > open\n",
     "s.ini:2:9: error: missing ')' to close this '('"},
    {"[strategy]\nentry = close > open)\n",
     "s.ini:2:21: error: unmatched ')'"},
    {"[strategy]\nentry = close = open\n",
     "s.ini:2:15: error: '=' is not a comparison; did you mean '=='?"},
    {"[strategy]\nentry = close > open && close > 1\n",
     "s.ini:2:22: error: '&&' is not an operator; use 'and'"},
    {"[strategy]\nentry = close > open || close > 1\n",
     "s.ini:2:22: error: '||' is not an operator; use 'or'"},
    {"[strategy]\nentry = !(close > open)\n",
     "s.ini:2:9: error: '!' is not an operator; use 'not'"},
    {"[strategy]\nentry = close <> open\n",
     "s.ini:2:15: error: '<>' is not an operator; did you mean '!='?"},
    {"[strategy]\nentry = 1 < close < 2\n",
     "s.ini:2:19: error: comparisons cannot be chained; combine them with 'and'"},
    {"[strategy]\nentry = close > $5\n",
     "s.ini:2:17: error: unexpected character '$'"},
    {"[strategy]\nentry = close > 1.2.3\n",
     "s.ini:2:17: error: malformed number '1.2.3'"},
    {"[strategy]\nentry = close + 1\n",
     "s.ini:2:9: error: entry must be a condition (true or false), but this is a number"},
    {"[strategy]\nentry = close and open > 1\n",
     "s.ini:2:9: error: the left side of 'and' must be a condition, but this is a number"},
    {"[strategy]\nentry = (close > open) + 1 > 0\n",
     "s.ini:2:10: error: the left side of '+' must be a number, but this is a condition"},
    {"[strategy]\nentry = not close\n",
     "s.ini:2:13: error: the operand of 'not' must be a condition, but this is a number"},
    {"[strategy]\nentry = macd(close, 12, 26, 9) > 0\n",
     "s.ini:2:9: error: 'macd' has several outputs; pick one with .macd, .signal, .hist"},
    {"[strategy]\nentry = macd(close, 12, 26, 9).signa > 0\n",
     "s.ini:2:32: error: 'macd' has no output 'signa'; did you mean 'signal'?"},
    {"[strategy]\nentry = ema(close, 10).upper > 0\n",
     "s.ini:2:24: error: 'ema' has a single output; remove '.upper'"},
    {"[strategy]\nentry = close.upper > 0\n",
     "s.ini:2:14: error: '.upper' picks an indicator's output, as in macd(close, 12, 26, 9).signal"},
    {"[strategy]\ntimeframe = 1h\nentry = ema(close, 10)@4h > 0\n",
     "s.ini:3:9: error: 'ema' takes a series: put the timeframe on the series, as in ema(close@4h, ...)"},
    {"[strategy]\ntimeframe = 1h\nentry = (close + 1)@4h > 0\n",
     "s.ini:3:20: error: '@4h' applies to a price series (open, high, low, close, volume, hl2, hlc3, ohlc4), as in ema(close@4h, 20), or to an indicator on fixed columns, as in atr(14)@4h"},
    {"[strategy]\ntimeframe = 1h\nentry = close@4x > 0\n",
     "s.ini:3:15: error: '4x' is not a timeframe (such as 15m, 1h, 4h, 1d, 1w)"},
    {"[strategy]\ntimeframe = 1h\nentry = close@90m > 0\n",
     "s.ini:3:15: error: @90m must be a longer timeframe than the strategy's 1h and a multiple of it"},
    {"[strategy]\nentry = bars_held > 3\n",
     "s.ini:2:9: error: 'bars_held' is position state and can only be used in exit rules (entry is only evaluated while flat)"},
    {"[strategy]\nentry = ema > 3\n",
     "s.ini:2:9: error: 'ema' is a function; call it with its arguments, as in ema(...)"},
    {"[strategy]\nentry = close(3) > 1\n",
     "s.ini:2:9: error: 'close' is a series, not a function; use close[n] for past values"},
    {"[strategy]\nentry = rsi() > 3\n",
     "s.ini:2:9: error: 'rsi' needs a series as its first argument: rsi(series, period)"},
    {"[strategy]\nentry = rsi(close, 14, 3) > 3\n",
     "s.ini:2:24: error: too many arguments for 'rsi': rsi(series, period)"},
    {"[strategy]\nentry = rsi(close, close) > 3\n",
     "s.ini:2:20: error: option 'period' of 'rsi' must be a constant or a parameter"},
    {"[strategy]\nentry = rsi(close, 0) > 3\n",
     "s.ini:2:20: error: rsi option 1 'period': expected a whole number from 2 to 100000, got 0"},
    {"[strategy]\nentry = crossover(close)\n",
     "s.ini:2:9: error: 'crossover' takes 2 arguments: crossover(a, b)"},
    {"[strategy]\nentry = highest(close, 0) > 1\n",
     "s.ini:2:24: error: the window n must be a whole number from 1 to 100000, got 0"},
    {"[strategy]\nentry = highest(close, open) > 1\n",
     "s.ini:2:24: error: the window n must be a constant or a parameter"},
    {"[strategy]\nentry =\n",
     "s.ini:2:1: error: 'entry' is empty"},
    {"[strategy]\nentry = close >\n",
     "s.ini:2:16: error: expected a value, found end of rule"},
    {"[strategy]\nentry = close close\n",
     "s.ini:2:15: error: expected an operator before 'close'"},
    {"[strategy]\nentry = close[1 > 0\n",
     "s.ini:2:14: error: missing ']' to close this '['"},
    {"[strategy]\nentry = close@ > 1\n",
     "s.ini:2:14: error: expected a timeframe after '@' (as in close@4h)"},
    {"[strategy]\nentry = macd(close). > 1\n",
     "s.ini:2:22: error: expected an output name after '.', found '>'"},
    {"[strategy]\nentry = ema(close 10) > 1\n",
     "s.ini:2:19: error: expected ',' or ')' in the arguments of 'ema', found '10'"},
    {"[strategy]\nentry = true\n",
     "s.ini:2:9: error: 'true' is not a value in this language; write a condition"},
    {"[strategy]\nentry = crossover(close,\n    rsx(close, 3))\n",
     "s.ini:3:5: error: unknown function 'rsx'; did you mean 'rsi'?"},
    {"[strateg]\nentry = close > 1\n",
     "s.ini:1:1: error: unknown section [strateg]; did you mean [strategy]?"},
    {"[strategy]\nentyr = close > 1\n",
     "s.ini:2:1: error: unknown key 'entyr' in [strategy]; did you mean 'entry'?"},
    {"[strategy]\nentry = close > 1\nentry = close > 2\n",
     "s.ini:3:1: error: key 'entry' is set twice in [strategy] (first on line 2)"},
    {"[strategy]\nname = x\n",
     "s.ini:1:1: error: [strategy] has no 'entry' rule (or 'plugin')"},
    {"name = x\n[strategy]\nentry = close > 1\n",
     "s.ini:1:1: error: key 'name' is outside any section; start the file with [strategy]"},
    {"[params]\nfast = 1\n",
     "s.ini:1: error: the file has no [strategy] section (it needs at least an entry rule)"},
    {"[strategy]\nentry = close > 1\nstoploss = five\n",
     "s.ini:3:12: error: stoploss: expected a percentage such as 5% or a fraction such as 0.05, got 'five'"},
    {"[strategy]\nentry = close > 1\nstoploss = 150%\n",
     "s.ini:3:12: error: stoploss: 150% must be above 0% and at most 100%"},
    {"[strategy]\nentry = close > fast\n[params]\nfast = abc\n",
     "s.ini:4:8: error: parameter 'fast': expected a number, got 'abc'"},
    {"[strategy]\nentry = close > fast\n[params]\nfast = 3 [1..10 stp 1]\n",
     "s.ini:4:10: error: parameter 'fast': the range's maximum is not a number: '10 stp 1'"},
    {"[strategy]\nentry = close > fast\n[params]\nfast = 30 [1..10]\n",
     "s.ini:4:8: error: parameter 'fast': the value 30 is outside its range [1..10]"},
    {"[strategy]\nentry = close > fast\n[params]\nfast = 3\nfast = 4\n",
     "s.ini:5:1: error: parameter 'fast' is defined twice (first on line 4)"},
    {"[strategy]\nentry = close > 1\n[params]\nclose = 3\n",
     "s.ini:4:1: error: parameter name 'close' is reserved (a series, function or keyword of the language)"},
    {"[strategy]\ntimeframe = 7x\nentry = close > 1\n",
     "s.ini:2:13: error: timeframe: '7x' is not a timeframe (such as 1m, 15m, 1h, 4h, 1d)"},
    {"[strategy]\nname = a\n  b\nentry = close > 1\n",
     "s.ini:3:3: error: indented line continues 'name', but only entry and exit may span several lines"},
    {"[strategy]\nentry = close > 1\nthis line is wrong\n",
     "s.ini:3:1: error: expected 'key = value', a [section] or a ';' comment"},
    {"[strategy]\nplugin = x.so\nentry = close > 1\n",
     "s.ini:3:1: error: a plug-in strategy (plugin = x.so) cannot also have entry/exit rules"},
    {"[strategy]\nentry = close > 1\ntrailing_offset = 1%\n",
     "s.ini:3:1: error: trailing_offset is set but trailing_stop is not"},
    {"[strategy]\nentry = close > 1\ntake_profit = -3%\n",
     "s.ini:3:15: error: take_profit: -3% must be above 0%"},
    {"[strategy]\nentry = close > fast\n[params]\nfast = 3 [10..1]\n",
     "s.ini:4:10: error: parameter 'fast': the range's minimum 10 is above its maximum 1"},
    {"[strategy]\nentry = close > 1\n[params]\n2x = 3\n",
     "s.ini:4:1: error: parameter name '2x' is not a name (letters, digits and '_', not starting with a digit)"},
    {"[strategy]\nentry = close > 1\nexit = profit_pct\n",
     "s.ini:3:8: error: exit must be a condition (true or false), but this is a number"},
    {"[strategy]\nentry = crossover(close, open > 1)\n",
     "s.ini:2:26: error: the second argument must be a number, but this is a condition"},
    {"[strategy]\nentry = -(close > 1)\n",
     "s.ini:2:11: error: the operand of '-' must be a number, but this is a condition"},
    {"[strategy]\nentry = close[3 > 1] > 1\n",
     "s.ini:2:15: error: the offset in [...] must be a number, but this is a condition"},
    {"[strategy]\nentry = change(close, 1, 2) > 1\n",
     "s.ini:2:9: error: 'change' takes 2 arguments: change(x, n)"},
    {"[strategy]\nentry = ema(close, 2.5) > 1\n",
     "s.ini:2:20: error: ema option 1 'period': expected a whole number from 2 to 100000, got 2.5"},
    {"[strategy]\nentry = rsi(14) < 30\n",
     "s.ini:2:13: error: 'rsi' needs a series as its first argument, but 14 is a constant; did you mean rsi(close, 14)?"},
    {"[strategy]\nentry = rsi(14, 14) < 30\n",
     "s.ini:2:13: error: 'rsi' needs a series as its first argument, but 14 is a constant; did you mean rsi(close, 14)?"},
    {"[strategy]\nentry = rsi(n) < 30\n[params]\nn = 14\n",
     "s.ini:2:13: error: 'rsi' needs a series as its first argument, but n is a constant; did you mean rsi(close, n)?"},
    {"[strategy]\nentry = bbands(20,   2).upper > close\n",
     "s.ini:2:16: error: 'bbands' needs a series as its first argument, but 20 is a constant; did you mean bbands(close, 20, 2)?"},
    {"[strategy]\nentry = sma(2 * 3, 10) > close\n",
     "s.ini:2:13: error: 'sma' needs a series as its first argument, but 2 * 3 is a constant; did you mean sma(close, 10)?"},
    {"[strategy]\nentry = correl(close, 30) > 0\n",
     "s.ini:2:23: error: 'correl' needs two series, but 30 is a constant: correl(series, series, period)"},
    {"[strategy]\nentry = highest(20, 5) > close\n",
     "s.ini:2:17: error: 'highest' needs a series as its first argument, but 20 is a constant; did you mean highest(close, 5)?"},
    {"[strategy]\nentry = close < lowest(3, 2)\n",
     "s.ini:2:24: error: 'lowest' needs a series as its first argument, but 3 is a constant; did you mean lowest(close, 2)?"},
    {"[strategy]\nentry = change(5) > 0\n",
     "s.ini:2:16: error: 'change' needs a series as its first argument, but 5 is a constant; did you mean change(close, 5)?"},
    {"[strategy]\nentry = crossover(30, 70)\n",
     "s.ini:2:19: error: 'crossover' of two constants never fires: one side must be a series, as in crossover(close, sma(close, 20))"},
    {"[strategy]\nentry = log(-1) < close\n",
     "s.ini:2:9: error: log(-1) is not a number: the logarithm needs a number above 0"},
    {"[strategy]\nentry = log(0) < close\n",
     "s.ini:2:9: error: log(0) is minus infinity: the logarithm needs a number above 0"},
    {"[strategy]\nentry = sqrt(-4) > close\n",
     "s.ini:2:9: error: sqrt(-4) is not a number: the square root needs a number of 0 or more"},
    {"[strategy]\nentry = close / 0 > 1\n",
     "s.ini:2:17: error: division by zero: this divisor is the constant 0"},
    {"[strategy]\nentry = close > 1 / (fast - 3)\n[params]\nfast = 3\n",
     "s.ini:2:22: error: division by zero: this divisor is the constant 0"},
    {"[strategy]\nentry = close > 1e300 * 1e300\n",
     "s.ini:2:17: error: this constant expression is infinite (beyond the range of a double)"},
    {"[strategy]\nentry = close > -1e300 * 1e300 + 0\n",
     "s.ini:2:17: error: this constant expression is minus infinity (beyond the range of a double)"},
    {"[strategy]\nentry = ema(close, 10) > sma(close, log(0 - 2))\n",
     "s.ini:2:37: error: log(-2) is not a number: the logarithm needs a number above 0"},
    {"[strategy]\nentry = close > 1\n[backtest]\nfee = 1%\nfee = 0%\n",
     "s.ini:5:1: error: key 'fee' is set twice in [backtest] (first on line 4)"},
    {"[strategy]\nentry = close > 1\n[backtest]\nfee = 1%\n[backtest]\nstake = 5%\n",
     "s.ini:5:1: error: section [backtest] appears twice (first on line 3)"},
    {"[strategy]\nentry = close > 1\n[backtest]\nfee = 1%\n[bot]\nmode = paper\n[backtest]\nfee = 0%\n",
     "s.ini:7:1: error: section [backtest] appears twice (first on line 3)"},
    {"[strategy]\nentry = close > 1\n[bot]\nmode = paper\n  name = x\nmode = live\n",
     "s.ini:5:3: error: indented line continues 'mode', but only entry and exit may span several lines"},
    {"[strategy]\nentry = close > 1\n[bot]\nmode = paper\npairs = BTC/USDT\nmode = live\n",
     "s.ini:6:1: error: key 'mode' is set twice in [bot] (first on line 4)"},
    {"[strategy]\nentry = close > 1\n[pairs]\nBTC/USDT = tick=0.01\nBTC/USDT = tick=1\n",
     "s.ini:5:1: error: key 'BTC/USDT' is set twice in [pairs] (first on line 4)"},
    {"[strategy]\nentry = close > 1\n[risk]\nmax_daily_loss = 5%\n max_drawdown = 9%\nmax_daily_loss = 50%\n",
     "s.ini:5:2: error: indented line continues 'max_daily_loss', but only entry and exit may span several lines"},
    {"[strategy]\nentry = close > 1\n[risk]\nmax_daily_loss = 5%\nmax_daily_loss = 50%\n",
     "s.ini:5:1: error: key 'max_daily_loss' is set twice in [risk] (first on line 4)"},
    {"[strategy]\nentry = close > 1\n[exchange]\nname = binance\nname = binance\n",
     "s.ini:5:1: error: key 'name' is set twice in [exchange] (first on line 4)"},
    {"[strategy]\nentry = close > x\n[params]\nx = 1\n[params]\ny = 2\n",
     "s.ini:5:1: error: section [params] appears twice (first on line 3)"},
    {"[strategy]\nentry = close > 1\n[strategy]\nexit = close < 1\n",
     "s.ini:3:1: error: section [strategy] appears twice (first on line 1)"},
    {"[strategy]\nentry = close > close@4h\n",
     "s.ini:2:22: error: '@4h' needs the strategy's own timeframe: set [strategy] timeframe (the length of its bars, such as timeframe = 1h)"},
    {"[strategy]\nentry = atr(14)@1d > 0\n",
     "s.ini:2:16: error: '@1d' needs the strategy's own timeframe: set [strategy] timeframe (the length of its bars, such as timeframe = 1h)"},
};

static cb_rules_file_t *parse(const char *text, cb_diags_t *d, int *rc)
{
    cb_rules_file_t *f = NULL;
    *rc = cb_rules_file_parse("s.ini", text, strlen(text), NULL, &f, d);
    return f;
}

static void test_catalogue(void **state)
{
    (void)state;
    size_t n = sizeof catalogue / sizeof catalogue[0];
    assert_true(n >= 40);
    for (size_t i = 0; i < n; i++) {
        cb_diags_t d = {0};
        int rc;
        cb_rules_file_t *f = parse(catalogue[i].text, &d, &rc);
        char got[1200] = "(no error)";
        for (size_t k = 0; k < d.n; k++)
            if (d.items[k].code != 0) {
                cb_diag_format(&d.items[k], got, sizeof got);
                break;
            }
        if (strcmp(got, catalogue[i].expect) != 0)
            print_message("case %zu: %s\n  expected: %s\n  got:      %s\n", i, catalogue[i].text,
                          catalogue[i].expect, got);
        assert_string_equal(got, catalogue[i].expect);
        assert_true(rc == CB_EVALID || rc == CB_EPARSE);
        assert_non_null(f); /* kept for rendering */
        cb_rules_file_free(f);
        cb_diags_free(&d);
    }
}

static void test_render_caret(void **state)
{
    (void)state;
    const char *text = "[strategy]\nname = x\n\nentry = crossover(ema(close, 12), rsx(close, 14))\n";
    cb_diags_t d = {0};
    int rc;
    cb_rules_file_t *f = parse(text, &d, &rc);
    assert_int_equal(rc, CB_EVALID);
    assert_true(d.n >= 1);
    char buf[2000];
    cb_rules_render_diag(f, &d.items[0], buf, sizeof buf);
    assert_string_equal(buf,
                        "s.ini:4:35: error: unknown function 'rsx'; did you mean 'rsi'?\n"
                        "    entry = crossover(ema(close, 12), rsx(close, 14))\n"
                        "                                      ^~~\n");
    cb_rules_file_free(f);
    cb_diags_free(&d);
}

static const char *good =
    "; an example\n"
    "[strategy]\n"
    "name = ema-cross-rsi\n"
    "timeframe = 1h\n"
    "entry = crossover(ema(close, fast), ema(close, slow)) and rsi(close, 14) < rsi_max\n"
    "exit = crossunder(ema(close, fast),\n"
    "    ema(close, slow)) or profit_pct > 0.2\n"
    "stoploss = 5%          ; below the entry price\n"
    "take_profit = 0.12\n"
    "trailing_stop = 3%\n"
    "trailing_offset = 1%\n"
    "\n"
    "[params]\n"
    "fast = 12              ; fast = 12 [5..30 step 1]\n"
    "slow = 26 [20..100 step 5]\n"
    "rsi_max = 70 [50..90]\n"
    "spare = 1.5%\n"
    "\n"
    "[backtest]\n"
    "data = binance:BTC/USDT:1h\n"
    "stake = 10%  ; of equity\n"
    "fee = 0.1%\n"
    "[risk]\n"
    "max_daily_loss = 3%\n";

static void test_good_file(void **state)
{
    (void)state;
    cb_diags_t d = {0};
    int rc;
    cb_rules_file_t *f = parse(good, &d, &rc);
    assert_int_equal(rc, 0);
    /* one warning: spare is unused */
    assert_int_equal(d.n, 1);
    char buf[600];
    cb_diag_format(&d.items[0], buf, sizeof buf);
    assert_string_equal(buf, "s.ini:17:1: warning: parameter 'spare' is defined but not used");
    assert_int_equal(d.items[0].code, 0);
    assert_string_equal(cb_rules_file_name(f), "ema-cross-rsi");
    assert_string_equal(cb_rules_file_timeframe(f), "1h");
    assert_null(cb_rules_file_plugin(f));
    cb_rules_exits_t ex;
    cb_rules_file_exits(f, &ex);
    assert_close(ex.stoploss, 0.05, 1e-12, 0);
    assert_close(ex.take_profit, 0.12, 1e-12, 0);
    assert_close(ex.trailing_stop, 0.03, 1e-12, 0);
    assert_close(ex.trailing_offset, 0.01, 1e-12, 0);
    assert_int_equal(cb_rules_file_n_params(f), 4);
    const cb_rules_param_t *p = cb_rules_file_param(f, 1);
    assert_string_equal(p->name, "slow");
    assert_true(p->has_range);
    assert_close(p->value, 26, 0, 0);
    assert_close(p->min, 20, 0, 0);
    assert_close(p->max, 100, 0, 0);
    assert_close(p->step, 5, 0, 0);
    assert_int_equal(p->line, 15);
    assert_true(p->used);
    p = cb_rules_file_param(f, 0);
    assert_false(p->has_range);
    p = cb_rules_file_param(f, 2);
    assert_true(p->has_range);
    assert_close(p->step, 0, 0, 0);
    p = cb_rules_file_param(f, 3);
    assert_close(p->value, 0.015, 1e-12, 0);
    assert_false(p->used);
    assert_int_equal(cb_rules_file_param_index(f, "rsi_max"), 2);
    assert_int_equal(cb_rules_file_param_index(f, "nope"), -1);
    const cb_rules_section_t *bt = cb_rules_file_section(f, "backtest");
    assert_non_null(bt);
    assert_int_equal(bt->line, 19);
    assert_int_equal(bt->n, 3);
    assert_string_equal(bt->items[1].key, "stake");
    assert_string_equal(bt->items[1].value, "10%");
    assert_int_equal(bt->items[1].line, 21);
    assert_int_equal(bt->items[1].column, 9);
    const cb_rules_section_t *risk = cb_rules_file_section(f, "risk");
    assert_non_null(risk);
    assert_string_equal(risk->items[0].key, "max_daily_loss");
    assert_null(cb_rules_file_section(f, "bot"));
    assert_string_equal(cb_rules_file_exit(f),
                        "crossunder(ema(close, fast),\nema(close, slow)) or profit_pct > 0.2");
    /* --set without re-parsing */
    double v[4];
    cb_rules_params_default(f, v);
    assert_close(v[0], 12, 0, 0);
    cb_diag_t e;
    assert_int_equal(cb_rules_params_set(f, v, "fast=10", &e), 0);
    assert_close(v[0], 10, 0, 0);
    assert_int_equal(cb_rules_params_set(f, v, "rsi_max = 65%", &e), 0);
    assert_close(v[2], 0.65, 1e-12, 0);
    assert_int_equal(cb_rules_params_set(f, v, "fsat=10", &e), CB_ENOENT);
    assert_string_equal(e.msg, "unknown parameter 'fsat'; did you mean 'fast'?");
    assert_int_equal(cb_rules_params_set(f, v, "fast=ten", &e), CB_EINVAL);
    assert_string_equal(e.msg, "parameter 'fast': expected a number, got 'ten'");
    assert_int_equal(cb_rules_params_set(f, v, "fast", &e), CB_EINVAL);
    cb_rules_file_free(f);
    cb_diags_free(&d);
}

/* An error on a continuation line points at that line. */
static void test_multiline_positions(void **state)
{
    (void)state;
    const char *text = "[strategy]\nentry = close > open and\n\tclose[2] > ema(close, 0)\n";
    cb_diags_t d = {0};
    int rc;
    cb_rules_file_t *f = parse(text, &d, &rc);
    assert_int_equal(rc, CB_EVALID);
    char buf[1000];
    cb_rules_render_diag(f, &d.items[0], buf, sizeof buf);
    assert_string_equal(buf, "s.ini:3:24: error: ema option 1 'period': expected a whole number "
                             "from 2 to 100000, got 0\n"
                             "    \tclose[2] > ema(close, 0)\n"
                             "    \t                      ^\n");
    cb_rules_file_free(f);
    cb_diags_free(&d);
}

static void test_several_errors_and_plugin(void **state)
{
    (void)state;
    /* errors in different keys are all reported */
    const char *text = "[strategy]\nentry = close > 1\nstoploss = x\nfoo = 1\n[bad]\n";
    cb_diags_t d = {0};
    int rc;
    cb_rules_file_t *f = parse(text, &d, &rc);
    assert_int_equal(rc, CB_EVALID);
    assert_int_equal(d.n, 3);
    cb_rules_file_free(f);
    cb_diags_free(&d);
    /* a plug-in needs no entry, and its parameters are not "unused" */
    text = "[strategy]\nplugin = lib/x.so\n[params]\nfast = 3\n";
    cb_rules_file_t *g = NULL;
    rc = cb_rules_file_parse("dir/s.ini", text, strlen(text), "dir", &g, &d);
    assert_int_equal(rc, 0);
    assert_int_equal(d.n, 0);
    assert_string_equal(cb_rules_file_plugin(g), "dir/lib/x.so");
    cb_rules_program_t *p = NULL;
    assert_int_equal(cb_rules_compile(g, NULL, &p, &d), CB_EUNSUPPORTED);
    cb_rules_strategy_t *s = NULL;
    assert_int_equal(cb_rules_strategy_new(g, NULL, &s, &d), CB_ENOENT);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.items[0].line, 2);
    assert_int_equal(d.items[0].column, 10);
    assert_non_null(strstr(d.items[0].msg, "dir/lib/x.so: cannot load the plug-in"));
    cb_rules_file_free(g);
    cb_diags_free(&d);
}


/* BOM, CRLF line ends, '#' comments, "key: value"; over-long lines and NUL bytes are errors. */
static void test_ini_edges(void **state)
{
    (void)state;
    const char *text = "\xEF\xBB\xBF# comment\r\n[strategy]\r\nentry: close > x\r\n"
                       "exit = close < 1 ; why\r\n[params]\r\nx = 2\r\n";
    cb_diags_t d = {0};
    int rc;
    cb_rules_file_t *f = parse(text, &d, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(d.n, 0);
    assert_string_equal(cb_rules_file_entry(f), "close > x");
    assert_string_equal(cb_rules_file_exit(f), "close < 1");
    cb_rules_file_free(f);
    /* an error on line 1 after a BOM has the column of the text, not of the bytes */
    text = "\xEF\xBB\xBF[strateg]\nentry = close > 1\n";
    f = parse(text, &d, &rc);
    char buf[600];
    cb_diag_format(&d.items[0], buf, sizeof buf);
    assert_string_equal(buf, "s.ini:1:1: error: unknown section [strateg]; did you mean [strategy]?");
    cb_rules_file_free(f);
    cb_diags_free(&d);
    char big[400];
    memset(big, 'x', sizeof big);
    memcpy(big, "[strategy]\nentry = ", 19);
    big[sizeof big - 2] = '\n';
    big[sizeof big - 1] = '\0';
    f = parse(big, &d, &rc);
    assert_int_equal(rc, CB_EVALID);
    cb_diag_format(&d.items[0], buf, sizeof buf);
    assert_string_equal(buf, "s.ini:2:198: error: line too long (387 characters, at most 197); "
                             "continue a long rule on indented lines");
    cb_rules_file_free(f);
    cb_diags_free(&d);
    static const char nul[] = "[strategy]\nentry = close\0 > 1\n";
    f = NULL;
    rc = cb_rules_file_parse("s.ini", nul, sizeof nul - 1, NULL, &f, &d);
    assert_int_equal(rc, CB_EVALID);
    cb_diag_format(&d.items[0], buf, sizeof buf);
    assert_string_equal(buf, "s.ini:2: error: the line contains a NUL byte");
    cb_rules_file_free(f);
    cb_diags_free(&d);
}

/* A rule of `n` copies of `unit` between `head` and `tail`, spread over indented continuation
 * lines (never starting a line with '[', which would open a section). Caller frees. */
static char *long_rule(const char *head, const char *unit, size_t n, const char *tail)
{
    size_t ul = strlen(unit), cap = 64 + strlen(head) + strlen(tail) + n * (ul + 4);
    char *body = malloc(cap), *out = malloc(cap * 2);
    assert_non_null(body);
    assert_non_null(out);
    size_t w = (size_t)snprintf(body, cap, "%s", head);
    for (size_t i = 0; i < n; i++)
        w += (size_t)snprintf(body + w, cap - w, "%s", unit);
    snprintf(body + w, cap - w, "%s", tail);
    size_t o = (size_t)snprintf(out, cap * 2, "[strategy]\nentry = ");
    size_t col = 0;
    for (const char *c = body; *c; c++) {
        int inside = c > body && (isalnum((unsigned char)c[-1]) || c[-1] == '_') &&
                     (isalnum((unsigned char)*c) || *c == '_');
        if (col >= 120 && !inside && *c != '[' && *c != ';' && *c != '#') {
            o += (size_t)snprintf(out + o, cap * 2 - o, "\n  ");
            col = 0;
        }
        out[o++] = *c;
        col++;
    }
    snprintf(out + o, cap * 2 - o, "\n");
    free(body);
    return out;
}

/* Deep expressions: chains of offsets, unary minus, not, parentheses, and/or and + chains,
 * nested calls. Beyond the limit each is an error with a position (it crashed the compiler
 * with a stack overflow before, at about 4,000 levels); within it, each compiles. */
static void test_deep_expressions(void **state)
{
    (void)state;
    static const struct {
        const char *head, *unit, *tail;
    } shapes[] = {
        {"close", "[1]", " > 0"},            {"close > ", "-", "1"},
        {"", "not ", "close > 1"},           {"", "(", "close > 1"},
        {"close > 0", " and close > 1", ""}, {"close > 0", " or close > 1", ""},
        {"close", " + 1", " > 0"},           {"close", " * 2", " > 0"},
        {"", "abs(", "close"},               {"close > 0", " - close[1]", ""},
    };
    static const size_t sizes[] = {200, 257, 300, 4000, 20000};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
            size_t n = sizes[z];
            /* close the parentheses of "(" and "abs(" */
            int parens = shapes[s].unit[strlen(shapes[s].unit) - 1] == '(';
            char *tail = malloc(n + 64);
            assert_non_null(tail);
            snprintf(tail, n + 64, "%s", shapes[s].tail);
            if (parens) {
                size_t tl = strlen(tail);
                memset(tail + tl, ')', n);
                tail[tl + n] = '\0';
                if (!strcmp(shapes[s].unit, "abs("))
                    strcat(tail, " > 0");
            }
            char *text = long_rule(shapes[s].head, shapes[s].unit, n, tail);
            cb_diags_t d = {0};
            int rc;
            cb_rules_file_t *f = parse(text, &d, &rc);
            if (n <= 200) {
                if (rc != 0)
                    print_message("shape %zu x%zu: %s\n", s, n, d.n ? d.items[0].msg : "?");
                assert_int_equal(rc, 0);
            } else {
                if (d.n == 0 || !strstr(d.items[0].msg, "nested too deeply"))
                    print_message("shape %zu x%zu: %s\n", s, n, d.n ? d.items[0].msg : "?");
                assert_true(rc == CB_EVALID || rc == CB_EPARSE);
                assert_true(d.n >= 1);
                assert_true(d.items[0].line >= 2);
                assert_true(d.items[0].column >= 1);
                assert_non_null(strstr(d.items[0].msg, "expression nested too deeply (more than "
                                                       "256 levels"));
            }
            cb_rules_file_free(f);
            cb_diags_free(&d);
            free(text);
            free(tail);
        }
    }
}

/* Every indicator of the table that reads a series refuses a constant there (`rsi(14)` was
 * the RSI of the flat line 14), with the suggestion on close for the one-series ones; the
 * same call on close compiles. */
static void test_indicator_of_constant(void **state)
{
    (void)state;
    size_t checked = 0;
    for (size_t i = 0; i < cb_ta_count(); i++) {
        const cb_ta_info_t *info = cb_ta_at(i);
        int n_series = 0;
        for (int k = 0; k < info->n_inputs; k++)
            n_series += strncmp(info->inputs[k], "real", 4) == 0;
        /* the language's own functions take these names first (checked in the catalogue) */
        static const char *const own[] = {"crossover", "crossunder", "highest", "lowest",
                                          "change", "abs", "min", "max", "sqrt", "log"};
        int shadowed = 0;
        for (size_t k = 0; k < sizeof own / sizeof own[0]; k++)
            shadowed |= strcmp(info->name, own[k]) == 0;
        if (n_series == 0 || n_series > 2 || shadowed)
            continue;
        char pick[40] = "";
        if (info->n_outputs > 1)
            snprintf(pick, sizeof pick, ".%s", info->outputs[0]);
        char text[256], want[512];
        snprintf(text, sizeof text, "[strategy]\nentry = %s(%s7)%s > 0\n", info->name,
                 n_series == 2 ? "close, " : "", pick);
        cb_diags_t d = {0};
        int rc;
        cb_rules_file_t *f = parse(text, &d, &rc);
        assert_true(rc == CB_EVALID);
        assert_true(d.n >= 1);
        char got[1200];
        cb_diag_format(&d.items[0], got, sizeof got);
        size_t col = 10 + strlen(info->name) + (n_series == 2 ? 7 : 0);
        if (n_series == 1)
            snprintf(want, sizeof want, "s.ini:2:%zu: error: '%s' needs a series as its first "
                     "argument, but 7 is a constant; did you mean %s(close, 7)?", col,
                     info->name, info->name);
        else
            snprintf(want, sizeof want, "s.ini:2:%zu: error: '%s' needs two series, but 7 is a "
                     "constant: ", col, info->name);
        if (strncmp(got, want, strlen(want)) != 0)
            print_message("%s\n  expected: %s\n  got:      %s\n", text, want, got);
        assert_true(strncmp(got, want, strlen(want)) == 0);
        cb_rules_file_free(f);
        cb_diags_free(&d);
        /* on a series it compiles */
        snprintf(text, sizeof text, "[strategy]\nentry = %s(close%s)%s > 0\n", info->name,
                 n_series == 2 ? ", open" : "", pick);
        f = parse(text, &d, &rc);
        if (rc != 0)
            print_message("%s: %s\n", text, d.n ? d.items[0].msg : "?");
        assert_int_equal(rc, 0);
        cb_rules_file_free(f);
        cb_diags_free(&d);
        checked++;
    }
    print_message("%zu indicators over a series checked\n", checked);
    assert_true(checked >= 20);
}

static void test_load_missing_file(void **state)
{
    (void)state;
    cb_diags_t d = {0};
    cb_rules_file_t *f = NULL;
    assert_int_equal(cb_rules_file_load("/nonexistent/x.ini", &f, &d), CB_ENOENT);
    assert_null(f);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.items[0].msg,
                        "cannot open the strategy file: No such file or directory");
    cb_diags_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalogue),
        cmocka_unit_test(test_render_caret),
        cmocka_unit_test(test_good_file),
        cmocka_unit_test(test_multiline_positions),
        cmocka_unit_test(test_several_errors_and_plugin),
        cmocka_unit_test(test_ini_edges),
        cmocka_unit_test(test_load_missing_file),
        cmocka_unit_test(test_deep_expressions),
        cmocka_unit_test(test_indicator_of_constant),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
