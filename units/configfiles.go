package units

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
	componentbaseconfigv1alpha1 "k8s.io/component-base/config/v1alpha1"
	kubeproxyconfigv1alpha1 "k8s.io/kube-proxy/config/v1alpha1"
	kubeschedulerconfigv1 "k8s.io/kube-scheduler/config/v1"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"
	"sigs.k8s.io/yaml"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/pki"
	"github.com/hardway-dev/hardway/units/bundle"
)

// Config files are the upstream typed structs (k8s.io/kubelet, k8s.io/kube-proxy,
// k8s.io/kube-scheduler, k8s.io/apiserver audit), serialized with sigs.k8s.io/yaml.

// KubeletConfiguration is the kubelet's config file for the node: x509 client authentication
// against the cluster CA, no anonymous requests, webhook authentication and authorization,
// the node's CA-signed serving certificate (not self-signed, not rotated: hardway issues it),
// the cluster file's cgroup driver (systemd by default) and containerd.
func KubeletConfiguration(c *configs.Cluster, clusterDNS string) *kubeletconfigv1beta1.KubeletConfiguration {
	return &kubeletconfigv1beta1.KubeletConfiguration{
		TypeMeta: metav1.TypeMeta{APIVersion: "kubelet.config.k8s.io/v1beta1", Kind: "KubeletConfiguration"},
		Authentication: kubeletconfigv1beta1.KubeletAuthentication{
			X509:      kubeletconfigv1beta1.KubeletX509Authentication{ClientCAFile: CACert},
			Webhook:   kubeletconfigv1beta1.KubeletWebhookAuthentication{Enabled: ptr(true)},
			Anonymous: kubeletconfigv1beta1.KubeletAnonymousAuthentication{Enabled: ptr(false)},
		},
		Authorization:            kubeletconfigv1beta1.KubeletAuthorization{Mode: kubeletconfigv1beta1.KubeletAuthorizationModeWebhook},
		TLSCertFile:              KubeletServingCert,
		TLSPrivateKeyFile:        KubeletServingKey,
		TLSMinVersion:            TLSMinVersion,
		TLSCipherSuites:          CipherSuiteNames(),
		RotateCertificates:       false,
		ServerTLSBootstrap:       false,
		ReadOnlyPort:             0,
		CgroupDriver:             c.Runtime.CgroupDriver,
		FailCgroupV1:             ptr(!c.Runtime.AllowCgroupV1),
		ClusterDomain:            c.DNSDomain,
		ClusterDNS:               []string{clusterDNS},
		ContainerRuntimeEndpoint: ContainerdEndpoint,
	}
}

// kubeletExplicit are KubeletConfiguration fields whose zero value is what hardway wants and
// that the struct omits when zero; they are written anyway so a reader (or a CIS scanner) sees
// them: the read-only port is off, the kubelet rotates no certificate.
var kubeletExplicit = map[string]any{"readOnlyPort": 0, "rotateCertificates": false, "serverTLSBootstrap": false}

func kubeletConfigFile(x *renderContext) (bundle.File, []string, error) {
	cfg := KubeletConfiguration(x.c, x.clusterDNS)
	cfg.FeatureGates = x.c.FeatureGatesOf(string(Kubelet))
	cfg.RegisterWithTaints = registerWithTaints(x.node.Taints)
	data, err := marshalConfig(Kubelet, x.node.Name, cfg, kubeletExplicit)
	if err != nil {
		return bundle.File{}, nil, err
	}
	return bundle.File{Path: KubeletConfig, Kind: bundle.KindConfig, Data: data, Mode: ConfigMode},
		[]string{CACert, KubeletServingCert, KubeletServingKey}, nil
}

// KubeProxyConfiguration is kube-proxy's config file for the node.
func KubeProxyConfiguration(c *configs.Cluster, nodeName string) *kubeproxyconfigv1alpha1.KubeProxyConfiguration {
	return &kubeproxyconfigv1alpha1.KubeProxyConfiguration{
		TypeMeta:         metav1.TypeMeta{APIVersion: "kubeproxy.config.k8s.io/v1alpha1", Kind: "KubeProxyConfiguration"},
		ClientConnection: componentbaseconfigv1alpha1.ClientConnectionConfiguration{Kubeconfig: KubeProxyKubeconfig},
		HostnameOverride: nodeName,
		ClusterCIDR:      c.PodCIDR,
		Mode:             "iptables",
	}
}

func kubeProxyConfigFile(x *renderContext) (bundle.File, []string, error) {
	cfg := KubeProxyConfiguration(x.c, x.node.Name)
	cfg.FeatureGates = x.c.FeatureGatesOf(string(KubeProxy))
	data, err := marshalConfig(KubeProxy, x.node.Name, cfg, nil)
	if err != nil {
		return bundle.File{}, nil, err
	}
	return bundle.File{Path: KubeProxyConfig, Kind: bundle.KindConfig, Data: data, Mode: ConfigMode}, []string{KubeProxyKubeconfig}, nil
}

// KubeSchedulerConfiguration is the scheduler's config file: its kubeconfig, leader election
// (several control-plane nodes), no profiling.
func KubeSchedulerConfiguration() *kubeschedulerconfigv1.KubeSchedulerConfiguration {
	return &kubeschedulerconfigv1.KubeSchedulerConfiguration{
		TypeMeta:         metav1.TypeMeta{APIVersion: "kubescheduler.config.k8s.io/v1", Kind: "KubeSchedulerConfiguration"},
		ClientConnection: componentbaseconfigv1alpha1.ClientConnectionConfiguration{Kubeconfig: SchedulerKubeconfig},
		LeaderElection:   componentbaseconfigv1alpha1.LeaderElectionConfiguration{LeaderElect: ptr(true)},
		DebuggingConfiguration: componentbaseconfigv1alpha1.DebuggingConfiguration{
			EnableProfiling:           ptr(false),
			EnableContentionProfiling: ptr(false),
		},
	}
}

func schedulerConfigFile(x *renderContext) (bundle.File, error) {
	data, err := marshalConfig(Scheduler, x.node.Name, KubeSchedulerConfiguration(), nil)
	if err != nil {
		return bundle.File{}, err
	}
	return bundle.File{Path: SchedulerConfig, Kind: bundle.KindConfig, Data: data, Mode: ConfigMode}, nil
}

// AuditPolicyConfig is the API server's audit policy: metadata (who, what, when; never bodies) for
// everything, nothing for health probes and the high-volume read-only watches of system
// components, and request bodies for changes to RBAC, so a privilege grant is on record.
func AuditPolicyConfig() *auditv1.Policy {
	return &auditv1.Policy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "audit.k8s.io/v1", Kind: "Policy"},
		OmitStages: []auditv1.Stage{auditv1.StageRequestReceived},
		Rules: []auditv1.PolicyRule{
			{
				Level:           auditv1.LevelNone,
				NonResourceURLs: []string{"/healthz*", "/livez*", "/readyz*", "/version"},
			},
			{
				Level: auditv1.LevelNone,
				Users: []string{"system:kube-proxy"},
				Verbs: []string{"watch"},
				Resources: []auditv1.GroupResources{
					{Group: "", Resources: []string{"endpoints", "services", "services/status"}},
					{Group: "discovery.k8s.io", Resources: []string{"endpointslices"}},
				},
			},
			{
				Level:     auditv1.LevelNone,
				Resources: []auditv1.GroupResources{{Group: "", Resources: []string{"events"}}, {Group: "events.k8s.io", Resources: []string{"events"}}},
			},
			{
				// Secrets, configmaps and tokens: never their contents.
				Level: auditv1.LevelMetadata,
				Resources: []auditv1.GroupResources{
					{Group: "", Resources: []string{"secrets", "configmaps", "serviceaccounts/token"}},
					{Group: "authentication.k8s.io", Resources: []string{"tokenreviews"}},
				},
			},
			{
				Level: auditv1.LevelRequestResponse,
				Verbs: []string{"create", "update", "patch", "delete", "deletecollection"},
				Resources: []auditv1.GroupResources{
					{Group: "rbac.authorization.k8s.io"},
				},
			},
			{Level: auditv1.LevelMetadata},
		},
	}
}

func auditPolicyFile() (bundle.File, error) {
	data, err := marshalConfig(APIServer, "", AuditPolicyConfig(), nil)
	if err != nil {
		return bundle.File{}, err
	}
	return bundle.File{Path: AuditPolicy, Kind: bundle.KindConfig, Data: data, Mode: pki.MustNodeConfig("audit-policy").Mode}, nil
}

// marshalConfig serializes a typed upstream config as YAML. The upstream types write many
// fields even when unset (no omitempty: zero durations, qps: 0, empty logging options), which
// would read as settings; marshalConfig drops every value equal to the one the zero value of
// the same type writes, so the file holds only what hardway sets and the component applies its
// own defaults to the rest. Pointer fields hardway sets (enableProfiling: false) differ from
// the zero value's null and stay; explicit adds fields whose zero value is meant. Decoding
// the result strictly into the same type gives back obj (a test checks).
func marshalConfig(c Component, node string, obj any, explicit map[string]any) ([]byte, error) {
	m, err := toJSONMap(obj)
	if err != nil {
		return nil, fmt.Errorf("%s config: %w", c, err)
	}
	zero, err := zeroJSONMap(reflect.TypeOf(obj))
	if err != nil {
		return nil, fmt.Errorf("%s config: %w", c, err)
	}
	pruneZero(m, zero)
	for k, v := range explicit {
		m[k] = v
	}
	y, err := yaml.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("%s config: %w", c, err)
	}
	head := "# " + string(c) + " configuration"
	if node != "" {
		head += " for node " + node
	}
	head += ", rendered by hardway. Edit the cluster file and render again rather than this file.\n"
	return append([]byte(head), y...), nil
}

// zeroMaps caches, per config type, what its zero value marshals to; pruneZero only reads it.
var zeroMaps sync.Map // reflect.Type (pointer to struct) -> map[string]any

func zeroJSONMap(t reflect.Type) (map[string]any, error) {
	if m, ok := zeroMaps.Load(t); ok {
		return m.(map[string]any), nil
	}
	m, err := toJSONMap(reflect.New(t.Elem()).Interface())
	if err != nil {
		return nil, err
	}
	zeroMaps.Store(t, m)
	return m, nil
}

func toJSONMap(obj any) (map[string]any, error) {
	j, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var m map[string]any
	return m, dec.Decode(&m)
}

// pruneZero deletes from m, recursively, every value equal to zero's at the same key, and
// objects left empty by that.
func pruneZero(m, zero map[string]any) {
	for k, v := range m {
		z, ok := zero[k]
		if !ok {
			continue
		}
		if vm, isMap := v.(map[string]any); isMap {
			if zm, zIsMap := z.(map[string]any); zIsMap {
				pruneZero(vm, zm)
				if len(vm) == 0 {
					delete(m, k)
				}
				continue
			}
		}
		if reflect.DeepEqual(v, z) {
			delete(m, k)
		}
	}
}

func ptr[T any](v T) *T { return &v }
