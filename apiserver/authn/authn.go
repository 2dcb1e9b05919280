package authn

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Well-known names.
const (
	AllAuthenticated = "system:authenticated"
	NodesGroup       = "system:nodes"
	NodeUserPrefix   = "system:node:"
	CredentialIDKey  = "authentication.kubernetes.io/credential-id"
)

// User is an authenticated identity.
type User struct {
	Name   string
	UID    string
	Groups []string
	Extra  map[string][]string
}

// X509 authenticates client certificates against a set of CAs.
type X509 struct {
	// Roots are the CAs of --client-ca-file.
	Roots *x509.CertPool
	// Now is the time certificates are checked at.
	Now time.Time
}

// ErrNoCertificate means the client presented no certificate: not an error of the
// certificate, but nobody is authenticated by it.
var ErrNoCertificate = errors.New("no client certificate")

// Authenticate returns the user a presented chain (leaf first) names. A chain that does not
// verify is an error that says why; a leaf without CN authenticates nobody (nil, nil).
func (a X509) Authenticate(chain []*x509.Certificate) (*User, error) {
	if len(chain) == 0 {
		return nil, ErrNoCertificate
	}
	opts := x509.VerifyOptions{Roots: a.Roots, CurrentTime: a.Now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if len(chain) > 1 {
		opts.Intermediates = x509.NewCertPool()
		for _, c := range chain[1:] {
			opts.Intermediates.AddCert(c)
		}
	}
	leaf := chain[0]
	if _, err := leaf.Verify(opts); err != nil {
		return nil, fmt.Errorf("client certificate CN=%q (serial %s): %w", leaf.Subject.CommonName, leaf.SerialNumber, err)
	}
	if leaf.Subject.CommonName == "" {
		return nil, nil
	}
	sum := sha256.Sum256(leaf.Raw)
	u := &User{
		Name:   leaf.Subject.CommonName,
		Groups: slices.Clone(leaf.Subject.Organization),
		Extra:  map[string][]string{CredentialIDKey: {"X509SHA256=" + hex.EncodeToString(sum[:])}},
	}
	return WithAuthenticatedGroup(u), nil
}

// WithAuthenticatedGroup adds system:authenticated to u's groups, once.
func WithAuthenticatedGroup(u *User) *User {
	if !slices.Contains(u.Groups, AllAuthenticated) {
		u.Groups = append(u.Groups, AllAuthenticated)
	}
	return u
}

// NodeIdentity returns the node a user is, and whether it is one: its name must be
// system:node:<node> and it must be in system:nodes.
func NodeIdentity(u *User) (node string, ok bool) {
	if u == nil {
		return "", false
	}
	name, found := strings.CutPrefix(u.Name, NodeUserPrefix)
	if !found || name == "" || !slices.Contains(u.Groups, NodesGroup) {
		return "", false
	}
	return name, true
}
