package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/result"
)

// TestLiveFinalNotSent: the closing line's rate counts only the requests
// that went out, and the ones that never did are told apart, as are the
// errors of those that went out (a run at 20k/s that sent 19,918 of 79,000
// said "79000 requests in 3s (26333.3/s), 59202 errors (not sent ×59082,
// …)").
func TestLiveFinalNotSent(t *testing.T) {
	var st attack.Stats
	var out bytes.Buffer
	v := newLiveView(&out, &st, attack.Config{Duration: 3 * time.Second}, nil, false)
	v.started = time.Now().Add(-4 * time.Second)
	batch := []result.Result{
		{Status: 200, Latency: time.Millisecond},
		{Status: 500, Latency: time.Millisecond},
		{Flags: result.NotSent},
		{Flags: result.NotSent},
		{Flags: result.NotSent},
	}
	v.Observe(batch)
	st.Done.Store(int64(len(batch)))
	st.NotSent.Store(3)
	st.Errors.Store(4) // the 500 and the three not sent
	v.final()
	line := out.String()
	for _, want := range []string{"surge: 2 requests in ", "(0.5/s), 1 errors (HTTP 500 ×1)", "; 3 more were due and NOT SENT (60% of 5)"} {
		if !strings.Contains(line, want) {
			t.Errorf("final line %q lacks %q", line, want)
		}
	}
	if strings.Contains(line, "not sent ×") {
		t.Errorf("final line %q counts the not-sent as errors of requests sent", line)
	}
	// The progress line, drawn while the run goes on, still lists them by kind.
	if l := v.line(2*time.Second, 1); !strings.Contains(l, "not sent ×3") || !strings.Contains(l, "3 NOT SENT") {
		t.Errorf("progress line %q", l)
	}
}
