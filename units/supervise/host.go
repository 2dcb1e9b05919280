package supervise

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/hardway-dev/hardway/configs"
)

// Host is what `hardway up` needs to know about the machine to choose the node half's
// settings.
type Host struct {
	// CgroupV2: /sys/fs/cgroup is a cgroup2 file system (unified); otherwise the controllers
	// are cgroup v1 (legacy or hybrid).
	CgroupV2 bool
	// SystemdInit: PID 1 is systemd, which then owns the cgroup tree.
	SystemdInit bool
	// SysResource: the process has CAP_SYS_RESOURCE (a container usually lacks it), needed to
	// lower OOM scores below its own.
	SysResource bool
}

// capSysResource is CAP_SYS_RESOURCE's bit in /proc/<pid>/status CapEff.
const capSysResource = 24

// DetectHost reads the machine: the file system at /sys/fs/cgroup, /proc/1/comm, and this
// process's effective capabilities.
func DetectHost() (Host, error) {
	var h Host
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
		return h, fmt.Errorf("/sys/fs/cgroup: %w; mount the cgroup file systems", err)
	}
	h.CgroupV2 = st.Type == unix.CGROUP2_SUPER_MAGIC
	if comm, err := os.ReadFile("/proc/1/comm"); err == nil {
		h.SystemdInit = strings.TrimSpace(string(comm)) == "systemd"
	}
	capEff, err := statusField("/proc/self/status", "CapEff")
	if err != nil {
		return h, err
	}
	caps, err := strconv.ParseUint(capEff, 16, 64)
	if err != nil {
		return h, fmt.Errorf("/proc/self/status: CapEff %q: %w", capEff, err)
	}
	h.SysResource = caps&(1<<capSysResource) != 0
	return h, nil
}

func statusField(file, key string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && k == key {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("%s: no %s", file, key)
}

// Runtime returns the node half's host settings for h, keeping r's sandbox image, and one line
// per choice saying why.
func (h Host) Runtime(r configs.Runtime) (configs.Runtime, []string) {
	var why []string
	if h.SystemdInit {
		r.CgroupDriver = configs.CgroupDriverSystemd
		why = append(why, "PID 1 is systemd: cgroupDriver systemd")
	} else {
		r.CgroupDriver = configs.CgroupDriverCgroupfs
		why = append(why, "PID 1 is not systemd: cgroupDriver cgroupfs")
	}
	if h.CgroupV2 {
		r.AllowCgroupV1 = false
		why = append(why, "cgroup v2: the kubelet's default")
	} else {
		r.AllowCgroupV1 = true
		why = append(why, "cgroup v1 controllers: allowCgroupV1 (Kubernetes has deprecated cgroup v1)")
	}
	if h.SysResource {
		r.RestrictOOMScoreAdj = false
		why = append(why, "CAP_SYS_RESOURCE held: containerd may lower OOM scores")
	} else {
		r.RestrictOOMScoreAdj = true
		why = append(why, "no CAP_SYS_RESOURCE: restrictOOMScoreAdj (critical pods lose their OOM protection)")
	}
	return r, why
}

// DefaultRouteAddress returns the first IPv4 address of the interface that holds the default
// route (/proc/net/route of this network namespace).
func DefaultRouteAddress() (netip.Addr, error) {
	f, err := os.Open("/proc/net/route")
	if err != nil {
		return netip.Addr{}, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	iface := ""
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 2 && fields[1] == "00000000" && fields[0] != "Iface" {
			iface = fields[0]
			break
		}
	}
	if iface == "" {
		return netip.Addr{}, errors.New("this machine has no IPv4 default route; give the node's address with --node-ip")
	}
	ifc, err := net.InterfaceByName(iface)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("interface %s of the default route: %w", iface, err)
	}
	addrs, err := ifc.Addrs()
	if err != nil {
		return netip.Addr{}, fmt.Errorf("interface %s of the default route: %w", iface, err)
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Is4() {
			return p.Addr(), nil
		}
	}
	return netip.Addr{}, fmt.Errorf("interface %s of the default route has no IPv4 address; give the node's address with --node-ip", iface)
}
