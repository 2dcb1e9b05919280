// Package nodes sets what hardway decides about a Node object once the kubelet has registered
// it: its pod CIDR. The cluster model gives each node its pod CIDR (the controller-manager does
// not allocate them), and SetPodCIDR writes it to Node.spec.podCIDR and spec.podCIDRs.
//
// Who may call it: the node's own kubelet credentials (system:node:<name>, group system:nodes)
// may. The Node authorizer allows a node to update and patch Node objects and leaves the choice
// of which to the NodeRestriction admission plugin, which admits a change to the node's own
// object unless it touches configSource, taints, ownerReferences or labels outside the allowed
// set; spec.podCIDR is none of those (kubernetes plugin/pkg/auth/authorizer/node
// authorizeNode, plugin/pkg/admission/noderestriction admitNode). API validation lets
// podCIDRs go from empty to a valid value once and never change after (ValidateNodeUpdate), so
// a Node holding another CIDR must be deleted (the kubelet registers it again) to take the
// cluster's. The super-admin credentials may do the same for any node.
package nodes
