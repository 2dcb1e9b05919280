package inspect

import (
	"fmt"
	"io"
	"os"
	"testing"
)

// helperEnv makes the test binary act as a long-running stand-in process (see
// TestReadRunningProcess): it prints "ready" and waits until its standard input closes.
const helperEnv = "HARDWAY_INSPECT_HELPER_PROCESS"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		fmt.Println("ready")
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}
	os.Exit(m.Run())
}
