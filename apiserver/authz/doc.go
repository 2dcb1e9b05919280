// Package authz holds RBAC authorization as kube-apiserver evaluates it: which bindings apply
// to a user (User, Group, and ServiceAccount subjects, a RoleBinding's service accounts
// defaulting to its namespace), which rules their roles grant (ClusterRoleBindings everywhere,
// RoleBindings in their namespace, to a Role there or a ClusterRole), and whether a rule covers a
// request (verbs, API groups, resources with subresources and "*/subresource", resource names,
// non-resource URLs with a trailing "*").
//
// It is RBAC alone: the Node authorizer, which answers for kubelets first, and system:masters,
// which bypasses authorization, are not here.
//
// Sources: k8s.io/kubernetes pkg/apis/rbac/v1/evaluation_helpers.go and
// pkg/registry/rbac/validation/rule.go (v1.37.2). Decisions are compared with the real
// kube-apiserver's SubjectAccessReview over the cluster's own RBAC objects in units/systemd's
// end-to-end test.
package authz
