package inspect

import (
	"context"
	"errors"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/hardway-dev/hardway/units/flags"
)

const (
	etcdUnit      = "[Service]\nExecStart=/usr/local/bin/etcd --name=a\n"
	schedulerUnit = "[Service]\nExecStart=/usr/local/bin/kube-scheduler --profiling=false\n"
	apiserverPod  = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: kube-apiserver\n    command: [kube-apiserver, --secure-port=6443]\n"
)

// file is a MapFS entry with data.
func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

// readSummary is what a test compares of what Read returns: each invocation's name (a unit's
// is its file's base name) and component, and the files its unit was read from, named as given.
type readSummary struct {
	Name, Component string
	Files           []string
}

func summarize(invs []*Invocation) []readSummary {
	var out []readSummary
	for _, inv := range invs {
		s := readSummary{Name: inv.Name, Component: inv.Component}
		if inv.Unit != nil {
			for _, f := range inv.Unit.Files {
				s.Files = append(s.Files, f.Name)
			}
		}
		out = append(out, s)
	}
	return out
}

func TestReadPaths(t *testing.T) {
	files := fstest.MapFS{
		"work/units/etcd.service":                         file(etcdUnit),
		"work/units/etcd.service.d/20-b.conf":             file("[Service]\nExecStart=\nExecStart=/usr/local/bin/etcd --name=b\n"),
		"work/units/etcd.service.d/10-a.conf":             file("[Service]\nEnvironment=A=1\n"),
		"work/units/etcd.service.d/notes.txt":             file("not a drop-in"),
		"work/units/etcd.service.d/dir.conf/x":            file("a directory named like a drop-in"),
		"work/units/kube-apiserver.yaml":                  file(apiserverPod),
		"work/units/README":                               file("not an input"),
		"work/units/nested/kube-scheduler.service":        file(schedulerUnit),
		"work/cmdline":                                    file("kube-scheduler --profiling=false\n"),
		"work/unit-without-suffix":                        file(schedulerUnit),
		"work/empty/README":                               file("nothing to inspect"),
		"etc/systemd/system/kube-scheduler.service":       file(schedulerUnit),
		"etc/systemd/system/kube-scheduler.service.d/x.c": file("ignored"),
	}
	tests := []struct {
		name    string
		paths   []string
		stdin   string
		want    []readSummary
		wantErr string
	}{
		{name: "a unit with its drop-ins in name order; other files and directories in .d ignored",
			paths: []string{"units/etcd.service"},
			want: []readSummary{{"etcd.service", "etcd",
				[]string{"units/etcd.service", "units/etcd.service.d/10-a.conf", "units/etcd.service.d/20-b.conf"}}}},
		{name: "absolute paths are read as given",
			paths: []string{"/etc/systemd/system/kube-scheduler.service"},
			want:  []readSummary{{"kube-scheduler.service", "kube-scheduler", []string{"/etc/systemd/system/kube-scheduler.service"}}}},
		{name: "a directory: its units and manifests in name order, not its subdirectories",
			paths: []string{"units"},
			want: []readSummary{
				{"etcd.service", "etcd", []string{"units/etcd.service", "units/etcd.service.d/10-a.conf", "units/etcd.service.d/20-b.conf"}},
				{"units/kube-apiserver.yaml (kube-apiserver)", "kube-apiserver", nil},
			}},
		{name: "the content decides without a known suffix",
			paths: []string{"cmdline", "./unit-without-suffix", "../work/units/nested/kube-scheduler.service"},
			want: []readSummary{
				{"cmdline", "kube-scheduler", nil},
				{"unit-without-suffix", "kube-scheduler", []string{"./unit-without-suffix"}},
				{"kube-scheduler.service", "kube-scheduler", []string{"../work/units/nested/kube-scheduler.service"}},
			}},
		{name: "standard input", paths: []string{"-"}, stdin: "etcd --name=x",
			want: []readSummary{{"-", "etcd", nil}}},
		{name: "missing", paths: []string{"units/nope.service"}, wantErr: "units/nope.service: file does not exist"},
		{name: "a directory without inputs", paths: []string{"empty"}, wantErr: "empty: no *.service or *.yaml files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &Sources{Catalogue: flags.Default(), Files: files, Dir: "/work", Root: fstest.MapFS{}, Stdin: strings.NewReader(tt.stdin)}
			invs, err := src.Read(context.Background(), Inputs{Paths: tt.paths})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := summarize(invs); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("read\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// A unit named on the command line is read where it is named; what it points at
// (EnvironmentFile=, and through Options.FS the files its flags name) is read under the root.
func TestReadPathEnvironmentFileFromRoot(t *testing.T) {
	unit := "[Service]\nEnvironmentFile=/etc/etcd.env\nExecStart=/usr/local/bin/etcd --name=${NAME}\n"
	files := fstest.MapFS{
		"bundle/etcd.service": file(unit),
		"etc/etcd.env":        file("NAME=host\n"),
	}
	root := fstest.MapFS{"etc/etcd.env": file("NAME=node\n")}
	src := &Sources{Catalogue: flags.Default(), Files: files, Dir: "/", Root: root}
	invs, err := src.ReadPath(context.Background(), "bundle/etcd.service")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := ParseArgs(flags.Default().Component("etcd"), invs[0].Args).Value("name"); v != "node" {
		t.Errorf("--name=%s, want the root's node", v)
	}
}

func TestReadServices(t *testing.T) {
	root := fstest.MapFS{
		"etc/systemd/system/etcd.service":                 file(etcdUnit),
		"etc/systemd/system/etcd.service.d/10-a.conf":     file("[Service]\nEnvironment=A=1\n"),
		"usr/lib/systemd/system/etcd.service.d/05-b.conf": file("[Service]\nEnvironment=B=1\n"),
		"opt/units/etcd.service":                          file(etcdUnit),
		"opt/units/override.conf":                         file("[Service]\nEnvironment=C=1\n"),
	}
	loaded := func(main string, dropins ...string) func(context.Context, string) (string, []string, error) {
		return func(_ context.Context, unit string) (string, []string, error) {
			if unit != "etcd.service" {
				return "", nil, errors.New("asked for " + unit)
			}
			return main, dropins, nil
		}
	}
	down := func(context.Context, string) (string, []string, error) { return "", nil, errors.New("no manager") }
	searched := []readSummary{{"etcd.service", "etcd", []string{"/etc/systemd/system/etcd.service",
		"/usr/lib/systemd/system/etcd.service.d/05-b.conf", "/etc/systemd/system/etcd.service.d/10-a.conf"}}}
	tests := []struct {
		name     string
		service  string
		manager  func(context.Context, string) (string, []string, error)
		require  bool
		want     []readSummary
		wantErr  string
		wantKind error
	}{
		{name: "searched in the root without a manager", service: "etcd", want: searched},
		{name: "searched in the root when the manager fails", service: "etcd.service", manager: down, want: searched},
		{name: "the manager's files, read from the root", service: "etcd", manager: loaded("/opt/units/etcd.service", "/opt/units/override.conf"),
			want: []readSummary{{"etcd.service", "etcd", []string{"/opt/units/etcd.service", "/opt/units/override.conf"}}}},
		{name: "a required manager's failure is final", service: "etcd", manager: down, require: true, wantErr: "--service etcd.service: no manager"},
		{name: "a file the manager names is missing", service: "etcd", manager: loaded("/opt/units/etcd.service", "/opt/units/gone.conf"),
			wantErr: "--service etcd.service: drop-in: /opt/units/gone.conf: file does not exist", wantKind: fs.ErrNotExist},
		{name: "not found", service: "kubelet", wantErr: "--service kubelet.service: unit kubelet.service not found in /etc/systemd/system"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &Sources{Catalogue: flags.Default(), Files: fstest.MapFS{}, Root: root, Manager: tt.manager, RequireManager: tt.require}
			invs, err := src.Read(context.Background(), Inputs{Services: []string{tt.service}})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if tt.wantKind != nil && !errors.Is(err, tt.wantKind) {
					t.Errorf("error %v is not %v", err, tt.wantKind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := summarize(invs); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("read\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestReadPIDs(t *testing.T) {
	proc := fstest.MapFS{"42/cmdline": file("/usr/local/bin/kube-scheduler\x00--profiling=false\x00")}
	src := &Sources{Catalogue: flags.Default(), Files: fstest.MapFS{}, Root: fstest.MapFS{}, Proc: proc}
	invs, err := src.Read(context.Background(), Inputs{PIDs: []int{42}})
	if err != nil {
		t.Fatal(err)
	}
	if got := summarize(invs); !reflect.DeepEqual(got, []readSummary{{"pid 42", "kube-scheduler", nil}}) {
		t.Errorf("read %+v", got)
	}
	_, err = src.Read(context.Background(), Inputs{PIDs: []int{7}})
	if err == nil || !strings.Contains(err.Error(), "--pid 7: /proc/7/cmdline: file does not exist") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing process: %v", err)
	}
}

// Read keeps the order of the inputs: paths, then processes, then services.
func TestReadOrderAndCancel(t *testing.T) {
	src := &Sources{
		Catalogue: flags.Default(),
		Files:     fstest.MapFS{"a.service": file(etcdUnit)},
		Dir:       "/",
		Root:      fstest.MapFS{"etc/systemd/system/kube-scheduler.service": file(schedulerUnit)},
		Proc:      fstest.MapFS{"1/cmdline": file("etcd\x00")},
	}
	in := Inputs{Services: []string{"kube-scheduler"}, PIDs: []int{1}, Paths: []string{"a.service"}}
	invs, err := src.Read(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, inv := range invs {
		names = append(names, inv.Name)
	}
	if strings.Join(names, ",") != "a.service,pid 1,kube-scheduler.service" {
		t.Errorf("order %v", names)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := src.Read(ctx, in); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled read: %v", err)
	}
}
