package inspect

import (
	"strings"
	"testing"
)

// Rules judged at targets before 1.20 (the catalogue covers 1.8 on): what the apiserver of the
// target really does, not what today's does.
func TestOldTargets(t *testing.T) {
	noEnc := edit(cleanAPI, map[string]string{"encryption-provider-config": ""})
	oldEnc := noEnc + " --experimental-encryption-provider-config=/etc/kubernetes/encryption-config.yaml"
	noExtend := edit(cleanAPI, map[string]string{"service-account-extend-token-expiration": ""})
	tests := []struct {
		name   string
		rc     ruleCase
		fires  string // rule that must fire ("" for none)
		fixHas string // text the firing rule's fix must contain
		quiet  string // rule that must not fire ("" for none)
	}{
		// Before 1.17 a bare api/all did nothing: MergeAPIResourceConfigs (k8s.io/apiserver v0.16.15
		// pkg/server/resourceconfig/helpers.go) acts only on "true" and "false", and the key is
		// skipped by the group/version loop; kube-apiserver started on it, with the default APIs.
		{"api/all at 1.16", atVersion("1.16", withCluster("kube-apiserver", cleanAPI+" --runtime-config=api/all", nil)), "runtime-config-ignored", "Delete it", "runtime-config-all-apis"},
		{"api/all at 1.16 is not an error", atVersion("1.16", withCluster("kube-apiserver", cleanAPI+" --runtime-config=api/all", nil)), "", "", "runtime-config-api-all"},
		{"api/all=true at 1.16", atVersion("1.16", withCluster("kube-apiserver", cleanAPI+" --runtime-config=api/all=true", nil)), "runtime-config-all-apis", "", "runtime-config-ignored"},
		{"api/all at 1.17", atVersion("1.17", withCluster("kube-apiserver", cleanAPI+" --runtime-config=api/all", nil)), "runtime-config-api-all", "", ""},
		// Token extension arrived with --service-account-extend-token-expiration in 1.19.
		{"no token extension before 1.19", atVersion("1.18", withCluster("kube-apiserver", noExtend, nil)), "", "", "service-account-token-extended"},
		{"token extension from 1.19", atVersion("1.19", withCluster("kube-apiserver", noExtend, nil)), "service-account-token-extended", "", ""},
		// --experimental-encryption-provider-config (renamed in 1.13) encrypts as long as it is accepted.
		{"experimental encryption flag at 1.12", atVersion("1.12", withCluster("kube-apiserver", oldEnc, nil)), "", "", "encryption-config-missing"},
		{"experimental encryption flag at 1.20", atVersion("1.20", withCluster("kube-apiserver", oldEnc, nil)), "", "", "encryption-config-missing"},
		{"experimental encryption flag gone", atVersion("1.30", withCluster("kube-apiserver", oldEnc, nil)), "encryption-config-missing", "--encryption-provider-config", ""},
		{"no encryption at 1.8", atVersion("1.8", withCluster("kube-apiserver", noEnc, nil)), "encryption-config-missing", "--experimental-encryption-provider-config", ""},
		// PersistentVolumeLabel logs its deprecation from 1.8 when enabled (kube-up's
		// ADMISSION_CONTROL); kubeadm 1.11 disabled it, which is the cure, not a finding.
		{"PersistentVolumeLabel enabled at 1.11", atVersion("1.11", withCluster("kube-apiserver", edit(cleanAPI, map[string]string{"enable-admission-plugins": "NodeRestriction,PersistentVolumeLabel"}), nil)), "admission-plugin-deprecated", "", ""},
		{"PersistentVolumeLabel disabled at 1.11", atVersion("1.11", withCluster("kube-apiserver", cleanAPI+" --disable-admission-plugins=PersistentVolumeLabel", nil)), "", "", "admission-plugin-deprecated"},
		// Flags of the 1.8 era are current at 1.8.
		{"1.8 flags", atVersion("1.8", withCluster("kube-apiserver", cleanAPI+" --insecure-port=0 --admission-control=NodeRestriction --kubelet-https=true --storage-versions=v1", nil)), "", "", "flag-removed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			invs, o := tt.rc(t)
			rep := Inspect(invs, o)
			got := ids(rep.All())
			if tt.fires != "" && got[tt.fires] == 0 {
				t.Errorf("%s did not fire:\n%s", tt.fires, dump(rep))
			}
			if tt.quiet != "" && got[tt.quiet] > 0 {
				t.Errorf("%s fired:\n%s", tt.quiet, dump(rep))
			}
			if tt.fixHas != "" {
				for _, f := range rep.All() {
					if f.ID == tt.fires && !strings.Contains(f.Fix, tt.fixHas) {
						t.Errorf("%s fix %q lacks %q", f.ID, f.Fix, tt.fixHas)
					}
				}
			}
		})
	}
}
