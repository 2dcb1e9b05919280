package inspect

import (
	"slices"
	"testing"
	"testing/fstest"
)

// Issue 12, "never judge what cannot be seen": a kubelet or scheduler whose --config file is
// not visible from here is not judged on the settings that file may hold (the v1beta1
// KubeletConfiguration defaults differ from the flag defaults: anonymous auth off, Webhook
// authorization; kubelet.config.k8s.io/v1beta1 SetDefaults_KubeletConfiguration), but flags on
// the command line win over the file (kubelet --help: "Command-line flags override
// configuration from this file") and are judged.
func TestConfigNotJudged(t *testing.T) {
	const config = "--config=/var/lib/kubelet/config.yaml"
	empty := fstest.MapFS{}
	tests := []struct {
		name     string
		line     string
		fs       fstest.MapFS // nil: no file system at all
		nodeRoot bool
		want     []string // the config-related IDs expected
	}{
		{"no file system", "kubelet " + config, nil, false, []string{"config-not-judged"}},
		{"file not here", "kubelet " + config, empty, false, []string{"config-not-judged"}},
		{"file not on the node (--root)", "kubelet " + config, empty, true, []string{"kubelet-config-unreadable"}},
		{"command-line flags still judged", "kubelet " + config + " --anonymous-auth=true --read-only-port=10255", nil, false,
			[]string{"config-not-judged", "kubelet-anonymous-auth", "kubelet-read-only-port"}},
		{"without --config the flag defaults apply", "kubelet", nil, false,
			[]string{"kubelet-anonymous-auth", "kubelet-authorization-always-allow", "kubelet-client-ca-missing", "kubelet-read-only-port"}},
		{"scheduler profiling not judged", "kube-scheduler --config=/etc/kubernetes/scheduler.yaml --bind-address=127.0.0.1", empty, false, []string{"config-not-judged"}},
	}
	related := []string{"config-not-judged", "kubelet-config-unreadable", "kubelet-anonymous-auth", "kubelet-authorization-always-allow",
		"kubelet-client-ca-missing", "kubelet-read-only-port", "profiling-enabled", "profiling-in-config"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := opts(tt.fs)
			o.NodeRoot = tt.nodeRoot
			rep := Inspect([]*Invocation{command(t, tt.line)}, o)
			var got []string
			for _, f := range rep.All() {
				if slices.Contains(related, f.ID) {
					got = append(got, f.ID)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("findings %q, want %q\n%s", got, tt.want, dump(rep))
			}
		})
	}
}
