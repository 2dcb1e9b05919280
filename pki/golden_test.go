package pki

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (run go test -update if the change is intended):\n%s", name, path, got)
	}
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fixture", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestKubeconfigGolden(t *testing.T) {
	kc := Kubeconfig{
		ClusterName: "prod", Server: "https://k8s-api.example.internal:6443", User: "admin@prod", Context: "admin@prod",
		CAPEM: fixture(t, "ca.crt"), CertPEM: fixture(t, "admin.crt"), KeyPEM: fixture(t, "admin.key"),
	}
	data, err := kc.Render()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "admin.kubeconfig", data)
	back, err := ParseKubeconfig(data)
	if err != nil {
		t.Fatal(err)
	}
	if back.Server != kc.Server || back.User != kc.User || back.Context != kc.Context || back.ClusterName != kc.ClusterName || !bytes.Equal(back.CertPEM, kc.CertPEM) || !bytes.Equal(back.KeyPEM, kc.KeyPEM) || !bytes.Equal(back.CAPEM, kc.CAPEM) {
		t.Errorf("round trip lost data: %+v", back)
	}
}
