package inspect

// Rule is one kind of finding. IDs are stable: scripts may filter on them.
type Rule struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Summary  string   `json:"summary"`
}

// Rules is every rule hardway inspect applies. rules_test.go holds, for each, an input that
// fires it and one that does not.
var Rules = []Rule{
	// input
	{"input-no-command", Error, "the input holds no command line"},
	{"input-unknown-component", Error, "the binary is not a component hardway knows"},
	{"input-wrapper", Error, "a wrapper (go-runner, sh -c) that cannot be followed to a component, or that would exit before starting it"},
	{"input-wrapper-runtime", Warning, "a word of a sh -c wrapper that the shell computes only at run time ($VAR, $(...)): inspected as written"},
	{"manifest-undefined-variable", Warning, "a $(VAR) in a manifest's command or args that the container's env does not define: passed on literally"},
	{"unit-multiple-execstart", Error, "more than one ExecStart= is in effect (a drop-in without an empty ExecStart= reset)"},
	{"unit-unresolved-variable", Warning, "a ${VAR} (empty when undefined) or lone $VAR (no argument when undefined) no Environment=/EnvironmentFile= defines"},
	{"unit-unbraced-variable", Warning, "a $VAR inside a word, which systemd does not expand"},
	{"unit-environment", Error, "an EnvironmentFile= that cannot be read or parsed"},
	{"suppression-invalid", Warning, "a '# hardway-inspect: ignore' comment with an unknown or retired rule ID, no reason, or another verb: it suppresses nothing"},
	// parsing and lifecycle
	{"flag-single-dash", Error, "a long flag written with one dash (pflag reads it as shorthands)"},
	{"flag-missing-value", Error, "a flag that needs a value has none"},
	{"flag-unknown", Error, "a flag the component does not have: it exits at start"},
	{"flag-removed", Error, "a flag removed in or before the target version: the binary exits at start"},
	{"flag-not-yet-added", Error, "a flag newer than the target version"},
	{"flag-deprecated", Warning, "a deprecated flag, with its replacement"},
	{"flag-noop", Info, "a flag accepted but without effect"},
	{"flag-repeated", Warning, "a single-valued flag given more than once: the last wins"},
	{"arg-positional", Error, "a non-flag argument the component rejects"},
	{"admission-plugin-removed", Error, "an admission plugin removed in or before the target version"},
	{"admission-plugin-deprecated", Warning, "a deprecated admission plugin"},
	{"admission-plugin-unknown", Error, "an admission plugin the apiserver does not know"},
	{"admission-plugin-gate-off", Error, "an admission plugin that refuses to start without its feature gate (SecurityContextDeny in 1.27-1.29)"},
	{"feature-gate-removed", Error, "a feature gate removed in or before the target version (the component exits)"},
	{"feature-gate-not-yet-added", Error, "a feature gate that arrived after the target version (the component exits)"},
	{"feature-gate-not-registered", Error, "a feature gate the target version has, but not in this component (it exits)"},
	{"admission-control-conflict", Error, "--admission-control together with --enable/--disable-admission-plugins"},
	{"runtime-config-api-all", Error, "--runtime-config=api/all without =true (breaks start-up)"},
	{"runtime-config-all-apis", Warning, "--runtime-config=api/all=true turns on every alpha and beta API"},
	{"runtime-config-removed", Error, "a --runtime-config group/version the target no longer accepts (the apiserver exits)"},
	{"runtime-config-not-yet-added", Error, "a --runtime-config group/version or key that arrived after the target version (the apiserver exits)"},
	{"runtime-config-unknown", Error, "a --runtime-config group/version no kube-apiserver 1.8-1.37 accepts (the apiserver exits)"},
	{"runtime-config-invalid", Error, "a --runtime-config key or value the target refuses: malformed key, not true|false, api/all=false alone (the apiserver exits)"},
	{"runtime-config-ignored", Warning, "a --runtime-config key the target accepts without the effect it seems to ask for (api/legacy, resource keys before 1.24, api/all without true|false before 1.17, v1/<resource>)"},
	{"service-account-flags-missing", Error, "service-account issuer/signing key flags required since 1.20 are missing"},
	{"insecure-port-nonzero", Error, "--insecure-port other than 0 on 1.20-1.23 (only 0 is allowed)"},
	{"endpoint-reconciler-master-count", Warning, "the deprecated master-count endpoint reconciler"},
	// values
	{"value-empty", Error, "a flag given with an empty value"},
	{"value-malformed", Error, "a value that does not parse as the flag's type"},
	{"value-not-allowed", Error, "a value outside the flag's accepted set"},
	{"etcd-servers-missing", Error, "kube-apiserver without --etcd-servers"},
	// security (CIS Kubernetes Benchmark spirit)
	{"anonymous-auth-enabled", Warning, "anonymous requests are accepted"},
	{"authorization-always-allow", Error, "AlwaysAllow authorization: every authenticated request is allowed"},
	{"authorization-missing-node-rbac", Warning, "authorization without Node and RBAC"},
	{"client-ca-missing", Error, "no --client-ca-file: client certificates are not verified"},
	{"etcd-connection-insecure", Error, "kube-apiserver reaches etcd without TLS or without a client certificate"},
	{"kubelet-ca-missing", Warning, "no --kubelet-certificate-authority: kubelet serving certificates are not verified"},
	{"kubelet-client-cert-missing", Error, "no --kubelet-client-certificate/--kubelet-client-key"},
	{"encryption-config-missing", Warning, "no --encryption-provider-config: secrets are stored in plain text in etcd"},
	{"audit-log-missing", Warning, "no audit log or no audit policy"},
	{"profiling-enabled", Warning, "profiling endpoints are on"},
	{"profiling-in-config", Info, "the scheduler's profiling is off in its --config file, where scanners that read only the flag do not look"},
	{"service-account-token-extended", Warning, "tokens the ServiceAccount admission plugin injects are valid for a year"},
	{"tls-min-version-weak", Error, "TLS 1.0 or 1.1 accepted"},
	{"tls-cipher-weak", Warning, "insecure TLS cipher suites accepted"},
	{"node-restriction-missing", Warning, "the NodeRestriction admission plugin is not enabled"},
	{"always-admit", Error, "the AlwaysAdmit admission plugin disables admission control"},
	{"token-auth-file", Warning, "static token file authentication"},
	{"basic-auth-file", Warning, "static password file (HTTP basic) authentication, possible until 1.19"},
	{"service-account-lookup-disabled", Warning, "deleted service-account tokens keep working"},
	{"tls-cert-missing", Warning, "no serving certificate: a self-signed one is generated"},
	{"bind-address-exposed", Warning, "a component's secure port listens on all interfaces where loopback would do"},
	{"controller-credentials-shared", Warning, "the controllers share the controller-manager's credentials"},
	{"service-account-key-missing", Error, "the controller-manager has no --service-account-private-key-file"},
	{"root-ca-missing", Warning, "the controller-manager has no --root-ca-file"},
	{"etcd-client-plaintext", Error, "etcd serves clients over plain HTTP on a non-loopback address"},
	{"etcd-client-cert-auth-off", Error, "etcd serves clients over TLS without requiring client certificates"},
	{"etcd-peer-plaintext", Error, "etcd talks to peers over plain HTTP on a non-loopback address"},
	{"etcd-peer-cert-auth-off", Error, "etcd accepts peers without client certificates"},
	{"etcd-auto-tls", Warning, "etcd uses generated self-signed certificates"},
	{"etcd-client-cert-missing", Error, "etcd has https:// client URLs without --cert-file/--key-file (or --auto-tls): it exits at start"},
	{"etcd-peer-cert-missing", Error, "etcd has https:// peer URLs without --peer-cert-file/--peer-key-file (or --peer-auto-tls): it exits at start"},
	{"insecure-port-open", Error, "a controller-manager or scheduler before 1.22 serves its unauthenticated HTTP port (--port, default 10252/10251) on a non-loopback --address"},
	{"master-plain-http", Error, "--master=http://...: the component reaches the apiserver over its unauthenticated insecure port"},
	{"kubelet-anonymous-auth", Error, "the kubelet API accepts anonymous requests"},
	{"kubelet-authorization-always-allow", Error, "the kubelet API authorizes every request"},
	{"kubelet-client-ca-missing", Error, "the kubelet does not verify client certificates"},
	{"kubelet-read-only-port", Warning, "the kubelet's unauthenticated read-only port is open"},
	{"kubelet-config-unreadable", Error, "the kubelet's --config file cannot be read or parsed"},
	{"config-not-judged", Info, "a --config file that cannot be seen from here (away from the node, without --root): the security settings it may hold are not judged"},
	// node runtime: the kubelet's host settings, containerd, CNI, hardway routes
	{"kubelet-cgroup-v1-allowed", Warning, "failCgroupV1: false lets the kubelet run on deprecated cgroup v1 hosts"},
	{"kubelet-cgroup-driver-cgroupfs", Info, "the kubelet manages pod cgroups itself (cgroupfs), for hosts without systemd as PID 1"},
	{"containerd-config-unreadable", Error, "containerd's config.toml cannot be read or parsed"},
	{"containerd-config-version-old", Warning, "a config.toml without version = 2 or 3 (containerd reads it as deprecated version 1)"},
	{"containerd-config-version-unsupported", Error, "a config.toml version the target containerd refuses"},
	{"containerd-config-migrated", Info, "a version 2 config.toml that containerd 2.x migrates at every start"},
	{"containerd-restrict-oom-score-adj", Info, "restrict_oom_score_adj = true: pods lose their OOM-killer protection, for hosts without CAP_SYS_RESOURCE"},
	{"containerd-oom-score-inconsistent", Warning, "a negative OOMScoreAdjust= in the unit with restrict_oom_score_adj = true"},
	{"cni-config-missing", Info, "no CNI configuration where containerd looks: the node stays NotReady until one is written"},
	{"cni-config-unreadable", Error, "the CNI configuration containerd would load cannot be parsed"},
	{"routes-config-or-remove", Error, "hardway routes without exactly one of --config and --remove"},
	{"routes-config-unreadable", Error, "hardway routes' --config file is not a pod-routes file"},
	// files behind the flags
	{"file-missing", Error, "a file a flag names does not exist"},
	{"files-not-judged", Info, "none of the files the flags name exist here (a unit inspected away from its node, without --root): they are not checked"},
	{"file-unreadable", Error, "a file a flag names cannot be read or parsed"},
	{"file-permissions", Warning, "a key, kubeconfig or secret file readable by group or others"},
	{"cert-expired", Error, "a certificate has expired or is not valid yet"},
	{"cert-expiring", Warning, "a certificate expires within --warn-within"},
	{"key-mismatch", Error, "a private key does not match its certificate"},
	{"cert-untrusted", Error, "a certificate is not signed by the CA that must trust it"},
	{"cert-san-missing", Error, "a serving certificate does not cover the address it serves"},
	{"cert-service-ip-missing", Error, "the apiserver certificate lacks the first IP of the service range"},
	{"cert-usage", Error, "a certificate lacks the extended key usage its role needs"},
	{"service-account-key-mismatch", Error, "the service-account signing key's public key is not among the verification keys"},
	// across components
	{"cross-service-range", Error, "components disagree on the service IP range"},
	{"cross-etcd-endpoints", Error, "--etcd-servers names no endpoint an inspected etcd serves"},
	{"cross-etcd-ca-shared", Warning, "etcd's --trusted-ca-file is the apiserver's client CA, not a CA of its own (CIS 2.7)"},
	{"cross-client-ca", Error, "a client certificate one component presents is not trusted by the component it talks to"},
	{"cross-kubeconfig-ca", Error, "a kubeconfig's CA does not verify the apiserver's serving certificate"},
	{"cross-cgroup-driver", Error, "the kubelet's cgroupDriver and containerd's SystemdCgroup disagree"},
}

// RetiredRules are IDs hardway inspect once had, with what they meant. An ID is never reused:
// a rule whose meaning changes gets a new ID and the old one moves here (rules_doc_test.go
// checks that Rules and RetiredRules are disjoint and that docs/inspect-rules.md lists both).
var RetiredRules = map[string]string{}

// retired is RetiredRules, for messages.
var retired = RetiredRules

var ruleIndex = func() map[string]Rule {
	m := map[string]Rule{}
	for _, r := range Rules {
		m[r.ID] = r
	}
	return m
}()

// KnownRule reports whether id is a rule hardway inspect applies (not a retired one).
func KnownRule(id string) bool { _, ok := ruleIndex[id]; return ok }
