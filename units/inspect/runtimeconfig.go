package inspect

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/hardway-dev/hardway/units/flags"
)

// What kube-apiserver does with a --runtime-config item, per minor, as its sources say (the
// group/versions each minor accepts are data: units/flags/data/api-versions.yaml):
//
//   - 1.8-1.9: pkg/kubeapiserver/default_storage_factory_builder.go mergeAPIResourceConfigs.
//     api/all acts on "true" and "false" and ignores other values; api/legacy is ignored; "api/v1"
//     is the core group; a key of one token ("v1" included) or of four or more is skipped; a
//     group/version, or group/version/resource, the legacy registry does not hold is refused
//     ("group version X that has not been registered"); a value other than empty or a
//     strconv.ParseBool boolean is refused.
//   - 1.10 on: Complete rewrites v1, v1/*, api/v1, api/v1/* to /v1 and deletes api/legacy;
//     APIEnablementOptions.Validate refuses api/all=false alone, a key of one or of four or more
//     tokens ("runtime-config invalid key X") and a group none of the schemes knows ("unknown api
//     groups X"); resourceconfig.MergeAPIResourceConfigs refuses a version its scheme does not
//     register for a known group and a non-boolean value.
//   - group/version/resource keys: skipped by the merge in 1.10-1.13 (no effect); from 1.14 only
//     extensions/v1beta1/<resource> acts, other groups' are logged ("ignoring invalid key") and
//     skipped before the version is checked; from 1.24 every group's act, the version is checked
//     and the resource must be lowercase.
//   - api/ga, api/beta, api/alpha arrive in 1.17; from 1.17 the api/* matchers take exactly
//     "true" or "false" and refuse anything else ("invalid value api/all=").
var (
	rcV110 = flags.MustVersion("1.10")
	rcV114 = flags.MustVersion("1.14")
	rcV117 = flags.MustVersion("1.17")
	rcV124 = flags.MustVersion("1.24")
	rcV136 = flags.MustVersion("1.36")
)

// rcVerdict is one kube-apiserver minor's reading of one --runtime-config item.
type rcVerdict struct {
	id      string // the rule it breaks, "" when the item is accepted and acts
	message string
	fix     string
	drop    bool // --fix deletes the item: the apiserver refuses it, or it does nothing
	// overridden: a later item sets the same key, so this one is not read at all.
	overridden bool
}

// rcItem is a --runtime-config item as kube-apiserver's ConfigurationMap reads it.
type rcItem struct {
	raw, key, value string
	bare            bool // no "=": the value is empty
}

func parseRuntimeConfig(items []string) []rcItem {
	out := make([]rcItem, 0, len(items))
	for _, it := range items {
		k, v, ok := strings.Cut(it, "=")
		out = append(out, rcItem{raw: it, key: strings.TrimSpace(k), value: strings.TrimSpace(v), bare: !ok})
	}
	return out
}

// judgeRuntimeConfig judges every item of --runtime-config at v. items is the list as given
// (later items win for the same key, as they do in the apiserver's map).
func judgeRuntimeConfig(cat *flags.Catalogue, items []string, v flags.Version) []rcVerdict {
	parsed := parseRuntimeConfig(items)
	last := map[string]int{}
	for i, it := range parsed {
		last[it.key] = i
	}
	out := make([]rcVerdict, len(parsed))
	for i, it := range parsed {
		if last[it.key] != i {
			out[i] = rcVerdict{overridden: true}
			continue
		}
		out[i] = judgeRuntimeConfigItem(cat, it, v)
	}
	// 1.10+: api/all=false must not stand alone (api/legacy is deleted before the check).
	if v.AtLeast(rcV110) {
		keys := map[string]string{}
		for _, it := range parsed {
			if it.key != "api/legacy" {
				keys[it.key] = it.value
			}
		}
		if len(keys) == 1 && keys["api/all"] == "false" {
			i := last["api/all"]
			out[i] = rcVerdict{id: "runtime-config-invalid",
				message: fmt.Sprintf("--runtime-config=api/all=false alone turns off every API; kube-apiserver %s exits with \"invalid runtime-config with only api/all=false\"", v),
				fix:     "Add the group/versions to keep, e.g. api/all=false,v1=true,apps/v1=true, or delete api/all=false."}
		}
	}
	return out
}

// rcBool reports whether s is a value getRuntimeConfigValue reads (strconv.ParseBool).
func rcBool(s string) bool { _, err := strconv.ParseBool(s); return err == nil }

func judgeRuntimeConfigItem(cat *flags.Catalogue, it rcItem, v flags.Version) rcVerdict {
	old := !v.AtLeast(rcV110)
	key := it.key
	invalid := func(format string, a ...any) rcVerdict {
		return rcVerdict{id: "runtime-config-invalid", message: fmt.Sprintf(format, a...)}
	}
	ignored := func(fix, format string, a ...any) rcVerdict {
		return rcVerdict{id: "runtime-config-ignored", message: fmt.Sprintf(format, a...), fix: fix, drop: true}
	}
	badValue := func() rcVerdict {
		r := invalid("--runtime-config %s=%s: the value is not true or false; kube-apiserver %s exits with \"invalid value of %s: %s\"", key, it.value, v, key, it.value)
		r.fix = "Write " + key + "=true or " + key + "=false."
		return r
	}
	switch key {
	case "api/all", "api/ga", "api/beta", "api/alpha":
		if k := cat.RuntimeConfigKey(key); k != nil {
			if st, s := k.At(v); st == flags.NotYetAdded {
				return refused(cat, it.raw, key, st, s, k, v)
			}
		}
		switch {
		case it.value == "true" || it.value == "false":
			return rcVerdict{} // api/all=true and a bare api/all from 1.17: checkRuntimeConfig's own rules
		case !v.AtLeast(rcV117):
			what := fmt.Sprintf("the value %q", it.value)
			if it.value == "" {
				what = "a key without a value"
			}
			return ignored("Delete it (it does nothing), or write "+key+"=true or "+key+"=false if that is what you mean.",
				"--runtime-config %s: kube-apiserver %s acts only on %s=true or %s=false and ignores %s (from 1.17 it exits on it)", it.raw, v, key, key, what)
		case it.bare && key == "api/all":
			return rcVerdict{} // runtime-config-api-all
		}
		r := invalid("--runtime-config %s: kube-apiserver %s takes only true or false there and exits with \"invalid value %s=%s\"", it.raw, v, key, it.value)
		r.fix = "Write " + key + "=true or " + key + "=false."
		return r
	case "api/legacy":
		return ignored("Delete api/legacy from --runtime-config.", "--runtime-config api/legacy has no effect (deprecated; kube-apiserver %s ignores it)", v)
	}
	core := key == "v1" || strings.HasPrefix(key, "v1/") || key == "api/v1" || strings.HasPrefix(key, "api/v1/")
	if core && !old {
		if !it.bare && it.value != "" && !rcBool(it.value) {
			return badValue()
		}
		if key != "v1" && key != "api/v1" {
			return rcVerdict{id: "runtime-config-ignored", message: fmt.Sprintf("--runtime-config %s: kube-apiserver %s reads any v1/... or api/v1/... key as the whole core group v1; the resource part is dropped, so this turns all of v1 on or off", it.raw, v),
				fix: "Write v1=true or v1=false, or delete it (v1 is on by default)."}
		}
		return rcVerdict{}
	}
	if key == "v1" && old {
		return ignored("Write api/v1="+orTrue(it.value)+", or delete it: v1 is on by default.",
			"--runtime-config %s: kube-apiserver %s skips a key of one word (only api/v1 names the core group there)", it.raw, v)
	}
	tokens := strings.Split(key, "/")
	if len(tokens) < 2 || len(tokens) > 3 {
		if old {
			return ignored("Delete it; --runtime-config keys are group/version (v1 for the core group) or group/version/resource.",
				"--runtime-config %s: kube-apiserver %s skips a key that is not group/version or group/version/resource", it.raw, v)
		}
		r := invalid("--runtime-config %s: not group/version (v1 for the core group) or group/version/resource; kube-apiserver %s exits with \"runtime-config invalid key %s\"", it.raw, v, key)
		r.fix = "Write group/version=true|false (e.g. batch/v1=true), v1=... for the core group, or api/all|ga|beta|alpha=true|false."
		return r
	}
	gv := tokens[0] + "/" + tokens[1]
	if gv == "api/v1" { // 1.8/1.9: "HACK: Hack for v1 legacy group version"
		gv = "v1"
	}
	entry := cat.RuntimeConfigKey(gv)
	var st flags.State = flags.NotYetAdded
	var span *flags.Span
	if entry != nil {
		st, span = entry.At(v)
		if gv == "v1" {
			st = flags.Current // registered at every covered version; the key "v1" alone is judged above
		}
	}
	resource := len(tokens) == 3
	groupKnown := old || len(cat.GroupVersionsAt(tokens[0], v)) > 0
	switch {
	case resource && !old && !v.AtLeast(rcV114) && groupKnown:
		return ignored("Delete it; to serve the resource, enable its group/version ("+gv+"=true) where that is accepted.",
			"--runtime-config %s: kube-apiserver %s does not act on group/version/resource keys (it checks only that the group exists)", it.raw, v)
	case resource && v.AtLeast(rcV114) && !v.AtLeast(rcV124) && gv != "extensions/v1beta1" && groupKnown:
		return ignored("Delete it, or enable the whole group/version ("+gv+"=true).",
			"--runtime-config %s: kube-apiserver %s logs \"ignoring invalid key %s, individual resource enablement/disablement is not supported in %s\" and does nothing", it.raw, v, key, gv)
	}
	if st != flags.Current {
		return refused(cat, it.raw, gv, st, span, entry, v)
	}
	if !it.bare && it.value != "" && !rcBool(it.value) {
		return badValue()
	}
	if resource && v.AtLeast(rcV124) && strings.ToLower(tokens[2]) != tokens[2] {
		r := invalid("--runtime-config %s: kube-apiserver %s exits with \"invalid key %s: group/version/resource and resource is always lowercase plural, not %q\"", it.raw, v, key, tokens[2])
		r.fix = "Write the resource in lowercase plural, e.g. " + gv + "/" + strings.ToLower(tokens[2]) + "."
		return r
	}
	return rcVerdict{}
}

func orTrue(v string) string {
	if v == "" {
		return "true"
	}
	return v
}

// refused is the verdict on a key whose group/version (or special key) kube-apiserver v
// refuses: st is NotYetAdded or Removed, span the span that decides (nil: never accepted).
func refused(cat *flags.Catalogue, item, gv string, st flags.State, span *flags.Span, entry *flags.RuntimeConfigKey, v flags.Version) rcVerdict {
	group, _, _ := strings.Cut(gv, "/")
	says := fmt.Sprintf("group version %s that has not been registered", gv)
	if v.AtLeast(rcV110) && len(cat.GroupVersionsAt(group, v)) == 0 {
		if v.AtLeast(rcV136) {
			says = "unknown api groups " + gv
		} else {
			says = "unknown api groups " + group
		}
	}
	r := rcVerdict{drop: true}
	del := "Delete " + item + " from --runtime-config."
	switch {
	case entry == nil || span == nil:
		r.id = "runtime-config-unknown"
		r.message = fmt.Sprintf("--runtime-config %s: no kube-apiserver 1.8-1.37 has the API %s; kube-apiserver %s exits with \"%s\"", item, gv, v, says)
		r.fix = del + " --runtime-config turns built-in APIs on or off; CustomResourceDefinitions and aggregated APIs are not listed there." + groupVersionAt(cat, group, v)
	case st == flags.Removed:
		r.id = "runtime-config-removed"
		back := ""
		if ret := entry.Returns(v); ret != nil {
			back = fmt.Sprintf(" (it comes back in %s)", ret.Added)
		}
		r.message = fmt.Sprintf("--runtime-config %s: kube-apiserver no longer accepts %s since %s%s (target %s); it exits with \"%s\"", item, gv, span.Removed, back, v, says)
		r.fix = del + groupVersionAt(cat, group, v)
	default:
		r.id = "runtime-config-not-yet-added"
		r.message = fmt.Sprintf("--runtime-config %s: kube-apiserver accepts %s from %s, after the target %s; it exits with \"%s\"", item, gv, span.Added, v, says)
		r.fix = del + " Or target " + span.Added.String() + " or later." + groupVersionAt(cat, group, v)
	}
	return r
}

var apiVersionParts = regexp.MustCompile(`v([0-9]+)(?:(alpha|beta)([0-9]+))?$`)

// apiVersionRank orders API versions as Kubernetes does: GA over beta over alpha, then by
// number (v2 over v1, v1beta2 over v1beta1).
func apiVersionRank(name string) [3]int {
	m := apiVersionParts.FindStringSubmatch(name)
	if m == nil {
		return [3]int{}
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[3])
	level := map[string]int{"": 3, "beta": 2, "alpha": 1}[m[2]]
	return [3]int{level, major, minor}
}

func rankLess(a, b [3]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// groupVersionAt names the version of the group kube-apiserver v has, preferring a GA one.
func groupVersionAt(cat *flags.Catalogue, group string, v flags.Version) string {
	var best *flags.RuntimeConfigKey
	for _, k := range cat.GroupVersionsAt(group, v) {
		if best == nil || rankLess(apiVersionRank(best.Name), apiVersionRank(k.Name)) {
			best = k
		}
	}
	switch {
	case best == nil:
		return ""
	case apiVersionRank(best.Name)[0] == 3:
		return fmt.Sprintf(" %s has %s, on by default.", v, best.Name)
	}
	return fmt.Sprintf(" %s has %s (%s=true if it is off by default).", v, best.Name, best.Name)
}

// checkRuntimeConfig judges --runtime-config: api/all without a value or with =true (their own
// rules), and every key the target refuses or ignores.
func checkRuntimeConfig(c *checked) {
	if !c.is("kube-apiserver") || !c.args.Has("runtime-config") {
		return
	}
	items := c.args.List("runtime-config")
	o := c.originOf("runtime-config")
	for i, r := range judgeRuntimeConfig(c.opt.Catalogue, items, c.version) {
		if r.overridden {
			continue
		}
		if r.id != "" {
			c.add(r.id, "runtime-config", o, r.fix, "%s", r.message)
			continue
		}
		it := parseRuntimeConfig(items[i : i+1])[0]
		switch {
		case it.key == "api/all" && it.bare && c.version.AtLeast(rcV117):
			c.add("runtime-config-api-all", "runtime-config", o, "Write api/all=true, or better, enable only the group/version=true you need.",
				"--runtime-config=api/all has no =true|false; 1.17+ apiservers fail to start on it")
		case it.key == "api/all" && it.value == "true":
			c.add("runtime-config-all-apis", "runtime-config", o, "Enable only the group/version=true you need.",
				"--runtime-config=api/all=true turns on every alpha and beta API")
		}
	}
}
