// Package pkitest gives tests in other packages a throwaway CA that issues through package
// pki, exactly as `hardway init` does, so no test carries its own certificate code.
package pkitest
