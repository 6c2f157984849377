"""peer_server: a real WebSocket server, Python websockets (Debian's
python3-websockets, asyncio server), for client_interop_test, which points
ringws's client (rws_connect) at it.

    /usr/bin/python3 peer_server.py SCENARIO [key=value ...]

The scenarios, parameters, ready line and JSON event lines (on stderr) are
those of peer_server.mjs (Node ws), with what websockets can and cannot do:
text is sent in fragments cut between characters (a str cannot be cut inside
one), a pong is matched to its ping by payload (a pong with another payload
counts as none), and the close event has no byte counts (-1). Exits after
timeout ms (20000), or on SIGTERM.
"""
import asyncio
import http
import json
import os
import signal
import sys
import urllib.parse

try:
    import websockets
except ImportError as e:
    print("peer_server: missing: /usr/bin/python3 websockets, Debian package python3-websockets; "
          f"run apt-get install python3-websockets (or make test-deps): {e}",
          file=sys.stderr, flush=True)
    sys.exit(1)

from peer_payloads import data_bytes, data_text as text  # noqa: E402 (after the check above)

scenario = sys.argv[1]
P = dict(a.split("=", 1) for a in sys.argv[2:])
limit_s = int(P.get("timeout", "20000")) / 1000
deflate = P.get("deflate") == "1"


def log(**o):
    print(json.dumps(o, separators=(",", ":"), ensure_ascii=False), file=sys.stderr, flush=True)


server = None


def port():
    return server.sockets[0].getsockname()[1]


async def process_request(path, headers):
    def h(name):
        v = headers.get_all(name)
        return ", ".join(v) if v else None
    log(event="request", url=path, host=h("Host"), authorization=h("Authorization"),
        cookie=h("Cookie"), x_keep=h("X-Keep"), protocols=h("Sec-WebSocket-Protocol"))
    if scenario == "silent":
        await asyncio.sleep(limit_s)   # never answers
    if scenario == "status":
        st = http.HTTPStatus(int(P.get("status", "401")))
        return st, [("Content-Type", "text/plain")], (st.phrase + "\n").encode()
    if scenario == "redirect" and path.startswith("/start"):
        st = http.HTTPStatus(int(P.get("status", "302")))
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
        to = q.get("to", [P.get("to", "localhost")])[0]
        loc = "/real" if to == "path" else f"ws://{to}:{port()}/real"
        return st, [("Location", loc)], b""
    return None


def select_subprotocol(offered, _ours):
    name = P["protocol"]
    forced = name.startswith("!")
    name = name.lstrip("!")
    return name if forced or name in offered else None


async def echo(ws):
    async for m in ws:
        await ws.send(m)


async def fragments(ws):
    t = text(1000)
    plan = [
        # text cut (between characters) into 1, 2, 0 (an empty fragment), 100
        # characters and the rest
        (t, [t[:1], t[1:3], "", t[3:103], t[103:]]),
        (data_bytes(300, 7), None),
        (data_bytes(1 << 20, 9), None),
    ]
    b = plan[1][0]
    plan[1] = (b, [b"", b[:100], b[100:200], b[200:]])
    big = plan[2][0]
    plan[2] = (big, [big[i:i + 65536] for i in range(0, len(big), 65536)])

    async def parts(chunks, n):
        for i, c in enumerate(chunks):
            yield c
            if i == 1:
                await ws.ping(b"mid%d" % n)   # a control frame between fragments

    for n, (_, chunks) in enumerate(plan):
        await ws.send(parts(chunks, n))
    results = []
    for whole, _ in plan:
        try:
            got = await asyncio.wait_for(ws.recv(), 10)
        except (asyncio.TimeoutError, websockets.ConnectionClosed):
            results.append("missing")
            continue
        if type(got) is not type(whole):
            results.append("wrong type")
        else:
            results.append("equal" if got == whole else f"differs ({len(got)} bytes)")
    log(event="fragments", ok=all(r == "equal" for r in results), results=results)
    await ws.wait_closed()


async def pings(ws):
    results = []
    for p in (b"", b"hello!", data_bytes(125, 3)):
        waiter = await ws.ping(p)
        try:
            await asyncio.wait_for(waiter, 5)
            results.append("same")
        except asyncio.TimeoutError:
            results.append("no pong")
    log(event="pongs", ok=all(r == "same" for r in results), results=results)
    await ws.wait_closed()


async def handler(ws):
    log(event="open", path=ws.path, protocol=ws.subprotocol or "",
        extensions=",".join(e.name for e in ws.extensions))
    try:
        if scenario in ("echo", "redirect"):
            await echo(ws)
        elif scenario == "fragments":
            await fragments(ws)
        elif scenario == "ping":
            await pings(ws)
        elif scenario == "close":
            await ws.close(int(P.get("code", "1000")), P.get("reason", ""))
        elif scenario == "big":
            await ws.send(data_bytes(int(P.get("n", "1")), 5))
        elif scenario == "stall":
            ws.transport.pause_reading()
            log(event="stalled")
        await ws.wait_closed()
    except websockets.ConnectionClosed:
        pass
    except Exception as e:  # noqa: BLE001 - reported, not hidden
        log(event="error", message=repr(e))
    log(event="close", code=ws.close_code, reason=ws.close_reason or "", bytes_read=-1,
        bytes_written=-1)


async def main():
    global server
    kw = dict(compression="deflate" if deflate else None, max_size=64 << 20,
              ping_interval=None, process_request=process_request)
    if "protocol" in P:
        kw.update(subprotocols=[P["protocol"].lstrip("!")], select_subprotocol=select_subprotocol)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, lambda: os._exit(0))
    if "unix" in P:
        try:
            os.unlink(P["unix"])
        except FileNotFoundError:
            pass
        server = await websockets.unix_serve(handler, P["unix"], **kw)
        print("peer_server: unix socket ready 1", file=sys.stderr, flush=True)
    else:
        server = await websockets.serve(handler, "127.0.0.1", 0, **kw)
        print(f"peer_server: listening on 127.0.0.1:{port()}", file=sys.stderr, flush=True)
    await asyncio.sleep(limit_s)
    log(event="timeout", ms=int(limit_s * 1000))
    os._exit(2)


asyncio.run(main())
