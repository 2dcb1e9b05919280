package sandboxtest

import (
	"reflect"
	"strings"
	"testing"
)

const hybridMountinfo = `24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
40 24 0:40 / /sys/fs/cgroup rw,relatime shared:13 - tmpfs tmpfs rw,mode=755
41 40 0:41 / /sys/fs/cgroup/cpu rw,relatime shared:14 - cgroup cgroup rw,cpu
42 40 0:42 / /sys/fs/cgroup/memory rw,relatime shared:15 - cgroup cgroup rw,memory
43 40 0:43 / /sys/fs/cgroup/cpuset rw,relatime shared:16 - cgroup cgroup rw,cpuset,clone_children
44 40 0:44 / /sys/fs/cgroup/systemd rw,relatime shared:17 - cgroup cgroup rw,xattr,name=systemd,release_agent=/x
45 40 0:45 / /sys/fs/cgroup/unified rw,relatime shared:18 - cgroup2 cgroup2 rw,nsdelegate
`

func TestParseHierarchies(t *testing.T) {
	self := "5:name=systemd:/\n4:cpuset:/\n3:memory:/process_api/abc\n1:cpu:/\n0::/\n"
	got, err := parseHierarchies([]byte(hybridMountinfo), []byte(self), "sb")
	if err != nil {
		t.Fatal(err)
	}
	want := []hierarchy{
		{key: "cpu", options: "cpu", mountpoint: "/sys/fs/cgroup/cpu", cgroup: "/sys/fs/cgroup/cpu/sb"},
		{key: "memory", options: "memory", mountpoint: "/sys/fs/cgroup/memory", cgroup: "/sys/fs/cgroup/memory/process_api/abc/sb"},
		{key: "cpuset", options: "cpuset", mountpoint: "/sys/fs/cgroup/cpuset", cgroup: "/sys/fs/cgroup/cpuset/sb"},
		{key: "name=systemd", options: "none,name=systemd", mountpoint: "/sys/fs/cgroup/systemd", cgroup: "/sys/fs/cgroup/systemd/sb"},
		{key: "", mountpoint: "/sys/fs/cgroup/unified", cgroup: "/sys/fs/cgroup/unified/sb"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}

	for _, c := range []struct {
		name, mountinfo, self, wantErr string
	}{
		{"a hierarchy we are in but not mounted", hybridMountinfo, self + "6:pids:/\n", "pids"},
		{"unified host", "30 24 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "0::/user.slice\n", "no cgroup v1 hierarchy"},
		{"mount rooted below our cgroup", strings.Replace(hybridMountinfo, "0:42 / ", "0:42 /other ", 1), self, "outside this process's cgroup"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := parseHierarchies([]byte(c.mountinfo), []byte(c.self), "sb"); err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("err = %v, want one that mentions %q", err, c.wantErr)
			}
		})
	}
}
