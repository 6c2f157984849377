"""tls_client: Python websockets (Debian's python3-websockets, asyncio
client) as a wss:// client of ringwsd for tls_interop_test, through an
ssl.SSLContext that trusts only the test CA and checks the host name.

    /usr/bin/python3 tls_client.py SCENARIO URL ca=FILE [key=value ...]

Prints one JSON line with what it observed ({"ok": ..., "error": ...},
and what TLS agreed: "tls", "cipher", "alpn", "cn") and exits 0 when that
is what the scenario expects, 1 otherwise. Scenarios:
  echo   sizes=0,1,... types=text,binary: each echoed intact with its type,
         then a close 1000 answered with 1000
  close  code=N reason=S: our close answered with the same code (the server
         need not repeat the reason)
"""
import ssl
import sys

import websockets
from peer_payloads import run_scenarios, data_bytes, data_text, expect

scenario, url = sys.argv[1], sys.argv[2]
P = dict(a.split("=", 1) for a in sys.argv[3:])
obs = {"peer": "python websockets " + websockets.__version__, "scenario": scenario}
phase = "start"


def lst(key, default):
    return [x for x in P.get(key, default).split(",") if x]


def context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, checks the host name
    ctx.load_verify_locations(cafile=P["ca"])
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def connect():
    return websockets.connect(url, ssl=context(), max_size=64 << 20, ping_interval=None,
                              open_timeout=10, close_timeout=10)


def note_tls(ws):
    s = ws.transport.get_extra_info("ssl_object")
    cert = s.getpeercert()
    subject = dict(x[0] for x in cert.get("subject", ()))
    obs.update(tls=s.version(), cipher=s.cipher()[0], alpn=s.selected_alpn_protocol(),
               cn=subject.get("commonName"))


async def echo():
    global phase
    sizes = [int(s) for s in lst("sizes", "0,1,125,126,65535,65536,1048576,3145728")]
    types = lst("types", "text,binary")
    obs["echoed"] = []
    async with connect() as ws:
        note_tls(ws)
        for t in types:
            for n in sizes:
                phase = f"echoing {t} of {n} bytes"
                sent = data_text(n) if t == "text" else data_bytes(n)
                await ws.send(sent)
                got = await ws.recv()
                expect(type(got) is type(sent), f"{t} of {n} bytes came back as {type(got).__name__}")
                expect(got == sent, f"{t} of {n} bytes: the echo of {len(got)} differs")
                obs["echoed"].append(f"{t}:{n}")
        phase = "closing"
        await ws.close(1000, "bye")
        obs["close"] = {"code": ws.close_code, "reason": ws.close_reason}
        expect(ws.close_code == 1000, f"close: sent 1000, server answered {ws.close_code}")


async def close():
    global phase
    code, reason = int(P.get("code", 1000)), P.get("reason", "")
    async with connect() as ws:
        note_tls(ws)
        phase = f"closing with {code}"
        await ws.close(code, reason)
        obs["close"] = {"code": ws.close_code, "reason": ws.close_reason}
        expect(ws.close_code == code,
               f"sent close {code} {reason!r}, server answered {ws.close_code} {ws.close_reason!r}")


SCENARIOS = {f.__name__: f for f in [echo, close]}


run_scenarios("tls_client", SCENARIOS, scenario, P, obs, lambda: phase)
