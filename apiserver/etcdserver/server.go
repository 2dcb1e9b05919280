package etcdserver

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/hardway-dev/hardway/internal/atomicfile"
	"github.com/hardway-dev/hardway/internal/problem"
)

// Options are what the caller passes in beyond the member's flags.
type Options struct {
	// Log receives etcd's structured log (JSON lines); nil discards it.
	Log io.Writer
}

// Member is one running etcd member.
type Member struct {
	cfg Config
	e   *embed.Etcd
}

// Start validates cfg, checks that its TLS files are readable, creates the data directory 0700
// and starts the member. The member serves once ReadyNotify is closed, which needs a quorum of
// the initial cluster to be up: start every member before waiting on any.
func Start(cfg Config, opts Options) (*Member, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var missing problem.List
	for _, f := range []struct{ flag, path string }{
		{"cert-file", cfg.Client.CertFile}, {"key-file", cfg.Client.KeyFile}, {"trusted-ca-file", cfg.Client.TrustedCAFile},
		{"peer-cert-file", cfg.Peer.CertFile}, {"peer-key-file", cfg.Peer.KeyFile}, {"peer-trusted-ca-file", cfg.Peer.TrustedCAFile},
	} {
		if _, err := os.ReadFile(f.path); err != nil {
			missing = append(missing, problem.Errorf("--"+f.flag, "install the file (hardway launch does) or correct the path", "%v", err))
		}
	}
	if err := configError(missing); err != nil {
		return nil, err
	}
	if err := atomicfile.MkdirAll(cfg.DataDir, atomicfile.ModeDirPriv); err != nil {
		return nil, fmt.Errorf("--data-dir: %w", err)
	}
	ec, err := cfg.embedConfig(opts)
	if err != nil {
		return nil, err
	}
	e, err := embed.StartEtcd(ec)
	if err != nil {
		return nil, fmt.Errorf("etcd member %q: %w", cfg.Name, err)
	}
	return &Member{cfg: cfg, e: e}, nil
}

// ReadyNotify is closed once the member has joined the cluster and serves clients.
func (m *Member) ReadyNotify() <-chan struct{} { return m.e.Server.ReadyNotify() }

// StopNotify is closed once the member's server has stopped, for whatever reason.
func (m *Member) StopNotify() <-chan struct{} { return m.e.Server.StopNotify() }

// Err delivers fatal errors of the client, peer and metrics servers.
func (m *Member) Err() <-chan error { return m.e.Err() }

// Close stops the member gracefully and releases its listeners and data directory.
func (m *Member) Close() { m.e.Close() }

// Name is the member's --name.
func (m *Member) Name() string { return m.cfg.Name }

// ClientURLs are the URLs the member listens on for clients, with the ports actually bound
// (useful when a listen URL asks for port 0).
func (m *Member) ClientURLs() []string {
	var out []string
	for _, l := range m.e.Clients {
		out = append(out, "https://"+l.Addr().String())
	}
	return out
}

// embedConfig translates c to etcd's embed.Config. c must be valid.
func (c *Config) embedConfig(opts Options) (*embed.Config, error) {
	ec := embed.NewConfig()
	ec.Name = c.Name
	ec.Dir = c.DataDir
	var err error
	parse := func(flag string, ss []string) []url.URL {
		us, perr := parseURLs(ss)
		if perr != nil && err == nil {
			err = fmt.Errorf("--%s: %w", flag, perr)
		}
		return us
	}
	ec.ListenClientUrls = parse("listen-client-urls", c.ListenClientURLs)
	ec.AdvertiseClientUrls = parse("advertise-client-urls", c.AdvertiseClientURLs)
	ec.ListenPeerUrls = parse("listen-peer-urls", c.ListenPeerURLs)
	ec.AdvertisePeerUrls = parse("initial-advertise-peer-urls", c.InitialAdvertisePeerURLs)
	ec.ListenMetricsUrls = parse("listen-metrics-urls", c.ListenMetricsURLs)
	if err != nil {
		return nil, err
	}
	ec.InitialCluster = c.InitialCluster
	ec.ClusterState = c.InitialClusterState
	ec.InitialClusterToken = c.InitialClusterToken
	ec.ClientTLSInfo = transport.TLSInfo{
		CertFile:       c.Client.CertFile,
		KeyFile:        c.Client.KeyFile,
		TrustedCAFile:  c.Client.TrustedCAFile,
		ClientCertAuth: true,
	}
	ec.PeerTLSInfo = transport.TLSInfo{
		CertFile:       c.Peer.CertFile,
		KeyFile:        c.Peer.KeyFile,
		TrustedCAFile:  c.Peer.TrustedCAFile,
		ClientCertAuth: true,
	}
	ec.LogLevel = c.LogLevel
	ec.Logger = "zap"
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(newLogger(opts.Log, c.LogLevel))
	if err := ec.Validate(); err != nil {
		return nil, fmt.Errorf("etcd member %q: %w", c.Name, err)
	}
	return ec, nil
}

func parseURLs(ss []string) ([]url.URL, error) {
	var out []url.URL
	for _, s := range ss {
		u, err := url.Parse(s)
		if err != nil {
			return nil, err
		}
		out = append(out, *u)
	}
	return out, nil
}

func newLogger(w io.Writer, level string) *zap.Logger {
	if w == nil {
		return zap.NewNop()
	}
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		lvl = zapcore.InfoLevel
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.RFC3339NanoTimeEncoder
	return zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.AddSync(w), lvl))
}

// dataDirMode reports the permission bits of dir, for tests.
func dataDirMode(dir string) (fs.FileMode, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return 0, err
	}
	if !fi.IsDir() {
		return 0, errors.New("not a directory")
	}
	return fi.Mode().Perm(), nil
}
