package inspect

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/hardway-dev/hardway/pki"
	"github.com/hardway-dev/hardway/units/flags"
)

// fileRef is a path a flag (or a config file field) points at.
type fileRef struct {
	label  string // flag name, or config field such as "tlsCertFile"
	path   string
	kind   flags.FileKind
	origin Origin
	also   []string // the other flags naming the same file, which checkFiles reports once
}

// named is the flag and the others naming the same file, for messages.
func (r fileRef) named() string {
	if len(r.also) == 0 {
		return r.label
	}
	return r.label + " (and " + strings.Join(r.also, ", ") + ")"
}

func (c *checked) refs() []fileRef {
	var out []fileRef
	for i := range c.args.Settings {
		s := &c.args.Settings[i]
		if s.Flag == nil || s.Flag.File == flags.NoFile || s.Flag.File == flags.Dir || len(s.Unresolved) > 0 ||
			strings.TrimSpace(s.Value) == "" || s.Flag.StateAt(c.version) == flags.Removed {
			continue
		}
		vals := []string{s.Value}
		if s.Flag.Type == flags.StringSlice {
			vals = splitList(s.Value)
		}
		for _, v := range vals {
			out = append(out, fileRef{label: s.Name, path: v, kind: s.Flag.File, origin: s.Origin()})
		}
	}
	if c.kubelet != nil {
		out = append(out, c.kubelet.refs...)
	}
	return append(out, c.proxyRefs...)
}

// loadProxyConfig reads the files kube-proxy's --config (a KubeProxyConfiguration) names into
// c.proxyRefs: clientConnection.kubeconfig, the kube-proxy's credentials. A config that cannot
// be read or parsed here contributes nothing (kube-proxy's own checks of it are not judged).
func loadProxyConfig(c *checked) {
	if !c.is("kube-proxy") || c.opt.FS == nil || c.args.Unresolved("config") {
		return
	}
	p, ok := c.args.Value("config")
	if !ok || strings.TrimSpace(p) == "" {
		return
	}
	data, err := readFile(c.opt.FS, fsPath(p))
	if err != nil {
		return
	}
	var cfg struct {
		Kind             string `json:"kind"`
		ClientConnection struct {
			Kubeconfig string `json:"kubeconfig"`
		} `json:"clientConnection"`
	}
	if yaml.Unmarshal(data, &cfg) != nil || cfg.Kind != "KubeProxyConfiguration" || cfg.ClientConnection.Kubeconfig == "" {
		return
	}
	c.proxyRefs = []fileRef{{label: "clientConnection.kubeconfig", path: cfg.ClientConnection.Kubeconfig, kind: flags.Kubeconfig, origin: Origin{File: p}}}
}

// awayFromNode says the invocation is being inspected away from its node: the file system may
// not be the node's (no --root, not a running process) and not one of the files its flags name
// exists in it. Each missing file would otherwise be an error, a false alarm on every unit read
// from a guide or copied off its node; one file missing among others present is still one.
func (c *checked) awayFromNode(refs []fileRef) bool {
	if c.opt.NodeRoot || c.inv.Kind == FromProcess || len(refs) == 0 {
		return false
	}
	for _, r := range refs {
		if l := c.files.load(r.path, r.kind); !errors.Is(l.err, fs.ErrNotExist) {
			return false
		}
	}
	return true
}

// file returns the loaded file behind a flag (or config field), or nil when the flag was not
// given, the file system is unknown, or the file could not be read and parsed.
func (c *checked) file(label string) *loaded {
	if c.opt.FS == nil {
		return nil
	}
	for _, r := range c.refs() {
		if r.label == label {
			l := c.files.load(r.path, r.kind)
			if l.err != nil || l.perr != nil {
				return nil
			}
			return l
		}
	}
	return nil
}

var certKeyPairs = [][2]string{
	{"tls-cert-file", "tls-private-key-file"}, {"etcd-certfile", "etcd-keyfile"},
	{"kubelet-client-certificate", "kubelet-client-key"}, {"proxy-client-cert-file", "proxy-client-key-file"},
	{"cluster-signing-cert-file", "cluster-signing-key-file"},
	{"cert-file", "key-file"}, {"peer-cert-file", "peer-key-file"}, {"client-cert-file", "client-key-file"},
	{"peer-client-cert-file", "peer-client-key-file"}, {"tlsCertFile", "tlsPrivateKeyFile"},
}

// usageNeeds says which extended key usages a certificate flag's role needs.
var usageNeeds = map[string][]x509.ExtKeyUsage{
	"kube-apiserver tls-cert-file":              {x509.ExtKeyUsageServerAuth},
	"kube-apiserver etcd-certfile":              {x509.ExtKeyUsageClientAuth},
	"kube-apiserver kubelet-client-certificate": {x509.ExtKeyUsageClientAuth},
	"kube-apiserver proxy-client-cert-file":     {x509.ExtKeyUsageClientAuth},
	"etcd cert-file":                            {x509.ExtKeyUsageServerAuth},
	"etcd peer-cert-file":                       {x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	"kubelet tlsCertFile":                       {x509.ExtKeyUsageServerAuth},
	"kubelet tls-cert-file":                     {x509.ExtKeyUsageServerAuth},
}

// trustNeeds: certificate flag -> CA flag of the same component that must have signed it.
var trustNeeds = map[string][2]string{
	"kube-apiserver proxy-client-cert-file": {"requestheader-client-ca-file", "the front-proxy CA (extension API servers verify the aggregator with it)"},
	"etcd peer-cert-file":                   {"peer-trusted-ca-file", "the peer CA (other members verify this member with it)"},
}

func checkFiles(c *checked) {
	if c.opt.FS == nil {
		return
	}
	loadProxyConfig(c)
	refs := c.refs()
	if c.awayFromNode(refs) {
		c.add("files-not-judged", "", c.originOf(""), "Inspect with --root set to the node's root file system (or a copy of it, or its hardway bundle), or run hardway inspect on the node.",
			"none of the %d files the flags name exist here (%s, ...), so this is probably not the node the %s runs on: its certificates, keys and kubeconfigs are not checked",
			len(refs), refs[0].path, c.inv.Component)
		return
	}
	// One voice per file: a kubeconfig named by --kubeconfig, --authentication-kubeconfig and
	// --authorization-kubeconfig is missing, unreadable or expired once, under the first flag
	// with the others named.
	type fileAs struct {
		path string
		kind flags.FileKind
	}
	first := map[fileAs]int{}
	var once []fileRef
	for _, r := range refs {
		if i, ok := first[fileAs{r.path, r.kind}]; ok {
			once[i].also = append(once[i].also, r.label)
			continue
		}
		first[fileAs{r.path, r.kind}] = len(once)
		once = append(once, r)
	}
	for _, r := range once {
		l := c.files.load(r.path, r.kind)
		if l.err != nil {
			if errors.Is(l.err, fs.ErrNotExist) && c.bootstrapUnused(r) {
				continue
			}
			if errors.Is(l.err, fs.ErrNotExist) {
				c.add("file-missing", r.label, r.origin, "Create it, or correct the path.", "%s: %s does not exist", r.named(), r.path)
			} else {
				c.add("file-unreadable", r.label, r.origin, "Check the path and its permissions.", "%s: %s: %v", r.named(), r.path, l.err)
			}
			continue
		}
		if l.perr != nil {
			c.add("file-unreadable", r.label, r.origin, "Point the flag at a PEM file of the right kind.", "%s: %s: %v", r.named(), r.path, l.perr)
			continue
		}
		switch r.kind {
		case flags.KeyFile, flags.Kubeconfig, flags.SecretFile:
			if m := l.info.Mode().Perm(); m&0o077 != 0 {
				c.add("file-permissions", r.label, r.origin, fmt.Sprintf("chmod 600 %s", r.path), "%s: %s is mode %04o; private keys, kubeconfigs and secrets must be 0600 or stricter", r.named(), r.path, m)
			}
		}
		for i, cert := range l.certs {
			what := r.path
			if i > 0 {
				what = fmt.Sprintf("%s (certificate %d, %s)", r.path, i+1, cert.Subject.CommonName)
			}
			c.checkValidity(r, what, cert)
		}
		if l.kc != nil && l.kc.KeyFile != "" && l.kc.KeyMode&0o077 != 0 {
			c.add("file-permissions", r.label, r.origin, fmt.Sprintf("chmod 600 %s", l.kc.KeyFile), "%s: the client key %s that %s names is mode %04o; private keys must be 0600 or stricter", r.label, l.kc.KeyFile, r.path, l.kc.KeyMode)
		}
		if l.kc != nil {
			for _, cert := range l.kc.ClientCert[:min(1, len(l.kc.ClientCert))] {
				c.checkValidity(r, r.path+" (client certificate)", cert)
			}
			if len(l.kc.ClientCert) > 0 && l.kc.ClientKey != nil && !pki.KeyMatches(l.kc.ClientKey, l.kc.ClientCert[0].PublicKey) {
				c.add("key-mismatch", r.label, r.origin, "Put the matching client key in the kubeconfig.", "%s: the client key in %s does not match its client certificate", r.named(), r.path)
			}
		}
	}
	for _, p := range certKeyPairs {
		cert, key := c.file(p[0]), c.file(p[1])
		if cert == nil || key == nil || len(cert.certs) == 0 {
			continue
		}
		if !pki.KeyMatches(key.key, cert.certs[0].PublicKey) {
			c.add("key-mismatch", p[1], c.refOrigin(p[1]), "Point --"+p[1]+" at the key the certificate was issued for, or reissue the pair.",
				"%s (%s) is not the key of %s (%s, CN %q)", p[1], key.path, p[0], cert.path, cert.certs[0].Subject.CommonName)
		}
	}
	for name, needs := range usageNeeds {
		comp, fl, _ := strings.Cut(name, " ")
		if comp != c.inv.Component {
			continue
		}
		l := c.file(fl)
		if l == nil || len(l.certs) == 0 {
			continue
		}
		if missing := missingUsages(l.certs[0], needs); len(missing) > 0 {
			c.add("cert-usage", fl, c.refOrigin(fl), "Reissue it with the "+strings.Join(missing, " and ")+" extended key usage.",
				"%s (%s) lacks %s", fl, l.path, strings.Join(missing, " and "))
		}
	}
	for name, ca := range trustNeeds {
		comp, fl, _ := strings.Cut(name, " ")
		if comp != c.inv.Component {
			continue
		}
		cert, pool := c.file(fl), c.file(ca[0])
		if cert == nil || pool == nil {
			continue
		}
		if err := c.files.verify(cert.certs, pool.certs); err != nil {
			c.add("cert-untrusted", fl, c.refOrigin(fl), "Reissue it from the CA in --"+ca[0]+".",
				"%s (%s) is not signed by %s in --%s: %v", fl, cert.path, ca[1], ca[0], err)
		}
	}
	c.checkSANs()
	c.checkServiceAccountKeys()
}

// bootstrapUnused says r is the kubelet's --bootstrap-kubeconfig while its --kubeconfig is
// there and readable: the kubelet then never reads the bootstrap file (kubernetes
// pkg/kubelet/certificate/bootstrap/bootstrap.go, LoadClientConfig returns the kubeconfig
// when it is still valid), and kubeadm init leaves no bootstrap-kubelet.conf behind.
func (c *checked) bootstrapUnused(r fileRef) bool {
	return c.inv.Component == "kubelet" && r.label == "bootstrap-kubeconfig" && c.file("kubeconfig") != nil
}

func (c *checked) refOrigin(label string) Origin {
	for _, r := range c.refs() {
		if r.label == label {
			return r.origin
		}
	}
	return Origin{}
}

func (c *checked) checkValidity(r fileRef, what string, cert *x509.Certificate) {
	now := c.opt.Now
	switch {
	case now.After(cert.NotAfter):
		c.add("cert-expired", r.label, r.origin, "Renew it (and restart the component).", "%s: %s (CN %q) expired on %s", r.named(), what, cert.Subject.CommonName, cert.NotAfter.UTC().Format(time.DateOnly))
	case now.Before(cert.NotBefore):
		c.add("cert-expired", r.label, r.origin, "Check the clock of the machine that issued it, or reissue it.", "%s: %s (CN %q) is not valid before %s", r.named(), what, cert.Subject.CommonName, cert.NotBefore.UTC().Format(time.RFC3339))
	case c.opt.WarnWithin > 0 && now.Add(c.opt.WarnWithin).After(cert.NotAfter):
		days := int(cert.NotAfter.Sub(now).Hours() / 24)
		c.add("cert-expiring", r.label, r.origin, "Renew it before it expires.", "%s: %s (CN %q) expires on %s, in %d days", r.named(), what, cert.Subject.CommonName, cert.NotAfter.UTC().Format(time.DateOnly), days)
	}
}

func missingUsages(cert *x509.Certificate, needs []x509.ExtKeyUsage) []string {
	if len(cert.ExtKeyUsage) == 0 {
		return nil // no EKU extension: any usage
	}
	have := map[x509.ExtKeyUsage]bool{}
	for _, u := range cert.ExtKeyUsage {
		have[u] = true
	}
	if have[x509.ExtKeyUsageAny] {
		return nil
	}
	var out []string
	for _, n := range needs {
		if !have[n] {
			out = append(out, map[x509.ExtKeyUsage]string{x509.ExtKeyUsageServerAuth: "serverAuth", x509.ExtKeyUsageClientAuth: "clientAuth"}[n])
		}
	}
	return out
}

// verifyWith checks that chain[0] chains to one of roots (the rest of chain serves as
// intermediates), ignoring validity dates, which have their own findings.
func verifyWith(chain, roots []*x509.Certificate) error {
	if len(chain) == 0 || len(roots) == 0 {
		return errors.New("nothing to verify")
	}
	rp, ip := x509.NewCertPool(), x509.NewCertPool()
	for _, r := range roots {
		rp.AddCert(r)
	}
	for _, i := range chain[1:] {
		ip.AddCert(i)
	}
	leaf := chain[0]
	_, err := leaf.Verify(x509.VerifyOptions{Roots: rp, Intermediates: ip,
		CurrentTime: leaf.NotBefore.Add(time.Second), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) {
		return fmt.Errorf("issuer %q is not among the CA's %d certificate(s)", leaf.Issuer.CommonName, len(roots))
	}
	return err
}

func (c *checked) checkSANs() {
	type need struct{ certFlag, host, why string }
	var needs []need
	hostOf := func(s string) string {
		if u, err := url.Parse(s); err == nil && u.Host != "" {
			return u.Hostname()
		}
		return ""
	}
	switch c.inv.Component {
	case "kube-apiserver":
		for _, fl := range []string{"advertise-address", "bind-address"} {
			if v, ok := c.args.Value(fl); ok && !c.args.Unresolved(fl) {
				if ip := net.ParseIP(v); ip != nil && !ip.IsUnspecified() {
					needs = append(needs, need{"tls-cert-file", v, "--" + fl})
				}
			}
		}
	case "etcd":
		for _, u := range c.args.List("advertise-client-urls") {
			needs = append(needs, need{"cert-file", hostOf(u), "--advertise-client-urls"})
		}
		for _, u := range c.args.List("initial-advertise-peer-urls") {
			needs = append(needs, need{"peer-cert-file", hostOf(u), "--initial-advertise-peer-urls"})
		}
	}
	for _, n := range needs {
		if n.host == "" || strings.Contains(n.host, "$") {
			continue
		}
		l := c.file(n.certFlag)
		if l == nil {
			continue
		}
		if err := l.certs[0].VerifyHostname(n.host); err != nil {
			c.add("cert-san-missing", n.certFlag, c.refOrigin(n.certFlag), "Reissue the certificate with "+n.host+" among its SANs.",
				"%s (%s) does not cover %s from %s; clients connecting there get an x509 error (SANs: %s)", n.certFlag, l.path, n.host, n.why, sanList(l.certs[0]))
		}
	}
	if c.is("kube-apiserver") && !c.args.Unresolved("service-cluster-ip-range") {
		l := c.file("tls-cert-file")
		if l == nil {
			return
		}
		cidrs, def := serviceRanges(c)
		for _, cidr := range cidrs {
			p, err := netip.ParsePrefix(cidr)
			if err != nil {
				continue
			}
			first := p.Masked().Addr().Next()
			if l.certs[0].VerifyHostname(first.String()) != nil {
				which := "--service-cluster-ip-range=" + cidr
				if def {
					which = "the default service range " + cidr + " (no --service-cluster-ip-range)"
				}
				c.add("cert-service-ip-missing", "tls-cert-file", c.refOrigin("tls-cert-file"), "Reissue the apiserver certificate with IP SAN "+first.String()+", or set --service-cluster-ip-range to the range its SANs were made for.",
					"%s lacks %s, the first IP of %s: pods reaching kubernetes.default get an x509 error (SANs: %s)", l.path, first, which, sanList(l.certs[0]))
			}
		}
	}
}

func sanList(c *x509.Certificate) string {
	var out []string
	out = append(out, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

func (c *checked) checkServiceAccountKeys() {
	if !c.is("kube-apiserver") {
		return
	}
	sign, verify := c.file("service-account-signing-key-file"), c.file("service-account-key-file")
	if sign == nil || verify == nil {
		return
	}
	for _, p := range verify.pubs {
		if pki.KeyMatches(sign.key, p) {
			return
		}
	}
	c.add("service-account-key-mismatch", "service-account-key-file", c.refOrigin("service-account-key-file"), "Add the signing key's public half (sa.pub) to --service-account-key-file.",
		"tokens signed with %s cannot be verified: its public key is not in %s", sign.path, verify.path)
}
