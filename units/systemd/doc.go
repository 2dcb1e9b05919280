// Package systemd is the side-effecting half of `hardway launch`: it installs a node bundle's
// files under a root directory and brings the bundle's units up through systemd over D-Bus.
//
// It takes a bundle.Bundle, plain data read and checked by package bundle (the one owner of
// the format): entries with their kinds and modes, units with the files each one reads, the
// units it must start after, and how to probe their health.
//
// Launch is idempotent and touches only what changed:
//
//  1. Install writes each file atomically, only when its bytes or mode differ, creates or
//     tightens directories, leaves an existing "if-absent" file to its component, and reports
//     the changed set.
//  2. daemon-reload runs only if a unit file changed; units are enabled only if not yet enabled.
//  3. Units run in dependency order (their After lists, then etcd, kube-apiserver,
//     controller-manager and scheduler, kubelet and kube-proxy); units of one tier start
//     together, since etcd members only report ready once a quorum is up.
//  4. A unit that is not running is started; a running unit is restarted only when its unit
//     file or one of its inputs changed; every other unit is left alone.
//  5. Each tier is waited for until healthy (etcd /health and the API server's /readyz over
//     mutual TLS, the kubelet's /healthz), within a timeout; a failure reports the unit's
//     ActiveState, SubState and Result and, when a journal is available, its last lines.
//
// The systemd side is the Manager interface; DBus implements it with go-systemd's dbus
// package, over the manager's private socket or the system bus. Package sandboxtest starts a
// real, private systemd user manager for tests.
package systemd
