package systemd

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Bundle is everything one node needs: the files to install and the units to run.
type Bundle struct {
	Node  string
	Files []File
	Units []Unit
}

// File is one file to install. Path is absolute on the node (/etc/kubernetes/pki/ca.crt).
type File struct {
	Path string
	Data []byte
	Mode fs.FileMode
}

// Unit is one systemd unit of the bundle.
type Unit struct {
	// Name is the unit name, e.g. "etcd.service". Its unit file is SystemdDir/Name.
	Name string
	// Inputs are node paths whose change requires a restart (certificates, keys, configs,
	// the program). The unit file itself always counts.
	Inputs []string
	// After names units of the bundle that must be healthy before this one starts.
	After []string
	// Health is how to tell the unit serves; nil means "active" is enough.
	Health *Health
}

// Health kinds, as package units renders them.
const (
	HealthEtcd      = "etcd"      // GET etcd's /health with a client certificate; JSON "health":"true"
	HealthAPIServer = "apiserver" // GET /readyz with a client certificate; 200 "ok"
	HealthKubelet   = "kubelet"   // GET the kubelet's local /healthz over plain http; 200
)

// Health is a probe. CA, Cert and Key are node paths (resolved under the launch root); all
// three are required for an https URL, none for an http one.
type Health struct {
	Kind string `json:"kind,omitempty"`
	URL  string `json:"url"`
	CA   string `json:"ca,omitempty"`
	Cert string `json:"cert,omitempty"`
	Key  string `json:"key,omitempty"`
}

// SystemdDir is where unit files live on a node.
const SystemdDir = "/etc/systemd/system"

// UnitPath is the node path of u's unit file.
func (u Unit) UnitPath() string { return path.Join(SystemdDir, u.Name) }

// ManifestName is the manifest's file name inside a node's bundle directory.
const ManifestName = "manifest.json"

// NodeDir is a node's bundle directory inside a bundle directory.
func NodeDir(bundleDir, node string) string { return filepath.Join(bundleDir, "nodes", node) }

// ReadBundle reads node's bundle from bundleDir/nodes/<node>/: the manifest, read strictly in
// bootstrap.Manifest's format (see decodeManifest), and every file it lists, each checked
// against its sha256. Errors name the manifest file and the field (files[3].mode).
func ReadBundle(bundleDir, node string) (*Bundle, error) {
	dir := NodeDir(bundleDir, node)
	mpath := filepath.Join(dir, ManifestName)
	data, err := os.ReadFile(mpath)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: no bundle manifest for node %q; run `hardway init` to write the bundles, and check --bundle and --node", mpath, node)
		}
		return nil, err
	}
	return decodeBundle(mpath, data, node, func(p string) ([]byte, error) {
		return os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
	})
}

// ArchiveName is a node's bundle archive inside a bundle directory: nodes/<node>.tar.gz.
func ArchiveName(node string) string { return node + ".tar.gz" }

// MaxArchiveBytes bounds what ReadBundleArchive unpacks into memory: a bundle holds
// certificates, keys, configs and units, kilobytes each.
const MaxArchiveBytes = 64 << 20

// ReadBundleArchive reads node's bundle from the archive at path (nodes/<node>.tar.gz as
// `hardway init` writes it: manifest.json first, then the node's files by their paths relative
// to /), with the same checks as ReadBundle. Nothing is unpacked to disk.
func ReadBundleArchive(archive, node string) (*Bundle, error) {
	f, err := os.Open(archive)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: no bundle archive; run `hardway init` to write the bundles, and check --bundle", archive)
		}
		return nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: not a gzip archive: %w", archive, err)
	}
	tr := tar.NewReader(gz)
	entries := map[string][]byte{}
	var total int64
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: reading the archive: %w", archive, err)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			continue
		case tar.TypeReg:
		default:
			return nil, fmt.Errorf("%s: entry %s: only regular files and directories belong in a bundle (type %q)", archive, h.Name, h.Typeflag)
		}
		name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		if _, dup := entries[name]; dup {
			return nil, fmt.Errorf("%s: entry %s appears twice", archive, h.Name)
		}
		total += h.Size
		if total > MaxArchiveBytes {
			return nil, fmt.Errorf("%s: more than %d bytes of files; not a node bundle", archive, MaxArchiveBytes)
		}
		b, err := io.ReadAll(io.LimitReader(tr, h.Size))
		if err != nil {
			return nil, fmt.Errorf("%s: entry %s: %w", archive, h.Name, err)
		}
		entries[name] = b
	}
	mname := archive + ":" + ManifestName
	data, ok := entries[ManifestName]
	if !ok {
		return nil, fmt.Errorf("%s: no %s in the archive; is it a node bundle written by `hardway init`?", archive, ManifestName)
	}
	return decodeBundle(mname, data, node, func(p string) ([]byte, error) {
		b, ok := entries[strings.TrimPrefix(p, "/")]
		if !ok {
			return nil, fmt.Errorf("not in the archive %s", archive)
		}
		return b, nil
	})
}

// decodeBundle checks the manifest (named mpath in errors) and reads each file it lists with
// read, by its node path.
func decodeBundle(mpath string, data []byte, node string, read func(nodePath string) ([]byte, error)) (*Bundle, error) {
	m, err := decodeManifest(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", mpath, err)
	}
	if m.Node != node {
		return nil, fmt.Errorf("%s: node: the manifest is for node %q, not %q; check --node and --bundle", mpath, m.Node, node)
	}
	b := &Bundle{Node: node, Units: m.Units}
	described := map[string]bool{}
	for _, u := range m.Units {
		described[u.UnitPath()] = true
	}
	var problems []string
	for i, f := range m.Files {
		p, err := nodePath(f.Path)
		if err != nil {
			problems = append(problems, fmt.Sprintf("files[%d].path: %v", i, err))
			continue
		}
		if p != f.Path {
			problems = append(problems, fmt.Sprintf("files[%d].path: %q is not absolute and clean (%s)", i, f.Path, p))
			continue
		}
		data, err := read(p)
		if err != nil {
			problems = append(problems, fmt.Sprintf("files[%d] (%s): %v", i, p, err))
			continue
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != f.SHA256 {
			problems = append(problems, fmt.Sprintf("files[%d].sha256 (%s): does not match the file: the bundle was modified or copied incompletely", i, p))
			continue
		}
		if path.Dir(p) == SystemdDir && isUnitName(path.Base(p)) && !described[p] {
			problems = append(problems, fmt.Sprintf("files[%d] (%s): a unit file that units does not describe", i, p))
		}
		if f.Mode.Perm() == 0 {
			problems = append(problems, fmt.Sprintf("files[%d].mode (%s): 0000; a bundle file must be readable by its owner", i, p))
			continue
		}
		b.Files = append(b.Files, File{Path: p, Data: data, Mode: f.Mode.Perm()})
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s: %d problem(s):\n  %s", mpath, len(problems), strings.Join(problems, "\n  "))
	}
	return b, b.Validate()
}

func isUnitName(n string) bool {
	for _, s := range []string{".service", ".socket", ".timer", ".target", ".path", ".mount"} {
		if strings.HasSuffix(n, s) {
			return true
		}
	}
	return false
}

// nodePath normalises p to an absolute, clean node path and refuses escapes.
func nodePath(p string) (string, error) {
	if p == "" {
		return "", errors.New("empty path")
	}
	if strings.Contains(p, "\\") {
		return "", fmt.Errorf("%q: backslash in path", p)
	}
	for _, el := range strings.Split(p, "/") {
		if el == ".." {
			return "", fmt.Errorf("%q: '..' in path", p)
		}
	}
	c := path.Clean("/" + p)
	if c == "/" {
		return "", fmt.Errorf("%q: not a file", p)
	}
	return c, nil
}

// Validate checks the bundle's consistency: absolute unique paths, every unit's file present,
// every After naming a unit of the bundle, no dependency cycle.
func (b *Bundle) Validate() error {
	var ps []string
	seen := map[string]bool{}
	for i, f := range b.Files {
		if p, err := nodePath(f.Path); err != nil || p != f.Path {
			ps = append(ps, fmt.Sprintf("files[%d]: path %q must be absolute and clean", i, f.Path))
		}
		if seen[f.Path] {
			ps = append(ps, fmt.Sprintf("files[%d]: %s listed twice", i, f.Path))
		}
		seen[f.Path] = true
		if f.Mode.Perm() == 0 || f.Mode&^fs.ModePerm != 0 {
			ps = append(ps, fmt.Sprintf("files[%d] (%s): mode %v is not a plain permission", i, f.Path, f.Mode))
		}
	}
	units := map[string]bool{}
	for _, u := range b.Units {
		units[u.Name] = true
	}
	for i, u := range b.Units {
		if !isUnitName(u.Name) || strings.Contains(u.Name, "/") {
			ps = append(ps, fmt.Sprintf("units[%d]: %q is not a unit name", i, u.Name))
		}
		if !seen[u.UnitPath()] {
			ps = append(ps, fmt.Sprintf("units[%d] (%s): the bundle has no unit file %s", i, u.Name, u.UnitPath()))
		}
		for _, a := range u.After {
			if !units[a] {
				ps = append(ps, fmt.Sprintf("units[%d] (%s): after %q, which is not in the bundle", i, u.Name, a))
			}
		}
		if h := u.Health; h != nil {
			if strings.HasPrefix(h.URL, "https://") && (h.CA == "" || h.Cert == "" || h.Key == "") {
				ps = append(ps, fmt.Sprintf("units[%d] (%s): health %s needs ca, cert and key", i, u.Name, h.URL))
			} else if !strings.HasPrefix(h.URL, "https://") && !strings.HasPrefix(h.URL, "http://") {
				ps = append(ps, fmt.Sprintf("units[%d] (%s): health URL %q is not http(s)", i, u.Name, h.URL))
			}
		}
	}
	if len(ps) == 0 {
		if _, err := tiers(b.Units); err != nil {
			ps = append(ps, err.Error())
		}
	}
	if len(ps) > 0 {
		return fmt.Errorf("bundle for node %q has %d problem(s):\n  %s", b.Node, len(ps), strings.Join(ps, "\n  "))
	}
	return nil
}
