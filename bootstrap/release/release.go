package release

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/hardway-dev/hardway/internal/atomicfile"
)

// DefaultBaseURL is the official release location.
const DefaultBaseURL = "https://dl.k8s.io/release"

// Binaries are the programs Fetch downloads by default: the control plane's, the node's and
// kubectl.
var Binaries = []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "kubectl"}

// Arches are the architectures Fetch knows (Linux only).
var Arches = []string{"amd64", "arm64"}

// ChecksumSuffix names a binary's published checksum file.
const ChecksumSuffix = ".sha512"

// Limits on what a download may be: a Kubernetes binary is about 100 MB, its checksum file
// 128 hex digits.
const (
	MaxBinaryBytes   = 1 << 30
	maxChecksumBytes = 4 << 10
)

// Action says what Fetch did with one binary.
type Action string

const (
	Fetched Action = "fetched" // downloaded and verified
	Present Action = "present" // already kept, and its content matches the checksum beside it
)

// File is one binary Fetch keeps.
type File struct {
	Name   string // kubelet
	Path   string // where it is kept
	URL    string // where it comes from
	SHA512 string // lowercase hex
	Size   int64
	Action Action
}

// Options for Fetch.
type Options struct {
	// Version is the Kubernetes release, "1.37.2" or "v1.37.2" (pre-releases such as
	// "v1.38.0-rc.1" too).
	Version string
	// Arch is amd64 or arm64.
	Arch string
	// Dest is the directory that keeps the binaries by version (Dir).
	Dest string
	// BaseURL is the release location, DefaultBaseURL when empty.
	BaseURL string
	// Names are the binaries to fetch, Binaries when empty.
	Names []string
	// Client makes the requests; http.DefaultClient when nil.
	Client *http.Client
	// Done, when set, is called after each binary, fetched or found present.
	Done func(File)
}

var versionRe = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.]+)?$`)

// Version returns v as the release tags are written ("v1.37.2"), or an error that says what
// is wrong.
func Version(v string) (string, error) {
	if !strings.HasPrefix(v, "v") {
		v = "v" + v
	}
	if !versionRe.MatchString(v) {
		return "", fmt.Errorf("%q is not a Kubernetes release version such as 1.37.2", strings.TrimPrefix(v, "v"))
	}
	return v, nil
}

// Dir is where the binaries of version (as Version writes it) for arch are kept under dest.
func Dir(dest, version, arch string) string {
	return filepath.Join(dest, version, "linux-"+arch)
}

// URL is where binary name of version for arch is published under base.
func URL(base, version, arch, name string) string {
	return strings.TrimSuffix(base, "/") + "/" + version + "/bin/linux/" + arch + "/" + name
}

func (o *Options) check() error {
	var errs []error
	v, err := Version(o.Version)
	if err != nil {
		errs = append(errs, fmt.Errorf("version: %w", err))
	}
	o.Version = v
	if !slices.Contains(Arches, o.Arch) {
		errs = append(errs, fmt.Errorf("arch: %q is not one of %s", o.Arch, strings.Join(Arches, ", ")))
	}
	if o.Dest == "" {
		errs = append(errs, errors.New("dest: missing"))
	}
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	if !strings.HasPrefix(o.BaseURL, "https://") && !strings.HasPrefix(o.BaseURL, "http://") {
		errs = append(errs, fmt.Errorf("base URL: %q is not an http(s) URL", o.BaseURL))
	}
	if len(o.Names) == 0 {
		o.Names = Binaries
	}
	for _, n := range o.Names {
		if n == "" || n == "." || n == ".." || strings.ContainsAny(n, "/\\\x00") {
			errs = append(errs, fmt.Errorf("binary %q: not a file name", n))
		}
	}
	if o.Client == nil {
		o.Client = http.DefaultClient
	}
	return errors.Join(errs...)
}

// Fetch keeps every binary of opt.Names for opt.Version and opt.Arch in Dir(opt.Dest, ...),
// each verified against its published SHA-512 (see the package documentation), and returns
// them in order. It stops at the first binary it cannot keep; the ones before it are kept.
func Fetch(ctx context.Context, opt Options) ([]File, error) {
	if err := opt.check(); err != nil {
		return nil, err
	}
	dir := Dir(opt.Dest, opt.Version, opt.Arch)
	if err := atomicfile.MkdirAll(dir, atomicfile.ModeDirPub); err != nil {
		return nil, err
	}
	var out []File
	for _, name := range opt.Names {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		f := File{Name: name, Path: filepath.Join(dir, name), URL: URL(opt.BaseURL, opt.Version, opt.Arch, name)}
		if sum, size, ok := kept(f.Path); ok {
			f.SHA512, f.Size, f.Action = sum, size, Present
		} else {
			sum, size, err := fetch(ctx, opt.Client, f.URL, f.Path)
			if err != nil {
				return out, err
			}
			f.SHA512, f.Size, f.Action = sum, size, Fetched
		}
		out = append(out, f)
		if opt.Done != nil {
			opt.Done(f)
		}
	}
	return out, nil
}

// kept reports whether the binary at p is kept and whole: a regular file whose SHA-512 is the
// one in p.sha512.
func kept(p string) (string, int64, bool) {
	data, err := readSmall(p+ChecksumSuffix, maxChecksumBytes)
	if err != nil {
		return "", 0, false
	}
	want, err := ParseChecksum(data, filepath.Base(p))
	if err != nil {
		return "", 0, false
	}
	got, size, err := hashFile(p)
	if err != nil || got != want {
		return "", 0, false
	}
	return got, size, true
}

// fetch downloads url's checksum, then url itself to dest, verified while it streams.
func fetch(ctx context.Context, client *http.Client, url, dest string) (string, int64, error) {
	name := filepath.Base(dest)
	body, _, err := get(ctx, client, url+ChecksumSuffix, "its published checksum")
	if err != nil {
		return "", 0, err
	}
	data, err := io.ReadAll(io.LimitReader(body, maxChecksumBytes+1))
	body.Close()
	if err != nil {
		return "", 0, fmt.Errorf("%s%s: %w; run again", url, ChecksumSuffix, err)
	}
	if len(data) > maxChecksumBytes {
		return "", 0, fmt.Errorf("%s%s: more than %d bytes, not a checksum file; check --base-url", url, ChecksumSuffix, maxChecksumBytes)
	}
	want, err := ParseChecksum(data, name)
	if err != nil {
		return "", 0, fmt.Errorf("%s%s: %w; check --base-url", url, ChecksumSuffix, err)
	}

	body, length, err := get(ctx, client, url, "the binary")
	if err != nil {
		return "", 0, err
	}
	defer body.Close()
	if length > MaxBinaryBytes {
		return "", 0, fmt.Errorf("%s: %d bytes, more than the %d a Kubernetes binary may be; check --base-url", url, length, MaxBinaryBytes)
	}
	d := &digest{Hash: sha512.New()}
	n, err := atomicfile.WriteStream(dest, io.TeeReader(io.LimitReader(body, MaxBinaryBytes+1), d), atomicfile.ModeExec, func() error {
		return d.verify(url, want, length)
	})
	switch {
	case err == nil:
	case errors.Is(err, errMismatch), errors.Is(err, errLength):
		return "", 0, err
	case length >= 0:
		return "", 0, fmt.Errorf("%s: the download broke off after %d of %d bytes (%v); nothing was kept, run again", url, n, length, errors.Unwrap(err))
	default:
		return "", 0, fmt.Errorf("%s: the download broke off after %d bytes (%v); nothing was kept, run again", url, n, errors.Unwrap(err))
	}
	if err := atomicfile.Write(dest+ChecksumSuffix, []byte(want), atomicfile.ModePublic); err != nil {
		return "", 0, err
	}
	return want, n, nil
}

var (
	errMismatch = errors.New("SHA-512 mismatch")
	errLength   = errors.New("wrong length")
)

// digest hashes and counts a download as it streams.
type digest struct {
	hash.Hash
	n int64
}

func (d *digest) Write(p []byte) (int, error) {
	d.n += int64(len(p))
	return d.Hash.Write(p)
}

// verify is the commit check of a download: every byte announced arrived, no more than a
// binary may have, and the digest is the published one.
func (d *digest) verify(url, want string, length int64) error {
	switch {
	case d.n > MaxBinaryBytes:
		return fmt.Errorf("%s: %w: more than the %d bytes a Kubernetes binary may be; nothing was kept; check --base-url", url, errLength, MaxBinaryBytes)
	case length >= 0 && d.n != length:
		return fmt.Errorf("%s: %w: %d bytes arrived, the server announced %d; nothing was kept, run again", url, errLength, d.n, length)
	}
	if got := hex.EncodeToString(d.Sum(nil)); got != want {
		return fmt.Errorf("%s: %w: the download hashes to %s…, its %s says %s…: it was altered or corrupted on the way, or the mirror is inconsistent; nothing was kept: run again, or use another --base-url", url, errMismatch, got[:16], path(url)+ChecksumSuffix, want[:16])
	}
	return nil
}

func path(url string) string { return url[strings.LastIndex(url, "/")+1:] }

// get requests url and returns its body when the answer is 200, with its length (-1 when the
// server gave none).
func get(ctx context.Context, client *http.Client, url, what string) (io.ReadCloser, int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w; check --base-url", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("GET %s: %w; check the network, or point --base-url at a mirror you can reach", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		fix := "run again later, or use another --base-url"
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusForbidden {
			fix = "check --version and --arch, and that --base-url has the release layout <base>/vX.Y.Z/bin/linux/<arch>/<name>"
		}
		return nil, 0, fmt.Errorf("GET %s (%s): %s; %s", url, what, resp.Status, fix)
	}
	return resp.Body, resp.ContentLength, nil
}

// ParseChecksum reads a published .sha512 file of the binary name: the digest alone, as
// dl.k8s.io serves it, or sha512sum's "<digest>  <name>" line.
func ParseChecksum(data []byte, name string) (string, error) {
	fields := strings.Fields(string(data))
	if len(fields) == 0 || len(fields) > 2 {
		return "", fmt.Errorf("not a SHA-512 checksum file (want 128 hex digits)")
	}
	sum := strings.ToLower(fields[0])
	if len(sum) != 2*sha512.Size || strings.Trim(sum, "0123456789abcdef") != "" {
		return "", fmt.Errorf("%.40q is not a SHA-512 digest (want 128 hex digits)", fields[0])
	}
	if len(fields) == 2 && filepath.Base(strings.TrimPrefix(fields[1], "*")) != name {
		return "", fmt.Errorf("the checksum is for %q, not %s", fields[1], name)
	}
	return sum, nil
}

// hashFile returns the SHA-512 and size of the regular file p, read as a stream.
func hashFile(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return "", 0, fmt.Errorf("%s: not a regular file", p)
	}
	h := sha512.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func readSmall(p string, limit int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, fs.ErrInvalid
	}
	return io.ReadAll(io.LimitReader(f, limit))
}
