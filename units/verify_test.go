package units

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/hardway-dev/hardway/internal/e2e"
)

// systemUnitDirs hold the distribution's units (sysinit.target, multi-user.target, ...) that
// every service depends on by default; verify needs them under its --root.
var systemUnitDirs = []string{"/usr/lib/systemd/system", "/lib/systemd/system"}

// TestSystemdAnalyzeVerify runs the real systemd-analyze verify over every unit rendered for
// every node of the examples, with upstream and with hardway's own implementations. It runs
// under --root in a temporary tree that has the distribution's units and a stub executable
// at every ExecStart path. Any output on stderr fails the test: systemd only warns about an
// unknown key or an unparsable value, and ignores them.
func TestSystemdAnalyzeVerify(t *testing.T) {
	analyze := e2e.RequireBinary(t, "systemd-analyze")
	root := t.TempDir()
	copySystemUnits(t, root)
	variants := map[string]Options{
		"upstream": {},
		"hardway":  {Implementation: map[Component]Implementation{Etcd: Hardway}},
	}
	for _, ex := range examples {
		c := loadExample(t, ex)
		for vname, opt := range variants {
			for _, n := range c.Nodes {
				t.Run(ex+"/"+vname+"/"+n.Name, func(t *testing.T) {
					r, err := RenderNode(c, n, opt)
					if err != nil {
						t.Fatal(err)
					}
					unitDir := filepath.Join(root, SystemdDir)
					if err := os.RemoveAll(unitDir); err != nil {
						t.Fatal(err)
					}
					args := []string{"verify", "--root=" + root}
					for _, u := range r.Units {
						writeFile(t, filepath.Join(root, u.Path), r.file(u.Path).Data, 0o644)
						writeFile(t, filepath.Join(root, u.Command[0]), []byte("#!/bin/sh\nexit 0\n"), 0o755)
						args = append(args, u.Name)
					}
					var stdout, stderr bytes.Buffer
					cmd := exec.Command(analyze, args...)
					cmd.Stdout, cmd.Stderr = &stdout, &stderr
					err = cmd.Run()
					if err != nil || stderr.Len() > 0 {
						t.Fatalf("systemd-analyze %v: %v\nstderr:\n%s\nstdout:\n%s", args, err, stderr.String(), stdout.String())
					}
				})
			}
		}
	}
}

// TestSystemdAnalyzeVerifyCatchesErrors makes sure the verify test can fail: a unit with an
// unknown key and a missing program is reported on stderr.
func TestSystemdAnalyzeVerifyCatchesErrors(t *testing.T) {
	analyze := e2e.RequireBinary(t, "systemd-analyze")
	root := t.TempDir()
	copySystemUnits(t, root)
	bad := "[Service]\nType=exec\nExecStart=/usr/local/bin/missing\nRestart=on-failur\n"
	writeFile(t, filepath.Join(root, SystemdDir, "bad.service"), []byte(bad), 0o644)
	var stderr bytes.Buffer
	cmd := exec.Command(analyze, "verify", "--root="+root, "bad.service")
	cmd.Stderr = &stderr
	_ = cmd.Run()
	for _, want := range []string{"restart specifier", "not executable"} {
		if !bytes.Contains(stderr.Bytes(), []byte(want)) {
			t.Errorf("stderr does not mention %q:\n%s", want, stderr.String())
		}
	}
}

func copySystemUnits(t *testing.T, root string) {
	t.Helper()
	for _, src := range systemUnitDirs {
		if _, err := os.Stat(filepath.Join(src, "sysinit.target")); err != nil {
			continue
		}
		dst := filepath.Join(root, "usr/lib/systemd/system")
		err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			target := filepath.Join(dst, rel)
			switch {
			case d.IsDir():
				return os.MkdirAll(target, 0o755)
			case d.Type()&fs.ModeSymlink != 0:
				l, err := os.Readlink(p)
				if err != nil {
					return err
				}
				return os.Symlink(l, target)
			case d.Type().IsRegular():
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				return os.WriteFile(target, data, 0o644)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	e2e.Skip(t, "no systemd unit directory with sysinit.target")
}

func writeFile(t *testing.T, p string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, mode); err != nil {
		t.Fatal(err)
	}
}
