package inspect

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

const rulesDoc = "../../docs/inspect-rules.md"

// rulesDocText is docs/inspect-rules.md as the rule list makes it: the head, a table of every
// rule, and the retired IDs.
func rulesDocText() []byte {
	var b bytes.Buffer
	b.WriteString(`# hardway inspect: rule IDs

Every finding of ` + "`hardway inspect`" + ` carries the ID of the rule that made it (` + "`-o json`" + `: ` + "`id`" + `). IDs are
stable: scripts, ` + "`--ignore`" + ` and suppression comments may rely on them. A rule whose meaning changes gets
a new ID; the old one is listed under "Retired" and never used again. This file is generated from
` + "`units/inspect/rules.go`" + ` (` + "`go test ./units/inspect -run TestRulesDoc -update`" + `), and a test fails when they
differ.

## Accepting a finding on purpose

A comment next to the unit or manifest suppresses one rule's findings on that input, with the reason:

    # hardway-inspect: ignore insecure-port-open port 10252 is firewalled off on these hosts

(in a unit or one of its drop-ins, at the start of a line, ` + "`#`" + ` or ` + "`;`" + `; in a manifest also after a value).
` + "`hardway inspect --ignore ID[=REASON]`" + ` suppresses a rule on every input. Suppressed findings are listed
apart with their reason (table: "suppressed:"; ` + "`-o json`" + `: ` + "`suppressed`" + ` and ` + "`crossComponentSuppressed`" + `, each with
` + "`suppressedBy`" + `) and count neither in the totals nor for ` + "`--fail-on`" + ` and the exit status. A comment naming an
unknown or retired rule, or giving no reason, suppresses nothing and is itself a finding
(` + "`suppression-invalid`" + `).

## Rules

| ID | severity | meaning |
|---|---|---|
`)
	for _, r := range Rules {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", r.ID, r.Severity, strings.ReplaceAll(r.Summary, "|", "\\|"))
	}
	b.WriteString("\n## Retired\n\n")
	if len(RetiredRules) == 0 {
		b.WriteString("None yet.\n")
	} else {
		ids := make([]string, 0, len(RetiredRules))
		for id := range RetiredRules {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		b.WriteString("| ID | what it meant |\n|---|---|\n")
		for _, id := range ids {
			fmt.Fprintf(&b, "| `%s` | %s |\n", id, RetiredRules[id])
		}
	}
	return b.Bytes()
}

// TestRulesDoc: every rule inspect can emit is documented, with its severity and meaning, and
// the retired IDs are listed.
func TestRulesDoc(t *testing.T) {
	want := rulesDocText()
	if *update {
		if err := os.WriteFile(rulesDoc, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(rulesDoc)
	if err != nil {
		t.Fatalf("%v (run go test -run TestRulesDoc -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is not what rules.go says; run go test ./units/inspect -run TestRulesDoc -update and review the diff", rulesDoc)
	}
}

// TestRuleIDsNeverReused: IDs are unique, and no rule uses a retired ID.
func TestRuleIDsNeverReused(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules {
		if seen[r.ID] {
			t.Errorf("rule ID %s is listed twice", r.ID)
		}
		seen[r.ID] = true
		if why, ok := RetiredRules[r.ID]; ok {
			t.Errorf("rule ID %s is retired (%s) and may not be used again: give the rule a new ID", r.ID, why)
		}
	}
}

// TestEveryEmittedRuleIsRegistered scans the package's sources for the rule IDs findings are
// made with (c.add("id", ...), add("id", ...), Finding{ID: "id", ...}): each must be in Rules,
// and so documented.
func TestEveryEmittedRuleIsRegistered(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?:\badd\(|ID:\s*|ruleIndex\[)"([a-z0-9-]+)"`)
	n := 0
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		src, err := os.ReadFile(e.Name())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			n++
			if !KnownRule(m[1]) {
				t.Errorf("%s emits rule %q, which is not in Rules (nor in docs/inspect-rules.md)", e.Name(), m[1])
			}
		}
	}
	if n < len(Rules)/2 {
		t.Fatalf("found only %d rule uses in the sources; the pattern no longer matches how findings are made", n)
	}
}
