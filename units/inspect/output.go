package inspect

import (
	"fmt"
	"io"
	"path"
	"strings"
	"text/tabwriter"
)

// TableWidth is the terminal width WriteTable fits its flag and setting tables into: long
// values and meanings are clipped and paths shortened (-o json and yaml carry them whole).
const TableWidth = 120

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
			rows := [][]string{{"FLAG", "VALUE", "STATE", "FROM", "MEANING"}}
			for _, f := range res.Flags {
				v := clip(f.Value, 28)
				if len(f.Unresolved) > 0 {
					v += " (unresolved: " + strings.Join(f.Unresolved, ", ") + ")"
				}
				rows = append(rows, []string{f.Flag, v, f.State, shortOrigin(f.Origin, inv.Name), f.Meaning})
			}
			writeFitted(ew, rows)
		}
		if len(res.Settings) > 0 {
			rows := [][]string{{"SETTING", "VALUE", "FROM", "MEANING"}}
			for _, s := range res.Settings {
				rows = append(rows, []string{s.Setting, clip(s.Value, 28), ShortPath(s.File, 28), s.Meaning})
			}
			writeFitted(ew, rows)
		}
		writeFindings(ew, res.Findings)
		writeSuppressed(ew, res.Suppressed)
	}
	if len(r.Cross) > 0 || len(r.CrossSuppressed) > 0 {
		fmt.Fprintln(ew, "\n== across components")
		writeFindings(ew, r.Cross)
		writeSuppressed(ew, r.CrossSuppressed)
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
	sup := ""
	if n := len(r.Suppressed()); n > 0 {
		sup = fmt.Sprintf(", %d suppressed", n)
	}
	fmt.Fprintf(ew, "\n%d error(s), %d warning(s), %d info%s\n", e, wn, in, sup)
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

// writeSuppressed lists the findings a suppression accepted, with its reason and where it is.
func writeSuppressed(w io.Writer, fs []Finding) {
	if len(fs) == 0 {
		return
	}
	fmt.Fprintln(w, "suppressed:")
	for _, f := range fs {
		fmt.Fprintf(w, "  %-7s %s  %s\n", f.Severity, f.ID, f.Message)
		by := "--ignore"
		if s := f.SuppressedBy; s != nil && s.Origin != nil {
			by = s.Origin.String()
		}
		if s := f.SuppressedBy; s != nil {
			fmt.Fprintf(w, "          suppressed by %s: %s\n", by, s.Reason)
		}
	}
}

// shortOrigin is where a flag was set, for the table: the line alone in the input's own file
// ("header" names it), else the file's name shortened.
func shortOrigin(origin, input string) string {
	if file, line, ok := strings.Cut(origin, ":"); ok && (file == input || path.Base(file) == path.Base(input)) {
		return "line " + line
	}
	return ShortPath(origin, 28)
}

// writeFitted writes rows as columns two spaces apart, clipping the last column so that each
// line fits TableWidth.
func writeFitted(w io.Writer, rows [][]string) {
	cols := len(rows[0])
	width := make([]int, cols)
	for _, r := range rows {
		for i, c := range r[:cols-1] {
			width[i] = max(width[i], len(c))
		}
	}
	used := 0
	for _, n := range width[:cols-1] {
		used += n + 2
	}
	last := max(TableWidth-used, 16)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		r[cols-1] = clip(r[cols-1], last)
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
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
