package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hardway-dev/hardway/units"
	"github.com/hardway-dev/hardway/units/supervise"
)

func init() { register(newDownCmd) }

func newDownCmd(g *globals) *cobra.Command {
	var purge, yes bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "down [--dir DIR] [--purge [--yes]]",
		Short: "Stop a running `hardway up` and undo what it did to this machine",
		Long: `hardway down stops the 'hardway up' running on DIR (the PID in DIR/up.lock): SIGTERM, so
it stops its components in reverse order, and SIGKILL after --timeout. Then, in this network
namespace (run it where 'up' ran), it removes what the node half left: the CNI bridge, the
iptables chains and rules of kube-proxy, the kubelet and the CNI plugins, and the kubelet's
empty pod cgroups. Mounts, pods, shims and containerd's runtime state lived in up's own
namespaces and went with it. --purge also deletes DIR, after asking (--yes: without asking).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if os.Geteuid() != 0 {
				return fmt.Errorf("hardway down needs root (as up did)")
			}
			dir, err := filepath.Abs(g.dir)
			if err != nil {
				return err
			}
			pid, err := supervise.Stop(cmd.Context(), dir, timeout)
			if err != nil {
				return err
			}
			if pid == 0 {
				fmt.Fprintf(g.stdout, "nothing runs on %s\n", dir)
			} else {
				fmt.Fprintf(g.stdout, "stopped hardway up (pid %d)\n", pid)
			}
			c, err := supervise.CleanHost(cmd.Context(), units.CNIBridge, "/sys/fs/cgroup")
			for _, d := range c.Done {
				fmt.Fprintln(g.stdout, d)
			}
			if err != nil {
				return err
			}
			_ = os.RemoveAll(filepath.Join(dir, upRun))
			if !purge {
				return nil
			}
			if !yes {
				fmt.Fprintf(g.stdout, "delete %s and everything in it (the cluster's CAs, keys and data)? [y/N] ", dir)
				line, _ := bufio.NewReader(g.stdin).ReadString('\n')
				if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
					fmt.Fprintln(g.stdout, "kept", dir)
					return nil
				}
			}
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
			fmt.Fprintln(g.stdout, "deleted", dir)
			return nil
		},
	}
	cmd.Flags().BoolVar(&purge, "purge", false, "also delete DIR, after asking")
	cmd.Flags().BoolVar(&yes, "yes", false, "with --purge: do not ask")
	cmd.Flags().DurationVar(&timeout, "timeout", 90*time.Second, "how long up may take to stop before it is killed")
	return cmd
}
