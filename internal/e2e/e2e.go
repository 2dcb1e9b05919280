package e2e

import (
	"net"
	"os"
	"testing"
	"time"
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

// Spread returns at most max of the indices 0 ... n-1 in order, evenly spread, the first and
// the last included. Crash tests stop a run at these writes instead of at every one of them, so
// they stay linear in the number of files.
func Spread(n, max int) []int {
	if n <= 0 || max <= 0 {
		return nil
	}
	if n <= max {
		max = n
	}
	if max == 1 {
		return []int{0}
	}
	out := make([]int, max)
	for i := range out {
		out[i] = i * (n - 1) / (max - 1)
	}
	return out
}

// Eventually polls cond every interval until it holds, and fails the test naming what when
// within passes first: the one wait of the end-to-end tests for a cluster to reach a state.
func Eventually(t testing.TB, within, interval time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %s", what, within)
		}
		time.Sleep(interval)
	}
}
