package inspect

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// crossChecks compare the inspected components with each other: a cluster's units must agree.
func crossChecks(all []*checked, opt *Options) []Finding {
	by := map[string][]*checked{}
	var fc *fileCache // the one cache Inspect gave every input
	for _, c := range all {
		fc = c.files
		if c.comp != nil {
			by[c.inv.Component] = append(by[c.inv.Component], c)
		}
	}
	var out []Finding
	add := func(id, flag string, o Origin, fix, format string, a ...any) {
		out = append(out, Finding{ID: id, Severity: ruleIndex[id].Severity, Flag: flag, Message: fmt.Sprintf(format, a...), Fix: fix, Origin: o})
	}
	out = append(out, crossCgroupDriver(by)...)
	for _, api := range by["kube-apiserver"] {
		// service range
		// service range: the apiserver's default counts (the controller-manager's flag has none:
		// unset, it allocates no service range and there is nothing to compare).
		if rs, def := serviceRanges(api); !api.args.Unresolved("service-cluster-ip-range") {
			r := strings.Join(rs, ",")
			said := "--service-cluster-ip-range=" + r
			if def {
				said = "no --service-cluster-ip-range, so the default " + r
			}
			for _, kcm := range by["kube-controller-manager"] {
				if r2, ok := kcm.args.Value("service-cluster-ip-range"); ok && !kcm.args.Unresolved("service-cluster-ip-range") && r2 != r {
					fix := "Use the same range in both."
					if def {
						fix = "Give the apiserver --service-cluster-ip-range=" + r2 + " (its default, " + r + ", is rarely what a cluster plans)."
					}
					add("cross-service-range", "service-cluster-ip-range", kcm.originOf("service-cluster-ip-range"), fix,
						"%s has --service-cluster-ip-range=%s but %s has %s", kcm.inv.Name, r2, api.inv.Name, said)
				}
			}
		}
		// etcd endpoints: with several members, the apiserver may list members not inspected
		// here; it is wrong only when it names none that an inspected etcd serves.
		if len(by["etcd"]) > 0 && !api.args.Unresolved("etcd-servers") && api.args.Has("etcd-servers") {
			served := map[string]bool{}
			wild := map[string]bool{}
			for _, e := range by["etcd"] {
				urls := e.args.List("listen-client-urls")
				if !e.args.Has("listen-client-urls") {
					urls = splitList(e.comp.Flag("listen-client-urls").Default)
				}
				for _, u := range append(urls, e.args.List("advertise-client-urls")...) {
					sch, h, p := schemeHostPort(u)
					if ip := net.ParseIP(h); ip != nil && ip.IsUnspecified() {
						wild[sch+"://*:"+p] = true
					}
					served[sch+"://"+h+":"+p] = true
				}
			}
			match := false
			for _, s := range api.args.List("etcd-servers") {
				sch, h, p := schemeHostPort(s)
				if served[sch+"://"+h+":"+p] || wild[sch+"://*:"+p] {
					match = true
				}
			}
			if !match {
				add("cross-etcd-endpoints", "etcd-servers", api.originOf("etcd-servers"), "Point --etcd-servers at the etcd members' client URLs (same scheme, host and port).",
					"%s: --etcd-servers=%s names no endpoint an inspected etcd serves (%s)", api.inv.Name, strings.Join(api.args.List("etcd-servers"), ","), strings.Join(sortedKeys(served), ", "))
			}
		}
		// CIS 2.7: etcd trusts its own CA, not the cluster's client CA, or every certificate the
		// cluster CA issues (each kubelet's among them) opens etcd.
		if clientCA, ok := api.args.Value("client-ca-file"); ok && !api.args.Unresolved("client-ca-file") {
			for _, e := range by["etcd"] {
				etcdCA, ok := e.args.Value("trusted-ca-file")
				if !ok || e.args.Unresolved("trusted-ca-file") || !e.args.Bool("client-cert-auth", false) {
					continue
				}
				same := etcdCA == clientCA
				if !same && opt.FS != nil {
					if a, b := e.file("trusted-ca-file"), api.file("client-ca-file"); a != nil && b != nil {
						for _, x := range a.certs {
							for _, y := range b.certs {
								same = same || x.Equal(y)
							}
						}
					}
				}
				if same {
					add("cross-etcd-ca-shared", "trusted-ca-file", e.originOf("trusted-ca-file"), "Give etcd a CA of its own (--trusted-ca-file, --peer-trusted-ca-file) and issue the apiserver's etcd client certificate from it.",
						"etcd (%s) trusts %s, the CA of the apiserver's --client-ca-file: any client certificate of the cluster (a kubelet's, an admin's) reads and writes etcd directly (CIS 2.7)", e.inv.Name, etcdCA)
				}
			}
		}
		if opt.FS == nil {
			continue
		}
		// etcd TLS both ways
		for _, e := range by["etcd"] {
			if cert, ca := api.file("etcd-certfile"), e.file("trusted-ca-file"); cert != nil && ca != nil && e.args.Bool("client-cert-auth", false) {
				if err := fc.verify(cert.certs, ca.certs); err != nil {
					add("cross-client-ca", "etcd-certfile", api.refOrigin("etcd-certfile"), "Issue the apiserver's etcd client certificate from etcd's --trusted-ca-file CA.",
						"etcd (%s) rejects the apiserver's client certificate %s: %v", e.inv.Name, cert.path, err)
				}
			}
			if cert, ca := e.file("cert-file"), api.file("etcd-cafile"); cert != nil && ca != nil {
				if err := fc.verify(cert.certs, ca.certs); err != nil {
					add("cross-client-ca", "etcd-cafile", api.refOrigin("etcd-cafile"), "Set --etcd-cafile to the CA that issued etcd's serving certificate.",
						"the apiserver cannot verify etcd's serving certificate %s with --etcd-cafile %s: %v", cert.path, ca.path, err)
				}
			}
		}
		// kubelets
		for _, k := range by["kubelet"] {
			caLabel := "client-ca-file"
			if !k.args.Has(caLabel) {
				caLabel = "authentication.x509.clientCAFile"
			}
			if cert, ca := api.file("kubelet-client-certificate"), k.file(caLabel); cert != nil && ca != nil {
				if err := fc.verify(cert.certs, ca.certs); err != nil {
					add("cross-client-ca", "kubelet-client-certificate", api.refOrigin("kubelet-client-certificate"), "Issue the apiserver's kubelet client certificate from the kubelet's client CA.",
						"the kubelet (%s) rejects the apiserver's client certificate %s: %v", k.inv.Name, cert.path, err)
				}
			}
			certLabel := "tls-cert-file"
			if !k.args.Has(certLabel) {
				certLabel = "tlsCertFile"
			}
			if cert, ca := k.file(certLabel), api.file("kubelet-certificate-authority"); cert != nil && ca != nil {
				if err := fc.verify(cert.certs, ca.certs); err != nil {
					add("cross-client-ca", "kubelet-certificate-authority", api.refOrigin("kubelet-certificate-authority"), "Issue kubelet serving certificates from the CA in --kubelet-certificate-authority.",
						"the apiserver cannot verify the kubelet's serving certificate %s: %v (kubectl logs/exec fail)", cert.path, err)
				}
			}
		}
		// kubeconfigs of the other components
		serving, clientCA := api.file("tls-cert-file"), api.file("client-ca-file")
		for _, c := range all {
			if c == api || c.comp == nil {
				continue
			}
			for _, fl := range []string{"kubeconfig", "authentication-kubeconfig", "authorization-kubeconfig"} {
				l := c.file(fl)
				if l == nil || l.kc == nil {
					continue
				}
				if serving != nil && len(l.kc.CA) > 0 {
					if err := fc.verify(serving.certs, l.kc.CA); err != nil {
						add("cross-kubeconfig-ca", fl, c.refOrigin(fl), "Put the CA that issued the apiserver's serving certificate into the kubeconfig (certificate-authority-data).",
							"%s: the CA in %s does not verify the apiserver's serving certificate %s: %v", c.inv.Name, l.path, serving.path, err)
					}
				}
				if clientCA != nil && len(l.kc.ClientCert) > 0 {
					if err := fc.verify(l.kc.ClientCert, clientCA.certs); err != nil {
						add("cross-client-ca", fl, c.refOrigin(fl), "Issue the kubeconfig's client certificate from the apiserver's --client-ca-file CA.",
							"%s: the apiserver rejects the client certificate in %s: %v", c.inv.Name, l.path, err)
					}
				}
			}
		}
		for _, kcm := range by["kube-controller-manager"] {
			if signer, ca := kcm.file("cluster-signing-cert-file"), clientCA; signer != nil && ca != nil {
				if err := fc.verify(signer.certs[:1], ca.certs); err != nil {
					add("cross-client-ca", "cluster-signing-cert-file", kcm.refOrigin("cluster-signing-cert-file"), "Sign CSRs with the CA in the apiserver's --client-ca-file (or add it to that bundle).",
						"kubelet client certificates the controller-manager signs with %s will not be trusted by the apiserver's --client-ca-file: %v", signer.path, err)
				}
			}
		}
	}
	return out
}

func schemeHostPort(s string) (string, string, string) {
	u, err := url.Parse(s)
	if err != nil {
		return "", s, ""
	}
	p := u.Port()
	if p == "" {
		p = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	h := u.Hostname()
	if h == "localhost" {
		h = "127.0.0.1"
	}
	return u.Scheme, h, p
}

// crossCgroupDriver compares each kubelet's cgroup driver with the containerd it talks to (the
// one serving its CRI socket): both must manage the pods' cgroups the same way.
func crossCgroupDriver(by map[string][]*checked) []Finding {
	var out []Finding
	for _, k := range by["kubelet"] {
		if k.node == nil {
			continue
		}
		for _, ctr := range by["containerd"] {
			cc := ctr.containerd
			if cc == nil || socketPath(cc.address) != socketPath(k.node.endpoint) {
				continue
			}
			if want := k.node.cgroupDriver == "systemd"; cc.systemdCgroup != want {
				out = append(out, Finding{ID: "cross-cgroup-driver", Severity: ruleIndex["cross-cgroup-driver"].Severity, Flag: "cgroupDriver", Origin: cc.origin,
					Message: fmt.Sprintf("the kubelet (%s) uses cgroupDriver %s but containerd (%s) has SystemdCgroup = %t for runtime %s: the kubelet and the runtime place pod cgroups differently, and pods fail to start (or the node is unstable under pressure)",
						k.inv.Name, k.node.cgroupDriver, cc.path, cc.systemdCgroup, cc.runtime),
					Fix: "Make them agree: cgroupDriver: systemd with SystemdCgroup = true, or cgroupfs with false (hardway renders both from runtime.cgroupDriver)."})
			}
		}
	}
	return out
}
