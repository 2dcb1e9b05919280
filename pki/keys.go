package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/cloudflare/cfssl/csr"

	"github.com/hardway-dev/hardway/configs"
)

// keyRequest maps a configured key algorithm to cfssl's key request.
func keyRequest(alg string) (*csr.KeyRequest, error) {
	switch alg {
	case configs.KeyECDSAP256:
		return &csr.KeyRequest{A: "ecdsa", S: 256}, nil
	case configs.KeyECDSAP384:
		return &csr.KeyRequest{A: "ecdsa", S: 384}, nil
	case configs.KeyRSA2048:
		return &csr.KeyRequest{A: "rsa", S: 2048}, nil
	case configs.KeyRSA3072:
		return &csr.KeyRequest{A: "rsa", S: 3072}, nil
	case configs.KeyRSA4096:
		return &csr.KeyRequest{A: "rsa", S: 4096}, nil
	}
	return nil, fmt.Errorf("key algorithm %q is not supported; use one of %v", alg, configs.KeyAlgorithms)
}

// GenerateKey makes a new private key of the configured algorithm.
func GenerateKey(alg string) (crypto.Signer, error) {
	kr, err := keyRequest(alg)
	if err != nil {
		return nil, err
	}
	k, err := kr.Generate()
	if err != nil {
		return nil, fmt.Errorf("generating a %s key: %w", alg, err)
	}
	return k.(crypto.Signer), nil
}

// KeyAlgorithm names the algorithm of a key in the configuration's vocabulary.
func KeyAlgorithm(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return configs.KeyECDSAP256
		case elliptic.P384():
			return configs.KeyECDSAP384
		}
		return "ecdsa-" + k.Curve.Params().Name
	case *rsa.PublicKey:
		return fmt.Sprintf("rsa-%d", k.N.BitLen())
	}
	return fmt.Sprintf("%T", pub)
}

// EncodeKey returns the PEM of a private key: "EC PRIVATE KEY" (SEC 1) or "RSA PRIVATE KEY"
// (PKCS #1), the forms kubeadm writes and every Kubernetes component reads.
func EncodeKey(k crypto.Signer) ([]byte, error) {
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			return nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
	case *rsa.PrivateKey:
		return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), nil
	}
	return nil, fmt.Errorf("unsupported key type %T", k)
}

// EncodePublicKey returns the PEM ("PUBLIC KEY", PKIX) of k's public half.
func EncodePublicKey(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParseKey reads the first PEM private key of data (SEC 1, PKCS #1 or PKCS #8), skipping
// other blocks such as the "EC PARAMETERS" openssl writes before an EC key.
func ParseKey(data []byte) (crypto.Signer, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("no PEM private key block found")
		}
		var k any
		var err error
		switch block.Type {
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, err
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("unsupported key type %T", k)
		}
		return s, nil
	}
}

// ParseCert reads the first certificate of a PEM file.
func ParseCert(data []byte) (*x509.Certificate, error) {
	certs, err := ParseCerts(data)
	if err != nil {
		return nil, err
	}
	return certs[0], nil
}

// ParseCerts reads every certificate of a PEM file (a bundle), in order.
func ParseCerts(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(out)+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no CERTIFICATE PEM block found")
	}
	return out, nil
}

// EncodeCert returns the PEM of a DER certificate.
func EncodeCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// KeyMatches reports whether key is the private half of pub.
func KeyMatches(key crypto.Signer, pub crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := key.Public().(equaler)
	return ok && e.Equal(pub)
}
