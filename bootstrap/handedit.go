package bootstrap

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/hardway-dev/hardway/internal/atomicfile"
	"github.com/hardway-dev/hardway/units/bundle"
)

// Hand edits. A node's bundle folder, nodes/<node>/, is what hardway wrote for the node, and
// its manifest.json is the record of it: the sha256 of every file hardway wrote there. The record
// is crash-consistent with the files without a journal of its own: Apply renames a node's
// files into place before its manifest.json (one batch, in plan order), so the record on disk
// is always the last one whose files were all written. A run killed in the middle leaves each
// file whole (atomicfile), either as the record says or as that run rendered it, which is what
// the next run renders again from the same cluster file. So a file that differs both from the
// record and from what this run renders was changed by someone else: a hand edit.

// HandEdit is a file of a node's bundle folder that differs from what hardway recorded writing
// there and from what the run renders: someone edited it. The run replaces it, and Apply keeps
// the edited copy in the run's backup folder, as every file it replaces.
type HandEdit struct {
	// Path is the file in the cluster directory: nodes/<node>/etc/...
	Path string
	// Written is when hardway wrote the record the file differs from (manifest.json's time).
	Written time.Time
}

// Message says what happened to the file; backupDir is the run's backup folder ("" for a
// plan not applied).
func (h HandEdit) Message(backupDir string) string {
	msg := fmt.Sprintf("hand-edited: %s differs from what hardway wrote on %s", h.Path, h.Written.UTC().Format("2006-01-02 15:04 MST"))
	if backupDir == "" {
		return msg + "; init replaces it and keeps your copy in backup/ (say it in the cluster file instead: extraArgs, extraFiles, featureGates, nodes[].labels, nodes[].taints)"
	}
	return msg + "; your copy is in " + path.Join(backupDir, h.Path) + " (say it in the cluster file instead: extraArgs, extraFiles, featureGates, nodes[].labels, nodes[].taints)"
}

// record is what a bundle folder's manifest.json says hardway wrote: file (in the cluster
// directory) to sha256.
type record struct {
	sums    map[string]string
	written time.Time
}

// readRecord reads node's record from its bundle folder in fsys; ok is false when there is none
// that reads (a new node, or a manifest that is no longer one: nothing can be said then).
func readRecord(fsys fs.FS, node string) (record, bool) {
	base := path.Join(BundleDir, node)
	name := base + "/" + bundle.ManifestName
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return record{}, false
	}
	m, err := bundle.DecodeManifest(data)
	if err != nil {
		return record{}, false
	}
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		return record{}, false
	}
	r := record{sums: map[string]string{}, written: fi.ModTime()}
	for _, e := range m.Files {
		if e.SHA256 != "" {
			r.sums[base+e.Path] = e.SHA256
		}
	}
	return r, true
}

// handEdit reports whether the file f of the bundle folder, as fsys holds it, is a hand edit:
// it is there, differs from f (what the run renders), and differs from the record.
func (r record) handEdit(fsys fs.FS, f atomicfile.File) (HandEdit, bool) {
	want, ok := r.sums[f.Path]
	if !ok {
		return HandEdit{}, false
	}
	have, err := fs.ReadFile(fsys, f.Path)
	if err != nil || bytes.Equal(have, f.Data) {
		return HandEdit{}, false
	}
	sum := sha256.Sum256(have)
	if hex.EncodeToString(sum[:]) == want {
		return HandEdit{}, false
	}
	return HandEdit{Path: f.Path, Written: r.written}, true
}

// handEdits are the hand edits among files, the bundle folder of node as a run would write it.
func handEdits(fsys fs.FS, node string, files []atomicfile.File) []HandEdit {
	r, ok := readRecord(fsys, node)
	if !ok {
		return nil
	}
	var out []HandEdit
	for _, f := range files {
		if !strings.HasPrefix(f.Path, path.Join(BundleDir, node)+"/") {
			continue // the archive
		}
		if h, ok := r.handEdit(fsys, f); ok {
			out = append(out, h)
		}
	}
	return out
}
