//go:build bench_load

package systemd_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hardway-dev/hardway/internal/e2e/images"
)

// TestNodeFigures measures, on the node end-to-end cluster, what docs/benchmarks.md reports:
// the time from `hardway launch` on a fresh node to the node Ready, the time from a pod's POST
// to Running (20 pods one after the other, the image already imported), and each component's
// resident memory at rest. Run it alone, on an idle machine:
//
//	go test -tags bench_load ./units/systemd -run TestNodeFigures -v -timeout 20m
//
// It asserts nothing about the figures; it fails only when the cluster does not work.
func TestNodeFigures(t *testing.T) {
	t.Run("control plane alone", func(t *testing.T) {
		c := startNodeCluster(t, "[control-plane, etcd]")
		t.Logf("FIGURE control plane alone: launch took %s", c.launchTook["cp1"].Round(time.Millisecond))
		time.Sleep(time.Minute)
		c.logMemory(t)
	})
	t.Run("three nodes", func(t *testing.T) { nodeFigures(t) })
}

func nodeFigures(t *testing.T) {
	c := startNodeCluster(t, "[control-plane, etcd, worker]", "[worker]", "[worker]")
	// Ready: the Node's Ready condition's lastTransitionTime (second resolution) against the
	// moment launch started on the node.
	c.nodesReady(t)
	for _, n := range c.nodes {
		ts := c.admin(t, "get", "node", n.name, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].lastTransitionTime}`)
		ready, err := time.Parse(time.RFC3339, ts)
		if err != nil {
			t.Fatal(err)
		}
		start := c.epoch.Add(c.launched[n.name])
		t.Logf("FIGURE %s: launch took %s; Ready %s after launch started (±1 s)", n.name,
			c.launchTook[n.name].Round(time.Millisecond), ready.Sub(start.Truncate(time.Second)).Round(time.Second))
	}

	// Pods: POST (kubectl create) to Running (kubectl wait, a watch), one at a time.
	var took []time.Duration
	for i := range 20 {
		name := "bench-" + strconv.Itoa(i)
		start := time.Now()
		c.admin(t, "run", name, "--image="+images.ProgramRef, "--image-pull-policy=Never", "--", "serve")
		c.admin(t, "wait", "--for=jsonpath={.status.phase}=Running", "pod/"+name, "--timeout=120s")
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	t.Logf("FIGURE pod POST to Running, 20 pods: median %s, min %s, max %s (each includes two kubectl runs, about 0.1 s each)",
		took[len(took)/2].Round(time.Millisecond), took[0].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond))

	// Memory at rest: after a minute without changes.
	time.Sleep(time.Minute)
	c.logMemory(t)
}

// logMemory logs each unit's main process's VmRSS on each node.
func (c *nodeCluster) logMemory(t *testing.T) {
	for _, n := range c.nodes {
		mgr := n.sb.Connect(t)
		var line []string
		for _, u := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "containerd", "kubelet", "kube-proxy"} {
			st, err := mgr.State(context.Background(), u+".service")
			if err != nil || st.MainPID == 0 {
				continue
			}
			line = append(line, fmt.Sprintf("%s %s", u, rss(t, int(st.MainPID))))
		}
		t.Logf("FIGURE %s resident memory at rest: %s", n.name, strings.Join(line, ", "))
	}
}

// rss is the process's VmRSS from /proc.
func rss(t *testing.T, pid int) string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.Fields(v)[0])
			return fmt.Sprintf("%d MiB", kb/1024)
		}
	}
	return "?"
}
