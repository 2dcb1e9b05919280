package systemd

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hardway-dev/hardway/units/bundle"
)

// fakeManager records calls; units it starts become active unless listed in fail.
type fakeManager struct {
	mu     sync.Mutex
	states map[string]UnitState
	fail   map[string]bool
	calls  []string
}

func newFake() *fakeManager {
	return &fakeManager{states: map[string]UnitState{}, fail: map[string]bool{}}
}

func (f *fakeManager) record(c string) { f.mu.Lock(); f.calls = append(f.calls, c); f.mu.Unlock() }

func (f *fakeManager) Reload(context.Context) error { f.record("reload"); return nil }
func (f *fakeManager) Enable(_ context.Context, us []string) (bool, error) {
	f.record("enable " + strings.Join(us, ","))
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range us {
		st := f.states[u]
		st.UnitFileState = "enabled"
		f.states[u] = st
	}
	return true, nil
}
func (f *fakeManager) run(u, verb string) error {
	f.record(verb + " " + u)
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.states[u]
	st.Name, st.LoadState = u, "loaded"
	if f.fail[u] {
		st.ActiveState, st.SubState, st.Result = "failed", "failed", "exit-code"
		f.states[u] = st
		return errors.New("job ended \"failed\"")
	}
	st.ActiveState, st.SubState, st.Result = "active", "running", "success"
	f.states[u] = st
	return nil
}
func (f *fakeManager) Start(_ context.Context, u string) error   { return f.run(u, "start") }
func (f *fakeManager) Restart(_ context.Context, u string) error { return f.run(u, "restart") }
func (f *fakeManager) State(_ context.Context, u string) (UnitState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.states[u]
	st.Name = u
	if st.LoadState == "" {
		st.LoadState, st.ActiveState, st.SubState = "loaded", "inactive", "dead"
	}
	return st, nil
}

func controlPlane() *bundle.Bundle {
	b := &bundle.Bundle{Node: "cp"}
	for _, u := range []string{"kubelet.service", "kube-scheduler.service", "kube-apiserver.service", "etcd.service", "kube-controller-manager.service", "kube-proxy.service"} {
		b.Files = append(b.Files, bundle.File{Path: bundle.SystemdDir + "/" + u, Kind: bundle.KindUnit, Data: []byte("[Service]\n"), Mode: 0o600})
		b.Units = append(b.Units, bundle.Unit{Name: u})
	}
	b.Files = append(b.Files, bundle.File{Path: "/etc/kubernetes/pki/apiserver.crt", Kind: bundle.KindCertificate, Data: []byte("v1"), Mode: 0o644})
	b.Units[2].Inputs = []string{"/etc/kubernetes/pki/apiserver.crt"}
	return b
}

func TestTiersFollowDependencyOrder(t *testing.T) {
	ts, err := tiers(controlPlane().Units)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, tier := range ts {
		var names []string
		for _, u := range tier {
			names = append(names, u.Name)
		}
		got = append(got, names)
	}
	want := [][]string{{"etcd.service"}, {"kube-apiserver.service"}, {"kube-controller-manager.service", "kube-scheduler.service"}, {"kube-proxy.service", "kubelet.service"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("tiers = %v, want %v", got, want)
	}
	// After overrides the rank; a cycle is refused.
	us := []bundle.Unit{{Name: "a.service", After: []string{"kubelet.service"}}, {Name: "kubelet.service"}}
	if ts, _ := tiers(us); ts[len(ts)-1][0].Name != "a.service" {
		t.Fatalf("after ignored: %v", ts)
	}
	us = []bundle.Unit{{Name: "a.service", After: []string{"b.service"}}, {Name: "b.service", After: []string{"a.service"}}}
	if _, err := tiers(us); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Fatalf("cycle: %v", err)
	}
}

func TestLaunchOrderAndIdempotence(t *testing.T) {
	root := t.TempDir()
	f := newFake()
	l := &Launcher{Manager: f, Root: root, Timeout: 10 * time.Second, Interval: time.Millisecond}
	b := controlPlane()
	if _, err := l.Launch(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	var starts []string
	for _, c := range f.calls {
		if strings.HasPrefix(c, "start ") {
			starts = append(starts, strings.TrimPrefix(c, "start "))
		}
	}
	pos := func(u string) int { return slices.Index(starts, u) }
	if !(pos("etcd.service") < pos("kube-apiserver.service") && pos("kube-apiserver.service") < pos("kube-scheduler.service") &&
		pos("kube-controller-manager.service") < pos("kubelet.service") && pos("kube-scheduler.service") < pos("kube-proxy.service")) {
		t.Fatalf("start order %v", starts)
	}
	if f.calls[0] != "reload" {
		t.Fatalf("first call %q, want reload", f.calls[0])
	}

	f.calls = nil
	rep, err := l.Launch(context.Background(), b)
	if err != nil || rep.Changed() || len(f.calls) != 0 {
		t.Fatalf("second launch: %+v, calls %v, %v", rep, f.calls, err)
	}

	b.Files[len(b.Files)-1].Data = []byte("v2") // the apiserver's certificate
	f.calls = nil
	rep, err = l.Launch(context.Background(), b)
	if err != nil || !slices.Equal(f.calls, []string{"restart kube-apiserver.service"}) || !slices.Equal(rep.Restarted, []string{"kube-apiserver.service"}) {
		t.Fatalf("after a certificate change: %+v, calls %v, %v", rep, f.calls, err)
	}
}

// A unit that fails is reported with its state and journal, and later tiers are not started.
func TestLaunchReportsFailure(t *testing.T) {
	f := newFake()
	f.fail["kube-apiserver.service"] = true
	l := &Launcher{Manager: f, Root: t.TempDir(), Timeout: 10 * time.Second, Interval: time.Millisecond,
		Journal: func(_ context.Context, unit string, n int) ([]string, error) {
			return []string{unit + ": Error: unknown flag: --insecure-port"}, nil
		}}
	_, err := l.Launch(context.Background(), controlPlane())
	var ue *UnitError
	if !errors.As(err, &ue) || ue.Unit != "kube-apiserver.service" {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"ActiveState=failed", "SubState=failed", "Result=exit-code", "unknown flag: --insecure-port"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if slices.Contains(f.calls, "start kubelet.service") {
		t.Fatal("kubelet started after the API server failed")
	}
}

// A dry run writes nothing and says what it would do.
func TestDryRunWritesNothing(t *testing.T) {
	root := t.TempDir()
	b := bundle.New("n", []bundle.File{{Path: "/etc/systemd/system/etcd.service", Kind: bundle.KindUnit, Data: []byte("[Service]\n"), Mode: 0o600}},
		[]bundle.Unit{{Name: "etcd.service"}})
	rep, err := (&Launcher{Root: root, DryRun: true}).Launch(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(root); len(ents) != 0 {
		t.Fatalf("dry run wrote %v", ents)
	}
	var out bytes.Buffer
	rep.Describe(&out)
	if !strings.Contains(out.String(), "would create  /etc/systemd/system/etcd.service (0600)") || !strings.Contains(out.String(), "would daemon-reload") {
		t.Fatalf("dry run report:\n%s", out.String())
	}
}

// Cancelling the launch's context (SIGTERM and SIGINT do, in `hardway launch`) stops it while it
// waits for a unit that never becomes healthy, long before the tier's timeout.
func TestLaunchStopsWhenCancelled(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing answers there: the probe fails until the end of time
	b := bundle.New("n", []bundle.File{{Path: bundle.SystemdDir + "/x.service", Kind: bundle.KindUnit, Mode: 0o600, Data: []byte("[Service]\n")}},
		[]bundle.Unit{{Name: "x.service", Health: &bundle.Health{Kind: bundle.HealthKubelet, URL: "http://" + addr + "/healthz"}}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := (&Launcher{Manager: newFake(), Root: t.TempDir(), Timeout: time.Hour, Interval: 10 * time.Millisecond}).Launch(ctx, b)
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("launch ended with %v, want context.Canceled", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("launch still running a minute after its context was cancelled")
	}
}
