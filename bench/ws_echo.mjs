// ws_echo: the Node.js ws echo server bench/run measures ringwsd against.
//   node bench/ws_echo.mjs HOST:PORT
// Every message goes back to its sender as it came (text as text, binary as
// binary). ws, bufferutil and utf-8-validate come from the versions pinned in
// bench/package.json, installed by bench/run under $RWS_BENCH_NODE_DIR
// (default build/bench)/node_modules. permessage-deflate is off, as it is on
// ringwsd's side of the comparison. The idle-memory runs use the same
// server: ringload opens the connections and holds them.
// Prints "listening on HOST:PORT" once bound (port 0: the port it got) and
// runs until SIGINT or SIGTERM.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = path.resolve(process.env.RWS_BENCH_NODE_DIR || path.join(here, '../build/bench'));
const req = createRequire(path.join(dir, 'package.json'));
const { WebSocketServer } = req('ws');

const addr = process.argv[2];
const m = addr && /^\[?([^\]]*)\]?:(\d+)$/.exec(addr);
if (!m) {
	process.stderr.write('usage: node ws_echo.mjs HOST:PORT\n');
	process.exit(2);
}
const host = m[1];

// ws loads these by itself when they resolve; say whether they did
function have(name) {
	try {
		req.resolve(name);
		return req(`${name}/package.json`).version;
	} catch (e) {
		return 'missing';
	}
}

const wss = new WebSocketServer({
	host,
	port: +m[2],
	perMessageDeflate: false,
	clientTracking: false,
	backlog: 65535,
});
wss.on('connection', (ws) => {
	ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
	ws.on('error', () => {});
});
wss.on('error', (e) => {
	process.stderr.write(`ws_echo: ${e.message}\n`);
	process.exit(1);
});
wss.on('listening', () => {
	const port = wss.address().port;
	process.stderr.write(`ws_echo: node ${process.version}, ws ${req('ws/package.json').version}, ` +
		`bufferutil ${have('bufferutil')}, utf-8-validate ${have('utf-8-validate')}\n`);
	process.stdout.write(`listening on ${host.includes(':') ? `[${host}]` : host}:${port}\n`);
});
for (const sig of ['SIGINT', 'SIGTERM'])
	process.on(sig, () => process.exit(0));
