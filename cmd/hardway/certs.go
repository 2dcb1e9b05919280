package main

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"

	"github.com/hardway-dev/hardway/bootstrap"
	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/internal/duration"
	"github.com/hardway-dev/hardway/internal/problem"
	"github.com/hardway-dev/hardway/pki"
)

func init() { register(newCertsCmd) }

func newCertsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "certs",
		Short: "List, check, renew and verify the certificates of a cluster directory",
		Long:  "Work on the certificates of a cluster directory made by 'hardway init'.\n\n" + catalogueHelp(),
	}
	cmd.AddCommand(newCertsListCmd(g), newCertsCheckExpirationCmd(g), newCertsRenewCmd(g), newCertsVerifyCmd(g))
	return cmd
}

// catalogueHelp lists the catalogue for --help: the names 'certs renew' takes and what each is.
func catalogueHelp() string {
	var b strings.Builder
	b.WriteString("Certificates (per-node ones are named <name>: etcd/server-<node>, kubelet/client-<node> ...):\n")
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, s := range pki.Catalogue {
		fmt.Fprintf(w, "  %s\t%s\n", s.Name, s.Help)
	}
	w.Flush()
	return b.String()
}

// clusterForDir loads the cluster model for a command that works on a cluster directory: the
// --config file when given, else the resolved model init kept in DIR/cluster.yaml.
func clusterForDir(g *globals, fs *pflag.FlagSet) (*configs.Cluster, error) {
	if g.configFile == "" {
		g.configFile = filepath.Join(g.dir, bootstrap.ClusterFile)
		if _, err := os.Stat(g.configFile); err != nil {
			return nil, usagef("%s not found: run 'hardway init --config FILE --dir %s' first, or pass --config", g.configFile, g.dir)
		}
	}
	return loadCluster(g, fs)
}

func newCertsListCmd(g *globals) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List every certificate: subject, SANs, issuer, expiry",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := clusterForDir(g, nil)
			if err != nil {
				return err
			}
			inv := pki.Inventory(os.DirFS(g.dir), c, time.Now())
			return printOutput(g.stdout, output, inv, func(w io.Writer) error {
				tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tSUBJECT\tSANS\tISSUER\tNOT AFTER\tLEFT")
				for _, i := range inv {
					name := i.Name
					if i.Retired != "" {
						name += " (retired)"
					}
					if i.Error != "" {
						fmt.Fprintf(tw, "%s\t(%s)\t\t\t\t\n", name, i.Error)
						continue
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", name, i.Subject, shortList(i.SANs, 3), i.Issuer, i.NotAfter.Format(time.DateOnly), i.Left)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}

func newCertsCheckExpirationCmd(g *globals) *cobra.Command {
	var output string
	within := duration.Duration(30 * duration.Day)
	cmd := &cobra.Command{
		Use:   "check-expiration",
		Short: "Show when each certificate expires; exit 1 when one expires inside --warn-within",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			window := time.Duration(within)
			c, err := clusterForDir(g, nil)
			if err != nil {
				return err
			}
			now := time.Now()
			inv := pki.Inventory(os.DirFS(g.dir), c, now)
			var soon []string
			for _, i := range inv {
				if i.Retired != "" {
					continue // no node uses it: its expiry is good news
				}
				if i.Error != "" || i.NotAfter.Sub(now) < window {
					soon = append(soon, i.Name)
				}
			}
			err = printOutput(g.stdout, output, inv, func(w io.Writer) error {
				tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "CERTIFICATE\tEXPIRES\tRESIDUAL TIME\tCERTIFICATE AUTHORITY\tEXTERNALLY MANAGED")
				var retired []pki.CertInfo
				for _, i := range inv {
					switch {
					case i.Retired != "":
						retired = append(retired, i)
					case i.Kind != pki.KindCA:
						printExpiry(tw, i, now, window)
					}
				}
				tw.Flush()
				fmt.Fprintln(w)
				tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "CERTIFICATE AUTHORITY\tEXPIRES\tRESIDUAL TIME\t\tEXTERNALLY MANAGED")
				for _, i := range inv {
					if i.Kind == pki.KindCA {
						printExpiry(tw, i, now, window)
					}
				}
				if err := tw.Flush(); err != nil || len(retired) == 0 {
					return err
				}
				fmt.Fprintln(w)
				tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "RETIRED CERTIFICATE\tEXPIRES\tRESIDUAL TIME\tCERTIFICATE AUTHORITY\tRETIRED TO")
				for _, i := range retired {
					printExpiry(tw, i, now, 0)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				fmt.Fprintf(w, "Retired certificates belong to nodes that left the cluster (or the role that used them). With no revocation list they\n"+
					"stay valid until they expire; %s beside each says more, and rotating their CA ends them sooner.\n", pki.RetiredRecord)
				return nil
			})
			if err != nil {
				return err
			}
			if len(soon) > 0 {
				sort.Strings(soon)
				return &exitError{code: 1, err: fmt.Errorf("%d certificate(s) expire within %s, are missing or unreadable: %s; renew with 'hardway certs renew NAME...'", len(soon), within, strings.Join(soon, ", "))}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	cmd.Flags().Var(&within, "warn-within", "warn about certificates that expire within this time (30d, 1d12h, 72h)")
	return cmd
}

func printExpiry(w io.Writer, i pki.CertInfo, now time.Time, window time.Duration) {
	ext := "no"
	if i.External {
		ext = "yes"
	}
	if i.Retired != "" {
		ext = i.Retired
	}
	if i.Error != "" {
		fmt.Fprintf(w, "%s\t(%s)\t\t%s\t%s\n", i.Name, i.Error, i.CA, ext)
		return
	}
	left := i.Left
	if d := i.NotAfter.Sub(now); d < window && d > 0 {
		left += " !"
	}
	fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", i.Name, i.NotAfter.Format("Jan 02, 2006 15:04 MST"), left, i.CA, ext)
}

func newCertsRenewCmd(g *globals) *cobra.Command {
	var newKey, dryRun bool
	var output string
	cmd := &cobra.Command{
		Use:   "renew NAME...|all",
		Short: "Reissue certificates with the same subject and SANs from the same CA",
		Long: `renew reissues the named certificates from the same CA with the same subject and SANs, for
another validity period, keeping their keys unless --new-key. Kubeconfigs that embed a renewed
certificate are rewritten. Every replaced file is kept in DIR/backup/<timestamp>/.

A leaf whose certificate or key is corrupt or missing is reissued from its CA with the
catalogue's subject and SANs (a new key when the key is lost). A corrupt CA is never reissued:
the error names the copies under DIR/backup/ to restore it from.

NAME is an instance (apiserver, etcd/server-cp-1, kubelet/client-worker-1), a catalogue name
(etcd-server: every member's) or a kubeconfig name (admin, kubelet-worker-1); "all" renews every
leaf certificate. Renewing a CA (ca, etcd-ca, front-proxy-ca) keeps its key, so what it signed
stays valid; with --new-key every certificate it signed is reissued too.

` + catalogueHelp(),
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeCertNames(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			c, err := clusterForDir(g, nil)
			if err != nil {
				return err
			}
			renew, err := selectCerts(pki.Instances(c), args)
			if err != nil {
				return err
			}
			unlock, err := lockUnlessDryRun(g, dryRun)
			if err != nil {
				return err
			}
			defer unlock()
			now := time.Now()
			progress := newProgress(g, "renewing certificates")
			plan, err := bootstrap.Build(os.DirFS(g.dir), c, bootstrap.Options{
				Now: now, Rand: rand.Reader, Renew: renew, NewKey: newKey, Progress: progress.update,
			})
			progress.done()
			if err != nil {
				return err
			}
			if output != "table" {
				return applyPlanAs(g, output, plan, now, dryRun)
			}
			return applyPlan(g, plan, now, dryRun)
		},
	}
	cmd.Flags().BoolVar(&newKey, "new-key", false, "generate new keys instead of keeping the existing ones")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the plan and write nothing")
	addOutputFlag(cmd, &output)
	return cmd
}

// selectCerts resolves the names 'certs renew' takes (pki.Select); an unknown name is a usage
// error that suggests the certificate names close to it.
func selectCerts(all []pki.Instance, names []string) (map[string]bool, error) {
	for _, n := range names {
		if n == "all" {
			continue
		}
		if _, err := pki.Find(all, n); err != nil {
			return nil, usagef("no certificate called %q%s ('hardway certs list' shows the names, 'hardway certs renew --help' the catalogue)", n, didYouMean(n, certNames(all), asIs))
		}
	}
	ids, err := pki.Select(all, names)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return ids, nil
}

// certNames are the names 'certs renew' takes: "all", the catalogue's, every instance's and
// every kubeconfig's, in catalogue order.
func certNames(all []pki.Instance) []string {
	names := []string{"all"}
	seen := map[string]bool{"all": true}
	add := func(n string) {
		if n != "" && !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	for _, s := range pki.Catalogue {
		add(s.Name)
	}
	for _, in := range all {
		add(in.ID)
		add(in.Kubeconfig)
	}
	return names
}

func newCertsVerifyCmd(g *globals) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check chains, key pairs, subjects, SANs, usages, kubeconfigs, modes and node bundles",
		Long: `verify checks the cluster directory as a client would: every certificate chains to its CA for its
usage, keys match, subjects, SANs and usages are the catalogue's, kubeconfigs embed the
certificates in pki/. It also checks that every node's bundle (its folder and its archive) holds
the same CA, certificates, keys and kubeconfigs as the cluster directory and the units init
renders, that no key, kubeconfig, encryption config or folder is readable by others, and that
no link and no temporary file of a killed run is there. It waits while a run that writes the
directory (init, certs renew) holds its lock. Each problem is its file, what is wrong and the fix.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := clusterForDir(g, nil)
			if err != nil {
				return err
			}
			lock, err := bootstrap.LockShared(cmd.Context(), g.dir, func() {
				fmt.Fprintf(g.stderr, "waiting for the hardway run that holds %s to finish...\n", filepath.Join(g.dir, bootstrap.LockFile))
			})
			if err != nil {
				return err
			}
			defer lock.Unlock()
			problems := bootstrap.Verify(cmd.Context(), g.dir, c, time.Now())
			if problems == nil {
				problems = problem.List{}
			}
			err = printOutput(g.stdout, output, problems, func(w io.Writer) error {
				if len(problems) == 0 {
					fmt.Fprintf(w, "%s: every certificate, key, kubeconfig and node bundle verifies\n", g.dir)
					return nil
				}
				tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "PATH\tPROBLEM\tFIX")
				for _, p := range problems {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Where, p.Message, p.Fix)
				}
				return tw.Flush()
			})
			if err != nil {
				return err
			}
			if len(problems) > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d problem(s) found", len(problems))}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}

// shortList joins the first n items and counts the rest, for tables; -o json|yaml show all.
func shortList(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ",")
	}
	return fmt.Sprintf("%s (+%d more)", strings.Join(items[:n], ","), len(items)-n)
}

// printOutput writes v as JSON or YAML, or calls table.
func printOutput(w io.Writer, format string, v any, table func(io.Writer) error) error {
	switch format {
	case "table", "":
		if table == nil {
			return fmt.Errorf("no table form for %T", v)
		}
		return table(w)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "yaml":
		b, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	return usagef("-o %q: use table, json or yaml", format)
}
