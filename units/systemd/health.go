package systemd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/hardway-dev/hardway/internal/mtls"
	"github.com/hardway-dev/hardway/internal/rootfs"
	"github.com/hardway-dev/hardway/units/bundle"
)

// maxCredentialBytes bounds a probe's CA, certificate and key files.
const maxCredentialBytes = 1 << 20

// CheckHealth probes h once. Certificate paths are node paths, read beneath root.
func CheckHealth(ctx context.Context, root *rootfs.Root, h bundle.Health) error {
	if h.Kind == bundle.HealthSocket {
		// The socket is a node path: dialled through root's view when the launch is
		// relative to a root (tests), else as is.
		sock := strings.TrimPrefix(h.URL, "unix://")
		var d net.Dialer
		conn, err := d.DialContext(ctx, "unix", root.HostPath(sock))
		if err != nil {
			return fmt.Errorf("health %s: %w", h.URL, err)
		}
		return conn.Close()
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if strings.HasPrefix(h.URL, "https://") {
		var id mtls.Client
		for _, f := range []struct {
			what, path string
			into       *[]byte
		}{{"CA", h.CA, &id.CA}, {"client certificate", h.Cert, &id.Cert}, {"client key", h.Key, &id.Key}} {
			b, err := root.ReadFile(f.path, maxCredentialBytes)
			if err != nil {
				return fmt.Errorf("health %s: %s: %w", h.URL, f.what, err)
			}
			*f.into = b
		}
		var err error
		if client, err = id.HTTP(0, false); err != nil {
			return fmt.Errorf("health %s: %s, %s, %s: %w", h.URL, h.CA, h.Cert, h.Key, err)
		}
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
	case bundle.HealthEtcd:
		var v struct {
			Health string `json:"health"`
			Reason string `json:"reason"`
		}
		if err := json.Unmarshal(body, &v); err != nil || v.Health != "true" {
			return fmt.Errorf("health %s: etcd answered %q", h.URL, strings.TrimSpace(string(body)))
		}
	case bundle.HealthAPIServer:
		if strings.TrimSpace(string(body)) != "ok" {
			return fmt.Errorf("health %s: answered %q, want ok", h.URL, strings.TrimSpace(string(body)))
		}
	}
	return nil
}

// WaitHealthy probes h every interval until it succeeds or ctx ends; it returns the last
// probe's error with ctx's.
func WaitHealthy(ctx context.Context, root *rootfs.Root, h bundle.Health, interval time.Duration) error {
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
