package inspect

import (
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

// A clean cluster: every component configured as it should be, with a PKI that matches.
// Every rule's "does not fire" case starts from here (TestCleanClusterHasNoFindings), and most
// "fires" cases change one thing in it.

const (
	cleanAPI = "kube-apiserver --advertise-address=10.0.0.10 --anonymous-auth=false --authorization-mode=Node,RBAC --service-account-extend-token-expiration=false" +
		" --client-ca-file=/etc/kubernetes/pki/ca.crt --enable-admission-plugins=NodeRestriction" +
		" --encryption-provider-config=/etc/kubernetes/encryption-config.yaml" +
		" --etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt --etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt" +
		" --etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key --etcd-servers=https://10.0.0.10:2379" +
		" --kubelet-certificate-authority=/etc/kubernetes/pki/ca.crt" +
		" --kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt" +
		" --kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key" +
		" --proxy-client-cert-file=/etc/kubernetes/pki/front-proxy-client.crt --proxy-client-key-file=/etc/kubernetes/pki/front-proxy-client.key" +
		" --requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt" +
		" --audit-policy-file=/etc/kubernetes/audit-policy.yaml --audit-log-path=/var/log/kubernetes/audit.log" +
		" --profiling=false --service-account-issuer=https://kubernetes.default.svc.cluster.local" +
		" --service-account-key-file=/etc/kubernetes/pki/sa.pub --service-account-signing-key-file=/etc/kubernetes/pki/sa.key" +
		" --service-cluster-ip-range=10.96.0.0/12 --tls-cert-file=/etc/kubernetes/pki/apiserver.crt" +
		" --tls-private-key-file=/etc/kubernetes/pki/apiserver.key --tls-min-version=VersionTLS12"
	cleanEtcd = "etcd --name=m0 --data-dir=/var/lib/etcd --cert-file=/etc/kubernetes/pki/etcd/server.crt" +
		" --key-file=/etc/kubernetes/pki/etcd/server.key --client-cert-auth=true --trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt" +
		" --peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt --peer-key-file=/etc/kubernetes/pki/etcd/peer.key" +
		" --peer-client-cert-auth=true --peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt" +
		" --listen-client-urls=https://10.0.0.10:2379,https://127.0.0.1:2379 --advertise-client-urls=https://10.0.0.10:2379" +
		" --listen-peer-urls=https://10.0.0.10:2380 --initial-advertise-peer-urls=https://10.0.0.10:2380" +
		" --initial-cluster=m0=https://10.0.0.10:2380"
	cleanKCM = "kube-controller-manager --bind-address=127.0.0.1 --profiling=false --use-service-account-credentials=true" +
		" --service-account-private-key-file=/etc/kubernetes/pki/sa.key --root-ca-file=/etc/kubernetes/pki/ca.crt" +
		" --kubeconfig=/etc/kubernetes/controller-manager.kubeconfig --cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt" +
		" --cluster-signing-key-file=/etc/kubernetes/pki/ca.key --service-cluster-ip-range=10.96.0.0/12"
	cleanScheduler = "kube-scheduler --bind-address=127.0.0.1 --profiling=false --kubeconfig=/etc/kubernetes/scheduler.kubeconfig"
	cleanKubelet   = "kubelet --config=/var/lib/kubelet/config.yaml --kubeconfig=/etc/kubernetes/kubelet.kubeconfig"
)

const kubeletConfigYAML = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: /etc/kubernetes/pki/ca.crt}
authorization: {mode: Webhook}
readOnlyPort: 0
tlsCertFile: /var/lib/kubelet/pki/kubelet.crt
tlsPrivateKeyFile: /var/lib/kubelet/pki/kubelet.key
`

type testPKI struct {
	ca, etcdCA, frontCA *testCA
	fs                  fstest.MapFS
}

func kubeconfigYAML(ca *testCA, cert, key []byte) []byte {
	b := func(x []byte) string { return base64.StdEncoding.EncodeToString(x) }
	return []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://10.0.0.10:6443", certificate-authority-data: %s}
users:
- name: u
  user: {client-certificate-data: %s, client-key-data: %s}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
`, b(ca.pem), b(cert), b(key)))
}

// goodPKI returns a node file system holding every file the clean command lines name.
func goodPKI(t testing.TB) *testPKI {
	t.Helper()
	p := &testPKI{ca: newCA(t, "kubernetes"), etcdCA: newCA(t, "etcd-ca"), frontCA: newCA(t, "front-proxy-ca"), fs: fstest.MapFS{}}
	pair := func(ca *testCA, base string, o leafOpts) {
		c, k := ca.issue(t, o)
		put(p.fs, base+".crt", c, 0o644)
		put(p.fs, base+".key", k, 0o600)
	}
	server := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	client := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	put(p.fs, "/etc/kubernetes/pki/ca.crt", p.ca.pem, 0o644)
	put(p.fs, "/etc/kubernetes/pki/ca.key", keyPEM2(t, p.ca.key), 0o600)
	put(p.fs, "/etc/kubernetes/pki/etcd/ca.crt", p.etcdCA.pem, 0o644)
	put(p.fs, "/etc/kubernetes/pki/front-proxy-ca.crt", p.frontCA.pem, 0o644)
	pair(p.ca, "/etc/kubernetes/pki/apiserver", leafOpts{cn: "kube-apiserver", usages: server,
		sans: []string{"kubernetes", "kubernetes.default", "kubernetes.default.svc", "10.0.0.10", "10.96.0.1", "127.0.0.1"}})
	pair(p.ca, "/etc/kubernetes/pki/apiserver-kubelet-client", leafOpts{cn: "kube-apiserver-kubelet-client", usages: client})
	pair(p.etcdCA, "/etc/kubernetes/pki/apiserver-etcd-client", leafOpts{cn: "kube-apiserver-etcd-client", usages: client})
	pair(p.frontCA, "/etc/kubernetes/pki/front-proxy-client", leafOpts{cn: "front-proxy-client", usages: client})
	pair(p.etcdCA, "/etc/kubernetes/pki/etcd/server", leafOpts{cn: "m0", sans: []string{"m0", "localhost", "10.0.0.10", "127.0.0.1"}})
	pair(p.etcdCA, "/etc/kubernetes/pki/etcd/peer", leafOpts{cn: "m0", sans: []string{"m0", "10.0.0.10"}})
	pair(p.ca, "/var/lib/kubelet/pki/kubelet", leafOpts{cn: "node-0", usages: server, sans: []string{"node-0", "10.0.0.20"}})
	sa := newKey(t)
	put(p.fs, "/etc/kubernetes/pki/sa.key", keyPEM2(t, sa), 0o600)
	put(p.fs, "/etc/kubernetes/pki/sa.pub", pubPEM(t, sa), 0o644)
	put(p.fs, "/etc/kubernetes/encryption-config.yaml", []byte("kind: EncryptionConfiguration\n"), 0o600)
	put(p.fs, "/etc/kubernetes/audit-policy.yaml", []byte("kind: Policy\n"), 0o644)
	put(p.fs, "/var/lib/kubelet/config.yaml", []byte(kubeletConfigYAML), 0o644)
	for _, kc := range []struct{ file, cn string }{
		{"controller-manager", "system:kube-controller-manager"}, {"scheduler", "system:kube-scheduler"}, {"kubelet", "system:node:node-0"},
	} {
		c, k := p.ca.issue(t, leafOpts{cn: kc.cn, usages: client})
		put(p.fs, "/etc/kubernetes/"+kc.file+".kubeconfig", kubeconfigYAML(p.ca, c, k), 0o600)
	}
	return p
}

func cleanCluster(t testing.TB) []*Invocation {
	var out []*Invocation
	for _, l := range []string{cleanAPI, cleanEtcd, cleanKCM, cleanScheduler, cleanKubelet} {
		out = append(out, command(t, l))
	}
	return out
}

func TestCleanClusterHasNoFindings(t *testing.T) {
	p := goodPKI(t)
	rep := Inspect(cleanCluster(t), opts(p.fs))
	for _, f := range rep.All() {
		t.Errorf("unexpected finding %s (%s) in %s: %s", f.ID, f.Severity, f.Input, f.Message)
	}
	for _, res := range rep.Results {
		if res.Invocation.Component == "" || len(res.Flags) == 0 {
			t.Errorf("%s: not recognised or no flags", res.Invocation.Name)
		}
	}
}

// edit replaces (or, with an empty value, removes) flags in a command line and appends extra
// arguments.
func edit(line string, set map[string]string, extra ...string) string {
	words := strings.Fields(line)
	out := words[:1]
	done := map[string]bool{}
	for _, w := range words[1:] {
		name, _, _ := strings.Cut(strings.TrimLeft(w, "-"), "=")
		if v, ok := set[name]; ok {
			done[name] = true
			if v != "" {
				out = append(out, "--"+name+"="+v)
			}
			continue
		}
		out = append(out, w)
	}
	for name, v := range set {
		if !done[name] && v != "" {
			out = append(out, "--"+name+"="+v)
		}
	}
	return strings.Join(append(out, extra...), " ")
}
