package systemd_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/internal/e2e"
	"github.com/hardway-dev/hardway/internal/e2e/images"
	"github.com/hardway-dev/hardway/internal/e2e/netns"
	"github.com/hardway-dev/hardway/pki"
	"github.com/hardway-dev/hardway/units"
	"github.com/hardway-dev/hardway/units/systemd/sandboxtest"
)

// node is one machine of the node end-to-end cluster: a network namespace of its own, a
// sandboxed systemd in it (keeping the host's cgroup v1 layout), and the node's bundle,
// installed and started by `hardway launch` run inside the sandbox's mount and network
// namespaces, as on a real node.
type node struct {
	name string
	host *netns.Host
	sb   *sandboxtest.Manager
}

func (n *node) ip() string { return n.host.IP().String() }

// nodeCluster is the cluster of TestNodesEndToEnd.
type nodeCluster struct {
	hardway, kubectl, dir string
	nodes                 []*node
	cfg                   *configs.Cluster // the resolved cluster.yaml init wrote
	// launched is when `hardway launch` started on each node, and launchTook how long it ran.
	launched, launchTook map[string]time.Duration
	epoch                time.Time // launched counts from here
}

// kubectl runs the real kubectl with the cluster directory's kubeconfig name, in the first
// node's network namespace (the test network is not connected to the host).
func (c *nodeCluster) kubectlRun(kubeconfig string, args ...string) (string, error) {
	full := append([]string{"--net=" + c.nodes[0].host.Path, c.kubectl, "--kubeconfig", filepath.Join(c.dir, "kubeconfigs", kubeconfig+".kubeconfig"), "--request-timeout=30s"}, args...)
	cmd := exec.Command("nsenter", full...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + c.dir}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		err = fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), err
}

func (c *nodeCluster) kubectl1(t *testing.T, kubeconfig string, args ...string) string {
	t.Helper()
	out, err := c.kubectlRun(kubeconfig, args...)
	if err != nil {
		t.Fatalf("kubectl --kubeconfig %s %s: %v\n%s", kubeconfig, strings.Join(args, " "), err, out)
	}
	return out
}

// admin runs kubectl as the everyday administrator.
func (c *nodeCluster) admin(t *testing.T, args ...string) string {
	t.Helper()
	return c.kubectl1(t, "admin", args...)
}

// curl runs curl in the first node's network namespace.
func (c *nodeCluster) curl(args ...string) (string, error) {
	out, err := c.nodes[0].host.Command("curl", append([]string{"-sS", "--max-time", "20"}, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// The node half on real components, end to end: three nodes in network namespaces of their
// own (cp1: control plane, etcd and worker; w1, w2: workers), each running its own bundle from
// `hardway init` with `hardway launch` under a sandboxed systemd: etcd (hardway etcd), the real
// kube-apiserver, kube-controller-manager and kube-scheduler, Debian's containerd and runc with
// the rendered CNI bridge network, the real kubelet and kube-proxy, and the CoreDNS add-on,
// with hardway's credentials at every hop. Images are built here and imported into each node's
// containerd (no registry is reachable).
func TestNodesEndToEnd(t *testing.T) {
	e2e.SkipIfShort(t)
	c := startNodeCluster(t, "[control-plane, etcd, worker]", "[worker]", "[worker]")

	t.Run("nodes Ready", c.nodesReady)
	podIP, podNode := c.seedRequest(t)
	t.Run("API server to kubelet", func(t *testing.T) { c.apiserverToKubelet(t, podNode) })
	t.Run("kubelet serving certificate from another CA", func(t *testing.T) { c.foreignServingCert(t) })
	t.Run("kubelet API authentication and authorization", c.kubeletAPIAuth)
	t.Run("node authorization and NodeRestriction", c.nodeAuthorization)
	t.Run("services and DNS across nodes", func(t *testing.T) { c.servicesAndDNS(t, podIP) })
}

// startNodeCluster starts one node per roles entry ("[control-plane, etcd, worker]"), the
// first named cp1, the others w1, w2 ...; the first must have the control-plane role.
func startNodeCluster(t *testing.T, roles ...string) *nodeCluster {
	t.Helper()
	bins := map[string]string{}
	for _, name := range []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy"} {
		bins[name] = e2e.RequireBinary(t, name)
	}
	for _, name := range []string{"containerd", "ctr", "runc", "curl", "iptables", "conntrack", "nsenter"} {
		e2e.RequireBinary(t, name)
	}
	kubectl := e2e.RequireBinary(t, "kubectl")
	hardway := buildHardway(t)
	archive := images.NodeArchive(t, images.PauseRef)
	network := netns.New(t, len(roles))
	names := []string{"cp1"}
	for i := 1; i < len(roles); i++ {
		names = append(names, fmt.Sprintf("w%d", i))
	}

	work := t.TempDir()
	cfg := filepath.Join(work, "cluster.yaml")
	var nodes strings.Builder
	for i, h := range network.Hosts {
		fmt.Fprintf(&nodes, "  - name: %s\n    addresses: [%s]\n    roles: %s\n", names[i], h.IP(), roles[i])
	}
	// This machine's host settings: systemd is not PID 1 (cgroupfs), the controllers are
	// cgroup v1, and the process lacks CAP_SYS_RESOURCE.
	writeFile(t, cfg, `name: e2e
kubernetesVersion: "1.37"
apiEndpoint:
  host: `+network.Hosts[0].IP().String()+`
  port: 6443
implementations:
  etcd: hardway
runtime:
  cgroupDriver: cgroupfs
  allowCgroupV1: true
  restrictOOMScoreAdj: true
  sandboxImage: `+images.PauseRef+`
dns:
  image: `+images.CoreDNSRef+`
  replicas: 1
nodes:
`+nodes.String())
	dir := filepath.Join(work, "cluster")
	run(t, hardway, "init", "--config", cfg, "--dir", dir)
	var resolved *configs.Cluster
	if err := yaml.Unmarshal(mustRead(t, filepath.Join(dir, "cluster.yaml")), &resolved); err != nil {
		t.Fatal(err)
	}
	c := &nodeCluster{hardway: hardway, kubectl: kubectl, dir: dir, cfg: resolved,
		launched: map[string]time.Duration{}, launchTook: map[string]time.Duration{}, epoch: time.Now()}
	var mu sync.Mutex

	// One sandbox per node; the control-plane node first, then the workers side by side.
	for i, h := range network.Hosts {
		binds := map[string]string{units.BinDir + "/hardway": hardway}
		for name, p := range bins {
			binds[units.BinDir+"/"+name] = p
		}
		unitDir := t.TempDir()
		binds[units.SystemdDir] = unitDir
		sb := sandboxtest.StartWith(t, sandboxtest.Options{
			UnitDirs:         []string{unitDir},
			NetNS:            h.Path,
			HostCgroupLayout: true,
			EmptyDirs: append(slices.Clone(sandboxtest.NodeDirs),
				units.KubernetesDir, "/etc/hardway", units.EtcdDataDir, "/var/log/kubernetes", units.KubeProxyDir, "/var/lib/hardway", "/run/netns"),
			Sysctls: sandboxtest.KubeletSysctls,
			Binds:   binds,
		})
		c.nodes = append(c.nodes, &node{name: names[i], host: h, sb: sb})
	}
	launch := func(n *node) {
		cmd := n.sb.Command(hardway, "launch", "--node", n.name, "--bundle", filepath.Join(dir, "nodes", n.name+".tar.gz"),
			"--trust", filepath.Join(dir, "signing", "bundle.pub"), "--systemd-socket", n.sb.Socket, "--timeout", "5m")
		start := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("hardway launch on %s: %v\n%s", n.name, err, out)
			return
		}
		took := time.Since(start)
		mu.Lock()
		c.launched[n.name], c.launchTook[n.name] = start.Sub(c.epoch), took
		mu.Unlock()
		t.Logf("hardway launch on %s (%s):\n%s", n.name, took.Round(time.Millisecond), out)
		// The images, into the node's containerd, which launch started.
		if cn, _ := resolved.Node(n.name); !cn.Has(configs.RoleWorker) {
			return
		}
		if err := images.Import(context.Background(), "ctr", units.ContainerdSocket, archive); err != nil {
			// ctr runs in the host's mount namespace: go through the sandbox's.
			if out, err := n.sb.Command("ctr", "--address", units.ContainerdSocket, "--namespace", "k8s.io", "images", "import", "--snapshotter", "overlayfs", archive).CombinedOutput(); err != nil {
				t.Errorf("importing the images into %s's containerd: %v\n%s", n.name, err, out)
			}
		}
	}
	launch(c.nodes[0])
	if t.Failed() {
		t.FailNow()
	}
	var wg sync.WaitGroup
	for _, n := range c.nodes[1:] {
		wg.Add(1)
		go func() { defer wg.Done(); launch(n) }()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return c
}

// nodesReady: `kubectl get nodes` lists the three nodes Ready with the kubelet's version; each
// Node was created by the kubelet's own certificate (the audit log's user is
// system:node:<name>), carries the pod range of the cluster file, and its Lease is renewed.
func (c *nodeCluster) nodesReady(t *testing.T) {
	waitFor(t, 4*time.Minute, "three nodes Ready", func() bool {
		out, err := c.kubectlRun("admin", "get", "nodes", "-o", `jsonpath={range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}`)
		return err == nil && strings.Count(out, " True") == len(c.nodes)
	})
	t.Log(c.admin(t, "get", "nodes", "-o", "wide"))
	for _, n := range c.nodes {
		version := c.admin(t, "get", "node", n.name, "-o", "jsonpath={.status.nodeInfo.kubeletVersion}")
		if !strings.HasPrefix(version, "v1.37.") {
			t.Errorf("%s: kubelet version %q", n.name, version)
		}
		want, _ := c.cfg.Node(n.name)
		waitFor(t, time.Minute, n.name+"'s spec.podCIDR", func() bool {
			out, err := c.kubectlRun("admin", "get", "node", n.name, "-o", "jsonpath={.spec.podCIDR}")
			return err == nil && out == want.PodCIDR
		})
	}
	// The audit log of the API server, on the control-plane node.
	audit := filepath.Join(c.nodes[0].sb.EmptyDir("/var/log/kubernetes"), "audit.log")
	creators := map[string]string{}
	f, err := os.Open(audit)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev struct {
			Verb      string                    `json:"verb"`
			User      struct{ Username string } `json:"user"`
			ObjectRef struct {
				Resource, Name string
			} `json:"objectRef"`
			ResponseStatus struct{ Code int } `json:"responseStatus"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Verb == "create" && ev.ObjectRef.Resource == "nodes" && ev.ResponseStatus.Code == 201 {
			creators[ev.ObjectRef.Name] = ev.User.Username
		}
	}
	for _, n := range c.nodes {
		if got := creators[n.name]; got != "system:node:"+n.name {
			t.Errorf("the audit log says Node %s was created by %q, want system:node:%s", n.name, got, n.name)
		}
	}
	// The kubelet renews its Lease every 10 s (a quarter of the 40 s lease).
	renew := func() string {
		return c.admin(t, "get", "lease", "-n", "kube-node-lease", "w1", "-o", "jsonpath={.spec.renewTime}")
	}
	first := renew()
	waitFor(t, 30*time.Second, "w1's Lease renewed", func() bool { return renew() != first })
}

// seedPod is the pod of the seed's request: the pod program serving HTTP, from the image
// imported into containerd (never pulled).
const seedPod = `{
  "apiVersion": "v1",
  "kind": "Pod",
  "metadata": {"name": "seed", "labels": {"app": "seed"}},
  "spec": {
    "containers": [{
      "name": "web",
      "image": "` + images.ProgramRef + `",
      "imagePullPolicy": "Never",
      "args": ["serve"],
      "ports": [{"containerPort": 8080}]
    }]
  }
}`

// seedRequest: the seed's request verbatim, curl with the admin certificate POSTing a pod,
// answered 201 with no node; the scheduler binds it, the kubelet starts it and reports it
// Running with an address of its node's pod range, and the events tell the story.
func (c *nodeCluster) seedRequest(t *testing.T) (podIP, podNode string) {
	t.Helper()
	podFile := filepath.Join(c.dir, "pod.json")
	writeFile(t, podFile, seedPod)
	out, err := c.curl("--cacert", filepath.Join(c.dir, "pki", "ca.crt"),
		"--cert", filepath.Join(c.dir, "pki", "admin.crt"), "--key", filepath.Join(c.dir, "pki", "admin.key"),
		"-X", "POST", c.cfg.APIEndpoint.URL()+"/api/v1/namespaces/default/pods",
		"-H", "Content-Type: application/json", "-d", "@"+podFile, "-w", "\n%{http_code}")
	if err != nil {
		t.Fatalf("curl POST pod: %v\n%s", err, out)
	}
	body, code, _ := strings.Cut(out, "\n")
	if i := strings.LastIndex(out, "\n"); i >= 0 {
		body, code = out[:i], out[i+1:]
	}
	if code != "201" {
		t.Fatalf("POST pod: HTTP %s\n%s", code, body)
	}
	var created struct {
		Spec struct {
			NodeName string `json:"nodeName"`
		} `json:"spec"`
	}
	if err := json.Unmarshal([]byte(body), &created); err != nil || created.Spec.NodeName != "" {
		t.Errorf("the created pod: nodeName %q (want none: the scheduler binds it), %v", created.Spec.NodeName, err)
	}
	waitFor(t, 3*time.Minute, "the seed pod Running", func() bool {
		out, err := c.kubectlRun("admin", "get", "pod", "seed", "-o", "jsonpath={.status.phase}")
		return err == nil && out == "Running"
	})
	podIP = c.admin(t, "get", "pod", "seed", "-o", "jsonpath={.status.podIP}")
	podNode = c.admin(t, "get", "pod", "seed", "-o", "jsonpath={.spec.nodeName}")
	n, ok := c.cfg.Node(podNode)
	if !ok {
		t.Fatalf("the seed pod is on %q, not a node of the cluster", podNode)
	}
	if ip, err := netip.ParseAddr(podIP); err != nil || !netip.MustParsePrefix(n.PodCIDR).Contains(ip) {
		t.Errorf("the seed pod's IP %q is not in %s's pod range %s", podIP, podNode, n.PodCIDR)
	}
	events := c.admin(t, "get", "events", "--field-selector", "involvedObject.name=seed", "-o", "jsonpath={range .items[*]}{.reason}{\" \"}{end}")
	for _, want := range []string{"Scheduled", "Pulled", "Created", "Started"} {
		if !strings.Contains(events, want) {
			t.Errorf("the seed pod's events %q have no %s", events, want)
		}
	}
	t.Logf("seed pod on %s at %s; events: %s", podNode, podIP, events)
	return podIP, podNode
}

// apiserverToKubelet: the API server reaches the kubelet with apiserver-kubelet-client,
// verifying the kubelet's serving certificate against the cluster CA: logs, exec,
// port-forward and the node proxy.
func (c *nodeCluster) apiserverToKubelet(t *testing.T, podNode string) {
	if out := c.admin(t, "logs", "seed"); !strings.Contains(out, "serving on") {
		t.Errorf("kubectl logs seed: %q", out)
	}
	if out := c.admin(t, "exec", "seed", "--", images.ProgramPath, "echo", "hello", "from", "exec"); out != "hello from exec" {
		t.Errorf("kubectl exec: %q", out)
	}
	pf := exec.Command("nsenter", "--net="+c.nodes[0].host.Path, c.kubectl, "--kubeconfig", filepath.Join(c.dir, "kubeconfigs", "admin.kubeconfig"),
		"port-forward", "pod/seed", "18080:8080")
	pf.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + c.dir}
	if err := pf.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pf.Process.Kill(); _ = pf.Wait() }()
	var got string
	waitFor(t, 30*time.Second, "an answer through kubectl port-forward", func() bool {
		out, err := c.curl("http://127.0.0.1:18080/")
		got = out
		return err == nil && strings.Contains(out, "podprogram on seed")
	})
	t.Logf("port-forward: %q", got)
	for _, n := range c.nodes {
		if out := c.admin(t, "get", "--raw", "/api/v1/nodes/"+n.name+"/proxy/healthz"); out != "ok" {
			t.Errorf("node proxy healthz of %s: %q", n.name, out)
		}
	}
}

// foreignServingCert: a kubelet serving certificate from another CA makes `kubectl logs` of a
// pod on that node fail with an x509 error (the API server verifies it with
// --kubelet-certificate-authority); `hardway launch` then puts the bundle's certificate back.
func (c *nodeCluster) foreignServingCert(t *testing.T) {
	w2 := c.nodes[2]
	c.admin(t, "run", "on-w2", "--image="+images.ProgramRef, "--image-pull-policy=Never", "--overrides",
		`{"spec":{"nodeName":"w2"}}`, "--", "serve")
	waitFor(t, 2*time.Minute, "pod on-w2 Running", func() bool {
		out, err := c.kubectlRun("admin", "get", "pod", "on-w2", "-o", "jsonpath={.status.phase}")
		return err == nil && out == "Running"
	})
	cert, key := newTestCA(t, "not-the-cluster-ca").issue(t, "system:node:w2", pki.UsageServer, "w2", w2.ip())
	pkiDir := filepath.Join(w2.sb.EmptyDir(units.KubeletDir), "pki")
	for name, data := range map[string][]byte{"kubelet.crt": cert, "kubelet.key": key} {
		if err := os.WriteFile(filepath.Join(pkiDir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mgr := w2.sb.Connect(t)
	if err := mgr.Restart(context.Background(), "kubelet.service"); err != nil {
		t.Fatal(err)
	}
	var last error
	waitFor(t, time.Minute, "an x509 error from kubectl logs on-w2", func() bool {
		_, last = c.kubectlRun("admin", "logs", "on-w2")
		return last != nil && strings.Contains(last.Error(), "x509")
	})
	t.Logf("kubectl logs with a foreign kubelet certificate: %v", last)
	// launch sees the drift and restores the bundle's certificate.
	out, err := w2.sb.Command(c.hardway, "launch", "--node", "w2", "--bundle", filepath.Join(c.dir, "nodes", "w2.tar.gz"),
		"--trust", filepath.Join(c.dir, "signing", "bundle.pub"), "--systemd-socket", w2.sb.Socket, "--timeout", "3m").CombinedOutput()
	if err != nil {
		t.Fatalf("hardway launch on w2: %v\n%s", err, out)
	}
	waitFor(t, time.Minute, "kubectl logs on-w2 again", func() bool {
		out, err := c.kubectlRun("admin", "logs", "on-w2")
		return err == nil && strings.Contains(out, "serving on")
	})
}

// kubeletAPIAuth: the kubelet's own port refuses a request without a client certificate (401)
// and one from an identity without nodes/proxy (403: webhook authorization).
func (c *nodeCluster) kubeletAPIAuth(t *testing.T) {
	url := "https://" + c.nodes[1].ip() + ":10250/pods"
	ca := filepath.Join(c.dir, "pki", "ca.crt")
	out, err := c.curl("--cacert", ca, "-o", "/dev/null", "-w", "%{http_code}", url)
	if err != nil || out != "401" {
		t.Errorf("kubelet API without a client certificate: %q, %v; want 401", out, err)
	}
	out, err = c.curl("--cacert", ca, "--cert", filepath.Join(c.dir, "pki", "kube-proxy.crt"), "--key", filepath.Join(c.dir, "pki", "kube-proxy.key"),
		"-o", "/dev/null", "-w", "%{http_code}", url)
	if err != nil || out != "403" {
		t.Errorf("kubelet API as system:kube-proxy: %q, %v; want 403", out, err)
	}
	out, err = c.curl("--cacert", ca, "--cert", filepath.Join(c.dir, "pki", "apiserver-kubelet-client.crt"), "--key", filepath.Join(c.dir, "pki", "apiserver-kubelet-client.key"),
		"-o", "/dev/null", "-w", "%{http_code}", url)
	if err != nil || out != "200" {
		t.Errorf("kubelet API as the API server's kubelet client: %q, %v; want 200", out, err)
	}
}

// nodeAuthorization: with the real kubelet credentials, node w1 reads a secret a pod bound to it
// uses and not one only a pod on w2 uses; it cannot label w2's Node, delete w2's pods, or give
// itself a node-restriction.kubernetes.io/ label.
func (c *nodeCluster) nodeAuthorization(t *testing.T) {
	for _, s := range []struct{ secret, node string }{{"for-w1", "w1"}, {"for-w2", "w2"}} {
		c.admin(t, "create", "secret", "generic", s.secret, "--from-literal=k=v")
		c.admin(t, "run", "uses-"+s.secret, "--image="+images.ProgramRef, "--image-pull-policy=Never", "--overrides",
			`{"spec":{"nodeName":"`+s.node+`","volumes":[{"name":"s","secret":{"secretName":"`+s.secret+`"}}],`+
				`"containers":[{"name":"c","image":"`+images.ProgramRef+`","imagePullPolicy":"Never","args":["serve"],"volumeMounts":[{"name":"s","mountPath":"/s"}]}]}}`)
	}
	kubelet := "kubelet-w1"
	if _, err := c.kubectlRun(kubelet, "get", "secret", "for-w1"); err != nil {
		t.Errorf("w1 cannot read the secret of its own pod: %v", err)
	}
	for _, tc := range []struct {
		what string
		args []string
		want string
	}{
		{"read a secret only w2's pod uses", []string{"get", "secret", "for-w2"}, "Forbidden"},
		{"label w2's Node", []string{"label", "node", "w2", "stolen=yes"}, "Forbidden"},
		{"delete w2's pod", []string{"delete", "pod", "uses-for-w2", "--wait=false"}, "Forbidden"},
		{"give itself a node-restriction label", []string{"label", "node", "w1", "node-restriction.kubernetes.io/trusted=yes"}, "node-restriction.kubernetes.io"},
	} {
		if out, err := c.kubectlRun(kubelet, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("w1 could %s: %q, %v (want an error saying %s)", tc.what, out, err, tc.want)
		}
	}
}

// servicesAndDNS: a ClusterIP and a NodePort Service reach the seed pod from a node (kube-proxy's
// rules); a pod on one worker reaches a pod on the other and the Service by name through the
// rendered routes and the cluster DNS.
func (c *nodeCluster) servicesAndDNS(t *testing.T, podIP string) {
	c.admin(t, "expose", "pod", "seed", "--name", "seed", "--port", "80", "--target-port", "8080")
	c.admin(t, "expose", "pod", "seed", "--name", "seed-np", "--type", "NodePort", "--port", "80", "--target-port", "8080")
	clusterIP := c.admin(t, "get", "service", "seed", "-o", "jsonpath={.spec.clusterIP}")
	nodePort := c.admin(t, "get", "service", "seed-np", "-o", "jsonpath={.spec.ports[0].nodePort}")
	for _, n := range c.nodes {
		for _, url := range []string{"http://" + clusterIP + "/", "http://" + n.ip() + ":" + nodePort + "/"} {
			var out []byte
			waitFor(t, time.Minute, "an answer from "+url+" on "+n.name, func() bool {
				var err error
				out, err = n.host.Command("curl", "-sS", "--max-time", "5", url).CombinedOutput()
				return err == nil && strings.Contains(string(out), "podprogram on seed")
			})
		}
	}
	// Pods on the two workers reach each other across nodes, by address and by Service name.
	c.admin(t, "run", "client-w1", "--image="+images.ProgramRef, "--image-pull-policy=Never", "--overrides", `{"spec":{"nodeName":"w1"}}`, "--", "serve")
	c.admin(t, "run", "client-w2", "--image="+images.ProgramRef, "--image-pull-policy=Never", "--overrides", `{"spec":{"nodeName":"w2"}}`, "--", "serve")
	for _, p := range []string{"client-w1", "client-w2"} {
		waitFor(t, 2*time.Minute, p+" Running", func() bool {
			out, err := c.kubectlRun("admin", "get", "pod", p, "-o", "jsonpath={.status.phase}")
			return err == nil && out == "Running"
		})
	}
	w2IP := c.admin(t, "get", "pod", "client-w2", "-o", "jsonpath={.status.podIP}")
	domain := c.cfg.DNSDomain
	for _, tc := range []struct{ what, pod, url, want string }{
		{"w1's pod to w2's pod", "client-w1", "http://" + w2IP + ":8080/", "podprogram on client-w2"},
		{"w2's pod to the seed pod", "client-w2", "http://" + podIP + ":8080/", "podprogram on seed"},
		{"w1's pod to the Service by name", "client-w1", "http://seed.default.svc." + domain + "/", "podprogram on seed"},
	} {
		var out string
		var err error
		waitFor(t, 2*time.Minute, tc.what, func() bool {
			out, err = c.kubectlRun("admin", "exec", tc.pod, "--", images.ProgramPath, "get", tc.url)
			return err == nil && strings.Contains(out, tc.want)
		})
	}
	kubeSvc, _ := c.cfg.KubernetesServiceIP()
	for _, name := range []string{"kubernetes.default.svc." + domain, "seed.default.svc." + domain} {
		want := kubeSvc.String()
		if strings.HasPrefix(name, "seed.") {
			want = clusterIP
		}
		out := c.admin(t, "exec", "client-w2", "--", images.ProgramPath, "lookup", name)
		if !strings.Contains(out, want) {
			t.Errorf("lookup %s in a pod: %q, want %s", name, out, want)
		}
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
