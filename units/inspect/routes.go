package inspect

import (
	"github.com/hardway-dev/hardway/units/routes"
)

// checkRoutes checks hardway's own `hardway routes` (pod-routes.service): exactly one of
// --config and --remove, and a --config file that units/routes reads, whose routes it lists.
func checkRoutes(c *checked) {
	if c.comp.Subcommand != "routes" {
		return
	}
	_, hasConfig := c.args.Value("config")
	remove := c.args.Bool("remove", false)
	if hasConfig == remove {
		c.add("routes-config-or-remove", "config", c.originOf("config"), "Give --config FILE to apply routes (ExecStart=) or --remove alone to delete them (ExecStop=).",
			"hardway routes needs either --config or --remove, not both and not neither; it exits with a usage error")
	}
	p, ok := c.args.Value("config")
	if !ok || c.args.Unresolved("config") || c.opt.FS == nil || p == "" {
		return
	}
	data, err := readFile(c.opt.FS, fsPath(p))
	if err != nil {
		return // file-missing or file-unreadable, from the flag's file check
	}
	f, err := routes.Parse(p, data)
	if err != nil {
		c.add("routes-config-unreadable", "config", c.originOf("config"), "Render the node's bundle again ('hardway init'); the file is hardway's own and not edited by hand.",
			"%v; pod-routes.service fails and pods on other nodes are unreachable", err)
		return
	}
	if len(f.Routes) == 0 {
		c.row(p, "routes", "(none)", "no other worker node has a pod range: nothing to route")
	}
	for _, r := range f.Routes {
		c.row(p, "route", r.Destination+" via "+r.Via, "the pods of node "+r.Node+", reached through its address")
	}
}
