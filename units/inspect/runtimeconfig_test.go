package inspect

import (
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/units/flags"
)

// What kube-apiserver of each minor does with --runtime-config items. The expectations come
// from the sources named per case (k8s.io/kubernetes at each minor's latest patch; the
// group/versions themselves are units/flags/data/api-versions.yaml), never from the output.
func TestJudgeRuntimeConfig(t *testing.T) {
	cat := flags.Default()
	tests := []struct {
		items  string
		at     string
		id     string // "" when the item is accepted and acts
		msg    string // text the message must contain
		fix    string // text the fix must contain
		source string
	}{
		// pkg/apis/admissionregistration/install/install.go: v1alpha1 (Initializers) to v1.13.12,
		// again from v1.26.15 (ValidatingAdmissionPolicy); v1beta1 keeps the group known at 1.18.
		{"admissionregistration.k8s.io/v1alpha1=true", "1.13", "", "", "", "registered at v1.13.12"},
		{"admissionregistration.k8s.io/v1alpha1=true", "1.18", "runtime-config-removed", "since 1.14 (it comes back in 1.26)", "admissionregistration.k8s.io/v1, on by default", "absent at v1.18.20"},
		{"admissionregistration.k8s.io/v1alpha1=true", "1.18", "runtime-config-removed", "group version admissionregistration.k8s.io/v1alpha1 that has not been registered", "", "MergeAPIResourceConfigs, group registered"},
		{"admissionregistration.k8s.io/v1alpha1=true", "1.30", "", "", "", "registered at v1.30.14"},
		// pkg/apis/extensions/install registers v1beta1 to v1.37.2 although nothing serves it there;
		// the 1.37.2 binary starts with it (realbinary_test.go).
		{"extensions/v1beta1=true", "1.22", "", "", "", "registered at v1.22.17"},
		{"extensions/v1beta1=true", "1.37", "", "", "", "registered at v1.37.2"},
		// pkg/apis/batch/install/install.go: v2alpha1 to v1.20.15.
		{"batch/v2alpha1=true", "1.20", "", "", "", "registered at v1.20.15"},
		{"batch/v2alpha1=true", "1.21", "runtime-config-removed", "since 1.21", "1.21 has batch/v1, on by default", "absent at v1.21.14"},
		// PodPreset's settings.k8s.io is gone at v1.20.15: no scheme knows the group, so
		// APIEnablementOptions.Validate refuses it; from v0.36 it names the group/version.
		{"settings.k8s.io/v1alpha1=true", "1.20", "runtime-config-removed", "\"unknown api groups settings.k8s.io\"", "", "api_enablement.go Validate, k8s.io/apiserver v0.20.15"},
		{"settings.k8s.io/v1alpha1=true", "1.37", "runtime-config-removed", "\"unknown api groups settings.k8s.io/v1alpha1\"", "", "ParseGroupVersions, k8s.io/apiserver v0.37.2; the 1.37.2 binary says so"},
		// 1.9 checks the legacy registry only (kubernetes/kubernetes#57189); 1.10 passes the flag
		// down the server chain (#57228).
		{"apiextensions.k8s.io/v1beta1=true", "1.9", "runtime-config-not-yet-added", "group version apiextensions.k8s.io/v1beta1 that has not been registered", "target 1.10", "default_storage_factory_builder.go, v1.9.11"},
		{"apiextensions.k8s.io/v1beta1=true", "1.10", "", "", "", "v1.10.13"},
		// api/ga|beta|alpha: matchers added in k8s.io/apiserver v0.17.17; before, "api" is a group.
		{"api/beta=false", "1.16", "runtime-config-not-yet-added", "\"unknown api groups api\"", "target 1.17", "v1.16.15 Validate"},
		{"api/beta=false", "1.9", "runtime-config-not-yet-added", "group version api/beta that has not been registered", "", "v1.9.11 mergeAPIResourceConfigs"},
		{"api/beta=false", "1.17", "", "", "", "v0.17.17 matchers"},
		{"api/beta", "1.20", "runtime-config-invalid", "invalid value api/beta=", "", "v0.20.15 MergeAPIResourceConfigs: only true|false"},
		// api/all: before v0.17 only "true" and "false" act, anything else is ignored; from v0.17 refused.
		{"api/all", "1.16", "runtime-config-ignored", "ignores a key without a value", "Delete it", "v0.16.15 MergeAPIResourceConfigs"},
		{"api/all", "1.8", "runtime-config-ignored", "", "", "v1.8.15 mergeAPIResourceConfigs"},
		{"api/all", "1.17", "", "", "", "runtime-config-api-all's case"},
		{"api/all=yes", "1.16", "runtime-config-ignored", "the value \"yes\"", "", "v0.16.15"},
		{"api/all=yes", "1.20", "runtime-config-invalid", "invalid value api/all=yes", "", "v0.20.15"},
		{"api/all=false", "1.9", "", "", "", "no alone-check before v1.10.13"},
		{"api/all=false", "1.10", "runtime-config-invalid", "only api/all=false", "", "v1.10.13 Validate"},
		{"api/all=false,api/legacy=false", "1.30", "runtime-config-invalid", "only api/all=false", "", "Complete deletes api/legacy before Validate"},
		{"api/all=false,v1=true", "1.30", "", "", "", "Validate: not alone"},
		// api/legacy: ignored at v1.8.15 ("hush the compiler"), deleted by Complete from v1.10.13.
		{"api/legacy=false", "1.8", "runtime-config-ignored", "no effect", "Delete api/legacy", "v1.8.15"},
		{"api/legacy=false", "1.37", "runtime-config-ignored", "no effect", "", "v1.37.2 options.go Complete"},
		// One token: skipped at v1.9.11, "runtime-config invalid key" from v1.10.13 (ParseGroups).
		{"batch=true", "1.9", "runtime-config-ignored", "skips a key", "", "v1.9.11 len(tokens) != 2"},
		{"batch=true", "1.10", "runtime-config-invalid", "runtime-config invalid key batch", "", "v1.10.13 ParseGroups"},
		{"a/b/c/d=true", "1.8", "runtime-config-ignored", "", "", "v1.8.15: four tokens skipped"},
		{"a/b/c/d=true", "1.30", "runtime-config-invalid", "runtime-config invalid key a/b/c/d", "", "ParseGroups"},
		// The core group: v1 alone is skipped at v1.9.11 (only api/v1 maps to it); Complete
		// rewrites v1, api/v1 and their /<resource> forms to /v1 from v1.10.13.
		{"v1=false", "1.9", "runtime-config-ignored", "only api/v1 names the core group", "api/v1=false", "v1.9.11"},
		{"api/v1=true", "1.8", "", "", "", "v1.8.15 HACK for api/v1"},
		{"v1=true", "1.10", "", "", "", "v1.10.13 Complete"},
		{"v1/pods=false", "1.20", "runtime-config-ignored", "the whole core group", "", "Complete: strings.HasPrefix(key, \"v1/\")"},
		{"v1=maybe", "1.30", "runtime-config-invalid", "invalid value of v1: maybe", "", "getRuntimeConfigValue"},
		// group/version/resource: checked at v1.8.15; skipped by the merge at v1.10.13-v1.13.12;
		// only extensions/v1beta1/<r> acts at v1.14.10-v1.23.17 (others logged, skipped before the
		// version check); every group's act from v1.24.17, lowercase resource only.
		{"extensions/v1beta1/podsecuritypolicies=true", "1.8", "", "", "", "v1.8.15 resource loop"},
		{"extensions/v1beta1/podsecuritypolicies=true", "1.12", "runtime-config-ignored", "does not act on group/version/resource keys", "", "v1.12.10 len(tokens) != 2"},
		{"extensions/v1beta1/podsecuritypolicies=true", "1.16", "", "", "", "v0.16.15 extensions/v1beta1 exception"},
		{"batch/v2alpha1/cronjobs=true", "1.16", "runtime-config-ignored", "ignoring invalid key batch/v2alpha1/cronjobs", "", "v0.16.15 klog.Warningf"},
		{"batch/v2alpha1/cronjobs=true", "1.21", "runtime-config-ignored", "ignoring invalid key", "", "v0.21.14: skipped before the version check"},
		{"batch/v2alpha1/cronjobs=true", "1.24", "runtime-config-removed", "group version batch/v2alpha1 that has not been registered", "", "v0.24.17: version checked for every group"},
		{"batch/v1/Jobs=true", "1.24", "runtime-config-invalid", "always lowercase plural", "batch/v1/jobs", "v0.24.17"},
		{"batch/v1/jobs=true", "1.24", "", "", "", "v0.24.17"},
		{"batch/v1=maybe", "1.30", "runtime-config-invalid", "invalid value of batch/v1: maybe", "", "getRuntimeConfigValue strconv.ParseBool"},
		{"batch/v1=1", "1.30", "", "", "", "strconv.ParseBool accepts 1"},
		{"batch/v1", "1.30", "", "", "", "getRuntimeConfigValue: empty is true"},
		// A group no scheme knows.
		{"example.com/v1=true", "1.30", "runtime-config-unknown", "\"unknown api groups example.com\"", "CustomResourceDefinitions", "Validate"},
		{"batch/v3=true", "1.30", "runtime-config-unknown", "group version batch/v3 that has not been registered", "1.30 has batch/v1", "MergeAPIResourceConfigs"},
		// The later of two items with the same key is the one read (a map).
		{"batch/v2alpha1=true,batch/v2alpha1=false", "1.22", "runtime-config-removed", "", "", "ConfigurationMap"},
		// flowcontrol.apiserver.k8s.io: v1alpha1 to v1.28.15, v1 from v1.29.15.
		{"flowcontrol.apiserver.k8s.io/v1alpha1=true", "1.29", "runtime-config-removed", "since 1.29", "1.29 has flowcontrol.apiserver.k8s.io/v1, on by default", "pkg/apis/flowcontrol/install"},
		// resource.k8s.io: v1alpha2 to v1.30.14, v1alpha3 from v1.31.14.
		{"resource.k8s.io/v1alpha2=true", "1.31", "runtime-config-removed", "since 1.31", "1.31 has resource.k8s.io/v1alpha3 (resource.k8s.io/v1alpha3=true", "pkg/apis/resource/install"},
	}
	for _, tt := range tests {
		t.Run(tt.items+"@"+tt.at, func(t *testing.T) {
			var got []rcVerdict
			for _, r := range judgeRuntimeConfig(cat, strings.Split(tt.items, ","), flags.MustVersion(tt.at)) {
				if r.id != "" {
					got = append(got, r)
				}
			}
			if tt.id == "" {
				if len(got) > 0 {
					t.Fatalf("want no finding (%s), got %s: %s", tt.source, got[0].id, got[0].message)
				}
				return
			}
			var mine []rcVerdict
			for _, r := range got {
				if r.id == tt.id {
					mine = append(mine, r)
				}
			}
			if len(mine) != 1 {
				t.Fatalf("want one %s (%s), got %+v", tt.id, tt.source, got)
			}
			r := mine[0]
			if r.id != tt.id || !strings.Contains(r.message, tt.msg) || !strings.Contains(r.fix, tt.fix) {
				t.Errorf("got %s: %s (fix: %s)\nwant %s with %q, fix with %q (%s)", r.id, r.message, r.fix, tt.id, tt.msg, tt.fix, tt.source)
			}
		})
	}
}
