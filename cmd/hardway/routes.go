package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/hardway-dev/hardway/internal/rootfs"
	"github.com/hardway-dev/hardway/units/routes"
)

func init() { register(newRoutesCmd) }

// maxRoutesFile bounds the pod-routes file: a route is under 100 bytes, so 1 MiB holds
// thousands of nodes.
const maxRoutesFile = 1 << 20

func newRoutesCmd(g *globals) *cobra.Command {
	var config string
	var remove bool
	cmd := &cobra.Command{
		Use:   "routes (--config FILE | --remove)",
		Short: "On a node: route the other nodes' pod ranges to them (pod-routes.service runs it)",
		Long: `hardway routes applies the node's pod-routes file (rendered by 'hardway init' at
/etc/hardway/pod-routes.yaml): each other worker node's pod range via that node's address,
the routes the classic hard-way guide adds by hand. Routes hardway installed and the file no
longer lists (a node that left) are deleted; other routes are never touched. --remove deletes
every route hardway installed: pod-routes.service runs it when it stops.`,
		Example: "  hardway routes --config /etc/hardway/pod-routes.yaml\n  hardway routes --remove",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var changes []routes.Change
			switch {
			case remove == (config != ""):
				return &usageError{fmt.Errorf("give either --config FILE or --remove (see %q)", cmd.CommandPath()+" --help")}
			case remove:
				var err error
				if changes, err = routes.Remove(); err != nil {
					return err
				}
			default:
				data, err := readRoutesFile(config)
				if err != nil {
					return err
				}
				f, err := routes.Parse(config, data)
				if err != nil {
					return err
				}
				if changes, err = routes.Sync(f); err != nil {
					return err
				}
			}
			for _, c := range changes {
				fmt.Fprintf(g.stdout, "route: %s\n", c)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&config, "config", "", "the pod-routes file to apply")
	cmd.Flags().BoolVar(&remove, "remove", false, "delete every route hardway installed")
	return cmd
}

// readRoutesFile reads the pod-routes file through internal/rootfs: bounded, a regular file,
// no link followed on the way (the file is root's, and `hardway routes` runs as root).
func readRoutesFile(name string) ([]byte, error) {
	if !filepath.IsAbs(name) {
		abs, err := filepath.Abs(name)
		if err != nil {
			return nil, err
		}
		name = abs
	}
	root, err := rootfs.Open("/")
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return root.ReadFile(filepath.Clean(name), maxRoutesFile)
}
