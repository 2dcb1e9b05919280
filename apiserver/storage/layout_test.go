package storage

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestKey(t *testing.T) {
	gr := func(g, r string) schema.GroupResource { return schema.GroupResource{Group: g, Resource: r} }
	tests := []struct {
		gr        schema.GroupResource
		custom    bool
		ns, name  string
		want      string
		mediaType string
	}{
		{gr("", "secrets"), false, "default", "db", "/registry/secrets/default/db", "application/vnd.kubernetes.protobuf"},
		{gr("", "namespaces"), false, "", "kube-system", "/registry/namespaces/kube-system", "application/vnd.kubernetes.protobuf"},
		{gr("", "services"), false, "default", "kubernetes", "/registry/services/specs/default/kubernetes", "application/vnd.kubernetes.protobuf"},
		{gr("", "endpoints"), false, "default", "kubernetes", "/registry/services/endpoints/default/kubernetes", "application/vnd.kubernetes.protobuf"},
		{gr("", "nodes"), false, "", "worker-1", "/registry/minions/worker-1", "application/vnd.kubernetes.protobuf"},
		{gr("", "replicationcontrollers"), false, "ns", "rc", "/registry/controllers/ns/rc", "application/vnd.kubernetes.protobuf"},
		{gr("networking.k8s.io", "ingresses"), false, "ns", "web", "/registry/ingress/ns/web", "application/vnd.kubernetes.protobuf"},
		{gr("apps", "deployments"), false, "ns", "web", "/registry/deployments/ns/web", "application/vnd.kubernetes.protobuf"},
		{gr("rbac.authorization.k8s.io", "clusterroles"), false, "", "admin", "/registry/clusterroles/admin", "application/vnd.kubernetes.protobuf"},
		{gr("coordination.k8s.io", "leases"), false, "kube-system", "kube-scheduler", "/registry/leases/kube-system/kube-scheduler", "application/vnd.kubernetes.protobuf"},
		{gr("events.k8s.io", "events"), false, "ns", "e", "/registry/events/ns/e", "application/vnd.kubernetes.protobuf"},
		{gr("apiextensions.k8s.io", "customresourcedefinitions"), false, "", "widgets.example.com", "/registry/apiextensions.k8s.io/customresourcedefinitions/widgets.example.com", "application/json"},
		{gr("apiregistration.k8s.io", "apiservices"), false, "", "v1.", "/registry/apiregistration.k8s.io/apiservices/v1.", "application/json"},
		{gr("example.com", "widgets"), true, "ns", "w", "/registry/example.com/widgets/ns/w", "application/json"},
		{gr("gateway.networking.k8s.io", "gateways"), true, "ns", "gw", "/registry/gateway.networking.k8s.io/gateways/ns/gw", "application/json"},
	}
	for _, tt := range tests {
		if got := Key(DefaultPrefix, tt.gr, tt.custom, tt.ns, tt.name); got != tt.want {
			t.Errorf("Key(%v, custom=%v) = %s, want %s", tt.gr, tt.custom, got, tt.want)
		}
		if got := MediaType(tt.gr, tt.custom); got != tt.mediaType {
			t.Errorf("MediaType(%v) = %s, want %s", tt.gr, got, tt.mediaType)
		}
	}
	if got := Key("/prod", gr("", "secrets"), false, "a", "b"); got != "/prod/secrets/a/b" {
		t.Errorf("custom --etcd-prefix: %s", got)
	}
}
