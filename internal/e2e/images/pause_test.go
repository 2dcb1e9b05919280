package images

import (
	"bufio"
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

// childrenOf returns the PIDs whose parent is ppid, from /proc (this kernel has no
// /proc/PID/task/TID/children).
func childrenOf(t *testing.T, ppid int) []int {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, s := range stats {
		b, err := os.ReadFile(s)
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(ppid) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(s)))
			pids = append(pids, pid)
		}
	}
	return pids
}

// pause as PID 1 of a PID namespace, as in a pod: an orphan of the namespace becomes its child,
// and when it ends, pause reaps it (a zombie would stay in /proc). SIGTERM then ends pause with
// status 0.
func TestPauseReaps(t *testing.T) {
	if os.Geteuid() != 0 {
		e2e.Skip(t, "a PID namespace needs root")
	}
	unshare, nsenter := e2e.RequireBinary(t, "unshare"), e2e.RequireBinary(t, "nsenter")
	cmd := exec.Command(unshare, "--pid", "--fork", "--kill-child", Program(t), "pause")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "podprogram pausing" {
		t.Fatalf("pause's first line: %q (%v)", lines.Text(), lines.Err())
	}
	kids := childrenOf(t, cmd.Process.Pid)
	if len(kids) != 1 {
		t.Fatalf("unshare (pid %d) has children %v, want pause alone", cmd.Process.Pid, kids)
	}
	pause := kids[0]

	// A shell in the namespace starts a sleep and exits: the sleep is orphaned to pause.
	if out, err := exec.Command(nsenter, "--target", strconv.Itoa(pause), "--pid", "--", "/bin/sh", "-c", "sleep 3600 </dev/null >/dev/null 2>&1 &").CombinedOutput(); err != nil {
		t.Fatalf("nsenter: %v\n%s", err, out)
	}
	orphans := childrenOf(t, pause)
	if len(orphans) != 1 {
		t.Fatalf("pause (pid %d) has children %v, want the orphaned sleep", pause, orphans)
	}
	if err := syscall.Kill(orphans[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	proc := "/proc/" + strconv.Itoa(orphans[0])
	deadline, ok := t.Deadline()
	for {
		if _, err := os.Stat(proc); os.IsNotExist(err) {
			break
		}
		if ok && time.Until(deadline) < 10*time.Second {
			b, _ := os.ReadFile(proc + "/stat")
			t.Fatalf("pause did not reap its orphan: %s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}

	if err := syscall.Kill(pause, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("pause after SIGTERM: %v, want exit 0", err)
	}
}
