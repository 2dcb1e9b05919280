package encryption

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"k8s.io/apiserver/pkg/storage/value"
	upstreamaes "k8s.io/apiserver/pkg/storage/value/encrypt/aes"
	upstreamsecretbox "k8s.io/apiserver/pkg/storage/value/encrypt/secretbox"
)

const etcdKey = "/registry/secrets/default/foo"

// testSecret returns n fixed key bytes: 0x00, 0x01, ….
func testSecret(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// countingReader is a pinned random source: 0x00, 0x01, 0x02, … (wrapping), so IVs and nonces
// are fixed.
type countingReader struct{ n byte }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.n
		r.n++
	}
	return len(p), nil
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func mustKey(t testing.TB, provider, name string, secret []byte) *Key {
	t.Helper()
	k, err := NewKey(provider, name, secret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustNew(t testing.TB, keys ...*Key) *Transformer {
	t.Helper()
	tr, err := New("secrets", rand.Reader, keys...)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// upstream returns k8s.io/apiserver's own transformer for one key (the one kube-apiserver runs),
// without the prefix: it reads and writes payloads.
func upstream(t testing.TB, provider string, secret []byte) value.Transformer {
	t.Helper()
	switch provider {
	case Secretbox:
		return upstreamsecretbox.NewSecretboxTransformer([32]byte(secret))
	case AESCBC, AESGCM:
		block, err := aes.NewCipher(secret)
		if err != nil {
			t.Fatal(err)
		}
		if provider == AESCBC {
			return upstreamaes.NewCBCTransformer(block)
		}
		tr, err := upstreamaes.NewGCMTransformer(block)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	t.Fatalf("no upstream transformer for %s", provider)
	return nil
}

// Golden vectors: key 00 01 … 1f, named key1; IV/nonce 00 01 …; etcd key
// /registry/secrets/default/foo. Each is also decrypted by k8s.io/apiserver's transformer, so
// the vectors are kube-apiserver's bytes, not just ours.
func TestGoldenVectors(t *testing.T) {
	plain := []byte("k8s\x00golden plaintext")
	for _, tc := range []struct {
		provider, prefix, payload string
	}{
		{AESCBC, "k8s:enc:aescbc:v1:key1:",
			"000102030405060708090a0b0c0d0e0f" + // IV; the rest matches `openssl enc -aes-256-cbc -K 0001…1f -iv 0001…0f`
				"5442cf7fee3472f6bbf0519f16fadb9b5db04e088762882e5b914fc4666c3739"},
		{AESGCM, "k8s:enc:aesgcm:v1:key1:",
			"000102030405060708090a0b" + // nonce; the rest matches Python cryptography's AESGCM(key).encrypt(nonce, value, etcdKey)
				"2c3aa51ba28aae7fe82fb7fbdd881103f7b3ff40" + // ciphertext
				"144a6bab87c5d6048eb7d22da3bb6942"}, // tag
		{Secretbox, "k8s:enc:secretbox:v1:key1:",
			"000102030405060708090a0b0c0d0e0f1011121314151617" + // nonce
				"cd059806dcd2cfa503bafc1650a1402c35c74b4fa0a5ce74" +
				"de52af4e04ee23f926c03eab"},
	} {
		t.Run(tc.provider, func(t *testing.T) {
			k := mustKey(t, tc.provider, "key1", testSecret(32))
			tr, err := New("secrets", &countingReader{}, k)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tr.TransformToStorage(plain, etcdKey)
			if err != nil {
				t.Fatal(err)
			}
			want := append([]byte(tc.prefix), unhex(t, tc.payload)...)
			if !bytes.Equal(got, want) {
				t.Fatalf("stored value\n got %q %x\nwant %q %x", got[:len(tc.prefix)], got[len(tc.prefix):], want[:len(tc.prefix)], want[len(tc.prefix):])
			}
			back, stale, err := tr.TransformFromStorage(want, etcdKey)
			if err != nil || stale || !bytes.Equal(back, plain) {
				t.Fatalf("reading the golden value: %q, stale %v, %v", back, stale, err)
			}
			up, _, err := upstream(t, tc.provider, testSecret(32)).TransformFromStorage(context.Background(), want[len(tc.prefix):], value.DefaultContext(etcdKey))
			if err != nil || !bytes.Equal(up, plain) {
				t.Fatalf("k8s.io/apiserver reads the golden payload as %q, %v", up, err)
			}
		})
	}
}

// kube-apiserver's transformers and ours read each other's payloads, for every provider, key
// size and a range of value lengths (PKCS#7 edge cases included).
func TestUpstreamCompatibility(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		provider string
		size     int
	}{{AESCBC, 16}, {AESCBC, 24}, {AESCBC, 32}, {AESGCM, 16}, {AESGCM, 24}, {AESGCM, 32}, {Secretbox, 32}} {
		secret := testSecret(tc.size)
		k := mustKey(t, tc.provider, "k", secret)
		ours := mustNew(t, k)
		theirs := upstream(t, tc.provider, secret)
		for _, n := range []int{0, 1, 15, 16, 17, 31, 32, 1000} {
			plain := bytes.Repeat([]byte{0xa5}, n)
			stored, err := ours.TransformToStorage(plain, etcdKey)
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := theirs.TransformFromStorage(ctx, stored[len(k.Prefix()):], value.DefaultContext(etcdKey))
			if err != nil || !bytes.Equal(got, plain) {
				t.Errorf("%s/%d bytes, %d-byte value: upstream reads ours as %x, %v", tc.provider, tc.size, n, got, err)
			}
			payload, err := theirs.TransformToStorage(ctx, plain, value.DefaultContext(etcdKey))
			if err != nil {
				t.Fatal(err)
			}
			got, stale, err := ours.TransformFromStorage(append([]byte(k.Prefix()), payload...), etcdKey)
			if err != nil || stale || !bytes.Equal(got, plain) {
				t.Errorf("%s/%d bytes, %d-byte value: we read upstream's as %x, stale %v, %v", tc.provider, tc.size, n, got, stale, err)
			}
		}
	}
}

func TestRoundTripAndSizes(t *testing.T) {
	for _, tc := range []struct {
		provider string
		overhead func(n int) int // payload length for an n-byte value
	}{
		{AESCBC, func(n int) int { return 16 + (n/16+1)*16 }},
		{AESGCM, func(n int) int { return 12 + n + 16 }},
		{Secretbox, func(n int) int { return 24 + n + 16 }},
		{Identity, func(n int) int { return n }},
	} {
		k := IdentityKey()
		if tc.provider != Identity {
			k = mustKey(t, tc.provider, "key1", testSecret(32))
		}
		tr := mustNew(t, k)
		for _, n := range []int{0, 1, 15, 16, 17, 4096} {
			plain := bytes.Repeat([]byte("x"), n)
			stored, err := tr.TransformToStorage(plain, etcdKey)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(stored), k.Prefix()) || len(stored)-len(k.Prefix()) != tc.overhead(n) {
				t.Errorf("%s, %d bytes: stored %d bytes with prefix %.30q, want %q and a %d-byte payload", tc.provider, n, len(stored), stored, k.Prefix(), tc.overhead(n))
			}
			if n >= 16 && tc.provider != Identity && bytes.Contains(stored, plain) {
				t.Errorf("%s stores the plaintext", tc.provider)
			}
			got, stale, err := tr.TransformFromStorage(stored, etcdKey)
			if err != nil || stale || !bytes.Equal(got, plain) {
				t.Errorf("%s, %d bytes: read back %q, stale %v, %v", tc.provider, n, got, stale, err)
			}
		}
	}
}

func TestPrefixes(t *testing.T) {
	for p, want := range map[string]string{
		AESCBC: "k8s:enc:aescbc:v1:", AESGCM: "k8s:enc:aesgcm:v1:", Secretbox: "k8s:enc:secretbox:v1:", Identity: "",
	} {
		if got := ProviderPrefix(p); got != want {
			t.Errorf("ProviderPrefix(%s) = %q, want %q", p, got, want)
		}
	}
	if got := mustKey(t, AESGCM, "2026-key", testSecret(16)).Prefix(); got != "k8s:enc:aesgcm:v1:2026-key:" {
		t.Errorf("key prefix %q", got)
	}
}

func TestNewKeyErrors(t *testing.T) {
	for _, tc := range []struct {
		provider, name string
		size           int
		want           string
	}{
		{AESCBC, "", 32, "name is empty"},
		{AESCBC, "k", 31, `aescbc key "k": the secret is 31 bytes, want 16, 24 or 32`},
		{AESGCM, "k", 0, `aesgcm key "k": the secret is 0 bytes`},
		{Secretbox, "k", 16, `secretbox key "k": the secret is 16 bytes, want exactly 32`},
		{"kms", "k", 32, `"kms" is not supported`},
		{Identity, "k", 32, "identity has no keys"},
	} {
		_, err := NewKey(tc.provider, tc.name, testSecret(tc.size))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewKey(%s, %q, %d bytes): %v, want %q", tc.provider, tc.name, tc.size, err, tc.want)
		}
	}
}

func TestReadErrors(t *testing.T) {
	other := testSecret(32)
	other[0] ^= 1
	// aescbc with the right key but padding bytes that disagree: encrypt a block ending 02 03.
	badPad := func(t *testing.T) []byte {
		block, _ := aes.NewCipher(testSecret(32))
		iv := make([]byte, 16)
		body := append(bytes.Repeat([]byte("a"), 14), 0x03, 0x02)
		cipher.NewCBCEncrypter(block, iv).CryptBlocks(body, body)
		return append(append([]byte("k8s:enc:aescbc:v1:key1:"), iv...), body...)
	}
	zeroPad := func(t *testing.T) []byte {
		block, _ := aes.NewCipher(testSecret(32))
		iv := make([]byte, 16)
		body := append(bytes.Repeat([]byte("a"), 15), 0x00)
		cipher.NewCBCEncrypter(block, iv).CryptBlocks(body, body)
		return append(append([]byte("k8s:enc:aescbc:v1:key1:"), iv...), body...)
	}
	write := func(t *testing.T, provider string, secret []byte, key string) []byte {
		t.Helper()
		out, err := mustNew(t, mustKey(t, provider, "key1", secret)).TransformToStorage([]byte("k8s\x00secret data, more than a block"), key)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	truncate := func(n int) func(b []byte) []byte { return func(b []byte) []byte { return b[:len(b)-n] } }

	for _, tc := range []struct {
		name     string
		provider string
		stored   func(t *testing.T) []byte
		readAt   string
		want     []string
		is       error
	}{
		{name: "aescbc wrong secret", provider: AESCBC, stored: func(t *testing.T) []byte { return write(t, AESCBC, other, etcdKey) },
			want: []string{etcdKey, `aescbc key "key1"`, "the secret is not the one that wrote the value"}},
		{name: "aesgcm wrong secret", provider: AESGCM, stored: func(t *testing.T) []byte { return write(t, AESGCM, other, etcdKey) },
			want: []string{etcdKey, `aesgcm key "key1"`, "message authentication failed", "the secret is not the one"}},
		{name: "secretbox wrong secret", provider: Secretbox, stored: func(t *testing.T) []byte { return write(t, Secretbox, other, etcdKey) },
			want: []string{`secretbox key "key1"`, "message authentication failed"}},
		{name: "aesgcm value copied to another etcd key", provider: AESGCM,
			stored: func(t *testing.T) []byte { return write(t, AESGCM, testSecret(32), "/registry/secrets/default/bar") },
			want:   []string{etcdKey, `aesgcm key "key1"`, "written under another etcd key than " + etcdKey}},
		{name: "aescbc truncated below the IV", provider: AESCBC, stored: func(t *testing.T) []byte { return []byte("k8s:enc:aescbc:v1:key1:0123456789") },
			want: []string{"shorter than the required size"}},
		{name: "aescbc truncated inside a block", provider: AESCBC, stored: func(t *testing.T) []byte { return truncate(3)(write(t, AESCBC, testSecret(32), etcdKey)) },
			want: []string{"not a multiple of the block size"}},
		{name: "aescbc IV only", provider: AESCBC, stored: func(t *testing.T) []byte { return []byte("k8s:enc:aescbc:v1:key1:0123456789abcdef") },
			want: []string{"invalid PKCS7 data"}},
		{name: "aescbc bad padding", provider: AESCBC, stored: badPad, want: []string{"invalid padding on input"}},
		{name: "aescbc zero padding", provider: AESCBC, stored: zeroPad, want: []string{"invalid PKCS7 data"}},
		{name: "aesgcm truncated tag", provider: AESGCM, stored: func(t *testing.T) []byte { return truncate(1)(write(t, AESGCM, testSecret(32), etcdKey)) },
			want: []string{"message authentication failed"}},
		{name: "aesgcm truncated below the nonce", provider: AESGCM, stored: func(t *testing.T) []byte { return []byte("k8s:enc:aesgcm:v1:key1:short") },
			want: []string{"shorter than the required size"}},
		{name: "secretbox truncated", provider: Secretbox, stored: func(t *testing.T) []byte { return []byte("k8s:enc:secretbox:v1:key1:" + strings.Repeat("n", 39)) },
			want: []string{"shorter than the required size"}},
		{name: "key no longer configured", provider: AESCBC, stored: func(t *testing.T) []byte { return []byte("k8s:enc:aescbc:v1:old-key:payload") },
			want: []string{etcdKey, `written by aescbc key "old-key", which is not in the configuration (its aescbc keys: "key1")`, "add the key back"}, is: ErrNoKey},
		{name: "provider no longer configured", provider: AESCBC, stored: func(t *testing.T) []byte { return []byte("k8s:enc:secretbox:v1:key1:payload") },
			want: []string{`written by secretbox key "key1" and the configuration has no secretbox provider`}, is: ErrNoKey},
		{name: "kms value", provider: AESCBC, stored: func(t *testing.T) []byte { return []byte("k8s:enc:kms:v2:vault:payload") },
			want: []string{`KMS v2 provider "vault"`}, is: ErrNoKey},
		{name: "plaintext without identity", provider: AESCBC, stored: func(t *testing.T) []byte { return []byte("k8s\x00plain") },
			want: []string{"not encrypted", "identity"}, is: ErrNoKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := mustNew(t, mustKey(t, tc.provider, "key1", testSecret(32)))
			got, _, err := tr.TransformFromStorage(tc.stored(t), etcdKey)
			if err == nil {
				t.Fatalf("read %q, want an error", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nwant it to contain %q", err, w)
				}
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
		})
	}
}

// aescbc and secretbox have no associated data: a value moved to another etcd key still reads,
// exactly as in kube-apiserver.
func TestNoAADForCBCAndSecretbox(t *testing.T) {
	for _, p := range []string{AESCBC, Secretbox} {
		tr := mustNew(t, mustKey(t, p, "k", testSecret(32)))
		stored, err := tr.TransformToStorage([]byte("v"), "/registry/secrets/a/b")
		if err != nil {
			t.Fatal(err)
		}
		if got, _, err := tr.TransformFromStorage(stored, "/registry/secrets/c/d"); err != nil || string(got) != "v" {
			t.Errorf("%s under another etcd key: %q, %v", p, got, err)
		}
	}
}

func TestIdentity(t *testing.T) {
	id := mustNew(t, IdentityKey())
	stored, err := id.TransformToStorage([]byte("k8s\x00plain"), etcdKey)
	if err != nil || string(stored) != "k8s\x00plain" {
		t.Fatalf("identity writes %q, %v", stored, err)
	}
	if got, stale, err := id.TransformFromStorage([]byte("{\"kind\":\"Secret\"}"), etcdKey); err != nil || stale || string(got) != "{\"kind\":\"Secret\"}" {
		t.Errorf("identity reads JSON as %q, %v, %v", got, stale, err)
	}
	enc, err := mustNew(t, mustKey(t, Secretbox, "k", testSecret(32))).TransformToStorage([]byte("x"), etcdKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := IdentityKey().open(enc, etcdKey); !errors.Is(err, ErrEncryptedData) {
		t.Errorf("identity reading encrypted data: %v, want ErrEncryptedData", err)
	}
	if _, _, err := id.TransformFromStorage(enc, etcdKey); !errors.Is(err, ErrNoKey) || !strings.Contains(err.Error(), "no secretbox provider") {
		t.Errorf("identity-only transformer reading secretbox data: %v", err)
	}
	// identity first (decrypting a cluster): encrypted values are still read by the provider after it, and reported stale.
	tr := mustNew(t, IdentityKey(), mustKey(t, Secretbox, "k", testSecret(32)))
	if got, stale, err := tr.TransformFromStorage(enc, etcdKey); err != nil || !stale || string(got) != "x" {
		t.Errorf("identity first, secretbox value: %q, stale %v, %v", got, stale, err)
	}
}

func TestStaleAndRotation(t *testing.T) {
	oldK := mustKey(t, AESCBC, "old", testSecret(32))
	newK := mustKey(t, AESCBC, "new", bytes.Repeat([]byte{7}, 32))
	sb := mustKey(t, Secretbox, "sb", testSecret(32))
	before := mustNew(t, oldK, IdentityKey())
	rotated := mustNew(t, newK, oldK, sb, IdentityKey())

	oldValue, err := before.TransformToStorage([]byte("payload"), etcdKey)
	if err != nil {
		t.Fatal(err)
	}
	sbValue, err := mustNew(t, sb).TransformToStorage([]byte("payload"), etcdKey)
	if err != nil {
		t.Fatal(err)
	}
	newValue, err := rotated.TransformToStorage([]byte("payload"), etcdKey)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(newValue), "k8s:enc:aescbc:v1:new:") {
		t.Errorf("rotated config writes %.30q, want the new key", newValue)
	}
	for _, tc := range []struct {
		name   string
		stored []byte
		stale  bool
	}{
		{"the first key's value", newValue, false},
		{"the old key's value", oldValue, true},
		{"another provider's value", sbValue, true},
		{"a plaintext value read by identity", []byte("k8s\x00payload"), true},
	} {
		got, stale, err := rotated.TransformFromStorage(tc.stored, etcdKey)
		if err != nil || stale != tc.stale || !bytes.HasSuffix(got, []byte("payload")) {
			t.Errorf("%s: %q, stale %v (want %v), %v", tc.name, got, stale, tc.stale, err)
		}
	}
	// The old configuration cannot read what the new key wrote: every API server must know
	// the new key before any writes with it.
	if _, _, err := before.TransformFromStorage(newValue, etcdKey); !errors.Is(err, ErrNoKey) || !strings.Contains(err.Error(), `aescbc key "new"`) {
		t.Errorf("old configuration reading the new key's value: %v", err)
	}
}

// Two elements of the same provider share the "k8s:enc:aescbc:v1:" prefix, and key names may
// overlap ("a" and "a:b"): a key that matches by prefix but fails does not end the search.
func TestOverlappingPrefixes(t *testing.T) {
	a := mustKey(t, AESCBC, "a", testSecret(32))
	ab := mustKey(t, AESCBC, "a:b", bytes.Repeat([]byte{9}, 32))
	stored, err := mustNew(t, ab).TransformToStorage([]byte("v"), etcdKey)
	if err != nil {
		t.Fatal(err)
	}
	got, stale, err := mustNew(t, a, ab).TransformFromStorage(stored, etcdKey)
	if err != nil || !stale || string(got) != "v" {
		t.Errorf("reading a:b after a failed match with a: %q, stale %v, %v", got, stale, err)
	}
}

func TestRandomSourceErrors(t *testing.T) {
	for _, p := range []string{AESCBC, AESGCM, Secretbox} {
		k := mustKey(t, p, "k", testSecret(32))
		tr, err := New("secrets", failingReader{}, k)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.TransformToStorage([]byte("v"), etcdKey); err == nil || !strings.Contains(err.Error(), "no entropy") || !strings.Contains(err.Error(), k.String()) {
			t.Errorf("%s with a failing random source: %v", p, err)
		}
	}
	if _, err := New("secrets", nil, IdentityKey()); err == nil {
		t.Error("New without a random source succeeded")
	}
	if _, err := New("secrets", rand.Reader); err == nil {
		t.Error("New without keys succeeded")
	}
}
