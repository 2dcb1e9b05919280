package inspect

import (
	"fmt"
	"strings"

	"github.com/hardway-dev/hardway/units/flags"
)

// Setting is one flag as given on a command line.
type Setting struct {
	Name string `json:"name"` // without dashes
	// Value is the value the flag library would see: after '=', the next argument, or "true"
	// for a bare boolean.
	Value string `json:"value"`
	// Bare is true for a boolean given without a value.
	Bare bool `json:"bare,omitempty"`
	// Words are the arguments the setting was read from (one, or two for "--flag value").
	Words []Word `json:"-"`
	// Flag is the catalogue entry; nil when the catalogue does not know the name.
	Flag *flags.Flag `json:"-"`
	// Dashes is how many dashes preceded the name (1 or 2).
	Dashes int `json:"-"`
	// Unresolved lists variables in the value that no environment defined, and the manifest
	// variables known only at run time (as "VAR=status.podIP at run time (ip)"): checks do
	// not judge such a value by its text.
	Unresolved []string `json:"unresolved,omitempty"`
}

// Origin is where the setting was written.
// fromEnv is the ETCD_* variable the setting was read from, or "" when it is on the command line.
func (s *Setting) fromEnv() string {
	if len(s.Words) == 0 {
		return ""
	}
	return s.Words[0].FromEnv
}

func (s *Setting) Origin() Origin {
	if len(s.Words) == 0 {
		return Origin{}
	}
	return s.Words[0].Origin
}

// Args is a parsed command line.
type Args struct {
	Component  *flags.Component
	Settings   []Setting
	Positional []Word
	Problems   []Finding // ID, message and origin only, as Invocation.Problems
}

// ParseArgs parses args the way the component's flag library does (flags.PFlag or
// flags.GoFlag). Unknown flags are kept (with Flag nil) and reported as problems; parsing goes
// on so that every issue is reported at once.
func ParseArgs(comp *flags.Component, args []Word) *Args {
	a := &Args{Component: comp}
	if comp == nil {
		return a
	}
	goflag := comp.Library == flags.GoFlag
	for i := 0; i < len(args); i++ {
		w := args[i]
		s := w.Value
		if s == "--" {
			a.Positional = append(a.Positional, args[i+1:]...)
			break
		}
		if len(s) < 2 || s[0] != '-' {
			if goflag { // Go's flag package stops at the first non-flag argument
				a.Positional = append(a.Positional, args[i:]...)
				break
			}
			a.Positional = append(a.Positional, w)
			continue
		}
		dashes := 1
		body := s[1:]
		if strings.HasPrefix(body, "-") {
			dashes, body = 2, body[1:]
		}
		if body == "" || body[0] == '=' || body[0] == '-' {
			// "-=x", "--=x", "---x": no flag name. Go's flag package and pflag both refuse it
			// ("bad flag syntax"; pflag reads "-=x" as the shorthand '=' it does not have).
			a.Problems = append(a.Problems, Finding{ID: "flag-unknown", Origin: w.Origin,
				Message: fmt.Sprintf("%q names no flag; the binary exits with \"bad flag syntax\" or \"unknown shorthand flag\"", s)})
			continue
		}
		if !goflag && dashes == 1 {
			name := body
			if k, _, ok := strings.Cut(body, "="); ok {
				name = k
			}
			long, isShort := comp.Shorthands[name[:1]]
			if !isShort || (len(name) > 1 && comp.Flag(name) != nil) || (len(name) > 1 && !isShort) {
				msg := fmt.Sprintf("%s: pflag reads a single dash as one-letter shorthands, so the binary exits with \"unknown shorthand flag\"; write --%s", s, name)
				a.Problems = append(a.Problems, Finding{ID: "flag-single-dash", Message: msg, Origin: w.Origin})
				st := Setting{Name: name, Dashes: 1, Words: []Word{w}, Flag: comp.Flag(name)}
				if _, v, ok := strings.Cut(body, "="); ok {
					st.Value = v
				} else if st.Flag != nil && st.Flag.Type != flags.Bool && i+1 < len(args) {
					i++
					st.Value, st.Words = args[i].Value, append(st.Words, args[i])
				}
				st.Unresolved = unresolvedOf(st.Words)
				a.Settings = append(a.Settings, st)
				continue
			}
			// -v=2, -v 2, -v2
			st := Setting{Name: long, Dashes: 1, Words: []Word{w}, Flag: comp.Flag(long)}
			rest := body[1:]
			switch {
			case strings.HasPrefix(rest, "="):
				st.Value = rest[1:]
			case rest != "":
				st.Value = rest
			case st.Flag.Type == flags.Bool:
				st.Value, st.Bare = "true", true
			case i+1 < len(args):
				i++
				st.Value, st.Words = args[i].Value, append(st.Words, args[i])
			default:
				a.Problems = append(a.Problems, Finding{ID: "flag-missing-value", Message: fmt.Sprintf("-%s needs a value; the binary exits with \"flag needs an argument\"", name[:1]), Origin: w.Origin})
			}
			st.Unresolved = unresolvedOf(st.Words)
			a.Settings = append(a.Settings, st)
			continue
		}
		name, val, hasVal := strings.Cut(body, "=")
		if long, ok := comp.Shorthands[name]; goflag && ok && comp.Flag(name) == nil {
			name = long // an alias registered as a flag of its own (urfave/cli's -c for --config)
		}
		st := Setting{Name: name, Dashes: dashes, Words: []Word{w}, Flag: comp.Flag(name)}
		switch {
		case hasVal:
			st.Value = val
		case st.Flag != nil && st.Flag.Type == flags.Bool:
			st.Value, st.Bare = "true", true
		case st.Flag == nil && (i+1 >= len(args) || strings.HasPrefix(args[i+1].Value, "-")):
			// Unknown flag with no value in sight: treat as a switch.
			st.Bare = true
		case i+1 < len(args):
			i++
			st.Value, st.Words = args[i].Value, append(st.Words, args[i])
		default:
			a.Problems = append(a.Problems, Finding{ID: "flag-missing-value",
				Message: fmt.Sprintf("--%s is the last argument and has no value; the binary exits with \"flag needs an argument\"", name), Origin: w.Origin})
		}
		st.Unresolved = unresolvedOf(st.Words)
		a.Settings = append(a.Settings, st)
	}
	return a
}

func unresolvedOf(ws []Word) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Unresolved...)
		for _, r := range w.RunTime {
			out = append(out, r.String())
		}
	}
	return out
}

// Lookup returns the settings of the named flag, in order.
func (a *Args) Lookup(name string) []*Setting {
	var out []*Setting
	for i := range a.Settings {
		if a.Settings[i].Name == name {
			out = append(out, &a.Settings[i])
		}
	}
	return out
}

// Has reports whether the flag was given.
func (a *Args) Has(name string) bool { return len(a.Lookup(name)) > 0 }

// Value returns the effective value of a flag: the last one for scalars, every value joined by
// commas for slices and maps (pflag appends). ok is false when the flag was not given.
func (a *Args) Value(name string) (string, bool) {
	ss := a.Lookup(name)
	if len(ss) == 0 {
		return "", false
	}
	if f := ss[0].Flag; f != nil && f.Type.Repeatable() && len(ss) > 1 {
		vals := make([]string, 0, len(ss))
		for _, s := range ss {
			if s.Value != "" {
				vals = append(vals, s.Value)
			}
		}
		return strings.Join(vals, ","), true
	}
	return ss[len(ss)-1].Value, true
}

// List returns a slice flag's effective items, trimmed, without empty ones.
func (a *Args) List(name string) []string {
	v, _ := a.Value(name)
	return splitList(v)
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Bool returns a boolean flag's effective value, or def when not given or not a boolean.
func (a *Args) Bool(name string, def bool) bool {
	v, ok := a.Value(name)
	if !ok {
		return def
	}
	switch strings.ToLower(v) {
	case "1", "t", "true":
		return true
	case "0", "f", "false":
		return false
	}
	return def
}

// Unresolved reports whether the flag's effective value depends on an undefined variable.
func (a *Args) Unresolved(name string) bool {
	ss := a.Lookup(name)
	return len(ss) > 0 && len(ss[len(ss)-1].Unresolved) > 0
}
