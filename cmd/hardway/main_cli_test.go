package main

import (
	"strings"
	"testing"
)

func TestVersionAndCompletion(t *testing.T) {
	if out := mustHardway(t, "version"); !strings.HasPrefix(out, "hardway ") {
		t.Errorf("version: %q", out)
	}
	for shell, want := range map[string]string{"bash": "__start_hardway", "zsh": "#compdef hardway", "fish": "complete -c hardway"} {
		if out := mustHardway(t, "completion", shell); !strings.Contains(out, want) {
			t.Errorf("completion %s lacks %q", shell, want)
		}
	}
	if _, errs, code := hardway(t, "completion", "tcsh"); code != 2 || !strings.Contains(errs, "tcsh") {
		t.Errorf("completion tcsh: exit %d %s", code, errs)
	}
	if _, errs, code := hardway(t, "no-such-command"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Errorf("unknown command: exit %d %s", code, errs)
	}
}

// The catalogue is the help: every catalogue entry appears in 'certs renew --help'.
func TestCertsHelpListsTheCatalogue(t *testing.T) {
	out := mustHardway(t, "certs", "renew", "--help")
	for _, name := range []string{"etcd-server", "kubelet-client", "super-admin", "front-proxy-ca", "sa"} {
		if !strings.Contains(out, "  "+name+" ") {
			t.Errorf("certs renew --help does not list %s", name)
		}
	}
}
