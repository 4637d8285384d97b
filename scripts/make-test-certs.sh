#!/usr/bin/env bash
# Makes a throwaway PKI for tests and for trying TLS by hand (not for production):
#
#   scripts/make-test-certs.sh DIR [HOST...]
#
# writes, in PEM, into DIR (created when missing):
#   ca.crt, ca.key          a test CA (EC P-256, 10 years); kept and reused when DIR already has one
#   node.crt, node.key      a member certificate issued by it (serverAuth and clientAuth, 825 days),
#                           node.crt holding the certificate then ca.crt; its names: localhost,
#                           127.0.0.1, ::1 and every HOST (an IP address or a DNS name)
#   client.crt, client.key  a client certificate issued by it (clientAuth), for curl, etcdctl and
#                           `capstan ... --cert --key` when members require client certificates
# Keys are unencrypted PKCS#8, mode 600. For capstan.tls: cert-file = node.crt, key-file =
# node.key, and client-ca-file = ca.crt to require client certificates. Installs openssl from
# Debian's packages when it is missing (through sudo unless root).
set -euo pipefail

if (($# < 1)) || [[ "$1" == -* ]]; then
  echo "usage: $0 DIR [HOST...]" >&2
  exit 2
fi
dir="$1"
shift

names=("DNS:localhost" "IP:127.0.0.1" "IP:::1")
for host in "$@"; do
  if [[ ! "$host" =~ ^[A-Za-z0-9.:*-]+$ ]]; then
    echo "$0: '$host' is not a host name or IP address" >&2
    exit 2
  fi
  if [[ "$host" =~ ^[0-9.]+$ || "$host" == *:* ]]; then
    names+=("IP:$host")
  else
    names+=("DNS:$host")
  fi
done
san="$(IFS=, && echo "${names[*]}")"

if ! command -v openssl >/dev/null; then
  sudo=()
  [[ $EUID -ne 0 ]] && sudo=(sudo)
  echo "$0: installing openssl" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get install -y -q openssl >/dev/null \
    || { "${sudo[@]}" apt-get update -q >/dev/null && "${sudo[@]}" apt-get install -y -q openssl >/dev/null; }
fi

mkdir -p "$dir"
cd "$dir"
umask 077
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

ec_key() {
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

if [[ ! -f ca.key || ! -f ca.crt ]]; then
  ec_key ca.key
  # A random suffix keeps CAs made by separate runs apart by name, not only by key.
  openssl req -x509 -new -key ca.key -out ca.crt -days 3650 -sha256 \
    -subj "/O=Capstan test/CN=Capstan test CA $(openssl rand -hex 4)" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  echo "made test CA: $(openssl x509 -in ca.crt -noout -subject)"
fi

# issue NAME CN EXTENSIONS: NAME.key and NAME.crt, signed by the CA.
issue() {
  local name=$1 cn=$2 extensions=$3
  ec_key "$name.key"
  openssl req -new -key "$name.key" -out "$work/$name.csr" -subj "/O=Capstan test/CN=$cn" 2>/dev/null
  printf '%s\n' "$extensions" >"$work/$name.ext"
  openssl x509 -req -in "$work/$name.csr" -CA ca.crt -CAkey ca.key -set_serial "0x$(openssl rand -hex 16)" \
    -days 825 -sha256 -extfile "$work/$name.ext" -out "$work/$name.crt" 2>/dev/null
}

common="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid"

issue node capstan-node "$common
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=$san"
cat "$work/node.crt" ca.crt >node.crt

issue client capstan-client "$common
extendedKeyUsage=clientAuth"
cp "$work/client.crt" client.crt

chmod 644 ca.crt node.crt client.crt
echo "made node.crt ($san) and client.crt in $(pwd)"
