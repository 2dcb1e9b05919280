package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// exitError carries a process exit code through cobra without printing twice.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes hardway with args and returns the exit code: 0 on success, 1 on a failure or
// findings, 2 on a usage error (unless a command says otherwise through exitError).
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	g := &globals{stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRootCmd(g)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "error:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "error:", err)
	// cobra reports an unknown subcommand before any of ours runs.
	if isUsageError(err) || strings.HasPrefix(err.Error(), "unknown command ") {
		return 2
	}
	return 1
}

// globals are the options every command shares.
type globals struct {
	dir        string
	configFile string
	verbose    bool

	stdin          io.Reader
	stdout, stderr io.Writer
	log            *slog.Logger
}

func newRootCmd(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "hardway",
		Short: "Build and keep a bare-metal Kubernetes cluster's PKI, units and control plane",
		Long: `hardway takes a bare-metal Kubernetes cluster from nothing to a secured control plane:
the certificate authorities and every component certificate, kubeconfigs, an encryption
configuration for secrets at rest, systemd units for the upstream binaries, and per-node bundles.
It keeps the credentials healthy afterwards: renew, verify, check expiry.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			level := slog.LevelWarn
			if g.verbose {
				level = slog.LevelDebug
			}
			g.log = slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: level}))
		},
	}
	root.SetFlagErrorFunc(flagError)
	pf := root.PersistentFlags()
	pf.StringVar(&g.dir, "dir", "./cluster", "the cluster directory hardway writes and reads")
	pf.StringVar(&g.configFile, "config", "", "the cluster configuration file (YAML); see configs/examples")
	pf.BoolVarP(&g.verbose, "verbose", "v", false, "log in detail to stderr")

	addVersionFlag(root)
	root.AddCommand(
		newVersionCmd(g),
		newCompletionCmd(),
	)
	for _, sub := range subcommands {
		root.AddCommand(sub(g))
	}
	checkSubcommands(root)
	registerCompletions(root, g)
	markArgErrorsAsUsage(root)
	return root
}

// markArgErrorsAsUsage makes every command's argument check report a usage error (exit 2).
func markArgErrorsAsUsage(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil && !isUsageError(err) {
				return &usageError{fmt.Errorf("%w (see '%s --help')", err, cmd.CommandPath())}
			} else if err != nil {
				return err
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		markArgErrorsAsUsage(sub)
	}
}

// subcommands are added by the files that define them, so each command lives in its own file.
var subcommands []func(*globals) *cobra.Command

func register(f func(*globals) *cobra.Command) { subcommands = append(subcommands, f) }

type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return &usageError{fmt.Errorf(format, a...)} }

func isUsageError(err error) bool {
	var ue *usageError
	return errors.As(err, &ue)
}

func newCompletionCmd() *cobra.Command {
	return &cobra.Command{
		Use:       "completion bash|zsh|fish",
		Short:     "Print a shell completion script",
		Args:      cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		ValidArgs: []string{"bash", "zsh", "fish"},
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			out := cmd.OutOrStdout()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(out, true)
			case "zsh":
				return root.GenZshCompletion(out)
			default:
				return root.GenFishCompletion(out, true)
			}
		},
	}
}
