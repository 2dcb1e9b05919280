package units

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hardway-dev/hardway/internal/e2e"
)

// TestRealEtcdAcceptsFlags gives the real etcd binary (Debian's etcd-server) the flags of a
// rendered etcd unit: it must parse every one of them and get as far as binding its peer
// address, which it cannot (10.0.0.11 is not this machine's), so it exits without sending
// anything. Debian ships etcd 3.4; the flags the units use have the same names in 3.5 and 3.6.
func TestRealEtcdAcceptsFlags(t *testing.T) {
	etcd := e2e.RequireBinary(t, "etcd")
	c := loadExample(t, "ha")
	u := renderNode(t, c, "cp-1", Options{}).unit("etcd.service")
	var args []string
	for _, f := range u.Flags {
		if f.Name == "data-dir" {
			f.Value = t.TempDir()
		}
		args = append(args, "--"+f.Name+"="+f.Value)
	}
	// The timeout only stops a hung etcd; it asserts nothing.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, etcd, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if strings.Contains(out.String(), "flag provided but not defined") || strings.Contains(out.String(), "invalid value") {
		t.Fatalf("etcd refuses the unit's flags:\n%s", out.String())
	}
	if err == nil || !strings.Contains(out.String(), "10.0.0.11:2380") {
		t.Fatalf("etcd did not get to binding its peer URL (err %v):\n%s", err, out.String())
	}
}
