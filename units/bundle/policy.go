package bundle

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/coreos/go-systemd/v22/unit"
)

// Policy is what a bundle may install: the data its producer exports (package units builds it
// from what the renderer writes), not a list of prefixes kept by hand. A unit file is root code
// execution and every other path is a place a root-run installer writes, so anything the
// renderer would not produce is refused.
type Policy struct {
	// Files are the node paths a bundle may hold, each with its kind and widest mode.
	Files map[string]Allowed
	// Dirs are folders a bundle may hold files directly in (the cluster file's extra files,
	// /etc/kubernetes/extra/<component>/), each with the kind and widest mode of those files.
	// A file's name there is plain (letters, digits, '.', '_', '-'; not starting with '.').
	Dirs map[string]Allowed
	// Units are the units a bundle may run, by name.
	Units map[string]UnitAllowance
}

// Allowed is one node path's kind, widest mode and owner.
type Allowed struct {
	Kind  Kind
	Mode  fs.FileMode
	Owner string // "" is DefaultOwner
}

// UnitAllowance is what one unit's file may say.
type UnitAllowance struct {
	// Commands are the programs (with their leading arguments) its ExecStart may start. A
	// program written AnyDir+"name" is a program called name in any clean absolute directory:
	// one the cluster file may move (binaries.containerd).
	Commands [][]string
	// Flags are the names of the flags (without "--") its ExecStart may pass, each as
	// --name=value with a value of plain characters.
	Flags map[string]bool
	// Options are the "Section.Name" keys its file may set; any other (an ExecStartPre=, a
	// User=) is refused.
	Options map[string]bool
	// Values are the values each key may have; a key not in Values (Unit.Description,
	// Unit.Documentation, Service.ExecStart) may have any value of plain characters.
	Values map[string]map[string]bool
}

// AnyDir prefixes a program of Commands that may live in any directory.
const AnyDir = "*/"

// matchCommand reports whether words start with command c.
func matchCommand(words, c []string) bool {
	if len(words) < len(c) || len(c) == 0 {
		return false
	}
	prog := c[0]
	if name, ok := strings.CutPrefix(prog, AnyDir); ok {
		w := words[0]
		if !path.IsAbs(w) || path.Clean(w) != w || path.Base(w) != name || !plainArg.MatchString(w) {
			return false
		}
	} else if words[0] != prog {
		return false
	}
	return slices.Equal(words[1:len(c)], c[1:])
}

// ExecContinuation is how a rendered ExecStart continues on the next line; no other backslash
// may appear in a unit file.
const ExecContinuation = " \\\n\t"

// plainArg is what an ExecStart word may hold: nothing systemd would expand, quote, escape or
// split on (no whitespace, quotes, $, %, ;, backslash).
var plainArg = regexp.MustCompile(`^[A-Za-z0-9_./,:=@+*\[\]-]+$`)

// Check reports every entry of b the policy does not allow, each with its field path.
func (p *Policy) Check(b *Bundle) error {
	var ps problems
	for i, f := range b.Files {
		field := fmt.Sprintf("files[%d]", i)
		a, ok := p.Files[f.Path]
		if !ok {
			a, ok = p.inDir(f.Path)
		}
		switch {
		case !ok:
			ps.add(field+".path", "%s is not a path hardway renders for any node; a bundle installs only what `hardway init` writes", f.Path)
			continue
		case f.Kind != a.Kind:
			ps.add(field+".kind", "%s is a %s, not a %s", f.Path, a.Kind, f.Kind)
		case f.Mode.Perm()&^a.Mode != 0 || f.Mode&^fs.ModePerm != 0:
			ps.add(field+".mode", "%s: %04o is wider than its %04o", f.Path, f.Mode, a.Mode)
		case ownerOr(f.Owner) != ownerOr(a.Owner):
			ps.add(field+".owner", "%s: owner %s, not %s", f.Path, ownerOr(f.Owner), ownerOr(a.Owner))
		}
		if f.Kind == KindUnit && path.Dir(f.Path) == SystemdDir {
			ps.List = append(ps.List, p.checkUnit(field, f).List...)
		}
	}
	for i, u := range b.Units {
		if _, ok := p.Units[u.Name]; !ok {
			ps.add(fmt.Sprintf("units[%d].name", i), "%s is not a unit hardway renders", u.Name)
		}
	}
	return ps.err(fmt.Sprintf("bundle for node %q holds what hardway would not install", b.Node))
}

// plainName is the name of a file a bundle may hold in one of Policy.Dirs.
var plainName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// inDir returns the allowance of the folder of Dirs that holds p directly, when p's name is plain.
func (p *Policy) inDir(nodePath string) (Allowed, bool) {
	a, ok := p.Dirs[path.Dir(nodePath)]
	if !ok || !plainName.MatchString(path.Base(nodePath)) || path.Clean(nodePath) != nodePath {
		return Allowed{}, false
	}
	return a, true
}

func ownerOr(o string) string {
	if o == "" {
		return DefaultOwner
	}
	return o
}

// checkUnit compares a unit file with the unit's allowance. The file must be in the form the
// renderer writes (leading comment lines, then exactly what go-systemd serializes its options
// to), so that go-systemd and systemd cannot read it differently: no carriage return, no NUL,
// no comment that continues, no backslash but ExecStart's continuation.
func (p *Policy) checkUnit(field string, f File) problems {
	var ps problems
	name := path.Base(f.Path)
	a, ok := p.Units[name]
	if !ok {
		ps.add(field+".path", "%s is not a unit hardway renders", name)
		return ps
	}
	body := f.Data
	for bytes.HasPrefix(body, []byte("#")) {
		line, rest, _ := bytes.Cut(body, []byte("\n"))
		if bytes.HasSuffix(line, []byte("\\")) {
			ps.add(field, "%s: a comment line ends with a backslash, which systemd would continue", f.Path)
			return ps
		}
		body = rest
	}
	if bytes.ContainsAny(f.Data, "\r\x00") {
		ps.add(field, "%s: a carriage return or NUL, which hardway never renders", f.Path)
		return ps
	}
	opts, err := unit.DeserializeOptions(bytes.NewReader(body))
	if err != nil {
		ps.add(field, "%s: not a unit file: %v", f.Path, err)
		return ps
	}
	var canonical bytes.Buffer
	if _, err := canonical.ReadFrom(unit.Serialize(opts)); err != nil || !bytes.Equal(canonical.Bytes(), body) {
		ps.add(field, "%s: not in the form hardway renders (comments, spacing or line breaks differ), so systemd might read it otherwise", f.Path)
		return ps
	}
	for _, o := range opts {
		key := o.Section + "." + o.Name
		switch {
		case !a.Options[key]:
			ps.add(field, "%s sets %s=, which hardway's %s does not", f.Path, key, name)
		case key == "Service.ExecStart":
			ps.List = append(ps.List, a.checkExec(field, f.Path, name, o.Value).List...)
		case strings.ContainsAny(o.Value, "\\\n"):
			ps.add(field, "%s: %s= holds a backslash or a line break", f.Path, key)
		case a.Values[key] != nil && !a.Values[key][o.Value]:
			ps.add(field, "%s: %s=%s is not a value hardway renders for %s", f.Path, key, o.Value, name)
		}
	}
	return ps
}

// checkExec checks an ExecStart value: a program the renderer starts for the unit, then only
// --name=value flags it passes, each value plain.
func (a UnitAllowance) checkExec(field, file, name, value string) problems {
	var ps problems
	words := strings.Fields(strings.ReplaceAll(value, "\\\n", " ")) // systemd joins a continued line with a space
	var cmd []string
	for _, c := range a.Commands {
		if matchCommand(words, c) && len(c) > len(cmd) {
			cmd = c
		}
	}
	if cmd == nil {
		ps.add(field, "%s starts %q, not a program hardway renders for %s", file, strings.Join(words[:min(len(words), 2)], " "), name)
		return ps
	}
	for _, w := range words[len(cmd):] {
		flag, val, ok := strings.Cut(strings.TrimPrefix(w, "--"), "=")
		switch {
		case !strings.HasPrefix(w, "--") || !ok || !a.Flags[flag]:
			ps.add(field, "%s: ExecStart passes %q, not a flag hardway renders for %s", file, w, name)
		case !plainArg.MatchString(val):
			ps.add(field, "%s: ExecStart --%s: %q holds a character systemd would interpret", file, flag, val)
		}
	}
	return ps
}
