// Generates TA-Lib reference values for the indicators the shared TA-Lib series lacks (trange,
// plus_di, minus_di, adxr, stochrsi) by running TA-Lib's own C code compiled to WebAssembly
// (npm package talib-web, see ../shared/data/README.md section 6):
//   npm install talib-web && node scripts/talib_web_more.cjs OHLCV.csv OUT.csv
// Columns are named as `comeback ta` names them; a cell is empty before TA-Lib's lookback.
// tests/fixtures/ta/talib_more_btcusdt_1h_600.csv is the first 600 rows of its output on
// ../shared/data/ohlcv/binance_spot_BTCUSDT_1h_2017-08-17_2022-10-11.csv (over all 45,024
// bars ours agreed exactly, relative error 0, when this was run).
globalThis.fetch = undefined;
const fs = require('fs');
const talib = require('talib-web');
(async () => {
  await talib.init(__dirname + '/node_modules/talib-web/lib/talib.wasm');
  const [path, out] = process.argv.slice(2);
  const lines = fs.readFileSync(path, 'utf8').trim().split('\n');
  const hdr = lines[0].split(',');
  const col = n => hdr.indexOf(n);
  const rows = lines.slice(1).map(l => l.split(','));
  const g = n => rows.map(r => parseFloat(r[col(n)]));
  const t = rows.map(r => r[0]);
  const high = g('high'), low = g('low'), close = g('close');
  const n = close.length;
  const res = {};
  const align = (arr, lb) => { const a = new Array(n).fill(''); for (let i = 0; i + lb < n; i++) a[lb + i] = arr[i].toPrecision(17); return a; };
  res['trange'] = align(talib.TRANGE({high, low, close}).output, 1);
  res['plus_di:14'] = align(talib.PLUS_DI({high, low, close, timePeriod: 14}).output, 14);
  res['minus_di:14'] = align(talib.MINUS_DI({high, low, close, timePeriod: 14}).output, 14);
  res['adxr:14'] = align(talib.ADXR({high, low, close, timePeriod: 14}).output, 40);
  const s = talib.STOCHRSI({inReal: close, timePeriod: 14, fastK_Period: 5, fastD_Period: 3});
  res['stochrsi:14:5:3.fastk'] = align(s.fastK, 20);
  res['stochrsi:14:5:3.fastd'] = align(s.fastD, 20);
  const keys = Object.keys(res);
  let o = 'time_ms,' + keys.join(',') + '\n';
  for (let i = 0; i < n; i++) o += t[i] + ',' + keys.map(k => res[k][i]).join(',') + '\n';
  fs.writeFileSync(out, o);
})();
