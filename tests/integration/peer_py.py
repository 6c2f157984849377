"""peer_py: drives one integration scenario with Python websockets (Debian's
python3-websockets, asyncio client) against a ringws server.

    /usr/bin/python3 peer_py.py SCENARIO URL [key=value ...]

Prints one JSON line with what it observed ({"ok": ..., "error": ...}) and
exits 0 when that is what the scenario expects, 1 otherwise. The scenarios
and their parameters are those of peer_ws.mjs (Node ws); wait_close prints
{"ready": N} once its connections are open, so the harness can act.
"""
import asyncio
import json
import sys

import websockets
from peer_payloads import run_scenarios, data_bytes, data_text, expect
from websockets.exceptions import ConnectionClosed, InvalidStatusCode
from websockets.frames import Opcode

scenario, url = sys.argv[1], sys.argv[2]
P = dict(a.split("=", 1) for a in sys.argv[3:])
obs = {"peer": "python websockets " + websockets.__version__, "scenario": scenario}
phase = "start"


def lst(key, default):
    return [x for x in P.get(key, default).split(",") if x]


# --- payloads -----------------------------------------------------------

def first_diff(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return -1 if len(a) == len(b) else min(len(a), len(b))


def connect(u=None, **kw):
    # no keepalive pings; messages up to 64 MiB
    return websockets.connect(u or url, max_size=64 << 20, ping_interval=None,
                              open_timeout=10, close_timeout=10, **kw)


async def close_normally(ws):
    global phase
    phase = "closing"
    await ws.close(1000, "bye")
    expect(ws.close_code == 1000, f"close: sent 1000, server answered {ws.close_code}")


async def wait_closed(ws):
    """Reads until the server closes; returns (code, reason, messages read)."""
    n = 0
    try:
        while True:
            await ws.recv()
            n += 1
    except ConnectionClosed:
        pass
    await ws.wait_closed()
    return ws.close_code, ws.close_reason, n


# --- scenarios --------------------------------------------------------------

async def echo():
    global phase
    sizes = [int(s) for s in lst("sizes", "0,125,126,65535,65536,1048576,16777216")]
    types = lst("types", "text,binary")
    obs["echoed"] = []
    async with connect() as ws:
        for t in types:
            for n in sizes:
                phase = f"echoing {t} of {n} bytes"
                sent = data_text(n) if t == "text" else data_bytes(n)
                await ws.send(sent)
                got = await ws.recv()
                expect(type(got) is type(sent), f"{t} of {n} bytes came back as {type(got).__name__}")
                d = first_diff(sent, got)
                expect(d < 0, f"{t} of {n} bytes: echo of {len(got)} differs at {d}")
                obs["echoed"].append(f"{t}:{n}")
        await close_normally(ws)


async def fragments():
    global phase
    cases = [["héllo ", "wörld ", "", "😀 κόσμε"],
             [data_bytes(1000), b"", data_bytes(70000, 2), data_bytes(1, 3)]]
    obs["fragmented"] = []
    async with connect() as ws:
        for pieces in cases:
            whole = pieces[0][:0].join(pieces)
            phase = f"sending {len(pieces)} fragments"
            await ws.send(pieces)
            got = await ws.recv()
            expect(got == whole, f"fragmented message of {len(whole)}: echo of {len(got)} differs")
            obs["fragmented"].append(len(whole))
        await close_normally(ws)


async def ping():
    global phase
    obs["pongs"] = []
    async with connect() as ws:
        for p in [b"", b"ringws", data_bytes(125)]:
            phase = f"waiting for the pong to a {len(p)}-byte ping"
            # websockets completes the waiter only for a pong whose payload
            # equals the ping's
            waiter = await ws.ping(p)
            await waiter
            obs["pongs"].append(len(p))
        await close_normally(ws)


async def close():
    global phase
    code = int(P.get("code", 1000))
    want = int(P.get("expect", code))
    async with connect() as ws:
        phase = f"closing with {code}"
        await ws.close(code, P.get("reason", ""))
        obs["close"] = {"code": ws.close_code, "reason": ws.close_reason}
        expect(ws.close_code == want, f"sent close {code}, server answered {ws.close_code}")


async def wait_close():
    global phase
    n, want = int(P.get("n", 1)), int(P.get("expect", 1001))
    phase = f"opening {n} connections"
    conns = await asyncio.gather(*[connect() for _ in range(n)])
    print(json.dumps({"ready": n}), flush=True)
    phase = "waiting for the server to close"
    res = await asyncio.gather(*[wait_closed(ws) for ws in conns])
    obs["codes"] = {}
    for code, _, _ in res:
        obs["codes"][str(code)] = obs["codes"].get(str(code), 0) + 1
    expect(obs["codes"].get(str(want)) == n, f"expected {n} closes with {want}, got {obs['codes']}")


async def invalid_utf8():
    global phase
    async with connect() as ws:
        phase = "waiting for close after invalid UTF-8"
        # "κόσμε" then U+D800 encoded (ED A0 80), a surrogate: invalid.
        # websockets never sends invalid text, so write the frame ourselves.
        await ws.write_frame(True, Opcode.TEXT, bytes.fromhex("cebae1bdb9cf83cebcceb5eda080656469746564"))
        code, reason, _ = await wait_closed(ws)
        obs["close"] = {"code": code, "reason": reason}
        expect(code == int(P.get("expect", 1007)), f"sent invalid UTF-8 text, got close {code}")


async def oversize():
    global phase
    async with connect() as ws:
        if "first" in P:
            phase = f"echoing {P['first']} bytes"
            await ws.send(data_bytes(int(P["first"])))
            got = await ws.recv()
            expect(len(got) == int(P["first"]), f"message of {P['first']} bytes not echoed in full")
        n, k = int(P.get("size", 1001)), int(P.get("fragments", 1))
        phase = f"waiting for close after {n} bytes in {k} fragments"
        b = data_bytes(n)
        await ws.send(b if k == 1 else [b[i * n // k:(i + 1) * n // k] for i in range(k)])
        code, reason, msgs = await wait_closed(ws)
        obs["close"] = {"code": code, "reason": reason}
        obs["messages"] = msgs
        expect(code == int(P.get("expect", 1009)), f"sent {n} bytes, got close {code} {reason!r}")
        expect(msgs == 0, "the oversize message was echoed")


async def subprotocol():
    global phase
    want = P.get("expect", "chat.v2")
    async with connect(subprotocols=lst("protocols", "x,chat.v2")) as ws:
        obs["protocol"] = ws.subprotocol
        expect(ws.subprotocol == want, f"negotiated {ws.subprotocol!r}, wanted {want!r}")
        if "send" in P:
            phase = "waiting for the reply"
            await ws.send(P["send"])
            obs["reply"] = await ws.recv()
            expect(obs["reply"] == P["reply"], f"sent {P['send']!r}, got {obs['reply']!r}, wanted {P['reply']!r}")
        await close_normally(ws)


async def reject():
    global phase
    phase = "waiting for the HTTP response"
    want = int(P.get("status", 401))
    try:
        async with connect():
            obs["status"] = 101
    except InvalidStatusCode as e:
        obs["status"] = e.status_code
    expect(obs["status"] == want, f"wanted HTTP {want}, got {obs['status']}")


async def broadcast():
    global phase
    n, k = int(P.get("n", 5)), int(P.get("senders", 1))
    phase = f"opening {n} connections"
    conns = await asyncio.gather(*[connect() for _ in range(n)])
    await asyncio.sleep(int(P.get("settle", 100)) / 1000)
    phase = "broadcasting"
    for i in range(k):
        await conns[i].send(f"from {i}")
    got = [[] for _ in range(n)]

    async def collect(i, ws):
        try:
            while True:
                got[i].append(await ws.recv())
        except ConnectionClosed:
            pass

    tasks = [asyncio.create_task(collect(i, ws)) for i, ws in enumerate(conns)]
    want = [sorted(f"from {j}" for j in range(k) if j != i) for i in range(n)]
    for _ in range(1000):
        if all(len(got[i]) >= len(want[i]) for i in range(n)):
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.3)  # a duplicate would arrive by now
    obs["received"] = [len(g) for g in got]
    for i in range(n):
        expect(sorted(got[i]) == want[i], f"client {i} received {sorted(got[i])}, wanted {want[i]}")
    await asyncio.gather(*[close_normally(ws) for ws in conns])
    for t in tasks:
        await t


async def many():
    global phase
    n = int(P.get("n", 200))
    phase = f"opening {n} connections"
    conns = await asyncio.gather(*[connect() for _ in range(n)])
    phase = f"echoing on {n} connections"

    async def one(i, ws):
        await ws.send(f"message {i}")
        got = await ws.recv()
        expect(got == f"message {i}", f"connection {i} got {got!r}")

    await asyncio.gather(*[one(i, ws) for i, ws in enumerate(conns)])
    obs["connections"] = n
    await asyncio.gather(*[close_normally(ws) for ws in conns])


SCENARIOS = {f.__name__: f for f in [echo, fragments, ping, close, wait_close, invalid_utf8,
                                      oversize, subprotocol, reject, broadcast, many]}


run_scenarios("peer_py", SCENARIOS, scenario, P, obs, lambda: phase)
