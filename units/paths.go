package units

// Where each file lives on a node. The bundles (bootstrap) copy the cluster directory's files to
// these paths; the units and config files reference them. One table, so the two never disagree.
const (
	KubernetesDir = "/etc/kubernetes"
	PKIDir        = "/etc/kubernetes/pki"
	EtcdPKIDir    = "/etc/kubernetes/pki/etcd"
	SystemdDir    = "/etc/systemd/system"
	BinDir        = "/usr/local/bin"

	CACert              = PKIDir + "/ca.crt"
	CAKey               = PKIDir + "/ca.key" // control-plane only: the controller-manager signs CSRs
	APIServerCert       = PKIDir + "/apiserver.crt"
	APIServerKey        = PKIDir + "/apiserver.key"
	KubeletClientCert   = PKIDir + "/apiserver-kubelet-client.crt"
	KubeletClientKey    = PKIDir + "/apiserver-kubelet-client.key"
	EtcdClientCert      = PKIDir + "/apiserver-etcd-client.crt"
	EtcdClientKey       = PKIDir + "/apiserver-etcd-client.key"
	FrontProxyCACert    = PKIDir + "/front-proxy-ca.crt"
	FrontProxyCert      = PKIDir + "/front-proxy-client.crt"
	FrontProxyKey       = PKIDir + "/front-proxy-client.key"
	ServiceAccountKey   = PKIDir + "/sa.key"
	ServiceAccountPub   = PKIDir + "/sa.pub"
	EtcdCACert          = EtcdPKIDir + "/ca.crt"
	EtcdServerCert      = EtcdPKIDir + "/server.crt"
	EtcdServerKey       = EtcdPKIDir + "/server.key"
	EtcdPeerCert        = EtcdPKIDir + "/peer.crt"
	EtcdPeerKey         = EtcdPKIDir + "/peer.key"
	EtcdHealthcheckCert = EtcdPKIDir + "/healthcheck-client.crt"
	EtcdHealthcheckKey  = EtcdPKIDir + "/healthcheck-client.key"

	EncryptionConfig = KubernetesDir + "/encryption-config.yaml"
	AuditPolicy      = KubernetesDir + "/audit-policy.yaml"
	AuditLog         = "/var/log/kubernetes/audit.log"

	AdminKubeconfig             = KubernetesDir + "/admin.kubeconfig"
	SuperAdminKubeconfig        = KubernetesDir + "/super-admin.kubeconfig"
	ControllerManagerKubeconfig = KubernetesDir + "/controller-manager.kubeconfig"
	SchedulerKubeconfig         = KubernetesDir + "/scheduler.kubeconfig"
	KubeletKubeconfig           = KubernetesDir + "/kubelet.kubeconfig"
	KubeProxyKubeconfig         = KubernetesDir + "/kube-proxy.kubeconfig"

	SchedulerConfig = KubernetesDir + "/kube-scheduler.yaml"

	KubeletDir         = "/var/lib/kubelet"
	KubeletConfig      = KubeletDir + "/config.yaml"
	KubeletServingCert = KubeletDir + "/pki/kubelet.crt"
	KubeletServingKey  = KubeletDir + "/pki/kubelet.key"

	KubeProxyDir    = "/var/lib/kube-proxy"
	KubeProxyConfig = KubeProxyDir + "/config.yaml"

	EtcdDataDir = "/var/lib/etcd"
)
