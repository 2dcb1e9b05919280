// Package archtest holds only a test: the import rules between hardway's packages (pki
// imports neither units nor apiserver; only cmd imports cobra and viper; library packages do
// not import cmd), checked with `go list`.
package archtest
