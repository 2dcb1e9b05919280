package inspect

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// The kubelet reads --bootstrap-kubeconfig only when its --kubeconfig is missing or no longer
// valid (pkg/kubelet/certificate/bootstrap/bootstrap.go, LoadClientConfig); a node made by
// kubeadm init never has bootstrap-kubelet.conf.
func TestBootstrapKubeconfig(t *testing.T) {
	withBootstrap := cleanKubelet + " --bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf"
	tests := []struct {
		name    string
		rc      ruleCase
		missing []string // flags whose file-missing must be reported
	}{
		{"kubeconfig there", withCluster("kubelet", withBootstrap, nil), nil},
		{"kubeconfig missing too", withCluster("kubelet", withBootstrap, func(p *testPKI) { delete(p.fs, "etc/kubernetes/kubelet.kubeconfig") }),
			[]string{"bootstrap-kubeconfig", "kubeconfig"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			invs, o := tt.rc(t)
			rep := Inspect(invs, o)
			got := map[string]bool{}
			for _, f := range rep.All() {
				if f.ID == "file-missing" {
					got[f.Flag] = true
				}
			}
			for _, fl := range tt.missing {
				if !got[fl] {
					t.Errorf("no file-missing for --%s:\n%s", fl, dump(rep))
				}
			}
			if len(got) != len(tt.missing) {
				t.Errorf("file-missing for %v, want %v:\n%s", got, tt.missing, dump(rep))
			}
		})
	}
}

// A kubeconfig that names its client key file (kubeadm's kubelet.conf since 1.17 names
// /var/lib/kubelet/pki/kubelet-client-current.pem) passes the key's secrecy to that file.
func TestKubeconfigKeyFilePermissions(t *testing.T) {
	for _, mode := range []uint32{0o600, 0o644} {
		t.Run(fmt.Sprintf("%04o", mode), func(t *testing.T) {
			invs, o := withCluster("kubelet", "", func(p *testPKI) {
				cert, key := p.fs["etc/kubernetes/pki/apiserver-kubelet-client.crt"], p.fs["etc/kubernetes/pki/apiserver-kubelet-client.key"]
				pem := append(append([]byte{}, cert.Data...), key.Data...)
				put(p.fs, "/var/lib/kubelet/pki/kubelet-client-current.pem", pem, 0o600)
				p.fs["var/lib/kubelet/pki/kubelet-client-current.pem"].Mode = os.FileMode(mode)
				kc := strings.Join([]string{"apiVersion: v1", "kind: Config", "clusters:", "- name: c", "  cluster: {server: https://10.0.0.1:6443}",
					"contexts:", "- name: x", "  context: {cluster: c, user: u}", "current-context: x", "users:", "- name: u",
					"  user: {client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem, client-key: /var/lib/kubelet/pki/kubelet-client-current.pem}"}, "\n")
				put(p.fs, "/etc/kubernetes/kubelet.kubeconfig", []byte(kc), 0o600)
			})(t)
			rep := Inspect(invs, o)
			n := 0
			for _, f := range rep.All() {
				if f.ID == "file-permissions" && strings.Contains(f.Message, "kubelet-client-current.pem") {
					n++
				}
			}
			if want := map[uint32]int{0o600: 0, 0o644: 1}[mode]; n != want {
				t.Errorf("%d file-permissions findings for the client key file, want %d:\n%s", n, want, dump(rep))
			}
		})
	}
}

// kube-proxy's credentials are named in its --config file (KubeProxyConfiguration
// clientConnection.kubeconfig), not by a flag; they are checked like a --kubeconfig.
func TestKubeProxyConfigKubeconfig(t *testing.T) {
	const cfg = "kind: KubeProxyConfiguration\napiVersion: kubeproxy.config.k8s.io/v1alpha1\nclientConnection:\n  kubeconfig: /var/lib/kube-proxy/kubeconfig\nmode: iptables\n"
	tests := []struct {
		name string
		mode os.FileMode
		drop bool
		want string // rule on clientConnection.kubeconfig, "" for none
	}{
		{"0600", 0o600, false, ""},
		{"0644", 0o644, false, "file-permissions"},
		{"missing", 0, true, "file-missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			invs, o := withCluster("kubelet", "", nil)(t)
			p := goodPKI(t)
			put(p.fs, "/var/lib/kube-proxy/config.yaml", []byte(cfg), 0o644)
			if !tt.drop {
				put(p.fs, "/var/lib/kube-proxy/kubeconfig", p.fs["etc/kubernetes/kubelet.kubeconfig"].Data, tt.mode)
			}
			o.FS = p.fs
			invs = append(invs[:0], command(t, "kube-proxy --config=/var/lib/kube-proxy/config.yaml"))
			rep := Inspect(invs, o)
			var got []string
			for _, f := range rep.All() {
				if f.Flag == "clientConnection.kubeconfig" {
					got = append(got, f.ID)
				}
			}
			if (tt.want == "" && len(got) > 0) || (tt.want != "" && (len(got) != 1 || got[0] != tt.want)) {
				t.Errorf("findings on clientConnection.kubeconfig %v, want %q:\n%s", got, tt.want, dump(rep))
			}
		})
	}
}
