package pki

import (
	"crypto/rand"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/hardway-dev/hardway/configs"
)

func TestReconcileFromNothingThenNoop(t *testing.T) {
	c := haCluster(t)
	fsys := fstest.MapFS{}
	p := reconcileInto(t, fsys, c, Options{})
	if len(p.Changes) == 0 {
		t.Fatal("first run planned nothing")
	}
	for _, ch := range p.Changes {
		if ch.Action != Create {
			t.Errorf("%s: action %s on an empty directory", ch.Path, ch.Action)
		}
	}
	p2 := reconcileInto(t, fsys, c, Options{})
	for _, ch := range p2.Changes {
		t.Errorf("second run changes %s: %s", ch.Path, ch.Reason)
	}
	if p2.Unchanged != len(p.Changes) {
		t.Errorf("second run: %d unchanged, first run wrote %d", p2.Unchanged, len(p.Changes))
	}
}

func changedPaths(p *Plan) map[string]string {
	out := map[string]string{}
	for _, ch := range p.Changes {
		out[ch.Path] = ch.Reason
	}
	return out
}

func assertPaths(t *testing.T, p *Plan, want ...string) {
	t.Helper()
	got := changedPaths(p)
	for _, w := range want {
		if _, ok := got[w]; !ok {
			t.Errorf("expected a change to %s", w)
		}
		delete(got, w)
	}
	for path, why := range got {
		t.Errorf("unexpected change to %s (%s)", path, why)
	}
}

func TestIssuedArtifactsVerify(t *testing.T) {
	for _, alg := range []string{configs.KeyECDSAP256, configs.KeyRSA2048} {
		t.Run(alg, func(t *testing.T) {
			c := haCluster(t)
			c.KeyAlgorithm = alg
			fsys := fstest.MapFS{}
			reconcileInto(t, fsys, c, Options{})
			if ps := Verify(fsys, c, testNow); len(ps) > 0 {
				t.Fatalf("problems: %+v", ps)
			}
			for _, in := range Instances(c) {
				if in.Spec.Kind == KindKeyPair {
					continue
				}
				cert, err := ParseCert(fsys[in.CertPath()].Data)
				if err != nil {
					t.Fatal(err)
				}
				if got := KeyAlgorithm(cert.PublicKey); got != alg {
					t.Errorf("%s: key %s, want %s", in.ID, got, alg)
				}
				if in.Spec.Kind == KindLeaf {
					if d := cert.NotAfter.Sub(testNow); d != time.Duration(c.Validity.Leaf) {
						t.Errorf("%s: valid for %s after now, want %s", in.ID, d, c.Validity.Leaf)
					}
					if cert.IsCA {
						t.Errorf("%s: a leaf with CA:TRUE", in.ID)
					}
				}
			}
		})
	}
}

func TestDriftAddWorker(t *testing.T) {
	c := haCluster(t)
	fsys := fstest.MapFS{}
	reconcileInto(t, fsys, c, Options{})
	c.Nodes = append(c.Nodes, configs.Node{Name: "worker-4", Addresses: []string{"10.0.0.24"}, Roles: []string{"worker"}})
	p := reconcileInto(t, fsys, c, Options{})
	assertPaths(t, p,
		"pki/kubelet/client-worker-4.key", "pki/kubelet/client-worker-4.crt",
		"pki/kubelet/server-worker-4.key", "pki/kubelet/server-worker-4.crt",
		"kubeconfigs/kubelet-worker-4.kubeconfig")
}

func TestDriftExtraSANReissuesOnlyAPIServer(t *testing.T) {
	c := haCluster(t)
	fsys := fstest.MapFS{}
	reconcileInto(t, fsys, c, Options{})
	oldKey := fsys["pki/apiserver.key"].Data
	c.APIServerExtraSANs = append(c.APIServerExtraSANs, "10.0.0.101")
	p := reconcileInto(t, fsys, c, Options{})
	assertPaths(t, p, "pki/apiserver.crt")
	if r := changedPaths(p)["pki/apiserver.crt"]; !strings.Contains(r, "new SAN 10.0.0.101") {
		t.Errorf("reason %q does not name the new SAN", r)
	}
	if string(fsys["pki/apiserver.key"].Data) != string(oldKey) {
		t.Error("the apiserver key changed")
	}
}

func TestDriftControlPlaneAddress(t *testing.T) {
	c := haCluster(t)
	fsys := fstest.MapFS{}
	reconcileInto(t, fsys, c, Options{})
	c.Nodes[0].Addresses = append(c.Nodes[0].Addresses, "192.168.1.11")
	p := reconcileInto(t, fsys, c, Options{})
	// The apiserver carries every control-plane address; cp-1's own serving certificates carry
	// its addresses too. Nothing else changes.
	assertPaths(t, p, "pki/apiserver.crt", "pki/etcd/server-cp-1.crt", "pki/etcd/peer-cp-1.crt")
}

func TestDriftSubjectChange(t *testing.T) {
	c := haCluster(t)
	fsys := fstest.MapFS{}
	reconcileInto(t, fsys, c, Options{})
	c.Nodes[3].Name = "worker-one"
	p := reconcileInto(t, fsys, c, Options{})
	if _, ok := changedPaths(p)["pki/kubelet/client-worker-one.crt"]; !ok {
		t.Error("renamed node got no kubelet certificate")
	}
}

func TestRenewalWindowReissues(t *testing.T) {
	c := haCluster(t)
	fsys := fstest.MapFS{}
	reconcileInto(t, fsys, c, Options{})
	later := testNow.Add(time.Duration(c.Validity.Leaf) - 10*24*time.Hour)
	p := reconcileInto(t, fsys, c, Options{Now: later})
	for _, ch := range p.Changes {
		if strings.HasSuffix(ch.Path, ".key") {
			t.Errorf("%s: renewal replaced a key", ch.Path)
		}
		if strings.HasSuffix(ch.Path, ".crt") && !strings.Contains(ch.Reason, "renewal window") {
			t.Errorf("%s: reason %q", ch.Path, ch.Reason)
		}
	}
	if len(p.Changes) == 0 {
		t.Fatal("nothing reissued inside the renewal window")
	}
	if ps := Verify(fsys, c, later.Add(300*24*time.Hour)); len(ps) > 0 {
		t.Errorf("after renewal: %+v", ps)
	}
}

func TestCorruptFilesAreErrorsNamingTheFile(t *testing.T) {
	tests := []struct{ path, data, want string }{
		{"pki/apiserver.crt", "garbage", "pki/apiserver.crt: not a valid certificate"},
		{"pki/apiserver.key", "garbage", "pki/apiserver.key: not a valid private key"},
		{"pki/ca.key", "garbage", "pki/ca.key: not a valid private key"},
		{"pki/ca.crt", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "pki/ca.crt: not a valid certificate"},
		{"encryption-config.yaml", "kind: Nope\n", "encryption-config.yaml"},
		{"pki/sa.key", "garbage", "pki/sa.key: not a valid private key"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			c := haCluster(t)
			fsys := fstest.MapFS{}
			reconcileInto(t, fsys, c, Options{})
			fsys[tt.path] = &fstest.MapFile{Data: []byte(tt.data)}
			_, err := Reconcile(fsys, c, Options{Now: testNow, Rand: rand.Reader})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestSignedByAnotherCA(t *testing.T) {
	c := haCluster(t)
	a, b := fstest.MapFS{}, fstest.MapFS{}
	reconcileInto(t, a, c, Options{})
	reconcileInto(t, b, c, Options{})
	a["pki/apiserver.crt"] = b["pki/apiserver.crt"]
	a["pki/apiserver.key"] = b["pki/apiserver.key"]
	_, err := Reconcile(a, c, Options{Now: testNow, Rand: rand.Reader})
	if err == nil || !strings.Contains(err.Error(), "pki/apiserver.crt: not signed by ca") {
		t.Fatalf("got %v", err)
	}
	p := reconcileInto(t, a, c, Options{Renew: map[string]bool{"apiserver": true}})
	assertPaths(t, p, "pki/apiserver.crt")
	if ps := Verify(a, c, testNow); len(ps) > 0 {
		t.Errorf("%+v", ps)
	}
}

func TestCAIsNeverReplacedSilently(t *testing.T) {
	c := haCluster(t)
	fsys := fstest.MapFS{}
	reconcileInto(t, fsys, c, Options{})
	other := fstest.MapFS{}
	reconcileInto(t, other, c, Options{})
	fsys["pki/ca.key"] = other["pki/ca.key"] // a key that does not match ca.crt
	_, err := Reconcile(fsys, c, Options{Now: testNow, Rand: rand.Reader})
	if err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("got %v, want an error pointing at --force", err)
	}
	c.KeyAlgorithm = configs.KeyECDSAP384
	fsys = fstest.MapFS{}
	reconcileInto(t, fsys, haCluster(t), Options{})
	p := reconcileInto(t, fsys, c, Options{})
	for _, ch := range p.Changes {
		t.Errorf("changing keyAlgorithm without --force changed %s", ch.Path)
	}
}

func TestKeyWithoutCertificateIsCompleted(t *testing.T) {
	c := haCluster(t)
	fsys := fstest.MapFS{}
	reconcileInto(t, fsys, c, Options{})
	for _, p := range []string{"pki/ca.crt", "pki/admin.crt", "pki/etcd/server-cp-1.crt"} {
		delete(fsys, p)
	}
	keys := map[string][]byte{}
	for _, p := range []string{"pki/ca.key", "pki/admin.key", "pki/etcd/server-cp-1.key"} {
		keys[p] = fsys[p].Data
	}
	reconcileInto(t, fsys, c, Options{})
	for p, k := range keys {
		if string(fsys[p].Data) != string(k) {
			t.Errorf("%s was replaced", p)
		}
	}
	if ps := Verify(fsys, c, testNow); len(ps) > 0 {
		t.Errorf("%+v", ps)
	}
}

func TestRenew(t *testing.T) {
	c := haCluster(t)
	fsys := fstest.MapFS{}
	reconcileInto(t, fsys, c, Options{})
	oldKey := string(fsys["pki/admin.key"].Data)
	oldCert := string(fsys["pki/admin.crt"].Data)
	p := reconcileInto(t, fsys, c, Options{Now: testNow.Add(time.Hour), Renew: map[string]bool{"admin": true}})
	assertPaths(t, p, "pki/admin.crt", "kubeconfigs/admin.kubeconfig")
	if string(fsys["pki/admin.key"].Data) != oldKey || string(fsys["pki/admin.crt"].Data) == oldCert {
		t.Error("renew must keep the key and change the certificate")
	}
	p = reconcileInto(t, fsys, c, Options{Now: testNow.Add(time.Hour), Renew: map[string]bool{"admin": true}, NewKey: true})
	assertPaths(t, p, "pki/admin.key", "pki/admin.crt", "kubeconfigs/admin.kubeconfig")
	if string(fsys["pki/admin.key"].Data) == oldKey {
		t.Error("--new-key kept the key")
	}
	if ps := Verify(fsys, c, testNow.Add(time.Hour)); len(ps) > 0 {
		t.Errorf("%+v", ps)
	}
}

func TestRenewCA(t *testing.T) {
	c := haCluster(t)
	fsys := fstest.MapFS{}
	reconcileInto(t, fsys, c, Options{})
	p := reconcileInto(t, fsys, c, Options{Renew: map[string]bool{"etcd/ca": true}})
	assertPaths(t, p, "pki/etcd/ca.crt")
	if ps := Verify(fsys, c, testNow); len(ps) > 0 {
		t.Errorf("leaves no longer verify against the renewed CA: %+v", ps)
	}
	p = reconcileInto(t, fsys, c, Options{Renew: map[string]bool{"etcd/ca": true}, NewKey: true})
	if len(p.Changes) < 10 {
		t.Errorf("a new etcd CA key reissued only %d files", len(p.Changes))
	}
	if ps := Verify(fsys, c, testNow); len(ps) > 0 {
		t.Errorf("%+v", ps)
	}
}

func TestExternalCA(t *testing.T) {
	c := haCluster(t)
	fsys := fstest.MapFS{}
	reconcileInto(t, fsys, c, Options{})
	delete(fsys, "pki/front-proxy-ca.key")
	p := reconcileInto(t, fsys, c, Options{})
	if len(p.Changes) != 0 {
		t.Errorf("external CA: %v", changedPaths(p))
	}
	delete(fsys, "pki/front-proxy-client.crt")
	_, err := Reconcile(fsys, c, Options{Now: testNow, Rand: rand.Reader})
	if err == nil || !strings.Contains(err.Error(), "external") {
		t.Fatalf("issuing from an external CA: %v", err)
	}
}

func TestLeafNeverOutlivesItsCA(t *testing.T) {
	c := haCluster(t)
	fsys := fstest.MapFS{}
	reconcileInto(t, fsys, c, Options{})
	// Nine and a half years on, the CA has half a year left; renewed leaves stop with it.
	later := testNow.Add(time.Duration(c.Validity.CA) - 180*24*time.Hour)
	p := reconcileInto(t, fsys, c, Options{Now: later})
	if len(p.Changes) == 0 {
		t.Fatal("expired leaves were not reissued")
	}
	ca, _ := ParseCert(fsys["pki/ca.crt"].Data)
	leaf, _ := ParseCert(fsys["pki/apiserver.crt"].Data)
	if leaf.NotAfter.After(ca.NotAfter) {
		t.Errorf("apiserver certificate ends %s, after its CA (%s)", leaf.NotAfter, ca.NotAfter)
	}
	if ps := Verify(fsys, c, later); len(ps) > 0 {
		t.Errorf("%+v", ps)
	}
	// Inside the CA's last month, leaves that already end with it are not reissued over and
	// over: the plan says to renew the CA instead.
	last := ca.NotAfter.Add(-10 * 24 * time.Hour)
	p = reconcileInto(t, fsys, c, Options{Now: last})
	if len(p.Changes) != 0 {
		t.Errorf("%d changes in the CA's last days", len(p.Changes))
	}
	if !strings.Contains(strings.Join(p.Notes, "\n"), "renew the CA with 'hardway certs renew ca', then run init") {
		t.Errorf("notes: %v", p.Notes)
	}
	// Renewing the CAs (same keys) lets the same run reissue the leaves that ended with them.
	p = reconcileInto(t, fsys, c, Options{Now: last, Renew: map[string]bool{"ca": true, "etcd/ca": true, "front-proxy-ca": true}})
	renewedCA, _ := ParseCert(fsys["pki/ca.crt"].Data)
	if !renewedCA.NotAfter.After(ca.NotAfter) {
		t.Error("renewing the CA did not extend it")
	}
	if _, ok := changedPaths(p)["pki/apiserver.crt"]; !ok {
		t.Error("after the CA renewal, the leaves ending with the old CA were not reissued")
	}
	if ps := Verify(fsys, c, last.Add(100*24*time.Hour)); len(ps) > 0 {
		t.Errorf("after renewing the CA and the leaves: %+v", ps)
	}
}

// applyFirst applies the first n changes of p to fsys, as a run killed after its n-th write
// would leave it; n past the changes applies p.Finally too.
func applyFirst(fsys fstest.MapFS, p *Plan, n int) {
	for i, ch := range append(slices.Clone(p.Changes), p.Finally...) {
		if i == n {
			return
		}
		if ch.Action == Remove {
			delete(fsys, ch.Path)
			continue
		}
		fsys[ch.Path] = &fstest.MapFile{Data: ch.Data, Mode: ch.Mode}
	}
}

func cloneFS(fsys fstest.MapFS) fstest.MapFS {
	out := fstest.MapFS{}
	for p, f := range fsys {
		c := *f
		out[p] = &c
	}
	return out
}

// A CA re-key interrupted after any of its writes is finished by plain init, or by the same
// renewal run again: no "not signed by" errors, every certificate the CA signs verifies, and
// the re-key record is gone. Interrupted before its record landed, nothing happened.
func TestInterruptedRekeyIsFinished(t *testing.T) {
	c := haCluster(t)
	base := fstest.MapFS{}
	reconcileInto(t, base, c, Options{})
	rekey := Options{Now: testNow, Rand: rand.Reader, Renew: map[string]bool{"ca": true}, NewKey: true}
	p, err := Reconcile(base, c, rekey)
	if err != nil {
		t.Fatal(err)
	}
	if ch := p.Changes[0]; ch.Path != RekeyRecord || !ch.Barrier || p.Changes[1].Path != "pki/ca.key" || p.Changes[2].Path != "pki/ca.crt" {
		t.Fatalf("the re-key record does not come first, before the CA's new key: %v", changedPaths(p))
	}
	if len(p.Finally) != 1 || p.Finally[0].Path != RekeyRecord || p.Finally[0].Action != Remove {
		t.Fatalf("the re-key record is not removed last: %+v", p.Finally)
	}
	total := len(p.Changes) + len(p.Finally)
	for _, n := range []int{0, 1, 2, 3, 4, total / 2, total - 2, total - 1} {
		for _, again := range []bool{false, true} {
			fsys := cloneFS(base)
			applyFirst(fsys, p, n)
			opt := Options{}
			if again {
				opt = rekey
			}
			rerun, err := Reconcile(fsys, c, Options{Now: testNow, Rand: rand.Reader, Renew: opt.Renew, NewKey: opt.NewKey})
			if err != nil {
				t.Fatalf("interrupted after %d of %d writes, then renewed again %v: %v", n, total, again, err)
			}
			applyFirst(fsys, rerun, len(rerun.Changes)+len(rerun.Finally))
			if ps := Verify(fsys, c, testNow); len(ps) > 0 {
				t.Errorf("interrupted after %d of %d writes, then renewed again %v: %v", n, total, again, ps)
			}
			if _, ok := fsys[RekeyRecord]; ok {
				t.Errorf("interrupted after %d writes: the re-key record is left", n)
			}
			rekeyed := string(fsys["pki/ca.key"].Data) != string(base["pki/ca.key"].Data)
			if want := n > 0 || again; rekeyed != want {
				t.Errorf("interrupted after %d writes, then renewed again %v: CA re-keyed %v, want %v", n, again, rekeyed, want)
			}
			if third := reconcileInto(t, fsys, c, Options{}); len(third.Changes)+len(third.Finally) > 0 {
				t.Errorf("interrupted after %d writes: a third run still plans %v", n, changedPaths(third))
			}
		}
	}
}

// A corrupt re-key record is an error naming it and the way out.
func TestCorruptRekeyRecord(t *testing.T) {
	c := haCluster(t)
	fsys := fstest.MapFS{}
	reconcileInto(t, fsys, c, Options{})
	fsys[RekeyRecord] = &fstest.MapFile{Data: []byte(`{"cas":{"nope":"x"}}`)}
	if _, err := Reconcile(fsys, c, Options{Now: testNow, Rand: rand.Reader}); err == nil || !strings.Contains(err.Error(), RekeyRecord) {
		t.Errorf("got %v", err)
	}
	if ps := Verify(fsys, c, testNow); len(ps) != 1 || ps[0].Where != RekeyRecord {
		t.Errorf("verify: %v", ps)
	}
}

// A kubeconfig an earlier version wrote, with names that do not carry the cluster's, is
// rewritten with the reason; Verify reports it until then.
func TestKubeconfigNamesCarryTheCluster(t *testing.T) {
	tests := []struct {
		name                   string
		cluster, user, context string
		want                   string // in the reason; "" means unchanged
	}{
		{"current", "prod", "admin@prod", "admin@prod", ""},
		{"bare user", "prod", "admin", "admin@prod", `user "admin"`},
		{"cluster kubernetes", "kubernetes", "admin", "admin@kubernetes", `cluster "kubernetes"`},
		{"other context", "prod", "admin@prod", "default", `context "default"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := haCluster(t)
			fsys := fstest.MapFS{}
			reconcileInto(t, fsys, c, Options{})
			kc, err := ParseKubeconfig(fsys["kubeconfigs/admin.kubeconfig"].Data)
			if err != nil {
				t.Fatal(err)
			}
			if kc.User != "admin@"+c.Name || kc.Context != "admin@"+c.Name || kc.ClusterName != c.Name {
				t.Fatalf("init wrote cluster %q user %q context %q", kc.ClusterName, kc.User, kc.Context)
			}
			kc.ClusterName, kc.User, kc.Context = tt.cluster, tt.user, tt.context
			old, err := kc.Render()
			if err != nil {
				t.Fatal(err)
			}
			fsys["kubeconfigs/admin.kubeconfig"] = &fstest.MapFile{Data: old}
			ps := Verify(fsys, c, testNow)
			p := reconcileInto(t, fsys, c, Options{})
			if tt.want == "" {
				assertPaths(t, p)
				if len(ps) > 0 {
					t.Errorf("verify: %+v", ps)
				}
				return
			}
			assertPaths(t, p, "kubeconfigs/admin.kubeconfig")
			if why := changedPaths(p)["kubeconfigs/admin.kubeconfig"]; !strings.Contains(why, tt.want) || !strings.Contains(why, "merged kubeconfigs") {
				t.Errorf("reason %q, want it to name %s", why, tt.want)
			}
			if len(ps) != 1 || !strings.Contains(ps[0].Message, "names") {
				t.Errorf("verify before the rewrite: %+v", ps)
			}
			if ps := Verify(fsys, c, testNow); len(ps) > 0 {
				t.Errorf("verify after: %+v", ps)
			}
		})
	}
}

// A corrupt or missing leaf is an error that names 'certs renew', and renewing it reissues it
// from its CA with the catalogue's subject and SANs (never a circle back to the same message).
func TestRenewReissuesCorruptOrMissingLeaf(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(fstest.MapFS)
		err     string // what Reconcile without the renewal says; "" when init fixes it alone
		newKey  bool   // the renewal gives a new key
		actions map[string]Action
	}{
		{"corrupt certificate", func(f fstest.MapFS) { f["pki/apiserver.crt"].Data = []byte("garbage") },
			"run 'hardway certs renew apiserver'", false, map[string]Action{"pki/apiserver.crt": Update}},
		{"truncated certificate", func(f fstest.MapFS) { f["pki/apiserver.crt"].Data = f["pki/apiserver.crt"].Data[:100] },
			"run 'hardway certs renew apiserver'", false, map[string]Action{"pki/apiserver.crt": Update}},
		{"corrupt key", func(f fstest.MapFS) { f["pki/apiserver.key"].Data = []byte("garbage") },
			"run 'hardway certs renew apiserver'", true, map[string]Action{"pki/apiserver.key": Update, "pki/apiserver.crt": Update}},
		{"missing key", func(f fstest.MapFS) { delete(f, "pki/apiserver.key") },
			"run 'hardway certs renew apiserver'", true, map[string]Action{"pki/apiserver.key": Create, "pki/apiserver.crt": Update}},
		{"missing certificate", func(f fstest.MapFS) { delete(f, "pki/apiserver.crt") },
			"", false, map[string]Action{"pki/apiserver.crt": Create}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := haCluster(t)
			fsys := fstest.MapFS{}
			reconcileInto(t, fsys, c, Options{})
			oldKey := string(fsys["pki/apiserver.key"].Data)
			tt.damage(fsys)
			if ps := Verify(fsys, c, testNow); len(ps) == 0 || !strings.Contains(ps[0].Fix, "hardway certs renew apiserver") {
				t.Errorf("verify: %+v, want its fix to be the renewal", ps)
			}
			_, err := Reconcile(cloneFS(fsys), c, Options{Now: testNow, Rand: rand.Reader})
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("without the renewal: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("without the renewal: %v, want %q", err, tt.err)
			}
			p := reconcileInto(t, fsys, c, Options{Renew: map[string]bool{"apiserver": true}})
			for _, ch := range p.Changes {
				if want, ok := tt.actions[ch.Path]; ok && ch.Action != want {
					t.Errorf("%s: %s, want %s (an update is backed up first)", ch.Path, ch.Action, want)
				}
			}
			assertPaths(t, p, keys(tt.actions)...)
			if got := string(fsys["pki/apiserver.key"].Data) != oldKey; got != tt.newKey {
				t.Errorf("new key: %v, want %v", got, tt.newKey)
			}
			if ps := Verify(fsys, c, testNow); len(ps) > 0 {
				t.Errorf("after the renewal: %+v", ps)
			}
		})
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A corrupt CA is never reissued, renewal or not: the error says what to restore, naming the
// newest backup copies when there are some.
func TestCorruptCASaysWhatToRestore(t *testing.T) {
	tests := []struct {
		name    string
		backups []string // backup folders holding a copy of pki/etcd/ca.crt
		path    string
		want    []string
	}{
		{"no backup", nil, "pki/etcd/ca.crt", []string{"no copy under backup/", "a new certificate for the same key"}},
		{"backups, newest first", []string{"20260101T000000Z", "20260301T000000Z", "20260201T000000Z", "20250101T000000Z"}, "pki/etcd/ca.crt",
			[]string{"backup/20260301T000000Z/pki/etcd/ca.crt, backup/20260201T000000Z/pki/etcd/ca.crt, backup/20260101T000000Z/pki/etcd/ca.crt)"}},
		{"corrupt key", []string{"20260101T000000Z"}, "pki/etcd/ca.key", []string{"no copy under backup/", "init --force"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := haCluster(t)
			fsys := fstest.MapFS{}
			reconcileInto(t, fsys, c, Options{})
			for _, b := range tt.backups {
				fsys["backup/"+b+"/pki/etcd/ca.crt"] = &fstest.MapFile{Data: fsys["pki/etcd/ca.crt"].Data}
			}
			fsys[tt.path] = &fstest.MapFile{Data: []byte("garbage")}
			for _, renew := range []map[string]bool{nil, {"etcd/ca": true}, {"etcd/server-cp-1": true}} {
				_, err := Reconcile(fsys, c, Options{Now: testNow, Rand: rand.Reader, Renew: renew})
				if err == nil {
					t.Fatalf("renew %v: no error", renew)
				}
				for _, w := range append(tt.want, tt.path+": not a valid", "never reissued in place") {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("renew %v: %v\nwant %q", renew, err, w)
					}
				}
			}
		})
	}
}
