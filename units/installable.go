package units

import (
	"io/fs"
	"path"
	"slices"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/pki"
	"github.com/hardway-dev/hardway/units/bundle"
	"github.com/hardway-dev/hardway/units/flags"
)

// Installable is the policy `hardway launch` holds bundles to: every node path the renderer
// writes for any node, with its kind and mode, every credential the catalogue places on a node,
// and every unit with the programs and options its file may have. It is read off the renderer
// itself, rendering one node of every role with every implementation, so a file a later
// renderer writes is allowed with it and nothing else is. What the cluster file may add is
// allowed by rule: a unit may pass any flag the catalogue knows for its component (extraArgs;
// values plain, as every flag's), and a bundle may hold config files of mode 0600
// directly in ExtraDir/<component>/ (extraFiles).
func Installable() (*bundle.Policy, error) {
	p := &bundle.Policy{Files: map[string]bundle.Allowed{}, Dirs: map[string]bundle.Allowed{}, Units: map[string]bundle.UnitAllowance{}}
	// The cluster file's extra files (configs.ExtraFile), each in its component's folder.
	for _, comp := range configs.Components {
		p.Dirs[ExtraDir+"/"+comp] = bundle.Allowed{Kind: bundle.KindConfig, Mode: bundle.Kinds[bundle.KindConfig], Owner: bundle.DefaultOwner}
	}
	roleSets := [][]string{
		{configs.RoleControlPlane, configs.RoleEtcd, configs.RoleWorker},
		{configs.RoleControlPlane, configs.RoleEtcd},
		{configs.RoleControlPlane},
		{configs.RoleControlPlane, configs.RoleWorker},
		{configs.RoleEtcd},
		{configs.RoleWorker},
	}
	for i := range 2 * len(roleSets) {
		roles, addr := roleSets[i/2], []string{"10.0.0.1", "127.0.0.1"}[i%2] // loopback renders flags of its own
		c := &configs.Cluster{Name: "installable", Nodes: []configs.Node{{Name: "node", Addresses: []string{addr}, Roles: roles}}}
		if !slices.Contains(roles, configs.RoleEtcd) { // a control plane needs an etcd somewhere
			c.Nodes = append(c.Nodes, configs.Node{Name: "etcd", Addresses: []string{"10.0.0.2"}, Roles: []string{configs.RoleEtcd}})
		}
		// Another worker, whose pods the node routes to.
		c.Nodes = append(c.Nodes, configs.Node{Name: "worker", Addresses: []string{"10.0.0.3"}, Roles: []string{configs.RoleWorker}})
		c.SetDefaults()
		for _, opt := range []Options{{}, {Implementation: map[Component]Implementation{Etcd: Hardway}}} {
			r, err := RenderNode(c, c.Nodes[0], opt)
			if err != nil {
				return nil, err
			}
			allow(p, r)
		}
		for _, nf := range pki.NodeFiles(c, c.Nodes[0].Name) {
			p.Files[nf.NodePath] = bundle.Allowed{Kind: NodeFileKind(nf), Mode: nf.Mode, Owner: bundle.DefaultOwner}
		}
	}
	return p, nil
}

// ProgramMode is the mode of a program a bundle carries.
const ProgramMode fs.FileMode = 0o755

// BundledPrograms are the programs a bundle may carry (`init --with-binaries`), by node path:
// every unit's program in BinDir, as Installable allows them.
func BundledPrograms() ([]string, error) {
	p, err := Installable()
	if err != nil {
		return nil, err
	}
	var out []string
	for path, a := range p.Files {
		if a.Kind == bundle.KindBinary {
			out = append(out, path)
		}
	}
	slices.Sort(out)
	return out, nil
}

// movable are the components whose program the cluster file may move (binaries.containerd):
// their program may be any file of that name.
var movable = map[Component]bool{Containerd: true}

// freeValues are unit options whose values vary by node and carry no behaviour of their own
// (ExecStart's are checked flag by flag).
var freeValues = map[string]bool{"Unit.Description": true, "Unit.Documentation": true, "Service.ExecStart": true}

// allow adds what r renders to p.
func allow(p *bundle.Policy, r *Rendered) {
	for _, f := range r.Files {
		p.Files[f.Path] = bundle.Allowed{Kind: f.Kind, Mode: f.Mode, Owner: bundle.DefaultOwner}
	}
	for _, u := range r.Units {
		cmd := u.Command
		if prog := cmd[0]; path.Dir(prog) == BinDir {
			// A bundle may carry the program a unit runs from hardway's BinDir
			// (`init --with-binaries`); a movable one (a distribution's package) it does not.
			p.Files[prog] = bundle.Allowed{Kind: bundle.KindBinary, Mode: ProgramMode, Owner: bundle.DefaultOwner}
		}
		if movable[u.Component] {
			cmd = append([]string{bundle.AnyDir + path.Base(cmd[0])}, cmd[1:]...)
		}
		a, ok := p.Units[u.Name]
		if !ok {
			a = bundle.UnitAllowance{Flags: map[string]bool{}, Options: map[string]bool{}, Values: map[string]map[string]bool{}}
		}
		if !slices.ContainsFunc(a.Commands, func(c []string) bool { return slices.Equal(c, cmd) }) {
			a.Commands = append(a.Commands, cmd)
		}
		for _, f := range u.Flags {
			a.Flags[f.Name] = true
		}
		// The cluster file's extra flags (extraArgs): any flag the catalogue knows for the
		// component, its value plain like every other.
		if comp := flags.Default().Component(string(u.Component)); comp != nil && u.Component != PodRoutes {
			for _, f := range comp.Flags {
				a.Flags[f.Name] = true
			}
		}
		for _, o := range u.Options {
			key := o.Section + "." + o.Name
			a.Options[key] = true
			if freeValues[key] {
				continue
			}
			if a.Values[key] == nil {
				a.Values[key] = map[string]bool{}
			}
			a.Values[key][o.Value] = true
		}
		p.Units[u.Name] = a
	}
}

// NodeFileKind is the bundle kind of a file the catalogue places on a node.
func NodeFileKind(nf pki.NodeFile) bundle.Kind {
	switch {
	case nf.Mode == pki.ModeSecret:
		return bundle.KindSecret
	case nf.Kind == pki.NodeCertificate:
		return bundle.KindCertificate
	}
	return bundle.KindConfig
}
