package encryption

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	storagevalue "k8s.io/apiserver/pkg/storage/value"
)

// BenchmarkEncryptDecrypt writes then reads one value per iteration through ForResource's
// transformer (IV/nonce from crypto/rand, as in production); SetBytes counts the value once, so
// MB/s is per round trip.
func BenchmarkEncryptDecrypt(b *testing.B) {
	for _, p := range []string{Identity, AESCBC, AESGCM, Secretbox} {
		tr := forSecrets(b, provider(p, "key1", testSecret(32)))
		for _, size := range []int{1 << 10, 64 << 10} {
			value := append([]byte("k8s\x00"), bytes.Repeat([]byte{0x5a}, size-4)...)
			b.Run(fmt.Sprintf("%s/%dKiB", p, size>>10), func(b *testing.B) {
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

// BenchmarkUpstreamEncryptDecrypt is the same round trip through k8s.io/apiserver's per-key
// transformers alone (payload only, no prefix handling): what the prefix transformers and
// hardway's wrapper add is the difference.
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
