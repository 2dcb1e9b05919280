// Package units renders, for each node of a cluster, the systemd units and configuration files
// that run the real upstream binaries (etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler, kubelet, kube-proxy) with the cluster's certificates. Rendering is pure: it
// takes the cluster model and returns files; installing and starting them is done elsewhere.
package units
