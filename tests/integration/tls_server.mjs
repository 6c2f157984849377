// tls_server: a Node.js wss:// echo server for tls_interop_test (ws as
// pinned in package.json, under $RWS_PEER_DIR/node_modules, installed by
// setup.sh): node's https server with a certificate of the test PKI, and a
// ws WebSocketServer on it that echoes every message with its type
// (permessage-deflate when offered).
//   node tls_server.mjs CERT.pem KEY.pem
// Prints "tls_server: listening on 127.0.0.1:PORT" on stderr once it
// listens; then, on stderr, one line per WebSocket opened,
//   tls_server: open sni=NAME alpn=PROTO tls=VERSION
// (sni=- when the client sent no name, alpn=- when none was agreed) and one
// per failed TLS handshake, "tls_server: tls error: MESSAGE". Serves until
// killed (or 30 s).
import { createRequire } from 'node:module';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const peerDir = path.resolve(process.env.RWS_PEER_DIR || path.join(here, '../../build/integration'));
const { WebSocketServer } = createRequire(path.join(peerDir, 'package.json'))('ws');

const [certFile, keyFile] = process.argv.slice(2);
const server = https.createServer({
	cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile), ALPNProtocols: ['http/1.1'],
});
const wss = new WebSocketServer({ server, maxPayload: 0, perMessageDeflate: true });
wss.on('connection', (ws, req) => {
	const s = req.socket;
	process.stderr.write(`tls_server: open sni=${s.servername || '-'} alpn=${s.alpnProtocol || '-'} ` +
		`tls=${s.getProtocol()}\n`);
	ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
server.on('tlsClientError', (e) => process.stderr.write(`tls_server: tls error: ${e.message}\n`));
server.listen(0, '127.0.0.1', () =>
	process.stderr.write(`tls_server: listening on 127.0.0.1:${server.address().port}\n`));
setTimeout(() => process.exit(0), 30000).unref();
setTimeout(() => {}, 30000);
