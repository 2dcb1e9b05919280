package inspect

import (
	"strings"
	"testing"
)

// Admission plugins judged at old and new targets with the history read from each minor's
// RegisterAllAdmissionPlugins (units/flags/data/admission-plugins.yaml). Each case names the
// upstream fact its expectation rests on.
func TestAdmissionPluginHistory(t *testing.T) {
	noAdm := edit(cleanAPI, map[string]string{"enable-admission-plugins": ""})
	withControl := func(plugins string) string { return noAdm + " --admission-control=" + plugins }
	withEnable := func(plugins string) string {
		return edit(cleanAPI, map[string]string{"enable-admission-plugins": "NodeRestriction," + plugins})
	}
	tests := []struct {
		name, at, line string
		id             string // rule that must fire with msg ("" for none of the admission-plugin-* rules)
		msg            string
		source         string
	}{
		{"Initializers at 1.10", "1.10", withControl("Initializers,NamespaceLifecycle,NodeRestriction"), "", "",
			"plugin/pkg/admission/initialization registered at v1.10.13"},
		{"Initializers at 1.13", "1.13", withControl("Initializers,NodeRestriction"), "", "", "registered by k8s.io/apiserver at v1.13.12"},
		{"Initializers at 1.14", "1.14", withControl("Initializers,NodeRestriction"), "admission-plugin-removed", "Initializers was removed in 1.14",
			"absent from RegisterAllAdmissionPlugins at v1.14.10 (kubernetes/kubernetes#72972)"},
		{"Initializers at 1.30", "1.30", withEnable("Initializers"), "admission-plugin-removed", "removed in 1.14", "absent at v1.30.14"},
		{"PodSecurityPolicy at 1.20", "1.20", withEnable("PodSecurityPolicy"), "", "", "registered, not yet deprecated at v1.20.15"},
		{"PodSecurityPolicy at 1.24", "1.24", withEnable("PodSecurityPolicy"), "admission-plugin-deprecated", "deprecated since 1.21", "CHANGELOG-1.21.md"},
		{"PodSecurityPolicy at 1.25", "1.25", withEnable("PodSecurityPolicy"), "admission-plugin-removed", "PodSecurityPolicy was removed in 1.25", "absent at v1.25.16"},
		{"DenyEscalatingExec at 1.13", "1.13", withControl("DenyEscalatingExec,NodeRestriction"), "", "", "no deprecation warning at v1.13.12"},
		{"DenyEscalatingExec at 1.20", "1.20", withEnable("DenyEscalatingExec"), "admission-plugin-deprecated", "deprecated since 1.14", "kubernetes/kubernetes#72737"},
		{"DenyEscalatingExec at 1.21", "1.21", withEnable("DenyEscalatingExec"), "admission-plugin-removed", "removed in 1.21", "absent at v1.21.14"},
		{"PersistentVolumeLabel at 1.31", "1.31", withEnable("PersistentVolumeLabel"), "admission-plugin-removed", "removed in 1.31", "kubernetes/kubernetes#124505"},
		// plugin/pkg/admission/securitycontext/scdeny/admission.go at v1.27.16-v1.29.15 refuses to
		// start without the SecurityContextDeny gate (kubernetes/kubernetes#115879).
		{"SecurityContextDeny at 1.26", "1.26", withEnable("SecurityContextDeny"), "", "", "no gate check at v1.26.15"},
		{"SecurityContextDeny at 1.28 without its gate", "1.28", withEnable("SecurityContextDeny"), "admission-plugin-gate-off", "needs the SecurityContextDeny feature gate from 1.27", "Register at v1.28.15"},
		{"SecurityContextDeny at 1.30", "1.30", withEnable("SecurityContextDeny"), "admission-plugin-removed", "removed in 1.30", "absent at v1.30.14"},
		{"PodPreset at 1.19", "1.19", withEnable("PodPreset"), "", "", "registered at v1.19.16"},
		{"PodPreset at 1.20", "1.20", withEnable("PodPreset"), "admission-plugin-removed", "removed in 1.20", "absent at v1.20.15"},
		{"GenericAdmissionWebhook at 1.8", "1.8", withControl("GenericAdmissionWebhook,NodeRestriction"), "", "", "registered at v1.8.15"},
		{"GenericAdmissionWebhook at 1.9", "1.9", withControl("GenericAdmissionWebhook,NodeRestriction"), "admission-plugin-removed", "removed in 1.9", "split into Mutating/ValidatingAdmissionWebhook at v1.9.11"},
		{"MutatingAdmissionWebhook at 1.8", "1.8", withControl("MutatingAdmissionWebhook,NodeRestriction"), "admission-plugin-unknown", "arrived in 1.9", "absent at v1.8.15"},
		{"PVCProtection at 1.10", "1.10", withEnable("PVCProtection"), "admission-plugin-removed", "removed in 1.10", "renamed StorageObjectInUseProtection at v1.10.13"},
		{"PodTopologyLabels at 1.37", "1.37", withEnable("PodTopologyLabels"), "", "", "registered at v1.37.2; the binary's --help lists it"},
		{"JobValidation at 1.36", "1.36", withEnable("JobValidation"), "", "", "registered at v1.36.3"},
		{"JobValidation at 1.37", "1.37", withEnable("JobValidation"), "admission-plugin-removed", "removed in 1.37", "absent at v1.37.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			invs, o := atVersion(tt.at, withCluster("kube-apiserver", tt.line, nil))(t)
			rep := Inspect(invs, o)
			var found bool
			for _, f := range rep.All() {
				if !strings.HasPrefix(f.ID, "admission-plugin-") || f.Component != "kube-apiserver" {
					continue
				}
				if tt.id == "" || f.ID != tt.id {
					t.Errorf("unexpected %s: %s (%s)", f.ID, f.Message, tt.source)
					continue
				}
				found = found || strings.Contains(f.Message, tt.msg)
			}
			if tt.id != "" && !found {
				t.Errorf("no %s saying %q (%s):\n%s", tt.id, tt.msg, tt.source, dump(rep))
			}
		})
	}
}

// Before 1.10 --admission-control is the only list and defaults to AlwaysAdmit
// (cmd/kube-apiserver/app/options/options.go at v1.8.15 and v1.9.11); from 1.10 the default is
// DefaultOffAdmissionPlugins' defaultOnPlugins.
func TestAdmissionDefaultsBefore110(t *testing.T) {
	noAdm := edit(cleanAPI, map[string]string{"enable-admission-plugins": ""})
	for _, tt := range []struct {
		at          string
		line        string
		alwaysAdmit bool
		msg         string
	}{
		{"1.9", noAdm, true, "defaults to AlwaysAdmit"},
		{"1.9", noAdm + " --admission-control=NamespaceLifecycle,NodeRestriction", false, ""},
		{"1.10", noAdm, false, ""},
	} {
		invs, o := atVersion(tt.at, withCluster("kube-apiserver", tt.line, nil))(t)
		rep := Inspect(invs, o)
		got := false
		for _, f := range rep.All() {
			if f.ID == "always-admit" {
				got = true
				if !strings.Contains(f.Message, tt.msg) || !strings.Contains(f.Fix, "--admission-control") {
					t.Errorf("at %s: always-admit %q (fix %q), want %q and a fix naming --admission-control", tt.at, f.Message, f.Fix, tt.msg)
				}
			}
		}
		if got != tt.alwaysAdmit {
			t.Errorf("at %s, %q: always-admit %v, want %v:\n%s", tt.at, tt.line[len(tt.line)-40:], got, tt.alwaysAdmit, dump(rep))
		}
	}
}
