package retry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"k8s.io/apimachinery/pkg/api/meta"
)

// Policy is how a call is repeated after a failure that may pass. The call must be idempotent:
// a try that failed half-way is repeated from the start.
type Policy struct {
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

// Do calls try until it succeeds, fails for good, the attempts are spent, or the timeout or ctx
// ends, and returns try's last error. log (nil discards) hears of each retry, as what.
func (r Policy) Do(ctx context.Context, log *slog.Logger, what string, try func(context.Context) error) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
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
		log.Warn(what+": retrying", "err", err, "try", n, "in", pause)
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

// APIServer is the Transient of a client-go call: a failure that may pass is no answer
// (connection refused or reset, a timeout) or an API server answer of 5xx or 429. Any other
// answer, and a kind the server does not serve, is final.
func APIServer(err error) bool {
	if meta.IsNoMatchError(err) {
		return false
	}
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		code := int(st.Status().Code)
		return code >= 500 || code == http.StatusTooManyRequests
	}
	return true
}
