// Package netns builds test networks out of Linux network namespaces, so that end-to-end tests
// can run several "nodes" on one machine, each with its own interfaces, addresses, routes,
// sysctls and iptables, none of them touching the host's network:
//
//	switch netns:  bridge "br0" (GATEWAY, .254), one veth "hN" per host
//	host N netns:  "eth0" (SUBNET.N/24), lo up, default route via the bridge's address,
//	               net.ipv4.ip_forward=1, net.bridge.bridge-nf-call-iptables=1
//
// Every interface is created inside the namespaces (`ip -n`), never in the host's, so the
// names cannot collide with the machine's or another test's; namespace names carry the test
// process's PID and a random suffix. The switch is not connected to the host: the hosts reach
// each other and nothing else. Everything is deleted when the test ends (deleting a namespace
// destroys its veths once no process is left in it).
//
// Programs enter a host with Command or Run, which wrap `nsenter --net=PATH` (never
// `ip netns exec`, which remounts /sys and hides the host's cgroup mounts); the test's own
// sockets with Do. A sandboxed systemd runs in one with sandboxtest.Options.NetNS = Host.Path.
//
// New skips the test (fails it under HARDWAY_E2E=1) when not root or ip/nsenter are missing.
package netns

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/hardway-dev/hardway/internal/e2e"
)

// Network is a switch (a bridge in its own namespace) and the hosts plugged into it.
type Network struct {
	// Subnet is the hosts' /24; host N (1-based) has address .N, the bridge .254.
	Subnet netip.Prefix
	// Gateway is the bridge's address, every host's default route.
	Gateway netip.Addr
	// Switch is the bridge's namespace.
	Switch *Namespace
	// Hosts are the host namespaces, Hosts[i] with address Subnet .i+1.
	Hosts []*Host
}

// Namespace is a named network namespace (/run/netns/NAME).
type Namespace struct {
	// Name is its name for `ip netns` and `ip -n`.
	Name string
	// Path is its file, for `nsenter --net=` and setns.
	Path string
}

// Host is a namespace with one interface, eth0, into the switch.
type Host struct {
	Namespace
	// Addr is eth0's address with the network's prefix length (10.x.y.N/24).
	Addr netip.Prefix
}

// IP is the host's address.
func (h *Host) IP() netip.Addr { return h.Addr.Addr() }

// Command returns a command that runs name in the namespace (`nsenter --net=PATH`); the rest of
// its view (mounts, /sys, cgroups) is the caller's.
func (n *Namespace) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("nsenter", append([]string{"--net=" + n.Path, "--", name}, args...)...)
}

// Run runs name in the namespace and fails the test with its output when it fails.
func (n *Namespace) Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := n.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("in netns %s: %s %s: %v\n%s", n.Name, name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Do runs f on an OS thread of its own inside the namespace, for sockets a test opens there
// itself: a listener or connection made in f stays in the namespace after f returns. The
// thread is not reused (it ends with f), so no other goroutine ever runs in the namespace.
func (n *Namespace) Do(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with this goroutine
		fd, err := unix.Open(n.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("netns %s: %w", n.Name, err)
			return
		}
		err = unix.Setns(fd, unix.CLONE_NEWNET)
		unix.Close(fd)
		if err != nil {
			errc <- fmt.Errorf("entering netns %s: %w", n.Name, err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

// New creates a network of hosts hosts (1 to 253) on a free /24 (see FreeSubnet) and deletes
// it when the test ends.
func New(t testing.TB, hosts int) *Network {
	t.Helper()
	require(t)
	subnet, err := FreeSubnet()
	if err != nil {
		t.Fatal(err)
	}
	return NewOn(t, subnet, hosts)
}

// NewOn is New on the caller's subnet, a /24.
func NewOn(t testing.TB, subnet netip.Prefix, hosts int) *Network {
	t.Helper()
	require(t)
	if !subnet.Addr().Is4() || subnet.Bits() != 24 || subnet.Masked() != subnet {
		t.Fatalf("netns: subnet %s: want an IPv4 /24 such as 10.201.7.0/24", subnet)
	}
	if hosts < 1 || hosts > 253 {
		t.Fatalf("netns: %d hosts: want 1 to 253 on a /24", hosts)
	}
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	prefix := "hw" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(suffix) + "-"
	base := subnet.Addr().As4()
	addr := func(last byte) netip.Addr { a := base; a[3] = last; return netip.AddrFrom4(a) }
	nw := &Network{Subnet: subnet, Gateway: addr(254)}

	nw.Switch = add(t, prefix+"sw")
	sw := nw.Switch.Name
	ip(t, "-n", sw, "link", "set", "lo", "up")
	ip(t, "-n", sw, "link", "add", "br0", "type", "bridge")
	ip(t, "-n", sw, "addr", "add", netip.PrefixFrom(nw.Gateway, 24).String(), "dev", "br0")
	ip(t, "-n", sw, "link", "set", "br0", "up")
	for i := 1; i <= hosts; i++ {
		h := &Host{Namespace: *add(t, prefix+"h"+strconv.Itoa(i)), Addr: netip.PrefixFrom(addr(byte(i)), 24)}
		veth := "h" + strconv.Itoa(i)
		ip(t, "-n", sw, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", h.Name)
		ip(t, "-n", sw, "link", "set", veth, "master", "br0")
		ip(t, "-n", sw, "link", "set", veth, "up")
		ip(t, "-n", h.Name, "link", "set", "lo", "up")
		ip(t, "-n", h.Name, "addr", "add", h.Addr.String(), "dev", "eth0")
		ip(t, "-n", h.Name, "link", "set", "eth0", "up")
		ip(t, "-n", h.Name, "route", "add", "default", "via", nw.Gateway.String())
		// Both are per network namespace (bridge-nf-call-* since Linux 5.3, with br_netfilter
		// loaded); kube-proxy and the CNI bridge plugin need them in the node's.
		h.Run(t, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
		if _, err := os.Stat("/proc/sys/net/bridge"); err == nil {
			h.Run(t, "sysctl", "-q", "-w", "net.bridge.bridge-nf-call-iptables=1")
		}
		nw.Hosts = append(nw.Hosts, h)
	}
	return nw
}

// add creates the namespace name and deletes it when the test ends.
func add(t testing.TB, name string) *Namespace {
	t.Helper()
	ip(t, "netns", "add", name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "delete", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns delete %s: %v\n%s", name, err, out)
		}
	})
	return &Namespace{Name: name, Path: "/run/netns/" + name}
}

func ip(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func require(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		e2e.Skip(t, "network namespaces need root")
	}
	for _, p := range []string{"ip", "nsenter", "sysctl"} {
		if _, err := exec.LookPath(p); err != nil {
			e2e.Skip(t, p+" is not installed (apt-get install iproute2 util-linux procps): test networks need it")
		}
	}
}

// FreeSubnet picks, at random, a /24 in 10.200.0.0/13 that overlaps none of the machine's
// interface addresses, so that a test network never shadows a route of the machine even if it
// is later connected to it.
func FreeSubnet() (netip.Prefix, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("listing the machine's addresses: %w", err)
	}
	var used []netip.Prefix
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			used = append(used, p.Masked())
		}
	}
	return freeSubnet(used, func(n int64) int64 {
		v, _ := rand.Int(rand.Reader, big.NewInt(n))
		return v.Int64()
	})
}

func freeSubnet(used []netip.Prefix, random func(int64) int64) (netip.Prefix, error) {
	const first, count = 200 << 8, 8 << 8 // 10.200.0.0/24 ... 10.207.255.0/24
	start := random(count)
	for i := range int64(count) {
		n := first + (start+i)%count
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(n >> 8), byte(n), 0}), 24)
		free := true
		for _, u := range used {
			if u.Overlaps(p) {
				free = false
				break
			}
		}
		if free {
			return p, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("no free /24 in 10.200.0.0/13 among the machine's addresses %v; pass one to NewOn", used)
}
