package main

import (
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/hardway-dev/hardway/configs"
)

func init() { register(newConfigCmd) }

func newConfigCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Work with the cluster file",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "print-defaults",
		Short: "Print a complete cluster file: every setting with its default and what it means",
		Long: `print-defaults prints a cluster file with every setting hardway reads, each with a comment
saying what it is, set to its default. Settings without a default (the API endpoint's host,
extra SANs, per-component choices) are shown commented out with an example. The one node is an
example to replace. The output is a valid cluster file: 'hardway init --config' reads it as is.`,
		Example: "  hardway config print-defaults > cluster.yaml",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return writeDefaultClusterFile(g.stdout)
		},
	})
	return cmd
}

// clusterFileDoc is one setting of the cluster file in print-defaults: key is its dotted path
// (a list's items are "nodes.name"), doc what it means; example is the value shown, commented
// out, when the setting has no default.
type clusterFileDoc struct{ key, doc, example string }

// clusterFileDocs documents every field of configs.Cluster; a test checks that the two agree.
var clusterFileDocs = []clusterFileDoc{
	{"name", "The cluster's name, in kubeconfigs.", ""},
	{"kubernetesVersion", "The Kubernetes minor version the units target. Quote it: 1.30 unquoted is the number 1.3.", ""},
	{"etcdVersion", "The etcd minor version the units target.", ""},
	{"dnsDomain", "The cluster DNS domain.", ""},
	{"serviceCIDR", "The range of Service cluster IPs; its first address is the \"kubernetes\" Service, in the apiserver certificate.", ""},
	{"podCIDR", "The range pods get their addresses from; each node that runs pods gets a part of it (nodePodCIDRSize).", ""},
	{"apiEndpoint", "Where clients outside the control plane reach the API server: a load balancer, or the one control-plane node.", ""},
	{"apiEndpoint.host", "Its address or DNS name. Default: the first control-plane node's first address.", "k8s-api.example.internal"},
	{"apiEndpoint.port", "Its port.", ""},
	{"apiServerExtraSANs", "More names and addresses for the apiserver certificate.", "[k8s.example.com, 10.0.0.100]"},
	{"keyAlgorithm", "The algorithm of every key hardway generates: " + strings.Join(configs.KeyAlgorithms, ", ") + ".", ""},
	{"validity", "How long certificates are valid (3650d, 1d12h, 720h).", ""},
	{"validity.ca", "The CAs'.", ""},
	{"validity.leaf", "Every other certificate's.", ""},
	{"validity.renewBefore", "How long before expiry verify and check-expiration warn.", ""},
	{"encryption", "Encryption of secrets at rest.", ""},
	{"encryption.provider", "The provider: " + strings.Join(configs.EncryptionProviders, ", ") + ".", ""},
	{"implementations", "Per component, the upstream binary (upstream) or hardway's own with the same flags (hardway: etcd only).", "{etcd: hardway}"},
	{"nodePodCIDRSize", "The prefix length of each node's pod range, carved out of podCIDR.", ""},
	{"versions", "Per component, a minor version other than kubernetesVersion, within the version-skew policy.", "{kubelet: \"1.36\"}"},
	{"runtime", "The container runtime and host settings of the nodes.", ""},
	{"runtime.sandboxImage", "The pod sandbox (pause) image, containerd's sandbox_image.", ""},
	{"runtime.cgroupDriver", "The kubelet's and containerd's cgroup driver: systemd (systemd is PID 1), or cgroupfs (it is not, as in a container).", ""},
	{"runtime.allowCgroupV1", "Let the kubelet start on a host whose controllers are cgroup v1 (deprecated by Kubernetes).", ""},
	{"runtime.restrictOOMScoreAdj", "For hosts without CAP_SYS_RESOURCE (containers): containerd never lowers an OOM score below its own.", ""},
	{"binaries", "Where the nodes' runtime programs are; the defaults are Debian's packages' paths.", "{" + defaultBinariesFlow() + "}"},
	{"dns", "The cluster DNS addon (CoreDNS).", ""},
	{"dns.image", "Its image.", ""},
	{"dns.replicas", "How many CoreDNS pods run.", ""},
	{"extraArgs", "More flags per component, checked against the flag catalogue; overriding a hardened one warns.", "{kube-apiserver: {oidc-issuer-url: https://issuer.example.com}}"},
	{"extraFiles", "Files those flags read, installed under /etc/kubernetes/extra/<component>/.", ""},
	{"extraFiles.component", "the component that reads it", "kube-apiserver"},
	{"extraFiles.path", "its node path, directly under /etc/kubernetes/extra/<component>/", "/etc/kubernetes/extra/kube-apiserver/oidc-ca.crt"},
	{"extraFiles.source", "its content: a file under the cluster directory's extra/ folder", "oidc-ca.crt"},
	{"extraFiles.content", "or the content inline, instead of source", "\"\""},
	{"extraFiles.mode", "0600, the default and only mode", "\"0600\""},
	{"featureGates", "Feature gates for every Kubernetes component.", "{InPlacePodVerticalScaling: true}"},
	{"componentFeatureGates", "Feature gates per component, over featureGates.", "{kubelet: {InPlacePodVerticalScaling: false}}"},
	{"nodes", "The machines of the cluster. This one is an example: replace it.", ""},
	{"nodes.name", "The node's name: its kubelet's, its certificates' and its bundle's.", ""},
	{"nodes.addresses", "Its addresses; the first is the one its services advertise.", ""},
	{"nodes.hostnames", "More DNS names for its serving certificates.", "[node1.example.internal]"},
	{"nodes.roles", "What it runs: " + strings.Join([]string{configs.RoleControlPlane, configs.RoleEtcd, configs.RoleWorker}, ", ") + ".", ""},
	{"nodes.podCIDR", "Its own pod range. Default: the next free range of nodePodCIDRSize in podCIDR, for nodes that run pods (worker).", "10.244.7.0/24"},
	{"nodes.labels", "Labels the kubelet registers its Node with (worker nodes; not node-restriction.kubernetes.io/).", "{disk: ssd}"},
	{"nodes.taints", "Taints the kubelet registers its Node with (worker nodes).", ""},
	{"nodes.taints.key", "the taint's key", "dedicated"},
	{"nodes.taints.value", "its value", "gpu"},
	{"nodes.taints.effect", "NoSchedule, PreferNoSchedule or NoExecute", "NoSchedule"},
}

func defaultBinariesFlow() string {
	var parts []string
	for _, k := range []string{configs.BinaryContainerd, configs.BinaryRunc, configs.BinaryCNIDir} {
		parts = append(parts, k+": "+configs.DefaultBinaries[k])
	}
	return strings.Join(parts, ", ")
}

// exampleNode is print-defaults' node.
var exampleNode = configs.Node{Name: "node1", Addresses: []string{"192.168.1.10"}, Roles: []string{configs.RoleControlPlane, configs.RoleEtcd, configs.RoleWorker}}

// defaultCluster is what print-defaults prints: the example node, every default set, and
// nothing derived from the node (the endpoint's host, its pod range), which stays commented out.
func defaultCluster() configs.Cluster {
	var c configs.Cluster
	c.SetDefaults()
	n := exampleNode
	n.Addresses = append([]string(nil), n.Addresses...)
	n.Roles = append([]string(nil), n.Roles...)
	c.Nodes = []configs.Node{n}
	return c
}

// writeDefaultClusterFile writes the commented cluster file of print-defaults.
func writeDefaultClusterFile(w io.Writer) error {
	docs := map[string]clusterFileDoc{}
	for _, d := range clusterFileDocs {
		docs[d.key] = d
	}
	c := defaultCluster()
	var b strings.Builder
	b.WriteString("# A hardway cluster file: every setting, set to its default ('hardway config print-defaults').\n")
	b.WriteString("# Settings without a default are commented out, with an example.\n")
	if err := writeFields(&b, reflect.ValueOf(c), "", "", docs); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeFields writes the fields of the struct v at the dotted path prefix, indented.
func writeFields(b *strings.Builder, v reflect.Value, prefix, indent string, docs map[string]clusterFileDoc) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("mapstructure")
		if tag == "" || tag == "-" {
			continue
		}
		key := prefix + tag
		d, ok := docs[key]
		if !ok {
			return fmt.Errorf("print-defaults: no documentation for %s", key)
		}
		f := v.Field(i)
		if prefix == "" {
			b.WriteString("\n")
		}
		for _, line := range wrap(d.doc, 96-len(indent)) {
			fmt.Fprintf(b, "%s# %s\n", indent, line)
		}
		switch {
		case f.Kind() == reflect.Struct && f.Type().Field(0).Tag.Get("mapstructure") != "":
			fmt.Fprintf(b, "%s%s:\n", indent, tag)
			if err := writeFields(b, f, key+".", indent+"  ", docs); err != nil {
				return err
			}
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct && f.Len() == 0:
			// No default: a commented example item, from its fields' examples.
			fmt.Fprintf(b, "%s# %s:\n", indent, tag)
			et := f.Type().Elem()
			for j := 0; j < et.NumField(); j++ {
				sub := et.Field(j).Tag.Get("mapstructure")
				sd, ok := docs[key+"."+sub]
				if !ok || sd.example == "" {
					return fmt.Errorf("print-defaults: %s.%s has no example", key, sub)
				}
				lead := "    "
				if j == 0 {
					lead = "  - "
				}
				fmt.Fprintf(b, "%s#%s%s: %s   # %s\n", indent, lead, sub, sd.example, sd.doc)
			}
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct:
			fmt.Fprintf(b, "%s%s:\n", indent, tag)
			for j := 0; j < f.Len(); j++ {
				var item strings.Builder
				if err := writeFields(&item, f.Index(j), key+".", "", docs); err != nil {
					return err
				}
				for k, line := range strings.Split(strings.TrimSuffix(item.String(), "\n"), "\n") {
					lead := "    "
					if k == 0 {
						lead = "  - "
					}
					fmt.Fprintf(b, "%s%s%s\n", indent, lead, line)
				}
			}
		case f.IsZero() && f.Kind() != reflect.Bool:
			if d.example == "" {
				return fmt.Errorf("print-defaults: %s has no default and no example", key)
			}
			fmt.Fprintf(b, "%s# %s: %s\n", indent, tag, d.example)
		default:
			val, err := yamlFlow(f.Interface())
			if err != nil {
				return fmt.Errorf("print-defaults: %s: %w", key, err)
			}
			fmt.Fprintf(b, "%s%s: %s\n", indent, tag, val)
		}
	}
	return nil
}

// yamlFlow is v as one line of YAML: a scalar quoted when YAML would read it otherwise, a list
// in flow style.
func yamlFlow(v any) (string, error) {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return "", err
	}
	if n.Kind == yaml.SequenceNode || n.Kind == yaml.MappingNode {
		n.Style = yaml.FlowStyle
	}
	out, err := yaml.Marshal(&n)
	return strings.TrimSuffix(string(out), "\n"), err
}

// wrap splits s into lines of at most width bytes at spaces.
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	return append(lines, line)
}
