package summary

import (
	"math"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/surge-dev/surge/result"
)

const promSrc = "http://127.0.0.1:9090/metrics"

// TestSignalsFold follows three series of one source through six
// readings, one failed: a counter that moves from the second, a gauge
// that moves at the fourth, a gauge that never moves.
func TestSignalsFold(t *testing.T) {
	s := New(Options{})
	m := &result.Meta{ID: "run-a"}
	s.Add(m, &result.Result{Seq: 1, Status: 200, Latency: time.Millisecond}) // the run is Runs[0]
	sec := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
	readings := []result.Scrape{
		{At: 0, Took: 2 * time.Millisecond, Source: promSrc, New: []result.Series{
			{ID: 1, Name: "reqs_total", Kind: result.SignalCounter, Initial: 100},
			{ID: 2, Name: "busy", Kind: result.SignalGauge, Initial: 4},
			{ID: 3, Name: "build_info", Labels: `{version="1"}`, Kind: result.SignalGauge, Initial: 1},
		}},
		{At: sec(1), Took: 3 * time.Millisecond, Source: promSrc, Values: []result.SignalValue{{ID: 1, V: 7}}},
		{At: sec(2), Took: 2 * time.Millisecond, Source: promSrc, Values: []result.SignalValue{{ID: 1, V: 5}, {ID: 3, V: 1}}}, // 3: no change
		{At: sec(3), Took: time.Second, Source: promSrc, Err: "timeout"},
		{At: sec(4), Took: 4 * time.Millisecond, Source: promSrc, Values: []result.SignalValue{{ID: 2, V: 8}, {ID: 1, V: 9}}},
		{At: sec(5), Took: 2 * time.Millisecond, Source: promSrc},
	}
	for i := range readings {
		s.AddScrape(m, &readings[i])
	}
	got := s.Signals()
	want := []*Signal{
		{Series: result.Series{ID: 1, Source: promSrc, Name: "reqs_total", Kind: result.SignalCounter, Initial: 100}, Run: 0, Points: []SignalPoint{
			{At: 0}, {At: sec(1), Span: sec(1), V: 7, Max: 7}, {At: sec(2), Span: sec(1), V: 5, Max: 5},
			{At: sec(4), Span: sec(2), V: 9, Max: 9}, {At: sec(5), Span: sec(1)},
		}},
		{Series: result.Series{ID: 2, Source: promSrc, Name: "busy", Kind: result.SignalGauge, Initial: 4}, Run: 0, Points: []SignalPoint{
			{At: 0, V: 4, Max: 4}, {At: sec(2), Span: sec(2), V: 4, Max: 4},
			{At: sec(4), Span: sec(2), V: 8, Max: 8}, {At: sec(5), Span: sec(1), V: 8, Max: 8},
		}},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(Signal{})); diff != "" {
		t.Errorf("Signals() (-want +got):\n%s", diff)
	}
	wantSrc := []ScrapeSource{{Run: 0, Source: promSrc, Readings: 6, Failed: 1, LastErr: "timeout", Series: 3, Changed: 2}}
	gotSrc := s.ScrapeSources()
	if len(gotSrc) == 1 {
		// Coarse quantiles are within 0.8 %: check them apart.
		if p50 := gotSrc[0].TookP50; p50 < 1900*time.Microsecond || p50 > 2100*time.Microsecond {
			t.Errorf("TookP50 = %v, want ~2ms", p50)
		}
		if mx := gotSrc[0].TookMax; mx != time.Second {
			t.Errorf("TookMax = %v, want 1s", mx)
		}
		gotSrc[0].TookP50, gotSrc[0].TookMax = 0, 0
	}
	if diff := cmp.Diff(wantSrc, gotSrc); diff != "" {
		t.Errorf("ScrapeSources() (-want +got):\n%s", diff)
	}
}

// TestSignalsNonFinite: NaN and infinite values are not folded, and a
// series first seen NaN (a summary's quantile before any observation)
// starts at its first number.
func TestSignalsNonFinite(t *testing.T) {
	s := New(Options{})
	m := &result.Meta{ID: "nan"}
	s.AddScrape(m, &result.Scrape{Source: promSrc, New: []result.Series{
		{ID: 1, Name: "q", Labels: `{quantile="0.99"}`, Kind: result.SignalGauge, Initial: math.NaN()},
		{ID: 2, Name: "c_total", Kind: result.SignalCounter, Initial: 1},
	}})
	for i, vs := range [][]result.SignalValue{
		{{ID: 1, V: math.NaN()}, {ID: 2, V: math.NaN()}},
		{{ID: 1, V: 0.5}},
		{{ID: 1, V: math.Inf(1)}, {ID: 2, V: math.Inf(1)}},
		{{ID: 1, V: 0.7}, {ID: 2, V: 2}},
	} {
		s.AddScrape(m, &result.Scrape{At: time.Duration(i+1) * time.Second, Source: promSrc, Values: vs})
	}
	sigs := s.Signals()
	if len(sigs) != 2 {
		t.Fatalf("%d signals, want 2", len(sigs))
	}
	q, c := sigs[0], sigs[1]
	wantQ := []SignalPoint{{At: 2 * time.Second, V: 0.5, Max: 0.5}, {At: 3 * time.Second, Span: time.Second, V: 0.5, Max: 0.5}, {At: 4 * time.Second, Span: time.Second, V: 0.7, Max: 0.7}}
	if q.Initial != 0.5 || !cmp.Equal(wantQ, q.Points) {
		t.Errorf("quantile: Initial %v, points %+v; want 0.5 and %+v", q.Initial, q.Points, wantQ)
	}
	wantC := []SignalPoint{{}, {At: 3 * time.Second, Span: 3 * time.Second}, {At: 4 * time.Second, Span: time.Second, V: 2, Max: 2}}
	if !cmp.Equal(wantC, c.Points) {
		t.Errorf("counter: points %+v; want %+v", c.Points, wantC)
	}
}

// TestSignalsRuns: runs are told apart, a run seen first by its readings
// is added to Runs, and Signals are in (Run, ID) order.
func TestSignalsRuns(t *testing.T) {
	s := New(Options{})
	a, b := &result.Meta{ID: "a"}, &result.Meta{ID: "b"}
	def := func(id uint32) []result.Series {
		return []result.Series{{ID: id, Name: "g", Kind: result.SignalGauge}}
	}
	s.AddScrape(b, &result.Scrape{Source: "pid:1", New: append(def(2), def(1)...)})
	s.AddScrape(a, &result.Scrape{Source: "pid:1", New: def(1)})
	s.AddScrape(b, &result.Scrape{At: time.Second, Source: "pid:1", Values: []result.SignalValue{{ID: 2, V: 1}, {ID: 1, V: 1}}})
	s.AddScrape(a, &result.Scrape{At: time.Second, Source: "pid:1", Values: []result.SignalValue{{ID: 1, V: 3}}})
	s.Add(a, &result.Result{Status: 200})
	if len(s.Runs) != 2 || s.Runs[0].ID != "b" || s.Runs[1].ID != "a" {
		t.Fatalf("Runs = %+v, want b then a", s.Runs)
	}
	var got [][2]int
	for _, sig := range s.Signals() {
		got = append(got, [2]int{sig.Run, int(sig.ID)})
		if last := sig.Points[len(sig.Points)-1]; last.At != time.Second {
			t.Errorf("run %d series %d: last point %+v", sig.Run, sig.ID, last)
		}
	}
	if want := [][2]int{{0, 1}, {0, 2}, {1, 1}}; !slices.Equal(got, want) {
		t.Errorf("Signals() in order %v, want %v", got, want)
	}
}

// TestSignalsBounded: a day of one-second readings keeps at most
// MaxSignalPoints points a series, and what they hold adds up: the
// counter's increases and the spans sum to the truth, the gauge's
// span-weighted mean and its maximum are kept.
func TestSignalsBounded(t *testing.T) {
	s := New(Options{})
	m := &result.Meta{ID: "long"}
	s.AddScrape(m, &result.Scrape{Source: "pid:9", New: []result.Series{
		{ID: 1, Name: "cpu_seconds_total", Kind: result.SignalCounter},
		{ID: 2, Name: "threads", Kind: result.SignalGauge, Initial: 10},
	}})
	const n = 86400
	var inc, gsum, gmax float64
	vals := make([]result.SignalValue, 2)
	for i := 1; i <= n; i++ {
		g := float64(10 + i%7)
		if i == n/3 {
			g = 500 // one spike
		}
		c := float64(i%3) + 0.25
		vals[0], vals[1] = result.SignalValue{ID: 1, V: c}, result.SignalValue{ID: 2, V: g}
		inc += c
		gsum += g
		gmax = max(gmax, g)
		s.AddScrape(m, &result.Scrape{At: time.Duration(i) * time.Second, Source: "pid:9", Values: vals})
		if i%10000 == 0 {
			for _, sig := range s.Signals() {
				if len(sig.Points) >= MaxSignalPoints {
					t.Fatalf("reading %d: %s has %d points", i, sig.Name, len(sig.Points))
				}
			}
		}
	}
	sigs := s.Signals()
	if len(sigs) != 2 {
		t.Fatalf("%d signals, want 2", len(sigs))
	}
	for _, sig := range sigs {
		var v, weighted, mx float64
		var span time.Duration
		for i, p := range sig.Points {
			if i > 0 && p.At-p.Span != sig.Points[i-1].At {
				t.Fatalf("%s: point %d covers [%v, %v], not from the previous point's end %v", sig.Name, i, p.At-p.Span, p.At, sig.Points[i-1].At)
			}
			v += p.V
			weighted += p.V * p.Span.Seconds()
			mx = max(mx, p.Max)
			span += p.Span
		}
		last := sig.Points[len(sig.Points)-1]
		if span != n*time.Second || last.At != n*time.Second || len(sig.Points) < MaxSignalPoints/2 {
			t.Errorf("%s: %d points spanning %v to %v, want %v to the last reading", sig.Name, len(sig.Points), span, last.At, n*time.Second)
		}
		switch sig.Kind {
		case result.SignalCounter:
			if math.Abs(v-inc) > 1e-6*inc {
				t.Errorf("counter: points sum to %g, want the %g it increased", v, inc)
			}
		default:
			if mean := weighted / span.Seconds(); math.Abs(mean-gsum/n) > 1e-9*gsum {
				t.Errorf("gauge: span-weighted mean %g, want %g", mean, gsum/n)
			}
			if mx != gmax {
				t.Errorf("gauge: max %g, want the spike's %g", mx, gmax)
			}
		}
	}
}

// readFixture reads the Prometheus readings of result's budget test (61
// one-second readings of a real Prometheus 2.42.0's own /metrics).
func readFixture(t testing.TB) ([]result.Scrape, *result.Meta) {
	t.Helper()
	f, err := os.Open("../result/testdata/prometheus-scrapes.srg")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd := result.NewReader(f)
	var ss []result.Scrape
	rd.Scrape = func(s *result.Scrape) {
		c := *s
		c.New, c.Values = slices.Clone(s.New), slices.Clone(s.Values)
		ss = append(ss, c)
	}
	var r result.Result
	for rd.Read(&r) == nil {
	}
	if len(ss) < 10 || len(rd.Warnings()) != 0 {
		t.Fatalf("fixture: %d readings, warnings %v", len(ss), rd.Warnings())
	}
	m := rd.Metas()[0]
	return ss, &m
}

// TestSignalsOfPrometheus folds real readings: every series is counted,
// those with a value are the changed ones, and each counter's points sum
// to what the readings gave it.
func TestSignalsOfPrometheus(t *testing.T) {
	ss, m := readFixture(t)
	s := New(Options{})
	sums := map[uint32]float64{}
	moved := map[uint32]bool{}
	kinds := map[uint32]string{}
	series := 0
	for i := range ss {
		series += len(ss[i].New)
		for _, se := range ss[i].New {
			kinds[se.ID] = se.Kind
		}
		for _, v := range ss[i].Values {
			sums[v.ID] += v.V
			moved[v.ID] = true
		}
		s.AddScrape(m, &ss[i])
	}
	src := s.ScrapeSources()
	if len(src) != 1 || src[0].Series != series || src[0].Changed != len(moved) || src[0].Readings != len(ss) {
		t.Fatalf("ScrapeSources() = %+v; want %d readings of %d series, %d changed", src, len(ss), series, len(moved))
	}
	t.Logf("%d readings: %d series, %d changed", len(ss), series, len(moved))
	for _, sig := range s.Signals() {
		for i, p := range sig.Points[1:] {
			if p.At-p.Span != sig.Points[i].At {
				t.Fatalf("%s%s: point %d does not start where point %d ends: %+v", sig.Name, sig.Labels, i+1, i, sig.Points)
			}
		}
		if last := sig.Points[len(sig.Points)-1].At; last != ss[len(ss)-1].At {
			t.Errorf("%s%s: last point at %v, want the last reading's %v", sig.Name, sig.Labels, last, ss[len(ss)-1].At)
		}
		if sig.Kind != result.SignalCounter {
			continue
		}
		var v float64
		for _, p := range sig.Points {
			v += p.V
		}
		if math.Abs(v-sums[sig.ID]) > 1e-9*math.Abs(sums[sig.ID]) {
			t.Errorf("%s%s: points sum to %g, readings to %g", sig.Name, sig.Labels, v, sums[sig.ID])
		}
	}
}

// BenchmarkAddScrape folds the Prometheus readings again and again, at
// ever later times, as a long run does.
func BenchmarkAddScrape(b *testing.B) {
	ss, m := readFixture(b)
	s := New(Options{})
	s.AddScrape(m, &ss[0])
	steady := ss[1:]
	span := ss[len(ss)-1].At
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		sc := steady[i%len(steady)]
		sc.At += time.Duration(i/len(steady)) * span
		s.AddScrape(m, &sc)
	}
}
