package mtls

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Client is a client identity for mutual TLS, in PEM.
type Client struct {
	CA   []byte // the CA certificates the server's certificate must chain to
	Cert []byte // the client certificate (and any intermediates)
	Key  []byte // its private key
}

// Config returns the client's *tls.Config: the server is verified against CA, Cert is
// presented, TLS 1.2 at least.
func (c Client) Config() (*tls.Config, error) {
	if len(c.CA) == 0 || len(c.Cert) == 0 || len(c.Key) == 0 {
		return nil, errors.New("mutual TLS needs a CA, a client certificate and its key")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(c.CA) {
		return nil, errors.New("the CA holds no PEM certificate")
	}
	cert, err := tls.X509KeyPair(c.Cert, c.Key)
	if err != nil {
		return nil, fmt.Errorf("the client certificate and key: %w", err)
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// HTTP returns an HTTP client for c whose requests time out after timeout. Connections are
// not kept alive when keepAlive is false (a one-off probe).
func (c Client) HTTP(timeout time.Duration, keepAlive bool) (*http.Client, error) {
	tc, err := c.Config()
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{TLSClientConfig: tc, TLSHandshakeTimeout: 10 * time.Second, DisableKeepAlives: !keepAlive}
	return &http.Client{Transport: tr, Timeout: timeout}, nil
}
