// Package configstest builds cluster models for tests and benchmarks in other packages.
package configstest

import (
	"fmt"

	"github.com/hardway-dev/hardway/configs"
)

// Generated is a defaulted, valid cluster of n nodes with key algorithm alg: three
// control-plane nodes that run etcd (fewer when n < 3), the rest workers, behind 10.0.0.100.
// scripts/gen-cluster.sh writes the same shape as a file.
func Generated(n int, alg string) *configs.Cluster {
	c := &configs.Cluster{Name: "bench", KeyAlgorithm: alg, APIEndpoint: configs.Endpoint{Host: "10.0.0.100"}}
	for i := 0; i < n; i++ {
		node := configs.Node{Name: fmt.Sprintf("node-%04d", i), Addresses: []string{fmt.Sprintf("10.1.%d.%d", i/250, i%250+1)}, Roles: []string{configs.RoleWorker}}
		if i < 3 {
			node.Roles = []string{configs.RoleControlPlane, configs.RoleEtcd}
		}
		c.Nodes = append(c.Nodes, node)
	}
	c.SetDefaults()
	if err := c.Validate().Err(); err != nil {
		panic(err)
	}
	return c
}
