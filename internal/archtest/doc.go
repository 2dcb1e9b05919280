// Package archtest holds only tests of the tree's rules: the import rules between hardway's
// packages (pki imports neither units nor apiserver; only cmd imports cobra and viper; library
// packages do not import cmd), checked with `go list`, and that every test skips through
// internal/e2e.
package archtest
