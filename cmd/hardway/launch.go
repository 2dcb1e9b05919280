package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/hardway-dev/hardway/bootstrap"
	hwaddons "github.com/hardway-dev/hardway/bootstrap/addons"
	"github.com/hardway-dev/hardway/bootstrap/nodes"
	"github.com/hardway-dev/hardway/bootstrap/rbac"
	"github.com/hardway-dev/hardway/units"
	"github.com/hardway-dev/hardway/units/addons"
	"github.com/hardway-dev/hardway/units/bundle"
	"github.com/hardway-dev/hardway/units/preflight"
	"github.com/hardway-dev/hardway/units/systemd"
)

func init() { register(newLaunchCmd) }

type launchOptions struct {
	node    string
	bundle  string
	root    string
	dryRun  bool
	timeout time.Duration
	socket  string

	trust            string
	artifacts        string
	insecureUnsigned bool
	rollback         bool
	ignorePreflight  []string
}

// launchPolicy is what a bundle may install: what the renderer writes. Tests of the command
// with bundles of their own replace it.
var launchPolicy = units.Installable

func newLaunchCmd(g *globals) *cobra.Command {
	o := &launchOptions{}
	cmd := &cobra.Command{
		Use:   "launch --node NAME [--bundle NODE.tar.gz|DIR] [--root DIR] [--dry-run]",
		Short: "On a node: install its bundle and start or restart its units over D-Bus, waiting for health",
		Long: `hardway launch runs on a node. It installs the node's bundle (NAME.tar.gz or
BUNDLE/nodes/NAME/, as 'hardway init' writes them; the archive is read in memory, never
unpacked) under --root, atomically and only the files that changed; the programs a bundle
references by hash ('init --with-binaries') are streamed from the artifact store beside it
(artifacts/sha256/<hash>, or --artifacts) to their node paths and checked on the way; then, over D-Bus, reloads systemd only if a unit file changed, enables the units, starts those not running,
restarts only those whose unit file or inputs changed, in dependency order (etcd, the API server,
the controllers, the kubelet and kube-proxy), and waits until each is healthy (etcd /health and
the API server's /readyz over mutual TLS, the kubelet's /healthz).

On the first control-plane node (its bundle alone carries the super-admin kubeconfig), once
the API server is healthy, launch applies the cluster's bootstrap RBAC with those credentials:
ClusterRoleBinding hardway:cluster-admins (the admin kubeconfig's group -> cluster-admin) and
hardway:apiserver-kubelet-client (the API server's kubelet client -> system:kubelet-api-admin),
creating what is missing and repairing what differs, and says so for each. Then it applies
the add-on manifests of the bundle (` + addons.Dir + `: CoreDNS) by server-side apply, saying
of each object whether it was created, configured or unchanged.

Before it installs anything, launch runs preflight checks (package units/preflight): on a
node with a kubelet, IP forwarding, bridge netfilter and no swap; every port a unit listens on
free unless its unit already runs; every unit's program present, executable and of a version
the bundle was rendered for under the Kubernetes version-skew policy. Errors stop launch, all
listed with their fixes; --ignore-preflight-errors=NAME,... (or all) makes named ones warnings.

A second launch with nothing changed touches nothing and says so. --dry-run prints the plan
and every preflight check, and exits 0 even when a check fails.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("hardway launch takes no arguments; give the node with --node")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return runLaunch(cmd.Context(), g, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.node, "node", "", "this node's name, as in the cluster file (required)")
	f.StringVar(&o.bundle, "bundle", "", "the node's bundle: its <node>.tar.gz, its nodes/<node>/ directory, or a directory holding nodes/ (default: --dir)")
	f.StringVar(&o.root, "root", "/", "install the node paths under this directory")
	f.BoolVar(&o.dryRun, "dry-run", false, "print what would change; write nothing, start nothing")
	f.DurationVar(&o.timeout, "timeout", 2*time.Minute, "how long each tier of units may take to become healthy")
	f.StringVar(&o.trust, "trust", "", "the cluster's bundle signing key (CLUSTER/"+bootstrap.SigningPub+"), trusted from now on; needed on a node's first launch")
	f.StringVar(&o.artifacts, "artifacts", "", "the artifact store of the programs the bundle references (default: artifacts/ beside the archive, or the cluster directory's)")
	f.BoolVar(&o.insecureUnsigned, "insecure-unsigned", false, "install a bundle without checking its signature (anyone who can hand this node a bundle gets root on it)")
	f.BoolVar(&o.rollback, "rollback", false, "reinstall the bundle this node ran before the current one (kept in "+systemd.PreviousBundle+")")
	f.StringSliceVar(&o.ignorePreflight, "ignore-preflight-errors", nil, "preflight checks whose errors are only warnings, by the names launch prints (Port-2379,Swap,...), or all")
	f.StringVar(&o.socket, "systemd-socket", "", "talk to the systemd manager at this private socket (e.g. a user manager's $XDG_RUNTIME_DIR/systemd/private) instead of the system one")
	return cmd
}

func runLaunch(ctx context.Context, g *globals, o *launchOptions) error {
	if o.node == "" {
		return usagef("--node is required: the name of this node in the cluster file")
	}
	if o.root == "" {
		return usagef(`--root is empty; give "/" to install on this machine's filesystem`)
	}
	if o.timeout <= 0 {
		return usagef("--timeout must be positive")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	state, err := systemd.OpenNodeState(o.root)
	switch {
	case err == nil:
		defer state.Close()
	case o.dryRun && errors.Is(err, fs.ErrNotExist) && !o.rollback:
		state = nil // a fresh root: nothing pinned yet, and a dry run keeps nothing
	default:
		return err
	}
	// The keys to trust: --trust's alone when given (it replaces what the node pinned), else the
	// one pinned at the last launch.
	trusted, err := state.Trusted()
	if err != nil {
		return err
	}
	if o.trust != "" {
		if trusted, err = bundle.ReadPublicKeyFile(o.trust); err != nil {
			return usagef("--trust: %v; give the cluster's %s", err, bootstrap.SigningPub)
		}
	}
	policy, err := launchPolicy()
	if err != nil {
		return err
	}
	var signer ed25519.PublicKey
	warn := func(msg string) { g.log.Warn(msg) }
	opts := bundle.Options{Verify: systemd.SignatureCheck(trusted, o.insecureUnsigned, &signer, warn), Policy: policy, Artifacts: o.artifacts}
	location := o.bundle
	switch {
	case o.rollback && o.bundle != "":
		return usagef("--rollback reinstalls the bundle kept on this node; it takes no --bundle")
	case o.rollback:
		if location, err = state.RollbackTarget(); err != nil {
			return err
		}
		// Launch's own copy, in a directory only root writes, was verified when it was
		// installed; it may predate a key rotation, so it is not checked against today's key.
		opts.Verify = nil
		g.log.Info("reinstalling a kept bundle", "bundle", location)
	case location == "":
		location = g.dir
	}
	b, err := bundle.Open(ctx, location, o.node, opts)
	if err != nil {
		return err
	}
	l := &systemd.Launcher{Root: o.root, Timeout: o.timeout, Log: g.log, DryRun: o.dryRun}
	mgr, err := connectSystemd(ctx, o.socket)
	switch {
	case err == nil:
		defer mgr.Close()
		l.Manager = mgr
	case o.dryRun:
		g.log.Warn("no systemd connection; the dry run assumes every unit is running", "err", err)
	default:
		return err
	}
	if o.socket == "" {
		l.Journal = journalctl
	}
	if err := runPreflight(ctx, g, o, b, l.Manager); err != nil {
		return err
	}
	rep, err := l.Launch(ctx, b)
	if rep != nil {
		rep.Describe(g.stdout)
	}
	if err != nil {
		if !o.dryRun {
			if merr := state.MarkFailed(); merr != nil {
				g.log.Warn("could not record the failed launch", "err", merr)
			}
		}
		return err
	}
	if !o.dryRun {
		// Trust and keep only what came up: a failed bundle is neither pinned nor a rollback target.
		if signer != nil {
			if err := state.Pin(signer); err != nil {
				return err
			}
		}
		if err := state.Keep(b); err != nil {
			return err
		}
	}
	if err := applyBootstrapRBAC(ctx, g, b, o.dryRun); err != nil {
		return err
	}
	if err := applyAddons(ctx, g, b, o.dryRun); err != nil {
		return err
	}
	return setPodCIDR(ctx, g, b, o.timeout, o.dryRun)
}

// setPodCIDR writes the node's pod range (its CNI configuration's, from the cluster file) into
// its Node's spec.podCIDR once the kubelet has registered it, with the kubelet's own
// credentials (NodeRestriction lets a node set its own, once), so every tool that reads the
// field agrees with the network. The controller-manager allocates none.
func setPodCIDR(ctx context.Context, g *globals, b *bundle.Bundle, timeout time.Duration, dryRun bool) error {
	kc, ok := b.File(units.KubeletKubeconfig)
	if !ok {
		return nil
	}
	cidr, err := units.PodCIDR(b)
	if err != nil || cidr == "" {
		return err
	}
	if dryRun {
		fmt.Fprintf(g.stdout, "would set node %s spec.podCIDR %s\n", b.Node, cidr)
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	changed, err := nodes.SetPodCIDR(wctx, kc.Data, "", b.Node, cidr)
	if err != nil {
		return fmt.Errorf("node %s: spec.podCIDR with %s: %w", b.Node, units.KubeletKubeconfig, err)
	}
	fmt.Fprintf(g.stdout, "node: %s spec.podCIDR %s %s\n", b.Node, cidr, map[bool]string{true: "set", false: "unchanged"}[changed])
	return nil
}

// runPreflight checks the node for b before anything is installed: the kernel and the ports of
// this machine, the programs where the systemd manager (mgr, nil in a dry run without one)
// finds them. A dry run prints every check and goes on; a launch prints the warnings and stops
// at an error.
func runPreflight(ctx context.Context, g *globals, o *launchOptions, b *bundle.Bundle, mgr systemd.Manager) error {
	host := &preflight.Host{ProgramRoot: "/"}
	if o.socket != "" {
		root, err := systemd.ManagerRoot(o.socket)
		if err != nil {
			return err
		}
		host.ProgramRoot = root
	}
	if mgr != nil {
		host.UnitRunning = func(ctx context.Context, unit string) (bool, error) {
			st, err := mgr.State(ctx, unit)
			return st.Running(), err
		}
	}
	rep, err := preflight.Run(ctx, host, b, preflight.Options{Ignore: o.ignorePreflight})
	if err != nil {
		return err
	}
	rep.Describe(g.stdout, o.dryRun)
	if err := rep.Err(); err != nil {
		if o.dryRun {
			fmt.Fprintf(g.stdout, "preflight: launch would stop here: %d error(s)\n", len(rep.Errors()))
			return nil
		}
		return err
	}
	return nil
}

// applyBootstrapRBAC applies the cluster's bootstrap RBAC when b is the first control-plane
// node's bundle, the only one that carries the super-admin kubeconfig. Launch has waited for
// the API server's /readyz by then; the bindings go to that API server (the local one, from its
// health probe) rather than to the cluster endpoint, which may be a load balancer not yet up.
func applyBootstrapRBAC(ctx context.Context, g *globals, b *bundle.Bundle, dryRun bool) error {
	f, ok := b.File(units.SuperAdminKubeconfig)
	if !ok {
		return nil
	}
	kubeconfig := f.Data
	if dryRun {
		for _, crb := range rbac.Bindings() {
			fmt.Fprintf(g.stdout, "would ensure clusterrolebinding %s (%s %s -> ClusterRole %s)\n", crb.Name, crb.Subjects[0].Kind, crb.Subjects[0].Name, crb.RoleRef.Name)
		}
		return nil
	}
	c, err := rbac.NewClient(kubeconfig, localAPIServer(b))
	if err != nil {
		return fmt.Errorf("bootstrap RBAC: %s in the bundle: %w", units.SuperAdminKubeconfig, err)
	}
	c.Log = g.log
	rep, err := c.Apply(ctx, rbac.Bindings())
	rep.Describe(g.stdout)
	if err != nil {
		return fmt.Errorf("bootstrap RBAC with %s: %w", units.SuperAdminKubeconfig, err)
	}
	return nil
}

// localAPIServer is the base URL of the API server b's units run, from its health probe; "" when
// b runs none.
func localAPIServer(b *bundle.Bundle) string {
	for _, u := range b.Units {
		if h := u.Health; h != nil && h.Kind == bundle.HealthAPIServer {
			if hu, err := url.Parse(h.URL); err == nil {
				return (&url.URL{Scheme: hu.Scheme, Host: hu.Host}).String()
			}
		}
	}
	return ""
}

// applyAddons applies, after the bootstrap RBAC and with the same credentials and API server,
// the add-on manifests in b (its files under addons.Dir, in path order) and says what it did
// to each object; --dry-run lists the objects without talking to the API server.
func applyAddons(ctx context.Context, g *globals, b *bundle.Bundle, dryRun bool) error {
	f, ok := b.File(units.SuperAdminKubeconfig)
	if !ok {
		return nil
	}
	var manifests []hwaddons.Manifest
	for _, m := range b.Files {
		if m.Kind == bundle.KindConfig && strings.HasPrefix(m.Path, addons.Dir+"/") {
			manifests = append(manifests, hwaddons.Manifest{Path: m.Path, Data: m.Data})
		}
	}
	if len(manifests) == 0 {
		return nil
	}
	slices.SortFunc(manifests, func(a, b hwaddons.Manifest) int { return strings.Compare(a.Path, b.Path) })
	if dryRun {
		objs, err := hwaddons.Objects(manifests...)
		if err != nil {
			return err
		}
		for _, o := range objs {
			fmt.Fprintf(g.stdout, "would apply %s (%s)\n", o, o.Manifest)
		}
		return nil
	}
	c, err := hwaddons.NewClient(f.Data, localAPIServer(b))
	if err != nil {
		return fmt.Errorf("add-ons: %s in the bundle: %w", units.SuperAdminKubeconfig, err)
	}
	c.Log = g.log
	rep, err := c.Apply(ctx, manifests...)
	rep.Describe(g.stdout)
	if err != nil {
		return fmt.Errorf("add-ons with %s: %w", units.SuperAdminKubeconfig, err)
	}
	return nil
}

func connectSystemd(ctx context.Context, socket string) (*systemd.DBus, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if socket != "" {
		return systemd.ConnectPrivate(cctx, socket)
	}
	return systemd.ConnectSystem(cctx)
}

// journalctl returns the last lines of a unit's journal.
func journalctl(ctx context.Context, unit string, lines int) ([]string, error) {
	out, err := exec.CommandContext(ctx, "journalctl", "--no-pager", "-o", "short-iso", "-n", strconv.Itoa(lines), "-u", unit).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("journalctl: %s", strings.TrimSpace(string(ee.Stderr)))
		}
		return nil, err
	}
	return strings.Split(strings.TrimRight(string(out), "\n"), "\n"), nil
}
