package etcdserver

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/hardway-dev/hardway/internal/mtls"
)

// ClientTLS is a client's side of mutual TLS with etcd: its certificate and key, and the CA
// the members' serving certificates must chain to. It has no switch to turn TLS or
// verification off.
type ClientTLS struct {
	CertFile      string
	KeyFile       string
	TrustedCAFile string
}

// Config returns the *tls.Config for a client presenting this certificate (internal/mtls, the
// one client side of mutual TLS).
func (c ClientTLS) Config() (*tls.Config, error) {
	var missing []string
	for _, f := range []struct{ name, v string }{{"certificate", c.CertFile}, {"key", c.KeyFile}, {"CA", c.TrustedCAFile}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("etcd client TLS: missing %v file: etcd is reached over mutual TLS only", missing)
	}
	var id mtls.Client
	for _, f := range []struct {
		path string
		into *[]byte
	}{{c.TrustedCAFile, &id.CA}, {c.CertFile, &id.Cert}, {c.KeyFile, &id.Key}} {
		b, err := os.ReadFile(f.path)
		if err != nil {
			return nil, fmt.Errorf("etcd client TLS: %w", err)
		}
		*f.into = b
	}
	cfg, err := id.Config()
	if err != nil {
		return nil, fmt.Errorf("etcd client TLS (%s, %s, CA %s): %w", c.CertFile, c.KeyFile, c.TrustedCAFile, err)
	}
	return cfg, nil
}

// NewClient connects a clientv3 client to endpoints (https URLs) over mutual TLS. The caller
// closes it.
func NewClient(endpoints []string, ct ClientTLS, dialTimeout time.Duration) (*clientv3.Client, error) {
	if err := checkEndpoints(endpoints); err != nil {
		return nil, err
	}
	tc, err := ct.Config()
	if err != nil {
		return nil, err
	}
	c, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		TLS:         tc,
		DialTimeout: dialTimeout,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("etcd client for %v: %w", endpoints, err)
	}
	return c, nil
}

// Health asks one member's /health over mutual TLS and returns nil when it answers
// {"health":"true"}; otherwise the error says what it answered.
func Health(ctx context.Context, endpoint string, ct ClientTLS) error {
	if err := checkEndpoints([]string{endpoint}); err != nil {
		return err
	}
	tc, err := ct.Config()
	if err != nil {
		return err
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tc, DisableKeepAlives: true}}
	u := endpoint + "/health"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("etcd health %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var h struct {
		Health string `json:"health"`
		Reason string `json:"reason"`
	}
	if err := json.Unmarshal(body, &h); err != nil {
		return fmt.Errorf("etcd health %s: HTTP %d, not JSON: %q", u, resp.StatusCode, body)
	}
	if resp.StatusCode != http.StatusOK || h.Health != "true" {
		return fmt.Errorf("etcd health %s: HTTP %d, health %q %s", u, resp.StatusCode, h.Health, h.Reason)
	}
	return nil
}

func checkEndpoints(endpoints []string) error {
	if len(endpoints) == 0 {
		return fmt.Errorf("etcd client: no endpoints")
	}
	for _, e := range endpoints {
		u, err := url.Parse(e)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return fmt.Errorf("etcd client: endpoint %q is not an https://host:port URL; etcd is reached over mutual TLS only", e)
		}
	}
	return nil
}

// SyncPeerURLs makes the peer URLs the cluster stores for the member called name peerURLs: a
// member whose node moved to another address keeps its old peer URLs in its data (etcd reads
// --initial-advertise-peer-urls only when it bootstraps), so they are updated through the
// cluster (MemberUpdate). It returns the URLs the member had, and whether it changed them.
func SyncPeerURLs(ctx context.Context, cli *clientv3.Client, name string, peerURLs []string) (had []string, changed bool, err error) {
	list, err := cli.MemberList(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("etcd member list: %w", err)
	}
	for _, m := range list.Members {
		if m.Name != name {
			continue
		}
		if slices.Equal(m.PeerURLs, peerURLs) {
			return m.PeerURLs, false, nil
		}
		if _, err := cli.MemberUpdate(ctx, m.ID, peerURLs); err != nil {
			return m.PeerURLs, false, fmt.Errorf("etcd member %s: peer URLs %v -> %v: %w", name, m.PeerURLs, peerURLs, err)
		}
		return m.PeerURLs, true, nil
	}
	return nil, false, fmt.Errorf("etcd has no member called %s", name)
}
