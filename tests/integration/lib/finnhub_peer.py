#!/usr/bin/python3
"""finnhub_peer.py: an independent Finnhub-protocol websocket server.

Integration tests point the daemon's feed at it as a peer written
elsewhere (python3-websockets, not wslay), next to bench/finnhub-sim.
It speaks Finnhub's protocol:

  client -> server  {"type":"subscribe","symbol":S}, {"type":"unsubscribe",...}
  server -> client  {"data":[{"c":..,"p":..,"s":..,"t":..,"v":..}],
                     "type":"trade"}
                    {"type":"ping"}

Trades are sent only for the symbols a connection subscribed to, in
Finnhub's field order; stocks carry condition codes, crypto ("EX:PAIR")
has "c": null and fractional volume.  The websocket library also sends
protocol-level pings, which the client must answer.

  --port N               0 picks a free port; prints "listening on
                         127.0.0.1:PORT" on stdout once bound
  --trades-per-second N  per connection (default 200)
  --drop-after-ms N      abort each connection's TCP stream after N ms
  --faults-conns N       apply --drop-after-ms to the first N connections
                         only (default: all)
  --ping-ms N            {"type":"ping"} interval (default 60000)
  --require-token T      refuse the upgrade with 401 unless ?token=T

stderr gets one line per connection and subscription, e.g.
"subscribe conn=2 symbol=AAPL".  Needs Debian's python3-websockets
(10.x); run it with /usr/bin/python3.
"""
import argparse
import asyncio
import http
import json
import random
import signal
import sys
import time
import urllib.parse

import websockets

TICK = 0.01


def log(msg):
    sys.stderr.write("%s %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


class Market:
    """A random walk per symbol on a realistic tick size."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.price = {}

    def trade(self, sym, now_ms):
        crypto = ":" in sym
        p = self.price.get(sym)
        if p is None:
            p = self.rng.uniform(20000, 70000) if crypto else \
                self.rng.uniform(20, 500)
        tick = 0.01
        p = max(tick, p + tick * self.rng.choice((-2, -1, 0, 0, 1, 2)))
        self.price[sym] = p
        if crypto:
            # Finnhub's key order; crypto has no condition codes.
            return {"c": None, "p": round(p, 2), "s": sym, "t": now_ms,
                    "v": round(self.rng.expovariate(50), 5) or 0.00001}
        conds = self.rng.choice((["1", "12"], ["1", "24", "12"],
                                 ["1", "8", "24", "12"]))
        return {"c": conds, "p": round(p, 2), "s": sym, "t": now_ms,
                "v": int(self.rng.paretovariate(1.5)) * 10 or 1}


class Peer:
    def __init__(self, args):
        self.args = args
        self.next_id = 0

    def process_request(self, path, headers):
        want = self.args.require_token
        if want is None:
            return None
        query = urllib.parse.urlparse(path).query
        got = urllib.parse.parse_qs(query).get("token", [None])[0]
        if got != want:
            log("reject 401 (%s token)" % ("no" if got is None else "wrong"))
            return (http.HTTPStatus.UNAUTHORIZED, [], b"Unauthorized\n")
        return None

    async def handler(self, ws, *unused_path):
        self.next_id += 1
        cid = self.next_id
        subs = []
        log("open conn=%d peer=%s:%d" % ((cid,) + ws.remote_address[:2]))
        faults = self.args.faults_conns <= 0 or cid <= self.args.faults_conns
        sender = asyncio.ensure_future(self.send_loop(ws, cid, subs, faults))
        try:
            async for msg in ws:
                self.on_message(cid, subs, msg)
        except websockets.ConnectionClosed:
            pass
        finally:
            sender.cancel()
            log("close conn=%d" % cid)

    def on_message(self, cid, subs, msg):
        try:
            m = json.loads(msg)
            kind, sym = m["type"], m["symbol"]
            if not isinstance(sym, str) or not sym:
                raise ValueError("symbol")
        except (ValueError, KeyError, TypeError):
            log("bad message conn=%d" % cid)
            return
        if kind == "subscribe" and sym not in subs:
            subs.append(sym)
            log("subscribe conn=%d symbol=%s" % (cid, sym))
        elif kind == "unsubscribe" and sym in subs:
            subs.remove(sym)
            log("unsubscribe conn=%d symbol=%s" % (cid, sym))

    async def send_loop(self, ws, cid, subs, faults):
        market = Market(cid)
        rng = random.Random(cid * 7919)
        start = last = last_ping = time.monotonic()
        owed = 0.0
        drop = self.args.drop_after_ms / 1000.0
        try:
            while True:
                await asyncio.sleep(TICK)
                now = time.monotonic()
                if faults and drop > 0 and now - start >= drop:
                    log("fault conn=%d drop" % cid)
                    ws.transport.abort()  # no close frame: a dead peer
                    return
                if self.args.ping_ms > 0 and \
                        now - last_ping >= self.args.ping_ms / 1000.0:
                    last_ping = now
                    await ws.send('{"type":"ping"}')
                owed += self.args.trades_per_second * min(now - last, 1.0)
                last = now
                if not subs:
                    owed = 0.0
                    continue
                now_ms = int(time.time() * 1000)
                while owed >= 1:
                    n = min(int(owed), rng.randint(1, 5))
                    owed -= n
                    data = [market.trade(rng.choice(subs), now_ms)
                            for _ in range(n)]
                    await ws.send(json.dumps({"data": data, "type": "trade"},
                                             separators=(",", ":")))
        except websockets.ConnectionClosed:
            pass


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--trades-per-second", type=float, default=200)
    ap.add_argument("--drop-after-ms", type=int, default=0)
    ap.add_argument("--faults-conns", type=int, default=0)
    ap.add_argument("--ping-ms", type=int, default=60000)
    ap.add_argument("--require-token")
    args = ap.parse_args()
    peer = Peer(args)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(
            sig, lambda: stop.done() or stop.set_result(None))
    async with websockets.serve(peer.handler, "127.0.0.1", args.port,
                                process_request=peer.process_request,
                                max_size=1 << 16) as server:
        port = server.sockets[0].getsockname()[1]
        print("listening on 127.0.0.1:%d" % port, flush=True)
        await stop


if __name__ == "__main__":
    asyncio.run(main())
