package encryption

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"testing"

	storagevalue "k8s.io/apiserver/pkg/storage/value"
)

// BenchmarkEncryptDecrypt writes then reads one value per iteration (IV/nonce from
// crypto/rand, as in production); SetBytes counts the value once, so MB/s is per round trip.
func BenchmarkEncryptDecrypt(b *testing.B) {
	for _, provider := range []string{Identity, AESCBC, AESGCM, Secretbox} {
		k := IdentityKey()
		if provider != Identity {
			k = mustKey(b, provider, "key1", testSecret(32))
		}
		tr, err := New("secrets", rand.Reader, k)
		if err != nil {
			b.Fatal(err)
		}
		for _, size := range []int{1 << 10, 64 << 10} {
			value := append([]byte("k8s\x00"), bytes.Repeat([]byte{0x5a}, size-4)...)
			b.Run(fmt.Sprintf("%s/%dKiB", provider, size>>10), func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					stored, err := tr.TransformToStorage(value, etcdKey)
					if err != nil {
						b.Fatal(err)
					}
					if _, _, err := tr.TransformFromStorage(stored, etcdKey); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkUpstreamEncryptDecrypt is the same round trip through k8s.io/apiserver's own
// transformers (payload only, no prefix handling): the reference for the figures above.
func BenchmarkUpstreamEncryptDecrypt(b *testing.B) {
	ctx := context.Background()
	for _, provider := range []string{AESCBC, AESGCM, Secretbox} {
		tr := upstream(b, provider, testSecret(32))
		for _, size := range []int{1 << 10, 64 << 10} {
			value := append([]byte("k8s\x00"), bytes.Repeat([]byte{0x5a}, size-4)...)
			b.Run(fmt.Sprintf("%s/%dKiB", provider, size>>10), func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					stored, err := tr.TransformToStorage(ctx, value, storagevalue.DefaultContext(etcdKey))
					if err != nil {
						b.Fatal(err)
					}
					if _, _, err := tr.TransformFromStorage(ctx, stored, storagevalue.DefaultContext(etcdKey)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
