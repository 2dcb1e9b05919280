package systemd

import (
	"fmt"
	"net"
	"strconv"
	"syscall"
)

// ManagerRoot is the root directory of the systemd manager listening on a private socket, as
// /proc/PID/root: the file system its units' programs are found in, which may be a mount
// namespace of its own (a sandboxed manager). The PID is the socket peer's (SO_PEERCRED).
func ManagerRoot(socket string) (string, error) {
	c, err := net.Dial("unix", socket)
	if err != nil {
		return "", fmt.Errorf("systemd manager at %s: %w", socket, err)
	}
	defer c.Close()
	raw, err := c.(*net.UnixConn).SyscallConn()
	if err != nil {
		return "", err
	}
	var cred *syscall.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return "", err
	}
	if cerr != nil {
		return "", fmt.Errorf("systemd manager at %s: its process: %w", socket, cerr)
	}
	return "/proc/" + strconv.Itoa(int(cred.Pid)) + "/root", nil
}
