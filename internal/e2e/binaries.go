package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// built names, for each program that a script of scripts/ builds from its Go module (the
// Kubernetes components by build-kube.sh, CoreDNS by build-coredns.sh), the environment variable
// that points at it (.ci/run sets them after building) and the script.
var built = map[string]struct{ env, script string }{
	"kube-apiserver":          {"HARDWAY_KUBE_APISERVER", "build-kube.sh"},
	"kube-controller-manager": {"HARDWAY_KUBE_CONTROLLER_MANAGER", "build-kube.sh"},
	"kube-scheduler":          {"HARDWAY_KUBE_SCHEDULER", "build-kube.sh"},
	"kubelet":                 {"HARDWAY_KUBELET", "build-kube.sh"},
	"kube-proxy":              {"HARDWAY_KUBE_PROXY", "build-kube.sh"},
	"coredns":                 {"HARDWAY_COREDNS", "build-coredns.sh"},
}

// ErrNotFound is returned by Find for a program that is not there.
var ErrNotFound = errors.New("not found")

// Find returns the path of the real program name: a Kubernetes component or CoreDNS from its
// HARDWAY_KUBE_* or HARDWAY_COREDNS variable (never from PATH, so a stray binary of another
// version is not picked up), anything else from PATH. The error wraps ErrNotFound and says how to get the program.
func Find(name string) (string, error) {
	b, ok := built[name]
	if !ok {
		p, err := exec.LookPath(name)
		if err != nil {
			return "", fmt.Errorf("%s: %w on PATH (CI installs it in .ci/run)", name, ErrNotFound)
		}
		return p, nil
	}
	env := b.env
	p := os.Getenv(env)
	if p == "" {
		return "", fmt.Errorf("%s: %w: %s is not set; build it with `scripts/%s OUTDIR` (a few minutes) and set %s=OUTDIR/%s", name, ErrNotFound, env, b.script, env, name)
	}
	if st, err := os.Stat(p); err != nil || st.IsDir() || st.Mode().Perm()&0o111 == 0 {
		// Set but wrong is a broken setup, not a missing tool: never a skip.
		return "", fmt.Errorf("%s=%s is not an executable file (%v)", env, p, err)
	}
	return p, nil
}

// RequireBinary returns the path of the real program name (see Find), or skips (fails under
// HARDWAY_E2E=1) when it is not there. A HARDWAY_* variable naming no executable fails.
func RequireBinary(t testing.TB, name string) string {
	t.Helper()
	p, err := Find(name)
	if errors.Is(err, ErrNotFound) {
		Skip(t, err.Error())
	} else if err != nil {
		t.Fatal(err)
	}
	return p
}

// BuildHardway builds the hardway command (CGO_ENABLED=0, as released) into a temporary
// directory of the test and returns its path; the Go build cache makes every build after the
// first cheap.
func BuildHardway(t testing.TB) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "hardway")
	GoBuild(t, out, "github.com/hardway-dev/hardway/cmd/hardway")
	return out
}

// GoBuild builds the main package pkg of this module statically (CGO_ENABLED=0) into the file
// out, with the extra go build flags, using the toolchain that built the test (or go on PATH);
// it skips the test when there is none and fails it when the build fails.
func GoBuild(t testing.TB, out, pkg string, flags ...string) {
	t.Helper()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		if goBin, err = exec.LookPath("go"); err != nil {
			Skip(t, "no go toolchain to build "+pkg)
		}
	}
	args := append([]string{"build", "-o", out}, flags...)
	cmd := exec.Command(goBin, append(args, pkg)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}
