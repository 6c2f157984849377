// ws_echo: the Node.js ws echo server bench/run measures ringwsd against.
//   node bench/ws_echo.mjs [--deflate] [--tls-cert FILE --tls-key FILE] HOST:PORT
// Every message goes back to its sender as it came (text as text, binary as
// binary). ws, bufferutil and utf-8-validate come from the versions pinned in
// bench/package.json, installed by bench/run under $RWS_BENCH_NODE_DIR
// (default build/bench)/node_modules. The idle-memory runs use the same
// server: ringload opens the connections and holds them.
//
// permessage-deflate is off by default, as it is on ringwsd's side of the
// plain comparison. --deflate turns it on for the compressed comparison
// (bench/run's deflate part, against ringwsd --deflate), as close to
// ringwsd's settings as ws goes and otherwise ws's defaults:
//   zlibDeflateOptions { level: 1 }  zlib's fastest level, the counterpart of
//                                    ringwsd's libdeflate level 1 (its default)
//   threshold 1024                   messages below 1 KiB go uncompressed, as
//                                    ringwsd's --deflate-threshold default (ws
//                                    applies it only when it does not keep its
//                                    context: see below)
//   concurrencyLimit 10              ws's default, and ringwsd's default pool
//                                    size (--deflate-concurrency)
// ws's other defaults stay: it accepts the client's offer as made, so with
// ringload's "permessage-deflate; client_no_context_takeover" it keeps its
// own compression context between messages (ringwsd always answers
// server_no_context_takeover), window 15 bits, memLevel 8. With its context
// kept, ws compresses every message, the threshold notwithstanding (its
// Sender checks the threshold only under server_no_context_takeover), and
// it never checks whether compressing shrank a message.
//
// --tls-cert and --tls-key (PEM: the certificate chain, its key) serve wss://
// instead, on Node's https server (OpenSSL), with Node's default TLS settings:
// the reference for bench/run's tls part.
// Prints "listening on HOST:PORT" once bound (port 0: the port it got) and
// runs until SIGINT or SIGTERM.
import fs from 'node:fs';
import https from 'node:https';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = path.resolve(process.env.RWS_BENCH_NODE_DIR || path.join(here, '../build/bench'));
const req = createRequire(path.join(dir, 'package.json'));
const { WebSocketServer } = req('ws');

const usage = () => {
	process.stderr.write('usage: node ws_echo.mjs [--deflate] [--tls-cert FILE --tls-key FILE] HOST:PORT\n');
	process.exit(2);
};
const args = process.argv.slice(2);
let deflate = false, certFile = null, keyFile = null;
while (args.length > 1) {
	const a = args.shift();
	if (a === '--deflate')
		deflate = true;
	else if (a === '--tls-cert')
		certFile = args.shift();
	else if (a === '--tls-key')
		keyFile = args.shift();
	else
		usage();
}
if (!certFile !== !keyFile)
	usage();
const addr = args[0];
const m = args.length === 1 && /^\[?([^\]]*)\]?:(\d+)$/.exec(addr);
if (!m)
	usage();
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

// with TLS, ws upgrades on an https server that does nothing else
let server = null;
if (certFile) {
	let cert, key;
	try {
		cert = fs.readFileSync(certFile);
		key = fs.readFileSync(keyFile);
	} catch (e) {
		process.stderr.write(`ws_echo: ${e.message}\n`);
		process.exit(2);
	}
	server = https.createServer({ cert, key }, (req, res) => {
		res.writeHead(426);
		res.end();
	});
}
const wss = new WebSocketServer({
	...(server ? { server } : { host, port: +m[2], backlog: 65535 }),
	perMessageDeflate: deflate ? {
		zlibDeflateOptions: { level: 1 },
		threshold: 1024,
		concurrencyLimit: 10,
	} : false,
	clientTracking: false,
});
wss.on('connection', (ws) => {
	ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
	ws.on('error', () => {});
});
wss.on('error', (e) => {
	process.stderr.write(`ws_echo: ${e.message}\n`);
	process.exit(1);
});
function listening() {
	const port = (server || wss).address().port;
	process.stderr.write(`ws_echo: node ${process.version}, ws ${req('ws/package.json').version}, ` +
		`bufferutil ${have('bufferutil')}, utf-8-validate ${have('utf-8-validate')}, ` +
		`permessage-deflate ${deflate ? 'on (level 1, threshold 1024, concurrencyLimit 10)' : 'off'}, ` +
		`TLS ${server ? `on (${process.versions.openssl ? `OpenSSL ${process.versions.openssl}` : 'Node'})` : 'off'}\n`);
	process.stdout.write(`listening on ${host.includes(':') ? `[${host}]` : host}:${port}\n`);
}
if (server) {
	server.on('error', (e) => {
		process.stderr.write(`ws_echo: ${e.message}\n`);
		process.exit(1);
	});
	server.listen({ host, port: +m[2], backlog: 65535 }, listening);
} else {
	wss.on('listening', listening);
}
for (const sig of ['SIGINT', 'SIGTERM'])
	process.on(sig, () => process.exit(0));
