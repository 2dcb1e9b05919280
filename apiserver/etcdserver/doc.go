// Package etcdserver runs one etcd member in-process with etcd's own server
// (go.etcd.io/etcd/server/v3/embed): real etcd, not a re-implementation. It is what
// `hardway etcd` runs on machines without the upstream etcd binary.
//
// The member is configured with etcd's own flag names (Config.AddFlags), but only over mutual
// TLS: every client and peer URL must be https, client and peer certificate authentication are
// required, and Validate lists every violation with the flag that causes it and the fix. The
// data directory is created 0700.
//
// The lifecycle follows embed: Start, then ReadyNotify (closed once the member serves clients),
// Err (fatal serving errors) and Close.
//
// NewClient and Health are the client side, over the same mutual TLS (ClientTLS), for the API
// server and for health checks.
package etcdserver
