package inspect

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/hardway-dev/hardway/units/flags"
)

// checks run on every invocation of a known component, in order.
var checks = []func(*checked){
	checkLifecycle,
	checkPositional,
	checkValues,
	checkAdmission,
	checkAPIServerRules,
	checkRuntimeConfig,
	checkFeatureGates,
	checkSecurity,
	checkEtcd,
	checkControllerManager,
	checkKubelet,
	checkContainerd,
	checkRoutes,
	checkFiles,
}

func (c *checked) is(names ...string) bool {
	for _, n := range names {
		if c.inv.Component == n {
			return true
		}
	}
	return false
}

func checkLifecycle(c *checked) {
	seen := map[string]int{}
	for i := range c.args.Settings {
		s := &c.args.Settings[i]
		seen[s.Name]++
		o := s.Origin()
		f := s.Flag
		if f == nil {
			if s.Dashes == 1 && c.comp.Library == flags.PFlag {
				continue // reported as flag-single-dash
			}
			c.add("flag-unknown", s.Name, o, "Delete it, or check the spelling against '"+c.comp.Name+" --help'.",
				"--%s is not a %s flag that hardway knows; an unknown flag makes the binary exit at start", s.Name, c.comp.Name)
			continue
		}
		fix := lifecycleFix(f)
		if def, ok := insecurePorts[c.inv.Component]; ok && s.Name == "port" && s.Value == "0" && !c.version.AtLeast(flags.MustVersion("1.22")) {
			fix = "Keep --port=0 while the target is before 1.22: without it " + c.inv.Component + " serves its insecure port " + def + "; delete it when moving to 1.22 or later."
		}
		st := f.StateAt(c.version)
		if env := s.fromEnv(); env != "" && (st == flags.Removed || st == flags.NotYetAdded) {
			// etcd sets only the flags it has from ETCD_* variables and logs any other one as
			// "unrecognized environment variable" (pkg/flags verifyEnv): no exit, no effect.
			c.add("flag-noop", s.Name, o, "Delete "+env+" from the environment file.",
				"%s stands for --%s, which etcd %s does not have: etcd ignores it with a warning (unrecognized environment variable)", env, s.Name, c.version)
			continue
		}
		switch st {
		case flags.Removed:
			c.add("flag-removed", s.Name, o, fix, "--%s was removed in %s (target %s): the binary exits with \"unknown flag\"", s.Name, f.Removed, c.version)
		case flags.NotYetAdded:
			c.add("flag-not-yet-added", s.Name, o, "Delete it, or target "+f.Added.String()+" or later.", "--%s arrived in %s, after the target %s", s.Name, f.Added, c.version)
		case flags.NoOp:
			c.add("flag-noop", s.Name, o, fix, "--%s has had no effect since %s%s", s.Name, f.NoOp, removalNote(f, c.version))
		case flags.Deprecated:
			c.add("flag-deprecated", s.Name, o, fix, "--%s is deprecated since %s%s", s.Name, f.Deprecated, removalNote(f, c.version))
		}
	}
	for name, n := range seen {
		ss := c.args.Lookup(name)
		if n < 2 || ss[0].Flag == nil || ss[0].Flag.Type.Repeatable() {
			continue
		}
		vals := map[string]bool{}
		for _, s := range ss {
			vals[s.Value] = true
		}
		if len(vals) > 1 {
			c.add("flag-repeated", name, ss[len(ss)-1].Origin(), "Keep one.", "--%s is given %d times with different values; the last (%q) wins", name, n, ss[len(ss)-1].Value)
		}
	}
}

func removalNote(f *flags.Flag, v flags.Version) string {
	if !f.Removed.IsZero() {
		return fmt.Sprintf(" and is removed in %s", f.Removed)
	}
	return ""
}

func lifecycleFix(f *flags.Flag) string {
	switch {
	case f.ReplacedBy != "" && f.Advice != "":
		return f.Advice
	case f.ReplacedBy != "":
		return "Rename to --" + f.ReplacedBy + "."
	}
	return f.Advice
}

func checkPositional(c *checked) {
	for _, p := range c.args.Positional {
		c.add("arg-positional", "", p.Origin, "Delete it; every setting must be a --flag.",
			"argument %q is not a flag; %s exits on it", p.Value, c.comp.Name)
	}
}

func checkValues(c *checked) {
	for i := range c.args.Settings {
		s := &c.args.Settings[i]
		f := s.Flag
		if f == nil || len(s.Unresolved) > 0 || s.Bare || f.StateAt(c.version) == flags.Removed {
			continue
		}
		o := s.Origin()
		if strings.TrimSpace(s.Value) == "" {
			switch f.Type {
			case flags.String, flags.StringSlice, flags.Map:
				if f.File != flags.NoFile || requiredNonEmpty[c.comp.Name+" "+f.Name] {
					c.add("value-empty", f.Name, o, "Give it a value or delete it.", "--%s is empty", f.Name)
				}
			default:
				c.add("value-empty", f.Name, o, "Give it a value or delete it.", "--%s is empty; a %s flag rejects an empty value and the binary exits", f.Name, f.Type)
			}
			continue
		}
		if err := parseValue(f, s.Value, c.comp.Library); err != nil {
			c.add("value-malformed", f.Name, o, "Fix the value.", "--%s=%s: %v", f.Name, s.Value, err)
			continue
		}
		if len(f.Values) > 0 {
			items := []string{s.Value}
			if f.Type == flags.StringSlice {
				items = splitList(s.Value)
			}
			for _, it := range items {
				if !contains(f.Values, it) {
					c.add("value-not-allowed", f.Name, o, "Use one of: "+strings.Join(f.Values, ", ")+".",
						"--%s: %q is not one of %s", f.Name, it, strings.Join(f.Values, ", "))
				}
			}
		}
	}
	if c.is("kube-apiserver") && !c.args.Has("etcd-servers") {
		c.add("etcd-servers-missing", "etcd-servers", Origin{}, "Add --etcd-servers=https://<etcd>:2379.", "kube-apiserver needs --etcd-servers and exits without it")
	}
}

var requiredNonEmpty = map[string]bool{
	"kube-apiserver etcd-servers": true, "kube-apiserver service-cluster-ip-range": true,
	"kube-apiserver service-account-issuer": true, "etcd listen-client-urls": true,
	"etcd advertise-client-urls": true, "etcd initial-cluster": true, "etcd name": true,
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// parseValue checks a value against the flag's type as its flag library would.
func parseValue(f *flags.Flag, v string, lib flags.Library) error {
	switch f.Type {
	case flags.Bool:
		if _, err := strconv.ParseBool(v); err != nil {
			return fmt.Errorf("not a boolean (true or false)")
		}
	case flags.Int:
		if _, err := strconv.ParseInt(v, 0, 64); err != nil {
			return fmt.Errorf("not an integer")
		}
	case flags.Port:
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 65535 {
			return fmt.Errorf("not a port (0-65535)")
		}
	case flags.Float:
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return fmt.Errorf("not a number")
		}
	case flags.Duration:
		if _, err := time.ParseDuration(v); err != nil {
			return fmt.Errorf("not a duration such as 30s or 1h0m0s")
		}
	case flags.IP:
		if net.ParseIP(v) == nil {
			return fmt.Errorf("not an IP address")
		}
	case flags.CIDRs:
		parts := splitList(v)
		if len(parts) == 0 || len(parts) > 2 {
			return fmt.Errorf("want one CIDR, or two of different families")
		}
		var fams []bool
		for _, p := range parts {
			pf, err := netip.ParsePrefix(p)
			if err != nil {
				return fmt.Errorf("%q is not a CIDR such as 10.96.0.0/12", p)
			}
			if pf.Masked() != pf {
				return fmt.Errorf("%q has host bits set; the network is %s", p, pf.Masked())
			}
			fams = append(fams, pf.Addr().Is4())
		}
		if len(fams) == 2 && fams[0] == fams[1] {
			return fmt.Errorf("two CIDRs of the same family; dual-stack needs one IPv4 and one IPv6")
		}
	case flags.PortRange:
		lo, hi, ok := strings.Cut(v, "-")
		a, err1 := strconv.Atoi(strings.TrimSpace(lo))
		b, err2 := strconv.Atoi(strings.TrimSpace(hi))
		if !ok || err1 != nil || err2 != nil || a < 1 || b > 65535 || a > b {
			return fmt.Errorf("not a port range N1-N2 within 1-65535")
		}
	case flags.Quantity:
		if _, err := resource.ParseQuantity(v); err != nil {
			return fmt.Errorf("not a quantity such as 512Mi")
		}
	case flags.URLs:
		for _, p := range splitList(v) {
			if err := checkURL(p); err != nil {
				return err
			}
		}
	case flags.Map:
		if f.Name == "runtime-config" { // a bare key is accepted by the parser; see runtime-config-api-all
			break
		}
		for _, p := range splitList(v) {
			if !strings.Contains(p, "=") {
				return fmt.Errorf("%q is not key=value", p)
			}
		}
	}
	if f.Name == "etcd-servers" {
		for _, p := range splitList(v) {
			if err := checkURL(p); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "unix" && u.Scheme != "unixs") || u.Host == "" {
		return fmt.Errorf("%q is not a URL such as https://10.0.0.1:2379", s)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q: port %s out of range", s, p)
		}
	}
	return nil
}
