package bootstrap

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/internal/problem"
)

// A file of a bundle folder edited by hand is reported with when hardway wrote it, replaced by
// what init renders, and kept as edited in the run's backup folder; the run after is a no-op.
func TestHandEditIsReportedAndBackedUp(t *testing.T) {
	c := cluster(t)
	dir := initDir(t, c)
	rel := "nodes/w-1/etc/systemd/system/kubelet.service"
	rendered := mustReadFile(t, filepath.Join(dir, rel))
	edited := append(append([]byte{}, rendered...), "# tuned by hand\n"...)
	if err := os.WriteFile(filepath.Join(dir, rel), edited, 0o644); err != nil {
		t.Fatal(err)
	}
	if ps := Verify(context.Background(), dir, c, now); !hasProblem(ps.Errors(), rel, "hand-edited: differs from what hardway wrote on") {
		t.Errorf("verify: %v", ps)
	}
	p := build(t, dir, c, Options{})
	if len(p.HandEdits) != 1 || p.HandEdits[0].Path != rel || p.HandEdits[0].Written.IsZero() {
		t.Fatalf("hand edits: %+v", p.HandEdits)
	}
	res, err := Apply(dir, p, ApplyOptions{Now: now.Add(1e9)})
	if err != nil {
		t.Fatal(err)
	}
	msg := p.HandEdits[0].Message(res.BackupDir)
	backup := filepath.Join(res.BackupDir, rel)
	if !strings.Contains(msg, "hand-edited: "+rel+" differs from what hardway wrote on ") || !strings.Contains(msg, "your copy is in "+backup) {
		t.Errorf("message: %s", msg)
	}
	if got := mustReadFile(t, filepath.Join(dir, backup)); string(got) != string(edited) {
		t.Errorf("the backup is not the edited copy:\n%s", got)
	}
	if got := mustReadFile(t, filepath.Join(dir, rel)); string(got) != string(rendered) {
		t.Errorf("the file is not what init renders:\n%s", got)
	}
	if p := build(t, dir, c, Options{}); !p.Empty() || len(p.HandEdits) > 0 {
		t.Errorf("the run after plans %d changes, %d hand edits", len(p.Changes), len(p.HandEdits))
	}
}

// A run stopped at any write of the bundles leaves files that are either as the record (the
// nodes' manifest.json) says or as the run rendered them: the next run with the same cluster file
// reports no hand edit, nor does verify; a real edit in the same state still is one.
func TestInterruptedRunIsNotAHandEdit(t *testing.T) {
	template := initDir(t, cluster(t))
	// The cluster file changes every node's units and configuration files.
	c := cluster(t)
	c.FeatureGates = map[string]bool{"InPlacePodVerticalScaling": true}
	c.Nodes[1].Labels = map[string]string{"example.com/rack": "r1"}
	c.Nodes[1].Taints = []configs.Taint{{Key: "example.com/gpu", Effect: "NoSchedule"}}
	c.SetDefaults()
	var writes []string // in the order Apply makes them
	probe := t.TempDir()
	copyDir(t, template, probe)
	if _, err := Apply(probe, build(t, probe, c, Options{}), ApplyOptions{Now: now, BeforeWrite: func(p string) error {
		writes = append(writes, p)
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	stop := errors.New("simulated crash")
	stops := 0
	for k, w := range writes {
		if !strings.HasPrefix(w, BundleDir+"/") {
			continue
		}
		stops++
		dir := t.TempDir()
		copyDir(t, template, dir)
		n := 0
		_, err := Apply(dir, build(t, dir, c, Options{}), ApplyOptions{Now: now, BeforeWrite: func(string) error {
			if n == k {
				return stop
			}
			n++
			return nil
		}})
		if !errors.Is(err, stop) {
			t.Fatalf("stop before %s: %v", w, err)
		}
		if p := build(t, dir, c, Options{}); len(p.HandEdits) > 0 {
			t.Errorf("stopped before %s: the next run reports hand edits: %+v", w, p.HandEdits)
		}
		for _, p := range Verify(context.Background(), dir, c, now) {
			if strings.Contains(p.Message, "hand-edited") {
				t.Errorf("stopped before %s: verify: %v", w, p)
			}
		}
		// Not blind: an edit made now is one.
		rel := "nodes/w-1/var/lib/kubelet/config.yaml"
		data := mustReadFile(t, filepath.Join(dir, rel))
		if err := os.WriteFile(filepath.Join(dir, rel), append(data, "# by hand\n"...), 0o644); err != nil {
			t.Fatal(err)
		}
		if p := build(t, dir, c, Options{}); len(p.HandEdits) != 1 || p.HandEdits[0].Path != rel {
			t.Errorf("stopped before %s, then %s edited: hand edits %+v", w, rel, p.HandEdits)
		}
	}
	// Each node's changed units and configuration files, then its manifest.json, signature and archive.
	if stops < 10 || !strings.Contains(strings.Join(writes, " "), "nodes/w-1/manifest.json") {
		t.Fatalf("only %d writes of bundles to stop at: %v", stops, writes)
	}
}

func hasProblem(ps problem.List, where, contains string) bool {
	for _, p := range ps {
		if p.Where == where && strings.Contains(p.Message, contains) {
			return true
		}
	}
	return false
}
