package etcdserver_test

import (
	"flag"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/hardway-dev/hardway/apiserver/etcdserver"
)

// The lifecycle of a member: configure from etcd's flags, Start, wait for ReadyNotify (a quorum
// of the initial cluster must be up), serve until a signal or a fatal error, Close.
func Example() {
	cfg := etcdserver.NewConfig()
	fs := flag.NewFlagSet("etcd", flag.ExitOnError)
	cfg.AddFlags(fs)
	_ = fs.Parse([]string{
		"--name=node1", "--data-dir=/var/lib/etcd",
		"--listen-client-urls=https://10.0.0.1:2379", "--advertise-client-urls=https://10.0.0.1:2379",
		"--listen-peer-urls=https://10.0.0.1:2380", "--initial-advertise-peer-urls=https://10.0.0.1:2380",
		"--initial-cluster=node1=https://10.0.0.1:2380",
		"--cert-file=/etc/kubernetes/pki/etcd/server.crt", "--key-file=/etc/kubernetes/pki/etcd/server.key",
		"--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt", "--client-cert-auth",
		"--peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt", "--peer-key-file=/etc/kubernetes/pki/etcd/peer.key",
		"--peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt", "--peer-client-cert-auth",
	})
	m, err := etcdserver.Start(cfg, etcdserver.Options{Log: os.Stderr})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	select {
	case <-m.ReadyNotify():
		// serving: tell systemd READY=1 here
	case err := <-m.Err():
		log.Fatal(err)
	}
	select {
	case <-sig:
	case err := <-m.Err():
		log.Print(err)
	}
}
