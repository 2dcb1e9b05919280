package units

import (
	"bytes"
	"encoding/json"
	"fmt"

	toml "github.com/pelletier/go-toml/v2"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/units/addons"
	"github.com/hardway-dev/hardway/units/bundle"
	"github.com/hardway-dev/hardway/units/routes"
)

// The runtime layer's node paths: containerd's config and socket, the CNI configuration and
// the pod routes.
const (
	ContainerdConfig = "/etc/containerd/config.toml"
	ContainerdSocket = "/run/containerd/containerd.sock"
	ContainerdRoot   = "/var/lib/containerd"
	ContainerdState  = "/run/containerd"
	CNIConfDir       = "/etc/cni/net.d"
	CNIBridgeConfig  = CNIConfDir + "/10-hardway-bridge.conflist"
	CNILoopback      = CNIConfDir + "/99-loopback.conf"
	// PodRoutesConfig is hardway's own file, so it lives beside hardway's other node state
	// rather than among the Kubernetes components' files.
	PodRoutesConfig = "/etc/hardway/pod-routes.yaml"
	// CNIBridge is the Linux bridge the pods of a node attach to.
	CNIBridge = "cni0"
	// CNINetwork is the name of the pod network in the CNI configuration.
	CNINetwork = "hardway"
	// cniVersion is the CNI specification the configuration is written to: 1.0.0, which
	// Debian's containernetworking-plugins (1.1) and containerd 1.6's go-cni read.
	cniVersion = "1.0.0"
)

// containerd is the container runtime the kubelet drives over CRI, from the distribution's
// package (Debian's containerd, runc and containernetworking-plugins by default; the cluster
// file's binaries section moves them). Its unit follows containerd's own
// (containerd/containerd.service): Delegate=yes so it manages the cgroups of its containers,
// KillMode=process so a restart leaves running containers alone, and, on a normal host, the
// lowest OOM score and no limits on tasks, processes and core size. runtime.restrictOOMScoreAdj
// drops the score and the raised limits, which a host without CAP_SYS_RESOURCE refuses.
func (x *renderContext) containerd() (*service, error) {
	cfg, err := containerdConfigFile(x.c)
	if err != nil {
		return nil, err
	}
	cni, err := cniFiles(x.node)
	if err != nil {
		return nil, err
	}
	s := &service{
		component:   Containerd,
		description: "containerd container runtime",
		docs:        "https://containerd.io",
		typ:         "notify", // containerd sends READY=1 once its plugins are up
		targets:     []string{"network-online.target"},
		program:     []string{x.c.Binary(configs.BinaryContainerd)},
		extra:       [][2]string{{"Delegate", "yes"}, {"KillMode", "process"}},
		files:       append([]bundle.File{cfg}, cni...),
	}
	if !x.c.Runtime.RestrictOOMScoreAdj {
		s.extra = append(s.extra, [2]string{"OOMScoreAdjust", "-999"}, [2]string{"TasksMax", "infinity"},
			[2]string{"LimitNPROC", "infinity"}, [2]string{"LimitCORE", "infinity"})
	}
	s.file("config", ContainerdConfig)
	s.health = &bundle.Health{Kind: bundle.HealthSocket, URL: "unix://" + ContainerdSocket}
	return s, nil
}

// ContainerdConfiguration is containerd's config.toml, version 2 (containerd 1.5 to 1.7): the
// CRI plugin with runc under the kubelet's cgroup driver, the sandbox image and the CNI
// directories. Only what hardway sets is written; containerd defaults the rest.
type ContainerdConfiguration struct {
	Version int                    `toml:"version"`
	Root    string                 `toml:"root"`
	State   string                 `toml:"state"`
	GRPC    ContainerdGRPC         `toml:"grpc"`
	Plugins ContainerdPluginConfig `toml:"plugins"`
}

// ContainerdGRPC is containerd's [grpc] section.
type ContainerdGRPC struct {
	Address string `toml:"address"`
}

// ContainerdPluginConfig holds the plugins hardway configures.
type ContainerdPluginConfig struct {
	CRI ContainerdCRI `toml:"io.containerd.grpc.v1.cri"`
}

// ContainerdCRI is the CRI plugin's section.
type ContainerdCRI struct {
	SandboxImage string `toml:"sandbox_image"`
	// RestrictOOMScoreAdj keeps containers' OOM scores at or above containerd's own.
	RestrictOOMScoreAdj bool                `toml:"restrict_oom_score_adj"`
	Containerd          ContainerdRuntimes  `toml:"containerd"`
	CNI                 ContainerdCNIConfig `toml:"cni"`
}

// ContainerdRuntimes names the default runtime and configures runc.
type ContainerdRuntimes struct {
	DefaultRuntimeName string                       `toml:"default_runtime_name"`
	Runtimes           map[string]ContainerdRuntime `toml:"runtimes"`
}

// ContainerdRuntime is one runtime (runc).
type ContainerdRuntime struct {
	RuntimeType string                `toml:"runtime_type"`
	Options     ContainerdRuncOptions `toml:"options"`
}

// ContainerdRuncOptions are runc's options: its binary and whether systemd owns the cgroups.
type ContainerdRuncOptions struct {
	BinaryName    string `toml:"BinaryName"`
	SystemdCgroup bool   `toml:"SystemdCgroup"`
}

// ContainerdCNIConfig says where the CRI plugin finds the CNI plugins and configuration.
type ContainerdCNIConfig struct {
	BinDir  string `toml:"bin_dir"`
	ConfDir string `toml:"conf_dir"`
}

// ContainerdSettings returns the node's containerd configuration from the cluster model.
func ContainerdSettings(c *configs.Cluster) *ContainerdConfiguration {
	return &ContainerdConfiguration{
		Version: 2,
		Root:    ContainerdRoot,
		State:   ContainerdState,
		GRPC:    ContainerdGRPC{Address: ContainerdSocket},
		Plugins: ContainerdPluginConfig{CRI: ContainerdCRI{
			SandboxImage:        c.Runtime.SandboxImage,
			RestrictOOMScoreAdj: c.Runtime.RestrictOOMScoreAdj,
			Containerd: ContainerdRuntimes{
				DefaultRuntimeName: "runc",
				Runtimes: map[string]ContainerdRuntime{"runc": {
					RuntimeType: "io.containerd.runc.v2",
					Options: ContainerdRuncOptions{
						BinaryName:    c.Binary(configs.BinaryRunc),
						SystemdCgroup: c.Runtime.CgroupDriver == configs.CgroupDriverSystemd,
					},
				}},
			},
			CNI: ContainerdCNIConfig{BinDir: c.Binary(configs.BinaryCNIDir), ConfDir: CNIConfDir},
		}},
	}
}

func containerdConfigFile(c *configs.Cluster) (bundle.File, error) {
	var b bytes.Buffer
	b.WriteString("# containerd configuration, rendered by hardway. Edit the cluster file and render again rather than this file.\n")
	enc := toml.NewEncoder(&b)
	enc.SetIndentTables(true)
	if err := enc.Encode(ContainerdSettings(c)); err != nil {
		return bundle.File{}, fmt.Errorf("containerd config: %w", err)
	}
	return bundle.File{Path: ContainerdConfig, Kind: bundle.KindConfig, Data: b.Bytes(), Mode: ConfigMode}, nil
}

// CNIConfList is a CNI network configuration list (the CNI specification's fields that
// hardway writes).
type CNIConfList struct {
	CNIVersion string      `json:"cniVersion"`
	Name       string      `json:"name"`
	Plugins    []CNIPlugin `json:"plugins"`
}

// CNIPlugin is one plugin of the bridge network: the bridge plugin with host-local IPAM, then
// portmap for hostPort.
type CNIPlugin struct {
	Type         string          `json:"type"`
	Bridge       string          `json:"bridge,omitempty"`
	IsGateway    bool            `json:"isGateway,omitempty"`
	IPMasq       bool            `json:"ipMasq,omitempty"`
	HairpinMode  bool            `json:"hairpinMode,omitempty"`
	IPAM         *CNIIPAM        `json:"ipam,omitempty"`
	Capabilities map[string]bool `json:"capabilities,omitempty"`
}

// CNIIPAM is host-local IPAM over the node's pod range.
type CNIIPAM struct {
	Type   string       `json:"type"`
	Ranges [][]CNIRange `json:"ranges"`
	Routes []CNIRoute   `json:"routes"`
}

// CNIRange is one address range of host-local.
type CNIRange struct {
	Subnet string `json:"subnet"`
}

// CNIRoute is a route host-local gives each pod.
type CNIRoute struct {
	Dst string `json:"dst"`
}

// CNILoopbackConf is the loopback plugin's configuration, which brings up each pod's lo.
type CNILoopbackConf struct {
	CNIVersion string `json:"cniVersion"`
	Name       string `json:"name"`
	Type       string `json:"type"`
}

// CNIBridgeNetwork is the node's pod network: a bridge (cni0) that is the pods' gateway, host-local
// addresses from the node's own pod range, masquerading for traffic that leaves the pod
// range, hairpin so a pod reaches itself through its Service, and portmap for hostPort.
// Pods on other nodes are reached through the node's routes (pod-routes.service).
func CNIBridgeNetwork(podCIDR string) *CNIConfList {
	return &CNIConfList{
		CNIVersion: cniVersion,
		Name:       CNINetwork,
		Plugins: []CNIPlugin{
			{
				Type: "bridge", Bridge: CNIBridge, IsGateway: true, IPMasq: true, HairpinMode: true,
				IPAM: &CNIIPAM{Type: "host-local", Ranges: [][]CNIRange{{{Subnet: podCIDR}}}, Routes: []CNIRoute{{Dst: "0.0.0.0/0"}}},
			},
			{Type: "portmap", Capabilities: map[string]bool{"portMappings": true}},
		},
	}
}

// cniFiles are the node's CNI configuration files.
func cniFiles(node configs.Node) ([]bundle.File, error) {
	bridge, err := json.MarshalIndent(CNIBridgeNetwork(node.PodCIDR), "", "  ")
	if err != nil {
		return nil, err
	}
	lo, err := json.MarshalIndent(CNILoopbackConf{CNIVersion: cniVersion, Name: "lo", Type: "loopback"}, "", "  ")
	if err != nil {
		return nil, err
	}
	return []bundle.File{
		{Path: CNIBridgeConfig, Kind: bundle.KindConfig, Data: append(bridge, '\n'), Mode: ConfigMode},
		{Path: CNILoopback, Kind: bundle.KindConfig, Data: append(lo, '\n'), Mode: ConfigMode},
	}, nil
}

// podRoutes are the routes node needs to the other worker nodes' pods.
func podRoutes(c *configs.Cluster, node configs.Node) []routes.Route {
	var out []routes.Route
	for _, n := range c.NodesWith(configs.RoleWorker) {
		if n.Name != node.Name && n.PodCIDR != "" {
			out = append(out, routes.Route{Node: n.Name, Destination: n.PodCIDR, Via: n.InternalIP()})
		}
	}
	return out
}

// podRoutes is the oneshot unit that installs the node's routes to the other nodes' pods with
// `hardway routes` when it starts and removes them when it stops.
func (x *renderContext) podRoutes() (*service, error) {
	data, err := routes.Marshal(x.node.Name, podRoutes(x.c, x.node))
	if err != nil {
		return nil, fmt.Errorf("pod routes: %w", err)
	}
	s := &service{
		component:   PodRoutes,
		description: "routes to the pods of the other nodes of cluster " + x.c.Name,
		docs:        "https://github.com/hardway-dev/hardway",
		typ:         "oneshot",
		targets:     []string{"network-online.target"},
		program:     []string{HardwayBinary, PodRoutes.hardwayCommand()},
		extra: [][2]string{
			{"RemainAfterExit", "yes"},
			{"ExecStop", HardwayBinary + " " + PodRoutes.hardwayCommand() + " --remove"},
		},
		files: []bundle.File{{Path: PodRoutesConfig, Kind: bundle.KindConfig, Data: data, Mode: ConfigMode}},
	}
	s.flag("config", PodRoutesConfig)
	return s, nil
}

// coreDNSAddon is the cluster DNS add-on's manifest: CoreDNS serving the kubelets' clusterDNS
// address, applied by launch on the first control-plane node.
func coreDNSAddon(c *configs.Cluster) (bundle.File, error) {
	dns, err := nthAddr(c.ServiceCIDR, 10)
	if err != nil {
		return bundle.File{}, fmt.Errorf("serviceCIDR %q: cluster DNS address: %w", c.ServiceCIDR, err)
	}
	data, err := addons.CoreDNS(addons.CoreDNSParams{DNSDomain: c.DNSDomain, ClusterDNS: dns, Image: c.DNS.Image, Replicas: int32(c.DNS.Replicas)})
	if err != nil {
		return bundle.File{}, err
	}
	return bundle.File{Path: addons.CoreDNSManifest, Kind: bundle.KindConfig, Data: data, Mode: ConfigMode}, nil
}

// PodCIDR is the node's pod range as its bundle's CNI configuration hands it out, or "" when
// the bundle has none (a node without pods).
func PodCIDR(b *bundle.Bundle) (string, error) {
	f, ok := b.File(CNIBridgeConfig)
	if !ok {
		return "", nil
	}
	var conf CNIConfList
	if err := json.Unmarshal(f.Data, &conf); err != nil {
		return "", fmt.Errorf("%s: %w", CNIBridgeConfig, err)
	}
	for _, p := range conf.Plugins {
		if p.IPAM != nil && len(p.IPAM.Ranges) > 0 && len(p.IPAM.Ranges[0]) > 0 {
			return p.IPAM.Ranges[0][0].Subnet, nil
		}
	}
	return "", fmt.Errorf("%s: no host-local range", CNIBridgeConfig)
}
