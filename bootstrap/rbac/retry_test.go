package rbac

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
)

func TestTransient(t *testing.T) {
	for code, want := range map[int]bool{
		400: false, 401: false, 403: false, 404: false, 409: false, 422: false,
		429: true, 500: true, 502: true, 503: true, 504: true,
	} {
		if got := transient(&StatusError{Code: code}); got != want {
			t.Errorf("HTTP %d: transient %v, want %v", code, got, want)
		}
	}
	if !transient(errors.New("dial tcp 127.0.0.1:6443: connect: connection refused")) {
		t.Error("a connection error is final")
	}
	if !DefaultRetry.Transient(&StatusError{Code: 503}) || DefaultRetry.Attempts < 2 || DefaultRetry.Timeout <= 0 {
		t.Errorf("DefaultRetry does not retry: %+v", DefaultRetry)
	}
}

// Apply retries a try that failed half-way, and reports each binding with what was done to it
// first: the binding the first try created is "created", not the "unchanged" the second finds.
func TestApplyRetriesAndReportsTheFirstAction(t *testing.T) {
	api := &fakeAPI{objs: map[string]rbacv1.ClusterRoleBinding{}}
	var mu sync.Mutex
	requests := 0
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests++
		n := requests
		mu.Unlock()
		if n == 3 { // GET of the second binding, after the first was created
			http.Error(w, `{"kind":"Status","code":503,"reason":"ServiceUnavailable"}`, http.StatusServiceUnavailable)
			return
		}
		api.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c := &Client{Server: srv.URL, HTTP: srv.Client(), Retry: Retry{Attempts: 3, Backoff: time.Millisecond, Transient: transient}}
	rep, err := c.Apply(context.Background(), Bindings())
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rep.Describe(&out)
	if out.String() != "rbac: clusterrolebinding hardway:cluster-admins created\nrbac: clusterrolebinding hardway:apiserver-kubelet-client created\n" {
		t.Errorf("report:\n%s", out.String())
	}
	if w := strings.Join(api.writes, ","); w != "POST ,POST " {
		t.Errorf("writes %s", w)
	}

	// A final answer is reported with what was done before it.
	c.Retry.Attempts = 1
	api.objs = map[string]rbacv1.ClusterRoleBinding{}
	mu.Lock()
	requests = 0
	mu.Unlock()
	rep, err = c.Apply(context.Background(), Bindings())
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 503 || len(rep.Results) != 1 || rep.Results[0].Action != Create {
		t.Errorf("one try: %v, %+v", err, rep.Results)
	}
}
