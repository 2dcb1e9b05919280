// Package bootstrap turns the cluster model into a plan of files and applies it: plan first,
// apply second. Plan is pure apart from reading the cluster directory; Apply is the one place
// that writes managed files (atomically, through internal/atomicfile), backing up every file it
// replaces under a backup folder of its own, DIR/backup/<timestamp>[-N]/. A run that writes
// holds DIR/.hardway.lock exclusively (Lock, which also removes the temporary files killed runs
// left); Verify's caller holds it shared (LockShared), so it never reads a run half done.
//
// The plan holds the PKI (pki.Reconcile), the resolved cluster file, the bundle signing key and
// the per-node bundles (with `init --with-binaries`, the programs they carry, copied once into
// the artifact store before anything else is written, and ArtifactsIndex), and restores the modes of the files and folders it keeps when they
// drifted wider. A cluster directory that holds a symbolic link is refused, never followed.
// Verify checks all of it: the PKI (pki.Verify), the modes, and every bundle against the files
// it copies.
//
// A node's bundle folder is what hardway wrote, and its manifest.json the record of it: a file
// there that differs from the record and from what a run renders is a hand edit (handedit.go),
// which the plan lists (Plan.HandEdits), Apply backs up as it replaces it, and Verify reports.
package bootstrap
