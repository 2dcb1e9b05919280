package main

import (
	"crypto/x509"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/pki"
)

func decodeB64Cert(t *testing.T, s string) *x509.Certificate {
	t.Helper()
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	c, err := pki.ParseCert(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// mustCluster loads the resolved model init wrote into dir.
func mustCluster(t *testing.T, dir string) *configs.Cluster {
	t.Helper()
	c, err := decodeCluster(filepath.Join(dir, "cluster.yaml"), nil, os.Environ())
	if err != nil {
		t.Fatal(err)
	}
	c.SetDefaults()
	return c
}

func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
