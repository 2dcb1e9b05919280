package supervise

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// MissingProgram is a program `hardway up` could not find.
type MissingProgram struct {
	Name   string
	Looked []string // where it looked, in order
}

func (e *MissingProgram) Error() string {
	return fmt.Sprintf("%s: not found (looked in %s); get it with `hardway binaries fetch --version <version> --dest DIR` and give --bin-dir DIR, or build it from the Go modules with scripts/build-kube.sh",
		e.Name, strings.Join(e.Looked, ", "))
}

// FindPrograms finds each program by its base name in binDir (when not ""), then in PATH, and
// returns node path -> host path, every host path absolute with links resolved. self, when
// not "", is the host path of the "hardway" program (this executable). All missing programs
// are reported together.
func FindPrograms(nodePaths []string, binDir, self string) (map[string]string, error) {
	out := map[string]string{}
	var errs []error
	for _, np := range nodePaths {
		name := path.Base(np)
		if name == "hardway" && self != "" {
			out[np] = self
			continue
		}
		var looked []string
		found := ""
		if binDir != "" {
			looked = append(looked, "--bin-dir "+binDir)
			cand := filepath.Join(binDir, name)
			if st, err := os.Stat(cand); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
				found = cand
			}
		}
		if found == "" {
			looked = append(looked, "PATH")
			if p, err := exec.LookPath(name); err == nil {
				found = p
			}
		}
		if found == "" {
			errs = append(errs, &MissingProgram{Name: name, Looked: looked})
			continue
		}
		real, err := filepath.EvalSymlinks(found)
		if err == nil {
			real, err = filepath.Abs(real)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", found, err))
			continue
		}
		out[np] = real
	}
	return out, errors.Join(errs...)
}
