#!/usr/bin/env bash
# gen-cluster.sh N [ALGORITHM] - print a cluster file with N nodes: three control-plane nodes
# that run etcd, the rest workers. For benchmarks and load tests:
#   scripts/gen-cluster.sh 1000 ecdsa-p256 > /tmp/1000.yaml
#   hardway init --config /tmp/1000.yaml --dir /tmp/c1000
set -euo pipefail
n=${1:?usage: gen-cluster.sh N [ALGORITHM]}
alg=${2:-ecdsa-p256}
cat <<YAML
name: bench
apiEndpoint:
  host: 10.0.0.100
keyAlgorithm: ${alg}
nodes:
YAML
for ((i = 0; i < n; i++)); do
  roles="[worker]"
  if ((i < 3)); then roles="[control-plane, etcd]"; fi
  printf '  - name: node-%04d\n    addresses: [10.1.%d.%d]\n    roles: %s\n' "$i" $((i / 250)) $((i % 250 + 1)) "$roles"
done
