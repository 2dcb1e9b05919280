package authn

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/pki"
	"github.com/hardway-dev/hardway/pki/pkitest"
)

func issue(t *testing.T, ca *pkitest.CA, s pki.Subject, usage pki.Usage, notAfter time.Time) *x509.Certificate {
	t.Helper()
	key, err := pki.GenerateKey(configs.KeyECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, err := ca.CA.Issue("t", pki.Request{Subject: s, Usage: usage, NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter}, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := pki.ParseCert(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestX509(t *testing.T) {
	ca, other := pkitest.NewCA(t, "kubernetes"), pkitest.NewCA(t, "other")
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	a := X509{Roots: roots, Now: time.Now()}
	later := time.Now().Add(time.Hour)

	kubelet := issue(t, ca, pki.Subject{CN: "system:node:w1", Orgs: []string{"system:nodes"}}, pki.UsageClient, later)
	u, err := a.Authenticate([]*x509.Certificate{kubelet})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(kubelet.Raw)
	if u.Name != "system:node:w1" || !slices.Equal(u.Groups, []string{"system:nodes", "system:authenticated"}) ||
		u.Extra[CredentialIDKey][0] != "X509SHA256="+hex.EncodeToString(sum[:]) {
		t.Errorf("user %+v", u)
	}
	if node, ok := NodeIdentity(u); !ok || node != "w1" {
		t.Errorf("NodeIdentity = %q, %v", node, ok)
	}

	for name, tc := range map[string]struct {
		cert *x509.Certificate
		want string
	}{
		"another CA":  {issue(t, other, pki.Subject{CN: "admin"}, pki.UsageClient, later), "unknown authority"},
		"server only": {issue(t, ca, pki.Subject{CN: "kube-apiserver", SANs: []string{"localhost"}}, pki.UsageServer, later), "incompatible key usage"},
		"expired":     {issue(t, ca, pki.Subject{CN: "admin"}, pki.UsageClient, time.Now().Add(-time.Minute)), "expired"},
	} {
		if _, err := a.Authenticate([]*x509.Certificate{tc.cert}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", name, err, tc.want)
		}
	}
	noCN := issue(t, ca, pki.Subject{Orgs: []string{"system:masters"}}, pki.UsageClient, later)
	if u, err := a.Authenticate([]*x509.Certificate{noCN}); u != nil || err != nil {
		t.Errorf("no CN: %+v, %v", u, err)
	}
	if _, err := a.Authenticate(nil); err != ErrNoCertificate {
		t.Errorf("no certificate: %v", err)
	}
}

func TestNodeIdentity(t *testing.T) {
	for _, tc := range []struct {
		u    User
		node string
		ok   bool
	}{
		{User{Name: "system:node:w1", Groups: []string{"system:nodes"}}, "w1", true},
		{User{Name: "system:node:w1"}, "", false},                                 // not in system:nodes
		{User{Name: "w1", Groups: []string{"system:nodes"}}, "", false},           // no prefix
		{User{Name: "system:node:", Groups: []string{"system:nodes"}}, "", false}, // no node name
		{User{Name: "system:kube-proxy", Groups: []string{"system:nodes"}}, "", false},
	} {
		node, ok := NodeIdentity(&tc.u)
		if node != tc.node || ok != tc.ok {
			t.Errorf("%+v: %q %v, want %q %v", tc.u, node, ok, tc.node, tc.ok)
		}
	}
}
