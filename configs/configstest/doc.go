// Package configstest builds cluster models for tests and benchmarks in other packages.
package configstest
