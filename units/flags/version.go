package flags

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/version"
)

// Version is a minor release such as 1.24 (Kubernetes) or 3.5 (etcd). Parsing and comparison
// are apimachinery's util/version (as kubeadm compares versions); this type adds what the
// catalogue's YAML needs: text marshaling and a zero value. The zero Version means "not
// applicable" (for example: never removed).
type Version struct{ v *version.Version }

// ParseVersion parses "1.24", "v1.24", "1.24.3" or "1.24.0-rc.1" with util/version (the patch
// and pre-release are dropped). Text after the version, a fourth number, a zero-padded number
// and 0.0 are refused.
func ParseVersion(s string) (Version, error) {
	v, err := version.Parse(s)
	if err != nil {
		return Version{}, fmt.Errorf("version %q is not a number MAJOR.MINOR such as 1.30: %v", s, err)
	}
	// util/version's generic form ignores whatever follows the numbers ("1.30abc") and reads
	// "1.030" as 1.30: take only what it writes back unchanged.
	if canon := strings.TrimPrefix(strings.TrimSpace(s), "v"); v.String() != canon {
		return Version{}, fmt.Errorf("version %q is not a number MAJOR.MINOR such as 1.30: it reads as %s", s, v)
	}
	if len(v.Components()) > 3 {
		return Version{}, fmt.Errorf("version %q: want MAJOR.MINOR, e.g. 1.30, or MAJOR.MINOR.PATCH", s)
	}
	if v.Major() == 0 && v.Minor() == 0 {
		return Version{}, fmt.Errorf("version %q: 0.0 is not a release", s)
	}
	return Version{version.MajorMinor(v.Major(), v.Minor())}, nil
}

// MustVersion is ParseVersion for constants; it panics on a malformed version.
func MustVersion(s string) Version {
	v, err := ParseVersion(s)
	if err != nil {
		panic(err)
	}
	return v
}

// IsZero reports whether v is the zero Version.
func (v Version) IsZero() bool { return v.v == nil }

// Major is the major version, 0 for the zero Version.
func (v Version) Major() int {
	if v.IsZero() {
		return 0
	}
	return int(v.v.Major())
}

// Compare returns -1, 0 or +1 as v is older than, equal to or newer than w. The zero Version is
// older than every other.
func (v Version) Compare(w Version) int {
	switch {
	case v.IsZero() || w.IsZero():
		return boolInt(w.IsZero()) - boolInt(v.IsZero())
	case v.v.LessThan(w.v):
		return -1
	case v.v.GreaterThan(w.v):
		return 1
	}
	return 0
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// AtLeast reports whether v is w or newer. The zero Version is never at least anything.
func (v Version) AtLeast(w Version) bool { return !v.IsZero() && v.Compare(w) >= 0 }

func (v Version) String() string {
	if v.IsZero() {
		return ""
	}
	return v.v.String()
}

// MarshalText and UnmarshalText let versions appear as "1.24" in YAML and JSON.
func (v Version) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

func (v *Version) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*v = Version{}
		return nil
	}
	p, err := ParseVersion(string(b))
	if err != nil {
		return err
	}
	*v = p
	return nil
}
