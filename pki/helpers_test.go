package pki

import (
	"crypto/rand"
	"testing"
	"testing/fstest"
	"time"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/configs/configstest"
)

var testNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// haCluster is the HA example's shape.
func haCluster(t testing.TB) *configs.Cluster { return configstest.HA() }

// reconcileInto runs Reconcile against fsys and applies the plan to it, as bootstrap would.
func reconcileInto(t testing.TB, fsys fstest.MapFS, c *configs.Cluster, opt Options) *Plan {
	t.Helper()
	if opt.Now.IsZero() {
		opt.Now = testNow
	}
	if opt.Rand == nil {
		opt.Rand = rand.Reader
	}
	p, err := Reconcile(fsys, c, opt)
	if err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	applyFirst(fsys, p, len(p.Changes)+len(p.Finally))
	return p
}
