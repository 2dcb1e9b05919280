package pki

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"io/fs"
	"slices"
	"time"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/internal/problem"
)

// CertInfo describes one certificate found in a cluster directory: a PKI file, or the client
// certificate embedded in a kubeconfig.
type CertInfo struct {
	Name      string    `json:"name"` // instance ID, or the kubeconfig's name
	Path      string    `json:"path"`
	Kind      Kind      `json:"kind"`
	CA        string    `json:"ca,omitempty"` // signing CA's catalogue name
	Subject   string    `json:"subject"`
	SANs      []string  `json:"sans,omitempty"`
	Issuer    string    `json:"issuer"`
	NotBefore time.Time `json:"notBefore"`
	NotAfter  time.Time `json:"notAfter"`
	Left      string    `json:"timeLeft"`
	External  bool      `json:"external,omitempty"` // a CA whose key is not here
	Embedded  bool      `json:"embedded,omitempty"` // in a kubeconfig
	SHA256    string    `json:"sha256"`
	Missing   bool      `json:"missing,omitempty"`
	// Retired is the folder a retired certificate was moved to (RetiredDir): no node uses it any
	// more, but it stays valid until NotAfter.
	Retired string `json:"retired,omitempty"`
	Error   string `json:"error,omitempty"`
	cert    *x509.Certificate
}

// Inventory lists every certificate the catalogue expects in fsys, present or not, followed by
// the certificates embedded in kubeconfigs. Unreadable or corrupt files are reported in Error,
// not returned as errors: inventory is for looking.
func Inventory(fsys fs.FS, c *configs.Cluster, now time.Time) []CertInfo {
	var out []CertInfo
	for _, in := range Instances(c) {
		if in.Spec.Kind == KindKeyPair {
			continue
		}
		info := certInfo(fsys, in.CertPath(), now)
		info.Name, info.Kind, info.CA = in.ID, in.Spec.Kind, in.Spec.CA
		if in.Spec.Kind == KindCA {
			// A CA goes by its catalogue name everywhere (etcd-ca, never etcd/ca): the name
			// its leaves' CA column shows and 'certs renew' takes.
			info.Name = in.Spec.Name
			if _, err := fs.Stat(fsys, in.KeyPath()); err != nil {
				info.External = true
			}
		}
		out = append(out, info)
	}
	for _, in := range Instances(c) {
		if in.Kubeconfig == "" {
			continue
		}
		info := CertInfo{Name: in.Kubeconfig + ".kubeconfig", Path: in.KubeconfigPath(), Kind: KindLeaf, CA: in.Spec.CA, Embedded: true}
		data, err := fs.ReadFile(fsys, in.KubeconfigPath())
		if err != nil {
			// Missing as a certificate is missing; another error is said as it is.
			info.Missing, info.Error = true, "missing"
			if !errors.Is(err, fs.ErrNotExist) {
				info.Missing, info.Error = false, err.Error()
			}
			out = append(out, info)
			continue
		}
		kc, err := ParseKubeconfig(data)
		if err != nil {
			info.Error = err.Error()
			out = append(out, info)
			continue
		}
		fill(&info, kc.CertPEM, now)
		out = append(out, info)
	}
	for _, r := range Retired(fsys) {
		for _, rc := range r.Certificates {
			info := certInfo(fsys, rc.Path, now)
			info.Name, info.Kind, info.CA, info.Retired = rc.Name, KindLeaf, rc.CA, RetiredFolder(r.Node, r.Retired)
			out = append(out, info)
		}
	}
	return out
}

func certInfo(fsys fs.FS, path string, now time.Time) CertInfo {
	info := CertInfo{Path: path}
	data, err := fs.ReadFile(fsys, path)
	if err != nil {
		info.Missing, info.Error = true, "missing"
		return info
	}
	fill(&info, data, now)
	return info
}

func fill(info *CertInfo, pemData []byte, now time.Time) {
	cert, err := ParseCert(pemData)
	if err != nil {
		info.Error = err.Error()
		return
	}
	s := subjectOf(cert)
	info.cert = cert
	info.Subject = subjectString(s)
	info.SANs = s.SANs
	info.Issuer = cert.Issuer.CommonName
	info.NotBefore, info.NotAfter = cert.NotBefore.UTC(), cert.NotAfter.UTC()
	info.Left = HumanDuration(cert.NotAfter.Sub(now))
	sum := sha256.Sum256(cert.Raw)
	info.SHA256 = hex.EncodeToString(sum[:])
}

func subjectString(s Subject) string {
	out := "CN=" + s.CN
	for _, o := range s.Orgs {
		out += ",O=" + o
	}
	return out
}

// Verify checks every artifact in fsys against the catalogue as a client would: each leaf
// chains to its CA for its usage (x509.Verify), its key matches, its subject and SANs are what
// the catalogue asks; each kubeconfig's certificate verifies against the CA embedded beside it
// and is the one in pki/; the service-account keys match. It returns every problem found, each
// an error at the path of the file (relative to the cluster directory) that has it.
func Verify(fsys fs.FS, c *configs.Cluster, now time.Time) problem.List {
	var out problem.List
	add := func(path, fix, format string, a ...any) {
		out = append(out, problem.Errorf(path, fix, format, a...))
	}
	renew := func(in Instance) string {
		if in.Spec.Kind == KindCA {
			return "hardway certs renew " + in.Spec.Name
		}
		return "hardway certs renew " + in.ID
	}
	if _, err := fs.Stat(fsys, RekeyRecord); err == nil {
		add(RekeyRecord, "run hardway init (it finishes the re-key)", "a CA re-key is under way: a run that gives a CA a new key was interrupted")
	}
	cas := map[string]*x509.Certificate{}
	for _, in := range Instances(c) {
		switch in.Spec.Kind {
		case KindCA:
			info := certInfo(fsys, in.CertPath(), now)
			if info.cert == nil {
				fix := restoreAdvice(fsys, in.CertPath())
				if keyData, err := fs.ReadFile(fsys, in.KeyPath()); err == nil {
					if _, err := ParseKey(keyData); err == nil {
						fix += "; or remove it and run hardway init: a new certificate for the same key verifies what the lost one signed"
					}
				}
				add(in.CertPath(), fix, "CA certificate: %s", info.Error)
				continue
			}
			cas[in.Spec.Name] = info.cert
			if now.After(info.cert.NotAfter) {
				add(in.CertPath(), renew(in), "the CA expired on %s", info.cert.NotAfter.Format(time.DateOnly))
			}
			if keyData, err := fs.ReadFile(fsys, in.KeyPath()); err == nil {
				if key, err := ParseKey(keyData); err != nil || !KeyMatches(key, info.cert.PublicKey) {
					add(in.KeyPath(), restoreAdvice(fsys, in.KeyPath()), "the key does not match %s", in.CertPath())
				}
			}
		case KindKeyPair:
			keyData, err1 := fs.ReadFile(fsys, in.KeyPath())
			pubData, err2 := fs.ReadFile(fsys, in.PubPath())
			if err1 != nil || err2 != nil {
				add(in.KeyPath(), "run hardway init", "the key pair is incomplete")
				continue
			}
			key, err := ParseKey(keyData)
			if err != nil {
				add(in.KeyPath(), "restore it from backup/", "not a valid key: %v", err)
				continue
			}
			if want, _ := EncodePublicKey(key.Public()); string(want) != string(pubData) {
				add(in.PubPath(), "run hardway init to rewrite it", "does not match %s", in.KeyPath())
			}
		case KindLeaf:
			info := certInfo(fsys, in.CertPath(), now)
			if info.cert == nil {
				add(in.CertPath(), renew(in)+" (it reissues a missing or corrupt certificate)", "%s", info.Error)
				continue
			}
			ca := cas[in.Spec.CA]
			if ca == nil {
				continue // reported with the CA
			}
			if err := verifyChain(info.cert, ca, in.Spec.Usage, now); err != nil {
				add(in.CertPath(), renew(in), "does not verify against %s: %v", in.Spec.CA, err)
			}
			keyData, err := fs.ReadFile(fsys, in.KeyPath())
			if err != nil {
				add(in.KeyPath(), renew(in)+" (a new pair)", "the key is missing")
			} else if key, err := ParseKey(keyData); err != nil || !KeyMatches(key, info.cert.PublicKey) {
				add(in.KeyPath(), renew(in), "the key does not match the certificate")
			}
			want := Subject{CN: in.CN, Orgs: in.Orgs, SANs: in.SANs}
			for _, d := range diffSubject(subjectOf(info.cert), want) {
				add(in.CertPath(), "hardway init (it reissues what drifted)", "%s", d)
			}
			if !slices.Equal(sortedUsages(info.cert.ExtKeyUsage), extUsages(in.Spec.Usage)) {
				add(in.CertPath(), renew(in), "extended key usages are not exactly %s", in.Spec.Usage)
			}
			if in.Kubeconfig != "" {
				out = append(out, verifyKubeconfig(fsys, c, in, info.cert, now)...)
			}
		}
	}
	return out
}

func verifyKubeconfig(fsys fs.FS, c *configs.Cluster, in Instance, pkiCert *x509.Certificate, now time.Time) problem.List {
	p := func(format string, a ...any) problem.List {
		return problem.List{problem.Errorf(in.KubeconfigPath(), "hardway init (it rewrites kubeconfigs from pki/)", format, a...)}
	}
	data, err := fs.ReadFile(fsys, in.KubeconfigPath())
	if err != nil {
		return p("cannot read: %v", err)
	}
	kc, err := ParseKubeconfig(data)
	if err != nil {
		return p("%v", err)
	}
	ca, err := ParseCert(kc.CAPEM)
	if err != nil {
		return p("embedded CA: %v", err)
	}
	cert, err := ParseCert(kc.CertPEM)
	if err != nil {
		return p("embedded client certificate: %v", err)
	}
	if err := verifyChain(cert, ca, UsageClient, now); err != nil {
		return p("embedded client certificate does not verify against the embedded CA: %v", err)
	}
	if !cert.Equal(pkiCert) {
		return p("embeds a different certificate than %s", in.CertPath())
	}
	key, err := ParseKey(kc.KeyPEM)
	if err != nil || !KeyMatches(key, cert.PublicKey) {
		return p("embedded key does not match the embedded certificate")
	}
	if kc.Server != in.Server {
		return p("server is %s, want %s", kc.Server, in.Server)
	}
	if name := KubeconfigUser(in.CN, c.Name); kc.ClusterName != c.Name || kc.User != name || kc.Context != name {
		return p("names cluster %q, user %q, context %q, want %q, %q, %q (names without the cluster's mix up merged kubeconfigs)",
			kc.ClusterName, kc.User, kc.Context, c.Name, name, name)
	}
	return nil
}

func verifyChain(cert, ca *x509.Certificate, u Usage, now time.Time) error {
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	usages := extUsages(u)
	for _, eku := range usages {
		if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{eku}}); err != nil {
			return err
		}
	}
	return nil
}
