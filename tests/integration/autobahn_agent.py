"""autobahn_agent: an Autobahn|Testsuite client agent built on Python
websockets (Debian's python3-websockets, asyncio client), to run against the
fuzzserver (or a real Autobahn fuzzingserver).

    /usr/bin/python3 autobahn_agent.py ws://127.0.0.1:PORT [AGENT]

Asks /getCaseCount, runs /runCase?case=I&agent=AGENT for every case, echoing
each text and binary message with its type until the server closes, then
asks /updateReports. Prints one line per case and exits 0 once the reports
were asked for (the grades are the server's). No keepalive pings (they would
be events the cases do not expect), no compression, no size limit.
"""
import asyncio
import sys
import urllib.parse

import websockets
from websockets.exceptions import ConnectionClosed


def connect(url):
    return websockets.connect(url, max_size=None, ping_interval=None, compression=None,
                              open_timeout=10, close_timeout=10)


async def visit(url):
    """Echoes until the server closes: (close code, messages echoed)."""
    n = 0
    try:
        async with connect(url) as ws:
            try:
                async for msg in ws:
                    n += 1
                    await ws.send(msg)
            except ConnectionClosed:
                pass
            return ws.close_code, n
    except ConnectionClosed as e:
        return e.code, n
    except Exception as e:  # a refused handshake, a reset: the server grades it
        return f"error: {e!r}", n


async def main(base, agent):
    async with connect(base + "/getCaseCount") as ws:
        count = int(await ws.recv())
    name = urllib.parse.quote(agent)
    for i in range(1, count + 1):
        code, n = await visit(f"{base}/runCase?case={i}&agent={name}")
        print(f"case {i}/{count}: closed {code}, {n} message(s) echoed", flush=True)
    await visit(f"{base}/updateReports?agent={name}")
    print(f"{agent}: ran {count} cases, reports updated", flush=True)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: autobahn_agent.py ws://HOST:PORT [AGENT]")
    asyncio.run(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "python-websockets"))
