package inspect

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/coreos/go-systemd/v22/unit"
)

// File is a named byte slice: a unit file, a drop-in, a manifest.
type File struct {
	Name string
	Data []byte
}

// UnitOption is one Name=Value setting with where it was read.
type UnitOption struct {
	Section, Name, Value string
	Origin               Origin
}

// Unit is a unit file merged with its drop-ins, as systemd would load it.
type Unit struct {
	Name string // e.g. kube-apiserver.service
	// Files are the main file then the drop-ins, in the order they apply.
	Files []File
	// Options are every setting of every file, in order.
	Options []UnitOption
	// ExecStart is the effective ExecStart= list after empty-value resets.
	ExecStart []UnitOption
	// Env is the environment from Environment= and EnvironmentFile=.
	Env map[string]string
	// EnvProblems says which EnvironmentFile= could not be read, and similar.
	EnvProblems []string
}

// ParseUnitFile parses one unit file's text into options, with the line each starts on. The
// syntax (sections, comments, continuation lines) is go-systemd's unit.Deserialize; line
// numbers come from a second scan of the same text, which go-systemd does not report.
func ParseUnitFile(f File) ([]UnitOption, error) {
	opts, err := unit.DeserializeOptions(bytes.NewReader(f.Data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	lines := optionLines(f.Data)
	out := make([]UnitOption, len(opts))
	for i, o := range opts {
		out[i] = UnitOption{Section: o.Section, Name: o.Name, Value: strings.TrimSuffix(o.Value, "\n"), Origin: Origin{File: f.Name}}
		if len(lines) == len(opts) {
			out[i].Origin.Line = lines[i]
		}
	}
	return out, nil
}

// optionLines returns the 1-based line on which each option of a unit file starts, following
// the same rules as go-systemd's lexer (comments and continuation lines).
func optionLines(data []byte) []int {
	var lines []int
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	n, inSection, cont, skip := 0, false, false, false
	for sc.Scan() {
		n++
		raw := strings.TrimSuffix(sc.Text(), "\r")
		t := strings.TrimSpace(raw)
		if cont || skip {
			ends := strings.HasSuffix(strings.TrimRight(raw, " "), "\\")
			if cont && t == "" {
				ends = false
			}
			cont, skip = cont && ends, skip && ends
			continue
		}
		switch {
		case t == "":
		case t[0] == '#' || t[0] == ';':
			skip = strings.HasSuffix(strings.TrimRight(raw, " "), "\\")
		case t[0] == '[':
			inSection = true
		case inSection && strings.Contains(t, "="):
			lines = append(lines, n)
			v := t[strings.Index(t, "=")+1:]
			cont = strings.TrimSpace(v) != "" && strings.HasSuffix(t, "\\")
		}
	}
	return lines
}

// LoadUnit merges a unit file and its drop-ins (applied in the order given; pass them sorted
// by file name) and resolves the environment. fsys, when not nil, is where
// EnvironmentFile= paths are read from (absolute paths, leading slash removed).
func LoadUnit(name string, main File, dropins []File, fsys fs.FS) (*Unit, error) {
	u := &Unit{Name: name, Env: map[string]string{}}
	for _, f := range append([]File{main}, dropins...) {
		opts, err := ParseUnitFile(f)
		if err != nil {
			return nil, err
		}
		u.Files = append(u.Files, f)
		u.Options = append(u.Options, opts...)
	}
	var envFiles []UnitOption
	for _, o := range u.Options {
		if o.Section != "Service" {
			continue
		}
		switch o.Name {
		case "ExecStart":
			if strings.TrimSpace(o.Value) == "" {
				u.ExecStart = nil // an empty assignment resets the list
				continue
			}
			u.ExecStart = append(u.ExecStart, o)
		case "Environment":
			if strings.TrimSpace(o.Value) == "" {
				u.Env = map[string]string{}
				continue
			}
			words, err := SplitCommandLine(o.Value)
			if err != nil {
				u.EnvProblems = append(u.EnvProblems, fmt.Sprintf("%s: Environment=: %v", o.Origin, err))
				continue
			}
			for _, w := range words {
				k, v, ok := strings.Cut(w, "=")
				if !ok || k == "" {
					u.EnvProblems = append(u.EnvProblems, fmt.Sprintf("%s: Environment=: %q is not NAME=VALUE", o.Origin, w))
					continue
				}
				u.Env[k] = v
			}
		case "EnvironmentFile":
			if strings.TrimSpace(o.Value) == "" {
				envFiles = nil
				continue
			}
			envFiles = append(envFiles, o)
		}
	}
	// Settings from EnvironmentFile= override Environment= (systemd.exec(5)).
	for _, o := range envFiles {
		p := strings.TrimSpace(o.Value)
		optional := strings.HasPrefix(p, "-")
		p = strings.TrimPrefix(p, "-")
		if fsys == nil {
			u.EnvProblems = append(u.EnvProblems, fmt.Sprintf("%s: EnvironmentFile=%s not read (no file system given)", o.Origin, p))
			continue
		}
		data, err := readFile(fsys, fsPath(p))
		if err != nil {
			// "-" ignores a missing file only; systemd fails on any other read error.
			if err = pathCause(err); !optional || !errors.Is(err, fs.ErrNotExist) {
				u.EnvProblems = append(u.EnvProblems, fmt.Sprintf("%s: EnvironmentFile=%s: %v (systemd refuses to start the unit)", o.Origin, p, err))
			}
			continue
		}
		env, err := ParseEnvFile(data)
		if err != nil {
			u.EnvProblems = append(u.EnvProblems, fmt.Sprintf("%s: EnvironmentFile=%s: %v", o.Origin, p, err))
		}
		for k, v := range env {
			u.Env[k] = v
		}
	}
	return u, nil
}

// ParseEnvFile parses an EnvironmentFile= file the way systemd's load_env_file does
// (src/basic/env-file.c, parse_env_file_internal; systemd.exec(5), EnvironmentFile=): a line
// whose first non-blank character is # or ; is a comment; a key runs to "=" (blanks around
// it are dropped); the value's leading blanks are skipped, and outside quotes its trailing
// blanks too. '...' and "..." are quotes where the value starts or right after a closing quote
// (blanks between are skipped), and are removed: KEY="" is the empty value, KEY="a" 'b'c is
// "abc"; once an unquoted character is read, quotes are ordinary characters (KEY=x"y" is
// x"y"). Inside double quotes a backslash escapes only " \ ` and $ (before
// any other character it stays), outside quotes it makes the next character literal; a
// backslash-newline continues the value on the next line, and a newline inside quotes is kept.
// A line without "=" is ignored, and so is a key that is not a valid variable name (systemd
// drops such assignments when it loads the file, e.g. "export KEY=value"); both are reported
// in the error, with their line, while the valid assignments are still returned. A later
// assignment of a key replaces an earlier one.
func ParseEnvFile(data []byte) (map[string]string, error) {
	const (
		preKey = iota
		key
		preValue
		value
		valueEscape
		singleQuote
		doubleQuote
		doubleQuoteEscape
		comment
		commentEscape
	)
	env := map[string]string{}
	var bad []string
	var k, v strings.Builder
	state, line, keyLine := preKey, 1, 1
	keyTrail, valueTrail := -1, -1 // where trailing blanks of the key/value start, or -1
	push := func(trimValue bool) {
		name := k.String()
		if keyTrail >= 0 {
			name = name[:keyTrail]
		}
		val := v.String()
		if trimValue && valueTrail >= 0 {
			val = val[:valueTrail]
		}
		if envName.MatchString(name) {
			env[name] = val
		} else {
			bad = append(bad, fmt.Sprintf("line %d: %q is not a variable name (systemd ignores the assignment)", keyLine, name))
		}
		k.Reset()
		v.Reset()
	}
	for i := 0; i < len(data); i++ {
		c := data[i]
		nl := c == '\n' || c == '\r'
		blank := c == ' ' || c == '\t' || nl
		switch state {
		case preKey:
			switch {
			case c == '#' || c == ';':
				state = comment
			case !blank:
				state, keyTrail, keyLine = key, -1, line
				k.WriteByte(c)
			}
		case key:
			switch {
			case nl:
				bad = append(bad, fmt.Sprintf("line %d: %q has no \"=\" (systemd ignores the line)", keyLine, strings.TrimSpace(k.String())))
				state = preKey
				k.Reset()
			case c == '=':
				state, valueTrail = preValue, -1
			default:
				if !blank {
					keyTrail = -1
				} else if keyTrail < 0 {
					keyTrail = k.Len()
				}
				k.WriteByte(c)
			}
		case preValue:
			switch {
			case nl:
				push(false)
				state = preKey
			case c == '\'':
				state = singleQuote
			case c == '"':
				state = doubleQuote
			case c == '\\':
				state = valueEscape
			case !blank:
				state = value
				v.WriteByte(c)
			}
		case value:
			switch {
			case nl:
				push(true)
				state = preKey
			case c == '\\':
				state, valueTrail = valueEscape, -1
			default:
				if !blank {
					valueTrail = -1
				} else if valueTrail < 0 {
					valueTrail = v.Len()
				}
				v.WriteByte(c)
			}
		case valueEscape:
			state = value
			if !nl {
				v.WriteByte(c)
			}
		case singleQuote:
			if c == '\'' {
				state = preValue
			} else {
				v.WriteByte(c)
			}
		case doubleQuote:
			switch c {
			case '"':
				state = preValue
			case '\\':
				state = doubleQuoteEscape
			default:
				v.WriteByte(c)
			}
		case doubleQuoteEscape:
			state = doubleQuote
			switch {
			case strings.IndexByte("\"\\`$", c) >= 0:
				v.WriteByte(c)
			case c != '\n':
				v.WriteByte('\\')
				v.WriteByte(c)
			}
		case comment:
			if c == '\\' {
				state = commentEscape
			} else if nl {
				state = preKey
			}
		case commentEscape:
			// Since systemd v254 a backslash does not continue a comment onto the next line.
			state = comment
			if nl {
				state = preKey
			}
		}
		if c == '\n' {
			line++
		}
	}
	switch state {
	case preValue, valueEscape, singleQuote, doubleQuote, doubleQuoteEscape:
		push(false)
	case value:
		push(true)
	case key:
		bad = append(bad, fmt.Sprintf("line %d: %q has no \"=\" (systemd ignores the line)", keyLine, strings.TrimSpace(k.String())))
	}
	if len(bad) > 0 {
		return env, errors.New(strings.Join(bad, "; "))
	}
	return env, nil
}
