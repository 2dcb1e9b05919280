package e2e

import (
	"net"
	"os"
	"os/exec"
	"testing"
)

// Enabled reports whether HARDWAY_E2E=1 is set: end-to-end tests must run, not skip.
func Enabled() bool { return os.Getenv("HARDWAY_E2E") == "1" }

// Skip skips the test with reason, or fails it when HARDWAY_E2E=1.
func Skip(t testing.TB, reason string) {
	t.Helper()
	if Enabled() {
		t.Fatalf("HARDWAY_E2E=1 but this end-to-end test cannot run: %s", reason)
	}
	t.Skip(reason)
}

// RequireBinary returns the path of the named program, or skips (fails under HARDWAY_E2E=1)
// when it is not installed.
func RequireBinary(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Skip(t, name+" is not installed (CI installs it in .ci/run)")
	}
	return p
}

// SkipIfShort skips slow end-to-end tests under -short, unless HARDWAY_E2E=1.
func SkipIfShort(t testing.TB) {
	t.Helper()
	if testing.Short() && !Enabled() {
		t.Skip("slow end-to-end test; skipped with -short")
	}
}

// FreePort returns a TCP port free on ip (a 127.0.0.0/8 address) right now.
func FreePort(t testing.TB, ip string) string {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}
