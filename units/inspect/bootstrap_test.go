package inspect

import "testing"

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
