package systemd_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"

	"github.com/hardway-dev/hardway/apiserver/encryption"
	"github.com/hardway-dev/hardway/apiserver/etcdserver"
	"github.com/hardway-dev/hardway/apiserver/storage"
	hwaddons "github.com/hardway-dev/hardway/bootstrap/addons"
	"github.com/hardway-dev/hardway/bootstrap/nodes"
	"github.com/hardway-dev/hardway/bootstrap/rbac"
	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/configs/encryptionconfig"
	"github.com/hardway-dev/hardway/internal/e2e"
	"github.com/hardway-dev/hardway/pki"
	"github.com/hardway-dev/hardway/units"
	"github.com/hardway-dev/hardway/units/addons"
	"github.com/hardway-dev/hardway/units/bundle"
	"github.com/hardway-dev/hardway/units/systemd"
	"github.com/hardway-dev/hardway/units/systemd/sandboxtest"
)

// requirePortsFree fails when the rendered units' fixed ports are taken: the etcd ports are not
// configurable in the cluster model.
func requirePortsFree(t *testing.T, ip string, ports ...int) {
	t.Helper()
	for _, port := range ports {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
		if err != nil {
			t.Fatalf("the rendered etcd unit listens on %s:%d, which is taken: %v", ip, port, err)
		}
		l.Close()
	}
}

// controlPlaneProgram returns the real program name (see e2e.Find: scripts/build-kube.sh builds
// it, CI sets its HARDWAY_KUBE_* variable) or, outside HARDWAY_E2E=1, a stand-in that only
// stays up, so a developer with only kube-apiserver built can still run the test.
func controlPlaneProgram(t *testing.T, name, dir string) (path string, real bool) {
	t.Helper()
	p, err := e2e.Find(name)
	if err == nil {
		return p, true
	}
	if e2e.Enabled() || !errors.Is(err, e2e.ErrNotFound) {
		t.Fatal(err)
	}
	t.Logf("%v: %s.service runs a stand-in", err, name)
	return stubProgram(t, dir, name), false
}

// stubProgram writes a program that only stays up, for a unit whose real binary is not built.
func stubProgram(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n# stand-in for "+name+" in hardway's end-to-end test\nexec sleep infinity\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// The proof users need: `hardway init` on one control-plane+etcd node, its archive launched by
// `hardway launch --bundle cp1.tar.gz --systemd-socket ...` under a real (sandboxed) systemd,
// the rendered kube-apiserver.service running the real kube-apiserver over `hardway etcd`,
// launch applying the bootstrap RBAC with the super-admin credentials (and nothing at all the
// second time), and the real kubectl using the generated kubeconfigs: admin may do everything
// through hardway:cluster-admins, a kubelet may not list secrets.
//
// The rendered units name node paths (/etc/kubernetes/..., /usr/local/bin/kube-apiserver,
// /var/lib/etcd). The sandbox's private mount namespace binds the test root's copies there, so
// the units run exactly as rendered; the host's filesystem is not touched.
func TestLaunchRealKubeAPIServer(t *testing.T) {
	e2e.SkipIfShort(t)
	apiserverBin := e2e.RequireBinary(t, "kube-apiserver")
	kubectl := e2e.RequireBinary(t, "kubectl")
	cl := launchRealCluster(t, buildHardway(t), apiserverBin, "") // the default provider, secretbox
	work, dir, apiPort, b, mgr, launch := cl.work, cl.dir, cl.apiPort, cl.bundle, cl.mgr, cl.launch
	ctx := context.Background()

	out := launch()
	for _, want := range []string{
		"start   etcd.service", "start   kube-apiserver.service", "healthy: etcd.service, kube-apiserver.service",
		"rbac: clusterrolebinding hardway:cluster-admins created",
		"rbac: clusterrolebinding hardway:apiserver-kubelet-client created",
		"addon: deployment kube-system/coredns created", "addon: service kube-system/kube-dns created",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("first launch: no %q in\n%s", want, out)
		}
	}

	// The bindings on the server, read with the super-admin credentials.
	server := "https://127.0.0.1:" + apiPort
	c, err := rbac.NewClient(fileData(t, b, units.SuperAdminKubeconfig), server)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range rbac.Bindings() {
		got, err := c.Get(ctx, want.Name)
		if err != nil || got == nil {
			t.Fatalf("%s: %v, %v", want.Name, got, err)
		}
		if got.RoleRef != want.RoleRef || !slices.Equal(got.Subjects, want.Subjects) {
			t.Errorf("%s on the server: roleRef %+v subjects %+v", want.Name, got.RoleRef, got.Subjects)
		}
	}

	// A second launch touches nothing: no file, no unit, no binding.
	before := states(t, mgr, "etcd.service", "kube-apiserver.service")
	out = launch()
	for _, want := range []string{
		"nothing to do",
		"rbac: clusterrolebinding hardway:cluster-admins unchanged",
		"rbac: clusterrolebinding hardway:apiserver-kubelet-client unchanged",
		"addon: deployment kube-system/coredns unchanged",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("second launch: no %q in\n%s", want, out)
		}
	}
	if after := states(t, mgr, "etcd.service", "kube-apiserver.service"); !slices.Equal(after, before) {
		t.Fatalf("second launch restarted units: %v -> %v", before, after)
	}

	// The real kubectl with the generated kubeconfigs (their server is the API endpoint, the
	// port this test chose).
	admin := filepath.Join(dir, "kubeconfigs", "admin.kubeconfig")
	kubelet := nodeKubeconfig(t, dir, work, server, "w1")
	if out := kubectlOut(t, kubectl, admin, "get", "clusterrolebindings", rbac.ClusterAdminsBinding, "-o", "name"); out != "clusterrolebinding.rbac.authorization.k8s.io/"+rbac.ClusterAdminsBinding {
		t.Errorf("kubectl get clusterrolebindings: %q", out)
	}
	if out := kubectlOut(t, kubectl, admin, "auth", "can-i", "*", "*"); out != "yes" {
		t.Errorf("admin (group %s) can-i '*' '*': %q", rbac.ClusterAdminsGroup, out)
	}
	if out, err := kubectlRun(kubectl, kubelet, "auth", "can-i", "list", "secrets", "--all-namespaces"); err == nil || !strings.HasPrefix(out, "no") {
		t.Errorf("a kubelet can list secrets: %q, %v", out, err)
	}
	if out, err := kubectlRun(kubectl, kubelet, "get", "secrets", "--all-namespaces"); err == nil || !strings.Contains(err.Error(), "Forbidden") {
		t.Errorf("kubectl get secrets as the kubelet: %v\n%s", err, out)
	}
	// Secrets are encrypted at rest with the generated EncryptionConfiguration, in the format
	// hardway's own encryption reads and writes.
	cl.checkEncryption(t, kubectl, configs.ProviderSecretbox)
	// Where and how objects are stored in etcd: the layout hardway's API server will use.
	cl.checkLayout(t, kubectl)
	// The CoreDNS add-on and a Node's pod CIDR.
	cl.checkAddonsAndPodCIDR(t, kubectl, server)

	// The real controller-manager and scheduler, from their rendered units, config files and
	// kubeconfigs: each holds its leader lease, so each authenticated with its certificate and
	// was authorized as system:kube-controller-manager / system:kube-scheduler; the
	// controller-manager's service-account controller made the default ServiceAccount, and the
	// API server issues a token for it with the generated sa.key.
	if cl.realControllers {
		controllers := []string{"kube-controller-manager.service", "kube-scheduler.service"}
		first := states(t, mgr, controllers...)
		for _, lease := range []string{"kube-controller-manager", "kube-scheduler"} {
			waitFor(t, 2*time.Minute, "the "+lease+" leader lease", func() bool {
				out, err := kubectlRun(kubectl, admin, "get", "lease", lease, "-n", "kube-system", "-o", "jsonpath={.spec.holderIdentity}")
				return err == nil && out != ""
			})
		}
		waitFor(t, 2*time.Minute, "the default ServiceAccount", func() bool {
			_, err := kubectlRun(kubectl, admin, "get", "serviceaccount", "default", "-n", "default")
			return err == nil
		})
		if tok := kubectlOut(t, kubectl, admin, "create", "token", "default", "-n", "default"); strings.Count(tok, ".") != 2 {
			t.Errorf("kubectl create token: %q is not a JWT", tok)
		}
		if again := states(t, mgr, controllers...); !slices.Equal(first, again) {
			t.Errorf("the controller-manager or the scheduler restarted (crashed?) meanwhile: %v -> %v", first, again)
		}
	}

	// The API server's kubelet client reaches the kubelet API through system:kubelet-api-admin.
	kc := kubeconfigFor(t, b, server, work, "kubelet-client.kubeconfig", units.APIServerKubeletClientCert, units.APIServerKubeletClientKey)
	if out := kubectlOut(t, kubectl, kc, "auth", "can-i", "get", "nodes", "--subresource=proxy"); out != "yes" {
		t.Errorf("kube-apiserver-kubelet-client can-i get nodes/proxy: %q", out)
	}
	if out, err := kubectlRun(kubectl, kc, "auth", "can-i", "list", "secrets"); err == nil || !strings.HasPrefix(out, "no") {
		t.Errorf("kube-apiserver-kubelet-client can list secrets: %q, %v", out, err)
	}
}

// realCluster is one control-plane+etcd node from `hardway init`, its bundle staged for
// `hardway launch` under a sandboxed systemd whose units run the real kube-apiserver over
// `hardway etcd`. Nothing runs until launch is called.
type realCluster struct {
	hardway, work, dir, apiPort string
	// realControllers: the real kube-controller-manager and kube-scheduler run (not stand-ins).
	realControllers bool
	bundle          *bundle.Bundle
	mgr             *systemd.DBus
	// launch runs `hardway launch` with the node's archive, as scripts/distribute.sh runs it on
	// a node, and returns its output.
	launch func() string
}

// launchRealCluster inits a one-node cluster whose secrets are encrypted with provider (""
// leaves the cluster file's default) and starts the sandbox for it.
func launchRealCluster(t *testing.T, hardway, apiserverBin, provider string) *realCluster {
	t.Helper()
	requirePortsFree(t, "127.0.0.1", units.EtcdClientPort, units.EtcdPeerPort)
	work := t.TempDir()
	apiPort := freePort(t, "127.0.0.1")
	cfg := filepath.Join(work, "cluster-config.yaml")
	encryption := ""
	if provider != "" {
		encryption = "encryption:\n  provider: " + provider + "\n"
	}
	writeFile(t, cfg, `name: e2e
kubernetesVersion: "1.37"
apiEndpoint:
  host: 127.0.0.1
  port: `+apiPort+`
`+encryption+`implementations:
  etcd: hardway
nodes:
  - name: cp1
    addresses: [127.0.0.1]
    hostnames: [localhost]
    roles: [control-plane, etcd]`)
	dir := filepath.Join(work, "cluster")
	run(t, hardway, "init", "--config", cfg, "--dir", dir)
	archive := filepath.Join(dir, "nodes", "cp1.tar.gz")
	b, err := bundle.ReadArchive(context.Background(), archive, "cp1", bundle.Options{})
	if err != nil {
		t.Fatal(err)
	}

	root := filepath.Join(work, "root")
	bins := filepath.Join(work, "bin")
	for _, d := range []string{units.KubernetesDir, units.EtcdDataDir, "/var/log/kubernetes", units.SystemdDir} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(bins, 0o755); err != nil {
		t.Fatal(err)
	}
	kcm, realKCM := controlPlaneProgram(t, "kube-controller-manager", bins)
	scheduler, realScheduler := controlPlaneProgram(t, "kube-scheduler", bins)
	sb := sandboxtest.StartWith(t, sandboxtest.Options{
		UnitDirs: []string{filepath.Join(root, units.SystemdDir)},
		Binds: map[string]string{
			units.KubernetesDir:                       filepath.Join(root, units.KubernetesDir),
			units.EtcdDataDir:                         filepath.Join(root, units.EtcdDataDir),
			"/var/log/kubernetes":                     filepath.Join(root, "/var/log/kubernetes"),
			units.BinDir + "/hardway":                 hardway,
			units.BinDir + "/kube-apiserver":          apiserverBin,
			units.BinDir + "/kube-controller-manager": kcm,
			units.BinDir + "/kube-scheduler":          scheduler,
		},
	})
	c := &realCluster{hardway: hardway, work: work, dir: dir, apiPort: apiPort, bundle: b, mgr: sb.Connect(t), realControllers: realKCM && realScheduler}
	c.launch = func() string {
		t.Helper()
		cmd := exec.Command(hardway, "launch", "--node", "cp1", "--bundle", archive, "--root", root, "--trust", filepath.Join(dir, "signing", "bundle.pub"), "--systemd-socket", sb.Socket, "--timeout", "3m")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("hardway launch: %v\n%s", err, out) // the sandbox prints its log, with the units' output
		}
		return string(out)
	}
	return c
}

// The real kube-apiserver and hardway's encryption read each other's stored secrets, for each
// provider a cluster file can choose. Each provider is a cluster of its own (the etcd ports are
// fixed, so they run one after the other); the default, secretbox, is covered by
// TestLaunchRealKubeAPIServer.
func TestRealKubeAPIServerEncryptionProviders(t *testing.T) {
	e2e.SkipIfShort(t)
	apiserverBin := e2e.RequireBinary(t, "kube-apiserver")
	kubectl := e2e.RequireBinary(t, "kubectl")
	hardway := buildHardway(t)
	for _, provider := range []string{configs.ProviderAESGCM, configs.ProviderAESCBC} {
		t.Run(provider, func(t *testing.T) {
			cl := launchRealCluster(t, hardway, apiserverBin, provider)
			if out := cl.launch(); !strings.Contains(out, "healthy: etcd.service, kube-apiserver.service") {
				t.Fatalf("launch:\n%s", out)
			}
			cl.checkEncryption(t, kubectl, provider)
		})
	}
}

// checkEncryption proves, on a launched cluster whose secrets are encrypted with provider:
//   - a secret created with kubectl is stored (read with the real etcdctl and the etcd
//     health-check client certificate) with the provider's prefix and key name, not in plain
//     text, and hardway's encryption with the bundle's EncryptionConfiguration decrypts it to
//     kube-apiserver's protobuf ("k8s\x00" magic) holding the secret's data;
//   - a secret serialized and encrypted by hardway and put straight into etcd (clientv3 over
//     mutual TLS) is returned by the real kube-apiserver to kubectl.
func (c *realCluster) checkEncryption(t *testing.T, kubectl, provider string) {
	t.Helper()
	etcdctl := e2e.RequireBinary(t, "etcdctl")
	admin := filepath.Join(c.dir, "kubeconfigs", "admin.kubeconfig")
	etcdTLS := etcdserver.ClientTLS{
		CertFile:      filepath.Join(c.dir, "pki/etcd/healthcheck-client.crt"),
		KeyFile:       filepath.Join(c.dir, "pki/etcd/healthcheck-client.key"),
		TrustedCAFile: filepath.Join(c.dir, "pki/etcd/ca.crt"),
	}
	endpoint := fmt.Sprintf("https://127.0.0.1:%d", units.EtcdClientPort)
	encCfg, err := encryptionconfig.Parse(fileData(t, c.bundle, units.EncryptionConfig))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := encryption.ForResource(encCfg, "secrets")
	if err != nil {
		t.Fatal(err)
	}
	if got := tr.WriteKey().Provider(); got != provider {
		t.Fatalf("the bundle's encryption config writes secrets with %s, want %s", got, provider)
	}
	scheme := k8sruntime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	proto := protobuf.NewSerializer(scheme, scheme)

	// kube-apiserver writes, hardway reads.
	kubectlOut(t, kubectl, admin, "create", "secret", "generic", "hw-e2e", "--from-literal=password=plaintext-canary-7731")
	ectl := exec.Command(etcdctl, "--endpoints", endpoint, "--cacert", etcdTLS.TrustedCAFile, "--cert", etcdTLS.CertFile, "--key", etcdTLS.KeyFile,
		"get", "/registry/secrets/default/hw-e2e", "--print-value-only")
	ectl.Env = append(os.Environ(), "ETCDCTL_API=3")
	stored, err := ectl.Output()
	if err != nil {
		t.Fatalf("etcdctl get: %v", err)
	}
	cli, err := etcdserver.NewClient([]string{endpoint}, etcdTLS, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, "/registry/secrets/default/hw-e2e")
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("etcd get: %v, %v", resp, err)
	}
	if raw := resp.Kvs[0].Value; string(stored) != string(raw)+"\n" { // etcdctl ends the value with a newline
		t.Errorf("etcdctl printed %.40q, clientv3 read %.40q", stored, raw)
	}
	stored = resp.Kvs[0].Value
	if prefix := tr.WriteKey().Prefix(); !strings.HasPrefix(string(stored), prefix) || prefix != "k8s:enc:"+provider+":v1:"+tr.WriteKey().Name()+":" {
		t.Errorf("the secret is stored as %.40q, want the prefix %q", stored, prefix)
	}
	if strings.Contains(string(stored), "plaintext-canary-7731") {
		t.Error("the secret is stored in plain text")
	}
	plain, stale, err := tr.TransformFromStorage(stored, "/registry/secrets/default/hw-e2e")
	if err != nil || stale {
		t.Fatalf("hardway decrypting kube-apiserver's value: stale %v, %v", stale, err)
	}
	if !bytes.HasPrefix(plain, []byte("k8s\x00")) || !bytes.Contains(plain, []byte("plaintext-canary-7731")) {
		t.Errorf("decrypted value %.60q: want kube-apiserver's protobuf with the secret's data", plain)
	}
	obj, _, err := proto.Decode(plain, nil, nil)
	if err != nil {
		t.Fatalf("decoding kube-apiserver's stored secret: %v", err)
	}
	if s, ok := obj.(*corev1.Secret); !ok || s.Name != "hw-e2e" || string(s.Data["password"]) != "plaintext-canary-7731" {
		t.Errorf("decoded %#v", obj)
	}
	if out := kubectlOut(t, kubectl, admin, "get", "secret", "hw-e2e", "-o", "jsonpath={.data.password}"); out != "cGxhaW50ZXh0LWNhbmFyeS03NzMx" {
		t.Errorf("reading the secret back: %q", out)
	}

	// hardway writes, kube-apiserver reads.
	const name = "hw-e2e-from-hardway"
	key := "/registry/secrets/default/" + name
	secret := &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: "6f1b3c1e-0d5a-4d8e-9a55-000000000001", CreationTimestamp: metav1.Now()},
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{"token": []byte("written-by-hardway-" + provider)},
	}
	var buf bytes.Buffer
	if err := proto.Encode(secret, &buf); err != nil {
		t.Fatal(err)
	}
	value, err := tr.TransformToStorage(buf.Bytes(), key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(ctx, key, string(value)); err != nil {
		t.Fatalf("etcd put %s: %v", key, err)
	}
	want := base64.StdEncoding.EncodeToString(secret.Data["token"])
	if out := kubectlOut(t, kubectl, admin, "get", "secret", name, "-o", "jsonpath={.data.token}"); out != want {
		t.Errorf("kubectl get secret %s (written by hardway, %s): %q, want %q", name, provider, out, want)
	}
}

func writeFile(t *testing.T, p, data string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, prog string, args ...string) string {
	t.Helper()
	out, err := exec.Command(prog, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", prog, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func fileData(t *testing.T, b *bundle.Bundle, p string) []byte {
	t.Helper()
	for _, f := range b.Files {
		if f.Path == p {
			return f.Data
		}
	}
	t.Fatalf("the bundle for %s has no %s", b.Node, p)
	return nil
}

// kubeconfigFor writes a kubeconfig for the bundle's certificate and key at node paths.
func kubeconfigFor(t *testing.T, b *bundle.Bundle, server, dir, name, cert, key string) string {
	t.Helper()
	data, err := pki.Kubeconfig{ClusterName: "e2e", Server: server, User: name, CAPEM: fileData(t, b, units.CACert), CertPEM: fileData(t, b, cert), KeyPEM: fileData(t, b, key)}.Render()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	writeFile(t, p, string(data))
	return p
}

// kubectlRun runs kubectl and returns its stdout; stderr (warnings, errors) joins the error.
func kubectlRun(kubectl, kubeconfig string, args ...string) (string, error) {
	cmd := exec.Command(kubectl, append([]string{"--kubeconfig", kubeconfig, "--request-timeout=30s"}, args...)...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + filepath.Dir(kubeconfig)}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		err = fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), err
}

func kubectlOut(t *testing.T, kubectl, kubeconfig string, args ...string) string {
	t.Helper()
	out, err := kubectlRun(kubectl, kubeconfig, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// waitFor polls cond until it holds or timeout passes; then the test fails naming what.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	e2e.Eventually(t, timeout, time.Second, what, cond)
}

// layoutManifest makes objects of many kinds: built-in resources with special etcd prefixes,
// cluster-scoped ones, a CustomResourceDefinition and a custom resource.
const layoutManifest = `apiVersion: v1
kind: Namespace
metadata: {name: hw-layout}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm, namespace: hw-layout}
data: {k: v}
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: hw-layout}
spec:
  ports: [{port: 80}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: svc, namespace: hw-layout}
subsets: [{addresses: [{ip: 10.1.2.3}], ports: [{port: 80}]}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: hw-layout}
spec:
  replicas: 0
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: registry.invalid/web}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: ing, namespace: hw-layout}
spec:
  defaultBackend: {service: {name: svc, port: {number: 80}}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: hw-layout-reader}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get]}]
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`

// checkLayout creates objects of many kinds through the real kube-apiserver and checks,
// with the real etcdctl, that each is stored at the key apiserver/storage computes, in the
// encoding it says: hardway's layout is kube-apiserver's.
func (c *realCluster) checkLayout(t *testing.T, kubectl string) {
	t.Helper()
	etcdctl := e2e.RequireBinary(t, "etcdctl")
	admin := filepath.Join(c.dir, "kubeconfigs", "admin.kubeconfig")
	manifest := filepath.Join(c.work, "layout.yaml")
	writeFile(t, manifest, layoutManifest)
	kubectlOut(t, kubectl, admin, "apply", "-f", manifest)
	kubectlOut(t, kubectl, admin, "wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=60s")
	widget := filepath.Join(c.work, "widget.yaml")
	writeFile(t, widget, "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1, namespace: hw-layout}\nspec: {size: 3}\n")
	waitFor(t, time.Minute, "the Widget custom resource", func() bool {
		_, err := kubectlRun(kubectl, admin, "apply", "-f", widget)
		return err == nil
	})

	etcd := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(etcdctl, append([]string{"--endpoints", fmt.Sprintf("https://127.0.0.1:%d", units.EtcdClientPort),
			"--cacert", filepath.Join(c.dir, "pki/etcd/ca.crt"),
			"--cert", filepath.Join(c.dir, "pki/etcd/healthcheck-client.crt"), "--key", filepath.Join(c.dir, "pki/etcd/healthcheck-client.key")}, args...)...)
		cmd.Env = append(os.Environ(), "ETCDCTL_API=3")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("etcdctl %v: %v", args, err)
		}
		return string(out)
	}
	keys := map[string]bool{}
	for _, k := range strings.Split(etcd("get", storage.DefaultPrefix, "--prefix", "--keys-only"), "\n") {
		if k != "" {
			keys[k] = true
		}
	}
	gr := func(g, r string) schema.GroupResource { return schema.GroupResource{Group: g, Resource: r} }
	want := []struct {
		gr       schema.GroupResource
		custom   bool
		ns, name string
	}{
		{gr("", "namespaces"), false, "", "hw-layout"},
		{gr("", "configmaps"), false, "hw-layout", "cm"},
		{gr("", "services"), false, "hw-layout", "svc"},
		{gr("", "services"), false, "default", "kubernetes"},
		{gr("", "endpoints"), false, "hw-layout", "svc"}, // the selector-less Service's: the controller-manager keeps them
		{gr("apps", "deployments"), false, "hw-layout", "web"},
		{gr("networking.k8s.io", "ingresses"), false, "hw-layout", "ing"},
		{gr("rbac.authorization.k8s.io", "clusterroles"), false, "", "hw-layout-reader"},
		{gr("rbac.authorization.k8s.io", "clusterrolebindings"), false, "", rbac.ClusterAdminsBinding},
		{gr("apiextensions.k8s.io", "customresourcedefinitions"), false, "", "widgets.example.com"},
		{gr("apiregistration.k8s.io", "apiservices"), false, "", "v1.apps"},
		{gr("example.com", "widgets"), true, "hw-layout", "w1"},
	}
	for _, w := range want {
		key := storage.Key(storage.DefaultPrefix, w.gr, w.custom, w.ns, w.name)
		if !keys[key] {
			t.Errorf("%v %s/%s: kube-apiserver stored no %s", w.gr, w.ns, w.name, key)
			continue
		}
		value := []byte(etcd("get", key, "--print-value-only"))
		if json := storage.MediaType(w.gr, w.custom) == "application/json"; json != bytes.HasPrefix(value, []byte("{")) || !json != storage.IsProtobuf(value) {
			t.Errorf("%s: stored as %.12q, want %s", key, value, storage.MediaType(w.gr, w.custom))
		}
	}
}

// checkAddonsAndPodCIDR applies the CoreDNS add-on with the super-admin credentials, as launch
// does, twice: created, then unchanged. Then, with the kubelet's own credentials
// (system:node:w1) under the Node authorizer and NodeRestriction, it registers Node w1 as a
// kubelet would and sets its pod CIDR once; another node's is forbidden to it.
func (c *realCluster) checkAddonsAndPodCIDR(t *testing.T, kubectl, server string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	manifest, err := addons.CoreDNS(addons.CoreDNSParams{DNSDomain: "cluster.local", ClusterDNS: netip.MustParseAddr("10.96.0.10"), PullPolicy: corev1.PullNever})
	if err != nil {
		t.Fatal(err)
	}
	ac, err := hwaddons.NewClient(fileData(t, c.bundle, units.SuperAdminKubeconfig), server)
	if err != nil {
		t.Fatal(err)
	}
	// launch applied the bundle's CoreDNS (pull policy IfNotPresent): this one differs in the
	// Deployment only, which is configured; then nothing changes.
	for i, want := range []map[string]hwaddons.Action{
		{"deployment": hwaddons.Configured, "": hwaddons.Unchanged},
		{"": hwaddons.Unchanged},
	} {
		rep, err := ac.Apply(ctx, hwaddons.Manifest{Path: addons.CoreDNSManifest, Data: manifest})
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		rep.Describe(&out)
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(rep.Results) != 6 || len(lines) != 6 {
			t.Errorf("apply %d: %d results:\n%s", i+1, len(rep.Results), out.String())
		}
		for _, l := range lines {
			kind, _, _ := strings.Cut(strings.TrimPrefix(l, "addon: "), " ")
			action, ok := want[kind]
			if !ok {
				action = want[""]
			}
			if !strings.HasSuffix(l, " "+string(action)) {
				t.Errorf("apply %d: %q, want %s", i+1, l, action)
			}
		}
	}
	admin := filepath.Join(c.dir, "kubeconfigs", "admin.kubeconfig")
	if ip := kubectlOut(t, kubectl, admin, "get", "service", "kube-dns", "-n", "kube-system", "-o", "jsonpath={.spec.clusterIP}"); ip != "10.96.0.10" {
		t.Errorf("kube-dns cluster IP %q", ip)
	}

	kubelet := nodeKubeconfig(t, c.dir, c.work, server, "w1")
	kubeletKC, err := os.ReadFile(kubelet)
	if err != nil {
		t.Fatal(err)
	}
	node := filepath.Join(c.work, "node.yaml")
	writeFile(t, node, "apiVersion: v1\nkind: Node\nmetadata: {name: w1}\n")
	kubectlOut(t, kubectl, kubelet, "create", "-f", node) // the kubelet registers its own Node
	for _, want := range []bool{true, false} {
		changed, err := nodes.SetPodCIDR(ctx, kubeletKC, server, "w1", "10.244.0.0/24")
		if err != nil || changed != want {
			t.Fatalf("SetPodCIDR as system:node:w1: changed %v, %v; want changed %v", changed, err, want)
		}
	}
	if got := kubectlOut(t, kubectl, admin, "get", "node", "w1", "-o", "jsonpath={.spec.podCIDR} {.spec.podCIDRs}"); got != `10.244.0.0/24 ["10.244.0.0/24"]` {
		t.Errorf("Node w1: %s", got)
	}
	if _, err := nodes.SetPodCIDR(ctx, kubeletKC, server, "w1", "10.244.1.0/24"); err == nil || !strings.Contains(err.Error(), "kubectl delete node w1") {
		t.Errorf("another CIDR: %v", err)
	}
	writeFile(t, node, "apiVersion: v1\nkind: Node\nmetadata: {name: cp2}\n")
	kubectlOut(t, kubectl, admin, "create", "-f", node)
	if _, err := nodes.SetPodCIDR(ctx, kubeletKC, server, "cp2", "10.244.1.0/24"); !apierrors.IsForbidden(err) {
		t.Errorf("system:node:w1 setting node cp2's pod CIDR: %v, want forbidden", err)
	}
	kubectlOut(t, kubectl, admin, "delete", "node", "w1", "cp2") // no kubelet keeps them
}

// nodeKubeconfig writes a kubeconfig with the credentials a kubelet of node would carry
// (system:node:<node> in system:nodes, signed by the cluster's CA), for a node this cluster
// does not run: the control-plane node runs no kubelet, so init gives it no kubelet
// credentials.
func nodeKubeconfig(t *testing.T, dir, work, server, node string) string {
	t.Helper()
	caKey, err := pki.ParseKey(mustRead(t, filepath.Join(dir, "pki", "ca.key")))
	if err != nil {
		t.Fatal(err)
	}
	ca, err := pki.LoadCA("ca", mustRead(t, filepath.Join(dir, "pki", "ca.crt")), caKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := pki.GenerateKey(configs.KeyECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	cert, err := ca.Issue("kubelet-"+node, pki.Request{Subject: pki.Subject{CN: "system:node:" + node, Orgs: []string{"system:nodes"}},
		Usage: pki.UsageClient, NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Hour)}, key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := pki.EncodeKey(key)
	if err != nil {
		t.Fatal(err)
	}
	data, err := pki.Kubeconfig{ClusterName: "e2e", Server: server, User: "system:node:" + node, CAPEM: mustRead(t, filepath.Join(dir, "pki", "ca.crt")), CertPEM: cert, KeyPEM: keyPEM}.Render()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(work, "kubelet-"+node+".kubeconfig")
	writeFile(t, p, string(data))
	return p
}
