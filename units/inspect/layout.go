package inspect

import (
	"path"
	"strings"
)

// BundleRoot reports whether p (a path as given to inspect) lies inside a node bundle that
// `hardway init` wrote, nodes/<node>/<node path>, and returns the bundle's directory: the
// --root under which the files its units name are found.
func BundleRoot(p string) (string, bool) {
	clean := path.Clean(p)
	parts := strings.Split(clean, "/")
	for i := len(parts) - 3; i >= 0; i-- {
		if parts[i] == "nodes" && parts[i+1] != "" && i+2 < len(parts) && (parts[i+2] == "etc" || parts[i+2] == "var") {
			root := strings.Join(parts[:i+2], "/")
			if root == "" {
				root = "/"
			}
			return root, true
		}
	}
	return "", false
}

// NodeInputDirs are the directories below a node's root that hold the command lines inspect
// reads when given only --root: systemd units and static-pod manifests.
var NodeInputDirs = []string{"etc/systemd/system", "etc/kubernetes/manifests"}

// ShortPath shortens a path for a table: at most n characters, keeping its last elements
// (the full path is in the JSON and YAML output).
func ShortPath(p string, n int) string {
	if len(p) <= n {
		return p
	}
	parts := strings.Split(p, "/")
	out := parts[len(parts)-1]
	for i := len(parts) - 2; i >= 0; i-- {
		next := parts[i] + "/" + out
		if len(next)+4 > n {
			break
		}
		out = next
	}
	return ".../" + out
}
