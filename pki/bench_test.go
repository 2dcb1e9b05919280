//go:build bench_load

// Benchmark-sized loads (1,000-node clusters) build only with -tags bench_load: see the
// README's test section and docs/benchmarks.md.

package pki

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"testing"
	"testing/fstest"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/configs/configstest"
)

var algs = []string{configs.KeyECDSAP256, configs.KeyRSA2048}

// The physical limit: generating one key and signing one certificate with the standard
// library alone, no cfssl.
func BenchmarkCryptoOnly(b *testing.B) {
	for _, alg := range algs {
		b.Run(alg, func(b *testing.B) {
			caKey, _ := GenerateKey(alg)
			tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca"}, IsCA: true, BasicConstraintsValid: true,
				NotBefore: testNow, NotAfter: testNow.AddDate(10, 0, 0), KeyUsage: x509.KeyUsageCertSign}
			der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, caKey.Public(), caKey)
			ca, _ := x509.ParseCertificate(der)
			leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "system:node:x", Organization: []string{"system:nodes"}},
				NotBefore: testNow, NotAfter: testNow.AddDate(1, 0, 0), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k, err := GenerateKey(alg)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := x509.CreateCertificate(rand.Reader, leaf, ca, k.Public(), caKey); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// One certificate through hardway's issuing path: key, CSR, cfssl signing, PEM.
func BenchmarkIssueOne(b *testing.B) {
	for _, alg := range algs {
		b.Run(alg, func(b *testing.B) {
			caKey, _ := GenerateKey(alg)
			ca, err := NewCA("ca", Subject{CN: "kubernetes"}, caKey, testNow, configs.DefaultCAValidity)
			if err != nil {
				b.Fatal(err)
			}
			req := Request{Subject: Subject{CN: "system:node:x", Orgs: []string{"system:nodes"}}, Usage: UsageClient, NotBefore: testNow, NotAfter: testNow.AddDate(1, 0, 0)}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k, err := GenerateKey(alg)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := EncodeKey(k); err != nil {
					b.Fatal(err)
				}
				if _, err := ca.Issue("x", req, k); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A whole cluster's PKI from nothing, in memory (no disk): HA example shape and 1,000 nodes.
func BenchmarkReconcileFromNothing(b *testing.B) {
	for _, n := range []int{6, 1000} {
		for _, alg := range algs {
			b.Run(fmt.Sprintf("nodes=%d/%s", n, alg), func(b *testing.B) {
				c := configstest.Generated(n, alg)
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					p, err := Reconcile(fstest.MapFS{}, c, Options{Now: testNow, Rand: rand.Reader})
					if err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(float64(len(p.Changes)), "files")
				}
			})
		}
	}
}

// A second run over a complete directory: every certificate read and checked, nothing issued.
func BenchmarkReconcileNoop(b *testing.B) {
	c := configstest.Generated(1000, configs.KeyECDSAP256)
	fsys := fstest.MapFS{}
	reconcileInto(b, fsys, c, Options{})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := Reconcile(fsys, c, Options{Now: testNow, Rand: rand.Reader})
		if err != nil || len(p.Changes) != 0 {
			b.Fatal(err, len(p.Changes))
		}
	}
}
