package storage

import (
	"bytes"
	"path"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// DefaultPrefix is kube-apiserver's --etcd-prefix default.
const DefaultPrefix = "/registry"

// specialPrefixes are kube-apiserver's compiled-in resource prefixes (v1.37).
var specialPrefixes = map[schema.GroupResource]string{
	{Group: "", Resource: "replicationcontrollers"}:     "controllers",
	{Group: "", Resource: "endpoints"}:                  "services/endpoints",
	{Group: "", Resource: "nodes"}:                      "minions",
	{Group: "", Resource: "services"}:                   "services/specs",
	{Group: "extensions", Resource: "ingresses"}:        "ingress",
	{Group: "networking.k8s.io", Resource: "ingresses"}: "ingress",
}

// cohabitating resources are stored once, under another group's place.
var cohabitating = map[schema.GroupResource]schema.GroupResource{
	{Group: "events.k8s.io", Resource: "events"}: {Group: "", Resource: "events"},
}

// groupPrefixed are built-in groups whose servers prefix keys with the group, as custom
// resources are.
var groupPrefixed = map[string]bool{"apiextensions.k8s.io": true, "apiregistration.k8s.io": true}

// ResourcePrefix is where objects of gr live below the etcd prefix. custom says gr is served
// from a CustomResourceDefinition.
func ResourcePrefix(gr schema.GroupResource, custom bool) string {
	if custom || groupPrefixed[gr.Group] {
		return gr.Group + "/" + gr.Resource
	}
	if to, ok := cohabitating[gr]; ok {
		gr = to
	}
	if p, ok := specialPrefixes[gr]; ok {
		return p
	}
	return gr.Resource
}

// Key is the etcd key of one object; namespace is "" for cluster-scoped objects.
func Key(prefix string, gr schema.GroupResource, custom bool, namespace, name string) string {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return path.Join(prefix, ResourcePrefix(gr, custom), namespace, name)
}

// ProtobufMagic starts every protobuf-encoded stored object (a runtime.Unknown envelope).
var ProtobufMagic = []byte("k8s\x00")

// MediaType is how objects of gr are encoded in etcd.
func MediaType(gr schema.GroupResource, custom bool) string {
	if custom || groupPrefixed[gr.Group] {
		return "application/json"
	}
	return "application/vnd.kubernetes.protobuf"
}

// IsProtobuf reports whether a stored (decrypted) value is protobuf-encoded.
func IsProtobuf(value []byte) bool { return bytes.HasPrefix(value, ProtobufMagic) }
