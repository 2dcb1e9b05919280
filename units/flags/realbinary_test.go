package flags

import (
	"context"
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
	"time"

	"github.com/hardway-dev/hardway/internal/e2e"
)

// helpFlag matches a flag at the start of a --help line, "  --name", "  -x, --name", and the
// rest of the line (the type and the start of the usage text).
var helpFlag = regexp.MustCompile(`(?m)^\s+(?:-[a-zA-Z], )?--([a-z0-9][a-z0-9_-]*)(.*)$`)

// helpDeprecated matches the rest of a --help line whose usage text starts with "DEPRECATED"
// (after the value's type, if any): the other way upstream announces a deprecation, for flags
// it wants to keep visible (pflag's MarkDeprecated hides a flag and warns when it is used).
var helpDeprecated = regexp.MustCompile(`(?i)^\s+(?:\S+\s+)?[\[(]?deprecated`)

// helpFlags maps each flag a --help lists to the rest of its line.
type helpFlags map[string]string

// lists reports whether the help lists name.
func (h helpFlags) lists(name string) bool {
	_, ok := h[name]
	return ok
}

// announcedDeprecated reports whether the help lists name with a usage text starting with
// "DEPRECATED".
func (h helpFlags) announcedDeprecated(name string) bool {
	rest, ok := h[name]
	return ok && helpDeprecated.MatchString(rest)
}

// flagsInHelp runs prog --help and returns the flags it lists: at least 20, a sign that
// the help was parsed.
func flagsInHelp(t *testing.T, prog string) helpFlags { return flagsInHelpAtLeast(t, prog, 20) }

func flagsInHelpAtLeast(t *testing.T, prog string, least int) helpFlags {
	t.Helper()
	out, _ := exec.Command(prog, "--help").CombinedOutput() // some programs exit non-zero on --help
	names := helpFlags{}
	for _, m := range helpFlag.FindAllStringSubmatch(string(out), -1) {
		if _, dup := names[m[1]]; !dup {
			names[m[1]] = m[2]
		}
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

// knownDifferences are the disagreements between the catalogue and a real binary that the
// catalogue's model (one name per flag, one added..removed span) cannot express, each with why.
// The check logs them instead of failing; docs/flags.md lists them.
var knownDifferences = []struct {
	component, flag string
	from, until     Version // the versions it applies to: from <= v < until
	why             string
}{
	{"kube-controller-manager", "concurrent-rc-syncs", MustVersion("1.13"), MustVersion("1.21"),
		"kube-controller-manager registers this flag as concurrent_rc_syncs (cmd/kube-controller-manager/app/options/replicationcontroller.go, every release) and its " +
			"main sets no word-separator normalization from 1.13 to 1.20 (1.8-1.9 call flag.InitFlags, 1.10-1.12 and 1.21-1.22 pflag.CommandLine.SetNormalizeFunc, " +
			"1.23 on cli.Run), so there only --concurrent_rc_syncs is accepted (the real v1.20.15 binary); the catalogue keeps the dashed name every other release takes"},
	{"kube-controller-manager", "concurrent_rc_syncs", MustVersion("1.13"), MustVersion("1.21"), "the spelling --help lists where --concurrent-rc-syncs is not accepted (above)"},
}

// knownDifference returns why the catalogue and the binary of component at v may disagree on
// flag, or "".
func knownDifference(component, flag string, v Version) string {
	for _, d := range knownDifferences {
		if d.component == component && d.flag == flag && v.AtLeast(d.from) && !v.AtLeast(d.until) {
			return d.why
		}
	}
	return ""
}

// flagFigures counts what one binaryCheck.check looked at, for the record (docs/flags.md).
type flagFigures struct {
	Listed     int // flags the binary's --help lists
	Given      int // catalogue flags given to the binary, one run each
	Refused    int // of those, rejected as unknown (the catalogue says removed or not yet added)
	Deprecated int // of those, announced deprecated by the binary
}

// check compares the catalogue's view of a component at one version with the real binary:
// every flag its --help lists is known and alive at that version; every catalogue flag the
// catalogue calls removed (or not yet added) is rejected by the binary, every other one is
// accepted; and where the binary announces deprecations, they agree. (Giving each flag to the
// binary catches hidden flags, which --help leaves out.)
func (bc binaryCheck) check(t *testing.T, listed helpFlags) flagFigures {
	t.Helper()
	comp := Default().Component(bc.component)
	if comp == nil {
		t.Fatalf("no component %s", bc.component)
	}
	v := bc.version
	fig := flagFigures{Listed: len(listed)}
	var unknown []string
	for name := range listed {
		switch {
		case comp.Flag(name) != nil:
		case knownDifference(bc.component, name, v) != "":
			t.Logf("known difference: %s %s lists --%s: %s", bc.component, v, name, knownDifference(bc.component, name, v))
		default:
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
		fig.Given++
		if gone {
			fig.Refused++
		}
		if bc.deprecated != nil && bc.deprecated(out, f.Name) {
			fig.Deprecated++
		}
		switch st := f.StateAt(v); {
		case st == Removed || st == NotYetAdded:
			if !gone {
				t.Errorf("--%s: the catalogue says %s at %s, but the binary accepts it: %.200s", f.Name, st, v, out)
			}
		case gone && knownDifference(bc.component, f.Name, v) != "":
			t.Logf("known difference: --%s is %s at %s in the catalogue, and the binary does not know it: %s", f.Name, st, v, knownDifference(bc.component, f.Name, v))
		case gone:
			t.Errorf("--%s: the catalogue says %s at %s, but the binary does not know it", f.Name, st, v)
		case bc.deprecated == nil:
		case bc.deprecated(out, f.Name) && st == Current:
			t.Errorf("--%s: the binary says it is deprecated; the catalogue says current at %s: %.200s", f.Name, v, out)
		case strings.Contains(out, "invalid argument"):
			// the dummy value does not parse (a taint, an eviction threshold): the binary exits
			// before it would warn, so the deprecation cannot be judged from this run.
		case bc.deprecated(out, f.Name) || listed.announcedDeprecated(f.Name):
			// announced: agrees with deprecated and no-op. A flag the catalogue calls current
			// whose usage text alone says DEPRECATED is not an error: the catalogue dates a
			// deprecation from MarkDeprecated, or from a source that says when it was announced.
		case (st == Deprecated || st == NoOp) && listed.lists(f.Name):
			t.Errorf("--%s: the catalogue says %s at %s, but the binary neither warns, hides it nor calls it DEPRECATED in --help", f.Name, st, v)
		}
	}
	return fig
}

// kubeComponents are the Kubernetes components scripts/build-kube.sh builds, whose binaries
// the checks below give flags and feature gates to.
var kubeComponents = []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy"}

// kubeBinaryCheck is the check of the real binary bin of a Kubernetes component at version v.
// Every release since 1.8 parses with spf13/pflag, which words an unknown flag
// "unknown flag: --name" and a deprecated one "Flag --name has been deprecated, <why>"; the
// kubelet, which parses its own flags, wraps the first ("failed to parse kubelet flag: ...").
func kubeBinaryCheck(component, bin string, v Version) binaryCheck {
	return binaryCheck{
		component: component, version: v, run: runner(bin),
		unknown:    func(out, flag string) bool { return strings.Contains(out, "unknown flag: --"+flag) },
		deprecated: func(out, flag string) bool { return strings.Contains(out, "Flag --"+flag+" has been deprecated") },
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
	kubeBinaryCheck("kube-apiserver", bin, MustVersion("1.37")).check(t, flagsInHelp(t, bin))
}

// The real kube-controller-manager, kube-scheduler, kubelet and kube-proxy v1.37: every flag
// their --help lists is in the catalogue.
func TestCatalogueMatchesRealComponents(t *testing.T) {
	for _, component := range []string{"kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy"} {
		t.Run(component, func(t *testing.T) {
			bin := e2e.RequireBinary(t, component)
			kubeBinaryCheck(component, bin, MustVersion("1.37")).check(t, flagsInHelp(t, bin))
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
	// A value that parses, so that the binary gets as far as warning about a deprecation.
	switch f.Type {
	case Float, Port:
		return "1"
	case Quantity:
		return "1Mi"
	case IP:
		return "127.0.0.1"
	case CIDRs:
		return "10.0.0.0/24"
	case PortRange:
		return "30000-30001"
	case URLs:
		return "http://127.0.0.1:2379"
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
	checkGates(t, "kube-apiserver", MustVersion("1.37"), gateProbeFor(t, "kube-apiserver", bin))
}

// The same for the real kube-controller-manager, kube-scheduler, kubelet and kube-proxy v1.37,
// which also checks the gates the catalogue says a component does not register (notIn).
func TestFeatureGatesMatchRealComponents(t *testing.T) {
	for _, component := range []string{"kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy"} {
		t.Run(component, func(t *testing.T) {
			bin := e2e.RequireBinary(t, component)
			checkGates(t, component, MustVersion("1.37"), gateProbeFor(t, component, bin))
		})
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

// gateProbe gives a component's binary the feature gates names (each set to true) in a way that
// makes it set them and then exit. It returns the binary's output, and whether the binary got
// past setting the gates (so that a gate the output does not name was accepted).
type gateProbe func(names []string) (out string, past bool)

// versionPrinted matches what --version prints: "Kubernetes v1.37.2".
var versionPrinted = regexp.MustCompile(`(?m)^Kubernetes v(\d+\.\d+)`)

// gateProbeFor returns how to probe the feature gates of component's binary bin. The control-
// plane components set the gates while parsing flags, before --version prints and exits. The
// kubelet and kube-proxy only keep --feature-gates as a configuration field, set after
// --version has exited, so they are run without it, and made to stop right after setting the
// gates: the kubelet on a --config file that does not exist (it sets the gates given as flags,
// validates its flags, then loads the file and exits on the error), kube-proxy by
// --write-config-to (it sets the gates, validates, writes its configuration and exits). A
// deadline stops a binary that would go further than that.
func gateProbeFor(t *testing.T, component, bin string) gateProbe {
	t.Helper()
	dir := t.TempDir()
	run := func(args ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, _ := exec.CommandContext(ctx, bin, args...).CombinedOutput()
		return string(out)
	}
	gates := func(names []string) string { return "--feature-gates=" + strings.Join(names, "=true,") + "=true" }
	switch component {
	case "kubelet":
		absent := filepath.Join(dir, "absent", "kubelet.yaml")
		// "failed to load kubelet config file" (1.22+), "Failed to load kubelet config file"
		// (structured logging), "failed to load Kubelet config file" (before).
		loaded := regexp.MustCompile(`(?i)failed to load kubelet config file`)
		return func(names []string) (string, bool) {
			out := run(gates(names), "--config="+absent)
			return out, loaded.MatchString(out)
		}
	case "kube-proxy":
		written := filepath.Join(dir, "kube-proxy.yaml")
		return func(names []string) (string, bool) {
			os.Remove(written)
			out := run(gates(names), "--write-config-to="+written)
			_, err := os.Stat(written)
			return out, err == nil
		}
	}
	return func(names []string) (string, bool) {
		out := run(gates(names), "--version")
		return out, versionPrinted.MatchString(out)
	}
}

var (
	// Before 1.14 (pkg/util/feature) the error was "unrecognized key: X"; since then
	// (component-base/featuregate) "unrecognized feature gate: X".
	gateUnrecognized = regexp.MustCompile(`unrecognized (?:feature gate|key): ([A-Za-z0-9]+)`)
	// A gate locked to its default ("cannot set feature gate X to true, feature is locked to
	// false"), or not yet at the emulated version ("..., feature is PreAlpha at emulated
	// version"), is known.
	gateKnownButRefused = regexp.MustCompile(`cannot set feature gate ([A-Za-z0-9]+) to`)
)

// probeGates finds which of the gates names the binary refuses as unrecognized. Before 1.33 the
// binary stops at the first gate it cannot set (in map order), from 1.33 on it names all of them:
// so the probe runs again without the gates named, until a run names none.
func probeGates(t *testing.T, probe gateProbe, names []string) (refused map[string]bool) {
	t.Helper()
	refused = map[string]bool{}
	remaining := map[string]bool{}
	for _, n := range names {
		remaining[n] = true
	}
	for len(remaining) > 0 {
		left := make([]string, 0, len(remaining))
		for n := range remaining {
			left = append(left, n)
		}
		sort.Strings(left)
		out, past := probe(left)
		named := false
		for _, m := range gateUnrecognized.FindAllStringSubmatch(out, -1) {
			if remaining[m[1]] {
				refused[m[1]] = true
				delete(remaining, m[1])
				named = true
			}
		}
		for _, m := range gateKnownButRefused.FindAllStringSubmatch(out, -1) {
			if remaining[m[1]] {
				delete(remaining, m[1])
				named = true
			}
		}
		if !named {
			if !past {
				t.Fatalf("cannot judge %d feature gates: the binary neither named one nor got past setting them:\n%.2000s", len(left), out)
			}
			break
		}
	}
	return refused
}

// gateFigures counts what one checkGates looked at, for the record (docs/flags.md).
type gateFigures struct{ Current, Gone int }

// checkGates compares the catalogue's feature gates at version v with the real binary of
// component: every gate the catalogue says is removed, not yet added, or not registered by this
// component at v is refused as unrecognized, and every other gate it has at v is known.
func checkGates(t *testing.T, component string, v Version, probe gateProbe) gateFigures {
	t.Helper()
	var known, refusedWanted []string
	for _, g := range Default().Gates {
		registered, _ := g.RegisteredBy(component, v)
		switch st := g.StateAt(v); {
		case st == Current && registered:
			known = append(known, g.Name)
		case st == Current, st == Removed, st == NotYetAdded:
			refusedWanted = append(refusedWanted, g.Name)
		}
	}
	if len(known) == 0 {
		t.Fatalf("the catalogue has no feature gates at %s", v)
	}
	refused := probeGates(t, probe, refusedWanted)
	for _, name := range refusedWanted {
		if !refused[name] {
			g := Default().Gate(name)
			why := g.StateAt(v).String()
			if _, a := g.RegisteredBy(component, v); a.Component != "" {
				why = "not registered by " + component
			}
			t.Errorf("feature gate %s (%s at %s in the catalogue: added %s, removed %s) is accepted by the binary", name, why, v, g.Added, g.Removed)
		}
	}
	for name := range probeGates(t, probe, known) {
		t.Errorf("feature gate %s (current at %s in the catalogue) is refused by the binary as unrecognized", name, v)
	}
	return gateFigures{Current: len(known), Gone: len(refusedWanted)}
}
