package inspect

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/hardway-dev/hardway/units/flags"
)

// etcd takes every flag it is not given from an ETCD_* variable (go.etcd.io/etcd/pkg/v3/flags
// SetFlagsFromEnv); units from installers such as kubespray set everything that way.
func TestEtcdEnvironment(t *testing.T) {
	const env = "ETCD_NAME=etcd1\nETCD_LISTEN_PEER_URLS=http://10.0.0.1:2380\nETCD_LISTEN_CLIENT_URLS=https://10.0.0.1:2379\n" +
		"ETCD_CERT_FILE=/etc/etcd/server.pem\nETCD_KEY_FILE=/etc/etcd/server-key.pem\nETCD_TRUSTED_CA_FILE=/etc/etcd/ca.pem\n" +
		"ETCD_CLIENT_CERT_AUTH=true\nETCD_PROXY=off\nETCD_UNKNOWN_THING=1\n"
	tests := []struct {
		name       string
		execStart  string
		fires, not []string
	}{
		{"settings from the environment", "/usr/local/bin/etcd", []string{"etcd-peer-plaintext", "flag-noop"}, []string{"flag-removed", "etcd-client-plaintext", "flag-unknown"}},
		{"the command line wins", "/usr/local/bin/etcd --listen-peer-urls=http://127.0.0.1:2380", []string{"flag-noop"}, []string{"etcd-peer-plaintext"}},
		{"--config-file turns the environment off", "/usr/local/bin/etcd --config-file=/etc/etcd/etcd.yaml", nil, []string{"etcd-peer-plaintext", "flag-noop"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := fstest.MapFS{"etc/etcd.env": {Data: []byte(env), Mode: 0o644}}
			unit := "[Service]\nEnvironmentFile=/etc/etcd.env\nExecStart=" + tt.execStart + "\n"
			u, err := LoadUnit("etcd.service", File{Name: "etcd.service", Data: []byte(unit)}, nil, root)
			if err != nil {
				t.Fatal(err)
			}
			inv, err := FromUnitFile(flags.Default(), u)
			if err != nil {
				t.Fatal(err)
			}
			rep := Inspect([]*Invocation{inv}, Options{Catalogue: flags.Default(), Now: testNow, FS: fstest.MapFS{}})
			got := ids(rep.All())
			for _, id := range tt.fires {
				if got[id] == 0 {
					t.Errorf("%s did not fire:\n%s", id, dump(rep))
				}
			}
			for _, id := range tt.not {
				if got[id] > 0 {
					t.Errorf("%s fired:\n%s", id, dump(rep))
				}
			}
			if _, err := Fix(inv, Options{Catalogue: flags.Default(), Now: testNow}); tt.fires != nil && (err == nil || !strings.Contains(err.Error(), "environment")) {
				t.Errorf("Fix: err %v, want a refusal naming the environment", err)
			}
		})
	}
}
