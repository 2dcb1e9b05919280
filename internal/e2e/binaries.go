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

// kubeEnv names, for each Kubernetes component scripts/build-kube.sh builds, the environment
// variable that points at it (.ci/run sets them after building).
var kubeEnv = map[string]string{
	"kube-apiserver":          "HARDWAY_KUBE_APISERVER",
	"kube-controller-manager": "HARDWAY_KUBE_CONTROLLER_MANAGER",
	"kube-scheduler":          "HARDWAY_KUBE_SCHEDULER",
	"kubelet":                 "HARDWAY_KUBELET",
	"kube-proxy":              "HARDWAY_KUBE_PROXY",
}

// ErrNotFound is returned by Find for a program that is not there.
var ErrNotFound = errors.New("not found")

// Find returns the path of the real program name: a Kubernetes component from its
// HARDWAY_KUBE_* variable (never from PATH, so a stray binary of another version is not picked
// up), anything else from PATH. The error wraps ErrNotFound and says how to get the program.
func Find(name string) (string, error) {
	env, kube := kubeEnv[name]
	if !kube {
		p, err := exec.LookPath(name)
		if err != nil {
			return "", fmt.Errorf("%s: %w on PATH (CI installs it in .ci/run)", name, ErrNotFound)
		}
		return p, nil
	}
	p := os.Getenv(env)
	if p == "" {
		return "", fmt.Errorf("%s: %w: %s is not set; build it with `scripts/build-kube.sh OUTDIR` (a few minutes) and set %s=OUTDIR/%s", name, ErrNotFound, env, env, name)
	}
	if st, err := os.Stat(p); err != nil || st.IsDir() || st.Mode().Perm()&0o111 == 0 {
		// Set but wrong is a broken setup, not a missing tool: never a skip.
		return "", fmt.Errorf("%s=%s is not an executable file (%v)", env, p, err)
	}
	return p, nil
}

// RequireBinary returns the path of the real program name (see Find), or skips (fails under
// HARDWAY_E2E=1) when it is not there. A HARDWAY_KUBE_* variable naming no executable fails.
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
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		if goBin, err = exec.LookPath("go"); err != nil {
			Skip(t, "no go toolchain to build hardway")
		}
	}
	out := filepath.Join(t.TempDir(), "hardway")
	cmd := exec.Command(goBin, "build", "-o", out, "github.com/hardway-dev/hardway/cmd/hardway")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build hardway: %v\n%s", err, b)
	}
	return out
}
