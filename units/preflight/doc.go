// Package preflight checks a node before `hardway launch` installs or starts anything, as
// kubeadm's preflight does: the kernel settings a node running pods needs (IP forwarding, the
// br_netfilter bridge sysctl, no active swap while the kubelet has failSwapOn), every port a
// unit of the bundle will listen on free (unless the unit that owns it already runs, so a
// relaunch never fails on its own ports), and every unit's program present, executable and of
// a version its unit was rendered for under the Kubernetes version-skew policy.
//
// What is known about each program is data: Components has one row per unit (its program,
// how to read its --version, how far it may be from the version the bundle targets, where it
// listens, whether its node runs pods), so adding a component is adding a row. Ports are
// derived from the unit's own ExecStart flags and the config files the bundle carries, with
// the upstream defaults from the units/flags catalogue when a flag or field is not set, not
// from a second table of port numbers.
//
// The checks are pure functions of the bundle and an Env, the machine as they read it: kernel
// files, listening on an address, a program's mode and output, whether systemd runs a unit.
// Host is the real Env. Run collects every Finding; errors are returned together, each with
// its check's name, where (unit, file, port) and the fix, and Options.Ignore turns named errors
// (or "all") into warnings, as kubeadm's --ignore-preflight-errors does.
//
// Which root applies: sysctls, /proc/swaps and the sockets are the running kernel's (the
// network and mount namespaces launch runs in), never the bundle's --root. Programs are looked
// up where the systemd manager that starts the units finds them: "/" for the system manager,
// the manager's own root (/proc/PID/root) for a private one, which may run in a mount namespace
// of its own. Config files (the kubelet's failSwapOn, its ports) are read from the bundle,
// which is what launch is about to install.
package preflight
