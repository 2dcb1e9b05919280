package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/units/flags"
	"github.com/hardway-dev/hardway/units/inspect"
)

func inspectFixture(name string) string {
	return filepath.Join("..", "..", "units", "inspect", "testdata", name)
}

func runInspectCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"inspect"}, args...), strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestInspectExitCodes(t *testing.T) {
	root := t.TempDir()
	clean := "kube-scheduler --bind-address=127.0.0.1 --profiling=false --secure-port=10259"
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  int
	}{
		{"clean", clean, []string{"-", "--root", root}, 0},
		{"warnings pass the default --fail-on", "kube-scheduler --profiling=false", []string{"-", "--root", root}, 0},
		{"warnings fail --fail-on warning", "kube-scheduler --profiling=false", []string{"-", "--root", root, "--fail-on", "warning"}, 1},
		{"removed flags", "", []string{inspectFixture("kube-apiserver-1.10.service"), "--root", root}, 1},
		{"no input", "", []string{"--root", root}, 2},
		{"missing file", "", []string{filepath.Join(root, "nope.service")}, 2},
		{"bad target", clean, []string{"-", "--target-version", "1.99"}, 2},
		{"target before the catalogue", clean, []string{"-", "--target-version", "1.7"}, 2},
		// At 1.8 the scheduler served only an unauthenticated port (--port, on --address): a clean
		// 1.8 scheduler keeps it on loopback. It had no secure port before 1.13
		// (cmd/kube-scheduler/app/options/options.go, v1.12.10: SecureServing nil), so
		// --bind-address/--secure-port would be flag-not-yet-added errors.
		{"oldest target", "kube-scheduler --address=127.0.0.1 --profiling=false", []string{"-", "--root", root, "--target-version", "1.8"}, 0},
		{"an old scheduler's open insecure port", clean, []string{"-", "--root", root, "--target-version", "1.8"}, 1},
		{"malformed target", clean, []string{"-", "--target-version", "one"}, 2},
		{"bad output", clean, []string{"-", "-o", "xml"}, 2},
		{"bad fail-on", clean, []string{"-", "--fail-on", "fatal"}, 2},
		{"bad warn-within", clean, []string{"-", "--warn-within", "soon"}, 2},
		{"bad root", clean, []string{"-", "--root", filepath.Join(root, "nope")}, 2},
		{"unknown service", "", []string{"--service", "no-such-unit-hardway-test", "--root", root}, 2},
		{"--ignore takes a finding out of the count", "kube-scheduler --profiling=false", []string{"-", "--root", root, "--fail-on", "warning", "--ignore", "bind-address-exposed=scraped by prometheus"}, 0},
		{"--ignore of another rule changes nothing", "kube-scheduler --profiling=false", []string{"-", "--root", root, "--fail-on", "warning", "--ignore", "profiling-enabled"}, 1},
		{"--ignore of an unknown rule", clean, []string{"-", "--ignore", "no-such-rule"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runInspectCLI(t, tt.stdin, tt.args...)
			if code != tt.want {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.want, out, errOut)
			}
		})
	}
}

func TestInspectTableShowsFlagsAndFindings(t *testing.T) {
	code, out, _ := runInspectCLI(t, "", inspectFixture("kube-apiserver-1.10.service"), "--root", t.TempDir())
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"--insecure-port", "removed", "kube-apiserver-1.10.service:30",
		"flag-removed", "admission-plugin-removed", "runtime-config-api-all", "service-account-flags-missing",
		"--log-dir                                   (unresolved: LOG_DIR)", "fix: Rename to --encryption-provider-config",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q", want)
		}
	}
}

func TestInspectJSON(t *testing.T) {
	code, out, _ := runInspectCLI(t, "", inspectFixture("kube-apiserver-kubeadm.yaml"), "--root", t.TempDir(), "-o", "json", "--target-version", "1.31")
	if code != 1 { // the files do not exist under the empty root
		t.Fatalf("exit %d", code)
	}
	var rep struct {
		Results []struct {
			Target   string `json:"targetVersion"`
			Findings []struct {
				ID       string `json:"id"`
				Severity string `json:"severity"`
			} `json:"findings"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 1 || rep.Results[0].Target != "1.31" {
		t.Fatalf("results: %+v", rep.Results)
	}
	seen := map[string]string{}
	for _, f := range rep.Results[0].Findings {
		seen[f.ID] = f.Severity
	}
	if seen["file-missing"] != "error" || seen["kubelet-ca-missing"] != "warning" || seen["flag-removed"] != "" {
		t.Errorf("findings: %v", seen)
	}
}

// --fix output, inspected again, has none of the start-up-breaking findings it fixed; the
// signing key it adds is the one beside --service-account-key-file under --root; what --fix
// cannot repair (here the files the unit names, absent under --root) makes it exit 1.
func TestInspectFixRoundTrip(t *testing.T) {
	root := t.TempDir()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "var/lib/kubernetes"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "var/lib/kubernetes/service-account-key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runInspectCLI(t, "", inspectFixture("kube-apiserver-1.10.service"), "--fix", "--target-version", "1.30", "--root", root)
	if code != 1 || !strings.Contains(errOut, "remain after --fix") || !strings.Contains(errOut, "file-missing") {
		t.Fatalf("exit %d, want 1 with the missing files listed: %s", code, errOut)
	}
	if strings.Contains(errOut, "service-account-flags-missing") || !strings.Contains(out, "--service-account-signing-key-file=${KUBE_DIR}/service-account-key.pem") {
		t.Errorf("the signing key beside service-account.pem was not added:\n%s\n%s", out, errOut)
	}
	fixed := filepath.Join(root, "kube-apiserver.service")
	if err := os.WriteFile(fixed, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	_, report, _ := runInspectCLI(t, "", fixed, "--root", root, "--target-version", "1.30", "-o", "json")
	for _, id := range []string{"flag-removed", "admission-plugin-removed", "runtime-config-api-all", "service-account-flags-missing", "value-malformed"} {
		if strings.Contains(report, `"id": "`+id+`"`) {
			t.Errorf("fixed unit still has %s:\n%s", id, out)
		}
	}
	if !strings.Contains(out, "--encryption-provider-config=${KUBE_DIR}/encryption-config.yaml") {
		t.Errorf("rename lost the value as written:\n%s", out)
	}
}

// --fix exits 0 only when nothing at or above --fail-on remains, and says what does.
func TestInspectFixExitStatus(t *testing.T) {
	tests := []struct {
		name, stdin string
		args        []string
		code        int
		errOut      string
	}{
		{"clean after the fix", "kube-scheduler --port=0 --bind-address=127.0.0.1 --profiling=false", nil, 0, ""},
		{"an unknown flag stays", "kube-scheduler --no-such=1 --profiling=false", nil, 1, "flag-unknown"},
		{"only warnings remain", "kube-scheduler --bind-address=0.0.0.0 --profiling=false", nil, 0, ""},
		{"warnings count with --fail-on warning", "kube-scheduler --bind-address=0.0.0.0 --profiling=false", []string{"--fail-on", "warning"}, 1, "bind-address-exposed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runInspectCLI(t, tt.stdin, append([]string{"-", "--fix"}, tt.args...)...)
			if code != tt.code || !strings.Contains(errOut, tt.errOut) {
				t.Errorf("exit %d (want %d), stderr %q (want %q); output:\n%s", code, tt.code, errOut, tt.errOut, out)
			}
		})
	}
}

func TestInspectDiff(t *testing.T) {
	code, out, errOut := runInspectCLI(t, "", "diff", inspectFixture("kube-apiserver-1.10.service"), inspectFixture("kube-apiserver-kubeadm.yaml"))
	if code != 1 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{`(?m)^-\s+--insecure-port\s+8080\s+\(absent\)`, `(?m)^\+\s+--enable-bootstrap-token-auth\s+\(absent\)\s+true`,
		`(?m)^~\s+--service-cluster-ip-range\s+10\.32\.0\.0/24\s+10\.96\.0\.0/12`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	f := inspectFixture("etcd-tls.service")
	if code, out, _ := runInspectCLI(t, "", "diff", f, f); code != 0 || !strings.Contains(out, "no differences") {
		t.Errorf("same file: exit %d\n%s", code, out)
	}
	if code, _, _ := runInspectCLI(t, "", "diff", f); code != 2 {
		t.Errorf("one argument: exit %d, want 2", code)
	}
}

func TestInspectDirectoryAndRoot(t *testing.T) {
	// A node bundle: units under etc/systemd/system, referenced files under the same root.
	root := t.TempDir()
	dir := filepath.Join(root, "etc", "systemd", "system")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"etcd-plain.service", "kube-apiserver-dropin.service"} {
		b, err := os.ReadFile(inspectFixture(n))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, n), b, 0o644)
	}
	os.MkdirAll(filepath.Join(dir, "kube-apiserver-dropin.service.d"), 0o755)
	b, _ := os.ReadFile(inspectFixture("kube-apiserver-dropin.service.d/10-override.conf"))
	os.WriteFile(filepath.Join(dir, "kube-apiserver-dropin.service.d", "10-override.conf"), b, 0o644)

	code, out, _ := runInspectCLI(t, "", dir, "--root", root, "-o", "json")
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out, `"cross-etcd-endpoints"`) {
		t.Errorf("apiserver points at https://127.0.0.1:2379 but etcd serves http://: want cross-etcd-endpoints\n%s", out)
	}
	if strings.Contains(out, `"insecure-port"`) {
		t.Error("the drop-in's empty ExecStart= did not reset the packaged command line")
	}
	// --service without D-Bus (a --root is given) finds the unit in the standard directories.
	code, out, errOut := runInspectCLI(t, "", "--service", "kube-apiserver-dropin", "--root", root)
	if code != 1 || !strings.Contains(out, "10-override.conf") {
		t.Errorf("--service: exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestInspectPID(t *testing.T) {
	code, out, _ := runInspectCLI(t, "", "--pid", strconv.Itoa(os.Getpid()), "--root", t.TempDir())
	// The test binary is not a component: the input is read, and reported as unknown.
	if code != 1 || !strings.Contains(out, "input-unknown-component") {
		t.Errorf("exit %d\n%s", code, out)
	}
	if code, _, _ := runInspectCLI(t, "", "--pid", "999999999"); code != 2 {
		t.Errorf("missing pid: exit %d, want 2", code)
	}
}

// Units rendered by hardway's own generator raise no error or warning about their flags.
func TestInspectRenderedUnitsAreClean(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"units", "show", "cp-1", "--config", example("ha")}, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("units show: exit %d: %s", code, errb.String())
	}
	header := regexp.MustCompile(`(?m)^==> (\S+) \(mode \d+\) <==\n`)
	text := out.String()
	locs := header.FindAllStringSubmatchIndex(text, -1)
	cat := flags.Default()
	var invs []*inspect.Invocation
	for i, l := range locs {
		path := text[l[2]:l[3]]
		end := len(text)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		if !strings.HasSuffix(path, ".service") {
			continue
		}
		u, err := inspect.LoadUnit(filepath.Base(path), inspect.File{Name: path, Data: []byte(text[l[1]:end])}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		inv, err := inspect.FromUnitFile(cat, u)
		if err != nil {
			t.Fatal(err)
		}
		if inv.Component != "" {
			invs = append(invs, inv)
		}
	}
	if len(invs) == 0 {
		t.Fatal("no component units rendered")
	}
	rep := inspect.Inspect(invs, inspect.Options{Catalogue: cat})
	for _, f := range rep.All() {
		if f.Severity >= inspect.Warning {
			t.Errorf("%s: %s %s: %s", f.Input, f.Severity, f.ID, f.Message)
		}
	}
}

// Every node's bundle from `hardway init`, inspected in place with its files (certificates
// chained, keys matched, SANs against the addresses, permissions, cross-component checks),
// has no warning or error: the PKI, the units and the bundles agree with each other.
// Every example's bundles inspect clean at --fail-on warning: the runtime layer too
// (containerd, its config.toml and CNI network, pod-routes.service), with the kubelet and
// containerd agreeing on the cgroup driver.
func TestInspectInitBundlesAreClean(t *testing.T) {
	examples, err := filepath.Glob("../../configs/examples/*.yaml")
	if err != nil || len(examples) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, example := range examples {
		t.Run(filepath.Base(example), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "cluster")
			mustHardway(t, "init", "--config", example, "--dir", dir)
			c := mustCluster(t, dir)
			for _, n := range c.Nodes {
				root := filepath.Join(dir, "nodes", n.Name)
				code, out, errs := runInspectCLI(t, "", "--root", root, "--fail-on", "warning", filepath.Join(root, "etc/systemd/system"))
				if code != 0 || !strings.Contains(out, "0 error(s), 0 warning(s)") {
					t.Errorf("node %s: exit %d\n%s\n%s", n.Name, code, out, errs)
				}
				var want []string
				if n.Has(configs.RoleControlPlane) {
					want = append(want, "== kube-apiserver.service (kube-apiserver")
				}
				if n.Has(configs.RoleWorker) {
					want = append(want, "== kubelet.service (kubelet", "== containerd.service (containerd", "SystemdCgroup", "ipam subnet")
				}
				if _, err := os.Stat(filepath.Join(root, "etc/systemd/system/pod-routes.service")); err == nil {
					want = append(want, "== pod-routes.service (hardway routes, unit)")
				}
				for _, w := range want {
					if !strings.Contains(out, w) {
						t.Errorf("node %s: %q not in the report:\n%s", n.Name, w, out)
					}
				}
			}
		})
	}
}

// A cluster file for hosts without systemd as PID 1, with cgroup v1 and without
// CAP_SYS_RESOURCE renders bundles whose findings explain each of those choices, none an error.
func TestInspectConstrainedHostBundles(t *testing.T) {
	base, err := os.ReadFile("../../configs/examples/single.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "constrained.yaml")
	extra := "runtime:\n  cgroupDriver: cgroupfs\n  allowCgroupV1: true\n  restrictOOMScoreAdj: true\n"
	if err := os.WriteFile(cfg, append(base, extra...), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "cluster")
	mustHardway(t, "init", "--config", cfg, "--dir", dir)
	root := filepath.Join(dir, "nodes", "node1")
	code, out, errs := runInspectCLI(t, "", "--root", root, filepath.Join(root, "etc/systemd/system"))
	if code != 0 || !strings.Contains(out, "0 error(s)") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, id := range []string{"kubelet-cgroup-driver-cgroupfs", "kubelet-cgroup-v1-allowed", "containerd-restrict-oom-score-adj"} {
		if !strings.Contains(out, id) {
			t.Errorf("%s not explained:\n%s", id, out)
		}
	}
	for _, id := range []string{"cross-cgroup-driver", "containerd-oom-score-inconsistent"} {
		if strings.Contains(out, id) {
			t.Errorf("%s reported:\n%s", id, out)
		}
	}
}

// The catalogue's "hardway routes" lists exactly the flags the routes command accepts, with
// their types, so inspect reads pod-routes.service as hardway itself would.
func TestRoutesCatalogueMatchesCommand(t *testing.T) {
	g := &globals{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	root := newRootCmd(g)
	cmd, _, err := root.Find([]string{"routes"})
	if err != nil {
		t.Fatal(err)
	}
	cmd.InitDefaultHelpFlag()
	comp := flags.Default().ForSubcommand("routes")
	if comp == nil {
		t.Fatal("no catalogue entry for hardway routes")
	}
	got := map[string]bool{}
	cmd.Flags().AddFlagSet(cmd.InheritedFlags())
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		got[f.Name] = true
		cf := comp.Flag(f.Name)
		if cf == nil {
			t.Errorf("--%s of hardway routes is not in the catalogue", f.Name)
			return
		}
		if want := f.Value.Type(); string(cf.Type) != want {
			t.Errorf("--%s: catalogue type %s, command %s", f.Name, cf.Type, want)
		}
		if f.Shorthand != "" && comp.Shorthands[f.Shorthand] != f.Name {
			t.Errorf("-%s: catalogue shorthand %q, command --%s", f.Shorthand, comp.Shorthands[f.Shorthand], f.Name)
		}
	})
	for _, f := range comp.Flags {
		if !got[f.Name] {
			t.Errorf("the catalogue lists --%s, which hardway routes does not accept", f.Name)
		}
	}
}

// A bundle's unit inspected without --root names --root; --root alone inspects every unit of
// the node, as `inspect DIR` does, and finds its files.
func TestInspectBundleRoot(t *testing.T) {
	dir := t.TempDir()
	mustHardway(t, "init", "--config", haExample, "--dir", dir)
	node := filepath.Join(dir, "nodes", "cp-1")
	unit := filepath.Join(node, "etc/systemd/system/kube-apiserver.service")
	_, _, errOut := runInspectCLI(t, "", unit)
	if !strings.Contains(errOut, "hint: ") || !strings.Contains(errOut, "--root "+node) {
		t.Errorf("no --root hint for a bundle's unit: %s", errOut)
	}
	code, out, errOut := runInspectCLI(t, "", "--root", node, "-o", "json")
	if code != 0 {
		t.Fatalf("--root alone: exit %d: %s", code, errOut)
	}
	var rep inspect.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	comps := map[string]bool{}
	for _, r := range rep.Results {
		comps[r.Invocation.Component] = true
	}
	for _, c := range []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"} {
		if !comps[c] {
			t.Errorf("--root alone did not inspect %s: %v", c, comps)
		}
	}
	_, same, _ := runInspectCLI(t, "", "--root", node, filepath.Join(node, "etc/systemd/system"), "-o", "json")
	if same != out {
		t.Errorf("--root alone and --root with the unit directory differ")
	}
}

// A suppression comment in the unit takes its rule's findings out of the count and the exit
// status, and the table lists them apart with the reason.
func TestInspectSuppressionComment(t *testing.T) {
	dir := t.TempDir()
	unit := filepath.Join(dir, "kube-scheduler.service")
	text := "[Service]\n# hardway-inspect: ignore bind-address-exposed metrics are scraped from the LAN\nExecStart=/usr/local/bin/kube-scheduler --profiling=false\n"
	if err := os.WriteFile(unit, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runInspectCLI(t, "", unit, "--root", dir, "--fail-on", "warning")
	if code != 0 {
		t.Fatalf("exit %d, want 0 (the only warning is suppressed)\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"suppressed:", "bind-address-exposed", "suppressed by " + unit + ":2: metrics are scraped from the LAN", "1 suppressed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
