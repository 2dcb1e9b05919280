package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// Every command that prints a table or a plan prints it as JSON or YAML with -o, the same data
// in both; an unknown -o is a usage error before anything is done.
func TestOutputFormats(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cluster")
	fresh := filepath.Join(t.TempDir(), "fresh")
	mustHardway(t, "init", "--config", haExample, "--dir", dir)
	a, b := inspectFixture("kube-apiserver-1.10.service"), inspectFixture("kube-apiserver-kubeadm.yaml")
	for _, tc := range []struct {
		name  string
		args  []string
		exit  int
		check func(t *testing.T, v map[string]any)
	}{
		{"units show", []string{"units", "show", "--dir", dir, "cp-1"}, 0, func(t *testing.T, v map[string]any) {
			files, _ := v["files"].([]any)
			if v["node"] != "cp-1" || len(files) == 0 {
				t.Fatalf("got %v", v)
			}
			f := files[0].(map[string]any)
			if !strings.HasPrefix(f["path"].(string), "/") || f["mode"] == "" || f["content"] == "" {
				t.Errorf("first file %v", f)
			}
		}},
		{"init --dry-run", []string{"init", "--config", haExample, "--dir", fresh, "--dry-run"}, 0, func(t *testing.T, v map[string]any) {
			changes, _ := v["changes"].([]any)
			if v["dryRun"] != true || len(changes) == 0 || v["written"] != nil {
				t.Fatalf("got dryRun %v, %d changes, written %v", v["dryRun"], len(changes), v["written"])
			}
			var paths []string
			for _, c := range changes {
				c := c.(map[string]any)
				if c["action"] != "create" || c["reason"] == "" || c["data"] != nil || c["Data"] != nil {
					t.Errorf("change %v", c)
				}
				paths = append(paths, c["path"].(string))
			}
			if !slices.Contains(paths, "pki/ca.key") {
				t.Errorf("the plan lacks pki/ca.key: %v", paths)
			}
			if _, err := os.Stat(fresh); err == nil {
				t.Error("the dry run created the directory")
			}
		}},
		{"init, nothing to do", []string{"init", "--dir", dir}, 0, func(t *testing.T, v map[string]any) {
			if changes, _ := v["changes"].([]any); v["dryRun"] != false || len(changes) != 0 || v["unchanged"].(float64) == 0 {
				t.Errorf("got %v", v)
			}
		}},
		{"certs renew --dry-run", []string{"certs", "renew", "--dir", dir, "--dry-run", "admin"}, 0, func(t *testing.T, v map[string]any) {
			if changes, _ := v["changes"].([]any); len(changes) == 0 {
				t.Errorf("got %v", v)
			}
		}},
		{"inspect diff", []string{"inspect", "diff", a, b}, 1, func(t *testing.T, v map[string]any) {
			// a list: printOutput's document is the diff itself
			t.Fatalf("a diff is a list, got %v", v)
		}},
		{"version", []string{"version"}, 0, func(t *testing.T, v map[string]any) {
			if v["version"] == "" || v["go"] == "" || v["platform"] == "" {
				t.Errorf("got %v", v)
			}
		}},
	} {
		for _, format := range []string{"json", "yaml"} {
			t.Run(tc.name+" -o "+format, func(t *testing.T) {
				out, errs, code := hardway(t, append(tc.args, "-o", format)...)
				if code != tc.exit {
					t.Fatalf("exit %d, want %d\n%s%s", code, tc.exit, out, errs)
				}
				js := []byte(out)
				if format == "yaml" {
					var err error
					if js, err = yaml.YAMLToJSON(js); err != nil {
						t.Fatalf("not YAML: %v\n%s", err, out)
					}
				}
				var v any
				if err := json.Unmarshal(js, &v); err != nil {
					t.Fatalf("not JSON: %v\n%s", err, out)
				}
				switch v := v.(type) {
				case map[string]any:
					tc.check(t, v)
				case []any:
					if tc.name != "inspect diff" || len(v) == 0 {
						t.Fatalf("got %v", v)
					}
					if d := v[0].(map[string]any); d["flag"] == nil && d["Flag"] == nil {
						t.Errorf("diff entry %v", d)
					}
				default:
					t.Fatalf("got %T", v)
				}
			})
		}
		t.Run(tc.name+" -o xml", func(t *testing.T) {
			before := modTimes(t, dir)
			_, errs, code := hardway(t, append(tc.args, "-o", "xml")...)
			if code != 2 || !strings.Contains(errs, `"xml"`) || !strings.Contains(errs, "table, json or yaml") {
				t.Errorf("exit %d: %s", code, errs)
			}
			if after := modTimes(t, dir); len(after) != len(before) {
				t.Error("a refused -o wrote files")
			}
		})
	}
}

// The shells complete certificate names, node names (from DIR/cluster.yaml) and -o values.
func TestCompletion(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cluster")
	mustHardway(t, "init", "--config", haExample, "--dir", dir)
	for _, tc := range []struct {
		args      []string
		want, not []string
	}{
		{[]string{"certs", "renew", "--dir", dir, "apiserver-k"}, []string{"apiserver-kubelet-client"}, []string{"apiserver", "admin"}},
		{[]string{"certs", "renew", "--dir", dir, "etcd/server-"}, []string{"etcd/server-cp-1", "etcd/server-cp-3"}, []string{"etcd-server"}},
		{[]string{"certs", "renew", "--dir", dir, "admin", "adm"}, nil, []string{"admin"}},
		{[]string{"certs", "renew", "--dir", dir, ""}, []string{"all", "ca", "kubelet-worker-1"}, nil},
		{[]string{"units", "show", "--dir", dir, ""}, []string{"cp-1", "worker-3"}, nil},
		{[]string{"units", "show", "--dir", dir, "cp-1", ""}, nil, []string{"cp-1", "worker-3"}},
		{[]string{"units", "show", "--config", haExample, "w"}, []string{"worker-1", "worker-2"}, []string{"cp-1"}},
		{[]string{"launch", "--dir", dir, "--node", "cp"}, []string{"cp-1", "cp-2"}, []string{"worker-1"}},
		{[]string{"units", "show", "--dir", filepath.Join(t.TempDir(), "none"), ""}, nil, []string{"cp-1"}},
		{[]string{"certs", "list", "-o", ""}, []string{"table", "json", "yaml"}, nil},
		{[]string{"inspect", "diff", "--output", ""}, []string{"json"}, nil},
		{[]string{"version", "-o", ""}, []string{"yaml"}, nil},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out := mustHardway(t, append([]string{"__complete"}, tc.args...)...)
			lines := strings.Split(out, "\n")
			for _, w := range tc.want {
				if !slices.Contains(lines, w) {
					t.Errorf("completion lacks %q:\n%s", w, out)
				}
			}
			for _, n := range tc.not {
				if slices.Contains(lines, n) {
					t.Errorf("completion offers %q:\n%s", n, out)
				}
			}
		})
	}
}
