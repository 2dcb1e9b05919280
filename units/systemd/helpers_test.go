package systemd_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/pki"
)

// testCA issues certificates with package pki, as `hardway init` does.
type testCA struct {
	ca *pki.CA
}

func newTestCA(t *testing.T, cn string) *testCA {
	t.Helper()
	key, err := pki.GenerateKey(configs.KeyECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := pki.NewCA(cn, pki.Subject{CN: cn}, key, time.Now(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{ca: ca}
}

func (c *testCA) certPEM() []byte { return c.ca.CertPEM }

// issue returns a new certificate and key (PEM) for cn with usage and SANs.
func (c *testCA) issue(t *testing.T, cn string, usage pki.Usage, sans ...string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := pki.GenerateKey(configs.KeyECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	certPEM, err = c.ca.Issue(cn, pki.Request{Subject: pki.Subject{CN: cn, SANs: sans}, Usage: usage, NotBefore: now.Add(-time.Minute), NotAfter: now.Add(24 * time.Hour)}, key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err = pki.EncodeKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return certPEM, keyPEM
}

// freePort returns a port free on ip right now.
func freePort(t *testing.T, ip string) string {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// buildHardway builds the hardway binary (CGO_ENABLED=0) into a temporary directory.
func buildHardway(t *testing.T) string {
	t.Helper()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		if goBin, err = exec.LookPath("go"); err != nil {
			t.Skip("no go toolchain to build hardway")
		}
	}
	out := filepath.Join(t.TempDir(), "hardway")
	cmd := exec.Command(goBin, "build", "-o", out, "github.com/hardway-dev/hardway/cmd/hardway")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build hardway: %v\n%s", err, b)
	}
	return out
}
