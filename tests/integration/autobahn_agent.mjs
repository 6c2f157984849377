// autobahn_agent: an Autobahn|Testsuite client agent built on Node.js's ws
// client (the version pinned in package.json, installed by setup.sh under
// $RWS_PEER_DIR/node_modules), to run against the fuzzserver (or a real
// Autobahn fuzzingserver).
//   node autobahn_agent.mjs ws://127.0.0.1:PORT [AGENT]
// Asks /getCaseCount, runs /runCase?case=I&agent=AGENT for every case,
// echoing each text and binary message with its type until the server
// closes, then asks /updateReports. Prints one line per case and exits 0
// once the reports were asked for (the grades are the server's). ws's
// limits are off (maxPayload, and maxFragments, 16384 by default: 9.3.1
// and 9.4.1 send 65,536 fragments), as Autobahn's 9.x cases want every
// message echoed.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const peerDir = path.resolve(process.env.RWS_PEER_DIR || path.join(here, '../../build/integration'));
const peerRequire = createRequire(path.join(peerDir, 'package.json'));
const WebSocket = peerRequire('ws');

const base = process.argv[2];
const agent = process.argv[3] || 'node-ws';
if (!base) {
	console.error('usage: node autobahn_agent.mjs ws://HOST:PORT [AGENT]');
	process.exit(2);
}

// One connection to path: resolves with what happened once it closed.
function visit(urlPath, onOpen) {
	return new Promise((resolve) => {
		const ws = new WebSocket(base + urlPath, { maxPayload: 0, maxFragments: 0 });
		let error = null;
		let messages = 0;
		ws.on('open', () => onOpen && onOpen(ws));
		ws.on('message', (data, isBinary) => {
			messages++;
			ws.send(data, { binary: isBinary });
		});
		ws.on('error', (e) => { error = e.message; });
		ws.on('close', (code, reason) => resolve({ code, reason: reason.toString(), error, messages }));
	});
}

async function main() {
	let count = null;
	await new Promise((resolve, reject) => {
		const ws = new WebSocket(`${base}/getCaseCount`);
		ws.on('message', (data) => { count = parseInt(data.toString(), 10); });
		ws.on('error', reject);
		ws.on('close', resolve);
	});
	if (!(count > 0))
		throw new Error(`getCaseCount answered ${count}`);
	const name = encodeURIComponent(agent);
	for (let i = 1; i <= count; i++) {
		const r = await visit(`/runCase?case=${i}&agent=${name}`);
		console.log(`case ${i}/${count}: closed ${r.code}${r.error ? ` (${r.error})` : ''}`);
	}
	await visit(`/updateReports?agent=${name}`);
	console.log(`${agent}: ran ${count} cases, reports updated`);
}

main().then(() => process.exit(0), (e) => {
	console.error(`autobahn_agent: ${e.stack || e}`);
	process.exit(1);
});
