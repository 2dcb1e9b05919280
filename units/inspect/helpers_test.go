package inspect

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/hardway-dev/hardway/units/flags"
)

// testNow is the fixed "now" of every test: certificates are issued around it.
var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// testCA is a throw-away certificate authority for file-check tests. (The pki package is
// written concurrently; these tests only need crypto/x509.)
type testCA struct {
	cert *x509.Certificate
	key  crypto.Signer
	pem  []byte
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newCA(t testing.TB, cn string) *testCA {
	t.Helper()
	k := newKey(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: testNow.Add(-time.Hour), NotAfter: testNow.Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &testCA{cert: c, key: k, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

type leafOpts struct {
	cn       string
	sans     []string
	usages   []x509.ExtKeyUsage
	notAfter time.Time
}

// issue returns a PEM certificate and PEM key signed by ca.
func (ca *testCA) issue(t testing.TB, o leafOpts) (certPEM, keyPEM []byte) {
	t.Helper()
	k := newKey(t)
	if o.notAfter.IsZero() {
		o.notAfter = testNow.Add(365 * 24 * time.Hour)
	}
	if o.usages == nil {
		o.usages = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: o.cn},
		NotBefore: testNow.Add(-time.Hour), NotAfter: o.notAfter, ExtKeyUsage: o.usages,
		KeyUsage: x509.KeyUsageDigitalSignature}
	for _, s := range o.sans {
		if ip := net.ParseIP(s); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, s)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, k.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM2(t, k)
}

func keyPEM2(t testing.TB, k crypto.Signer) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func pubPEM(t testing.TB, k crypto.Signer) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// put adds a file to a MapFS under an absolute node path.
func put(m fstest.MapFS, p string, data []byte, mode os.FileMode) {
	m[strings.TrimPrefix(p, "/")] = &fstest.MapFile{Data: data, Mode: mode}
}

// command parses one command line (words separated by spaces, no quoting needed in tests).
func command(t testing.TB, line string) *Invocation {
	t.Helper()
	inv, err := ParseCommand(flags.Default(), File{Name: "test", Data: []byte(line)})
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// loadFixture loads testdata/<name> as a unit (with its .d drop-ins) or a manifest, as
// `hardway inspect testdata/<name>` reads it; fsys is the node's root.
func loadFixture(t testing.TB, name string, fsys fstest.MapFS) []*Invocation {
	t.Helper()
	src := &Sources{Catalogue: flags.Default(), Files: os.DirFS("."), Root: fsys}
	invs, err := src.ReadPath(context.Background(), path.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return invs
}

func ids(fs []Finding) map[string]int {
	m := map[string]int{}
	for _, f := range fs {
		m[f.ID]++
	}
	return m
}

func opts(fsys fstest.MapFS) Options {
	o := Options{Now: testNow, WarnWithin: 30 * 24 * time.Hour}
	if fsys != nil {
		o.FS = fsys
	}
	return o
}
