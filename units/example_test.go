package units_test

import (
	"fmt"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/units"
)

// Render a node's units and files; a bundle adds the node's certificates and kubeconfigs and
// writes them all, and a launcher starts the units in order and waits for their health.
func ExampleRenderNode() {
	c := &configs.Cluster{
		Name: "demo",
		Nodes: []configs.Node{
			{Name: "cp-1", Addresses: []string{"10.0.0.11"}, Roles: []string{configs.RoleControlPlane, configs.RoleEtcd}},
			{Name: "w-1", Addresses: []string{"10.0.0.21"}, Roles: []string{configs.RoleWorker}},
		},
	}
	c.SetDefaults()
	r, err := units.RenderNode(c, c.Nodes[0], units.Options{
		Implementation: map[units.Component]units.Implementation{units.Etcd: units.Hardway},
	})
	if err != nil {
		panic(err)
	}
	for _, u := range r.Units {
		fmt.Println(u.Name, u.Command, "after", u.After)
	}
	for _, f := range r.Files {
		fmt.Printf("%s %o\n", f.Path, f.Mode)
	}
	fmt.Println(r.Units[0].Health.URL)
	// Output:
	// etcd.service [/usr/local/bin/hardway etcd] after []
	// kube-apiserver.service [/usr/local/bin/kube-apiserver] after [etcd.service]
	// kube-controller-manager.service [/usr/local/bin/kube-controller-manager] after [kube-apiserver.service]
	// kube-scheduler.service [/usr/local/bin/kube-scheduler] after [kube-apiserver.service]
	// pod-routes.service [/usr/local/bin/hardway routes] after []
	// /etc/hardway/pod-routes.yaml 600
	// /etc/kubernetes/addons/coredns.yaml 600
	// /etc/kubernetes/audit-policy.yaml 600
	// /etc/kubernetes/kube-scheduler.yaml 600
	// /etc/systemd/system/etcd.service 600
	// /etc/systemd/system/kube-apiserver.service 600
	// /etc/systemd/system/kube-controller-manager.service 600
	// /etc/systemd/system/kube-scheduler.service 600
	// /etc/systemd/system/pod-routes.service 600
	// /var/lib/etcd 700
	// https://10.0.0.11:2379/health
}
