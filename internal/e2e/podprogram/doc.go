// Command podprogram is the one program of the container images the node end-to-end tests run
// (package internal/e2e/images builds it statically and packs it), one binary with subcommands
// like Kubernetes' agnhost:
//
//	podprogram pause               the pod sandbox's process: PID 1 of the pod, it reaps the
//	                               zombies of the pod and exits 0 on SIGTERM or SIGINT
//	podprogram serve [--port 8080] [--address IP]
//	                               an HTTP server, on every address unless --address says:
//	                               GET / answers "podprogram on HOSTNAME", GET /healthz
//	                               answers "ok"; it prints a line when it starts ("podprogram
//	                               serving on :8080") and one per request, which
//	                               `kubectl logs` shows
//	podprogram get URL             HTTP GET, prints the body; exits 1 on an error or a status
//	                               other than 200 (pods reaching each other and Services)
//	podprogram lookup NAME         resolves NAME through /etc/resolv.conf (the binary is built
//	                               with the netgo tag) and prints one address a line; exits 1
//	                               when it cannot (the cluster DNS test)
//	podprogram echo WORDS...       prints the words on one line (`kubectl exec`)
//
// A wrong command line exits 2. The program is static (CGO_ENABLED=0) and needs nothing of its
// image but itself.
package main
