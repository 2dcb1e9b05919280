package etcdserver

import (
	"errors"
	"flag"
	"strings"
	"testing"

	"go.etcd.io/etcd/server/v3/embed"

	"github.com/hardway-dev/hardway/internal/problem"
)

// Every flag we take is one of etcd's own, so a unit written for the etcd binary runs
// `hardway etcd` unchanged.
func TestFlagsAreEtcdFlags(t *testing.T) {
	etcdFlags := etcdFlagSet()
	seen := map[string]bool{}
	for _, f := range Flags {
		if etcdFlags.Lookup(f.Name) == nil {
			t.Errorf("--%s is not an etcd flag", f.Name)
		}
		if seen[f.Name] {
			t.Errorf("--%s is listed twice", f.Name)
		}
		seen[f.Name] = true
		if f.Usage == "" {
			t.Errorf("--%s has no help text", f.Name)
		}
	}
	// and each binds its own field: setting it changes the config.
	for _, f := range Flags {
		c := NewConfig()
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		c.AddFlags(fs)
		before := c
		val := "https://127.0.0.1:1"
		if _, ok := f.value(&c).(boolValue); ok {
			val = "true"
		}
		if err := fs.Set(f.Name, val); err != nil {
			t.Fatalf("--%s: %v", f.Name, err)
		}
		if equalConfig(before, c) {
			t.Errorf("--%s does not change the config", f.Name)
		}
	}
}

// etcdFlagSet is etcd's own command line: embed's flags plus the one etcdmain adds that we use
// (--initial-cluster-state, default "new"; etcdmain.newConfig is not exported).
func etcdFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("etcd", flag.ContinueOnError)
	embed.NewConfig().AddFlags(fs)
	fs.String("initial-cluster-state", embed.ClusterStateFlagNew, "")
	return fs
}

func equalConfig(a, b Config) bool {
	return strings.Join(a.ListenClientURLs, ",") == strings.Join(b.ListenClientURLs, ",") &&
		strings.Join(a.AdvertiseClientURLs, ",") == strings.Join(b.AdvertiseClientURLs, ",") &&
		strings.Join(a.ListenPeerURLs, ",") == strings.Join(b.ListenPeerURLs, ",") &&
		strings.Join(a.InitialAdvertisePeerURLs, ",") == strings.Join(b.InitialAdvertisePeerURLs, ",") &&
		strings.Join(a.ListenMetricsURLs, ",") == strings.Join(b.ListenMetricsURLs, ",") &&
		a.Name == b.Name && a.DataDir == b.DataDir && a.InitialCluster == b.InitialCluster &&
		a.InitialClusterState == b.InitialClusterState && a.InitialClusterToken == b.InitialClusterToken &&
		a.Client == b.Client && a.Peer == b.Peer && a.LogLevel == b.LogLevel
}

// The defaults of an empty command line are etcd's.
func TestDefaultsAreEtcds(t *testing.T) {
	etcdFlags := etcdFlagSet()
	c := NewConfig()
	ours := flag.NewFlagSet("ours", flag.ContinueOnError)
	c.AddFlags(ours)
	for _, name := range []string{"initial-cluster-state", "initial-cluster-token", "log-level", "client-cert-auth", "peer-client-cert-auth"} {
		if got, want := ours.Lookup(name).DefValue, etcdFlags.Lookup(name).DefValue; got != want {
			t.Errorf("--%s defaults to %q, etcd's default is %q", name, got, want)
		}
	}
}

func validConfig() Config {
	c := NewConfig()
	c.Name = "a"
	c.DataDir = "/var/lib/etcd"
	c.ListenClientURLs = []string{"https://127.0.0.1:2379"}
	c.AdvertiseClientURLs = []string{"https://127.0.0.1:2379"}
	c.ListenPeerURLs = []string{"https://127.0.0.1:2380"}
	c.InitialAdvertisePeerURLs = []string{"https://127.0.0.1:2380"}
	c.InitialCluster = "a=https://127.0.0.1:2380,b=https://127.0.0.2:2380"
	c.Client = TLS{"s.crt", "s.key", "ca.crt", true}
	c.Peer = TLS{"p.crt", "p.key", "ca.crt", true}
	return c
}

func TestValidateAccepts(t *testing.T) {
	c := validConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func problems(t *testing.T, c Config) map[string]string {
	t.Helper()
	err := c.Validate()
	var ce *problem.ListError
	if !errors.As(err, &ce) {
		t.Fatalf("Validate() = %v, want a *problem.ListError", err)
	}
	out := map[string]string{}
	for _, p := range ce.Problems {
		out[strings.TrimPrefix(p.Where, "--")] += p.String() + "\n"
	}
	return out
}

// An empty command line lists every required flag at once.
func TestValidateListsEveryProblem(t *testing.T) {
	ps := problems(t, NewConfig())
	for _, f := range []string{"name", "data-dir", "listen-client-urls", "advertise-client-urls", "listen-peer-urls",
		"initial-advertise-peer-urls", "initial-cluster", "cert-file", "key-file", "trusted-ca-file", "client-cert-auth",
		"peer-cert-file", "peer-key-file", "peer-trusted-ca-file", "peer-client-cert-auth"} {
		if ps[f] == "" {
			t.Errorf("no problem reported for --%s", f)
		}
	}
}

func TestValidateRefusesPlainHTTP(t *testing.T) {
	for _, tc := range []struct {
		flag string
		set  func(*Config)
		fix  string
	}{
		{"listen-client-urls", func(c *Config) { c.ListenClientURLs = []string{"http://127.0.0.1:2379"} }, "use https://127.0.0.1:2379 together with --cert-file"},
		{"advertise-client-urls", func(c *Config) { c.AdvertiseClientURLs = []string{"http://10.0.0.1:2379"} }, "use https://10.0.0.1:2379"},
		{"listen-peer-urls", func(c *Config) { c.ListenPeerURLs = []string{"http://0.0.0.0:2380"} }, "--peer-client-cert-auth"},
		{"initial-cluster", func(c *Config) { c.InitialCluster = "a=https://127.0.0.1:2380,b=http://127.0.0.2:2380" }, "use https://127.0.0.2:2380"},
		{"client-cert-auth", func(c *Config) { c.Client.CertAuth = false }, "add --client-cert-auth=true"},
		{"peer-client-cert-auth", func(c *Config) { c.Peer.CertAuth = false }, "add --peer-client-cert-auth=true"},
		{"initial-cluster", func(c *Config) { c.Name = "z" }, `does not list this member "z"`},
		{"initial-cluster-state", func(c *Config) { c.InitialClusterState = "joining" }, "neither"},
		{"listen-client-urls", func(c *Config) { c.ListenClientURLs = []string{"https://node1:2379"} }, "needs an IP address"},
	} {
		c := validConfig()
		tc.set(&c)
		ps := problems(t, c)
		if !strings.Contains(ps[tc.flag], tc.fix) {
			t.Errorf("--%s: got %q, want it to contain %q (all: %v)", tc.flag, ps[tc.flag], tc.fix, ps)
		}
		if !strings.HasPrefix(ps[tc.flag], "--"+tc.flag+": ") {
			t.Errorf("problem does not start with the flag: %q", ps[tc.flag])
		}
	}
}

func TestMetricsMayBeHTTP(t *testing.T) {
	c := validConfig()
	c.ListenMetricsURLs = []string{"http://127.0.0.1:2381"}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}
