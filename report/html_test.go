package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/surge-dev/surge/analyze"
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
	if err := HTML(&b, []Run{htmlFixture(), htmlSignalFixture()}, Options{}); err != nil {
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

// htmlSignalFixture is htmlFixture with server signals: a source read every
// 250ms, one reading failed at 1.25s; a pause counter that jumps at 1.5s, a
// pool gauge, a steady request counter and a NaN quantile; and a spike
// episode from 1.25s to 1.5s of GET /a.
func htmlSignalFixture() Run {
	r := htmlFixture()
	m := &r.Summary.Runs[0]
	const src = "http://127.0.0.1:9100/metrics"
	series := []result.Series{
		{ID: 1, Source: src, Name: "surge_lab_requests_total", Kind: result.SignalCounter, Initial: 100},
		{ID: 2, Source: src, Name: "surge_lab_pause_seconds_total", Kind: result.SignalCounter},
		{ID: 3, Source: src, Name: "surge_lab_pool_busy", Labels: `{pool="db"}`, Kind: result.SignalGauge, Initial: 1},
		{ID: 4, Source: src, Name: "go_gc_duration_seconds", Labels: `{quantile="0.5"}`, Kind: result.SignalGauge, Initial: math.NaN()},
		{ID: 5, Source: src, Name: "surge_lab_uptime_seconds", Kind: result.SignalGauge, Initial: 7},
	}
	for i := 0; i <= 8; i++ {
		sc := result.Scrape{At: time.Duration(i) * 250 * ms, Took: time.Duration(2+i%3) * ms, Source: src}
		switch {
		case i == 0:
			sc.New = series
		case i == 5:
			sc.Err = "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
		default:
			sc.Values = []result.SignalValue{{ID: 1, V: 5}, {ID: 5, V: 7 + float64(i)/4}}
			if i == 6 {
				sc.Values[0].V = 10 // over the failed reading's span too
			}
			if i == 6 {
				sc.Values = append(sc.Values, result.SignalValue{ID: 2, V: 0.3})
			}
			if i >= 3 && i <= 6 {
				sc.Values = append(sc.Values, result.SignalValue{ID: 3, V: float64(i)})
			}
			if i == 4 {
				sc.Values = append(sc.Values, result.SignalValue{ID: 4, V: 0.002})
			}
		}
		r.AddScrape(m, &sc)
	}
	r.Findings = &analyze.Findings{Generator: analyze.Generator{Text: "healthy"}, Labels: []analyze.LabelFindings{{Label: "GET /a",
		Spikes: &analyze.Spikes{Text: "1 latency spike",
			Episodes: []analyze.Episode{{Start: m.Start.Add(1250 * ms), End: m.Start.Add(1500 * ms), Offset: 1250 * ms, Peak: 900 * ms, Max: 900 * ms, Requests: 2, Slow: 1, Share: 1}}},
		Signals: &analyze.SignalFindings{Text: "server signals: 1 named of 4 tested",
			Matches: []analyze.SignalMatch{{Source: src, Name: "surge_lab_pool_busy", Labels: `{pool="db"}`, Text: "surge_lab_pool_busy moved with p99"}}}}}}
	return r
}

func TestHTMLSignalsGolden(t *testing.T) {
	js, err := HTMLData([]Run{htmlSignalFixture()}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, js, "", " "); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('\n')
	checkGolden(t, "html_signals.golden", out.Bytes())
}

// TestSignalsOrder: the series named in findings come first, then those
// that moved most for their level, histogram buckets last, at most
// MaxSignalCharts, the rest counted.
func TestSignalsOrder(t *testing.T) {
	r := htmlFixture()
	m := &r.Summary.Runs[0]
	const src = "http://127.0.0.1:9100/metrics"
	var series []result.Series
	add := func(name, kind string) {
		series = append(series, result.Series{ID: uint32(len(series) + 1), Source: src, Name: name, Kind: kind, Initial: 10})
	}
	for i := range 12 {
		add(fmt.Sprintf("steady_%02d", i), result.SignalGauge) // moves by i+1 around 10
	}
	add("latency_seconds_bucket", result.SignalCounter)
	add("named_gauge", result.SignalGauge)
	add("bursty_total", result.SignalCounter)
	r.AddScrape(m, &result.Scrape{At: 0, Source: src, New: series})
	for k := 1; k <= 8; k++ {
		sc := result.Scrape{At: time.Duration(k) * 250 * ms, Source: src}
		for i := range 12 {
			sc.Values = append(sc.Values, result.SignalValue{ID: uint32(i + 1), V: 10 + float64((i+1)*(k%2))})
		}
		sc.Values = append(sc.Values, result.SignalValue{ID: 13, V: float64(100 * (k % 4))}, result.SignalValue{ID: 14, V: 10 + float64(k%2)/100})
		if k == 4 {
			sc.Values = append(sc.Values, result.SignalValue{ID: 15, V: 50})
		}
		r.AddScrape(m, &sc)
	}
	r.Findings = &analyze.Findings{Labels: []analyze.LabelFindings{
		{Label: "GET /a", Signals: &analyze.SignalFindings{Unjudged: "the machine was busy", Matches: []analyze.SignalMatch{{Source: src, Name: "steady_00"}}}},
		{Label: "GET /b", Signals: &analyze.SignalFindings{Matches: []analyze.SignalMatch{{Source: src, Name: "named_gauge"}}}}}}
	hs := signalsOf(&r, m.Start)
	var got []string
	for _, s := range hs.Series {
		got = append(got, s.Name)
	}
	want := []string{"named_gauge", "steady_00", "bursty_total", "steady_11", "steady_10", "steady_09", "steady_08", "steady_07", "steady_06",
		"steady_05", "steady_04", "steady_03"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	for i, s := range hs.Series[:3] {
		if s.Named != (i < 2) || s.Unjudged != (i == 1) {
			t.Errorf("%s: named %v, unjudged %v; want the first two named, the second by an unjudged finding", s.Name, s.Named, s.Unjudged)
		}
	}
	if hs.More != 3 {
		t.Errorf("more = %d, want 3 (steady_02, steady_01 and the bucket)", hs.More)
	}
}

// TestSignalSteps checks the fixture's drawing rules one by one: a counter
// as its increase per second over each reading's span and 0 between, a
// gauge held to its source's last reading, NaN as a gap, the failed
// reading's span marked.
func TestSignalSteps(t *testing.T) {
	r := htmlSignalFixture()
	hs := signalsOf(&r, r.Summary.Runs[0].Start)
	by := map[string]htmlSignal{}
	for _, s := range hs.Series {
		by[s.Name] = s
	}
	for _, tt := range []struct {
		name string
		t    []float64
		v    []float64
	}{
		// 0.3s of pause over the 0.5s since the reading before the failed one.
		{"surge_lab_pause_seconds_total", []float64{0, 1, 1.5, 2}, []float64{0, 0.6, 0, 0}},
		// A gauge's value holds over the span before its reading: 6, read
		// at 1.5s, since the last reading that succeeded, at 1s.
		{`surge_lab_pool_busy{pool="db"}`, []float64{0, 0.5, 0.75, 1, 2}, []float64{1, 3, 4, 6, 6}},
		// 5 per 250ms throughout, 10 over the failed reading's 500ms.
		{"surge_lab_requests_total", []float64{0, 2}, []float64{20, 0}},
	} {
		got := by[tt.name]
		if diff := cmp.Diff(tt.t, got.T); diff != "" {
			t.Errorf("%s times (-want +got):\n%s", tt.name, diff)
		}
		if diff := cmp.Diff(tt.v, got.V); diff != "" {
			t.Errorf("%s values (-want +got):\n%s", tt.name, diff)
		}
	}
	// A quantile first seen NaN starts at its first number, which the
	// summary takes for its first value: it never changed.
	if gc, ok := by[`go_gc_duration_seconds{quantile="0.5"}`]; ok {
		t.Errorf("NaN-first quantile drawn: %v", gc)
	}
	if want := [][2]float64{{1, 1.5}}; len(hs.Sources) != 1 || !cmp.Equal(hs.Sources[0].Missed, want) || hs.Sources[0].Failed != 1 {
		t.Errorf("sources %+v: want one, 1 failed, missed %v", hs.Sources, want)
	}
}
