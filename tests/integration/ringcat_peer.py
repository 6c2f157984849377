"""ringcat_peer: small servers for ringcat_test, on Python websockets
(Debian's python3-websockets, asyncio) or on raw asyncio sockets where a
server must break the rules.

    /usr/bin/python3 ringcat_peer.py SCENARIO

Prints "ringcat_peer: listening on 127.0.0.1:PORT" on stderr once it
listens, then serves until killed (or 30 s). Scenarios:
  echo       every message back with its type (permessage-deflate when offered)
  close4000  the first message is answered with a close 4000 "bye"
  headers    sends "PATH|SUBPROTOCOL|ORIGIN|X-TEST" (subprotocols chat, other)
             and closes 1000
  drop       raw: the upgrade answered, then at the first bytes the TCP
             connection is closed without a close frame
  noclose    raw: the upgrade answered, then everything read and ignored
  autobahn   a fake Autobahn fuzzing server: /getCaseCount says 3; case N
             sends a text and a binary message, checks both echoes and
             prints "case N ok" (or "case N bad: why") on stderr, closes
             1000; /updateReports prints "reports for AGENT"
"""
import asyncio
import base64
import hashlib
import sys
import urllib.parse

import websockets

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
scenario = sys.argv[1]


def log(s):
    print(s, file=sys.stderr, flush=True)


async def handler(ws, path=None):
    path = path if path is not None else ws.path
    if scenario == "echo":
        async for msg in ws:
            await ws.send(msg)
    elif scenario == "close4000":
        await ws.recv()
        await ws.close(4000, "bye")
    elif scenario == "headers":
        h = ws.request_headers
        await ws.send("|".join([path, ws.subprotocol or "", h.get("Origin", ""),
                                h.get("X-Test", "")]))
        await ws.close(1000)
    elif scenario == "autobahn":
        u = urllib.parse.urlsplit(path)
        q = dict(urllib.parse.parse_qsl(u.query))
        if u.path == "/getCaseCount":
            await ws.send("3")
        elif u.path == "/runCase":
            n = int(q["case"])
            sent = [f"case {n} é", bytes([n]) * (n * 1000)]
            for m in sent:
                await ws.send(m)
            got = [await ws.recv() for _ in sent]
            log(f"case {n} ok" if got == sent else f"case {n} bad: {got!r:.100}")
        elif u.path == "/updateReports":
            log(f"reports for {q.get('agent')}")
        await ws.close(1000)


async def raw(reader, writer):
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = await reader.read(4096)
        if not chunk:
            writer.close()
            return
        head += chunk
    key = ""
    for line in head.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() == "sec-websocket-key":
            key = value.strip()
    accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
    writer.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + "\r\n\r\n").encode())
    await writer.drain()
    while True:
        data = await reader.read(65536)
        if not data:
            break
        if scenario == "drop":
            break
    writer.transport.abort()


async def main():
    if scenario in ("drop", "noclose"):
        server = await asyncio.start_server(raw, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
    else:
        server = await websockets.serve(handler, "127.0.0.1", 0, max_size=None,
                                        subprotocols=["chat", "other"]
                                        if scenario == "headers" else None)
        port = server.sockets[0].getsockname()[1]
    log(f"ringcat_peer: listening on 127.0.0.1:{port}")
    await asyncio.sleep(30)


asyncio.run(main())
