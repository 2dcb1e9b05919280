package bundle

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	strictjson "sigs.k8s.io/json"

	"github.com/hardway-dev/hardway/internal/problem"
)

// FormatVersion is the manifest format this package writes and reads.
const FormatVersion = 1

// Names inside a node's bundle directory and archive.
const (
	ManifestName  = "manifest.json"
	SignatureName = "manifest.json.sig" // a detached signature of manifest.json's bytes
)

// Kind says what an entry holds, and so how it is installed and the widest mode it may have.
type Kind string

const (
	KindUnit        Kind = "unit"        // a systemd unit file or drop-in
	KindConfig      Kind = "config"      // a configuration file nothing secret is in
	KindSecret      Kind = "secret"      // a private key, a kubeconfig, the encryption config
	KindCertificate Kind = "certificate" // a certificate or a public key
	KindBinary      Kind = "binary"      // a program
	KindDirectory   Kind = "directory"   // a directory that must exist with its mode (no content)
	// KindIfAbsent is a file installed only when the node has none: its component rewrites it
	// later (a kubelet-rotated certificate), so a later launch must not put it back.
	KindIfAbsent Kind = "if-absent"
)

// Kinds lists every kind with the widest mode an entry of that kind may have.
var Kinds = map[Kind]fs.FileMode{
	KindUnit:        0o600, // CIS 1.1.1, 1.1.3, 1.1.5, 1.1.7, 4.1.1
	KindConfig:      0o600, // CIS 4.1.9; only root reads any of them
	KindSecret:      0o600,
	KindCertificate: 0o644,
	KindBinary:      0o755,
	KindDirectory:   0o755,
	KindIfAbsent:    0o644,
}

// DefaultOwner is every entry's owner unless it says otherwise.
const DefaultOwner = "root:root"

// HealthKind says how to probe a unit's service.
type HealthKind string

const (
	// HealthEtcd: GET URL (etcd's /health) with the client certificate; healthy when the JSON
	// body has "health":"true".
	HealthEtcd HealthKind = "etcd"
	// HealthAPIServer: GET URL (/readyz) with the client certificate; healthy on 200 "ok".
	HealthAPIServer HealthKind = "apiserver"
	// HealthKubelet: GET URL (the kubelet's local /healthz, plain http on 127.0.0.1); healthy
	// on 200.
	HealthKubelet HealthKind = "kubelet"
	// HealthHTTP: GET URL (a component's /healthz), with the client certificate when it is
	// https; healthy on 200.
	HealthHTTP HealthKind = "http"
	// HealthSocket: URL is unix:///path; healthy when a connection to the socket succeeds
	// (containerd's).
	HealthSocket HealthKind = "socket"
)

var healthKinds = []HealthKind{HealthEtcd, HealthAPIServer, HealthKubelet, HealthHTTP, HealthSocket}

// Health is how a launcher checks that a started unit serves. CA, Cert and Key are node paths,
// all three set for an https URL and none for an http one.
type Health struct {
	Kind HealthKind `json:"kind"`
	URL  string     `json:"url"`
	CA   string     `json:"ca,omitempty"`
	Cert string     `json:"cert,omitempty"`
	Key  string     `json:"key,omitempty"`
}

// Unit is one systemd unit of a bundle.
type Unit struct {
	// Name is the unit name, e.g. "etcd.service"; its unit file is SystemdDir/Name.
	Name string `json:"name"`
	// Inputs are node paths whose change requires a restart (certificates, keys, configs,
	// the program). The unit file and its drop-ins always count.
	Inputs []string `json:"inputs"`
	// After names units of the bundle that must be healthy before this one starts.
	After []string `json:"after"`
	// Health is how to tell the unit serves; nil means "active" is enough.
	Health *Health `json:"health,omitempty"`
	// Version is the minor version ("1.37", "3.6") of the program the unit was rendered for,
	// which launch's preflight holds the installed program to; "" for a unit without one.
	Version string `json:"version,omitempty"`
}

// SystemdDir is where unit files live on a node.
const SystemdDir = "/etc/systemd/system"

// UnitPath is the node path of u's unit file.
func (u Unit) UnitPath() string { return path.Join(SystemdDir, u.Name) }

// Manifest is a bundle's manifest.json.
type Manifest struct {
	Version int     `json:"version"`
	Node    string  `json:"node"`
	Files   []Entry `json:"files"`
	Units   []Unit  `json:"units"`
}

// Entry is one file or directory of a bundle, by its node path.
type Entry struct {
	Path   string `json:"path"`
	Kind   Kind   `json:"kind"`
	Mode   string `json:"mode"`  // four octal digits, "0600"
	Owner  string `json:"owner"` // "user:group"
	Size   int64  `json:"size"`  // 0 for a directory
	SHA256 string `json:"sha256,omitempty"`
	// Artifact says the file is not in the bundle: it is the artifact of that sha256 and size
	// in the store beside it (ArtifactsDir). Only a binary may be one.
	Artifact bool `json:"artifact,omitempty"`
}

// Perm is the entry's mode; call it on a validated manifest.
func (e Entry) Perm() fs.FileMode {
	v, _ := strconv.ParseUint(e.Mode, 8, 32)
	return fs.FileMode(v)
}

// Marshal returns the manifest as `hardway init` writes it: indented JSON and a newline.
func (m *Manifest) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// DecodeManifest reads data strictly (unknown, duplicate and wrongly cased fields are errors)
// and validates it. The error lists every problem with its field path.
func DecodeManifest(data []byte) (*Manifest, error) {
	m := &Manifest{}
	strict, err := strictjson.UnmarshalStrict(data, m, strictjson.DisallowDuplicateFields, strictjson.DisallowUnknownFields)
	if err != nil {
		return nil, fmt.Errorf("not a bundle manifest: %w", err)
	}
	var ps problems
	for _, e := range strict {
		ps.add("", "%v", e)
	}
	if len(ps.List) == 0 {
		ps = m.problems()
	}
	return m, ps.err("not a bundle manifest as `hardway init` writes it")
}

var (
	octalMode = regexp.MustCompile(`^0[0-7]{3}$`)
	hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)
	ownerRe   = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}:[a-z_][a-z0-9_-]{0,31}$`)
	nodeRe    = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$`)
	minorRe   = regexp.MustCompile(`^[1-9][0-9]*\.(0|[1-9][0-9]*)$`)
)

// Validate reports, with field paths, what strict decoding cannot: a wrong version, missing or
// malformed fields, paths that are not clean and absolute or that appear twice, modes wider
// than the kind allows, a unit whose file is not in the bundle or that comes after a unit that
// is not, a dependency cycle.
func (m *Manifest) Validate() error {
	return m.problems().err("bundle manifest")
}

func (m *Manifest) problems() problems {
	var ps problems
	if m.Version != FormatVersion {
		ps.add("version", "%d is not a format this hardway reads (%d); rebuild the bundles with this hardway's `init`", m.Version, FormatVersion)
	}
	if m.Node == "" {
		ps.add("node", "missing")
	} else if !nodeRe.MatchString(m.Node) {
		ps.add("node", "%q is not a node name", m.Node)
	}
	kinds := map[string]Kind{}
	for i, e := range m.Files {
		f := fmt.Sprintf("files[%d]", i)
		if err := checkPath(e.Path); err != nil {
			ps.add(f+".path", "%v", err)
		} else if _, dup := kinds[e.Path]; dup {
			ps.add(f+".path", "%s is listed twice", e.Path)
		} else {
			kinds[e.Path] = e.Kind
		}
		widest, ok := Kinds[e.Kind]
		if !ok {
			ps.add(f+".kind", "%q is not a kind (%s)", e.Kind, kindNames())
		}
		switch {
		case !octalMode.MatchString(e.Mode):
			ps.add(f+".mode", "%q is not a four-digit octal mode like \"0600\"", e.Mode)
		case e.Perm()&0o400 == 0:
			ps.add(f+".mode", "%s leaves the owner unable to read it", e.Mode)
		case ok && e.Perm()&^widest != 0:
			ps.add(f+".mode", "%s is wider than a %s may be (at most %04o)", e.Mode, e.Kind, widest)
		}
		if !ownerRe.MatchString(e.Owner) {
			ps.add(f+".owner", "%q is not user:group", e.Owner)
		}
		if e.Kind == KindDirectory {
			if e.Size != 0 || e.SHA256 != "" || e.Artifact {
				ps.add(f, "a directory has no size, sha256 or artifact")
			}
			continue
		}
		if e.Size < 0 {
			ps.add(f+".size", "%d is negative", e.Size)
		}
		if !hexSHA256.MatchString(e.SHA256) {
			ps.add(f+".sha256", "%q is not 64 lowercase hex digits", e.SHA256)
		}
		if e.Artifact && e.Kind != KindBinary {
			ps.add(f+".artifact", "a %s is carried in the bundle; only a %s may be an artifact", e.Kind, KindBinary)
		}
	}
	// A path that is a file cannot also be the parent of another entry.
	for i, e := range m.Files {
		for d := path.Dir(e.Path); d != "/" && d != "."; d = path.Dir(d) {
			if dk, ok := kinds[d]; ok && dk != KindDirectory {
				ps.add(fmt.Sprintf("files[%d].path", i), "%s is inside %s, which the bundle lists as a %s, not a directory", e.Path, d, dk)
				break
			}
		}
	}
	names := map[string]bool{}
	for _, u := range m.Units {
		names[u.Name] = true
	}
	// A unit file the units do not describe would be enabled by nothing, or started by hand.
	for i, e := range m.Files {
		if e.Kind == KindUnit && path.Dir(e.Path) == SystemdDir && !names[path.Base(e.Path)] {
			ps.add(fmt.Sprintf("files[%d]", i), "%s is a unit file that units does not describe", e.Path)
		}
	}
	for i, u := range m.Units {
		f := fmt.Sprintf("units[%d]", i)
		if !isUnitName(u.Name) {
			ps.add(f+".name", "%q is not a unit name (name.service, .socket, .timer ...)", u.Name)
		} else if kinds[u.UnitPath()] != KindUnit {
			ps.add(f+".name", "the bundle has no unit file %s", u.UnitPath())
		}
		for j, in := range u.Inputs {
			if err := checkPath(in); err != nil {
				ps.add(fmt.Sprintf("%s.inputs[%d]", f, j), "%v", err)
			}
		}
		for j, a := range u.After {
			if !names[a] {
				ps.add(fmt.Sprintf("%s.after[%d]", f, j), "%q is not a unit of the bundle", a)
			}
		}
		if h := u.Health; h != nil {
			ps.List = append(ps.List, h.problems(f+".health").List...)
		}
		if u.Version != "" && !minorRe.MatchString(u.Version) {
			ps.add(f+".version", "%q is not a minor version MAJOR.MINOR such as \"1.37\"", u.Version)
		}
	}
	if cycle := findCycle(m.Units); cycle != nil {
		ps.add("units", "dependency cycle: %s", strings.Join(cycle, " -> "))
	}
	return ps
}

func (h *Health) problems(f string) problems {
	var ps problems
	if !slices.Contains(healthKinds, h.Kind) {
		ps.add(f+".kind", "%q is not a health kind (%s, %s, %s, %s, %s)", h.Kind, HealthEtcd, HealthAPIServer, HealthKubelet, HealthHTTP, HealthSocket)
	}
	switch {
	case h.Kind == HealthSocket || strings.HasPrefix(h.URL, "unix://"):
		if h.Kind != HealthSocket {
			ps.add(f+".url", "%q: a unix socket is probed by kind %s", h.URL, HealthSocket)
		} else if err := checkPath(strings.TrimPrefix(h.URL, "unix://")); err != nil || !strings.HasPrefix(h.URL, "unix:///") {
			ps.add(f+".url", "%q is not unix:// and a clean absolute path", h.URL)
		}
		if h.CA != "" || h.Cert != "" || h.Key != "" {
			ps.add(f, "a socket probe takes no ca, cert or key")
		}
	case strings.HasPrefix(h.URL, "https://"):
		for _, p := range []struct{ name, v string }{{"ca", h.CA}, {"cert", h.Cert}, {"key", h.Key}} {
			if p.v == "" {
				ps.add(f+"."+p.name, "missing: an https probe needs ca, cert and key")
			} else if err := checkPath(p.v); err != nil {
				ps.add(f+"."+p.name, "%v", err)
			}
		}
	case strings.HasPrefix(h.URL, "http://"):
		if h.CA != "" || h.Cert != "" || h.Key != "" {
			ps.add(f, "a plain http probe takes no ca, cert or key")
		}
	default:
		ps.add(f+".url", "%q is not an http or https URL", h.URL)
	}
	return ps
}

// checkPath accepts a clean absolute node path other than "/".
func checkPath(p string) error {
	switch {
	case p == "":
		return errors.New("missing")
	case !strings.HasPrefix(p, "/") || p == "/":
		return fmt.Errorf("%q is not an absolute path to a file", p)
	case path.Clean(p) != p || slices.Contains(strings.Split(p, "/"), ".."):
		return fmt.Errorf("%q is not clean (want %q)", p, path.Clean(p))
	case strings.ContainsAny(p, "\\\x00\n"):
		return fmt.Errorf("%q holds a backslash, NUL or newline", p)
	}
	return nil
}

func isUnitName(n string) bool {
	if n == "" || strings.ContainsAny(n, "/\\ \x00\n") || strings.HasPrefix(n, ".") {
		return false
	}
	for _, s := range []string{".service", ".socket", ".timer", ".target", ".path", ".mount"} {
		if strings.HasSuffix(n, s) && len(n) > len(s) {
			return true
		}
	}
	return false
}

// findCycle returns a dependency cycle among the units' After lists, or nil.
func findCycle(units []Unit) []string {
	after := map[string][]string{}
	for _, u := range units {
		after[u.Name] = u.After
	}
	const visiting, done = 1, 2
	state := map[string]int{}
	var stack []string
	var visit func(n string) []string
	visit = func(n string) []string {
		switch state[n] {
		case visiting:
			i := slices.Index(stack, n)
			return append(slices.Clone(stack[i:]), n)
		case done:
			return nil
		}
		state[n] = visiting
		stack = append(stack, n)
		for _, a := range after[n] {
			if c := visit(a); c != nil {
				return c
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = done
		return nil
	}
	for _, u := range units {
		if c := visit(u.Name); c != nil {
			return c
		}
	}
	return nil
}

func kindNames() string {
	names := make([]string, 0, len(Kinds))
	for k := range Kinds {
		names = append(names, string(k))
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// problems are what Validate found, each an error with its field path.
type problems struct{ problem.List }

func (ps *problems) add(field, format string, args ...any) {
	ps.List = append(ps.List, problem.Errorf(field, "", format, args...))
}

func (ps problems) err(what string) error {
	if err := ps.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// Restarts reports whether a change of the node paths in changed requires u to restart: its
// unit file, one of its drop-ins or one of its inputs changed. It is launch's rule, and what
// init tells the user launch will do.
func (u Unit) Restarts(changed map[string]bool) bool {
	if changed[u.UnitPath()] {
		return true
	}
	for p := range changed {
		if path.Dir(p) == u.UnitPath()+".d" {
			return true
		}
	}
	return slices.ContainsFunc(u.Inputs, func(p string) bool { return changed[path.Clean(p)] })
}

// Diff compares the manifest a node has (old; nil for a node that has none) with the one it will
// get (m): the node paths whose content, kind or mode differ, were added or removed, sorted; and
// the units of m that launch will start (new ones) or restart (Unit.Restarts), in m's order.
func (m *Manifest) Diff(old *Manifest) (changed []string, start, restart []string) {
	had := map[string]Entry{}
	if old != nil {
		for _, e := range old.Files {
			had[e.Path] = e
		}
	}
	set := map[string]bool{}
	for _, e := range m.Files {
		if o, ok := had[e.Path]; !ok || o.SHA256 != e.SHA256 || o.Kind != e.Kind || o.Mode != e.Mode || o.Owner != e.Owner {
			set[e.Path] = true
		}
		delete(had, e.Path)
	}
	for p := range had {
		set[p] = true
	}
	for p := range set {
		changed = append(changed, p)
	}
	slices.Sort(changed)
	oldUnits := map[string]bool{}
	if old != nil {
		for _, u := range old.Units {
			oldUnits[u.Name] = true
		}
	}
	for _, u := range m.Units {
		switch {
		case !oldUnits[u.Name]:
			start = append(start, u.Name)
		case u.Restarts(set):
			restart = append(restart, u.Name)
		}
	}
	return changed, start, restart
}
