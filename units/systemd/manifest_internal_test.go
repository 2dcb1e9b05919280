package systemd

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/bootstrap"
	"github.com/hardway-dev/hardway/units"
)

// jsonFields lists the JSON names encoding/json gives t's fields: required (always written)
// and optional (omitempty).
func jsonFields(t reflect.Type) fieldSet {
	var fs fieldSet
	for f := range t.Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if strings.Contains(opts, "omitempty") {
			fs.optional = append(fs.optional, name)
		} else {
			fs.required = append(fs.required, name)
		}
	}
	return fs
}

// The strict reader knows exactly the fields bootstrap writes, spelled as bootstrap's types
// marshal them, required exactly when bootstrap always writes them.
func TestManifestFieldsAreBootstrapsFields(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  fieldSet
		typ  reflect.Type
	}{
		{"manifest", manifestFields, reflect.TypeFor[bootstrap.Manifest]()},
		{"files[]", fileFields, reflect.TypeFor[bootstrap.ManifestFile]()},
		{"units[]", unitFields, reflect.TypeFor[bootstrap.ManifestUnit]()},
		{"units[].health", healthFields, reflect.TypeFor[units.Health]()},
	} {
		want := jsonFields(tc.typ)
		if !slices.Equal(tc.got.required, want.required) || !slices.Equal(tc.got.optional, want.optional) {
			t.Errorf("%s: the reader knows required %v optional %v; %s marshals required %v optional %v",
				tc.name, tc.got.required, tc.got.optional, tc.typ, want.required, want.optional)
		}
	}
}
