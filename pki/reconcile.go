package pki

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/configs/encryptionconfig"
	"github.com/hardway-dev/hardway/internal/atomicfile"
	"github.com/hardway-dev/hardway/internal/parallel"
)

// Action says what a Change does to its file.
type Action string

const (
	Create Action = "create"
	Update Action = "update"
	// Chmod narrows the mode of a file or folder whose content is right; Data is nil.
	Chmod Action = "chmod"
	// Remove deletes the file; Data is nil.
	Remove Action = "remove"
)

// File modes, by what a file holds: the atomic writer's named modes.
const (
	ModeSecret = atomicfile.ModeSecret
	ModePublic = atomicfile.ModePublic
)

// Change is one file to write, with the reason.
type Change struct {
	atomicfile.File // Path is relative to the cluster directory, '/'-separated
	Action          Action
	Reason          string
	ID              string // the catalogue instance it belongs to
	// Barrier makes this change durable before any later change of the plan lands: a record
	// of an operation under way (RekeyRecord) lands before the operation does.
	Barrier bool
}

// Plan is what Reconcile found: the files to write, in order (CAs first; a key before its
// certificate; kubeconfigs after the certificates they embed), and how many were fine as they are.
type Plan struct {
	Changes []Change
	// Finally are changes to make after every other, the caller's included: the removal of
	// RekeyRecord once every certificate a re-keyed CA signs has been reissued.
	Finally   []Change
	Unchanged int
	Notes     []string // worth telling the user; nothing to write
}

// Options steer Reconcile.
type Options struct {
	Now time.Time
	// Force replaces existing CAs and keys that the configuration no longer matches, and
	// reissues leaves signed by another CA. Without it those are errors.
	Force bool
	// Renew reissues these instance IDs even when they are fine (hardway certs renew).
	Renew map[string]bool
	// NewKey gives renewed certificates new keys.
	NewKey bool
	// Rand is the source of encryption keys (crypto/rand.Reader).
	Rand io.Reader
	// Workers issue certificates in parallel; 0 means GOMAXPROCS.
	Workers int
	// Progress, when set, is called after each issued certificate.
	Progress func(done, total int)
}

// Reconcile compares the cluster directory fsys with what the catalogue asks for cluster c, and
// returns the plan of files to write. It writes nothing. An existing file that is corrupt,
// unreadable, or signed by another CA is an error naming the file and the fix; all such errors
// are returned together, and then no plan is.
func Reconcile(fsys fs.FS, c *configs.Cluster, opt Options) (*Plan, error) {
	if opt.Now.IsZero() {
		return nil, errors.New("reconcile: Options.Now is not set")
	}
	r := &reconciler{fsys: fsys, c: c, opt: opt, cas: map[string]*CA{}, rekeyed: map[string]bool{}, caEndNoted: map[string]bool{}, plan: &Plan{}, material: map[string]material{}}
	if err := r.readRekeys(); err != nil {
		return nil, err
	}
	insts := Instances(c)
	var errs []error
	for _, in := range insts {
		if in.Spec.Kind == KindCA {
			if err := r.ca(in); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := r.leaves(insts); err != nil {
		return nil, err
	}
	for _, in := range insts {
		if in.Spec.Kind == KindKeyPair {
			if err := r.keyPair(in); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := r.kubeconfigs(insts); err != nil {
		errs = append(errs, err)
	}
	if err := r.encryption(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := r.recordRekeys(); err != nil {
		return nil, err
	}
	return r.plan, nil
}

type material struct {
	certPEM, keyPEM []byte
}

type reconciler struct {
	fsys    fs.FS
	c       *configs.Cluster
	opt     Options
	cas     map[string]*CA
	rekeyed map[string]bool // CAs given a new key in this run: their leaves are reissued
	// caEndNoted: CAs whose approaching end was already noted in this run.
	caEndNoted map[string]bool
	plan       *Plan
	mu         sync.Mutex
	material   map[string]material // final cert and key of each leaf, for kubeconfigs
	// rekeys is the re-key record: what RekeyRecord held (onDisk), with the re-keys this run
	// starts added; finishing are the CAs whose re-key an earlier run started.
	rekeys    map[string]string
	onDisk    []byte
	finishing map[string]bool
}

// read returns a file's bytes, nil when it does not exist.
func (r *reconciler) read(path string) ([]byte, error) {
	b, err := fs.ReadFile(r.fsys, path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: cannot read: %w; fix its permissions or move it away", path, err)
	}
	return b, nil
}

func (r *reconciler) add(ch Change, existed bool) {
	ch.Action = Create
	if existed {
		ch.Action = Update
	}
	r.mu.Lock()
	r.plan.Changes = append(r.plan.Changes, ch)
	r.mu.Unlock()
}

func (r *reconciler) keep() {
	r.mu.Lock()
	r.plan.Unchanged++
	r.mu.Unlock()
}

func (r *reconciler) note(format string, a ...any) {
	r.mu.Lock()
	r.plan.Notes = append(r.plan.Notes, fmt.Sprintf(format, a...))
	r.mu.Unlock()
}

func (r *reconciler) ca(in Instance) error {
	certPEM, err := r.read(in.CertPath())
	if err != nil {
		return err
	}
	keyPEM, err := r.read(in.KeyPath())
	if err != nil {
		return err
	}
	subject := Subject{CN: in.CN}
	var key crypto.Signer
	if keyPEM != nil {
		if key, err = ParseKey(keyPEM); err != nil {
			return fmt.Errorf("%s: not a valid private key (%v); a CA is never reissued in place: %s; or remove both %s and %s and run init --force to make a new CA (every certificate it signed must then be reissued, and every node given the new CA)",
				in.KeyPath(), err, restoreAdvice(r.fsys, in.KeyPath()), in.KeyPath(), in.CertPath())
		}
	}
	switch {
	case certPEM == nil && key == nil:
		if key, err = GenerateKey(r.c.KeyAlgorithm); err != nil {
			return err
		}
		return r.newCA(in, subject, key, false, false, "new CA")
	case certPEM == nil:
		// A key without its certificate: an interrupted first run. A certificate for the same
		// key and subject verifies everything the lost one signed.
		return r.newCA(in, subject, key, true, false, "the key had no certificate (an interrupted run?): a new certificate for the existing key")
	}
	cert, err := ParseCert(certPEM)
	if err != nil {
		fix := restoreAdvice(r.fsys, in.CertPath())
		if key != nil {
			fix += fmt.Sprintf("; or remove it and run init: a new certificate for the same key (%s) and subject verifies everything the lost one signed", in.KeyPath())
		}
		return fmt.Errorf("%s: not a valid certificate (%v); a CA is never reissued in place: %s", in.CertPath(), err, fix)
	}
	// A re-key an earlier run started and did not finish: its record names the certificate
	// being replaced. Still in place with its own key, nothing landed: the re-key is made now.
	// Still in place with another key, the new key landed and its certificate did not.
	// Replaced, the new CA landed: what it must sign is reissued below (r.rekeyed).
	stillOld := r.finishing[in.Spec.Name] && r.rekeys[in.Spec.Name] == certSum(cert)
	if key == nil {
		ca, err := LoadCA(in.Spec.Name, certPEM, nil)
		if err != nil {
			return fmt.Errorf("%s: %w", in.CertPath(), err)
		}
		r.cas[in.Spec.Name] = ca
		r.note("%s: external CA (no %s): hardway verifies with it but cannot issue from it", in.CertPath(), in.KeyPath())
		r.keep()
		return nil
	}
	if !KeyMatches(key, cert.PublicKey) {
		if stillOld {
			return r.newCA(in, subject, key, true, false, "finishing the re-key of "+in.Spec.Name+" an interrupted run started: a certificate for its new key")
		}
		if r.opt.Force {
			if key, err = GenerateKey(r.c.KeyAlgorithm); err != nil {
				return err
			}
			r.startRekey(in, cert)
			return r.newCA(in, subject, key, true, true, "--force: the key did not match the certificate")
		}
		return fmt.Errorf("%s does not match %s; restore the pair from backup/, or run with --force to make a new CA (every certificate must then be reissued)", in.KeyPath(), in.CertPath())
	}
	switch {
	case r.opt.Renew[in.ID] && r.opt.NewKey:
		if key, err = GenerateKey(r.c.KeyAlgorithm); err != nil {
			return err
		}
		r.startRekey(in, cert)
		return r.newCA(in, subject, key, true, true, "renewal with a new key requested: every certificate it signed must be reissued")
	case stillOld:
		if key, err = GenerateKey(r.c.KeyAlgorithm); err != nil {
			return err
		}
		return r.newCA(in, subject, key, true, true, "finishing the re-key of "+in.Spec.Name+" an interrupted run started: a new key")
	case r.opt.Renew[in.ID]:
		return r.newCA(in, Subject{CN: cert.Subject.CommonName}, key, true, false, "renewal requested (same key: the certificates it signed stay valid)")
	case r.opt.Force && KeyAlgorithm(key.Public()) != r.c.KeyAlgorithm:
		if key, err = GenerateKey(r.c.KeyAlgorithm); err != nil {
			return err
		}
		r.startRekey(in, cert)
		return r.newCA(in, subject, key, true, true, "--force: key algorithm changed to "+r.c.KeyAlgorithm)
	}
	if r.opt.Now.After(cert.NotAfter) {
		r.note("%s: the CA expired on %s; renew it with 'hardway certs renew %s'", in.CertPath(), cert.NotAfter.Format(time.RFC3339), in.Spec.Name)
	}
	ca, err := LoadCA(in.Spec.Name, certPEM, key)
	if err != nil {
		return fmt.Errorf("%s: %w", in.CertPath(), err)
	}
	r.cas[in.Spec.Name] = ca
	r.rekeyed[in.Spec.Name] = r.finishing[in.Spec.Name]
	r.keep()
	r.keep()
	return nil
}

func (r *reconciler) newCA(in Instance, s Subject, key crypto.Signer, existed, keyChanged bool, reason string) error {
	ca, err := NewCA(in.Spec.Name, s, key, r.opt.Now, time.Duration(r.c.Validity.CA))
	if err != nil {
		return err
	}
	r.cas[in.Spec.Name] = ca
	// A re-key an earlier run started counts too: what the old CA signed is reissued.
	r.rekeyed[in.Spec.Name] = keyChanged || r.finishing[in.Spec.Name]
	if !existed || keyChanged {
		keyPEM, err := EncodeKey(key)
		if err != nil {
			return err
		}
		r.add(Change{File: atomicfile.File{Path: in.KeyPath(), Data: keyPEM, Mode: ModeSecret}, Reason: reason, ID: in.ID}, existed)
	}
	certExisted, _ := r.read(in.CertPath())
	r.add(Change{File: atomicfile.File{Path: in.CertPath(), Data: ca.CertPEM, Mode: ModePublic}, Reason: reason, ID: in.ID}, certExisted != nil)
	return nil
}

// leafJob is one leaf's decision, made in parallel.
type leafJob struct {
	in      Instance
	key     crypto.Signer
	keyPEM  []byte
	certPEM []byte
	cert    *x509.Certificate
	newKey  bool
	reasons []string
	subject Subject
}

func (r *reconciler) leaves(insts []Instance) error {
	var jobs []*leafJob
	var errs []error
	for _, in := range insts {
		if in.Spec.Kind != KindLeaf {
			continue
		}
		j, err := r.decide(in)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if j != nil {
			jobs = append(jobs, j)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return r.issueAll(jobs)
}

// decide reads a leaf and says whether and why it must be (re)issued; nil means it is fine.
func (r *reconciler) decide(in Instance) (*leafJob, error) {
	ca := r.cas[in.Spec.CA]
	certPEM, err := r.read(in.CertPath())
	if err != nil {
		return nil, err
	}
	keyPEM, err := r.read(in.KeyPath())
	if err != nil {
		return nil, err
	}
	j := &leafJob{in: in, keyPEM: keyPEM, certPEM: certPEM, subject: Subject{CN: in.CN, Orgs: in.Orgs, SANs: in.SANs}}
	renew := r.opt.Renew[in.ID]
	if keyPEM != nil {
		if j.key, err = ParseKey(keyPEM); err != nil {
			if !renew {
				return nil, fmt.Errorf("%s: not a valid private key (%v); run 'hardway certs renew %s' to issue a new pair from %s (the corrupt files are kept in %s/)", in.KeyPath(), err, in.ID, in.Spec.CA, BackupDir)
			}
			j.reasons = append(j.reasons, fmt.Sprintf("%s was not a valid private key (%v): a new pair", in.KeyPath(), err))
		}
	}
	if j.key == nil || (renew && r.opt.NewKey) {
		j.newKey = true
	}
	if certPEM == nil {
		j.reasons = append(j.reasons, "new")
		if j.key != nil {
			j.reasons = append(j.reasons, "for the existing key")
		}
		return j, nil
	}
	cert, err := ParseCert(certPEM)
	if err != nil {
		if !renew {
			return nil, fmt.Errorf("%s: not a valid certificate (%v); run 'hardway certs renew %s' to reissue it from %s with the catalogue's subject and SANs (the corrupt file is kept in %s/)", in.CertPath(), err, in.ID, in.Spec.CA, BackupDir)
		}
		// Nothing of it can be kept: reissued as new, from the catalogue.
		j.reasons = append(j.reasons, fmt.Sprintf("%s was not a valid certificate (%v): reissued from %s with the catalogue's subject and SANs", in.CertPath(), err, in.Spec.CA))
		return j, nil
	}
	j.cert = cert
	if err := cert.CheckSignatureFrom(ca.Cert); err != nil || !bytes.Equal(cert.RawIssuer, ca.Cert.RawSubject) {
		if r.rekeyed[ca.Name] {
			reason := "its CA " + ca.Name + " has a new key"
			if r.finishing[ca.Name] {
				reason += " (finishing the re-key an interrupted run started)"
			}
			j.reasons = append(j.reasons, reason)
		} else if !r.opt.Force && !renew {
			return nil, fmt.Errorf("%s: not signed by %s (the CA in %s); restore the matching CA, or run 'hardway certs renew %s' (or init --force) to reissue it from the current CA",
				in.CertPath(), ca.Name, "pki/"+caBase(ca.Name)+".crt", in.ID)
		} else {
			j.reasons = append(j.reasons, "signed by another CA")
		}
	}
	if renew {
		j.reasons = append(j.reasons, "renewal requested")
		// Renewal keeps the subject and SANs of the certificate being renewed.
		j.subject = subjectOf(cert)
	}
	if j.key != nil && !KeyMatches(j.key, cert.PublicKey) {
		j.reasons = append(j.reasons, "the key does not match the certificate (an interrupted run?)")
	}
	if !renew {
		j.reasons = append(j.reasons, diffSubject(subjectOf(cert), j.subject)...)
	}
	if want := extUsages(in.Spec.Usage); !slices.Equal(sortedUsages(cert.ExtKeyUsage), want) {
		j.reasons = append(j.reasons, "key usages differ from the catalogue")
	}
	if left := cert.NotAfter.Sub(r.opt.Now); left < time.Duration(r.c.Validity.RenewBefore) {
		switch {
		case !cert.NotAfter.Before(ca.Cert.NotAfter):
			// It already ends with its CA: a new one could not last longer. Said once per CA.
			if !r.caEndNoted[ca.Name] {
				r.caEndNoted[ca.Name] = true
				r.note("certificates signed by %s end with it on %s; renew the CA with 'hardway certs renew %s', then run init", ca.Name, ca.Cert.NotAfter.Format(time.DateOnly), ca.Name)
			}
		case left <= 0:
			j.reasons = append(j.reasons, "expired "+cert.NotAfter.Format(time.DateOnly))
		default:
			j.reasons = append(j.reasons, fmt.Sprintf("expires in %s, inside the renewal window", HumanDuration(left)))
		}
	}

	if j.key == nil && keyPEM == nil {
		if !renew {
			return nil, fmt.Errorf("%s exists but %s does not; run 'hardway certs renew %s' to issue a new pair, or %s", in.CertPath(), in.KeyPath(), in.ID, restoreAdvice(r.fsys, in.KeyPath()))
		}
		j.reasons = append(j.reasons, in.KeyPath()+" was missing: a new key")
	}
	if j.key != nil && !j.newKey && KeyAlgorithm(j.key.Public()) != r.c.KeyAlgorithm {
		r.note("%s: key is %s, the configuration says %s; 'hardway certs renew %s --new-key' replaces it", in.KeyPath(), KeyAlgorithm(j.key.Public()), r.c.KeyAlgorithm, in.ID)
	}
	if len(j.reasons) == 0 {
		r.keep()
		r.keep()
		r.setMaterial(in.ID, certPEM, keyPEM)
		return nil, nil
	}
	return j, nil
}

func (r *reconciler) issueAll(jobs []*leafJob) error {
	results := make([][]Change, len(jobs))
	errs := make([]error, len(jobs))
	var mu sync.Mutex
	done := 0
	r.parallel(len(jobs), func(i int) {
		results[i], errs[i] = r.issue(jobs[i])
		if r.opt.Progress != nil {
			mu.Lock()
			done++
			r.opt.Progress(done, len(jobs))
			mu.Unlock()
		}
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, chs := range results {
		r.plan.Changes = append(r.plan.Changes, chs...)
	}
	return nil
}

func (r *reconciler) issue(j *leafJob) ([]Change, error) {
	in := j.in
	var out []Change
	key, keyPEM := j.key, j.keyPEM
	reason := strings.Join(j.reasons, "; ")
	if j.newKey {
		var err error
		if key, err = GenerateKey(r.c.KeyAlgorithm); err != nil {
			return nil, fmt.Errorf("%s: %w", in.ID, err)
		}
		if keyPEM, err = EncodeKey(key); err != nil {
			return nil, fmt.Errorf("%s: %w", in.ID, err)
		}
		action := Create
		if j.keyPEM != nil {
			action = Update
		}
		out = append(out, Change{File: atomicfile.File{Path: in.KeyPath(), Data: keyPEM, Mode: ModeSecret}, Action: action, Reason: reason, ID: in.ID})
	}
	certPEM, err := r.cas[in.Spec.CA].Issue(in.ID, Request{
		Subject:   j.subject,
		Usage:     in.Spec.Usage,
		NotBefore: r.opt.Now.Add(-Backdate),
		NotAfter:  r.opt.Now.Add(time.Duration(r.c.Validity.Leaf)),
	}, key)
	if err != nil {
		return nil, err
	}
	action := Create
	if j.certPEM != nil {
		action = Update
	}
	out = append(out, Change{File: atomicfile.File{Path: in.CertPath(), Data: certPEM, Mode: ModePublic}, Action: action, Reason: reason, ID: in.ID})
	r.setMaterial(in.ID, certPEM, keyPEM)
	return out, nil
}

func (r *reconciler) setMaterial(id string, certPEM, keyPEM []byte) {
	r.mu.Lock()
	r.material[id] = material{certPEM: certPEM, keyPEM: keyPEM}
	r.mu.Unlock()
}

func (r *reconciler) keyPair(in Instance) error {
	keyPEM, err := r.read(in.KeyPath())
	if err != nil {
		return err
	}
	pubPEM, err := r.read(in.PubPath())
	if err != nil {
		return err
	}
	var key crypto.Signer
	switch {
	case keyPEM == nil || (r.opt.Renew[in.ID] && r.opt.NewKey):
		if key, err = GenerateKey(r.c.KeyAlgorithm); err != nil {
			return err
		}
		if keyPEM != nil && r.opt.Renew[in.ID] {
			r.note("%s: a new service-account key invalidates every service-account token it signed", in.KeyPath())
		}
		newPEM, err := EncodeKey(key)
		if err != nil {
			return err
		}
		r.add(Change{File: atomicfile.File{Path: in.KeyPath(), Data: newPEM, Mode: ModeSecret}, Reason: "new key pair", ID: in.ID}, keyPEM != nil)
	default:
		if key, err = ParseKey(keyPEM); err != nil {
			return fmt.Errorf("%s: not a valid private key (%v); restore it from backup/ (a new key invalidates every service-account token)", in.KeyPath(), err)
		}
		r.keep()
	}
	want, err := EncodePublicKey(key.Public())
	if err != nil {
		return err
	}
	if bytes.Equal(pubPEM, want) {
		r.keep()
		return nil
	}
	reason := "public half of " + in.KeyPath()
	if pubPEM != nil {
		reason = "did not match " + in.KeyPath()
	}
	r.add(Change{File: atomicfile.File{Path: in.PubPath(), Data: want, Mode: ModePublic}, Reason: reason, ID: in.ID}, pubPEM != nil)
	return nil
}

// kubeconfigs renders every kubeconfig in parallel; the changes join the plan in catalogue order.
func (r *reconciler) kubeconfigs(insts []Instance) error {
	var kcs []Instance
	for _, in := range insts {
		if in.Kubeconfig != "" {
			kcs = append(kcs, in)
		}
	}
	changes := make([]*Change, len(kcs))
	errs := make([]error, len(kcs))
	r.parallel(len(kcs), func(i int) { changes[i], errs[i] = r.kubeconfig(kcs[i]) })
	for _, ch := range changes {
		if ch != nil {
			r.plan.Changes = append(r.plan.Changes, *ch)
		}
	}
	return errors.Join(errs...)
}

// parallel calls f(0) ... f(n-1) on the configured number of workers.
func (r *reconciler) parallel(n int, f func(i int)) {
	workers := r.opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	parallel.Do(n, workers, f)
}

// kubeconfig renders one kubeconfig and returns its change, or nil when the file is current.
func (r *reconciler) kubeconfig(in Instance) (*Change, error) {
	r.mu.Lock()
	m := r.material[in.ID]
	r.mu.Unlock()
	name := KubeconfigUser(in.CN, r.c.Name)
	want := Kubeconfig{
		ClusterName: r.c.Name, Server: in.Server, User: name, Context: name,
		CAPEM: r.cas[in.Spec.CA].CertPEM, CertPEM: m.certPEM, KeyPEM: m.keyPEM,
	}
	data, err := want.Render()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in.KubeconfigPath(), err)
	}
	old, err := r.read(in.KubeconfigPath())
	if err != nil {
		return nil, err
	}
	if bytes.Equal(old, data) {
		r.keep()
		return nil, nil
	}
	ch := &Change{File: atomicfile.File{Path: in.KubeconfigPath(), Data: data, Mode: ModeSecret}, Action: Create, Reason: "new", ID: in.ID}
	if old != nil {
		ch.Action, ch.Reason = Update, "cannot be read as a kubeconfig: rewritten"
		if have, err := ParseKubeconfig(old); err == nil {
			ch.Reason = kubeconfigDrift(have, want)
		}
	}
	return ch, nil
}

// EncryptionConfigPath is where the encryption configuration lives in the cluster directory.
const EncryptionConfigPath = "encryption-config.yaml"

func (r *reconciler) encryption() error {
	old, err := r.read(EncryptionConfigPath)
	if err != nil {
		return err
	}
	if old != nil {
		// A file that exists is kept: its keys decrypt the stored secrets, and one rotated by
		// hand is the operator's. It only has to be one kube-apiserver accepts.
		cfg, err := encryptionconfig.Parse(old)
		if err != nil {
			return fmt.Errorf("%s: %w; fix it, or restore it from backup/ (its keys decrypt the stored secrets: never delete it while they exist)", EncryptionConfigPath, err)
		}
		want := r.c.Encryption.Provider
		switch ps := encryptionconfig.ProvidersFor(cfg, "secrets"); {
		case len(ps) == 0:
			r.note("%s: secrets are not encrypted (no entry names them), the configuration says %s; the file is kept", EncryptionConfigPath, want)
		case encryptionconfig.ProviderName(ps[0].Config) == encryptionconfig.Identity:
			r.note("%s: secrets are written unencrypted (%s is identity), the configuration says %s; the file is kept", EncryptionConfigPath, ps[0].Path, want)
		case encryptionconfig.ProviderName(ps[0].Config) != want:
			r.note("%s: secrets are written with %s (%s), the configuration says %s; the file is kept (changing providers means rotating keys)", EncryptionConfigPath, encryptionconfig.ProviderName(ps[0].Config), ps[0].Path, want)
		}
		r.keep()
		return nil
	}
	if r.opt.Rand == nil {
		return errors.New("reconcile: Options.Rand is not set")
	}
	secret, err := NewEncryptionKey(r.opt.Rand)
	if err != nil {
		return err
	}
	name := "key-" + r.opt.Now.UTC().Format("20060102T150405Z")
	data, err := encryptionconfig.Render(r.c.Encryption.Provider, []encryptionconfig.Key{{Name: name, Secret: secret}})
	if err != nil {
		return fmt.Errorf("%s: %w", EncryptionConfigPath, err)
	}
	r.add(Change{File: atomicfile.File{Path: EncryptionConfigPath, Data: data, Mode: ModeSecret}, Reason: "new " + r.c.Encryption.Provider + " key", ID: "encryption-config"}, false)
	return nil
}

func caBase(name string) string {
	for _, s := range Catalogue {
		if s.Name == name {
			return s.BaseName
		}
	}
	return name
}

func subjectOf(c *x509.Certificate) Subject {
	var sans []string
	sans = append(sans, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		sans = append(sans, ip.String())
	}
	return Subject{CN: c.Subject.CommonName, Orgs: c.Subject.Organization, SANs: normalizeSANs(sans)}
}

// diffSubject explains how have differs from want, or returns nothing when they agree.
func diffSubject(have, want Subject) []string {
	var out []string
	if have.CN != want.CN {
		out = append(out, fmt.Sprintf("subject CN changed from %q to %q", have.CN, want.CN))
	}
	if !slices.Equal(sortedCopy(have.Orgs), sortedCopy(want.Orgs)) {
		out = append(out, fmt.Sprintf("subject O changed from %v to %v", have.Orgs, want.Orgs))
	}
	added, removed := setDiff(want.SANs, have.SANs), setDiff(have.SANs, want.SANs)
	if len(added) > 0 {
		out = append(out, "new SAN "+strings.Join(added, ", "))
	}
	if len(removed) > 0 {
		out = append(out, "SAN no longer wanted: "+strings.Join(removed, ", "))
	}
	return out
}

func setDiff(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

func extUsages(u Usage) []x509.ExtKeyUsage {
	switch u {
	case UsageServer:
		return []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	case UsageClient:
		return []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	case UsagePeer:
		return []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}
	return nil
}

func sortedUsages(u []x509.ExtKeyUsage) []x509.ExtKeyUsage {
	c := slices.Clone(u)
	slices.Sort(c)
	return c
}

// HumanDuration prints d as kubeadm does (apimachinery's ShortHumanDuration): "9y", "364d",
// "23h", "12m"; years from two on.
func HumanDuration(d time.Duration) string {
	const day, year = 24 * time.Hour, 365 * 24 * time.Hour
	switch {
	case d >= 2*year:
		return fmt.Sprintf("%dy", int(d/year))
	case d >= 2*day:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	case d >= time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	case d > 0:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	}
	return "expired"
}
