package inspect

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/hardway-dev/hardway/pki"
	"github.com/hardway-dev/hardway/units/flags"
)

// fileCache reads each file behind a flag once, from the inspected root.
type fileCache struct {
	fsys  fs.FS
	files map[string]*loaded
	// verified memoizes verifyWith: the components of a node name the same certificates and
	// CAs many times over, and a signature check is most of an inspection's time.
	verified map[verifyKey]error
}

// verifyKey identifies a chain and a set of roots by their certificates' bytes: the same CA is
// parsed once per file that holds it (each kubeconfig embeds its own copy).
type verifyKey string

func keyOf(chain, roots []*x509.Certificate) verifyKey {
	var b strings.Builder
	for _, set := range [][]*x509.Certificate{chain, roots} {
		for _, c := range set {
			b.Write(c.Raw)
			b.WriteByte(0)
		}
		b.WriteByte(1)
	}
	return verifyKey(b.String())
}

// verify is verifyWith, once per chain and roots.
func (fc *fileCache) verify(chain, roots []*x509.Certificate) error {
	if len(chain) == 0 || len(roots) == 0 {
		return verifyWith(chain, roots)
	}
	k := keyOf(chain, roots)
	if err, ok := fc.verified[k]; ok {
		return err
	}
	err := verifyWith(chain, roots)
	fc.verified[k] = err
	return err
}

// loaded is one file read and parsed as the kind the flag expects.
type loaded struct {
	path  string
	info  fs.FileInfo
	err   error // missing or unreadable
	perr  error // read but not parseable as the expected kind
	certs []*x509.Certificate
	key   crypto.Signer
	pubs  []crypto.PublicKey
	kc    *kubeconfig
}

func newFileCache(fsys fs.FS) *fileCache {
	return &fileCache{fsys: fsys, files: map[string]*loaded{}, verified: map[verifyKey]error{}}
}

// fsPath turns an absolute node path into an fs.FS path.
func fsPath(p string) string {
	p = path.Clean("/" + p)
	if p == "/" {
		return "."
	}
	return strings.TrimPrefix(p, "/")
}

func (fc *fileCache) load(p string, kind flags.FileKind) *loaded {
	key := string(kind) + "\x00" + p
	if l, ok := fc.files[key]; ok {
		return l
	}
	l := &loaded{path: p}
	fc.files[key] = l
	info, err := fs.Stat(fc.fsys, fsPath(p))
	if err != nil {
		l.err = pathCause(err)
		return l
	}
	l.info = info
	if kind == flags.Dir || info.IsDir() {
		if kind != flags.Dir {
			l.err = fmt.Errorf("is a directory")
		}
		return l
	}
	data, err := readFile(fc.fsys, fsPath(p))
	if err != nil {
		l.err = pathCause(err)
		return l
	}
	switch kind {
	case flags.CertFile, flags.CAFile:
		l.certs, l.perr = pki.ParseCerts(data)
	case flags.KeyFile:
		l.key, l.perr = pki.ParseKey(data)
	case flags.PubKeyFile:
		l.pubs, l.perr = parsePublicKeys(data)
	case flags.Kubeconfig:
		l.kc, l.perr = parseKubeconfig(data, path.Dir(p), fc)
	}
	return l
}

func parsePublicKeys(data []byte) ([]crypto.PublicKey, error) {
	var out []crypto.PublicKey
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		switch b.Type {
		case "PUBLIC KEY":
			k, err := x509.ParsePKIXPublicKey(b.Bytes)
			if err != nil {
				return nil, err
			}
			out = append(out, k)
		case "RSA PUBLIC KEY":
			k, err := x509.ParsePKCS1PublicKey(b.Bytes)
			if err != nil {
				return nil, err
			}
			out = append(out, k)
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, err
			}
			out = append(out, c.PublicKey)
		case "RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY":
			k, err := pki.ParseKey(pem.EncodeToMemory(b))
			if err != nil {
				return nil, err
			}
			out = append(out, k.Public())
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM public key, private key or certificate block")
	}
	return out, nil
}

// kubeconfig is the part of a kubeconfig file inspect reads.
type kubeconfig struct {
	Server     string
	CA         []*x509.Certificate
	ClientCert []*x509.Certificate
	ClientKey  crypto.Signer
	// KeyFile is the client-key file the kubeconfig names (not inline data), and KeyMode its
	// permissions: the key is as secret as the kubeconfig itself.
	KeyFile string
	KeyMode fs.FileMode
}

type kubeconfigFile struct {
	CurrentContext string `json:"current-context"`
	Clusters       []struct {
		Name    string `json:"name"`
		Cluster struct {
			Server string `json:"server"`
			CA     string `json:"certificate-authority"`
			CAData string `json:"certificate-authority-data"`
		} `json:"cluster"`
	} `json:"clusters"`
	Contexts []struct {
		Name    string `json:"name"`
		Context struct {
			Cluster string `json:"cluster"`
			User    string `json:"user"`
		} `json:"context"`
	} `json:"contexts"`
	Users []struct {
		Name string `json:"name"`
		User struct {
			Cert     string `json:"client-certificate"`
			CertData string `json:"client-certificate-data"`
			Key      string `json:"client-key"`
			KeyData  string `json:"client-key-data"`
		} `json:"user"`
	} `json:"users"`
}

// parseKubeconfig reads the current context's cluster CA and client certificate, from inline
// data or from the files it names (relative to the kubeconfig's directory).
func parseKubeconfig(data []byte, dir string, fc *fileCache) (*kubeconfig, error) {
	var f kubeconfigFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("not a kubeconfig: %w", err)
	}
	cluster, user := "", ""
	for _, c := range f.Contexts {
		if c.Name == f.CurrentContext || (f.CurrentContext == "" && len(f.Contexts) == 1) {
			cluster, user = c.Context.Cluster, c.Context.User
		}
	}
	if cluster == "" && len(f.Clusters) == 1 {
		cluster = f.Clusters[0].Name
	}
	if user == "" && len(f.Users) == 1 {
		user = f.Users[0].Name
	}
	kc := &kubeconfig{}
	readRef := func(inline, ref string) ([]byte, error) {
		if inline != "" {
			return base64.StdEncoding.DecodeString(inline)
		}
		if ref == "" {
			return nil, nil
		}
		if !path.IsAbs(ref) {
			ref = path.Join(dir, ref)
		}
		data, err := readFile(fc.fsys, fsPath(ref))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ref, pathCause(err))
		}
		return data, nil
	}
	for _, c := range f.Clusters {
		if c.Name != cluster {
			continue
		}
		kc.Server = c.Cluster.Server
		b, err := readRef(c.Cluster.CAData, c.Cluster.CA)
		if err != nil {
			return kc, fmt.Errorf("cluster %s certificate authority: %w", c.Name, err)
		}
		if len(b) > 0 {
			if kc.CA, err = pki.ParseCerts(b); err != nil {
				return kc, fmt.Errorf("cluster %s certificate authority: %w", c.Name, err)
			}
		}
	}
	for _, u := range f.Users {
		if u.Name != user {
			continue
		}
		b, err := readRef(u.User.CertData, u.User.Cert)
		if err != nil {
			return kc, fmt.Errorf("user %s client certificate: %w", u.Name, err)
		}
		if len(bytes.TrimSpace(b)) > 0 {
			if kc.ClientCert, err = pki.ParseCerts(b); err != nil {
				return kc, fmt.Errorf("user %s client certificate: %w", u.Name, err)
			}
		}
		b, err = readRef(u.User.KeyData, u.User.Key)
		if err == nil && len(bytes.TrimSpace(b)) > 0 {
			kc.ClientKey, _ = pki.ParseKey(b)
			if u.User.KeyData == "" && u.User.Key != "" {
				ref := u.User.Key
				if !path.IsAbs(ref) {
					ref = path.Join(dir, ref)
				}
				if st, err := fs.Stat(fc.fsys, fsPath(ref)); err == nil {
					kc.KeyFile, kc.KeyMode = ref, st.Mode().Perm()
				}
			}
		}
	}
	return kc, nil
}
