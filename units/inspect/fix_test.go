package inspect

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/hardway-dev/hardway/units/flags"
)

// Fix drops every flag the target binary refuses, derives new paths from the unit's own layout
// or says what to provide, and reports what remains wrong.
func TestFix(t *testing.T) {
	key := keyPEM2(t, newKey(t))
	pub := pubPEM(t, newKey(t))
	withFiles := func(files map[string][]byte) fstest.MapFS {
		m := fstest.MapFS{}
		for p, d := range files {
			put(m, p, d, 0o600)
		}
		return m
	}
	const api = "kube-apiserver --etcd-servers=https://127.0.0.1:2379 --service-account-issuer=https://k8s.example "
	tests := []struct {
		name    string
		target  string // 1.30 when empty
		line    string
		fsys    fstest.MapFS
		want    []string // words in the migrated command line
		notWant []string // words (or prefixes) that must be gone
		notes   []string // substrings of the change notes
		remain  []string // rule IDs still reported
		gone    []string // rule IDs no longer reported
	}{{
		name:    "removed flags, one whose replacement is set, one the catalogue lists from before its range",
		line:    "kubelet --container-runtime=remote --container-runtime-endpoint=unix:///run/containerd/containerd.sock --cadvisor-port=0 --network-plugin=cni",
		want:    []string{"--container-runtime-endpoint=unix:///run/containerd/containerd.sock"},
		notWant: []string{"--container-runtime=", "--cadvisor-port", "--network-plugin"},
		notes:   []string{"--container-runtime-endpoint is already set", "--cadvisor-port was removed in 1.12"},
		gone:    []string{"flag-removed", "flag-unknown"},
	}, {
		name:    "a removed flag whose replacement takes a different kind of value is dropped, not renamed",
		line:    "kubelet --container-runtime=remote",
		notWant: []string{"--container-runtime-endpoint=remote", "--container-runtime="},
		notes:   []string{"--container-runtime was removed in 1.27: Delete; set --container-runtime-endpoint"},
		gone:    []string{"flag-removed"},
	}, {
		name:    "a flag newer than the target is dropped",
		line:    "kube-apiserver --etcd-servers=https://127.0.0.1:2379 --service-account-signing-endpoint=/run/signer.sock --service-account-signing-key-file=/k/sa.key --service-account-key-file=/k/sa.pub --service-account-issuer=https://k",
		notWant: []string{"--service-account-signing-endpoint"},
		notes:   []string{"arrived in 1.32, after the target 1.30"},
		gone:    []string{"flag-not-yet-added"},
	}, {
		name:    "repair-malformed-updates is dropped",
		line:    api + "--repair-malformed-updates=false --service-account-key-file=/k/sa.pub --service-account-signing-key-file=/k/sa.key",
		notWant: []string{"--repair-malformed-updates"},
		gone:    []string{"flag-removed", "flag-unknown"},
	}, {
		name:  "the signing key beside sa.pub (kubeadm layout)",
		line:  api + "--service-account-key-file=/srv/pki/sa.pub",
		fsys:  withFiles(map[string][]byte{"/srv/pki/sa.pub": pub, "/srv/pki/sa.key": key}),
		want:  []string{"--service-account-signing-key-file=/srv/pki/sa.key"},
		notes: []string{"the private key beside --service-account-key-file=/srv/pki/sa.pub"},
		gone:  []string{"service-account-flags-missing"},
	}, {
		name: "the signing key beside service-account.pem (cfssl layout)",
		line: api + "--service-account-key-file=/var/lib/kubernetes/service-account.pem",
		fsys: withFiles(map[string][]byte{"/var/lib/kubernetes/service-account-key.pem": key}),
		want: []string{"--service-account-signing-key-file=/var/lib/kubernetes/service-account-key.pem"},
		gone: []string{"service-account-flags-missing"},
	}, {
		name:    "no key in the layout: a TODO, no invented path",
		line:    api + "--service-account-key-file=/srv/pki/sa.pub",
		fsys:    withFiles(map[string][]byte{"/srv/pki/sa.pub": pub}),
		notWant: []string{"--service-account-signing-key-file"},
		notes:   []string{"e.g. /srv/pki/sa.key, which does not exist under the inspected root"},
		remain:  []string{"service-account-flags-missing"},
	}, {
		name:  "a private key as the verification key signs too",
		line:  api + "--service-account-key-file=/srv/sa-key.pem",
		fsys:  withFiles(map[string][]byte{"/srv/sa-key.pem": key}),
		want:  []string{"--service-account-signing-key-file=/srv/sa-key.pem"},
		notes: []string{"itself a private key"},
		gone:  []string{"service-account-flags-missing"},
	}, {
		name: "only the signing key: it verifies too",
		line: api + "--service-account-signing-key-file=/srv/sa.key",
		fsys: withFiles(map[string][]byte{"/srv/sa.key": key}),
		want: []string{"--service-account-key-file=/srv/sa.key"},
		gone: []string{"service-account-flags-missing"},
	}, {
		name:   "neither key: a TODO for both",
		line:   "kube-apiserver --etcd-servers=https://127.0.0.1:2379",
		want:   []string{"--service-account-issuer=https://kubernetes.default.svc.cluster.local"},
		notes:  []string{"TODO", "and --service-account-key-file, its public half"},
		remain: []string{"service-account-flags-missing"},
	}, {
		name:   "a flag hardway does not know is kept, said so, and still reported",
		line:   "kube-scheduler --no-such-flag=1 --profiling=false",
		want:   []string{"--no-such-flag=1"},
		notes:  []string{"--no-such-flag is not in hardway's catalogue of kube-scheduler flags: kept"},
		remain: []string{"flag-unknown"},
	}, {
		name:  "--admission-control merges into an existing --enable-admission-plugins",
		line:  api + "--service-account-signing-key-file=/k/sa.key --enable-admission-plugins=NodeRestriction --admission-control=NamespaceLifecycle,Initializers",
		want:  []string{"--enable-admission-plugins=NodeRestriction,NamespaceLifecycle"},
		notes: []string{"renamed to --enable-admission-plugins", "admission plugin Initializers dropped"},
		gone:  []string{"admission-plugin-removed", "admission-control-conflict"},
	}, {
		// batch/v2alpha1 and settings.k8s.io/v1alpha1 are gone at 1.30 (api-versions.yaml); api/legacy does nothing.
		name:    "--runtime-config keys the target refuses or ignores are dropped, the others kept",
		line:    api + "--service-account-signing-key-file=/k/sa.key --service-account-key-file=/k/sa.pub --runtime-config=batch/v2alpha1=true,settings.k8s.io/v1alpha1=true,api/legacy=false,batch/v1=true",
		want:    []string{"--runtime-config=batch/v1=true"},
		notes:   []string{"batch/v2alpha1=true dropped: --runtime-config batch/v2alpha1=true: kube-apiserver no longer accepts batch/v2alpha1 since 1.21", "settings.k8s.io/v1alpha1=true dropped", "api/legacy=false dropped"},
		gone:    []string{"runtime-config-removed", "runtime-config-ignored"},
		notWant: []string{"--runtime-config=batch/v2alpha1"},
	}, {
		name:    "--runtime-config with nothing left is dropped",
		line:    api + "--service-account-signing-key-file=/k/sa.key --service-account-key-file=/k/sa.pub --runtime-config=admissionregistration.k8s.io/v1alpha1=false",
		target:  "1.20",
		notWant: []string{"--runtime-config"},
		notes:   []string{"--runtime-config is empty after dropping the keys kube-apiserver 1.20 refuses or ignores"},
		gone:    []string{"runtime-config-removed"},
	}, {
		// Before 1.17 a bare api/all does nothing (MergeAPIResourceConfigs acts on true|false
		// only): dropping it keeps the behaviour; completing it would turn on every alpha API.
		name:    "a bare api/all before 1.17 is dropped, not completed",
		target:  "1.16",
		line:    "kube-apiserver --etcd-servers=https://127.0.0.1:2379 --runtime-config=api/all,batch/v2alpha1=true",
		want:    []string{"--runtime-config=batch/v2alpha1=true"},
		notWant: []string{"--runtime-config=api/all"},
		notes:   []string{"api/all dropped"},
		gone:    []string{"runtime-config-ignored"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := opts(tt.fsys)
			o.Target = flags.MustVersion("1.30")
			if tt.target != "" {
				o.Target = flags.MustVersion(tt.target)
			}
			inv := command(t, tt.line)
			before := ids(Inspect([]*Invocation{inv}, o).All())
			fx, err := Fix(inv, o)
			if err != nil {
				t.Fatal(err)
			}
			words := map[string]bool{}
			for _, line := range strings.Split(fx.Text, "\n") {
				if !strings.HasPrefix(line, "#") {
					for _, w := range strings.Fields(line) {
						words[w] = true
					}
				}
			}
			for _, w := range tt.want {
				if !words[w] {
					t.Errorf("migrated command lacks %s:\n%s", w, fx.Text)
				}
			}
			for _, w := range tt.notWant {
				for got := range words {
					if strings.HasPrefix(got, w) {
						t.Errorf("migrated command still has %s:\n%s", got, fx.Text)
					}
				}
			}
			for _, n := range tt.notes {
				if !strings.Contains(fx.Text, n) {
					t.Errorf("no change note %q in:\n%s", n, fx.Text)
				}
			}
			after := ids(fx.Remaining)
			for _, id := range tt.remain {
				if after[id] == 0 {
					t.Errorf("%s not among the remaining findings %v", id, after)
				}
				if !strings.Contains(fx.Text, "still wrong ("+id+")") {
					t.Errorf("the output does not say %s remains:\n%s", id, fx.Text)
				}
			}
			for _, id := range tt.gone {
				if before[id] == 0 && id != "flag-unknown" {
					t.Errorf("test input has no %s to fix (findings %v)", id, before)
				}
				if after[id] > 0 {
					t.Errorf("%s remains after --fix:\n%s", id, fx.Text)
				}
			}
			if (fx.Count(Error) > 0) != strings.Contains(fx.Text, "error(s) remain") {
				t.Errorf("the header does not match the %d remaining error(s):\n%s", fx.Count(Error), fx.Text)
			}
		})
	}
}
