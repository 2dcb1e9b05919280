package mtls_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hardway-dev/hardway/internal/mtls"
	"github.com/hardway-dev/hardway/pki"
	"github.com/hardway-dev/hardway/pki/pkitest"
)

// A real handshake with a server that requires a client certificate: the right identity gets
// through, a server from another CA and an incomplete identity do not.
func TestClientHandshake(t *testing.T) {
	ca := pkitest.NewCA(t, "test-ca")
	other := pkitest.NewCA(t, "other-ca")
	serve := func(t *testing.T, issuer *pkitest.CA) *httptest.Server {
		certPEM, keyPEM := issuer.Issue(t, "server", pki.UsageServer, "127.0.0.1")
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(ca.CertPEM)
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, r.TLS.PeerCertificates[0].Subject.CommonName)
		}))
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return srv
	}
	certPEM, keyPEM := ca.Issue(t, "admin", pki.UsageClient)
	id := mtls.Client{CA: ca.CertPEM, Cert: certPEM, Key: keyPEM}

	hc, err := id.HTTP(10*time.Second, false)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(serve(t, ca).URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "admin" {
		t.Errorf("the server saw %q", body)
	}
	if _, err := hc.Get(serve(t, other).URL); err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Errorf("a server from another CA: %v", err)
	}
	if cfg, _ := id.Config(); cfg.MinVersion != tls.VersionTLS12 || cfg.InsecureSkipVerify {
		t.Errorf("settings: min %x, skip verify %v", cfg.MinVersion, cfg.InsecureSkipVerify)
	}
	for name, bad := range map[string]mtls.Client{
		"no key":        {CA: ca.CertPEM, Cert: certPEM},
		"no CA":         {Cert: certPEM, Key: keyPEM},
		"a CA not PEM":  {CA: []byte("x"), Cert: certPEM, Key: keyPEM},
		"another's key": {CA: ca.CertPEM, Cert: certPEM, Key: func() []byte { _, k := ca.Issue(t, "x", pki.UsageClient); return k }()},
	} {
		if _, err := bad.Config(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
