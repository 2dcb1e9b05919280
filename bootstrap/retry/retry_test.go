package retry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
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
	unavailable := errors.New("503 Service Unavailable")
	tooMany := errors.New("429 Too Many Requests")
	forbidden := errors.New("403 Forbidden")
	reset := errors.New("connection reset by peer")
	transient := func(err error) bool { return err != forbidden }
	quick := Policy{Attempts: 5, Backoff: time.Millisecond, Factor: 1, Transient: transient}
	tests := []struct {
		name       string
		policy     Policy
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
		{name: "no Transient: every failure is final", policy: Policy{Attempts: 5}, fails: []error{unavailable}, wantTries: 1, wantErr: unavailable},
		{name: "the pause grows by Factor up to MaxBackoff",
			policy: Policy{Attempts: 6, Backoff: time.Millisecond, Factor: 2, MaxBackoff: 5 * time.Millisecond, Transient: transient},
			fails:  []error{reset, reset, reset, reset, reset}, wantTries: 6,
			wantPauses: []time.Duration{time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond, 5 * time.Millisecond, 5 * time.Millisecond}},
		{name: "the timeout ends the tries", policy: Policy{Attempts: 1000, Backoff: 20 * time.Millisecond, Timeout: 50 * time.Millisecond, Transient: transient},
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
			err := tt.policy.Do(context.Background(), slog.New(&log), "test", func(context.Context) error {
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

func TestAPIServer(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{errors.New("dial tcp 127.0.0.1:6443: connect: connection refused"), true},
		{apierrors.NewServiceUnavailable("starting"), true},
		{apierrors.NewTooManyRequests("busy", 1), true},
		{apierrors.NewInternalError(errors.New("etcd")), true},
		{apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "p", errors.New("no")), false},
		{apierrors.NewInvalid(schema.GroupKind{Kind: "Node"}, "n", nil), false},
		{fmt.Errorf("wrapped: %w", &meta.NoKindMatchError{GroupKind: schema.GroupKind{Kind: "Widget"}}), false},
	} {
		if got := APIServer(tt.err); got != tt.want {
			t.Errorf("%v: transient %v, want %v", tt.err, got, tt.want)
		}
	}
}
