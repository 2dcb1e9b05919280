//go:build bench_load

// Benchmark-sized loads (1,000-node clusters) build only with -tags bench_load: see the
// README's test section and docs/benchmarks.md.

package units

import (
	"fmt"
	"testing"

	"github.com/hardway-dev/hardway/configs"
)

// bigCluster is a generated cluster of n nodes: five control-plane nodes that run etcd, the
// rest workers.
func bigCluster(n int) *configs.Cluster {
	c := &configs.Cluster{Name: "big", ServiceCIDR: "10.96.0.0/12", PodCIDR: "10.128.0.0/9",
		APIEndpoint: configs.Endpoint{Host: "10.0.0.1"}}
	for i := range n {
		node := configs.Node{
			Name:      fmt.Sprintf("node-%04d", i),
			Addresses: []string{fmt.Sprintf("10.%d.%d.%d", 1+i/65536, (i/256)%256, i%256)},
			Roles:     []string{configs.RoleWorker},
		}
		if i < 5 {
			node.Roles = []string{configs.RoleControlPlane, configs.RoleEtcd}
		}
		c.Nodes = append(c.Nodes, node)
	}
	c.SetDefaults()
	return c
}

func TestBigClusterIsValid(t *testing.T) {
	if err := bigCluster(1000).Validate().Err(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkRenderAll1000 renders every node of a 1,000-node cluster per iteration.
func BenchmarkRenderAll1000(b *testing.B) {
	c := bigCluster(1000)
	b.ReportAllocs()
	for b.Loop() {
		rs, err := RenderAll(c, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(rs) != 1000 {
			b.Fatal(len(rs))
		}
	}
}
