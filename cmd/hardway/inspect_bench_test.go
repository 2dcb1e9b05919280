package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hardway-dev/hardway/units/flags"
	"github.com/hardway-dev/hardway/units/inspect"
)

// sixUnitNode renders the single-node example with hardway init and returns that node's root
// with only the six component units left in etc/systemd/system (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, kubelet, kube-proxy), every file they name beside
// them: what `hardway inspect --root NODE NODE/etc/systemd/system` reads on a real node.
func sixUnitNode(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	var out, errb bytes.Buffer
	if code := run([]string{"init", "--config", "../../configs/examples/single.yaml", "--dir", dir}, strings.NewReader(""), &out, &errb); code != 0 {
		b.Fatalf("hardway init: exit %d: %s%s", code, out.String(), errb.String())
	}
	node := filepath.Join(dir, "nodes", "node1")
	units := filepath.Join(node, "etc/systemd/system")
	keep := map[string]bool{"etcd.service": true, "kube-apiserver.service": true, "kube-controller-manager.service": true,
		"kube-scheduler.service": true, "kubelet.service": true, "kube-proxy.service": true}
	entries, err := os.ReadDir(units)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		if !keep[e.Name()] {
			if err := os.RemoveAll(filepath.Join(units, e.Name())); err != nil {
				b.Fatal(err)
			}
		}
	}
	if left, _ := os.ReadDir(units); len(left) != len(keep) {
		b.Fatalf("%s holds %d units, want the %d components", units, len(left), len(keep))
	}
	return node
}

// BenchmarkInspectSixUnitDir is `hardway inspect --root NODE NODE/etc/systemd/system` on a node
// running all six components, without the command's printing: the directory read, each unit
// parsed with its variables, every rule applied, and the certificates, keys, kubeconfigs and
// kubelet configuration the flags name read, parsed and checked. Issue 12 asks for under 10 ms.
func BenchmarkInspectSixUnitDir(b *testing.B) {
	node := sixUnitNode(b)
	cat := flags.Default()
	b.ReportAllocs()
	for b.Loop() {
		root, err := inspect.DirFS(node)
		if err != nil {
			b.Fatal(err)
		}
		src := &inspect.Sources{Catalogue: cat, Files: root, Root: root}
		invs, err := src.Read(context.Background(), inspect.Inputs{Paths: []string{"etc/systemd/system"}})
		if err != nil {
			b.Fatal(err)
		}
		rep := inspect.Inspect(invs, inspect.Options{Catalogue: cat, Now: time.Now(), WarnWithin: 30 * 24 * time.Hour, FS: root, NodeRoot: true})
		if len(rep.Results) != 6 {
			b.Fatalf("%d results, want 6", len(rep.Results))
		}
		if n := rep.Count(inspect.Warning); n > 0 {
			b.Fatalf("%d findings at warning or above on hardway's own node: %v", n, rep.All())
		}
	}
}
