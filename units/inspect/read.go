package inspect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/hardway-dev/hardway/units/flags"
)

// Inputs are what to inspect, as `hardway inspect` names them; error messages name them the
// same way.
type Inputs struct {
	// Paths are unit files (with their <unit>.d/*.conf drop-ins), manifests, plain command
	// lines, directories of those, or "-" for standard input.
	Paths []string
	// PIDs are running processes, read from /proc/<pid>/cmdline.
	PIDs []int
	// Services are unit names (".service" is added when the name has no suffix): the unit
	// file and drop-ins systemd loaded, or would load, for each.
	Services []string
}

// Sources are where Read reads. Every read goes through one of these file systems, so a test
// gives fstest.MapFS values and `inspect --root` reaches every file a unit or flag points at.
// Every file is read with readFile: regular files only, at most MaxFileSize bytes. A file
// system given here must not block in Open (os.DirFS does, on a FIFO): on the host, use DirFS.
type Sources struct {
	Catalogue *flags.Catalogue
	// Files is where Inputs.Paths are read: the file system they are named in, rooted at "/".
	// A relative path is joined to Dir first.
	Files fs.FS
	Dir   string
	// Root is the inspected node's file system (the host's "/", or a bundle directory): where
	// Services are found and read, and where EnvironmentFile= paths resolve. Inspect reads the
	// files that flags name from the same file system (Options.FS).
	Root fs.FS
	// Proc is the proc file system, for Inputs.PIDs.
	Proc fs.FS
	// Stdin is read for the path "-".
	Stdin io.Reader
	// Manager, when set, says which unit file and drop-ins a running systemd manager loaded for
	// a unit (absolute paths, read from Root). When it fails, the unit is searched for in Root's
	// UnitSearchPath as systemd would, unless RequireManager is set.
	Manager        func(ctx context.Context, unit string) (fragment string, dropins []string, err error)
	RequireManager bool
}

// Read reads every input into invocations: paths in order, then PIDs, then services. The
// first input that cannot be read ends it with an error naming the input; so does ctx ending.
func (s *Sources) Read(ctx context.Context, in Inputs) ([]*Invocation, error) {
	var invs []*Invocation
	for _, p := range in.Paths {
		got, err := s.ReadPath(ctx, p)
		if err != nil {
			return nil, err
		}
		invs = append(invs, got...)
	}
	for _, pid := range in.PIDs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		inv, err := s.readPID(pid)
		if err != nil {
			return nil, err
		}
		invs = append(invs, inv)
	}
	for _, name := range in.Services {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		inv, err := s.readService(ctx, name)
		if err != nil {
			return nil, err
		}
		invs = append(invs, inv)
	}
	return invs, nil
}

// inputSuffixes are the file names a directory contributes: units and manifests.
var inputSuffixes = []string{".service", ".yaml", ".yml", ".manifest"}

// ReadPath reads one path of Inputs.Paths. A directory contributes each *.service, *.yaml,
// *.yml and *.manifest file in it, in name order (not its subdirectories), and must hold at
// least one. A file named *.service or *.conf is a unit, *.yaml, *.yml or *.manifest a
// manifest; any other is recognised by its content (Detect).
func (s *Sources) ReadPath(ctx context.Context, p string) ([]*Invocation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if p == "-" {
		if s.Stdin == nil {
			return nil, errors.New("standard input: none given")
		}
		data, err := readBounded(s.Stdin, -1)
		if err != nil {
			return nil, fmt.Errorf("standard input: %w", err)
		}
		return s.parse(File{Name: "-", Data: data}, nil)
	}
	name := p
	if !path.IsAbs(p) {
		name = path.Join(s.Dir, p)
	}
	fp := fsPath(name)
	st, err := fs.Stat(s.Files, fp)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, pathCause(err))
	}
	if st.IsDir() {
		ents, err := fs.ReadDir(s.Files, fp)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, pathCause(err))
		}
		var out []*Invocation
		for _, e := range ents {
			n := e.Name()
			if e.IsDir() || !hasSuffix(n, inputSuffixes...) {
				continue
			}
			got, err := s.ReadPath(ctx, path.Join(p, n))
			if err != nil {
				return nil, err
			}
			out = append(out, got...)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%s: no *.service or *.yaml files with a component command line", p)
		}
		return out, nil
	}
	data, err := readFile(s.Files, fp)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, pathCause(err))
	}
	var dropins []File
	confs, err := dropinFiles(s.Files, fp+".d")
	if err != nil {
		return nil, fmt.Errorf("%s.d: %w", p, pathCause(err))
	}
	for _, c := range confs {
		n := path.Join(p+".d", c)
		d, err := readFile(s.Files, path.Join(fp+".d", c))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n, pathCause(err))
		}
		dropins = append(dropins, File{Name: n, Data: d})
	}
	return s.parse(File{Name: p, Data: data}, dropins)
}

// parse turns one file into invocations: the name's suffix says what it is, else its content.
func (s *Sources) parse(f File, dropins []File) ([]*Invocation, error) {
	kind := Detect(f)
	switch {
	case hasSuffix(f.Name, ".service", ".conf"):
		kind = FromUnit
	case hasSuffix(f.Name, ".yaml", ".yml", ".manifest"):
		kind = FromManifest
	}
	switch kind {
	case FromUnit:
		u, err := LoadUnit(path.Base(f.Name), f, dropins, s.Root)
		if err != nil {
			return nil, err
		}
		inv, err := FromUnitFile(s.Catalogue, u)
		if err != nil {
			return nil, err
		}
		return []*Invocation{inv}, nil
	case FromManifest:
		return ParseManifest(s.Catalogue, f)
	}
	inv, err := ParseCommand(s.Catalogue, f)
	if err != nil {
		return nil, err
	}
	return []*Invocation{inv}, nil
}

func (s *Sources) readPID(pid int) (*Invocation, error) {
	p := strconv.Itoa(pid) + "/cmdline"
	data, err := readFile(s.Proc, p)
	if err != nil {
		return nil, fmt.Errorf("--pid %d: /proc/%s: %w (is the process running, and may this user read its /proc entry?)", pid, p, pathCause(err))
	}
	return ParseProcCmdline(s.Catalogue, pid, data), nil
}

// readService reads the unit systemd has loaded for name (Manager), or would load (FindUnit
// in Root), with its drop-ins.
func (s *Sources) readService(ctx context.Context, name string) (*Invocation, error) {
	if !strings.Contains(name, ".") {
		name += ".service"
	}
	var main string
	var dropins []string
	found := false
	if s.Manager != nil {
		var err error
		main, dropins, err = s.Manager(ctx, name)
		if err != nil && s.RequireManager {
			return nil, fmt.Errorf("--service %s: %w", name, err)
		}
		found = err == nil
	}
	if !found {
		var err error
		if main, dropins, err = FindUnit(s.Root, name); err != nil {
			return nil, fmt.Errorf("--service %s: %w", name, err)
		}
	}
	read := func(p string) (File, error) {
		data, err := readFile(s.Root, fsPath(p))
		if err != nil {
			return File{}, fmt.Errorf("%s: %w", p, pathCause(err))
		}
		return File{Name: p, Data: data}, nil
	}
	mf, err := read(main)
	if err != nil {
		return nil, fmt.Errorf("--service %s: %w", name, err)
	}
	var dfs []File
	for _, p := range dropins {
		d, err := read(p)
		if err != nil {
			return nil, fmt.Errorf("--service %s: drop-in: %w", name, err)
		}
		dfs = append(dfs, d)
	}
	u, err := LoadUnit(name, mf, dfs, s.Root)
	if err != nil {
		return nil, err
	}
	return FromUnitFile(s.Catalogue, u)
}

// UnitSearchPath is where systemd looks for system units, most important first.
var UnitSearchPath = []string{"/etc/systemd/system", "/run/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"}

// FindUnit locates a unit and its drop-ins in fsys the way systemd does without a running
// manager: the main file from the first directory of UnitSearchPath that has it; drop-ins
// <name>.d/*.conf from every directory, a file name in a more important directory hiding the
// same name in a less important one, applied in file-name order.
func FindUnit(fsys fs.FS, name string) (main string, dropins []string, err error) {
	if !strings.Contains(name, ".") {
		name += ".service"
	}
	for _, d := range UnitSearchPath {
		p := path.Join(d, name)
		if _, err := fs.Stat(fsys, fsPath(p)); err == nil {
			main = p
			break
		}
	}
	if main == "" {
		return "", nil, fmt.Errorf("unit %s not found in %s; give the unit file's path instead", name, strings.Join(UnitSearchPath, ", "))
	}
	seen := map[string]string{}
	for _, d := range UnitSearchPath {
		dir := path.Join(d, name+".d")
		confs, err := dropinFiles(fsys, fsPath(dir))
		if err != nil {
			return "", nil, fmt.Errorf("%s: %w", dir, pathCause(err))
		}
		for _, c := range confs {
			if _, hidden := seen[c]; !hidden {
				seen[c] = path.Join(dir, c)
			}
		}
	}
	names := slices.Sorted(maps.Keys(seen))
	for _, n := range names {
		dropins = append(dropins, seen[n])
	}
	return main, dropins, nil
}

// dropinFiles lists the *.conf files (not directories) of the drop-in directory dir in fsys,
// in name order, the order systemd applies them; none when dir does not exist or is not a
// directory.
func dropinFiles(fsys fs.FS, dir string) ([]string, error) {
	st, err := fs.Stat(fsys, dir)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && !st.IsDir()) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ents, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".conf") {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// MaxFileSize is the most inspect reads of one file: a unit, drop-in, manifest, environment
// file, kubelet config, kubeconfig, certificate, key, /proc/<pid>/cmdline or standard input.
// Real ones are a few KiB (a CA bundle a few hundred); the cap keeps a hostile or mistaken
// input (/dev/zero, a log file) from exhausting memory.
const MaxFileSize = 4 << 20

// ErrNotRegular is the cause when inspect refuses to read a FIFO, device, socket or directory:
// a FIFO would block the read forever, a device such as /dev/zero never ends.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is the cause when a file is longer than MaxFileSize.
var ErrTooLarge = fmt.Errorf("larger than the %d MiB inspect reads of a file", MaxFileSize>>20)

// readFile is the one way inspect reads a file from an fs.FS: it opens name, refuses anything
// but a regular file (by the opened file's own Stat, so a link to /dev/zero is refused too),
// and reads at most MaxFileSize bytes, whatever size the file claims (/proc files claim 0).
// Errors are *fs.PathError values, so callers name the file as the user gave it (pathCause).
func readFile(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	if !st.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("%w (%s)", ErrNotRegular, describeType(st.Mode()))}
	}
	data, err := readBounded(f, st.Size())
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return data, nil
}

// readBounded reads r to its end, at most MaxFileSize bytes; size is what the file claims
// (negative when unknown), refused at once when over the cap.
func readBounded(r io.Reader, size int64) ([]byte, error) {
	if size > MaxFileSize {
		return nil, fmt.Errorf("%w (%d bytes)", ErrTooLarge, size)
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%w (more than %d bytes)", ErrTooLarge, MaxFileSize)
	}
	return data, nil
}

// describeType names a file type for a message: "a FIFO", "a character device" ...
func describeType(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a directory"
	}
	return "an irregular file"
}

// pathCause drops an fs.PathError's wrapper, whose path is relative to its fs.FS, for messages
// that name the path as the user gave it.
func pathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func hasSuffix(s string, suffixes ...string) bool {
	for _, x := range suffixes {
		if strings.HasSuffix(s, x) {
			return true
		}
	}
	return false
}
