package main

import (
	"os"
	"testing"
)

// TestMain lets tests run this test binary as the hardway command (HARDWAY_TEST_AS_CLI=1), so
// they can start it as a real process, signal it or kill it, without a separate build. Such a
// run can also record its writes and kill itself at one of them (see installCrashHook).
func TestMain(m *testing.M) {
	if os.Getenv("HARDWAY_TEST_AS_CLI") == "1" {
		installCrashHook()
		limitAddressSpace()
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
