package inspect

import "testing"

func TestBundleRoot(t *testing.T) {
	for p, want := range map[string]string{
		"cluster/nodes/cp-1/etc/systemd/system/kube-apiserver.service": "cluster/nodes/cp-1",
		"/srv/c/nodes/w1/etc/systemd/system/kubelet.service":           "/srv/c/nodes/w1",
		"./nodes/n/var/lib/kubelet/config.yaml":                        "nodes/n",
		"/etc/systemd/system/kubelet.service":                          "",
		"nodes/kube-apiserver.service":                                 "",
	} {
		got, ok := BundleRoot(p)
		if got != want || ok != (want != "") {
			t.Errorf("BundleRoot(%s) = %q, %v; want %q", p, got, ok, want)
		}
	}
}

func TestShortPath(t *testing.T) {
	long := "/home/someone/clusters/production/nodes/cp-1/etc/systemd/system/kube-apiserver.service:12"
	for _, tt := range []struct {
		p    string
		n    int
		want string
	}{
		{"kubelet.service:3", 40, "kubelet.service:3"},
		{long, 40, ".../system/kube-apiserver.service:12"},
	} {
		got := ShortPath(tt.p, tt.n)
		if got != tt.want || len(got) > tt.n && tt.p != got {
			t.Errorf("ShortPath(%s, %d) = %q, want %q", tt.p, tt.n, got, tt.want)
		}
	}
}
