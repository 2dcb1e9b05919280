package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestStampedVersion(t *testing.T) {
	vcs := []debug.BuildSetting{{Key: "vcs.revision", Value: "e67ec01e67ec01e67ec01"}, {Key: "vcs.modified", Value: "true"}}
	for _, tc := range []struct {
		name     string
		override string
		bi       *debug.BuildInfo
		want     string // Version
		commit   string
	}{
		{"ldflags win", "v9.9.9", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "v9.9.9", ""},
		{"module version", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3", ""},
		{"pseudo-version", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20250101000000-e67ec01e67ec"}}, "v0.0.0-20250101000000-e67ec01e67ec", ""},
		{"devel with vcs", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs}, "devel", "e67ec01e67ec01e67ec01"},
		{"devel", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "(devel)", ""},
		{"no build info", "", nil, "(devel)", ""},
		{"no build info, ldflags", "v2.0.0", nil, "v2.0.0", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := stampedVersion(tc.override, tc.bi)
			if v.Version != tc.want || v.Commit != tc.commit || v.Go == "" || v.Platform == "" {
				t.Errorf("got %+v, want version %q commit %q", v, tc.want, tc.commit)
			}
			if s := v.String(); !strings.HasPrefix(s, "hardway "+tc.want) {
				t.Errorf("String() = %q", s)
			}
		})
	}
	if s := stampedVersion("", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs}).String(); !strings.Contains(s, "(commit e67ec01e67ec-dirty)") {
		t.Errorf("String() = %q, want the short commit marked dirty", s)
	}
}

// 'hardway version', 'hardway --version' and -o json agree, and an -ldflags stamp shows in all.
func TestVersionCommand(t *testing.T) {
	defer func(old string) { version = old }(version)
	version = "v1.2.3-test"
	for _, args := range [][]string{{"version"}, {"--version"}} {
		if out := mustHardway(t, args...); !strings.HasPrefix(out, "hardway v1.2.3-test ") || strings.Count(out, "\n") != 1 {
			t.Errorf("%s: %q", args, out)
		}
	}
	var v buildVersion
	if err := json.Unmarshal([]byte(mustHardway(t, "version", "-o", "json")), &v); err != nil || v.Version != "v1.2.3-test" || v.Go == "" {
		t.Errorf("version -o json: %+v %v", v, err)
	}
	if out := mustHardway(t, "version", "-o", "yaml"); !strings.Contains(out, "version: v1.2.3-test") {
		t.Errorf("version -o yaml: %s", out)
	}
	if _, errs, code := hardway(t, "version", "-o", "xml"); code != 2 || !strings.Contains(errs, "xml") {
		t.Errorf("version -o xml: exit %d %s", code, errs)
	}
}

// init --dir DIR without --config reads DIR/cluster.yaml, the model an earlier init kept; a
// first run without --config is a usage error that says so.
func TestInitWithoutConfigUsesKeptClusterFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cluster")
	_, errs, code := hardway(t, "init", "--dir", dir)
	if code != 2 || !strings.Contains(errs, "--config is required") || !strings.Contains(errs, filepath.Join(dir, "cluster.yaml")) {
		t.Errorf("first run without --config: exit %d %s", code, errs)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("the refused run created the cluster directory")
	}
	mustHardway(t, "init", "--config", haExample, "--dir", dir)
	out, errs, code := hardway(t, "init", "--dir", dir)
	if code != 0 || !strings.Contains(out, "up to date") || !strings.Contains(errs, "using "+filepath.Join(dir, "cluster.yaml")) {
		t.Errorf("second run without --config: exit %d\n%s%s", code, out, errs)
	}
}
