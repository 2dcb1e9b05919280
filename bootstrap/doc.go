// Package bootstrap turns the cluster model into a plan of files and applies it: plan first,
// apply second. Plan is pure apart from reading the cluster directory; Apply is the one place
// that writes managed files (atomically, through internal/atomicfile), backing up every file it
// replaces under DIR/backup/<timestamp>/. A run holds DIR/.hardway.lock so two never overlap.
//
// Today the plan holds the PKI (pki.Reconcile), the resolved cluster file and the per-node
// bundles; units and bundles are added by the same planner.
package bootstrap
