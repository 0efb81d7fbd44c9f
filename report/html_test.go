package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
)

// htmlFixture is a small fixed run: two labels, an error status, a
// transport error, a not-sent request and a stage marker.
func htmlFixture() Run {
	m := &result.Meta{ID: "fixed", Start: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), Host: "lab",
		Command: []string{"surge", "attack", "-rate", "10"}, Profile: "rate 10/1s for 2s", Duration: 2 * time.Second,
		Targets: []string{"GET http://127.0.0.1/fixed"}}
	s := summary.New(summary.Options{Window: 500 * ms})
	p := NewPoints(0)
	for i := range 20 {
		at := time.Duration(i) * 100 * ms
		r := result.Result{Seq: uint64(i), Label: "GET /a", Intended: at, Sent: at + 50*time.Microsecond,
			Latency: time.Duration(10+i) * ms, Status: 200, BytesIn: 10}
		switch {
		case i%2 == 1:
			r.Label = "GET /b"
		}
		switch i {
		case 7:
			r.Status = 500
		case 11:
			r.Status, r.Error = 0, "connection refused"
		case 19:
			r.Flags, r.Status, r.Latency, r.Sent = result.NotSent, 0, 0, 0
		case 13:
			r.Latency = 900 * ms
		}
		s.Add(m, &r)
		p.Add(&r, 0)
	}
	s.AddMarker(m, result.Marker{At: 0, Kind: result.MarkStage, Name: "ramp"})
	s.AddMarker(m, result.Marker{At: time.Second, Kind: result.MarkStage, Name: "hold"})
	return Run{Name: "fixed", Summary: s, Points: p}
}

func TestHTMLDataGolden(t *testing.T) {
	js, err := HTMLData([]Run{htmlFixture()}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, js, "", " "); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('\n')
	checkGolden(t, "html_data.golden", out.Bytes())
}

func TestHTMLSelfContained(t *testing.T) {
	var b bytes.Buffer
	if err := HTML(&b, []Run{htmlFixture(), htmlFixture()}, Options{}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"http://", "https://", "src=", "<link"} {
		// The only URLs allowed are inside the data (targets) and uPlot's
		// licence comment; no element may load anything.
		if bad == "http://" || bad == "https://" {
			continue
		}
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q: it must not load anything", bad)
		}
	}
	if n := strings.Count(page, "</script>"); n != 3 {
		t.Errorf("got %d </script>, want 3 (data, uPlot, report): data must not close its element", n)
	}
}

func TestPointsKeepMaxima(t *testing.T) {
	p := NewPoints(2048)
	for i := range 100_000 {
		r := result.Result{Intended: time.Duration(i) * ms, Latency: ms, Status: 200}
		if i%10_000 == 5_000 {
			r.Latency = 3 * time.Second // a spike
		}
		if i == 42_424 {
			r.Status = 503
		}
		p.Add(&r, 0)
	}
	kept := p.Kept()
	if p.Total != 100_000 || len(kept) > 4096 {
		t.Fatalf("kept %d of %d, want at most 4096", len(kept), p.Total)
	}
	spikes, errs := 0, 0
	for i, pt := range kept {
		if pt.Latency == 3*time.Second {
			spikes++
		}
		if pt.Class == ClassError {
			errs++
		}
		if i > 0 && pt.At < kept[i-1].At {
			t.Fatalf("points out of order at %d", i)
		}
	}
	if spikes != 10 || errs != 1 {
		t.Errorf("kept %d spikes and %d errors, want 10 and 1", spikes, errs)
	}
}

func TestPointsKeepAllUnderBudget(t *testing.T) {
	p := NewPoints(1000)
	for i := range 1000 {
		p.Add(&result.Result{Intended: time.Duration(i%7) * time.Microsecond, Latency: time.Duration(i), Status: 200}, 0)
	}
	if n := len(p.Kept()); n != 1000 {
		t.Errorf("kept %d points, want all 1000", n)
	}
}

func BenchmarkPointsAdd(b *testing.B) {
	p := NewPoints(0)
	r := result.Result{Latency: 20 * ms, Status: 200}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Intended = time.Duration(i) * 10 * time.Microsecond
		p.Add(&r, 0)
	}
}
