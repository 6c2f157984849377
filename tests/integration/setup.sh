#!/bin/sh
# Makes the integration peers ready: Node.js ws, pinned by package.json and
# package-lock.json here, installed into $BUILD/integration/node_modules
# (only when missing or when the lock file changed), and Python websockets
# from Debian's python3-websockets under /usr/bin/python3 (a pyenv python3
# earlier in PATH would not see it). A missing peer fails with the package
# to install: an integration run without its peers is a failed run.
#   BUILD=build sh tests/integration/setup.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "${BUILD:-build}/integration"
dest=$(cd "${BUILD:-build}/integration" && pwd)
missing=""

command -v node >/dev/null 2>&1 ||
	missing="$missing\n  node: Debian package nodejs; run apt-get install nodejs (or make test-deps)"
/usr/bin/python3 -c 'import websockets' >/dev/null 2>&1 ||
	missing="$missing\n  /usr/bin/python3 websockets: Debian package python3-websockets; run apt-get install python3-websockets (or make test-deps)"
if [ -n "$missing" ]; then
	printf 'integration setup: missing:%b\n' "$missing" >&2
	exit 1
fi

version() { node -p 'try { require(process.argv[1]).version } catch (e) { "" }' "$1"; }
want=$(node -p 'require(process.argv[1]).dependencies.ws' "$here/package.json")
have=$(version "$dest/node_modules/ws/package.json")
if [ "$have" = "$want" ] && cmp -s "$here/package-lock.json" "$dest/package-lock.json"; then
	exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
	echo "integration setup: missing: npm, to install ws@$want; run apt-get install npm (or make test-deps)" >&2
	exit 1
fi
echo "integration setup: installing ws@$want into $dest/node_modules" >&2
cp "$here/package.json" "$here/package-lock.json" "$dest/"
if ! npm ci --prefix "$dest" --no-audit --no-fund --loglevel=error >&2; then
	rm -f "$dest/package-lock.json"
	echo "integration setup: npm ci failed: cannot install ws@$want from the npm registry" >&2
	exit 1
fi
have=$(version "$dest/node_modules/ws/package.json")
if [ "$have" != "$want" ]; then
	echo "integration setup: installed ws@$have, wanted ws@$want" >&2
	exit 1
fi
