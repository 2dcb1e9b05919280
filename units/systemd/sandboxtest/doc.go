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
// A node sandbox (Options.NetNS, HostCgroupLayout, EmptyDirs, Sysctls) runs a kubelet and
// containerd, which need more than that:
//
//   - NetNS: the manager and every service run in a network namespace (`nsenter --net=` in
//     the startup script, see internal/e2e/netns for test networks), with /sys remounted there.
//   - HostCgroupLayout: instead of a cgroup2 tree over /sys/fs/cgroup, which hides the v1
//     controllers of a hybrid host, the sandbox gets a fresh child cgroup in every hierarchy
//     (each v1 controller and name=systemd under this process's own cgroup, cpuset with its
//     parent's cpus and mems, and cgroup2), moves itself into all of them, and only then makes
//     its cgroup namespace (`unshare --cgroup`) and mounts each hierarchy where the host has it,
//     so every view is rooted at the sandbox's cgroups and the manager runs in hybrid mode. The
//     startup script refuses to exec systemd unless every line of its /proc/self/cgroup is the
//     sandbox's cgroup, and StartWith checks the manager's again.
//   - EmptyDirs (NodeDirs) gives node paths fresh empty directories; Sysctls shadows
//     machine-wide sysctls with bound files (KubeletSysctls), so the kubelet neither changes
//     the machine's kernel.panic nor fails.
//   - Manager.Command runs a program in the sandbox's mount and network namespaces (ctr,
//     curl against the kubelet's healthz).
//
// The test talks to it over its private D-Bus socket ($XDG_RUNTIME_DIR/systemd/private) with
// systemd.ConnectPrivate. At cleanup the manager gets SIGTERM by PID (it stops its units and
// exits), anything left in its cgroups is killed by PID, and the cgroups are removed in every
// hierarchy.
//
// Start skips the test (or fails it under HARDWAY_E2E=1) when this cannot work: not root, no
// systemd binary, or no cgroup v2 hierarchy.
package sandboxtest
