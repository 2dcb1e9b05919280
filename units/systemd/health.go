package systemd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// CheckHealth probes h once. Certificate paths are node paths, read under root.
func CheckHealth(ctx context.Context, root string, h Health) error {
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if strings.HasPrefix(h.URL, "https://") {
		tc, err := clientTLS(root, h)
		if err != nil {
			return err
		}
		client.Transport = &http.Transport{TLSClientConfig: tc, DisableKeepAlives: true}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL, nil)
	if err != nil {
		return fmt.Errorf("health %s: %w", h.URL, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("health %s: %w", h.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 8192))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health %s: HTTP %d: %s", h.URL, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	switch h.Kind {
	case HealthEtcd:
		var v struct {
			Health string `json:"health"`
			Reason string `json:"reason"`
		}
		if err := json.Unmarshal(body, &v); err != nil || v.Health != "true" {
			return fmt.Errorf("health %s: etcd answered %q", h.URL, strings.TrimSpace(string(body)))
		}
	case HealthAPIServer:
		if strings.TrimSpace(string(body)) != "ok" {
			return fmt.Errorf("health %s: answered %q, want ok", h.URL, strings.TrimSpace(string(body)))
		}
	}
	return nil
}

func clientTLS(root string, h Health) (*tls.Config, error) {
	read := func(what, p string) ([]byte, error) {
		b, err := os.ReadFile(HostPath(root, p))
		if err != nil {
			return nil, fmt.Errorf("health %s: %s: %w", h.URL, what, err)
		}
		return b, nil
	}
	caPEM, err := read("CA", h.CA)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("health %s: %s holds no PEM certificate", h.URL, h.CA)
	}
	certPEM, err := read("client certificate", h.Cert)
	if err != nil {
		return nil, err
	}
	keyPEM, err := read("client key", h.Key)
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("health %s: client certificate %s / key %s: %w", h.URL, h.Cert, h.Key, err)
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// WaitHealthy probes h every interval until it succeeds or ctx ends; it returns the last
// probe's error with ctx's.
func WaitHealthy(ctx context.Context, root string, h Health, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := CheckHealth(pctx, root, h)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last probe: %v)", ctx.Err(), err)
		case <-t.C:
		}
	}
}
