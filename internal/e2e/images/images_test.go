package images

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/internal/e2e"
)

// readTar returns the regular files of a tar by name, and the names in order.
func readTar(t *testing.T, b []byte) (map[string]*tar.Header, map[string][]byte, []string) {
	t.Helper()
	hdrs, data := map[string]*tar.Header{}, map[string][]byte{}
	var names []string
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return hdrs, data, names
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := hdrs[h.Name]; dup {
			t.Errorf("%s twice in the tar", h.Name)
		}
		d, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		hdrs[h.Name], data[h.Name] = h, d
		names = append(names, h.Name)
	}
}

// Read back as an importer would: every descriptor's blob is there, with its digest and size;
// the index names each image both ways; the config's diff ID is the layer's digest; the layer
// holds the files with their modes, parents first.
func TestWriteArchive(t *testing.T) {
	prog := []byte("#!program")
	imgs := []Image{
		PauseImage(PauseRef, prog),
		ProgramImage(ProgramRef, prog),
		{Ref: "example.test/deep:v1", Files: []File{{Path: "/a/b/c", Mode: 0o600, Data: []byte("c")}}, Cmd: []string{"/a/b/c"}},
	}
	var buf bytes.Buffer
	if err := WriteArchive(&buf, imgs...); err != nil {
		t.Fatal(err)
	}
	hdrs, files, names := readTar(t, buf.Bytes())
	if names[0] != "oci-layout" || names[len(names)-1] != "index.json" {
		t.Errorf("tar order %v: want oci-layout first, index.json last", names)
	}
	if got := string(files["oci-layout"]); got != `{"imageLayoutVersion":"1.0.0"}` {
		t.Errorf("oci-layout = %s", got)
	}
	blob := func(d descriptor, mediaType string) []byte {
		t.Helper()
		if d.MediaType != mediaType {
			t.Errorf("%s: media type %s, want %s", d.Digest, d.MediaType, mediaType)
		}
		b, ok := files["blobs/sha256/"+strings.TrimPrefix(d.Digest, "sha256:")]
		if !ok {
			t.Fatalf("blob %s missing", d.Digest)
		}
		sum := sha256.Sum256(b)
		if "sha256:"+hex.EncodeToString(sum[:]) != d.Digest || int64(len(b)) != d.Size {
			t.Errorf("blob %s: %d bytes, digest sha256:%x; descriptor says %d", d.Digest, len(b), sum, d.Size)
		}
		return b
	}
	var idx index
	if err := json.Unmarshal(files["index.json"], &idx); err != nil {
		t.Fatal(err)
	}
	if idx.SchemaVersion != 2 || idx.MediaType != mediaTypeIndex || len(idx.Manifests) != len(imgs) {
		t.Fatalf("index.json = %s", files["index.json"])
	}
	layers := map[string]bool{}
	for i, md := range idx.Manifests {
		img := imgs[i]
		tag := img.Ref[strings.LastIndexByte(img.Ref, ':')+1:]
		if md.Annotations[AnnotationImageName] != img.Ref || md.Annotations[AnnotationRefName] != tag {
			t.Errorf("%s: annotations %v", img.Ref, md.Annotations)
		}
		if md.Platform == nil || md.Platform.OS != "linux" || md.Platform.Architecture != runtime.GOARCH {
			t.Errorf("%s: platform %+v", img.Ref, md.Platform)
		}
		var m manifest
		if err := json.Unmarshal(blob(md, mediaTypeManifest), &m); err != nil {
			t.Fatal(err)
		}
		var cfg imageConfig
		if err := json.Unmarshal(blob(m.Config, mediaTypeConfig), &cfg); err != nil {
			t.Fatal(err)
		}
		if len(m.Layers) != 1 {
			t.Fatalf("%s: %d layers", img.Ref, len(m.Layers))
		}
		l := blob(m.Layers[0], mediaTypeLayer)
		layers[m.Layers[0].Digest] = true
		if cfg.OS != "linux" || cfg.Architecture != runtime.GOARCH || cfg.RootFS.Type != "layers" || !slices.Equal(cfg.RootFS.DiffIDs, []string{m.Layers[0].Digest}) {
			t.Errorf("%s: config %+v", img.Ref, cfg)
		}
		if !slices.Equal(cfg.Config.Entrypoint, img.Entrypoint) || !slices.Equal(cfg.Config.Cmd, img.Cmd) {
			t.Errorf("%s: entrypoint %q cmd %q, want %q %q", img.Ref, cfg.Config.Entrypoint, cfg.Config.Cmd, img.Entrypoint, img.Cmd)
		}
		lh, ld, lnames := readTar(t, l)
		for _, f := range img.Files {
			name := strings.TrimPrefix(f.Path, "/")
			if f.Mode.IsDir() {
				name += "/"
			}
			h, ok := lh[name]
			if !ok {
				t.Errorf("%s: %s not in the layer (%v)", img.Ref, name, lnames)
				continue
			}
			if got := h.FileInfo().Mode(); got != f.Mode {
				t.Errorf("%s: %s mode %v, want %v", img.Ref, name, got, f.Mode)
			}
			if !bytes.Equal(ld[name], f.Data) {
				t.Errorf("%s: %s content %q, want %q", img.Ref, name, ld[name], f.Data)
			}
		}
		if !slices.IsSorted(lnames) {
			t.Errorf("%s: layer entries %v not sorted (parents first)", img.Ref, lnames)
		}
		if i == 2 && !slices.Equal(lnames, []string{"a/", "a/b/", "a/b/c"}) {
			t.Errorf("%s: layer %v, want the parents added", img.Ref, lnames)
		}
	}
	if len(layers) != 2 {
		t.Errorf("%d distinct layers, want 2 (pause and program share theirs)", len(layers))
	}
	for name, h := range hdrs {
		if h.ModTime.Unix() != 0 {
			t.Errorf("%s: mtime %v", name, h.ModTime)
		}
	}
	var again bytes.Buffer
	if err := WriteArchive(&again, imgs...); err != nil || !bytes.Equal(again.Bytes(), buf.Bytes()) {
		t.Errorf("a second write of the same images differs (%v)", err)
	}
}

func TestWriteArchiveRefuses(t *testing.T) {
	ok := Image{Ref: "a.test/x:1", Cmd: []string{"/x"}, Files: []File{{Path: "/x", Mode: 0o755}}}
	with := func(f func(*Image)) []Image { i := ok; i.Files = slices.Clone(ok.Files); f(&i); return []Image{i} }
	for _, c := range []struct {
		name string
		imgs []Image
		want string
	}{
		{"none", nil, "no image"},
		{"no tag", with(func(i *Image) { i.Ref = "a.test/x" }), "NAME:TAG"},
		{"port, no tag", with(func(i *Image) { i.Ref = "a.test:5000/x" }), "NAME:TAG"},
		{"digest", with(func(i *Image) { i.Ref = "a.test/x@sha256:00" }), "NAME:TAG"},
		{"upper case", with(func(i *Image) { i.Ref = "a.test/X:1" }), "lowercase"},
		{"empty tag", with(func(i *Image) { i.Ref = "a.test/x:" }), "NAME:TAG"},
		{"twice", []Image{ok, ok}, "twice"},
		{"no process", with(func(i *Image) { i.Cmd = nil }), "no process"},
		{"relative", with(func(i *Image) { i.Files[0].Path = "x" }), "absolute"},
		{"unclean", with(func(i *Image) { i.Files[0].Path = "/a/../x" }), "absolute, clean"},
		{"root", with(func(i *Image) { i.Files[0].Path = "/" }), "below /"},
		{"duplicate", with(func(i *Image) { i.Files = append(i.Files, i.Files[0]) }), "listed twice"},
		{"symlink", with(func(i *Image) { i.Files[0].Mode = fs.ModeSymlink | 0o777 }), "regular file or a directory"},
		{"dir with data", with(func(i *Image) { i.Files[0].Mode, i.Files[0].Data = fs.ModeDir|0o755, []byte("x") }), "without data"},
		{"below a file", with(func(i *Image) { i.Files = append(i.Files, File{Path: "/x/y", Mode: 0o644}) }), "not a directory"},
	} {
		err := WriteArchive(io.Discard, c.imgs...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
	}
}

// The built program serves Reply on the host, and says so on stdout: the images' contract with
// podprogram, whose own tests run the subcommands that do not block.
func TestProgramServes(t *testing.T) {
	prog := Program(t)
	addr := "127.0.0.1:" + e2e.FreePort(t, "127.0.0.1")
	cmd := exec.Command(prog, "serve", "--address", "127.0.0.1", "--port", strings.TrimPrefix(addr, "127.0.0.1:"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "podprogram serving on "+addr {
		t.Fatalf("first line %q (%v)", lines.Text(), lines.Err())
	}
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/": Reply(host), "/healthz": "ok\n"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != want {
			t.Errorf("GET %s = %s %q, want %q", path, resp.Status, b, want)
		}
		if !lines.Scan() || !strings.Contains(lines.Text(), "GET "+path) {
			t.Errorf("GET %s: log line %q", path, lines.Text())
		}
	}
}
