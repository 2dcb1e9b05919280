package authz

import (
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/hardway-dev/hardway/apiserver/authn"
)

// Attributes describe one request to authorize.
type Attributes struct {
	User *authn.User
	Verb string
	// A resource request names a resource; a non-resource request a Path (/healthz, /api).
	ResourceRequest bool
	APIGroup        string
	Resource        string
	Subresource     string
	Namespace       string
	Name            string
	Path            string
}

// Policy is the RBAC objects of a cluster.
type Policy struct {
	ClusterRoles        []rbacv1.ClusterRole
	Roles               []rbacv1.Role
	ClusterRoleBindings []rbacv1.ClusterRoleBinding
	RoleBindings        []rbacv1.RoleBinding
}

// Decision is an RBAC answer and the binding that allowed it.
type Decision struct {
	Allowed bool
	Reason  string
}

// Authorize evaluates the request against the policy.
func (p *Policy) Authorize(a Attributes) Decision {
	for _, b := range p.ClusterRoleBindings {
		if !appliesTo(a.User, b.Subjects, "") {
			continue
		}
		if rules, ok := p.clusterRoleRules(b.RoleRef); ok && anyAllows(rules, a) {
			return Decision{true, fmt.Sprintf("ClusterRoleBinding %q of ClusterRole %q", b.Name, b.RoleRef.Name)}
		}
	}
	if a.Namespace != "" {
		for _, b := range p.RoleBindings {
			if b.Namespace != a.Namespace || !appliesTo(a.User, b.Subjects, a.Namespace) {
				continue
			}
			var rules []rbacv1.PolicyRule
			ok := false
			switch b.RoleRef.Kind {
			case "ClusterRole":
				rules, ok = p.clusterRoleRules(b.RoleRef)
			case "Role":
				rules, ok = p.roleRules(b.Namespace, b.RoleRef.Name)
			}
			if ok && anyAllows(rules, a) {
				return Decision{true, fmt.Sprintf("RoleBinding %s/%s of %s %q", b.Namespace, b.Name, b.RoleRef.Kind, b.RoleRef.Name)}
			}
		}
	}
	return Decision{false, "no RBAC rule allows it"}
}

func (p *Policy) clusterRoleRules(ref rbacv1.RoleRef) ([]rbacv1.PolicyRule, bool) {
	if ref.Kind != "ClusterRole" || ref.APIGroup != rbacv1.GroupName {
		return nil, false
	}
	for _, r := range p.ClusterRoles {
		if r.Name == ref.Name {
			return r.Rules, true
		}
	}
	return nil, false
}

func (p *Policy) roleRules(namespace, name string) ([]rbacv1.PolicyRule, bool) {
	for _, r := range p.Roles {
		if r.Namespace == namespace && r.Name == name {
			return r.Rules, true
		}
	}
	return nil, false
}

func appliesTo(u *authn.User, subjects []rbacv1.Subject, namespace string) bool {
	if u == nil {
		return false
	}
	for _, s := range subjects {
		switch s.Kind {
		case rbacv1.UserKind:
			if u.Name == s.Name {
				return true
			}
		case rbacv1.GroupKind:
			if slices.Contains(u.Groups, s.Name) {
				return true
			}
		case rbacv1.ServiceAccountKind:
			ns := namespace
			if s.Namespace != "" {
				ns = s.Namespace
			}
			if ns != "" && u.Name == "system:serviceaccount:"+ns+":"+s.Name {
				return true
			}
		}
	}
	return false
}

func anyAllows(rules []rbacv1.PolicyRule, a Attributes) bool {
	for i := range rules {
		if RuleAllows(&rules[i], a) {
			return true
		}
	}
	return false
}

// RuleAllows reports whether one rule covers the request.
func RuleAllows(r *rbacv1.PolicyRule, a Attributes) bool {
	if !matchAll(r.Verbs, a.Verb, rbacv1.VerbAll) {
		return false
	}
	if !a.ResourceRequest {
		for _, u := range r.NonResourceURLs {
			if u == rbacv1.NonResourceAll || u == a.Path || (strings.HasSuffix(u, "*") && strings.HasPrefix(a.Path, strings.TrimRight(u, "*"))) {
				return true
			}
		}
		return false
	}
	if !matchAll(r.APIGroups, a.APIGroup, rbacv1.APIGroupAll) {
		return false
	}
	combined := a.Resource
	if a.Subresource != "" {
		combined += "/" + a.Subresource
	}
	resourceOK := false
	for _, res := range r.Resources {
		if res == rbacv1.ResourceAll || res == combined || (a.Subresource != "" && res == "*/"+a.Subresource) {
			resourceOK = true
			break
		}
	}
	if !resourceOK {
		return false
	}
	return len(r.ResourceNames) == 0 || slices.Contains(r.ResourceNames, a.Name)
}

func matchAll(values []string, want, all string) bool {
	for _, v := range values {
		if v == all || v == want {
			return true
		}
	}
	return false
}
