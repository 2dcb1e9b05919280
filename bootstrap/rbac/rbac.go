package rbac

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Names of the bootstrap objects and the identities they bind. The group and the user are the
// subjects pki's catalogue issues: the admin kubeconfig's O and the API server's kubelet client CN.
const (
	ClusterAdminsBinding = "hardway:cluster-admins"
	ClusterAdminsGroup   = "hardway:cluster-admins"
	ClusterAdminRole     = "cluster-admin"
	KubeletClientBinding = "hardway:apiserver-kubelet-client"
	KubeletClientUser    = "kube-apiserver-kubelet-client"
	KubeletAPIAdminRole  = "system:kubelet-api-admin"
)

const (
	clusterRoleBindingsPath = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"
	rbacAPIVersion          = "rbac.authorization.k8s.io/v1"
	rbacGroup               = rbacv1.GroupName
	clusterRoleBindingKind  = "ClusterRoleBinding"
	clusterRoleKind         = "ClusterRole"
	managedByLabel          = "app.kubernetes.io/managed-by"
	managedByValue          = "hardway"
	contentTypeJSON         = "application/json"
	userAgent               = "hardway"
)

// Bindings returns the bootstrap ClusterRoleBindings, in the order they are applied.
func Bindings() []rbacv1.ClusterRoleBinding {
	return []rbacv1.ClusterRoleBinding{
		binding(ClusterAdminsBinding, ClusterAdminRole, rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacGroup, Name: ClusterAdminsGroup}),
		binding(KubeletClientBinding, KubeletAPIAdminRole, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacGroup, Name: KubeletClientUser}),
	}
}

func binding(name, role string, subjects ...rbacv1.Subject) rbacv1.ClusterRoleBinding {
	return rbacv1.ClusterRoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: rbacAPIVersion, Kind: clusterRoleBindingKind},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{managedByLabel: managedByValue}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacGroup, Kind: clusterRoleKind, Name: role},
		Subjects:   subjects,
	}
}

// Action is what Apply does (or did) to one binding.
type Action string

const (
	Create    Action = "created"   // missing: POST
	Update    Action = "updated"   // subjects differ: PUT with the server's resourceVersion
	Recreate  Action = "recreated" // roleRef differs (immutable): DELETE, then POST
	Unchanged Action = "unchanged" // matches: no request
)

// Decide compares the wanted binding with the one the server has (nil when it has none).
// Only roleRef and subjects count; labels, annotations and server-set fields do not.
func Decide(want rbacv1.ClusterRoleBinding, got *rbacv1.ClusterRoleBinding) Action {
	switch {
	case got == nil:
		return Create
	case got.RoleRef != want.RoleRef:
		return Recreate
	case !slices.Equal(got.Subjects, want.Subjects):
		return Update
	}
	return Unchanged
}

// Updated returns got with want's subjects, keeping the server's metadata (resourceVersion for
// the optimistic-concurrency check, labels and annotations others added).
func Updated(want rbacv1.ClusterRoleBinding, got rbacv1.ClusterRoleBinding) rbacv1.ClusterRoleBinding {
	out := *got.DeepCopy()
	out.TypeMeta = want.TypeMeta
	out.Subjects = slices.Clone(want.Subjects)
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	for k, v := range want.Labels {
		out.Labels[k] = v
	}
	return out
}

// objectURL is server's URL of the named binding ("" for the collection).
func objectURL(server, name string) (string, error) {
	u, err := url.Parse(server)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("API server URL %q: want https://HOST[:PORT]", server)
	}
	p := strings.TrimSuffix(u.Path, "/") + clusterRoleBindingsPath
	if name != "" {
		p += "/" + url.PathEscape(name)
	}
	u.Path, u.RawPath, u.RawQuery, u.Fragment = p, "", "", ""
	return u.String(), nil
}

func newRequest(ctx context.Context, method, server, name string, body any) (*http.Request, error) {
	u, err := objectURL(server, name)
	if err != nil {
		return nil, err
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", contentTypeJSON)
	req.Header.Set("User-Agent", userAgent)
	if body != nil {
		req.Header.Set("Content-Type", contentTypeJSON)
	}
	return req, nil
}

// GetRequest reads the named ClusterRoleBinding.
func GetRequest(ctx context.Context, server, name string) (*http.Request, error) {
	return newRequest(ctx, http.MethodGet, server, name, nil)
}

// CreateRequest creates b.
func CreateRequest(ctx context.Context, server string, b rbacv1.ClusterRoleBinding) (*http.Request, error) {
	return newRequest(ctx, http.MethodPost, server, "", b)
}

// UpdateRequest replaces b; b carries the resourceVersion it was read at, so a concurrent
// change makes the server answer 409 Conflict instead of losing it.
func UpdateRequest(ctx context.Context, server string, b rbacv1.ClusterRoleBinding) (*http.Request, error) {
	if b.ResourceVersion == "" {
		return nil, fmt.Errorf("clusterrolebinding %s: update without a resourceVersion", b.Name)
	}
	return newRequest(ctx, http.MethodPut, server, b.Name, b)
}

// DeleteRequest deletes the named binding, only if it is still the object with uid.
func DeleteRequest(ctx context.Context, server, name string, uid string) (*http.Request, error) {
	opts := metav1.DeleteOptions{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "DeleteOptions"}}
	if uid != "" {
		u := types.UID(uid)
		opts.Preconditions = &metav1.Preconditions{UID: &u}
	}
	return newRequest(ctx, http.MethodDelete, server, name, opts)
}
