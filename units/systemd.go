package units

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/coreos/go-systemd/v22/unit"

	"github.com/hardway-dev/hardway/units/bundle"
)

// Service settings shared by every unit. RestartSec=5 keeps a crash loop slow enough to read
// in the journal without delaying recovery; LimitNOFILE=65536 is what etcd and the API server
// need for their watch and client connections (systemd's default soft limit is 1024).
const (
	restartPolicy = "on-failure"
	restartSec    = "5"
	limitNOFILE   = "65536"
)

// service is a unit under construction: the data a component function fills in.
type service struct {
	component   Component
	description string
	docs        string
	// typ is the service Type=: notify for etcd (it sends READY=1), exec for the others (start
	// fails when the program cannot be executed).
	typ   string
	flags []Flag
	// inputs are the node paths the service reads, besides its unit file and program.
	inputs []string
	// after are units of the same node to start first; ordering (After=, Wants=) too.
	after []string
	// targets are systemd units outside hardway to order after and want (network-online.target).
	targets []string
	// extra are more [Service] options (StateDirectory=, LogsDirectory=).
	extra  [][2]string
	health *bundle.Health
	files  []bundle.File
	// program, when set, is ExecStart's program and leading arguments instead of the
	// component's binary in BinDir (containerd from the distribution's package).
	program []string
}

// flag adds --name=value.
func (s *service) flag(name, value string) { s.flags = append(s.flags, Flag{name, value}) }

// file adds --name=path for a file the service reads: a change of it requires a restart.
func (s *service) file(name, path string) {
	s.flag(name, path)
	s.inputs = append(s.inputs, path)
}

// Command is the program and leading arguments of the unit's ExecStart.
func (s *service) command(opt Options) []string {
	if s.program != nil {
		return s.program
	}
	if opt.implementation(s.component) == Hardway {
		return []string{HardwayBinary, s.component.hardwayCommand()}
	}
	return []string{BinDir + "/" + string(s.component)}
}

func (s *service) build(opt Options) (Unit, bundle.File, error) {
	name := s.component.UnitName()
	u := Unit{
		Name:      name,
		Component: s.component,
		Path:      SystemdDir + "/" + name,
		Command:   s.command(opt),
		Flags:     slices.Clone(s.flags),
		After:     slices.Clone(s.after),
		Health:    s.health,
	}
	u.Inputs = dedupe(append(append([]string{u.Path, u.Command[0]}, s.inputs...), filePaths(s.files)...))
	opts, err := s.options(u)
	if err != nil {
		return Unit{}, bundle.File{}, err
	}
	data, err := serialize(name, opts)
	if err != nil {
		return Unit{}, bundle.File{}, err
	}
	u.Options = opts
	return u, bundle.File{Path: u.Path, Kind: bundle.KindUnit, Data: data, Mode: UnitMode}, nil
}

// Options returns the unit's systemd options, as rendered into its file.
func (s *service) options(u Unit) ([]*unit.UnitOption, error) {
	exec, err := execStart(u)
	if err != nil {
		return nil, err
	}
	deps := strings.Join(append(slices.Clone(s.targets), s.after...), " ")
	opts := []*unit.UnitOption{
		unit.NewUnitOption("Unit", "Description", s.description),
		unit.NewUnitOption("Unit", "Documentation", s.docs),
	}
	if deps != "" {
		opts = append(opts,
			unit.NewUnitOption("Unit", "After", deps),
			unit.NewUnitOption("Unit", "Wants", deps))
	}
	opts = append(opts,
		unit.NewUnitOption("Service", "Type", s.typ),
		unit.NewUnitOption("Service", "ExecStart", exec),
		unit.NewUnitOption("Service", "Restart", restartPolicy),
		unit.NewUnitOption("Service", "RestartSec", restartSec),
		unit.NewUnitOption("Service", "LimitNOFILE", limitNOFILE),
	)
	for _, kv := range s.extra {
		opts = append(opts, unit.NewUnitOption("Service", kv[0], kv[1]))
	}
	opts = append(opts, unit.NewUnitOption("Install", "WantedBy", "multi-user.target"))
	return opts, nil
}

var (
	flagNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	// argRe is what an ExecStart argument may hold without quoting or escaping: systemd
	// splits at whitespace, expands $VAR and %-specifiers and interprets quotes and
	// backslashes, so none of those may appear.
	argRe = regexp.MustCompile(`^[A-Za-z0-9_./,:=@+*\[\]-]+$`)
)

// continuation separates ExecStart arguments: a backslash-newline, which systemd (and
// go-systemd's parser) join into one line, so each flag stays on a line of its own and no line
// exceeds go-systemd's 2048-byte limit. It is the only newline a rendered value may contain.
const continuation = " \\\n\t"

// execStart renders the program, its arguments and flags, one flag per line.
func execStart(u Unit) (string, error) {
	var b strings.Builder
	for i, a := range u.Command {
		if !argRe.MatchString(a) {
			return "", fmt.Errorf("%s: ExecStart: argument %q needs quoting; use a path without spaces, quotes, $, %% or backslashes", u.Name, a)
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(a)
	}
	seen := map[string]bool{}
	for _, f := range u.Flags {
		if !flagNameRe.MatchString(f.Name) {
			return "", fmt.Errorf("%s: ExecStart: flag name %q is not a flag name (lower case, digits and '-')", u.Name, f.Name)
		}
		if seen[f.Name] {
			return "", fmt.Errorf("%s: ExecStart: flag --%s given twice", u.Name, f.Name)
		}
		seen[f.Name] = true
		if !argRe.MatchString(f.Value) {
			return "", fmt.Errorf("%s: ExecStart: flag --%s: value %q is empty or has a character systemd would interpret (whitespace, quote, $, %%, backslash)", u.Name, f.Name, f.Value)
		}
		b.WriteString(continuation)
		b.WriteString("--" + f.Name + "=" + f.Value)
	}
	return b.String(), nil
}

// CheckOptions returns an error naming the unit and option for an option go-systemd would
// write wrongly: an empty section or name, or a value with a newline (go-systemd writes values
// verbatim, so a newline would start a new line of the file) other than the ExecStart line
// continuations this package makes.
func CheckOptions(unitName string, opts []*unit.UnitOption) error {
	for _, o := range opts {
		if o.Section == "" || o.Name == "" || strings.ContainsAny(o.Section+o.Name, "[]=\n\r \t") {
			return fmt.Errorf("%s: invalid option [%s] %s", unitName, o.Section, o.Name)
		}
		v := o.Value
		if o.Name == "ExecStart" {
			v = strings.ReplaceAll(v, continuation, " ")
		}
		if strings.ContainsAny(v, "\n\r") {
			return fmt.Errorf("%s: [%s] %s: value %q has a newline; a unit value must be one line", unitName, o.Section, o.Name, o.Value)
		}
		if strings.TrimSpace(o.Value) == "" {
			return fmt.Errorf("%s: [%s] %s: empty value", unitName, o.Section, o.Name)
		}
		if strings.HasSuffix(o.Value, "\\") {
			return fmt.Errorf("%s: [%s] %s: value %q ends with a backslash, which would join the next line", unitName, o.Section, o.Name, o.Value)
		}
	}
	return nil
}

// header opens every unit file; systemd and go-systemd skip comment lines.
func header(unitName string) string {
	return "# " + unitName + ", rendered by hardway. Edit the cluster file and render again rather than this file.\n"
}

func serialize(unitName string, opts []*unit.UnitOption) ([]byte, error) {
	if err := CheckOptions(unitName, opts); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.WriteString(header(unitName))
	if _, err := io.Copy(&buf, unit.Serialize(opts)); err != nil {
		return nil, fmt.Errorf("%s: serialize: %w", unitName, err)
	}
	return buf.Bytes(), nil
}

// ParseUnit parses a rendered unit file back into its options.
func ParseUnit(data []byte) ([]*unit.UnitOption, error) {
	return unit.DeserializeOptions(bytes.NewReader(data))
}

func dedupe(s []string) []string {
	seen := make(map[string]bool, len(s))
	out := s[:0]
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// filePaths are the paths of the files among fs (directories are not inputs).
func filePaths(fs []bundle.File) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		if f.Kind != bundle.KindDirectory {
			out = append(out, f.Path)
		}
	}
	return out
}
