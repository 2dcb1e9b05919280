package addons

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/hardway-dev/hardway/configs"
	"net/netip"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// Dir is the node directory of the add-on manifests; launch applies every file in it.
const Dir = "/etc/kubernetes/addons"

// CoreDNSManifest is the node path of the CoreDNS manifest.
const CoreDNSManifest = Dir + "/coredns.yaml"

// DefaultCoreDNSImage is the CoreDNS image the Deployment runs when CoreDNSParams.Image is
// empty: the cluster file's default.
const DefaultCoreDNSImage = configs.DefaultCoreDNSImage

// DefaultCoreDNSReplicas is kubeadm's replica count.
const DefaultCoreDNSReplicas = configs.DefaultCoreDNSReplicas

// CoreDNSParams are the inputs of CoreDNS. The zero Image, Replicas and PullPolicy mean
// DefaultCoreDNSImage, DefaultCoreDNSReplicas and IfNotPresent.
type CoreDNSParams struct {
	// DNSDomain is the cluster's DNS domain (cluster.local), the kubelets' clusterDomain.
	DNSDomain string
	// ClusterDNS is Service kube-dns's cluster IP, the kubelets' clusterDNS.
	ClusterDNS netip.Addr
	Image      string
	Replicas   int32
	PullPolicy corev1.PullPolicy
}

const (
	coreDNSName    = "coredns"
	coreDNSRole    = "system:coredns"
	kubeSystem     = metav1.NamespaceSystem
	appLabel       = "k8s-app"
	appValue       = "kube-dns"
	corefileKey    = "Corefile"
	configDir      = "/etc/coredns"
	controlPlane   = "node-role.kubernetes.io/control-plane"
	metricsPort    = 9153
	livenessPort   = 8080
	readinessPort  = 8181
	dnsPort        = 53
	managedByLabel = "app.kubernetes.io/managed-by"
	managedByValue = "hardway"
)

// corefile is kubeadm's, for domain. `loop` stays: when the node's resolv.conf sends CoreDNS's
// forwarded queries back to CoreDNS, it stops the pod with a log line naming the loop instead of
// spinning until it runs out of memory.
func corefile(domain string) string {
	return `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes ` + domain + ` in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30 {
       disable success ` + domain + `
       disable denial ` + domain + `
    }
    loop
    reload
    loadbalance
}
`
}

func (p CoreDNSParams) validate() error {
	var errs []error
	if msgs := validation.IsDNS1123Subdomain(p.DNSDomain); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("CoreDNS: dnsDomain %q: %s; give the cluster's DNS domain, e.g. cluster.local", p.DNSDomain, strings.Join(msgs, "; ")))
	}
	if !p.ClusterDNS.IsValid() {
		errs = append(errs, errors.New("CoreDNS: no cluster DNS address; give the 10th address of the service CIDR"))
	}
	if p.Replicas < 0 {
		errs = append(errs, fmt.Errorf("CoreDNS: replicas %d is negative", p.Replicas))
	}
	switch p.PullPolicy {
	case "", corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
	default:
		errs = append(errs, fmt.Errorf("CoreDNS: image pull policy %q: want Always, IfNotPresent or Never", p.PullPolicy))
	}
	return errors.Join(errs...)
}

// CoreDNS returns the CoreDNS add-on as one multi-document YAML manifest, in the order the
// objects are applied: ServiceAccount, ClusterRole, ClusterRoleBinding, ConfigMap, Deployment,
// Service.
func CoreDNS(p CoreDNSParams) ([]byte, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	if p.Image == "" {
		p.Image = DefaultCoreDNSImage
	}
	if p.Replicas == 0 {
		p.Replicas = DefaultCoreDNSReplicas
	}
	if p.PullPolicy == "" {
		p.PullPolicy = corev1.PullIfNotPresent
	}
	return manifest(coreDNSObjects(p)...)
}

func meta(name, namespace string, labels map[string]string) metav1.ObjectMeta {
	l := map[string]string{managedByLabel: managedByValue}
	for k, v := range labels {
		l[k] = v
	}
	return metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: l}
}

func coreDNSObjects(p CoreDNSParams) []any {
	app := map[string]string{appLabel: appValue}
	sa := &corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: meta(coreDNSName, kubeSystem, nil),
	}
	role := &rbacv1.ClusterRole{
		TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "ClusterRole"},
		ObjectMeta: meta(coreDNSRole, "", nil),
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"endpoints", "services", "pods", "namespaces"}, Verbs: []string{"list", "watch"}},
			{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"list", "watch"}},
		},
	}
	binding := &rbacv1.ClusterRoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "ClusterRoleBinding"},
		ObjectMeta: meta(coreDNSRole, "", nil),
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: coreDNSRole},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: coreDNSName, Namespace: kubeSystem}},
	}
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: meta(coreDNSName, kubeSystem, nil),
		Data:       map[string]string{corefileKey: corefile(p.DNSDomain)},
	}
	maxUnavailable := intstr.FromInt32(1)
	deploy := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: appsv1.SchemeGroupVersion.String(), Kind: "Deployment"},
		ObjectMeta: meta(coreDNSName, kubeSystem, app),
		Spec: appsv1.DeploymentSpec{
			Replicas: &p.Replicas,
			Strategy: appsv1.DeploymentStrategy{
				Type:          appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: &maxUnavailable},
			},
			Selector: &metav1.LabelSelector{MatchLabels: app},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: app},
				Spec:       coreDNSPod(p),
			},
		},
	}
	svcMeta := meta(appValue, kubeSystem, map[string]string{appLabel: appValue, "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"})
	svcMeta.Annotations = map[string]string{"prometheus.io/port": fmt.Sprint(metricsPort), "prometheus.io/scrape": "true"}
	svc := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: svcMeta,
		Spec: corev1.ServiceSpec{
			ClusterIP: p.ClusterDNS.String(),
			Selector:  app,
			Ports: []corev1.ServicePort{
				{Name: "dns", Port: dnsPort, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(dnsPort)},
				{Name: "dns-tcp", Port: dnsPort, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(dnsPort)},
				{Name: "metrics", Port: metricsPort, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(metricsPort)},
			},
		},
	}
	return []any{sa, role, binding, cm, deploy, svc}
}

func coreDNSPod(p CoreDNSParams) corev1.PodSpec {
	httpGet := func(path, port string) corev1.ProbeHandler {
		return corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString(port), Scheme: corev1.URISchemeHTTP}}
	}
	return corev1.PodSpec{
		PriorityClassName:  "system-cluster-critical",
		ServiceAccountName: coreDNSName,
		DNSPolicy:          corev1.DNSDefault, // the node's resolv.conf: CoreDNS must not resolve through itself
		Affinity: &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
			PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
				Weight: 100,
				PodAffinityTerm: corev1.PodAffinityTerm{
					LabelSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
						{Key: appLabel, Operator: metav1.LabelSelectorOpIn, Values: []string{appValue}},
					}},
					TopologyKey: corev1.LabelHostname,
				},
			}},
		}},
		Tolerations: []corev1.Toleration{
			{Key: "CriticalAddonsOnly", Operator: corev1.TolerationOpExists},
			{Key: controlPlane, Effect: corev1.TaintEffectNoSchedule},
		},
		NodeSelector: map[string]string{corev1.LabelOSStable: "linux"},
		Containers: []corev1.Container{{
			Name:            coreDNSName,
			Image:           p.Image,
			ImagePullPolicy: p.PullPolicy,
			Args:            []string{"-conf", configDir + "/" + corefileKey},
			Resources: corev1.ResourceRequirements{
				Limits:   corev1.ResourceList{corev1.ResourceMemory: mustQuantity("170Mi")},
				Requests: corev1.ResourceList{corev1.ResourceCPU: mustQuantity("100m"), corev1.ResourceMemory: mustQuantity("70Mi")},
			},
			VolumeMounts: []corev1.VolumeMount{{Name: "config-volume", MountPath: configDir, ReadOnly: true}},
			Ports: []corev1.ContainerPort{
				{Name: "dns", ContainerPort: dnsPort, Protocol: corev1.ProtocolUDP},
				{Name: "dns-tcp", ContainerPort: dnsPort, Protocol: corev1.ProtocolTCP},
				{Name: "metrics", ContainerPort: metricsPort, Protocol: corev1.ProtocolTCP},
				{Name: "liveness-probe", ContainerPort: livenessPort, Protocol: corev1.ProtocolTCP},
				{Name: "readiness-probe", ContainerPort: readinessPort, Protocol: corev1.ProtocolTCP},
			},
			LivenessProbe: &corev1.Probe{
				ProbeHandler:        httpGet("/health", "liveness-probe"),
				InitialDelaySeconds: 60, TimeoutSeconds: 5, SuccessThreshold: 1, FailureThreshold: 5,
			},
			ReadinessProbe: &corev1.Probe{ProbeHandler: httpGet("/ready", "readiness-probe")},
			SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: ptr(false),
				Capabilities:             &corev1.Capabilities{Add: []corev1.Capability{"NET_BIND_SERVICE"}, Drop: []corev1.Capability{"ALL"}},
				ReadOnlyRootFilesystem:   ptr(true),
			},
		}},
		Volumes: []corev1.Volume{{
			Name: "config-volume",
			VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: coreDNSName},
				Items:                []corev1.KeyToPath{{Key: corefileKey, Path: corefileKey}},
			}},
		}},
	}
}

// manifest serializes objs as one YAML stream, each document after a "---" line, without the
// empty status the typed structs always carry (the server owns status; an applied manifest
// says nothing about it).
func manifest(objs ...any) ([]byte, error) {
	var b bytes.Buffer
	for _, o := range objs {
		j, err := json.Marshal(o)
		if err != nil {
			return nil, fmt.Errorf("serializing %T: %w", o, err)
		}
		var m map[string]any
		if err := json.Unmarshal(j, &m); err != nil {
			return nil, fmt.Errorf("serializing %T: %w", o, err)
		}
		delete(m, "status")
		data, err := yaml.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("serializing %T: %w", o, err)
		}
		b.WriteString("---\n")
		b.Write(data)
	}
	return b.Bytes(), nil
}

func ptr[T any](v T) *T { return &v }

func mustQuantity(s string) resource.Quantity { return resource.MustParse(s) }
