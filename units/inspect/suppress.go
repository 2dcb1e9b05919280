package inspect

import (
	"fmt"
	"strings"
)

// Suppression is a user's decision to accept one rule's findings on one input: written next to
// the unit or manifest as a comment line
//
//	# hardway-inspect: ignore <rule-id> <reason>
//
// (in a unit, its drop-ins or a manifest; ';' also starts a comment in units; in YAML the
// comment may follow a value), or given as Options.Ignore (hardway inspect --ignore ID). A
// suppressed finding moves to Result.Suppressed (or Report.CrossSuppressed) with the
// suppression that matched it: still reported, never counted.
type Suppression struct {
	Rule   string `json:"rule"`
	Reason string `json:"reason"`
	// Origin is where the comment is; nil for Options.Ignore.
	Origin *Origin `json:"origin,omitempty"`
}

// suppressMarker starts a suppression comment.
const suppressMarker = "hardway-inspect:"

// ParseSuppressions returns the suppression comments in f, and a suppression-invalid finding
// (rule ID, message and origin) for each one that names no known rule, is not "ignore", or
// gives no reason.
func ParseSuppressions(f File) ([]Suppression, []Finding) {
	var sups []Suppression
	var bad []Finding
	for i, line := range strings.Split(string(f.Data), "\n") {
		at := strings.Index(line, suppressMarker)
		if at < 0 {
			continue
		}
		before := strings.TrimRight(line[:at], " \t")
		if !strings.HasSuffix(before, "#") && !strings.HasSuffix(before, ";") {
			continue
		}
		// The comment character must start the line or follow a blank (YAML's rule).
		if pre := before[:len(before)-1]; pre != "" && !strings.HasSuffix(pre, " ") && !strings.HasSuffix(pre, "\t") {
			continue
		}
		o := Origin{File: f.Name, Line: i + 1}
		fields := strings.Fields(strings.TrimSpace(line[at+len(suppressMarker):]))
		switch {
		case len(fields) == 0 || fields[0] != "ignore":
			bad = append(bad, Finding{ID: "suppression-invalid", Origin: o,
				Message: fmt.Sprintf("%q: the only verb is ignore, as in \"# %s ignore <rule-id> <reason>\"; nothing is suppressed", strings.TrimSpace(line), suppressMarker)})
		case len(fields) < 2 || ruleIndex[fields[1]].ID == "":
			id := ""
			if len(fields) > 1 {
				id = fields[1]
			}
			msg := fmt.Sprintf("%q names no rule hardway inspect has; nothing is suppressed", id)
			if retired[id] != "" {
				msg = fmt.Sprintf("%q is a retired rule (%s); nothing is suppressed", id, retired[id])
			}
			bad = append(bad, Finding{ID: "suppression-invalid", Origin: o, Message: msg})
		case len(fields) < 3:
			bad = append(bad, Finding{ID: "suppression-invalid", Origin: o,
				Message: fmt.Sprintf("ignore %s gives no reason; say why the finding is accepted, after the rule ID. Nothing is suppressed", fields[1])})
		default:
			sups = append(sups, Suppression{Rule: fields[1], Reason: strings.Join(fields[2:], " "), Origin: &o})
		}
	}
	return sups, bad
}

// inputFiles are the files an invocation was read from: a unit with its drop-ins, or the
// manifest or command file.
func inputFiles(inv *Invocation) []File {
	if inv.Unit != nil {
		return inv.Unit.Files
	}
	if inv.Source.Name != "" {
		return []File{inv.Source}
	}
	return nil
}

// suppressionsOf are the suppression comments in an invocation's files.
func suppressionsOf(inv *Invocation) ([]Suppression, []Finding) {
	var sups []Suppression
	var bad []Finding
	for _, f := range inputFiles(inv) {
		s, b := ParseSuppressions(f)
		sups, bad = append(sups, s...), append(bad, b...)
	}
	return sups, bad
}

// applySuppressions splits fs into the findings that stay and those a suppression (the first
// that names the rule) or an --ignore covers.
func applySuppressions(fs []Finding, sups []Suppression, ignore map[string]string) (kept, suppressed []Finding) {
	for _, f := range fs {
		var by *Suppression
		for i := range sups {
			if sups[i].Rule == f.ID {
				by = &sups[i]
				break
			}
		}
		if by == nil {
			if reason, ok := ignore[f.ID]; ok {
				by = &Suppression{Rule: f.ID, Reason: reason}
			}
		}
		if by == nil || f.ID == "suppression-invalid" {
			kept = append(kept, f)
			continue
		}
		s := *by
		f.SuppressedBy = &s
		suppressed = append(suppressed, f)
	}
	return kept, suppressed
}

// suppressCross applies to each cross-component finding the suppressions of the input whose
// file the finding points at, and --ignore.
func suppressCross(fs []Finding, invs []*Invocation, ignore map[string]string) (kept, suppressed []Finding) {
	byFile := map[string][]Suppression{}
	for _, inv := range invs {
		sups, _ := suppressionsOf(inv)
		for _, f := range inputFiles(inv) {
			byFile[f.Name] = append(byFile[f.Name], sups...)
		}
	}
	for _, f := range fs {
		k, s := applySuppressions([]Finding{f}, byFile[f.Origin.File], ignore)
		kept, suppressed = append(kept, k...), append(suppressed, s...)
	}
	return kept, suppressed
}
