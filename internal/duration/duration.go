package duration

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Day is 24 hours: "d" in a duration. Calendar days (a DST change) do not matter to
// certificate lifetimes, which x509 counts in seconds.
const Day = 24 * time.Hour

const maxDays = math.MaxInt64 / int64(Day)

// Duration is a non-negative length of time that reads and prints with days: "30d", "1d12h",
// "72h" as a Go duration. Its text is String's.
type Duration time.Duration

// Parse reads s: anything time.ParseDuration takes, optionally preceded by a whole number of
// days ("30d", "1d12h", "365d"). Negative values are refused.
func Parse(s string) (Duration, error) {
	bad := func(why string) error {
		return fmt.Errorf("%q %s; use a duration such as 30d, 1d12h or 72h", s, why)
	}
	rest := s
	if strings.HasPrefix(rest, "-") {
		return 0, bad("is negative")
	}
	rest = strings.TrimPrefix(rest, "+")
	var days int64
	// No unit of time.ParseDuration has a "d", so a "d" ends the days.
	if i := strings.IndexByte(rest, 'd'); i >= 0 {
		n, err := strconv.ParseUint(rest[:i], 10, 63)
		if err != nil {
			return 0, bad("is not a whole number of days followed by a duration")
		}
		if n > uint64(maxDays) {
			return 0, bad("is too long")
		}
		days, rest = int64(n), rest[i+1:]
		if rest == "" {
			return Duration(days * int64(Day)), nil
		}
		if rest[0] == '+' || rest[0] == '-' {
			return 0, bad("has a sign after the days")
		}
	}
	d, err := time.ParseDuration(rest)
	switch {
	case err != nil:
		return 0, bad("is not a duration")
	case d < 0:
		return 0, bad("is negative")
	case int64(d) > math.MaxInt64-days*int64(Day):
		return 0, bad("is too long")
	}
	return Duration(days*int64(Day) + int64(d)), nil
}

// String writes d as Parse reads it, whole days first and without zero units: 3650d, 1d12h,
// 90m, 0s.
func (d Duration) String() string {
	if d < 0 {
		return time.Duration(d).String()
	}
	days, rest := int64(d)/int64(Day), time.Duration(int64(d)%int64(Day))
	switch {
	case days == 0:
		return short(rest)
	case rest == 0:
		return strconv.FormatInt(days, 10) + "d"
	}
	return strconv.FormatInt(days, 10) + "d" + short(rest)
}

// short is d.String() without trailing zero minutes and seconds: "12h", not "12h0m0s".
func short(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
		if strings.HasSuffix(s, "h0m") {
			s = strings.TrimSuffix(s, "0m")
		}
	}
	return s
}

// MarshalText writes String.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads with Parse.
func (d *Duration) UnmarshalText(b []byte) error { return d.Set(string(b)) }

// Set reads with Parse: Duration is a pflag.Value.
func (d *Duration) Set(s string) error {
	v, err := Parse(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Type names the value in a flag's help, as pflag's own duration does.
func (d *Duration) Type() string { return "duration" }
