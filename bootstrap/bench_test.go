//go:build bench_load

// Benchmark-sized loads (1,000-node clusters) build only with -tags bench_load: see the
// README's test section and docs/benchmarks.md.

package bootstrap

import (
	"crypto/rand"
	"fmt"
	"os"
	"testing"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/configs/configstest"
)

// Planning a whole cluster from nothing: PKI, kubeconfigs, units and bundles, in memory.
func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{3, 1000} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			c := configstest.Generated(n, configs.KeyECDSAP256)
			empty := b.TempDir()
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := Build(os.DirFS(empty), c, Options{Now: now, Rand: rand.Reader}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Writing a planned 1,000-node cluster directory (16,000 files) to disk.
func BenchmarkApply(b *testing.B) {
	c := configstest.Generated(1000, configs.KeyECDSAP256)
	p, err := Build(os.DirFS(b.TempDir()), c, Options{Now: now, Rand: rand.Reader})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		if _, err := Apply(dir, p, ApplyOptions{Now: now}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(p.Changes)), "files")
}
