package main

import (
	"crypto/sha512"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/bootstrap/release"
)

// releaseMirror serves fake binaries in the release layout of v1.37.2/amd64, each with its
// .sha512 as dl.k8s.io publishes it.
func releaseMirror(t *testing.T, files map[string]string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, "/release/v1.37.2/bin/linux/amd64/")
		bin, isSum := strings.CutSuffix(name, release.ChecksumSuffix)
		switch data, found := files[bin]; {
		case !ok || !found:
			http.NotFound(w, r)
		case isSum:
			sum := sha512.Sum512([]byte(data))
			w.Write([]byte(hex.EncodeToString(sum[:])))
		default:
			w.Write([]byte(data))
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/release"
}

func TestBinariesFetch(t *testing.T) {
	files := map[string]string{}
	for _, n := range release.Binaries {
		files[n] = "#!/bin/sh\necho " + n + "\n"
	}
	base, dest := releaseMirror(t, files), t.TempDir()
	out := mustHardway(t, "binaries", "fetch", "--version", "1.37.2", "--arch", "amd64", "--dest", dest, "--base-url", base)
	dir := filepath.Join(dest, "v1.37.2", "linux-amd64")
	for _, n := range release.Binaries {
		if !strings.Contains(out, "fetched "+filepath.Join(dir, n)+" (") {
			t.Errorf("output does not say %s was fetched:\n%s", n, out)
		}
		if data, err := os.ReadFile(filepath.Join(dir, n)); err != nil || string(data) != files[n] {
			t.Errorf("%s: %q %v", n, data, err)
		}
	}
	if !strings.Contains(out, "binaries in "+dir+"; give it to `hardway init --with-binaries`") {
		t.Errorf("output does not say where:\n%s", out)
	}
	out = mustHardway(t, "binaries", "fetch", "--version", "v1.37.2", "--arch", "amd64", "--dest", dest, "--base-url", base, "--only", "kubelet")
	if !strings.HasPrefix(out, "present "+filepath.Join(dir, "kubelet")+" (already kept") {
		t.Errorf("second fetch:\n%s", out)
	}
	_, errs, code := hardway(t, "binaries", "fetch", "--version", "1.37.3", "--arch", "amd64", "--dest", dest, "--base-url", base)
	if code != 1 || !strings.Contains(errs, "v1.37.3/bin/linux/amd64/kube-apiserver.sha512 (its published checksum): 404 Not Found; check --version") {
		t.Errorf("a version the mirror lacks: exit %d\n%s", code, errs)
	}
	if _, errs, code := hardway(t, "binaries", "fetch"); code != 2 || !strings.Contains(errs, "--version is required") {
		t.Errorf("no --version: exit %d %s", code, errs)
	}
}
