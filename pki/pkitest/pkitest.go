package pkitest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/pki"
)

// CA is a test certificate authority, valid from an hour ago for a day.
type CA struct {
	*pki.CA
}

// NewCA makes an ECDSA P-256 CA called cn.
func NewCA(t testing.TB, cn string) *CA {
	t.Helper()
	key, err := pki.GenerateKey(configs.KeyECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := pki.NewCA(cn, pki.Subject{CN: cn}, key, time.Now(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return &CA{ca}
}

// Issue returns a new certificate and key (PEM) for cn with usage and SANs, valid from a
// minute ago for a day.
func (c *CA) Issue(t testing.TB, cn string, usage pki.Usage, sans ...string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := pki.GenerateKey(configs.KeyECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	certPEM, err = c.CA.Issue(cn, pki.Request{Subject: pki.Subject{CN: cn, SANs: sans}, Usage: usage, NotBefore: now.Add(-time.Minute), NotAfter: now.Add(24 * time.Hour)}, key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err = pki.EncodeKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return certPEM, keyPEM
}

// WriteCA writes the CA certificate to dir/name and returns its path.
func (c *CA) WriteCA(t testing.TB, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, c.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// IssueFiles issues like Issue and writes dir/base.crt and dir/base.key (0600).
func (c *CA) IssueFiles(t testing.TB, dir, base, cn string, usage pki.Usage, sans ...string) (certFile, keyFile string) {
	t.Helper()
	certPEM, keyPEM := c.Issue(t, cn, usage, sans...)
	certFile, keyFile = filepath.Join(dir, base+".crt"), filepath.Join(dir, base+".key")
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
