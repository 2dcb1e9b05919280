package units

import (
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/internal/problem"
)

// The extras example renders without a problem: its flags are known, none replaces one hardway
// sets but audit-log-maxage (tunable), and its extra files are where the flags point.
func TestExtrasExampleHasNoProblems(t *testing.T) {
	if ps := CheckExtras(loadExample(t, "extras")); len(ps) > 0 {
		t.Fatalf("problems: %v", ps)
	}
}

// Each extra flag is checked against what hardway sets and against the flag catalogue; a
// problem names its field in the cluster file.
func TestCheckExtras(t *testing.T) {
	for _, tc := range []struct {
		name     string
		comp     string
		flag     string
		value    string
		severity problem.Severity // 0 (no problem) or a severity
		contains string
		rendered string // the flag as rendered, when it is
	}{
		{"a new flag", "kube-apiserver", "oidc-issuer-url", "https://x.example", 0, "", "--oidc-issuer-url=https://x.example"},
		{"a flag hardway derives", "kube-apiserver", "etcd-servers", "https://1.2.3.4:2379", problem.Error, "hardway sets --etcd-servers=https://10.0.0.10:2379 itself", ""},
		{"a certificate path", "kube-apiserver", "tls-cert-file", "/x.crt", problem.Error, "hardway sets --tls-cert-file", ""},
		{"the kubelet's node name", "kubelet", "hostname-override", "x", problem.Error, "hardway sets --hostname-override", ""},
		{"a tunable flag", "kube-apiserver", "audit-log-maxsize", "50", 0, "", "--audit-log-maxsize=50"},
		{"an admission plugin more", "kube-apiserver", "enable-admission-plugins", "EventRateLimit", 0, "", "--enable-admission-plugins=NodeRestriction,EventRateLimit"},
		{"a hardened flag kept hardened", "kube-apiserver", "authorization-mode", "Node,RBAC,Webhook", problem.Warning, "replaces hardway's hardened --authorization-mode=Node,RBAC: hardway's value is Node,RBAC", "--authorization-mode=Node,RBAC,Webhook"},
		{"anonymous requests", "kube-apiserver", "anonymous-auth", "true", problem.Warning, "anonymous requests are accepted", "--anonymous-auth=true"},
		{"AlwaysAllow", "kube-apiserver", "authorization-mode", "AlwaysAllow", problem.Warning, "AlwaysAllow authorization", "--authorization-mode=AlwaysAllow"},
		{"profiling", "kube-controller-manager", "profiling", "true", problem.Warning, "profiling endpoints", "--profiling=true"},
		{"the kubelet's anonymous requests", "kubelet", "anonymous-auth", "true", problem.Warning, "anonymous requests are accepted", "--anonymous-auth=true"},
		{"the kubelet's read-only port", "kubelet", "read-only-port", "10255", problem.Warning, "read-only port", "--read-only-port=10255"},
		{"etcd without client certificates", "etcd", "client-cert-auth", "false", problem.Warning, "without a certificate", "--client-cert-auth=false"},
		{"unknown to a complete catalogue", "kube-apiserver", "oidc-issuer", "x", problem.Error, "kube-apiserver has no flag --oidc-issuer", ""},
		// (Every component's catalogue is complete now, so no extra flag is passed unchecked.)
		{"unknown to the kubelet's catalogue", "kubelet", "some-new-flag", "x", problem.Error, "kubelet has no flag --some-new-flag", ""},
		{"removed", "kube-apiserver", "service-account-api-audiences", "x", problem.Error, "does not take --service-account-api-audiences (removed)", ""},
		{"deprecated", "kube-apiserver", "apiserver-count", "3", problem.Warning, "--apiserver-count is deprecated", "--apiserver-count=3"},
		{"a missing extra file", "kube-apiserver", "oidc-ca-file", ExtraDir + "/kube-apiserver/missing.crt", problem.Error, "add an extraFiles entry", ""},
		{"an extra file of another component", "kube-apiserver", "oidc-ca-file", ExtraDir + "/kubelet/ca.crt", problem.Error, "not an extra file of kube-apiserver", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := configstestSingle()
			c.ExtraArgs = map[string]map[string]string{tc.comp: {tc.flag: tc.value}}
			ps := CheckExtras(c)
			where := "extraArgs." + tc.comp + "." + tc.flag
			found := false
			for _, p := range ps {
				found = found || p.Severity == tc.severity && p.Where == where && strings.Contains(p.Message+" "+p.Fix, tc.contains)
			}
			switch {
			case tc.severity == 0 && len(ps) > 0:
				t.Errorf("problems: %v", ps)
			case tc.severity != 0 && !found:
				t.Errorf("want a %s at %s containing %q; got %v", tc.severity, where, tc.contains, ps)
			case tc.severity == problem.Warning && len(ps.Errors()) > 0:
				t.Errorf("errors besides the warning: %v", ps)
			}
			r, err := RenderNode(c, c.Nodes[0], OptionsFor(c))
			if tc.severity == problem.Error {
				if err == nil || !strings.Contains(err.Error(), tc.contains) {
					t.Errorf("rendered despite the error: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var unit string
			for _, u := range r.Units {
				if string(u.Component) == tc.comp {
					unit = string(r.file(u.Path).Data)
				}
			}
			if !strings.Contains(unit, "\t"+tc.rendered+" \\\n") && !strings.HasSuffix(unit, "\t"+tc.rendered+"\n") && !strings.Contains(unit, "\t"+tc.rendered+"\n") {
				t.Errorf("%s not in the unit:\n%s", tc.rendered, unit)
			}
			if tc.severity == problem.Warning && len(r.Warnings) == 0 {
				t.Errorf("RenderNode's warnings are empty")
			}
		})
	}
}

// configstestSingle is one node with every role, on a routable address.
func configstestSingle() *configs.Cluster {
	c := &configs.Cluster{Name: "t", Nodes: []configs.Node{{Name: "n1", Addresses: []string{"10.0.0.10"}, Roles: []string{configs.RoleControlPlane, configs.RoleEtcd, configs.RoleWorker}}}}
	c.SetDefaults()
	return c
}

// An extra file copied from the cluster directory needs its bytes in Options.Sources.
func TestExtraFileSources(t *testing.T) {
	c := configstestSingle()
	c.ExtraFiles = []configs.ExtraFile{{Component: "kube-apiserver", Path: ExtraDir + "/kube-apiserver/ca.crt", Source: "extra/ca.crt"}}
	c.SetDefaults()
	if _, err := RenderNode(c, c.Nodes[0], OptionsFor(c)); err == nil || !strings.Contains(err.Error(), "extraFiles[0].source: extra/ca.crt was not read") {
		t.Errorf("without its source: %v", err)
	}
	opt := OptionsFor(c)
	opt.Sources = map[string][]byte{"extra/ca.crt": []byte("CA")}
	r, err := RenderNode(c, c.Nodes[0], opt)
	if err != nil {
		t.Fatal(err)
	}
	f := r.file(ExtraDir + "/kube-apiserver/ca.crt")
	if f == nil || string(f.Data) != "CA" || f.Mode != 0o600 {
		t.Fatalf("the extra file: %+v", f)
	}
	// A change of it restarts the API server.
	if u := r.unit(APIServer.UnitName()); !strings.Contains(strings.Join(u.Inputs, " "), f.Path) {
		t.Errorf("%s is not an input of the API server: %v", f.Path, u.Inputs)
	}
	if got := ExtraSources(c); len(got) != 1 || got[0] != "extra/ca.crt" {
		t.Errorf("ExtraSources: %v", got)
	}
}
