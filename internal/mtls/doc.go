// Package mtls is hardway's one client side of mutual TLS: the CA bundle a server's
// certificate must chain to and the certificate and key the client presents. Health probes,
// API calls and etcd clients all build their *tls.Config here, so the settings (TLS 1.2 at
// least, verification always on) live in one place and cannot be turned off.
package mtls
