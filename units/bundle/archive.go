package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"path"
	"strings"
	"sync"
	"time"
)

// tarTime is every entry's modification time: fixed, so the same bundle gives the same archive
// and a re-run of init writes nothing.
var tarTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// gzipWriters are reused: a compressor holds about a megabyte of state, and a large cluster
// packs a thousand archives.
var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return w
}}

// Archive packs b as <node>.tar.gz: manifest.json first (manifest is b.Manifest().Marshal()'s
// bytes), its signature next when sig is not nil, then every entry but the artifacts by its path relative to /,
// parents before children, owned by root, modes kept. `tar -xzpf <node>.tar.gz -C /` unpacks it by hand; `hardway launch` reads it
// without unpacking.
func (b *Bundle) Archive(manifest, sig []byte) ([]byte, error) {
	var buf bytes.Buffer
	gz := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(gz)
	gz.Reset(&buf)
	tw := tar.NewWriter(gz)
	header := func(typ byte, name string, mode int64, size int) *tar.Header {
		return &tar.Header{Typeflag: typ, Name: name, Mode: mode, Size: int64(size), ModTime: tarTime, Uname: "root", Gname: "root"}
	}
	dirs := map[string]bool{}
	var addParents func(d string) error
	addParents = func(d string) error {
		if d == "/" || dirs[d] {
			return nil
		}
		if err := addParents(path.Dir(d)); err != nil {
			return err
		}
		dirs[d] = true
		mode := int64(0o755)
		if f, ok := b.File(d); ok && f.Kind == KindDirectory {
			mode = int64(f.Mode.Perm())
		}
		return tw.WriteHeader(header(tar.TypeDir, strings.TrimPrefix(d, "/")+"/", mode, 0))
	}
	if err := tw.WriteHeader(header(tar.TypeReg, ManifestName, 0o644, len(manifest))); err != nil {
		return nil, err
	}
	if _, err := tw.Write(manifest); err != nil {
		return nil, err
	}
	if sig != nil {
		if err := tw.WriteHeader(header(tar.TypeReg, SignatureName, 0o644, len(sig))); err != nil {
			return nil, err
		}
		if _, err := tw.Write(sig); err != nil {
			return nil, err
		}
	}
	for _, f := range b.Files {
		if f.Artifact != nil {
			continue // kept in the artifact store, not in the archive
		}
		if f.Kind == KindDirectory {
			if err := addParents(f.Path); err != nil {
				return nil, err
			}
			continue
		}
		if err := addParents(path.Dir(f.Path)); err != nil {
			return nil, err
		}
		if err := tw.WriteHeader(header(tar.TypeReg, strings.TrimPrefix(f.Path, "/"), int64(f.Mode.Perm()), len(f.Data))); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
