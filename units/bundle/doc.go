// Package bundle owns the node bundle format: what `hardway init` writes for each node and
// `hardway launch` installs there. It holds the types, the one writer (manifest.json and the
// node's archive), the one strict reader and the validation; every other package goes through
// it.
//
// A bundle is a directory, DIR/nodes/<node>/, that mirrors the node's filesystem beside its
// manifest.json, or the same packed as DIR/nodes/<node>.tar.gz (manifest.json first, then the
// node's files by their paths relative to /, owned by root, modes kept). The manifest lists
// every entry with its kind, node path, mode, owner, size and sha256, and every unit with the
// inputs whose change restarts it, the units it starts after, its health probe and the minor
// version of the program it was rendered for (optional):
//
//	{
//	  "version": 1,
//	  "node": "cp-1",
//	  "files": [
//	    {"path": "/etc/kubernetes/pki/ca.crt", "kind": "certificate", "mode": "0644", "owner": "root:root", "size": 712, "sha256": "<64 hex>"},
//	    {"path": "/usr/local/bin/kubelet", "kind": "binary", "mode": "0755", "owner": "root:root", "size": 81236120, "sha256": "<64 hex>", "artifact": true},
//	    {"path": "/var/lib/etcd", "kind": "directory", "mode": "0700", "owner": "root:root", "size": 0}
//	  ],
//	  "units": [{"name": "etcd.service", "inputs": ["/..."], "after": [], "health": {"kind": "etcd", "url": "https://...", "ca": "/...", "cert": "/...", "key": "/..."}, "version": "3.6"}]
//	}
//
// A binary (a Kubernetes program, a hundred megabytes the same on every node) may be an
// artifact instead: its entry says "artifact": true, and its content is not in the node's
// folder or archive but kept once, by its sha256, in an artifact store (Store): the cluster
// directory's artifacts/sha256/<hex>, or an artifacts/ directory beside a node's archive. The
// manifest's signature covers the hash; a launcher streams the artifact to its node path and
// checks it on the way (Verifying), so it never sits in memory.
//
// Reading is strict: sigs.k8s.io/json refuses unknown, duplicate and wrongly cased fields, and
// Validate reports, each with its field path (files[3].mode), what decoding cannot: missing
// fields, malformed modes and checksums, paths that are not clean and absolute, modes wider
// than the entry's kind allows, units without their unit file. A detached signature of the
// manifest's bytes may sit beside it (manifest.json.sig); the reader hands both to the
// caller's verifier before it decodes anything.
package bundle
