"""peer_payloads: what the Python peers (peer_py.py, peer_deflate.py) share:
the payloads they send and check, and the failed-expectation exception."""
import random


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
