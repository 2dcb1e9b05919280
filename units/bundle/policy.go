package bundle

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
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
	// Units are the units a bundle may run, by name.
	Units map[string]UnitAllowance
}

// Allowed is one node path's kind and widest mode.
type Allowed struct {
	Kind Kind
	Mode fs.FileMode
}

// UnitAllowance is what one unit's file may say.
type UnitAllowance struct {
	// Commands are the programs (with their leading arguments) its ExecStart may start.
	Commands [][]string
	// Options are the "Section.Name" keys its file may set; any other (an ExecStartPre=, a
	// User=) is refused.
	Options map[string]bool
}

// Check reports every entry of b the policy does not allow, each with its field path.
func (p *Policy) Check(b *Bundle) error {
	var ps problems
	for i, f := range b.Files {
		field := fmt.Sprintf("files[%d]", i)
		a, ok := p.Files[f.Path]
		switch {
		case !ok:
			ps.add(field+".path", "%s is not a path hardway renders for any node; a bundle installs only what `hardway init` writes", f.Path)
			continue
		case f.Kind != a.Kind:
			ps.add(field+".kind", "%s is a %s, not a %s", f.Path, a.Kind, f.Kind)
		case f.Mode.Perm()&^a.Mode != 0 || f.Mode&^fs.ModePerm != 0:
			ps.add(field+".mode", "%s: %04o is wider than its %04o", f.Path, f.Mode, a.Mode)
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

// checkUnit compares a unit file's options and ExecStart with the unit's allowance.
func (p *Policy) checkUnit(field string, f File) problems {
	var ps problems
	name := path.Base(f.Path)
	a, ok := p.Units[name]
	if !ok {
		ps.add(field+".path", "%s is not a unit hardway renders", name)
		return ps
	}
	opts, err := unit.DeserializeOptions(bytes.NewReader(f.Data))
	if err != nil {
		ps.add(field, "%s: not a unit file: %v", f.Path, err)
		return ps
	}
	for _, o := range opts {
		key := o.Section + "." + o.Name
		if !a.Options[key] {
			ps.add(field, "%s sets %s=, which hardway's %s does not", f.Path, key, name)
			continue
		}
		if key != "Service.ExecStart" {
			continue
		}
		words := strings.Fields(o.Value)
		if !slices.ContainsFunc(a.Commands, func(c []string) bool {
			return len(words) >= len(c) && slices.Equal(words[:len(c)], c)
		}) {
			ps.add(field, "%s starts %q, not a program hardway renders for %s", f.Path, strings.Join(words[:min(len(words), 2)], " "), name)
		}
	}
	return ps
}
