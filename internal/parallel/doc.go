// Package parallel runs independent pieces of work on a few goroutines.
package parallel
