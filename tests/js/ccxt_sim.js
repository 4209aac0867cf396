// Drives the exchange simulator with ccxt (Binance's most used third-party client): load
// markets, fetch candles and the balance, place, query and cancel orders; a market buy sized
// in USDT (quoteOrderQty), an IOC limit, an OCO placed and cancelled. Run by
// tests/cli/ccxt.sh with SIM_URL, SIM_KEY, SIM_SECRET and CCXT_DIR set.
'use strict';
const path = require('path');
const { createRequire } = require('module');
const ccxt = createRequire(path.join(process.env.CCXT_DIR, 'package.json'))('ccxt');

function check(cond, what) {
  if (!cond) {
    console.error('FAIL: ' + what);
    process.exit(1);
  }
}

async function main() {
  const url = process.env.SIM_URL;
  const ex = new ccxt.binance({
    apiKey: process.env.SIM_KEY,
    secret: process.env.SIM_SECRET,
    enableRateLimit: false,
    timeout: 10000,
    options: {
      defaultType: 'spot',
      fetchMarkets: ['spot'],
      fetchCurrencies: false,
      fetchMargins: false, // no margin: the simulator is spot only
      adjustForTimeDifference: true, // the simulator's clock is the replayed market's
      recvWindow: 5000,
    },
  });
  // Every Binance REST base URL (api.binance.com/api/v3, /api/v1, ...) goes to the simulator.
  for (const [k, v] of Object.entries(ex.urls.api)) {
    if (typeof v === 'string' && v.startsWith('https://api.binance.com')) {
      ex.urls.api[k] = v.replace('https://api.binance.com', url);
    }
  }
  await ex.loadTimeDifference();
  const markets = await ex.loadMarkets();
  check(markets['BTC/USDT'] !== undefined, 'BTC/USDT in the markets');
  const m = markets['BTC/USDT'];
  check(m.spot && m.active, 'BTC/USDT is an active spot market');
  console.log('markets', Object.keys(markets).length, 'precision', JSON.stringify(m.precision));

  const since = Date.UTC(2024, 0, 1);
  const candles = await ex.fetchOHLCV('BTC/USDT', '1h', since, 10);
  check(candles.length === 10, 'ten candles, got ' + candles.length);
  check(candles[0][0] === since, 'first candle at the start');
  check(candles[0][1] === 42000, 'first open 42000, got ' + candles[0][1]);
  console.log('candles', candles.length, candles[0]);

  const bal = await ex.fetchBalance();
  check(bal.free.USDT === 10000, 'free USDT 10000, got ' + bal.free.USDT);

  const limit = await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.001, 30000);
  check(limit.status === 'open', 'the limit buy rests, got ' + limit.status);
  const q = await ex.fetchOrder(limit.id, 'BTC/USDT');
  check(q.status === 'open' && q.price === 30000 && q.amount === 0.001, 'query the order');
  const open = await ex.fetchOpenOrders('BTC/USDT');
  check(open.length === 1 && open[0].id === limit.id, 'one open order');
  const c = await ex.cancelOrder(limit.id, 'BTC/USDT');
  check(c.status === 'canceled', 'cancelled, got ' + c.status);

  const mkt = await ex.createOrder('BTC/USDT', 'market', 'buy', 0.002);
  check(mkt.status === 'closed' && mkt.filled === 0.002, 'market buy filled');
  const trades = await ex.fetchMyTrades('BTC/USDT');
  check(trades.length === 1 && trades[0].amount === 0.002, 'one trade');
  const bal2 = await ex.fetchBalance();
  check(bal2.free.BTC > 0.0019 && bal2.free.BTC < 0.002, 'BTC bought, fee taken: ' + bal2.free.BTC);

  // A market buy sized in USDT: ccxt sends Binance's quoteOrderQty.
  const cost = await ex.createMarketBuyOrderWithCost('BTC/USDT', 100);
  check(cost.status === 'closed' && cost.cost > 99 && cost.cost <= 100,
        'market buy for 100 USDT, got ' + cost.status + ' cost ' + cost.cost);
  // An IOC limit below the market cannot fill now: it expires.
  const ioc = await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.001, 30000, { timeInForce: 'IOC' });
  check(ioc.status === 'expired' && ioc.filled === 0, 'IOC expired, got ' + ioc.status);
  // An OCO through ccxt's raw endpoint for POST /api/v3/orderList/oco, then cancelled.
  check(typeof ex.privatePostOrderListOco === 'function', 'ccxt knows orderList/oco');
  const oco = await ex.privatePostOrderListOco({
    symbol: 'BTCUSDT', side: 'SELL', quantity: '0.001', listClientOrderId: 'ccxt-oco-1',
    aboveType: 'LIMIT_MAKER', abovePrice: '60000', belowType: 'STOP_LOSS',
    belowStopPrice: '30000',
  });
  check(oco.listClientOrderId === 'ccxt-oco-1' && oco.orders.length === 2,
        'OCO placed: ' + JSON.stringify(oco).slice(0, 200));
  const gone = await ex.privateDeleteOrderList({ symbol: 'BTCUSDT', listClientOrderId: 'ccxt-oco-1' });
  check(gone.listOrderStatus === 'ALL_DONE', 'OCO cancelled');

  let refused = false;
  try {
    await ex.createOrder('BTC/USDT', 'market', 'buy', 100);
  } catch (e) {
    refused = e instanceof ccxt.InsufficientFunds;
    console.log('refused:', e.constructor.name, e.message.slice(0, 120));
  }
  check(refused, 'insufficient funds is ccxt.InsufficientFunds');
  console.log('ccxt ok');
}

main().catch((e) => {
  console.error('FAIL:', e.constructor.name, e.message);
  process.exit(1);
});
