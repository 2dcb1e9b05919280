package bootstrap

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/pki"
)

// A node removed from the cluster file, or one that lost the role its credentials served, leaves
// nothing valid and invisible: its certificates, keys, kubeconfig and bundle archive move to
// retired/<node>/<time>/ beside a record of what they can still do, its bundle folder goes,
// verify passes, and the inventory lists them as retired.
func TestRetireNodesCredentials(t *testing.T) {
	later := now.Add(time.Hour)
	tests := []struct {
		name    string
		change  func(t *testing.T, dir string, c *configs.Cluster)
		node    string
		moved   []string // relative to the cluster directory, before the move
		gone    []string // removed without a copy
		kept    []string // still in place
		reason  string
		certs   []string
		caNamed string
	}{
		{
			name: "worker removed",
			change: func(_ *testing.T, _ string, c *configs.Cluster) {
				c.Nodes = slices.DeleteFunc(c.Nodes, func(n configs.Node) bool { return n.Name == "worker-3" })
			},
			node: "worker-3",
			moved: []string{"pki/kubelet/client-worker-3.crt", "pki/kubelet/client-worker-3.key", "pki/kubelet/server-worker-3.crt",
				"pki/kubelet/server-worker-3.key", "kubeconfigs/kubelet-worker-3.kubeconfig", "nodes/worker-3.tar.gz"},
			gone:    []string{"nodes/worker-3/manifest.json", "nodes/worker-3"},
			kept:    []string{"pki/kubelet/client-worker-2.crt", "nodes/worker-2.tar.gz"},
			reason:  "no longer in the cluster file",
			certs:   []string{"kubelet/client-worker-3", "kubelet/server-worker-3"},
			caNamed: "hardway certs renew ca --new-key",
		},
		{
			name: "etcd role dropped",
			change: func(_ *testing.T, _ string, c *configs.Cluster) {
				c.Nodes[2].Roles = []string{configs.RoleControlPlane}
			},
			node:    "cp-3",
			moved:   []string{"pki/etcd/server-cp-3.crt", "pki/etcd/server-cp-3.key", "pki/etcd/peer-cp-3.crt", "pki/etcd/peer-cp-3.key"},
			kept:    []string{"nodes/cp-3.tar.gz", "nodes/cp-3/manifest.json"},
			reason:  "no longer has a role that uses them",
			certs:   []string{"etcd/server-cp-3", "etcd/peer-cp-3"},
			caNamed: "hardway certs renew etcd-ca --new-key",
		},
		{
			// An earlier version gave every node kubelet credentials; a control-plane-only node
			// runs no kubelet.
			name: "kubelet credentials of a control-plane node",
			change: func(t *testing.T, dir string, c *configs.Cluster) {
				for _, f := range []string{"client-worker-1.crt", "client-worker-1.key"} {
					data := mustReadFile(t, filepath.Join(dir, "pki/kubelet", f))
					if err := os.WriteFile(filepath.Join(dir, "pki/kubelet", strings.Replace(f, "worker-1", "cp-1", 1)), data, 0o600); err != nil {
						t.Fatal(err)
					}
				}
			},
			node:   "cp-1",
			moved:  []string{"pki/kubelet/client-cp-1.crt", "pki/kubelet/client-cp-1.key"},
			kept:   []string{"nodes/cp-1.tar.gz"},
			reason: "no longer has a role that uses them",
			certs:  []string{"kubelet/client-cp-1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := haCluster(t)
			dir := initDir(t, c)
			before := map[string][]byte{}
			tt.change(t, dir, c)
			for _, p := range tt.moved {
				before[p] = mustReadFile(t, filepath.Join(dir, p))
			}
			p := build(t, dir, c, Options{Now: later})
			if !slices.ContainsFunc(p.Notes, func(n string) bool {
				return strings.HasPrefix(n, tt.node+": ") && strings.Contains(n, "stay valid until") && strings.Contains(n, tt.caNamed)
			}) {
				t.Errorf("notes: %q", p.Notes)
			}
			if _, err := Apply(dir, p, ApplyOptions{Now: later}); err != nil {
				t.Fatal(err)
			}
			folder := pki.RetiredFolder(tt.node, later)
			for _, f := range tt.moved {
				if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
					t.Errorf("%s is still in place (%v)", f, err)
				}
				moved := filepath.Join(dir, folder, f)
				if got, err := os.ReadFile(moved); err != nil || string(got) != string(before[f]) {
					t.Errorf("%s: not moved to %s (%v)", f, moved, err)
				}
				if fi, err := os.Stat(moved); err == nil && fi.Mode().Perm()&0o077 != 0 && !strings.HasSuffix(f, ".crt") {
					t.Errorf("%s: mode %v", moved, fi.Mode())
				}
			}
			for _, f := range tt.gone {
				if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
					t.Errorf("%s is still there (%v)", f, err)
				}
			}
			for _, f := range tt.kept {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("%s: %v", f, err)
				}
			}
			var rec pki.Retirement
			if err := json.Unmarshal(mustReadFile(t, filepath.Join(dir, folder, pki.RetiredRecord)), &rec); err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, rc := range rec.Certificates {
				names = append(names, rc.Name)
				if rc.CA == "" || rc.NotAfter.IsZero() || rc.Subject == "" {
					t.Errorf("record of %s: %+v", rc.Name, rc)
				}
			}
			if !slices.Equal(sortedStrings(names), sortedStrings(tt.certs)) || !strings.Contains(rec.Reason, tt.reason) || !strings.Contains(rec.Note, "no revocation list") {
				t.Errorf("record: %+v", rec)
			}
			if ps := Verify(t.Context(), dir, c, later); len(ps) > 0 {
				t.Errorf("verify after retiring: %+v", ps)
			}
			var retired []string
			for _, i := range pki.Inventory(os.DirFS(dir), c, later) {
				if i.Retired != "" {
					retired = append(retired, i.Name)
					if i.Retired != folder || i.Error != "" || i.NotAfter.IsZero() {
						t.Errorf("inventory: %+v", i)
					}
				}
			}
			if !slices.Equal(sortedStrings(retired), sortedStrings(tt.certs)) {
				t.Errorf("inventory lists %v as retired, want %v", retired, tt.certs)
			}
			if p := build(t, dir, c, Options{Now: later.Add(time.Hour)}); !p.Empty() {
				t.Errorf("the next run plans %d changes, first %s (%s)", len(p.Changes), p.Changes[0].Path, p.Changes[0].Reason)
			}
		})
	}
}

func sortedStrings(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}
