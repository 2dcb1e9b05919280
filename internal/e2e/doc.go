// Package e2e holds what end-to-end tests share: finding the real tools they drive (kubectl,
// openssl, etcd, etcdctl, systemd-analyze, systemd) and skipping, or under HARDWAY_E2E=1
// failing, when one is missing, so CI never passes by skipping.
package e2e
