package inspect

import (
	"fmt"

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

func loadKubeletConfig(c *checked) {
	p, ok := c.args.Value("config")
	if !ok || c.args.Unresolved("config") || c.opt.FS == nil {
		return
	}
	o := c.originOf("config")
	data, err := readFile(c.opt.FS, fsPath(p))
	if err != nil {
		err = pathCause(err)
		c.add("kubelet-config-unreadable", "config", o, "Create the KubeletConfiguration file or fix --config.", "--config=%s: %v; the kubelet does not start", p, err)
		return
	}
	cfg, err := ParseKubeletConfig(data)
	if err != nil {
		c.add("kubelet-config-unreadable", "config", o, "Fix the file: it must be a kubelet.config.k8s.io/v1beta1 KubeletConfiguration.", "--config=%s: %v", p, err)
		return
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
}

// checkKubelet applies the kubelet security rules to the effective settings: a flag given on
// the command line wins over the config file, which wins over the defaults (the v1beta1
// defaults with --config, the flag defaults without).
func checkKubelet(c *checked) {
	if !c.is("kubelet") {
		return
	}
	loadKubeletConfig(c)
	cfg := c.kubelet
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
	if anon {
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
	if mode == "AlwaysAllow" {
		c.add("kubelet-authorization-always-allow", "authorization-mode", origin("authorization-mode"), "Set authorization.mode: Webhook (and authentication.webhook.enabled: true).",
			"the kubelet authorizes every request it authenticates (CIS 4.2.2)")
	}
	ca, _ := c.args.Value("client-ca-file")
	if ca == "" && cfg != nil {
		ca = cfg.cfg.Authentication.X509.ClientCAFile
	}
	if ca == "" {
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
	if port != 0 {
		c.add("kubelet-read-only-port", "read-only-port", origin("read-only-port"), "Set readOnlyPort: 0.",
			"the read-only port %d serves pod and node data without authentication (CIS 4.2.4)", port)
	}
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
