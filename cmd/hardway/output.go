package main

import (
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/hardway-dev/hardway/bootstrap"
)

// outputFormats are the values every -o/--output flag takes; the shells complete them.
var outputFormats = []string{"table", "json", "yaml"}

// addOutputFlag gives cmd the -o/--output flag that printOutput reads.
func addOutputFlag(cmd *cobra.Command, output *string) {
	cmd.Flags().StringVarP(output, "output", "o", "table", "output format: table, json or yaml")
}

// checkOutput refuses an -o value printOutput does not know, before a command does its work.
func checkOutput(output string) error {
	if output != "" && !slices.Contains(outputFormats, output) {
		return usagef("-o %q: use table, json or yaml", output)
	}
	return nil
}

// planView is a plan as -o json|yaml shows it: what each file would become and why, never the
// bytes (keys among them).
type planView struct {
	Dir       string       `json:"dir"`
	DryRun    bool         `json:"dryRun"`
	Changes   []changeView `json:"changes"`
	Unchanged int          `json:"unchanged"`
	Notes     []string     `json:"notes,omitempty"`
	// Written, Restored and BackupDir say what a run that was not a dry run did.
	Written   []string `json:"written,omitempty"`
	Restored  []string `json:"restored,omitempty"`
	BackupDir string   `json:"backupDir,omitempty"`
}

type changeView struct {
	Action string `json:"action"`
	Path   string `json:"path"`
	Mode   string `json:"mode"`
	Reason string `json:"reason"`
}

func viewPlan(dir string, plan *bootstrap.Plan, dryRun bool) planView {
	v := planView{Dir: dir, DryRun: dryRun, Changes: []changeView{}, Unchanged: plan.Unchanged, Notes: plan.Notes}
	for _, ch := range plan.Changes {
		v.Changes = append(v.Changes, changeView{Action: string(ch.Action), Path: ch.Path, Mode: fmt.Sprintf("%04o", ch.Mode.Perm()), Reason: ch.Reason})
	}
	return v
}

// applyPlanAs is applyPlan for -o json|yaml: it applies the plan unless dryRun, then prints
// the plan and what was written as one document.
func applyPlanAs(g *globals, output string, plan *bootstrap.Plan, now time.Time, dryRun bool) error {
	v := viewPlan(g.dir, plan, dryRun)
	if !dryRun && !plan.Empty() {
		res, err := bootstrap.Apply(g.dir, plan, bootstrap.ApplyOptions{Now: now})
		if err != nil {
			return fmt.Errorf("%w (files written before the error are complete; run again to finish)", err)
		}
		v.Written, v.Restored, v.BackupDir = res.Written, res.Restored, res.BackupDir
	}
	return printOutput(g.stdout, output, v, nil)
}
