package nodes

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fakeNodes serves one Node at /api/v1/nodes/n1 with spec.podCIDRs cidrs (nil: not registered)
// and records the patches.
func fakeNodes(t *testing.T, cidrs []string) (kubeconfig []byte, server string, patches *[]string) {
	t.Helper()
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/api/v1/nodes/n1" || cidrs == nil {
			w.WriteHeader(http.StatusNotFound)
			json.NewEncoder(w).Encode(map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404, "reason": "NotFound"})
			return
		}
		if r.Method == http.MethodPatch {
			b, _ := io.ReadAll(r.Body)
			got = append(got, string(b))
		}
		podCIDR := ""
		if len(cidrs) > 0 {
			podCIDR = cidrs[0]
		}
		json.NewEncoder(w).Encode(map[string]any{"kind": "Node", "apiVersion": "v1", "metadata": map[string]any{"name": "n1", "resourceVersion": "7"},
			"spec": map[string]any{"podCIDR": podCIDR, "podCIDRs": cidrs}})
	}))
	t.Cleanup(srv.Close)
	// The test server is plain HTTP: a kubeconfig with no credentials, its server replaced.
	kc := []byte("apiVersion: v1\nkind: Config\nclusters: [{name: t, cluster: {server: 'https://unused.invalid'}}]\n" +
		"users: [{name: u, user: {}}]\ncontexts: [{name: t, context: {cluster: t, user: u}}]\ncurrent-context: t\n")
	return kc, srv.URL, &got
}

func TestSetPodCIDR(t *testing.T) {
	tests := []struct {
		name        string
		cidrs       []string
		cidr        string
		wantChanged bool
		wantErr     string
		wantPatch   string
	}{
		{name: "empty: set", cidrs: []string{}, cidr: "10.244.1.0/24", wantChanged: true,
			wantPatch: `{"metadata":{"resourceVersion":"7"},"spec":{"podCIDR":"10.244.1.0/24","podCIDRs":["10.244.1.0/24"]}}`},
		{name: "already set", cidrs: []string{"10.244.1.0/24"}, cidr: "10.244.1.0/24"},
		{name: "set to another", cidrs: []string{"10.244.9.0/24"}, cidr: "10.244.1.0/24",
			wantErr: "node n1 has spec.podCIDRs [10.244.9.0/24], the cluster file gives it 10.244.1.0/24; a Node's pod CIDR cannot change once set: drain the node and delete its Node object (kubectl delete node n1)"},
		{name: "not a prefix", cidrs: []string{}, cidr: "10.244.1.1/24", wantErr: `pod CIDR "10.244.1.1/24" is not a network prefix`},
		{name: "not registered", cidr: "10.244.1.0/24", wantErr: "node n1: the kubelet has not registered the Node"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kc, server, patches := fakeNodes(t, tt.cidrs)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			changed, err := SetPodCIDR(ctx, kc, server, "n1", tt.cidr)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			if changed != tt.wantChanged {
				t.Errorf("changed %v, want %v", changed, tt.wantChanged)
			}
			if got := strings.Join(*patches, "\n"); got != tt.wantPatch {
				t.Errorf("patches %s, want %s", got, tt.wantPatch)
			}
		})
	}
}
