package systemd_test

import (
	"io/fs"
	"path"
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/internal/e2e"
	"github.com/hardway-dev/hardway/pki"
	"github.com/hardway-dev/hardway/pki/pkitest"
	"github.com/hardway-dev/hardway/units/bundle"
)

// testCA issues certificates with package pki, as `hardway init` does.
type testCA struct{ *pkitest.CA }

func newTestCA(t *testing.T, cn string) *testCA { return &testCA{pkitest.NewCA(t, cn)} }

func (c *testCA) certPEM() []byte { return c.CertPEM }

// issue returns a new certificate and key (PEM) for cn with usage and SANs.
func (c *testCA) issue(t *testing.T, cn string, usage pki.Usage, sans ...string) (certPEM, keyPEM []byte) {
	return c.CA.Issue(t, cn, usage, sans...)
}

// kindFor is the bundle kind of a test file: units by their directory, secrets by their mode,
// certificates by their extension.
func kindFor(p string, mode fs.FileMode) bundle.Kind {
	switch {
	case path.Dir(p) == bundle.SystemdDir:
		return bundle.KindUnit
	case mode == 0o600:
		return bundle.KindSecret
	case strings.HasSuffix(p, ".crt"):
		return bundle.KindCertificate
	}
	return bundle.KindConfig
}

// freePort returns a port free on ip right now.
func freePort(t *testing.T, ip string) string { return e2e.FreePort(t, ip) }

// buildHardway builds the hardway binary (CGO_ENABLED=0) into a temporary directory.
func buildHardway(t *testing.T) string { return e2e.BuildHardway(t) }
