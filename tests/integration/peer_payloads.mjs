// peer_payloads: the payloads the Node.js peers send and check, shared by
// peer_ws.mjs and peer_deflate.mjs so both generate the same bytes.

// Deterministic bytes, different for each (size, seed).
export function bytes(n, seed = 1) {
	const b = Buffer.allocUnsafe(n);
	let x = (n * 2654435761 + seed * 40503 + 1) >>> 0;
	for (let i = 0; i < n; i++) {
		x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
		b[i] = x & 0xff;
	}
	return b;
}

// Valid UTF-8 of exactly n bytes, mixing 1- to 4-byte characters so that
// frame and buffer boundaries fall inside characters.
export function text(n) {
	const chars = ['a', 'é', '€', '😀', 'Z', 'ж', '中', '𝄞', ' '].map((c) => Buffer.from(c));
	const parts = [];
	let len = 0;
	for (let i = 0; len < n; i++) {
		let c = chars[i % chars.length];
		if (len + c.length > n)
			c = Buffer.from('.');
		parts.push(c);
		len += c.length;
	}
	return Buffer.concat(parts, n);
}

export function firstDiff(a, b) {
	const n = Math.min(a.length, b.length);
	for (let i = 0; i < n; i++)
		if (a[i] !== b[i])
			return i;
	return a.length === b.length ? -1 : n;
}
