package main

import (
	"os"
	"testing"
)

// TestMain lets tests run this test binary as the hardway command (HARDWAY_TEST_AS_CLI=1), so
// they can start it as a real process, signal it or kill it, without a separate build.
func TestMain(m *testing.M) {
	if os.Getenv("HARDWAY_TEST_AS_CLI") == "1" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
