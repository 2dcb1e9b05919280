package addons

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/hardway-dev/hardway/bootstrap/retry"
)

const manifest = `---
apiVersion: v1
kind: ServiceAccount
metadata: {name: coredns, namespace: kube-system}
---
# a comment only
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:coredns"}
`

func TestObjects(t *testing.T) {
	objs, err := Objects(Manifest{Path: "/etc/kubernetes/addons/a.yaml", Data: []byte(manifest)}, Manifest{Path: "b.json", Data: []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"y"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, o.Manifest+": "+o.String())
	}
	want := "/etc/kubernetes/addons/a.yaml: serviceaccount kube-system/coredns|/etc/kubernetes/addons/a.yaml: clusterrole system:coredns|b.json: configmap y/x"
	if strings.Join(got, "|") != want {
		t.Errorf("objects %q", got)
	}
	for _, tt := range []struct{ data, want string }{
		{"apiVersion: v1\nmetadata: {name: x}\n", `a.yaml: document 1: an object needs apiVersion, kind and metadata.name (got "v1", "", "x")`},
		{"kind: A\napiVersion: v1\nmetadata: {name: x}\n---\nkind: [\n", "a.yaml: document 2: "},
	} {
		if _, err := Objects(Manifest{Path: "a.yaml", Data: []byte(tt.data)}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want %q", tt.data, err, tt.want)
		}
	}
}

// fakeServer answers a GET with 404 and an apply PATCH with the object at resourceVersion 1,
// except the answers in fail, given in turn to the PATCH requests.
type fakeServer struct {
	mu      sync.Mutex
	fail    []int
	patches []string
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	status := func(code int, reason string) {
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code, "reason": reason, "message": reason + " from the fake"})
	}
	if r.Method == http.MethodGet {
		status(http.StatusNotFound, "NotFound")
		return
	}
	f.mu.Lock()
	f.patches = append(f.patches, r.URL.Path+"?"+r.URL.RawQuery)
	var code int
	if len(f.fail) > 0 {
		code, f.fail = f.fail[0], f.fail[1:]
	}
	f.mu.Unlock()
	if code != 0 {
		status(code, http.StatusText(code))
		return
	}
	var obj map[string]any
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &obj); err != nil {
		status(http.StatusBadRequest, "BadRequest")
		return
	}
	obj["metadata"].(map[string]any)["resourceVersion"] = "1"
	json.NewEncoder(w).Encode(obj)
}

func testClient(t *testing.T, f *fakeServer) *Client {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	dyn, err := dynamic.NewForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	m := meta.NewDefaultRESTMapper(nil)
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "ServiceAccount"}, meta.RESTScopeNamespace)
	m.Add(schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole"}, meta.RESTScopeRoot)
	return &Client{Dynamic: dyn, Mapper: resettable{m}, Retry: retry.Policy{Attempts: 3, Backoff: time.Millisecond, Transient: retry.APIServer}}
}

type resettable struct{ meta.RESTMapper }

func (resettable) Reset() {}

func TestApply(t *testing.T) {
	m := Manifest{Path: "/etc/kubernetes/addons/a.yaml", Data: []byte(manifest)}
	tests := []struct {
		name       string
		fail       []int
		manifest   string // "" is manifest
		wantErr    string
		wantReport string
		wantPatch  int
	}{
		{name: "created", wantReport: "addon: serviceaccount kube-system/coredns created\naddon: clusterrole system:coredns created\n", wantPatch: 2},
		{name: "a 503 is retried", fail: []int{http.StatusServiceUnavailable},
			wantReport: "addon: serviceaccount kube-system/coredns created\naddon: clusterrole system:coredns created\n", wantPatch: 3},
		{name: "a 422 is final and names the manifest and the object", fail: []int{0, http.StatusUnprocessableEntity},
			wantErr:    "/etc/kubernetes/addons/a.yaml: clusterrole system:coredns: Unprocessable Entity from the fake",
			wantReport: "addon: serviceaccount kube-system/coredns created\n", wantPatch: 2},
		{name: "an unknown kind", manifest: "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
			wantErr: `/etc/kubernetes/addons/a.yaml: widget w: finding the API resource of example.com/v1, Kind=Widget: no matches for kind "Widget"`},
		{name: "a namespaced object without a namespace", manifest: "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: s}\n",
			wantErr: "serviceaccount s: ServiceAccount is namespaced and the object has no metadata.namespace; add one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeServer{fail: tt.fail}
			c := testClient(t, f)
			m := m
			if tt.manifest != "" {
				m.Data = []byte(tt.manifest)
			}
			rep, err := c.Apply(context.Background(), m)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			var out strings.Builder
			rep.Describe(&out)
			if out.String() != tt.wantReport {
				t.Errorf("report:\n%s\nwant:\n%s", out.String(), tt.wantReport)
			}
			if len(f.patches) != tt.wantPatch {
				t.Errorf("%d apply requests, want %d: %v", len(f.patches), tt.wantPatch, f.patches)
			}
			for _, p := range f.patches {
				if !strings.Contains(p, "fieldManager=hardway") || !strings.Contains(p, "force=true") {
					t.Errorf("apply request %s: not field manager hardway, forced", p)
				}
			}
		})
	}
}
