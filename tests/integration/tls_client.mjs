// tls_client: Node.js ws (as pinned in package.json, under
// $RWS_PEER_DIR/node_modules, installed by setup.sh) as a wss:// client of
// ringwsd for tls_interop_test. It verifies the server's certificate
// against the test CA (rejectUnauthorized on: nothing is accepted blindly).
//   node tls_client.mjs SCENARIO URL ca=FILE [key=value ...]
// Prints one JSON line with what it observed and exits 0 when that is what
// the scenario expects, 1 otherwise. Every line carries what TLS agreed once
// the connection is open: "tls" (the version), "cipher", "alpn", "cn" and
// "serial" of the server's certificate and "bits" of its key.
// Parameters for every scenario:
//   ca=FILE           the CA to trust (the only one)
//   servername=NAME   the SNI name to send and check the certificate against
//   deflate=1         offer permessage-deflate, and require it agreed
//   timeout=MS        give up after MS (20000)
// Scenarios:
//   echo   sizes=0,1,... types=text,binary: each echoed byte for byte with
//          its type, then a close 1000 answered with 1000
//   close  code=N reason=S: our close answered with the same code (the reason
//          is ours to send; the server need not repeat it)
//   hold   opens, echoes one message, prints {"ready":1,...}; then each line
//          on stdin "echo N" sends N bytes and prints {"echoed":N} once the
//          echo is back intact; "close" closes 1000 and ends the scenario
//   fail   the connection must not open: prints the error ("error") and
//          exits 0 if it failed, 1 if it opened
import fs from 'node:fs';
import readline from 'node:readline';
import { Mismatch, expect, peerClient } from './peer_client.mjs';
import { bytes, text, firstDiff } from './peer_payloads.mjs';

const { WebSocket, scenario, url, P, obs, done } = peerClient();
let phase = 'start';

const limit = setTimeout(() => done(false, `timed out after ${+(P.timeout || 20000)} ms while ${phase}`),
	+(P.timeout || 20000));

// What TLS agreed, from the socket under the WebSocket.
function tlsInfo(ws) {
	const s = ws._socket;
	const cert = s.getPeerCertificate();
	const c = s.getCipher();
	return {
		tls: s.getProtocol(), cipher: c && c.standardName, alpn: s.alpnProtocol,
		authorized: s.authorized, cn: cert.subject && cert.subject.CN,
		serial: cert.serialNumber, bits: cert.bits, extensions: ws.extensions,
	};
}

function connect() {
	const opts = { maxPayload: 0, rejectUnauthorized: true, perMessageDeflate: P.deflate === '1' };
	if (P.ca)
		opts.ca = fs.readFileSync(P.ca);
	if (P.servername !== undefined)
		opts.servername = P.servername;
	return new Promise((resolve, reject) => {
		const ws = new WebSocket(url, opts);
		ws.inbox = [];
		ws.waiters = [];
		ws.closed = new Promise((res) => ws.on('close', (code, reason) => {
			ws.closeInfo = { code, reason: reason.toString() };
			res(ws.closeInfo);
			for (const w of ws.waiters)
				w.reject(new Mismatch(`connection closed with ${code} "${reason}" while ${phase}`));
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
		ws.on('error', (e) => reject(e));
		ws.on('open', () => {
			Object.assign(obs, tlsInfo(ws));
			if (P.deflate === '1' && !/permessage-deflate/.test(ws.extensions))
				reject(new Mismatch(`permessage-deflate offered but not agreed (extensions "${ws.extensions}")`));
			resolve(ws);
		});
	});
}

function nextMessage(ws) {
	if (ws.inbox.length)
		return Promise.resolve(ws.inbox.shift());
	if (ws.closeInfo)
		return Promise.reject(new Mismatch(`connection closed with ${ws.closeInfo.code} while ${phase}`));
	return new Promise((resolve, reject) => ws.waiters.push({ resolve, reject }));
}

async function echo(ws, type, n) {
	phase = `echoing ${type} of ${n} bytes`;
	const sent = type === 'text' ? text(n) : bytes(n, 7);
	ws.send(sent, { binary: type === 'binary' });
	const m = await nextMessage(ws);
	const d = firstDiff(sent, m.data);
	expect(m.isBinary === (type === 'binary'),
		`${type} of ${n} bytes came back as ${m.isBinary ? 'binary' : 'text'}`);
	expect(d < 0, `${type} of ${n} bytes: echo of ${m.data.length} bytes differs at byte ${d}`);
}

async function closeNormally(ws) {
	phase = 'closing';
	ws.close(1000, 'bye');
	const c = await ws.closed;
	obs.close = c;
	expect(c.code === 1000, `close: sent 1000, server answered ${c.code}`);
}

const list = (s, dflt) => (s === undefined ? dflt : s).split(',').filter((x) => x !== '');

const SCENARIOS = {
	async echo() {
		const sizes = list(P.sizes, '0,1,125,126,65535,65536,1048576,3145728').map(Number);
		const types = list(P.types, 'text,binary');
		const ws = await connect();
		obs.echoed = [];
		for (const type of types)
			for (const n of sizes) {
				await echo(ws, type, n);
				obs.echoed.push(`${type}:${n}`);
			}
		// what went over TLS: the WebSocket bytes as ws wrote and read them
		obs.wire = { written: ws._socket.bytesWritten, read: ws._socket.bytesRead };
		await closeNormally(ws);
	},

	async close() {
		const ws = await connect();
		const code = +(P.code || 1000);
		phase = `closing with ${code}`;
		ws.close(code, P.reason || '');
		const c = await ws.closed;
		obs.close = c;
		expect(c.code === code, `sent close ${code} "${P.reason || ''}", server answered ${c.code} "${c.reason}"`);
	},

	async hold() {
		const ws = await connect();
		await echo(ws, 'binary', 1000);
		process.stdout.write(JSON.stringify({ ready: 1, ...obs }) + '\n');
		phase = 'waiting for commands on stdin';
		const rl = readline.createInterface({ input: process.stdin });
		for await (const line of rl) {
			const [cmd, arg] = line.trim().split(/\s+/);
			if (cmd === 'echo') {
				await echo(ws, 'binary', +arg);
				process.stdout.write(JSON.stringify({ echoed: +arg }) + '\n');
			} else if (cmd === 'close') {
				await closeNormally(ws);
				return;
			}
		}
		throw new Mismatch('stdin ended without "close"');
	},

	async fail() {
		phase = 'connecting, expecting a failure';
		try {
			const ws = await connect();
			ws.terminate();
		} catch (e) {
			obs.error = e.message;
			return;
		}
		throw new Mismatch('the connection opened');
	},
};

const run = SCENARIOS[scenario];
if (!run) {
	console.error(`tls_client: unknown scenario "${scenario}"; known: ${Object.keys(SCENARIOS).join(' ')}`);
	process.exit(2);
}
run().then(() => {
	clearTimeout(limit);
	done(true, obs.error);
}, (e) => {
	clearTimeout(limit);
	done(false, e instanceof Mismatch ? e.message : `${phase}: ${e.message}`);
});
