package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hardway-dev/hardway/internal/e2e"
)

// addressSpaceEnv, in a CLI run of the test binary, caps the process's address space
// (RLIMIT_AS) at what it has mapped when it starts plus this many MiB: an input that makes the
// command read without bound ends it with "out of memory" instead of a clear error.
const addressSpaceEnv = "HARDWAY_TEST_RLIMIT_AS_MARGIN_MIB"

// limitAddressSpace applies addressSpaceEnv, if set, to this process.
func limitAddressSpace() {
	v := os.Getenv(addressSpaceEnv)
	if v == "" {
		return
	}
	margin, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		panic(addressSpaceEnv + ": " + err.Error())
	}
	size, err := vmSize()
	if err != nil {
		panic(err)
	}
	lim := syscall.Rlimit{Cur: size + margin<<20, Max: size + margin<<20}
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &lim); err != nil {
		panic(err)
	}
}

// vmSize is this process's mapped address space in bytes (VmSize in /proc/self/status).
func vmSize() (uint64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmSize:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmSize in /proc/self/status")
}

// `hardway inspect` on /dev/zero, a FIFO, a directory holding one, never-ending standard input,
// or a unit whose flags and EnvironmentFile= point at them: each run is a real process with its
// address space capped 256 MiB above what it starts with, and each ends in time with the clear
// error (exit 2) or findings (exit 1) naming the file, not killed and not out of memory.
func TestInspectHostileFilesUnderMemoryLimit(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		e2e.Skip(t, "no /dev/zero on this machine: "+err.Error())
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	units := filepath.Join(dir, "units")
	if err := os.Mkdir(units, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, filepath.Join(units, "kubelet.service")} {
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	unit := filepath.Join(dir, "kubelet.service")
	text := fmt.Sprintf("[Service]\nEnvironmentFile=/dev/zero\nExecStart=/usr/local/bin/kubelet --config=%s --kubeconfig=/dev/zero\n", fifo)
	if err := os.WriteFile(unit, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		stdin string // a file
		code  int
		want  []string
	}{
		{"/dev/zero", []string{"/dev/zero"}, "", 2, []string{"error: /dev/zero: not a regular file (a character device)"}},
		{"a FIFO", []string{fifo}, "", 2, []string{"error: " + fifo + ": not a regular file (a FIFO)"}},
		{"a directory holding a FIFO", []string{units}, "", 2, []string{"error: " + units + "/kubelet.service: not a regular file (a FIFO)"}},
		{"standard input from /dev/zero", []string{"-"}, "/dev/zero", 2, []string{"error: standard input: larger than the 4 MiB inspect reads of a file"}},
		{"a unit pointing at them", []string{unit}, "", 1, []string{
			"EnvironmentFile=/dev/zero: not a regular file (a character device)",
			"--config=" + fifo + ": not a regular file (a FIFO)",
			"kubeconfig: /dev/zero: not a regular file (a character device)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, self, append([]string{"inspect"}, tt.args...)...)
			cmd.Env = append(os.Environ(), "HARDWAY_TEST_AS_CLI=1", addressSpaceEnv+"=256")
			if tt.stdin != "" {
				in, err := os.Open(tt.stdin)
				if err != nil {
					t.Fatal(err)
				}
				defer in.Close()
				cmd.Stdin = in
			}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			out := stdout.String() + stderr.String()
			if ctx.Err() != nil {
				t.Fatalf("still running after a minute (a read that blocks or never ends), killed:\n%s", out)
			}
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				t.Fatal(err)
			}
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				t.Fatalf("killed by %v:\n%s", ws.Signal(), out)
			}
			if strings.Contains(out, "out of memory") {
				t.Fatalf("ran out of memory:\n%s", out)
			}
			if code := cmd.ProcessState.ExitCode(); code != tt.code {
				t.Errorf("exit %d, want %d:\n%s", code, tt.code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
