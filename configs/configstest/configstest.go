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

// HA is configs/examples/ha.yaml built in code (so tests need no loader): three control-plane
// nodes running etcd behind k8s-api.example.internal (extra SAN 10.0.0.100), three workers.
func HA() *configs.Cluster {
	c := &configs.Cluster{
		Name:               "prod",
		APIEndpoint:        configs.Endpoint{Host: "k8s-api.example.internal"},
		APIServerExtraSANs: []string{"10.0.0.100"},
	}
	for i := 1; i <= 3; i++ {
		c.Nodes = append(c.Nodes, configs.Node{Name: fmt.Sprintf("cp-%d", i), Addresses: []string{fmt.Sprintf("10.0.0.1%d", i)},
			Hostnames: []string{fmt.Sprintf("cp-%d.example.internal", i)}, Roles: []string{configs.RoleControlPlane, configs.RoleEtcd}})
	}
	for i := 1; i <= 3; i++ {
		c.Nodes = append(c.Nodes, configs.Node{Name: fmt.Sprintf("worker-%d", i), Addresses: []string{fmt.Sprintf("10.0.0.2%d", i)},
			Hostnames: []string{fmt.Sprintf("worker-%d.example.internal", i)}, Roles: []string{configs.RoleWorker}})
	}
	c.SetDefaults()
	if err := c.Validate().Err(); err != nil {
		panic(err)
	}
	return c
}
