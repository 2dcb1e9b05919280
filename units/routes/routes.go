package routes

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
	"sigs.k8s.io/json"
	sigsyaml "sigs.k8s.io/yaml"
)

// APIVersion and Kind name the file's format.
const (
	APIVersion = "hardway.dev/v1"
	Kind       = "PodRoutes"
)

// Protocol is the routing protocol number (rtm_protocol) of the routes hardway installs, so
// they can be told from every other route. Numbers up to 4 are the kernel's and many above
// are registered to routing daemons (/etc/iproute2/rt_protos: bird 12, babel 42, bgp 186 ...);
// 178 is not among them.
const Protocol = netlink.RouteProtocol(178)

// File is a node's pod routes.
type File struct {
	APIVersion string  `json:"apiVersion"`
	Kind       string  `json:"kind"`
	Routes     []Route `json:"routes"`
}

// Route sends Destination (another node's pod range) via Via (that node's address).
type Route struct {
	// Node is the node that owns Destination, for the reader.
	Node        string `json:"node"`
	Destination string `json:"destination"`
	Via         string `json:"via"`
}

// Marshal renders routes as the file's YAML, with a header comment.
func Marshal(node string, routes []Route) ([]byte, error) {
	y, err := sigsyaml.Marshal(File{APIVersion: APIVersion, Kind: Kind, Routes: routes})
	if err != nil {
		return nil, err
	}
	head := "# Routes to the other nodes' pods for node " + node + ", rendered by hardway; pod-routes.service applies them.\n"
	return append([]byte(head), y...), nil
}

// Parse reads a pod-routes file strictly: unknown or duplicate fields, another format, and
// ranges or addresses that do not parse are errors that name the route.
func Parse(name string, data []byte) (*File, error) {
	j, err := sigsyaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var f File
	strict, err := json.UnmarshalStrict(j, &f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(strict) > 0 {
		return nil, fmt.Errorf("%s: %w", name, errors.Join(strict...))
	}
	if f.APIVersion != APIVersion || f.Kind != Kind {
		return nil, fmt.Errorf("%s: apiVersion %q kind %q: want %s %s (a file hardway rendered)", name, f.APIVersion, f.Kind, APIVersion, Kind)
	}
	for i, r := range f.Routes {
		if _, _, err := r.parse(); err != nil {
			return nil, fmt.Errorf("%s: routes[%d] (node %s): %w", name, i, r.Node, err)
		}
	}
	return &f, nil
}

func (r Route) parse() (netip.Prefix, netip.Addr, error) {
	dst, err := netip.ParsePrefix(r.Destination)
	if err != nil || dst.Masked() != dst || !dst.Addr().Is4() {
		return dst, netip.Addr{}, fmt.Errorf("destination %q is not an IPv4 range", r.Destination)
	}
	via, err := netip.ParseAddr(r.Via)
	if err != nil || !via.Is4() {
		return dst, via, fmt.Errorf("via %q is not an IPv4 address", r.Via)
	}
	return dst, via, nil
}

// Change is one route Sync or Remove added, replaced or deleted, for the log.
type Change struct {
	Action string // "add", "keep", "delete"
	Route  string // "10.244.1.0/24 via 10.0.0.12"
}

func (c Change) String() string { return c.Action + " " + c.Route }

// Sync makes hardway's routes in the main table exactly f's: routes it lists are added or
// replaced, hardway routes it does not list are deleted. Other routes are not touched.
func Sync(f *File) ([]Change, error) {
	have, err := list()
	if err != nil {
		return nil, err
	}
	var changes []Change
	want := map[string]bool{}
	for _, r := range f.Routes {
		dst, via, err := r.parse()
		if err != nil {
			return changes, err
		}
		nr := &netlink.Route{Dst: ipNet(dst), Gw: net.IP(via.AsSlice()), Protocol: Protocol, Table: unix.RT_TABLE_MAIN}
		desc := describe(nr)
		want[dst.String()] = true
		if slices.ContainsFunc(have, func(h netlink.Route) bool { return describe(&h) == desc }) {
			changes = append(changes, Change{"keep", desc})
			continue
		}
		if err := netlink.RouteReplace(nr); err != nil {
			return changes, fmt.Errorf("route %s (pods of node %s): %w; is %s reachable on a directly connected network?", desc, r.Node, err, r.Via)
		}
		changes = append(changes, Change{"add", desc})
	}
	for _, h := range have {
		if h.Dst != nil && !want[h.Dst.String()] {
			if err := netlink.RouteDel(&h); err != nil && !errors.Is(err, unix.ESRCH) {
				return changes, fmt.Errorf("delete route %s: %w", describe(&h), err)
			}
			changes = append(changes, Change{"delete", describe(&h)})
		}
	}
	return changes, nil
}

// Remove deletes every route hardway installed.
func Remove() ([]Change, error) {
	return Sync(&File{APIVersion: APIVersion, Kind: Kind})
}

// list returns hardway's routes in the main table.
func list() ([]netlink.Route, error) {
	rs, err := netlink.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Protocol: Protocol, Table: unix.RT_TABLE_MAIN},
		netlink.RT_FILTER_PROTOCOL|netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	return rs, nil
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func describe(r *netlink.Route) string {
	var b bytes.Buffer
	if r.Dst != nil {
		b.WriteString(r.Dst.String())
	}
	if r.Gw != nil {
		b.WriteString(" via " + r.Gw.String())
	}
	return strings.TrimSpace(b.String())
}
