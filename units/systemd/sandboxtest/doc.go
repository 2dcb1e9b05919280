// Package sandboxtest starts a real systemd manager for tests without touching the host's
// systemd, /tmp or cgroups of other processes.
//
// systemd is not PID 1 where hardway's tests run, so Start runs `systemd --user` as root:
//
//   - in a fresh cgroup-v2 child cgroup (clone3 CLONE_INTO_CGROUP) and a new cgroup namespace,
//     so the manager's "move every process of my root cgroup into init.scope" step sees only
//     itself. (Started in the host's root cgroup, a manager moves every process of the machine.)
//   - in a private mount namespace with a tmpfs on /run/systemd (with /run/systemd/system, so
//     sd_booted() holds inside) and cgroup2 mounted at /sys/fs/cgroup, so it runs in unified
//     mode inside its own subtree and never touches the host's v1 hierarchies.
//   - with a clean environment: XDG_RUNTIME_DIR, XDG_CONFIG_HOME and HOME in a private temporary
//     directory, and SYSTEMD_UNIT_PATH limited to the test's unit directories, the manager's
//     own config directory (where `enable` links go) and a minimal set of targets. No host
//     unit is loaded, so no tmpfiles, no dbus, no gpg-agent. It never empties /tmp.
//   - services' stdout and stderr go to the manager's log, through a drop-in for every service
//     (there is no journald inside); a failed test prints its last lines.
//
// The test talks to it over its private D-Bus socket ($XDG_RUNTIME_DIR/systemd/private) with
// systemd.ConnectPrivate. At cleanup the manager gets SIGTERM by PID (it stops its units and
// exits), anything left in its cgroup is killed by PID, and the cgroups are removed.
//
// Start skips the test (or fails it under HARDWAY_E2E=1) when this cannot work: not root, no
// systemd binary, or no cgroup v2 hierarchy.
package sandboxtest
