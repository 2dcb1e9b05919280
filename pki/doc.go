// Package pki is hardway's certificate authority: the catalogue of every certificate, key,
// kubeconfig and encryption configuration a cluster needs (kept as data, modelled on kubeadm's
// certlist), the functions that issue them with cfssl as a library, and the reconciler that
// compares what a cluster directory holds with what the catalogue asks for.
//
// Everything here is pure: issuing takes the time and the signing CA as inputs; the reconciler
// reads a cluster directory through an fs.FS and returns the files to write, each with the
// reason it changed. Writing them (atomically, with backups) is bootstrap's job. Retire plans
// moving aside the per-node credentials of a node the cluster no longer has, with a record of
// what they can still do (they stay valid until they expire: there is no revocation list).
//
// cfssl is used at its library layer: csr.Generate for requests, initca.NewFromSigner for CAs and
// signer/local for leaves, with one signing profile per usage (server, client, peer). Its errors
// are converted here, so callers never see its JSON error strings.
package pki
