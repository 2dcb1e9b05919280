package rbac

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestBindingsMatchTheCatalogueSubjects(t *testing.T) {
	bs := Bindings()
	if len(bs) != 2 {
		t.Fatalf("%d bindings", len(bs))
	}
	admins, kubelet := bs[0], bs[1]
	if admins.Name != "hardway:cluster-admins" || admins.RoleRef != (rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"}) ||
		len(admins.Subjects) != 1 || admins.Subjects[0] != (rbacv1.Subject{Kind: "Group", APIGroup: "rbac.authorization.k8s.io", Name: "hardway:cluster-admins"}) {
		t.Errorf("cluster-admins binding: %+v", admins)
	}
	if kubelet.Name != "hardway:apiserver-kubelet-client" || kubelet.RoleRef.Name != "system:kubelet-api-admin" || kubelet.RoleRef.Kind != "ClusterRole" ||
		len(kubelet.Subjects) != 1 || kubelet.Subjects[0] != (rbacv1.Subject{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: "kube-apiserver-kubelet-client"}) {
		t.Errorf("kubelet client binding: %+v", kubelet)
	}
	for _, b := range bs {
		if b.APIVersion != "rbac.authorization.k8s.io/v1" || b.Kind != "ClusterRoleBinding" {
			t.Errorf("%s: type %s/%s", b.Name, b.APIVersion, b.Kind)
		}
	}
}

func TestDecide(t *testing.T) {
	want := Bindings()[0]
	same := *want.DeepCopy()
	same.ResourceVersion, same.UID, same.Labels = "7", "u", nil // server fields and labels do not count
	otherSubjects := *want.DeepCopy()
	otherSubjects.Subjects = append(otherSubjects.Subjects, rbacv1.Subject{Kind: "User", Name: "mallory"})
	otherRole := *want.DeepCopy()
	otherRole.RoleRef.Name = "view"
	otherRole.Subjects = nil
	for _, tc := range []struct {
		name string
		got  *rbacv1.ClusterRoleBinding
		want Action
	}{
		{"missing", nil, Create},
		{"same", &same, Unchanged},
		{"subjects differ", &otherSubjects, Update},
		{"roleRef differs", &otherRole, Recreate},
	} {
		if got := Decide(want, tc.got); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestRequests(t *testing.T) {
	ctx := context.Background()
	b := Bindings()[0]
	req, err := GetRequest(ctx, "https://10.0.0.1:6443/", b.Name)
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != http.MethodGet || req.URL.String() != "https://10.0.0.1:6443/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/hardway:cluster-admins" {
		t.Errorf("get: %s %s", req.Method, req.URL)
	}
	req, err = CreateRequest(ctx, "https://10.0.0.1:6443", b)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(req.Body)
	var sent rbacv1.ClusterRoleBinding
	if err := json.Unmarshal(body, &sent); err != nil || req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, "/clusterrolebindings") ||
		req.Header.Get("Content-Type") != "application/json" || sent.Kind != "ClusterRoleBinding" || sent.RoleRef.Name != "cluster-admin" {
		t.Errorf("create: %s %s %s: %v", req.Method, req.URL, body, err)
	}
	if _, err := UpdateRequest(ctx, "https://10.0.0.1:6443", b); err == nil {
		t.Error("an update without resourceVersion was built")
	}
	req, err = DeleteRequest(ctx, "https://10.0.0.1:6443", b.Name, "uid-1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(req.Body)
	var opts metav1.DeleteOptions
	if err := json.Unmarshal(body, &opts); err != nil || opts.Preconditions == nil || *opts.Preconditions.UID != "uid-1" || req.Method != http.MethodDelete {
		t.Errorf("delete: %s %s %s", req.Method, req.URL, body)
	}
	for _, bad := range []string{"http://10.0.0.1:6443", "10.0.0.1:6443", "https://"} {
		if _, err := GetRequest(ctx, bad, b.Name); err == nil {
			t.Errorf("%q accepted as an API server URL", bad)
		}
	}
}

// fakeAPI is an in-memory clusterrolebindings endpoint with the API server's semantics that
// matter here: 404 on a missing object, 409 on a create that exists or a stale update,
// roleRef immutable on update, uid preconditions on delete.
type fakeAPI struct {
	mu      sync.Mutex
	objs    map[string]rbacv1.ClusterRoleBinding
	rv, uid int
	writes  []string
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	const prefix = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"
	name := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, prefix), "/")
	status := func(code int, reason metav1.StatusReason) {
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: "Failure", Reason: reason, Code: int32(code), Message: string(reason)})
	}
	reply := func(code int, b rbacv1.ClusterRoleBinding) {
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(b)
	}
	if r.Method != http.MethodGet {
		f.writes = append(f.writes, r.Method+" "+name)
	}
	switch r.Method {
	case http.MethodGet:
		b, ok := f.objs[name]
		if !ok {
			status(404, metav1.StatusReasonNotFound)
			return
		}
		reply(200, b)
	case http.MethodPost:
		var b rbacv1.ClusterRoleBinding
		_ = json.NewDecoder(r.Body).Decode(&b)
		if _, ok := f.objs[b.Name]; ok {
			status(409, metav1.StatusReasonAlreadyExists)
			return
		}
		f.rv++
		f.uid++
		b.ResourceVersion, b.UID = string(rune('0'+f.rv)), types.UID(string(rune('a'+f.uid)))
		f.objs[b.Name] = b
		reply(201, b)
	case http.MethodPut:
		var b rbacv1.ClusterRoleBinding
		_ = json.NewDecoder(r.Body).Decode(&b)
		old, ok := f.objs[name]
		switch {
		case !ok:
			status(404, metav1.StatusReasonNotFound)
		case old.ResourceVersion != b.ResourceVersion:
			status(409, metav1.StatusReasonConflict)
		case old.RoleRef != b.RoleRef:
			status(422, metav1.StatusReasonInvalid)
		default:
			f.rv++
			b.ResourceVersion = string(rune('0' + f.rv))
			f.objs[name] = b
			reply(200, b)
		}
	case http.MethodDelete:
		var opts metav1.DeleteOptions
		_ = json.NewDecoder(r.Body).Decode(&opts)
		old, ok := f.objs[name]
		switch {
		case !ok:
			status(404, metav1.StatusReasonNotFound)
		case opts.Preconditions != nil && opts.Preconditions.UID != nil && *opts.Preconditions.UID != old.UID:
			status(409, metav1.StatusReasonConflict)
		default:
			delete(f.objs, name)
			reply(200, old)
		}
	}
}

func TestApplyIsIdempotent(t *testing.T) {
	api := &fakeAPI{objs: map[string]rbacv1.ClusterRoleBinding{}}
	srv := httptest.NewTLSServer(api)
	defer srv.Close()
	c := &Client{Server: srv.URL, HTTP: srv.Client()}
	ctx := context.Background()
	actions := func(rep *Report) []Action {
		var out []Action
		for _, r := range rep.Results {
			out = append(out, r.Action)
		}
		return out
	}

	rep, err := c.Apply(ctx, Bindings())
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(rep); len(got) != 2 || got[0] != Create || got[1] != Create {
		t.Fatalf("first apply: %v", got)
	}
	api.writes = nil
	rep, err = c.Apply(ctx, Bindings())
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(rep); got[0] != Unchanged || got[1] != Unchanged || len(api.writes) != 0 {
		t.Fatalf("second apply: %v, writes %v", got, api.writes)
	}

	// Someone added a subject, and someone pointed the kubelet binding at another role.
	b := api.objs[ClusterAdminsBinding]
	b.Subjects = append(b.Subjects, rbacv1.Subject{Kind: "User", APIGroup: rbacGroup, Name: "mallory"})
	b.Annotations = map[string]string{"keep": "me"}
	api.objs[ClusterAdminsBinding] = b
	k := api.objs[KubeletClientBinding]
	k.RoleRef.Name = "view"
	api.objs[KubeletClientBinding] = k
	api.writes = nil
	rep, err = c.Apply(ctx, Bindings())
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(rep); got[0] != Update || got[1] != Recreate {
		t.Fatalf("repair: %v", got)
	}
	if w := strings.Join(api.writes, ","); w != "PUT hardway:cluster-admins,DELETE hardway:apiserver-kubelet-client,POST " {
		t.Fatalf("repair requests: %s", w)
	}
	if got := api.objs[ClusterAdminsBinding]; len(got.Subjects) != 1 || got.Annotations["keep"] != "me" {
		t.Fatalf("updated binding: %+v", got)
	}
	if got := api.objs[KubeletClientBinding]; got.RoleRef.Name != KubeletAPIAdminRole {
		t.Fatalf("recreated binding: %+v", got)
	}
	var out strings.Builder
	rep.Describe(&out)
	if out.String() != "rbac: clusterrolebinding hardway:cluster-admins updated\nrbac: clusterrolebinding hardway:apiserver-kubelet-client recreated\n" {
		t.Fatalf("report:\n%s", out.String())
	}
}

func TestApplyReportsTheServersReason(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(403)
		_ = json.NewEncoder(w).Encode(metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status"}, Reason: metav1.StatusReasonForbidden, Message: `User "x" cannot get resource`})
	}))
	defer srv.Close()
	c := &Client{Server: srv.URL, HTTP: srv.Client()}
	_, err := c.Apply(context.Background(), Bindings())
	if err == nil || !strings.Contains(err.Error(), "hardway:cluster-admins") || !strings.Contains(err.Error(), "HTTP 403 Forbidden") || !strings.Contains(err.Error(), "cannot get resource") {
		t.Fatalf("error: %v", err)
	}
}
