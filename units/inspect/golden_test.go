package inspect

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/hardway-dev/hardway/units/flags"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; run go test -run %s -update and review the diff\ngot:\n%s", p, t.Name(), got)
	}
}

// The report and the migration of the 1.10-era hard-way unit, as a person reads them.
func TestGoldenOldUnit(t *testing.T) {
	invs := loadFixture(t, "kube-apiserver-1.10.service", nil)
	var b bytes.Buffer
	if err := WriteTable(&b, Inspect(invs, Options{Now: testNow, Target: flags.MustVersion("1.30")})); err != nil {
		t.Fatal(err)
	}
	golden(t, "kube-apiserver-1.10.table", b.Bytes())
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, "findings:") {
			break
		}
		if len(line) > TableWidth {
			t.Errorf("a table line is wider than %d columns: %s", TableWidth, line)
		}
	}
	// The unit's own layout holds the service-account signing key beside its public half.
	node := fstest.MapFS{}
	put(node, "/var/lib/kubernetes/service-account-key.pem", keyPEM2(t, newKey(t)), 0o600)
	fx, err := Fix(invs[0], Options{Target: flags.MustVersion("1.30"), FS: node})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "kube-apiserver-1.10.fixed.service", []byte(fx.Text))
	// The migrated unit parses back and no longer stops the binary.
	u, err := LoadUnit("kube-apiserver.service", File{Name: "fixed", Data: []byte(fx.Text)}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := FromUnitFile(flags.Default(), u)
	if err != nil {
		t.Fatal(err)
	}
	rep := Inspect([]*Invocation{inv}, Options{Now: testNow, Target: flags.MustVersion("1.30")})
	for _, f := range rep.All() {
		switch f.ID {
		case "flag-removed", "admission-plugin-removed", "runtime-config-api-all", "service-account-flags-missing", "value-malformed":
			t.Errorf("after --fix: %s %s", f.ID, f.Message)
		}
	}
}

func TestRecognize(t *testing.T) {
	cat := flags.Default()
	tests := []struct {
		bin  string
		args []string
		want string
		skip int
	}{
		{"/usr/local/bin/kube-apiserver", nil, "kube-apiserver", 0},
		{"/opt/hardway/bin/hardway", []string{"apiserver", "--secure-port=6443"}, "", 0},
		{"/usr/local/bin/hardway", []string{"etcd", "--name=cp-1"}, "etcd", 1},
		{"hardway", []string{"init"}, "", 0},
		{"/usr/bin/hyperkube", []string{"kube-controller-manager"}, "kube-controller-manager", 1},
		{"etcd", nil, "etcd", 0},
		{"/usr/bin/kubelet", nil, "kubelet", 0},
		{"/bin/sh", nil, "", 0},
	}
	for _, tt := range tests {
		got, skip := Recognize(cat, tt.bin, tt.args)
		if got != tt.want || skip != tt.skip {
			t.Errorf("Recognize(%s %v) = %q, %d; want %q, %d", tt.bin, tt.args, got, skip, tt.want, tt.skip)
		}
	}
	for text, want := range map[string]Kind{
		"[Service]\nExecStart=/bin/etcd\n":      FromUnit,
		"apiVersion: v1\nkind: Pod\nspec: {}\n": FromManifest,
		"kube-apiserver --secure-port=6443\n":   FromCommand,
		"ExecStart=/usr/bin/etcd --name=a\n":    FromUnit,
		"spec:\n  containers:\n  - name: x\n":   FromManifest,
	} {
		if got := Detect(File{Data: []byte(text)}); got != want {
			t.Errorf("Detect(%q) = %s, want %s", text, got, want)
		}
	}
}
