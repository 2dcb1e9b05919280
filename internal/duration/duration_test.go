package duration

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
		text string // String of the result
	}{
		{"30d", 30 * Day, "30d"},
		{"365d", 365 * Day, "365d"},
		{"1d12h", Day + 12*time.Hour, "1d12h"},
		{"3650d", 87600 * time.Hour, "3650d"},
		{"87600h", 87600 * time.Hour, "3650d"},
		{"8760h0m0s", 8760 * time.Hour, "365d"},
		{"72h", 72 * time.Hour, "3d"},
		{"720h", 30 * Day, "30d"},
		{"1h30m", 90 * time.Minute, "1h30m"},
		{"90m", 90 * time.Minute, "1h30m"},
		{"1h0m5s", time.Hour + 5*time.Second, "1h0m5s"},
		{"1.5h", 90 * time.Minute, "1h30m"},
		{"300ms", 300 * time.Millisecond, "300ms"},
		{"2d1ns", 2*Day + 1, "2d1ns"},
		{"0", 0, "0s"},
		{"0d", 0, "0s"},
		{"+5m", 5 * time.Minute, "5m"},
		{"+1d", Day, "1d"},
		{"106751d23h47m16.854775807s", math.MaxInt64, "106751d23h47m16.854775807s"},
	} {
		got, err := Parse(tt.in)
		if err != nil || time.Duration(got) != tt.want {
			t.Errorf("Parse(%q) = %v, %v; want %v", tt.in, time.Duration(got), err, tt.want)
			continue
		}
		if s := got.String(); s != tt.text {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, s, tt.text)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, tt := range []struct{ in, why string }{
		{"", "not a duration"},
		{"d", "whole number of days"},
		{"30", "not a duration"},
		{"1.5d", "whole number of days"},
		{"1d1d", "not a duration"},
		{"12h1d", "whole number of days"},
		{"1dd", "not a duration"},
		{"1 d", "whole number of days"},
		{"30days", "not a duration"},
		{"-1d", "negative"},
		{"-5m", "negative"},
		{"-0", "negative"},
		{"+-5m", "negative"},
		{"1d-12h", "sign after the days"},
		{"1d+12h", "sign after the days"},
		{"0x10d", "whole number of days"},
		{"106752d", "too long"},
		{"106751d24h", "too long"},
		{"99999999999999999999d", "whole number of days"},
	} {
		_, err := Parse(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.why) || !strings.Contains(err.Error(), "such as 30d") {
			t.Errorf("Parse(%q) = %v; want an error saying %q and how to write one", tt.in, err, tt.why)
		}
	}
}

// The cluster file's decoder and encoding/json read and write Duration as text.
func TestText(t *testing.T) {
	var v struct {
		Leaf Duration `json:"leaf"`
	}
	if err := json.Unmarshal([]byte(`{"leaf":"1d12h"}`), &v); err != nil || time.Duration(v.Leaf) != 36*time.Hour {
		t.Fatalf("json: %v, %v", time.Duration(v.Leaf), err)
	}
	if b, _ := json.Marshal(v); string(b) != `{"leaf":"1d12h"}` {
		t.Errorf("json.Marshal = %s", b)
	}
	for _, in := range []string{`{"leaf":"-1d"}`, `{"leaf":36}`} {
		if err := json.Unmarshal([]byte(in), &v); err == nil {
			t.Errorf("json.Unmarshal(%s) accepted", in)
		}
	}
}

// Duration is a pflag.Value; its default shows in help as the user would type it.
func TestFlagValue(t *testing.T) {
	var v interface {
		String() string
		Set(string) error
		Type() string
	} = new(Duration)
	if err := v.Set("30d"); err != nil || v.String() != "30d" || v.Type() != "duration" {
		t.Fatalf("Set(30d): %v; String %q Type %q", err, v.String(), v.Type())
	}
	if err := v.Set("-1d"); err == nil || v.String() != "30d" {
		t.Errorf("Set(-1d) = %v and left %q; want an error and the value kept", err, v)
	}
}

// FuzzParse: Parse never panics nor returns a negative value, agrees with time.ParseDuration
// wherever that one accepts a non-negative value, and String reads back to the same value.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"30d", "1d12h", "365d", "72h", "1h30m", "0", "+5m", "-1d", "1.5h", "106751d23h47m16.854775807s", "1d-1h", "d", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if std, stdErr := time.ParseDuration(s); stdErr == nil && std >= 0 && !strings.HasPrefix(s, "-") {
			if err != nil || time.Duration(d) != std {
				t.Fatalf("Parse(%q) = %v, %v; time.ParseDuration gives %v", s, time.Duration(d), err, std)
			}
		}
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("Parse(%q) = %v: negative", s, time.Duration(d))
		}
		back, err := Parse(d.String())
		if err != nil || back != d {
			t.Fatalf("Parse(%q) = %v; its String %q reads back as %v, %v", s, time.Duration(d), d.String(), time.Duration(back), err)
		}
	})
}
