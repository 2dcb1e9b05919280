package flags

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/internal/e2e"
)

// helpFlag matches a flag at the start of a --help line: "  --name", "  -x, --name".
var helpFlag = regexp.MustCompile(`(?m)^\s+(?:-[a-zA-Z], )?--([a-z0-9][a-z0-9-]*)`)

// flagsInHelp runs prog --help and returns the flag names it lists: at least 20, a sign that
// the help was parsed.
func flagsInHelp(t *testing.T, prog string) map[string]bool { return flagsInHelpAtLeast(t, prog, 20) }

func flagsInHelpAtLeast(t *testing.T, prog string, least int) map[string]bool {
	t.Helper()
	out, _ := exec.Command(prog, "--help").CombinedOutput() // some programs exit non-zero on --help
	names := map[string]bool{}
	for _, m := range helpFlag.FindAllStringSubmatch(string(out), -1) {
		names[m[1]] = true
	}
	if len(names) < least {
		t.Fatalf("%s --help listed only %d flags:\n%s", prog, len(names), out)
	}
	return names
}

// binaryCheck says how a real binary reacts to a flag given on its command line.
type binaryCheck struct {
	component  string
	version    Version
	run        func(flag, value string) string // the combined output of prog --flag=value --version
	unknown    func(out, flag string) bool     // the binary rejected the flag as unknown
	deprecated func(out, flag string) bool     // the binary warned that the flag is deprecated (nil: not checked)
}

// check compares the catalogue's view of a component at one version with the real binary:
// every flag its --help lists is known and alive at that version; every catalogue flag the
// catalogue calls removed (or not yet added) is rejected by the binary, every other one is
// accepted; and where the binary announces deprecations, they agree. (Giving each flag to the
// binary catches hidden flags, which --help leaves out.)
func (bc binaryCheck) check(t *testing.T, listed map[string]bool) {
	t.Helper()
	comp := Default().Component(bc.component)
	if comp == nil {
		t.Fatalf("no component %s", bc.component)
	}
	v := bc.version
	var unknown []string
	for name := range listed {
		if comp.Flag(name) == nil {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	// A catalogue that is not complete covers only the component's security-relevant and
	// common flags, so flags the binary lists beyond it are not errors.
	if len(unknown) > 0 && comp.Complete {
		t.Errorf("%s %s lists flags the catalogue does not know: %v", bc.component, v, unknown)
	}
	for i := range comp.Flags {
		f := &comp.Flags[i]
		out := bc.run(f.Name, dummyValue(f))
		gone := bc.unknown(out, f.Name)
		switch st := f.StateAt(v); {
		case st == Removed || st == NotYetAdded:
			if !gone {
				t.Errorf("--%s: the catalogue says %s at %s, but the binary accepts it: %.200s", f.Name, st, v, out)
			}
		case gone:
			t.Errorf("--%s: the catalogue says %s at %s, but the binary does not know it", f.Name, st, v)
		case bc.deprecated == nil:
		case bc.deprecated(out, f.Name) && st == Current:
			t.Errorf("--%s: the binary says it is deprecated; the catalogue says current at %s: %.200s", f.Name, v, out)
		case strings.Contains(out, "invalid argument"):
			// the dummy value does not parse (a taint, an eviction threshold): the binary exits
			// before it would warn, so the deprecation cannot be judged from this run.
		case !bc.deprecated(out, f.Name) && (st == Deprecated || st == NoOp) && listed[f.Name]:
			t.Errorf("--%s: the catalogue says %s at %s, but the binary neither warns nor hides it", f.Name, st, v)
		}
	}
}

func runner(prog string) func(flag, value string) string {
	return func(flag, value string) string {
		out, _ := exec.Command(prog, "--"+flag+"="+value, "--version").CombinedOutput()
		return string(out)
	}
}

// The real kube-apiserver v1.37 (scripts/build-kube.sh; CI builds it).
func TestCatalogueMatchesRealKubeAPIServer(t *testing.T) {
	bin := e2e.RequireBinary(t, "kube-apiserver")
	binaryCheck{
		component: "kube-apiserver", version: MustVersion("1.37"), run: runner(bin),
		unknown:    func(out, flag string) bool { return strings.Contains(out, "unknown flag: --"+flag) },
		deprecated: func(out, flag string) bool { return strings.Contains(out, "Flag --"+flag+" has been deprecated") },
	}.check(t, flagsInHelp(t, bin))
}

// The real kube-controller-manager, kube-scheduler, kubelet and kube-proxy v1.37: every flag
// their --help lists is in the catalogue.
func TestCatalogueMatchesRealComponents(t *testing.T) {
	for _, component := range []string{"kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy"} {
		t.Run(component, func(t *testing.T) {
			bin := e2e.RequireBinary(t, component)
			binaryCheck{
				component: component, version: MustVersion("1.37"), run: runner(bin),
				unknown:    func(out, flag string) bool { return strings.Contains(out, "unknown flag: --"+flag) },
				deprecated: func(out, flag string) bool { return strings.Contains(out, "Flag --"+flag+" has been deprecated") },
			}.check(t, flagsInHelp(t, bin))
		})
	}
}

// The real etcd from Debian (3.4).
func TestCatalogueMatchesRealEtcd(t *testing.T) {
	bin := e2e.RequireBinary(t, "etcd")
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`etcd Version: (\d+\.\d+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("etcd --version: %s", out)
	}
	binaryCheck{
		component: "etcd", version: MustVersion(m[1]), run: runner(bin),
		unknown: func(out, flag string) bool { return strings.Contains(out, "flag provided but not defined: -"+flag) },
	}.check(t, flagsInHelp(t, bin))
}

// dummyValue is a value of the flag's type, to give it on a command line.
func dummyValue(f *Flag) string {
	switch f.Type {
	case Bool:
		return "false"
	case Int:
		return "1"
	case Duration:
		return "1s"
	}
	if f.Default != "" {
		return f.Default
	}
	return "x"
}

// The real containerd from Debian (1.6), whose daemon flags are few (the rest is config.toml).
func TestCatalogueMatchesRealContainerd(t *testing.T) {
	bin := e2e.RequireBinary(t, "containerd")
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`containerd \S+ v?(\d+\.\d+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("containerd --version: %s", out)
	}
	binaryCheck{
		component: "containerd", version: MustVersion(m[1]), run: runner(bin),
		unknown: func(out, flag string) bool { return strings.Contains(out, "flag provided but not defined: -"+flag) },
	}.check(t, flagsInHelpAtLeast(t, bin, 5))
}

// The real kube-apiserver v1.37 and the feature gates: every gate the catalogue says is gone by
// 1.37 is refused ("unrecognized feature gate"), and the gates it says 1.37 has are accepted.
func TestFeatureGatesMatchRealKubeAPIServer(t *testing.T) {
	bin := e2e.RequireBinary(t, "kube-apiserver")
	v := MustVersion("1.37")
	var current []string
	removed := 0
	for _, g := range Default().Gates {
		switch g.StateAt(v) {
		case Current:
			current = append(current, g.Name+"=true")
		case Removed:
			removed++
			out, _ := exec.Command(bin, "--feature-gates="+g.Name+"=true", "--version").CombinedOutput()
			if !strings.Contains(string(out), "unrecognized feature gate: "+g.Name) {
				t.Errorf("feature gate %s (removed %s in the catalogue) is accepted by %s:\n%s", g.Name, g.Removed, bin, out)
			}
		}
	}
	if removed == 0 || len(current) == 0 {
		t.Fatalf("catalogue has %d removed and %d current gates at %s", removed, len(current), v)
	}
	// Locked gates answer "cannot set feature gate X to true, feature is locked": known all the same.
	out, _ := exec.Command(bin, "--feature-gates="+strings.Join(current, ","), "--version").CombinedOutput()
	if strings.Contains(string(out), "unrecognized feature gate") {
		t.Errorf("%s refuses a gate the catalogue has at %s:\n%s", bin, v, out)
	}
}

// The real kube-apiserver v1.37 and --runtime-config: every group/version the catalogue says
// 1.37 refuses is refused ("unknown api groups" or "... that has not been registered"), and the
// ones it says 1.37 accepts are not.
//
// kube-apiserver refuses an unknown group in Validate and a version its scheme does not register
// in BuildGenericConfig's APIEnablement.ApplyTo; the egress selector is read right after it, so a
// missing --egress-selector-config-file makes the binary exit there, before it opens storage or
// serves: an item that gets as far as the egress selector was accepted by the legacy scheme's
// merge. (The apiextensions-apiserver's and kube-aggregator's merges come later; their groups are
// judged by Validate only here.)
func TestRuntimeConfigMatchesRealKubeAPIServer(t *testing.T) {
	bin := e2e.RequireBinary(t, "kube-apiserver")
	dir := t.TempDir()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	saKey := filepath.Join(dir, "sa.key")
	if err := os.WriteFile(saKey, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(item string) string {
		t.Helper()
		out, _ := exec.Command(bin, "--runtime-config="+item,
			"--etcd-servers=http://127.0.0.1:1", "--service-account-issuer=https://kubernetes.default.svc",
			"--service-account-key-file="+saKey, "--service-account-signing-key-file="+saKey,
			"--bind-address=127.0.0.1", "--secure-port="+e2e.FreePort(t, "127.0.0.1"), "--cert-dir="+filepath.Join(dir, "certs"),
			"--egress-selector-config-file="+filepath.Join(dir, "no-egress-selector.yaml")).CombinedOutput()
		return string(out)
	}
	const passed = "failed to read egress selector config"
	refused := func(out, gv string) bool {
		return strings.Contains(out, "unknown api groups") && strings.Contains(out, gv) ||
			strings.Contains(out, "group version "+gv+" that has not been registered")
	}
	v := MustVersion("1.37")
	var accepted []string
	gone := 0
	for _, k := range Default().RuntimeConfig {
		switch st, _ := k.At(v); st {
		case Current, NoOp:
			accepted = append(accepted, k.Name+"=true")
		case Removed, NotYetAdded:
			gone++
			if out := run(k.Name + "=true"); !refused(out, k.Name) {
				t.Errorf("--runtime-config=%s=true (%s at %s in the catalogue) is not refused by %s:\n%.600s", k.Name, st, v, bin, out)
			}
		}
	}
	if gone == 0 || len(accepted) < 50 {
		t.Fatalf("catalogue has %d refused and %d accepted keys at %s", gone, len(accepted), v)
	}
	t.Logf("%d --runtime-config keys accepted and %d refused at %s, as the catalogue says", len(accepted), gone, v)
	// api/all=false alone is refused; with other keys it is not.
	if out := run(strings.Join(append(accepted, "api/all=false"), ",")); !strings.Contains(out, passed) {
		t.Errorf("%s refuses a --runtime-config key the catalogue accepts at %s:\n%.600s", bin, v, out)
	}
}

// The real kube-apiserver v1.37 lists its admission plugins, and the ones on by default, in the
// help of --enable-admission-plugins: both lists equal the catalogue's at 1.37.
func TestAdmissionPluginsMatchRealKubeAPIServer(t *testing.T) {
	bin := e2e.RequireBinary(t, "kube-apiserver")
	out, _ := exec.Command(bin, "--help").CombinedOutput()
	m := regexp.MustCompile(`--enable-admission-plugins strings\s+admission plugins that should be enabled in addition to default enabled ones \(([^)]*)\)\. Comma-delimited list of admission plugins: ([^.]*)\.`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("%s --help: no --enable-admission-plugins lists:\n%.2000s", bin, out)
	}
	split := func(s string) []string {
		var l []string
		for _, p := range strings.Split(s, ",") {
			l = append(l, strings.TrimSpace(p))
		}
		sort.Strings(l)
		return l
	}
	v := MustVersion("1.37")
	var all, defaults []string
	for _, p := range Default().Plugins {
		if st := p.StateAt(v); st != Removed && st != NotYetAdded {
			all = append(all, p.Name)
		}
		if p.DefaultAt(v) {
			defaults = append(defaults, p.Name)
		}
	}
	sort.Strings(all)
	sort.Strings(defaults)
	if got := split(m[2]); strings.Join(got, ",") != strings.Join(all, ",") {
		t.Errorf("%s has the admission plugins\n  %v\nthe catalogue has at %s\n  %v", bin, got, v, all)
	}
	if got := split(m[1]); strings.Join(got, ",") != strings.Join(defaults, ",") {
		t.Errorf("%s enables by default\n  %v\nthe catalogue at %s\n  %v", bin, got, v, defaults)
	}
}
