package units

import (
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/pki"
	"github.com/hardway-dev/hardway/units/bundle"
)

// nodeBundle is what a bundle of node holds: its rendered files and units and every credential
// the catalogue places on it (more than init packs, which is only what the units read).
func nodeBundle(t *testing.T, example, node string, opt Options) *bundle.Bundle {
	t.Helper()
	c := loadExample(t, example)
	r := renderNode(t, c, node, opt)
	files := r.Files
	for _, nf := range pki.NodeFiles(c, node) {
		files = append(files, bundle.File{Path: nf.NodePath, Kind: NodeFileKind(nf), Mode: nf.Mode, Data: []byte("x")})
	}
	var us []bundle.Unit
	for _, u := range r.Units {
		us = append(us, bundle.Unit{Name: u.Name, Inputs: u.Inputs, After: u.After, Health: u.Health})
	}
	return bundle.New(node, files, us)
}

// Everything the renderer writes for every node of every example passes the policy read off
// the renderer; what it would never write is refused, each with its path or unit named.
func TestInstallablePolicy(t *testing.T) {
	pol, err := Installable()
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range examples {
		c := loadExample(t, ex)
		for _, n := range c.Nodes {
			for _, opt := range []Options{{}, {Implementation: map[Component]Implementation{Etcd: Hardway}}} {
				if err := pol.Check(nodeBundle(t, ex, n.Name, opt)); err != nil {
					t.Errorf("%s/%s: %v", ex, n.Name, err)
				}
			}
		}
	}
	unitOf := func(b *bundle.Bundle, name string) *bundle.File {
		for i := range b.Files {
			if b.Files[i].Path == bundle.SystemdDir+"/"+name {
				return &b.Files[i]
			}
		}
		t.Fatalf("no %s", name)
		return nil
	}
	for _, tc := range []struct {
		name   string
		change func(b *bundle.Bundle)
		want   string
	}{
		{"ssh keys", addFile("/root/.ssh/authorized_keys", bundle.KindConfig, 0o600), "/root/.ssh/authorized_keys is not a path hardway renders"},
		{"sudoers", addFile("/etc/sudoers.d/hardway", bundle.KindConfig, 0o440), "/etc/sudoers.d/hardway is not a path hardway renders"},
		{"preload", addFile("/etc/ld.so.preload", bundle.KindConfig, 0o644), "/etc/ld.so.preload is not a path hardway renders"},
		{"cron", addFile("/etc/cron.d/x", bundle.KindConfig, 0o644), "/etc/cron.d/x is not a path hardway renders"},
		{"another unit", addFile("/etc/systemd/system/backdoor.service", bundle.KindUnit, 0o644), "/etc/systemd/system/backdoor.service is not a path hardway renders"},
		{"a drop-in", addFile("/etc/systemd/system/kubelet.service.d/10-x.conf", bundle.KindUnit, 0o644), "kubelet.service.d/10-x.conf is not a path"},
		{"a shell as the kubelet", func(b *bundle.Bundle) {
			f := unitOf(b, "kubelet.service")
			f.Data = []byte(strings.Replace(string(f.Data), "ExecStart=/usr/local/bin/kubelet", "ExecStart=/bin/sh -c id", 1))
		}, `starts "/bin/sh -c", not a program hardway renders for kubelet.service`},
		{"a pre-start command", func(b *bundle.Bundle) {
			f := unitOf(b, "kubelet.service")
			f.Data = []byte(strings.Replace(string(f.Data), "[Service]\n", "[Service]\nExecStartPre=/bin/sh -c id\n", 1))
		}, "sets Service.ExecStartPre=, which hardway's kubelet.service does not"},
		// Files go-systemd and systemd 252 read differently, found by review: each hides a
		// command systemd would run.
		{"a comment that continues", editUnit("[Service]\n", "[Service]\n# harmless \\\nExecStartPre=/x\n"), "not in the form hardway renders"},
		{"an escaped backslash", editUnit("Restart=on-failure\n", "Restart=on-failure\\\\\nExecStartPre=/x\n"), "Service.Restart= holds a backslash"},
		{"a carriage return", editUnit("Restart=on-failure\n", "Restart=on-failure\rExecStartPre=/x\n"), "a carriage return or NUL"},
		{"a oneshot with a second command", func(b *bundle.Bundle) {
			editUnit("Type=exec", "Type=oneshot")(b)
			editUnit("ExecStart=/usr/local/bin/kubelet", "ExecStart=/usr/local/bin/kubelet --version ; /x")(b)
		}, "Service.Type=oneshot is not a value hardway renders"},
		{"a semicolon in ExecStart", editUnit("ExecStart=/usr/local/bin/kubelet", "ExecStart=/usr/local/bin/kubelet ; /x"), `ExecStart passes ";"`},
		// extraArgs: any flag the catalogue knows for the component, nothing else, values plain.
		{"a flag no kubelet has", editUnit("ExecStart=/usr/local/bin/kubelet", "ExecStart=/usr/local/bin/kubelet --exec-on-start=/x"), `ExecStart passes "--exec-on-start=/x"`},
		{"another component's flag", editUnit("ExecStart=/usr/local/bin/kubelet", "ExecStart=/usr/local/bin/kubelet --oidc-issuer-url=https://x"), `ExecStart passes "--oidc-issuer-url=https://x"`},
		{"a catalogue flag with a command in its value", editUnit("ExecStart=/usr/local/bin/kubelet", "ExecStart=/usr/local/bin/kubelet --node-labels=$(id)"), `--node-labels: "$(id)" holds a character systemd would interpret`},
		{"a flag without a value", editUnit("ExecStart=/usr/local/bin/kubelet", "ExecStart=/usr/local/bin/kubelet --anonymous-auth"), `ExecStart passes "--anonymous-auth"`},
		// extraFiles: config files directly in /etc/kubernetes/extra/<component>/, 0644 at most.
		{"an extra file in a subfolder", addFile("/etc/kubernetes/extra/kubelet/a/b.yaml", bundle.KindConfig, 0o644), "/etc/kubernetes/extra/kubelet/a/b.yaml is not a path hardway renders"},
		{"an extra file of no component", addFile("/etc/kubernetes/extra/sshd/authorized_keys", bundle.KindConfig, 0o644), "/etc/kubernetes/extra/sshd/authorized_keys is not a path"},
		{"a hidden extra file", addFile("/etc/kubernetes/extra/kubelet/.x", bundle.KindConfig, 0o644), "/etc/kubernetes/extra/kubelet/.x is not a path"},
		{"an extra file climbing out", addFile("/etc/kubernetes/extra/kubelet/../../../etc/ld.so.preload", bundle.KindConfig, 0o644), "is not a path"},
		{"an executable extra file", addFile("/etc/kubernetes/extra/kubelet/x.sh", bundle.KindConfig, 0o755), "x.sh: 0755 is wider than its 0600"},
		{"an extra unit", addFile("/etc/kubernetes/extra/kubelet/x.service", bundle.KindUnit, 0o644), "x.service is a config, not a unit"},
		{"an extra binary", addFile("/etc/kubernetes/extra/kubelet/x", bundle.KindBinary, 0o755), "x is a config, not a binary"},
		{"another unit wanted", editUnit("Wants=network-online.target containerd.service", "Wants=debug-shell.service"), "Unit.Wants=debug-shell.service is not a value"},
		{"another owner", func(b *bundle.Bundle) { unitOf(b, "kubelet.service").Owner = "nobody:nogroup" }, "owner nobody:nogroup, not root:root"},
		{"a readable key", func(b *bundle.Bundle) {
			for i := range b.Files {
				if b.Files[i].Path == KubeletServingKey {
					b.Files[i].Mode = 0o644
				}
			}
		}, "/var/lib/kubelet/pki/kubelet.key: 0644 is wider than its 0600"},
		{"a setuid unit", func(b *bundle.Bundle) { unitOf(b, "kubelet.service").Mode = 0o4755 }, "is wider than its 0600"},
		{"a key as a config", func(b *bundle.Bundle) {
			for i := range b.Files {
				if b.Files[i].Path == KubeletServingKey {
					b.Files[i].Kind = bundle.KindConfig
				}
			}
		}, "kubelet.key is a secret, not a config"},
		// containerd may live elsewhere (binaries.containerd), under its own name only.
		{"containerd as a shell", editContainerd("ExecStart=/usr/bin/containerd", "ExecStart=/bin/sh"), `starts "/bin/sh --config=/etc/containerd/config.toml", not a program`},
		{"containerd under another name", editContainerd("ExecStart=/usr/bin/containerd", "ExecStart=/opt/bin/containerd-x"), "not a program hardway renders for containerd.service"},
		{"containerd in a relative directory", editContainerd("ExecStart=/usr/bin/containerd", "ExecStart=../containerd"), "not a program hardway renders for containerd.service"},
	} {
		b := nodeBundle(t, "ha", "worker-1", Options{})
		tc.change(b)
		if err := pol.Check(b); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v\nwant %q", tc.name, err, tc.want)
		}
	}
	for name, change := range map[string]func(b *bundle.Bundle){
		"containerd moved by binaries.containerd":  editContainerd("ExecStart=/usr/bin/containerd", "ExecStart=/opt/containerd/bin/containerd"),
		"a kubelet flag hardway does not set":      editUnit("ExecStart=/usr/local/bin/kubelet", "ExecStart=/usr/local/bin/kubelet --max-pods=50"),
		"a weakening kubelet flag (inspect warns)": editUnit("ExecStart=/usr/local/bin/kubelet", "ExecStart=/usr/local/bin/kubelet --anonymous-auth=true"),
		"an extra file":        addFile("/etc/kubernetes/extra/kubelet/credential-provider.yaml", bundle.KindConfig, 0o600),
		"a private extra file": addFile("/etc/kubernetes/extra/kube-apiserver/admission.yaml", bundle.KindConfig, 0o600),
	} {
		b := nodeBundle(t, "ha", "worker-1", Options{})
		change(b)
		if err := pol.Check(b); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// editContainerd replaces old with new in worker-1's containerd.service.
func editContainerd(old, new string) func(b *bundle.Bundle) {
	return func(b *bundle.Bundle) {
		for i := range b.Files {
			if b.Files[i].Path == bundle.SystemdDir+"/containerd.service" {
				b.Files[i].Data = []byte(strings.Replace(string(b.Files[i].Data), old, new, 1))
			}
		}
	}
}

// editUnit replaces old with new in worker-1's kubelet.service.
func editUnit(old, new string) func(b *bundle.Bundle) {
	return func(b *bundle.Bundle) {
		for i := range b.Files {
			if b.Files[i].Path == bundle.SystemdDir+"/kubelet.service" {
				b.Files[i].Data = []byte(strings.Replace(string(b.Files[i].Data), old, new, 1))
			}
		}
	}
}

func addFile(p string, kind bundle.Kind, mode uint32) func(b *bundle.Bundle) {
	return func(b *bundle.Bundle) {
		b.Files = append(b.Files, bundle.File{Path: p, Kind: kind, Mode: fsMode(mode), Data: []byte("x")})
	}
}

func fsMode(m uint32) fs.FileMode { return fs.FileMode(m) }

// A bundle may carry the Kubernetes programs and etcd from BinDir, and nothing a distribution
// package installs (containerd).
func TestBundledPrograms(t *testing.T) {
	got, err := BundledPrograms()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"/usr/local/bin/etcd", "/usr/local/bin/kube-apiserver", "/usr/local/bin/kube-controller-manager", "/usr/local/bin/kube-proxy", "/usr/local/bin/kube-scheduler", "/usr/local/bin/kubelet"} {
		if !slices.Contains(got, want) {
			t.Errorf("%s is not a program a bundle may carry: %v", want, got)
		}
	}
	for _, p := range got {
		if path.Dir(p) != BinDir {
			t.Errorf("%s: outside %s", p, BinDir)
		}
	}
}
