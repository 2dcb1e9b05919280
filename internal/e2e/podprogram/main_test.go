package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The subcommands that do not block, in process. serve and pause run as the built binary in
// internal/e2e/images' tests and in containers.
func TestRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.Error(w, "no", http.StatusNotFound)
			return
		}
		io.WriteString(w, "hello\n")
	}))
	defer srv.Close()
	for _, c := range []struct {
		args       []string
		code       int
		out, inErr string
	}{
		{[]string{"echo", "a", "b"}, 0, "a b\n", ""},
		{[]string{"echo"}, 0, "\n", ""},
		{[]string{"get", srv.URL + "/"}, 0, "hello\n", ""},
		{[]string{"get", srv.URL + "/missing"}, 1, "no\n", "404"},
		{[]string{"get", "http://127.0.0.1:1/"}, 1, "", "connection refused"},
		{[]string{"lookup", "localhost"}, 0, "127.0.0.1", ""},
		{[]string{"lookup", "no-such-host.invalid"}, 1, "", "no-such-host.invalid"},
		{nil, 2, "", "usage"},
		{[]string{"pause", "x"}, 2, "", "usage"},
		{[]string{"serve", "--port"}, 2, "", "usage"},
		{[]string{"serve", "x"}, 2, "", "usage"},
		{[]string{"get"}, 2, "", "usage"},
		{[]string{"frobnicate"}, 2, "", "usage"},
	} {
		var out, errOut bytes.Buffer
		code := run(c.args, &out, &errOut)
		if code != c.code || !strings.Contains(out.String(), c.out) || !strings.Contains(errOut.String(), c.inErr) {
			t.Errorf("podprogram %q = %d, stdout %q, stderr %q; want %d, stdout containing %q, stderr containing %q", c.args, code, out.String(), errOut.String(), c.code, c.out, c.inErr)
		}
	}
}
