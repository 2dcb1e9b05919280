package systemd_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hardway-dev/hardway/internal/e2e"
	"github.com/hardway-dev/hardway/units/bundle"
	"github.com/hardway-dev/hardway/units/systemd"
	"github.com/hardway-dev/hardway/units/systemd/sandboxtest"
)

// The same units' flags run the real etcd binary (Debian's etcd-server, 3.4 here): three
// members under the sandboxed systemd, healthy over mTLS, and etcdctl with a client
// certificate writes through one member and reads through another.
func TestLaunchDebianEtcdCluster(t *testing.T) {
	e2e.SkipIfShort(t)
	etcd := e2e.RequireBinary(t, "etcd")
	etcdctl := e2e.RequireBinary(t, "etcdctl")
	root := t.TempDir()
	sb := sandboxtest.Start(t, filepath.Join(root, bundle.SystemdDir))
	mgr := sb.Connect(t)

	ca := newTestCA(t, "etcd-ca")
	ms := members(t)
	b := etcdBundle(t, root, []string{etcd}, ca, ms)
	l := &systemd.Launcher{Manager: mgr, Root: root, Timeout: 2 * time.Minute}
	rep, err := l.Launch(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Healthy) != 3 {
		t.Fatalf("launch: %+v", rep)
	}
	ctl := func(endpoint string, args ...string) string {
		t.Helper()
		full := append([]string{"--endpoints=" + endpoint, "--cacert=" + filepath.Join(root, etcdCA),
			"--cert=" + filepath.Join(root, hcCert), "--key=" + filepath.Join(root, hcKey), "--command-timeout=20s"}, args...)
		cmd := exec.Command(etcdctl, full...)
		cmd.Env = []string{"ETCDCTL_API=3", "PATH=/usr/bin:/bin"}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("etcdctl %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	ctl(ms[0].clientURL(), "put", "/hardway/e2e", "written-through-m0")
	if got := ctl(ms[2].clientURL(), "get", "/hardway/e2e", "--print-value-only"); strings.TrimSpace(got) != "written-through-m0" {
		t.Fatalf("etcdctl get via m2 = %q", got)
	}
	list := ctl(ms[1].clientURL(), "member", "list")
	for _, m := range ms {
		if !strings.Contains(list, m.peerURL()) {
			t.Errorf("member list lacks %s:\n%s", m.peerURL(), list)
		}
	}
	// Without a client certificate etcd refuses the client.
	cmd := exec.Command(etcdctl, "--endpoints="+ms[0].clientURL(), "--cacert="+filepath.Join(root, etcdCA), "--command-timeout=5s", "get", "/hardway/e2e")
	cmd.Env = []string{"ETCDCTL_API=3"}
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("etcdctl without a client certificate succeeded:\n%s", out)
	}
	units := []string{ms[0].unit(), ms[1].unit(), ms[2].unit()}
	if !slices.Equal(rep.Started, units) {
		t.Fatalf("started %v", rep.Started)
	}
}
