package supervise

import (
	"bytes"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/coreos/go-systemd/v22/unit"

	"github.com/hardway-dev/hardway/units/bundle"
	"github.com/hardway-dev/hardway/units/systemd"
)

// Process is one unit of a bundle as a child process.
type Process struct {
	// Name is the unit's name without ".service": the log file's name.
	Name string
	// Unit is the unit's name, "kube-apiserver.service".
	Unit string
	// Argv is the unit's ExecStart, word for word.
	Argv []string
	// Tier is the start tier: every process of tier n is healthy before tier n+1 starts.
	Tier int
	// Health is the unit's probe from the manifest; nil: running is enough.
	Health *bundle.Health
}

// Plan returns the processes of b's units, in start order. skip, when not nil, leaves units
// out (pod-routes.service, which a single node does not need).
func Plan(b *bundle.Bundle, skip func(unit string) bool) ([]Process, error) {
	var us []bundle.Unit
	for _, u := range b.Units {
		if skip == nil || !skip(u.Name) {
			us = append(us, u)
		}
	}
	tiers, err := systemd.Tiers(us)
	if err != nil {
		return nil, err
	}
	var out []Process
	for i, tier := range tiers {
		for _, u := range tier {
			f, ok := b.File(u.UnitPath())
			if !ok {
				return nil, fmt.Errorf("bundle of %s: unit %s has no unit file %s; render the bundle again with `hardway init`", b.Node, u.Name, u.UnitPath())
			}
			argv, err := ExecStart(f.Data)
			if err != nil {
				return nil, fmt.Errorf("bundle of %s: %s: %w", b.Node, u.UnitPath(), err)
			}
			out = append(out, Process{Name: strings.TrimSuffix(u.Name, ".service"), Unit: u.Name, Argv: argv, Tier: i, Health: u.Health})
		}
	}
	return out, nil
}

// ExecStart returns the words of a unit file's one ExecStart= as hardway renders it: plain
// words, a backslash-newline between flags, no quoting and no specifiers (the bundle policy
// holds unit files to this form).
func ExecStart(unitFile []byte) ([]string, error) {
	opts, err := unit.DeserializeOptions(bytes.NewReader(unitFile))
	if err != nil {
		return nil, err
	}
	var found []string
	n := 0
	for _, o := range opts {
		if o.Section != "Service" || o.Name != "ExecStart" {
			continue
		}
		n++
		v := strings.ReplaceAll(o.Value, "\\\n", " ")
		if strings.ContainsAny(v, `"'%$;`) || strings.HasPrefix(strings.TrimSpace(v), "-") || strings.HasPrefix(strings.TrimSpace(v), "@") {
			return nil, fmt.Errorf("ExecStart=%q: quoting, specifiers and prefixes are not what hardway renders; render the unit again with `hardway init`", o.Value)
		}
		found = strings.Fields(v)
	}
	switch {
	case n == 0 || len(found) == 0:
		return nil, fmt.Errorf("no ExecStart= in [Service]")
	case n > 1:
		return nil, fmt.Errorf("%d ExecStart= lines; a supervised unit has one", n)
	case !path.IsAbs(found[0]):
		return nil, fmt.Errorf("ExecStart=%s: the program is not an absolute path", found[0])
	}
	return found, nil
}

// Node directories: the node paths a supervised node's files and state live under, each bound
// from the node root in the cluster directory. Persistent ones keep their content from one run
// to the next (etcd's data, the kubelet's and containerd's state); Runtime ones are emptied at
// every start, as a reboot empties /run.
var (
	PersistentDirs = []string{
		"/etc/cni",
		"/etc/containerd",
		"/etc/hardway",
		"/etc/kubernetes",
		"/var/lib/cni",
		"/var/lib/containerd",
		"/var/lib/etcd",
		"/var/lib/kube-proxy",
		"/var/lib/kubelet",
		"/var/log/containers",
		"/var/log/kubernetes",
		"/var/log/pods",
	}
	RuntimeDirs = []string{
		"/run/containerd",
		"/run/netns",
	}
)

// ProgramDir is where the units' upstream programs are bound: the renderer's BinDir.
const ProgramDir = "/usr/local/bin"

// Mount is one bind mount of the supervised node's view: Source (a host path) at Target (a
// node path).
type Mount struct {
	Target, Source string
	// File: a file bound over a file; otherwise a directory over a directory.
	File bool
}

// Mounts returns the binds for a node root at rootDir (the host directory the bundle is
// installed under): every node directory, then ProgramDir (rootDir's, holding an empty file
// for each program), then each program in programs (node path -> host path). Every file of b
// outside SystemdDir must be under a node directory, or the node would not see it.
func Mounts(b *bundle.Bundle, rootDir string, programs map[string]string) ([]Mount, error) {
	dirs := slices.Concat(PersistentDirs, RuntimeDirs)
	for _, f := range b.Files {
		if strings.HasPrefix(f.Path, bundle.SystemdDir+"/") {
			continue
		}
		if !slices.ContainsFunc(dirs, func(d string) bool { return f.Path == d || strings.HasPrefix(f.Path, d+"/") }) {
			return nil, fmt.Errorf("bundle of %s: %s is under none of the directories `hardway up` binds (%s); add its directory to supervise.PersistentDirs", b.Node, f.Path, strings.Join(dirs, ", "))
		}
	}
	var out []Mount
	for _, d := range dirs {
		out = append(out, Mount{Target: d, Source: path.Join(rootDir, d)})
	}
	out = append(out, Mount{Target: ProgramDir, Source: path.Join(rootDir, ProgramDir)})
	for _, target := range slices.Sorted(maps.Keys(programs)) {
		if path.Dir(target) != ProgramDir {
			return nil, fmt.Errorf("program %s: not in %s, where `hardway up` binds programs", target, ProgramDir)
		}
		out = append(out, Mount{Target: target, Source: programs[target], File: true})
	}
	return out, nil
}

// Programs returns the node paths of the programs in ProgramDir that procs run (by their
// argv[0]): those `hardway up` must find and bind.
func Programs(procs []Process) []string {
	var out []string
	for _, p := range procs {
		if path.Dir(p.Argv[0]) == ProgramDir && !slices.Contains(out, p.Argv[0]) {
			out = append(out, p.Argv[0])
		}
	}
	slices.Sort(out)
	return out
}
