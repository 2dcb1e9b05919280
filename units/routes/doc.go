// Package routes owns the pod-routes file, the routes a node needs so its pods reach the pods
// of every other node: each worker node's pod range, via that node's address. This is the
// step the classic hard-way guide does by hand with `ip route add`; hardway renders the file
// per node at init (units), and the node's pod-routes.service runs `hardway routes`, which
// applies it with Sync and takes the routes away with Remove when the unit stops.
//
// Routes hardway installs carry their own routing protocol number (Protocol), so Sync knows
// which routes are its own: it replaces those the file lists, deletes those it no longer
// lists (a node that left the cluster), and never touches any other route.
package routes
