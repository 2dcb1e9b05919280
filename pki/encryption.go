package pki

import (
	"fmt"
	"io"
)

// EncryptionKeySize is the size of every key hardway generates: 32 bytes suits secretbox
// (which requires it), aescbc and aesgcm (AES-256).
const EncryptionKeySize = 32

// NewEncryptionKey reads a fresh key from rand (crypto/rand.Reader in production).
func NewEncryptionKey(rand io.Reader) ([]byte, error) {
	k := make([]byte, EncryptionKeySize)
	if _, err := io.ReadFull(rand, k); err != nil {
		return nil, fmt.Errorf("reading a random encryption key: %w", err)
	}
	return k, nil
}
