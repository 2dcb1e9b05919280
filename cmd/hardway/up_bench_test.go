//go:build bench_load

package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hardway-dev/hardway/internal/e2e"
	"github.com/hardway-dev/hardway/internal/e2e/images"
	"github.com/hardway-dev/hardway/units"
)

// TestUpFigures measures what docs/benchmarks.md reports for `hardway up`: from the command to
// /readyz on a fresh DIR and on a warm restart, next to kube-apiserver's own exec-to-ready (the
// line up prints for it); to the node Ready and to the first pod Running (its image already
// imported); the supervisor's and the outer process's resident memory. Run it alone:
//
//	go test -tags bench_load ./cmd/hardway -run TestUpFigures -v -timeout 20m
func TestUpFigures(t *testing.T) {
	if os.Geteuid() != 0 {
		e2e.Skip(t, "hardway up needs root")
	}
	u, archive := newUpCluster(t)

	for _, run := range []string{"fresh DIR", "warm restart"} {
		began := time.Now()
		u.start(t) // returns at the KUBECONFIG line: every tier healthy, RBAC, add-ons applied
		all := time.Since(began)
		readyz := ""
		for _, l := range strings.Split(u.output(), "\n") {
			if strings.HasPrefix(l, "kube-apiserver: healthy") {
				readyz = l
			}
		}
		t.Logf("FIGURE %s: up to everything healthy %s; %s", run, all.Round(time.Millisecond), readyz)
		if run == "fresh DIR" {
			eventually(t, 3*time.Minute, "node Ready", func() bool {
				out, err := u.kubectlRun("get", "nodes", "-o", `jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}`)
				return err == nil && out == "True"
			})
			t.Logf("FIGURE node Ready %s after up started", time.Since(began).Round(100*time.Millisecond))
			ctr := exec.Command("nsenter", "--target", strconv.Itoa(u.supervisor(t)), "--mount", "--net", "ctr", "--address", units.ContainerdSocket,
				"--namespace", "k8s.io", "images", "import", "--snapshotter", "overlayfs", archive)
			if out, err := ctr.CombinedOutput(); err != nil {
				t.Fatalf("importing the images: %v\n%s", err, out)
			}
			eventually(t, time.Minute, "service account default/default", func() bool {
				_, err := u.kubectlRun("get", "serviceaccount", "default")
				return err == nil
			})
			start := time.Now()
			u.kubectl1(t, "run", "first", "--image="+images.ProgramRef, "--image-pull-policy=Never", "--", "serve")
			u.kubectl1(t, "wait", "--for=jsonpath={.status.phase}=Running", "pod/first", "--timeout=120s")
			t.Logf("FIGURE first pod POST to Running %s (two kubectl runs included)", time.Since(start).Round(time.Millisecond))
			time.Sleep(30 * time.Second)
			t.Logf("FIGURE resident memory at rest: supervisor %s, hardway up %s", rssOf(u.supervisor(t)), rssOf(u.cmd.Process.Pid))
		}
		if err := u.stop(t, 15); err != nil { // SIGTERM
			t.Fatalf("stop: %v", err)
		}
	}
}

func rssOf(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}
