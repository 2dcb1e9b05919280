package inspect

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
)

// containerdConfig is what inspect reads from containerd's config.toml: the settings the
// kubelet and the pods depend on, from a version 2 file (containerd 1.5 to 1.7, CRI plugin
// io.containerd.grpc.v1.cri) or a version 3 file (containerd 2.x, whose CRI settings are split
// into io.containerd.cri.v1.runtime and io.containerd.cri.v1.images). The file is decoded
// loosely, into maps: containerd has hundreds of settings and inspect reads only these.
// (units owns the file hardway renders; this reads any containerd's.)
type containerdConfig struct {
	path    string
	origin  Origin
	version int64 // 0 when the file sets none: containerd reads it as version 1
	// address is [grpc] address, the CRI socket the kubelet must name.
	address string
	// runtime is the CRI default runtime; systemdCgroup its options' SystemdCgroup.
	runtime       string
	systemdCgroup bool
	restrictOOM   bool
	sandboxImage  string
	cniBinDirs    []string
	cniConfDir    string
}

// The CRI plugin's tables by config version, and containerd's defaults for what hardway reads.
const (
	criV2            = "io.containerd.grpc.v1.cri"
	criV3Runtime     = "io.containerd.cri.v1.runtime"
	criV3Images      = "io.containerd.cri.v1.images"
	containerdSocket = "/run/containerd/containerd.sock"
	defaultCNIBinDir = "/opt/cni/bin"
	defaultCNIConf   = "/etc/cni/net.d"
)

// parseContainerdConfig decodes a config.toml.
func parseContainerdConfig(data []byte) (*containerdConfig, error) {
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, col := de.Position()
			return nil, fmt.Errorf("line %d column %d: %w", line, col, err)
		}
		return nil, err
	}
	cc := &containerdConfig{address: containerdSocket, runtime: "runc", cniBinDirs: []string{defaultCNIBinDir}, cniConfDir: defaultCNIConf}
	var probs []string
	get := func(m map[string]any, keys ...string) any {
		var v any = m
		for _, k := range keys {
			mm, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = mm[k]
		}
		return v
	}
	str := func(dst *string, v any, at string) {
		switch s := v.(type) {
		case nil:
		case string:
			*dst = s
		default:
			probs = append(probs, fmt.Sprintf("%s is %v, not a string", at, v))
		}
	}
	boolean := func(dst *bool, v any, at string) {
		switch b := v.(type) {
		case nil:
		case bool:
			*dst = b
		default:
			probs = append(probs, fmt.Sprintf("%s is %v, not true or false", at, v))
		}
	}
	switch v := doc["version"].(type) {
	case nil:
	case int64:
		cc.version = v
	default:
		return nil, fmt.Errorf("version = %v is not a number", v)
	}
	str(&cc.address, get(doc, "grpc", "address"), "[grpc] address")
	plugins, _ := doc["plugins"].(map[string]any)
	var rt, images map[string]any // the tables of the runtime and the image settings
	rtName, imgName := criV2, criV2
	switch cc.version {
	case 2:
		rt, _ = plugins[criV2].(map[string]any)
		images = rt
	case 3:
		rt, _ = plugins[criV3Runtime].(map[string]any)
		images, _ = plugins[criV3Images].(map[string]any)
		rtName, imgName = criV3Runtime, criV3Images
	default:
		return cc, nil // not interpreted; the caller reports the version
	}
	at := func(table string, keys ...string) string {
		return fmt.Sprintf("[plugins.'%s'] %s", table, strings.Join(keys, "."))
	}
	str(&cc.runtime, get(rt, "containerd", "default_runtime_name"), at(rtName, "containerd", "default_runtime_name"))
	boolean(&cc.systemdCgroup, get(rt, "containerd", "runtimes", cc.runtime, "options", "SystemdCgroup"), at(rtName, "containerd", "runtimes", cc.runtime, "options", "SystemdCgroup"))
	boolean(&cc.restrictOOM, get(rt, "restrict_oom_score_adj"), at(rtName, "restrict_oom_score_adj"))
	if cc.version == 2 {
		str(&cc.sandboxImage, get(images, "sandbox_image"), at(imgName, "sandbox_image"))
	} else {
		str(&cc.sandboxImage, get(images, "pinned_images", "sandbox"), at(imgName, "pinned_images", "sandbox"))
	}
	str(&cc.cniConfDir, get(rt, "cni", "conf_dir"), at(rtName, "cni", "conf_dir"))
	var bin string
	str(&bin, get(rt, "cni", "bin_dir"), at(rtName, "cni", "bin_dir"))
	if bin != "" {
		cc.cniBinDirs = []string{bin}
	}
	if dirs, ok := get(rt, "cni", "bin_dirs").([]any); ok { // containerd 2.1 and later
		cc.cniBinDirs = nil
		for _, d := range dirs {
			if s, ok := d.(string); ok {
				cc.cniBinDirs = append(cc.cniBinDirs, s)
			}
		}
	}
	if len(probs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(probs, "; "))
	}
	return cc, nil
}

// socketPath is a CRI endpoint as a path: unix:///run/x.sock and /run/x.sock are the same.
func socketPath(s string) string {
	return path.Clean(strings.TrimPrefix(s, "unix://"))
}

// checkContainerd reads containerd's config.toml (--config, else the default path containerd
// reads when it exists) and explains the settings the kubelet and the pods depend on.
func checkContainerd(c *checked) {
	if !c.is("containerd") || c.opt.FS == nil || c.args.Unresolved("config") {
		return
	}
	p, given := c.args.Value("config")
	if !given {
		p = c.comp.Flag("config").Default
	}
	o := c.originOf("config")
	data, err := readFile(c.opt.FS, fsPath(p))
	if err != nil {
		if isNotExist(err) {
			// Without the file containerd runs on its defaults; a missing --config is file-missing.
			return
		}
		c.add("containerd-config-unreadable", "config", o, "Fix the path or the file's permissions.", "%s: %v", p, pathCause(err))
		return
	}
	cc, err := parseContainerdConfig(data)
	if err != nil {
		c.add("containerd-config-unreadable", "config", o, "Fix the TOML: 'containerd --config "+p+" config dump' shows how containerd reads it.", "%s: %v; containerd exits at start", p, err)
		return
	}
	cc.path, cc.origin = p, Origin{File: p}
	if v, ok := c.args.Value("address"); ok && !c.args.Unresolved("address") {
		cc.address = v
	}
	c.containerd = cc
	target := c.opt.ContainerdTarget
	switch {
	case cc.version == 0 || cc.version == 1:
		c.add("containerd-config-version-old", "config", cc.origin, "Write version = 2 (containerd 1.x) or 3 (2.x) with the full plugin names; 'containerd config migrate' (2.x) converts a file.",
			"%s has no version = 2 or 3, so containerd reads it as version 1 (short plugin names such as [plugins.cri], deprecated since containerd 1.5); inspect does not interpret it", p)
		return
	case cc.version > 3:
		c.add("containerd-config-version-unsupported", "config", cc.origin, "Write version = 2 (containerd 1.x) or 3 (2.x).", "%s: version = %d is newer than any containerd hardway knows (2 for containerd 1.x, 3 for 2.x)", p, cc.version)
		return
	case cc.version == 3 && !target.IsZero() && target.Major() < 2:
		c.add("containerd-config-version-unsupported", "config", cc.origin, "Write a version = 2 file for containerd "+target.String()+", or target containerd 2.x (--containerd-target-version).",
			"%s: version = 3 is containerd 2.x's format; containerd %s refuses it and exits", p, target)
	case cc.version == 2 && !target.IsZero() && target.Major() >= 2:
		c.add("containerd-config-migrated", "config", cc.origin, "Run 'containerd config migrate' and install its version = 3 output.",
			"%s: version = 2 is containerd 1.x's format; containerd %s migrates it in memory at every start (and logs a deprecation)", p, target)
	}
	c.row(p, "version", strconv.FormatInt(cc.version, 10), map[int64]string{2: "containerd 1.x's format (CRI plugin io.containerd.grpc.v1.cri)", 3: "containerd 2.x's format (CRI split into io.containerd.cri.v1.runtime and .images)"}[cc.version])
	c.row(p, "grpc.address", cc.address, "the CRI socket; the kubelet's containerRuntimeEndpoint must name it")
	c.row(p, "default_runtime_name", cc.runtime, "the runtime (runc) every pod without a RuntimeClass runs with")
	driver := "cgroupfs: runc writes the pods' cgroups under /sys/fs/cgroup itself"
	if cc.systemdCgroup {
		driver = "systemd: runc asks systemd to create the pods' cgroups (as scopes and slices)"
	}
	c.row(p, "runtimes."+cc.runtime+".options.SystemdCgroup", strconv.FormatBool(cc.systemdCgroup), driver+"; must match the kubelet's cgroupDriver")
	c.row(p, "restrict_oom_score_adj", strconv.FormatBool(cc.restrictOOM), "true keeps every container's OOM score at or above containerd's own")
	img := cc.sandboxImage
	if img == "" {
		img = "(containerd's built-in default)"
	}
	c.row(p, "sandbox image", img, "the pause image holding each pod's namespaces; pinned, so image garbage collection keeps it")
	c.row(p, "cni.bin_dir", strings.Join(cc.cniBinDirs, ","), "where the CRI plugin finds the CNI plugin binaries (bridge, host-local, portmap, loopback)")
	c.row(p, "cni.conf_dir", cc.cniConfDir, "where it reads the pod network's configuration (the first file in name order)")
	if cc.restrictOOM {
		c.add("containerd-restrict-oom-score-adj", "config", cc.origin, "Keep it only on hosts without CAP_SYS_RESOURCE (containers, some sandboxes); elsewhere set it false (hardway: runtime.restrictOOMScoreAdj: false) so containerd.service also gets OOMScoreAdjust=-999.",
			"restrict_oom_score_adj = true: containerd never gives a container an OOM score below its own. It is for hosts that refuse to lower a score (no CAP_SYS_RESOURCE); the cost is that the kubelet's protection of critical and Guaranteed pods (scores down to -997) is lost, and the OOM killer treats them like any other process")
		if u := c.inv.Unit; u != nil {
			for _, opt := range u.Options {
				if opt.Section == "Service" && opt.Name == "OOMScoreAdjust" && strings.HasPrefix(strings.TrimSpace(opt.Value), "-") {
					c.add("containerd-oom-score-inconsistent", "", opt.Origin, "Delete OOMScoreAdjust= from the unit, or set restrict_oom_score_adj = false if the host may lower scores.",
						"%s sets OOMScoreAdjust=%s while config.toml says the host cannot lower OOM scores (restrict_oom_score_adj = true): on such a host systemd fails to start the unit", u.Name, opt.Value)
				}
			}
		}
	}
	checkCNI(c, cc)
}

// row adds a setting read from file to the invocation's settings table.
func (c *checked) row(file, setting, value, meaning string) {
	c.rows = append(c.rows, SettingRow{File: file, Setting: setting, Value: value, Meaning: meaning})
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// cniConf is the part of a CNI network configuration (a .conflist, or a single-plugin .conf)
// inspect explains: the network's name, its plugins, the bridge and the IPAM ranges.
type cniConf struct {
	CNIVersion string      `json:"cniVersion"`
	Name       string      `json:"name"`
	Type       string      `json:"type"` // a .conf: one plugin
	Plugins    []cniPlugin `json:"plugins"`
	cniPlugin
}

type cniPlugin struct {
	Type   string `json:"type"`
	Bridge string `json:"bridge"`
	IPAM   *struct {
		Type   string `json:"type"`
		Subnet string `json:"subnet"`
		Ranges [][]struct {
			Subnet string `json:"subnet"`
		} `json:"ranges"`
	} `json:"ipam"`
}

// checkCNI reads the CNI configuration the CRI plugin would load: the first .conf, .conflist or
// .json file in conf_dir, in name order (containerd's max_conf_num is 1).
func checkCNI(c *checked, cc *containerdConfig) {
	entries, err := fs.ReadDir(c.opt.FS, fsPath(cc.cniConfDir))
	var names []string
	for _, e := range entries {
		if ext := path.Ext(e.Name()); !e.IsDir() && (ext == ".conf" || ext == ".conflist" || ext == ".json") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	if err != nil || len(names) == 0 {
		c.add("cni-config-missing", "config", cc.origin, "Install a pod network: a CNI configuration in "+cc.cniConfDir+" (hardway renders 10-hardway-bridge.conflist) or a network add-on that writes one.",
			"%s holds no CNI configuration: the kubelet reports the node NotReady (\"cni plugin not initialized\") and pods get no network until one is written", cc.cniConfDir)
		return
	}
	p := path.Join(cc.cniConfDir, names[0])
	o := Origin{File: p}
	data, err := readFile(c.opt.FS, fsPath(p))
	var conf cniConf
	if err == nil {
		err = json.Unmarshal(data, &conf)
	}
	if err == nil && conf.Type == "" && len(conf.Plugins) == 0 {
		err = fmt.Errorf("neither \"plugins\" (a .conflist) nor \"type\" (a .conf)")
	}
	if err == nil && conf.Name == "" {
		err = fmt.Errorf("no \"name\"")
	}
	if err != nil {
		c.add("cni-config-unreadable", "", o, "Fix the file: it must be a CNI network configuration (JSON with cniVersion, name and plugins).",
			"%s: %v; the CRI plugin cannot set up pod networking", p, pathCause(err))
		return
	}
	plugins := conf.Plugins
	if len(plugins) == 0 {
		plugins = []cniPlugin{conf.cniPlugin}
	}
	var types, subnets []string
	bridge := ""
	for _, pl := range plugins {
		types = append(types, pl.Type)
		if pl.Bridge != "" {
			bridge = pl.Bridge
		}
		if pl.IPAM == nil {
			continue
		}
		if pl.IPAM.Subnet != "" {
			subnets = append(subnets, pl.IPAM.Subnet)
		}
		for _, set := range pl.IPAM.Ranges {
			for _, r := range set {
				subnets = append(subnets, r.Subnet)
			}
		}
	}
	row := func(k, v, m string) { c.row(p, k, v, m) }
	row("network", conf.Name, "the pod network the CRI plugin uses (cniVersion "+conf.CNIVersion+"), plugins "+strings.Join(types, ", "))
	if bridge != "" {
		row("bridge", bridge, "the Linux bridge the node's pods attach to")
	}
	if len(subnets) > 0 {
		row("ipam subnet", strings.Join(subnets, ","), "the addresses pods on this node get; must be the node's own pod range")
	}
}
