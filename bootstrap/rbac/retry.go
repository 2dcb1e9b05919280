package rbac

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Retry is how a Client repeats a call that failed for a reason that may pass. Apply is
// idempotent, so a try that failed half-way is safe to repeat.
type Retry struct {
	// Attempts is how many tries there are in all; 0 or 1 tries once.
	Attempts int
	// Backoff is the pause before the second try; each later pause is the one before times
	// Factor (when above 1), at most MaxBackoff (when set).
	Backoff    time.Duration
	Factor     float64
	MaxBackoff time.Duration
	// Timeout bounds every try and pause together; 0 leaves that to the caller's context.
	Timeout time.Duration
	// Transient reports whether a failure may pass when the call is repeated; nil makes every
	// failure final.
	Transient func(error) bool
}

// DefaultRetry is NewClient's policy, made for launch: it applies the bindings as soon as the
// API server's /readyz answers, when the server may still reset connections or answer 503 or
// 429 for a moment. Every 2 seconds for up to a minute; an answer such as 403 is final.
var DefaultRetry = Retry{Attempts: 30, Backoff: 2 * time.Second, Factor: 1, Timeout: time.Minute, Transient: transient}

// transient is every failure but an API server answer that will be the same next time: a status
// below 500 other than 429 Too Many Requests. Connection errors and timeouts are transient.
func transient(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code >= 500 || se.Code == http.StatusTooManyRequests
	}
	return true
}

// do calls try until it succeeds, fails for good, the attempts are spent, or the timeout or ctx
// ends, and returns try's last error. log hears of each retry.
func (r Retry) do(ctx context.Context, log *slog.Logger, try func(context.Context) error) error {
	if r.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.Timeout)
		defer cancel()
	}
	pause := r.Backoff
	for n := 1; ; n++ {
		err := try(ctx)
		if err == nil || r.Transient == nil || !r.Transient(err) {
			return err
		}
		if n >= r.Attempts || ctx.Err() != nil {
			return gaveUp(err, n)
		}
		log.Warn("bootstrap RBAC: retrying", "err", err, "try", n, "in", pause)
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return gaveUp(err, n)
		case <-t.C:
		}
		if r.Factor > 1 {
			pause = time.Duration(float64(pause) * r.Factor)
		}
		if r.MaxBackoff > 0 && pause > r.MaxBackoff {
			pause = r.MaxBackoff
		}
	}
}

// gaveUp is the last failure, saying how many tries there were when there was more than one.
func gaveUp(err error, tries int) error {
	if tries == 1 {
		return err
	}
	return fmt.Errorf("%w (gave up after %d tries)", err, tries)
}
