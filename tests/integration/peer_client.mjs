// peer_client: what every Node.js client peer script starts with, shared by
// peer_ws.mjs, peer_deflate.mjs and tls_client.mjs: Node ws from the build
// tree ($RWS_PEER_DIR/node_modules, installed by setup.sh), the command line
// (SCENARIO URL [key=value ...]), the observation printed as one JSON line
// at the end, and expect(), whose Mismatch is a wrong observation rather
// than a failure of the script.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export class Mismatch extends Error {}

export function expect(cond, msg) {
	if (!cond)
		throw new Mismatch(msg);
}

export function peerClient() {
	const here = path.dirname(fileURLToPath(import.meta.url));
	const peerDir = path.resolve(process.env.RWS_PEER_DIR || path.join(here, '../../build/integration'));
	const peerRequire = createRequire(path.join(peerDir, 'package.json'));
	const WebSocket = peerRequire('ws');
	const [scenario, url, ...rest] = process.argv.slice(2);
	const P = Object.fromEntries(rest.map((kv) => {
		const i = kv.indexOf('=');
		return [kv.slice(0, i), kv.slice(i + 1)];
	}));
	const obs = { peer: `node ws ${peerRequire('ws/package.json').version}`, scenario };
	// prints the observation and exits: 0 when ok
	const done = (ok, error) => {
		obs.ok = ok;
		if (error)
			obs.error = error;
		process.stdout.write(JSON.stringify(obs) + '\n', () => process.exit(ok ? 0 : 1));
	};
	return { WebSocket, scenario, url, P, obs, done };
}
