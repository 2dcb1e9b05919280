package pki

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	strictjson "sigs.k8s.io/json"

	"github.com/hardway-dev/hardway/internal/atomicfile"
)

// RekeyRecord records the CA re-keys under way. A run that gives a CA a new key (certs renew
// CA --new-key, or init --force) writes it, durably, before the new key lands, and removes it
// after the last file the re-key rewrites (every certificate the CA signs, the kubeconfigs and
// the bundles that carry them). A run killed in between leaves it behind, and the next run,
// plain init or the same renewal, finishes the re-key instead of refusing every certificate
// the old CA signed.
const RekeyRecord = "pki/rekey.json"

// rekeyFile is RekeyRecord's content.
type rekeyFile struct {
	// CAs maps each CA being given a new key to the SHA-256 (hex) of the certificate it
	// replaces.
	CAs map[string]string `json:"cas"`
}

// certSum is the SHA-256 of a certificate's DER, in hex.
func certSum(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// readRekeys reads RekeyRecord, when there is one, and notes the re-keys it finishes.
func (r *reconciler) readRekeys() error {
	r.rekeys, r.finishing = map[string]string{}, map[string]bool{}
	data, err := r.read(RekeyRecord)
	if err != nil || data == nil {
		return err
	}
	var f rekeyFile
	strict, err := strictjson.UnmarshalStrict(data, &f, strictjson.DisallowDuplicateFields, strictjson.DisallowUnknownFields)
	if err == nil && len(strict) > 0 {
		err = errors.Join(strict...)
	}
	if err == nil && len(f.CAs) == 0 {
		err = errors.New("no CA named")
	}
	if err != nil {
		return fmt.Errorf("%s: not a re-key record (%v); it says a CA re-key is under way: run the 'hardway certs renew CA --new-key' that wrote it again, or remove it if no re-key is", RekeyRecord, err)
	}
	for _, name := range slices.Sorted(maps.Keys(f.CAs)) {
		if !slices.ContainsFunc(Catalogue, func(s Spec) bool { return s.Kind == KindCA && s.Name == name }) {
			return fmt.Errorf("%s: %q is not a CA of the catalogue; remove the file if no re-key is under way", RekeyRecord, name)
		}
		r.finishing[name] = true
		r.note("%s: a re-key of %s was under way (an interrupted 'hardway certs renew %s --new-key'?): this run finishes it", RekeyRecord, name, name)
	}
	r.rekeys, r.onDisk = f.CAs, data
	return nil
}

// startRekey records that CA in, now holding cert, gets a new key in this run.
func (r *reconciler) startRekey(in Instance, cert *x509.Certificate) {
	r.rekeys[in.Spec.Name] = certSum(cert)
}

// recordRekeys puts the re-key record in the plan: written first, before any new key lands,
// when it changes, and removed last, once the run has rewritten everything.
func (r *reconciler) recordRekeys() error {
	if len(r.rekeys) == 0 {
		return nil
	}
	data, err := json.MarshalIndent(rekeyFile{CAs: r.rekeys}, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	names := strings.Join(slices.Sorted(maps.Keys(r.rekeys)), ", ")
	if !bytes.Equal(data, r.onDisk) {
		action := Create
		if r.onDisk != nil {
			action = Update
		}
		r.plan.Changes = slices.Insert(r.plan.Changes, 0, Change{
			File:   atomicfile.File{Path: RekeyRecord, Data: data, Mode: ModePublic},
			Action: action, Reason: "a re-key of " + names + " is under way until every certificate is reissued",
			ID: "rekey", Barrier: true,
		})
	}
	r.plan.Finally = append(r.plan.Finally, Change{
		File:   atomicfile.File{Path: RekeyRecord},
		Action: Remove, Reason: "the re-key of " + names + " is complete", ID: "rekey",
	})
	return nil
}
