package main

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// A mistyped subcommand, flag or certificate name is a usage error (exit 2) everywhere, with a
// suggestion when one is close; a cron job must not mistake it for success.
func TestUnknownNamesExit2WithSuggestions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cluster")
	mustHardway(t, "init", "--config", haExample, "--dir", dir)
	for _, tc := range []struct {
		args []string
		want []string // in stderr
	}{
		{[]string{"certs", "renw", "all"}, []string{`unknown command "renw" for "hardway certs"`, "did you mean renew?"}},
		{[]string{"certs", "lst"}, []string{`unknown command "lst"`, "did you mean list?"}},
		{[]string{"units", "shw", "cp-1"}, []string{`unknown command "shw" for "hardway units"`, "did you mean show?"}},
		{[]string{"inti"}, []string{`unknown command "inti" for "hardway"`, "did you mean init?"}},
		{[]string{"frobnicate"}, []string{`unknown command "frobnicate"`, "the subcommands are", "certs"}},
		{[]string{"version", "extra"}, []string{`unknown command "extra" for "hardway version"`}},
		{[]string{"init", "--dry-rn"}, []string{"unknown flag: --dry-rn", "did you mean --dry-run?"}},
		{[]string{"certs", "renew", "--dir", dir, "--nwe-key", "all"}, []string{"unknown flag: --nwe-key", "did you mean --new-key?"}},
		{[]string{"certs", "list", "--confg", "x"}, []string{"did you mean --config?"}},
		{[]string{"certs", "list", "--zzzzzz"}, []string{"unknown flag: --zzzzzz (see 'hardway certs list --help')"}},
		{[]string{"certs", "renew", "--dir", dir, "apiserver-kubelet-clent"}, []string{`no certificate called "apiserver-kubelet-clent"; did you mean apiserver-kubelet-client?`}},
		{[]string{"certs", "renew", "--dir", dir, "etcd/server-cp1"}, []string{"did you mean etcd/server-cp-1"}},
		{[]string{"certs", "renew", "--dir", dir, "admn"}, []string{"did you mean admin?"}},
		{[]string{"certs", "renew", "--dir", dir, "all", "nothing-like-it"}, []string{`no certificate called "nothing-like-it" ('hardway certs list'`}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errs, code := hardway(t, tc.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2\n%s%s", code, out, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
		})
	}
	// A renewal refused for a mistyped name wrote nothing.
	if out := mustHardway(t, "init", "--config", haExample, "--dir", dir); !strings.Contains(out, "up to date") {
		t.Errorf("after the refused renewals, init is not a no-op:\n%s", out)
	}
}

// A command group run alone prints its help and succeeds, as before.
func TestCommandGroupAloneShowsHelp(t *testing.T) {
	out, errs, code := hardway(t, "certs")
	if code != 0 || !strings.Contains(out, "Available Commands") || !strings.Contains(out, "renew") {
		t.Errorf("certs: exit %d\n%s%s", code, out, errs)
	}
}

func TestSuggest(t *testing.T) {
	names := []string{"renew", "list", "verify", "check-expiration"}
	for _, tc := range []struct {
		typed string
		want  []string
	}{
		{"renw", []string{"renew"}},
		{"RENEW", []string{"renew"}},
		{"check", []string{"check-expiration"}},
		{"lsit", []string{"list"}},
		{"xyzzy", []string{}},
		{"renew", []string{}}, // itself is no suggestion
	} {
		if got := suggest(tc.typed, names); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("suggest(%q) = %q, want %q", tc.typed, got, tc.want)
		}
	}
}
