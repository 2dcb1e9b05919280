package pki

import (
	"crypto/rand"
	"testing"
	"testing/fstest"
	"time"

	"github.com/hardway-dev/hardway/configs"
)

var testNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// haCluster is the HA example's shape, built in code so pki tests do not depend on the loader.
func haCluster(t testing.TB) *configs.Cluster {
	t.Helper()
	c := &configs.Cluster{
		Name:               "prod",
		APIEndpoint:        configs.Endpoint{Host: "k8s-api.example.internal"},
		APIServerExtraSANs: []string{"10.0.0.100"},
		Nodes: []configs.Node{
			{Name: "cp-1", Addresses: []string{"10.0.0.11"}, Hostnames: []string{"cp-1.example.internal"}, Roles: []string{"control-plane", "etcd"}},
			{Name: "cp-2", Addresses: []string{"10.0.0.12"}, Hostnames: []string{"cp-2.example.internal"}, Roles: []string{"control-plane", "etcd"}},
			{Name: "cp-3", Addresses: []string{"10.0.0.13"}, Hostnames: []string{"cp-3.example.internal"}, Roles: []string{"control-plane", "etcd"}},
			{Name: "worker-1", Addresses: []string{"10.0.0.21"}, Roles: []string{"worker"}},
			{Name: "worker-2", Addresses: []string{"10.0.0.22"}, Roles: []string{"worker"}},
			{Name: "worker-3", Addresses: []string{"10.0.0.23"}, Roles: []string{"worker"}},
		},
	}
	c.SetDefaults()
	if err := c.Validate().Err(); err != nil {
		t.Fatal(err)
	}
	return c
}

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
	for _, ch := range p.Changes {
		fsys[ch.Path] = &fstest.MapFile{Data: ch.Data, Mode: ch.Mode}
	}
	return p
}
