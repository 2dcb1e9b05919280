package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/units/systemd/sandboxtest"
)

// --service asks a real systemd manager which unit file and drop-ins it loaded, and inspects
// the command line they make together: the drop-in's empty ExecStart= resets the unit's.
func TestInspectServiceOverDBus(t *testing.T) {
	units := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(units, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("kube-apiserver.service", "[Unit]\nDescription=old apiserver\n[Service]\nExecStart=/usr/local/bin/kube-apiserver --insecure-port=8080 --etcd-servers=https://127.0.0.1:2379\n")
	write("kube-apiserver.service.d/10-override.conf", "[Service]\nExecStart=\nExecStart=/usr/local/bin/kube-apiserver --anonymous-auth=true --etcd-servers=https://127.0.0.1:2379\n")
	m := sandboxtest.Start(t, units)

	code, out, errs := runInspectCLI(t, "", "--service", "kube-apiserver", "--systemd-socket", m.Socket, "-o", "yaml")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (findings)\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "10-override.conf") {
		t.Errorf("the flags do not come from the drop-in systemd loaded:\n%s", out)
	}
	if !strings.Contains(out, "anonymous-auth") {
		t.Errorf("--anonymous-auth=true from the drop-in not reported:\n%s", out)
	}
	if strings.Contains(out, "insecure-port") {
		t.Errorf("the reset ExecStart's flags are still inspected:\n%s", out)
	}

	_, _, errs = runInspectCLI(t, "", "--service", "kube-apiserver", "--systemd-socket", filepath.Join(t.TempDir(), "none"))
	if !strings.Contains(errs, "--service kube-apiserver.service") {
		t.Errorf("an unreachable manager: %s", errs)
	}
}
