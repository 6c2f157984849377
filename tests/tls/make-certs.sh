#!/bin/sh
# make-certs.sh DIR: the test PKI, made with the openssl command-line tool.
#
#   ca.pem       the test CA (EC P-256, self-signed), ca.key its key
#   server.*     localhost: DNS:localhost, IP:127.0.0.1 (signed by the CA)
#   alpha.*      DNS:alpha.test
#   beta.*       DNS:beta.test, DNS:*.beta.test
#   expired.*    localhost, valid from 2020-01-01 to 2020-01-02 only
#   rsa.*        localhost, 127.0.0.1, with an RSA-2048 key
#   other-ca.*   a second CA, trusted by no one
#   wrong.*      localhost, 127.0.0.1, signed by other-ca
#
# NAME.pem is the certificate alone (the CA is separate), NAME.key its key
# (PKCS#8 PEM). Quiet unless something fails. Idempotent: when DIR already
# holds a complete set it is left alone; otherwise the set is made in a
# directory of its own beside DIR and renamed into place, so runs at the
# same time never mix the files of two sets.
set -eu

me=make-certs.sh
if [ $# -ne 1 ] || [ -z "$1" ]; then echo "usage: $me DIR" >&2; exit 2; fi
dir=$1

if ! command -v openssl >/dev/null 2>&1; then
	echo "$me: openssl not found: install the Debian package openssl" >&2
	exit 1
fi

names="ca other-ca server alpha beta rsa wrong expired"

# have_set: whether DIR holds the whole set
have_set() {
	[ -f "$dir/.complete" ] || return 1
	for n in $names; do
		[ -s "$dir/$n.pem" ] && [ -s "$dir/$n.key" ] || return 1
	done
}

have_set && exit 0

parent=$(dirname "$dir")
mkdir -p "$parent"
tmp=$(mktemp -d "$parent/.make-certs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log=$tmp/log

# run CMD...: openssl, its chatter kept in the log and shown on failure
run() {
	if ! openssl "$@" >>"$log" 2>&1; then
		echo "$me: openssl $1 failed:" >&2
		cat "$log" >&2
		exit 1
	fi
}

eckey() { run genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/$1.key"; }

# ca NAME CN: a self-signed CA
ca() {
	eckey "$1"
	run req -new -x509 -key "$tmp/$1.key" -out "$tmp/$1.pem" -days 3650 -sha256 \
		-subj "/O=ringws test/CN=$2" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-addext "subjectKeyIdentifier=hash"
}

# ext NAME SAN KU: the extensions of a server certificate
ext() {
	cat >"$tmp/$1.ext" <<END
basicConstraints=critical,CA:FALSE
keyUsage=critical,$3
extendedKeyUsage=serverAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
subjectAltName=$2
END
}

# leaf NAME CA SERIAL CN SAN [rsa]: a server certificate signed by CA
leaf() {
	if [ "${6:-}" = rsa ]; then
		run genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/$1.key"
		ext "$1" "$5" "digitalSignature,keyEncipherment"
	else
		eckey "$1"
		ext "$1" "$5" "digitalSignature"
	fi
	run req -new -key "$tmp/$1.key" -out "$tmp/$1.csr" -subj "/O=ringws test/CN=$4"
	run x509 -req -in "$tmp/$1.csr" -CA "$tmp/$2.pem" -CAkey "$tmp/$2.key" \
		-set_serial "$3" -days 3650 -sha256 -extfile "$tmp/$1.ext" -out "$tmp/$1.pem"
}

ca ca "ringws test CA"
ca other-ca "ringws other CA"
leaf server ca 1001 localhost "DNS:localhost,IP:127.0.0.1"
leaf alpha ca 1002 alpha.test "DNS:alpha.test"
leaf beta ca 1003 beta.test "DNS:beta.test,DNS:*.beta.test"
leaf rsa ca 1004 localhost "DNS:localhost,IP:127.0.0.1" rsa
leaf wrong other-ca 2001 localhost "DNS:localhost,IP:127.0.0.1"

# expired: `openssl x509` (3.0) cannot set dates in the past; `openssl ca`
# can, with a throwaway database
eckey expired
ext expired "DNS:localhost,IP:127.0.0.1" "digitalSignature"
run req -new -key "$tmp/expired.key" -out "$tmp/expired.csr" -subj "/O=ringws test/CN=localhost"
mkdir "$tmp/db"
: >"$tmp/db/index.txt"
echo 1005 >"$tmp/db/serial"
cat >"$tmp/db/ca.cnf" <<END
[ca]
default_ca = test
[test]
database = $tmp/db/index.txt
serial = $tmp/db/serial
new_certs_dir = $tmp/db
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
organizationName = optional
END
run ca -batch -notext -config "$tmp/db/ca.cnf" -cert "$tmp/ca.pem" -keyfile "$tmp/ca.key" \
	-startdate 20200101000000Z -enddate 20200102000000Z -extfile "$tmp/expired.ext" \
	-in "$tmp/expired.csr" -out "$tmp/expired.pem"

rm -rf "$tmp/db" "$tmp"/*.csr "$tmp"/*.ext "$log"
chmod 755 "$tmp"
chmod 644 "$tmp"/*.pem "$tmp"/*.key
: >"$tmp/.complete"

# into place: rename(2) onto a missing or empty DIR is atomic; if DIR
# holds files but no complete set (an interrupted older run), replace them
mkdir -p "$dir"
if [ -n "$(ls -A "$dir")" ]; then
	have_set && exit 0	# another run just finished
	rm -rf "${dir:?}"/* "$dir"/.[!.]* 2>/dev/null || true
fi
if ! mv -T "$tmp" "$dir" 2>/dev/null; then
	# DIR was filled meanwhile by a run at the same time: keep its set
	have_set && exit 0
	echo "$me: cannot move the certificates into $dir" >&2
	exit 1
fi
trap - EXIT
