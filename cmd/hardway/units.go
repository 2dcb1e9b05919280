package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hardway-dev/hardway/bootstrap"
	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/units"
)

func init() { register(newUnitsCmd) }

func newUnitsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "units",
		Short: "Review the systemd units and config files hardway renders for each node",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usagef("units needs a subcommand: show NODE (see 'hardway units --help')")
		},
	}
	cmd.AddCommand(newUnitsShowCmd(g))
	return cmd
}

func newUnitsShowCmd(g *globals) *cobra.Command {
	var impls map[string]string
	var output string
	cmd := &cobra.Command{
		Use:   "show NODE [--config FILE]",
		Short: "Print every unit and config file rendered for NODE, with its path on the node",
		Long: `show renders, for one node of the cluster file, the systemd units and the configuration files
they read (kubelet, kube-proxy, scheduler, audit policy) and prints each one's path on the node,
mode and content, so they can be reviewed before the bundles are distributed. It writes nothing.
Certificates, keys and kubeconfigs are not shown: the units only name their paths. Without
--config it reads the cluster model 'hardway init' kept in DIR/cluster.yaml.`,
		Example: "  hardway units show cp-1 --config configs/examples/ha.yaml\n" +
			"  hardway units show node1 --config configs/examples/single.yaml --implementation etcd=hardway",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("units show takes one NODE, the name of a node in the cluster file (got %d arguments)", len(args))
			}
			return nil
		},
		ValidArgsFunction: completeNodeNames(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			c, err := clusterForDir(g, cmd.Flags())
			if err != nil {
				return err
			}
			if len(impls) > 0 && c.Implementations == nil {
				c.Implementations = map[string]string{}
			}
			for comp, impl := range impls {
				c.Implementations[comp] = impl
			}
			for _, p := range c.Validate().Errors() {
				if comp, ok := strings.CutPrefix(p.Where, "implementations."); ok {
					return usagef("--implementation %s=%s: %s; %s", comp, c.Implementations[comp], p.Message, p.Fix)
				}
			}
			node, ok := c.Node(args[0])
			if !ok {
				return usagef("%s: no node %q; the nodes are: %s", g.configFile, args[0], nodeNames(c))
			}
			opt, err := bootstrap.RenderOptions(os.DirFS(g.dir), c)
			if err != nil {
				return err
			}
			r, err := units.RenderNode(c, node, opt)
			if err != nil {
				return err
			}
			if output != "table" {
				files := []unitFileView{}
				for _, f := range r.Files {
					files = append(files, unitFileView{Path: f.Path, Mode: fmt.Sprintf("%04o", f.Mode.Perm()), Content: string(f.Data)})
				}
				return printOutput(g.stdout, output, unitsView{Node: node.Name, Files: files}, nil)
			}
			w := g.stdout
			for i, f := range r.Files {
				if i > 0 {
					fmt.Fprintln(w)
				}
				fmt.Fprintf(w, "==> %s (mode %04o) <==\n", f.Path, f.Mode.Perm())
				w.Write(f.Data)
				if len(f.Data) > 0 && f.Data[len(f.Data)-1] != '\n' {
					fmt.Fprintln(w)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringToStringVar(&impls, "implementation", nil,
		"COMPONENT=IMPL pairs choosing the program a unit runs, over the cluster file's implementations: upstream (default) or hardway (etcd)")
	addConfigFlags(cmd.Flags())
	addOutputFlag(cmd, &output)
	return cmd
}

// unitsView is 'units show -o json|yaml': each file's path on the node, mode and content.
type unitsView struct {
	Node  string         `json:"node"`
	Files []unitFileView `json:"files"`
}

type unitFileView struct {
	Path    string `json:"path"`
	Mode    string `json:"mode"`
	Content string `json:"content"`
}

func nodeNames(c *configs.Cluster) string {
	names := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		names[i] = n.Name
	}
	return strings.Join(names, ", ")
}
