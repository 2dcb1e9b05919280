package supervise

import (
	"os"
	"strings"
	"sync"
)

// LogFile is a component's log: appended to, rotated to <path>.1 when it reaches MaxBytes,
// and the last lines kept in memory for a report.
type LogFile struct {
	Path     string
	MaxBytes int64

	mu   sync.Mutex
	f    *os.File
	size int64
	tail []string // last tailLines complete lines
	part string   // an incomplete last line
}

const tailLines = 30

// DefaultLogBytes is the size at which a component's log is rotated.
const DefaultLogBytes = 20 << 20

// OpenLog opens (appending) the log at p.
func OpenLog(p string, maxBytes int64) (*LogFile, error) {
	l := &LogFile{Path: p, MaxBytes: maxBytes}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *LogFile) open() error {
	f, err := os.OpenFile(l.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	l.f, l.size = f, st.Size()
	return nil
}

// Write appends p, rotating first when the file is full.
func (l *LogFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.MaxBytes > 0 && l.size > 0 && l.size+int64(len(p)) > l.MaxBytes {
		l.f.Close()
		_ = os.Rename(l.Path, l.Path+".1")
		if err := l.open(); err != nil {
			return 0, err
		}
	}
	n, err := l.f.Write(p)
	l.size += int64(n)
	lines := strings.Split(l.part+string(p[:n]), "\n")
	l.part = lines[len(lines)-1]
	l.tail = append(l.tail, lines[:len(lines)-1]...)
	if len(l.tail) > tailLines {
		l.tail = append([]string(nil), l.tail[len(l.tail)-tailLines:]...)
	}
	return n, err
}

// Tail returns up to n of the last lines written.
func (l *LogFile) Tail(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.tail
	if l.part != "" {
		t = append(append([]string(nil), t...), l.part)
	}
	if len(t) > n {
		t = t[len(t)-n:]
	}
	return append([]string(nil), t...)
}

// Close closes the file.
func (l *LogFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}
