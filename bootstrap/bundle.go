package bootstrap

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/internal/parallel"
	"github.com/hardway-dev/hardway/pki"
	"github.com/hardway-dev/hardway/units"
)

// BundleDir is where node bundles live in the cluster directory: nodes/<node>/ mirrors the
// node's filesystem, nodes/<node>/manifest.json lists it, nodes/<node>.tar.gz packs both.
const BundleDir = "nodes"

// sources maps a node path to the cluster-directory file it is a copy of. It is the whole
// contract between the PKI layout (cluster directory) and the node layout (units.paths).
func sources(node string) map[string]string {
	return map[string]string{
		units.CACert:              "pki/ca.crt",
		units.CAKey:               "pki/ca.key",
		units.APIServerCert:       "pki/apiserver.crt",
		units.APIServerKey:        "pki/apiserver.key",
		units.KubeletClientCert:   "pki/apiserver-kubelet-client.crt",
		units.KubeletClientKey:    "pki/apiserver-kubelet-client.key",
		units.EtcdClientCert:      "pki/apiserver-etcd-client.crt",
		units.EtcdClientKey:       "pki/apiserver-etcd-client.key",
		units.FrontProxyCACert:    "pki/front-proxy-ca.crt",
		units.FrontProxyCert:      "pki/front-proxy-client.crt",
		units.FrontProxyKey:       "pki/front-proxy-client.key",
		units.ServiceAccountKey:   "pki/sa.key",
		units.ServiceAccountPub:   "pki/sa.pub",
		units.EtcdCACert:          "pki/etcd/ca.crt",
		units.EtcdServerCert:      "pki/etcd/server-" + node + ".crt",
		units.EtcdServerKey:       "pki/etcd/server-" + node + ".key",
		units.EtcdPeerCert:        "pki/etcd/peer-" + node + ".crt",
		units.EtcdPeerKey:         "pki/etcd/peer-" + node + ".key",
		units.EtcdHealthcheckCert: "pki/etcd/healthcheck-client.crt",
		units.EtcdHealthcheckKey:  "pki/etcd/healthcheck-client.key",
		units.EncryptionConfig:    pki.EncryptionConfigPath,

		units.ControllerManagerKubeconfig: "kubeconfigs/controller-manager.kubeconfig",
		units.SchedulerKubeconfig:         "kubeconfigs/scheduler.kubeconfig",
		units.KubeletKubeconfig:           "kubeconfigs/kubelet-" + node + ".kubeconfig",
		units.KubeProxyKubeconfig:         "kubeconfigs/kube-proxy.kubeconfig",
		units.SuperAdminKubeconfig:        "kubeconfigs/super-admin.kubeconfig",
		units.KubeletServingCert:          "pki/kubelet/server-" + node + ".crt",
		units.KubeletServingKey:           "pki/kubelet/server-" + node + ".key",
	}
}

// Manifest is nodes/<node>/manifest.json: what the bundle holds and how to run it.
type Manifest struct {
	Node  string         `json:"node"`
	Files []ManifestFile `json:"files"`
	Units []ManifestUnit `json:"units"`
}

// ManifestFile is one file of a bundle, by its path on the node.
type ManifestFile struct {
	Path   string `json:"path"`
	Mode   string `json:"mode"` // octal, "0600"
	SHA256 string `json:"sha256"`
}

// ManifestUnit is one unit: the node paths whose change restarts it, the units it starts after,
// and how to tell it is healthy.
type ManifestUnit struct {
	Name   string        `json:"name"`
	Inputs []string      `json:"inputs"`
	After  []string      `json:"after,omitempty"`
	Health *units.Health `json:"health,omitempty"`
}

// bundleFile is a file on the node and its bytes.
type bundleFile struct {
	path string
	data []byte
	mode fs.FileMode
}

// nodeBundle is one node's rendered bundle, before it joins the plan.
type nodeBundle struct {
	files    []bundleFile
	manifest []byte
	tgz      []byte
}

// addBundles renders every node's units and packs its bundle: the rendered files plus exactly
// the credentials its units read (their inputs and health probes), no more. read returns the
// final content of a cluster-directory file (what the plan will write, else what is on disk).
// Nodes are rendered in parallel and join the plan in file order.
func (p *Plan) addBundles(fsys fs.FS, c *configs.Cluster, read func(string) ([]byte, error)) error {
	bundles := make([]nodeBundle, len(c.Nodes))
	errs := make([]error, len(c.Nodes))
	parallel.Do(len(c.Nodes), runtime.GOMAXPROCS(0), func(i int) {
		bundles[i], errs[i] = renderBundle(c, c.Nodes[i], read)
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for i, node := range c.Nodes {
		p.addBundle(fsys, node.Name, bundles[i])
	}
	return nil
}

// renderBundle renders one node's bundle.
func renderBundle(c *configs.Cluster, node configs.Node, read func(string) ([]byte, error)) (nodeBundle, error) {
	r, err := units.RenderNode(c, node, units.OptionsFor(c))
	if err != nil {
		return nodeBundle{}, err
	}
	files := map[string]bundleFile{}
	for _, f := range r.Files {
		files[f.Path] = bundleFile{f.Path, f.Data, f.Mode}
	}
	src := sources(node.Name)
	need := func(nodePath string) error {
		rel, ok := src[nodePath]
		if !ok {
			return nil // a program, a log, a rendered file
		}
		if _, done := files[nodePath]; done {
			return nil
		}
		data, err := read(rel)
		if err != nil {
			return fmt.Errorf("bundle for %s: %s (for %s): %w", node.Name, rel, nodePath, err)
		}
		mode := pki.ModePublic
		if strings.HasSuffix(rel, ".key") || strings.HasSuffix(rel, ".kubeconfig") || rel == pki.EncryptionConfigPath {
			mode = pki.ModeSecret
		}
		files[nodePath] = bundleFile{nodePath, data, mode}
		return nil
	}
	m := Manifest{Node: node.Name}
	for _, u := range r.Units {
		for _, in := range u.Inputs {
			if err := need(in); err != nil {
				return nodeBundle{}, err
			}
		}
		if h := u.Health; h != nil {
			for _, in := range []string{h.CA, h.Cert, h.Key} {
				if err := need(in); err != nil {
					return nodeBundle{}, err
				}
			}
		}
		m.Units = append(m.Units, ManifestUnit{Name: u.Name, Inputs: u.Inputs, After: u.After, Health: u.Health})
	}
	// launch applies the bootstrap RBAC from the first control-plane node, with the
	// break-glass credentials; no other node carries them.
	if cps := c.NodesWith(configs.RoleControlPlane); len(cps) > 0 && cps[0].Name == node.Name {
		if err := need(units.SuperAdminKubeconfig); err != nil {
			return nodeBundle{}, err
		}
	}
	b := nodeBundle{files: make([]bundleFile, 0, len(files))}
	for _, f := range files {
		b.files = append(b.files, f)
	}
	slices.SortFunc(b.files, func(x, y bundleFile) int { return strings.Compare(x.path, y.path) })
	for _, f := range b.files {
		sum := sha256.Sum256(f.data)
		m.Files = append(m.Files, ManifestFile{Path: f.path, Mode: fmt.Sprintf("%04o", f.mode.Perm()), SHA256: hex.EncodeToString(sum[:])})
	}
	if b.manifest, err = json.MarshalIndent(m, "", "  "); err != nil {
		return nodeBundle{}, err
	}
	b.manifest = append(b.manifest, '\n')
	if b.tgz, err = packBundle(b.files, b.manifest); err != nil {
		return nodeBundle{}, fmt.Errorf("bundle for %s: %w", node.Name, err)
	}
	return b, nil
}

func (p *Plan) addBundle(fsys fs.FS, node string, b nodeBundle) {
	base := path.Join(BundleDir, node)
	reason := "bundle for " + node
	for _, f := range b.files {
		p.addIfChanged(fsys, pki.Change{Path: base + f.path, Data: f.data, Mode: f.mode, Reason: reason, ID: "bundle/" + node})
	}
	p.addIfChanged(fsys, pki.Change{Path: base + "/manifest.json", Data: b.manifest, Mode: pki.ModePublic, Reason: reason, ID: "bundle/" + node})
	p.addIfChanged(fsys, pki.Change{Path: base + ".tar.gz", Data: b.tgz, Mode: pki.ModeSecret, Reason: reason, ID: "bundle/" + node})
}

// tarTime is every entry's modification time: fixed, so the same files give the same archive
// and a re-run writes nothing.
var tarTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// gzipWriters are reused: a compressor holds about a megabyte of state, and a large cluster
// packs a thousand archives.
var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return w
}}

// packBundle makes the node's archive: paths relative to /, modes kept, owned by root, with
// manifest.json at the top. Unpack it on the node with `tar -xzpf <node>.tar.gz -C /`, or let
// hardway launch install it.
func packBundle(files []bundleFile, manifest []byte) ([]byte, error) {
	var buf bytes.Buffer
	gz := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(gz)
	gz.Reset(&buf)
	tw := tar.NewWriter(gz)
	dirs := map[string]bool{}
	var addDirs func(d string) error
	addDirs = func(d string) error {
		if d == "/" || d == "." || dirs[d] {
			return nil
		}
		if err := addDirs(path.Dir(d)); err != nil {
			return err
		}
		dirs[d] = true
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(d, "/") + "/", Mode: 0o755, ModTime: tarTime, Uname: "root", Gname: "root"})
	}
	write := func(name string, data []byte, mode fs.FileMode) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: int64(mode.Perm()), Size: int64(len(data)), ModTime: tarTime, Uname: "root", Gname: "root"}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := write("manifest.json", manifest, pki.ModePublic); err != nil {
		return nil, err
	}
	for _, f := range files {
		if err := addDirs(path.Dir(f.path)); err != nil {
			return nil, err
		}
		if err := write(strings.TrimPrefix(f.path, "/"), f.data, f.mode); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
