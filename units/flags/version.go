package flags

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a minor release such as 1.24 (Kubernetes) or 3.5 (etcd). The zero Version means
// "not applicable" (for example: never removed).
type Version struct {
	Major, Minor int
}

// ParseVersion parses "1.24", "v1.24" or "1.24.3" (the patch is ignored).
func ParseVersion(s string) (Version, error) {
	t := strings.TrimPrefix(strings.TrimSpace(s), "v")
	parts := strings.Split(t, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return Version{}, fmt.Errorf("version %q: want MAJOR.MINOR, e.g. 1.30", s)
	}
	var nums [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || (len(p) > 1 && p[0] == '0') {
			return Version{}, fmt.Errorf("version %q: %q is not a number; want MAJOR.MINOR, e.g. 1.30", s, p)
		}
		nums[i] = n
	}
	if nums[0] == 0 && nums[1] == 0 {
		return Version{}, fmt.Errorf("version %q: 0.0 is not a release", s)
	}
	return Version{Major: nums[0], Minor: nums[1]}, nil
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
func (v Version) IsZero() bool { return v == Version{} }

// Compare returns -1, 0 or +1 as v is older than, equal to or newer than w.
func (v Version) Compare(w Version) int {
	switch {
	case v.Major != w.Major:
		if v.Major < w.Major {
			return -1
		}
		return 1
	case v.Minor != w.Minor:
		if v.Minor < w.Minor {
			return -1
		}
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
	return fmt.Sprintf("%d.%d", v.Major, v.Minor)
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
