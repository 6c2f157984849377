// peer_ws: drives one integration scenario with Node.js's ws client (the
// version pinned in package.json, installed by setup.sh under
// $RWS_PEER_DIR/node_modules) against a ringws server.
//   node peer_ws.mjs SCENARIO URL [key=value ...]
// Prints one JSON line with what it observed ({"ok":...,"error":...}) and
// exits 0 when that is what the scenario expects, 1 otherwise. Scenarios
// that need the harness to act midway (wait_close) print {"ready":N} first.
// Scenarios and parameters are listed in SCENARIOS below and in peer_py.py,
// which implements the same ones with Python websockets.
import { Mismatch, expect, peerClient } from './peer_client.mjs';
import { bytes, text, firstDiff } from './peer_payloads.mjs';

const { WebSocket, scenario, url, P, obs, done } = peerClient();
let phase = 'start';

const limit = setTimeout(() => done(false, `timed out after ${+(P.timeout || 20000)} ms while ${phase}`),
	+(P.timeout || 20000));

// --- payloads ----------------------------------------------------------

// bytes(n, seed), text(n) and firstDiff(a, b): see peer_payloads.mjs

// --- a connection with awaitable events -----------------------------------

function connect(u = url, protocols = undefined, opts = {}) {
	return new Promise((resolve, reject) => {
		const ws = new WebSocket(u, protocols, { maxPayload: 0, ...opts });
		ws.inbox = [];
		ws.waiters = [];
		ws.pongs = [];
		ws.closed = new Promise((res) => ws.on('close', (code, reason) => {
			ws.closeInfo = { code, reason: reason.toString() };
			res(ws.closeInfo);
			for (const w of ws.waiters)
				w.reject(new Mismatch(`connection closed with ${code} "${reason}" while waiting for a message`));
			ws.waiters = [];
		}));
		ws.on('message', (data, isBinary) => {
			const m = { data, isBinary };
			const w = ws.waiters.shift();
			if (w)
				w.resolve(m);
			else
				ws.inbox.push(m);
		});
		ws.on('pong', (data) => ws.pongs.push(data));
		ws.on('error', (e) => {
			ws.lastError = e.message;
			reject(e);
		});
		ws.on('open', () => resolve(ws));
	});
}

function nextMessage(ws) {
	if (ws.inbox.length)
		return Promise.resolve(ws.inbox.shift());
	if (ws.closeInfo)
		return Promise.reject(new Mismatch(`connection closed with ${ws.closeInfo.code} while waiting for a message`));
	return new Promise((resolve, reject) => ws.waiters.push({ resolve, reject }));
}

async function closeNormally(ws) {
	phase = 'closing';
	ws.close(1000, 'bye');
	const c = await ws.closed;
	expect(c.code === 1000, `close: sent 1000, server answered ${c.code}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const list = (s, dflt) => (s === undefined ? dflt : s).split(',').filter((x) => x !== '');

// --- scenarios ------------------------------------------------------------

const SCENARIOS = {
	// sizes=0,125,... types=text,binary: each echoed byte for byte, same type
	async echo() {
		const sizes = list(P.sizes, '0,125,126,65535,65536,1048576,16777216').map(Number);
		const types = list(P.types, 'text,binary');
		const ws = await connect();
		obs.echoed = [];
		for (const type of types)
			for (const n of sizes) {
				phase = `echoing ${type} of ${n} bytes`;
				const sent = type === 'text' ? text(n) : bytes(n);
				ws.send(sent, { binary: type === 'binary' });
				const m = await nextMessage(ws);
				const d = firstDiff(sent, m.data);
				expect(m.isBinary === (type === 'binary'),
					`${type} of ${n} bytes came back as ${m.isBinary ? 'binary' : 'text'}`);
				expect(d < 0, `${type} of ${n} bytes: echo of ${m.data.length} bytes differs at byte ${d}`);
				obs.echoed.push(`${type}:${n}`);
			}
		await closeNormally(ws);
	},

	// one message sent in fragments (fin:false), text split inside characters
	async fragments() {
		const ws = await connect();
		const t = Buffer.from('héllo wörld 😀 κόσμε');
		const cases = [
			{ binary: false, pieces: [t.subarray(0, 2), t.subarray(2, 3), t.subarray(3, 17), t.subarray(17)] },
			{ binary: true, pieces: [bytes(1000), Buffer.alloc(0), bytes(70000, 2), bytes(1, 3)] },
		];
		obs.fragmented = [];
		for (const c of cases) {
			phase = `sending ${c.binary ? 'binary' : 'text'} in ${c.pieces.length} fragments`;
			c.pieces.forEach((p, i) => ws.send(p, { binary: c.binary, fin: i === c.pieces.length - 1 }));
			const m = await nextMessage(ws);
			const whole = Buffer.concat(c.pieces);
			expect(m.isBinary === c.binary, 'fragmented message came back with the wrong type');
			expect(firstDiff(whole, m.data) < 0,
				`fragmented ${whole.length}-byte message: echo of ${m.data.length} bytes differs`);
			obs.fragmented.push(`${c.binary ? 'binary' : 'text'}:${whole.length}`);
		}
		await closeNormally(ws);
	},

	// pings with payloads of 0, 6 and 125 bytes answered by equal pongs
	async ping() {
		const ws = await connect();
		const payloads = [Buffer.alloc(0), Buffer.from('ringws'), bytes(125)];
		obs.pongs = [];
		for (const p of payloads) {
			phase = `waiting for the pong to a ${p.length}-byte ping`;
			ws.pongs = [];
			ws.ping(p);
			while (!ws.pongs.length)
				await sleep(5);
			expect(ws.pongs.length === 1 && ws.pongs[0].equals(p),
				`ping of ${p.length} bytes answered by pong of ${ws.pongs[0].length} bytes ` +
				`(${ws.pongs[0].toString('hex').slice(0, 40)})`);
			obs.pongs.push(p.length);
		}
		await closeNormally(ws);
	},

	// code=N reason=S [expect=N]: our close answered with the same code
	async close() {
		const ws = await connect();
		const code = +(P.code || 1000), want = +(P.expect || code);
		phase = `closing with ${code}`;
		ws.close(code, P.reason || '');
		const c = await ws.closed;
		obs.close = c;
		expect(c.code === want, `sent close ${code}, server answered ${c.code} "${c.reason}"`);
	},

	// n=N expect=CODE: N connections wait for the server to close them
	async wait_close() {
		const n = +(P.n || 1), want = +(P.expect || 1001);
		phase = `opening ${n} connections`;
		const all = await Promise.all(Array.from({ length: n }, () => connect()));
		process.stdout.write(JSON.stringify({ ready: n }) + '\n');
		phase = 'waiting for the server to close';
		const closes = await Promise.all(all.map((ws) => ws.closed));
		obs.codes = {};
		for (const c of closes)
			obs.codes[c.code] = (obs.codes[c.code] || 0) + 1;
		expect(obs.codes[want] === n, `expected ${n} closes with ${want}, got ${JSON.stringify(obs.codes)}`);
	},

	// a text frame carrying invalid UTF-8: the server closes with 1007
	async invalid_utf8() {
		const ws = await connect();
		phase = 'waiting for close after invalid UTF-8';
		// "κόσμε" then U+D800 encoded (ED A0 80), a surrogate: invalid
		const bad = Buffer.from('cebae1bdb9cf83cebcceb5eda080656469746564', 'hex');
		ws.send(bad, { binary: false });
		const c = await ws.closed;
		obs.close = c;
		expect(c.code === +(P.expect || 1007), `sent invalid UTF-8 text, got close ${c.code}`);
	},

	// size=N [first=M] [fragments=K] [expect=1009]: a message over the
	// server's --max-payload closes with 1009 (after echoing M bytes first)
	async oversize() {
		const ws = await connect();
		if (P.first) {
			phase = `echoing ${P.first} bytes`;
			ws.send(bytes(+P.first), { binary: true });
			const m = await nextMessage(ws);
			expect(m.data.length === +P.first, `message of ${P.first} bytes not echoed in full`);
		}
		const n = +(P.size || 1001), k = +(P.fragments || 1);
		phase = `waiting for close after ${n} bytes in ${k} fragments`;
		const b = bytes(n);
		for (let i = 0; i < k; i++)
			ws.send(b.subarray(Math.floor(i * n / k), Math.floor((i + 1) * n / k)),
				{ binary: true, fin: i === k - 1 });
		const c = await ws.closed;
		obs.close = c;
		obs.messages = ws.inbox.length;
		expect(c.code === +(P.expect || 1009), `sent ${n} bytes, got close ${c.code} "${c.reason}"`);
		expect(ws.inbox.length === 0, 'the oversize message was echoed');
	},

	// protocols=a,b expect=P [send=S reply=R]: negotiated subprotocol
	async subprotocol() {
		const ws = await connect(url, list(P.protocols, 'x,chat.v2'));
		obs.protocol = ws.protocol;
		expect(ws.protocol === (P.expect || 'chat.v2'), `negotiated "${ws.protocol}", wanted "${P.expect || 'chat.v2'}"`);
		if (P.send) {
			phase = 'waiting for the reply';
			ws.send(P.send);
			const m = await nextMessage(ws);
			obs.reply = m.data.toString();
			expect(!m.isBinary && obs.reply === P.reply, `sent "${P.send}", got "${obs.reply}", wanted "${P.reply}"`);
		}
		await closeNormally(ws);
	},

	// status=N [body=S]: the upgrade is refused with that HTTP status
	async reject() {
		phase = 'waiting for the HTTP response';
		const r = await new Promise((resolve) => {
			const ws = new WebSocket(url);
			ws.on('unexpected-response', (req, res) => {
				let body = '';
				res.on('data', (d) => { body += d; });
				res.on('end', () => { resolve({ status: res.statusCode, body }); req.destroy(); });
			});
			ws.on('open', () => { resolve({ status: 101 }); ws.terminate(); });
			ws.on('error', (e) => resolve({ status: 0, error: e.message }));
		});
		Object.assign(obs, r);
		expect(r.status === +(P.status || 401), `wanted HTTP ${P.status || 401}, got ${r.status} ${r.error || ''}`);
		// the body is one line: its line end is not part of the text
		if (P.body !== undefined)
			expect(r.body.replace(/\r?\n$/, '') === P.body, `wanted body "${P.body}", got "${r.body}"`);
	},

	// n=N [senders=K]: the first K of N clients each send a message; every
	// other client receives each exactly once, the sender none of its own
	async broadcast() {
		const n = +(P.n || 5), k = +(P.senders || 1);
		phase = `opening ${n} connections`;
		const all = await Promise.all(Array.from({ length: n }, () => connect()));
		await sleep(+(P.settle || 100));
		phase = 'broadcasting';
		for (let i = 0; i < k; i++)
			all[i].send(`from ${i}`);
		const want = (i) => (i < k ? k - 1 : k);
		const start = Date.now();
		while (!all.every((ws, i) => ws.inbox.length >= want(i)) && Date.now() - start < 10000)
			await sleep(10);
		await sleep(300); // a duplicate would arrive by now
		obs.received = all.map((ws) => ws.inbox.length);
		all.forEach((ws, i) => {
			const got = ws.inbox.map((m) => m.data.toString()).sort();
			const exp = Array.from({ length: k }, (_, j) => `from ${j}`).filter((s) => s !== `from ${i}`).sort();
			expect(JSON.stringify(got) === JSON.stringify(exp),
				`client ${i} received ${JSON.stringify(got)}, wanted ${JSON.stringify(exp)}`);
		});
		await Promise.all(all.map(closeNormally));
	},

	// n=N: N concurrent connections each echo one message of their own
	async many() {
		const n = +(P.n || 200);
		phase = `opening ${n} connections`;
		const all = await Promise.all(Array.from({ length: n }, () => connect()));
		phase = `echoing on ${n} connections`;
		const got = await Promise.all(all.map((ws, i) => {
			ws.send(`message ${i}`);
			return nextMessage(ws);
		}));
		got.forEach((m, i) => expect(m.data.toString() === `message ${i}`,
			`connection ${i} got "${m.data.toString()}"`));
		obs.connections = n;
		await Promise.all(all.map(closeNormally));
	},
};

const run = SCENARIOS[scenario];
if (!run) {
	console.error(`peer_ws: unknown scenario "${scenario}"; known: ${Object.keys(SCENARIOS).join(' ')}`);
	process.exit(2);
}
run().then(() => {
	clearTimeout(limit);
	done(true);
}, (e) => {
	clearTimeout(limit);
	done(false, e instanceof Mismatch ? e.message : `${phase}: ${e.message}`);
});
