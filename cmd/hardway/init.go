package main

import (
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hardway-dev/hardway/bootstrap"
	"github.com/hardway-dev/hardway/internal/fslock"
)

func init() { register(newInitCmd) }

func newInitCmd(g *globals) *cobra.Command {
	var dryRun, force, rotate bool
	var withBinaries, output string
	cmd := &cobra.Command{
		Use:   "init [--config FILE] [--dir DIR]",
		Short: "Create or bring up to date a cluster directory: PKI, kubeconfigs, encryption config",
		Long: `init reads the cluster file and makes DIR hold everything the cluster needs: the CAs, every
component certificate (DIR/pki, kubeadm's file names), a kubeconfig per component
(DIR/kubeconfigs), an encryption configuration for secrets at rest, and a bundle per node
(DIR/nodes), signed with the cluster's bundle signing key (DIR/signing/bundle.key; nodes trust
DIR/signing/bundle.pub, given once to 'hardway launch --trust').

With --with-binaries BINDIR (such as the directory 'hardway binaries fetch' prints), the bundles
carry the programs their units run (kube-apiserver, kubelet ... by those names in BINDIR): each
is kept once in DIR/artifacts/sha256/<hash> and each node's manifest references, by hash, only
the ones its units run (a worker gets kubelet and kube-proxy), so the signature covers them.
'hardway launch' streams them to /usr/local/bin/<name>, checking the hash. Later runs keep
them (DIR/artifacts/binaries.json records them); remove that file to build bundles without.

Running it again writes nothing when nothing changed. When the cluster file changed, it reissues
only what drifted (a new node, a new SAN, a changed subject), saying why, and keeps the files it
replaces in DIR/backup/<timestamp>/. An existing CA or key is never replaced without --force.

Without --config, init reads DIR/cluster.yaml, the resolved cluster file an earlier init kept;
a first run needs --config.`,
		Example: "  hardway init --config configs/examples/ha.yaml --dir ./cluster\n  hardway init --config cluster.yaml --dry-run",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			if err := useKeptClusterFile(g); err != nil {
				return err
			}
			c, err := loadCluster(g, cmd.Flags())
			if err != nil {
				return err
			}
			unlock, err := lockUnlessDryRun(g, dryRun)
			if err != nil {
				return err
			}
			defer unlock()
			now := time.Now()
			progress := newProgress(g, "issuing certificates")
			plan, err := bootstrap.Build(os.DirFS(g.dir), c, bootstrap.Options{
				Now: now, Rand: rand.Reader, Force: force, Progress: progress.update, RotateSigningKey: rotate,
				WithBinaries: withBinaries,
			})
			progress.done()
			if err != nil {
				return err
			}
			g.log.Debug("planned", "changes", len(plan.Changes), "unchanged", plan.Unchanged, "took", time.Since(now))
			if output != "table" {
				return applyPlanAs(g, output, plan, now, dryRun)
			}
			return applyPlan(g, plan, now, dryRun)
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the plan and write nothing")
	cmd.Flags().BoolVar(&force, "force", false, "replace CAs and keys that no longer match the configuration, and reissue certificates signed by another CA")
	cmd.Flags().StringVar(&withBinaries, "with-binaries", "", "a directory of the programs the bundles carry (kube-apiserver, kubelet ...), kept once in DIR/artifacts and referenced by hash")
	cmd.Flags().BoolVar(&rotate, "rotate-signing-key", false, "replace the bundle signing key with a new one that the old one endorses, so nodes that trust the old key accept the new bundles (the old key goes to backup/)")
	addConfigFlags(cmd.Flags())
	addOutputFlag(cmd, &output)
	return cmd
}

// useKeptClusterFile makes init without --config read DIR/cluster.yaml, the resolved cluster
// model an earlier init kept there; on a first run, with no such file, --config is required.
func useKeptClusterFile(g *globals) error {
	if g.configFile != "" {
		return nil
	}
	kept := filepath.Join(g.dir, bootstrap.ClusterFile)
	if _, err := os.Stat(kept); err != nil {
		return usagef("--config is required: the cluster file, e.g. --config configs/examples/single.yaml (without it, init reads %s, which an earlier init keeps, and there is none)", kept)
	}
	g.configFile = kept
	fmt.Fprintf(g.stderr, "note: no --config: using %s, the cluster file an earlier init kept\n", kept)
	return nil
}

// lockUnlessDryRun takes the cluster directory's lock for a run that writes it; a dry run writes
// nothing, so it takes no lock (creating the lock file would be a write, and a dry run must not be
// refused while another run holds the lock). The plan it prints reads files that are each written
// whole, but may be stale if that other run is still writing.
func lockUnlessDryRun(g *globals, dryRun bool) (unlock func(), err error) {
	if dryRun {
		return func() {}, nil
	}
	lock, err := lockForWriting(g)
	if err != nil {
		return nil, err
	}
	return func() { lock.Unlock() }, nil
}

// lockForWriting takes the cluster directory's lock for a run that writes it and says how many
// temporary files of killed runs it removed.
func lockForWriting(g *globals) (*fslock.Lock, error) {
	lock, removed, err := bootstrap.Lock(g.dir)
	if err != nil {
		return nil, err
	}
	if len(removed) > 0 {
		fmt.Fprintf(g.stderr, "note: removed %d temporary file(s) that killed runs left in %s\n", len(removed), g.dir)
		for _, p := range removed {
			g.log.Debug("removed a stale temporary file", "path", p)
		}
	}
	return lock, nil
}

// reportHandEdits says which files of the bundle folders the plan replaces were edited by hand,
// and where the edited copies went (backupDir; "" before the plan is applied).
func reportHandEdits(g *globals, plan *bootstrap.Plan, backupDir string) {
	for _, h := range plan.HandEdits {
		fmt.Fprintf(g.stderr, "warning: %s\n", h.Message(backupDir))
	}
}

// describeLimit is how many changes are listed one by one; a longer plan is summarized unless -v.
const describeLimit = 300

// applyPlan prints the plan and, unless dryRun, writes it.
func applyPlan(g *globals, plan *bootstrap.Plan, now time.Time, dryRun bool) error {
	for _, n := range plan.Notes {
		fmt.Fprintf(g.stderr, "note: %s\n", n)
	}
	plan.Notes = nil
	if plan.Empty() {
		fmt.Fprintf(g.stdout, "%s is up to date: nothing to write (%d files checked)\n", g.dir, plan.Unchanged)
		return nil
	}
	if len(plan.Changes) > describeLimit && !g.verbose {
		plan.Summarize(g.stdout)
	} else {
		plan.Describe(g.stdout)
	}
	if dryRun {
		reportHandEdits(g, plan, "")
		fmt.Fprintf(g.stdout, "dry run: %d files would be written in %s\n", len(plan.Changes), g.dir)
		printNextSteps(g.stdout, plan.Nodes, true)
		return nil
	}
	start := time.Now()
	res, err := bootstrap.Apply(g.dir, plan, bootstrap.ApplyOptions{Now: now})
	g.log.Debug("applied", "written", len(res.Written), "took", time.Since(start))
	if err != nil {
		return fmt.Errorf("%w (files written before the error are complete; run again to finish)", err)
	}
	reportHandEdits(g, plan, res.BackupDir)
	msg := fmt.Sprintf("wrote %d files in %s", len(res.Written), g.dir)
	if len(res.Restored) > 0 {
		msg += fmt.Sprintf("; restored the mode of %d file(s) and folder(s)", len(res.Restored))
	}
	if res.BackupDir != "" {
		msg += fmt.Sprintf("; replaced files are in %s", res.BackupDir)
	}
	fmt.Fprintln(g.stdout, msg)
	printNextSteps(g.stdout, plan.Nodes, false)
	return nil
}

// printNextSteps says which nodes' bundles changed and what 'hardway launch' will start and
// restart on each, once the node has its new bundle.
func printNextSteps(w io.Writer, nodes []bootstrap.NodeChange, dryRun bool) {
	if len(nodes) == 0 {
		return
	}
	verb := map[bool]string{false: "changed", true: "would change"}[dryRun]
	fmt.Fprintf(w, "next: %d node bundle(s) %s; copy each to its node and run 'hardway launch --node NODE --bundle NODE.tar.gz' there:\n", len(nodes), verb)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, n := range nodes {
		what := fmt.Sprintf("%d file(s) changed", len(n.Files))
		if n.New {
			what = "new bundle"
		}
		var does []string
		if len(n.Start) > 0 {
			does = append(does, "starts "+strings.Join(n.Start, ", "))
		}
		if len(n.Restart) > 0 {
			does = append(does, "restarts "+strings.Join(n.Restart, ", "))
		}
		if len(does) == 0 {
			does = append(does, "restarts no unit")
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s; launch %s\n", n.Node, n.Archive, what, strings.Join(does, " and "))
	}
	tw.Flush()
}
