package systemd

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The manifest is read strictly, in exactly the format bootstrap.Manifest marshals to (this
// package may not import bootstrap; a test checks both agree field by field):
//
//	{
//	  "node": "cp-1",
//	  "files": [{"path": "/etc/kubernetes/pki/ca.crt", "mode": "0644", "sha256": "<64 hex>"}, ...],
//	  "units": [{"name": "etcd.service", "inputs": ["/..."], "after": ["..."],
//	             "health": {"kind": "etcd", "url": "https://...", "ca": "/...", "cert": "/...", "key": "/..."}}, ...]
//	}
//
// Field names are matched exactly (encoding/json alone would accept any case), unknown fields
// are errors, and every problem is reported with its field path.

// manifestDoc is a decoded manifest.
type manifestDoc struct {
	Node  string
	Files []manifestEntry
	Units []Unit
}

type manifestEntry struct {
	Path   string
	Mode   fs.FileMode
	SHA256 string
}

// Field names, as bootstrap.Manifest, bootstrap.ManifestFile, bootstrap.ManifestUnit and
// units.Health marshal them.
var (
	manifestFields = fieldSet{required: []string{"node", "files", "units"}}
	fileFields     = fieldSet{required: []string{"path", "mode", "sha256"}}
	unitFields     = fieldSet{required: []string{"name", "inputs"}, optional: []string{"after", "health"}}
	healthFields   = fieldSet{required: []string{"kind", "url", "ca", "cert", "key"}}

	octalMode = regexp.MustCompile(`^0[0-7]{3}$`)
	hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

type fieldSet struct{ required, optional []string }

// manifestDecoder collects problems, each with its field path.
type manifestDecoder struct{ problems []string }

func (d *manifestDecoder) addf(field, format string, args ...any) {
	d.problems = append(d.problems, field+": "+fmt.Sprintf(format, args...))
}

// object decodes raw as a JSON object with exactly the fields of fs (all required ones, no
// others); nil when it is not one.
func (d *manifestDecoder) object(field string, raw json.RawMessage, set fieldSet) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		d.addf(field, "want a JSON object, got %s", describe(raw))
		return nil
	}
	known := append(slices.Clone(set.required), set.optional...)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if slices.Contains(known, k) {
			continue
		}
		if i := slices.IndexFunc(known, func(w string) bool { return strings.EqualFold(w, k) }); i >= 0 {
			d.addf(join(field, k), "unknown field; the field is spelled %q", known[i])
		} else {
			d.addf(join(field, k), "unknown field (known: %s)", strings.Join(known, ", "))
		}
	}
	for _, k := range set.required {
		if _, ok := m[k]; !ok {
			d.addf(join(field, k), "missing")
		}
	}
	return m
}

func (d *manifestDecoder) str(field string, raw json.RawMessage) string {
	var s string
	if raw == nil {
		return ""
	}
	if err := json.Unmarshal(raw, &s); err != nil || strings.TrimSpace(string(raw)) == "null" {
		d.addf(field, "want a string, got %s", describe(raw))
		return ""
	}
	return s
}

// list decodes raw as a JSON array; null is an empty list when nullOK (bootstrap marshals a
// nil slice as null).
func (d *manifestDecoder) list(field string, raw json.RawMessage, nullOK bool) []json.RawMessage {
	if raw == nil || (nullOK && strings.TrimSpace(string(raw)) == "null") {
		return nil
	}
	var l []json.RawMessage
	if err := json.Unmarshal(raw, &l); err != nil || l == nil {
		d.addf(field, "want a JSON array, got %s", describe(raw))
		return nil
	}
	return l
}

func (d *manifestDecoder) strings(field string, raw json.RawMessage) []string {
	var out []string
	for i, el := range d.list(field, raw, true) {
		out = append(out, d.str(fmt.Sprintf("%s[%d]", field, i), el))
	}
	return out
}

// decodeManifest reads a manifest strictly; the error lists every problem with its field path.
func decodeManifest(data []byte) (*manifestDoc, error) {
	d := &manifestDecoder{}
	doc := &manifestDoc{}
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	top := d.object("manifest", data, manifestFields)
	if top == nil {
		return nil, d.err()
	}
	if doc.Node = d.str("node", top["node"]); doc.Node == "" && top["node"] != nil {
		d.addf("node", "empty")
	}
	for i, raw := range d.list("files", top["files"], true) {
		field := fmt.Sprintf("files[%d]", i)
		f := d.object(field, raw, fileFields)
		if f == nil {
			continue
		}
		e := manifestEntry{Path: d.str(field+".path", f["path"]), SHA256: d.str(field+".sha256", f["sha256"])}
		if mode := d.str(field+".mode", f["mode"]); f["mode"] != nil {
			if !octalMode.MatchString(mode) {
				d.addf(field+".mode", "%q is not a four-digit octal mode like \"0600\"", mode)
			} else {
				v, _ := strconv.ParseUint(mode, 8, 32)
				e.Mode = fs.FileMode(v)
			}
		}
		if f["sha256"] != nil && !hexSHA256.MatchString(e.SHA256) {
			d.addf(field+".sha256", "%q is not 64 lowercase hex digits", e.SHA256)
		}
		doc.Files = append(doc.Files, e)
	}
	for i, raw := range d.list("units", top["units"], true) {
		field := fmt.Sprintf("units[%d]", i)
		u := d.object(field, raw, unitFields)
		if u == nil {
			continue
		}
		unit := Unit{
			Name:   d.str(field+".name", u["name"]),
			Inputs: d.strings(field+".inputs", u["inputs"]),
			After:  d.strings(field+".after", u["after"]),
		}
		if raw, ok := u["health"]; ok && strings.TrimSpace(string(raw)) != "null" {
			if h := d.object(field+".health", raw, healthFields); h != nil {
				unit.Health = &Health{
					Kind: d.str(field+".health.kind", h["kind"]),
					URL:  d.str(field+".health.url", h["url"]),
					CA:   d.str(field+".health.ca", h["ca"]),
					Cert: d.str(field+".health.cert", h["cert"]),
					Key:  d.str(field+".health.key", h["key"]),
				}
				switch unit.Health.Kind {
				case HealthEtcd, HealthAPIServer, HealthKubelet:
				default:
					d.addf(field+".health.kind", "%q is not a health kind (%s, %s, %s)", unit.Health.Kind, HealthEtcd, HealthAPIServer, HealthKubelet)
				}
			}
		}
		doc.Units = append(doc.Units, unit)
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	return doc, nil
}

func (d *manifestDecoder) err() error {
	if len(d.problems) == 0 {
		return nil
	}
	return fmt.Errorf("not a bundle manifest as `hardway init` writes it; %d problem(s):\n  %s", len(d.problems), strings.Join(d.problems, "\n  "))
}

func join(field, key string) string {
	if field == "manifest" {
		return key
	}
	return field + "." + key
}

// describe names a JSON value's type for an error message.
func describe(raw json.RawMessage) string {
	t := strings.TrimSpace(string(raw))
	switch {
	case t == "" || t == "null":
		return "null"
	case t[0] == '{':
		return "an object"
	case t[0] == '[':
		return "an array"
	case t[0] == '"':
		return "a string " + t
	case t == "true" || t == "false":
		return "a boolean"
	default:
		return "a number " + t
	}
}
