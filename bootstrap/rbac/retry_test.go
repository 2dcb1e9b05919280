package rbac

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
)

// pauses records the pause of every retry the policy logs.
type pauses struct {
	mu  sync.Mutex
	got []time.Duration
}

func (p *pauses) Enabled(context.Context, slog.Level) bool { return true }
func (p *pauses) WithAttrs([]slog.Attr) slog.Handler       { return p }
func (p *pauses) WithGroup(string) slog.Handler            { return p }
func (p *pauses) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "in" {
			p.mu.Lock()
			p.got = append(p.got, a.Value.Duration())
			p.mu.Unlock()
		}
		return true
	})
	return nil
}

func TestRetryPolicy(t *testing.T) {
	unavailable := &StatusError{Code: http.StatusServiceUnavailable}
	tooMany := &StatusError{Code: http.StatusTooManyRequests}
	forbidden := &StatusError{Code: http.StatusForbidden}
	reset := errors.New("connection reset by peer")
	quick := Retry{Attempts: 5, Backoff: time.Millisecond, Factor: 1, Transient: transient}
	tests := []struct {
		name       string
		policy     Retry
		fails      []error // what each try returns, then success
		wantTries  int
		wantErr    error // errors.Is; nil for success
		wantGaveUp bool
		wantPauses []time.Duration
	}{
		{name: "success", policy: quick, wantTries: 1},
		{name: "transient failures pass", policy: quick, fails: []error{unavailable, reset, tooMany}, wantTries: 4,
			wantPauses: []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}},
		{name: "a final answer is not retried", policy: quick, fails: []error{unavailable, forbidden}, wantTries: 2, wantErr: forbidden},
		{name: "attempts spent", policy: quick, fails: []error{reset, reset, reset, reset, reset, reset}, wantTries: 5, wantErr: reset, wantGaveUp: true},
		{name: "the zero policy tries once", fails: []error{unavailable}, wantTries: 1, wantErr: unavailable},
		{name: "no Transient: every failure is final", policy: Retry{Attempts: 5}, fails: []error{unavailable}, wantTries: 1, wantErr: unavailable},
		{name: "the pause grows by Factor up to MaxBackoff",
			policy: Retry{Attempts: 6, Backoff: time.Millisecond, Factor: 2, MaxBackoff: 5 * time.Millisecond, Transient: transient},
			fails:  []error{reset, reset, reset, reset, reset}, wantTries: 6,
			wantPauses: []time.Duration{time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond, 5 * time.Millisecond, 5 * time.Millisecond}},
		{name: "the timeout ends the tries", policy: Retry{Attempts: 1000, Backoff: 20 * time.Millisecond, Timeout: 50 * time.Millisecond, Transient: transient},
			fails: make([]error, 1000), wantErr: reset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range tt.fails {
				if tt.fails[i] == nil {
					tt.fails[i] = reset
				}
			}
			var log pauses
			tries := 0
			err := tt.policy.do(context.Background(), slog.New(&log), func(context.Context) error {
				tries++
				if tries <= len(tt.fails) {
					return tt.fails[tries-1]
				}
				return nil
			})
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if tt.wantTries == 0 { // the timeout: how many tries fit depends on the machine's load
				if tries >= tt.policy.Attempts {
					t.Errorf("%d tries: the timeout did not end them", tries)
				}
				return
			}
			if tries != tt.wantTries {
				t.Errorf("%d tries, want %d", tries, tt.wantTries)
			}
			if got := err != nil && strings.Contains(err.Error(), "gave up after"); got != tt.wantGaveUp {
				t.Errorf("error %q: gave up %v, want %v", err, got, tt.wantGaveUp)
			}
			if tt.wantPauses != nil && !slices.Equal(log.got, tt.wantPauses) {
				t.Errorf("pauses %v, want %v", log.got, tt.wantPauses)
			}
		})
	}
}

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
