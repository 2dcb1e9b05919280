package images

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hardway-dev/hardway/internal/e2e"
)

// The images' names.
const (
	// PauseRef is the sandbox image, as the node tests' containerd configuration names it in
	// sandbox_image (containerd 1.6's own default is another tag, pause:3.6).
	PauseRef = "registry.k8s.io/pause:3.10"
	// ProgramRef is the pod program's image.
	ProgramRef = "hardway.test/podprogram:e2e"
	// CoreDNSVersion is the CoreDNS release scripts/build-coredns.sh builds by default, and
	// CoreDNSRef the name of its image, the one upstream publishes it under.
	CoreDNSVersion = "v1.15.0"
	CoreDNSRef     = "registry.k8s.io/coredns/coredns:" + CoreDNSVersion
)

// ProgramPath is where the images hold the pod program.
const ProgramPath = "/podprogram"

// Reply is what `podprogram serve` answers to GET / in a pod whose hostname is host.
func Reply(host string) string { return "podprogram on " + host + "\n" }

// File is one entry of an image's only layer.
type File struct {
	Path string      // absolute, cleaned: "/podprogram"
	Mode fs.FileMode // permission bits (and fs.ModeSticky); fs.ModeDir for a directory
	Data []byte      // a regular file's content
}

// Image is a one-layer image for linux/runtime.GOARCH.
type Image struct {
	Ref        string // name:tag, e.g. "registry.k8s.io/pause:3.10"
	Files      []File // parent directories not listed are added with mode 0755
	Entrypoint []string
	Cmd        []string
}

// base is what every image holds besides its program: the directories the runtimes mount into
// (/etc/hosts, /etc/resolv.conf, /etc/hostname) and a /tmp.
var base = []File{
	{Path: "/etc", Mode: fs.ModeDir | 0o755},
	{Path: "/tmp", Mode: fs.ModeDir | fs.ModeSticky | 0o777},
}

// PauseImage is the pod sandbox image under ref: the pod program's pause, the sandbox's PID 1.
func PauseImage(ref string, program []byte) Image {
	return Image{
		Ref:        ref,
		Files:      append(slices.Clone(base), File{Path: ProgramPath, Mode: 0o755, Data: program}),
		Entrypoint: []string{ProgramPath, "pause"},
	}
}

// ProgramImage is the pod program's image under ref; it serves on port 8080 unless the pod's
// args name another subcommand (Cmd is ["serve"], Entrypoint the program).
func ProgramImage(ref string, program []byte) Image {
	return Image{
		Ref:        ref,
		Files:      append(slices.Clone(base), File{Path: ProgramPath, Mode: 0o755, Data: program}),
		Entrypoint: []string{ProgramPath},
		Cmd:        []string{"serve"},
	}
}

// CoreDNSImage is the CoreDNS image under ref, laid out as upstream's: the binary at /coredns,
// the entrypoint; the pod's args name the Corefile (-conf /etc/coredns/Corefile). It runs as
// root (upstream runs it as nonroot with the binary's file capability to bind port 53).
func CoreDNSImage(ref string, coredns []byte) Image {
	return Image{
		Ref:        ref,
		Files:      append(slices.Clone(base), File{Path: "/coredns", Mode: 0o755, Data: coredns}),
		Entrypoint: []string{"/coredns"},
	}
}

// The media types and annotations the archive uses (OCI image spec v1.0; containerd's name).
const (
	mediaTypeIndex    = "application/vnd.oci.image.index.v1+json"
	mediaTypeManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaTypeConfig   = "application/vnd.oci.image.config.v1+json"
	mediaTypeLayer    = "application/vnd.oci.image.layer.v1.tar"

	// AnnotationRefName is the OCI image-layout's name of a manifest: the tag.
	AnnotationRefName = "org.opencontainers.image.ref.name"
	// AnnotationImageName is containerd's: the full name `ctr images import` stores the image
	// under (without it, ctr would name it "import-DATE:TAG").
	AnnotationImageName = "io.containerd.image.name"
)

// The JSON documents of an OCI image layout, the fields this package writes.
type (
	descriptor struct {
		MediaType   string            `json:"mediaType"`
		Digest      string            `json:"digest"`
		Size        int64             `json:"size"`
		Platform    *platform         `json:"platform,omitempty"`
		Annotations map[string]string `json:"annotations,omitempty"`
	}
	platform struct {
		Architecture string `json:"architecture"`
		OS           string `json:"os"`
	}
	index struct {
		SchemaVersion int          `json:"schemaVersion"`
		MediaType     string       `json:"mediaType"`
		Manifests     []descriptor `json:"manifests"`
	}
	manifest struct {
		SchemaVersion int          `json:"schemaVersion"`
		MediaType     string       `json:"mediaType"`
		Config        descriptor   `json:"config"`
		Layers        []descriptor `json:"layers"`
	}
	imageConfig struct {
		Architecture string `json:"architecture"`
		OS           string `json:"os"`
		Config       struct {
			Env        []string `json:"Env,omitempty"`
			Entrypoint []string `json:"Entrypoint,omitempty"`
			Cmd        []string `json:"Cmd,omitempty"`
			WorkingDir string   `json:"WorkingDir,omitempty"`
		} `json:"config"`
		RootFS struct {
			Type    string   `json:"type"`
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
)

// epoch is the modification time of every tar entry: the same images make the same bytes.
var epoch = time.Unix(0, 0).UTC()

// WriteArchive writes the images as one OCI image-layout tar (oci-layout, blobs/sha256/...,
// index.json), which `ctr images import` reads: each image is a manifest of the index,
// annotated with its full name for containerd and its tag for the OCI layout, with one
// uncompressed layer. The same images always make the same bytes.
func WriteArchive(w io.Writer, imgs ...Image) error {
	if len(imgs) == 0 {
		return errors.New("images: no image to write")
	}
	blobs := map[string][]byte{}
	var order []string
	add := func(mediaType string, b []byte) descriptor {
		sum := sha256.Sum256(b)
		d := "sha256:" + hex.EncodeToString(sum[:])
		if _, ok := blobs[d]; !ok {
			blobs[d] = b
			order = append(order, d)
		}
		return descriptor{MediaType: mediaType, Digest: d, Size: int64(len(b))}
	}
	idx := index{SchemaVersion: 2, MediaType: mediaTypeIndex}
	refs := map[string]bool{}
	for i, img := range imgs {
		tag, err := tagOf(img.Ref)
		if err != nil {
			return fmt.Errorf("images[%d]: %w", i, err)
		}
		if refs[img.Ref] {
			return fmt.Errorf("images[%d]: %s is in the archive twice; give each image its own name", i, img.Ref)
		}
		refs[img.Ref] = true
		if len(img.Entrypoint) == 0 && len(img.Cmd) == 0 {
			return fmt.Errorf("images[%d] (%s): neither Entrypoint nor Cmd is set; a container of it would have no process", i, img.Ref)
		}
		l, err := layer(img.Files)
		if err != nil {
			return fmt.Errorf("images[%d] (%s): %w", i, img.Ref, err)
		}
		layerDesc := add(mediaTypeLayer, l)
		var cfg imageConfig
		cfg.Architecture, cfg.OS = runtime.GOARCH, "linux"
		cfg.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
		cfg.Config.Entrypoint, cfg.Config.Cmd = img.Entrypoint, img.Cmd
		cfg.Config.WorkingDir = "/"
		cfg.RootFS.Type = "layers"
		cfg.RootFS.DiffIDs = []string{layerDesc.Digest} // uncompressed: the diff ID is the digest
		cb, err := json.Marshal(cfg)
		if err != nil {
			return err
		}
		mb, err := json.Marshal(manifest{
			SchemaVersion: 2,
			MediaType:     mediaTypeManifest,
			Config:        add(mediaTypeConfig, cb),
			Layers:        []descriptor{layerDesc},
		})
		if err != nil {
			return err
		}
		md := add(mediaTypeManifest, mb)
		md.Platform = &platform{Architecture: runtime.GOARCH, OS: "linux"}
		md.Annotations = map[string]string{AnnotationImageName: img.Ref, AnnotationRefName: tag}
		idx.Manifests = append(idx.Manifests, md)
	}
	ib, err := json.Marshal(idx)
	if err != nil {
		return err
	}

	tw := tar.NewWriter(w)
	dir := func(name string) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX})
	}
	file := func(name string, b []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(b)), ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := tw.Write(b)
		return err
	}
	if err := file("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return err
	}
	if err := dir("blobs/"); err != nil {
		return err
	}
	if err := dir("blobs/sha256/"); err != nil {
		return err
	}
	for _, d := range order {
		if err := file("blobs/sha256/"+strings.TrimPrefix(d, "sha256:"), blobs[d]); err != nil {
			return err
		}
	}
	if err := file("index.json", ib); err != nil {
		return err
	}
	return tw.Close()
}

// tagOf returns the tag of ref, which must be NAME:TAG (no digest).
func tagOf(ref string) (string, error) {
	i := strings.LastIndexByte(ref, ':')
	if ref == "" || i < 0 || strings.ContainsRune(ref[i:], '/') || strings.Contains(ref, "@") || i == 0 || i == len(ref)-1 || ref != strings.ToLower(ref[:i])+ref[i:] {
		return "", fmt.Errorf("image name %q: want a lowercase NAME:TAG, e.g. %s", ref, ProgramRef)
	}
	return ref[i+1:], nil
}

// layer returns the uncompressed layer tar of files, parent directories added, sorted by path.
func layer(files []File) ([]byte, error) {
	byPath := map[string]File{}
	for _, f := range files {
		if !path.IsAbs(f.Path) || path.Clean(f.Path) != f.Path || f.Path == "/" {
			return nil, fmt.Errorf("file %q: want an absolute, clean path below /, e.g. %s", f.Path, ProgramPath)
		}
		if _, dup := byPath[f.Path]; dup {
			return nil, fmt.Errorf("file %s is listed twice", f.Path)
		}
		if f.Mode&^(fs.ModeDir|fs.ModeSticky|fs.ModePerm) != 0 || f.Mode.IsDir() && len(f.Data) > 0 {
			return nil, fmt.Errorf("file %s: mode %v: want a regular file or a directory (without data)", f.Path, f.Mode)
		}
		byPath[f.Path] = f
	}
	for _, f := range files {
		for d := path.Dir(f.Path); d != "/"; d = path.Dir(d) {
			if p, ok := byPath[d]; !ok {
				byPath[d] = File{Path: d, Mode: fs.ModeDir | 0o755}
			} else if !p.Mode.IsDir() {
				return nil, fmt.Errorf("file %s is below %s, which is not a directory", f.Path, d)
			}
		}
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range slices.Sorted(maps.Keys(byPath)) {
		f := byPath[p]
		h := &tar.Header{Name: strings.TrimPrefix(p, "/"), Mode: int64(f.Mode.Perm()), ModTime: epoch, Format: tar.FormatPAX}
		if f.Mode&fs.ModeSticky != 0 {
			h.Mode |= 0o1000
		}
		if f.Mode.IsDir() {
			h.Typeflag, h.Name = tar.TypeDir, h.Name+"/"
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.Data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Import imports the images of the archive into the k8s.io namespace (the CRI plugin's) of the
// containerd at address, with ctr (the path of the ctr program), and unpacks them for the
// overlayfs snapshotter, the CRI plugin's default, so a pod starts from them without a pull.
// Images imported before under the same names are replaced.
func Import(ctx context.Context, ctr, address, archive string) error {
	cmd := exec.CommandContext(ctx, ctr, "--address", address, "--namespace", "k8s.io", "images", "import", "--snapshotter", "overlayfs", archive)
	cmd.Env = append(os.Environ(), "CONTAINERD_SNAPSHOTTER=") // the flag decides, not the caller's environment
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("ctr images import %s into the containerd at %s: %w\n%s", archive, address, err, out)
	}
	return nil
}

var program struct {
	sync.Mutex
	bin []byte
}

// ProgramBinary returns the pod program (internal/e2e/podprogram) built statically for linux
// and this machine's architecture, with Go's own resolver (netgo): built by the first caller of
// the test binary, kept in memory for the others.
func ProgramBinary(t testing.TB) []byte {
	t.Helper()
	program.Lock()
	defer program.Unlock()
	if program.bin == nil {
		out := filepath.Join(t.TempDir(), "podprogram")
		e2e.GoBuild(t, out, "github.com/hardway-dev/hardway/internal/e2e/podprogram", "-tags", "netgo", "-trimpath", "-ldflags", "-s -w")
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		program.bin = b
	}
	return program.bin
}

// Program writes the pod program (see ProgramBinary) into a temporary directory of the test
// and returns its path, to run it on the host.
func Program(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "podprogram")
	if err := os.WriteFile(p, ProgramBinary(t), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// NodeArchive writes the images of the node tests into one archive in a temporary directory of
// the test and returns its path: the sandbox image under pauseRef (containerd's sandbox_image),
// the pod program's (ProgramRef) and CoreDNS's (CoreDNSRef, from HARDWAY_COREDNS: it skips
// through e2e without it).
func NodeArchive(t testing.TB, pauseRef string) string {
	t.Helper()
	coredns, err := os.ReadFile(e2e.RequireBinary(t, "coredns"))
	if err != nil {
		t.Fatal(err)
	}
	prog := ProgramBinary(t)
	p := filepath.Join(t.TempDir(), "images.tar")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := WriteArchive(f, PauseImage(pauseRef, prog), ProgramImage(ProgramRef, prog), CoreDNSImage(CoreDNSRef, coredns)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}
