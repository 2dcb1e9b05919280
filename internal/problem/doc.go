// Package problem is hardway's one way of saying what is wrong: where (a field path such as
// "nodes[1].addresses[0]", a flag such as "--cert-file", a file such as "pki/apiserver.crt"),
// what, and the fix, with a severity. Checks collect every Problem into a List and report them
// all at once, as kubeadm's validation collects a field.ErrorList
// (k8s.io/apimachinery/pkg/util/validation/field); List.Err turns the errors among them into
// one error that renders each.
//
// The cluster file's validation (configs), the PKI's verification (pki), hardway etcd's flag
// checks (apiserver/etcdserver) and the severities of hardway inspect's findings (units/inspect)
// all use it.
package problem
