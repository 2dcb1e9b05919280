package inspect

import (
	"errors"
	"fmt"
	"io/fs"

	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
	"sigs.k8s.io/yaml"

	"github.com/hardway-dev/hardway/units/flags"
)

// kubeletConfig is the kubelet's --config file, read with the upstream v1beta1 types.
type kubeletConfig struct {
	path   string
	origin Origin
	cfg    kubeletv1beta1.KubeletConfiguration
	refs   []fileRef
}

// ParseKubeletConfig decodes a KubeletConfiguration file.
func ParseKubeletConfig(data []byte) (*kubeletv1beta1.KubeletConfiguration, error) {
	var cfg kubeletv1beta1.KubeletConfiguration
	if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
		return nil, err
	}
	if cfg.Kind != "" && cfg.Kind != "KubeletConfiguration" {
		return nil, fmt.Errorf("kind %s, want KubeletConfiguration", cfg.Kind)
	}
	return &cfg, nil
}

// loadKubeletConfig reads the kubelet's --config file into c.kubelet. judged is false when
// the file could not be seen from here (see configSeen): the settings it may hold are unknown.
func loadKubeletConfig(c *checked) (judged bool) {
	p, ok := c.args.Value("config")
	if !ok {
		return true
	}
	if c.args.Unresolved("config") {
		return false
	}
	o := c.originOf("config")
	data, seen := configSeen(c, p, "authentication (anonymous, webhook, client CA), authorization mode, read-only port and TLS settings")
	if !seen {
		return false
	}
	var err error
	if data == nil {
		_, err = readFile(c.opt.FS, fsPath(p))
		err = pathCause(err)
		c.add("kubelet-config-unreadable", "config", o, "Create the KubeletConfiguration file or fix --config.", "--config=%s: %v; the kubelet does not start", p, err)
		return false // a kubelet that does not start is not judged on what it would serve
	}
	cfg, err := ParseKubeletConfig(data)
	if err != nil {
		c.add("kubelet-config-unreadable", "config", o, "Fix the file: it must be a kubelet.config.k8s.io/v1beta1 KubeletConfiguration.", "--config=%s: %v", p, err)
		return false
	}
	kc := &kubeletConfig{path: p, origin: Origin{File: p}, cfg: *cfg}
	for _, r := range []struct {
		field, path string
		kind        flags.FileKind
	}{
		{"tlsCertFile", cfg.TLSCertFile, flags.CertFile},
		{"tlsPrivateKeyFile", cfg.TLSPrivateKeyFile, flags.KeyFile},
		{"authentication.x509.clientCAFile", cfg.Authentication.X509.ClientCAFile, flags.CAFile},
	} {
		if r.path != "" {
			kc.refs = append(kc.refs, fileRef{label: r.field, path: r.path, kind: r.kind, origin: kc.origin})
		}
	}
	c.kubelet = kc
	return true
}

// configSeen reads a component's --config file p. seen is false when the file cannot be seen
// from here — no file system to read it from, or missing while FS may not be the node's root
// (Options.NodeRoot) — and a config-not-judged finding then says which settings (what) were
// not judged and how to judge them. data is nil, with seen true, when the file is missing on
// the node or unreadable: the caller reports that.
func configSeen(c *checked, p, what string) (data []byte, seen bool) {
	comp := c.inv.Component
	fix := "Inspect with --root set to the node's root file system (or a copy of it, or its hardway bundle), or run hardway inspect on the node."
	if c.opt.FS == nil {
		c.add("config-not-judged", "config", c.originOf("config"), fix,
			"--config=%s is not read (no node file system given): the %s's %s it may set are not judged", p, comp, what)
		return nil, false
	}
	data, err := readFile(c.opt.FS, fsPath(p))
	if err == nil {
		return data, true
	}
	if errors.Is(err, fs.ErrNotExist) && !c.opt.NodeRoot && c.inv.Kind != FromProcess {
		c.add("config-not-judged", "config", c.originOf("config"), fix,
			"--config=%s does not exist here, so this is probably not the node the %s runs on: its %s it may set are not judged (on the node, a missing --config stops the %s)", p, comp, what, comp)
		return nil, false
	}
	return nil, true
}

// checkKubelet applies the kubelet security rules to the effective settings: a flag given on
// the command line wins over the config file, which wins over the defaults (the v1beta1
// defaults with --config, the flag defaults without).
func checkKubelet(c *checked) {
	if !c.is("kubelet") {
		return
	}
	judged := loadKubeletConfig(c)
	cfg := c.kubelet
	// judge says whether a setting can be judged: always when given on the command line,
	// which wins over the file; otherwise only when the file (or its absence) is known.
	judge := func(flag string) bool { return judged || c.args.Has(flag) }
	origin := func(flag string) Origin {
		if c.args.Has(flag) || cfg == nil {
			return c.originOf(flag)
		}
		return cfg.origin
	}
	anon := cfg == nil // flag default true; v1beta1 default false
	if cfg != nil && cfg.cfg.Authentication.Anonymous.Enabled != nil {
		anon = *cfg.cfg.Authentication.Anonymous.Enabled
	}
	anon = c.args.Bool("anonymous-auth", anon)
	if anon && judge("anonymous-auth") {
		c.add("kubelet-anonymous-auth", "anonymous-auth", origin("anonymous-auth"), "Set authentication.anonymous.enabled: false in the KubeletConfiguration.",
			"the kubelet API (pods, exec, logs) accepts anonymous requests (CIS 4.2.1)")
	}
	mode := "AlwaysAllow"
	if cfg != nil {
		mode = string(cfg.cfg.Authorization.Mode)
		if mode == "" {
			mode = "Webhook"
		}
	}
	if v, ok := c.args.Value("authorization-mode"); ok {
		mode = v
	}
	if mode == "AlwaysAllow" && judge("authorization-mode") {
		c.add("kubelet-authorization-always-allow", "authorization-mode", origin("authorization-mode"), "Set authorization.mode: Webhook (and authentication.webhook.enabled: true).",
			"the kubelet authorizes every request it authenticates (CIS 4.2.2)")
	}
	ca, _ := c.args.Value("client-ca-file")
	if ca == "" && cfg != nil {
		ca = cfg.cfg.Authentication.X509.ClientCAFile
	}
	if ca == "" && judge("client-ca-file") {
		c.add("kubelet-client-ca-missing", "client-ca-file", origin("client-ca-file"), "Set authentication.x509.clientCAFile to the cluster CA.",
			"the kubelet does not verify client certificates, so the apiserver cannot authenticate to it (CIS 4.2.3)")
	}
	port := int32(10255)
	if cfg != nil {
		port = cfg.cfg.ReadOnlyPort
	}
	if v, ok := c.args.Value("read-only-port"); ok {
		fmt.Sscan(v, &port)
	}
	if port != 0 && judge("read-only-port") {
		c.add("kubelet-read-only-port", "read-only-port", origin("read-only-port"), "Set readOnlyPort: 0.",
			"the read-only port %d serves pod and node data without authentication (CIS 4.2.4)", port)
	}
	checkKubeletHost(c, origin)
	if cfg != nil {
		if v := cfg.cfg.TLSMinVersion; v == "VersionTLS10" || v == "VersionTLS11" {
			c.add("tls-min-version-weak", "tlsMinVersion", cfg.origin, "Set tlsMinVersion: VersionTLS12.", "tlsMinVersion %s accepts deprecated TLS versions", v)
		}
		var weak []string
		for _, s := range cfg.cfg.TLSCipherSuites {
			if weakCiphers[s] {
				weak = append(weak, s)
			}
		}
		if len(weak) > 0 {
			c.add("tls-cipher-weak", "tlsCipherSuites", cfg.origin, "Remove them.", "tlsCipherSuites accepts insecure suites: %v", weak)
		}
	}
}

// kubeletNode is what the kubelet expects of the node's container runtime.
type kubeletNode struct {
	cgroupDriver string
	driverOrigin Origin
	endpoint     string // the CRI socket
}

// checkKubeletHost explains the kubelet's host settings that are deliberate departures from the
// defaults, so that none is a silent weakening: a cgroupfs driver and cgroup v1 allowed. It
// records the driver and CRI socket for the cross check with containerd.
func checkKubeletHost(c *checked, origin func(string) Origin) {
	cfg := c.kubelet
	n := &kubeletNode{cgroupDriver: "cgroupfs", endpoint: "unix:///run/containerd/containerd.sock"} // both defaults
	explicit := false
	if cfg != nil && cfg.cfg.CgroupDriver != "" {
		n.cgroupDriver, explicit = cfg.cfg.CgroupDriver, true
	}
	if v, ok := c.args.Value("cgroup-driver"); ok && !c.args.Unresolved("cgroup-driver") {
		n.cgroupDriver, explicit = v, true
	}
	n.driverOrigin = origin("cgroup-driver")
	if cfg != nil && cfg.cfg.ContainerRuntimeEndpoint != "" {
		n.endpoint = cfg.cfg.ContainerRuntimeEndpoint
	}
	if v, ok := c.args.Value("container-runtime-endpoint"); ok && !c.args.Unresolved("container-runtime-endpoint") {
		n.endpoint = v
	}
	c.node = n
	if explicit && n.cgroupDriver == "cgroupfs" {
		field := "cgroupDriver"
		if c.args.Has("cgroup-driver") {
			field = "cgroup-driver"
		}
		c.add("kubelet-cgroup-driver-cgroupfs", field, origin("cgroup-driver"), "On a host booted by systemd use cgroupDriver: systemd, with SystemdCgroup = true in containerd (hardway: runtime.cgroupDriver: systemd).",
			"cgroupDriver cgroupfs: the kubelet and the runtime write the pods' cgroups under /sys/fs/cgroup themselves. It is meant for hosts where systemd is not PID 1 (containers, other init systems); where systemd manages the cgroup tree, a second manager beside it is unstable under resource pressure")
	}
	failV1, set := true, false
	if cfg != nil && cfg.cfg.FailCgroupV1 != nil {
		failV1, set = *cfg.cfg.FailCgroupV1, true
	}
	if c.args.Has("fail-cgroupv1") && !c.args.Unresolved("fail-cgroupv1") {
		failV1, set = c.args.Bool("fail-cgroupv1", failV1), true
	}
	if set && !failV1 {
		field := "failCgroupV1"
		if c.args.Has("fail-cgroupv1") {
			field = "fail-cgroupv1"
		}
		c.add("kubelet-cgroup-v1-allowed", field, origin("fail-cgroupv1"), "Move the host to cgroup v2 (the unified hierarchy, systemd.unified_cgroup_hierarchy=1) and set failCgroupV1: true (hardway: runtime.allowCgroupV1: false).",
			"failCgroupV1: false lets the kubelet start on a host whose cgroup controllers are v1 (a hybrid or legacy layout). Kubernetes put cgroup v1 in maintenance mode in 1.31 and refuses it by default since 1.35: keep this only for hosts that cannot move to cgroup v2, and plan the move")
	}
}
