// Package configs holds hardway's cluster model: one typed Cluster, filled from a YAML file
// (with HARDWAY_* environment variables and command-line flags on top, merged by cmd/),
// defaulted in one place (SetDefaults) and checked by Validate, which reports every problem at
// once with its field path and the fix. It does no I/O of its own.
//
// configs/examples holds ready-made cluster files: single.yaml (one machine), hard-way.yaml
// (one controller, two workers) and ha.yaml (three etcd/control-plane nodes behind a load
// balancer, three workers).
package configs
