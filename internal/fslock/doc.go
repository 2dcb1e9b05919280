// Package fslock holds an exclusive advisory lock on a file, so two hardway runs never work on
// one cluster directory at once.
package fslock
