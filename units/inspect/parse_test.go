package inspect

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/hardway-dev/hardway/internal/e2e"
	"github.com/hardway-dev/hardway/units/flags"
)

func TestSplitCommandLine(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`a b  c`, []string{"a", "b", "c"}},
		{"a \\\n  b", []string{"a", "b"}},
		{`--x="a b" --y='c d'`, []string{"--x=a b", "--y=c d"}},
		{`a"b c"d`, []string{"ab cd"}},
		{`"a\"b" 'c\'d'`, []string{`a"b`, `c'd`}},
		{`a\tb \x41 \101 \s`, []string{"a\tb", "A", "A", " "}},
		{`""`, []string{""}},
		{"", nil},
	}
	for _, tt := range tests {
		got, err := SplitCommandLine(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SplitCommandLine(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{`"open`, `'open`, `a\`, `\q`, `\x4`, `\xZZ`} {
		if _, err := SplitCommandLine(bad); err == nil {
			t.Errorf("SplitCommandLine(%q) accepted", bad)
		}
	}
}

func TestParseExecVariables(t *testing.T) {
	env := map[string]string{"IP": "10.0.0.1", "OPTS": "--a=1  --b=2", "SP": "x y"}
	cmd, err := ParseExec(`-/bin/kube-apiserver --advertise-address=${IP} $OPTS --name=${SP} --lit=$$HOME --u=${NOPE} %n`, env, "api.service", Origin{File: "f", Line: 3})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range cmd.Argv {
		got = append(got, w.Value)
	}
	want := []string{"/bin/kube-apiserver", "--advertise-address=10.0.0.1", "--a=1", "--b=2", "--name=x y", "--lit=$HOME", "--u=", "api.service"}
	if !reflect.DeepEqual(got, want) || cmd.Prefixes != "-" {
		t.Fatalf("got %q prefixes %q\nwant %q", got, cmd.Prefixes, want)
	}
	if u := cmd.Argv[6].Unresolved; len(u) != 1 || u[0] != "NOPE" {
		t.Errorf("unresolved = %v", u)
	}
	// ':' turns expansion off; '@' makes the second word argv[0].
	cmd, _ = ParseExec(`:@/bin/etcd etcd-renamed --name=${IP}`, env, "", Origin{})
	if cmd.Argv[0].Value != "/bin/etcd" || cmd.Argv[1].Value != "--name=${IP}" {
		t.Errorf("prefixes: %+v", cmd.Argv)
	}
}

func TestUnitDropInsAndLines(t *testing.T) {
	invs := loadFixture(t, "kube-apiserver-dropin.service", nil)
	inv := invs[0]
	if len(inv.Problems) != 0 {
		t.Errorf("problems: %+v", inv.Problems)
	}
	a := ParseArgs(flags.Default().Component(inv.Component), inv.Args)
	if v, _ := a.Value("advertise-address"); v != "10.0.0.5" {
		t.Errorf("advertise-address %q (drop-in Environment= not applied)", v)
	}
	if a.Has("insecure-port") {
		t.Error("the empty ExecStart= did not reset the main file's command")
	}
	s := a.Lookup("secure-port")[0]
	if s.Value != "6443" || s.Origin().Line != 8 || !strings.HasSuffix(s.Origin().File, "10-override.conf") {
		t.Errorf("--secure-port 6443 parsed as %q at %s", s.Value, s.Origin())
	}
}

func TestEnvironmentFileAndOverrides(t *testing.T) {
	fsys := fstest.MapFS{"etc/etcd/etcd.env": {Data: []byte("# comment\nETCD_NAME=\"controller-0\"\nINTERNAL_IP=10.240.0.10\n")}}
	inv := loadFixture(t, "etcd-tls.service", fsys)[0]
	a := ParseArgs(flags.Default().Component("etcd"), inv.Args)
	if v, _ := a.Value("name"); v != "controller-0" {
		t.Errorf("--name %q", v)
	}
	if v, _ := a.Value("listen-peer-urls"); v != "https://10.240.0.10:2380" {
		t.Errorf("--listen-peer-urls %q", v)
	}
	if len(inv.Problems) != 0 {
		t.Errorf("problems: %+v", inv.Problems)
	}
	rep := Inspect([]*Invocation{inv}, opts(nil))
	if n := rep.Count(Warning); n != 0 {
		t.Errorf("etcd with TLS everywhere: %d findings\n%s", n, dump(rep))
	}
}

func TestFindUnitSearchPath(t *testing.T) {
	fsys := fstest.MapFS{
		"lib/systemd/system/etcd.service":                  {Data: []byte("[Service]\nExecStart=/usr/bin/etcd\n")},
		"etc/systemd/system/etcd.service":                  {Data: []byte("[Service]\nExecStart=/usr/local/bin/etcd\n")},
		"lib/systemd/system/etcd.service.d/10-a.conf":      {Data: []byte("[Service]\n")},
		"etc/systemd/system/etcd.service.d/10-a.conf":      {Data: []byte("[Service]\n")},
		"run/systemd/system/etcd.service.d/05-b.conf":      {Data: []byte("[Service]\n")},
		"etc/systemd/system/etcd.service.d/not-a-conf.txt": {Data: []byte("x")},
	}
	main, dropins, err := FindUnit(fsys, "etcd")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/run/systemd/system/etcd.service.d/05-b.conf", "/etc/systemd/system/etcd.service.d/10-a.conf"}
	if main != "/etc/systemd/system/etcd.service" || !reflect.DeepEqual(dropins, want) {
		t.Errorf("FindUnit = %s %v", main, dropins)
	}
	if _, _, err := FindUnit(fsys, "nope"); err == nil {
		t.Error("missing unit found")
	}
}

func TestParseArgsGrammars(t *testing.T) {
	cat := flags.Default()
	words := func(s string) []Word {
		var out []Word
		for _, f := range strings.Fields(s) {
			out = append(out, Word{Value: f, Raw: f})
		}
		return out
	}
	// pflag: --f v, --f=v, bare bool, -v shorthand, repeated slices append, interspersed args.
	a := ParseArgs(cat.Component("kube-apiserver"), words("--secure-port 6443 --profiling --v=2 -v 3 --etcd-servers=a --etcd-servers=b pos --bind-address=1.2.3.4"))
	if v, _ := a.Value("secure-port"); v != "6443" {
		t.Errorf("secure-port %q", v)
	}
	if !a.Bool("profiling", false) || !a.Lookup("profiling")[0].Bare {
		t.Error("bare bool")
	}
	if v, _ := a.Value("v"); v != "3" {
		t.Errorf("-v: %q", v)
	}
	if v, _ := a.Value("etcd-servers"); v != "a,b" {
		t.Errorf("repeated slice: %q", v)
	}
	if len(a.Positional) != 1 || !a.Has("bind-address") {
		t.Errorf("pflag intersperses arguments: %+v", a.Positional)
	}
	// Go's flag package: -name works, bools do not take a separate value, parsing stops at the
	// first argument.
	e := ParseArgs(cat.Component("etcd"), words("-name m0 --client-cert-auth true --data-dir=/d"))
	if v, _ := e.Value("name"); v != "m0" {
		t.Errorf("-name: %q", v)
	}
	if len(e.Positional) != 2 || e.Has("data-dir") {
		t.Errorf("goflag stops at the first non-flag: %+v", e.Positional)
	}
}

func TestManifestAndKubeletConfig(t *testing.T) {
	invs := loadFixture(t, "kube-apiserver-kubeadm.yaml", nil)
	if len(invs) != 1 || invs[0].Component != "kube-apiserver" || len(invs[0].Args) != 27 {
		t.Fatalf("manifest: %d invocations, %+v", len(invs), invs[0])
	}
	if o := invs[0].Args[0].Origin; o.Line != 15 {
		t.Errorf("first flag at %s, want line 15", o)
	}
	rep := Inspect(invs, Options{Now: testNow, Target: flags.MustVersion("1.31")})
	got := ids(rep.All())
	// kubeadm's defaults, as upstream-facts.md notes, miss several CIS settings.
	for _, id := range []string{"anonymous-auth-enabled", "profiling-enabled", "kubelet-ca-missing", "audit-log-missing", "encryption-config-missing"} {
		if got[id] == 0 {
			t.Errorf("kubeadm manifest: no %s", id)
		}
	}
	if rep.Count(Error) != 0 {
		t.Errorf("kubeadm manifest has errors:\n%s", dump(rep))
	}

	cfg, err := os.ReadFile(filepath.Join("testdata", "kubelet-config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{"var/lib/kubelet/kubelet-config.yaml": {Data: cfg}}
	kinv := loadFixture(t, "kubelet.service", nil)
	rep = Inspect(kinv, Options{Now: testNow, FS: fsys, Target: flags.MustVersion("1.30")})
	got = ids(rep.All())
	if got["flag-removed"] != 2 { // --container-runtime (1.27), --network-plugin (1.24)
		t.Errorf("kubelet: want 2 removed flags\n%s", dump(rep))
	}
	for _, id := range []string{"kubelet-anonymous-auth", "kubelet-authorization-always-allow", "kubelet-client-ca-missing", "kubelet-read-only-port"} {
		if got[id] != 0 {
			t.Errorf("kubelet config sets %s correctly, yet it fired", id)
		}
	}
	if got["file-missing"] == 0 {
		t.Error("the config's tlsCertFile is not under the root: want file-missing")
	}
}

// A real process started with known flags is read back through /proc/<pid>/cmdline.
func TestReadRunningProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		e2e.Skip(t, "no /proc to read a running process from")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "kube-apiserver")
	if err := os.Symlink(exe, link); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(link, "--etcd-servers=https://127.0.0.1:2379", "--secure-port", "6443", "--profiling=false", "--insecure-port=0")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	ready := make([]byte, 6)
	if _, err := stdout.Read(ready); err != nil { // the helper says "ready\n" once running
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	inv := ParseProcCmdline(flags.Default(), pid, data)
	if inv.Component != "kube-apiserver" || inv.Name != "pid "+strconv.Itoa(pid) {
		t.Fatalf("recognised %q as %q", inv.Binary, inv.Component)
	}
	a := ParseArgs(flags.Default().Component(inv.Component), inv.Args)
	if v, _ := a.Value("secure-port"); v != "6443" || a.Bool("profiling", true) {
		t.Errorf("flags read back: %+v", a.Settings)
	}
	rep := Inspect([]*Invocation{inv}, opts(nil))
	if ids(rep.All())["flag-removed"] != 1 {
		t.Errorf("--insecure-port not reported as removed:\n%s", dump(rep))
	}
}

// A word of dashes with no flag name is refused by pflag ("bad flag syntax", or "unknown
// shorthand flag: '=' in -=x") and by Go's flag package ("bad flag syntax"): a flag-unknown
// finding, never a crash (FuzzUnit found "-=" crashing the shorthand lookup).
func TestNamelessFlags(t *testing.T) {
	for _, line := range []string{"kube-scheduler -=x", "kube-scheduler --=x", "kube-scheduler ---x", "kube-scheduler -=", "etcd -=x", "etcd --=x"} {
		rep := Inspect([]*Invocation{command(t, line)}, opts(nil))
		if ids(rep.All())["flag-unknown"] != 1 {
			t.Errorf("%s: want one flag-unknown, got:\n%s", line, dump(rep))
		}
	}
}
