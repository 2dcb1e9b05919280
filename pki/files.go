package pki

import (
	"io/fs"

	"github.com/hardway-dev/hardway/configs"
)

// ManagedFile is a file Reconcile writes in the cluster directory, with the mode it writes it
// with.
type ManagedFile struct {
	Path string // relative to the cluster directory, '/'-separated
	Mode fs.FileMode
}

// Managed lists every file Reconcile keeps for cluster c, from the catalogue: certificates and
// public keys (ModePublic); private keys, kubeconfigs and the encryption config (ModeSecret).
// A mode that drifted wider than this is reported by verify and restored by init.
func Managed(c *configs.Cluster) []ManagedFile {
	var out []ManagedFile
	for _, in := range Instances(c) {
		switch in.Spec.Kind {
		case KindKeyPair:
			out = append(out, ManagedFile{in.KeyPath(), ModeSecret}, ManagedFile{in.PubPath(), ModePublic})
		default:
			out = append(out, ManagedFile{in.CertPath(), ModePublic}, ManagedFile{in.KeyPath(), ModeSecret})
		}
		if in.Kubeconfig != "" {
			out = append(out, ManagedFile{in.KubeconfigPath(), ModeSecret})
		}
	}
	return append(out, ManagedFile{EncryptionConfigPath, ModeSecret})
}
