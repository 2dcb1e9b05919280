package systemd_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hardway-dev/hardway/apiserver/etcdserver"
	"github.com/hardway-dev/hardway/internal/e2e"
	"github.com/hardway-dev/hardway/pki"
	"github.com/hardway-dev/hardway/units/bundle"
	"github.com/hardway-dev/hardway/units/systemd"
	"github.com/hardway-dev/hardway/units/systemd/sandboxtest"
)

const (
	etcdPKI   = "/etc/kubernetes/pki/etcd"
	etcdCA    = etcdPKI + "/ca.crt"
	hcCert    = etcdPKI + "/healthcheck-client.crt"
	hcKey     = etcdPKI + "/healthcheck-client.key"
	memberIPs = "127.0.0.1 127.0.0.2 127.0.0.3"
)

type etcdMember struct {
	name, ip, clientPort, peerPort string
}

func (m etcdMember) unit() string       { return "etcd-" + m.name + ".service" }
func (m etcdMember) clientURL() string  { return "https://" + m.ip + ":" + m.clientPort }
func (m etcdMember) peerURL() string    { return "https://" + m.ip + ":" + m.peerPort }
func (m etcdMember) serverCert() string { return etcdPKI + "/server-" + m.name + ".crt" }
func (m etcdMember) serverKey() string  { return etcdPKI + "/server-" + m.name + ".key" }
func (m etcdMember) peerCert() string   { return etcdPKI + "/peer-" + m.name + ".crt" }
func (m etcdMember) peerKey() string    { return etcdPKI + "/peer-" + m.name + ".key" }

// etcdBundle is a node bundle with one unit per member, each running `program` with etcd's
// flags (hardway etcd, or the etcd binary). Node paths are installed under root, so the unit
// files name them with root in front.
func etcdBundle(t *testing.T, root string, program []string, ca *testCA, members []etcdMember) *bundle.Bundle {
	t.Helper()
	b := &bundle.Bundle{Node: "e2e"}
	add := func(p string, data []byte, mode fs.FileMode) {
		b.Files = append(b.Files, bundle.File{Path: p, Kind: kindFor(p, mode), Data: data, Mode: mode})
	}
	add(etcdCA, ca.certPEM(), 0o644)
	c, k := ca.issue(t, "kube-etcd-healthcheck-client", pki.UsageClient)
	add(hcCert, c, 0o644)
	add(hcKey, k, 0o600)
	var initial []string
	for _, m := range members {
		initial = append(initial, m.name+"="+m.peerURL())
	}
	host := func(p string) string { return filepath.Join(root, p) }
	for _, m := range members {
		c, k := ca.issue(t, m.name, pki.UsagePeer, m.ip, "localhost")
		add(m.serverCert(), c, 0o644)
		add(m.serverKey(), k, 0o600)
		// As the catalogue's etcd-peer certificate, it also names loopback: every member here
		// dials from 127.0.0.1 (the kernel's source address for 127.0.0.0/8), and etcd 3.4
		// checks a peer's client certificate against the address it connects from.
		c, k = ca.issue(t, m.name, pki.UsagePeer, m.ip, "127.0.0.1", "localhost")
		add(m.peerCert(), c, 0o644)
		add(m.peerKey(), k, 0o600)
		flags := []string{
			"--name=" + m.name,
			"--data-dir=" + host("/var/lib/etcd/"+m.name),
			"--listen-client-urls=" + m.clientURL(),
			"--advertise-client-urls=" + m.clientURL(),
			"--listen-peer-urls=" + m.peerURL(),
			"--initial-advertise-peer-urls=" + m.peerURL(),
			"--initial-cluster=" + strings.Join(initial, ","),
			"--initial-cluster-state=new",
			"--initial-cluster-token=hardway-e2e",
			"--cert-file=" + host(m.serverCert()),
			"--key-file=" + host(m.serverKey()),
			"--trusted-ca-file=" + host(etcdCA),
			"--client-cert-auth=true",
			"--peer-cert-file=" + host(m.peerCert()),
			"--peer-key-file=" + host(m.peerKey()),
			"--peer-trusted-ca-file=" + host(etcdCA),
			"--peer-client-cert-auth=true",
		}
		unitFile := fmt.Sprintf(`[Unit]
Description=etcd member %s

[Service]
Type=notify
ExecStart=%s %s
Restart=on-failure
RestartSec=2
TimeoutStartSec=120
LimitNOFILE=65536

[Install]
WantedBy=default.target
`, m.name, strings.Join(program, " "), strings.Join(flags, " "))
		add(bundle.SystemdDir+"/"+m.unit(), []byte(unitFile), 0o600)
		b.Units = append(b.Units, bundle.Unit{
			Name:   m.unit(),
			Inputs: []string{etcdCA, m.serverCert(), m.serverKey(), m.peerCert(), m.peerKey()},
			Health: &bundle.Health{Kind: bundle.HealthEtcd, URL: m.clientURL() + "/health", CA: etcdCA, Cert: hcCert, Key: hcKey},
		})
	}
	return b
}

func members(t *testing.T) []etcdMember {
	var ms []etcdMember
	for i, ip := range strings.Fields(memberIPs) {
		ms = append(ms, etcdMember{name: fmt.Sprintf("m%d", i), ip: ip, clientPort: freePort(t, ip), peerPort: freePort(t, ip)})
	}
	return ms
}

// The end-to-end test of issue 3: a bundle whose units run `hardway etcd` forms a three-member
// cluster on 127.0.0.1-3 under a real systemd; launch waits for health over mTLS; a second
// launch touches nothing; after one member's server certificate is renewed, launch restarts
// that member only, and the cluster serves writes throughout.
func TestLaunchHardwayEtcdCluster(t *testing.T) {
	e2e.SkipIfShort(t)
	root := t.TempDir()
	sb := sandboxtest.Start(t, filepath.Join(root, bundle.SystemdDir))
	mgr := sb.Connect(t)
	hardway := buildHardway(t)

	ca := newTestCA(t, "etcd-ca")
	ms := members(t)
	b := etcdBundle(t, root, []string{hardway, "etcd"}, ca, ms)
	l := &systemd.Launcher{Manager: mgr, Root: root, Timeout: 2 * time.Minute}
	ctx := context.Background()

	rep, err := l.Launch(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	var units []string
	for _, m := range ms {
		units = append(units, m.unit())
	}
	if !slices.Equal(rep.Started, units) || !slices.Equal(rep.Healthy, units) || !rep.Reloaded {
		t.Fatalf("first launch: %+v", rep)
	}
	client := etcdserver.ClientTLS{CertFile: filepath.Join(root, hcCert), KeyFile: filepath.Join(root, hcKey), TrustedCAFile: filepath.Join(root, etcdCA)}
	cli, err := etcdserver.NewClient([]string{ms[0].clientURL(), ms[2].clientURL()}, client, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ml, err := cli.MemberList(ctx)
	if err != nil || len(ml.Members) != 3 {
		t.Fatalf("member list: %v, %v", ml, err)
	}
	before := states(t, mgr, units...)

	rep, err = l.Launch(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Changed() {
		t.Fatalf("second launch changed something: %+v", rep)
	}
	if got := states(t, mgr, units...); !slices.Equal(got, before) {
		t.Fatalf("second launch restarted units: %v -> %v", before, got)
	}

	// Renew m1's server certificate: a new key and certificate.
	newCert, newKey := ca.issue(t, ms[1].name, pki.UsagePeer, ms[1].ip, "localhost")
	for i := range b.Files {
		switch b.Files[i].Path {
		case ms[1].serverCert():
			b.Files[i].Data = newCert
		case ms[1].serverKey():
			b.Files[i].Data = newKey
		}
	}
	// Write through the members that stay up while launch restarts m1.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writes int
	var writeErrs []error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			_, err := cli.Put(wctx, "/e2e/k", fmt.Sprint(i))
			cancel()
			writes++
			if err != nil {
				writeErrs = append(writeErrs, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	rep, err = l.Launch(ctx, b)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Restarted, []string{ms[1].unit()}) || len(rep.Started) != 0 || rep.Reloaded || len(rep.ChangedFiles()) != 2 {
		t.Fatalf("launch after renewal: %+v", rep)
	}
	after := states(t, mgr, units...)
	if after[0] != before[0] || after[2] != before[2] || after[1] == before[1] {
		t.Fatalf("want only %s restarted; invocation IDs %v -> %v", ms[1].unit(), before, after)
	}
	if len(writeErrs) > 0 {
		t.Fatalf("%d of %d writes failed while %s restarted: %v", len(writeErrs), writes, ms[1].name, writeErrs)
	}
	t.Logf("%d writes during the rolling restart, none failed", writes)
	for _, m := range ms {
		hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := etcdserver.Health(hctx, m.clientURL(), client)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	// m1 now serves the renewed certificate.
	if got := servedCert(t, ms[1], client); !strings.Contains(string(newCert), got) {
		t.Fatalf("%s does not serve the renewed certificate", ms[1].name)
	}
}

// servedCert returns the base64 body of the certificate a member serves on its client port.
func servedCert(t *testing.T, m etcdMember, ct etcdserver.ClientTLS) string {
	t.Helper()
	tc, err := ct.Config()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := tls.Dial("tcp", m.ip+":"+m.clientPort, tc)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	leaf := conn.ConnectionState().PeerCertificates[0]
	if _, err := x509.ParseCertificate(leaf.Raw); err != nil {
		t.Fatal(err)
	}
	body := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw})
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	return strings.Join(lines[1:len(lines)-1], "\n")
}
