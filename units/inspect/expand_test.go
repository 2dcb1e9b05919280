package inspect

import (
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/hardway-dev/hardway/units/flags"
)

// The expectations below are systemd's documented behaviour, not this package's output:
// systemd.service(5), "Command lines": "Use "$FOO" as a separate word on the command line, in
// which case it will be replaced by the value of the environment variable split at whitespace,
// resulting in zero or more arguments"; "${FOO}" as part of a word is replaced by the value
// (one word), and systemd (src/basic/env-util.c, replace_env) substitutes the empty string for
// an unset one ("Referenced but unset environment variable evaluates to an empty string").
// replace_env_argv treats any word starting with "$" but not "${" or "$$" as a lone variable,
// and an unset or invalid name yields no argument at all.
func TestParseExecExpansion(t *testing.T) {
	env := map[string]string{
		"ARGS":   `--a=1  --b="x y" 'c d'`,
		"EMPTY":  "",
		"IP":     "10.0.0.1",
		"SPACED": " --v=2 ",
	}
	tests := []struct {
		name       string
		in         string
		want       []string
		dropped    []string // variables of lone words that became no argument
		unresolved []string // ${...} inside words, substituted by ""
	}{
		{"lone set splits, quotes removed", `/bin/k $ARGS`, []string{"/bin/k", "--a=1", "--b=x y", "c d"}, nil, nil},
		{"lone unset is no argument", `/bin/k $NOPE --x=1`, []string{"/bin/k", "--x=1"}, []string{"NOPE"}, nil},
		{"lone empty is no argument, not reported", `/bin/k $EMPTY --x=1`, []string{"/bin/k", "--x=1"}, nil, nil},
		{"lone blanks trimmed", `/bin/k $SPACED`, []string{"/bin/k", "--v=2"}, nil, nil},
		{"quoted lone word is still lone", `/bin/k "$ARGS"`, []string{"/bin/k", "--a=1", "--b=x y", "c d"}, nil, nil},
		{"lone invalid name dropped", `/bin/k $A-B --x`, []string{"/bin/k", "--x"}, []string{"A-B"}, nil},
		{"braced unset inside word is empty", `/bin/k --ip=${NOPE}`, []string{"/bin/k", "--ip="}, nil, []string{"NOPE"}},
		{"braced unset alone is one empty word", `/bin/k ${NOPE}`, []string{"/bin/k", ""}, nil, []string{"NOPE"}},
		{"braced set keeps spaces in one word", `/bin/k --x=${ARGS}`, []string{"/bin/k", `--x=--a=1  --b="x y" 'c d'`}, nil, nil},
		{"braced lone word is one word", `/bin/k ${IP}`, []string{"/bin/k", "10.0.0.1"}, nil, nil},
		{"$$ is a dollar", `/bin/k $$IP --y=$$`, []string{"/bin/k", "$IP", "--y=$"}, nil, nil},
		{"unbraced inside a word is literal", `/bin/k --ip=$IP`, []string{"/bin/k", "--ip=$IP"}, nil, nil},
		{"colon prefix turns expansion off", `:/bin/k $NOPE ${IP}`, []string{"/bin/k", "$NOPE", "${IP}"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd, err := ParseExec(tt.in, env, "k.service", Origin{File: "f", Line: 1})
			if err != nil {
				t.Fatal(err)
			}
			var got, dropped, unresolved []string
			for _, w := range cmd.Argv {
				got = append(got, w.Value)
				unresolved = append(unresolved, w.Unresolved...)
			}
			for _, w := range cmd.Dropped {
				if w.Value != "" || w.Raw == "" {
					t.Errorf("dropped word %+v: want an empty value and the raw text", w)
				}
				dropped = append(dropped, w.Unresolved...)
			}
			if !reflect.DeepEqual(got, tt.want) || !reflect.DeepEqual(dropped, tt.dropped) || !reflect.DeepEqual(unresolved, tt.unresolved) {
				t.Errorf("ParseExec(%q)\n got %q dropped %q unresolved %q\nwant %q dropped %q unresolved %q", tt.in, got, dropped, unresolved, tt.want, tt.dropped, tt.unresolved)
			}
		})
	}
}

// A lone unset variable is not a positional argument: the unit's findings say systemd passes
// nothing, and the flag parser sees no stray word.
func TestUnitLoneUnsetVariable(t *testing.T) {
	unit := "[Service]\nEnvironment=KUBELET_ARGS=--v=2\nExecStart=/usr/bin/kubelet $KUBELET_ARGS $KUBELET_EXTRA_ARGS --kubeconfig=/k ${NODE_IP}x\n"
	u, err := LoadUnit("kubelet.service", File{Name: "kubelet.service", Data: []byte(unit)}, nil, fstest.MapFS{})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := FromUnitFile(flags.Default(), u)
	if err != nil {
		t.Fatal(err)
	}
	var vals []string
	for _, w := range inv.Args {
		vals = append(vals, w.Value)
	}
	if want := []string{"--v=2", "--kubeconfig=/k", "x"}; !reflect.DeepEqual(vals, want) {
		t.Errorf("args %q, want %q", vals, want)
	}
	var msgs []string
	for _, p := range inv.Problems {
		if p.ID == "unit-unresolved-variable" {
			msgs = append(msgs, p.Message)
		}
	}
	if len(msgs) != 2 || !strings.Contains(msgs[0], "$KUBELET_EXTRA_ARGS") || !strings.Contains(msgs[0], "no argument") ||
		!strings.Contains(msgs[1], "${NODE_IP}") || !strings.Contains(msgs[1], "empty string") {
		t.Errorf("unresolved-variable findings: %q", msgs)
	}
}

// Expectations from systemd's load_env_file (src/basic/env-file.c, parse_env_file_internal)
// and systemd.exec(5), EnvironmentFile=.
func TestParseEnvFile(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]string
		bad  []string // substrings of the error, one per ignored line
	}{
		{"empty double quotes are an empty value", `A=""` + "\n" + `B=''`, map[string]string{"A": "", "B": ""}, nil},
		{"nothing after = is empty", "A=\nB=   \n", map[string]string{"A": "", "B": ""}, nil},
		{"blanks around key and value", "  A =  x y  \n", map[string]string{"A": "x y"}, nil},
		// Quotes open only where a value starts or right after a closing quote (PRE_VALUE).
		{"quote after quote", `A="a" 'b'c'd'`, map[string]string{"A": "abc'd'"}, nil},
		{"quotes inside an unquoted value are literal", `B=x"y z"`, map[string]string{"B": `x"y z"`}, nil},
		{"quoted blanks kept", `A="  x  "`, map[string]string{"A": "  x  "}, nil},
		{"double-quote escapes", `A="\"\\\$\` + "`" + `\n"`, map[string]string{"A": `"\$` + "`" + `\n`}, nil},
		{"single quotes take backslashes literally", `A='a\b'`, map[string]string{"A": `a\b`}, nil},
		{"unquoted backslash escapes", `A=a\ b\\c`, map[string]string{"A": `a b\c`}, nil},
		{"continuation", "A=a \\\nb\nB=c", map[string]string{"A": "a b", "B": "c"}, nil},
		{"newline inside quotes kept", "A=\"x\ny\"\nB=1", map[string]string{"A": "x\ny", "B": "1"}, nil},
		{"comments only at line start", "# c\n ; c\nA=x # not a comment\n", map[string]string{"A": "x # not a comment"}, nil},
		{"later assignment wins", "A=1\nA=2\n", map[string]string{"A": "2"}, nil},
		{"CRLF", "A=1\r\nB=2\r\n", map[string]string{"A": "1", "B": "2"}, nil},
		{"no final newline", "A=x", map[string]string{"A": "x"}, nil},
		{"line without = ignored", "JUSTAWORD\nA=1\n", map[string]string{"A": "1"}, []string{`line 1: "JUSTAWORD" has no "="`}},
		{"export is not stripped", "export A=1\nB=2\n", map[string]string{"B": "2"}, []string{`line 1: "export A" is not a variable name`}},
		{"invalid name", "1A=x\n", map[string]string{}, []string{`"1A" is not a variable name`}},
		{"value may hold =", "A=--x=y\n", map[string]string{"A": "--x=y"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEnvFile([]byte(tt.in))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseEnvFile(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if len(tt.bad) == 0 && err != nil {
				t.Errorf("ParseEnvFile(%q): %v", tt.in, err)
			}
			for _, b := range tt.bad {
				if err == nil || !strings.Contains(err.Error(), b) {
					t.Errorf("ParseEnvFile(%q) error %v, want it to mention %q", tt.in, err, b)
				}
			}
		})
	}
}

// systemd.exec(5), EnvironmentFile=: "The argument passed should be an absolute filename ...
// prefixed with "-", which indicates that if the file does not exist, it will not be read and
// no error or warning message is logged." Any other read error still fails the unit.
func TestEnvironmentFileOptional(t *testing.T) {
	fsys := fstest.MapFS{
		"etc/default/present": {Data: []byte(`IP=""` + "\n")},
		"etc/default/dir":     {Mode: fs.ModeDir | 0o755}, // a directory
	}
	tests := []struct {
		name     string
		line     string
		problems int
	}{
		{"optional missing: ignored", "EnvironmentFile=-/etc/default/missing", 0},
		{"required missing: refused", "EnvironmentFile=/etc/default/missing", 1},
		{"optional present", "EnvironmentFile=-/etc/default/present", 0},
		{"optional but not a file: refused", "EnvironmentFile=-/etc/default/dir", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			unit := "[Service]\n" + tt.line + "\nExecStart=/usr/local/bin/etcd --name=x\n"
			u, err := LoadUnit("etcd.service", File{Name: "etcd.service", Data: []byte(unit)}, nil, fsys)
			if err != nil {
				t.Fatal(err)
			}
			if len(u.EnvProblems) != tt.problems {
				t.Errorf("problems %q, want %d", u.EnvProblems, tt.problems)
			}
			if tt.line == "EnvironmentFile=-/etc/default/present" {
				if v, ok := u.Env["IP"]; !ok || v != "" {
					t.Errorf(`IP="" read as %q (set %v), want the empty value`, v, ok)
				}
			}
		})
	}
}

func TestSplitEnvValue(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   ", nil},
		{"a  b\tc", []string{"a", "b", "c"}},
		{`"a b" 'c d'e`, []string{"a b", "c de"}},
		{`a\ b`, []string{"a b"}},
		{`""`, []string{""}},
		{`"open`, []string{"open"}}, // EXTRACT_RELAX tolerates an unterminated quote
	}
	for _, tt := range tests {
		if got := splitEnvValue(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitEnvValue(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
