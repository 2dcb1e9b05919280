package rbac

import (
	"errors"
	"net/http"
	"time"

	"github.com/hardway-dev/hardway/bootstrap/retry"
)

// Retry is how a Client repeats a call that failed for a reason that may pass. Apply is
// idempotent, so a try that failed half-way is safe to repeat.
type Retry = retry.Policy

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
