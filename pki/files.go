package pki

import (
	"io/fs"
	"strings"

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

// BackupDir is the folder of the cluster directory where every run keeps the files it replaced,
// one folder per run named by its time: backup/20260101T120000Z[-N]/<path>.
const BackupDir = "backup"

// backupCopies lists the copies of the cluster-directory file rel in fsys's backup folders,
// newest first, at most max: what to restore a lost or corrupt file from.
func backupCopies(fsys fs.FS, rel string, max int) []string {
	runs, err := fs.ReadDir(fsys, BackupDir)
	if err != nil {
		return nil
	}
	var out []string
	// Run folders are named by UTC time (a -N suffix for a second run in the same second), so
	// the newest sorts last.
	for i := len(runs) - 1; i >= 0 && len(out) < max; i-- {
		p := BackupDir + "/" + runs[i].Name() + "/" + rel
		if fi, err := fs.Stat(fsys, p); err == nil && fi.Mode().IsRegular() {
			out = append(out, p)
		}
	}
	return out
}

// restoreAdvice says where to restore the cluster-directory file rel from: its newest backup
// copies when there are some, else the backup folders in general.
func restoreAdvice(fsys fs.FS, rel string) string {
	copies := backupCopies(fsys, rel, 3)
	if len(copies) == 0 {
		return "restore it from a copy you keep (no copy under " + BackupDir + "/)"
	}
	return "restore it from " + BackupDir + "/ (newest copies first: " + strings.Join(copies, ", ") + ")"
}
