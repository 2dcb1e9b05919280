package etcdserver

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/hardway-dev/hardway/internal/problem"
)

// Initial cluster states, as etcd's --initial-cluster-state takes them.
const (
	ClusterStateNew      = "new"
	ClusterStateExisting = "existing"
)

// Defaults of the flags that have one. They equal etcd's own defaults.
const (
	DefaultInitialClusterToken = "etcd-cluster"
	DefaultInitialClusterState = ClusterStateNew
	DefaultLogLevel            = "info"
)

// TLS is one side's (client or peer) TLS files. Mutual TLS cannot be turned off: Validate
// requires all three files and CertAuth.
type TLS struct {
	CertFile      string // the member's certificate, presented to clients (or peers)
	KeyFile       string // its private key
	TrustedCAFile string // the CA that client (or peer) certificates must chain to
	CertAuth      bool   // --client-cert-auth / --peer-client-cert-auth; must be true
}

// Config is one etcd member's configuration, field for flag with etcd's own flag names. The
// zero value is not valid; NewConfig returns one with etcd's defaults.
type Config struct {
	Name    string // --name
	DataDir string // --data-dir

	ListenClientURLs         []string // --listen-client-urls
	AdvertiseClientURLs      []string // --advertise-client-urls
	ListenPeerURLs           []string // --listen-peer-urls
	InitialAdvertisePeerURLs []string // --initial-advertise-peer-urls
	ListenMetricsURLs        []string // --listen-metrics-urls (http allowed: metrics carry no data)

	InitialCluster      string // --initial-cluster: name=https://host:port,...
	InitialClusterState string // --initial-cluster-state: new or existing
	InitialClusterToken string // --initial-cluster-token

	Client TLS // --cert-file, --key-file, --trusted-ca-file, --client-cert-auth
	Peer   TLS // --peer-cert-file, --peer-key-file, --peer-trusted-ca-file, --peer-client-cert-auth

	LogLevel string // --log-level: debug, info, warn, error
}

// NewConfig returns a Config with etcd's defaults for the flags that have one.
func NewConfig() Config {
	return Config{
		InitialClusterState: DefaultInitialClusterState,
		InitialClusterToken: DefaultInitialClusterToken,
		LogLevel:            DefaultLogLevel,
	}
}

// Flag is one command-line flag of Config: etcd's name for it and its help text.
type Flag struct {
	Name  string
	Usage string
	value func(*Config) flag.Value
}

// Flags is every flag Config takes, in etcd's names. A flag not in this table is refused.
var Flags = []Flag{
	{"name", "human-readable name of this member; must appear in --initial-cluster", str(func(c *Config) *string { return &c.Name })},
	{"data-dir", "path of the data directory (created 0700)", str(func(c *Config) *string { return &c.DataDir })},
	{"listen-client-urls", "comma-separated https URLs to serve clients on", list(func(c *Config) *[]string { return &c.ListenClientURLs })},
	{"advertise-client-urls", "comma-separated https client URLs to advertise to the cluster", list(func(c *Config) *[]string { return &c.AdvertiseClientURLs })},
	{"listen-peer-urls", "comma-separated https URLs to serve peers on", list(func(c *Config) *[]string { return &c.ListenPeerURLs })},
	{"initial-advertise-peer-urls", "comma-separated https peer URLs of this member, advertised to the cluster", list(func(c *Config) *[]string { return &c.InitialAdvertisePeerURLs })},
	{"listen-metrics-urls", "comma-separated URLs to serve /metrics and /health on (http allowed)", list(func(c *Config) *[]string { return &c.ListenMetricsURLs })},
	{"initial-cluster", "initial cluster configuration: name=https://host:port,...", str(func(c *Config) *string { return &c.InitialCluster })},
	{"initial-cluster-state", "initial cluster state: new or existing", str(func(c *Config) *string { return &c.InitialClusterState })},
	{"initial-cluster-token", "initial cluster token, unique per cluster", str(func(c *Config) *string { return &c.InitialClusterToken })},
	{"cert-file", "the member's client-facing TLS certificate", str(func(c *Config) *string { return &c.Client.CertFile })},
	{"key-file", "the member's client-facing TLS key", str(func(c *Config) *string { return &c.Client.KeyFile })},
	{"trusted-ca-file", "CA that client certificates must chain to", str(func(c *Config) *string { return &c.Client.TrustedCAFile })},
	{"client-cert-auth", "require client certificates (must be true)", boolean(func(c *Config) *bool { return &c.Client.CertAuth })},
	{"peer-cert-file", "the member's peer TLS certificate", str(func(c *Config) *string { return &c.Peer.CertFile })},
	{"peer-key-file", "the member's peer TLS key", str(func(c *Config) *string { return &c.Peer.KeyFile })},
	{"peer-trusted-ca-file", "CA that peer certificates must chain to", str(func(c *Config) *string { return &c.Peer.TrustedCAFile })},
	{"peer-client-cert-auth", "require peer certificates (must be true)", boolean(func(c *Config) *bool { return &c.Peer.CertAuth })},
	{"log-level", "log level: debug, info, warn, error", str(func(c *Config) *string { return &c.LogLevel })},
}

// AddFlags defines every flag of Flags on fs, bound to c, with c's current values as defaults.
func (c *Config) AddFlags(fs *flag.FlagSet) {
	for _, f := range Flags {
		fs.Var(f.value(c), f.Name, f.Usage)
	}
}

// Validate checks c and returns nil or an error wrapping a *problem.ListError that lists every
// problem, each at its flag ("--listen-client-urls"). It reads no file.
func (c *Config) Validate() error {
	var ps problem.List
	add := func(flag, msg, fix string) { ps = append(ps, problem.Errorf("--"+flag, fix, "%s", msg)) }

	if c.Name == "" {
		add("name", "is required", "give this member's name as it appears in --initial-cluster")
	}
	if c.DataDir == "" {
		add("data-dir", "is required", "give the member's data directory, e.g. --data-dir=/var/lib/etcd")
	}
	urls := []struct {
		flag     string
		v        []string
		side     string
		listen   bool
		required bool
	}{
		{"listen-client-urls", c.ListenClientURLs, "client", true, true},
		{"advertise-client-urls", c.AdvertiseClientURLs, "client", false, true},
		{"listen-peer-urls", c.ListenPeerURLs, "peer", true, true},
		{"initial-advertise-peer-urls", c.InitialAdvertisePeerURLs, "peer", false, true},
	}
	for _, u := range urls {
		if len(u.v) == 0 {
			add(u.flag, "is required", "give at least one https URL, e.g. --"+u.flag+"=https://10.0.0.1:"+defaultPort(u.side))
			continue
		}
		for _, s := range u.v {
			checkURL(add, u.flag, s, u.side, u.listen)
		}
	}
	for _, s := range c.ListenMetricsURLs {
		pu, err := url.Parse(s)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			add("listen-metrics-urls", fmt.Sprintf("%q is not an http(s)://host:port URL", s), "e.g. --listen-metrics-urls=http://127.0.0.1:2381")
		}
	}
	checkTLS(add, "", "client", c.Client)
	checkTLS(add, "peer-", "peer", c.Peer)

	switch c.InitialClusterState {
	case ClusterStateNew, ClusterStateExisting:
	default:
		add("initial-cluster-state", fmt.Sprintf("%q is neither %q nor %q", c.InitialClusterState, ClusterStateNew, ClusterStateExisting), "use new when bootstrapping the cluster, existing when joining one")
	}
	if c.InitialClusterToken == "" {
		add("initial-cluster-token", "is empty", "give a token unique to this cluster, or leave the flag out for "+DefaultInitialClusterToken)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		add("log-level", fmt.Sprintf("%q is not one of debug, info, warn, error", c.LogLevel), "")
	}
	c.checkInitialCluster(add)

	return configError(ps)
}

// configError is nil for no problems, else the member configuration's problems as one error.
func configError(ps problem.List) error {
	if err := ps.Err(); err != nil {
		return fmt.Errorf("etcd member configuration: %w", err)
	}
	return nil
}

func defaultPort(side string) string {
	if side == "peer" {
		return "2380"
	}
	return "2379"
}

func checkURL(add func(flag, msg, fix string), flag, s, side string, listen bool) {
	pu, err := url.Parse(s)
	if err != nil {
		add(flag, fmt.Sprintf("%q is not a URL: %v", s, err), "")
		return
	}
	switch pu.Scheme {
	case "https":
	case "http":
		fixed := *pu
		fixed.Scheme = "https"
		tlsFlags := "--cert-file, --key-file, --trusted-ca-file and --client-cert-auth"
		if side == "peer" {
			tlsFlags = "--peer-cert-file, --peer-key-file, --peer-trusted-ca-file and --peer-client-cert-auth"
		}
		add(flag, fmt.Sprintf("%q is plain http; hardway etcd serves %ss over mutual TLS only", s, side),
			fmt.Sprintf("use %s together with %s", fixed.String(), tlsFlags))
		return
	default:
		add(flag, fmt.Sprintf("%q: scheme %q is not supported", s, pu.Scheme), "use an https://host:port URL")
		return
	}
	host, port, err := net.SplitHostPort(pu.Host)
	if err != nil || port == "" {
		add(flag, fmt.Sprintf("%q has no port", s), "write it as https://host:"+defaultPort(side))
		return
	}
	if pu.Path != "" && pu.Path != "/" {
		add(flag, fmt.Sprintf("%q has a path", s), "etcd URLs are https://host:port only")
	}
	if listen && net.ParseIP(host) == nil && host != "localhost" {
		add(flag, fmt.Sprintf("%q: a listen URL needs an IP address, not the name %q", s, host), "use the address to bind, e.g. https://0.0.0.0:"+port)
	}
}

func checkTLS(add func(flag, msg, fix string), prefix, side string, t TLS) {
	files := []struct{ flag, v, what string }{
		{prefix + "cert-file", t.CertFile, "the certificate the member presents to " + side + "s"},
		{prefix + "key-file", t.KeyFile, "the key of that certificate"},
		{prefix + "trusted-ca-file", t.TrustedCAFile, "the CA " + side + " certificates must chain to"},
	}
	for _, f := range files {
		if f.v == "" {
			add(f.flag, "is required: hardway etcd serves "+side+"s over mutual TLS only", "give the path of "+f.what)
		}
	}
	authFlag := "client-cert-auth"
	if prefix != "" {
		authFlag = "peer-client-cert-auth"
	}
	if !t.CertAuth {
		add(authFlag, "is required: without it any "+side+" that reaches the port is served", "add --"+authFlag+"=true")
	}
}

// checkInitialCluster parses name=url,... and checks each URL is https and that this member is
// listed with exactly its advertised peer URLs.
func (c *Config) checkInitialCluster(add func(flag, msg, fix string)) {
	if c.InitialCluster == "" {
		add("initial-cluster", "is required", "list every member as name=https://host:2380, comma-separated, including this one")
		return
	}
	members := map[string][]string{}
	for _, entry := range strings.Split(c.InitialCluster, ",") {
		name, u, ok := strings.Cut(strings.TrimSpace(entry), "=")
		if !ok || name == "" || u == "" {
			add("initial-cluster", fmt.Sprintf("entry %q is not name=https://host:port", entry), "")
			continue
		}
		checkURL(add, "initial-cluster", u, "peer", false)
		members[name] = append(members[name], u)
	}
	if c.Name == "" {
		return
	}
	mine, ok := members[c.Name]
	if !ok {
		add("initial-cluster", fmt.Sprintf("does not list this member %q", c.Name), "add "+c.Name+"=<its --initial-advertise-peer-urls>")
		return
	}
	a, b := slices.Clone(mine), slices.Clone(c.InitialAdvertisePeerURLs)
	slices.Sort(a)
	slices.Sort(b)
	if len(b) > 0 && !slices.Equal(a, b) {
		add("initial-cluster", fmt.Sprintf("lists %s=%s but --initial-advertise-peer-urls is %s", c.Name, strings.Join(mine, ","), strings.Join(c.InitialAdvertisePeerURLs, ",")), "make the two agree")
	}
}

// flag.Value adapters.

type stringValue struct{ p *string }

func (v stringValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}
func (v stringValue) Set(s string) error { *v.p = s; return nil }

type listValue struct{ p *[]string }

func (v listValue) String() string {
	if v.p == nil {
		return ""
	}
	return strings.Join(*v.p, ",")
}
func (v listValue) Set(s string) error {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return errors.New("empty list")
	}
	*v.p = out
	return nil
}

type boolValue struct{ p *bool }

func (v boolValue) String() string {
	if v.p == nil || !*v.p {
		return "false"
	}
	return "true"
}
func (v boolValue) Set(s string) error {
	switch strings.ToLower(s) {
	case "true", "1", "t":
		*v.p = true
	case "false", "0", "f":
		*v.p = false
	default:
		return fmt.Errorf("%q is not true or false", s)
	}
	return nil
}
func (v boolValue) IsBoolFlag() bool { return true }

func str(f func(*Config) *string) func(*Config) flag.Value {
	return func(c *Config) flag.Value { return stringValue{f(c)} }
}
func list(f func(*Config) *[]string) func(*Config) flag.Value {
	return func(c *Config) flag.Value { return listValue{f(c)} }
}
func boolean(f func(*Config) *bool) func(*Config) flag.Value {
	return func(c *Config) flag.Value { return boolValue{f(c)} }
}
