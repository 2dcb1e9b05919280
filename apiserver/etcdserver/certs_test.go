package etcdserver

import (
	"path/filepath"
	"testing"

	"github.com/hardway-dev/hardway/pki"
	"github.com/hardway-dev/hardway/pki/pkitest"
)

// testCA is a throwaway CA whose files live in dir; it issues through package pki.
type testCA struct {
	ca  *pkitest.CA
	dir string
}

func newTestCA(t *testing.T, dir, cn string) *testCA {
	t.Helper()
	ca := &testCA{ca: pkitest.NewCA(t, cn), dir: dir}
	ca.ca.WriteCA(t, dir, "ca.crt")
	return ca
}

func (ca *testCA) caFile() string { return filepath.Join(ca.dir, "ca.crt") }

// issue writes base.crt and base.key signed by ca and returns their paths. usage is "server",
// "client" or "peer" (both); the SANs are localhost and ips.
func (ca *testCA) issue(t *testing.T, base, cn, usage string, ips ...string) (certFile, keyFile string) {
	t.Helper()
	return ca.ca.IssueFiles(t, ca.dir, base, cn, pki.Usage(usage), append([]string{"localhost"}, ips...)...)
}
