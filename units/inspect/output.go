package inspect

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteTable writes the report for people: per input, every flag with its value, origin and
// meaning, then the findings; then the cross-component findings.
func WriteTable(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	for i, res := range r.Results {
		if i > 0 {
			fmt.Fprintln(ew)
		}
		inv := res.Invocation
		comp := inv.Component
		if comp == "" {
			comp = "unknown component"
		}
		target := ""
		if res.Target != "" {
			target = ", target " + res.Target
		}
		fmt.Fprintf(ew, "== %s (%s, %s%s)\n", inv.Name, comp, inv.Kind, target)
		if len(res.Flags) > 0 {
			tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "FLAG\tVALUE\tSTATE\tFROM\tMEANING")
			for _, f := range res.Flags {
				v := f.Value
				if len(f.Unresolved) > 0 {
					v += " (unresolved: " + strings.Join(f.Unresolved, ", ") + ")"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Flag, clip(v, 60), f.State, f.Origin, f.Meaning)
			}
			tw.Flush()
		}
		if len(res.Settings) > 0 {
			tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "SETTING\tVALUE\tFROM\tMEANING")
			for _, s := range res.Settings {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Setting, clip(s.Value, 60), s.File, s.Meaning)
			}
			tw.Flush()
		}
		writeFindings(ew, res.Findings)
	}
	if len(r.Cross) > 0 {
		fmt.Fprintln(ew, "\n== across components")
		writeFindings(ew, r.Cross)
	}
	e, wn, in := 0, 0, 0
	for _, f := range r.All() {
		switch f.Severity {
		case Error:
			e++
		case Warning:
			wn++
		default:
			in++
		}
	}
	fmt.Fprintf(ew, "\n%d error(s), %d warning(s), %d info\n", e, wn, in)
	return ew.err
}

func writeFindings(w io.Writer, fs []Finding) {
	if len(fs) == 0 {
		fmt.Fprintln(w, "no findings")
		return
	}
	fmt.Fprintln(w, "findings:")
	for _, f := range fs {
		fmt.Fprintf(w, "  %-7s %s  %s\n", f.Severity, f.ID, f.Message)
		if f.Origin.File != "" {
			fmt.Fprintf(w, "          at %s\n", f.Origin)
		}
		if f.Fix != "" {
			fmt.Fprintf(w, "          fix: %s\n", f.Fix)
		}
	}
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
