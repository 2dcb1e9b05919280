// Package retry is launch's policy for repeating an idempotent call to the API server that
// failed for a reason that may pass: the server answers /readyz a moment before it stops
// resetting connections and answering 503 or 429. A Policy is data (attempts, pauses, a timeout,
// which failures are transient); Do applies it. bootstrap/rbac and bootstrap/addons use it.
package retry
