package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/apiserver/etcdserver"
)

func TestEtcdRefusesUnknownFlagsAndPlainHTTP(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"etcd", "--name=a", "--enable-v2"}, "unknown flag: --enable-v2"},
		{[]string{"etcd", "--name=a", "--listen-client-urls=http://127.0.0.1:2379"}, `--listen-client-urls: "http://127.0.0.1:2379" is plain http`},
		{[]string{"etcd", "--name=a", "--listen-peer-urls=http://127.0.0.1:2380"}, "use https://127.0.0.1:2380 together with --peer-cert-file"},
		{[]string{"etcd", "stray"}, "takes only flags"},
	} {
		var out, errb bytes.Buffer
		code := run(tc.args, strings.NewReader(""), &out, &errb)
		if code != 2 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("hardway %v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, errb.String(), tc.want)
		}
	}
}

// Every flag of the etcdserver table is on the command, under etcd's name.
func TestEtcdHelpListsEveryFlag(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"etcd", "--help"}, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, f := range etcdserver.Flags {
		if !strings.Contains(out.String(), "--"+f.Name+" ") {
			t.Errorf("help does not list --%s", f.Name)
		}
	}
}
