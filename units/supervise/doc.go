// Package supervise runs a node's rendered units as child processes, without systemd: the
// engine of `hardway up`.
//
// The pure half turns a node bundle into process specs (Plan): each unit's argv is byte for
// byte its unit file's ExecStart (so `hardway inspect` and the CIS checks apply to what runs),
// its start tier comes from the units' After lists (as `hardway launch` orders them), its
// health probe from the bundle's manifest. Mounts lists the node directories a private mount
// namespace binds from a node root kept in the cluster directory (DIR/root), where the bundle
// is installed and the components' state (etcd's data, the kubelet's and containerd's) persists
// from one run to the next.
//
// The side-effecting half:
//
//  1. Lock takes DIR's run lock and records the holder's PID; a second run is refused with it.
//  2. SetupNamespace, run by the supervisor as PID 1 of new PID and mount namespaces, makes
//     mounts private, mounts a /proc of the namespace, binds the node directories and the
//     programs at their node paths (overlaying, on a tmpfs, a parent the host lacks them in)
//     and shadows the machine-wide sysctls the kubelet writes, so this machine's are never
//     changed.
//  3. Supervisor.Run starts the processes tier by tier, waits for each tier's health (the
//     mTLS probes of units/systemd), calls Ready, then keeps them running: a process that
//     exits is restarted with backoff, one that keeps failing is reported with its last log
//     lines, and each process's output goes to LogDir/<name>.log, rotated by size. When the
//     context ends, it stops them in reverse order. As PID 1 it reaps every orphan (shims,
//     pods); when it exits, the kernel kills whatever is left in its PID namespace, so nothing
//     outlives it.
package supervise
