package supervise

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hardway-dev/hardway/units/bundle"
)

// On a terminal, a tier's wait is one line rewritten in place naming what is not healthy yet,
// and cleared when the wait ends; processes without a probe are not waited for.
func TestProgressLine(t *testing.T) {
	var out bytes.Buffer
	s := &Supervisor{Out: &out, Progress: true}
	probe := &bundle.Health{Kind: bundle.HealthHTTP, URL: "http://127.0.0.1:1/healthz"}
	stop := s.progress([]*child{
		{Process: Process{Name: "etcd", Health: probe}},
		{Process: Process{Name: "kube-apiserver", Health: probe}},
		{Process: Process{Name: "no-probe"}},
	})
	time.Sleep(600 * time.Millisecond)
	stop()
	got := out.String()
	if !strings.Contains(got, "\r\033[Kwaiting for etcd, kube-apiserver ... ") || strings.Contains(got, "no-probe") {
		t.Errorf("progress line: %q", got)
	}
	if !strings.HasSuffix(got, "\r\033[K") {
		t.Errorf("the progress line is not cleared at the end: %q", got)
	}
}
