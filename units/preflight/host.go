package preflight

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Host is the machine launch runs on.
type Host struct {
	// ProgramRoot is where the systemd manager finds programs: "/" for the system manager,
	// /proc/PID/root for a manager in a mount namespace of its own. "" is "/".
	ProgramRoot string
	// UnitRunning reports whether systemd runs a unit; nil answers with an error (no systemd
	// connection), which makes a taken port a warning rather than an error.
	UnitRunning func(ctx context.Context, unit string) (bool, error)
}

// maxKernelFile bounds a read of /proc or /sys.
const maxKernelFile = 1 << 20

// ReadKernelFile reads a file of the running kernel.
func (h *Host) ReadKernelFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxKernelFile))
}

// Listen listens on addr and closes the listener at once; when the port is taken, the error
// names the process that holds it if /proc tells.
func (h *Host) Listen(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err == nil {
		return l.Close()
	}
	if errors.Is(err, syscall.EADDRINUSE) {
		if _, port, serr := net.SplitHostPort(addr); serr == nil {
			if p, aerr := strconv.Atoi(port); aerr == nil {
				if holder := PortHolder("/proc", p); holder != "" {
					return fmt.Errorf("%w (held by %s)", err, holder)
				}
			}
		}
	}
	return err
}

func (h *Host) path(p string) string {
	if h.ProgramRoot == "" || h.ProgramRoot == "/" {
		return p
	}
	return filepath.Join(h.ProgramRoot, p)
}

// StatProgram stats the program under ProgramRoot, following links.
func (h *Host) StatProgram(p string) (fs.FileInfo, error) { return os.Stat(h.path(p)) }

// RunProgram runs the program under ProgramRoot with an empty environment.
func (h *Host) RunProgram(ctx context.Context, p string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, h.path(p), args...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	cmd.WaitDelay = time.Second
	return cmd.CombinedOutput()
}

// Running asks UnitRunning.
func (h *Host) Running(ctx context.Context, unit string) (bool, error) {
	if h.UnitRunning == nil {
		return false, errors.New("no systemd connection")
	}
	return h.UnitRunning(ctx, unit)
}

// PortHolder names the process listening on TCP port ("pid 1234 (etcd)") from proc, the
// mount point of /proc: the socket's inode in net/tcp and net/tcp6, then the process with a
// descriptor of it. "" when it cannot tell (another network namespace, no permission).
func PortHolder(proc string, port int) string {
	inodes := map[string]bool{}
	for _, f := range []string{"net/tcp", "net/tcp6"} {
		for ino := range listeningInodes(filepath.Join(proc, f), port) {
			inodes[ino] = true
		}
	}
	if len(inodes) == 0 {
		return ""
	}
	pids, err := os.ReadDir(proc)
	if err != nil {
		return ""
	}
	for _, d := range pids {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		fdDir := filepath.Join(proc, d.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			target, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
			if err != nil {
				continue
			}
			if ino, ok := strings.CutPrefix(target, "socket:["); ok && inodes[strings.TrimSuffix(ino, "]")] {
				comm, _ := os.ReadFile(filepath.Join(proc, d.Name(), "comm"))
				return fmt.Sprintf("pid %s (%s)", d.Name(), strings.TrimSpace(string(comm)))
			}
		}
	}
	return ""
}

// listeningInodes are the inodes of the sockets listening on port in a /proc/net/tcp file.
func listeningInodes(file string, port int) map[string]bool {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	out := map[string]bool{}
	want := fmt.Sprintf(":%04X", port)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Scan() // header
	for sc.Scan() {
		// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
		f := strings.Fields(sc.Text())
		if len(f) < 10 || f[3] != "0A" || !strings.HasSuffix(f[1], want) { // 0A: TCP_LISTEN
			continue
		}
		out[f[9]] = true
	}
	return out
}
