// Command hardway takes a bare-metal Kubernetes cluster from nothing to a secured control plane
// and keeps its credentials healthy afterwards. See README.md.
package main
