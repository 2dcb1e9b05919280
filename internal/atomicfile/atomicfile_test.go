package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

func TestWriteModeAndContent(t *testing.T) {
	p := filepath.Join(t.TempDir(), "k.key")
	if err := Write(p, []byte("secret"), ModeSecret); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(p)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %o", fi.Mode().Perm())
	}
	changed, err := WriteIfChanged(p, []byte("secret"), ModeSecret)
	if err != nil || changed {
		t.Errorf("same content: changed=%v err=%v", changed, err)
	}
	changed, err = WriteIfChanged(p, []byte("secret"), ModePublic)
	if err != nil || !changed {
		t.Errorf("new mode: changed=%v err=%v", changed, err)
	}
}

func TestWriteRefusesSymlinksAndDirectories(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "link")
	os.Symlink(filepath.Join(dir, "elsewhere"), link)
	if err := Write(link, []byte("x"), ModeSecret); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("symlink: %v", err)
	}
	if err := Write(dir, []byte("x"), ModeSecret); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "elsewhere")); err == nil {
		t.Error("wrote through the link")
	}
}

func TestBatchCommitStopsLikeACrash(t *testing.T) {
	dir := t.TempDir()
	var b Batch
	var items []File
	for _, n := range []string{"a", "b", "c"} {
		os.WriteFile(filepath.Join(dir, n), []byte("old"), 0o644)
		items = append(items, File{Path: filepath.Join(dir, n), Data: []byte("new " + n), Mode: ModePublic})
	}
	if err := b.StageAll(items, 2); err != nil {
		t.Fatal(err)
	}
	stop := errors.New("crash")
	done, err := b.Commit(func(target string) error {
		if strings.HasSuffix(target, "c") {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || len(done) != 2 {
		t.Fatalf("done %v err %v", done, err)
	}
	for n, want := range map[string]string{"a": "new a", "b": "new b", "c": "old"} {
		got, _ := os.ReadFile(filepath.Join(dir, n))
		if string(got) != want {
			t.Errorf("%s = %q, want %q", n, got, want)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("temporary files left: %d entries", len(entries))
	}
}

func TestMkdirAllTightens(t *testing.T) {
	d := filepath.Join(t.TempDir(), "pki")
	os.Mkdir(d, 0o755)
	if err := MkdirAll(d, ModeDirPriv); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(d)
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("mode %o", fi.Mode().Perm())
	}
}

// A file staged as new never replaces one that appeared meanwhile: the commit stops there.
func TestStageNewNeverReplaces(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "ca.key")
	os.WriteFile(p, []byte("first"), 0o600)
	var b Batch
	if err := b.StageNew(p, []byte("second"), ModeSecret); !errors.Is(err, fs.ErrExist) {
		t.Errorf("staging over an existing file: %v", err)
	}
	q := filepath.Join(dir, "apiserver.key")
	if err := b.StageNew(q, []byte("second"), ModeSecret); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(q, []byte("first"), 0o600)
	if _, err := b.Commit(nil); !errors.Is(err, fs.ErrExist) {
		t.Errorf("committing over a file that appeared: %v", err)
	}
	if got, _ := os.ReadFile(q); string(got) != "first" {
		t.Errorf("the file was replaced: %q", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temporary files left: %d entries", len(entries))
	}
	if err := b.StageNew(filepath.Join(dir, "new.key"), []byte("x"), ModeSecret); err != nil {
		t.Fatal(err)
	}
	if done, err := b.Commit(nil); err != nil || len(done) != 1 {
		t.Errorf("a new file: %v %v", done, err)
	}
}

// RemoveStale removes the temporary files a killed run left, and only those.
func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "pki", "etcd"), 0o700)
	keep := []string{"pki/ca.key", "pki/.hidden", "pki/etcd/x.tmp-1", "pki/.a.tmp-x"}
	stale := []string{"pki/.ca.key.tmp-123", "pki/etcd/.ca.crt.tmp-9"}
	for _, n := range append(keep, stale...) {
		os.WriteFile(filepath.Join(dir, n), nil, 0o600)
	}
	removed, err := RemoveStale(dir)
	if err != nil || len(removed) != len(stale) {
		t.Fatalf("removed %v, %v", removed, err)
	}
	for _, n := range keep {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	for _, n := range stale {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			t.Errorf("%s survived", n)
		}
		if !IsTemp(filepath.Base(n)) {
			t.Errorf("IsTemp(%s) is false", n)
		}
	}
}

// WriteStream writes what it reads; a commit check that refuses, or a reader that fails
// midway, leaves the target as it was and no temporary file.
func TestWriteStream(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "kubelet")
	os.WriteFile(p, []byte("old"), 0o755)
	refuse := errors.New("checksum mismatch")
	cut := errors.New("connection reset")
	for _, tc := range []struct {
		name    string
		r       io.Reader
		commit  func() error
		wantErr error
		want    string
	}{
		{"refused by the commit check", strings.NewReader("tampered"), func() error { return refuse }, refuse, "old"},
		{"the reader fails midway", io.MultiReader(strings.NewReader("half"), iotest.ErrReader(cut)), nil, cut, "old"},
		{"accepted", strings.NewReader("new program"), func() error { return nil }, nil, "new program"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := WriteStream(p, tc.r, ModeExec, tc.commit)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if got, _ := os.ReadFile(p); string(got) != tc.want {
				t.Errorf("%s = %q, want %q", p, got, tc.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("temporary files left: %v", entries)
			}
			if err == nil {
				if fi, _ := os.Stat(p); fi.Mode().Perm() != ModeExec || n != int64(len(tc.want)) {
					t.Errorf("mode %04o, %d bytes", fi.Mode().Perm(), n)
				}
			}
		})
	}
}
