// ringcat_peer: small Node.js ws servers for ringcat_test (ws as pinned in
// package.json, under $RWS_PEER_DIR/node_modules, installed by setup.sh).
//   node ringcat_peer.mjs SCENARIO
// Prints "ringcat_peer: listening on 127.0.0.1:PORT" on stderr once it
// listens, then serves until killed (or 30 s). Scenarios:
//   echo     every message back with its type (permessage-deflate when offered)
//   pings    counts the pings of each connection for 1 s, sends the count as
//            a text message and closes 1000
//   nopong   answers no pings (autoPong off) and never closes
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const peerDir = path.resolve(process.env.RWS_PEER_DIR || path.join(here, '../../build/integration'));
const { WebSocketServer } = createRequire(path.join(peerDir, 'package.json'))('ws');

const scenario = process.argv[2];
const wss = new WebSocketServer({
	host: '127.0.0.1', port: 0, maxPayload: 0, perMessageDeflate: scenario === 'echo',
	autoPong: scenario !== 'nopong',
});
wss.on('listening', () =>
	process.stderr.write(`ringcat_peer: listening on 127.0.0.1:${wss.address().port}\n`));
wss.on('connection', (ws) => {
	if (scenario === 'echo') {
		ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
	} else if (scenario === 'pings') {
		let n = 0;
		ws.on('ping', () => n++);
		setTimeout(() => {
			ws.send(String(n));
			ws.close(1000);
		}, 1000);
	}
});
setTimeout(() => process.exit(0), 30000).unref();
setTimeout(() => {}, 30000);
