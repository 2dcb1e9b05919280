package pki

import (
	"testing"
	"testing/fstest"
)

func TestReconcileFromNothingThenNoop(t *testing.T) {
	c := haCluster(t)
	fsys := fstest.MapFS{}
	p := reconcileInto(t, fsys, c, Options{})
	if len(p.Changes) == 0 {
		t.Fatal("first run planned nothing")
	}
	for _, ch := range p.Changes {
		if ch.Action != Create {
			t.Errorf("%s: action %s on an empty directory", ch.Path, ch.Action)
		}
	}
	p2 := reconcileInto(t, fsys, c, Options{})
	for _, ch := range p2.Changes {
		t.Errorf("second run changes %s: %s", ch.Path, ch.Reason)
	}
	if p2.Unchanged != len(p.Changes) {
		t.Errorf("second run: %d unchanged, first run wrote %d", p2.Unchanged, len(p.Changes))
	}
}
