package inspect

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// RunTimeRef is a $(VAR) of a manifest whose value only the kubelet knows, when it starts the
// container: a fieldRef such as status.podIP, a resourceFieldRef, a ConfigMap or Secret key,
// or a variable envFrom may define. Checks judge such a value by its Kind, never by its text.
type RunTimeRef struct {
	Var string `json:"var"`
	// From is where the value comes from: "status.podIP", "configMap kube-proxy/key", ...
	From string `json:"from"`
	// Kind is what the value is: "ip", "ips", "name", "text", "quantity".
	Kind string `json:"kind"`
}

func (r RunTimeRef) String() string {
	return fmt.Sprintf("%s=%s at run time (%s)", r.Var, r.From, r.Kind)
}

// fieldKinds are the kinds of the pod fields a fieldRef may select (the downward API).
var fieldKinds = map[string]string{
	"status.podIP": "ip", "status.hostIP": "ip", "status.podIPs": "ips", "status.hostIPs": "ips",
	"spec.nodeName": "name", "metadata.name": "name", "metadata.namespace": "name",
	"metadata.uid": "text", "spec.serviceAccountName": "name",
}

// envValue is a container variable: its text, and the run-time values the text stands for.
type envValue struct {
	text string
	refs []RunTimeRef
}

// containerEnv resolves a container's env the way the kubelet does (makeEnvironmentVariables):
// in order, a value's $(VAR) references expanded from the variables defined before it; a
// valueFrom is a run-time value. anyFrom is set when envFrom may define further variables.
func containerEnv(c *corev1.Container) (env map[string]envValue, anyFrom bool) {
	env = map[string]envValue{}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			text, refs, _ := expandKube(e.Value, env, false)
			env[e.Name] = envValue{text: text, refs: refs}
			continue
		}
		r := RunTimeRef{Var: e.Name, Kind: "text"}
		switch vf := e.ValueFrom; {
		case vf.FieldRef != nil:
			r.From = vf.FieldRef.FieldPath
			if k, ok := fieldKinds[r.From]; ok {
				r.Kind = k
			}
		case vf.ResourceFieldRef != nil:
			r.From, r.Kind = "resource "+vf.ResourceFieldRef.Resource, "quantity"
		case vf.ConfigMapKeyRef != nil:
			r.From = "configMap " + vf.ConfigMapKeyRef.Name + "/" + vf.ConfigMapKeyRef.Key
		case vf.SecretKeyRef != nil:
			r.From = "secret " + vf.SecretKeyRef.Name + "/" + vf.SecretKeyRef.Key
		default:
			r.From = "valueFrom"
		}
		env[e.Name] = envValue{text: "$(" + e.Name + ")", refs: []RunTimeRef{r}}
	}
	return env, len(c.EnvFrom) > 0
}

// expandKube expands $(VAR) in s as the kubelet does for command, args and env values
// (k8s.io/kubernetes third_party/forked/golang/expansion, Expand): $$ is a literal $, $(NAME)
// is the variable's value, a reference to a variable the container does not define stays as
// written (undefined lists it), and a $ not followed by ( or $ is literal. A run-time value is
// kept as written and listed in refs; with anyFrom, an undefined name is taken as one envFrom
// defines at run time.
func expandKube(s string, env map[string]envValue, anyFrom bool) (out string, refs []RunTimeRef, undefined []string) {
	if !strings.Contains(s, "$") {
		return s, nil, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString("$(")
				i++
				continue
			}
			name := s[i+2 : i+2+end]
			i += 2 + end
			v, ok := env[name]
			switch {
			case ok:
				b.WriteString(v.text)
				refs = append(refs, v.refs...)
			case anyFrom:
				b.WriteString("$(" + name + ")")
				refs = append(refs, RunTimeRef{Var: name, From: "envFrom", Kind: "text"})
			default:
				b.WriteString("$(" + name + ")")
				undefined = append(undefined, name)
			}
		default:
			b.WriteByte('$')
		}
	}
	return b.String(), refs, undefined
}
