package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/coreos/go-systemd/v22/unit"
	"github.com/hardway-dev/hardway/pki"
	"github.com/hardway-dev/hardway/units"
	"github.com/hardway-dev/hardway/units/bundle"
	"github.com/hardway-dev/hardway/units/systemd"
	"github.com/hardway-dev/hardway/units/systemd/sandboxtest"
)

// writeArchive writes a node bundle archive with package bundle, as `hardway init` does: files
// ending in .service are units, the rest configs, all 0600; signed with key unless it is nil.
func writeArchive(t *testing.T, p, node string, files map[string]string, units []bundle.Unit, key ed25519.PrivateKey) {
	t.Helper()
	var fs []bundle.File
	for fp, data := range files {
		kind := bundle.KindConfig
		if strings.HasSuffix(fp, ".service") {
			kind = bundle.KindUnit
		}
		fs = append(fs, bundle.File{Path: fp, Kind: kind, Mode: 0o600, Data: []byte(data)})
	}
	b := bundle.New(node, fs, units)
	manifest, err := b.Manifest().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var sig []byte
	if key != nil {
		if sig, err = bundle.Sign(manifest, key, nil); err != nil {
			t.Fatal(err)
		}
	}
	archive, err := b.Archive(manifest, sig)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, archive, 0o600); err != nil {
		t.Fatal(err)
	}
}

// `hardway launch --bundle <node>.tar.gz --systemd-socket ...` against a real (sandboxed)
// systemd manager: the first run installs and starts, the second touches nothing, a changed
// input restarts only its unit.
func TestLaunchCommandArchiveRealSystemd(t *testing.T) {
	root := t.TempDir()
	sb := sandboxtest.Start(t, filepath.Join(root, bundle.SystemdDir))
	// Unit files in the canonical form the install policy demands (go-systemd's serialization).
	svc := func(name, input string) string {
		var b strings.Builder
		io.Copy(&b, unit.Serialize([]*unit.UnitOption{
			unit.NewUnitOption("Unit", "Description", name+" (reads "+filepath.Join(root, input)+")"),
			unit.NewUnitOption("Service", "ExecStart", "/bin/sleep infinity"),
			unit.NewUnitOption("Install", "WantedBy", "default.target"),
		}))
		return b.String()
	}
	files := map[string]string{
		"/etc/systemd/system/alpha.service": svc("alpha", "/etc/alpha.conf"),
		"/etc/systemd/system/beta.service":  svc("beta", "/etc/beta.conf"),
		"/etc/alpha.conf":                   "v1",
		"/etc/beta.conf":                    "v1",
	}
	mus := []bundle.Unit{
		{Name: "alpha.service", Inputs: []string{"/etc/alpha.conf"}},
		{Name: "beta.service", Inputs: []string{"/etc/beta.conf"}, After: []string{"alpha.service"}},
	}
	// These units are not hardway's: allow exactly them, as units.Installable allows the
	// rendered ones.
	saved := launchPolicy
	t.Cleanup(func() { launchPolicy = saved })
	launchPolicy = func() (*bundle.Policy, error) {
		p := &bundle.Policy{Files: map[string]bundle.Allowed{}, Units: map[string]bundle.UnitAllowance{}}
		for f := range files {
			kind := bundle.KindConfig
			if strings.HasSuffix(f, ".service") {
				kind = bundle.KindUnit
				p.Units[path.Base(f)] = bundle.UnitAllowance{Commands: [][]string{{"/bin/sleep", "infinity"}, {"/bin/false"}},
					Options: map[string]bool{"Unit.Description": true, "Service.Type": true, "Service.ExecStart": true, "Install.WantedBy": true}}
			}
			p.Files[f] = bundle.Allowed{Kind: kind, Mode: 0o600}
		}
		return p, nil
	}
	pub, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, _ := bundle.MarshalPublicKey(pub)
	trust := writeFile(t, "bundle.pub", string(pubPEM))
	archive := filepath.Join(t.TempDir(), "n1.tar.gz")
	writeArchive(t, archive, "n1", files, mus, key)
	launch := func(extra ...string) string {
		t.Helper()
		return mustHardway(t, append([]string{"launch", "--node", "n1", "--bundle", archive, "--root", root, "--systemd-socket", sb.Socket, "--timeout", "1m"}, extra...)...)
	}
	// Before the node trusts a key, nothing is installed.
	if _, errs, code := hardway(t, "launch", "--node", "n1", "--bundle", archive, "--root", root, "--systemd-socket", sb.Socket); code == 0 || !strings.Contains(errs, "trusts no bundle signing key yet") {
		t.Fatalf("no trust: exit %d\n%s", code, errs)
	}

	out := launch("--trust", trust)
	for _, want := range []string{"create  /etc/alpha.conf (0600)", "daemon-reload", "start   alpha.service", "start   beta.service", "healthy: alpha.service, beta.service"} {
		if !strings.Contains(out, want) {
			t.Errorf("first launch: no %q in\n%s", want, out)
		}
	}
	if b, err := os.ReadFile(filepath.Join(root, "/etc/beta.conf")); err != nil || string(b) != "v1" {
		t.Fatalf("installed file: %q, %v", b, err)
	}

	// The key is pinned: later launches need no --trust.
	if out = launch(); !strings.Contains(out, "nothing to do") || strings.Contains(out, "start") {
		t.Errorf("second launch:\n%s", out)
	}

	files["/etc/beta.conf"] = "v2"
	writeArchive(t, archive, "n1", files, mus, key)
	out = launch()
	if !strings.Contains(out, "update  /etc/beta.conf") || !strings.Contains(out, "restart beta.service") || strings.Contains(out, "restart alpha") || strings.Contains(out, "daemon-reload") {
		t.Errorf("launch after a change:\n%s", out)
	}

	// --rollback reinstalls the bundle before: v1 again, beta restarted.
	out = mustHardway(t, "launch", "--node", "n1", "--rollback", "--root", root, "--systemd-socket", sb.Socket, "--timeout", "1m")
	if b, _ := os.ReadFile(filepath.Join(root, "/etc/beta.conf")); string(b) != "v1" || !strings.Contains(out, "restart beta.service") {
		t.Errorf("rollback: beta.conf %q\n%s", b, out)
	}

	// A bundle that does not come up is neither kept nor a rollback target: after it, --rollback
	// goes back to the last good bundle (v1 now), not to the one before that (v2).
	failing := maps.Clone(files)
	failing["/etc/systemd/system/alpha.service"] = strings.Replace(svc("alpha", "/etc/alpha.conf"), "ExecStart=/bin/sleep infinity", "Type=oneshot\nExecStart=/bin/false", 1)
	failing["/etc/beta.conf"] = "v3"
	writeArchive(t, archive, "n1", failing, mus, key)
	if _, _, code := hardway(t, "launch", "--node", "n1", "--bundle", archive, "--root", root, "--systemd-socket", sb.Socket, "--timeout", "20s"); code == 0 {
		t.Fatal("a bundle whose unit fails launched")
	}
	mustHardway(t, "launch", "--node", "n1", "--rollback", "--root", root, "--systemd-socket", sb.Socket, "--timeout", "1m")
	if b, _ := os.ReadFile(filepath.Join(root, "/etc/beta.conf")); string(b) != "v1" {
		t.Errorf("rollback after a failed launch: beta.conf %q, want the last good v1", b)
	}

	// Unsigned, or signed by a key the node does not trust: refused before anything is touched.
	writeArchive(t, archive, "n1", files, mus, nil)
	if _, errs, code := hardway(t, "launch", "--node", "n1", "--bundle", archive, "--root", root, "--systemd-socket", sb.Socket); code == 0 || !strings.Contains(errs, "not signed") {
		t.Errorf("unsigned: exit %d\n%s", code, errs)
	}
	_, other, _ := ed25519.GenerateKey(nil)
	writeArchive(t, archive, "n1", files, mus, other)
	if _, errs, code := hardway(t, "launch", "--node", "n1", "--bundle", archive, "--root", root, "--systemd-socket", sb.Socket); code == 0 || !strings.Contains(errs, "which this node does not trust") {
		t.Errorf("another key: exit %d\n%s", code, errs)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "/etc/beta.conf")); string(b) != "v1" {
		t.Errorf("a refused bundle changed beta.conf to %q", b)
	}

	// The wrong node's archive is refused before anything is touched.
	writeArchive(t, archive, "n1", files, mus, key)
	if _, errs, code := hardway(t, "launch", "--node", "n2", "--bundle", archive, "--root", root, "--systemd-socket", sb.Socket); code == 0 || !strings.Contains(errs, `for node "n1", not "n2"`) {
		t.Errorf("wrong node: exit %d\n%s", code, errs)
	}
}

// The archive `hardway init` writes reads back as the same bundle as its directory, whichever
// form --bundle names.
func TestLaunchReadsInitArchive(t *testing.T) {
	dir := t.TempDir()
	mustHardway(t, "init", "--config", "../../configs/examples/single.yaml", "--dir", dir)
	fromDir, err := bundle.Open(context.Background(), dir, "node1", bundle.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, location := range []string{
		filepath.Join(dir, "nodes", "node1.tar.gz"),
		filepath.Join(dir, "nodes", "node1"),
	} {
		got, err := bundle.Open(context.Background(), location, "node1", bundle.Options{})
		if err != nil {
			t.Fatalf("%s: %v", location, err)
		}
		if len(got.Files) != len(fromDir.Files) || len(got.Units) != len(fromDir.Units) {
			t.Fatalf("%s: %d files %d units, the directory has %d and %d", location, len(got.Files), len(got.Units), len(fromDir.Files), len(fromDir.Units))
		}
		for i := range got.Files {
			if got.Files[i].Path != fromDir.Files[i].Path || got.Files[i].Mode != fromDir.Files[i].Mode || !bytes.Equal(got.Files[i].Data, fromDir.Files[i].Data) {
				t.Errorf("%s: file %d: %s %v differs from %s %v", location, i, got.Files[i].Path, got.Files[i].Mode, fromDir.Files[i].Path, fromDir.Files[i].Mode)
			}
		}
	}
	// A directory without nodes/<node>/ falls back to nodes/<node>.tar.gz.
	if err := os.RemoveAll(filepath.Join(dir, "nodes", "node1")); err != nil {
		t.Fatal(err)
	}
	if _, err := bundle.Open(context.Background(), dir, "node1", bundle.Options{}); err != nil {
		t.Fatalf("archive fallback: %v", err)
	}
	if _, err := bundle.Open(context.Background(), filepath.Join(dir, "cluster.yaml"), "node1", bundle.Options{}); err == nil || !strings.Contains(err.Error(), "not a gzip archive") {
		t.Fatalf("a file that is no archive: %v", err)
	}
}

// Every node bundle `hardway init` writes for the HA example passes the strict manifest reader,
// as a directory and as an archive.
func TestLaunchReadsEveryHABundle(t *testing.T) {
	dir := t.TempDir()
	mustHardway(t, "init", "--config", haExample, "--dir", dir)
	c := mustCluster(t, dir)
	for _, n := range c.Nodes {
		for _, location := range []string{filepath.Join(dir, "nodes", n.Name), filepath.Join(dir, "nodes", n.Name+".tar.gz")} {
			if b, err := bundle.Open(context.Background(), location, n.Name, bundle.Options{}); err != nil {
				t.Errorf("%s: %v", location, err)
			} else if len(b.Units) == 0 {
				t.Errorf("%s: no units", location)
			}
		}
	}
}

// launch's RBAC step: only a bundle with the super-admin kubeconfig applies it, to the local
// API server named by the kube-apiserver unit's health probe; a transient 503 is retried and
// the report says what was done; a dry run only says what it would ensure.
func TestLaunchBootstrapRBACStep(t *testing.T) {
	var mu sync.Mutex
	var requests []string
	objs := map[string][]byte{}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		requests = append(requests, r.Method+" "+r.URL.Path)
		if len(requests) == 1 {
			http.Error(w, `{"kind":"Status","code":503,"reason":"ServiceUnavailable"}`, http.StatusServiceUnavailable)
			return
		}
		name := path.Base(r.URL.Path)
		switch r.Method {
		case http.MethodGet:
			if b, ok := objs[name]; ok {
				w.Write(b)
				return
			}
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"kind":"Status","code":404,"reason":"NotFound"}`))
		case http.MethodPost:
			b, _ := io.ReadAll(r.Body)
			var crb rbacv1.ClusterRoleBinding
			json.Unmarshal(b, &crb)
			objs[crb.Name] = b
			w.WriteHeader(http.StatusCreated)
			w.Write(b)
		default:
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	}))
	defer srv.Close()

	key, err := pki.GenerateKey("ecdsa-p256")
	if err != nil {
		t.Fatal(err)
	}
	ca, err := pki.NewCA("super-admin", pki.Subject{CN: "kubernetes-super-admin"}, key, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := pki.EncodeKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// The kubeconfig names a load balancer that is not up; launch must use the local server.
	kc, err := pki.Kubeconfig{ClusterName: "c", Server: "https://lb.invalid:6443", User: "super-admin", CAPEM: pki.EncodeCert(srv.Certificate().Raw), CertPEM: ca.CertPEM, KeyPEM: keyPEM}.Render()
	if err != nil {
		t.Fatal(err)
	}
	b := bundle.New("cp-1",
		[]bundle.File{{Path: units.SuperAdminKubeconfig, Kind: bundle.KindSecret, Data: kc, Mode: 0o600}},
		[]bundle.Unit{{Name: "kube-apiserver.service", Health: &bundle.Health{Kind: bundle.HealthAPIServer, URL: srv.URL + "/readyz", CA: "/ca", Cert: "/c", Key: "/k"}}})
	var out bytes.Buffer
	g := &globals{stdout: &out, log: slog.New(slog.DiscardHandler)}

	if err := applyBootstrapRBAC(context.Background(), g, b, true); err != nil || len(requests) != 0 ||
		!strings.Contains(out.String(), "would ensure clusterrolebinding hardway:cluster-admins (Group hardway:cluster-admins -> ClusterRole cluster-admin)") {
		t.Fatalf("dry run: %v, requests %v\n%s", err, requests, out.String())
	}
	out.Reset()
	if err := applyBootstrapRBAC(context.Background(), g, b, false); err != nil {
		t.Fatal(err)
	}
	if out.String() != "rbac: clusterrolebinding hardway:cluster-admins created\nrbac: clusterrolebinding hardway:apiserver-kubelet-client created\n" {
		t.Fatalf("report:\n%s(requests %v)", out.String(), requests)
	}
	out.Reset()
	if err := applyBootstrapRBAC(context.Background(), g, b, false); err != nil || !strings.Contains(out.String(), "hardway:cluster-admins unchanged") {
		t.Fatalf("second apply: %v\n%s", err, out.String())
	}

	// Any other node's bundle has no super-admin kubeconfig: nothing is sent.
	n := len(requests)
	out.Reset()
	if err := applyBootstrapRBAC(context.Background(), g, bundle.New("w-1", nil, nil), false); err != nil || out.Len() != 0 || len(requests) != n {
		t.Fatalf("a worker's bundle: %v, %q", err, out.String())
	}
}

// Bundles from init are signed and pass the renderer's policy: a node that was given the
// cluster's signing key takes them, and after `init --rotate-signing-key` it takes the bundles
// signed by the new key through the old key's endorsement, with no new --trust.
func TestLaunchTakesInitSignedBundles(t *testing.T) {
	dir := t.TempDir()
	mustHardway(t, "init", "--config", "../../configs/examples/single.yaml", "--dir", dir)
	root := t.TempDir()
	archive := filepath.Join(dir, "nodes", "node1.tar.gz")
	dry := func(extra ...string) (string, string, int) {
		return hardway(t, append([]string{"launch", "--dry-run", "--node", "node1", "--bundle", archive, "--root", root}, extra...)...)
	}
	if _, errs, code := dry(); code == 0 || !strings.Contains(errs, "--trust") {
		t.Fatalf("no trusted key: exit %d\n%s", code, errs)
	}
	if out, errs, code := dry("--trust", filepath.Join(dir, "signing", "bundle.pub")); code != 0 || !strings.Contains(out, "would create  /etc/kubernetes/pki/ca.crt") {
		t.Fatalf("signed bundle: exit %d\n%s%s", code, out, errs)
	}
	// A dry run on a root that does not exist yet plans every file as new and writes nothing.
	fresh := filepath.Join(t.TempDir(), "fresh-root")
	if out, errs, code := hardway(t, "launch", "--dry-run", "--node", "node1", "--bundle", archive, "--root", fresh, "--trust", filepath.Join(dir, "signing", "bundle.pub")); code != 0 || !strings.Contains(out, "would create  /etc/kubernetes/pki/ca.crt") {
		t.Errorf("dry run on a fresh root: exit %d\n%s%s", code, out, errs)
	}
	if _, err := os.Stat(fresh); err == nil {
		t.Error("a dry run created the root")
	}
	// A dry run pins nothing; pin the key as a real launch would.
	pub, err := os.ReadFile(filepath.Join(dir, "signing", "bundle.pub"))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(root, "var/lib/hardway"), 0o700)
	os.WriteFile(filepath.Join(root, systemd.TrustedKeysFile), pub, 0o644)
	if _, errs, code := dry(); code != 0 {
		t.Fatalf("pinned key: exit %d\n%s", code, errs)
	}

	out := mustHardway(t, "init", "--config", "../../configs/examples/single.yaml", "--dir", dir, "--rotate-signing-key")
	if !strings.Contains(out, "rotated bundle signing key") {
		t.Errorf("rotation:\n%s", out)
	}
	if _, errs, code := dry(); code != 0 {
		t.Errorf("a bundle signed by the rotated key, the old one pinned: exit %d\n%s", code, errs)
	}
	// A bundle changed after init: its signature no longer matches.
	b, err := bundle.ReadArchive(context.Background(), archive, "node1", bundle.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := bytes.Replace(b.RawManifest, []byte(`"mode": "0600"`), []byte(`"mode": "0400"`), 1)
	tampered, err := b.Archive(m, b.Signature)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(archive, tampered, 0o600)
	if _, errs, code := dry(); code == 0 || !strings.Contains(errs, "the signature does not match") {
		t.Errorf("tampered manifest: exit %d\n%s", code, errs)
	}
}

// Preflight through the command: a bundle whose kube-apiserver.service listens on a port
// something else holds is refused with the check's name, the port, its holder and the fix,
// and nothing is installed; --ignore-preflight-errors with that name launches it. The unit's
// program is a stand-in bound at /usr/local/bin/kube-apiserver inside the sandboxed manager's
// mount namespace only, so preflight must look for it where that manager does.
func TestLaunchPreflightPortTaken(t *testing.T) {
	root := t.TempDir()
	stub := filepath.Join(t.TempDir(), "kube-apiserver")
	if err := os.WriteFile(stub, []byte("#!/bin/sh\n[ \"$1\" = --version ] && { echo 'Kubernetes v1.37.2'; exit 0; }\nexec sleep infinity\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	sb := sandboxtest.StartWith(t, sandboxtest.Options{
		UnitDirs: []string{filepath.Join(root, bundle.SystemdDir)},
		Binds:    map[string]string{units.BinDir + "/kube-apiserver": stub},
	})
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := strconv.Itoa(taken.Addr().(*net.TCPAddr).Port)
	var unitFile strings.Builder
	io.Copy(&unitFile, unit.Serialize([]*unit.UnitOption{
		unit.NewUnitOption("Unit", "Description", "stand-in API server"),
		unit.NewUnitOption("Service", "ExecStart", units.BinDir+"/kube-apiserver --bind-address=127.0.0.1 --secure-port="+port),
		unit.NewUnitOption("Install", "WantedBy", "default.target"),
	}))
	files := map[string]string{"/etc/systemd/system/kube-apiserver.service": unitFile.String()}
	saved := launchPolicy
	t.Cleanup(func() { launchPolicy = saved })
	launchPolicy = func() (*bundle.Policy, error) {
		return &bundle.Policy{
			Files: map[string]bundle.Allowed{"/etc/systemd/system/kube-apiserver.service": {Kind: bundle.KindUnit, Mode: 0o600}},
			Units: map[string]bundle.UnitAllowance{"kube-apiserver.service": {
				Commands: [][]string{{units.BinDir + "/kube-apiserver"}},
				Flags:    map[string]bool{"bind-address": true, "secure-port": true},
				Options:  map[string]bool{"Unit.Description": true, "Service.ExecStart": true, "Install.WantedBy": true}}},
		}, nil
	}
	archive := filepath.Join(t.TempDir(), "n1.tar.gz")
	writeArchive(t, archive, "n1", files, []bundle.Unit{{Name: "kube-apiserver.service", Version: "1.37"}}, nil)
	launch := func(extra ...string) (string, string, int) {
		return hardway(t, append([]string{"launch", "--node", "n1", "--bundle", archive, "--root", root, "--insecure-unsigned", "--systemd-socket", sb.Socket, "--timeout", "1m"}, extra...)...)
	}

	out, errs, code := launch()
	if code == 0 {
		t.Fatalf("launched with port %s taken:\n%s%s", port, out, errs)
	}
	for _, want := range []string{
		"[Port-" + port + "] 127.0.0.1:" + port + " (kube-apiserver.service --secure-port): in use, and kube-apiserver.service is not running",
		fmt.Sprintf("held by pid %d (", os.Getpid()),
		"stop what holds it",
		"--ignore-preflight-errors=Port-" + port,
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("no %q in\n%s", want, errs)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "/etc/systemd/system/kube-apiserver.service")); err == nil {
		t.Error("a launch stopped by preflight installed the unit file")
	}
	// The stand-in's version was read inside the manager's mount namespace.
	if dry, errs, code := launch("--dry-run"); code != 0 || !strings.Contains(dry, "[ok] Version-kube-apiserver: /usr/local/bin/kube-apiserver: Kubernetes 1.37.2 matches 1.37") ||
		!strings.Contains(dry, "preflight: launch would stop here: 1 error(s)") {
		t.Errorf("dry run: exit %d\n%s%s", code, dry, errs)
	}

	out, errs, code = launch("--ignore-preflight-errors=port-" + port)
	if code != 0 || !strings.Contains(out, "preflight [ignored error] Port-"+port) || !strings.Contains(out, "healthy: kube-apiserver.service") {
		t.Fatalf("with --ignore-preflight-errors: exit %d\n%s%s", code, out, errs)
	}
}
