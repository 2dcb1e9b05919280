package pki

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestSelect(t *testing.T) {
	all := Instances(haCluster(t))
	leaves := 0
	for _, in := range all {
		if in.Spec.Kind == KindLeaf {
			leaves++
		}
	}
	tests := []struct {
		names   []string
		want    []string // sorted IDs; nil with wantN
		wantN   int
		wantErr string
	}{
		{names: []string{"apiserver"}, want: []string{"apiserver"}},
		{names: []string{"etcd-server"}, want: []string{"etcd/server-cp-1", "etcd/server-cp-2", "etcd/server-cp-3"}},
		{names: []string{"etcd/server-cp-2", "etcd-server"}, want: []string{"etcd/server-cp-1", "etcd/server-cp-2", "etcd/server-cp-3"}},
		{names: []string{"admin"}, want: []string{"admin"}},
		{names: []string{"ca", "front-proxy-ca"}, want: []string{"ca", "front-proxy-ca"}},
		{names: []string{"all"}, wantN: leaves},
		{names: []string{"all", "ca"}, wantN: leaves + 1},
		{names: []string{"apiserver", "nope"}, wantErr: `no certificate called "nope"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.names, ","), func(t *testing.T) {
			ids, err := Select(all, tt.names)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := slices.Sorted(maps.Keys(ids))
			if tt.want != nil && !slices.Equal(got, tt.want) {
				t.Errorf("Select = %v, want %v", got, tt.want)
			}
			if tt.wantN > 0 && len(got) != tt.wantN {
				t.Errorf("Select = %d IDs, want %d", len(got), tt.wantN)
			}
		})
	}
	ids, err := Select(all, []string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range all {
		if ids[in.ID] != (in.Spec.Kind == KindLeaf) {
			t.Errorf("all: %s (%s) selected %v", in.ID, in.Spec.Kind, ids[in.ID])
		}
	}
}
