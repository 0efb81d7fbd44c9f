package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
)

// signalFixture is a hand-made 60 s run at 20/s of one label whose server
// pauses 500 ms every 5 s from +5 s (requests due in a pause wait for its
// end), with a scrape read every second at +0.4 s: the pause counter, a
// heap gauge that moves at random, a constant gauge, and the generator's
// own in-flight count.
func signalFixture(t testing.TB) *summary.Summary {
	t.Helper()
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	m := &result.Meta{ID: "pause", Start: start}
	s := summary.New(summary.Options{})
	paused := func(at time.Duration) (bool, time.Duration) {
		k := at / (5 * time.Second)
		off := at - k*5*time.Second
		if k >= 1 && off < 500*ms {
			return true, 500*ms - off
		}
		return false, 0
	}
	const src = "http://127.0.0.1:9090/metrics"
	var pausedTotal float64
	x := uint64(1)
	for sec := range 60 {
		for j := range 20 {
			at := time.Duration(sec)*time.Second + time.Duration(j)*50*ms
			lat := 5*ms + time.Duration(j%5)*100*time.Microsecond
			if p, wait := paused(at); p {
				lat += wait
			}
			s.Add(m, &result.Result{Label: "GET /api", Intended: at, Sent: at + 50*time.Microsecond, Latency: lat, Status: 200, BytesIn: 100})
		}
		// The reading at sec+0.4 s.
		at := time.Duration(sec)*time.Second + 400*ms
		sc := &result.Scrape{At: at, Took: 2 * ms, Source: src}
		gen := &result.Scrape{At: at, Took: 50 * time.Microsecond, Source: analyze.GeneratorSource}
		if sec == 0 {
			sc.New = []result.Series{
				{ID: 1, Source: src, Name: "surge_lab_pause_seconds_total", Kind: result.SignalCounter},
				{ID: 2, Source: src, Name: "go_memstats_heap_alloc_bytes", Kind: result.SignalGauge, Initial: 4e6},
				{ID: 3, Source: src, Name: "surge_lab_ready", Kind: result.SignalGauge, Initial: 1},
			}
			gen.New = []result.Series{{ID: 4, Source: analyze.GeneratorSource, Name: "surge_in_flight", Kind: result.SignalGauge, Initial: 1}}
		} else {
			var inc float64
			for t := at - time.Second; t < at; t += ms {
				if p, _ := paused(t); p {
					inc += 0.001
				}
			}
			pausedTotal += inc
			if inc > 0 {
				sc.Values = append(sc.Values, result.SignalValue{ID: 1, V: inc})
			}
			x = x*6364136223846793005 + 1442695040888963407
			sc.Values = append(sc.Values, result.SignalValue{ID: 2, V: 4e6 + float64(x>>40)})
			inFlight := 1.0
			if p, _ := paused(at - 400*ms); p {
				inFlight = 10
			}
			gen.Values = []result.SignalValue{{ID: 4, V: inFlight}}
		}
		s.AddScrape(m, sc)
		s.AddScrape(m, gen)
	}
	if pausedTotal < 5 {
		t.Fatalf("fixture paused %.1f s, want 5.5", pausedTotal)
	}
	return s
}

// TestSignalsGolden: the text and JSON findings of a run with server
// signals (text_signals.golden, json_signals.golden), and that they name
// the pause counter and nothing else.
func TestSignalsGolden(t *testing.T) {
	s := signalFixture(t)
	f := analyze.Diagnose(s)
	var buf bytes.Buffer
	if err := Text(&buf, s, f, Options{}); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "text_signals.golden", buf.Bytes())
	text := buf.String()
	for _, want := range []string{"surge_lab_pause_seconds_total", "11 of 11 episodes", "stop-the-world pauses"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	if strings.Contains(text, "go_memstats_heap_alloc_bytes moves") {
		t.Errorf("the random heap gauge was named:\n%s", text)
	}
	buf.Reset()
	if err := JSON(&buf, s, f, Options{}); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "json_signals.golden", buf.Bytes())
}
