package inspect

import (
	"reflect"
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/units/flags"
)

// Each fixture in testdata/wrappers says which real-world form it imitates. The expected
// argv follows from the wrapper's documented behaviour: go-runner runs flag.Args() after its
// own flags (k8s.io/component-base/logs/kube-log-runner); sh -c runs the script, whose
// redirections are not arguments and whose "$@" are the arguments after $0 (POSIX sh); the
// kubelet execs command + args of each container of the pod (template).
func TestWrappersAndTemplates(t *testing.T) {
	tests := []struct {
		fixture   string
		component string
		wrapper   string
		args      []string
		problems  []string // IDs of the invocation's reading problems
	}{
		{"kube-apiserver-sh-exec.manifest", "kube-apiserver", "sh -c", []string{"--etcd-servers=https://127.0.0.1:2379", "--allow-privileged=true"}, nil},
		{"kube-apiserver-go-runner.manifest", "kube-apiserver", "go-runner", []string{"--etcd-servers=https://127.0.0.1:2379", "--allow-privileged=true"}, nil},
		{"kube-proxy-daemonset.yaml", "kube-proxy", "", []string{"--config=/var/lib/kube-proxy/config.conf", "--hostname-override=$(NODE_NAME)"}, nil},
		{"kube-scheduler-deployment-args.yaml", "kube-scheduler", "", []string{"--leader-elect=true", "--kubeconfig=/etc/kubernetes/scheduler.conf"}, nil},
		{"etcd-sh-script.manifest", "etcd", "sh -c", []string{"--data-dir=/var/lib/etcd", "--name=cp-1", "--listen-client-urls=https://127.0.0.1:2379"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			invs := loadFixture(t, "wrappers/"+tt.fixture, nil)
			if len(invs) != 1 {
				t.Fatalf("%d invocations, want 1", len(invs))
			}
			inv := invs[0]
			var args, probs []string
			for _, w := range inv.Args {
				args = append(args, w.Value)
			}
			for _, p := range inv.Problems {
				probs = append(probs, p.ID)
			}
			if inv.Component != tt.component || inv.Wrapper != tt.wrapper || !reflect.DeepEqual(args, tt.args) || !reflect.DeepEqual(probs, tt.problems) {
				t.Errorf("got %s via %q args %q problems %q\nwant %s via %q args %q problems %q",
					inv.Component, inv.Wrapper, args, probs, tt.component, tt.wrapper, tt.args, tt.problems)
			}
		})
	}
}

// Command lines whose wrapper hardway follows, or says plainly that it cannot.
func TestUnwrapCommandLines(t *testing.T) {
	tests := []struct {
		name      string
		line      string
		component string
		args      []string
		problem   string // substring of every input-wrapper* finding expected, "" for none
		n         int    // how many of them; 0 means 1 when problem is set
	}{
		{"go-runner then --", `/go-runner --log-file /var/log/s.log --also-stdout -- /usr/local/bin/kube-scheduler --v=2`, "kube-scheduler", []string{"--v=2"}, "", 0},
		{"go-runner single-dash flags", `/go-runner -log-file=/l -redirect-stderr=false kube-proxy --v=1`, "kube-proxy", []string{"--v=1"}, "", 0},
		{"go-runner unknown flag", `/go-runner --logfile=/l /usr/local/bin/kube-proxy`, "", nil, "flag provided but not defined", 0},
		{"go-runner nothing to run", `/go-runner --log-file=/l`, "", nil, "not enough arguments to run", 0},
		{"go-runner in a shell", `/bin/sh -c "exec /go-runner --log-file=/l /usr/local/bin/etcd --name=a"`, "etcd", []string{"--name=a"}, "", 0},
		{"bash -c with env assignment and && chain", `/bin/bash -c "cd / && GODEBUG=x exec kube-controller-manager --v=2 >/dev/null"`, "kube-controller-manager", []string{"--v=2"}, "", 0},
		{"exec preferred over an earlier call", `/bin/sh -c "etcd --version; exec etcd --name=b"`, "etcd", []string{"--name=b"}, "", 0},
		// In an ExecStart=-like line, $$ is systemd's literal dollar (systemd.service(5)).
		{"run-time value", `/bin/sh -c "exec etcd --name=$$(hostname) --initial-cluster=$${CLUSTER}"`, "etcd", []string{"--name=$(hostname)", "--initial-cluster=${CLUSTER}"}, "computed by the shell at run time", 2},
		{"positional parameters", `/bin/sh -c 'exec kube-proxy "$1" --v=$2' sh --config=/c 3`, "kube-proxy", []string{"--config=/c", "--v=$2"}, "computed by the shell", 0},
		{"no known component", `/bin/sh -c "sleep 10; /opt/start.sh"`, "", nil, "runs no component hardway knows", 0},
		{"unreadable script", `/bin/sh -c "exec etcd 'open"`, "", nil, "cannot be read", 0},
		{"shell running a file is not a wrapper", `/bin/sh /opt/start-etcd.sh`, "", []string{"/opt/start-etcd.sh"}, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := command(t, tt.line)
			var args, wrapperMsgs []string
			for _, w := range inv.Args {
				args = append(args, w.Value)
			}
			for _, p := range inv.Problems {
				if strings.HasPrefix(p.ID, "input-wrapper") {
					wrapperMsgs = append(wrapperMsgs, p.Message)
				}
			}
			if inv.Component != tt.component || !reflect.DeepEqual(args, tt.args) {
				t.Errorf("%s: got %q args %q, want %q args %q (problems %+v)", tt.line, inv.Component, args, tt.component, tt.args, inv.Problems)
			}
			switch {
			case tt.problem == "" && len(wrapperMsgs) > 0:
				t.Errorf("unexpected wrapper findings %q", wrapperMsgs)
			case tt.problem != "":
				n := max(tt.n, 1)
				ok := len(wrapperMsgs) == n
				for _, m := range wrapperMsgs {
					ok = ok && strings.Contains(m, tt.problem)
				}
				if !ok {
					t.Errorf("wrapper findings %q, want %d mentioning %q", wrapperMsgs, n, tt.problem)
				}
			}
			if tt.component == "" && tt.problem != "" && hasID(inv.Problems, "input-unknown-component") {
				t.Errorf("a wrapper that cannot be followed is also reported as an unknown component: %+v", inv.Problems)
			}
		})
	}
}

// A workload manifest is inspected but not rewritten: --fix would turn it into a Pod.
func TestFixRefusesWrappedAndTemplates(t *testing.T) {
	for _, f := range []string{"kube-proxy-daemonset.yaml", "kube-apiserver-go-runner.manifest"} {
		inv := loadFixture(t, "wrappers/"+f, nil)[0]
		if _, err := Fix(inv, Options{}); err == nil || !strings.Contains(err.Error(), "by hand") {
			t.Errorf("%s: Fix error %v, want a refusal saying to edit by hand", f, err)
		}
	}
}

// Expectations from the Kubernetes API reference for Container.command/args: "Variable
// references $(VAR_NAME) are expanded using the container's environment. If a variable cannot
// be resolved, the reference in the input string will be unchanged. Double $$ are reduced to a
// single $ ... "$$(VAR_NAME)" will produce the string literal "$(VAR_NAME)"", and for
// EnvVar.value: references to "previously defined environment variables" are expanded.
func TestExpandKube(t *testing.T) {
	env := map[string]envValue{
		"A":      {text: "x"},
		"POD_IP": {text: "$(POD_IP)", refs: []RunTimeRef{{Var: "POD_IP", From: "status.podIP", Kind: "ip"}}},
	}
	tests := []struct {
		in, want  string
		refs      []string
		undefined []string
		anyFrom   bool
	}{
		{in: "--a=$(A)", want: "--a=x"},
		{in: "$$(A)", want: "$(A)"},
		{in: "$$$(A)", want: "$x"},
		{in: "$A ${A} $", want: "$A ${A} $"},
		{in: "$(A", want: "$(A"},
		{in: "--ip=$(POD_IP)", want: "--ip=$(POD_IP)", refs: []string{"POD_IP"}},
		{in: "--b=$(B)", want: "--b=$(B)", undefined: []string{"B"}},
		{in: "--b=$(B)", want: "--b=$(B)", refs: []string{"B"}, anyFrom: true},
	}
	for _, tt := range tests {
		got, refs, undefined := expandKube(tt.in, env, tt.anyFrom)
		var names []string
		for _, r := range refs {
			names = append(names, r.Var)
		}
		if got != tt.want || !reflect.DeepEqual(names, tt.refs) || !reflect.DeepEqual(undefined, tt.undefined) {
			t.Errorf("expandKube(%q) = %q refs %q undefined %q; want %q %q %q", tt.in, got, names, undefined, tt.want, tt.refs, tt.undefined)
		}
	}
}

// A fieldRef is judged by its kind: the flags that use it are marked as known at run time (and
// so not judged by their text); a variable built from it carries its reference; an undefined
// one is reported, and passed on literally.
func TestManifestRunTimeValues(t *testing.T) {
	inv := loadFixture(t, "wrappers/kube-apiserver-podip.manifest", nil)[0]
	got := map[string]Word{}
	for _, w := range inv.Args {
		k, _, _ := strings.Cut(w.Value, "=")
		got[k] = w
	}
	if w := got["--advertise-address"]; len(w.RunTime) != 1 || w.RunTime[0].Kind != "ip" || w.RunTime[0].From != "status.podIP" {
		t.Errorf("--advertise-address: %+v", w)
	}
	if w := got["--etcd-servers"]; w.Value != "--etcd-servers=https://$(POD_IP):2379" || len(w.RunTime) != 1 {
		t.Errorf("--etcd-servers: %+v", w)
	}
	if w := got["--profiling"]; w.Value != "--profiling=$(literal)" || len(w.RunTime) != 0 {
		t.Errorf("--profiling: %+v", w)
	}
	var undefined []string
	for _, p := range inv.Problems {
		if p.ID == "manifest-undefined-variable" {
			undefined = append(undefined, p.Message)
		}
	}
	if len(undefined) != 1 || !strings.Contains(undefined[0], "$(SECURE_PORT)") {
		t.Errorf("undefined-variable findings %q", undefined)
	}
	a := ParseArgs(flags.Default().Component("kube-apiserver"), inv.Args)
	if !a.Unresolved("advertise-address") || !a.Unresolved("etcd-servers") {
		t.Error("flags whose value is known only at run time are judged by their text")
	}
	rep := Inspect([]*Invocation{inv}, opts(nil))
	for _, f := range rep.All() {
		if f.Flag == "advertise-address" || f.Flag == "--advertise-address" {
			t.Errorf("a finding on --advertise-address=$(POD_IP): %+v", f)
		}
	}
}

// In ExecStart=/bin/sh -c "...", systemd passes an unbraced $VAR on to the shell
// (systemd.service(5)), which expands it: not a unit-unbraced-variable mistake, but a value
// computed at run time.
func TestUnitShellWrapperVariables(t *testing.T) {
	unit := "[Service]\nEnvironment=ARGS=--v=2\nExecStart=/bin/sh -c \"exec /usr/local/bin/kubelet $ARGS --config=/var/lib/kubelet/config.yaml\"\n"
	u, err := LoadUnit("kubelet.service", File{Name: "kubelet.service", Data: []byte(unit)}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := FromUnitFile(flags.Default(), u)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range inv.Problems {
		got = append(got, p.ID)
	}
	if inv.Component != "kubelet" || !reflect.DeepEqual(got, []string{"input-wrapper-runtime"}) {
		t.Errorf("component %q problems %q, want kubelet with one input-wrapper-runtime", inv.Component, got)
	}
}

// In a manifest's sh -c script, the kubelet expands $(VAR) from the container's env before the
// shell starts (Kubernetes expands command and args, the script included): a defined $(POD_IP)
// is a run-time value of its kind, not shell command substitution; a $(hostname) the env does
// not define is left to the shell, which runs it.
func TestShellScriptKubeletVariables(t *testing.T) {
	manifest := `apiVersion: v1
kind: Pod
metadata: {name: kube-apiserver}
spec:
  containers:
  - name: kube-apiserver
    command:
    - /bin/sh
    - -c
    - exec kube-apiserver --advertise-address=$(POD_IP) --etcd-servers=https://127.0.0.1:2379 --v=$(hostname) 1>>/var/log/kube-apiserver.log 2>&1
    env:
    - name: POD_IP
      valueFrom: {fieldRef: {fieldPath: status.podIP}}
`
	invs, err := ParseManifest(flags.Default(), File{Name: "kube-apiserver.yaml", Data: []byte(manifest)})
	if err != nil || len(invs) != 1 {
		t.Fatalf("%v, %d invocations", err, len(invs))
	}
	inv := invs[0]
	got := map[string]Word{}
	for _, w := range inv.Args {
		k, _, _ := strings.Cut(w.Value, "=")
		got[k] = w
	}
	if w := got["--advertise-address"]; w.Value != "--advertise-address=$(POD_IP)" || len(w.RunTime) != 1 || w.RunTime[0].Kind != "ip" {
		t.Errorf("--advertise-address: %+v", w)
	}
	var runtime []string
	for _, p := range inv.Problems {
		runtime = append(runtime, p.ID+": "+p.Message)
	}
	if len(runtime) != 2 || !strings.Contains(runtime[0], "$(hostname)") || !strings.Contains(runtime[1], "hostname") {
		t.Errorf("problems %q, want input-wrapper-runtime for $(hostname) and manifest-undefined-variable for it only", runtime)
	}
	for _, f := range Inspect(invs, opts(nil)).All() {
		if f.Flag == "advertise-address" {
			t.Errorf("a finding on --advertise-address=$(POD_IP) inside sh -c: %+v", f)
		}
	}
}
