// peer_server: a real WebSocket server, Node.js ws (the version pinned in
// package.json, installed by setup.sh under $RWS_PEER_DIR/node_modules), for
// client_interop_test, which points ringws's client (rws_connect) at it.
//   node peer_server.mjs SCENARIO [key=value ...]
// Listens on 127.0.0.1 (an ephemeral port) and prints to stderr
//   peer_server: listening on 127.0.0.1:PORT
// or, with unix=PATH, listens on that socket and prints
//   peer_server: unix socket ready 1
// then one JSON line per event it observes, also on stderr (compact, with
// the same keys in the same order as peer_server.py's): "request" for each
// upgrade request, "open", "close" with the code and reason the client sent
// or answered, and each scenario's own verdict. Exits after timeout ms
// (20000), or on SIGTERM.
//
// Scenarios:
//   echo       sends every message back as it came (text or binary).
//              deflate=1 turns permessage-deflate on; protocol=NAME picks
//              NAME when offered (protocol=!NAME picks NAME even when not
//              offered); logs each ping received.
//   fragments  sends a text and a binary message in fragments (ws.send with
//              fin:false), with a ping between fragments, then a 1 MiB one in
//              64 KiB fragments; the client echoes each back whole, and the
//              verdict says whether each came back equal. deflate=1 too.
//   ping       pings with payloads of 0, 6 and 125 bytes, one at a time; the
//              verdict says whether each pong carried the ping's payload.
//   close      closes at once with code and reason.
//   big        sends one binary message of n bytes, then waits for the close.
//   status     refuses the upgrade with HTTP status (verifyClient).
//   redirect   an http server that answers upgrade requests for /start with
//              status (302) and Location ws://HOST:PORT/real, HOST from
//              the query's to=127.0.0.1|localhost, else the parameter to=,
//              else localhost (to=path: Location /real); /real is the echo
//              server.
//   silent     an http server that never answers the upgrade.
//   stall      accepts, then stops reading its socket (ws._socket.pause()),
//              so it answers no ping.
import { createRequire } from 'node:module';
import http from 'node:http';
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bytes, text } from './peer_payloads.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const peerDir = path.resolve(process.env.RWS_PEER_DIR || path.join(here, '../../build/integration'));
const peerRequire = createRequire(path.join(peerDir, 'package.json'));

function log(o) {
	process.stderr.write(JSON.stringify(o) + '\n');
}

let WebSocketServer;
try {
	({ WebSocketServer } = peerRequire('ws'));
} catch (e) {
	process.stderr.write(`peer_server: missing: npm package ws (tests/integration/package.json) in ${peerDir}/node_modules; ` +
		`run BUILD=... sh tests/integration/setup.sh (make test does): ${e.message}\n`);
	process.exit(1);
}

const [scenario, ...rest] = process.argv.slice(2);
const P = Object.fromEntries(rest.map((kv) => {
	const i = kv.indexOf('=');
	return [kv.slice(0, i), kv.slice(i + 1)];
}));
const limitMs = +(P.timeout || 20000);
setTimeout(() => {
	log({ event: 'timeout', ms: limitMs });
	process.exit(2);
}, limitMs);

// Deterministic payloads (text of 1- to 4-byte characters, so fragments
// can be cut inside one, and bytes): the other Node peers'.

const deflate = P.deflate === '1';
const wssOptions = { noServer: true, perMessageDeflate: deflate, maxPayload: 64 << 20 };
if (P.protocol) {
	const forced = P.protocol.startsWith('!');
	const name = forced ? P.protocol.slice(1) : P.protocol;
	wssOptions.handleProtocols = (protocols) => (forced || protocols.has(name) ? name : false);
}
if (scenario === 'status') {
	const status = +(P.status || 401);
	wssOptions.verifyClient = (info, cb) => cb(false, status, http.STATUS_CODES[status]);
}
const wss = new WebSocketServer(wssOptions);
const server = http.createServer((req, res) => {
	res.writeHead(426);
	res.end();
});

function logRequest(req) {
	const h = req.headers;
	log({ event: 'request', url: req.url, host: h.host ?? null, authorization: h.authorization ?? null,
		cookie: h.cookie ?? null, x_keep: h['x-keep'] ?? null,
		protocols: h['sec-websocket-protocol'] ?? null });
}

server.on('upgrade', (req, socket, head) => {
	socket.on('error', () => {});
	logRequest(req);
	if (scenario === 'silent')
		return;	// never answers
	if (scenario === 'redirect' && req.url.startsWith('/start')) {
		const status = +(P.status || 302);
		const port = server.address().port;
		const to = new URL(req.url, 'http://x').searchParams.get('to') || P.to || 'localhost';
		const loc = to === 'path' ? '/real' : `ws://${to}:${port}/real`;
		socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nLocation: ${loc}\r\n` +
			'Content-Length: 0\r\nConnection: close\r\n\r\n');
		return;
	}
	wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});

function watch(ws) {
	ws.on('error', (e) => log({ event: 'error', message: e.message }));
	ws.on('ping', (data) => log({ event: 'ping', len: data.length }));
	return new Promise((resolve) => ws.on('close', (code, reason) => {
		log({ event: 'close', code, reason: reason.toString(),
			bytes_read: ws._socket ? ws._socket.bytesRead : -1,
			bytes_written: ws._socket ? ws._socket.bytesWritten : -1 });
		resolve();
	}));
}

function echo(ws) {
	ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
}

// The messages the fragments scenario sends: their type, bytes, and the
// lengths of their fragments
function fragmentPlan() {
	const t = text(1000);
	const b = bytes(300, 7);
	const big = bytes(1 << 20, 9);
	return [
		// 1000 bytes of text in fragments of 2 and 3 bytes (each ending
		// inside a character: 'a' 'é' '€' ...), 0 (an empty one) and more
		{ binary: false, data: t, cuts: [2, 3, 0, 397, 598] },
		{ binary: true, data: b, cuts: [0, 100, 100, 100] },
		{ binary: true, data: big, cuts: Array(16).fill(65536) },
	];
}

async function sendFragments(ws) {
	const plan = fragmentPlan();
	const back = [];
	ws.on('message', (data, isBinary) => back.push({ data, isBinary }));
	for (const m of plan) {
		let off = 0;
		for (let i = 0; i < m.cuts.length; i++) {
			const part = m.data.subarray(off, off + m.cuts[i]);
			off += m.cuts[i];
			const fin = i === m.cuts.length - 1;
			await new Promise((res, rej) => ws.send(part, { binary: m.binary, fin, compress: deflate },
				(e) => (e ? rej(e) : res())));
			if (i === 1)
				ws.ping(Buffer.from(`mid${plan.indexOf(m)}`));	// a control frame between fragments
		}
	}
	const until = Date.now() + 10000;
	while (back.length < plan.length && Date.now() < until && ws.readyState === 1)
		await new Promise((res) => setTimeout(res, 10));
	const results = plan.map((m, i) => {
		const b = back[i];
		if (!b)
			return 'missing';
		if (b.isBinary !== m.binary)
			return 'wrong type';
		return Buffer.compare(Buffer.from(b.data), m.data) === 0 ? 'equal' : `differs (${b.data.length} bytes)`;
	});
	log({ event: 'fragments', ok: results.every((r) => r === 'equal'), results });
}

async function pings(ws) {
	const payloads = [Buffer.alloc(0), Buffer.from('hello!'), bytes(125, 3)];
	const got = [];
	const results = [];
	ws.on('pong', (data) => got.push(data));
	for (const p of payloads) {
		const before = got.length;
		ws.ping(p);
		const until = Date.now() + 5000;
		while (got.length === before && Date.now() < until)
			await new Promise((res) => setTimeout(res, 5));
		const g = got[before];
		results.push(!g ? 'no pong' : Buffer.compare(g, p) === 0 ? 'same' : `other payload (${g.length} bytes)`);
	}
	log({ event: 'pongs', ok: results.every((r) => r === 'same'), results });
}

wss.on('connection', (ws, req) => {
	watch(ws);
	log({ event: 'open', path: req.url, protocol: ws.protocol, extensions: ws.extensions });
	switch (scenario) {
	case 'echo':
	case 'redirect':
		echo(ws);
		break;
	case 'fragments':
		sendFragments(ws).catch((e) => log({ event: 'fragments', ok: false, results: [e.message] }));
		break;
	case 'ping':
		pings(ws);
		break;
	case 'close':
		ws.close(+(P.code || 1000), P.reason || '');
		break;
	case 'big':
		ws.send(bytes(+(P.n || 1), 5));
		break;
	case 'stall':
		ws._socket.pause();
		log({ event: 'stalled' });
		break;
	default:
		log({ event: 'error', message: `unknown scenario ${scenario}` });
	}
});

if (P.unix) {
	try {
		fs.unlinkSync(P.unix);
	} catch (e) {
		// not there
	}
	server.listen(P.unix, () => process.stderr.write('peer_server: unix socket ready 1\n'));
} else {
	server.listen(0, '127.0.0.1', () =>
		process.stderr.write(`peer_server: listening on 127.0.0.1:${server.address().port}\n`));
}
process.on('SIGTERM', () => process.exit(0));
