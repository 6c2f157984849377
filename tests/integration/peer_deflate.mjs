// peer_deflate: permessage-deflate (RFC 7692) scenarios with Node.js's ws
// client (pinned by package.json, installed by setup.sh under
// $RWS_PEER_DIR/node_modules) against ringwsd --deflate, for deflate_test.c.
//   node peer_deflate.mjs SCENARIO URL [key=value ...]
// Prints one JSON line with what it observed and exits 0 when that is what
// the scenario expects, 1 otherwise; 2 for a usage error.
//
// The client's perMessageDeflate options, each left at ws's default unless
// given: server_no_context_takeover=0|1 client_no_context_takeover=0|1
// server_max_window_bits=N client_max_window_bits=N; deflate=off offers
// nothing. What the 101 must say: negotiated=yes|no (yes by default) and
// params=a,b (the exact set of parameters the server's answer carries,
// in any order; unchecked if absent).
import { Mismatch, expect, peerClient } from './peer_client.mjs';
import { bytes, text, firstDiff } from './peer_payloads.mjs';

const { WebSocket, scenario, url, P, obs, done } = peerClient();
let phase = 'start';

const limit = setTimeout(() => done(false, `timed out after ${+(P.timeout || 30000)} ms while ${phase}`),
	+(P.timeout || 30000));

const list = (s, dflt) => (s === undefined ? dflt : s).split(',').filter((x) => x !== '');

// --- payloads ----------------------------------------------------------

// bytes(n, seed), text(n) and firstDiff(a, b): see peer_payloads.mjs

// --- the connection --------------------------------------------------------

function deflateOptions() {
	if (P.deflate === 'off')
		return false;
	const o = {};
	const flag = (k, name) => {
		if (P[k] !== undefined)
			o[name] = P[k] === '1';
	};
	const bits = (k, name) => {
		if (P[k] !== undefined)
			o[name] = +P[k];
	};
	flag('server_no_context_takeover', 'serverNoContextTakeover');
	flag('client_no_context_takeover', 'clientNoContextTakeover');
	bits('server_max_window_bits', 'serverMaxWindowBits');
	bits('client_max_window_bits', 'clientMaxWindowBits');
	return Object.keys(o).length ? o : true;
}

function connect() {
	return new Promise((resolve, reject) => {
		const ws = new WebSocket(url, undefined, { maxPayload: 0, perMessageDeflate: deflateOptions() });
		ws.inbox = [];
		ws.waiters = [];
		ws.closed = new Promise((res) => ws.on('close', (code, reason) => {
			ws.closeInfo = { code, reason: reason.toString() };
			res(ws.closeInfo);
			for (const w of ws.waiters)
				w.reject(new Mismatch(`connection closed with ${code} "${reason}" while waiting for a message`));
			ws.waiters = [];
		}));
		ws.on('upgrade', (res) => {
			obs.header = res.headers['sec-websocket-extensions'] ?? null;
		});
		ws.on('message', (data, isBinary) => {
			const m = { data, isBinary };
			const w = ws.waiters.shift();
			if (w)
				w.resolve(m);
			else
				ws.inbox.push(m);
		});
		ws.on('error', (e) => reject(e));
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

// Checks the negotiation against negotiated= and params=.
function checkNegotiated(ws) {
	obs.extensions = ws.extensions;
	const want = (P.negotiated || 'yes') === 'yes';
	const got = ws.extensions.split(',').includes('permessage-deflate');
	expect(got === want, `permessage-deflate ${got ? 'negotiated' : 'not negotiated'}, wanted ` +
		`${want ? 'it' : 'not'}; the 101 said ${JSON.stringify(obs.header)}`);
	if (!want || P.params === undefined)
		return;
	const parts = obs.header.split(';').map((s) => s.trim());
	const have = parts.slice(1).sort();
	const wanted = list(P.params, '').sort();
	expect(parts[0] === 'permessage-deflate' && JSON.stringify(have) === JSON.stringify(wanted),
		`the 101 said "${obs.header}", wanted permessage-deflate with ${JSON.stringify(wanted)}`);
}

async function echoOne(ws, sent, binary, what) {
	phase = `echoing ${what}`;
	ws.send(sent, { binary });
	const m = await nextMessage(ws);
	expect(m.isBinary === binary, `${what} came back as ${m.isBinary ? 'binary' : 'text'}`);
	const d = firstDiff(sent, m.data);
	expect(d < 0, `${what}: echo of ${m.data.length} bytes differs at byte ${d}`);
}

// --- scenarios ---------------------------------------------------------------

const SCENARIOS = {
	// sizes=... types=text,binary: each echoed byte for byte, same type
	async echo() {
		const sizes = list(P.sizes, '10,1023,1024,65536,1048576').map(Number);
		const types = list(P.types, 'text,binary');
		const ws = await connect();
		checkNegotiated(ws);
		obs.echoed = [];
		for (const type of types)
			for (const n of sizes) {
				await echoOne(ws, type === 'text' ? text(n) : bytes(n), type === 'binary', `${type} of ${n} bytes`);
				obs.echoed.push(`${type}:${n}`);
			}
		await closeNormally(ws);
	},

	// n=N size=S [context=yes|no]: N messages of S bytes that differ from
	// each other in a few places, which ws compresses with its context when
	// the server allows it. context=yes: what went on the wire must be under
	// a quarter of N*S (each alone compresses only to about half); no: over.
	async similar() {
		const n = +(P.n || 40), size = +(P.size || 4000);
		const ws = await connect();
		checkNegotiated(ws);
		const base = Buffer.from(bytes(size / 2, 7).toString('hex'));
		const start = ws._socket.bytesWritten;
		for (let i = 0; i < n; i++) {
			const m = Buffer.from(base);
			m.write(`#${i}#`, (i * 97) % (size - 16));
			m.write(`${i * i}`, size - 12);
			await echoOne(ws, m, i % 2 === 1, `similar message ${i} of ${size} bytes`);
		}
		obs.wire = ws._socket.bytesWritten - start;
		if (P.context !== undefined) {
			const small = obs.wire < n * size / 4;
			expect(small === (P.context === 'yes'),
				`${n} messages of ${size} bytes took ${obs.wire} bytes on the wire: ` +
				`${P.context === 'yes' ? 'not ' : ''}compressed with context`);
		}
		await closeNormally(ws);
	},

	// sizes=... parts=K: each text message sent as K fragments (ws
	// compresses each fragment, RSV1 on the first), echoed whole
	async fragmented() {
		const sizes = list(P.sizes, '4096,65536,1048576').map(Number);
		const k = +(P.parts || 3);
		const ws = await connect();
		checkNegotiated(ws);
		obs.echoed = [];
		for (const n of sizes) {
			phase = `echoing ${n} bytes in ${k} fragments`;
			const m = text(n);
			const step = Math.ceil(n / k);
			for (let at = 0; at < n; at += step)
				ws.send(m.subarray(at, Math.min(n, at + step)), { binary: false, fin: at + step >= n });
			const got = await nextMessage(ws);
			expect(!got.isBinary, `fragmented text of ${n} bytes came back as binary`);
			const d = firstDiff(m, got.data);
			expect(d < 0, `fragmented text of ${n} bytes: echo of ${got.data.length} bytes differs at ${d}`);
			obs.echoed.push(n);
		}
		await closeNormally(ws);
	},

	// n=N: N text messages of sizes from 20 B to 256 KiB, all sent before
	// any echo is read; the echoes must come back in the order sent
	async pipeline() {
		const n = +(P.n || 200);
		const sizes = [20, 3000, 100, 70000, 1500, 262144, 9000];
		const ws = await connect();
		checkNegotiated(ws);
		const sent = [];
		phase = `sending ${n} messages`;
		for (let i = 0; i < n; i++) {
			const m = Buffer.concat([Buffer.from(`#${i}#`), text(sizes[i % sizes.length])]);
			sent.push(m);
			ws.send(m, { binary: false });
		}
		for (let i = 0; i < n; i++) {
			phase = `reading echo ${i} of ${n}`;
			const got = await nextMessage(ws);
			const d = firstDiff(sent[i], got.data);
			expect(d < 0, `echo ${i} (${got.data.length} bytes, starts ` +
				`${JSON.stringify(got.data.subarray(0, 8).toString())}) is not message ${i} ` +
				`(${sent[i].length} bytes): differs at ${d}`);
		}
		obs.echoed = n;
		await closeNormally(ws);
	},
};

const run = SCENARIOS[scenario];
if (!run) {
	console.error(`peer_deflate: unknown scenario "${scenario}"; known: ${Object.keys(SCENARIOS).join(' ')}`);
	process.exit(2);
}
run().then(() => {
	clearTimeout(limit);
	done(true);
}, (e) => {
	clearTimeout(limit);
	done(false, e instanceof Mismatch ? e.message : `${phase}: ${e.message}`);
});
