// Package addons renders the cluster's add-ons: Kubernetes objects (not systemd units) that
// launch applies through the API server once it is up. Rendering is pure, like the rest of
// units: CoreDNS takes its parameters and returns one multi-document YAML manifest built from the
// upstream typed structs (k8s.io/api) and serialized with sigs.k8s.io/yaml. The manifest is
// installed on the first control-plane node under Dir; bootstrap/addons applies it.
//
// CoreDNS is kubeadm's CoreDNS add-on (cmd/kubeadm/app/phases/addons/dns): ServiceAccount,
// ClusterRole and ClusterRoleBinding system:coredns, the ConfigMap holding the Corefile, the
// Deployment, and Service kube-dns at the cluster DNS address the kubelets are configured with
// (the 10th address of the service CIDR).
package addons
