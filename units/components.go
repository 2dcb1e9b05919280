package units

import (
	"crypto/tls"
	"net/netip"
	"path"
	"strconv"
	"strings"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/units/bundle"
)

// Components lists every component in start order: configs.Components, the one list, typed.
var Components = func() []Component {
	out := make([]Component, len(configs.Components))
	for i, c := range configs.Components {
		out[i] = Component(c)
	}
	return append(out, PodRoutes) // hardway's own, last: it needs only the network
}()

// Ports the services listen on.
const (
	EtcdClientPort     = 2379
	EtcdPeerPort       = 2380
	KubeletHealthzPort = 10248 // plain http, 127.0.0.1 only (the kubelet default)
	// The secure ports of the controller-manager and the scheduler (their defaults), and
	// kube-proxy's health port (plain http; its default).
	ControllerManagerPort = 10257
	SchedulerPort         = 10259
	KubeProxyHealthzPort  = 10256
)

// TLSMinVersion is the lowest TLS version every Kubernetes server accepts.
const TLSMinVersion = "VersionTLS12"

// CipherSuites are the TLS 1.2 suites the Kubernetes servers accept: ECDHE key exchange with
// an AEAD cipher only (no CBC, no RSA key exchange). TLS 1.3 suites are not configurable. The
// names are Go's, which component-base's cipher-suite flag parses (tls.CipherSuiteName).
var CipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// CipherSuiteNames are CipherSuites by name, for --tls-cipher-suites and tlsCipherSuites.
func CipherSuiteNames() []string {
	out := make([]string, len(CipherSuites))
	for i, id := range CipherSuites {
		out[i] = tls.CipherSuiteName(id)
	}
	return out
}

// Node-independent values.
const (
	// FrontProxyClientCN is the front-proxy client certificate's CN: the only name allowed
	// to set requestheader identities.
	FrontProxyClientCN  = "front-proxy-client"
	ContainerdEndpoint  = "unix:///run/containerd/containerd.sock"
	kubeletPreferredIPs = "InternalIP,ExternalIP,Hostname"
	docsKubernetes      = "https://kubernetes.io/docs/reference/command-line-tools-reference/"
	docsEtcd            = "https://etcd.io/docs/"
)

// EtcdClientURL is the https client URL of an etcd member.
func EtcdClientURL(n configs.Node) string {
	return hostPortURL("https", n.InternalIP(), EtcdClientPort)
}

// EtcdPeerURL is the https peer URL of an etcd member.
func EtcdPeerURL(n configs.Node) string {
	return hostPortURL("https", n.InternalIP(), EtcdPeerPort)
}

// EtcdServers is the API server's --etcd-servers: every member's client URL.
func EtcdServers(c *configs.Cluster) string {
	var urls []string
	for _, n := range c.NodesWith(configs.RoleEtcd) {
		urls = append(urls, EtcdClientURL(n))
	}
	return strings.Join(urls, ",")
}

// InitialCluster is etcd's --initial-cluster: name=peerURL for every member.
func InitialCluster(c *configs.Cluster) string {
	var members []string
	for _, n := range c.NodesWith(configs.RoleEtcd) {
		members = append(members, n.Name+"="+EtcdPeerURL(n))
	}
	return strings.Join(members, ",")
}

// etcd is one member, https only with client-certificate authentication for clients and
// peers. It listens on the node's address only (not also on 127.0.0.1), so members of a test
// cluster on 127.0.0.1, 127.0.0.2 and 127.0.0.3 do not collide; clients use that address. Flags: etcd server/etcdmain/config.go (3.5 and 3.6). The data directory is a
// StateDirectory, which systemd creates with mode 0700 before the start; etcd itself warns
// about any other mode.
func (x *renderContext) etcd() (*service, error) {
	s := &service{
		component:   Etcd,
		description: "etcd member " + x.node.Name + " of cluster " + x.c.Name,
		docs:        docsEtcd,
		typ:         "notify",
		targets:     []string{"network-online.target"},
		extra: [][2]string{
			{"StateDirectory", strings.TrimPrefix(EtcdDataDir, "/var/lib/")},
			{"StateDirectoryMode", "0700"},
		},
		// The data directory is an entry of the bundle too, so it exists 0700 before etcd
		// first starts, whatever starts it (CIS 1.1.11).
		files: []bundle.File{{Path: EtcdDataDir, Kind: bundle.KindDirectory, Mode: 0o700}},
	}
	s.flag("name", x.node.Name)
	s.flag("data-dir", EtcdDataDir)
	s.flag("listen-client-urls", EtcdClientURL(x.node))
	s.flag("advertise-client-urls", EtcdClientURL(x.node))
	s.flag("listen-peer-urls", EtcdPeerURL(x.node))
	s.flag("initial-advertise-peer-urls", EtcdPeerURL(x.node))
	s.flag("initial-cluster", InitialCluster(x.c))
	s.flag("initial-cluster-state", "new")
	s.flag("initial-cluster-token", x.c.Name)
	s.flag("client-cert-auth", "true")
	s.file("trusted-ca-file", EtcdCACert)
	s.file("cert-file", EtcdServerCert)
	s.file("key-file", EtcdServerKey)
	s.flag("peer-client-cert-auth", "true")
	s.file("peer-trusted-ca-file", EtcdCACert)
	s.file("peer-cert-file", EtcdPeerCert)
	s.file("peer-key-file", EtcdPeerKey)
	s.health = &bundle.Health{
		Kind: bundle.HealthEtcd,
		URL:  EtcdClientURL(x.node) + "/health",
		CA:   EtcdCACert,
		Cert: EtcdHealthcheckCert,
		Key:  EtcdHealthcheckKey,
	}
	return s, nil
}

// apiServer is kube-apiserver, hardened past kubeadm's defaults (CIS 1.2.x): no anonymous
// requests, Node+RBAC, NodeRestriction, verified kubelet serving certificates, secrets
// encrypted at rest, an audit log, no profiling, injected service-account tokens not extended
// to a year, TLS 1.2+ with AEAD suites only.
func (x *renderContext) apiServer() (*service, error) {
	audit, err := auditPolicyFile()
	if err != nil {
		return nil, err
	}
	s := &service{
		component:   APIServer,
		description: "Kubernetes API server",
		docs:        docsKubernetes + "kube-apiserver/",
		typ:         "exec",
		targets:     []string{"network-online.target"},
		extra: [][2]string{
			// The audit log's directory (/var/log/kubernetes), created 0700: it records who
			// did what.
			{"LogsDirectory", strings.TrimPrefix(path.Dir(AuditLog), "/var/log/")},
			{"LogsDirectoryMode", "0700"},
		},
		files: []bundle.File{audit},
	}
	if x.node.Has(configs.RoleEtcd) {
		s.after = []string{Etcd.UnitName()}
	}
	s.flag("advertise-address", x.ip)
	// The API server refuses a loopback advertise address for the endpoints of the "kubernetes"
	// service ("may not be in the loopback range") and exits: a cluster on 127.0.0.1 (one
	// machine) runs without the endpoint reconciler, as nothing outside the machine can reach it.
	if ip, err := netip.ParseAddr(x.ip); err == nil && ip.IsLoopback() {
		s.flag("endpoint-reconciler-type", "none")
	}
	// The API server listens on the endpoint's port: the node itself is the endpoint without a
	// load balancer, and a TCP load balancer forwards to the same port.
	s.flag("secure-port", strconv.Itoa(x.apiPort))
	s.flag("allow-privileged", "true")
	s.flag("anonymous-auth", "false")
	s.flag("authorization-mode", "Node,RBAC")
	s.flag("enable-admission-plugins", "NodeRestriction")
	s.flag("profiling", "false")
	s.file("client-ca-file", CACert)
	s.file("tls-cert-file", APIServerCert)
	s.file("tls-private-key-file", APIServerKey)
	s.flag("tls-min-version", TLSMinVersion)
	s.flag("tls-cipher-suites", strings.Join(CipherSuiteNames(), ","))
	s.flag("etcd-servers", EtcdServers(x.c))
	s.file("etcd-cafile", EtcdCACert)
	s.file("etcd-certfile", APIServerEtcdClientCert)
	s.file("etcd-keyfile", APIServerEtcdClientKey)
	s.file("kubelet-certificate-authority", CACert)
	s.file("kubelet-client-certificate", APIServerKubeletClientCert)
	s.file("kubelet-client-key", APIServerKubeletClientKey)
	s.flag("kubelet-preferred-address-types", kubeletPreferredIPs)
	s.file("encryption-provider-config", EncryptionConfig)
	s.flag("service-account-issuer", "https://kubernetes.default.svc."+x.c.DNSDomain)
	s.file("service-account-key-file", ServiceAccountPub)
	s.file("service-account-signing-key-file", ServiceAccountKey)
	// Tokens the ServiceAccount admission plugin injects live as long as they say (an hour),
	// not a year (CIS 1.2.30): the extension only eased the move to bound tokens (1.21).
	s.flag("service-account-extend-token-expiration", "false")
	s.flag("service-cluster-ip-range", x.c.ServiceCIDR)
	s.file("requestheader-client-ca-file", FrontProxyCACert)
	s.flag("requestheader-allowed-names", FrontProxyClientCN)
	s.flag("requestheader-username-headers", "X-Remote-User")
	s.flag("requestheader-group-headers", "X-Remote-Group")
	s.flag("requestheader-extra-headers-prefix", "X-Remote-Extra-")
	s.file("proxy-client-cert-file", FrontProxyClientCert)
	s.file("proxy-client-key-file", FrontProxyClientKey)
	s.file("audit-policy-file", AuditPolicy)
	s.flag("audit-log-path", AuditLog)
	s.flag("audit-log-maxage", "30")
	s.flag("audit-log-maxbackup", "10")
	s.flag("audit-log-maxsize", "100")
	s.health = &bundle.Health{
		Kind: bundle.HealthAPIServer,
		URL:  hostPortURL("https", x.ip, x.apiPort) + "/readyz",
		CA:   CACert,
		// Any client certificate the API server trusts may read /readyz
		// (system:public-info-viewer); this one is on every control-plane node.
		Cert: APIServerKubeletClientCert,
		Key:  APIServerKubeletClientKey,
	}
	return s, nil
}

// controllerManager is kube-controller-manager: it signs kubelet CSRs with the cluster CA,
// issues service-account tokens with sa.key and allocates pod CIDRs. It serves only on
// 127.0.0.1. Flags: cmd/kube-controller-manager/app/options.
func (x *renderContext) controllerManager() (*service, error) {
	s := &service{
		component:   ControllerManager,
		description: "Kubernetes controller manager",
		docs:        docsKubernetes + "kube-controller-manager/",
		typ:         "exec",
		targets:     []string{"network-online.target"},
		after:       []string{APIServer.UnitName()},
	}
	s.flag("bind-address", "127.0.0.1")
	s.flag("cluster-name", x.c.Name)
	s.file("kubeconfig", ControllerManagerKubeconfig)
	s.file("authentication-kubeconfig", ControllerManagerKubeconfig)
	s.file("authorization-kubeconfig", ControllerManagerKubeconfig)
	s.file("client-ca-file", CACert)
	s.file("requestheader-client-ca-file", FrontProxyCACert)
	s.file("root-ca-file", CACert)
	s.file("cluster-signing-cert-file", CACert)
	s.file("cluster-signing-key-file", CAKey)
	s.file("service-account-private-key-file", ServiceAccountKey)
	s.flag("use-service-account-credentials", "true")
	// Each node's pod range is the cluster file's (its CNI configuration and the other nodes'
	// routes are rendered from it), so the controller-manager allocates none; hardway launch
	// writes the same range into the Node's spec.podCIDR.
	s.flag("allocate-node-cidrs", "false")
	s.flag("service-cluster-ip-range", x.c.ServiceCIDR)
	s.flag("profiling", "false")
	s.file("tls-cert-file", ControllerManagerServingCert)
	s.file("tls-private-key-file", ControllerManagerServingKey)
	s.flag("tls-min-version", TLSMinVersion)
	s.flag("tls-cipher-suites", strings.Join(CipherSuiteNames(), ","))
	s.health = localHealthz(ControllerManagerPort)
	return s, nil
}

// scheduler is kube-scheduler with a KubeSchedulerConfiguration; --profiling and --kubeconfig
// are deprecated flags there (see version.go), so they are config fields.
func (x *renderContext) scheduler() (*service, error) {
	cfg, err := schedulerConfigFile(x)
	if err != nil {
		return nil, err
	}
	s := &service{
		component:   Scheduler,
		description: "Kubernetes scheduler",
		docs:        docsKubernetes + "kube-scheduler/",
		typ:         "exec",
		targets:     []string{"network-online.target"},
		after:       []string{APIServer.UnitName()},
		files:       []bundle.File{cfg},
	}
	s.file("config", SchedulerConfig)
	s.flag("bind-address", "127.0.0.1")
	s.file("authentication-kubeconfig", SchedulerKubeconfig)
	s.file("authorization-kubeconfig", SchedulerKubeconfig)
	s.file("tls-cert-file", SchedulerServingCert)
	s.file("tls-private-key-file", SchedulerServingKey)
	s.flag("tls-min-version", TLSMinVersion)
	s.flag("tls-cipher-suites", strings.Join(CipherSuiteNames(), ","))
	s.health = localHealthz(SchedulerPort)
	return s, nil
}

// localHealthz probes a control-plane component's /healthz on its secure port on 127.0.0.1,
// verifying its serving certificate against the cluster CA and presenting a client certificate
// the component's delegated authentication accepts (any the cluster CA signed; /healthz is
// always authorized). The API server's kubelet client is on every control-plane node.
func localHealthz(port int) *bundle.Health {
	return &bundle.Health{
		Kind: bundle.HealthHTTP,
		URL:  hostPortURL("https", "127.0.0.1", port) + "/healthz",
		CA:   CACert,
		Cert: APIServerKubeletClientCert,
		Key:  APIServerKubeletClientKey,
	}
}

// kubelet is the node agent with a KubeletConfiguration; its node name is forced to the
// cluster file's, which is the CN (system:node:<name>) of its client certificate.
func (x *renderContext) kubelet() (*service, error) {
	cfg, inputs, err := kubeletConfigFile(x)
	if err != nil {
		return nil, err
	}
	s := &service{
		component:   Kubelet,
		description: "Kubernetes node agent (kubelet)",
		docs:        docsKubernetes + "kubelet/",
		typ:         "exec",
		targets:     []string{"network-online.target"},
		after:       []string{Containerd.UnitName()},
		files:       []bundle.File{cfg},
		inputs:      inputs,
	}
	s.file("config", KubeletConfig)
	s.file("kubeconfig", KubeletKubeconfig)
	s.flag("hostname-override", x.node.Name)
	s.flag("node-ip", x.ip)
	s.health = &bundle.Health{
		Kind: bundle.HealthKubelet,
		URL:  hostPortURL("http", "127.0.0.1", KubeletHealthzPort) + "/healthz",
	}
	return s, nil
}

// kubeProxy is kube-proxy with a KubeProxyConfiguration.
func (x *renderContext) kubeProxy() (*service, error) {
	cfg, inputs, err := kubeProxyConfigFile(x)
	if err != nil {
		return nil, err
	}
	s := &service{
		component:   KubeProxy,
		description: "Kubernetes network proxy (kube-proxy)",
		docs:        docsKubernetes + "kube-proxy/",
		typ:         "exec",
		targets:     []string{"network-online.target"},
		files:       []bundle.File{cfg},
		inputs:      inputs,
	}
	s.file("config", KubeProxyConfig)
	s.health = &bundle.Health{Kind: bundle.HealthHTTP, URL: hostPortURL("http", x.ip, KubeProxyHealthzPort) + "/healthz"}
	return s, nil
}
