package inspect

import (
	"net"
	"net/url"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/hardway-dev/hardway/units/flags"
)

// enabledPlugins is the admission plugins in effect: the default set at the version, plus the
// enabled (or --admission-control) ones, minus the disabled ones.
func enabledPlugins(c *checked) map[string]bool {
	on := map[string]bool{}
	if !c.args.Has("admission-control") {
		for _, p := range c.opt.Catalogue.Plugins {
			if p.DefaultAt(c.version) {
				on[p.Name] = true
			}
		}
	}
	for _, n := range append(c.args.List("enable-admission-plugins"), c.args.List("admission-control")...) {
		on[n] = true
	}
	for _, n := range c.args.List("disable-admission-plugins") {
		delete(on, n)
	}
	return on
}

func checkAdmission(c *checked) {
	if !c.is("kube-apiserver") {
		return
	}
	if c.args.Has("admission-control") && (c.args.Has("enable-admission-plugins") || c.args.Has("disable-admission-plugins")) {
		c.add("admission-control-conflict", "admission-control", c.originOf("admission-control"),
			"Move the plugins of --admission-control into --enable-admission-plugins and delete --admission-control.",
			"--admission-control and --enable/--disable-admission-plugins are mutually exclusive; the apiserver exits")
	}
	for _, fl := range []string{"enable-admission-plugins", "disable-admission-plugins", "admission-control"} {
		for _, n := range c.args.List(fl) {
			p := c.opt.Catalogue.Plugin(n)
			o := c.originOf(fl)
			switch {
			case p == nil:
				c.add("admission-plugin-unknown", fl, o, "Drop it from --"+fl+".", "admission plugin %q is unknown; the apiserver exits with \"plugin %q is unknown\"", n, n)
			case p.StateAt(c.version) == flags.Removed:
				c.add("admission-plugin-removed", fl, o, pluginFix(p, fl), "admission plugin %s was removed in %s (target %s); the apiserver exits with \"plugin %q is unknown\"", n, p.Removed, c.version, n)
			case p.StateAt(c.version) == flags.NotYetAdded:
				c.add("admission-plugin-unknown", fl, o, "Drop it, or target "+p.Added.String()+" or later.", "admission plugin %s arrived in %s, after the target %s", n, p.Added, c.version)
			case fl != "disable-admission-plugins" && p.RequiresGate != "" && c.version.AtLeast(p.RequiresGateFrom) && !gateOn(c, p.RequiresGate):
				// one voice: the error's fix says what the deprecation would
				c.add("admission-plugin-gate-off", fl, o, pluginFix(p, fl)+" Or add --feature-gates="+p.RequiresGate+"=true while it lasts.",
					"admission plugin %s needs the %s feature gate from %s; without it kube-apiserver %s exits (\"requires the %s feature gate to be enabled\")", n, p.RequiresGate, p.RequiresGateFrom, c.version, p.RequiresGate)
			case p.StateAt(c.version) == flags.Deprecated && fl != "disable-admission-plugins":
				// Disabling a deprecated plugin is what its deprecation asks for.
				c.add("admission-plugin-deprecated", fl, o, pluginFix(p, fl), "admission plugin %s is deprecated since %s", n, p.Deprecated)
			}
		}
	}
	on := enabledPlugins(c)
	// Before 1.10 --admission-control is the only list, and its default is AlwaysAdmit.
	list := "enable-admission-plugins"
	if !c.accepts(list) || c.args.Has("admission-control") {
		list = "admission-control"
	}
	switch {
	case on["AlwaysAdmit"] && !c.args.Has("admission-control") && !contains(c.args.List("enable-admission-plugins"), "AlwaysAdmit"):
		c.add("always-admit", list, c.originOf(list), "Set --admission-control to the plugins you need, e.g. NamespaceLifecycle,LimitRanger,ServiceAccount,DefaultStorageClass,ResourceQuota,NodeRestriction.",
			"no --admission-control: kube-apiserver %s defaults to AlwaysAdmit, so admission control is off (CIS 1.2.9)", c.version)
	case on["AlwaysAdmit"]:
		c.add("always-admit", list, c.originOf(list), "Remove AlwaysAdmit.", "AlwaysAdmit is enabled: admission control is effectively off (CIS 1.2.9)")
	}
	if !on["NodeRestriction"] {
		c.add("node-restriction-missing", list, c.originOf(list),
			"Add NodeRestriction to --"+list+" (with --authorization-mode=Node,RBAC).",
			"NodeRestriction is not enabled: a kubelet can modify other nodes and their pods (CIS 1.2.14)")
	}
}

// gateOn reports whether --feature-gates turns the gate on (the last setting wins).
func gateOn(c *checked, gate string) bool {
	on := false
	for _, item := range c.args.List("feature-gates") {
		if name, val, _ := strings.Cut(item, "="); strings.TrimSpace(name) == gate {
			on = strings.EqualFold(strings.TrimSpace(val), "true")
		}
	}
	return on
}

func pluginFix(p *flags.Plugin, fl string) string {
	fix := "Drop " + p.Name + " from --" + fl + "."
	if p.Advice != "" {
		fix += " " + p.Advice
	} else if p.ReplacedBy != "" {
		fix += " Use " + p.ReplacedBy + "."
	}
	return fix
}

// checkFeatureGates judges --feature-gates against the gates the catalogue knows: a gate the
// target does not have yet, or no longer has, or that this component does not register (another
// component's), makes the kube-* component exit with "unrecognized feature gate". Gates the
// catalogue does not know are not judged.
func checkFeatureGates(c *checked) {
	if c.comp.Flag("feature-gates") == nil || !c.args.Has("feature-gates") {
		return
	}
	for _, item := range c.args.List("feature-gates") {
		name, _, _ := strings.Cut(strings.TrimSpace(item), "=")
		g := c.opt.Catalogue.Gate(name)
		if g == nil {
			continue
		}
		switch g.StateAt(c.version) {
		case flags.Removed:
			c.add("feature-gate-removed", "feature-gates", c.originOf("feature-gates"), "Drop "+name+" from --feature-gates.",
				"feature gate %s was removed in %s (target %s); the component exits with \"unrecognized feature gate: %s\"", name, g.Removed, c.version, name)
		case flags.NotYetAdded:
			c.add("feature-gate-not-yet-added", "feature-gates", c.originOf("feature-gates"), "Drop "+name+" from --feature-gates, or target "+g.Added.String()+" or later.",
				"feature gate %s arrived in %s, after the target %s; the component exits with \"unrecognized feature gate: %s\"", name, g.Added, c.version, name)
		case flags.Current:
			registered, absent := g.RegisteredBy(c.inv.Component, c.version)
			if registered {
				break
			}
			fix, when := "Drop "+name+" from "+c.inv.Component+"'s --feature-gates; set it only on the components that have it.", ""
			if !absent.Until.IsZero() {
				fix = "Drop " + name + " from " + c.inv.Component + "'s --feature-gates, or target " + absent.Until.String() + " or later."
				when = " before " + absent.Until.String()
			}
			c.add("feature-gate-not-registered", "feature-gates", c.originOf("feature-gates"), fix,
				"feature gate %s exists in %s but %s does not register it%s (only other components link the package that does); it exits with \"unrecognized feature gate: %s\"", name, c.version, c.inv.Component, when, name)
		}
	}
}

func checkAPIServerRules(c *checked) {
	if !c.is("kube-apiserver") {
		return
	}
	if c.version.AtLeast(flags.MustVersion("1.20")) {
		var missing []string
		if !c.args.Has("service-account-issuer") {
			missing = append(missing, "--service-account-issuer")
		}
		if !c.args.Has("service-account-signing-key-file") {
			missing = append(missing, "--service-account-signing-key-file")
		}
		if !c.args.Has("service-account-key-file") {
			missing = append(missing, "--service-account-key-file")
		}
		if len(missing) > 0 {
			c.add("service-account-flags-missing", "service-account-issuer", Origin{},
				"Add --service-account-issuer=https://kubernetes.default.svc.cluster.local, --service-account-signing-key-file=<sa.key> (the key the controller-manager's --service-account-private-key-file uses) and --service-account-key-file=<sa.pub>.",
				"%s missing: required since 1.20, the apiserver does not start without them", strings.Join(missing, ", "))
		}
	}
	if v, ok := c.args.Value("insecure-port"); ok && v != "0" && c.version.AtLeast(flags.MustVersion("1.20")) && !c.version.AtLeast(flags.MustVersion("1.24")) {
		c.add("insecure-port-nonzero", "insecure-port", c.originOf("insecure-port"), "Delete --insecure-port.", "--insecure-port=%s: from 1.20 only 0 is allowed and the apiserver exits", v)
	}
	if v, _ := c.args.Value("endpoint-reconciler-type"); v == "master-count" && c.version.AtLeast(flags.MustVersion("1.24")) {
		c.add("endpoint-reconciler-master-count", "endpoint-reconciler-type", c.originOf("endpoint-reconciler-type"), "Delete it (and --apiserver-count); lease is the default.",
			"--endpoint-reconciler-type=master-count is deprecated since 1.24")
	}
}

// weakCiphers are the suites the Kubernetes reference lists as insecure.
var weakCiphers = map[string]bool{
	"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256": true, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA": true,
	"TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA": true, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256": true,
	"TLS_ECDHE_RSA_WITH_RC4_128_SHA": true, "TLS_RSA_WITH_3DES_EDE_CBC_SHA": true,
	"TLS_RSA_WITH_AES_128_CBC_SHA": true, "TLS_RSA_WITH_AES_128_CBC_SHA256": true,
	"TLS_RSA_WITH_AES_128_GCM_SHA256": true, "TLS_RSA_WITH_AES_256_CBC_SHA": true,
	"TLS_RSA_WITH_AES_256_GCM_SHA384": true, "TLS_RSA_WITH_RC4_128_SHA": true,
}

func checkSecurity(c *checked) {
	// Profiling: on by default in the apiserver, controller-manager and scheduler.
	// With --config, the scheduler reads profiling from its KubeSchedulerConfiguration
	// (enableProfiling) and ignores the flag.
	if f := c.comp.Flag("profiling"); f != nil && c.args.Bool("profiling", f.Default == "true") && !(c.is("kube-scheduler") && c.args.Has("config")) {
		c.add("profiling-enabled", "profiling", c.originOf("profiling"), "Add --profiling=false.", "profiling is on: /debug/pprof exposes internals (CIS 1.2.16, 1.3.2, 1.4.1)")
	}
	if c.is("kube-scheduler") && c.args.Has("config") {
		checkSchedulerProfiling(c)
	}
	// The extension came with --service-account-extend-token-expiration (1.19): before it,
	// tokens were not extended, so there is nothing to judge.
	if c.is("kube-apiserver") && c.accepts("service-account-extend-token-expiration") && c.args.Bool("service-account-extend-token-expiration", true) {
		c.add("service-account-token-extended", "service-account-extend-token-expiration", c.originOf("service-account-extend-token-expiration"),
			"Add --service-account-extend-token-expiration=false.",
			"injected service-account tokens are extended to a year, whatever --service-account-max-token-expiration says (CIS 1.2.30)")
	}
	if c.is("etcd") && c.args.Bool("enable-pprof", false) {
		c.add("profiling-enabled", "enable-pprof", c.originOf("enable-pprof"), "Delete --enable-pprof.", "etcd serves /debug/pprof on its client URLs")
	}
	for _, fl := range []string{"tls-min-version"} {
		if v, ok := c.args.Value(fl); ok && (v == "VersionTLS10" || v == "VersionTLS11") {
			c.add("tls-min-version-weak", fl, c.originOf(fl), "Set --tls-min-version=VersionTLS12 (or 13).", "--%s=%s accepts deprecated TLS versions", fl, v)
		}
	}
	for _, fl := range []string{"tls-cipher-suites", "cipher-suites"} {
		var weak []string
		for _, s := range c.args.List(fl) {
			if weakCiphers[s] {
				weak = append(weak, s)
			}
		}
		if len(weak) > 0 {
			c.add("tls-cipher-weak", fl, c.originOf(fl), "Remove them; keep ECDHE with AES-GCM or ChaCha20.", "--%s accepts insecure suites: %s", fl, strings.Join(weak, ", "))
		}
	}
	if c.is("kube-controller-manager", "kube-scheduler") && c.servesSecurePort() {
		if v, _ := c.args.Value("bind-address"); !isLoopbackHost(v) {
			if v == "" {
				v = "0.0.0.0 (default)"
			}
			c.add("bind-address-exposed", "bind-address", c.originOf("bind-address"), "Set --bind-address=127.0.0.1 unless something scrapes it remotely.",
				"--bind-address=%s exposes the secure port on every interface (CIS 1.3.7, 1.4.2)", v)
		}
	}
	checkInsecureServing(c)
	if !c.is("kube-apiserver") {
		return
	}
	if c.args.Bool("anonymous-auth", true) && !c.args.Has("authentication-config") {
		c.add("anonymous-auth-enabled", "anonymous-auth", c.originOf("anonymous-auth"), "Add --anonymous-auth=false (health checks then need credentials, or use an AuthenticationConfiguration anonymous section for /livez,/readyz).",
			"anonymous requests are accepted as system:anonymous (CIS 1.2.1)")
	}
	if !c.args.Has("authorization-config") {
		modes := c.args.List("authorization-mode")
		if len(modes) == 0 || contains(modes, "AlwaysAllow") {
			c.add("authorization-always-allow", "authorization-mode", c.originOf("authorization-mode"), "Set --authorization-mode=Node,RBAC.",
				"authorization is AlwaysAllow: any authenticated client may do anything (CIS 1.2.6-1.2.8)")
		} else if !contains(modes, "Node") || !contains(modes, "RBAC") {
			c.add("authorization-missing-node-rbac", "authorization-mode", c.originOf("authorization-mode"), "Set --authorization-mode=Node,RBAC.",
				"--authorization-mode=%s lacks Node or RBAC", strings.Join(modes, ","))
		}
	}
	if !c.args.Has("client-ca-file") {
		c.add("client-ca-missing", "client-ca-file", Origin{}, "Add --client-ca-file=<cluster CA>.", "no --client-ca-file: client certificates are not accepted, components cannot authenticate (CIS 1.2.29)")
	}
	var etcdProbs []string
	for _, s := range c.args.List("etcd-servers") {
		if strings.HasPrefix(s, "http://") {
			etcdProbs = append(etcdProbs, s+" is plain HTTP")
		}
	}
	if len(etcdProbs) == 0 && c.args.Has("etcd-servers") {
		for _, fl := range []string{"etcd-cafile", "etcd-certfile", "etcd-keyfile"} {
			if !c.args.Has(fl) {
				etcdProbs = append(etcdProbs, "no --"+fl)
			}
		}
	}
	if len(etcdProbs) > 0 {
		c.add("etcd-connection-insecure", "etcd-servers", c.originOf("etcd-servers"), "Use https:// etcd URLs with --etcd-cafile, --etcd-certfile and --etcd-keyfile.",
			"kube-apiserver to etcd: %s (CIS 1.2.24, 1.2.25)", strings.Join(etcdProbs, "; "))
	}
	if !c.args.Has("kubelet-certificate-authority") {
		c.add("kubelet-ca-missing", "kubelet-certificate-authority", Origin{}, "Add --kubelet-certificate-authority=<CA of kubelet serving certs> once kubelet serving certs are CA-signed.",
			"kubelet serving certificates are not verified (CIS 1.2.5)")
	}
	if !c.args.Has("kubelet-client-certificate") || !c.args.Has("kubelet-client-key") {
		c.add("kubelet-client-cert-missing", "kubelet-client-certificate", Origin{}, "Add --kubelet-client-certificate and --kubelet-client-key.",
			"the apiserver has no client certificate for kubelets; kubectl logs/exec fail against authenticating kubelets (CIS 1.2.4)")
	}
	// Before 1.13 the flag was --experimental-encryption-provider-config, accepted as an old
	// name until its removal: either one, where the target accepts it, encrypts secrets.
	if !c.args.Has("encryption-provider-config") && !(c.args.Has("experimental-encryption-provider-config") && c.accepts("experimental-encryption-provider-config")) {
		name := "encryption-provider-config"
		if !c.accepts(name) {
			name = "experimental-encryption-provider-config"
		}
		c.add("encryption-config-missing", name, Origin{}, "Add --"+name+" with an aescbc, aesgcm, secretbox or KMS provider.",
			"secrets are stored unencrypted in etcd (CIS 1.2.27)")
	}
	var audit []string
	if !c.args.Has("audit-log-path") && !c.args.Has("audit-webhook-config-file") {
		audit = append(audit, "no --audit-log-path")
	}
	if !c.args.Has("audit-policy-file") {
		audit = append(audit, "no --audit-policy-file")
	}
	if len(audit) > 0 {
		c.add("audit-log-missing", "audit-policy-file", Origin{}, "Add --audit-policy-file and --audit-log-path (with --audit-log-maxage/-maxbackup/-maxsize).",
			"auditing is off: %s (CIS 1.2.17-1.2.21, 3.2.1)", strings.Join(audit, ", "))
	}
	if c.args.Has("token-auth-file") {
		c.add("token-auth-file", "token-auth-file", c.originOf("token-auth-file"), "Use client certificates or OIDC; delete --token-auth-file.", "static tokens never expire and are revoked only by a restart (CIS 1.2.2)")
	}
	// --basic-auth-file (deprecated 1.16, removed 1.19): while the target accepts it, passwords
	// in a file, sent with every request and revoked only by a restart (CIS 1.1.2 of the 1.x
	// benchmarks). Once removed, flag-removed says the apiserver exits instead.
	if c.args.Has("basic-auth-file") && c.accepts("basic-auth-file") {
		c.add("basic-auth-file", "basic-auth-file", c.originOf("basic-auth-file"), "Use client certificates, OIDC or webhook token authentication; delete --basic-auth-file.",
			"static passwords are sent with every request, never expire and are revoked only by a restart (CIS 1.1.2)")
	}
	if !c.args.Bool("service-account-lookup", true) {
		c.add("service-account-lookup-disabled", "service-account-lookup", c.originOf("service-account-lookup"), "Delete --service-account-lookup=false.", "deleted service-account tokens stay valid (CIS 1.2.22)")
	}
	if !c.args.Has("tls-cert-file") || !c.args.Has("tls-private-key-file") {
		c.add("tls-cert-missing", "tls-cert-file", Origin{}, "Add --tls-cert-file and --tls-private-key-file.", "no serving certificate: the apiserver generates a self-signed one clients cannot verify (CIS 1.2.28)")
	}
}

// checkSchedulerProfiling reads enableProfiling from the scheduler's KubeSchedulerConfiguration,
// which it obeys instead of the (deprecated, then ignored) --profiling flag when --config is
// given. The field defaults to true.
func checkSchedulerProfiling(c *checked) {
	p, ok := c.args.Value("config")
	if !ok || c.args.Unresolved("config") {
		return
	}
	data, seen := configSeen(c, p, "profiling setting (enableProfiling)")
	if !seen || data == nil {
		return // file-missing / file-unreadable report a file missing on the node
	}
	var cfg struct {
		Kind            string `json:"kind"`
		EnableProfiling *bool  `json:"enableProfiling"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil || cfg.Kind != "KubeSchedulerConfiguration" {
		return
	}
	o := Origin{File: p}
	if cfg.EnableProfiling == nil || *cfg.EnableProfiling {
		c.add("profiling-enabled", "config", o, "Set enableProfiling: false in the KubeSchedulerConfiguration.",
			"profiling is on in %s (enableProfiling defaults to true): /debug/pprof exposes internals (CIS 1.4.1)", p)
		return
	}
	c.row(p, "enableProfiling", "false", "no /debug/pprof (CIS 1.4.1)")
	c.add("profiling-in-config", "config", o, "Nothing to change; a scanner that reads only the command line (kube-bench) reports CIS 1.4.1 as failed: check it against "+p+".",
		"profiling is off through enableProfiling: false in %s, which the scheduler obeys; its --profiling flag is deprecated and ignored with --config (CIS 1.4.1)", p)
}

func checkControllerManager(c *checked) {
	if !c.is("kube-controller-manager") {
		return
	}
	if !c.args.Bool("use-service-account-credentials", false) {
		c.add("controller-credentials-shared", "use-service-account-credentials", c.originOf("use-service-account-credentials"), "Add --use-service-account-credentials=true.",
			"every controller runs with the controller-manager's own, broad credentials (CIS 1.3.3)")
	}
	if !c.args.Has("service-account-private-key-file") {
		c.add("service-account-key-missing", "service-account-private-key-file", Origin{}, "Add --service-account-private-key-file=<sa.key>.", "service-account token secrets cannot be signed (CIS 1.3.4)")
	}
	if !c.args.Has("root-ca-file") {
		c.add("root-ca-missing", "root-ca-file", Origin{}, "Add --root-ca-file=<cluster CA>.", "pods get no CA to verify the apiserver with (CIS 1.3.5)")
	}
}

func checkEtcd(c *checked) {
	if !c.is("etcd") {
		return
	}
	val := func(name string) []string {
		if v, ok := c.args.Value(name); ok {
			return splitList(v)
		}
		if f := c.comp.Flag(name); f != nil {
			return splitList(f.Default)
		}
		return nil
	}
	clientTLS, peerTLS := false, false
	for _, u := range val("listen-client-urls") {
		if strings.HasPrefix(u, "https://") {
			clientTLS = true
		} else if !isLoopbackURL(u) {
			c.add("etcd-client-plaintext", "listen-client-urls", c.originOf("listen-client-urls"), "Serve clients on https:// with --cert-file, --key-file, --client-cert-auth=true and --trusted-ca-file.",
				"%s serves the whole cluster state unencrypted and unauthenticated (CIS 2.1)", u)
		}
	}
	autoTLS, peerAutoTLS := c.args.Bool("auto-tls", false), c.args.Bool("peer-auto-tls", false)
	if clientTLS && !autoTLS && (!c.args.Has("cert-file") || !c.args.Has("key-file")) {
		c.add("etcd-client-cert-missing", "cert-file", c.originOf("listen-client-urls"), "Add --cert-file and --key-file (etcd's serving certificate, with its client URLs' addresses among the SANs).",
			"https:// client URLs without --cert-file/--key-file: etcd exits with \"TLS key/cert (--cert-file, --key-file) must be provided for client url ... with HTTPS scheme\" (CIS 2.1)")
	}
	if clientTLS && (!c.args.Bool("client-cert-auth", false) || !c.args.Has("trusted-ca-file")) {
		c.add("etcd-client-cert-auth-off", "client-cert-auth", c.originOf("client-cert-auth"), "Add --client-cert-auth=true and --trusted-ca-file=<etcd CA>.",
			"etcd accepts any TLS client: without client certificate authentication anyone who reaches the port reads and writes everything (CIS 2.2)")
	}
	peers := 0
	if ic, ok := c.args.Value("initial-cluster"); ok {
		peers = len(splitList(ic))
	}
	for _, u := range val("listen-peer-urls") {
		if strings.HasPrefix(u, "https://") {
			peerTLS = true
		} else if !isLoopbackURL(u) || peers > 1 {
			c.add("etcd-peer-plaintext", "listen-peer-urls", c.originOf("listen-peer-urls"), "Use https:// peer URLs with --peer-cert-file, --peer-key-file, --peer-client-cert-auth=true and --peer-trusted-ca-file.",
				"%s replicates the cluster state unencrypted (CIS 2.4)", u)
		}
	}
	if peerTLS && !peerAutoTLS && (!c.args.Has("peer-cert-file") || !c.args.Has("peer-key-file")) {
		c.add("etcd-peer-cert-missing", "peer-cert-file", c.originOf("listen-peer-urls"), "Add --peer-cert-file and --peer-key-file (a certificate for both server and client auth, with the peer addresses among the SANs).",
			"https:// peer URLs without --peer-cert-file/--peer-key-file: etcd cannot serve or dial its peers over TLS and exits at start (CIS 2.4)")
	}
	if peerTLS && (!c.args.Bool("peer-client-cert-auth", false) || !c.args.Has("peer-trusted-ca-file")) {
		c.add("etcd-peer-cert-auth-off", "peer-client-cert-auth", c.originOf("peer-client-cert-auth"), "Add --peer-client-cert-auth=true and --peer-trusted-ca-file=<etcd CA>.",
			"any TLS client can join as a peer (CIS 2.5)")
	}
	for _, fl := range []string{"auto-tls", "peer-auto-tls"} {
		if c.args.Bool(fl, false) {
			c.add("etcd-auto-tls", fl, c.originOf(fl), "Use CA-signed certificates (--cert-file/--key-file, --peer-cert-file/--peer-key-file).",
				"--%s uses self-signed certificates that nobody can verify (CIS 2.3, 2.6)", fl)
		}
	}
}

func isLoopbackURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	return isLoopbackHost(u.Hostname())
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// insecurePorts are the unauthenticated HTTP ports kube-controller-manager and kube-scheduler
// served by default, on --address 0.0.0.0, until insecure serving went away in 1.22 (--port=0
// turns it off; kubeadm's manifests set it from 1.13 to 1.21).
var insecurePorts = map[string]string{"kube-controller-manager": "10252", "kube-scheduler": "10251"}

// checkInsecureServing: the old controller-manager's and scheduler's insecure port, and
// --master=http:// on any component that talks to the apiserver.
// securePortOffBefore is the first minor whose controller-manager serves its secure port by
// default: before it, --secure-port defaulted to 0 (SecureServing.BindPort = 0 in
// cmd/controller-manager/app/options/options.go at k8s.io/kubernetes v1.10.13 and in
// cmd/kube-controller-manager/app/options/options.go at v1.11.10; ports.KubeControllerManagerPort,
// 10257, at v1.12.10).
var securePortOffBefore = map[string]flags.Version{"kube-controller-manager": flags.MustVersion("1.12")}

// servesSecurePort says a controller-manager or scheduler serves HTTPS at the target version:
// the version has secure serving (--secure-port is in its catalogue there), and the port is
// not 0, given or by default.
func (c *checked) servesSecurePort() bool {
	f := c.comp.Flag("secure-port")
	if f == nil || f.StateAt(c.version) == flags.NotYetAdded || f.StateAt(c.version) == flags.Removed {
		return false
	}
	port, set := c.args.Value("secure-port")
	if !set {
		if v, ok := securePortOffBefore[c.inv.Component]; ok && !c.version.AtLeast(v) {
			return false
		}
		return true
	}
	return strings.TrimSpace(port) != "0" || c.args.Unresolved("secure-port")
}

func checkInsecureServing(c *checked) {
	if def, ok := insecurePorts[c.inv.Component]; ok && !c.version.AtLeast(flags.MustVersion("1.22")) {
		port, set := c.args.Value("port")
		if !set {
			port = def
		}
		addr, aset := c.args.Value("address")
		if !aset {
			addr = "0.0.0.0"
		}
		if port != "0" && !isLoopbackHost(addr) && !c.args.Unresolved("port") && !c.args.Unresolved("address") {
			what := "--port=" + port
			if !set {
				what = "the default --port " + port
			}
			where := "--address=" + addr
			if !aset {
				where = "the default --address 0.0.0.0"
			}
			o := c.originOf("port")
			if !set {
				o = c.originOf("address")
			}
			c.add("insecure-port-open", "port", o, "Add --port=0 (health and metrics stay on --secure-port), or at least --address=127.0.0.1.",
				"%s on %s: %s %s serves /metrics, /debug/pprof and /configz without authentication or TLS to anyone who reaches the node", what, where, c.inv.Component, c.version)
		}
	}
	if c.comp.Flag("master") == nil {
		return
	}
	m, ok := c.args.Value("master")
	if !ok || c.args.Unresolved("master") || !strings.HasPrefix(strings.ToLower(m), "http://") {
		return
	}
	why := "requests go unencrypted and unauthenticated, with full rights, through the apiserver's insecure port"
	if c.version.AtLeast(flags.MustVersion("1.20")) {
		why = "from 1.20 the apiserver serves no insecure port (--insecure-port only 0), so nothing answers there: the component cannot reach the apiserver"
	}
	c.add("master-plain-http", "master", c.originOf("master"), "Delete --master and give --kubeconfig with the apiserver's https:// address, its CA and a client certificate.",
		"--master=%s: %s", m, why)
}

// defaultServiceRange is kube-apiserver's service range when --service-cluster-ip-range is not
// given: DefaultServiceIPCIDR in k8s.io/kubernetes pkg/kubeapiserver/options/options.go, the
// same 10.0.0.0/24 in every release hardway's catalogue covers.
const defaultServiceRange = "10.0.0.0/24"

// serviceRanges is the apiserver's service range(s) in effect, and whether it is the default.
func serviceRanges(api *checked) ([]string, bool) {
	if api.args.Has("service-cluster-ip-range") {
		return api.args.List("service-cluster-ip-range"), false
	}
	return []string{defaultServiceRange}, true
}
