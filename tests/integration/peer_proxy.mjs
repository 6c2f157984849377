// peer_proxy: a real HTTP CONNECT proxy, the npm package proxy (pinned in
// package.json, installed by setup.sh under $RWS_PEER_DIR/node_modules), for
// client_interop_test.
//   node peer_proxy.mjs [auth=USER:PASS] [timeout=MS]
// Listens on 127.0.0.1 (an ephemeral port) and prints to stderr
//   peer_proxy: listening on 127.0.0.1:PORT
// then, for each CONNECT it receives, one JSON line
//   {"event":"connect","target":"HOST:PORT","auth":"Basic ..."|null}
// With auth=, a CONNECT without those credentials is refused with 407 (the
// package's own authenticate hook). Exits after timeout ms (20000) or on
// SIGTERM.
import { createRequire } from 'node:module';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const peerDir = path.resolve(process.env.RWS_PEER_DIR || path.join(here, '../../build/integration'));
const peerRequire = createRequire(path.join(peerDir, 'package.json'));

let createProxy, version;
try {
	({ createProxy } = await import(pathToFileURL(peerRequire.resolve('proxy')).href));
	version = JSON.parse((await import('node:fs')).readFileSync(
		path.join(peerDir, 'node_modules/proxy/package.json'), 'utf8')).version;
} catch (e) {
	process.stderr.write(`peer_proxy: missing: npm package proxy (tests/integration/package.json) in ${peerDir}/node_modules; ` +
		`run BUILD=... sh tests/integration/setup.sh (make test does): ${e.message}\n`);
	process.exit(1);
}

const P = Object.fromEntries(process.argv.slice(2).map((kv) => {
	const i = kv.indexOf('=');
	return [kv.slice(0, i), kv.slice(i + 1)];
}));
const limitMs = +(P.timeout || 20000);
setTimeout(() => process.exit(2), limitMs);

const server = http.createServer();
// before the package's own listener, so every CONNECT is logged, refused or not
server.on('connect', (req) => process.stderr.write(JSON.stringify({ event: 'connect', target: req.url,
	auth: req.headers['proxy-authorization'] ?? null }) + '\n'));
createProxy(server);
if (P.auth) {
	const want = 'Basic ' + Buffer.from(P.auth).toString('base64');
	server.authenticate = (req) => req.headers['proxy-authorization'] === want;
}
server.listen(0, '127.0.0.1', () => process.stderr.write(`peer_proxy: proxy@${version}\n` +
	`peer_proxy: listening on 127.0.0.1:${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
