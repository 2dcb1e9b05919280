package inspect

import (
	"maps"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/hardway-dev/hardway/units/flags"
)

// The expected findings below were written from the cited upstream facts before the checks ran;
// each case fails on a missing finding and on any finding not listed (a false alarm).
//
// Sources:
//   - CIS Kubernetes Benchmark section 2 (etcd): 2.1 --cert-file and --key-file set, 2.2
//     --client-cert-auth=true, 2.3 --auto-tls not true, 2.4 --peer-cert-file and
//     --peer-key-file set, 2.5 --peer-client-cert-auth=true, 2.6 --peer-auto-tls not true.
//   - etcd server/embed/etcd.go (configureClientListeners): an https:// client URL without
//     --cert-file/--key-file (and without --auto-tls) is refused: "TLS key/cert (--cert-file,
//     --key-file) must be provided for client url ... with HTTPS scheme"; the peer listeners
//     likewise need --peer-cert-file/--peer-key-file (or --peer-auto-tls) for https://.
//   - k8s.io/kubernetes pkg/kubeapiserver/options/options.go: DefaultServiceIPCIDR = 10.0.0.0/24,
//     the apiserver's range without --service-cluster-ip-range; the kubernetes Service takes its
//     first IP (10.0.0.1), which the serving certificate must carry.
//   - k8s.io/kubernetes pkg/master/ports (pre-1.22): InsecureSchedulerPort 10251,
//     InsecureKubeControllerManagerPort 10252, served without authentication on --address,
//     default 0.0.0.0; --port=0 turns it off (kubeadm's manifests set it until 1.21). Issue 12
//     dates the end of insecure serving at 1.22; the catalogue (units/flags/data) dates the
//     deprecation of --port/--address at 1.12.
//   - kube-apiserver: --insecure-port accepts only 0 from 1.20 (kubernetes#95856), so nothing
//     serves the http:// a --master=http://... points at.
func TestFindingsFromUpstreamFacts(t *testing.T) {
	etcd := func(extra string) ruleCase { return lines("etcd --name=m0 --data-dir=/var/lib/etcd " + extra) }
	clientTLS := "--listen-client-urls=https://10.0.0.10:2379 --advertise-client-urls=https://10.0.0.10:2379"
	peerTLS := "--listen-peer-urls=https://10.0.0.10:2380 --initial-advertise-peer-urls=https://10.0.0.10:2380 --initial-cluster=m0=https://10.0.0.10:2380"
	clientCerts := "--cert-file=/pki/server.crt --key-file=/pki/server.key --client-cert-auth=true --trusted-ca-file=/pki/ca.crt"
	peerCerts := "--peer-cert-file=/pki/peer.crt --peer-key-file=/pki/peer.key --peer-client-cert-auth=true --peer-trusted-ca-file=/pki/ca.crt"
	noRange := func(kcmRange string) ruleCase {
		kcm := edit(cleanKCM, map[string]string{"service-cluster-ip-range": kcmRange})
		return func(t *testing.T) ([]*Invocation, Options) {
			invs, o := withCluster("kube-apiserver", edit(cleanAPI, map[string]string{"service-cluster-ip-range": ""}), nil)(t)
			for i, inv := range invs {
				if inv.Component == "kube-controller-manager" {
					invs[i] = command(t, kcm)
				}
			}
			return invs, o
		}
	}
	for _, tt := range []struct {
		name string
		in   ruleCase
		want map[string]int
	}{
		// etcd, judged on itself
		{"etcd plain http on the network (hard-way 2025 form), CIS 2.1/2.4", func(t *testing.T) ([]*Invocation, Options) {
			return loadFixture(t, "etcd-plain.service", fstest.MapFS{}), opts(nil)
		}, map[string]int{"etcd-client-plaintext": 1, "etcd-peer-plaintext": 1}},
		{"etcd all TLS, CIS 2.1-2.6 pass", etcd(clientTLS + " " + peerTLS + " " + clientCerts + " " + peerCerts), nil},
		{"etcd https clients without cert/key exits, CIS 2.1", etcd(clientTLS + " " + peerTLS + " " + peerCerts + " --client-cert-auth=true --trusted-ca-file=/pki/ca.crt"),
			map[string]int{"etcd-client-cert-missing": 1}},
		{"etcd --auto-tls instead of a cert, CIS 2.3", etcd(clientTLS + " " + peerTLS + " " + peerCerts + " --auto-tls=true --client-cert-auth=true --trusted-ca-file=/pki/ca.crt"),
			map[string]int{"etcd-auto-tls": 1}},
		{"etcd TLS without client-cert-auth, CIS 2.2", etcd(clientTLS + " " + peerTLS + " " + peerCerts + " --cert-file=/pki/server.crt --key-file=/pki/server.key"),
			map[string]int{"etcd-client-cert-auth-off": 1}},
		{"etcd https peers without peer cert/key exits, CIS 2.4", etcd(clientTLS + " " + peerTLS + " " + clientCerts + " --peer-client-cert-auth=true --peer-trusted-ca-file=/pki/ca.crt"),
			map[string]int{"etcd-peer-cert-missing": 1}},
		{"etcd peers without peer-client-cert-auth, CIS 2.5", etcd(clientTLS + " " + peerTLS + " " + clientCerts + " --peer-cert-file=/pki/peer.crt --peer-key-file=/pki/peer.key"),
			map[string]int{"etcd-peer-cert-auth-off": 1}},
		{"etcd --peer-auto-tls, CIS 2.6", etcd(clientTLS + " " + peerTLS + " " + clientCerts + " --peer-auto-tls=true --peer-client-cert-auth=true --peer-trusted-ca-file=/pki/ca.crt"),
			map[string]int{"etcd-auto-tls": 1}},
		{"etcd single member on loopback http (default URLs)", etcd(""), nil},
		// CIS 2.7: a CA of etcd's own. Trusting the cluster CA also rejects the apiserver's etcd
		// client certificate, issued by the etcd CA (cross-client-ca): two facts.
		{"etcd trusts the cluster CA file, CIS 2.7", withCluster("etcd", edit(cleanEtcd, map[string]string{"trusted-ca-file": "/etc/kubernetes/pki/ca.crt"}), nil),
			map[string]int{"cross-etcd-ca-shared": 1, "cross-client-ca": 1}},
		{"etcd trusts a copy of the cluster CA, CIS 2.7", withCluster("etcd", edit(cleanEtcd, map[string]string{"trusted-ca-file": "/etc/etcd/ca.pem"}), func(p *testPKI) {
			put(p.fs, "/etc/etcd/ca.pem", p.fs["etc/kubernetes/pki/ca.crt"].Data, 0o644)
		}), map[string]int{"cross-etcd-ca-shared": 1, "cross-client-ca": 1}},
		// the apiserver's default service range
		{"apiserver default range vs controller-manager 10.96.0.0/12 and a cert made for 10.96.0.1", noRange("10.96.0.0/12"),
			map[string]int{"cross-service-range": 1, "cert-service-ip-missing": 1}},
		{"apiserver default range, controller-manager without a range", noRange(""),
			map[string]int{"cert-service-ip-missing": 1}},
		// feature gates another component registers (flags.Gate.NotIn)
		{"kube-proxy 1.24 with ContextualLogging, which it registers only from 1.27", atVersion("1.24", lines(cleanKubeProxy+" --feature-gates=ContextualLogging=true")),
			map[string]int{"feature-gate-not-registered": 1}},
		{"kube-proxy 1.27 with ContextualLogging", atVersion("1.27", lines(cleanKubeProxy+" --feature-gates=ContextualLogging=true")), nil},
		{"kube-scheduler 1.24 with ContextualLogging", atVersion("1.24", lines(cleanScheduler+" --feature-gates=ContextualLogging=true")), nil},
		// insecure ports of old controller-managers and schedulers
		{"controller-manager 1.21 with defaults serves 10252 on 0.0.0.0", atVersion("1.21", lines(cleanKCM)), map[string]int{"insecure-port-open": 1}},
		{"scheduler 1.18 with defaults serves 10251 on 0.0.0.0", atVersion("1.18", lines(cleanScheduler)), map[string]int{"insecure-port-open": 1}},
		{"controller-manager 1.21 --port=0 (kubeadm form): only the deprecation", atVersion("1.21", lines(cleanKCM+" --port=0")), map[string]int{"flag-deprecated": 1}},
		{"controller-manager 1.21 --address=127.0.0.1: loopback only", atVersion("1.21", lines(cleanKCM+" --address=127.0.0.1")), map[string]int{"flag-deprecated": 1}},
		{"controller-manager 1.22: no insecure port", atVersion("1.22", lines(cleanKCM)), nil},
		// --port/--address: no effect from 1.22 (controller-manager) and 1.23 (scheduler), gone in
		// 1.24 ("This flag has no effect now and will be removed in v1.24.", v1.22.17/v1.23.17
		// options; no registration at v1.24.17), so a kubeadm 1.21 manifest's --port=0 stops both.
		{"controller-manager 1.22 --port=0: no effect", atVersion("1.22", lines(cleanKCM+" --port=0")), map[string]int{"flag-noop": 1}},
		{"controller-manager 1.24 --port=0: exits", atVersion("1.24", lines(cleanKCM+" --port=0")), map[string]int{"flag-removed": 1}},
		{"scheduler 1.22 --port=0: still the deprecated insecure port", atVersion("1.22", lines(cleanScheduler+" --port=0")), map[string]int{"flag-deprecated": 1}},
		{"scheduler 1.23 --port=0: no effect", atVersion("1.23", lines(cleanScheduler+" --port=0")), map[string]int{"flag-noop": 1}},
		{"scheduler 1.24 --address=127.0.0.1 --port=0: exits", atVersion("1.24", lines(cleanScheduler+" --address=127.0.0.1 --port=0")), map[string]int{"flag-removed": 2}},
		{"scheduler --master=http:// at 1.23: nothing serves it", atVersion("1.23", lines(cleanScheduler+" --master=http://127.0.0.1:8080")), map[string]int{"flag-deprecated": 0, "master-plain-http": 1}},
		{"scheduler --master=https://", lines(cleanScheduler + " --master=https://10.0.0.10:6443"), nil},
		// one voice: --insecure-port=8080 at 1.21 is a no-op flag whose only accepted value is 0
		{"apiserver 1.21 --insecure-port=8080: the exit, not 'no effect'", atVersion("1.21", lines(cleanAPI+" --insecure-port=8080")), map[string]int{"insecure-port-nonzero": 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			invs, o := tt.in(t)
			rep := Inspect(invs, o)
			got := ids(rep.All())
			want := map[string]int{}
			for id, n := range tt.want {
				if n > 0 {
					want[id] = n
				}
			}
			if !maps.Equal(got, want) {
				t.Errorf("got %v, want %v:\n%s", got, want, dump(rep))
			}
		})
	}
}

// cleanKubeProxy is a kube-proxy command line with no finding of its own.
const cleanKubeProxy = "kube-proxy --config=/var/lib/kube-proxy/config.yaml"

func TestSuppression(t *testing.T) {
	const reason = "metrics are scraped from the LAN"
	unit := func(text string, files ...File) *Invocation {
		t.Helper()
		u, err := LoadUnit("s.service", File{Name: "s.service", Data: []byte(text)}, files, fstest.MapFS{})
		if err != nil {
			t.Fatal(err)
		}
		inv, err := FromUnitFile(flags.Default(), u)
		if err != nil {
			t.Fatal(err)
		}
		return inv
	}
	exec := "ExecStart=/usr/local/bin/kube-scheduler --profiling=false\n"
	for _, tt := range []struct {
		name           string
		inv            func() *Invocation
		ignore         map[string]string
		kept, suppress map[string]int
		by             string // the suppression's origin
	}{
		{"comment in the unit", func() *Invocation {
			return unit("[Service]\n# hardway-inspect: ignore bind-address-exposed " + reason + "\n" + exec)
		}, nil, map[string]int{}, map[string]int{"bind-address-exposed": 1}, "s.service:2"},
		{"';' comment", func() *Invocation {
			return unit("[Service]\n; hardway-inspect: ignore bind-address-exposed " + reason + "\n" + exec)
		}, nil, map[string]int{}, map[string]int{"bind-address-exposed": 1}, "s.service:2"},
		{"comment in a drop-in", func() *Invocation {
			return unit("[Service]\n"+exec, File{Name: "s.service.d/10-ok.conf", Data: []byte("# hardway-inspect: ignore bind-address-exposed " + reason + "\n")})
		}, nil, map[string]int{}, map[string]int{"bind-address-exposed": 1}, "s.service.d/10-ok.conf:1"},
		{"no reason: suppresses nothing and says so", func() *Invocation {
			return unit("[Service]\n# hardway-inspect: ignore bind-address-exposed\n" + exec)
		}, nil, map[string]int{"bind-address-exposed": 1, "suppression-invalid": 1}, map[string]int{}, ""},
		{"unknown rule", func() *Invocation {
			return unit("[Service]\n# hardway-inspect: ignore bind-address-exposd " + reason + "\n" + exec)
		}, nil, map[string]int{"bind-address-exposed": 1, "suppression-invalid": 1}, map[string]int{}, ""},
		{"a marker inside a value is no comment", func() *Invocation {
			return unit("[Service]\nEnvironment=X=a#hardway-inspect:ignore\n" + exec)
		}, nil, map[string]int{"bind-address-exposed": 1}, map[string]int{}, ""},
		{"--ignore", func() *Invocation { return unit("[Service]\n" + exec) },
			map[string]string{"bind-address-exposed": reason}, map[string]int{}, map[string]int{"bind-address-exposed": 1}, ""},
		{"manifest, comment after a value", func() *Invocation {
			invs, err := ParseManifest(flags.Default(), File{Name: "m.yaml", Data: []byte("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: s\n    command:\n    - kube-scheduler\n    - --profiling=false # hardway-inspect: ignore bind-address-exposed " + reason + "\n")})
			if err != nil {
				t.Fatal(err)
			}
			return invs[0]
		}, nil, map[string]int{}, map[string]int{"bind-address-exposed": 1}, "m.yaml:8"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := opts(nil)
			o.Ignore = tt.ignore
			rep := Inspect([]*Invocation{tt.inv()}, o)
			if got := ids(rep.All()); !maps.Equal(got, tt.kept) {
				t.Errorf("kept %v, want %v", got, tt.kept)
			}
			sup := rep.Suppressed()
			if got := ids(sup); !maps.Equal(got, tt.suppress) {
				t.Errorf("suppressed %v, want %v", got, tt.suppress)
			}
			for _, f := range sup {
				if f.SuppressedBy == nil || f.SuppressedBy.Reason != reason || (tt.by != "" && (f.SuppressedBy.Origin == nil || f.SuppressedBy.Origin.String() != tt.by)) {
					t.Errorf("suppressed by %+v, want reason %q at %q", f.SuppressedBy, reason, tt.by)
				}
			}
			if rep.Count(Info) != len(rep.All()) {
				t.Errorf("Count counts suppressed findings")
			}
		})
	}
}

// Cross-component findings are suppressed by --ignore and by a comment in the file they point at.
func TestSuppressionAcrossComponents(t *testing.T) {
	kcm := edit(cleanKCM, map[string]string{"service-cluster-ip-range": "10.32.0.0/24"})
	api := command(t, cleanAPI)
	u, err := LoadUnit("kcm.service", File{Name: "kcm.service", Data: []byte("[Service]\n# hardway-inspect: ignore cross-service-range migrating the range\nExecStart=/usr/local/bin/" + kcm + "\n")}, nil, fstest.MapFS{})
	if err != nil {
		t.Fatal(err)
	}
	ctl, err := FromUnitFile(flags.Default(), u)
	if err != nil {
		t.Fatal(err)
	}
	rep := Inspect([]*Invocation{api, ctl}, opts(nil))
	if len(rep.Cross) != 0 || len(rep.CrossSuppressed) != 1 || !strings.Contains(rep.CrossSuppressed[0].SuppressedBy.Reason, "migrating") {
		t.Errorf("cross %v, suppressed %v", ids(rep.Cross), ids(rep.CrossSuppressed))
	}
}

// Messages about unset variables say what systemd does (systemd.service(5), "Command lines"):
// $NAME alone becomes no argument, ${NAME} an empty string inside its word. And --port=0 on an
// old controller-manager is never advised away.
func TestMessagesSayWhatHappens(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   ruleCase
		id   string
		want string
	}{
		{"lone $VAR", unitText("[Service]\nExecStart=/usr/bin/etcd --name $NAME\n"), "unit-unresolved-variable", "systemd passes no argument in its place"},
		{"${VAR} in a word", unitText("[Service]\nExecStart=/usr/bin/etcd --name=${NAME}\n"), "unit-unresolved-variable", `is passed as "--name="`},
		{"--port=0 before 1.22", atVersion("1.21", lines(cleanKCM+" --port=0")), "flag-deprecated", "Keep --port=0 while the target is before 1.22"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			invs, o := tt.in(t)
			rep := Inspect(invs, o)
			for _, f := range rep.All() {
				if f.ID == tt.id && strings.Contains(f.Message+" "+f.Fix, tt.want) {
					return
				}
			}
			t.Errorf("no %s saying %q:\n%s", tt.id, tt.want, dump(rep))
		})
	}
}
