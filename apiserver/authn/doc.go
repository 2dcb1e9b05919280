// Package authn holds how hardway's API server knows who is calling, as kube-apiserver does:
//
//   - X509: a client certificate that chains to the --client-ca-file roots (intermediates from
//     the presented chain) and is valid for client auth names the user: CN is the user name,
//     every O a group; the SHA-256 of the certificate becomes the extra
//     authentication.kubernetes.io/credential-id "X509SHA256=<hex>". A certificate with no CN
//     authenticates nobody.
//   - Every authenticated user is also in system:authenticated.
//   - NodeIdentity: a user is a node only when its name is system:node:<node> and it is in
//     system:nodes (the Node authorizer and NodeRestriction rely on both).
//
// Sources: k8s.io/apiserver pkg/authentication/request/x509/x509.go (v0.37.2:
// DefaultVerifyOptions, CommonNameUserConversion), pkg/authentication/group
// (AuthenticatedGroupAdder), k8s.io/kubernetes pkg/auth/nodeidentifier. The result is compared
// with the real kube-apiserver's own answer (SelfSubjectReview, `kubectl auth whoami`) for every
// kubeconfig hardway generates, in units/systemd's end-to-end test.
package authn
