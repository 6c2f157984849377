#!/bin/sh
# Installs the Debian packages ringws needs, when they are missing.
#   tools/deps.sh build   what `make` needs
#   tools/deps.sh test    what `make test` needs on top of that
#   tools/deps.sh bench   what bench/run needs on top of the build
# As root it runs apt-get; otherwise it prints the exact command and fails.
set -eu

build_pkgs="gcc make pkg-config liburing-dev libwolfssl-dev libdeflate-dev"
bench_pkgs="gnuplot-nox util-linux"
test_pkgs="libcriterion-dev clang libclang-rt-14-dev python3-websockets zlib1g-dev openssl"
# the integration peers: Node.js ws (from npm, by tests/integration/setup.sh)
# and Python websockets. A node/npm already on PATH (say from NodeSource)
# is kept; Debian's would conflict with it.
command -v node >/dev/null 2>&1 || test_pkgs="$test_pkgs nodejs"
command -v npm >/dev/null 2>&1 || test_pkgs="$test_pkgs npm"

case "${1:-build}" in
build) want="$build_pkgs" ;;
test)  want="$build_pkgs $test_pkgs" ;;
bench) want="$build_pkgs $bench_pkgs" ;;
*) echo "usage: $0 build|test|bench" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = "installed" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	echo "deps: installing$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >&2
else
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: run: sudo apt-get install$missing" >&2
	exit 1
fi
