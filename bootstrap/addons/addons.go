package addons

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/hardway-dev/hardway/bootstrap/retry"
)

// FieldManager is the server-side apply field manager of every object hardway applies.
const FieldManager = "hardway"

// Manifest is one manifest file: its node path (for messages) and its YAML or JSON documents.
type Manifest struct {
	Path string
	Data []byte
}

// Object is one object of a manifest.
type Object struct {
	Manifest string
	*unstructured.Unstructured
}

// String is "kind namespace/name" ("kind name" for a cluster-scoped object), kind in lower case.
func (o Object) String() string {
	name := o.GetName()
	if ns := o.GetNamespace(); ns != "" {
		name = ns + "/" + name
	}
	return strings.ToLower(o.GetKind()) + " " + name
}

// Objects decodes every document of the manifests, in order; empty documents are skipped. An
// object needs apiVersion, kind and metadata.name.
func Objects(manifests ...Manifest) ([]Object, error) {
	var objs []Object
	for _, m := range manifests {
		d := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(m.Data), 4096)
		for n := 1; ; n++ {
			var u unstructured.Unstructured
			if err := d.Decode(&u.Object); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return nil, fmt.Errorf("%s: document %d: %w", m.Path, n, err)
			}
			if len(u.Object) == 0 {
				continue
			}
			if u.GetAPIVersion() == "" || u.GetKind() == "" || u.GetName() == "" {
				return nil, fmt.Errorf("%s: document %d: an object needs apiVersion, kind and metadata.name (got %q, %q, %q)", m.Path, n, u.GetAPIVersion(), u.GetKind(), u.GetName())
			}
			objs = append(objs, Object{Manifest: m.Path, Unstructured: &u})
		}
	}
	return objs, nil
}

// Action is what Apply did to one object.
type Action string

const (
	Created    Action = "created"
	Configured Action = "configured"
	Unchanged  Action = "unchanged"
)

// Result is what Apply did to one object.
type Result struct {
	Object string // Object.String()
	Action Action
}

// Report is the outcome of Apply, one result per object applied, in order.
type Report struct {
	Results []Result
}

// Describe writes one line per object: "addon: deployment kube-system/coredns created".
func (r *Report) Describe(w io.Writer) {
	for _, res := range r.Results {
		fmt.Fprintf(w, "addon: %s %s\n", res.Object, res.Action)
	}
}

// Client applies objects to one API server with one identity.
type Client struct {
	Dynamic dynamic.Interface
	// Mapper finds each kind's resource and scope; it is reset once when a kind is not found
	// (a CustomResourceDefinition applied just before its first object).
	Mapper meta.ResettableRESTMapper
	// Retry is how Apply repeats itself after a failure that may pass; the zero value tries once.
	Retry retry.Policy
	// Log hears of each retry; nil discards.
	Log *slog.Logger
}

// DefaultRetry is NewClient's policy, made for launch, which applies the add-ons as soon as the
// API server's /readyz answers: every 2 seconds for up to a minute, while the server resets
// connections or answers 5xx or 429; any other answer, or a kind the server does not serve, is
// final.
var DefaultRetry = retry.Policy{Attempts: 30, Backoff: 2 * time.Second, Factor: 1, Timeout: time.Minute, Transient: retry.APIServer}

// NewClient returns a client for the kubeconfig's current context, retrying as DefaultRetry
// says. A non-empty server replaces the kubeconfig's (launch talks to the API server it has just
// started); the server's certificate is still verified against the kubeconfig's CA.
func NewClient(kubeconfig []byte, server string) (*Client, error) {
	cfg, err := RESTConfig(kubeconfig, server)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))
	return &Client{Dynamic: dyn, Mapper: mapper, Retry: DefaultRetry}, nil
}

// RESTConfig is client-go's configuration for the kubeconfig's current context, talking to
// server when it is not empty.
func RESTConfig(kubeconfig []byte, server string) (*rest.Config, error) {
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("reading the kubeconfig: %w", err)
	}
	if server != "" {
		cfg.Host = server
	}
	cfg.UserAgent = FieldManager
	cfg.Timeout = 30 * time.Second
	return cfg, nil
}

// Apply applies every object of the manifests, in order, and reports what it did to each. A
// try stops at its first error; the report holds what the tries did until then, each object
// with what was done to it first ("created" by one try, not the "unchanged" a later try finds).
// An error names the manifest and the object.
func (c *Client) Apply(ctx context.Context, manifests ...Manifest) (*Report, error) {
	objs, err := Objects(manifests...)
	if err != nil {
		return &Report{}, err
	}
	done := map[string]Action{}
	err = c.Retry.Do(ctx, c.Log, "add-ons", func(ctx context.Context) error {
		for _, o := range objs {
			action, err := c.apply(ctx, o)
			if err != nil {
				return fmt.Errorf("%s: %s: %w", o.Manifest, o, err)
			}
			if prev, ok := done[o.String()]; !ok || prev == Unchanged {
				done[o.String()] = action
			}
		}
		return nil
	})
	rep := &Report{}
	for _, o := range objs {
		if a, ok := done[o.String()]; ok {
			rep.Results = append(rep.Results, Result{Object: o.String(), Action: a})
		}
	}
	return rep, err
}

func (c *Client) apply(ctx context.Context, o Object) (Action, error) {
	gvk := o.GroupVersionKind()
	mapping, err := c.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		c.Mapper.Reset()
		mapping, err = c.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if err != nil {
		return "", fmt.Errorf("finding the API resource of %s: %w", gvk, err)
	}
	var ri dynamic.ResourceInterface = c.Dynamic.Resource(mapping.Resource)
	namespaced := mapping.Scope.Name() == meta.RESTScopeNameNamespace
	switch ns := o.GetNamespace(); {
	case namespaced && ns == "":
		return "", fmt.Errorf("%s is namespaced and the object has no metadata.namespace; add one", gvk.Kind)
	case !namespaced && ns != "":
		return "", fmt.Errorf("%s is cluster-scoped and the object has metadata.namespace %q; remove it", gvk.Kind, ns)
	case namespaced:
		ri = c.Dynamic.Resource(mapping.Resource).Namespace(ns)
	}
	before := ""
	got, err := ri.Get(ctx, o.GetName(), metav1.GetOptions{})
	switch {
	case err == nil:
		before = got.GetResourceVersion()
	case !apierrors.IsNotFound(err):
		return "", err
	}
	after, err := ri.Apply(ctx, o.GetName(), o.Unstructured, metav1.ApplyOptions{FieldManager: FieldManager, Force: true})
	switch {
	case err != nil:
		return "", err
	case before == "":
		return Created, nil
	case after.GetResourceVersion() == before:
		return Unchanged, nil
	}
	return Configured, nil
}
