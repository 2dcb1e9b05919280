#!/bin/sh
# Writes the CA, certificates, keys and kubeconfigs under node/ that this case's units and config
# files name, valid 2025-01-01 to 2125-01-01 (around the tests' fixed now, testNow in
# units/inspect/helpers_test.go). The fixtures are static: run this only to recreate them.
set -eu
cd "$(dirname "$0")"
n=node
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
touch "$tmp/index.txt"
echo 1000 >"$tmp/serial"
cat >"$tmp/ca.cnf" <<EOF
[ca]
default_ca = d
[d]
database = $tmp/index.txt
new_certs_dir = $tmp
serial = $tmp/serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
organizationName = optional
EOF
# sign OUT SUBJECT EXTENSIONS [selfsign]: key OUT-key.pem, certificate OUT.pem, signed by $ca.
sign() {
	openssl req -new -newkey rsa:2048 -nodes -keyout "$1-key.pem" -subj "$2" -out "$tmp/csr" 2>/dev/null
	printf '%b\n' "$3" >"$tmp/ext"
	if [ "${4:-}" = selfsign ]; then
		openssl ca -batch -config "$tmp/ca.cnf" -selfsign -keyfile "$1-key.pem" -startdate 20250101000000Z \
			-enddate 21250101000000Z -extfile "$tmp/ext" -in "$tmp/csr" -out "$1.pem" -notext 2>/dev/null
	else
		openssl ca -batch -config "$tmp/ca.cnf" -cert "$ca.pem" -keyfile "$ca-key.pem" -startdate 20250101000000Z \
			-enddate 21250101000000Z -extfile "$tmp/ext" -in "$tmp/csr" -out "$1.pem" -notext 2>/dev/null
	fi
}
# kubeconfig OUT SERVER CERT-BASE
kubeconfig() {
	cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: $(base64 -w0 "$ca.pem")
    server: $2
  name: kubernetes
contexts:
- context:
    cluster: kubernetes
    user: $4
  name: default
current-context: default
users:
- name: $4
  user:
    client-certificate-data: $(base64 -w0 "$3.pem")
    client-key-data: $(base64 -w0 "$3-key.pem")
EOF
}
mkdir -p "$n/etc/kubernetes/pki"
ca=$tmp/ca
sign "$ca" "/CN=kubernetes" "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,digitalSignature,keyEncipherment\nsubjectAltName=DNS:kubernetes" selfsign
cp "$ca.pem" "$n/etc/kubernetes/pki/ca.crt"
# kubeadm init's own node: kubelet.conf embeds the node's first client certificate (before 1.17).
sign "$tmp/node" "/CN=system:node:cp-1/O=system:nodes" "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth"
kubeconfig "$n/etc/kubernetes/kubelet.conf" https://192.168.10.11:6443 "$tmp/node" system:node:cp-1
