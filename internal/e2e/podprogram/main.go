package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = "usage: podprogram pause | serve [--port 8080] [--address IP] | get URL | lookup NAME | echo WORDS..."

// run runs the subcommand of args and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	cmd, args := args[0], args[1:]
	switch {
	case cmd == "pause" && len(args) == 0:
		return pause(stdout)
	case cmd == "serve":
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(stderr)
		port := fs.Int("port", 8080, "TCP port to listen on")
		addr := fs.String("address", "", "IP address to listen on (default: every address)")
		if fs.Parse(args) != nil || fs.NArg() != 0 {
			fmt.Fprintln(stderr, usage)
			return 2
		}
		return serve(net.JoinHostPort(*addr, strconv.Itoa(*port)), stdout, stderr)
	case cmd == "get" && len(args) == 1:
		return get(args[0], stdout, stderr)
	case cmd == "lookup" && len(args) == 1:
		return lookup(args[0], stdout, stderr)
	case cmd == "echo":
		fmt.Fprintln(stdout, strings.Join(args, " "))
		return 0
	}
	fmt.Fprintln(stderr, usage)
	return 2
}

// pause waits for SIGTERM or SIGINT and reaps every child that ends meanwhile: as PID 1 of a
// pod sharing its PID namespace, the orphans of the pod's containers become its children.
func pause(stdout io.Writer) int {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	fmt.Fprintln(stdout, "podprogram pausing")
	for sig := range sigs {
		if sig != syscall.SIGCHLD {
			fmt.Fprintf(stdout, "podprogram: %v, exiting\n", sig)
			return 0
		}
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
	return 0
}

// Reply is what GET / answers, for a pod whose hostname is host.
func Reply(host string) string { return "podprogram on " + host + "\n" }

func serve(addr string, stdout, stderr io.Writer) int {
	host, err := os.Hostname()
	if err != nil {
		fmt.Fprintf(stderr, "podprogram: %v\n", err)
		return 1
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(stdout, "podprogram: %s %s from %s\n", r.Method, r.URL.Path, r.RemoteAddr)
		io.WriteString(w, Reply(host))
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(stdout, "podprogram: %s %s from %s\n", r.Method, r.URL.Path, r.RemoteAddr)
		io.WriteString(w, "ok\n")
	})
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "podprogram: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "podprogram serving on %s\n", addr)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(l); err != nil && err != http.ErrServerClosed {
		fmt.Fprintf(stderr, "podprogram: %v\n", err)
		return 1
	}
	return 0
}

func get(url string, stdout, stderr io.Writer) int {
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		fmt.Fprintf(stderr, "podprogram: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	if _, err := io.Copy(stdout, resp.Body); err != nil {
		fmt.Fprintf(stderr, "podprogram: GET %s: %v\n", url, err)
		return 1
	}
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "podprogram: GET %s: %s\n", url, resp.Status)
		return 1
	}
	return 0
}

func lookup(name string, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, name)
	if err != nil {
		fmt.Fprintf(stderr, "podprogram: %v\n", err)
		return 1
	}
	for _, a := range addrs {
		fmt.Fprintln(stdout, a)
	}
	return 0
}
