package inspect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"

	"github.com/hardway-dev/hardway/units/flags"
)

// FuzzSplitCommandLine: the systemd command-line splitter never panics, and what it accepts
// re-splits to the same words once each word is re-quoted.
func FuzzSplitCommandLine(f *testing.F) {
	for _, s := range []string{`a "b c" 'd'`, "x \\\n y", `\x41\101\s`, `a"b c"d`, `"`, `\`, `$A ${B} $$`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, err := SplitCommandLine(s)
		if err != nil {
			return
		}
		var b strings.Builder
		for _, w := range words {
			b.WriteString(`"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(w) + `" `)
		}
		again, err := SplitCommandLine(b.String())
		if err != nil {
			t.Fatalf("re-quoted %q does not split: %v", b.String(), err)
		}
		if len(again) != len(words) {
			t.Fatalf("%q -> %q -> %q", s, words, again)
		}
		for i := range words {
			if again[i] != words[i] {
				t.Fatalf("word %d: %q -> %q", i, words[i], again[i])
			}
		}
		if _, err := ParseExec(s, map[string]string{"A": "x y", "B": "z"}, "u.service", Origin{File: "f", Line: 1}); err != nil {
			t.Fatalf("ParseExec rejects what SplitCommandLine accepts: %v", err)
		}
	})
}

// FuzzEnvFile: the EnvironmentFile= parser never panics, returns only valid variable names,
// and a value it returns, written back double-quoted with systemd's escapes, reads back the
// same.
func FuzzEnvFile(f *testing.F) {
	for _, s := range []string{"A=\"\"\n", "A='x'\"y\" z\n", "# c \\\nA=1", "A=x\\\ny\r\n", "export A=1\nB", "A=\"\\q\\$\"", " A = 1 \t\n;x\n"} {
		f.Add(s)
	}
	quote := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "`", "\\`", `$`, `\$`)
	f.Fuzz(func(t *testing.T, s string) {
		env, _ := ParseEnvFile([]byte(s))
		for k, v := range env {
			if !envName.MatchString(k) {
				t.Fatalf("key %q is not a variable name", k)
			}
			if !utf8.ValidString(v) || strings.ContainsAny(v, "\n\r") {
				continue // the round trip below is for one-line text values
			}
			back, err := ParseEnvFile([]byte(k + "=\"" + quote.Replace(v) + "\"\n"))
			if err != nil || back[k] != v {
				t.Fatalf("%s=%q written back reads %q, %v", k, v, back[k], err)
			}
		}
	})
}

// FuzzShellWrapper: reading a sh -c script never panics, and a component found in it has a
// binary hardway recognizes.
func FuzzShellWrapper(f *testing.F) {
	for _, s := range []string{
		"exec /usr/local/bin/kube-apiserver --v=2 1>>/var/log/a.log 2>&1",
		"set -e; mkdir -p /x && exec etcd \"$@\" 2>&1 | tee /l",
		"if [ -f /e ]; then . /e; fi\nexec /go-runner --log-file=/l -- kube-proxy --v=$(cat /v) `x` ${A:-b}",
		"exec kubelet 'a\"b' \"c\\$d\" >&- <in # comment",
		"exec etcd $((1+2)) ${", "(exec etcd)&", "exec etcd 2>",
	} {
		f.Add(s)
	}
	cat := flags.Default()
	f.Fuzz(func(t *testing.T, script string) {
		argv := []Word{{Value: "/bin/sh"}, {Value: "-c"}, {Value: script}, {Value: "sh"}, {Value: "--name=x"}}
		got, _, ok := unwrap(cat, argv)
		if ok && len(got) > 0 && got[0].Value != "/bin/sh" && !recognized(cat, got) {
			t.Fatalf("unwrap(%q) = %q, not a known component", script, got[0].Value)
		}
	})
}

// FuzzExpandKube: Kubernetes $(VAR) expansion never panics, and text without a $ is left
// alone; an escaped $$(A) never expands.
func FuzzExpandKube(f *testing.F) {
	for _, s := range []string{"--a=$(A)", "$$(A)", "$$$(A)", "$(A", "$(", "$", "x$(POD_IP):2379$(B)", "$()"} {
		f.Add(s)
	}
	env := map[string]envValue{"A": {text: "x"}, "POD_IP": {text: "$(POD_IP)", refs: []RunTimeRef{{Var: "POD_IP", From: "status.podIP", Kind: "ip"}}}}
	f.Fuzz(func(t *testing.T, s string) {
		got, _, _ := expandKube(s, env, false)
		if !strings.Contains(s, "$") && got != s {
			t.Fatalf("expandKube(%q) = %q", s, got)
		}
		if got, _, _ := expandKube("$$(A)"+s, env, false); !strings.HasPrefix(got, "$(A)") {
			t.Fatalf("escaped reference expanded: %q", got)
		}
	})
}

// FuzzUnit: parsing a unit file (with a drop-in), building its invocation and inspecting it
// never panics or hangs, whatever the text.
func FuzzUnit(f *testing.F) {
	for _, n := range []string{"kube-apiserver-1.10.service", "etcd-tls.service", "etcd-plain.service", "kubelet.service", "kube-apiserver-dropin.service"} {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b), "[Service]\nExecStart=\nExecStart=/usr/bin/etcd --name=${N}\n")
	}
	f.Add("[Service]\nExecStart=/bin/kube-apiserver -insecure-port=1 --x\n", "")
	f.Add("[Service]\nEnvironmentFile=-/etc/env\nEnvironmentFile=-/etc/missing\nExecStart=/usr/bin/kubelet $N $UNSET $A-B ${UNSET}x \"$N\"\n", "[Service]\nEnvironment=N=\"--v=2 --x='a b'\"\n")
	cat := flags.Default()
	fsys := fstest.MapFS{"etc/env": {Data: []byte("N=x\n")}}
	f.Fuzz(func(t *testing.T, main, dropin string) {
		u, err := LoadUnit("x.service", File{Name: "x.service", Data: []byte(main)}, []File{{Name: "x.service.d/a.conf", Data: []byte(dropin)}}, fsys)
		if err != nil {
			return
		}
		inv, err := FromUnitFile(cat, u)
		if err != nil {
			return
		}
		rep := Inspect([]*Invocation{inv}, Options{Catalogue: cat, Now: testNow})
		_ = WriteTable(discard{}, rep)
		if inv.Component != "" && inv.Wrapper == "" {
			if _, err := Fix(inv, Options{Catalogue: cat}); err != nil && inv.ExecOption != nil && inv.ExecOption.Origin.Line > 0 {
				t.Fatalf("Fix: %v", err)
			}
		}
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
