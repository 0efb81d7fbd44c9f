package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/schedule"
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
	// So does the progress line, drawn while the run goes on.
	if l := v.line(2*time.Second, 1); strings.Contains(l, "not sent ×") || !strings.Contains(l, "1 errors (HTTP 500 ×1)  3 NOT SENT") {
		t.Errorf("progress line %q", l)
	}
}

var updateLive = flag.Bool("update-live", false, "rewrite testdata/liveline_*.golden")

// TestLiveLineWidth is the golden test of the progress line at 80 and 200
// columns (and with no limit, as in a log): at 80 the bar, the offered
// rate, the stage and the error kinds give way, and the line never passes
// the width, so a refresh overwrites it instead of wrapping.
func TestLiveLineWidth(t *testing.T) {
	var st attack.Stats
	cfg := attack.Config{Duration: 30 * time.Second, Rate: schedule.Rate{Freq: 500, Per: time.Second}}
	v := newLiveView(io.Discard, &st, cfg, func() string { return "steady" }, false)
	var batch []result.Result
	for i := range 1000 {
		r := result.Result{Intended: 10*time.Second + time.Duration(i)*time.Millisecond, Status: 200, Latency: time.Duration(1+i%50) * time.Millisecond}
		r.Sent = r.Intended
		switch {
		case i%100 == 0:
			r.Status, r.Error = 0, "dial tcp 127.0.0.1:8080: connect: connection refused"
		case i%40 == 0:
			r.Status = 503
		}
		batch = append(batch, r)
	}
	batch = append(batch, result.Result{Intended: 11 * time.Second, Flags: result.NotSent})
	v.Observe(batch)
	st.Done.Store(6012)
	st.Errors.Store(36)
	st.NotSent.Store(1)
	st.InFlight.Store(48)
	for _, width := range []int{80, 200, 0} {
		v.width = width
		line := v.line(12500*time.Millisecond, 481)
		if width > 0 && utf8.RuneCountInString(line) > width {
			t.Errorf("width %d: line of %d columns: %s", width, utf8.RuneCountInString(line), line)
		}
		name := fmt.Sprintf("testdata/liveline_%d.golden", width)
		if *updateLive {
			if err := os.WriteFile(name, []byte(line+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("%v (run with -update-live to write it)", err)
		}
		if line+"\n" != string(want) {
			t.Errorf("width %d:\n got %s\nwant %s", width, line, want)
		}
	}
}

func TestFitLine(t *testing.T) {
	parts := []string{"[====]", "50%", "1s", "must stay", "(detail)"}
	keep := func() []int { return []int{1, 6, 8, 9, 2} }
	for _, c := range []struct {
		width int
		want  string
	}{
		{0, "[====] 50% 1s  must stay (detail)"},
		{33, "[====] 50% 1s  must stay (detail)"},
		{26, "50% 1s  must stay (detail)"},
		{25, "50% 1s  must stay"},
		{16, "1s  must stay"},
		{9, "must stay"},
		{5, "must…"},
	} {
		if got := fitLine(parts, keep(), c.width); got != c.want {
			t.Errorf("width %d: %q, want %q", c.width, got, c.want)
		}
	}
}
