package release

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

const testVersion = "v1.37.2"

// mirror serves the release layout for testVersion/amd64: each name's body and its .sha512,
// with handlers that override a path.
type mirror struct {
	files    map[string][]byte
	override map[string]http.HandlerFunc
	requests atomic.Int64
}

func (m *mirror) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.requests.Add(1)
	if h, ok := m.override[r.URL.Path]; ok {
		h(w, r)
		return
	}
	prefix := "/release/" + testVersion + "/bin/linux/amd64/"
	name, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if bin, ok := strings.CutSuffix(name, ChecksumSuffix); ok {
		if data, ok := m.files[bin]; ok {
			sum := sha512.Sum512(data)
			w.Write([]byte(hex.EncodeToString(sum[:]))) // as dl.k8s.io: the digest alone, no newline
			return
		}
	}
	if data, ok := m.files[name]; ok {
		w.Write(data)
		return
	}
	http.NotFound(w, r)
}

func serve(t *testing.T, m *mirror) string {
	t.Helper()
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	return srv.URL + "/release"
}

func fetchOne(t *testing.T, base, dest, name string) ([]File, error) {
	t.Helper()
	return Fetch(context.Background(), Options{Version: "1.37.2", Arch: "amd64", Dest: dest, BaseURL: base, Names: []string{name}})
}

// A good binary is kept 0755 with its checksum; a second fetch finds it and asks nothing.
func TestFetchKeepsAndSkips(t *testing.T) {
	m := &mirror{files: map[string][]byte{"kubelet": []byte("#!/bin/sh\necho kubelet\n")}}
	base, dest := serve(t, m), t.TempDir()
	got, err := fetchOne(t, base, dest, "kubelet")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dest, testVersion, "linux-amd64", "kubelet")
	want := sha512.Sum512(m.files["kubelet"])
	if len(got) != 1 || got[0].Action != Fetched || got[0].Path != p || got[0].SHA512 != hex.EncodeToString(want[:]) || got[0].Size != int64(len(m.files["kubelet"])) {
		t.Fatalf("first fetch: %+v", got)
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("%s: %v %v", p, fi, err)
	}
	if data, _ := os.ReadFile(p); string(data) != string(m.files["kubelet"]) {
		t.Errorf("content %q", data)
	}
	before := m.requests.Load()
	got, err = fetchOne(t, base, dest, "kubelet")
	if err != nil || got[0].Action != Present {
		t.Fatalf("second fetch: %+v %v", got, err)
	}
	if m.requests.Load() != before {
		t.Errorf("a kept binary was requested again")
	}
	// A kept binary that changed since is fetched again.
	os.WriteFile(p, []byte("damaged"), 0o755)
	if got, err = fetchOne(t, base, dest, "kubelet"); err != nil || got[0].Action != Fetched {
		t.Fatalf("after damage: %+v %v", got, err)
	}
}

// Every failure names the URL and the way out, and leaves no file behind: not the binary, not
// a temporary file, not its checksum.
func TestFetchRefuses(t *testing.T) {
	body := []byte(strings.Repeat("kube-apiserver ", 1000))
	sum := sha512.Sum512(body)
	cut := func(head string, part []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			conn, buf, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			buf.WriteString(head)
			buf.Write(part)
			buf.Flush()
			conn.Close()
		}
	}
	bin := "/release/" + testVersion + "/bin/linux/amd64/kube-apiserver"
	for _, tc := range []struct {
		name     string
		override map[string]http.HandlerFunc
		want     []string
	}{
		{"wrong checksum", map[string]http.HandlerFunc{
			bin + ChecksumSuffix: func(w http.ResponseWriter, r *http.Request) {
				other := sha512.Sum512([]byte("something else"))
				w.Write([]byte(hex.EncodeToString(other[:]) + "  kube-apiserver\n"))
			},
		}, []string{bin, "SHA-512 mismatch", "nothing was kept", "--base-url"}},
		{"missing checksum", map[string]http.HandlerFunc{
			bin + ChecksumSuffix: http.NotFound,
		}, []string{bin + ChecksumSuffix, "published checksum", "404 Not Found", "check --version and --arch"}},
		{"malformed checksum", map[string]http.HandlerFunc{
			bin + ChecksumSuffix: func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>not found</html>")) },
		}, []string{bin + ChecksumSuffix, "not a SHA-512 digest"}},
		{"Content-Length larger than the body", map[string]http.HandlerFunc{
			bin: cut("HTTP/1.1 200 OK\r\nContent-Length: 15000\r\n\r\n", body[:4000]),
		}, []string{bin, "broke off after 4000 of 15000 bytes", "run again"}},
		{"connection cut without a length", map[string]http.HandlerFunc{
			bin: cut("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfa0\r\n", body[:4000]),
		}, []string{bin, "broke off after 4000 bytes", "run again"}},
		{"404", map[string]http.HandlerFunc{
			bin: http.NotFound,
		}, []string{bin + " (the binary): 404 Not Found", "check --version and --arch"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &mirror{files: map[string][]byte{"kube-apiserver": body}, override: tc.override}
			base, dest := serve(t, m), t.TempDir()
			got, err := fetchOne(t, base, dest, "kube-apiserver")
			if err == nil {
				t.Fatalf("fetched %+v", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), strings.Replace(w, "/release", base, 1)) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			dir := filepath.Join(dest, testVersion, "linux-amd64")
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("left in %s: %v", dir, entries)
			}
		})
	}
	// The good file, for contrast: same server, no override.
	m := &mirror{files: map[string][]byte{"kube-apiserver": body}}
	got, err := fetchOne(t, serve(t, m), t.TempDir(), "kube-apiserver")
	if err != nil || got[0].SHA512 != hex.EncodeToString(sum[:]) {
		t.Fatalf("good file: %+v %v", got, err)
	}
}

func TestOptionsAndLayout(t *testing.T) {
	_, err := Fetch(context.Background(), Options{Version: "1.37", Arch: "riscv", BaseURL: "ftp://x", Names: []string{"../x"}})
	for _, w := range []string{`version: "1.37" is not a Kubernetes release version`, `arch: "riscv" is not one of amd64, arm64`, "dest: missing", `base URL: "ftp://x"`, `binary "../x"`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v does not say %q", err, w)
		}
	}
	if got := URL(DefaultBaseURL, "v1.37.2", "arm64", "kubectl"); got != "https://dl.k8s.io/release/v1.37.2/bin/linux/arm64/kubectl" {
		t.Errorf("URL = %s", got)
	}
	for _, v := range []string{"1.37.2", "v1.37.2", "v1.38.0-rc.1"} {
		if _, err := Version(v); err != nil {
			t.Errorf("Version(%q): %v", v, err)
		}
	}
	if !slices.Equal(Binaries, []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "kubectl"}) {
		t.Errorf("Binaries = %v", Binaries)
	}
}

func TestParseChecksum(t *testing.T) {
	sum := strings.Repeat("ab", 64)
	for _, tc := range []struct {
		in, err string
	}{
		{sum, ""},
		{sum + "\n", ""},
		{strings.ToUpper(sum), ""},
		{sum + "  kubelet\n", ""},
		{sum + " *kubelet\n", ""},
		{sum + "  kubectl\n", `for "kubectl", not kubelet`},
		{sum[:64], "not a SHA-512 digest"},
		{"", "not a SHA-512 checksum file"},
		{sum + " a b", "not a SHA-512 checksum file"},
	} {
		got, err := ParseChecksum([]byte(tc.in), "kubelet")
		switch {
		case tc.err == "" && (err != nil || got != sum):
			t.Errorf("%q: %q, %v", tc.in, got, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: %v, want %q", tc.in, err, tc.err)
		}
	}
}
