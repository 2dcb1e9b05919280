package inspect

import (
	"crypto/x509"
	"fmt"
	"os"
	"testing"
	"testing/fstest"
	"time"

	"github.com/hardway-dev/hardway/units/flags"
)

// ruleCase builds the inputs of one case: invocations and the options to inspect them with.
type ruleCase func(t *testing.T) ([]*Invocation, Options)

// withCluster replaces one component's command line in the clean cluster and lets mutate
// change the PKI.
func withCluster(component, line string, mutate func(p *testPKI)) ruleCase {
	return func(t *testing.T) ([]*Invocation, Options) {
		p := goodPKI(t)
		if mutate != nil {
			mutate(p)
		}
		invs := cleanCluster(t)
		if line != "" {
			for i, inv := range invs {
				if inv.Component == component {
					invs[i] = command(t, line)
				}
			}
		}
		return invs, opts(p.fs)
	}
}

func lines(ls ...string) ruleCase {
	return func(t *testing.T) ([]*Invocation, Options) {
		var invs []*Invocation
		for _, l := range ls {
			invs = append(invs, command(t, l))
		}
		return invs, opts(nil)
	}
}

func atVersion(v string, c ruleCase) ruleCase {
	return func(t *testing.T) ([]*Invocation, Options) {
		invs, o := c(t)
		o.Target = flags.MustVersion(v)
		return invs, o
	}
}

func unitText(text string) ruleCase {
	return func(t *testing.T) ([]*Invocation, Options) {
		u, err := LoadUnit("x.service", File{Name: "x.service", Data: []byte(text)}, nil, fstest.MapFS{})
		if err != nil {
			t.Fatal(err)
		}
		inv, err := FromUnitFile(flags.Default(), u)
		if err != nil {
			t.Fatal(err)
		}
		return []*Invocation{inv}, opts(nil)
	}
}

// awayFromNode is a scheduler whose kubeconfig is not in the (empty) file system: away from
// its node, or on its node (nodeRoot, as inspect --root) where the missing file is an error.
func awayFromNode(nodeRoot bool) ruleCase {
	return func(t *testing.T) ([]*Invocation, Options) {
		o := opts(fstest.MapFS{})
		o.NodeRoot = nodeRoot
		return []*Invocation{command(t, cleanScheduler)}, o
	}
}

func fixture(name string) ruleCase {
	return func(t *testing.T) ([]*Invocation, Options) { return loadFixture(t, name, nil), opts(nil) }
}

func reissue(path string, ca func(p *testPKI) *testCA, o leafOpts) func(p *testPKI) {
	return func(p *testPKI) {
		c, k := ca(p).issue(&testing.T{}, o)
		put(p.fs, path+".crt", c, 0o644)
		put(p.fs, path+".key", k, 0o600)
	}
}

var (
	caOf     = func(p *testPKI) *testCA { return p.ca }
	etcdCAOf = func(p *testPKI) *testCA { return p.etcdCA }
	clientU  = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	serverU  = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	apiSANs  = []string{"kubernetes", "10.0.0.10", "10.96.0.1"}
)

// ruleCases: for every rule, an input that fires it and, where the clean cluster is not the
// natural counterpart, one that does not.
var ruleCases = map[string]struct{ fires, quiet ruleCase }{
	"input-no-command":            {fires: lines("")},
	"input-unknown-component":     {fires: lines("/usr/bin/nginx -g daemon"), quiet: lines("/opt/bin/hardway etcd --name=cp-1")},
	"input-wrapper":               {fires: lines("/go-runner --logfile=/var/log/s.log /usr/local/bin/kube-scheduler"), quiet: lines("/go-runner --log-file=/var/log/e.log --also-stdout=false -- /usr/local/bin/etcd --name=cp-1")},
	"input-wrapper-runtime":       {fires: lines(`/bin/sh -c "exec /usr/local/bin/etcd --name=$$(hostname)"`), quiet: lines(`/bin/sh -c "exec /usr/local/bin/etcd --name=cp-1 1>>/var/log/etcd.log 2>&1"`)},
	"manifest-undefined-variable": {fires: fixture("wrappers/kube-apiserver-podip.manifest"), quiet: fixture("wrappers/kube-proxy-daemonset.yaml")},
	"unit-multiple-execstart": {
		fires: unitText("[Service]\nExecStart=/usr/bin/etcd --name=a\nExecStart=/usr/bin/etcd --name=b\n"),
		quiet: fixture("kube-apiserver-dropin.service"),
	},
	"unit-unresolved-variable": {fires: unitText("[Service]\nExecStart=/usr/bin/etcd --name=${NAME}\n"), quiet: unitText("[Service]\nEnvironment=NAME=a\nExecStart=/usr/bin/etcd --name=${NAME}\n")},
	"unit-unbraced-variable":   {fires: unitText("[Service]\nEnvironment=NAME=a\nExecStart=/usr/bin/etcd --name=$NAME\n"), quiet: unitText("[Service]\nEnvironment=NAME=a\nExecStart=/usr/bin/etcd --name $NAME\n")},
	"unit-environment":         {fires: unitText("[Service]\nEnvironmentFile=/etc/missing.env\nExecStart=/usr/bin/etcd\n"), quiet: unitText("[Service]\nEnvironmentFile=-/etc/missing.env\nExecStart=/usr/bin/etcd\n")},
	"flag-single-dash":         {fires: withCluster("kube-apiserver", cleanAPI+" -profiling=false", nil), quiet: withCluster("kube-apiserver", cleanAPI+" -v=2", nil)},
	"flag-missing-value":       {fires: withCluster("kube-apiserver", cleanAPI+" --event-ttl", nil)},
	"flag-unknown":             {fires: withCluster("kube-apiserver", cleanAPI+" --no-such-flag=1", nil)},
	"flag-removed":             {fires: withCluster("kube-apiserver", cleanAPI+" --kubelet-https=true", nil), quiet: atVersion("1.21", withCluster("kube-apiserver", cleanAPI+" --apiserver-count=3", nil))},
	"flag-not-yet-added":       {fires: atVersion("1.28", withCluster("kube-apiserver", cleanAPI+" --authentication-config=/etc/kubernetes/authn.yaml", nil))},
	"flag-deprecated":          {fires: withCluster("kube-apiserver", cleanAPI+" --apiserver-count=3", nil)},
	"flag-noop":                {fires: atVersion("1.21", withCluster("kube-apiserver", cleanAPI+" --insecure-port=0", nil))},
	"flag-repeated":            {fires: withCluster("kube-apiserver", cleanAPI+" --secure-port=6443 --secure-port=443", nil), quiet: withCluster("kube-apiserver", cleanAPI+" --tls-sni-cert-key=a.crt,a.key --tls-sni-cert-key=b.crt,b.key", nil)},
	"arg-positional":           {fires: withCluster("etcd", cleanEtcd+" stray", nil)},
	"admission-plugin-removed": {fires: withCluster("kube-apiserver", edit(cleanAPI, map[string]string{"enable-admission-plugins": "NodeRestriction,PodSecurityPolicy"}), nil),
		quiet: atVersion("1.24", withCluster("kube-apiserver", edit(cleanAPI, map[string]string{"enable-admission-plugins": "NodeRestriction,PodSecurityPolicy"}), nil))},
	"admission-plugin-deprecated": {fires: atVersion("1.28", withCluster("kube-apiserver", edit(cleanAPI, map[string]string{"enable-admission-plugins": "NodeRestriction,SecurityContextDeny"})+" --feature-gates=SecurityContextDeny=true", nil)),
		// disabling a deprecated plugin is what the deprecation asks for
		quiet: atVersion("1.28", withCluster("kube-apiserver", cleanAPI+" --disable-admission-plugins=SecurityContextDeny", nil))},
	"admission-plugin-gate-off": {fires: atVersion("1.28", withCluster("kube-apiserver", edit(cleanAPI, map[string]string{"enable-admission-plugins": "NodeRestriction,SecurityContextDeny"}), nil)),
		quiet: atVersion("1.28", withCluster("kube-apiserver", edit(cleanAPI, map[string]string{"enable-admission-plugins": "NodeRestriction,SecurityContextDeny"})+" --feature-gates=SecurityContextDeny=true", nil))},
	"admission-plugin-unknown": {fires: withCluster("kube-apiserver", edit(cleanAPI, map[string]string{"enable-admission-plugins": "NodeRestriction,NoSuchPlugin"}), nil)},
	"feature-gate-removed": {fires: atVersion("1.14", withCluster("kube-apiserver", cleanAPI+" --feature-gates=Initializers=true", nil)),
		quiet: atVersion("1.13", withCluster("kube-apiserver", cleanAPI+" --feature-gates=Initializers=true,NoGateHardwayKnows=true", nil))},
	"feature-gate-not-yet-added": {fires: atVersion("1.11", withCluster("kube-apiserver", cleanAPI+" --feature-gates=TTLAfterFinished=true", nil)),
		quiet: atVersion("1.12", withCluster("kube-apiserver", cleanAPI+" --feature-gates=TTLAfterFinished=true", nil))},
	"feature-gate-not-registered": {fires: withCluster("kube-scheduler", cleanScheduler+" --feature-gates=ControllerManagerReleaseLeaderElectionLockOnExit=true", nil),
		quiet: withCluster("kube-controller-manager", cleanKCM+" --feature-gates=ControllerManagerReleaseLeaderElectionLockOnExit=true", nil)},
	"admission-control-conflict": {fires: withCluster("kube-apiserver", cleanAPI+" --admission-control=NodeRestriction", nil)},
	"runtime-config-api-all":     {fires: withCluster("kube-apiserver", cleanAPI+" --runtime-config=api/all", nil), quiet: withCluster("kube-apiserver", cleanAPI+" --runtime-config=batch/v1=true", nil)},
	"runtime-config-all-apis":    {fires: withCluster("kube-apiserver", cleanAPI+" --runtime-config=api/all=true", nil)},
	"runtime-config-removed": {fires: atVersion("1.21", withCluster("kube-apiserver", cleanAPI+" --runtime-config=batch/v2alpha1=true", nil)),
		quiet: atVersion("1.20", withCluster("kube-apiserver", cleanAPI+" --runtime-config=batch/v2alpha1=true", nil))},
	"runtime-config-not-yet-added": {fires: atVersion("1.16", withCluster("kube-apiserver", cleanAPI+" --runtime-config=api/beta=false", nil)),
		quiet: atVersion("1.17", withCluster("kube-apiserver", cleanAPI+" --runtime-config=api/beta=false", nil))},
	"runtime-config-unknown": {fires: withCluster("kube-apiserver", cleanAPI+" --runtime-config=example.com/v1=true", nil),
		quiet: withCluster("kube-apiserver", cleanAPI+" --runtime-config=storagemigration.k8s.io/v1beta1=true", nil)},
	"runtime-config-invalid": {fires: withCluster("kube-apiserver", cleanAPI+" --runtime-config=batch=true", nil),
		quiet: atVersion("1.9", withCluster("kube-apiserver", cleanAPI+" --runtime-config=batch=true", nil))},
	"runtime-config-ignored": {fires: withCluster("kube-apiserver", cleanAPI+" --runtime-config=api/legacy=false", nil),
		quiet: withCluster("kube-apiserver", cleanAPI+" --runtime-config=v1=true", nil)},
	"service-account-flags-missing": {fires: withCluster("kube-apiserver", edit(cleanAPI, map[string]string{"service-account-issuer": ""}), nil),
		quiet: atVersion("1.20", withCluster("kube-apiserver", "", nil))},
	"insecure-port-nonzero": {fires: atVersion("1.22", withCluster("kube-apiserver", cleanAPI+" --insecure-port=8080", nil)), quiet: atVersion("1.22", withCluster("kube-apiserver", cleanAPI+" --insecure-port=0", nil))},
	"endpoint-reconciler-master-count": {fires: withCluster("kube-apiserver", cleanAPI+" --endpoint-reconciler-type=master-count", nil),
		quiet: withCluster("kube-apiserver", cleanAPI+" --endpoint-reconciler-type=lease", nil)},
	"value-empty":            {fires: withCluster("kube-apiserver", cleanAPI+" --bind-address=", nil), quiet: withCluster("kube-apiserver", cleanAPI+" --bind-address=0.0.0.0", nil)},
	"value-malformed":        {fires: withCluster("kube-apiserver", edit(cleanAPI, map[string]string{"service-cluster-ip-range": "10.96.0.1/12"}), nil), quiet: withCluster("kube-apiserver", cleanAPI+" --service-node-port-range=30000-32767", nil)},
	"value-not-allowed":      {fires: withCluster("kube-apiserver", edit(cleanAPI, map[string]string{"authorization-mode": "Node,RBAC,Magic"}), nil)},
	"etcd-servers-missing":   {fires: withCluster("kube-apiserver", edit(cleanAPI, map[string]string{"etcd-servers": ""}), nil)},
	"anonymous-auth-enabled": {fires: withCluster("kube-apiserver", edit(cleanAPI, map[string]string{"anonymous-auth": ""}), nil)},
	"authorization-always-allow": {fires: withCluster("kube-apiserver", edit(cleanAPI, map[string]string{"authorization-mode": ""}), nil),
		quiet: withCluster("kube-apiserver", edit(cleanAPI, map[string]string{"authorization-mode": ""}, "--authorization-config=/etc/kubernetes/audit-policy.yaml"), nil)},
	"authorization-missing-node-rbac": {fires: withCluster("kube-apiserver", edit(cleanAPI, map[string]string{"authorization-mode": "RBAC"}), nil)},
	"client-ca-missing":               {fires: withCluster("kube-apiserver", edit(cleanAPI, map[string]string{"client-ca-file": ""}), nil)},
	"etcd-connection-insecure":        {fires: withCluster("kube-apiserver", edit(cleanAPI, map[string]string{"etcd-keyfile": ""}), nil)},
	"kubelet-ca-missing":              {fires: withCluster("kube-apiserver", edit(cleanAPI, map[string]string{"kubelet-certificate-authority": ""}), nil)},
	"kubelet-client-cert-missing":     {fires: withCluster("kube-apiserver", edit(cleanAPI, map[string]string{"kubelet-client-key": ""}), nil)},
	"encryption-config-missing":       {fires: withCluster("kube-apiserver", edit(cleanAPI, map[string]string{"encryption-provider-config": ""}), nil)},
	"audit-log-missing":               {fires: withCluster("kube-apiserver", edit(cleanAPI, map[string]string{"audit-policy-file": ""}), nil)},
	"profiling-enabled":               {fires: withCluster("kube-scheduler", edit(cleanScheduler, map[string]string{"profiling": ""}), nil)},
	// With --config the scheduler's profiling is its config file's: on by default, off as
	// hardway renders it (reported as info, since scanners look for the flag).
	"profiling-in-config": {fires: withCluster("kube-scheduler", "kube-scheduler --config=/etc/kubernetes/kube-scheduler.yaml --bind-address=127.0.0.1", func(p *testPKI) {
		put(p.fs, "/etc/kubernetes/kube-scheduler.yaml", []byte("apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nenableProfiling: false\n"), 0o600)
	}), quiet: withCluster("kube-scheduler", "kube-scheduler --config=/etc/kubernetes/kube-scheduler.yaml --bind-address=127.0.0.1", func(p *testPKI) {
		put(p.fs, "/etc/kubernetes/kube-scheduler.yaml", []byte("apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"), 0o600)
	})},
	"service-account-token-extended": {fires: withCluster("kube-apiserver", edit(cleanAPI, map[string]string{"service-account-extend-token-expiration": ""}), nil)},
	"tls-min-version-weak":           {fires: withCluster("kube-apiserver", edit(cleanAPI, map[string]string{"tls-min-version": "VersionTLS10"}), nil)},
	"tls-cipher-weak": {fires: withCluster("kube-apiserver", cleanAPI+" --tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_RSA_WITH_3DES_EDE_CBC_SHA", nil),
		quiet: withCluster("kube-apiserver", cleanAPI+" --tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", nil)},
	"node-restriction-missing": {fires: withCluster("kube-apiserver", edit(cleanAPI, map[string]string{"enable-admission-plugins": ""}), nil)},
	"always-admit":             {fires: withCluster("kube-apiserver", edit(cleanAPI, map[string]string{"enable-admission-plugins": "NodeRestriction,AlwaysAdmit"}), nil)},
	"token-auth-file":          {fires: withCluster("kube-apiserver", cleanAPI+" --token-auth-file=/etc/kubernetes/tokens.csv", func(p *testPKI) { put(p.fs, "/etc/kubernetes/tokens.csv", []byte("t,u,1\n"), 0o600) })},
	"basic-auth-file": {fires: atVersion("1.11", withCluster("kube-apiserver", cleanAPI+" --basic-auth-file=/etc/kubernetes/basic_auth.csv", func(p *testPKI) { put(p.fs, "/etc/kubernetes/basic_auth.csv", []byte("pw,admin,1\n"), 0o600) })),
		// gone in 1.19: flag-removed says the apiserver exits
		quiet: atVersion("1.19", withCluster("kube-apiserver", cleanAPI+" --basic-auth-file=/etc/kubernetes/basic_auth.csv", func(p *testPKI) { put(p.fs, "/etc/kubernetes/basic_auth.csv", []byte("pw,admin,1\n"), 0o600) }))},
	"service-account-lookup-disabled":    {fires: withCluster("kube-apiserver", cleanAPI+" --service-account-lookup=false", nil)},
	"tls-cert-missing":                   {fires: withCluster("kube-apiserver", edit(cleanAPI, map[string]string{"tls-cert-file": "", "tls-private-key-file": ""}), nil)},
	"bind-address-exposed":               {fires: withCluster("kube-controller-manager", edit(cleanKCM, map[string]string{"bind-address": "0.0.0.0"}), nil)},
	"controller-credentials-shared":      {fires: withCluster("kube-controller-manager", edit(cleanKCM, map[string]string{"use-service-account-credentials": ""}), nil)},
	"service-account-key-missing":        {fires: withCluster("kube-controller-manager", edit(cleanKCM, map[string]string{"service-account-private-key-file": ""}), nil)},
	"root-ca-missing":                    {fires: withCluster("kube-controller-manager", edit(cleanKCM, map[string]string{"root-ca-file": ""}), nil)},
	"etcd-client-plaintext":              {fires: fixture("etcd-plain.service"), quiet: lines("etcd --name=dev --listen-client-urls=http://127.0.0.1:2379")},
	"etcd-client-cert-auth-off":          {fires: withCluster("etcd", edit(cleanEtcd, map[string]string{"client-cert-auth": ""}), nil)},
	"etcd-peer-plaintext":                {fires: fixture("etcd-plain.service"), quiet: lines("etcd --name=dev --listen-client-urls=http://127.0.0.1:2379")},
	"etcd-peer-cert-auth-off":            {fires: withCluster("etcd", edit(cleanEtcd, map[string]string{"peer-client-cert-auth": ""}), nil)},
	"etcd-auto-tls":                      {fires: withCluster("etcd", cleanEtcd+" --peer-auto-tls", nil)},
	"kubelet-anonymous-auth":             {fires: withCluster("kubelet", cleanKubelet+" --anonymous-auth=true", nil), quiet: lines("kubelet --anonymous-auth=false --authorization-mode=Webhook --client-ca-file=/ca.crt --read-only-port=0")},
	"kubelet-authorization-always-allow": {fires: withCluster("kubelet", "kubelet --kubeconfig=/etc/kubernetes/kubelet.kubeconfig", nil)},
	"kubelet-client-ca-missing": {fires: withCluster("kubelet", "", func(p *testPKI) {
		put(p.fs, "/var/lib/kubelet/config.yaml", []byte("kind: KubeletConfiguration\napiVersion: kubelet.config.k8s.io/v1beta1\nauthorization: {mode: Webhook}\n"), 0o644)
	})},
	"kubelet-read-only-port": {fires: withCluster("kubelet", cleanKubelet+" --read-only-port=10255", nil)},
	"files-not-judged":       {fires: awayFromNode(false), quiet: awayFromNode(true)},
	"config-not-judged":      {fires: lines("kubelet --config=/var/lib/kubelet/config.yaml"), quiet: withCluster("kubelet", "", nil)},
	"kubelet-config-unreadable": {fires: withCluster("kubelet", "", func(p *testPKI) {
		put(p.fs, "/var/lib/kubelet/config.yaml", []byte("kind: KubeletConfiguration\nnoSuchField: 1\n"), 0o644)
	})},
	"file-missing":     {fires: withCluster("kube-apiserver", "", func(p *testPKI) { delete(p.fs, "etc/kubernetes/pki/apiserver.crt") })},
	"file-unreadable":  {fires: withCluster("kube-apiserver", "", func(p *testPKI) { put(p.fs, "/etc/kubernetes/pki/apiserver.crt", []byte("not pem"), 0o644) })},
	"file-permissions": {fires: withCluster("kube-apiserver", "", func(p *testPKI) { p.fs["etc/kubernetes/pki/apiserver.key"].Mode = 0o644 })},
	"cert-expired":     {fires: withCluster("kube-apiserver", "", reissue("/etc/kubernetes/pki/apiserver", caOf, leafOpts{cn: "kube-apiserver", usages: serverU, sans: apiSANs, notAfter: testNow.Add(-time.Hour)}))},
	"cert-expiring": {fires: withCluster("kube-apiserver", "", reissue("/etc/kubernetes/pki/apiserver", caOf, leafOpts{cn: "kube-apiserver", usages: serverU, sans: apiSANs, notAfter: testNow.Add(10 * 24 * time.Hour)})),
		quiet: withCluster("kube-apiserver", "", reissue("/etc/kubernetes/pki/apiserver", caOf, leafOpts{cn: "kube-apiserver", usages: serverU, sans: apiSANs, notAfter: testNow.Add(40 * 24 * time.Hour)}))},
	"key-mismatch": {fires: withCluster("kube-apiserver", "", func(p *testPKI) {
		put(p.fs, "/etc/kubernetes/pki/apiserver.key", p.fs["etc/kubernetes/pki/apiserver-kubelet-client.key"].Data, 0o600)
	})},
	"cert-untrusted":          {fires: withCluster("kube-apiserver", "", reissue("/etc/kubernetes/pki/front-proxy-client", caOf, leafOpts{cn: "front-proxy-client", usages: clientU}))},
	"cert-san-missing":        {fires: withCluster("kube-apiserver", "", reissue("/etc/kubernetes/pki/apiserver", caOf, leafOpts{cn: "kube-apiserver", usages: serverU, sans: []string{"kubernetes", "10.96.0.1"}}))},
	"cert-service-ip-missing": {fires: withCluster("kube-apiserver", "", reissue("/etc/kubernetes/pki/apiserver", caOf, leafOpts{cn: "kube-apiserver", usages: serverU, sans: []string{"kubernetes", "10.0.0.10"}}))},
	"cert-usage":              {fires: withCluster("kube-apiserver", "", reissue("/etc/kubernetes/pki/apiserver-etcd-client", etcdCAOf, leafOpts{cn: "kube-apiserver-etcd-client", usages: serverU}))},
	"service-account-key-mismatch": {fires: withCluster("kube-apiserver", "", func(p *testPKI) {
		put(p.fs, "/etc/kubernetes/pki/sa.pub", pubPEM(&testing.T{}, newKey(&testing.T{})), 0o644)
	})},
	"suppression-invalid": {fires: unitText("[Service]\n# hardway-inspect: ignore no-such-rule a reason\nExecStart=/usr/bin/etcd --name=a\n"),
		quiet: unitText("[Service]\n# hardway-inspect: ignore profiling-enabled pprof is firewalled\nExecStart=/usr/bin/etcd --name=a\n")},
	"etcd-client-cert-missing": {fires: withCluster("etcd", edit(cleanEtcd, map[string]string{"cert-file": ""}), nil)},
	"etcd-peer-cert-missing":   {fires: withCluster("etcd", edit(cleanEtcd, map[string]string{"peer-key-file": ""}), nil)},
	"insecure-port-open": {fires: atVersion("1.21", withCluster("", "", nil)),
		quiet: atVersion("1.21", func(t *testing.T) ([]*Invocation, Options) {
			invs, o := withCluster("kube-controller-manager", cleanKCM+" --port=0", nil)(t)
			for i, inv := range invs {
				if inv.Component == "kube-scheduler" {
					invs[i] = command(t, cleanScheduler+" --port=0")
				}
			}
			return invs, o
		})},
	"master-plain-http":    {fires: withCluster("kube-scheduler", cleanScheduler+" --master=http://127.0.0.1:8080", nil)},
	"cross-service-range":  {fires: withCluster("kube-controller-manager", edit(cleanKCM, map[string]string{"service-cluster-ip-range": "10.32.0.0/24"}), nil)},
	"cross-etcd-ca-shared": {fires: withCluster("etcd", edit(cleanEtcd, map[string]string{"trusted-ca-file": "/etc/kubernetes/pki/ca.crt"}), nil)},
	"cross-etcd-endpoints": {fires: withCluster("kube-apiserver", edit(cleanAPI, map[string]string{"etcd-servers": "https://10.0.0.99:2379"}), nil)},
	"cross-client-ca":      {fires: withCluster("kube-apiserver", "", reissue("/etc/kubernetes/pki/apiserver-etcd-client", caOf, leafOpts{cn: "kube-apiserver-etcd-client", usages: clientU}))},
	"cross-kubeconfig-ca": {fires: withCluster("kube-apiserver", "", func(p *testPKI) {
		other := newCA(&testing.T{}, "other")
		c, k := p.ca.issue(&testing.T{}, leafOpts{cn: "system:kube-scheduler", usages: clientU})
		put(p.fs, "/etc/kubernetes/scheduler.kubeconfig", kubeconfigYAML(other, c, k), 0o600)
	})},
}

func TestEveryRuleHasCases(t *testing.T) {
	for _, r := range Rules {
		if _, ok := ruleCases[r.ID]; !ok {
			t.Errorf("rule %s has no test case", r.ID)
		}
	}
	for id := range ruleCases {
		if _, ok := ruleIndex[id]; !ok {
			t.Errorf("test case for unregistered rule %s", id)
		}
	}
}

func TestRulesFireAndStayQuiet(t *testing.T) {
	for id, rc := range ruleCases {
		t.Run(id, func(t *testing.T) {
			invs, o := rc.fires(t)
			rep := Inspect(invs, o)
			if ids(rep.All())[id] == 0 {
				t.Errorf("%s did not fire; got:\n%s", id, dump(rep))
			}
			quiet := rc.quiet
			if quiet == nil {
				quiet = withCluster("", "", nil)
			}
			invs, o = quiet(t)
			rep = Inspect(invs, o)
			if n := ids(rep.All())[id]; n > 0 {
				t.Errorf("%s fired on the quiet case:\n%s", id, dump(rep))
			}
		})
	}
}

func dump(rep *Report) string {
	s := ""
	for _, f := range rep.All() {
		s += fmt.Sprintf("  %s %s: %s\n", f.Severity, f.ID, f.Message)
	}
	return s
}

var _ = os.Stdout
