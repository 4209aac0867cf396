# Compares the simulator's record (state.json) with the robot's journal (SQLite): the same
# orders with the same status and executed quantity, no client order id twice, every fill
# once with the same amounts, and the journal's position in each pair's base asset equal to
# its balance (BTC always). Usage: robot_kill_compare.py STATE.json JOURNAL [--quote=USDT=START]
# also checks the quote asset's balance: START, less what the buys cost, plus what the sells
# brought, less the fees paid in it.
import json, sqlite3, sys
from decimal import Decimal as D
st = json.load(open(sys.argv[1]))
db = sqlite3.connect(sys.argv[2])
errors = []
sim_orders = {}
for o in st["orders"]:
    c = o["client_order_id"]
    if c in sim_orders:
        errors.append("client order id %s used twice at the exchange" % c)
    sim_orders[c] = o
rows = db.execute("SELECT client_order_id, status, quantity, executed_quantity, qty_scale"
                  " FROM orders").fetchall()
jr = {r[0]: r for r in rows}
if len(jr) != len(rows):
    errors.append("client order id used twice in the journal")
for c, o in sim_orders.items():
    if c not in jr:
        errors.append("exchange order %s (%s) is not in the journal" % (c, o["status"]))
        continue
    _, status, q, x, qs = jr[c]
    if status != o["status"].lower():
        errors.append("%s: exchange %s, journal %s" % (c, o["status"], status))
    if D(x).scaleb(-qs) != D(o["executed_quantity"]):
        errors.append("%s: executed %s at the exchange, %s in the journal" %
                      (c, o["executed_quantity"], D(x).scaleb(-qs)))
not_sent = 0
for c, r in jr.items():
    if c not in sim_orders:
        if r[1] != "rejected":
            errors.append("journal order %s is %s but the exchange never had it" % (c, r[1]))
        not_sent += 1
fills = {(f["pair"], str(f["trade_id"])): f for f in st["fills"]}
jf = {(r[0], r[1]): r for r in db.execute(
    "SELECT pair, trade_id, client_order_id, side, price, price_scale, quantity, qty_scale,"
    " fee, fee_scale, fee_asset FROM fills")}
for k, f in fills.items():
    if k not in jf:
        errors.append("fill %s of %s missing from the journal" % (k[1], f["client_order_id"]))
        continue
    r = jf[k]
    if (r[2], D(r[4]).scaleb(-r[5]), D(r[6]).scaleb(-r[7]), D(r[8]).scaleb(-r[9]), r[10]) != \
       (f["client_order_id"], D(f["price"]), D(f["quantity"]), D(f["fee"]), f["fee_asset"]):
        errors.append("fill %s differs: journal %s, exchange %s" % (k[1], r, f))
for k in jf:
    if k not in fills:
        errors.append("journal fill %s unknown to the exchange" % (k,))
# per asset: the base asset of every pair moves by the fills' quantities (less fees in it);
# with --quote ASSET=START the quote asset too (START less costs plus proceeds, less fees)
quote = None
if len(sys.argv) > 3 and sys.argv[3].startswith("--quote="):
    qa, _, qv = sys.argv[3][len("--quote="):].partition("=")
    quote = (qa, D(qv))
pos = {}
for p in {k[0] for k in fills} | {k[0] for k in jf} | {"BTC/USDT"}:
    pos.setdefault(p.split("/")[0], D(0))
if quote:
    pos[quote[0]] = quote[1]
for k, r in jf.items():
    base, qa = k[0].split("/")
    q = D(r[6]).scaleb(-r[7])
    pos[base] += q if r[3] == "buy" else -q
    if qa in pos and quote and qa == quote[0]:
        pos[qa] += -q * D(r[4]).scaleb(-r[5]) if r[3] == "buy" else q * D(r[4]).scaleb(-r[5])
    if r[10] in pos:
        pos[r[10]] -= D(r[8]).scaleb(-r[9])
said = []
for a in sorted(pos):
    b = st["balances"].get(a, {"free": "0", "locked": "0"})
    bal = D(b["free"]) + D(b["locked"])
    if pos[a] != bal:
        errors.append("journal position %s %s, exchange balance %s %s" % (pos[a], a, bal, a))
    said.append("%s %s = balance %s" % (pos[a].normalize(), a, bal.normalize()))
for e in errors:
    print("MISMATCH:", e)
print("orders %d (not sent %d), fills %d, position %s" %
      (len(sim_orders), not_sent, len(fills), ", ".join(said)))
sys.exit(1 if errors else 0)
