package netns

import (
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"
)

func TestFreeSubnet(t *testing.T) {
	pfx := func(s string) netip.Prefix { return netip.MustParsePrefix(s) }
	for _, c := range []struct {
		name   string
		used   []netip.Prefix
		random int64
		want   string
	}{
		{"first", nil, 0, "10.200.0.0/24"},
		{"random start", nil, 258, "10.201.2.0/24"},
		{"skips a used /24", []netip.Prefix{pfx("10.200.0.0/24")}, 0, "10.200.1.0/24"},
		{"skips a wider route", []netip.Prefix{pfx("10.200.0.0/16")}, 0, "10.201.0.0/24"},
		{"wraps around", []netip.Prefix{pfx("10.207.255.0/24")}, 8<<8 - 1, "10.200.0.0/24"},
		{"ignores other nets", []netip.Prefix{pfx("192.0.2.0/24"), pfx("fd00::/64")}, 0, "10.200.0.0/24"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := freeSubnet(c.used, func(int64) int64 { return c.random })
			if err != nil || got.String() != c.want {
				t.Errorf("freeSubnet = %s, %v; want %s", got, err, c.want)
			}
		})
	}
	if _, err := freeSubnet([]netip.Prefix{pfx("10.0.0.0/8")}, func(int64) int64 { return 0 }); err == nil || !strings.Contains(err.Error(), "NewOn") {
		t.Errorf("all taken: %v, want an error that says how to choose one", err)
	}
}

// Two hosts reach each other through the switch with their sysctls set, and nothing of the
// network is left once the test ends.
func TestNetwork(t *testing.T) {
	var names []string
	t.Run("up", func(t *testing.T) {
		nw := New(t, 2)
		h1, h2 := nw.Hosts[0], nw.Hosts[1]
		names = []string{nw.Switch.Name, h1.Name, h2.Name}
		if h1.IP() == h2.IP() || !nw.Subnet.Contains(h1.IP()) || !nw.Subnet.Contains(h2.IP()) {
			t.Fatalf("addresses %s, %s on %s", h1.Addr, h2.Addr, nw.Subnet)
		}
		if out := h1.Run(t, "ip", "-br", "addr", "show", "eth0"); !strings.Contains(out, h1.Addr.String()) {
			t.Errorf("eth0 of %s: %s", h1.Name, out)
		}
		// h1 reaches a listener in h2 over the bridge; the host cannot.
		var l net.Listener
		if err := h2.Do(func() (err error) { l, err = net.Listen("tcp", net.JoinHostPort(h2.IP().String(), "0")); return err }); err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		go func() {
			if c, err := l.Accept(); err == nil {
				c.Write([]byte("hello from h2"))
				c.Close()
			}
		}()
		if c, err := net.DialTimeout("tcp", l.Addr().String(), 2*time.Second); err == nil { // unreachable: fails at once or times out
			c.Close()
			t.Errorf("the host reached %s inside the test network", l.Addr())
		}
		var got []byte
		if err := h1.Do(func() error {
			c, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				return err
			}
			defer c.Close()
			got, err = io.ReadAll(c)
			return err
		}); err != nil || string(got) != "hello from h2" {
			t.Errorf("h1 -> %s: %q, %v", l.Addr(), got, err)
		}
		if out := h1.Run(t, "sysctl", "-n", "net.ipv4.ip_forward"); strings.TrimSpace(out) != "1" {
			t.Errorf("ip_forward in %s: %q", h1.Name, out)
		}
		if _, err := os.Stat("/proc/sys/net/bridge"); err == nil {
			if out := h2.Run(t, "sysctl", "-n", "net.bridge.bridge-nf-call-iptables"); strings.TrimSpace(out) != "1" {
				t.Errorf("bridge-nf-call-iptables in %s: %q", h2.Name, out)
			}
		}
	})
	for _, n := range names {
		if _, err := os.Stat("/run/netns/" + n); !os.IsNotExist(err) {
			t.Errorf("netns %s left behind: %v", n, err)
		}
	}
}
