package pki

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	cfconfig "github.com/cloudflare/cfssl/config"
	"github.com/cloudflare/cfssl/csr"
	cferr "github.com/cloudflare/cfssl/errors"
	"github.com/cloudflare/cfssl/initca"
	cflog "github.com/cloudflare/cfssl/log"
	"github.com/cloudflare/cfssl/signer"
	"github.com/cloudflare/cfssl/signer/local"
)

func init() {
	// cfssl logs at info level to stderr by default; a library must not print.
	cflog.Level = cflog.LevelFatal
}

// Backdate is how far before "now" certificates start, to tolerate clock skew between nodes.
const Backdate = 5 * time.Minute

// CA is a certificate authority able to sign (Key set) or only to verify (an external CA).
type CA struct {
	Name    string
	Cert    *x509.Certificate
	CertPEM []byte
	Key     crypto.Signer // nil for an external CA
	signer  *local.Signer
}

// Subject of a certificate to issue.
type Subject struct {
	CN   string
	Orgs []string
	SANs []string
}

// Request to issue a certificate.
type Request struct {
	Subject
	Usage     Usage
	NotBefore time.Time
	NotAfter  time.Time
}

// NewCA issues a self-signed CA for key, valid from now-Backdate for validity. (kubeadm also
// gives its CAs a DNS SAN equal to the CN; cfssl's signer drops SANs from CA certificates, and
// nothing checks a CA's SANs, so hardway's CAs have none.)
func NewCA(name string, s Subject, key crypto.Signer, now time.Time, validity time.Duration) (*CA, error) {
	req := &csr.CertificateRequest{CN: s.CN, CA: &csr.CAConfig{Expiry: validity.String()}}
	csrPEM, err := csr.Generate(key, req)
	if err != nil {
		return nil, convert(name, err)
	}
	policy := initca.CAPolicy()
	policy.Default.Expiry = validity
	policy.Default.ExpiryString = validity.String()
	// the CA signs certificates and CRLs, and nothing else.
	policy.Default.Usage = []string{"cert sign", "crl sign", "digital signature"}
	sg, err := local.NewSigner(key, nil, signer.DefaultSigAlgo(key), policy)
	if err != nil {
		return nil, convert(name, err)
	}
	certPEM, err := sg.Sign(signer.SignRequest{
		Request:   string(csrPEM),
		NotBefore: now.Add(-Backdate).UTC(),
		NotAfter:  now.Add(validity).UTC(),
	})
	if err != nil {
		return nil, convert(name, err)
	}
	return LoadCA(name, certPEM, key)
}

// LoadCA makes a CA from its certificate and, unless it is external, its key.
func LoadCA(name string, certPEM []byte, key crypto.Signer) (*CA, error) {
	cert, err := ParseCert(certPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("%s: the certificate is not a CA (basic constraints CA:FALSE)", name)
	}
	ca := &CA{Name: name, Cert: cert, CertPEM: certPEM, Key: key}
	if key == nil {
		return ca, nil
	}
	if !KeyMatches(key, cert.PublicKey) {
		return nil, fmt.Errorf("%s: the key does not match the certificate", name)
	}
	ca.signer, err = local.NewSigner(key, cert, signer.DefaultSigAlgo(key), leafPolicy())
	if err != nil {
		return nil, convert(name, err)
	}
	return ca, nil
}

// External reports whether the CA has no key here, so it cannot sign.
func (ca *CA) External() bool { return ca.Key == nil }

// leafPolicy has one profile per usage. Key encipherment only makes sense for RSA keys (TLS
// key transport); ECDSA certificates get digital signature alone. The profiles' expiry is a
// placeholder: every request sets NotBefore and NotAfter itself.
func leafPolicy() *cfconfig.Signing {
	profile := func(ext ...string) *cfconfig.SigningProfile {
		return &cfconfig.SigningProfile{Usage: ext, Expiry: 365 * 24 * time.Hour, ExpiryString: "8760h"}
	}
	return &cfconfig.Signing{
		Profiles: map[string]*cfconfig.SigningProfile{
			"server-rsa":   profile("digital signature", "key encipherment", "server auth"),
			"client-rsa":   profile("digital signature", "key encipherment", "client auth"),
			"peer-rsa":     profile("digital signature", "key encipherment", "server auth", "client auth"),
			"server-ecdsa": profile("digital signature", "server auth"),
			"client-ecdsa": profile("digital signature", "client auth"),
			"peer-ecdsa":   profile("digital signature", "server auth", "client auth"),
		},
		Default: profile("digital signature"),
	}
}

func profileFor(u Usage, key crypto.PublicKey) string {
	if strings.HasPrefix(KeyAlgorithm(key), "rsa") {
		return string(u) + "-rsa"
	}
	return string(u) + "-ecdsa"
}

// Issue signs a certificate for key. It returns the certificate's PEM. A certificate never
// outlives its CA: NotAfter is cut to the CA's.
func (ca *CA) Issue(name string, r Request, key crypto.Signer) ([]byte, error) {
	if r.NotAfter.After(ca.Cert.NotAfter) {
		r.NotAfter = ca.Cert.NotAfter
	}
	if ca.signer == nil {
		return nil, fmt.Errorf("%s: cannot issue: CA %s is external (its key is not in the cluster directory); sign the certificate with that CA and place it in the cluster directory", name, ca.Name)
	}
	if r.Usage == "" {
		return nil, fmt.Errorf("%s: no usage given", name)
	}
	creq := &csr.CertificateRequest{CN: r.CN}
	for _, o := range r.Orgs {
		creq.Names = append(creq.Names, csr.Name{O: o})
	}
	csrPEM, err := csr.Generate(key, creq)
	if err != nil {
		return nil, convert(name, err)
	}
	certPEM, err := ca.signer.Sign(signer.SignRequest{
		Request:   string(csrPEM),
		Hosts:     r.SANs,
		Profile:   profileFor(r.Usage, key.Public()),
		NotBefore: r.NotBefore.UTC(),
		NotAfter:  r.NotAfter.UTC(),
	})
	if err != nil {
		return nil, convert(name, err)
	}
	return certPEM, nil
}

// convert turns cfssl's JSON-bodied errors into plain ones naming the artifact.
func convert(name string, err error) error {
	var ce *cferr.Error
	if errors.As(err, &ce) {
		return fmt.Errorf("%s: %s", name, ce.Message)
	}
	return fmt.Errorf("%s: %w", name, err)
}
