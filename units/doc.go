// Package units renders, for each node of a cluster, the systemd units and configuration files
// that run the real upstream binaries (etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler, kubelet, kube-proxy) with the cluster's certificates. Rendering is pure: it
// takes the cluster model and returns files; installing and starting them is done elsewhere.
//
// RenderNode returns a node's Units (start order, with the inputs whose change requires a
// restart, the local units to start first, and a health probe) and its Files (bundle.File: node
// path, kind, mode, bytes; etcd's data directory is one too). A worker gets the kubelet and
// kube-proxy, a control-plane node the API server, controller manager and scheduler, an etcd
// node its member. Certificate, key, kubeconfig and encryption-config paths come from the
// certificate catalogue (pki.NodeFiles), which the bundles read too; paths.go only names them.
//
// Units are go-systemd UnitOptions, checked (no newline in a value, no character systemd would
// interpret in an ExecStart argument) before unit.Serialize; ExecStart is built from a flag list
// so it can be checked against the flag catalogue (units/flags). Config files are the upstream
// typed structs (k8s.io/kubelet, k8s.io/kube-proxy, k8s.io/kube-scheduler, audit.k8s.io/v1)
// serialized with sigs.k8s.io/yaml, keeping only what hardway sets. Options choose for etcd
// the upstream binary or hardway's own embedded member ("hardway etcd") with the same flags.
//
// The cluster file's extras (extras.go) change the rendering the supported way: extra flags
// merged into a unit by what hardway lets each change (CheckExtras reports a flag hardway sets
// itself, one the catalogue does not know, one that weakens a hardened default), extra files
// under ExtraDir/<component>/ (their cluster-directory sources come in Options.Sources), feature
// gates, and each node's labels and taints.
package units
