package units

import (
	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/pki"
	"github.com/hardway-dev/hardway/units/bundle"
)

// Installable is the policy `hardway launch` holds bundles to: every node path the renderer
// writes for any node, with its kind and mode, every credential the catalogue places on a node,
// and every unit with the programs and options its file may have. It is read off the renderer
// itself, rendering one node of every role with every implementation, so a file a later
// renderer writes is allowed with it and nothing else is.
func Installable() (*bundle.Policy, error) {
	c := &configs.Cluster{Name: "installable", Nodes: []configs.Node{{
		Name: "node", Addresses: []string{"10.0.0.1"},
		Roles: []string{configs.RoleControlPlane, configs.RoleEtcd, configs.RoleWorker},
	}}}
	c.SetDefaults()
	p := &bundle.Policy{Files: map[string]bundle.Allowed{}, Units: map[string]bundle.UnitAllowance{}}
	for _, opt := range []Options{{}, {Implementation: map[Component]Implementation{Etcd: Hardway}}} {
		r, err := RenderNode(c, c.Nodes[0], opt)
		if err != nil {
			return nil, err
		}
		for _, f := range r.Files {
			p.Files[f.Path] = bundle.Allowed{Kind: f.Kind, Mode: f.Mode}
		}
		for _, u := range r.Units {
			a, ok := p.Units[u.Name]
			if !ok {
				a = bundle.UnitAllowance{Options: map[string]bool{}}
			}
			a.Commands = append(a.Commands, u.Command)
			for _, o := range u.Options {
				a.Options[o.Section+"."+o.Name] = true
			}
			p.Units[u.Name] = a
		}
	}
	for _, nf := range pki.NodeFiles(c, c.Nodes[0].Name) {
		p.Files[nf.NodePath] = bundle.Allowed{Kind: NodeFileKind(nf), Mode: nf.Mode}
	}
	return p, nil
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
