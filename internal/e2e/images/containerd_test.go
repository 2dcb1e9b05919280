package images

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hardway-dev/hardway/internal/e2e"
)

// containerd is a real containerd started by a test: its own root, state and socket in a
// temporary directory, never the machine's /var/lib/containerd or /run/containerd.
type containerd struct {
	ctr, address string
	dir          string // the temporary directory: runc's root and the FIFOs of ctr run go here too
	cgroup       string // the parent cgroup of the containers (a child of each hierarchy's root)
}

// startContainerd starts containerd as a child process (no systemd) with a generated
// configuration, waits until it answers, and stops it by its PID when the test ends. The CRI
// plugin is off: this containerd only imports and runs images with ctr.
func startContainerd(t *testing.T) *containerd {
	t.Helper()
	if os.Geteuid() != 0 {
		e2e.Skip(t, "containerd and runc need root")
	}
	bin := e2e.RequireBinary(t, "containerd")
	c := &containerd{ctr: e2e.RequireBinary(t, "ctr")}
	e2e.RequireBinary(t, "runc")
	e2e.RequireBinary(t, "containerd-shim-runc-v2")
	dir := t.TempDir()
	c.dir, c.cgroup = dir, fmt.Sprintf("hardway-e2e-images-%d", os.Getpid())
	c.address = filepath.Join(dir, "containerd.sock")
	config := filepath.Join(dir, "config.toml")
	toml := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = %q

[plugins."io.containerd.internal.v1.opt"]
  path = %q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), c.address, filepath.Join(dir, "opt"))
	if err := os.WriteFile(config, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	log, err := os.Create(filepath.Join(dir, "containerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cmd := exec.Command(bin, "--config", config)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// containerd 1.6 makes /run/containerd/s for its shims' sockets whatever its configuration
	// says: when this test made it, it goes (empty, once the shims are gone).
	if _, err := os.Stat("/run/containerd"); os.IsNotExist(err) {
		t.Cleanup(func() {
			os.Remove("/run/containerd/s")
			os.Remove("/run/containerd")
		})
	}
	t.Cleanup(func() {
		// runc removes each container's cgroup, not their parent: empty, it goes here.
		parents, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", c.cgroup))
		for _, p := range parents {
			if err := os.Remove(p); err != nil {
				t.Errorf("removing the containers' parent cgroup: %v", err)
			}
		}
	})
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := <-exited; err != nil {
			t.Logf("containerd (pid %d) exited: %v", cmd.Process.Pid, err)
		}
		if t.Failed() {
			b, _ := os.ReadFile(log.Name())
			t.Logf("containerd's log:\n%s", b)
		}
	})
	for {
		select {
		case err := <-exited:
			exited <- err
			b, _ := os.ReadFile(log.Name())
			t.Fatalf("containerd exited before answering: %v\n%s", err, b)
		default:
		}
		if exec.Command(c.ctr, "--address", c.address, "version").Run() == nil {
			return c
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// runArgs are the arguments of `ctr run` that keep a container's files in the test's directory
// and its cgroup below the test's parent: ctr's defaults are /run/containerd/runc,
// /run/containerd/fifo and /k8s.io/ID.
func (c *containerd) runArgs(id string, ctrArgs ...string) []string {
	args := []string{"run", "--rm", "--runc-root", filepath.Join(c.dir, "runc"), "--fifo-dir", filepath.Join(c.dir, "fifo"), "--cgroup", "/" + c.cgroup + "/" + id}
	return append(args, ctrArgs...)
}

// run runs ctr in the k8s.io namespace and returns its combined output.
func (c *containerd) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(c.ctr, append([]string{"--address", c.address, "--namespace", "k8s.io"}, args...)...).CombinedOutput()
	return string(out), err
}

func (c *containerd) must(t *testing.T, args ...string) string {
	t.Helper()
	out, err := c.run(t, args...)
	if err != nil {
		t.Fatalf("ctr %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// diffIDs returns each image's layer diff ID (its one snapshot's name) from an archive.
func diffIDs(t *testing.T, archive string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	_, files, _ := readTar(t, b)
	blob := func(d descriptor, v any) {
		if err := json.Unmarshal(files["blobs/sha256/"+strings.TrimPrefix(d.Digest, "sha256:")], v); err != nil {
			t.Fatal(err)
		}
	}
	var idx index
	if err := json.Unmarshal(files["index.json"], &idx); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, md := range idx.Manifests {
		var m manifest
		blob(md, &m)
		var cfg imageConfig
		blob(m.Config, &cfg)
		ids[md.Annotations[AnnotationImageName]] = cfg.RootFS.DiffIDs[0]
	}
	return ids
}

// The node tests' images, imported into a real containerd as the node tests do: named as the
// kubelet asks for them, unpacked for overlayfs, and runnable with runc: the program answers,
// the sandbox's pause exits 0 on SIGTERM, CoreDNS starts.
func TestImportAndRun(t *testing.T) {
	e2e.SkipIfShort(t)
	e2e.LockMachine(t)
	archive := NodeArchive(t, PauseRef)
	c := startContainerd(t)
	ctx := context.Background()
	if err := Import(ctx, c.ctr, c.address, archive); err != nil {
		t.Fatal(err)
	}
	// A second import replaces the images: the tests of a node import before each run.
	if err := Import(ctx, c.ctr, c.address, archive); err != nil {
		t.Fatal(err)
	}

	names := strings.Fields(c.must(t, "images", "ls", "--quiet"))
	snapshots := c.must(t, "snapshots", "--snapshotter", "overlayfs", "ls")
	for ref, diffID := range diffIDs(t, archive) {
		if !slices.Contains(names, ref) {
			t.Errorf("%s not imported; the images are %q", ref, names)
		}
		// A one-layer image's snapshot is named by its layer's diff ID (its chain ID).
		if !strings.Contains(snapshots, diffID) {
			t.Errorf("%s is not unpacked for overlayfs: no snapshot %s in\n%s", ref, diffID, snapshots)
		}
	}
	if t.Failed() {
		return
	}

	if out := c.must(t, c.runArgs("hardway-echo", "--net-host", ProgramRef, "hardway-echo", ProgramPath, "echo", "hello", "from", "a", "container")...); out != "hello from a container\n" {
		t.Errorf("echo in a container printed %q", out)
	}
	if out := c.must(t, c.runArgs("hardway-coredns", "--net-host", CoreDNSRef, "hardway-coredns", "/coredns", "-version")...); !strings.Contains(out, "CoreDNS-"+strings.TrimPrefix(CoreDNSVersion, "v")) {
		t.Errorf("coredns -version in a container printed %q, want CoreDNS-%s", out, strings.TrimPrefix(CoreDNSVersion, "v"))
	}

	// The sandbox's process: runs until SIGTERM, then exits 0 (ctr run exits with its code).
	var out bytes.Buffer
	pause := exec.Command(c.ctr, append([]string{"--address", c.address, "--namespace", "k8s.io"}, c.runArgs("hardway-pause", PauseRef, "hardway-pause")...)...)
	pause.Stdout, pause.Stderr = &out, &out
	if err := pause.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- pause.Wait() }()
	for !strings.Contains(c.must(t, "tasks", "ls"), "RUNNING") {
		select {
		case err := <-done:
			t.Fatalf("the pause container ended by itself: %v\n%s", err, out.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	c.must(t, "tasks", "kill", "--signal", "SIGTERM", "hardway-pause")
	if err := <-done; err != nil {
		t.Errorf("pause after SIGTERM: %v, want exit 0\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "SIGTERM") && !strings.Contains(out.String(), "terminated") {
		t.Errorf("pause printed %q, want it to say it was terminated", out.String())
	}
}
