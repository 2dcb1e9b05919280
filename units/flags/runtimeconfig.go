package flags

import (
	"fmt"
	"regexp"
	"strings"
)

// Span is a run of minor versions in which kube-apiserver's --runtime-config accepts a key:
// from Added (the zero Version: since before the covered range) up to, not including, Removed
// (zero: still accepted at the newest covered version).
type Span struct {
	Added   Version `json:"added,omitzero"`
	Removed Version `json:"removed,omitzero"`
	// Ignored: the key is accepted (the apiserver starts) but has no effect in this span.
	Ignored bool `json:"ignored,omitempty"`
	// Source names where the span's facts come from: the upstream file and tag of each.
	Source string `json:"source"`
}

// Contains reports whether v is within the span.
func (s *Span) Contains(v Version) bool {
	return (s.Added.IsZero() || v.AtLeast(s.Added)) && (s.Removed.IsZero() || !v.AtLeast(s.Removed))
}

// RuntimeConfigKey is a key kube-apiserver's --runtime-config accepts in some versions: an API
// group/version ("batch/v1"; "v1" for the core group) or a special key ("api/all", "api/beta",
// "api/legacy", "api/v1"). Outside its spans the apiserver refuses the key and exits.
type RuntimeConfigKey struct {
	Name string `json:"name"`
	// Meaning says what a special key does; group/versions need none.
	Meaning string `json:"meaning,omitempty"`
	// Accepted lists the spans in which the key is accepted, oldest first. A group/version can
	// come back after it went away (admissionregistration.k8s.io/v1alpha1: 1.8-1.13, 1.26 on).
	Accepted []Span `json:"accepted"`
}

// Special reports whether the key is one of the special keys under api/ (api/all, api/beta,
// api/legacy, api/v1) rather than a group/version the apiserver registers.
func (k *RuntimeConfigKey) Special() bool { return strings.HasPrefix(k.Name, "api/") }

// Group is the API group of a group/version key ("" for the core group "v1").
func (k *RuntimeConfigKey) Group() string {
	g, _, ok := strings.Cut(k.Name, "/")
	if !ok {
		return ""
	}
	return g
}

// At is the key's state at v and the span that decides it: Current (accepted), NoOp (accepted
// without effect), Removed (refused; the span is the latest one that ended at or before v) or
// NotYetAdded (refused; the span is the first one that starts after v).
func (k *RuntimeConfigKey) At(v Version) (State, *Span) {
	var ended *Span
	for i := range k.Accepted {
		s := &k.Accepted[i]
		switch {
		case s.Contains(v) && s.Ignored:
			return NoOp, s
		case s.Contains(v):
			return Current, s
		case !s.Removed.IsZero() && v.AtLeast(s.Removed):
			ended = s
		case ended != nil:
			// v lies between a span that ended and one that starts later: the key went away.
			return Removed, ended
		default:
			return NotYetAdded, s
		}
	}
	if ended != nil {
		return Removed, ended
	}
	return NotYetAdded, nil
}

// Returns is the first span that accepts the key again after v, or nil.
func (k *RuntimeConfigKey) Returns(v Version) *Span {
	for i := range k.Accepted {
		s := &k.Accepted[i]
		if !s.Added.IsZero() && s.Added.Compare(v) > 0 {
			return s
		}
	}
	return nil
}

// RuntimeConfigKey returns the --runtime-config key with this name (a group/version such as
// "batch/v1", "v1", or a special key such as "api/all"), or nil when no covered kube-apiserver
// accepts it.
func (c *Catalogue) RuntimeConfigKey(name string) *RuntimeConfigKey { return c.runtimeIdx[name] }

// GroupVersionsAt lists the group/versions of the API group that kube-apiserver accepts in
// --runtime-config at v ("" is the core group), in catalogue order.
func (c *Catalogue) GroupVersionsAt(group string, v Version) []*RuntimeConfigKey {
	var out []*RuntimeConfigKey
	for i := range c.RuntimeConfig {
		k := &c.RuntimeConfig[i]
		if k.Special() || k.Group() != group {
			continue
		}
		if st, _ := k.At(v); st == Current {
			out = append(out, k)
		}
	}
	return out
}

var (
	apiVersionName = regexp.MustCompile(`^v[1-9][0-9]*((alpha|beta)[1-9][0-9]*)?$`)
	apiGroupName   = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$`)
)

func validateRuntimeConfig(add func(string, ...any), keys []RuntimeConfigKey) {
	for i := range keys {
		k := &keys[i]
		at := "--runtime-config key " + k.Name
		if k.Special() && strings.TrimSpace(k.Meaning) == "" {
			add("%s: a special key needs a meaning", at)
		}
		if !k.Special() {
			g, ver, ok := strings.Cut(k.Name, "/")
			if !ok {
				g, ver = "", k.Name
			}
			if (ok && !apiGroupName.MatchString(g)) || !apiVersionName.MatchString(ver) || (!ok && ver != "v1") {
				add("%s: neither a group/version such as batch/v1 (v1 for the core group) nor a special key api/...", at)
			}
		}
		if len(k.Accepted) == 0 {
			add("%s: no accepted span", at)
		}
		for j := range k.Accepted {
			s := &k.Accepted[j]
			sat := fmt.Sprintf("%s span %d", at, j+1)
			checkLifecycle(add, sat, 1, s.Added, Version{}, Version{}, s.Removed)
			if strings.TrimSpace(s.Source) == "" {
				add("%s: no source", sat)
			}
			if j > 0 && s.Added.IsZero() {
				add("%s: only the first span may start before the covered range (no added)", sat)
			}
			if j < len(k.Accepted)-1 && s.Removed.IsZero() {
				add("%s: only the last span may run to the newest version (no removed)", sat)
			}
			if j > 0 {
				prev := &k.Accepted[j-1]
				if !prev.Removed.IsZero() && !s.Added.IsZero() && s.Added.Compare(prev.Removed) < 0 {
					add("%s: starts (%s) before the previous span ends (%s)", sat, s.Added, prev.Removed)
				}
			}
		}
	}
}
