// Package storage holds kube-apiserver's etcd layout, so hardway's API server stores objects
// where the real one does and each can read what the other wrote:
//
//   - keys: <prefix>/<resource prefix>/<namespace>/<name>, the namespace left out for
//     cluster-scoped objects; --etcd-prefix defaults to /registry;
//   - the resource prefix is the resource's name for the built-in groups, with kube-apiserver's
//     special cases (services are under services/specs, endpoints under services/endpoints,
//     nodes under minions, replicationcontrollers under controllers, ingresses of both groups
//     under ingress; events.k8s.io events share core events' place), and <group>/<resource>
//     for custom resources and for the apiextensions.k8s.io and apiregistration.k8s.io groups;
//   - values: built-in objects are protobuf in a runtime.Unknown behind the 4-byte magic
//     "k8s\x00"; custom resources, CustomResourceDefinitions and APIServices are JSON.
//
// Sources: k8s.io/kubernetes pkg/kubeapiserver/default_storage_factory_builder.go
// (SpecialDefaultResourcePrefixes, v1.37.2), k8s.io/apiserver pkg/server/storage
// (ResourcePrefix, cohabitating resources), k8s.io/apiextensions-apiserver (custom resources
// under <group>/<plural>). The layout is checked against the real kube-apiserver in
// units/systemd's end-to-end test, which lists the keys it wrote with etcdctl.
package storage
