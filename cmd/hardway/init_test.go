package main

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hardway-dev/hardway/bootstrap"
	"github.com/hardway-dev/hardway/internal/e2e"
	"github.com/hardway-dev/hardway/pki"
)

// hardway runs the CLI in-process and returns stdout, stderr and the exit code.
func hardway(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

func mustHardway(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := hardway(t, args...)
	if code != 0 {
		t.Fatalf("hardway %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

const haExample = "../../configs/examples/ha.yaml"

func modTimes(t *testing.T, dir string) map[string]time.Time {
	t.Helper()
	m := map[string]time.Time{}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			m[p] = fi.ModTime()
		}
		return nil
	})
	return m
}

func TestInitTwiceWritesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cluster")
	out := mustHardway(t, "init", "--config", haExample, "--dir", dir)
	if !strings.Contains(out, "wrote") {
		t.Fatalf("first init: %s", out)
	}
	before := modTimes(t, dir)
	out = mustHardway(t, "init", "--config", haExample, "--dir", dir)
	if !strings.Contains(out, "up to date: nothing to write") {
		t.Errorf("second init: %s", out)
	}
	after := modTimes(t, dir)
	for p, m := range before {
		if !after[p].Equal(m) {
			t.Errorf("second init touched %s", p)
		}
	}
	// Later commands read the resolved model init kept.
	out = mustHardway(t, "certs", "verify", "--dir", dir)
	if !strings.Contains(out, "verifies") {
		t.Errorf("certs verify: %s", out)
	}
}

func TestInitDryRunWritesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cluster")
	out := mustHardway(t, "init", "--config", haExample, "--dir", dir, "--dry-run")
	if !strings.Contains(out, "create pki/ca.key") || !strings.Contains(out, "dry run") {
		t.Errorf("dry run output: %s", out)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("dry run created the cluster directory")
	}
}

// A dry run writes nothing, not even the lock file, and is not refused while another run holds
// the lock; the real run is.
func TestDryRunTakesNoLock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cluster")
	mustHardway(t, "init", "--config", haExample, "--dir", dir)
	lockPath := filepath.Join(dir, bootstrap.LockFile)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"init", []string{"init", "--config", haExample, "--dir", dir, "--dry-run"}},
		{"renew", []string{"certs", "renew", "--dir", dir, "--dry-run", "all"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.Remove(lockPath); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			before := modTimes(t, dir)
			mustHardway(t, tc.args...)
			if _, err := os.Stat(lockPath); err == nil {
				t.Error("the dry run created the lock file")
			}
			if after := modTimes(t, dir); !reflect.DeepEqual(before, after) {
				t.Errorf("the dry run changed the directory: %d files before, %d after", len(before), len(after))
			}

			lock, _, err := bootstrap.Lock(dir) // another run holds the lock
			if err != nil {
				t.Fatal(err)
			}
			defer lock.Unlock()
			if out, errs, code := hardway(t, tc.args...); code != 0 {
				t.Errorf("dry run while the lock is held: exit %d\n%s%s", code, out, errs)
			}
			real := slices.DeleteFunc(slices.Clone(tc.args), func(a string) bool { return a == "--dry-run" })
			if _, errs, code := hardway(t, real...); code == 0 {
				t.Errorf("%s ran while the lock is held:\n%s", strings.Join(real, " "), errs)
			}
		})
	}
}

func TestInitErrors(t *testing.T) {
	_, errs, code := hardway(t, "init", "--dir", t.TempDir())
	if code != 2 || !strings.Contains(errs, "--config") {
		t.Errorf("no --config: exit %d %s", code, errs)
	}
	_, errs, code = hardway(t, "init", "--config", haExample, "--dir", t.TempDir(), "--bogus")
	if code != 2 || !strings.Contains(errs, "bogus") {
		t.Errorf("unknown flag: exit %d %s", code, errs)
	}
	dir := filepath.Join(t.TempDir(), "c")
	mustHardway(t, "init", "--config", haExample, "--dir", dir)
	os.WriteFile(filepath.Join(dir, "pki", "apiserver.crt"), []byte("junk"), 0o644)
	before := modTimes(t, dir)
	_, errs, code = hardway(t, "init", "--config", haExample, "--dir", dir, "--api-endpoint", "lb2.example.internal")
	if code != 1 || !strings.Contains(errs, "pki/apiserver.crt: not a valid certificate") {
		t.Errorf("corrupt cert: exit %d %s", code, errs)
	}
	for p, m := range before {
		if !modTimes(t, dir)[p].Equal(m) {
			t.Errorf("a failed init touched %s", p)
		}
	}
}

func TestCertsCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cluster")
	mustHardway(t, "init", "--config", haExample, "--dir", dir)
	out := mustHardway(t, "certs", "list", "--dir", dir, "-o", "json")
	if !strings.Contains(out, `"name": "etcd/server-cp-2"`) || !strings.Contains(out, `"subject": "CN=system:node:worker-1,O=system:nodes"`) {
		t.Errorf("certs list -o json: %s", out)
	}
	out = mustHardway(t, "certs", "check-expiration", "--dir", dir)
	if !strings.Contains(out, "RESIDUAL TIME") || !strings.Contains(out, "admin.kubeconfig") {
		t.Errorf("check-expiration: %s", out)
	}
	_, errs, code := hardway(t, "certs", "check-expiration", "--dir", dir, "--warn-within", "400d")
	if code != 1 || !strings.Contains(errs, "expire within 400d") {
		t.Errorf("check-expiration inside the window: exit %d %s", code, errs)
	}
	oldKey, _ := os.ReadFile(filepath.Join(dir, "pki/etcd/server-cp-1.key"))
	out = mustHardway(t, "certs", "renew", "etcd-server", "--dir", dir)
	if !strings.Contains(out, "pki/etcd/server-cp-3.crt") || !strings.Contains(out, "backup/") {
		t.Errorf("renew: %s", out)
	}
	if newKey, _ := os.ReadFile(filepath.Join(dir, "pki/etcd/server-cp-1.key")); !bytes.Equal(oldKey, newKey) {
		t.Error("renew replaced a key without --new-key")
	}
	_, errs, code = hardway(t, "certs", "renew", "no-such-cert", "--dir", dir)
	if code != 2 || !strings.Contains(errs, "certs list") {
		t.Errorf("renew unknown: exit %d %s", code, errs)
	}
	mustHardway(t, "certs", "verify", "--dir", dir)
	os.WriteFile(filepath.Join(dir, "pki", "admin.key"), mustRead(t, filepath.Join(dir, "pki", "super-admin.key")), 0o600)
	out, _, code = hardway(t, "certs", "verify", "--dir", dir)
	if code != 1 || !strings.Contains(out, "the key does not match the certificate") {
		t.Errorf("verify with a swapped key: exit %d %s", code, out)
	}
	// -o json is one problem.Problem per problem: severity, where (the file), message, fix.
	out, _, _ = hardway(t, "certs", "verify", "--dir", dir, "-o", "json")
	var ps []map[string]string
	if err := json.Unmarshal([]byte(out), &ps); err != nil || len(ps) != 1 || !reflect.DeepEqual(ps[0], map[string]string{
		"severity": "error", "where": "pki/admin.key", "message": "the key does not match the certificate", "fix": "hardway certs renew admin",
	}) {
		t.Errorf("verify -o json with a swapped key: %v\n%s", err, out)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The real openssl checks every certificate of the HA example.
func TestOpenSSLAcceptsHAExample(t *testing.T) {
	openssl := e2e.RequireBinary(t, "openssl")
	dir := filepath.Join(t.TempDir(), "cluster")
	mustHardway(t, "init", "--config", haExample, "--dir", dir)
	caFile := map[string]string{"ca": "pki/ca.crt", "etcd-ca": "pki/etcd/ca.crt", "front-proxy-ca": "pki/front-proxy-ca.crt"}
	inv := pki.Inventory(os.DirFS(dir), mustCluster(t, dir), time.Now())
	n := 0
	for _, i := range inv {
		if i.Embedded || i.Kind != pki.KindLeaf {
			continue
		}
		in, err := pki.Find(pki.Instances(mustCluster(t, dir)), i.Name)
		if err != nil {
			t.Fatal(err)
		}
		purpose := "sslclient"
		if in[0].Spec.Usage != pki.UsageClient {
			purpose = "sslserver"
		}
		cmd := exec.Command(openssl, "verify", "-purpose", purpose, "-CAfile", filepath.Join(dir, caFile[i.CA]), filepath.Join(dir, i.Path))
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), ": OK") {
			t.Errorf("openssl verify %s: %v\n%s", i.Path, err, out)
		}
		n++
	}
	if n != 24 {
		t.Errorf("verified %d leaves, the HA example has 24 (kubelet credentials for its 3 workers only)", n)
	}
	text := func(path string) string {
		out, err := exec.Command(openssl, "x509", "-noout", "-text", "-in", filepath.Join(dir, path)).CombinedOutput()
		if err != nil {
			t.Fatalf("openssl x509 %s: %v\n%s", path, err, out)
		}
		return string(out)
	}
	checks := map[string][]string{
		"pki/apiserver.crt": {"Subject: CN = kube-apiserver", "TLS Web Server Authentication", "DNS:kubernetes.default.svc.cluster.local",
			"IP Address:10.96.0.1", "IP Address:10.0.0.100", "DNS:k8s-api.example.internal", "IP Address:10.0.0.13", "CA:FALSE"},
		"pki/kubelet/client-worker-2.crt": {"Subject: O = system:nodes, CN = system:node:worker-2", "TLS Web Client Authentication"},
		"pki/kubelet/server-worker-2.crt": {"TLS Web Server Authentication", "IP Address:10.0.0.22", "DNS:worker-2.example.internal"},
		"pki/super-admin.crt":             {"O = system:masters, CN = super-admin"},
		"pki/admin.crt":                   {"O = hardway:cluster-admins, CN = admin"},
		"pki/kube-proxy.crt":              {"O = system:node-proxier, CN = system:kube-proxy"},
		"pki/etcd/server-cp-1.crt":        {"TLS Web Server Authentication, TLS Web Client Authentication", "DNS:localhost", "IP Address:127.0.0.1", "IP Address:10.0.0.11"},
		"pki/ca.crt":                      {"CA:TRUE", "Certificate Sign"},
	}
	for path, wants := range checks {
		got := text(path)
		for _, w := range wants {
			if !strings.Contains(got, w) {
				t.Errorf("%s: openssl shows no %q", path, w)
			}
		}
	}
	// Validity as openssl reads it: leaves one year (plus the 5-minute backdate), CAs ten.
	for path, want := range map[string]time.Duration{"pki/apiserver.crt": 8760 * time.Hour, "pki/ca.crt": 87600 * time.Hour} {
		got := text(path)
		nb, na := opensslTime(t, got, "Not Before: "), opensslTime(t, got, "Not After : ")
		if d := na.Sub(nb); d != want+pki.Backdate {
			t.Errorf("%s: openssl shows %s of validity, want %s", path, d, want+pki.Backdate)
		}
	}
	if got := text("pki/kube-scheduler.crt"); strings.Contains(got, "system:masters") || strings.Contains(got, "Server Authentication") {
		t.Errorf("kube-scheduler certificate has more than it needs:\n%s", got)
	}
}

// The real kubectl parses every kubeconfig, and the certificate it embeds verifies against the
// CA in the same file.
func TestKubectlParsesKubeconfigs(t *testing.T) {
	kubectl := e2e.RequireBinary(t, "kubectl")
	dir := filepath.Join(t.TempDir(), "cluster")
	mustHardway(t, "init", "--config", haExample, "--dir", dir)
	files, _ := filepath.Glob(filepath.Join(dir, "kubeconfigs", "*.kubeconfig"))
	if len(files) != 8 {
		t.Fatalf("%d kubeconfigs, want 8 (5 cluster-wide, a kubelet's per worker)", len(files))
	}
	for _, f := range files {
		out, err := exec.Command(kubectl, "--kubeconfig", f, "config", "view", "--minify", "--raw", "-o",
			"jsonpath={.clusters[0].cluster.certificate-authority-data} {.users[0].user.client-certificate-data} {.clusters[0].cluster.server}").CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl config view %s: %v\n%s", f, err, out)
		}
		parts := strings.Fields(string(out))
		if len(parts) != 3 {
			t.Fatalf("%s: kubectl printed %q", f, out)
		}
		ca, cert := decodeB64Cert(t, parts[0]), decodeB64Cert(t, parts[1])
		roots := x509.NewCertPool()
		roots.AddCert(ca)
		if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Errorf("%s: embedded certificate does not verify against its CA: %v", f, err)
		}
		want := "https://k8s-api.example.internal:6443"
		if strings.Contains(f, "controller-manager") || strings.Contains(f, "scheduler") {
			want = "https://127.0.0.1:6443"
		}
		if parts[2] != want {
			t.Errorf("%s: server %s, want %s", f, parts[2], want)
		}
	}
}

func opensslTime(t *testing.T, text, label string) time.Time {
	t.Helper()
	i := strings.Index(text, label)
	if i < 0 {
		t.Fatalf("no %q in openssl output", label)
	}
	line, _, _ := strings.Cut(text[i+len(label):], "\n")
	ts, err := time.Parse("Jan _2 15:04:05 2006 MST", strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// A rendered file of a bundle folder edited by hand: init says so, with when hardway wrote it and
// where the edited copy went, replaces it, and certs verify reports it until then.
func TestInitReportsHandEdits(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cluster")
	mustHardway(t, "init", "--config", haExample, "--dir", dir)
	rel := "nodes/worker-1/etc/systemd/system/kubelet.service"
	rendered := mustRead(t, filepath.Join(dir, rel))
	edited := strings.Replace(string(rendered), "--node-ip=", "--v=4 \\\n\t--node-ip=", 1)
	if err := os.WriteFile(filepath.Join(dir, rel), []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code := hardway(t, "certs", "verify", "--dir", dir)
	if code == 0 || !strings.Contains(out+errs, rel) || !strings.Contains(out+errs, "hand-edited: differs from what hardway wrote on") {
		t.Errorf("certs verify: exit %d\n%s%s", code, out, errs)
	}
	out, errs, code = hardway(t, "init", "--config", haExample, "--dir", dir, "--dry-run")
	if code != 0 || !strings.Contains(errs, "hand-edited: "+rel+" differs from what hardway wrote on ") || !strings.Contains(errs, "init replaces it and keeps your copy in backup/") {
		t.Errorf("init --dry-run: exit %d\n%s%s", code, out, errs)
	}
	out, errs, code = hardway(t, "init", "--config", haExample, "--dir", dir)
	if code != 0 {
		t.Fatalf("init: exit %d\n%s%s", code, out, errs)
	}
	m := regexp.MustCompile(`warning: hand-edited: ` + regexp.QuoteMeta(rel) + ` differs from what hardway wrote on \d{4}-\d\d-\d\d \d\d:\d\d UTC; your copy is in (backup/\S+)`).FindStringSubmatch(errs)
	if m == nil {
		t.Fatalf("init does not report the hand edit:\n%s%s", out, errs)
	}
	if got := mustRead(t, filepath.Join(dir, m[1])); string(got) != edited {
		t.Errorf("%s is not the edited copy:\n%s", m[1], got)
	}
	if got := mustRead(t, filepath.Join(dir, rel)); string(got) != string(rendered) {
		t.Errorf("%s is not what init renders:\n%s", rel, got)
	}
	if out := mustHardway(t, "certs", "verify", "--dir", dir); !strings.Contains(out, "verifies") {
		t.Errorf("certs verify after init: %s", out)
	}
}

// The extras example with an extra file copied from the cluster directory: the extra flags and
// files reach the bundles (and nothing else of the cluster directory), and feature gates keep
// their case through the cluster file and init's resolved copy of it.
func TestInitWithExtras(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cluster")
	base, err := os.ReadFile("../../configs/examples/extras.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "cluster.yaml")
	more := "  - {component: kubelet, path: /etc/kubernetes/extra/kubelet/image-credential-provider.yaml, source: extra/credential-provider.yaml}\n"
	doc := strings.Replace(string(base), "extraFiles:\n", "extraFiles:\n"+more, 1)
	doc = strings.Replace(doc, "extraArgs:\n", "extraArgs:\n  kubelet:\n    image-credential-provider-config: /etc/kubernetes/extra/kubelet/image-credential-provider.yaml\n    image-credential-provider-bin-dir: /usr/local/lib/credential-providers\n", 1)
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	// Without the source file, init says where it should be.
	if _, errs, code := hardway(t, "init", "--config", cfg, "--dir", dir); code == 0 || !strings.Contains(errs, "extra/credential-provider.yaml") || !strings.Contains(errs, "extra/ folder") {
		t.Fatalf("init without extra/credential-provider.yaml: exit %d\n%s", code, errs)
	}
	if err := os.MkdirAll(filepath.Join(dir, "extra"), 0o755); err != nil {
		t.Fatal(err)
	}
	provider := "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders: []\n"
	if err := os.WriteFile(filepath.Join(dir, "extra/credential-provider.yaml"), []byte(provider), 0o644); err != nil {
		t.Fatal(err)
	}
	mustHardway(t, "init", "--config", cfg, "--dir", dir)
	if got := mustRead(t, filepath.Join(dir, "nodes/gpu-1/etc/kubernetes/extra/kubelet/image-credential-provider.yaml")); string(got) != provider {
		t.Errorf("the kubelet's extra file: %q", got)
	}
	kubelet := string(mustRead(t, filepath.Join(dir, "nodes/gpu-1/etc/systemd/system/kubelet.service")))
	for _, want := range []string{"--image-credential-provider-config=/etc/kubernetes/extra/kubelet/image-credential-provider.yaml", "--node-labels=example.com/accelerator=nvidia,topology.kubernetes.io/zone=rack-2"} {
		if !strings.Contains(kubelet, want) {
			t.Errorf("%s not in kubelet.service:\n%s", want, kubelet)
		}
	}
	if cfg := string(mustRead(t, filepath.Join(dir, "nodes/gpu-1/var/lib/kubelet/config.yaml"))); !strings.Contains(cfg, "  InPlacePodVerticalScaling: true\n") || !strings.Contains(cfg, "  ImageVolume: true\n") {
		t.Errorf("the kubelet's feature gates lost their case:\n%s", cfg)
	}
	if _, err := os.Stat(filepath.Join(dir, "nodes/cp-1/etc/kubernetes/extra/kubelet")); err == nil {
		t.Errorf("the kubelet's extra file went to a node without a kubelet")
	}
	// The resolved cluster file reads back the same: a second init writes nothing.
	if out := mustHardway(t, "init", "--config", cfg, "--dir", dir); !strings.Contains(out, "nothing to write") {
		t.Errorf("second init: %s", out)
	}
	if out := mustHardway(t, "certs", "verify", "--dir", dir); !strings.Contains(out, "verifies") {
		t.Errorf("certs verify: %s", out)
	}
}

// Two clusters' admin kubeconfigs merged (KUBECONFIG=a:b) keep both users: each context pairs
// its cluster's server and CA with its own certificate, as kubectl reads them.
func TestMergedKubeconfigsKeepEachClustersUser(t *testing.T) {
	kubectl := e2e.RequireBinary(t, "kubectl")
	src, err := os.ReadFile(haExample)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	certs := map[string]string{}
	for _, name := range []string{"prod", "staging"} {
		cfg := filepath.Join(t.TempDir(), name+".yaml")
		data := strings.Replace(string(src), "name: prod\n", "name: "+name+"\n", 1)
		data = strings.Replace(data, "host: k8s-api.example.internal", "host: "+name+".example.internal", 1)
		if err := os.WriteFile(cfg, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), name)
		mustHardway(t, "init", "--config", cfg, "--dir", dir)
		f := filepath.Join(dir, "kubeconfigs", "admin.kubeconfig")
		files = append(files, f)
		kc, err := pki.ParseKubeconfig(mustReadFile(t, f))
		if err != nil {
			t.Fatal(err)
		}
		certs[name] = string(kc.CertPEM)
	}
	merged := append(os.Environ(), "KUBECONFIG="+strings.Join(files, string(os.PathListSeparator)))
	for _, name := range []string{"prod", "staging"} {
		cmd := exec.Command(kubectl, "config", "view", "--minify", "--raw", "--context", "admin@"+name, "-o",
			"jsonpath={.users[0].name} {.clusters[0].name} {.clusters[0].cluster.server} {.users[0].user.client-certificate-data}")
		cmd.Env = merged
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl config view --context admin@%s: %v\n%s", name, err, out)
		}
		parts := strings.Fields(string(out))
		if len(parts) != 4 {
			t.Fatalf("kubectl printed %q", out)
		}
		if parts[0] != "admin@"+name || parts[1] != name || parts[2] != "https://"+name+".example.internal:6443" {
			t.Errorf("context admin@%s: user %s, cluster %s, server %s", name, parts[0], parts[1], parts[2])
		}
		cert := decodeB64Cert(t, parts[3])
		if string(pki.EncodeCert(cert.Raw)) != certs[name] {
			t.Errorf("context admin@%s uses another cluster's certificate", name)
		}
	}
}

// After init or a renewal, the output says which nodes' bundles changed and what launch will
// start or restart on each; a run that changes no bundle says nothing of the kind.
func TestNextStepsNameNodesAndUnits(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cluster")
	out := mustHardway(t, "init", "--config", haExample, "--dir", dir)
	if !strings.Contains(out, "next: 6 node bundle(s) changed") || !regexp.MustCompile(`worker-1 +nodes/worker-1.tar.gz +new bundle; launch starts containerd.service, kubelet.service`).MatchString(out) {
		t.Errorf("first init:\n%s", out)
	}
	tests := []struct {
		args []string
		want []string // regular expressions, each a line
		not  []string // nodes that must not be named
	}{
		{[]string{"init", "--config", haExample}, nil, []string{"cp-1", "worker-1"}},
		{[]string{"certs", "renew", "etcd/server-cp-2"}, []string{`next: 1 node bundle\(s\) changed`, `cp-2 +nodes/cp-2.tar.gz +1 file\(s\) changed; launch restarts etcd.service$`}, []string{"cp-1", "cp-3", "worker"}},
		{[]string{"certs", "renew", "etcd-ca"}, []string{`cp-1 .*launch restarts etcd.service, kube-apiserver.service$`, `cp-3 .*launch restarts etcd.service, kube-apiserver.service$`}, []string{"worker"}},
		{[]string{"certs", "renew", "kube-proxy", "--dry-run"}, []string{`next: 3 node bundle\(s\) would change`, `worker-2 .*launch restarts kube-proxy.service$`}, []string{"cp-"}},
		{[]string{"certs", "renew", "admin"}, nil, []string{"cp-", "worker"}}, // no node holds it
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out := mustHardway(t, append(tt.args, "--dir", dir)...)
			_, next, _ := strings.Cut(out, "next:")
			if tt.want == nil && strings.Contains(out, "next:") {
				t.Errorf("no bundle changes, yet:\n%s", out)
			}
			for _, w := range tt.want {
				if !regexp.MustCompile(`(?m)` + w).MatchString(out) {
					t.Errorf("no line matching %q in:\n%s", w, out)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(next, "  "+n) {
					t.Errorf("names %s:\n%s", n, next)
				}
			}
		})
	}
}

// check-expiration: kubeadm's remaining times (9y for the CAs), one spelling per CA (etcd-ca,
// the name 'certs renew' takes), a missing kubeconfig in the same row as a missing certificate.
func TestCheckExpirationRows(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cluster")
	mustHardway(t, "init", "--config", haExample, "--dir", dir)
	os.Remove(filepath.Join(dir, "kubeconfigs", "admin.kubeconfig"))
	os.Remove(filepath.Join(dir, "pki", "scheduler-server.crt"))
	out, errs, code := hardway(t, "certs", "check-expiration", "--dir", dir)
	if code != 1 || !strings.Contains(errs, "admin.kubeconfig, scheduler-server") || !strings.Contains(errs, "missing") {
		t.Errorf("exit %d: %s", code, errs)
	}
	for _, w := range []string{
		`(?m)^etcd-ca +\w{3} \d\d, \d{4} \d\d:\d\d UTC +9y +no$`,
		`(?m)^ca +\w{3} \d\d, \d{4} \d\d:\d\d UTC +9y +no$`,
		`(?m)^admin\.kubeconfig +\(missing\) +ca +no$`,
		`(?m)^scheduler-server +\(missing\) +ca +no$`,
		`(?m)^apiserver-etcd-client +.* 364d +etcd-ca +no$`,
	} {
		if !regexp.MustCompile(w).MatchString(out) {
			t.Errorf("no row matching %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "etcd/ca") {
		t.Errorf("etcd/ca spelt as a path:\n%s", out)
	}
	out = mustHardway(t, "certs", "list", "--dir", dir, "-o", "json")
	if strings.Contains(out, `"name": "etcd/ca"`) || !strings.Contains(out, `"name": "etcd-ca"`) {
		t.Errorf("certs list -o json names the etcd CA otherwise:\n%s", out)
	}
}
