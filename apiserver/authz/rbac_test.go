package authz

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hardway-dev/hardway/apiserver/authn"
)

func TestRuleAllows(t *testing.T) {
	res := func(verb, group, resource, sub, name string) Attributes {
		return Attributes{Verb: verb, ResourceRequest: true, APIGroup: group, Resource: resource, Subresource: sub, Name: name}
	}
	path := func(verb, p string) Attributes { return Attributes{Verb: verb, Path: p} }
	tests := []struct {
		name string
		rule rbacv1.PolicyRule
		req  Attributes
		want bool
	}{
		{"exact", rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}, res("get", "", "pods", "", "p"), true},
		{"other verb", rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}, res("list", "", "pods", "", ""), false},
		{"other group", rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{"apps"}, Resources: []string{"pods"}}, res("get", "", "pods", "", ""), false},
		{"wildcards", rbacv1.PolicyRule{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}, res("delete", "apps", "deployments", "scale", ""), true},
		{"subresource needs its own entry", rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}, res("get", "", "pods", "log", ""), false},
		{"subresource", rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods/log"}}, res("get", "", "pods", "log", ""), true},
		{"*/subresource", rbacv1.PolicyRule{Verbs: []string{"update"}, APIGroups: []string{"apps"}, Resources: []string{"*/scale"}}, res("update", "apps", "deployments", "scale", ""), true},
		{"resource names", rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"a"}}, res("get", "", "configmaps", "", "b"), false},
		{"resource names match", rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"a"}}, res("get", "", "configmaps", "", "a"), true},
		{"non-resource exact", rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz"}}, path("get", "/healthz"), true},
		{"non-resource prefix", rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz*"}}, path("get", "/healthz/etcd"), true},
		{"non-resource rule, resource request", rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"*"}}, res("get", "", "pods", "", ""), false},
		{"resource rule, non-resource request", rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{"*"}, Resources: []string{"*"}}, path("get", "/metrics"), false},
	}
	for _, tt := range tests {
		if got := RuleAllows(&tt.rule, tt.req); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestPolicyBindings(t *testing.T) {
	ref := func(kind, name string) rbacv1.RoleRef {
		return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: name}
	}
	read := []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"secrets"}}}
	p := &Policy{
		ClusterRoles: []rbacv1.ClusterRole{{ObjectMeta: metav1.ObjectMeta{Name: "reader"}, Rules: read}},
		Roles:        []rbacv1.Role{{ObjectMeta: metav1.ObjectMeta{Name: "local", Namespace: "team"}, Rules: read}},
		ClusterRoleBindings: []rbacv1.ClusterRoleBinding{{ObjectMeta: metav1.ObjectMeta{Name: "ops"}, RoleRef: ref("ClusterRole", "reader"),
			Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, Name: "ops"}, {Kind: rbacv1.ServiceAccountKind, Name: "robot"}}}},
		RoleBindings: []rbacv1.RoleBinding{
			{ObjectMeta: metav1.ObjectMeta{Name: "dev", Namespace: "team"}, RoleRef: ref("Role", "local"), Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: "jane"}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "sa", Namespace: "team"}, RoleRef: ref("ClusterRole", "reader"), Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "builder"}}},
		},
	}
	get := func(u authn.User, ns string) bool {
		return p.Authorize(Attributes{User: &u, Verb: "get", ResourceRequest: true, Resource: "secrets", Namespace: ns, Name: "x"}).Allowed
	}
	for name, tc := range map[string]struct {
		u    authn.User
		ns   string
		want bool
	}{
		"group through a cluster binding":           {authn.User{Name: "bob", Groups: []string{"ops"}}, "any", true},
		"user through a role binding":               {authn.User{Name: "jane"}, "team", true},
		"a role binding stays in its namespace":     {authn.User{Name: "jane"}, "other", false},
		"a cluster-scoped request skips it too":     {authn.User{Name: "jane"}, "", false},
		"service account defaults to the binding's": {authn.User{Name: "system:serviceaccount:team:builder"}, "team", true},
		"a cluster binding's SA needs a namespace":  {authn.User{Name: "system:serviceaccount:team:robot"}, "team", false},
		"nobody": {authn.User{Name: "eve"}, "team", false},
	} {
		if got := get(tc.u, tc.ns); got != tc.want {
			t.Errorf("%s: %v, want %v", name, got, tc.want)
		}
	}
}
