package main

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// This file is the one vocabulary of "did you mean": for commands, flags, certificate names and
// the cluster file's keys. A candidate is suggested when it is within suggestDistance edits of
// what was typed (case-insensitively), or starts with it.

// suggestDistance is how many single-character edits apart a suggestion may be; cobra's default.
const suggestDistance = 2

// suggest returns the candidates close to typed, closest first.
func suggest(typed string, candidates []string) []string {
	type scored struct {
		name string
		d    int
	}
	var found []scored
	seen := map[string]bool{}
	low := strings.ToLower(typed)
	for _, c := range candidates {
		if c == "" || c == typed || seen[c] {
			continue
		}
		d := editDistance(low, strings.ToLower(c))
		if d <= suggestDistance || (len(typed) >= 3 && strings.HasPrefix(strings.ToLower(c), low)) {
			seen[c] = true
			found = append(found, scored{c, d})
		}
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].d < found[j].d })
	out := make([]string, len(found))
	for i, s := range found {
		out[i] = s.name
	}
	return out
}

// didYouMean is "; did you mean X?" or "; did you mean X or Y?" for the suggestions of typed,
// or "" when there are none.
func didYouMean(typed string, candidates []string, quote func(string) string) string {
	s := suggest(typed, candidates)
	if len(s) == 0 {
		return ""
	}
	if len(s) > 3 {
		s = s[:3]
	}
	for i := range s {
		s[i] = quote(s[i])
	}
	if len(s) == 1 {
		return "; did you mean " + s[0] + "?"
	}
	return "; did you mean " + strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1] + "?"
}

func asIs(s string) string { return s }

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// flagError is the root's flag error function: a usage error (exit 2) that, for an unknown
// flag, suggests the command's flags that are close to it.
func flagError(c *cobra.Command, err error) error {
	var ne *pflag.NotExistError
	if errors.As(err, &ne) {
		if name := ne.GetSpecifiedName(); name != "" {
			var names []string
			c.Flags().VisitAll(func(f *pflag.Flag) {
				if !f.Hidden {
					names = append(names, f.Name)
				}
			})
			hint := didYouMean(name, names, func(s string) string { return "--" + s })
			return &usageError{fmt.Errorf("%w%s (see '%s --help')", err, hint, c.CommandPath())}
		}
	}
	return &usageError{fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
}

// unknownSubcommand is the argument check of a command group: any argument is a subcommand it
// does not have, a usage error that suggests the ones close to it.
func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	var names []string
	for _, sub := range cmd.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
			names = append(names, sub.Aliases...)
		}
	}
	hint := didYouMean(args[0], names, asIs)
	if hint == "" {
		hint = "; the subcommands are " + strings.Join(names, ", ")
	}
	return &usageError{fmt.Errorf("unknown command %q for %q%s (see '%s --help')", args[0], cmd.CommandPath(), hint, cmd.CommandPath())}
}

// checkSubcommands makes every command group below c (and c) refuse an unknown subcommand with
// exit 2: cobra would print the group's help and exit 0, so a mistyped 'hardway certs renw all'
// in a cron job would silently do nothing. A group run without arguments prints its help. A
// command that runs itself and has its own argument check keeps it, with suggestions added when
// it refuses an argument; one that takes any arguments (inspect FILE...) is left alone.
func checkSubcommands(c *cobra.Command) {
	switch check := c.Args; {
	case !c.HasSubCommands():
	case check == nil && !c.Runnable():
		c.Args = unknownSubcommand
		c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	case check != nil:
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				if len(args) > 0 {
					return unknownSubcommand(cmd, args)
				}
				return err
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		checkSubcommands(sub)
	}
}
