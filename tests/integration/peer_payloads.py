"""peer_payloads: what the Python peers (peer_py.py, peer_deflate.py,
tls_client.py) share: the payloads they send and check, the
failed-expectation exception, and running one scenario to its JSON line."""
import asyncio
import json
import random
import sys


class Mismatch(Exception):
    pass


def expect(cond, msg):
    if not cond:
        raise Mismatch(msg)


def data_bytes(n, seed=1):
    """Deterministic bytes, different for each (n, seed)."""
    return random.Random(n * 40503 + seed).randbytes(n)


def data_text(n):
    """A str whose UTF-8 is exactly n bytes, mixing 1- to 4-byte characters
    so that frame and buffer boundaries fall inside characters."""
    chars = ["a", "é", "€", "😀", "Z", "ж", "中", "𝄞", " "]
    unit = "".join(chars)
    whole = n // len(unit.encode())
    s, left = unit * whole, n - whole * len(unit.encode())
    for c in chars:
        if len(c.encode()) > left:
            break
        s += c
        left -= len(c.encode())
    return s + "." * left


def run_scenarios(prog, scenarios, scenario, P, obs, phase):
    """Runs scenarios[scenario] within P's timeout (ms, 20000 by default),
    notes in obs whether it went as expected, prints obs as one JSON line and
    exits 0 if so, 1 if not (2 for an unknown scenario). phase() says what
    was going on, for a timeout or an exception."""
    if scenario not in scenarios:
        print(f"{prog}: unknown scenario {scenario!r}; known: {' '.join(scenarios)}",
              file=sys.stderr)
        sys.exit(2)
    limit = int(P.get("timeout", 20000)) / 1000

    async def main():
        try:
            await asyncio.wait_for(scenarios[scenario](), limit)
            obs["ok"] = True
        except asyncio.TimeoutError:
            obs.update(ok=False, error=f"timed out after {limit:g} s while {phase()}")
        except Mismatch as e:
            obs.update(ok=False, error=str(e))
        except Exception as e:  # what the library raised is the observation
            obs.update(ok=False, error=f"{phase()}: {type(e).__name__}: {e}")

    asyncio.run(main())
    print(json.dumps(obs), flush=True)
    sys.exit(0 if obs["ok"] else 1)
