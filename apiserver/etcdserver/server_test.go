package etcdserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hardway-dev/hardway/internal/e2e"
	"github.com/hardway-dev/hardway/internal/problem"
)

// freePort returns a port free on ip right now.
func freePort(t *testing.T, ip string) string { return e2e.FreePort(t, ip) }

type testCluster struct {
	ca      *testCA
	configs []Config
	client  ClientTLS
}

// newTestCluster writes certificates and returns the configs of members on the given loopback
// addresses, each with its own client and peer port.
func newTestCluster(t *testing.T, ips ...string) *testCluster {
	t.Helper()
	dir := t.TempDir()
	ca := newTestCA(t, dir, "etcd-ca")
	var initial []string
	var cfgs []Config
	for i, ip := range ips {
		name := fmt.Sprintf("m%d", i)
		cp, pp := freePort(t, ip), freePort(t, ip)
		c := NewConfig()
		c.Name = name
		c.DataDir = filepath.Join(dir, name, "data")
		c.ListenClientURLs = []string{"https://" + ip + ":" + cp}
		c.AdvertiseClientURLs = c.ListenClientURLs
		c.ListenPeerURLs = []string{"https://" + ip + ":" + pp}
		c.InitialAdvertisePeerURLs = c.ListenPeerURLs
		sc, sk := ca.issue(t, name+"-server", name, "peer", ip)
		pc, pk := ca.issue(t, name+"-peer", name, "peer", ip)
		c.Client = TLS{sc, sk, ca.caFile(), true}
		c.Peer = TLS{pc, pk, ca.caFile(), true}
		c.InitialClusterToken = "test-" + t.Name()
		initial = append(initial, name+"="+c.ListenPeerURLs[0])
		cfgs = append(cfgs, c)
	}
	for i := range cfgs {
		cfgs[i].InitialCluster = strings.Join(initial, ",")
	}
	cc, ck := ca.issue(t, "client", "test-client", "client")
	return &testCluster{ca: ca, configs: cfgs, client: ClientTLS{cc, ck, ca.caFile()}}
}

// startAll starts the members, holding the machine-wide end-to-end lock (see e2e.LockMachine)
// until the test ends.
func startAll(t *testing.T, cfgs []Config) []*Member {
	t.Helper()
	e2e.LockMachine(t)
	var ms []*Member
	for _, c := range cfgs {
		m, err := Start(c, Options{Log: testLog{t}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.Close)
		ms = append(ms, m)
	}
	for _, m := range ms {
		select {
		case <-m.ReadyNotify():
		case err := <-m.Err():
			t.Fatalf("%s: %v", m.Name(), err)
		case <-time.After(60 * time.Second):
			t.Fatalf("%s: not ready after 60s", m.Name())
		}
	}
	return ms
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	if testing.Verbose() {
		l.t.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

func TestSingleMemberMutualTLS(t *testing.T) {
	tc := newTestCluster(t, "127.0.0.1")
	ms := startAll(t, tc.configs)
	endpoint := ms[0].ClientURLs()[0]

	if mode, err := dataDirMode(tc.configs[0].DataDir); err != nil || mode != 0o700 {
		t.Errorf("data dir mode = %v, %v; want 0700", mode, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := Health(ctx, endpoint, tc.client); err != nil {
		t.Fatal(err)
	}
	cli, err := NewClient([]string{endpoint}, tc.client, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.Put(ctx, "/hardway/k", "v"); err != nil {
		t.Fatal(err)
	}
	resp, err := cli.Get(ctx, "/hardway/k")
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "v" {
		t.Fatalf("Get = %v, %v", resp, err)
	}

	// A client without a certificate is refused at the handshake.
	tlsNoCert, err := (ClientTLS{tc.client.CertFile, tc.client.KeyFile, tc.client.TrustedCAFile}).Config()
	if err != nil {
		t.Fatal(err)
	}
	tlsNoCert.Certificates = nil
	tlsNoCert.GetClientCertificate = nil
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsNoCert}}
	if r, err := hc.Get(endpoint + "/health"); err == nil {
		r.Body.Close()
		t.Fatalf("a client without a certificate got HTTP %d", r.StatusCode)
	}
	// Nor does plain http reach it.
	if r, err := http.Get(strings.Replace(endpoint, "https://", "http://", 1) + "/health"); err == nil {
		r.Body.Close()
		if r.StatusCode == http.StatusOK {
			t.Fatal("plain http /health answered 200")
		}
	}
	// A client that does not trust the member's CA refuses it.
	other := newTestCA(t, t.TempDir(), "other-ca")
	if err := Health(ctx, endpoint, ClientTLS{tc.client.CertFile, tc.client.KeyFile, other.caFile()}); err == nil {
		t.Fatal("Health succeeded with a CA that did not sign the member")
	}
}

func TestStartNamesMissingFiles(t *testing.T) {
	c := validConfig()
	c.DataDir = filepath.Join(t.TempDir(), "d")
	c.Client.CertFile = filepath.Join(t.TempDir(), "nope.crt")
	_, err := Start(c, Options{})
	var ce *problem.ListError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "--cert-file") {
		t.Fatalf("Start = %v, want a *problem.ListError naming --cert-file", err)
	}
}

func TestClientRefusesHTTP(t *testing.T) {
	if _, err := NewClient([]string{"http://127.0.0.1:2379"}, ClientTLS{"a", "b", "c"}, time.Second); err == nil || !strings.Contains(err.Error(), "mutual TLS only") {
		t.Fatalf("NewClient(http) = %v", err)
	}
	if _, err := (ClientTLS{CertFile: "a"}).Config(); err == nil {
		t.Fatal("ClientTLS without key and CA accepted")
	}
}

// Three members on 127.0.0.1, .2 and .3 form one cluster; a write through one is read through
// another.
func TestThreeMembers(t *testing.T) {
	e2e.SkipIfShort(t)
	tc := newTestCluster(t, "127.0.0.1", "127.0.0.2", "127.0.0.3")
	ms := startAll(t, tc.configs)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, m := range ms {
		if err := Health(ctx, m.ClientURLs()[0], tc.client); err != nil {
			t.Fatal(err)
		}
	}
	a, err := NewClient(ms[0].ClientURLs(), tc.client, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := NewClient(ms[2].ClientURLs(), tc.client, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := a.Put(ctx, "k", "through-m0"); err != nil {
		t.Fatal(err)
	}
	resp, err := b.Get(ctx, "k")
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "through-m0" {
		t.Fatalf("Get via m2 = %v, %v", resp, err)
	}
	ml, err := a.MemberList(ctx)
	if err != nil || len(ml.Members) != 3 {
		t.Fatalf("MemberList = %v, %v", ml, err)
	}
}
