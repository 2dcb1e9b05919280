package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/spf13/cobra"

	"github.com/hardway-dev/hardway/apiserver/etcdserver"
	"github.com/hardway-dev/hardway/internal/problem"
)

func init() { register(newEtcdCmd) }

func newEtcdCmd(g *globals) *cobra.Command {
	cfg := etcdserver.NewConfig()
	cmd := &cobra.Command{
		Use:   "etcd --name NAME --data-dir DIR --listen-client-urls https://... [etcd flags]",
		Short: "Run one etcd member in-process (real etcd, mutual TLS only), with etcd's own flag names",
		Long: `hardway etcd runs one etcd member with etcd's own server code (go.etcd.io/etcd/server/v3/embed),
for machines without the etcd binary. It takes etcd's flag names, so a unit written for etcd runs it
unchanged, but only what hardway supports: client and peer URLs must be https, and
--client-cert-auth and --peer-client-cert-auth are required. Unknown flags are refused.

Under systemd it sends READY=1 once the member serves (Type=notify); a member of a new cluster
serves once a quorum of --initial-cluster is up. SIGTERM or SIGINT stops it cleanly.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("hardway etcd takes only flags, not %q; see 'hardway etcd --help'", args)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEtcd(g, cfg)
		},
	}
	gfs := flag.NewFlagSet("etcd", flag.ContinueOnError)
	cfg.AddFlags(gfs)
	cmd.Flags().AddGoFlagSet(gfs)
	return cmd
}

func runEtcd(g *globals, cfg etcdserver.Config) error {
	if err := cfg.Validate(); err != nil {
		return &usageError{err}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sig)

	m, err := etcdserver.Start(cfg, etcdserver.Options{Log: g.stderr})
	if err != nil {
		var ce *problem.ListError
		if errors.As(err, &ce) {
			return &usageError{err}
		}
		return err
	}
	defer m.Close()

	select {
	case <-m.ReadyNotify():
	case err := <-m.Err():
		return fmt.Errorf("etcd member %s: %w", cfg.Name, err)
	case <-m.StopNotify():
		return fmt.Errorf("etcd member %s stopped before it was ready; see the log above", cfg.Name)
	case s := <-sig:
		g.log.Info("stopping before ready", "signal", s.String())
		return nil
	}
	// READY=1 for Type=notify units; without NOTIFY_SOCKET this is a no-op.
	if _, err := daemon.SdNotify(false, daemon.SdNotifyReady); err != nil {
		g.log.Warn("could not notify systemd", "err", err)
	}
	g.log.Info("etcd member serving", "name", cfg.Name, "client-urls", m.ClientURLs())

	select {
	case s := <-sig:
		g.log.Info("stopping", "signal", s.String())
		_, _ = daemon.SdNotify(false, daemon.SdNotifyStopping)
		return nil
	case err := <-m.Err():
		return fmt.Errorf("etcd member %s: %w", cfg.Name, err)
	case <-m.StopNotify():
		return fmt.Errorf("etcd member %s stopped; see the log above", cfg.Name)
	}
}
