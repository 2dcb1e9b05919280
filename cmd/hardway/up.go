package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/hardway-dev/hardway/apiserver/etcdserver"
	"github.com/hardway-dev/hardway/bootstrap"
	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/internal/atomicfile"
	"github.com/hardway-dev/hardway/internal/rootfs"
	"github.com/hardway-dev/hardway/units"
	"github.com/hardway-dev/hardway/units/bundle"
	"github.com/hardway-dev/hardway/units/preflight"
	"github.com/hardway-dev/hardway/units/supervise"
	"github.com/hardway-dev/hardway/units/systemd"
)

func init() {
	register(newUpCmd)
	register(newSuperviseCmd)
}

type upOptions struct {
	binDir           string
	nodeIP           string
	controlPlaneOnly bool
	timeout          time.Duration
}

// upRoot is the node root in the cluster directory: the bundle installed, and the components'
// state.
const upRoot = "root"

// upRun holds what one run of `up` leaves for the next and for `hardway down`.
const upRun = "run"

func newUpCmd(g *globals) *cobra.Command {
	o := &upOptions{}
	cmd := &cobra.Command{
		Use:   "up [--dir DIR] [--bin-dir DIR] [--node-ip IP] [--control-plane-only]",
		Short: "Run a whole single-node cluster on this machine, supervised, without systemd",
		Long: `hardway up makes DIR a single-node cluster directory exactly as 'hardway init' would
(from --config when given, else DIR/cluster.yaml of an earlier run, else defaults: the node
named after this host, at --node-ip or the address of the interface holding the default
route), then runs the node's rendered units as child processes: etcd ('hardway etcd'), the
real kube-apiserver, kube-controller-manager and kube-scheduler and, unless
--control-plane-only, containerd, the kubelet and kube-proxy. Each command line is byte for
byte its unit's ExecStart. The children run in private mount and PID namespaces: the node's
files are bound at their node paths from DIR/root (where their state persists, so 'up' again
resumes), and nothing outlives the supervisor.

It detects the host (cgroup v1 or v2, systemd as PID 1, CAP_SYS_RESOURCE) and chooses the
node half's settings, waits for each tier's health, applies the bootstrap RBAC and the add-ons,
and prints the KUBECONFIG to use. Output goes to DIR/logs/<component>.log. A component that
exits is restarted with backoff. Ctrl-C or SIGTERM (or 'hardway down') stops everything in
reverse order. Needs root.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runUp(cmd, g, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.binDir, "bin-dir", "", "look for kube-apiserver, kube-controller-manager, kube-scheduler, kubelet and kube-proxy here before PATH")
	f.StringVar(&o.nodeIP, "node-ip", "", "the node's address (default: the address of the interface holding the default route)")
	f.BoolVar(&o.controlPlaneOnly, "control-plane-only", false, "run etcd and the control plane only: no containerd, kubelet or kube-proxy")
	f.DurationVar(&o.timeout, "timeout", 5*time.Minute, "how long each tier may take to become healthy")
	addConfigFlags(f)
	return cmd
}

func runUp(cmd *cobra.Command, g *globals, o *upOptions) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	if os.Geteuid() != 0 {
		return errors.New("hardway up needs root (mount and PID namespaces, the node's network settings); run it with sudo")
	}
	dir, err := filepath.Abs(g.dir)
	if err != nil {
		return err
	}
	g.dir = dir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	lock, err := supervise.Lock(dir)
	if err != nil {
		return err
	}
	defer lock.Unlock()

	// The cluster: --config, else the resolved cluster.yaml of an earlier run, else nothing.
	base := g.configFile
	if base == "" {
		if _, err := os.Stat(filepath.Join(dir, "cluster.yaml")); err == nil {
			base = filepath.Join(dir, "cluster.yaml")
		}
	}
	c := &configs.Cluster{}
	if base != "" {
		if c, err = decodeCluster(base, cmd.Flags(), os.Environ()); err != nil {
			return err
		}
	}
	host, err := supervise.DetectHost()
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "host: cgroup %s, PID 1 %s, CAP_SYS_RESOURCE %s\n",
		map[bool]string{true: "v2", false: "v1"}[host.CgroupV2], map[bool]string{true: "is systemd", false: "is not systemd"}[host.SystemdInit],
		map[bool]string{true: "held", false: "missing"}[host.SysResource])
	var addr netip.Addr
	if o.nodeIP != "" {
		if addr, err = netip.ParseAddr(o.nodeIP); err != nil {
			return usagef("--node-ip %q: not an IP address", o.nodeIP)
		}
	} else if addr, err = supervise.DefaultRouteAddress(); err != nil {
		return err
	}
	hostname, _ := os.Hostname()
	notes, err := supervise.SingleNode(c, supervise.NodeOptions{Name: supervise.NodeName(hostname), Address: addr, ControlPlaneOnly: o.controlPlaneOnly, Host: host})
	if err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintf(g.stdout, "chose: %s\n", n)
	}
	c.SetDefaults()
	ps := c.Validate()
	if err := ps.Err(); err != nil {
		return fmt.Errorf("the single-node cluster: %w", err)
	}
	node := c.Nodes[0].Name
	fmt.Fprintf(g.stdout, "node: %s at %s\n", node, addr)

	// The cluster directory, exactly as init makes it.
	wlock, err := lockForWriting(g)
	if err != nil {
		return err
	}
	now := time.Now()
	plan, err := bootstrap.Build(os.DirFS(dir), c, bootstrap.Options{Now: now, Rand: rand.Reader})
	if err == nil {
		err = applyPlan(g, plan, now, false)
	}
	wlock.Unlock()
	if err != nil {
		return err
	}

	b, err := readUpBundle(ctx, dir, node)
	if err != nil {
		return err
	}
	procs, err := supervise.Plan(b, skipForUp)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	programs, err := supervise.FindPrograms(supervise.Programs(procs), o.binDir, self)
	if err != nil {
		return err
	}
	if err := upPreflight(ctx, g, b); err != nil {
		return err
	}
	if err := prepareUpRoot(ctx, dir, b, programs); err != nil {
		return err
	}

	// The supervisor: PID 1 of new PID and mount namespaces, killed with this process.
	args := []string{"__supervise", "--dir", dir, "--node", node, "--timeout", o.timeout.String()}
	for _, np := range slices.Sorted(mapKeys(programs)) {
		args = append(args, "--program", np+"="+programs[np])
	}
	if g.verbose {
		args = append(args, "-v")
	}
	sup := exec.Command(self, args...)
	sup.Stdin, sup.Stdout, sup.Stderr = nil, g.stdout, g.stderr
	sup.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8"}
	sup.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:   syscall.CLONE_NEWPID,
		Unshareflags: syscall.CLONE_NEWNS,
		Pdeathsig:    syscall.SIGKILL,
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := sup.Start(); err != nil {
		return fmt.Errorf("starting the supervisor: %w", err)
	}
	_ = atomicfile.Write(filepath.Join(dir, upRun, "supervisor.pid"), []byte(strconv.Itoa(sup.Process.Pid)+"\n"), 0o600)
	done := make(chan error, 1)
	go func() { done <- sup.Wait() }()
	for {
		select {
		case <-sigs:
			_ = sup.Process.Signal(syscall.SIGTERM)
		case err := <-done:
			_ = os.Remove(filepath.Join(dir, upRun, "supervisor.pid"))
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return &exitError{code: max(ee.ExitCode(), 1)}
			}
			return err
		}
	}
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// skipForUp leaves out the units a single node does not need: the pod routes to other nodes.
func skipForUp(unit string) bool { return unit == "pod-routes.service" }

// readUpBundle reads the node's bundle from the cluster directory, checked against the
// cluster's signing key and launch's policy.
func readUpBundle(ctx context.Context, dir, node string) (*bundle.Bundle, error) {
	trusted, err := bundle.ReadPublicKeyFile(filepath.Join(dir, bootstrap.SigningPub))
	if err != nil {
		return nil, err
	}
	policy, err := units.Installable()
	if err != nil {
		return nil, err
	}
	var signer ed25519.PublicKey
	return bundle.ReadDir(ctx, dir, node, bundle.Options{Verify: systemd.SignatureCheck(trusted, false, &signer, func(string) {}), Policy: policy})
}

// upPreflight checks that the ports the node's units listen on are free, naming the process
// that holds one (another local cluster, say).
func upPreflight(ctx context.Context, g *globals, b *bundle.Bundle) error {
	n, err := preflight.NewNode(b, preflight.Components)
	if err != nil {
		return err
	}
	host := &preflight.Host{UnitRunning: func(context.Context, string) (bool, error) { return false, nil }}
	rep := &preflight.Report{Findings: preflight.Ports(ctx, n, host)}
	if err := rep.Err(); err != nil {
		rep.Describe(g.stdout, false)
		return err
	}
	return nil
}

// prepareUpRoot installs the bundle under DIR/root (only what changed; a file the kubelet
// rotates is left alone), creates the node directories there, empties the runtime ones, and
// makes an empty file for each program to be bound over.
func prepareUpRoot(ctx context.Context, dir string, b *bundle.Bundle, programs map[string]string) error {
	rootDir := filepath.Join(dir, upRoot)
	for _, d := range []string{rootDir, filepath.Join(dir, upRun), filepath.Join(dir, "logs")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	root, err := rootfs.Open(rootDir)
	if err != nil {
		return err
	}
	defer root.Close()
	if _, err := systemd.Install(ctx, root, b.Files, b.Artifacts); err != nil {
		return fmt.Errorf("installing the node's bundle under %s: %w", rootDir, err)
	}
	for _, d := range supervise.RuntimeDirs {
		if err := os.RemoveAll(filepath.Join(rootDir, d)); err != nil {
			return fmt.Errorf("emptying %s: %w", filepath.Join(rootDir, d), err)
		}
	}
	for _, d := range append(slices.Concat(supervise.PersistentDirs, supervise.RuntimeDirs), supervise.ProgramDir) {
		if err := os.MkdirAll(filepath.Join(rootDir, d), 0o755); err != nil {
			return err
		}
	}
	for np := range programs {
		p := filepath.Join(rootDir, np)
		if _, err := os.Lstat(p); err == nil {
			continue
		}
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o755)
		if err != nil {
			return err
		}
		f.Close()
	}
	return nil
}

type superviseOptions struct {
	node     string
	programs []string
	timeout  time.Duration
}

// newSuperviseCmd is the supervisor `hardway up` starts as PID 1 of its namespaces; not for
// people.
func newSuperviseCmd(g *globals) *cobra.Command {
	o := &superviseOptions{}
	cmd := &cobra.Command{
		Use:    "__supervise",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE:   func(cmd *cobra.Command, _ []string) error { return runSupervise(cmd.Context(), g, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.node, "node", "", "")
	f.StringArrayVar(&o.programs, "program", nil, "")
	f.DurationVar(&o.timeout, "timeout", 5*time.Minute, "")
	return cmd
}

func runSupervise(ctx context.Context, g *globals, o *superviseOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir := g.dir
	b, err := readUpBundle(ctx, dir, o.node)
	if err != nil {
		return err
	}
	procs, err := supervise.Plan(b, skipForUp)
	if err != nil {
		return err
	}
	programs := map[string]string{}
	for _, p := range o.programs {
		k, v, _ := strings.Cut(p, "=")
		programs[k] = v
	}
	rootDir := filepath.Join(dir, upRoot)
	mounts, err := supervise.Mounts(b, rootDir, programs)
	if err != nil {
		return err
	}
	nsOpts := supervise.NamespaceOptions{Mounts: mounts, Scratch: filepath.Join(dir, upRun, "scratch")}
	if slices.ContainsFunc(procs, func(p supervise.Process) bool { return p.Unit == "kubelet.service" }) {
		nsOpts.Sysctls = supervise.KubeletSysctls
	}
	if err := supervise.SetupNamespace(nsOpts); err != nil {
		return fmt.Errorf("the node's mount namespace: %w", err)
	}
	root, err := rootfs.Open(rootDir)
	if err != nil {
		return err
	}
	defer root.Close()
	s := &supervise.Supervisor{
		Procs:        procs,
		Root:         root,
		LogDir:       filepath.Join(dir, "logs"),
		Env:          []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8"},
		Out:          g.stdout,
		StartTimeout: o.timeout,
		PIDFile:      filepath.Join(dir, upRun, "pids"),
		// A progress line on a terminal, plain lines otherwise (a log, a pipe).
		Progress: term.IsTerminal(int(os.Stdout.Fd())),
		Ready: func(ctx context.Context) error {
			if err := syncEtcdPeerURLs(ctx, g, procs); err != nil {
				return err
			}
			if err := applyBootstrapRBAC(ctx, g, b, false); err != nil {
				return err
			}
			if err := applyAddons(ctx, g, b, false); err != nil {
				return err
			}
			if err := setPodCIDR(ctx, g, b, o.timeout, false); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "export KUBECONFIG=%s\n", filepath.Join(dir, "kubeconfigs", "admin.kubeconfig"))
			return nil
		},
	}
	fmt.Fprintf(g.stdout, "supervisor: starting %d components\n", len(procs))
	return s.Run(ctx)
}

// syncEtcdPeerURLs updates the etcd member's stored peer URLs to the ones its unit advertises
// now, and says so: after the node's address changed, init reissued what names it and etcd
// came up on the new address, but its data still holds the old peer URLs. The etcd health-check
// client certificate (a node path, bound in this namespace) authenticates the update.
func syncEtcdPeerURLs(ctx context.Context, g *globals, procs []supervise.Process) error {
	for _, p := range procs {
		if p.Unit != units.Etcd.UnitName() {
			continue
		}
		flags := map[string]string{}
		for _, a := range p.Argv {
			if k, v, ok := strings.Cut(strings.TrimPrefix(a, "--"), "="); ok {
				flags[k] = v
			}
		}
		name, peers, clients := flags["name"], strings.Split(flags["initial-advertise-peer-urls"], ","), strings.Split(flags["advertise-client-urls"], ",")
		cli, err := etcdserver.NewClient(clients, etcdserver.ClientTLS{CertFile: units.EtcdHealthcheckCert, KeyFile: units.EtcdHealthcheckKey, TrustedCAFile: units.EtcdCACert}, 10*time.Second)
		if err != nil {
			return fmt.Errorf("etcd at %v: %w", clients, err)
		}
		defer cli.Close()
		had, changed, err := etcdserver.SyncPeerURLs(ctx, cli, name, peers)
		if err != nil {
			return err
		}
		if changed {
			fmt.Fprintf(g.stdout, "etcd: member %s's peer URLs %v -> %v (the node's address changed)\n", name, had, peers)
		}
	}
	return nil
}
