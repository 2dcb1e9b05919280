package systemd

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
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

// manifest is manifest.json. It is read tolerantly: the file list may be the whole document or
// its "files" field; modes may be octal strings ("0600") or numbers; "units" may map a unit
// name to its input paths, or list unit objects.
type manifest struct {
	Node  string
	Files []manifestFile
	Units []Unit
}

type manifestFile struct {
	Path   string   `json:"path"`
	Mode   fileMode `json:"mode"`
	SHA256 string   `json:"sha256"`
}

type fileMode fs.FileMode

func (m *fileMode) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := strconv.ParseUint(s, 8, 32)
		if err != nil {
			return fmt.Errorf("mode %q is not octal", s)
		}
		*m = fileMode(v)
		return nil
	}
	var n uint32
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("mode %s is neither an octal string nor a number", b)
	}
	*m = fileMode(n)
	return nil
}

type manifestUnit struct {
	Name   string   `json:"name"`
	Inputs []string `json:"inputs"`
	After  []string `json:"after"`
	Health *Health  `json:"health"`
}

func (m *manifest) UnmarshalJSON(b []byte) error {
	if t := strings.TrimSpace(string(b)); strings.HasPrefix(t, "[") {
		return json.Unmarshal(b, &m.Files)
	}
	var raw struct {
		Node  string          `json:"node"`
		Files []manifestFile  `json:"files"`
		Units json.RawMessage `json:"units"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	m.Node, m.Files = raw.Node, raw.Files
	us := strings.TrimSpace(string(raw.Units))
	switch {
	case us == "" || us == "null":
	case strings.HasPrefix(us, "["):
		var list []manifestUnit
		if err := json.Unmarshal(raw.Units, &list); err != nil {
			return fmt.Errorf("units: %w", err)
		}
		for _, u := range list {
			m.Units = append(m.Units, Unit{Name: u.Name, Inputs: u.Inputs, After: u.After, Health: u.Health})
		}
	default:
		var byName map[string]json.RawMessage
		if err := json.Unmarshal(raw.Units, &byName); err != nil {
			return fmt.Errorf("units: %w", err)
		}
		for name, v := range byName {
			var inputs []string
			if err := json.Unmarshal(v, &inputs); err == nil {
				m.Units = append(m.Units, Unit{Name: name, Inputs: inputs})
				continue
			}
			var u manifestUnit
			if err := json.Unmarshal(v, &u); err != nil {
				return fmt.Errorf("units[%q]: neither a list of paths nor a unit object: %w", name, err)
			}
			m.Units = append(m.Units, Unit{Name: name, Inputs: u.Inputs, After: u.After, Health: u.Health})
		}
		slices.SortFunc(m.Units, func(a, b Unit) int { return strings.Compare(a.Name, b.Name) })
	}
	return nil
}

// NodeDir is a node's bundle directory inside a bundle directory.
func NodeDir(bundleDir, node string) string { return filepath.Join(bundleDir, "nodes", node) }

// ReadBundle reads node's bundle from bundleDir/nodes/<node>/: the manifest and every file it
// lists, each checked against its sha256. Unit files under /etc/systemd/system that the
// manifest's "units" does not describe become units without inputs.
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
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", mpath, err)
	}
	if m.Node != "" && m.Node != node {
		return nil, fmt.Errorf("%s: the manifest is for node %q, not %q", mpath, m.Node, node)
	}
	b := &Bundle{Node: node}
	var problems []string
	for i, f := range m.Files {
		p, err := nodePath(f.Path)
		if err != nil {
			problems = append(problems, fmt.Sprintf("files[%d]: %v", i, err))
			continue
		}
		data, err := read(p)
		if err != nil {
			problems = append(problems, fmt.Sprintf("files[%d] (%s): %v", i, p, err))
			continue
		}
		sum := sha256.Sum256(data)
		if f.SHA256 != "" && !strings.EqualFold(hex.EncodeToString(sum[:]), f.SHA256) {
			problems = append(problems, fmt.Sprintf("files[%d] (%s): sha256 does not match the manifest: the bundle was modified or copied incompletely", i, p))
			continue
		}
		mode := fs.FileMode(f.Mode).Perm()
		if mode == 0 {
			problems = append(problems, fmt.Sprintf("files[%d] (%s): no mode", i, p))
			continue
		}
		b.Files = append(b.Files, File{Path: p, Data: data, Mode: mode})
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s: %d problem(s):\n  %s", mpath, len(problems), strings.Join(problems, "\n  "))
	}
	b.Units = m.Units
	known := map[string]bool{}
	for _, u := range b.Units {
		known[u.Name] = true
	}
	for _, f := range b.Files {
		if path.Dir(f.Path) == SystemdDir && isUnitName(path.Base(f.Path)) && !known[path.Base(f.Path)] {
			b.Units = append(b.Units, Unit{Name: path.Base(f.Path)})
		}
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
