package bootstrap

import (
	"crypto/rand"
	"fmt"
	"os"
	"testing"

	"github.com/hardway-dev/hardway/configs"
)

func bigCluster(tb testing.TB, n int, alg string) *configs.Cluster {
	tb.Helper()
	c := &configs.Cluster{KeyAlgorithm: alg, APIEndpoint: configs.Endpoint{Host: "10.0.0.100"}}
	for i := 0; i < n; i++ {
		node := configs.Node{Name: fmt.Sprintf("node-%04d", i), Addresses: []string{fmt.Sprintf("10.1.%d.%d", i/250, i%250+1)}, Roles: []string{"worker"}}
		if i < 3 {
			node.Roles = []string{"control-plane", "etcd"}
		}
		c.Nodes = append(c.Nodes, node)
	}
	c.SetDefaults()
	if err := c.Validate().Err(); err != nil {
		tb.Fatal(err)
	}
	return c
}

// Planning a whole cluster from nothing: PKI, kubeconfigs, units and bundles, in memory.
func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{3, 1000} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			c := bigCluster(b, n, configs.KeyECDSAP256)
			empty := b.TempDir()
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := Build(os.DirFS(empty), c, Options{Now: now, Rand: rand.Reader}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Writing a planned 1,000-node cluster directory (16,000 files) to disk.
func BenchmarkApply(b *testing.B) {
	c := bigCluster(b, 1000, configs.KeyECDSAP256)
	p, err := Build(os.DirFS(b.TempDir()), c, Options{Now: now, Rand: rand.Reader})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		if _, err := Apply(dir, p, ApplyOptions{Now: now}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(p.Changes)), "files")
}
