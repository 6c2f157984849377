"""peer_deflate: permessage-deflate (RFC 7692) scenarios with Python
websockets (Debian's python3-websockets, compression on by default, which
offers "permessage-deflate; client_max_window_bits") against
ringwsd --deflate, for deflate_test.c.

    /usr/bin/python3 peer_deflate.py SCENARIO URL [key=value ...]

Prints one JSON line with what it observed and exits 0 when that is what the
scenario expects, 1 otherwise. The scenarios, echo and similar, and their
parameters are those of peer_deflate.mjs, without the client options.
"""
import asyncio
import json
import sys

import websockets
from peer_payloads import Mismatch, data_bytes, data_text, expect
from websockets.exceptions import ConnectionClosed

scenario, url = sys.argv[1], sys.argv[2]
P = dict(a.split("=", 1) for a in sys.argv[3:])
obs = {"peer": "python websockets " + websockets.__version__, "scenario": scenario}
phase = "start"


def lst(key, default):
    return [x for x in P.get(key, default).split(",") if x]


def first_diff(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return -1 if len(a) == len(b) else min(len(a), len(b))


def connect():
    return websockets.connect(url, max_size=64 << 20, ping_interval=None,
                              open_timeout=10, close_timeout=10)


def check_negotiated(ws):
    obs["header"] = ws.response_headers.get("Sec-WebSocket-Extensions")
    obs["extensions"] = [e.name for e in ws.extensions]
    want = P.get("negotiated", "yes") == "yes"
    got = "permessage-deflate" in obs["extensions"]
    expect(got == want, f"permessage-deflate {'negotiated' if got else 'not negotiated'}, "
           f"wanted {'it' if want else 'not'}; the 101 said {obs['header']!r}")


async def echo_one(ws, sent, what):
    global phase
    phase = "echoing " + what
    await ws.send(sent)
    got = await ws.recv()
    expect(type(got) is type(sent), f"{what} came back as {type(got).__name__}")
    d = first_diff(sent, got)
    expect(d < 0, f"{what}: echo of {len(got)} differs at {d}")


async def close_normally(ws):
    global phase
    phase = "closing"
    await ws.close(1000, "bye")
    expect(ws.close_code == 1000, f"close: sent 1000, server answered {ws.close_code}")


async def echo():
    sizes = [int(s) for s in lst("sizes", "10,1023,1024,65536,1048576")]
    obs["echoed"] = []
    async with connect() as ws:
        check_negotiated(ws)
        for t in lst("types", "text,binary"):
            for n in sizes:
                sent = data_text(n) if t == "text" else data_bytes(n)
                await echo_one(ws, sent, f"{t} of {n} bytes")
                obs["echoed"].append(f"{t}:{n}")
        await close_normally(ws)


def count_writes(ws):
    """Counts the bytes ws writes to its socket from now on, in box[0]."""
    box, write = [0], ws.transport.write

    def counted(data):
        box[0] += len(data)
        write(data)
    ws.transport.write = counted
    return box


async def similar():
    """n messages of size bytes differing in a few places; context=yes|no
    bounds what went on the wire as peer_deflate.mjs does."""
    n, size = int(P.get("n", "40")), int(P.get("size", "4000"))
    async with connect() as ws:
        check_negotiated(ws)
        base = data_bytes(size // 2, 7).hex().encode()
        wire = count_writes(ws)
        for i in range(n):
            m = bytearray(base)
            tag = f"#{i}#".encode()
            at = (i * 97) % (size - 16)
            m[at:at + len(tag)] = tag
            sq = str(i * i).encode()
            m[size - 12:size - 12 + len(sq)] = sq
            msg = bytes(m) if i % 2 else m.decode()
            await echo_one(ws, msg, f"similar message {i} of {size} bytes")
        obs["wire"] = wire[0]
        if "context" in P:
            small = obs["wire"] < n * size / 4
            expect(small == (P["context"] == "yes"),
                   f"{n} messages of {size} bytes took {obs['wire']} bytes on the wire: "
                   f"{'not ' if P['context'] == 'yes' else ''}compressed with context")
        await close_normally(ws)


async def fragmented():
    """sizes=... parts=K: each text message sent as K fragments (websockets
    compresses each frame, RSV1 on the first), echoed whole."""
    global phase
    sizes = [int(s) for s in lst("sizes", "4096,65536,1048576")]
    k = int(P.get("parts", "3"))
    obs["echoed"] = []
    async with connect() as ws:
        check_negotiated(ws)
        for n in sizes:
            m = data_text(n)
            step = -(-len(m) // k)
            phase = f"echoing {n} bytes in {k} fragments"
            await ws.send([m[i:i + step] for i in range(0, len(m), step)])
            got = await ws.recv()
            expect(isinstance(got, str), f"fragmented text of {n} bytes came back as binary")
            d = first_diff(m, got)
            expect(d < 0, f"fragmented text of {n} bytes: echo differs at {d}")
            obs["echoed"].append(n)
        await close_normally(ws)


async def pipeline():
    """n=N: N text messages of 20 B to 256 KiB sent before any echo is
    read; the echoes must come back in the order sent."""
    global phase
    n = int(P.get("n", "200"))
    sizes = [20, 3000, 100, 70000, 1500, 262144, 9000]
    async with connect() as ws:
        check_negotiated(ws)
        sent = []

        async def send_all():
            for i in range(n):
                m = f"#{i}#" + data_text(sizes[i % len(sizes)])
                sent.append(m)
                await ws.send(m)
        phase = f"sending {n} messages"
        writer = asyncio.ensure_future(send_all())
        for i in range(n):
            phase = f"reading echo {i} of {n}"
            got = await ws.recv()
            while len(sent) <= i:
                await asyncio.sleep(0)
            expect(got == sent[i], f"echo {i} ({len(got)} chars, starts {got[:8]!r}) "
                   f"is not message {i} ({len(sent[i])} chars)")
        await writer
        obs["echoed"] = n
        await close_normally(ws)


SCENARIOS = {"echo": echo, "similar": similar, "fragmented": fragmented, "pipeline": pipeline}


def main():
    run = SCENARIOS.get(scenario)
    if not run:
        print(f"peer_deflate: unknown scenario {scenario!r}; known: {' '.join(SCENARIOS)}",
              file=sys.stderr)
        sys.exit(2)
    try:
        asyncio.run(asyncio.wait_for(run(), float(P.get("timeout", "30000")) / 1000))
        obs["ok"] = True
    except Mismatch as e:
        obs["ok"], obs["error"] = False, str(e)
    except asyncio.TimeoutError:
        obs["ok"], obs["error"] = False, "timed out while " + phase
    except ConnectionClosed as e:
        obs["ok"], obs["error"] = False, f"{phase}: connection closed: {e}"
    except Exception as e:  # a failed handshake or any other surprise
        obs["ok"], obs["error"] = False, f"{phase}: {type(e).__name__}: {e}"
    print(json.dumps(obs), flush=True)
    sys.exit(0 if obs["ok"] else 1)


main()
