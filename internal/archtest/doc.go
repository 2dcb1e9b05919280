// Package archtest holds only tests of the tree's rules: the import rules between hardway's
// packages (pki imports neither units nor apiserver; apiserver imports none of pki, units and
// bootstrap; configs, the bottom layer, imports neither pki nor apiserver; only cmd imports
// cobra and viper; library packages do not import cmd), checked with `go list` over each
// package's own dependencies (tests may cross the layers to check one against another), and
// that every test skips through internal/e2e.
package archtest
