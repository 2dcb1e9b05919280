package problem

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
)

func TestString(t *testing.T) {
	for _, tt := range []struct {
		p    Problem
		want string
	}{
		{Errorf("nodes[1].addresses[0]", "use an IPv4 or IPv6 address", "%q is not an IP address", "10.0.0.300"),
			`nodes[1].addresses[0]: "10.0.0.300" is not an IP address; use an IPv4 or IPv6 address`},
		{Errorf("--name", "", "is required"), "--name: is required"},
		{Warningf("", "list each role once", "a role is listed twice"), "a role is listed twice; list each role once"},
	} {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestListErr(t *testing.T) {
	if err := (List{}).Err(); err != nil {
		t.Errorf("empty list: %v", err)
	}
	warn := Warningf("nodes", "use 3 or 5", "2 etcd members")
	if err := (List{warn}).Err(); err != nil {
		t.Errorf("warnings only: %v", err)
	}
	l := List{Errorf("name", "fix it", "bad"), warn, {Where: "unset", Message: "no severity"}, {Severity: Info, Message: "fyi"}}
	if got := len(l.Errors()); got != 2 {
		t.Errorf("Errors() has %d problems, want 2 (Error and unset)", got)
	}
	if got := l.Warnings(); len(got) != 1 || got[0] != warn {
		t.Errorf("Warnings() = %v", got)
	}
	err := fmt.Errorf("cluster.yaml: %w", l.Err())
	var le *ListError
	if !errors.As(err, &le) || len(le.Problems) != 2 {
		t.Fatalf("errors.As(%v) found %v", err, le)
	}
	want := "cluster.yaml: 2 problem(s):\n  name: bad; fix it\n  unset: no severity"
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err, want)
	}
}

// hardway certs verify -o json and hardway inspect -o json show severities by name.
func TestJSON(t *testing.T) {
	b, err := json.Marshal(Errorf("pki/ca.crt", "run hardway init", "missing"))
	if err != nil || string(b) != `{"severity":"error","where":"pki/ca.crt","message":"missing","fix":"run hardway init"}` {
		t.Errorf("json.Marshal = %s, %v", b, err)
	}
	var p Problem
	if err := json.Unmarshal(b, &p); err != nil || p != Errorf("pki/ca.crt", "run hardway init", "missing") {
		t.Errorf("json.Unmarshal = %+v, %v", p, err)
	}
	if err := json.Unmarshal([]byte(`{"severity":"fatal"}`), &p); err == nil {
		t.Error("unknown severity accepted")
	}
}

func TestSeverityOrder(t *testing.T) {
	if !(Info < Warning && Warning < Error) {
		t.Error("severities do not order info < warning < error")
	}
	for _, s := range []Severity{Info, Warning, Error} {
		if got, err := ParseSeverity(s.String()); got != s || err != nil {
			t.Errorf("ParseSeverity(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseSeverity("fatal"); err == nil {
		t.Error("ParseSeverity(fatal) accepted")
	}
}
