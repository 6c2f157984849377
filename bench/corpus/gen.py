#!/usr/bin/env python3
"""bench/corpus/gen.py: the JSON corpus of bench/run's deflate part.

    python3 bench/corpus/gen.py [--check] [DIR]

Writes, into DIR (default: this script's folder):

  messages.jsonl  10,000 JSON messages, one per line, UTF-8: chat traffic
                  (messages with users, rooms, words, mentions, reactions,
                  attachments, link previews, edits, typing and presence
                  events) and market data (order book updates with bid/ask
                  levels, depth snapshots, trade batches, tickers, candles),
                  interleaved as a busy application's socket would see them.
                  Sizes spread from 100 bytes to 2 KiB (a triangular spread
                  with its mean at 1 KiB); prices walk, sequence numbers and
                  timestamps only go up.
  doc1m.json      one JSON document of about 1 MiB: an exchange snapshot,
                  order books of 48 instruments and the open orders, no
                  newline at the end (ringload --corpus-doc sends the file
                  as one message).

Deterministic: a fixed seed, Python's random module (Mersenne Twister with
an integer seed, the same on every Python 3), the standard library only, and
fixed formatting, so every run writes the same bytes. --check regenerates in
memory and compares with the files in DIR instead (exit 1 if they differ).
"""
import json
import os
import random
import sys

SEED = 7692                      # RFC 7692
COUNT = 10000
MIN_SIZE, MAX_SIZE, MODE_SIZE = 100, 2048, 924   # triangular: mean (100+2048+924)/3 = 1024
DOC_SIZE = 1 << 20
EPOCH_MS = 1795856400000         # 2026-11-28 09:00:00 UTC

WORDS = """
the be to of and a in that have it for not on with he as you do at this but his by
from they we say her she or an will my one all would there their what so up out if
about who get which go me when make can like time no just him know take people into
year your good some could them see other than then now look only come its over think
also back after use two how our work first well way even new want because any these
give day most us deploy build release branch merge review ticket sprint standup
meeting coffee lunch weekend launch customer feature bug fix patch test tests flaky
staging production rollback latency throughput cache database query index migration
schema backup server client socket websocket frame message queue worker thread
kernel memory leak profile benchmark graph dashboard alert pager incident postmortem
design doc draft approve ship tomorrow today tonight morning afternoon yesterday
sure thanks thank sounds great awesome nice cool agreed exactly maybe probably
definitely wait hold sorry please check link issue pull request comment reply
thread channel room invite call quick question update status blocked unblocked done
pending ready almost looks good lgtm nit typo rename refactor cleanup docs readme
config flag option default timeout retry limit budget quota region cluster node pod
container image tag version upgrade downgrade compatible breaking change log logs
metric metrics trace span error warning info debug owner team manager product
design user users account login password token session expired refresh mobile
desktop browser chrome firefox safari android ios app api endpoint payload json
""".split()
ACCENTED = ["café", "naïve", "über", "résumé", "jalapeño", "façade", "München", "Zürich",
            "São Paulo", "Kraków", "日本語", "привет", "ελληνικά", "smörgåsbord"]
EMOJI = ["👍", "🎉", "❤️", "😂", "🚀", "👀", "✅", "🔥", "🙏", "💯"]
ROOMS = ["#general", "#random", "#engineering", "#backend", "#frontend", "#ops",
         "#incidents", "#releases", "#design", "#product", "#sales", "#support",
         "#trading-desk", "#market-data", "#infra", "#security", "#qa", "#mobile",
         "#data", "#announcements"]
SYLLABLES = ["an", "ba", "ce", "di", "el", "fa", "go", "ha", "is", "jo", "ka", "li",
             "ma", "ne", "ol", "pa", "qu", "ri", "sa", "to", "ur", "vi", "wa", "xe",
             "ya", "zo", "mar", "tin", "son", "ber", "lin", "dra", "kov", "ette"]
DOMAINS = ["example.com", "docs.example.org", "git.example.net", "status.example.io",
           "wiki.example.com", "ci.example.dev"]
MIMES = [("image/png", "png"), ("image/jpeg", "jpg"), ("application/pdf", "pdf"),
         ("text/plain", "txt"), ("application/zip", "zip"), ("video/mp4", "mp4")]
SYMBOLS = [("BTC-USD", 43250.0, 2, 8), ("ETH-USD", 2315.0, 2, 6), ("SOL-USD", 61.4, 3, 4),
           ("XRP-USD", 0.6123, 5, 1), ("ADA-USD", 0.4871, 5, 1), ("DOGE-USD", 0.0871, 6, 0),
           ("AAPL", 189.72, 2, 0), ("MSFT", 377.44, 2, 0), ("NVDA", 467.65, 2, 0),
           ("TSLA", 234.3, 2, 0), ("AMZN", 146.88, 2, 0), ("EUR-USD", 1.0891, 5, 0),
           ("GBP-USD", 1.2613, 5, 0), ("USD-JPY", 147.32, 3, 0), ("XAU-USD", 2032.5, 2, 2),
           ("ES-DEC26", 4598.25, 2, 0)]


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.now = EPOCH_MS
        self.msg_id = 880000000
        r = self.r
        self.users = []
        for i in range(240):
            name = "".join(r.choice(SYLLABLES) for _ in range(r.randrange(2, 4)))
            last = "".join(r.choice(SYLLABLES) for _ in range(r.randrange(2, 4)))
            self.users.append({"id": 100000 + i * 37, "name": name + "." + last[:1],
                               "display": name.capitalize() + " " + last.capitalize()})
        self.market = {s: {"mid": m, "dp": dp, "qdp": qdp, "seq": r.randrange(10 ** 8, 10 ** 9),
                           "trade": r.randrange(10 ** 7, 10 ** 8)}
                       for s, m, dp, qdp in SYMBOLS}

    # --- helpers -----------------------------------------------------------
    def tick(self):
        self.now += self.r.randrange(0, 40)
        return self.now

    def iso(self, ms):
        s, m = divmod(ms, 1000)
        d, s = divmod(s, 86400)
        h, s = divmod(s, 3600)
        mi, s = divmod(s, 60)
        # days since 1970-01-01 to a date (proleptic Gregorian)
        z = d + 719468
        era = z // 146097
        doe = z - era * 146097
        yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
        y = yoe + era * 400
        doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
        mp = (5 * doy + 2) // 153
        day = doy - (153 * mp + 2) // 5 + 1
        mon = mp + 3 if mp < 10 else mp - 9
        y += mon <= 2
        return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (y, mon, day, h, mi, s, m)

    def words(self, n):
        r = self.r
        out = []
        for i in range(n):
            x = r.random()
            if x < 0.015:
                out.append(r.choice(ACCENTED))
            elif x < 0.03:
                out.append(r.choice(EMOJI))
            elif x < 0.04:
                out.append("@" + r.choice(self.users)["name"])
            else:
                out.append(r.choice(WORDS))
        return out

    def sentence(self):
        w = self.words(self.r.randrange(3, 16))
        w[0] = w[0].capitalize()
        return " ".join(w) + self.r.choice([".", ".", ".", "!", "?", "...", ":)"])

    def price(self, sym, spread_ticks=0):
        m = self.market[sym]
        m["mid"] *= 1 + self.r.gauss(0, 0.0004)
        return m["mid"]

    def fmt(self, x, dp):
        return "%.*f" % (dp, x)

    def qty(self, qdp):
        q = self.r.expovariate(1.0) * (10 ** max(0, 3 - qdp))
        return "%.*f" % (qdp, q) if qdp else str(max(1, int(q * 10)))

    def dumps(self, o):
        return json.dumps(o, ensure_ascii=False, separators=(",", ":"))

    # --- chat ------------------------------------------------------------------
    def chat(self, target):
        r = self.r
        ts = self.tick()
        self.msg_id += r.randrange(1, 9)
        u = r.choice(self.users)
        o = {"type": "message", "id": "m_%x" % self.msg_id, "room": r.choice(ROOMS),
             "user": dict(u), "ts": self.iso(ts), "ts_ms": ts, "text": ""}
        if r.random() < 0.25:
            o["reply_to"] = "m_%x" % (self.msg_id - r.randrange(1, 5000))
        if r.random() < 0.2:
            o["mentions"] = [v["id"] for v in r.sample(self.users, r.randrange(1, 4))]
        extras = []
        if r.random() < 0.3:
            extras.append("reactions")
        if r.random() < 0.15:
            extras.append("attachments")
        if r.random() < 0.12:
            extras.append("preview")
        if r.random() < 0.08:
            extras.append("edited")
        for e in extras:
            if e == "reactions":
                o["reactions"] = [{"emoji": em, "count": r.randrange(1, 12),
                                   "users": [v["id"] for v in r.sample(self.users, 2)]}
                                  for em in r.sample(EMOJI, r.randrange(1, 4))]
            elif e == "attachments":
                mime, ext = r.choice(MIMES)
                o["attachments"] = [{"id": "f_%x" % r.randrange(1 << 40), "name": "-".join(self.words(3)) + "." + ext,
                                     "mime": mime, "size": r.randrange(2000, 8000000),
                                     "url": "https://files.%s/%x/%s.%s" % (r.choice(DOMAINS), r.randrange(1 << 48),
                                                                          r.choice(WORDS), ext)}]
            elif e == "preview":
                o["preview"] = {"url": "https://%s/%s/%s" % (r.choice(DOMAINS), r.choice(WORDS), r.choice(WORDS)),
                                "title": self.sentence(), "description": self.sentence() + " " + self.sentence()}
            else:
                o["edited_ts"] = self.iso(ts + r.randrange(1000, 600000))
        text = []
        while True:
            text.append(self.sentence())
            o["text"] = " ".join(text)
            if len(self.dumps(o).encode()) >= target:
                break
        return o

    def chat_event(self, target):
        r = self.r
        ts = self.tick()
        kind = r.choice(["typing", "presence", "read"])
        o = {"type": kind, "room": r.choice(ROOMS), "user": r.choice(self.users)["id"], "ts_ms": ts}
        if kind == "presence":
            o["status"] = r.choice(["online", "away", "dnd", "offline"])
            o["device"] = r.choice(["desktop", "mobile", "web"])
        elif kind == "read":
            o["up_to"] = "m_%x" % (self.msg_id - r.randrange(0, 50))
        # a batch of events when the target asks for more
        if len(self.dumps(o).encode()) < target:
            batch = {"type": "events", "ts_ms": ts, "events": [o]}
            while len(self.dumps(batch).encode()) < target:
                e = {"type": r.choice(["typing", "presence", "read"]), "room": r.choice(ROOMS),
                     "user": r.choice(self.users)["id"], "ts_ms": self.tick()}
                batch["events"].append(e)
            return batch
        return o

    # --- market data -----------------------------------------------------------------
    def book_update(self, target):
        r = self.r
        sym = r.choice(SYMBOLS)[0]
        m = self.market[sym]
        ts = self.tick()
        m["seq"] += r.randrange(1, 30)
        mid = self.price(sym)
        tick = 10 ** -m["dp"]
        o = {"type": "l2update", "symbol": sym, "seq": m["seq"], "ts": self.iso(ts), "ts_ms": ts,
             "bids": [], "asks": []}
        i = 0
        while len(self.dumps(o).encode()) < target:
            side = "bids" if i % 2 == 0 else "asks"
            off = (r.randrange(1, 60) + (i // 2)) * tick
            px = mid - off if side == "bids" else mid + off
            o[side].append([self.fmt(px, m["dp"]), self.qty(m["qdp"]) if r.random() > 0.15 else "0"])
            i += 1
        return o

    def depth(self, target):
        r = self.r
        sym = r.choice(SYMBOLS)[0]
        m = self.market[sym]
        ts = self.tick()
        first = m["seq"] + 1
        m["seq"] += r.randrange(5, 80)
        mid = self.price(sym)
        tick = 10 ** -m["dp"]
        o = {"e": "depthUpdate", "E": ts, "s": sym.replace("-", ""), "U": first, "u": m["seq"],
             "b": [], "a": []}
        lvl = 1
        while len(self.dumps(o).encode()) < target:
            o["b"].append([self.fmt(mid - lvl * tick * 3, m["dp"]), self.qty(m["qdp"])])
            o["a"].append([self.fmt(mid + lvl * tick * 3, m["dp"]), self.qty(m["qdp"])])
            lvl += 1
        return o

    def trades(self, target):
        r = self.r
        sym = r.choice(SYMBOLS)[0]
        m = self.market[sym]
        o = {"type": "trades", "symbol": sym, "trades": []}
        while len(self.dumps(o).encode()) < target:
            m["trade"] += 1
            ts = self.tick()
            o["trades"].append({"id": m["trade"], "px": self.fmt(self.price(sym), m["dp"]),
                                "qty": self.qty(m["qdp"]), "side": r.choice(["buy", "sell"]),
                                "ts": ts, "maker": r.random() < 0.5})
        return o

    def ticker(self, target):
        r = self.r
        sym = r.choice(SYMBOLS)[0]
        m = self.market[sym]
        ts = self.tick()
        mid = self.price(sym)
        dp = m["dp"]
        spr = 10 ** -dp * r.randrange(1, 6)
        o = {"type": "ticker", "symbol": sym, "seq": m["seq"], "ts_ms": ts,
             "bid": self.fmt(mid - spr / 2, dp), "bid_size": self.qty(m["qdp"]),
             "ask": self.fmt(mid + spr / 2, dp), "ask_size": self.qty(m["qdp"]),
             "last": self.fmt(mid, dp), "open_24h": self.fmt(mid * (1 + r.gauss(0, 0.02)), dp),
             "high_24h": self.fmt(mid * 1.031, dp), "low_24h": self.fmt(mid * 0.967, dp),
             "volume_24h": "%.2f" % (r.random() * 1e6)}
        if len(self.dumps(o).encode()) < target:
            o = {"type": "candles", "symbol": sym, "interval": "1m", "candles": []}
            t0 = ts - ts % 60000
            while len(self.dumps(o).encode()) < target:
                p = self.price(sym)
                o["candles"].append([t0, self.fmt(p, dp), self.fmt(p * 1.0012, dp),
                                     self.fmt(p * 0.9991, dp), self.fmt(p * 1.0003, dp),
                                     "%.3f" % (r.random() * 900)])
                t0 -= 60000
        return o

    def message(self):
        r = self.r
        target = int(r.triangular(MIN_SIZE, MAX_SIZE, MODE_SIZE))
        kind = r.random()
        build = (self.chat if kind < 0.40 else self.chat_event if kind < 0.48 else
                 self.book_update if kind < 0.70 else self.depth if kind < 0.80 else
                 self.trades if kind < 0.92 else self.ticker)
        line = self.dumps(build(target))
        # the builders stop at the first size past the target; trim back
        # under the cap by rebuilding smaller, the same way
        while len(line.encode()) > MAX_SIZE:
            target = target * 9 // 10
            line = self.dumps(build(target))
        return line

    # --- the 1 MiB document ------------------------------------------------------------
    def document(self):
        r = self.r
        ts = self.tick()
        doc = {"type": "snapshot", "venue": "RWS-SIM", "ts": self.iso(ts), "ts_ms": ts,
               "seq": r.randrange(10 ** 9, 10 ** 10), "books": [], "orders": []}
        for k in range(48):
            sym, _, dp, qdp = SYMBOLS[k % len(SYMBOLS)]
            m = self.market[sym]
            mid = self.price(sym)
            tick = 10 ** -dp
            book = {"symbol": sym if k < len(SYMBOLS) else "%s.%d" % (sym, k // len(SYMBOLS)),
                    "seq": m["seq"], "bids": [], "asks": []}
            for lvl in range(1, 61):
                book["bids"].append([self.fmt(mid - lvl * tick, dp), self.qty(qdp), r.randrange(1, 40)])
                book["asks"].append([self.fmt(mid + lvl * tick, dp), self.qty(qdp), r.randrange(1, 40)])
            doc["books"].append(book)
        # open orders until the document reaches its size
        oid = r.randrange(10 ** 11, 10 ** 12)
        size = len(self.dumps(doc).encode())
        while True:
            sym, _, dp, qdp = r.choice(SYMBOLS)
            oid += r.randrange(1, 1000)
            created = ts - r.randrange(0, 86400000)
            q = self.qty(qdp)
            o = {"order_id": oid, "client_order_id": "c-%x" % r.randrange(1 << 48),
                 "account": "acct-%04d" % r.randrange(0, 3000), "symbol": sym,
                 "side": r.choice(["buy", "sell"]), "type": r.choice(["limit", "limit", "stop_limit"]),
                 "tif": r.choice(["GTC", "GTC", "IOC", "DAY"]),
                 "price": self.fmt(self.market[sym]["mid"] * (1 + r.gauss(0, 0.01)), dp),
                 "qty": q, "filled": "0" if r.random() < 0.7 else q,
                 "status": r.choice(["open", "open", "open", "partially_filled"]),
                 "created": self.iso(created), "updated": self.iso(created + r.randrange(0, 3600000))}
            add = len(self.dumps(o).encode()) + 1
            if size + add > DOC_SIZE:
                break
            doc["orders"].append(o)
            size += add
        return self.dumps(doc)


def generate():
    g = Gen(SEED)
    lines = [g.message() for _ in range(COUNT)]
    messages = ("\n".join(lines) + "\n").encode()
    doc = g.document().encode()
    return {"messages.jsonl": messages, "doc1m.json": doc}


def main(argv):
    check = "--check" in argv
    rest = [a for a in argv if a != "--check"]
    out = rest[0] if rest else os.path.dirname(os.path.abspath(__file__))
    files = generate()
    if check:
        bad = []
        for name, data in files.items():
            try:
                with open(os.path.join(out, name), "rb") as f:
                    if f.read() != data:
                        bad.append(name)
            except OSError:
                bad.append(name)
        if bad:
            print("gen.py: differ from what gen.py writes: " + ", ".join(bad), file=sys.stderr)
            return 1
        return 0
    os.makedirs(out, exist_ok=True)
    for name, data in files.items():
        tmp = os.path.join(out, name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, os.path.join(out, name))
    sizes = [len(l) for l in files["messages.jsonl"].split(b"\n") if l]
    print("gen.py: %s: %d messages, %d-%d bytes, mean %.0f; doc1m.json: %d bytes"
          % (out, len(sizes), min(sizes), max(sizes), sum(sizes) / len(sizes), len(files["doc1m.json"])),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
