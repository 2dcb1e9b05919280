// Package rbac applies the cluster's bootstrap RBAC: the objects the API server needs before the
// everyday credentials work, applied once with the break-glass super-admin credentials
// (system:masters) by `hardway launch` on the first control-plane node.
//
//   - ClusterRoleBinding hardway:cluster-admins binds the group the admin kubeconfig carries
//     (O=hardway:cluster-admins) to ClusterRole cluster-admin, so the everyday admin is revocable
//     through RBAC instead of being in system:masters.
//   - ClusterRoleBinding hardway:apiserver-kubelet-client binds the API server's kubelet client
//     (CN=kube-apiserver-kubelet-client, no group) to ClusterRole system:kubelet-api-admin, so
//     `kubectl logs/exec` reach kubelets that authorize by webhook.
//
// The package is split like the rest of hardway: Bindings is data, Decide and the request
// builders (GetRequest, CreateRequest, UpdateRequest, DeleteRequest) are pure, and Client does
// the I/O over plain net/http with the kubeconfig's embedded certificates (client-go is a test
// dependency only). Apply is idempotent: a binding that matches is left alone, one whose
// subjects differ is updated, and one whose roleRef differs (immutable in the API) is deleted
// and created again. A second Apply reports every binding unchanged and sends no write. Being
// idempotent, Apply repeats itself after a failure that may pass, as the client's Retry policy
// (data: attempts, pauses, timeout, which failures are transient) says; NewClient uses
// DefaultRetry.
package rbac
