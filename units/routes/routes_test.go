package routes

import (
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/hardway-dev/hardway/internal/e2e"
)

func TestParseRefusesWhatHardwayNeverWrites(t *testing.T) {
	good, err := Marshal("w1", []Route{{Node: "w2", Destination: "10.244.1.0/24", Via: "10.0.0.12"}})
	if err != nil {
		t.Fatal(err)
	}
	if f, err := Parse("good", good); err != nil || len(f.Routes) != 1 || f.Routes[0].Via != "10.0.0.12" {
		t.Fatalf("Parse(Marshal(...)) = %+v, %v", f, err)
	}
	for _, tc := range []struct{ name, data, want string }{
		{"unknown field", "apiVersion: hardway.dev/v1\nkind: PodRoutes\nroutes: []\nextra: 1\n", `unknown field "extra"`},
		{"another kind", "apiVersion: v1\nkind: ConfigMap\nroutes: []\n", "want hardway.dev/v1 PodRoutes"},
		{"bad range", "apiVersion: hardway.dev/v1\nkind: PodRoutes\nroutes: [{node: w2, destination: 10.244.1.1/24, via: 10.0.0.12}]\n", "routes[0] (node w2): destination"},
		{"IPv6 gateway", "apiVersion: hardway.dev/v1\nkind: PodRoutes\nroutes: [{node: w2, destination: 10.244.1.0/24, via: 'fe80::1'}]\n", `via "fe80::1" is not an IPv4 address`},
	} {
		if _, err := Parse("f.yaml", []byte(tc.data)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// Sync and Remove on a real kernel routing table, in a network namespace of the test's own: the
// listed routes are installed with hardway's protocol, a route the file no longer lists is
// deleted, a route hardway did not install is never touched.
func TestSyncInANetworkNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		e2e.Skip(t, "routes need root (CAP_NET_ADMIN) in a network namespace of the test's own")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread, in its own namespace, ends with the goroutine
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			t.Errorf("unshare: %v", err)
			return
		}
		syncInNamespace(t)
	}()
	<-done
}

func syncInNamespace(t *testing.T) {
	// A veth pair (this kernel may lack the dummy driver); its first end holds the
	// network the gateways are on.
	link := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "hw0"}, PeerName: "hw1"}
	if err := netlink.LinkAdd(link); err != nil {
		t.Errorf("veth link: %v", err)
		return
	}
	addr, _ := netlink.ParseAddr("10.9.0.1/24")
	if err := netlink.AddrAdd(link, addr); err != nil {
		t.Errorf("address: %v", err)
		return
	}
	if err := netlink.LinkSetUp(link); err != nil {
		t.Errorf("link up: %v", err)
		return
	}
	_, other, _ := net.ParseCIDR("10.250.0.0/24")
	if err := netlink.RouteAdd(&netlink.Route{Dst: other, Gw: net.ParseIP("10.9.0.9")}); err != nil {
		t.Errorf("a route of someone else: %v", err)
		return
	}
	f := &File{APIVersion: APIVersion, Kind: Kind, Routes: []Route{
		{Node: "w2", Destination: "10.244.1.0/24", Via: "10.9.0.2"},
		{Node: "w3", Destination: "10.244.2.0/24", Via: "10.9.0.3"},
	}}
	steps := []struct {
		name string
		do   func() ([]Change, error)
		want []string // hardway's routes afterwards
	}{
		{"first sync", func() ([]Change, error) { return Sync(f) }, []string{"10.244.1.0/24 via 10.9.0.2", "10.244.2.0/24 via 10.9.0.3"}},
		{"again", func() ([]Change, error) { return Sync(f) }, []string{"10.244.1.0/24 via 10.9.0.2", "10.244.2.0/24 via 10.9.0.3"}},
		{"w3 left, w2 moved", func() ([]Change, error) {
			return Sync(&File{APIVersion: APIVersion, Kind: Kind, Routes: []Route{{Node: "w2", Destination: "10.244.1.0/24", Via: "10.9.0.4"}}})
		}, []string{"10.244.1.0/24 via 10.9.0.4"}},
		{"remove", Remove, nil},
	}
	for _, s := range steps {
		changes, err := s.do()
		if err != nil {
			t.Errorf("%s: %v", s.name, err)
			return
		}
		t.Logf("%s: %v", s.name, changes)
		rs, err := list()
		if err != nil {
			t.Error(err)
			return
		}
		var got []string
		for _, r := range rs {
			got = append(got, describe(&r))
		}
		slices.Sort(got)
		if !slices.Equal(got, s.want) {
			t.Errorf("%s: hardway's routes %q, want %q", s.name, got, s.want)
		}
		if s.name == "again" && slices.ContainsFunc(changes, func(c Change) bool { return c.Action != "keep" }) {
			t.Errorf("a second sync changed routes: %v", changes)
		}
	}
	all, _ := netlink.RouteList(nil, netlink.FAMILY_V4)
	if !slices.ContainsFunc(all, func(r netlink.Route) bool { return r.Dst != nil && r.Dst.String() == "10.250.0.0/24" }) {
		t.Error("the route hardway did not install is gone")
	}
}
