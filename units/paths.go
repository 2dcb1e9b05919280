package units

import "github.com/hardway-dev/hardway/pki"

// Where each file lives on a node. Certificates, keys and kubeconfigs take their node paths
// from the certificate catalogue (pki.Spec.NodeBase, pki.KubeconfigSpec.NodePath), the
// encryption config and the audit policy from the table beside it (pki.NodeConfigs): these
// names only give them a short spelling for the renderer. The bundles (bootstrap) copy the
// cluster directory's files to the same paths, read from the same data.
const (
	KubernetesDir = "/etc/kubernetes"
	SystemdDir    = "/etc/systemd/system"
	BinDir        = "/usr/local/bin"

	AuditLog = "/var/log/kubernetes/audit.log"

	SchedulerConfig = KubernetesDir + "/kube-scheduler.yaml"

	KubeletDir    = "/var/lib/kubelet"
	KubeletConfig = KubeletDir + "/config.yaml"

	KubeProxyDir    = "/var/lib/kube-proxy"
	KubeProxyConfig = KubeProxyDir + "/config.yaml"

	EtcdDataDir = "/var/lib/etcd"
)

var (
	CACert           = pki.MustSpec("ca").NodeCert()
	CAKey            = pki.MustSpec("ca").NodeKey() // control-plane only: the controller-manager signs CSRs
	FrontProxyCACert = pki.MustSpec("front-proxy-ca").NodeCert()
	EtcdCACert       = pki.MustSpec("etcd-ca").NodeCert()

	APIServerCert = pki.MustSpec("apiserver").NodeCert()
	APIServerKey  = pki.MustSpec("apiserver").NodeKey()
	// The API server's client certificates for the kubelets and for etcd.
	APIServerKubeletClientCert = pki.MustSpec("apiserver-kubelet-client").NodeCert()
	APIServerKubeletClientKey  = pki.MustSpec("apiserver-kubelet-client").NodeKey()
	APIServerEtcdClientCert    = pki.MustSpec("apiserver-etcd-client").NodeCert()
	APIServerEtcdClientKey     = pki.MustSpec("apiserver-etcd-client").NodeKey()
	FrontProxyClientCert       = pki.MustSpec("front-proxy-client").NodeCert()
	FrontProxyClientKey        = pki.MustSpec("front-proxy-client").NodeKey()
	ServiceAccountKey          = pki.MustSpec("sa").NodeKey()
	ServiceAccountPub          = pki.MustSpec("sa").NodePub()

	EtcdServerCert      = pki.MustSpec("etcd-server").NodeCert()
	EtcdServerKey       = pki.MustSpec("etcd-server").NodeKey()
	EtcdPeerCert        = pki.MustSpec("etcd-peer").NodeCert()
	EtcdPeerKey         = pki.MustSpec("etcd-peer").NodeKey()
	EtcdHealthcheckCert = pki.MustSpec("etcd-healthcheck-client").NodeCert()
	EtcdHealthcheckKey  = pki.MustSpec("etcd-healthcheck-client").NodeKey()

	ControllerManagerServingCert = pki.MustSpec("controller-manager-server").NodeCert()
	ControllerManagerServingKey  = pki.MustSpec("controller-manager-server").NodeKey()
	SchedulerServingCert         = pki.MustSpec("scheduler-server").NodeCert()
	SchedulerServingKey          = pki.MustSpec("scheduler-server").NodeKey()

	KubeletServingCert = pki.MustSpec("kubelet-server").NodeCert()
	KubeletServingKey  = pki.MustSpec("kubelet-server").NodeKey()

	SuperAdminKubeconfig        = pki.MustSpec("super-admin").NodeKubeconfig()
	ControllerManagerKubeconfig = pki.MustSpec("kube-controller-manager").NodeKubeconfig()
	SchedulerKubeconfig         = pki.MustSpec("kube-scheduler").NodeKubeconfig()
	KubeletKubeconfig           = pki.MustSpec("kubelet-client").NodeKubeconfig()
	KubeProxyKubeconfig         = pki.MustSpec("kube-proxy").NodeKubeconfig()

	EncryptionConfig = pki.MustNodeConfig("encryption-config").NodePath
	AuditPolicy      = pki.MustNodeConfig("audit-policy").NodePath
)
