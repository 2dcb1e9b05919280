package rbac

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hardway-dev/hardway/internal/mtls"
	"github.com/hardway-dev/hardway/pki"
)

// Client talks to one API server with one identity.
type Client struct {
	// Server is the API server's base URL, https://HOST:PORT.
	Server string
	// HTTP carries the TLS configuration (server CA, client certificate).
	HTTP *http.Client
	// Retry is how Apply repeats itself after a failure that may pass; the zero value tries
	// once.
	Retry Retry
	// Log hears of each retry; nil discards.
	Log *slog.Logger
}

// NewClient returns a client for the kubeconfig's current context, with its embedded CA and
// client certificate, retrying as DefaultRetry says. A non-empty server replaces the
// kubeconfig's (launch talks to the API server it just started rather than to a load balancer
// that may not be up yet); the server certificate is still verified against the kubeconfig's CA.
func NewClient(kubeconfig []byte, server string) (*Client, error) {
	kc, err := pki.ParseKubeconfig(kubeconfig)
	if err != nil {
		return nil, err
	}
	if server == "" {
		server = kc.Server
	}
	if _, err := objectURL(server, ""); err != nil {
		return nil, err
	}
	hc, err := mtls.Client{CA: kc.CAPEM, Cert: kc.CertPEM, Key: kc.KeyPEM}.HTTP(30*time.Second, true)
	if err != nil {
		return nil, fmt.Errorf("the kubeconfig's credentials: %w", err)
	}
	return &Client{Server: strings.TrimSuffix(server, "/"), HTTP: hc, Retry: DefaultRetry}, nil
}

// Result is what Apply did to one binding.
type Result struct {
	Name   string
	Action Action
}

// Report is the outcome of Apply, one result per binding in order.
type Report struct {
	Results []Result
}

// Describe writes one line per binding.
func (r *Report) Describe(w io.Writer) {
	for _, res := range r.Results {
		fmt.Fprintf(w, "rbac: clusterrolebinding %s %s\n", res.Name, res.Action)
	}
}

// Apply makes the server hold every binding in want, idempotently (see the package
// documentation), trying again as c.Retry says. A try stops at its first error; the report
// holds what the tries did until then, each binding with what was done to it first ("created"
// by one try, not the "unchanged" a later try finds).
func (c *Client) Apply(ctx context.Context, want []rbacv1.ClusterRoleBinding) (*Report, error) {
	done := map[string]Action{}
	err := c.Retry.Do(ctx, c.Log, "bootstrap RBAC", func(ctx context.Context) error {
		for _, w := range want {
			action, err := c.apply(ctx, w)
			if err != nil {
				return fmt.Errorf("clusterrolebinding %s: %w", w.Name, err)
			}
			if prev, ok := done[w.Name]; !ok || prev == Unchanged {
				done[w.Name] = action
			}
		}
		return nil
	})
	rep := &Report{}
	for _, w := range want {
		if a, ok := done[w.Name]; ok {
			rep.Results = append(rep.Results, Result{Name: w.Name, Action: a})
		}
	}
	return rep, err
}

func (c *Client) apply(ctx context.Context, want rbacv1.ClusterRoleBinding) (Action, error) {
	got, err := c.Get(ctx, want.Name)
	if err != nil {
		return "", err
	}
	action := Decide(want, got)
	switch action {
	case Create:
		req, err := CreateRequest(ctx, c.Server, want)
		if err != nil {
			return "", err
		}
		return action, c.do(req, http.StatusCreated, nil)
	case Update:
		req, err := UpdateRequest(ctx, c.Server, Updated(want, *got))
		if err != nil {
			return "", err
		}
		return action, c.do(req, http.StatusOK, nil)
	case Recreate:
		req, err := DeleteRequest(ctx, c.Server, want.Name, string(got.UID))
		if err != nil {
			return "", err
		}
		if err := c.do(req, http.StatusOK, nil, http.StatusAccepted); err != nil {
			return "", fmt.Errorf("deleting it to change its roleRef from %s %s to %s %s: %w", got.RoleRef.Kind, got.RoleRef.Name, want.RoleRef.Kind, want.RoleRef.Name, err)
		}
		if req, err = CreateRequest(ctx, c.Server, want); err != nil {
			return "", err
		}
		return action, c.do(req, http.StatusCreated, nil)
	}
	return action, nil
}

// Get reads the named binding; nil without error when the server has none.
func (c *Client) Get(ctx context.Context, name string) (*rbacv1.ClusterRoleBinding, error) {
	req, err := GetRequest(ctx, c.Server, name)
	if err != nil {
		return nil, err
	}
	var b rbacv1.ClusterRoleBinding
	if err := c.do(req, http.StatusOK, &b); err != nil {
		var se *StatusError
		if errors.As(err, &se) && se.Code == http.StatusNotFound {
			return nil, nil
		}
		return nil, err
	}
	return &b, nil
}

// StatusError is an API server answer other than the expected one.
type StatusError struct {
	Method, URL string
	Code        int
	Reason      metav1.StatusReason
	Message     string
}

func (e *StatusError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Code)
	}
	return fmt.Sprintf("%s %s: HTTP %d %s: %s", e.Method, e.URL, e.Code, e.Reason, msg)
}

// do sends req and decodes a JSON answer into out when the status is want (or one of also).
func (c *Client) do(req *http.Request, want int, out any, also ...int) error {
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", req.Method, req.URL, err)
	}
	if resp.StatusCode != want && !slices.Contains(also, resp.StatusCode) {
		se := &StatusError{Method: req.Method, URL: req.URL.String(), Code: resp.StatusCode}
		var st metav1.Status
		if json.Unmarshal(body, &st) == nil && st.Kind == "Status" {
			se.Reason, se.Message = st.Reason, st.Message
		} else {
			se.Message = strings.TrimSpace(string(body))
		}
		return se
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("%s %s: decoding the answer: %w", req.Method, req.URL, err)
		}
	}
	return nil
}
