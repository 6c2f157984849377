#!/bin/sh
# The layering rule of the design: the protocol core does no I/O. It may not
# include liburing, wolfSSL, socket or threading headers, nor anything from
# the runtime or the daemon. Appends "layers <passed> <failed>" to results.
set -u
results=${RESULTS:-build/results}
bad=$(grep -nE '#[[:space:]]*include[[:space:]]*[<"](liburing|wolfssl/|sys/socket|netinet/|arpa/|netdb|sys/epoll|pthread|runtime/|daemon/)' \
	engine/protocol/*.c engine/protocol/*.h 2>/dev/null)
mkdir -p "$(dirname "$results")"
if [ -n "$bad" ]; then
	echo "layers: the protocol core includes I/O or upper-layer headers:"
	echo "$bad"
	echo "layers 0 1" >> "$results"
	exit 1
fi
echo "layers: engine/protocol includes no I/O or upper-layer header"
echo "layers 1 0" >> "$results"
