package sandboxtest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// hierarchy is one of the host's cgroup hierarchies, as the sandbox keeps it (HostCgroupLayout).
type hierarchy struct {
	// key is the hierarchy's field in /proc/<pid>/cgroup: "cpu", "name=systemd", "" for cgroup2.
	key string
	// options for `mount -t cgroup -o`: "cpu", "none,name=systemd"; empty for cgroup2.
	options string
	// mountpoint on the host and in the sandbox: /sys/fs/cgroup/cpu, /sys/fs/cgroup/unified.
	mountpoint string
	// cgroup is the sandbox's own cgroup on the host, a child of the test process's cgroup in
	// this hierarchy: /sys/fs/cgroup/memory/process_api/<id>/hardway-sandbox-<pid>-<random>.
	cgroup string
}

// v1 reports whether h is a cgroup v1 hierarchy.
func (h hierarchy) v1() bool { return h.key != "" }

// hostHierarchies returns every cgroup hierarchy mounted under /sys/fs/cgroup, each with the
// path the sandbox's cgroup called name would have in it (not created yet). It fails when this
// process is in a hierarchy that is not mounted there: the sandbox could not leave that
// hierarchy's cgroup, which may be the host's root.
func hostHierarchies(name string) ([]hierarchy, error) {
	mountinfo, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	return parseHierarchies(mountinfo, self, name)
}

// parseHierarchies is hostHierarchies on the text of /proc/self/mountinfo and /proc/self/cgroup.
func parseHierarchies(mountinfo, self []byte, name string) ([]hierarchy, error) {
	current := map[string]string{} // /proc/self/cgroup: hierarchy key -> our cgroup path
	for line := range strings.Lines(string(self)) {
		f := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(f) != 3 {
			continue
		}
		current[f[1]] = f[2]
	}
	var out []hierarchy
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(mountinfo))
	for sc.Scan() {
		// 36 25 0:31 / /sys/fs/cgroup/cpu rw,relatime shared:12 - cgroup cgroup rw,cpu
		f := strings.Fields(sc.Text())
		sep := slices.Index(f, "-")
		if sep < 5 || len(f) < sep+4 {
			continue
		}
		root, mountpoint, fstype, super := f[3], f[4], f[sep+1], f[sep+3]
		if filepath.Dir(mountpoint) != "/sys/fs/cgroup" && mountpoint != "/sys/fs/cgroup" {
			continue
		}
		var h hierarchy
		switch fstype {
		case "cgroup2":
			h.key = ""
		case "cgroup":
			var ctrls []string
			for _, o := range strings.Split(super, ",") {
				switch {
				case o == "rw" || o == "ro" || o == "noprefix" || o == "xattr" || o == "clone_children" || o == "cpuset_v2_mode" ||
					o == "favordynmods" || strings.HasPrefix(o, "release_agent="):
				default:
					ctrls = append(ctrls, o)
				}
			}
			if len(ctrls) == 0 {
				continue
			}
			h.key = strings.Join(ctrls, ",")
			h.options = h.key
			if len(ctrls) == 1 && strings.HasPrefix(ctrls[0], "name=") {
				h.options = "none," + ctrls[0]
			}
		default:
			continue
		}
		cur, ok := current[h.key]
		if !ok || seen[h.key] {
			continue // a hierarchy we are not in (not mounted for us), or mounted twice
		}
		rel, ok := strings.CutPrefix(cur, strings.TrimSuffix(root, "/"))
		if !ok || (rel != "" && !strings.HasPrefix(rel, "/")) {
			return nil, fmt.Errorf("cgroup hierarchy at %s is rooted at %s, outside this process's cgroup %s", mountpoint, root, cur)
		}
		seen[h.key] = true
		h.mountpoint = mountpoint
		h.cgroup = filepath.Join(mountpoint, rel, name)
		out = append(out, h)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	var missing []string
	for key := range current {
		if !seen[key] {
			if key == "" {
				key = "cgroup2"
			}
			missing = append(missing, key)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("this process is in cgroup hierarchies %s that are not mounted under /sys/fs/cgroup; the sandbox could not leave their cgroups", strings.Join(missing, ", "))
	}
	if !slices.ContainsFunc(out, func(h hierarchy) bool { return h.v1() }) {
		return nil, errors.New("no cgroup v1 hierarchy under /sys/fs/cgroup: HostCgroupLayout keeps a v1 or hybrid layout, which this host does not have")
	}
	return out, nil
}

// createCgroups makes the sandbox's cgroup in every hierarchy; a cpuset child gets its
// parent's cpus and mems first (an empty cpuset takes no task). On failure it removes those it
// made.
func createCgroups(hs []hierarchy) error {
	for i, h := range hs {
		err := os.Mkdir(h.cgroup, 0o755)
		if err == nil && strings.Contains(","+h.key+",", ",cpuset,") {
			for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
				var b []byte
				if b, err = os.ReadFile(filepath.Join(filepath.Dir(h.cgroup), f)); err == nil {
					err = os.WriteFile(filepath.Join(h.cgroup, f), b, 0o644)
				}
				if err != nil {
					break
				}
			}
		}
		if err != nil {
			for _, made := range hs[:i+1] {
				_ = os.Remove(made.cgroup)
			}
			return fmt.Errorf("creating the sandbox's cgroup %s: %w", h.cgroup, err)
		}
	}
	return nil
}
