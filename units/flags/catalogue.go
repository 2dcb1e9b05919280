package flags

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// Type is how a flag's value is parsed, named after the pflag value types.
type Type string

const (
	Bool        Type = "bool"
	String      Type = "string"
	Int         Type = "int"
	Float       Type = "float"
	Duration    Type = "duration"
	StringSlice Type = "stringSlice" // comma-separated; repeating the flag appends
	Map         Type = "map"         // comma-separated key=value pairs; repeating merges
	IP          Type = "ip"
	CIDRs       Type = "cidrs"     // one or two comma-separated CIDRs
	PortRange   Type = "portRange" // N1-N2
	Port        Type = "port"      // 0-65535
	Quantity    Type = "quantity"  // resource quantity, e.g. 512Mi
	URLs        Type = "urls"      // comma-separated URLs (etcd)
)

var knownTypes = map[Type]bool{Bool: true, String: true, Int: true, Float: true, Duration: true,
	StringSlice: true, Map: true, IP: true, CIDRs: true, PortRange: true, Port: true, Quantity: true, URLs: true}

// Repeatable reports whether giving the flag several times accumulates values (pflag slices
// and maps) instead of the last one winning.
func (t Type) Repeatable() bool { return t == StringSlice || t == Map }

// FileKind says what a flag's value points at on disk, for the file checks.
type FileKind string

const (
	NoFile     FileKind = ""
	CertFile   FileKind = "cert"       // PEM certificate (chain), leaf first
	KeyFile    FileKind = "key"        // PEM private key: 0600 or stricter
	CAFile     FileKind = "ca"         // PEM CA bundle the component trusts
	PubKeyFile FileKind = "pubkey"     // PEM public (or private) keys, e.g. service-account verification keys
	Kubeconfig FileKind = "kubeconfig" // kubeconfig; holds credentials: 0600 or stricter
	ConfigFile FileKind = "config"     // a configuration file read at start
	SecretFile FileKind = "secret"     // a file holding secrets (tokens, encryption keys): 0600 or stricter
	Dir        FileKind = "dir"
)

var knownFileKinds = map[FileKind]bool{NoFile: true, CertFile: true, KeyFile: true, CAFile: true,
	PubKeyFile: true, Kubeconfig: true, ConfigFile: true, SecretFile: true, Dir: true}

// Flag is one command-line flag of one component.
type Flag struct {
	Name    string   `json:"name"`
	Type    Type     `json:"type"`
	Default string   `json:"default,omitempty"`
	Meaning string   `json:"meaning"`
	File    FileKind `json:"file,omitempty"`
	// Values lists the accepted values when the flag takes one of a fixed set.
	Values []string `json:"values,omitempty"`

	Added      Version `json:"added,omitzero"`
	Deprecated Version `json:"deprecated,omitzero"`
	NoOp       Version `json:"noop,omitzero"` // accepted but without effect from this version
	Removed    Version `json:"removed,omitzero"`
	// Undeprecated is the version that withdrew the deprecation (kube-apiserver 1.37 did so
	// for --enable-logs-handler): from it on, the flag is current again.
	Undeprecated Version `json:"undeprecated,omitzero"`
	// ReplacedBy names the flag of the same component that takes over, when one does.
	ReplacedBy string `json:"replacedBy,omitempty"`
	// Advice says what to do instead, in words, when no single flag replaces it.
	Advice string `json:"advice,omitempty"`
	// Source names where the lifecycle facts come from (PRs, changelogs, docs).
	Source string `json:"source,omitempty"`
}

// State is a flag's (or plugin's) lifecycle state at one version.
type State int

const (
	Current     State = iota // exists and does what it says
	NotYetAdded              // the version predates the flag: the binary rejects it
	Deprecated               // still accepted, warns at start, will go
	NoOp                     // accepted, does nothing
	Removed                  // unknown to the binary: it exits at start
)

func (s State) String() string {
	return [...]string{"current", "not yet added", "deprecated", "no-op", "removed"}[s]
}

// StateAt is the flag's lifecycle state in version v.
func (f *Flag) StateAt(v Version) State {
	st := lifecycleAt(v, f.Added, f.Deprecated, f.NoOp, f.Removed)
	if st == Deprecated && !f.Undeprecated.IsZero() && v.AtLeast(f.Undeprecated) {
		return Current
	}
	return st
}

func lifecycleAt(v, added, deprecated, noop, removed Version) State {
	switch {
	case !removed.IsZero() && v.AtLeast(removed):
		return Removed
	case !added.IsZero() && !v.AtLeast(added):
		return NotYetAdded
	case !noop.IsZero() && v.AtLeast(noop):
		return NoOp
	case !deprecated.IsZero() && v.AtLeast(deprecated):
		return Deprecated
	}
	return Current
}

// Gate is a Kubernetes feature gate (--feature-gates Name=true|false), which the kube-*
// components and the kubelet share: a gate the version does not know (not yet added, or
// removed) makes the component exit with "unrecognized feature gate". Most gates are registered
// by every component (k8s.io/kubernetes/pkg/features, which they all import); NotIn lists the
// exceptions.
type Gate struct {
	Name    string  `json:"name"`
	Added   Version `json:"added,omitzero"`
	Removed Version `json:"removed,omitzero"`
	// NotIn lists the components whose binaries do not register the gate although the release
	// has it: the package that registers it (the controller-manager's or component-base logging's
	// feature list) is linked into some components only. Such a component exits on the gate with
	// "unrecognized feature gate", as on a removed one.
	NotIn []GateAbsence `json:"notIn,omitempty"`
	// Source names where the facts come from.
	Source string `json:"source"`
}

// GateAbsence is one component that does not register a gate: in every version that has the
// gate, or only before Until.
type GateAbsence struct {
	Component string `json:"component"`
	// Until is the first version whose binary registers the gate; zero: none does yet.
	Until Version `json:"until,omitzero"`
}

// StateAt is the gate's state at v: NotYetAdded, Removed or Current.
func (g *Gate) StateAt(v Version) State {
	return lifecycleAt(v, g.Added, Version{}, Version{}, g.Removed)
}

// RegisteredBy reports whether component's binary at version v registers the gate (given the
// gate exists at v): false when NotIn names the component for v. The GateAbsence returned
// then says until when.
func (g *Gate) RegisteredBy(component string, v Version) (bool, GateAbsence) {
	for _, a := range g.NotIn {
		if a.Component == component && (a.Until.IsZero() || !v.AtLeast(a.Until)) {
			return false, a
		}
	}
	return true, GateAbsence{}
}

// Plugin is a kube-apiserver admission plugin.
type Plugin struct {
	Name    string `json:"name"`
	Meaning string `json:"meaning"`
	// DefaultOn: the plugin is enabled without being listed (from this version on), until
	// DefaultOff when that is set (AlwaysAdmit, the --admission-control default of 1.8-1.9).
	DefaultOn  Version `json:"defaultOn,omitzero"`
	DefaultOff Version `json:"defaultOff,omitzero"`
	Added      Version `json:"added,omitzero"`
	Deprecated Version `json:"deprecated,omitzero"`
	Removed    Version `json:"removed,omitzero"`
	ReplacedBy string  `json:"replacedBy,omitempty"`
	Advice     string  `json:"advice,omitempty"`
	// RequiresGate is a feature gate without which the plugin refuses to start from
	// RequiresGateFrom on (SecurityContextDeny in 1.27-1.29): kube-apiserver exits.
	RequiresGate     string  `json:"requiresGate,omitempty"`
	RequiresGateFrom Version `json:"requiresGateFrom,omitzero"`
	Source           string  `json:"source,omitempty"`
}

// StateAt is the plugin's lifecycle state in version v.
func (p *Plugin) StateAt(v Version) State {
	return lifecycleAt(v, p.Added, p.Deprecated, Version{}, p.Removed)
}

// DefaultAt reports whether kube-apiserver v enables the plugin when no admission flag names it.
func (p *Plugin) DefaultAt(v Version) bool {
	return !p.DefaultOn.IsZero() && v.AtLeast(p.DefaultOn) && (p.DefaultOff.IsZero() || !v.AtLeast(p.DefaultOff)) &&
		p.StateAt(v) != Removed && p.StateAt(v) != NotYetAdded
}

// Library names the flag parser a component uses; parsing rules differ between them.
type Library string

const (
	// PFlag is spf13/pflag (Kubernetes): --name=value, --name value, bare --bool, single-dash
	// letters are shorthands, flags and arguments may be interleaved.
	PFlag Library = "pflag"
	// GoFlag is Go's standard flag package (etcd, and containerd through urfave/cli): -name and
	// --name are the same, bools take no separate value, parsing stops at the first non-flag
	// argument. Shorthands are aliases registered as flags of their own (-c, --c).
	GoFlag Library = "goflag"
)

// Component is one program's flag set.
type Component struct {
	Name string `json:"name"`
	// Binaries are the executable base names that identify the component.
	Binaries []string `json:"binaries,omitempty"`
	// Subcommand is set for hardway's own programs, which are hardway subcommands rather than
	// binaries ("routes" for "hardway routes"). They have no versions of their own (they change
	// with hardway), so Oldest, Newest and the flags' lifecycles are empty.
	Subcommand string  `json:"subcommand,omitempty"`
	Library    Library `json:"library"`
	// Oldest and Newest bound the versions the catalogue covers for this component.
	Oldest Version `json:"oldest"`
	Newest Version `json:"newest"`
	// Complete says the catalogue lists every flag the component's binaries take at Newest
	// (checked against the real binary's --help by realbinary_test.go), so a flag it does not
	// know is a flag the binary refuses; otherwise it lists the security-relevant and common
	// ones only, and an unknown flag may still exist.
	Complete bool     `json:"complete,omitempty"`
	Include  []string `json:"include,omitempty"`
	// Shorthands maps one-letter shorthands (pflag) to flag names.
	Shorthands map[string]string `json:"shorthands,omitempty"`
	Flags      []Flag            `json:"flags"`

	byName map[string]*Flag
}

// Flag returns the named flag (without dashes), or nil when the catalogue does not know it.
func (c *Component) Flag(name string) *Flag { return c.byName[name] }

// Catalogue is every component's flags, the admission plugins, the feature gates and the keys
// of kube-apiserver's --runtime-config.
type Catalogue struct {
	Components    []*Component
	Plugins       []Plugin
	Gates         []Gate
	RuntimeConfig []RuntimeConfigKey

	byName       map[string]*Component
	byBinary     map[string]*Component
	bySubcommand map[string]*Component
	pluginIdx    map[string]*Plugin
	gateIdx      map[string]*Gate
	runtimeIdx   map[string]*RuntimeConfigKey
}

// Component returns the named component ("kube-apiserver", "etcd", ...), or nil.
func (c *Catalogue) Component(name string) *Component { return c.byName[name] }

// ForBinary returns the component whose executable has the given base name, or nil.
func (c *Catalogue) ForBinary(base string) *Component { return c.byBinary[base] }

// ForSubcommand returns hardway's own program run as "hardway <sub>", or nil.
func (c *Catalogue) ForSubcommand(sub string) *Component { return c.bySubcommand[sub] }

// Plugin returns the named admission plugin, or nil.
func (c *Catalogue) Plugin(name string) *Plugin { return c.pluginIdx[name] }

// Gate returns the named feature gate, or nil when the catalogue does not know it.
func (c *Catalogue) Gate(name string) *Gate { return c.gateIdx[name] }

//go:embed data/*.yaml
var dataFS embed.FS

var defaultCatalogue = mustLoad(dataFS)

// Default is the catalogue compiled into hardway.
func Default() *Catalogue { return defaultCatalogue }

func mustLoad(fsys fs.FS) *Catalogue {
	c, err := Load(fsys)
	if err != nil {
		panic("units/flags: embedded catalogue: " + err.Error())
	}
	return c
}

type componentFile struct {
	Component
	Plugins []Plugin `json:"plugins,omitempty"`
	Gates   []Gate   `json:"gates,omitempty"`
	// RuntimeConfig is kube-apiserver's --runtime-config keys (api-versions.yaml).
	RuntimeConfig []RuntimeConfigKey `json:"runtimeConfig,omitempty"`
	// Shared marks a file of flags included by other components, not a component itself.
	Shared bool `json:"shared,omitempty"`
}

// Load reads a catalogue from *.yaml files in fsys (data/ in the embedded copy) and checks it.
func Load(fsys fs.FS) (*Catalogue, error) {
	names, err := fs.Glob(fsys, "data/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	shared := map[string][]Flag{}
	var comps []*componentFile
	cat := &Catalogue{byName: map[string]*Component{}, byBinary: map[string]*Component{}, bySubcommand: map[string]*Component{}, pluginIdx: map[string]*Plugin{}, gateIdx: map[string]*Gate{}, runtimeIdx: map[string]*RuntimeConfigKey{}}
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		var cf componentFile
		if err := yaml.UnmarshalStrict(b, &cf); err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		if cf.Name == "" {
			cf.Name = strings.TrimSuffix(path.Base(n), ".yaml")
		}
		cat.Plugins = append(cat.Plugins, cf.Plugins...)
		cat.Gates = append(cat.Gates, cf.Gates...)
		cat.RuntimeConfig = append(cat.RuntimeConfig, cf.RuntimeConfig...)
		if cf.Shared {
			shared[cf.Name] = cf.Flags
			continue
		}
		comps = append(comps, &cf)
	}
	for _, cf := range comps {
		comp := cf.Component
		own := map[string]bool{}
		for _, f := range comp.Flags {
			own[f.Name] = true
		}
		for _, inc := range comp.Include {
			fl, ok := shared[inc]
			if !ok {
				return nil, fmt.Errorf("component %s includes %q, which no shared file defines", comp.Name, inc)
			}
			for _, f := range fl {
				if !own[f.Name] { // the component's own definition overrides the shared one
					comp.Flags = append(comp.Flags, f)
				}
			}
		}
		sort.Slice(comp.Flags, func(i, j int) bool { return comp.Flags[i].Name < comp.Flags[j].Name })
		comp.byName = map[string]*Flag{}
		for i := range comp.Flags {
			f := &comp.Flags[i]
			if _, dup := comp.byName[f.Name]; dup {
				return nil, fmt.Errorf("component %s: flag %q is listed twice", comp.Name, f.Name)
			}
			comp.byName[f.Name] = f
		}
		c := comp
		cat.Components = append(cat.Components, &c)
		cat.byName[c.Name] = &c
		for _, b := range c.Binaries {
			if other, dup := cat.byBinary[b]; dup {
				return nil, fmt.Errorf("binary %q belongs to both %s and %s", b, other.Name, c.Name)
			}
			cat.byBinary[b] = &c
		}
		if c.Subcommand != "" {
			if other, dup := cat.bySubcommand[c.Subcommand]; dup {
				return nil, fmt.Errorf("hardway %s belongs to both %s and %s", c.Subcommand, other.Name, c.Name)
			}
			cat.bySubcommand[c.Subcommand] = &c
		}
	}
	for i := range cat.Plugins {
		p := &cat.Plugins[i]
		if _, dup := cat.pluginIdx[p.Name]; dup {
			return nil, fmt.Errorf("admission plugin %q is listed twice", p.Name)
		}
		cat.pluginIdx[p.Name] = p
	}
	for i := range cat.Gates {
		g := &cat.Gates[i]
		if _, dup := cat.gateIdx[g.Name]; dup {
			return nil, fmt.Errorf("feature gate %q is listed twice", g.Name)
		}
		cat.gateIdx[g.Name] = g
	}
	for i := range cat.RuntimeConfig {
		k := &cat.RuntimeConfig[i]
		if _, dup := cat.runtimeIdx[k.Name]; dup {
			return nil, fmt.Errorf("--runtime-config key %q is listed twice", k.Name)
		}
		cat.runtimeIdx[k.Name] = k
	}
	if err := cat.Validate(); err != nil {
		return nil, err
	}
	return cat, nil
}

// Validate checks the catalogue's invariants and returns every problem found.
func (c *Catalogue) Validate() error {
	var probs []string
	add := func(format string, a ...any) { probs = append(probs, fmt.Sprintf(format, a...)) }
	for _, comp := range c.Components {
		own := comp.Subcommand != ""
		switch {
		case own && len(comp.Binaries) > 0:
			add("%s: hardway's own program (hardway %s) has binaries %v", comp.Name, comp.Subcommand, comp.Binaries)
		case !own && len(comp.Binaries) == 0:
			add("%s: no binaries", comp.Name)
		}
		if comp.Library != PFlag && comp.Library != GoFlag {
			add("%s: library %q is neither pflag nor goflag", comp.Name, comp.Library)
		}
		switch {
		case own && (!comp.Oldest.IsZero() || !comp.Newest.IsZero()):
			add("%s: hardway's own program has no versions of its own (oldest/newest)", comp.Name)
		case !own && (comp.Oldest.IsZero() || comp.Newest.IsZero() || comp.Oldest.Compare(comp.Newest) > 0):
			add("%s: covered range %s..%s is not a range", comp.Name, comp.Oldest, comp.Newest)
		}
		for short, long := range comp.Shorthands {
			if len(short) != 1 || comp.Flag(long) == nil {
				add("%s: shorthand -%s for unknown flag %q", comp.Name, short, long)
			}
		}
		for i := range comp.Flags {
			f := &comp.Flags[i]
			at := fmt.Sprintf("%s --%s", comp.Name, f.Name)
			if f.Name == "" || strings.HasPrefix(f.Name, "-") || strings.ContainsAny(f.Name, "= \t") {
				add("%s: malformed name", at)
			}
			if !knownTypes[f.Type] {
				add("%s: unknown type %q", at, f.Type)
			}
			if !knownFileKinds[f.File] {
				add("%s: unknown file kind %q", at, f.File)
			}
			if strings.TrimSpace(f.Meaning) == "" {
				add("%s: no meaning", at)
			}
			if own && (!f.Added.IsZero() || !f.Deprecated.IsZero() || !f.NoOp.IsZero() || !f.Removed.IsZero()) {
				add("%s: hardway's own flags have no lifecycle versions (they change with hardway)", at)
			}
			checkLifecycle(add, at, comp.Major(), f.Added, f.Deprecated, f.NoOp, f.Removed)
			if !f.Undeprecated.IsZero() && (f.Deprecated.IsZero() || f.Undeprecated.Compare(f.Deprecated) <= 0) {
				add("%s: undeprecated (%s) without an earlier deprecation", at, f.Undeprecated)
			}
			if f.ReplacedBy != "" {
				r := comp.Flag(f.ReplacedBy)
				switch {
				case r == nil:
					add("%s: replacement --%s is not in the catalogue", at, f.ReplacedBy)
				case r.Name == f.Name:
					add("%s: replaces itself", at)
				case !r.Removed.IsZero() && (f.Removed.IsZero() || r.Removed.Compare(f.Removed) <= 0):
					add("%s: replacement --%s is removed (%s) no later than the flag itself", at, r.Name, r.Removed)
				}
			}
			if (!f.Deprecated.IsZero() || !f.Removed.IsZero()) && f.ReplacedBy == "" && f.Advice == "" {
				add("%s: deprecated or removed without a replacement or advice", at)
			}
			if (!f.Deprecated.IsZero() || !f.Removed.IsZero()) && f.Source == "" {
				add("%s: lifecycle without a source", at)
			}
			if f.Type == Bool && f.Default != "" && f.Default != "true" && f.Default != "false" {
				add("%s: bool default %q", at, f.Default)
			}
		}
	}
	for i := range c.Plugins {
		p := &c.Plugins[i]
		at := "admission plugin " + p.Name
		if strings.TrimSpace(p.Meaning) == "" {
			add("%s: no meaning", at)
		}
		checkLifecycle(add, at, 1, p.Added, p.Deprecated, Version{}, p.Removed)
		if p.ReplacedBy != "" && c.Plugin(p.ReplacedBy) == nil {
			add("%s: replacement %s is not in the catalogue", at, p.ReplacedBy)
		}
		if !p.Removed.IsZero() && p.ReplacedBy == "" && p.Advice == "" {
			add("%s: removed without a replacement or advice", at)
		}
		if !p.Removed.IsZero() && !p.DefaultOn.IsZero() && p.DefaultOn.Compare(p.Removed) >= 0 {
			add("%s: on by default only after its removal", at)
		}
		if !p.DefaultOff.IsZero() && (p.DefaultOn.IsZero() || p.DefaultOff.Compare(p.DefaultOn) <= 0) {
			add("%s: off by default (%s) without being on by default before", at, p.DefaultOff)
		}
		if !p.Added.IsZero() && !p.DefaultOn.IsZero() && p.DefaultOn.Compare(p.Added) < 0 {
			add("%s: on by default (%s) before it was added (%s)", at, p.DefaultOn, p.Added)
		}
		if (p.RequiresGate == "") != p.RequiresGateFrom.IsZero() || (p.RequiresGate != "" && c.Gate(p.RequiresGate) == nil) {
			add("%s: requiresGate %q and requiresGateFrom %q must come together, naming a known feature gate", at, p.RequiresGate, p.RequiresGateFrom)
		}
		if (!p.Added.IsZero() || !p.Deprecated.IsZero() || !p.Removed.IsZero() || !p.DefaultOn.IsZero()) && p.Source == "" {
			add("%s: lifecycle without a source", at)
		}
	}
	for i := range c.Gates {
		g := &c.Gates[i]
		at := "feature gate " + g.Name
		checkLifecycle(add, at, 1, g.Added, Version{}, Version{}, g.Removed)
		if (!g.Added.IsZero() || !g.Removed.IsZero() || len(g.NotIn) > 0) && g.Source == "" {
			add("%s: lifecycle without a source", at)
		}
		for _, a := range g.NotIn {
			switch comp := c.Component(a.Component); {
			case comp == nil || comp.Library != PFlag || comp.Subcommand != "" || comp.Flag("feature-gates") == nil:
				add("%s: notIn names %q, which is not a Kubernetes component with --feature-gates", at, a.Component)
			case a.Until.IsZero():
			case a.Until.Major() != 1 || (!g.Added.IsZero() && a.Until.Compare(g.Added) <= 0) || (!g.Removed.IsZero() && a.Until.Compare(g.Removed) >= 0):
				add("%s: notIn %s until %s is not within the gate's life (%s..%s)", at, a.Component, a.Until, g.Added, g.Removed)
			}
		}
	}
	validateRuntimeConfig(add, c.RuntimeConfig)
	if len(probs) > 0 {
		return fmt.Errorf("flag catalogue has %d problem(s):\n  %s", len(probs), strings.Join(probs, "\n  "))
	}
	return nil
}

// Major is the major version the component's versions use (1 for Kubernetes, 3 for etcd).
func (c *Component) Major() int { return c.Newest.Major() }

func checkLifecycle(add func(string, ...any), at string, major int, added, deprecated, noop, removed Version) {
	for _, v := range []struct {
		name string
		v    Version
	}{{"added", added}, {"deprecated", deprecated}, {"noop", noop}, {"removed", removed}} {
		// A deprecation may predate the component's current major (etcd 2.1).
		if !v.v.IsZero() && (v.v.Major() > major || v.v.Major() < major-1) {
			add("%s: %s version %s does not belong to the %d.x line", at, v.name, v.v, major)
		}
	}
	if !added.IsZero() && !deprecated.IsZero() && deprecated.Compare(added) < 0 {
		add("%s: deprecated (%s) before added (%s)", at, deprecated, added)
	}
	if !removed.IsZero() {
		if !added.IsZero() && removed.Compare(added) <= 0 {
			add("%s: removed (%s) no later than added (%s)", at, removed, added)
		}
		if !deprecated.IsZero() && removed.Compare(deprecated) <= 0 {
			add("%s: removed (%s) no later than deprecated (%s)", at, removed, deprecated)
		}
		if !noop.IsZero() && removed.Compare(noop) <= 0 {
			add("%s: removed (%s) no later than no-op (%s)", at, removed, noop)
		}
	}
}

// UnmarshalJSON accepts only quoted versions: YAML reads 1.20 unquoted as the number 1.2.
func (v *Version) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("version %s must be a quoted string such as \"1.20\" (unquoted, YAML reads 1.20 as 1.2)", b)
	}
	return v.UnmarshalText([]byte(s))
}
