package nodes

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/hardway-dev/hardway/bootstrap/addons"
	"github.com/hardway-dev/hardway/bootstrap/retry"
)

// poll is the pause between two reads of a Node that is not registered yet.
const poll = time.Second

// SetPodCIDR makes the named Node's spec.podCIDR and spec.podCIDRs cidr, with the kubeconfig's
// credentials, talking to server when it is not empty. It waits for the kubelet to register the
// Node until ctx ends (the caller bounds the wait), sets the CIDR when the Node has none, and
// reports whether it changed anything. A Node holding another CIDR is an error: the field is
// immutable once set.
func SetPodCIDR(ctx context.Context, kubeconfig []byte, server, node, cidr string) (changed bool, err error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil || p.Masked() != p {
		return false, fmt.Errorf("node %s: pod CIDR %q is not a network prefix such as 10.244.1.0/24", node, cidr)
	}
	cfg, err := addons.RESTConfig(kubeconfig, server)
	if err != nil {
		return false, err
	}
	c, err := corev1client.NewForConfig(cfg)
	if err != nil {
		return false, err
	}
	nodes := c.Nodes()
	for {
		n, err := nodes.Get(ctx, node, metav1.GetOptions{})
		switch {
		case err == nil && len(n.Spec.PodCIDRs) == 0 && n.Spec.PodCIDR == "":
			patch, _ := json.Marshal(map[string]any{
				"metadata": map[string]any{"resourceVersion": n.ResourceVersion}, // a Node changed meanwhile is read again
				"spec":     map[string]any{"podCIDR": cidr, "podCIDRs": []string{cidr}},
			})
			_, err = nodes.Patch(ctx, node, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: addons.FieldManager})
			if err == nil {
				return true, nil
			}
			if !apierrors.IsConflict(err) && !retry.APIServer(err) {
				return false, fmt.Errorf("node %s: setting spec.podCIDR to %s: %w", node, cidr, err)
			}
		case err == nil:
			if n.Spec.PodCIDR == cidr && len(n.Spec.PodCIDRs) == 1 {
				return false, nil
			}
			return false, fmt.Errorf("node %s has spec.podCIDRs %v, the cluster file gives it %s; a Node's pod CIDR cannot change once set: "+
				"drain the node and delete its Node object (kubectl delete node %s) so the kubelet registers it again, or give it %v in the cluster file",
				node, n.Spec.PodCIDRs, cidr, node, n.Spec.PodCIDRs)
		case !apierrors.IsNotFound(err) && !retry.APIServer(err):
			return false, fmt.Errorf("node %s: reading the Node: %w", node, err)
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			if err == nil || apierrors.IsNotFound(err) {
				return false, fmt.Errorf("node %s: the kubelet has not registered the Node (is kubelet.service running on it?): %w", node, context.Cause(ctx))
			}
			return false, fmt.Errorf("node %s: %w (gave up: %w)", node, err, context.Cause(ctx))
		case <-t.C:
		}
	}
}
