//go:build oldreleases

package flags

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/internal/e2e"
)

// The catalogue against real binaries of older releases: the checks the CI runs against v1.37
// (every flag and every feature gate given to each of the five components), at whatever minor
// each binary says it is. Not run by CI (the build tag): building a release takes a while and
// the releases that still build with the current Go are few. Build them with
// scripts/build-kube.sh and name their directories:
//
//	scripts/build-kube.sh /work/oldkube/v1.30.14 v1.30.14
//	HARDWAY_KUBE_RELEASES=/work/oldkube/v1.30.14:/work/oldkube/v1.27.16 \
//	  go test -tags oldreleases -run TestCatalogueMatchesOldReleases -v -timeout 2h ./units/flags
//
// docs/flags.md records the releases checked and what the check found.
func TestCatalogueMatchesOldReleases(t *testing.T) {
	dirs := filepath.SplitList(os.Getenv("HARDWAY_KUBE_RELEASES"))
	if len(dirs) == 0 {
		e2e.Skip(t, "HARDWAY_KUBE_RELEASES is not set: build releases with `scripts/build-kube.sh DIR v1.MINOR.PATCH` and set it to the directories, colon-separated")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			for _, component := range kubeComponents {
				t.Run(component, func(t *testing.T) {
					bin := filepath.Join(dir, component)
					if _, err := os.Stat(bin); errors.Is(err, fs.ErrNotExist) {
						// A release may lack a component the script could not build (kube-apiserver
						// before 1.24), which docs/flags.md records: logged, not checked.
						t.Logf("%s: no %s (scripts/build-kube.sh did not build it): not checked", dir, component)
						return
					}
					v := binaryVersion(t, bin)
					flags := kubeBinaryCheck(component, bin, v).check(t, flagsInHelp(t, bin))
					gates := checkGates(t, component, v, gateProbeFor(t, component, bin))
					t.Logf("figures: %s %s: --help lists %d flags; %d catalogue flags given, %d refused as unknown, %d warned deprecated; %d feature gates known, %d refused (removed, not yet added or not this component's)",
						component, v, flags.Listed, flags.Given, flags.Refused, flags.Deprecated, gates.Current, gates.Gone)
				})
			}
		})
	}
}

// binaryVersion is the minor version a Kubernetes binary says it is (--version prints
// "Kubernetes v1.30.14"; scripts/build-kube.sh stamps it).
func binaryVersion(t *testing.T, bin string) Version {
	t.Helper()
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v\n%s", bin, err, out)
	}
	m := versionPrinted.FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("%s --version printed no version such as \"Kubernetes v1.30.14\" (was it built by scripts/build-kube.sh, which stamps it?):\n%s", bin, strings.TrimSpace(string(out)))
	}
	v, err := ParseVersion(m[1])
	if err != nil {
		t.Fatalf("%s --version: %v", bin, err)
	}
	return v
}
