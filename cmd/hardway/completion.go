package main

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hardway-dev/hardway/bootstrap"
	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/pki"
)

// registerCompletions completes, on every command below c that has them, the -o/--output
// values and the --node flag's node names. Positional names (certificates, nodes) are
// completed by the commands that take them (completeCertNames, completeNodeNames).
func registerCompletions(c *cobra.Command, g *globals) {
	c.Flags().VisitAll(func(f *pflag.Flag) {
		switch f.Name {
		case "output":
			c.RegisterFlagCompletionFunc(f.Name, cobra.FixedCompletions(outputFormats, cobra.ShellCompDirectiveNoFileComp))
		case "node":
			c.RegisterFlagCompletionFunc(f.Name, func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
				return withPrefix(nodeNamesFor(g), toComplete), cobra.ShellCompDirectiveNoFileComp
			})
		}
	})
	for _, sub := range c.Commands() {
		registerCompletions(sub, g)
	}
}

// completionCluster is the cluster model for completing names: the --config file when given,
// else DIR/cluster.yaml; nil when there is none or it does not load (a completion never fails).
func completionCluster(g *globals) *configs.Cluster {
	file := g.configFile
	if file == "" {
		file = filepath.Join(g.dir, bootstrap.ClusterFile)
	}
	if _, err := os.Stat(file); err != nil {
		return nil
	}
	c, err := decodeCluster(file, nil, os.Environ())
	if err != nil {
		return nil
	}
	c.SetDefaults()
	return c
}

func nodeNamesFor(g *globals) []string {
	c := completionCluster(g)
	if c == nil {
		return nil
	}
	names := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		names[i] = n.Name
	}
	return names
}

// completeNodeNames completes a command's one NODE argument.
func completeNodeNames(g *globals) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return withPrefix(nodeNamesFor(g), toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeCertNames completes the certificate names 'certs renew' takes, each once.
func completeCertNames(g *globals) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		var all []pki.Instance
		if c := completionCluster(g); c != nil {
			all = pki.Instances(c)
		}
		given := map[string]bool{}
		for _, a := range args {
			given[a] = true
		}
		var out []string
		for _, n := range certNames(all) {
			if !given[n] && strings.HasPrefix(n, toComplete) {
				out = append(out, n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

func withPrefix(names []string, prefix string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}
