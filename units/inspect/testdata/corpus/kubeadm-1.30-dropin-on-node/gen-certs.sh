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
mkdir -p "$n/etc/kubernetes/pki" "$n/var/lib/kubelet/pki"
ca=$tmp/ca
sign "$ca" "/CN=kubernetes" "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,digitalSignature,keyEncipherment\nsubjectAltName=DNS:kubernetes" selfsign
cp "$ca.pem" "$n/etc/kubernetes/pki/ca.crt"
# Since 1.17 kubelet.conf points at the kubelet's rotated client certificate and key (one PEM file).
sign "$tmp/node" "/CN=system:node:node-2/O=system:nodes" "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth"
cat "$tmp/node.pem" "$tmp/node-key.pem" >"$n/var/lib/kubelet/pki/kubelet-client-2026-03-02-10-11-12.pem"
ln -sf kubelet-client-2026-03-02-10-11-12.pem "$n/var/lib/kubelet/pki/kubelet-client-current.pem"
cat >"$n/etc/kubernetes/kubelet.conf" <<EOF2
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: $(base64 -w0 "$ca.pem")
    server: https://192.168.10.10:6443
  name: default-cluster
contexts:
- context:
    cluster: default-cluster
    namespace: default
    user: default-auth
  name: default-context
current-context: default-context
kind: Config
preferences: {}
users:
- name: default-auth
  user:
    client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem
    client-key: /var/lib/kubelet/pki/kubelet-client-current.pem
EOF2
