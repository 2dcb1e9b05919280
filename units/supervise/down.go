package supervise

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
)

// Stop sends SIGTERM to the `hardway up` holding dir's run lock and waits until the lock is
// free (it stops its components in reverse order first); after timeout it sends SIGKILL, which
// takes every component with it. It returns the PID it stopped, 0 when nothing ran.
func Stop(ctx context.Context, dir string, timeout time.Duration) (int, error) {
	pid, err := Holder(dir)
	if err != nil || pid == 0 {
		return 0, err
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return pid, fmt.Errorf("stopping hardway up (pid %d): %w", pid, err)
	}
	deadline := time.Now().Add(timeout)
	killed := false
	for {
		held, err := Holder(dir)
		if err != nil {
			return pid, err
		}
		if held == 0 {
			return pid, nil
		}
		if !killed && time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			killed = true
		}
		select {
		case <-ctx.Done():
			return pid, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Cleanup is what Cleanup undid.
type Cleanup struct {
	Done []string
}

// chainPrefixes are the iptables chains kube-proxy, the kubelet and the CNI plugins make.
var chainPrefixes = []string{"KUBE-", "CNI-", "HOSTPORT"}

// CleanHost undoes, in the calling process's network namespace (the one `hardway up` ran in),
// what the node half left there after it stopped: the CNI bridge bridge, the iptables chains
// and rules of kube-proxy, the kubelet and the CNI plugins, and the kubelet's empty pod
// cgroups under cgroupRoot (/sys/fs/cgroup).
func CleanHost(ctx context.Context, bridge, cgroupRoot string) (Cleanup, error) {
	var c Cleanup
	var errs []error
	// Over netlink, in this process's network namespace: /sys/class/net shows the namespace
	// /sys was mounted in, which is not this one under `nsenter --net`.
	if link, err := netlink.LinkByName(bridge); err == nil {
		if err := netlink.LinkDel(link); err != nil {
			errs = append(errs, fmt.Errorf("delete the bridge %s: %w", bridge, err))
		} else {
			c.Done = append(c.Done, "deleted the bridge "+bridge)
		}
	}
	for _, tool := range []string{"iptables", "ip6tables"} {
		for _, table := range []string{"filter", "nat", "mangle"} {
			n, err := dropChains(ctx, tool, table)
			if err != nil {
				errs = append(errs, err)
			} else if n > 0 {
				c.Done = append(c.Done, fmt.Sprintf("%s -t %s: removed %d chains and rules", tool, table, n))
			}
		}
	}
	pods, _ := filepath.Glob(filepath.Join(cgroupRoot, "*", "kubepods"))
	if p := filepath.Join(cgroupRoot, "kubepods"); dirExists(p) {
		pods = append(pods, p)
	}
	for _, p := range pods {
		if err := removeEmptyTree(p); err != nil {
			errs = append(errs, err)
		} else {
			c.Done = append(c.Done, "removed the cgroup "+p)
		}
	}
	return c, errors.Join(errs...)
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// dropChains rewrites table without the lines that name a chain of chainPrefixes.
func dropChains(ctx context.Context, tool, table string) (int, error) {
	if _, err := exec.LookPath(tool + "-save"); err != nil {
		return 0, nil
	}
	out, err := exec.CommandContext(ctx, tool+"-save", "-t", table).Output()
	if err != nil {
		return 0, nil // no such table here
	}
	var keep bytes.Buffer
	n := 0
	for _, line := range strings.SplitAfter(string(out), "\n") {
		if containsAny(line, chainPrefixes) {
			n++
			continue
		}
		keep.WriteString(line)
	}
	if n == 0 {
		return 0, nil
	}
	restore := exec.CommandContext(ctx, tool+"-restore", "-T", table)
	restore.Stdin = &keep
	if out, err := restore.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("%s-restore -T %s: %v: %s", tool, table, err, bytes.TrimSpace(out))
	}
	return n, nil
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// removeEmptyTree removes a cgroup and its children, deepest first (rmdir only: a cgroup with
// a process in it stays, and says so).
func removeEmptyTree(root string) error {
	var dirs []string
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Remove(dirs[i]); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("cgroup %s: %w", dirs[i], err)
		}
	}
	return nil
}
